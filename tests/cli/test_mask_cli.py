"""``maskme mask``, ``maskme schema`` and ``maskme version`` through real processes."""

import json

import jsonschema
import pytest
import yaml

from tests.conftest import run_cli

DROP_SEX = "version: 1\ndefault: keep\nfields:\n  sex: {strategy: drop}\n"


@pytest.fixture
def drop_sex(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(DROP_SEX)
    return path


def test_mask_file_to_file(tmp_path, adult_csv, drop_sex):
    target = tmp_path / "out.csv"
    done = run_cli("mask", str(adult_csv), "-p", str(drop_sex), "-o", str(target))
    assert done.returncode == 0, done.stderr
    lines = target.read_bytes().split(b"\r\n")
    assert lines[0] == b"age;race;marital-status;education;native-country;workclass;occupation;salary-class"
    assert len(lines) == 30_162 + 2  # header, records, and the empty piece after the last CRLF
    assert b"masked 30,162 records" in done.stderr


def test_mask_stdin_to_stdout(drop_sex):
    done = run_cli("mask", "-", "-p", str(drop_sex), input=b"sex,age\nMale,39\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"age\n39\n"
    # no progress bar or escape codes when stderr is not a terminal
    assert b"\x1b[" not in done.stderr


def test_mask_stdin_format_option(drop_sex):
    done = run_cli("mask", "-", "-p", str(drop_sex), "--format", "jsonl",
                   input=b'{"sex":"F","age":39}\n')
    assert done.returncode == 0, done.stderr
    assert done.stdout == b'{"age":39}\n'


def test_mask_invalid_policy_exit_2(tmp_path, adult_csv):
    policy = tmp_path / "bad.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  sexx: {strategy: drop}\n")
    target = tmp_path / "out.csv"
    done = run_cli("mask", str(adult_csv), "-p", str(policy), "-o", str(target))
    assert done.returncode == 2
    assert b"bad.yaml:4" in done.stderr
    assert b"did you mean 'sex'" in done.stderr
    assert not target.exists()


def test_mask_missing_input_exit_1(tmp_path, drop_sex):
    done = run_cli("mask", str(tmp_path / "none.csv"), "-p", str(drop_sex), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 1
    assert b"input file not found" in done.stderr


def test_mask_unknown_option_exit_2(adult_csv, drop_sex):
    done = run_cli("mask", str(adult_csv), "-p", str(drop_sex), "--no-such-option")
    assert done.returncode == 2


def test_mask_failed_run_leaves_output_untouched(tmp_path, drop_sex):
    source = tmp_path / "in.jsonl"
    source.write_text('{"sex":"F"}\n{"sex": broken}\n')
    target = tmp_path / "out.jsonl"
    target.write_text("previous content\n")
    done = run_cli("mask", str(source), "-p", str(drop_sex), "-o", str(target))
    assert done.returncode == 1
    assert b"line 2: invalid JSON" in done.stderr
    assert target.read_text() == "previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "policy.yaml"]


def test_mask_stdout_gets_nothing_on_failure(drop_sex):
    done = run_cli("mask", "-", "-p", str(drop_sex), "--format", "jsonl",
                   input=b'{"sex":"F"}\n{"sex": broken}\n')
    assert done.returncode == 1
    assert done.stdout == b""


def test_schema_validates_example_policy():
    done = run_cli("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    jsonschema.validate(yaml.safe_load(DROP_SEX), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "default": "maybe"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "default": "keep", "fields": {"a": {"strategy": "drop", "x": 1}}}, schema)


def test_version():
    done = run_cli("version")
    assert done.returncode == 0
    assert done.stdout.strip() == b"0.1.0"


def test_mask_reports_policy_and_input_problems_together(tmp_path, adult_csv):
    policy = tmp_path / "bad.yaml"
    policy.write_text(
        "version: 1\n"
        "default: keep\n"
        "keys:\n"
        "  main: {env: MASKME_TEST_UNSET_KEY}\n"
        "fields:\n"
        "  sexx: {strategy: drop}\n"
        "  age: {strategy: generalise, interval: 5}\n"
        "  race: {strategy: hash, key: main, lenght: 8}\n"
    )
    done = run_cli("mask", str(adult_csv), "-p", str(policy), "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 2
    text = done.stderr.decode()
    assert "invalid policy: 4 problems" in text
    assert "bad.yaml:4 (keys.main): key 'main' is missing" in text
    assert "bad.yaml:6 (fields.sexx): field 'sexx' matches nothing" in text
    assert "did you mean 'generalize'" in text
    assert "did you mean 'length'" in text
    assert not (tmp_path / "out.csv").exists()


def test_schema_checks_privacy_and_rules():
    schema = json.loads(run_cli("schema").stdout)
    good = {
        "version": 1,
        "default": "keep",
        "quasi_identifiers": {"age": {"hierarchy": "age.csv"}, "sex": None},
        "privacy": {"k": 5, "suppression_limit": 0.1},
    }
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "privacy": {"kk": 5}}, schema)


def test_error_message_brackets_kept(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  'b[*]': {strategy: drop}\n")
    done = run_cli("mask", str(source), "-p", str(policy), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2
    assert b"field 'b[*]' matches nothing" in done.stderr


def test_measure_cli_default_threshold_matches_library():
    from maskme.cli.measure import RISK_THRESHOLD
    from maskme.metrics.risk import DEFAULT_RISK_THRESHOLD

    assert RISK_THRESHOLD == DEFAULT_RISK_THRESHOLD


def test_schema_accepts_shorthand_forms():
    schema = json.loads(run_cli("schema").stdout)
    jsonschema.validate(
        {"version": 1, "default": "keep", "fields": {"ssn": "drop"}, "quasi_identifiers": "zip"},
        schema,
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "default": "keep", "fields": {"ssn": "dorp"}}, schema)


def test_mask_privacy_target_missed_exit_3(tmp_path, adult_csv):
    policy = tmp_path / "targets.yaml"
    policy.write_text(
        "version: 1\ndefault: keep\n"
        "fields:\n  age: {strategy: generalize, interval: 10}\n"
        "quasi_identifiers: [age, sex, race]\nsensitive_attributes: [salary-class]\n"
        "privacy: {k: 5, l: 2}\n"
    )
    target = tmp_path / "out.csv"
    done = run_cli("mask", str(adult_csv), "-p", str(policy), "-o", str(target))
    assert done.returncode == 3
    text = done.stderr.decode()
    assert "privacy targets not met, so nothing was written" in text
    assert "k = 1, needs 5" in text
    assert "l-diversity of `salary-class` = 1, needs 2" in text
    assert not target.exists()

    policy.write_text(policy.read_text().replace("privacy: {k: 5, l: 2}", "privacy: {k: 1}"))
    done = run_cli("mask", str(adult_csv), "-p", str(policy), "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert target.exists()


@pytest.mark.parametrize(("name", "text", "written"), [
    ("empty.json", "[]\n", "[]\n"),
    ("empty.jsonl", "", ""),
])
def test_mask_empty_json_input_writes_empty_output(tmp_path, name, text, written):
    """With no records, a policy field that matches nothing is no sign of a misspelt name."""
    (tmp_path / name).write_text(text)
    (tmp_path / "p.yaml").write_text("version: 1\ndefault: keep\nfields:\n  ssn: {strategy: redact}\n")
    done = run_cli("mask", name, "-p", "p.yaml", "-o", "out" + name[5:], "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ("out" + name[5:])).read_text() == written


def test_mask_format_names_in_any_case(tmp_path):
    (tmp_path / "in.txt").write_text("a,ssn\n1,123\n")
    (tmp_path / "p.yaml").write_text("version: 1\ndefault: keep\nfields:\n  ssn: {strategy: redact}\n")
    done = run_cli("mask", "in.txt", "-f", "CSV", "--output-format", "JSONL", "-p", "p.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b'{"a":"1","ssn":"***"}\n'


def test_policy_and_population_from_stdin_rejected(tmp_path):
    (tmp_path / "in.csv").write_text("zip,ssn\n1,123\n")
    policy = run_cli("mask", "in.csv", "-p", "-", cwd=tmp_path)
    assert policy.returncode == 2
    assert b"not from standard input" in policy.stderr
    population = run_cli("measure", "in.csv", "-q", "zip", "--population", "-", cwd=tmp_path)
    assert population.returncode == 2
    assert b"--population" in population.stderr
