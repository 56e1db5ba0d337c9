"""The JSON array reader parses runs of records with msgspec: it must read exactly what the record-by-record parser reads."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
import maskme.formats.json as json_format
from maskme.errors import FormatError
from maskme.formats.json import JsonArrayReader
from tests.formats.test_jsonl_blocks import NUMBER_TEXTS, read_batches, value_text

# Strings that look like the end of a record, so that a run's last brace may
# fall inside a string or a nested object.
TRICKY_STRINGS = ['"}, {"', '"},"', '"}]"', '"\\"}, {"', '"\\\\"', '"{[\\"]}"', '"}\\n,"']
TRICKY_RECORDS = [
    '{"s": "}, {"}', '{"a": {"b": {}}, "c": [{}]}', '{"a": [1, {"b": "}]"}]}', '{}',
    '{"n": -0}', '{"n": -0.0}', '{"a": NaN}', '{"a": "\\ud800"}', '{"a": "\\ud83d\\ude00"}',
]
# Elements the reader rejects, or that make the array malformed.
ODD_ELEMENTS = ["5", '"text"', "[1]", "null", '{"a":', "{} {}", "", '{"a":01}', '{"a":1}x']

record_text = st.one_of(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "s", "é"]),
            st.one_of(value_text, st.sampled_from(TRICKY_STRINGS)),
        ),
        max_size=4,
    ).map(lambda pairs: "{" + ", ".join(f'"{key}": {value}' for key, value in pairs) + "}"),
    st.sampled_from(TRICKY_RECORDS),
)
element_text = st.one_of(record_text, record_text, st.sampled_from(ODD_ELEMENTS))
separator = st.sampled_from([",", ", ", ",\n", "\n,\n", " ,\r\n  "])


def read_records(path: Path, batch_size: int, *, parse_runs: bool) -> list[bytes]:
    return read_batches(JsonArrayReader(path, parse_runs=parse_runs), path, batch_size)


def outcome(path: Path, batch_size: int, *, parse_runs: bool) -> list[bytes] | str:
    try:
        return read_records(path, batch_size, parse_runs=parse_runs)
    except FormatError as error:
        return f"FormatError: {error}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    elements=st.lists(element_text, max_size=12),
    separators=st.lists(separator, min_size=12, max_size=12),
    closing=st.sampled_from(["]", "\n]\n", "]x", "", ",]"]),
    bom=st.booleans(),
    chunk=st.sampled_from([1, 7, 64, 1 << 20]),
    batch_size=st.sampled_from([1, 3, 1000]),
)
def test_runs_read_like_records(tmp_path, monkeypatch, elements, separators, closing, bom, chunk, batch_size):
    body = "".join(element + (separators[index] if index < len(elements) - 1 else "")
                   for index, element in enumerate(elements))
    path = tmp_path / "in.json"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("[" + body + closing).encode())
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)

    by_runs = outcome(path, batch_size, parse_runs=True)
    by_records = outcome(path, batch_size, parse_runs=False)

    assert by_runs == by_records


def count_record_parses(monkeypatch) -> list[int]:
    """Count the records parsed one by one with the standard library."""
    calls = [0]
    original = json_format._ArrayScanner._decode_record

    def counting(self, number):
        calls[0] += 1
        return original(self, number)

    monkeypatch.setattr(json_format._ArrayScanner, "_decode_record", counting)
    return calls


def test_plain_array_parsed_in_runs(tmp_path, monkeypatch):
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"id": n, "name": f"person {n}", "score": n / 4} for n in range(5000)]))
    monkeypatch.setattr(json_format, "READ_CHUNK", 4096)
    calls = count_record_parses(monkeypatch)
    records = read_records(path, 1000, parse_runs=True)
    assert len(records) == 5000
    assert records[4999] == b'{"id":4999,"name":"person 4999","score":1249.75}'
    # Only the record that straddles each chunk boundary is parsed one by one.
    assert calls[0] <= path.stat().st_size // 4096 + 1


def test_runs_resume_after_negative_zero(tmp_path, monkeypatch):
    """A run msgspec might misread is parsed record by record, and the runs after it by msgspec again."""
    rows = [f'{{"id": {n}, "v": {"-0" if n == 3 else n}}}' for n in range(2000)]
    path = tmp_path / "in.json"
    path.write_text("[" + ",\n".join(rows) + "]")
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    calls = count_record_parses(monkeypatch)
    records = read_records(path, 500, parse_runs=True)
    assert records[3] == b'{"id":3,"v":-0}'
    assert records[1999] == b'{"id":1999,"v":1999}'
    assert 0 < calls[0] < 200


def test_numbers_keep_their_text(tmp_path):
    record = "{" + ",".join(f'"n{index}":{text}' for index, text in enumerate(NUMBER_TEXTS)) + "}"
    source = tmp_path / "in.json"
    source.write_text("[\n" + ",\n".join([record] * 3) + "\n]\n")
    target = tmp_path / "out.json"
    maskme.mask(source, {"version": 1, "default": "keep"}, target)
    assert target.read_text() == source.read_text()


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [100, 254, 300])
def test_deep_record_among_many(tmp_path, depth):
    """Deep records pass or fail as in record-by-record parsing: orjson writes at most 255 levels."""
    path = tmp_path / "in.json"
    path.write_text("[" + ", ".join(['{"x": [[1], [2]]}'] * 200 + [nested(depth)] + ['{"x": 3}'] * 5) + "]")
    by_runs = outcome(path, 50, parse_runs=True)
    by_records = outcome(path, 50, parse_runs=False)
    assert by_runs == by_records
    if depth == 300:
        assert by_runs == f"FormatError: {path}: line 1: record 201: {json_format._TOO_DEEP}"
    else:
        assert len(by_runs) == 206


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1},\n{"a": 2},\n5]', "line 3: record 3: expected a JSON object, got a number"),
        ('[{"a": 1},\n{"a": 2},\n{"a": NaN}, {"a": 1}, {"a": 2}]', None),
        ('[{"a": 1},\n{"a": 2}\n{"a": 3}]', "line 3: expected ',' or ']' after a record"),
        ('[{"a": 1},\n{"a": "\\udc00"}]', "line 2: record 2: a string contains an unpaired UTF-16"),
        ('[{"a": 1},\n{"a": 2},\n]', "line 3: record 3: invalid JSON: Expecting value"),
        ('[{"a": 1}]\n{"a": 2}', "line 2: extra data after the top-level array"),
    ],
)
def test_bad_record_reported_as_before(tmp_path, text, message):
    path = tmp_path / "in.json"
    path.write_text(text)
    by_runs = outcome(path, 2, parse_runs=True)
    assert by_runs == outcome(path, 2, parse_runs=False)
    if message is None:
        assert by_runs[2] == b'{"a":NaN}'
    else:
        assert isinstance(by_runs, str)
        assert message in by_runs


def test_negative_zero_inside_strings_keeps_runs(tmp_path, monkeypatch):
    """Text like "B-0" in a string is not the number -0, so its runs stay with msgspec."""
    rows = [f'{{"id": {n}, "code": "B-0", "date": "2024-01-0{n % 9 + 1}"}}' for n in range(2000)]
    path = tmp_path / "in.json"
    path.write_text("[" + ",\n".join(rows) + "]")
    monkeypatch.setattr(json_format, "READ_CHUNK", 4096)
    calls = count_record_parses(monkeypatch)
    records = read_records(path, 500, parse_runs=True)
    assert records[1999] == b'{"id":1999,"code":"B-0","date":"2024-01-02"}'
    assert calls[0] <= path.stat().st_size // 4096 + 1
