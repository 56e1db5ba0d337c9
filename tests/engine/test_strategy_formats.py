"""Every built-in strategy on every format: CSV, JSON, JSONL, Polars and pandas.

The same policy and key must give the same values whatever the format
(DESIGN invariant 2), and untouched fields must leave unchanged.
"""

import csv
import hashlib
import hmac
import io
import json

import pandas as pd
import polars as pl
import pytest

import maskme

KEY = "matrix-test-key"
RECORDS = [
    {"id": "1", "email": "Ann@Example.org", "phone": "555-0142", "amount": "120.50",
     "visit": "2023-04-05", "zip": "02139", "age": "34", "city": "Boston"},
    {"id": "2", "email": "bob@example.org", "phone": "555-0199", "amount": "80.00",
     "visit": "2022-12-31", "zip": "94110", "age": "-3", "city": "San Francisco"},
    {"id": "3", "email": "", "phone": None, "amount": "7", "visit": "2021-01-01",
     "zip": "00501", "age": "99", "city": "Holtsville"},
]
POLICY = {
    "version": 1,
    "default": "keep",
    "keys": {"main": {"env": "MASKME_MATRIX_KEY"}},
    "fields": {
        "id": {"strategy": "drop"},
        "email": {"strategy": "hash", "key": "main", "normalize": ["strip", "lower"]},
        "phone": {"strategy": "redact", "keep_last": 2, "keep_separators": True},
        "amount": {"strategy": "noise", "scale": 5, "round": 2, "seed": 7},
        "visit": {"strategy": "noise", "days": 10, "seed": 7},
        "zip": {"strategy": "generalize", "prefix": 3},
        "age": {"strategy": "generalize", "interval": 10},
    },
}
FORMATS = ["csv", "json", "jsonl", "polars", "pandas"]


@pytest.fixture(autouse=True)
def matrix_key(monkeypatch):
    monkeypatch.setenv("MASKME_MATRIX_KEY", KEY)


def write_input(tmp_path, fmt):
    if fmt == "csv":
        path = tmp_path / "in.csv"
        with path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(RECORDS[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(RECORDS)
        return path
    if fmt == "json":
        path = tmp_path / "in.json"
        path.write_text(json.dumps(RECORDS))
        return path
    if fmt == "jsonl":
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
        return path
    frame = pl.DataFrame(RECORDS, schema={name: pl.String for name in RECORDS[0]})
    return frame if fmt == "polars" else frame.to_pandas()


def read_output(tmp_path, fmt, result):
    if fmt in ("polars", "pandas"):
        frame = result if fmt == "polars" else pl.from_pandas(result)
        return frame.to_dicts()
    path = tmp_path / f"out.{fmt}"
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(), newline="")))
        # CSV cannot tell null from empty once unquoted: compare missing as None.
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in rows]
    if fmt == "json":
        return json.loads(path.read_text())
    return [json.loads(line) for line in path.read_text().splitlines()]


def run(tmp_path, fmt):
    source = write_input(tmp_path, fmt)
    if fmt in ("polars", "pandas"):
        return read_output(tmp_path, fmt, maskme.mask(source, POLICY))
    maskme.mask(source, POLICY, tmp_path / f"out.{fmt}")
    return read_output(tmp_path, fmt, None)


def expected_hash(value: str) -> str:
    return hmac.new(KEY.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("fmt", FORMATS)
def test_strategies_on_format(tmp_path, fmt):
    rows = run(tmp_path, fmt)
    assert len(rows) == 3
    assert all("id" not in row for row in rows)
    assert [row["city"] for row in rows] == ["Boston", "San Francisco", "Holtsville"]
    assert rows[0]["email"] == expected_hash("Ann@Example.org")
    assert rows[1]["email"] == expected_hash("bob@example.org")
    assert rows[2]["email"] in ("", None)  # empty stays empty (CSV reads it back as missing)
    assert [row["phone"] for row in rows] == ["***-**42", "***-**99", None]
    assert [row["zip"] for row in rows] == ["021**", "941**", "005**"]
    assert [row["age"] for row in rows] == ["[30, 40)", "[-10, 0)", "[90, 100)"]
    for row, original in zip(rows, RECORDS):
        assert float(row["amount"]) != float(original["amount"])
        assert len(row["amount"].split(".")[-1]) <= 2
        assert row["visit"][:2] == "20"
        assert len(row["visit"]) == 10


def test_same_values_on_every_format(tmp_path):
    results = {}
    for fmt in FORMATS:
        directory = tmp_path / fmt
        directory.mkdir()
        rows = run(directory, fmt)
        results[fmt] = [
            {k: (v if v not in ("", None) else None) for k, v in row.items()} for row in rows
        ]
    for fmt in FORMATS[1:]:
        assert results[fmt] == results["csv"], fmt


def test_json_number_stays_number_after_noise(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"amount": 120.5, "count": 3}\n')
    policy = {
        "version": 1,
        "default": "keep",
        "fields": {
            "amount": {"strategy": "noise", "scale": 1, "round": 2, "seed": 1},
            "count": {"strategy": "noise", "scale": 1, "seed": 1},
        },
    }
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy, target)
    record = json.loads(target.read_text())
    assert isinstance(record["amount"], float)
    assert isinstance(record["count"], int)
