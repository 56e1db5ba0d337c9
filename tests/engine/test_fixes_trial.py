"""Noise, generalize and anonymize edge cases, run on real files through both paths."""

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import maskme
import maskme.engine.local as local_engine

DAYS = 30
#: Dates next to the ends of the range that %y reads: 1969 to 2068 in Python.
TWO_DIGIT_YEAR_DATES = ["68-12-31", "69-01-01", "68-12-20", "69-01-10", "99-06-15", "00-02-29"] * 4


def write_policy(folder: Path, rule: str) -> Path:
    policy = folder / "policy.yaml"
    policy.write_text(f"version: 1\ndefault: keep\nfields:\n  when: {rule}\n", encoding="utf-8")
    return policy


def write_dates(folder: Path, dates: list[str]) -> Path:
    source = folder / "in.csv"
    lines = ["id,when"] + [f"{number},{value}" for number, value in enumerate(dates)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return source


def mask_both_paths(folder: Path, policy: Path, source: Path,
                    monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Mask with the CLI (query path) and in process with the batch path; return the column."""
    query_output = folder / "query.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", str(source), "-p", str(policy),
         "-o", str(query_output)],
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    batch_output = folder / "batch.csv"
    monkeypatch.setattr(local_engine, "QUERY_ENABLED", False)
    maskme.mask(str(source), maskme.Policy.from_yaml(str(policy)), str(batch_output))
    assert query_output.read_bytes() == batch_output.read_bytes()
    with query_output.open(encoding="utf-8", newline="") as handle:
        return [row["when"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("date_format", [
    "%y-%m-%d",     # the two-digit year alone
    "%y-%m-%d%z",   # with an offset, which Python's datetime reads in any case
])
def test_noise_two_digit_year_stays_in_range(tmp_path, monkeypatch, date_format):
    offset = "+0100" if "%z" in date_format else ""
    dates = [value + offset for value in TWO_DIGIT_YEAR_DATES]
    policy = write_policy(tmp_path, f'{{strategy: noise, days: {DAYS}, seed: 3, '
                                    f'format: "{date_format}"}}')
    shifted = mask_both_paths(tmp_path, policy, write_dates(tmp_path, dates), monkeypatch)

    assert len(shifted) == len(dates)
    for before, after in zip(dates, shifted, strict=True):
        # Read back as Python's strptime reads %y, a date moves at most DAYS days, so a
        # shift past 2068-12-31 or before 1969-01-01 did not wrap by a century.
        moved = datetime.strptime(after, date_format) - datetime.strptime(before, date_format)
        assert abs(moved.days) <= DAYS


def test_generalize_two_digit_year_as_python(tmp_path, monkeypatch):
    policy = write_policy(tmp_path, '{strategy: generalize, truncate: year, format: "%y-%m-%d"}')
    years = mask_both_paths(tmp_path, policy, write_dates(tmp_path, ["69-06-01", "68-06-01"]),
                            monkeypatch)

    # Python's strptime reads 69 as 1969 and 68 as 2068; Polars read 69 as 2069.
    assert years == ["1969", "2068"]
