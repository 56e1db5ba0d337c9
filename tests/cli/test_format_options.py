"""CSV-only options given for JSON data, and the summary line of output to stdout."""

from __future__ import annotations

import json

import pytest

import maskme
from maskme.errors import UsageError
from tests.conftest import run_cli

POLICY = (
    "version: 1\ndefault: keep\n"
    "fields:\n  zip: {strategy: generalize, prefix: 3}\n"
    "quasi_identifiers: [zip]\nprivacy: {k: 2}\n"
)
RECORDS = [
    {"zip": "02139", "diagnosis": "flu"},
    {"zip": "02138", "diagnosis": "cold"},
    {"zip": "02140", "diagnosis": "flu"},
    {"zip": "02141", "diagnosis": "cold"},
]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in RECORDS))
    (tmp_path / "in.csv").write_text("zip,diagnosis\n" + "".join(
        f"{row['zip']},{row['diagnosis']}\n" for row in RECORDS))
    return tmp_path


@pytest.mark.parametrize("command", [
    ["mask", "in.jsonl", "-p", "p.yaml", "-o", "out.jsonl"],
    ["anonymize", "in.jsonl", "-p", "p.yaml", "-o", "out.jsonl"],
    ["measure", "in.jsonl", "-q", "zip"],
])
def test_delimiter_for_json_input_rejected(files, command):
    done = run_cli(*command, "--delimiter", ";", cwd=files)
    assert done.returncode == 2
    assert b"a delimiter applies to CSV input, but in.jsonl is read as JSONL" in done.stderr
    assert not (files / "out.jsonl").exists()
    assert done.stdout == b""


@pytest.mark.parametrize("source", ["in.csv", "in.jsonl"])
def test_output_delimiter_for_json_output_rejected(files, source):
    done = run_cli("mask", source, "-p", "p.yaml", "-o", "out.json", "--output-delimiter", ";",
                   cwd=files)
    assert done.returncode == 2
    assert b"an output delimiter applies to CSV output, but the output is JSON" in done.stderr
    assert not (files / "out.json").exists()


def test_output_delimiter_for_csv_output_kept(files):
    done = run_cli("mask", "in.jsonl", "-p", "p.yaml", "-o", "out.csv", "--output-delimiter", ";",
                   cwd=files)
    assert done.returncode == 0, done.stderr
    assert (files / "out.csv").read_text().splitlines() == [
        "zip;diagnosis", "021**;flu", "021**;cold", "021**;flu", "021**;cold",
    ]


def test_delimiter_in_python_api_rejected(files):
    with pytest.raises(UsageError, match="a delimiter applies to CSV input"):
        maskme.mask(files / "in.jsonl", files / "p.yaml", files / "out.jsonl", delimiter=";")
    assert not (files / "out.jsonl").exists()


def test_anonymize_to_stdout_summary(files):
    done = run_cli("anonymize", "in.csv", "-p", "p.yaml", "-o", "-", cwd=files)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0] == "zip,diagnosis"
    assert b"anonymized 4 records -> standard output: levels" in done.stderr
    assert b"-> -" not in done.stderr
