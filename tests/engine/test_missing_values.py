"""Texts declared missing (``missing_values``): masking leaves them, measurement counts them as missing.

Expected measures are computed here from the files with Python's csv module,
independently of MaskMe's code.
"""

import csv
import io
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import jsonschema
import polars as pl
import pytest

import maskme
from maskme.errors import PolicyError, UsageError
from maskme.policy import Policy, load_policy
from tests.conftest import TEST_DATA, run_cli
from tests.engine.both_paths import outcomes

STROKE = TEST_DATA / "stroke" / "healthcare-dataset-stroke-data.csv"
ADULT_UCI = TEST_DATA / "adult_uci" / "adult.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream, skipinitialspace=True))


# -- the policy ---------------------------------------------------------------------


def test_policy_reads_a_list_or_one_text():
    listed = load_policy({"version": 1, "default": "keep", "missing_values": ["?", "N/A", "-1"]})
    single = load_policy({"version": 1, "default": "keep", "missing_values": "?"})

    assert listed.missing_values == ("?", "N/A", "-1")
    assert single.missing_values == ("?",)
    assert load_policy({"version": 1, "default": "keep"}).missing_values == ()


def test_policy_rejects_markers_that_are_not_text():
    with pytest.raises(PolicyError) as caught:
        load_policy("version: 1\ndefault: keep\nmissing_values: [N/A, null, 1.5, 007]\n")

    problems = caught.value.problems
    assert [problem.path for problem in problems] == ["missing_values"] * 3
    assert "item 2 must be a text" in problems[0].message
    assert "item 3 must be a text" in problems[1].message
    assert "item 4 must be a text; quote it, since YAML reads 007 as the number 7" in problems[2].message


def test_override_keeps_the_policy_unchanged():
    policy = Policy(default="keep", missing_values=["?"])
    replaced = policy.with_missing_values(["N/A"])

    assert replaced.missing_values == ("N/A",)
    assert policy.missing_values == ("?",)
    assert replaced.to_dict()["missing_values"] == ["N/A"]


def test_schema_accepts_missing_values():
    schema = json.loads(run_cli("schema").stdout)
    jsonschema.validate({"version": 1, "default": "keep", "missing_values": ["?", "999"]}, schema)
    jsonschema.validate({"version": 1, "default": "keep", "missing_values": "N/A"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "default": "keep", "missing_values": [None]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "default": "keep", "missing_values": [7]}, schema)


# -- masking ------------------------------------------------------------------------

MASKING = {
    "version": 1,
    "default": "keep",
    "keys": {"main": {"env": "MASKME_KEY"}},
    "fields": {
        "email": {"strategy": "hash", "key": "main"},
        "income": {"strategy": "noise", "scale": 10, "key": "main"},
        "zip": {"strategy": "generalize", "prefix": 3},
    },
    "missing_values": ["N/A", "?"],
}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_declared_texts_leave_unmasked_on_both_paths(tmp_path, key_env, monkeypatch, suffix):
    records = [
        {"email": "a@example.org", "income": "100", "zip": "02139"},
        {"email": "N/A", "income": "?", "zip": "N/A"},
        {"email": "", "income": "N/A", "zip": "?"},
    ]
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_text("email,income,zip\n" + "".join(
            f"{r['email']},{r['income']},{r['zip']}\n" for r in records))
    elif suffix == ".jsonl":
        source.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        source.write_text(json.dumps(records))

    fast, slow = outcomes(source, MASKING, monkeypatch, seed=7)

    assert fast == slow
    assert isinstance(fast, bytes)
    text = fast.decode()
    assert text.count("N/A") == 3
    assert text.count("?") == 2
    assert "a@example.org" not in text
    assert "021**" in text


def test_undeclared_marker_stops_noise(tmp_path, key_env):
    source = tmp_path / "in.csv"
    source.write_text("email,income,zip\na@example.org,N/A,02139\n")
    policy = {key: value for key, value in MASKING.items() if key != "missing_values"}

    with pytest.raises(maskme.MaskMeError, match="record 1, field `income`: not a (finite )?number"):
        maskme.mask(source, policy, tmp_path / "out.csv", seed=7)


def test_cli_option_replaces_the_policy_markers(tmp_path, key_env):
    source = tmp_path / "in.csv"
    source.write_text("email,income,zip\na@example.org,unknown,02139\n")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(MASKING))
    target = tmp_path / "out.csv"

    failed = run_cli("mask", str(source), "-p", str(policy), "-o", str(target))
    done = run_cli("mask", str(source), "-p", str(policy), "-o", str(target),
                   "--missing-values", "unknown")

    assert failed.returncode == 1
    assert done.returncode == 0, done.stderr.decode()
    assert target.read_text().splitlines()[1].split(",")[1:] == ["unknown", "021**"]


def test_cli_rejects_an_empty_marker(tmp_path):
    result = run_cli("measure", str(STROKE), "-q", "gender", "--missing-values", "N/A,")
    assert result.returncode == 2
    assert "--missing-values" in result.stderr.decode()


# -- measuring ----------------------------------------------------------------------


def ordered_t(rows: list[dict[str, str]], quasi_identifiers: list[str], sensitive: str,
              missing: set[str]) -> tuple[float, int, int]:
    """Return t (ordered distance, rank-spaced), the distinct values and the missing records."""
    classes: dict[tuple, Counter] = defaultdict(Counter)
    missing_records = 0
    for row in rows:
        key = tuple(row[name] for name in quasi_identifiers)
        value = row[sensitive]
        if value == "" or value in missing:
            missing_records += 1
            classes.setdefault(key, Counter())
            continue
        classes[key][value] += 1
    whole = Counter()
    for counts in classes.values():
        whole.update(counts)
    order = sorted(whole, key=float)
    total = sum(whole.values())
    worst = 0.0
    for counts in classes.values():
        size = sum(counts.values())
        if not size:
            continue
        running, distance = 0.0, 0.0
        for value in order:
            running += counts[value] / size - whole[value] / total
            distance += abs(running)
        worst = max(worst, distance / (len(order) - 1))
    return worst, len(order), missing_records


def test_measure_stroke_bmi_with_na_declared():
    rows = read_rows(STROKE)
    expected_t, distinct, missing_records = ordered_t(rows, ["gender", "hypertension"], "bmi", {"N/A"})

    measured = maskme.measure(STROKE, quasi_identifiers="gender,hypertension",
                              sensitive_attributes={"bmi": "ordered"}, missing_values="N/A")
    bmi = measured.sensitive("bmi")

    assert distinct == 418
    assert missing_records == 201
    assert bmi.distinct_values == 418
    assert bmi.records_with_missing_values == 201
    assert math.isclose(bmi.t_closeness, expected_t, rel_tol=1e-9)


def test_ordered_mixed_values_rejected():
    with pytest.raises(UsageError, match=r"`bmi` is ordered, but 1 of its 419 distinct values is not a number"):
        maskme.measure(STROKE, quasi_identifiers="gender", sensitive_attributes={"bmi": "ordered"})


def test_measure_cli_counts_question_marks_as_missing():
    rows = read_rows(ADULT_UCI)
    missing_workclass = sum(row["workclass"] == "?" for row in rows)
    missing_occupation = sum(row["occupation"] == "?" for row in rows)

    result = run_cli("measure", str(ADULT_UCI), "-q", "workclass,sex", "-s", "occupation",
                     "--missing-values", "?", "--json")

    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert missing_workclass == 1_836
    assert report["records_with_missing_quasi_identifiers"] == missing_workclass
    occupation = report["sensitive_attributes"][0]
    assert occupation["records_with_missing_values"] == missing_occupation == 1_843
    assert occupation["distinct_values"] == 14


def test_policy_markers_reach_measure(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nquasi_identifiers: [gender]\n"
                      "sensitive_attributes: {bmi: {kind: ordered}}\nmissing_values: [N/A]\n")

    measured = maskme.measure(STROKE, policy=policy)

    assert measured.sensitive("bmi").records_with_missing_values == 201


def test_mask_report_counts_declared_texts_as_missing(tmp_path, key_env):
    source = tmp_path / "in.csv"
    source.write_text("zip,diagnosis\n02139,flu\n02139,?\n02140,cold\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  zip: {strategy: generalize, prefix: 3}\n"
                      "quasi_identifiers: [zip]\nsensitive_attributes: [diagnosis]\n"
                      "missing_values: ['?']\n")
    report = tmp_path / "report.json"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(tmp_path / "out.csv"),
                     "--report", str(report))

    assert result.returncode == 0, result.stderr.decode()
    measured = json.loads(report.read_text())["measurement"]["output"]
    diagnosis = measured["sensitive_attributes"][0]
    assert diagnosis["records_with_missing_values"] == 1
    assert diagnosis["distinct_values"] == 2


# -- anonymizing --------------------------------------------------------------------


def test_anonymize_keeps_declared_texts_and_groups_them(tmp_path):
    source = tmp_path / "in.csv"
    lines = ["age,city,diagnosis"]
    lines += [f"{age},Springfield,d{age % 3}" for age in range(20, 40)]
    lines += ["?,Springfield,d1", "?,Springfield,d2"]
    source.write_text("\n".join(lines) + "\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n"
                      "quasi_identifiers: {age: {intervals: [10, 20]}, city: null}\n"
                      "privacy: {k: 2}\n")
    target = tmp_path / "out.csv"

    result = maskme.anonymize(source, policy, target, missing_values=["?"])

    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert result.records == 22
    assert [row["age"] for row in rows[-2:]] == ["?", "?"]
    assert {row["age"] for row in rows[:-2]} == {"[20, 30)", "[30, 40)"}


def test_anonymize_intervals_without_markers_fail(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("age,city\n20,x\n21,x\n?,x\n?,x\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n"
                      "quasi_identifiers: {age: {intervals: [10]}, city: null}\nprivacy: {k: 2}\n")

    with pytest.raises(PolicyError, match="1 distinct value that cannot be read as a number"):
        maskme.anonymize(source, policy, tmp_path / "out.csv")
    with pytest.raises(PolicyError, match="or list the text that marks a missing value"):
        maskme.anonymize(source, policy, tmp_path / "out.csv")


def test_anonymize_keeps_two_marker_texts_apart(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("age,zip\n?,1\nN/A,1\nN/A,1\nN/A,1\n30,1\n31,1\n32,1\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n"
                      "quasi_identifiers: {age: {intervals: [10]}, zip: null}\n"
                      "privacy: {k: 3, suppression_limit: 0.2}\n")
    target = tmp_path / "out.csv"

    result = maskme.anonymize(source, policy, target, missing_values=["?", "N/A"])

    released = target.read_text().splitlines()[1:]
    # The lone `?` record would be a class of 1 in the file, so it is suppressed.
    assert result.suppressed_records == 1
    assert "?,1" not in released
    assert released.count("N/A,1") == 3
    assert released.count('"[30, 40)",1') == 3


def test_measure_keeps_marker_texts_apart():
    frame = {"age": ["?", "N/A", "N/A", None, "30"], "d": ["a", "b", "c", "d", "e"]}

    measured = maskme.measure(pl.DataFrame(frame), quasi_identifiers="age",
                              sensitive_attributes=["d"], missing_values=["?", "N/A"])

    assert measured.anonymity.classes == 4
    assert measured.records_with_missing_quasi_identifiers == 4
