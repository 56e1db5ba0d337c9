"""The local engine: missing values, record errors, atomic output, DataFrames, two passes."""

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import maskme
from maskme.errors import RecordError, UsageError
from maskme.strategies import InvalidValues, Strategy, StrategyParams, register_strategy
from maskme.strategies.registry import unregister_strategy


class UpperParams(StrategyParams):
    pass


class Upper(Strategy):
    """Upper-cases text: a stand-in strategy with an observable effect."""

    name = "test_upper"
    Params = UpperParams

    def apply(self, values, batch):
        return values.str.to_uppercase()


class DoubleParams(StrategyParams):
    pass


class Double(Strategy):
    """Doubles numbers and rejects text, keeping the type."""

    name = "test_double"
    Params = DoubleParams
    keeps_type = True

    def apply(self, values, batch):
        numbers = values.cast(pl.Int64, strict=False)
        invalid = numbers.is_null() & values.is_not_null()
        if invalid.any():
            raise InvalidValues(invalid.arg_true().to_list(), "an integer")
        return (numbers * 2).cast(pl.String)


class SubjectParams(StrategyParams):
    pass


class Subject(Strategy):
    """Replaces each value with its record number and the subject field: shows alignment."""

    name = "test_subject"
    Params = SubjectParams

    def required_fields(self):
        return ["patient"]

    def apply(self, values, batch):
        subject = batch.column("patient")
        numbers = batch.record_numbers.cast(pl.String)
        return pl.select(pl.concat_str([pl.lit(numbers), pl.lit(subject)], separator=":")).to_series()


class CountParams(StrategyParams):
    pass


class CountFirst(Strategy):
    """Two-pass: replaces each value with how often it occurs in the whole column."""

    name = "test_count"
    Params = CountParams
    two_pass = True

    def __init__(self, params, context):
        super().__init__(params, context)
        self.counts: dict[str, int] = {}

    def observe(self, values, batch):
        for value, count in values.drop_nulls().value_counts().iter_rows():
            self.counts[value] = self.counts.get(value, 0) + count

    def apply(self, values, batch):
        return values.replace_strict(
            {k: str(v) for k, v in self.counts.items()}, default=None, return_dtype=pl.String
        )


@pytest.fixture(autouse=True, scope="module")
def test_strategies():
    for cls in (Upper, Double, Subject, CountFirst):
        register_strategy(cls)
    yield
    for cls in (Upper, Double, Subject, CountFirst):
        unregister_strategy(cls.name)


def policy(**fields):
    return {"version": 1, "default": "keep", "fields": {k: {"strategy": v} for k, v in fields.items()}}


def test_missing_values_stay_missing_csv(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b'id,name\n1,ann\n2,\n3,""\n')
    target = tmp_path / "out.csv"
    maskme.mask(source, policy(name="test_upper"), target)
    assert target.read_bytes() == b'id,name\n1,ANN\n2,\n3,""\n'


def test_missing_values_stay_missing_json(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"name":"ann"}\n{"name":null}\n{"name":""}\n{}\n')
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy(name="test_upper"), target)
    assert target.read_text() == '{"name":"ANN"}\n{"name":null}\n{"name":""}\n{}\n'


def test_json_number_keeps_type(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"n":21,"s":"21"}\n')
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy(n="test_double", s="test_double"), target)
    assert target.read_text() == '{"n":42,"s":"42"}\n'


def test_record_error_names_record_and_field(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("n\n1\n2\nsecret-text\n4\n")
    target = tmp_path / "out.csv"
    with pytest.raises(RecordError) as caught:
        maskme.mask(source, policy(n="test_double"), target, batch_size=2)
    message = str(caught.value)
    assert message.startswith("record 3, field `n`: not an integer")
    assert "secret-text" not in message
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_consistent_field_aligned_through_arrays(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"patient":"p1","visits":[{"d":"a"},{"d":"b"}]}\n{"patient":"p2","visits":[{"d":"c"}]}\n'
    )
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy(**{"visits[*].d": "test_subject"}), target, batch_size=1)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [v["d"] for v in rows[0]["visits"]] == ["1:p1", "1:p1"]
    assert rows[1]["visits"][0]["d"] == "2:p2"


def test_two_pass_strategy_sees_whole_column(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("c\na\nb\na\na\n")
    target = tmp_path / "out.csv"
    maskme.mask(source, policy(c="test_count"), target, batch_size=1)
    assert target.read_text() == "c\n3\n1\n3\n3\n"


def test_output_is_input_rejected(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a\n1\n")
    with pytest.raises(UsageError, match="is the input file; MaskMe never overwrites it"):
        maskme.mask(source, policy(a="drop"), source)
    assert source.read_text() == "a\n1\n"


def test_polars_frame_in_and_out():
    frame = pl.DataFrame({"n": [1, 2, None], "name": ["a", None, "c"], "other": [1.5, 2.5, 3.5]})
    out = maskme.mask(frame, policy(n="test_double", name="test_upper"))
    assert isinstance(out, pl.DataFrame)
    assert out.schema == {"n": pl.Int64, "name": pl.String, "other": pl.Float64}
    assert out.to_dict(as_series=False) == {
        "n": [2, 4, None], "name": ["A", None, "C"], "other": [1.5, 2.5, 3.5],
    }


def test_pandas_frame_in_and_out():
    frame = pd.DataFrame({"n": [1, 2], "name": ["a", "b"], "drop_me": ["x", "y"]})
    out = maskme.mask(frame, policy(n="test_double", drop_me="drop"))
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["n", "name"]
    assert out["n"].tolist() == [2, 4]
    assert out["name"].tolist() == ["a", "b"]


def test_csv_to_jsonl_conversion(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("zip,name\n02139,ann\n")
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy(name="test_upper"), target)
    assert target.read_text() == '{"zip":"02139","name":"ANN"}\n'


def test_batch_size_does_not_change_output(tmp_path, adult_csv):
    outputs = []
    for size in (1_000, 7_777, 65_536):
        target = tmp_path / f"out{size}.csv"
        maskme.mask(adult_csv, policy(occupation="test_upper", sex="drop"), target, batch_size=size)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_pandas_index_kept():
    frame = pd.DataFrame({"n": [1, 2, 3], "name": ["a", "b", "c"]}, index=[10, 20, 30])
    out = maskme.mask(frame, policy(name="test_upper"))
    assert out.index.tolist() == [10, 20, 30]
    assert out.loc[20, "name"] == "B"


def test_pandas_named_index_rejected():
    frame = pd.DataFrame({"id": [1, 2], "ssn": ["900-00-0001", "900-00-0002"]}).set_index("ssn")
    with pytest.raises(UsageError, match=r"named index \(ssn\).*reset_index") as caught:
        maskme.mask(frame, {"version": 1, "default": "drop", "fields": {"id": {"strategy": "keep"}}})
    assert "900-00" not in str(caught.value)


def test_parallel_run_raises_first_failure_in_order(tmp_path, monkeypatch):
    """A bad value in an early batch wins over a malformed record the reader meets later."""
    from maskme.formats import csv as csv_format

    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 64)
    lines = ["id,income"] + [f"{n},{n * 10}" for n in range(1, 200)]
    lines[3] = "3,not-a-number"
    lines[150] = "150,1,extra"
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n")
    policy = {"version": 1, "default": "keep",
              "fields": {"income": {"strategy": "noise", "scale": 1, "seed": 1}}}
    target = tmp_path / "out.csv"
    with pytest.raises(RecordError) as raised:
        maskme.mask(source, policy, target, batch_size=4, delimiter=",")
    assert raised.value.record == 3
    assert raised.value.field == "income"
    assert not target.exists()


def test_parallel_run_raises_reader_error_without_output(tmp_path, monkeypatch):
    from maskme.errors import FormatError
    from maskme.formats import csv as csv_format

    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 64)
    lines = ["id,income"] + [f"{n},{n * 10}" for n in range(1, 200)]
    lines[150] = "150,1,extra"
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n")
    policy = {"version": 1, "default": "keep",
              "fields": {"income": {"strategy": "noise", "scale": 1, "seed": 1}}}
    target = tmp_path / "out.csv"
    with pytest.raises(FormatError, match=r"record 150 \(line 151\) has 3 fields"):
        maskme.mask(source, policy, target, batch_size=4, delimiter=",")
    assert not target.exists()


@pytest.mark.parametrize("name", ["^a$", "*"])
def test_pattern_like_field_names_rejected(tmp_path, name):
    """Polars reads these names as patterns; a drop must never hit another column."""
    from maskme.errors import PolicyError

    source = tmp_path / "in.csv"
    source.write_text(f"a,{name},b\n1,SECRET,4\n")
    policy = {"version": 1, "default": "keep", "fields": {name: {"strategy": "drop"}}}
    target = tmp_path / "out.csv"
    with pytest.raises(PolicyError, match="is not supported: Polars reads"):
        maskme.mask(source, policy, target, delimiter=",")
    assert not target.exists()


def test_pattern_like_column_passes_through_unlisted(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a,^a$,b\n1,x,4\n")
    policy = {"version": 1, "default": "keep", "fields": {"a": {"strategy": "drop"}}}
    target = tmp_path / "out.csv"
    maskme.mask(source, policy, target, delimiter=",")
    assert target.read_text() == "^a$,b\nx,4\n"
