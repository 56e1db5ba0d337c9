"""JSON and JSONL: exact numbers, key order, absent keys, streaming and error lines."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.errors import FormatError
from maskme.formats import read_field_batches
from maskme.formats.json import JsonArrayReader, JsonLinesReader

KEEP = {"version": 1, "default": "keep"}


def run(tmp_path: Path, name: str, data: bytes, policy=KEEP, **options) -> bytes:
    source = tmp_path / name
    source.write_bytes(data)
    target = tmp_path / ("out" + source.suffix)
    maskme.mask(source, policy, target, **options)
    return target.read_bytes()


def test_jsonl_numbers_and_order_exact(tmp_path):
    line = (
        '{"z":1.10,"a":123456789012345678901234567890,"m":-0.0,"e":1e2,'
        '"s":"caf\u00e9 \U0001f44d","n":null,"b":true,"o":{"y":[1,2.50]}}'
    )
    out = run(tmp_path, "in.jsonl", (line + "\n").encode())
    assert out.decode() == line + "\n"


def test_jsonl_blank_lines_ignored(tmp_path):
    out = run(tmp_path, "in.jsonl", b'{"a":1}\n\n   \n{"a":2}\n')
    assert out == b'{"a":1}\n{"a":2}\n'


def test_jsonl_malformed_line_number(tmp_path):
    with pytest.raises(FormatError, match=r"line 3: invalid JSON at column \d+"):
        run(tmp_path, "in.jsonl", b'{"a":1}\n\n{"a": secret-value}\n')


def test_jsonl_error_does_not_echo_value(tmp_path):
    with pytest.raises(FormatError) as caught:
        run(tmp_path, "in.jsonl", b'{"ssn": "123-45-6789"\n')
    assert "123-45-6789" not in str(caught.value)


def test_jsonl_non_object_line(tmp_path):
    with pytest.raises(FormatError, match="line 2: expected a JSON object, got an array"):
        run(tmp_path, "in.jsonl", b'{"a":1}\n[1,2]\n')


def test_json_array_round_trip_values(tmp_path):
    records = [{"id": "007", "amount": 1.5, "nested": {"k": [1, {"x": None}]}}, {"id": "008"}]
    data = json.dumps(records, indent=2).encode()
    out = run(tmp_path, "in.json", data)
    assert json.loads(out) == records


def test_json_array_streams_in_small_reads(tmp_path, monkeypatch):
    import maskme.formats.json as json_format

    monkeypatch.setattr(json_format, "READ_CHUNK", 7)
    records = [{"id": i, "text": "x" * (i % 13), "v": 10.25} for i in range(200)]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records))
    got = [r for batch in JsonArrayReader(source).batches(16) for r in batch.records]
    assert len(got) == 200
    assert json.loads(json_format.dump_record(got)) == records


def test_json_array_long_record_reads_double(tmp_path, monkeypatch):
    import maskme.formats.json as json_format

    # A record is parsed again from its start after each read. With 1 KiB reads,
    # a 1 MiB record took about a thousand reads and parses; doubling takes about ten.
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    records = [{"id": 1, "text": "y" * (1 << 20), "list": list(range(50_000))}, {"id": 2}]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records))
    reader = JsonArrayReader(source, parse_runs=False)
    reads = []
    original = json_format._ArrayScanner._read_more

    def counted(scanner, size=None):
        reads.append(size)
        original(scanner, size)

    monkeypatch.setattr(json_format._ArrayScanner, "_read_more", counted)
    got = [record for batch in reader.batches(16) for record in batch.records]
    assert json.loads(json_format.dump_record(got)) == records
    assert len(reads) < 20
    assert reader.bytes_read == source.stat().st_size


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1}', "expected a top-level array.*--format jsonl"),
        (b'[{"a": 1}, 5]', "record 2: expected a JSON object, got a number"),
        (b'[{"a": 1} {"a": 2}]', "expected ',' or ']'"),
        (b'[{"a": 1},', "unexpected end of file"),
        (b'[{"a": 1}] x', "extra data after the top-level array"),
        (b'[\n{"a": 1},\n{"a": }\n]', "line 3: record 2: invalid JSON"),
    ],
)
def test_json_array_errors(tmp_path, data, message):
    with pytest.raises(FormatError, match=message):
        run(tmp_path, "in.json", data)


@pytest.mark.parametrize("data", [b"", b"  \n\n", b"\xef\xbb\xbf"])
def test_json_empty_file_message(tmp_path, data):
    with pytest.raises(FormatError, match=r"the file is empty; a JSON file must contain a top-level array"):
        run(tmp_path, "in.json", data)


def test_json_empty_array(tmp_path):
    assert json.loads(run(tmp_path, "in.json", b"[]")) == []


def test_json_drop_nested_and_arrays(tmp_path):
    records = [
        {"id": 1, "customer": {"email": "a@x.org", "name": "A"}, "orders": [{"card": "1", "n": 1}, {"card": "2"}]},
        {"id": 2, "orders": []},
    ]
    policy = {
        "version": 1,
        "default": "keep",
        "fields": {"customer.email": {"strategy": "drop"}, "orders[*].card": {"strategy": "drop"}},
    }
    out = run(tmp_path, "in.jsonl", "\n".join(json.dumps(r) for r in records).encode(), policy)
    got = [json.loads(line) for line in out.splitlines()]
    assert got == [
        {"id": 1, "customer": {"name": "A"}, "orders": [{"n": 1}, {}]},
        {"id": 2, "orders": []},
    ]


@pytest.mark.parametrize("name", ["in.jsonl", "in.json"])
def test_json_drop_object_and_array_values(tmp_path, name):
    records = [{"id": 1, "address": {"zip": "02139"}, "tags": ["a", {"b": 2}]}, {"id": 2, "address": None}]
    policy = {"version": 1, "default": "keep", "fields": {"address": "drop", "tags": "drop"}}
    data = (
        json.dumps(records).encode()
        if name == "in.json"
        else "\n".join(json.dumps(r) for r in records).encode()
    )
    out = run(tmp_path, name, data, policy)
    got = json.loads(out) if name == "in.json" else [json.loads(line) for line in out.splitlines()]
    assert got == [{"id": 1}, {"id": 2}]


def test_json_default_drop_keeps_listed_paths(tmp_path):
    records = [{"id": 1, "customer": {"email": "e", "name": "A"}, "secret": "s"}]
    policy = {"version": 1, "default": "drop", "fields": {"customer.name": {"strategy": "keep"}}}
    out = run(tmp_path, "in.jsonl", json.dumps(records[0]).encode())
    assert json.loads(out) == records[0]
    out = run(tmp_path, "in.jsonl", json.dumps(records[0]).encode(), policy)
    assert json.loads(out) == {"customer": {"name": "A"}}


def test_json_path_matching_nothing_writes_nothing(tmp_path):
    policy = {"version": 1, "default": "keep", "fields": {"emial": {"strategy": "drop"}}}
    source = tmp_path / "in.jsonl"
    source.write_text('{"email": "x"}\n')
    target = tmp_path / "out.jsonl"
    with pytest.raises(maskme.PolicyError, match="field 'emial' matches nothing"):
        maskme.mask(source, policy, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_read_field_batches_json(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"age": 39, "c": {"z": "02139"}}\n{"age": null}\n{}\n')
    (frame,) = list(read_field_batches(source, ["age", "c.z"]))
    assert frame.rows() == [("39", "02139"), (None, None), (None, None)]


json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=8),
    st.sampled_from(["1.10", "007", ""]),
)
json_record = st.dictionaries(
    st.text(min_size=1, max_size=5), st.one_of(json_scalar, st.lists(json_scalar, max_size=3)), max_size=5
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(json_record, max_size=15), batch_size=st.sampled_from([1, 7, 1000]))
def test_jsonl_round_trip_property(tmp_path, records, batch_size):
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    out = run(tmp_path, "in.jsonl", data, batch_size=batch_size)
    assert [json.loads(line) for line in out.splitlines()] == records
    assert list(JsonLinesReader(tmp_path / "in.jsonl").batches(batch_size)) is not None


@pytest.mark.parametrize(
    ("path", "line", "message"),
    [
        ("customer.email", '{"customer": [{"email": "LIST-SECRET"}]}',
         r"record 2, field `customer.email`: `customer` is an array.*`customer\[\*\]` walks"),
        ("customer.email", '{"customer": "STR-SECRET"}', "`customer` is a string"),
        ("orders[*].card", '{"orders": {"card": "OBJ-SECRET"}}', "`orders` is an object, but the policy path expects an array"),
        ("orders[*].card", '{"orders": ["ELEMENT-SECRET"]}', r"`orders\[\*\]` is a string"),
    ],
)
def test_json_unexpected_shape_stops_run(tmp_path, path, line, message):
    policy = {"version": 1, "default": "drop", "fields": {path: {"strategy": "drop"}}}
    source = tmp_path / "in.jsonl"
    source.write_text('{"customer": {"email": "a"}, "orders": [{"card": "1"}]}\n' + line + "\n")
    target = tmp_path / "out.jsonl"
    with pytest.raises(maskme.RecordError, match=message) as caught:
        maskme.mask(source, policy, target)
    assert "SECRET" not in str(caught.value)
    assert not target.exists()


def test_json_null_parent_is_absent(tmp_path):
    policy = {"version": 1, "default": "keep", "fields": {"orders[*].card": {"strategy": "drop"}}}
    out = run(tmp_path, "in.jsonl", b'{"orders": null}\n{"orders": [null, {"card": "1", "n": 2}]}\n', policy)
    assert [json.loads(line) for line in out.splitlines()] == [
        {"orders": None},
        {"orders": [None, {"n": 2}]},
    ]


def test_json_dotted_top_level_key_matches(tmp_path):
    policy = {"version": 1, "default": "drop", "fields": {"customer.email": {"strategy": "keep"}}}
    out = run(tmp_path, "in.jsonl", b'{"customer.email": "a@x", "other": 1}\n', policy)
    assert json.loads(out) == {"customer.email": "a@x"}
    policy["fields"]["customer.email"] = {"strategy": "drop"}
    out = run(tmp_path, "in.jsonl", b'{"customer.email": "a@x", "other": 1}\n',
              {**policy, "default": "keep"})
    assert json.loads(out) == {"other": 1}


def test_json_default_drop_removes_scalar_in_place_of_object(tmp_path):
    policy = {"version": 1, "default": "drop", "quasi_identifiers": ["customer.zip"]}
    out = run(tmp_path, "in.jsonl", b'{"customer": "SCALAR", "x": 1}\n{"customer": {"zip": "021", "y": 2}}\n', policy)
    assert [json.loads(line) for line in out.splitlines()] == [{}, {"customer": {"zip": "021"}}]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("in.jsonl", b'{"a": "\\ud800x"}\n', "line 1: a string contains an unpaired UTF-16 surrogate"),
        ("in.json", b'[{"a": "\\udfff"}]', "record 1: a string contains an unpaired UTF-16 surrogate"),
        ("in.jsonl", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "line 1: nested too deeply"),
        ("in.jsonl", b'{"a": ' + b"[" * 400 + b"]" * 400 + b"}\n", "line 1: nested too deeply"),
    ],
)
def test_json_unwritable_input_fails_cleanly(tmp_path, name, data, message):
    with pytest.raises(FormatError, match=message):
        run(tmp_path, name, data)


def test_json_escaped_emoji_pair_kept(tmp_path):
    out = run(tmp_path, "in.jsonl", b'{"a": "\\ud83d\\ude00"}\n')
    assert json.loads(out) == {"a": "\U0001f600"}


def test_json_dotted_key_and_nested_value_both_masked(tmp_path):
    policy = {"version": 1, "default": "keep", "fields": {"customer.email": {"strategy": "redact"}}}
    out = run(tmp_path, "in.jsonl", b'{"customer.email": "DOT", "customer": {"email": "NESTED"}}\n', policy)
    assert json.loads(out) == {"customer.email": "***", "customer": {"email": "******"}}


def test_json_keep_leaves_objects_alone(tmp_path):
    policy = {"version": 1, "default": "drop", "fields": {"customer": "keep", "tags": "keep"}}
    out = run(tmp_path, "in.jsonl", b'{"customer": {"n": 1.10}, "tags": [1, "a"], "x": 1}\n', policy)
    assert out == b'{"customer":{"n":1.10},"tags":[1,"a"]}\n'


def test_json_strategy_on_object_rejected(tmp_path):
    policy = {"version": 1, "default": "keep", "fields": {"customer": {"strategy": "redact", "keep_last": 3}}}
    with pytest.raises(maskme.RecordError, match="record 1, field `customer`: the value is an object") as caught:
        run(tmp_path, "in.jsonl", b'{"customer": {"email": "SECRET@x.org"}}\n', policy)
    assert "SECRET" not in str(caught.value)


def test_json_array_invalid_utf8_names_line(tmp_path):
    source = tmp_path / "big.json"
    records = ",\n".join(f'{{"id": {n}, "name": "plain"}}' for n in range(1, 60000))
    source.write_bytes(b"[\n" + records.encode() + b',\n{"id": 60000, "name": "caf\xe9"}\n]\n')
    with pytest.raises(FormatError, match=r"line 60,001: not valid UTF-8; pass --encoding") as caught:
        maskme.mask(source, {"version": 1, "default": "keep"}, tmp_path / "out.json")
    assert "caf" not in str(caught.value)


def test_jsonl_invalid_utf8_suggests_encoding(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": 1}\n{"name": "caf\xe9"}\n')
    with pytest.raises(FormatError, match=r"line 2: not valid UTF-8 at byte \d+; pass --encoding"):
        maskme.mask(source, {"version": 1, "default": "keep"}, tmp_path / "out.jsonl")


@pytest.mark.parametrize("path", ["v", "a.v"])
def test_kept_invalid_values_keep_json_type(tmp_path, path):
    """A value a text strategy returns unchanged (on_invalid: keep) stays a number or boolean."""
    policy = {"version": 1, "default": "keep",
              "fields": {path: {"strategy": "generalize", "interval": 10, "on_invalid": "keep"}}}
    values = [b"9007199254740993.5", b"true", b"15", b'"x"', b"1.10", b"null", b"false"]
    if path == "v":
        lines = [b'{"v": ' + value + b"}" for value in values] + [b'{"w": 1}']
    else:
        lines = [b'{"a": {"v": ' + value + b"}}" for value in values] + [b'{"a": {}}']
    out = run(tmp_path, "in.jsonl", b"\n".join(lines) + b"\n", policy)
    records = [json.loads(line) for line in out.splitlines()]
    found = [record.get("v") if path == "v" else record["a"].get("v") for record in records]
    assert found == [9007199254740993.5, True, "[10, 20)", "x", "[0, 10)", None, False, None]
    assert b"9007199254740993.5" in out
    assert b'"true"' not in out
