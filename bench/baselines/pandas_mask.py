#!/usr/bin/env python3
"""Baseline (b): the obvious pandas script for the benchmark masking policy.

It applies bench/policies/mask.yaml the way a data engineer would
write it without MaskMe: read the whole CSV as text, hash with ``hmac`` value
by value, redact, drop, noise and generalize with pandas and numpy, and write
the CSV. The key comes from MASKME_BENCH_KEY, as for MaskMe.

Usage::

    .venv/bin/python bench/baselines/pandas_mask.py INPUT.csv OUTPUT.csv
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def keyed_hash(key: bytes, value: str) -> str:
    if value == "":
        return value
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def redact(value: str, keep_last: int = 4) -> str:
    if len(value) <= keep_last:
        return "*" * len(value)
    return "*" * (len(value) - keep_last) + value[-keep_last:]


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: pandas_mask.py INPUT.csv OUTPUT.csv", file=sys.stderr)
        return 2
    key_text = os.environ.get("MASKME_BENCH_KEY")
    if not key_text:
        print("set MASKME_BENCH_KEY to the benchmark key", file=sys.stderr)
        return 2
    if not Path(sys.argv[1]).is_file():
        print(f"input file not found: {sys.argv[1]}", file=sys.stderr)
        return 2
    if Path(sys.argv[1]).resolve() == Path(sys.argv[2]).resolve():
        # pandas reads the whole input first, so it would replace the input with masked data.
        print("expected an OUTPUT.csv other than INPUT.csv", file=sys.stderr)
        return 2
    key = key_text.encode("utf-8")
    rng = np.random.default_rng(20261204)
    frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)

    frame["email"] = frame["email"].map(lambda value: keyed_hash(key, value.strip().lower()))
    frame["ssn"] = frame["ssn"].map(lambda value: keyed_hash(key, value))
    frame["phone"] = frame["phone"].map(redact)
    frame = frame.drop(columns=["name"])

    income = pd.to_numeric(frame["income"])
    noisy = income + rng.laplace(0.0, 1.0, len(frame)) * 0.05 * income.abs()
    frame["income"] = noisy.round(2).map("{:.2f}".format)
    visits = pd.to_datetime(frame["visit_date"], format="%Y-%m-%d")
    shift = pd.to_timedelta(rng.integers(-30, 31, len(frame)), unit="D")
    frame["visit_date"] = (visits + shift).dt.strftime("%Y-%m-%d")

    frame["zip"] = frame["zip"].str[:3] + "**"
    frame["birth_date"] = frame["birth_date"].str[:4]
    lower = pd.to_numeric(frame["age"]) // 10 * 10
    frame["age"] = "[" + lower.astype(str) + ", " + (lower + 10).astype(str) + ")"

    frame.to_csv(sys.argv[2], index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
