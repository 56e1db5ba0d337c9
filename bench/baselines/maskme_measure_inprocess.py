#!/usr/bin/env python3
"""Time ``maskme.measure`` inside one process, as pycanon_measure.py times pycanon.

Each time includes reading the CSV file (pycanon's excludes it) but not
starting Python and importing the modules ``maskme.measure`` uses, which are
imported before the clock starts, as pycanon_measure.py imports pycanon and
pandas. The first call also pays for starting Polars' thread pool, so the
file is measured twice. Prints one JSON object with k, distinct l, t and the seconds
of each call.

Usage::

    .venv/bin/python bench/baselines/maskme_measure_inprocess.py \
        SAMPLE.csv --quasi-identifiers age,gender,state,city --sensitive diagnosis
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import maskme
import maskme.formats.csv
import maskme.metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="CSV file")
    parser.add_argument("--quasi-identifiers", required=True, help="comma-separated columns")
    parser.add_argument("--sensitive", required=True, help="one sensitive attribute column")
    args = parser.parse_args()
    if not Path(args.data).is_file():
        parser.error(f"input file not found: {args.data}")

    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        measurement = maskme.measure(
            args.data,
            quasi_identifiers=args.quasi_identifiers.split(","),
            sensitive_attributes=[args.sensitive],
        )
        seconds.append(time.perf_counter() - started)
    report = measurement.to_dict()
    attribute = report["sensitive_attributes"][0]
    json.dump({
        "k": report["k_anonymity"]["k"],
        "l": attribute["distinct_l"],
        "t": attribute["t_closeness"],
        "classes": report["k_anonymity"]["classes"],
        "first_seconds": seconds[0],
        "repeat_seconds": seconds[1],
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
