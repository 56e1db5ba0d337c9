"""Time the anonymization search on the bundled Adult data.

Prints, for k = 2, 5, 10, 20 and for k = 5 with distinct l = 2 on
salary-class, each at suppression limits 0 and 0.5: the chosen levels, the
suppressed records, the information loss, the lattice nodes evaluated (of
1,080), the median search time over the runs (wall clock and CPU of this
process, which differ on a loaded machine), and the median wall time of a
whole ``maskme.anonymization`` run (both passes, writing and re-measuring the
output).

Quasi-identifiers: age, education, marital-status, occupation, sex and
native-country, with the bundled hierarchies.

Usage: ``.venv/bin/python bench/anonymize_adult.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl
import yaml

import maskme
from maskme.anonymization import anonymize, plan_anonymization
from maskme.anonymization.evaluation import Evaluator
from maskme.anonymization.search import search

ROOT = Path(__file__).resolve().parent.parent
ADULT = ROOT / "examples" / "data" / "adult"
QUASI_IDENTIFIERS = ("age", "education", "marital-status", "occupation", "sex", "native-country")
CASES: list[tuple[str, dict[str, Any]]] = [
    ("k=2", {"k": 2}),
    ("k=5", {"k": 5}),
    ("k=10", {"k": 10}),
    ("k=20", {"k": 20}),
    ("k=5, l=2 salary-class", {"k": 5, "l": 2}),
]


def write_policy(folder: Path, privacy: dict[str, Any]) -> Path:
    document = {
        "version": 1,
        "default": "keep",
        "quasi_identifiers": {
            name: {"hierarchy": str(ADULT / f"adult_hierarchy_{name}.csv")}
            for name in QUASI_IDENTIFIERS
        },
        "sensitive_attributes": ["salary-class"],
        "privacy": privacy,
    }
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per case, at least 1; medians are printed")
    arguments = parser.parse_args(argv)
    if arguments.runs < 1:
        parser.error(f"--runs: expected at least 1, got {arguments.runs}")

    print(f"maskme {maskme.__version__}, polars {pl.__version__}, Python {platform.python_version()}")
    print(f"{platform.machine()}, {platform.processor() or 'unknown processor'}, "
          f"{__import__('os').cpu_count()} CPUs")
    print()
    header = (
        f"{'targets':<24} {'limit':>5} {'levels':<14} {'suppressed':>10} {'loss':>8} "
        f"{'nodes':>9} {'search s':>9} {'cpu s':>7} {'run s':>7}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for label, targets in CASES:
            for limit in (0.0, 0.5):
                policy = write_policy(folder, {**targets, "suppression_limit": limit})
                plan = plan_anonymization(ADULT / "adult.csv", policy)
                search_times = []
                cpu_times = []
                outcome = plan.outcome
                for _ in range(arguments.runs):
                    started = time.perf_counter()
                    cpu_started = time.process_time()
                    evaluator = Evaluator(plan.table, list(plan.levels), plan.targets)
                    outcome = search(evaluator)
                    search_times.append(time.perf_counter() - started)
                    cpu_times.append(time.process_time() - cpu_started)
                run_times = []
                for _ in range(arguments.runs):
                    started = time.perf_counter()
                    try:
                        anonymize(ADULT / "adult.csv", policy, folder / "out.csv")
                    except maskme.PrivacyTargetError:
                        pass
                    run_times.append(time.perf_counter() - started)
                best = outcome.best
                levels = "".join(str(level) for level in best.node) if best else "none"
                suppressed = f"{best.suppressed_records:,}" if best else "-"
                loss = f"{best.utility:.4f}" if best else "-"
                print(
                    f"{label:<24} {limit:>5g} {levels:<14} {suppressed:>10} {loss:>8} "
                    f"{outcome.nodes_evaluated:>4}/{outcome.lattice_size:<4} "
                    f"{statistics.median(search_times):>9.3f} {statistics.median(cpu_times):>7.3f} "
                    f"{statistics.median(run_times):>7.2f}"
                )
    print()
    print("levels: one digit per quasi-identifier, in the order " + ", ".join(QUASI_IDENTIFIERS))


if __name__ == "__main__":
    main()
