"""Seventh trial: custom strategies from plugins, keys, and nested JSON field paths.

The first part shows problems found in this trial, now fixed. The second
part pins behaviours that the trial checked and found working.

Plugin strategies come from a package made here: a module and a
``.dist-info`` folder with an ``entry_points.txt``, put on ``PYTHONPATH`` of
real ``python -m maskme`` processes (``run_cli``). Nothing is installed into
the virtual environment, so each test loads only the plugin it writes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

# Synthetic personal value: a test fails when it appears in stderr or a report.
SECRET_EMAIL = "zed.secretmail@example.org"

PEOPLE_CSV = f"name,email\nAnn,{SECRET_EMAIL}\nBob,bob@example.org\n"

# Module of the plugin package. Each class breaks one rule of the strategy
# contract, or follows it, as its docstring states.
PLUGIN_MODULE = '''
import polars as pl

from maskme import Strategy, StrategyParams
from maskme.strategies import ColumnExpression


class NoParams(StrategyParams):
    """No parameters."""


class Base(Strategy):
    """Base of the trial strategies.

    Notes
    -----
    These strategies exist to test the engine and give no privacy.
    """

    Params = NoParams


class RaisesWithValue(Base):
    """Raise an error whose message contains the first value."""

    name = "raises_with_value"

    def apply(self, values, batch):
        raise ValueError(f"cannot mask {values[0]}")


class StrictCast(Base):
    """Cast to integers strictly, so Polars raises an error listing the values."""

    name = "strict_cast"

    def apply(self, values, batch):
        return values.cast(pl.Int64).cast(pl.String)


class ObserveRaises(Base):
    """Two-pass strategy whose first pass raises with the values in the message."""

    name = "observe_raises"
    two_pass = True

    def observe(self, values, batch):
        raise RuntimeError(f"cannot count {values.to_list()}")

    def apply(self, values, batch):
        return values


class ReturnsList(Base):
    """Return a Python list in place of a series."""

    name = "returns_list"

    def apply(self, values, batch):
        return ["x" if value is not None else None for value in values.to_list()]


class ReturnsNone(Base):
    """Return None in place of a series."""

    name = "returns_none"

    def apply(self, values, batch):
        return None


class ReturnsListColumn(Base):
    """Return a List column, which does not cast to String."""

    name = "returns_list_column"

    def apply(self, values, batch):
        return values.str.split("@")


class UndeclaredColumn(Base):
    """Read another field without listing it in required_fields()."""

    name = "undeclared_column"

    def apply(self, values, batch):
        return batch.column("name")


class ShortResult(Base):
    """Return one value fewer than it receives."""

    name = "short_result"

    def apply(self, values, batch):
        return values.head(max(len(values) - 1, 0))


class SplitCase(Base):
    """Upper-case in the query path but lower-case in apply, against the contract.

    Notes
    -----
    This strategy exists to test the contract suite and gives no privacy.
    """

    name = "split_case"

    def apply(self, values, batch):
        return values.str.to_lowercase()

    def expression(self, values, record_numbers):
        return ColumnExpression(value=values.str.to_uppercase())


class RecordTag(Base):
    """Replace each value by the 1-based number of its record."""

    name = "record_tag"

    def apply(self, values, batch):
        numbers = batch.record_numbers.cast(pl.String)
        return pl.select(
            pl.when(pl.lit(values).is_null()).then(None).otherwise(pl.lit(numbers))
        ).to_series().alias(values.name)


class ClaimsHash(Base):
    """Offered under the name of the built-in ``hash``."""

    name = "hash"

    def apply(self, values, batch):
        return values
'''

PLUGIN_CLASSES = {
    "raises_with_value": "RaisesWithValue",
    "strict_cast": "StrictCast",
    "observe_raises": "ObserveRaises",
    "returns_list": "ReturnsList",
    "returns_none": "ReturnsNone",
    "returns_list_column": "ReturnsListColumn",
    "undeclared_column": "UndeclaredColumn",
    "short_result": "ShortResult",
    "split_case": "SplitCase",
    "record_tag": "RecordTag",
    "hash": "ClaimsHash",
}


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """Write the trial plugin package and return the environment that makes it visible."""
    site = tmp_path / "site"
    package = site / "trial_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "strategies.py").write_text(PLUGIN_MODULE, encoding="utf-8")

    dist_info = site / "trial_plugin-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: trial-plugin\nVersion: 0.1.0\n", encoding="utf-8"
    )
    entry_points = "".join(
        f"{name} = trial_plugin.strategies:{cls}\n" for name, cls in PLUGIN_CLASSES.items()
    )
    (dist_info / "entry_points.txt").write_text(
        f"[maskme.strategies]\n{entry_points}", encoding="utf-8"
    )

    search_path = [str(site), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(part for part in search_path if part)}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def one_field_policy(path: Path, field: str, rule: str, default: str = "keep") -> Path:
    return write(path, f'version: 1\ndefault: {default}\nfields:\n  "{field}": {rule}\n')


def stderr_text(result) -> str:
    return result.stderr.decode("utf-8", "replace")


# -- problems found -----------------------------------------------------------------------


def test_plugin_error_hides_value(tmp_path, plugin_env):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: raises_with_value}")
    output = tmp_path / "masked.csv"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=plugin_env)

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert SECRET_EMAIL not in stderr
    assert "Traceback" not in stderr
    assert "raises_with_value" in stderr


def test_plugin_polars_error_hides_value(tmp_path, plugin_env):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: strict_cast}")
    output = tmp_path / "masked.jsonl"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=plugin_env)

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert SECRET_EMAIL not in stderr
    assert "Traceback" not in stderr


def test_plugin_observe_error_hides_value(tmp_path, plugin_env):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: observe_raises}")
    output = tmp_path / "masked.csv"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=plugin_env)

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert SECRET_EMAIL not in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "strategy",
    [
        "returns_list",  # a Python list: AttributeError on .dtype
        "returns_none",  # None: TypeError on len()
        "returns_list_column",  # a List column: InvalidOperationError on the cast to String
        "undeclared_column",  # batch.column of a field not in required_fields(): KeyError
    ],
)
def test_plugin_wrong_result_clear_error(tmp_path, plugin_env, strategy):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", f"{{strategy: {strategy}}}")
    output = tmp_path / "masked.csv"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=plugin_env)

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert "Traceback" not in stderr
    assert strategy in stderr
    assert "email" in stderr


def test_non_utf8_env_key_used_as_bytes(tmp_path):
    # A key variable that is not UTF-8 is used as the bytes the environment
    # holds, as a key file with the same bytes is.
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    key_bytes = b"secret\xffkeybytes0123456789"
    (tmp_path / "key.bin").write_bytes(key_bytes)
    outputs = []
    for source_line, env in (("{env: TRIAL_KEY}", {"TRIAL_KEY": os.fsdecode(key_bytes)}),
                             ("{file: key.bin}", {})):
        policy = write(
            tmp_path / "policy.yaml",
            f"version: 1\ndefault: keep\nkeys:\n  main: {source_line}\n"
            "fields:\n  email: {strategy: hash, key: main}\n",
        )
        output = tmp_path / "masked.csv"
        result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=env)
        assert result.returncode == 0, stderr_text(result)
        assert "Traceback" not in stderr_text(result)
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]


def test_contract_compares_expression_with_apply(tmp_path, plugin_env):
    sys.path.insert(0, plugin_env["PYTHONPATH"].split(os.pathsep)[0])
    try:
        from trial_plugin.strategies import SplitCase

        from maskme.testing import ContractViolation, check_strategy

        with pytest.raises(ContractViolation) as raised:
            check_strategy(SplitCase, ["Ann", "Bob", "Cy"])
        assert "expression" in str(raised.value)
    finally:
        sys.path.pop(0)
        for name in [name for name in sys.modules if name.startswith("trial_plugin")]:
            del sys.modules[name]


def test_split_case_outputs_differ_by_format(tmp_path, plugin_env):
    """Pin why the contract check above matters: CSV and JSONL disagree for such a strategy."""
    source = write(tmp_path / "people.csv", "name,email\nAnn,Ann@Example.org\n")
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: split_case}")
    csv_output = tmp_path / "masked.csv"
    jsonl_output = tmp_path / "masked.jsonl"

    csv_run = run_cli("mask", str(source), "-p", str(policy), "-o", str(csv_output),
                      env=plugin_env)
    jsonl_run = run_cli("mask", str(source), "-p", str(policy), "-o", str(jsonl_output),
                        env=plugin_env)

    assert csv_run.returncode == 0
    assert jsonl_run.returncode == 0
    assert csv_output.read_text(encoding="utf-8") == "name,email\nAnn,ANN@EXAMPLE.ORG\n"
    assert json.loads(jsonl_output.read_text(encoding="utf-8")) == {
        "name": "Ann", "email": "ann@example.org"
    }


def test_nested_array_path_hint(tmp_path):
    # A path cannot address an array inside an array, so the error must not
    # suggest one (`grid[*][*]` is no valid path).
    source = write(tmp_path / "grid.jsonl", '{"id":1,"grid":[["s1","s2"],["s3"]]}\n')
    policy = one_field_policy(tmp_path / "policy.yaml", "grid[*].x", "{strategy: redact}")

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(tmp_path / "out.jsonl"))

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert "grid[*][*]" not in stderr
    assert "a path cannot reach into an array inside an array" in stderr
    assert "s1" not in stderr


# -- behaviour checked and found working --------------------------------------------------


def test_plugin_short_result_clear_error(tmp_path, plugin_env):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: short_result}")
    output = tmp_path / "masked.csv"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output), env=plugin_env)

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert "Traceback" not in stderr
    assert "strategy 'short_result' returned 1 values for 2 in field `email`" in stderr


def test_plugin_cannot_replace_builtin(tmp_path, plugin_env):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    policy = one_field_policy(tmp_path / "policy.yaml", "email", "{strategy: hash}")

    listed = run_cli("strategies", "--json", env=plugin_env)
    masked = run_cli("mask", str(source), "-p", str(policy), env=plugin_env)

    assert listed.returncode == 0
    sources = {entry["name"]: entry["source"] for entry in json.loads(listed.stdout)}
    assert sources["hash"] == "maskme"
    assert sources["record_tag"] == "trial-plugin 0.1.0"
    assert "which is built in; the built-in strategy is used" in stderr_text(listed)
    # The built-in hash needs a key, so the plugin's pass-through was not picked.
    assert masked.returncode == 2
    assert "key: Field required" in stderr_text(masked)


@pytest.mark.parametrize("batch_size", ["1", "2", "1000"])
def test_plugin_nested_record_numbers(tmp_path, plugin_env, batch_size):
    source = write(
        tmp_path / "orders.jsonl",
        '{"id":1,"o":[{"v":"a"},{"v":"b"}]}\n{"id":2,"o":[]}\n'
        '{"id":3,"o":null}\n{"id":4,"o":[{"v":"c"},{"v":null},{"v":"d"}]}\n',
    )
    policy = one_field_policy(tmp_path / "policy.yaml", "o[*].v", "{strategy: record_tag}")
    output = tmp_path / "masked.jsonl"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output),
                     "--batch-size", batch_size, env=plugin_env)

    assert result.returncode == 0
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"id": 1, "o": [{"v": "1"}, {"v": "1"}]},
        {"id": 2, "o": []},
        {"id": 3, "o": None},
        {"id": 4, "o": [{"v": "4"}, {"v": None}, {"v": "4"}]},
    ]


NESTED_JSONL = (
    '{"id":1,"user":{"email":"' + SECRET_EMAIL + '","name":"Ann","tags":["a","b"]},'
    '"orders":[{"card":"4111111111111111","items":[{"sku":"X1","price":10}]},'
    '{"card":"5500000000000004","items":[]}]}\n'
    '{"id":2,"user":{"email":"bob@example.org","name":"Bob","tags":[]},"orders":[]}\n'
    '{"id":3,"user":null,"orders":null}\n'
)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # Only the listed leaf leaves, inside its parent object.
        ('  "user.name": {strategy: keep}\n',
         [{"user": {"name": "Ann"}}, {"user": {"name": "Bob"}}, {"user": None}]),
        # A leaf two arrays deep keeps its array and object structure.
        ('  "orders[*].items[*].sku": {strategy: keep}\n  id: {strategy: keep}\n',
         [{"id": 1, "orders": [{"items": [{"sku": "X1"}]}, {"items": []}]},
          {"id": 2, "orders": []}, {"id": 3, "orders": None}]),
        # A kept object minus a dropped key inside it.
        ('  user: {strategy: keep}\n  "user.email": {strategy: drop}\n',
         [{"user": {"name": "Ann", "tags": ["a", "b"]}},
          {"user": {"name": "Bob", "tags": []}}, {"user": None}]),
        # Dropping the parent wins over masking a field inside it.
        ('  "user.email": {strategy: redact}\n  user: {strategy: drop}\n', [{}, {}, {}]),
    ],
)
def test_default_drop_nested_keeps(tmp_path, rules, expected):
    source = write(tmp_path / "nested.jsonl", NESTED_JSONL)
    policy = write(tmp_path / "policy.yaml", f"version: 1\ndefault: drop\nfields:\n{rules}")
    output = tmp_path / "masked.jsonl"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert records == expected


@pytest.mark.parametrize(
    ("record", "field", "rule"),
    [
        # An object where the path expects an array.
        ('{"orders":{"card":"' + SECRET_EMAIL + '"}}', "orders[*].card", "{strategy: keep}"),
        # A text where the path expects an array.
        ('{"orders":"' + SECRET_EMAIL + '"}', "orders[*].card", "{strategy: keep}"),
        # A text where the path expects an object.
        ('{"user":"' + SECRET_EMAIL + '"}', "user.name", "{strategy: keep}"),
        # An object where a masking strategy expects a scalar.
        ('{"user":{"name":{"first":"' + SECRET_EMAIL + '"}}}', "user.name", "{strategy: redact}"),
    ],
)
def test_nested_shape_mismatch_stops_run(tmp_path, record, field, rule):
    source = write(tmp_path / "nested.jsonl", '{"orders":[],"user":{"name":"A"}}\n' + record + "\n")
    policy = one_field_policy(tmp_path / "policy.yaml", field, rule, default="drop")
    output = tmp_path / "masked.jsonl"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output))

    stderr = stderr_text(result)
    assert result.returncode == 1
    assert not output.exists()
    assert "record 2" in stderr
    assert SECRET_EMAIL not in stderr


def test_nested_report_compare_hides_values(tmp_path):
    source = write(
        tmp_path / "visits.jsonl",
        '{"user":{"zip":"94110","age":34,"email":"' + SECRET_EMAIL + '"},"dx":"flu"}\n'
        '{"user":{"zip":"94112","age":36,"email":"bob@example.org"},"dx":"flu"}\n'
        '{"user":{"zip":"94110","age":35,"email":"cy@example.org"},"dx":"cold"}\n'
        '{"user":{"zip":"10001","age":52,"email":"dee@example.org"},"dx":"hiv"}\n',
    )
    policy = write(
        tmp_path / "policy.yaml",
        "version: 1\ndefault: keep\n"
        "fields:\n"
        '  "user.zip": {strategy: generalize, prefix: 3}\n'
        '  "user.age": {strategy: generalize, interval: 10}\n'
        '  "user.email": {strategy: redact}\n'
        "quasi_identifiers: [user.zip, user.age]\n"
        "sensitive_attributes:\n  dx: {kind: categorical}\n",
    )
    output = tmp_path / "masked.jsonl"
    report = tmp_path / "report.json"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output),
                     "--report", str(report), "--compare")

    assert result.returncode == 0
    text = report.read_text(encoding="utf-8")
    assert SECRET_EMAIL not in text
    assert "94110" not in text
    measurement = json.loads(text)["measurement"]
    assert measurement["input"]["k_anonymity"]["classes"] == 4
    assert measurement["output"]["k_anonymity"]["classes"] == 2
    assert measurement["output"]["k_anonymity"]["k"] == 1


@pytest.mark.parametrize(
    ("source_text", "message"),
    [
        ("{file: absent.key}", "cannot read key file"),
        ("{file: empty.key}", "is empty (or only whitespace)"),
        ("{file: key_folder}", "is not a regular file"),
        ("{env: TRIAL_UNSET_KEY}", "environment variable TRIAL_UNSET_KEY is not set"),
    ],
)
def test_unusable_key_stops_before_output(tmp_path, source_text, message):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    write(tmp_path / "empty.key", "\n")
    (tmp_path / "key_folder").mkdir()
    policy = write(
        tmp_path / "policy.yaml",
        f"version: 1\ndefault: keep\nkeys:\n  main: {source_text}\n"
        "fields:\n  email: {strategy: hash, key: main}\n",
    )
    output = tmp_path / "masked.csv"

    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(output))

    stderr = stderr_text(result)
    assert result.returncode == 2
    assert not output.exists()
    assert message in stderr
    assert "policy.yaml:4 (keys.main)" in stderr


def test_key_file_crlf_equals_env_key(tmp_path):
    source = write(tmp_path / "people.csv", PEOPLE_CSV)
    key = "trial-key-0123456789abcdef0123456789"
    (tmp_path / "main.key").write_bytes(key.encode("ascii") + b"\r\n")
    from_file = write(
        tmp_path / "file.yaml",
        "version: 1\ndefault: keep\nkeys:\n  main: {file: main.key}\n"
        "fields:\n  email: {strategy: hash, key: main}\n",
    )
    from_env = write(
        tmp_path / "env.yaml",
        "version: 1\ndefault: keep\nkeys:\n  main: {env: TRIAL_KEY}\n"
        "fields:\n  email: {strategy: hash, key: main}\n",
    )

    file_run = run_cli("mask", str(source), "-p", str(from_file))
    env_run = run_cli("mask", str(source), "-p", str(from_env), env={"TRIAL_KEY": key})

    assert file_run.returncode == 0
    assert env_run.returncode == 0
    assert file_run.stdout == env_run.stdout
    assert SECRET_EMAIL.encode() not in file_run.stdout


def test_sensitive_attribute_on_array_path_is_usage_error(tmp_path):
    source = write(tmp_path / "visits.jsonl",
                   '{"q":"a","visits":[{"dx":"x"}]}\n{"q":"a","visits":[{"dx":"y"}]}\n')

    result = run_cli("measure", str(source), "-q", "q", "-s", "visits[*].dx")

    assert result.returncode == 2
    assert "walks an array; measurement needs one value per record" in stderr_text(result)
