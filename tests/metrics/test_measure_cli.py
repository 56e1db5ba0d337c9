"""``maskme measure`` through real processes."""

from __future__ import annotations

import json
import math

from tests.conftest import run_cli

from .conftest import ADULT, PAPER

ADULT_CSV = str(ADULT / "adult.csv")


def run_json(*args: str, input: bytes | None = None) -> dict:  # type: ignore[type-arg]
    done = run_cli("measure", *args, "--json", input=input)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_json_report_on_adult():
    report = run_json(ADULT_CSV, "-q", "age,sex,race", "-s", "occupation", "--k", "5")
    occupation = report["sensitive_attributes"][0]

    # The raw A1 configuration: 528 classes of 1 to 554 records.
    assert report["records"] == 30162
    assert report["k_anonymity"]["classes"] == 528
    assert report["k_anonymity"]["k"] == 1
    assert report["k_anonymity"]["size_distribution"][-1]["size"] == 554
    assert report["k_anonymity"]["target_k"] == 5
    assert occupation["name"] == "occupation"
    assert occupation["distance"] == "equal"
    assert occupation["distinct_l"] == 1
    assert math.isclose(occupation["t_closeness"], 0.9952589350838804, rel_tol=1e-9)
    assert occupation["delta_disclosure"] == "inf"
    assert report["risk"]["prosecutor"]["highest"] == 1.0


def test_table_output_for_people():
    done = run_cli("measure", ADULT_CSV, "-q", "age,sex,race", "-s", "occupation")

    assert done.returncode == 0, done.stderr.decode()
    text = done.stdout.decode()
    assert "equivalence classes" in text
    assert "528" in text
    assert "Sensitive attributes" in text
    assert "0.9953" in text


def test_policy_supplies_fields(tmp_path):  # type: ignore[no-untyped-def]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\n"
        "default: keep\n"
        "fields: {}\n"
        "quasi_identifiers: [ZIPCode, Age]\n"
        "sensitive_attributes:\n"
        "  Salary: {kind: ordered}\n"
        f"  Disease: {{kind: categorical, hierarchy: {PAPER / 'test2_hierarchy_Disease.csv'}}}\n"
        "privacy: {k: 3}\n"
    )
    report = run_json(str(PAPER / "test2.csv"), "-p", str(policy))
    by_name = {entry["name"]: entry for entry in report["sensitive_attributes"]}

    assert report["quasi_identifiers"] == ["ZIPCode", "Age"]
    assert report["k_anonymity"]["target_k"] == 3
    assert report["k_anonymity"]["records_below_k"] == 9  # every raw record is unique
    assert by_name["Salary"]["distance"] == "ordered"
    assert by_name["Disease"]["distance"] == "hierarchical"


def test_options_override_policy_kinds(tmp_path):  # type: ignore[no-untyped-def]
    hierarchy = f"Disease={PAPER / 'test2_hierarchy_Disease.csv'}"
    report = run_json(
        str(PAPER / "test2.csv"),
        "-q", "ZIPCode", "-s", "Salary,Disease", "--ordered", "Salary", "--hierarchy", hierarchy,
    )  # fmt: skip
    by_name = {entry["name"]: entry for entry in report["sensitive_attributes"]}

    assert by_name["Salary"]["kind"] == "ordered"
    assert by_name["Disease"]["kind"] == "hierarchical"


def test_standard_input():
    data = b"age,zip,diagnosis\n30,1,flu\n30,1,cold\n40,2,flu\n"
    report = run_json("-", "-q", "age,zip", "-s", "diagnosis", "--format", "csv", input=data)

    assert report["records"] == 3
    assert report["k_anonymity"]["k"] == 1
    assert report["sensitive_attributes"][0]["distinct_values"] == 2


def test_jsonl_input_with_nested_field(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "people.jsonl"
    path.write_text(
        '{"age": 30, "address": {"zip": "1"}, "diagnosis": "flu"}\n'
        '{"age": 30, "address": {"zip": "1"}, "diagnosis": "cold"}\n'
        '{"age": 41, "address": {}, "diagnosis": "flu"}\n'
    )
    report = run_json(str(path), "-q", "age,address.zip", "-s", "diagnosis")

    assert report["k_anonymity"]["size_distribution"] == [
        {"size": 1, "classes": 1, "records": 1},
        {"size": 2, "classes": 1, "records": 2},
    ]
    assert report["records_with_missing_quasi_identifiers"] == 1


def test_unknown_field_fails_without_values(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "data.csv"
    path.write_text("age,zip\nsecret-age,secret-zip\n")
    done = run_cli("measure", str(path), "-q", "age,zipcode")

    assert done.returncode == 2
    assert b"zipcode" in done.stderr
    assert b"secret" not in done.stderr


def test_no_quasi_identifiers_fails():
    done = run_cli("measure", ADULT_CSV)

    assert done.returncode == 2
    assert b"no quasi-identifiers to measure" in done.stderr


def test_malformed_hierarchy_option_is_usage_error():
    done = run_cli(
        "measure", ADULT_CSV, "-q", "age", "-s", "occupation", "--hierarchy", "occupation"
    )

    assert done.returncode == 2
    assert b"FIELD=FILE" in done.stderr


def test_named_attribute_keeps_policy_kind(tmp_path):  # type: ignore[no-untyped-def]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\ndefault: keep\nfields: {}\n"
        "quasi_identifiers: [ZIPCode]\n"
        "sensitive_attributes:\n  Salary: {kind: ordered}\n"
    )
    report = run_json(str(PAPER / "test2.csv"), "-p", str(policy), "-s", "Salary,Disease")
    by_name = {entry["name"]: entry for entry in report["sensitive_attributes"]}

    # Salary is named on the command line without --ordered: the policy's kind stays.
    assert by_name["Salary"]["kind"] == "ordered"
    # Disease is not in the policy: categorical.
    assert by_name["Disease"]["kind"] == "categorical"
