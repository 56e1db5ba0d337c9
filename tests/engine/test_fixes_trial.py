"""Noise and generalize on formatted dates, run on real files through both paths."""

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


def test_noise_keeps_microseconds_of_f(tmp_path, monkeypatch):
    date_format = "%Y-%m-%dT%H:%M:%S.%f"
    policy = write_policy(tmp_path, f'{{strategy: noise, days: {DAYS}, seed: 1, '
                                    f'format: "{date_format}"}}')
    dates = ["2024-03-15T10:00:00.500000", "2024-03-15T10:00:00.123456", "2024-03-15T10:00:00.5"]
    shifted = mask_both_paths(tmp_path, policy, write_dates(tmp_path, dates), monkeypatch)

    # %f reads 1 to 6 digits as a fraction of a second and writes 6 digits, in Python.
    assert [value[10:] for value in shifted] == ["T10:00:00.500000", "T10:00:00.123456",
                                                 "T10:00:00.500000"]
    for before, after in zip(dates, shifted, strict=True):
        moved = datetime.strptime(after, date_format) - datetime.strptime(before, date_format)
        assert moved.seconds == 0
        assert moved.microseconds == 0
        assert abs(moved.days) <= DAYS


@pytest.mark.parametrize(("date_format", "value"), [
    ("%d/%m/%Y", "01/02/24"),                        # a two-digit year, which %Y does not read
    ("%d/%m/%Y", " 01/02/2024"),                     # a leading space
    ("%d/%m/%Y %H:%M:%S", "15/03/2024 10:00:60"),  # a leap second, which Polars read as 10:01
])
def test_noise_rejects_what_strptime_rejects(tmp_path, date_format, value):
    policy = write_policy(tmp_path, f'{{strategy: noise, days: 30, seed: 1, format: "{date_format}"}}')
    source = write_dates(tmp_path, [datetime(2024, 3, 15).strftime(date_format), value])
    completed = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", str(source), "-p", str(policy),
         "-o", str(tmp_path / "out.csv")],
        capture_output=True, text=True, check=False,
    )

    assert completed.returncode == 1
    assert f"record 2, field `when`: not a date in the format {date_format}" in completed.stderr
    assert value.strip() not in completed.stderr
    assert not (tmp_path / "out.csv").exists()


def test_generalize_rejects_what_strptime_rejects(tmp_path, monkeypatch):
    policy = write_policy(tmp_path, '{strategy: generalize, truncate: year, format: "%d/%m/%Y", '
                                    'on_invalid: null}')
    years = mask_both_paths(tmp_path, policy,
                            write_dates(tmp_path, ["15/03/2024", "01/02/24", "1/2/2024"]),
                            monkeypatch)

    # Python's strptime reads 1/2/2024 but no two-digit year under %Y.
    assert years == ["2024", "", "2024"]


def test_noise_yearless_format_crosses_new_year(tmp_path, monkeypatch):
    """A format without a year reads 1900, as strptime does, so 01/01 can move to December."""
    policy = write_policy(tmp_path, f'{{strategy: noise, days: {DAYS}, seed: 1, format: "%m/%d"}}')
    shifted = mask_both_paths(tmp_path, policy, write_dates(tmp_path, ["01/01"] * 40),
                              monkeypatch)

    december = [value for value in shifted if value.startswith("12/")]
    january = [value for value in shifted if value.startswith("01/")]
    assert len(december) + len(january) == 40
    assert len(december) >= 5
    # Polars read the year 1 and stopped every earlier date at 01/01.
    assert january.count("01/01") <= 5
    assert min(december) >= "12/02"


def test_noise_format_with_hour_alone(tmp_path, monkeypatch):
    """Polars 2.1 rejects a format with an hour and no minute, which strptime reads."""
    date_format = "%Y-%m-%d %H"
    policy = write_policy(tmp_path, f'{{strategy: noise, days: {DAYS}, seed: 1, '
                                    f'format: "{date_format}"}}')
    dates = ["2024-03-15 10", "2024-03-16 23"]
    shifted = mask_both_paths(tmp_path, policy, write_dates(tmp_path, dates), monkeypatch)

    assert [value[-3:] for value in shifted] == [" 10", " 23"]
    for before, after in zip(dates, shifted, strict=True):
        moved = datetime.strptime(after, date_format) - datetime.strptime(before, date_format)
        assert moved.seconds == 0
        assert abs(moved.days) <= DAYS
