#!/usr/bin/env python3
"""Reference: the masking workload as one hand-written Polars streaming query.

The same fields get the same kind of work as with ``bench/policies/mask.yaml``.
``email`` (stripped, lower-cased) and ``ssn`` get HMAC-SHA-256 with
polars-hash, ``phone`` is masked but for its last 4 characters, and ``name``
is dropped. ``income`` gets Laplace noise of 5 % rounded to cents, and
``visit_date`` moves by up to 30 days. ``zip`` is cut to 3 digits and padded
with ``*``, ``birth_date`` cut to its year and ``age`` put into 10-year
intervals. ``scan_csv(...).sink_csv`` runs it on all cores with no Python
code per batch.

It measures how fast this machine can do the work at all, not a tool to use:
it has no error handling, and its randomness comes from Polars' unkeyed
``hash`` of the row number, so anyone can reproduce the noise. The key comes
from MASKME_BENCH_KEY, as for MaskMe.

Usage::

    .venv/bin/python bench/baselines/polars_mask.py INPUT.csv OUTPUT.csv
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import polars as pl
import polars_hash as plh

# 2**53: uniform floats in [0, 1) from the top 53 bits of a 64-bit hash.
_UNIT = float(1 << 53)


def masking_expressions(key: str) -> dict[str, pl.Expr]:
    """Return the output expression of each transformed column, by column name."""
    row = pl.col("__row")
    uniform = (row.hash(1) // 2048).cast(pl.Float64) / _UNIT
    centered = uniform - 0.5
    income = pl.col("income").str.strip_chars().cast(pl.Float64, strict=False)
    laplace = -centered.sign() * (1.0 - 2.0 * centered.abs()).log()
    shift = (row.hash(2) % 61).cast(pl.Int64) - 30
    visit = pl.col("visit_date").str.to_date("%Y-%m-%d", strict=False)
    age = pl.col("age").str.strip_chars().cast(pl.Int64, strict=False)
    low = (age // 10) * 10
    phone = pl.col("phone")
    return {
        "email": plh.col("email").str.strip_chars().str.to_lowercase()
        .chash.hmac_sha256(key=key),
        "ssn": plh.col("ssn").chash.hmac_sha256(key=key),
        "phone": phone.str.slice(-4).str.pad_start(phone.str.len_chars(), "*"),
        "income": (income + 0.05 * income.abs() * laplace).round(2).cast(pl.String),
        "visit_date": (visit + pl.duration(days=shift)).dt.to_string("%Y-%m-%d"),
        "zip": pl.col("zip").str.slice(0, 3).str.pad_end(5, "*"),
        "birth_date": pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False)
        .dt.year().cast(pl.String),
        "age": pl.format("[{}, {})", low, low + 10),
    }


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: polars_mask.py INPUT.csv OUTPUT.csv", file=sys.stderr)
        return 2
    key = os.environ.get("MASKME_BENCH_KEY")
    if not key:
        print("set MASKME_BENCH_KEY to the benchmark key", file=sys.stderr)
        return 2
    source, target = sys.argv[1], sys.argv[2]
    if not Path(source).is_file():
        print(f"input file not found: {source}", file=sys.stderr)
        return 2
    frame = pl.scan_csv(source, infer_schema=False)
    columns = [name for name in frame.collect_schema().names() if name != "name"]
    expressions = masking_expressions(key)
    output = [expressions.get(name, pl.col(name)).alias(name) for name in columns]
    frame.with_row_index("__row", offset=1).select(output).sink_csv(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
