#!/usr/bin/env python3
"""Baseline (c): k-anonymity, distinct l-diversity and t-closeness with pycanon.

Runs in its own virtualenv (bench/run.py creates it), because pycanon 1.3.6
pins exact versions of numpy, pandas and typer that conflict with MaskMe's.
Every column is read as text, as MaskMe reads it, so both tools see the same
values. Prints one JSON object: the three values and the seconds each took
(reading the file is timed separately).

Usage::

    bench/data/pycanon-venv/bin/python bench/baselines/pycanon_measure.py \
        SAMPLE.csv --quasi-identifiers age,gender,state,city --sensitive diagnosis
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
from pycanon import anonymity


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="CSV file")
    parser.add_argument("--quasi-identifiers", required=True, help="comma-separated columns")
    parser.add_argument("--sensitive", required=True, help="one sensitive attribute column")
    parser.add_argument("--skip-t", action="store_true", help="measure only k and l")
    args = parser.parse_args()
    if not Path(args.data).is_file():
        parser.error(f"input file not found: {args.data}")
    quasi_identifiers = args.quasi_identifiers.split(",")
    sensitive = [args.sensitive]

    started = time.perf_counter()
    frame = pd.read_csv(
        args.data, dtype=str, keep_default_na=False, usecols=quasi_identifiers + sensitive
    )
    report: dict[str, float | int | None] = {
        "records": len(frame),
        "read_seconds": time.perf_counter() - started,
    }

    started = time.perf_counter()
    report["k"] = int(anonymity.k_anonymity(frame, quasi_identifiers))
    report["k_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    report["l"] = int(anonymity.l_diversity(frame, quasi_identifiers, sensitive))
    report["l_seconds"] = time.perf_counter() - started

    report["t"] = report["t_seconds"] = None
    if not args.skip_t:
        started = time.perf_counter()
        report["t"] = float(anonymity.t_closeness(frame, quasi_identifiers, sensitive))
        report["t_seconds"] = time.perf_counter() - started

    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
