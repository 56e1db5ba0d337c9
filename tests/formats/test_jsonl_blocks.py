"""The JSONL reader parses blocks of lines with msgspec: it must read exactly what the line parser reads."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
import maskme.formats.json as json_format
from maskme.errors import FormatError
from maskme.formats import JSON_BATCH_SIZE
from maskme.formats.base import Reader
from maskme.formats.json import JsonLinesReader, dump_record

# Number texts that a parser could change: -0, trailing zeros, exponents, and
# integers at and past the 64-bit limits.
NUMBER_TEXTS = [
    "0", "-0", "-0.0", "-0e1", "1.10", "1e3", "1E-5", "2.50e+10", "7",
    "9223372036854775807", "-9223372036854775808", "18446744073709551615",
    "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",
]
# Lines that are blank for the line parser, or that it rejects; the last
# three are records split over two lines.
ODD_LINES = [
    "", "   ", "\t", "\r", '{"a":', "1}", "[1]", "5", '"text"', '{"a":1} {"b":2}', '{"a":1}{"b":2}',
    '{"a":NaN}', '{"a":"\\ud800"}', '{"a":"\\udc00x"}', '{"a":1}x', '{"a":01}', "{} ", "\x0c",
    '{"a":\n1}', '{"a":[1,\n2]}', '{"a"\n:1}',
]

scalar_text = st.one_of(
    st.sampled_from(NUMBER_TEXTS),
    st.sampled_from(["true", "false", "null"]),
    st.text(max_size=6).map(lambda text: json.dumps(text, ensure_ascii=False)),
    st.text(max_size=6).map(json.dumps),
)
value_text = st.recursive(
    scalar_text,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from("abc"), inner), max_size=3).map(
            lambda pairs: "{" + ",".join(f'"{key}":{value}' for key, value in pairs) + "}"
        ),
    ),
    max_leaves=6,
)
# Keys from a small alphabet, so that records repeat a key now and then.
record_text = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "é", "a.b"]), value_text, st.sampled_from([",", ", "])),
    max_size=5,
).map(lambda pairs: "{" + "".join(f'"{key}": {value}{sep}' for key, value, sep in pairs).rstrip(", ") + "}")
line_text = st.one_of(record_text, st.sampled_from(ODD_LINES))


def read_by_blocks(path: Path, batch_size: int) -> list[bytes]:
    return read_batches(JsonLinesReader(path), path, batch_size)


def read_batches(reader: Reader, path: Path, batch_size: int) -> list[bytes]:
    """Read every batch, check their sizes, first record numbers and bytes read, and dump the records."""
    dumped = []
    expected_first = 1
    for batch in reader.batches(batch_size):
        assert batch.first_record == expected_first
        assert 1 <= batch.length <= batch_size
        expected_first += batch.length
        dumped.extend(dump_record(record) for record in batch.records)
    assert reader.bytes_read == path.stat().st_size
    return dumped


def read_by_lines(path: Path) -> list[bytes]:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    reader = JsonLinesReader(path)
    return [dump_record(record) for record in reader._parse_lines(data, 1)]


def outcome(read, *args):
    try:
        return read(*args)
    except FormatError as error:
        return f"FormatError: {error}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(line_text, max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    bom=st.booleans(),
    chunk=st.sampled_from([1, 7, 64, 1 << 20, 1 << 20]),
    batch_size=st.sampled_from([1, 3, 1000]),
)
def test_blocks_read_like_lines(tmp_path, monkeypatch, lines, newline, final_newline, bom, chunk, batch_size):
    text = newline.join(lines) + (newline if final_newline and lines else "")
    path = tmp_path / "in.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass"))
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)

    by_blocks = outcome(read_by_blocks, path, batch_size)
    by_lines = outcome(read_by_lines, path)

    assert by_blocks == by_lines


def test_numbers_keep_their_text(tmp_path):
    line = "{" + ",".join(f'"n{index}":{text}' for index, text in enumerate(NUMBER_TEXTS)) + "}\n"
    source = tmp_path / "in.jsonl"
    source.write_text(line * 3)
    target = tmp_path / "out.jsonl"
    maskme.mask(source, {"version": 1, "default": "keep"}, target)
    assert target.read_text() == line * 3


def test_integer_of_5000_digits_kept(tmp_path):
    line = '{"n":' + "9" * 5000 + ',"s":"x"}\n'
    source = tmp_path / "in.jsonl"
    source.write_text(line)
    target = tmp_path / "out.jsonl"
    maskme.mask(source, {"version": 1, "default": "keep", "fields": {"s": "drop"}}, target)
    assert target.read_text() == '{"n":' + "9" * 5000 + "}\n"


def test_line_longer_than_read_chunk(tmp_path):
    long_text = "x" * (3 * json_format.READ_CHUNK + 5)
    source = tmp_path / "in.jsonl"
    source.write_text('{"a":1}\n{"a":2,"s":"' + long_text + '"}\n{"a":3}')
    reader = JsonLinesReader(source)
    records = [record for batch in reader.batches(2) for record in batch.records]
    assert [record["a"] for record in records] == [1, 2, 3]
    assert records[1]["s"] == long_text
    assert reader.bytes_read == source.stat().st_size


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1}\n{"a":2} {"a":3}\n', "line 2: extra data after the JSON object"),
        (b'{"a":1} {"a":2}\n\n{"a":3}\n', "line 1: extra data after the JSON object"),
        (b'{"a":\n1}\n', "line 1: invalid JSON at column"),
        (b'{"a":1}\n{"a":\n2}\n{"a":3} {"b":4}\n', "line 2: invalid JSON at column"),
        (b'{"a":1}\n\n5\n', "line 3: expected a JSON object, got a number"),
        (b'{"a":1}\n{"a":"\\udc00"}\n', "line 2: a string contains an unpaired UTF-16 surrogate"),
    ],
)
def test_bad_line_reported_by_number(tmp_path, data, message):
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    with pytest.raises(FormatError, match=message):
        maskme.mask(source, {"version": 1, "default": "keep"}, tmp_path / "out.jsonl")


def test_noise_output_stays_numbers(tmp_path):
    """Integers and decimals that a number strategy rewrites are written as JSON numbers."""
    policy = {
        "version": 1,
        "default": "keep",
        "fields": {
            "age": {"strategy": "noise", "scale": 0.001, "round": 0},
            "income": {"strategy": "noise", "scale": 0.001, "round": 2},
            "mixed": {"strategy": "noise", "scale": 0.001, "round": 0},
        },
    }
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"age":40,"income":1000.5,"mixed":3}\n{"age":41,"income":2000.25,"mixed":null}\n'
    )
    target = tmp_path / "out.jsonl"
    maskme.mask(source, policy, target)
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [record["age"] for record in records] == [40, 41]
    assert [record["income"] for record in records] == [1000.5, 2000.25]
    assert [record["mixed"] for record in records] == [3, None]


def test_json_batch_size_default(tmp_path, monkeypatch):
    """JSON runs default to JSON_BATCH_SIZE; a batch size given or MASKME_BATCH_SIZE wins."""
    sizes = []
    original = JsonLinesReader.batches

    def recording(self, batch_size):
        sizes.append(batch_size)
        return original(self, batch_size)

    monkeypatch.setattr(JsonLinesReader, "batches", recording)
    monkeypatch.delenv("MASKME_BATCH_SIZE", raising=False)
    source = tmp_path / "in.jsonl"
    source.write_text('{"a":1}\n')
    keep = {"version": 1, "default": "keep"}
    maskme.mask(source, keep, tmp_path / "default.jsonl")
    maskme.mask(source, keep, tmp_path / "given.jsonl", batch_size=5)
    monkeypatch.setenv("MASKME_BATCH_SIZE", "7")
    maskme.mask(source, keep, tmp_path / "environment.jsonl")
    assert sizes == [JSON_BATCH_SIZE, 5, 7]


def test_batches_before_bad_line_come_first(tmp_path):
    """Full batches before a malformed line are yielded before its error, as line by line."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f'{{"a":{n}}}\n' for n in range(5)) + "not json\n" + '{"a":9}\n')
    seen = []
    with pytest.raises(FormatError, match="line 6: invalid JSON"):
        for batch in JsonLinesReader(source).batches(2):
            seen.append([record["a"] for record in batch.records])
    assert seen == [[0, 1], [2, 3]]
