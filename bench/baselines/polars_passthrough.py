#!/usr/bin/env python3
"""Baseline (a): Polars reads a file and writes it back unchanged (the I/O limit).

CSV goes through Polars' streaming engine with every column read as text
(``scan_csv(infer_schema=False).sink_csv``), so the output equals the input
byte for byte on the benchmark table. JSONL goes through ``scan_ndjson`` and
``sink_ndjson``, which re-format numbers, so it is shown for reference only.

Usage::

    .venv/bin/python bench/baselines/polars_passthrough.py INPUT OUTPUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: polars_passthrough.py INPUT OUTPUT", file=sys.stderr)
        return 2
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    if not source.is_file():
        print(f"input file not found: {source}", file=sys.stderr)
        return 2
    if source.suffix == ".csv":
        pl.scan_csv(source, infer_schema=False).sink_csv(target)
    elif source.suffix == ".jsonl":
        pl.scan_ndjson(source).sink_ndjson(target)
    else:
        print(f"expected a .csv or .jsonl input, got {source.name}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
