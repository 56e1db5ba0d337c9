"""Writing transformed fields back into JSON records while they are serialized.

A JSON batch keeps the values a strategy returns, and the top-level keys
dropped after them, pending until the writer serializes the batch. The writer
then applies them in the same pass as orjson. These tests compare that pass with
flushing the records first (``JsonBatch.records``) and serializing them with
``_dump_all``, and check the values that come out of a whole run.
"""

from __future__ import annotations

import copy
import csv
import json

from hypothesis import given, settings
from hypothesis import strategies as st

import maskme
from maskme.formats.json import JsonBatch, _dump_all
from maskme.policy.paths import parse_field_path

_KEYS = ["a", "b", "c", "d"]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits, orjson needs the slow path
    st.text(max_size=6),
)
_records = st.lists(
    st.dictionaries(st.sampled_from(_KEYS + ["e"]), _scalars, max_size=5), min_size=0, max_size=12
)


def _transform(batch: JsonBatch, key: str, suffix: str) -> bool:
    """Give every record's value of ``key`` a new text through the batch's public calls."""
    path = parse_field_path(key)
    found = batch.field_values(path)
    if found is None:
        return False
    new = found.values + suffix
    batch.set_field_values(path, found, new, keeps_type=False)
    return True


@settings(max_examples=300, deadline=None)
@given(
    records=_records,
    transformed=st.lists(st.sampled_from(_KEYS), unique=True, max_size=3),
    dropped=st.lists(st.sampled_from(_KEYS), unique=True, max_size=2),
    separator=st.sampled_from([b"\n", b",\n"]),
)
def test_serialized_matches_flushed_records(records, transformed, dropped, separator):
    fused = JsonBatch(copy.deepcopy(records), 1)
    flushed = JsonBatch(copy.deepcopy(records), 1)
    for batch in (fused, flushed):
        for key in transformed:
            _transform(batch, key, "-masked")
        for key in dropped:
            batch.drop_field(parse_field_path(key))

    expected = _dump_all(flushed.records, 1, separator)
    assert fused.serialized(separator) == expected
    assert fused.records == flushed.records
    for record in fused.records:
        assert not set(dropped) & set(record)


def test_dropped_key_gone_before_writing():
    batch = JsonBatch([{"a": "x", "b": "y"}, {"a": "z", "b": "w"}], 1)
    assert _transform(batch, "a", "!")
    batch.drop_field(parse_field_path("b"))
    b = parse_field_path("b")
    assert not batch.has_field(b)
    assert batch.field_values(b) is None
    assert batch.records == [{"a": "x!"}, {"a": "z!"}]


def test_pending_value_beside_wide_integer():
    # orjson cannot write 2**64, so the writer falls back to one record at a time.
    # The pending values must reach the records after that one too.
    records = [{"n": 1, "s": "a"}, {"n": 2**64, "s": "b"}, {"n": 3, "s": "c", "x": True}]
    batch = JsonBatch(copy.deepcopy(records), 1)
    assert _transform(batch, "s", "+")
    batch.drop_field(parse_field_path("x"))
    lines = batch.serialized(b"\n").decode().split("\n")
    assert lines == [
        '{"n":1,"s":"a+"}',
        '{"n":18446744073709551616,"s":"b+"}',
        '{"n":3,"s":"c+"}',
    ]


_NOISE = {
    "version": 1,
    "default": "keep",
    "fields": {
        "income": {"strategy": "noise", "distribution": "laplace", "relative": True,
                   "scale": 0.05, "round": 2, "seed": 7},
        "count": {"strategy": "noise", "distribution": "uniform", "scale": 3, "round": 0,
                  "seed": 7},
        "name": {"strategy": "drop"},
    },
}


def _people(tmp_path, count=50):
    source = tmp_path / "people.jsonl"
    rows = [
        {"id": index, "name": f"person {index}", "income": 1000.25 + index, "count": index * 7}
        for index in range(count)
    ]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return source, rows


def test_noised_numbers_stay_json_numbers(tmp_path):
    source, rows = _people(tmp_path)
    target = tmp_path / "out.jsonl"
    maskme.mask(source, _NOISE, target)
    written = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [record["id"] for record in written] == [row["id"] for row in rows]
    assert all(list(record) == ["id", "income", "count"] for record in written)
    assert all(type(record["income"]) is float for record in written)
    assert all(type(record["count"]) is int for record in written)
    # The noise moved the values, within what the scales allow.
    assert any(record["income"] != row["income"] for record, row in zip(written, rows))
    for record, row in zip(written, rows):
        assert abs(record["count"] - row["count"]) <= 3
        assert round(record["income"], 2) == record["income"]


def test_noised_numbers_in_csv_and_json_array_output(tmp_path):
    source, _ = _people(tmp_path)
    lines = tmp_path / "out.jsonl"
    maskme.mask(source, _NOISE, lines)
    expected = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]

    array = tmp_path / "out.json"
    maskme.mask(source, _NOISE, array)
    assert json.loads(array.read_text(encoding="utf-8")) == expected

    table = tmp_path / "out.csv"
    maskme.mask(source, _NOISE, table)
    with table.open(newline="", encoding="utf-8") as stream:
        read = list(csv.DictReader(stream))
    assert [row["income"] for row in read] == [repr(record["income"]) for record in expected]
    assert [row["count"] for row in read] == [str(record["count"]) for record in expected]
    assert all("name" not in row for row in read)
