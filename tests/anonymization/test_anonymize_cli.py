"""``maskme anonymize`` through a real process: output, report, and exit status 3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

from tests.anonymization.conftest import HOSPITAL, write_policy
from tests.conftest import run_cli


def copy_hospital(folder: Path) -> None:
    for path in HOSPITAL.glob("*.csv"):
        shutil.copy(path, folder / path.name)


def policy_for(folder: Path, privacy: dict) -> Path:
    return write_policy(
        folder,
        {
            "fields": {"name": {"strategy": "drop"}},
            "quasi_identifiers": {
                "age": {"hierarchy": "hierarchy_age.csv"},
                "gender": {"hierarchy": "hierarchy_gender.csv"},
                "city": {"hierarchy": "hierarchy_city.csv"},
            },
            "sensitive_attributes": ["disease"],
            "privacy": privacy,
        },
    )


def test_cli_writes_output_and_report(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = policy_for(tmp_path, {"k": 3, "l": 2, "suppression_limit": 0.3})
    output = tmp_path / "out.csv"
    report = tmp_path / "report.json"

    completed = run_cli(
        "anonymize", str(tmp_path / "input.csv"), "-p", str(policy), "-o", str(output),
        "--report", str(report),
    )

    assert completed.returncode == 0, completed.stderr.decode()
    stderr = completed.stderr.decode()
    assert "anonymized 13 records" in stderr
    assert "k = " in stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data["levels"]) == {"age", "gender", "city"}
    assert data["records"] == 13
    assert data["nodes_evaluated"] >= 1
    assert data["lattice_size"] == 3 * 2 * 2
    assert data["measurement"]["records"] == 13 - data["suppressed_records"]
    met = {outcome["target"]: outcome["met"] for outcome in data["targets"]}
    assert met == {"k": True, "l": True, "suppression_limit": True}
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "age,gender,city,religion,disease"
    assert len(lines) == 1 + 13 - data["suppressed_records"]
    # The dropped direct identifier is gone, and no input name appears.
    assert "Ramsha" not in output.read_text(encoding="utf-8")


def test_cli_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = policy_for(tmp_path, {"k": 5, "l": 4})
    output = tmp_path / "out.csv"

    completed = run_cli(
        "anonymize", str(tmp_path / "input.csv"), "-p", str(policy), "-o", str(output),
    )

    assert completed.returncode == 3
    stderr = completed.stderr.decode()
    assert "no generalization meets the privacy targets" in stderr
    assert "nothing was written" in stderr
    assert not output.exists()
    assert completed.stdout == b""


def test_cli_rejects_policy_without_targets(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = write_policy(tmp_path, {"quasi_identifiers": ["age", "gender"]})

    completed = run_cli(
        "anonymize", str(tmp_path / "input.csv"), "-p", str(policy), "-o", str(tmp_path / "o.csv"),
    )

    assert completed.returncode == 2
    assert "anonymize needs privacy targets" in completed.stderr.decode()
    assert not (tmp_path / "o.csv").exists()


def test_cli_writes_standard_output(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = policy_for(tmp_path, {"k": 2})

    completed = run_cli("anonymize", str(tmp_path / "input.csv"), "-p", str(policy), "-o", "-", "-q")

    assert completed.returncode == 0, completed.stderr.decode()
    lines = completed.stdout.decode().splitlines()
    assert lines[0] == "age,gender,city,religion,disease"
    assert len(lines) == 14
    assert completed.stderr == b""


def test_cli_reads_standard_input(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = policy_for(tmp_path, {"k": 2})
    data = (tmp_path / "input.csv").read_bytes()

    completed = run_cli("anonymize", "-", "-p", str(policy), "-o", str(tmp_path / "out.csv"), input=data)

    assert completed.returncode == 0, completed.stderr.decode()
    written = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    expected = pl.read_csv(tmp_path / "expected_k2_supp0.csv", infer_schema=False).drop("name")
    assert written.equals(expected)


def test_cli_rejects_empty_input_and_overwrite(tmp_path: Path) -> None:
    copy_hospital(tmp_path)
    policy = policy_for(tmp_path, {"k": 2})
    empty = tmp_path / "empty.csv"
    empty.write_text("name,age,gender,city,religion,disease\n", encoding="utf-8")

    no_records = run_cli("anonymize", str(empty), "-p", str(policy), "-o", str(tmp_path / "e.csv"))
    same_file = run_cli(
        "anonymize", str(tmp_path / "input.csv"), "-p", str(policy), "-o", str(tmp_path / "input.csv")
    )

    assert no_records.returncode == 1
    assert "the input has no records" in no_records.stderr.decode()
    assert not (tmp_path / "e.csv").exists()
    assert same_file.returncode == 2
    assert "is the input file" in same_file.stderr.decode()
    assert (tmp_path / "input.csv").read_bytes() == (HOSPITAL / "input.csv").read_bytes()


def test_anonymize_writes_the_input_encoding(tmp_path):
    source = tmp_path / "in.csv"
    rows = ["age,city"] + [f"{20 + index},Zürich" for index in range(6)]
    source.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n"
                      "quasi_identifiers: {age: {intervals: [10]}, city: null}\nprivacy: {k: 3}\n")
    output = tmp_path / "out.csv"

    done = run_cli("anonymize", str(source), "-p", str(policy), "-o", str(output),
                   "--encoding", "latin-1")

    assert done.returncode == 0, done.stderr.decode()
    written = output.read_bytes()
    assert b"Z\xfcrich" in written
    assert written.decode("latin-1").splitlines() == ["age,city"] + ['"[20, 30)",Zürich'] * 6


def test_anonymize_label_outside_the_encoding_fails(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("age,city\n20,a\n21,a\n".encode("latin-1"))
    hierarchy = tmp_path / "age.csv"
    hierarchy.write_text("20;20–29;*\n21;20–29;*\n", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n"
                      "quasi_identifiers: {age: {hierarchy: age.csv}, city: null}\nprivacy: {k: 2}\n")
    output = tmp_path / "out.csv"

    done = run_cli("anonymize", str(source), "-p", str(policy), "-o", str(output),
                   "--encoding", "latin-1")

    assert done.returncode == 1
    assert "latin-1 cannot encode" in done.stderr.decode()
    assert not output.exists()
