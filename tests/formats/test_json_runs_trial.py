"""Hostile inputs for the JSON array reader's msgspec runs.

Every case reads the same file twice, in runs and record by record
(``parse_runs=False``, the reference), and expects the same batches, the same
dumped records, the same ``bytes_read`` and the same error. Cases that fail
today are marked xfail with the reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
import maskme.formats.json as json_format
from maskme import formats
from maskme.errors import MaskMeError
from maskme.formats.json import MAX_RECORD_BYTES, JsonArrayReader, dump_record
from tests.conftest import run_cli

KEYS = {"k": {"env": "MASKME_KEY"}}


def read_all(path: Path, batch_size: int, *, parse_runs: bool) -> tuple[Any, ...]:
    """Return each batch's first record number and dumped records, then bytes_read, or the error."""
    reader = JsonArrayReader(path, parse_runs=parse_runs)
    batches = []
    try:
        for batch in reader.batches(batch_size):
            batches.append((batch.first_record, [dump_record(record) for record in batch.records]))
    except MaskMeError as error:
        return ("error", f"{type(error).__name__}: {error}")
    return ("records", batches, reader.bytes_read)


def both_ways(path: Path, batch_size: int = 3) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return read_all(path, batch_size, parse_runs=True), read_all(path, batch_size, parse_runs=False)


def assert_read_alike(path: Path, batch_size: int = 3) -> tuple[Any, ...]:
    by_runs, by_records = both_ways(path, batch_size)
    assert by_runs == by_records
    if by_runs[0] == "records":
        assert by_runs[2] == path.stat().st_size
    return by_runs


class RecordByRecordReader(JsonArrayReader):
    """The reference reader, as ``open_input`` constructs it."""

    def __init__(self, path: Path, *, parse_runs: bool = False) -> None:
        super().__init__(path, parse_runs=False)


def mask_outcome(source: Path, policy: dict, target: Path, **options: Any) -> bytes | str:
    try:
        maskme.mask(source, policy, target, **options)
    except MaskMeError as error:
        assert not target.exists()
        return f"{type(error).__name__}: {error}"
    return target.read_bytes()


def mask_both_ways(
    source: Path, policy: dict, suffix: str, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> tuple[bytes | str, bytes | str]:
    by_runs = mask_outcome(source, policy, source.parent / ("runs" + suffix), **options)
    monkeypatch.setattr(formats, "JsonArrayReader", RecordByRecordReader)
    by_records = mask_outcome(source, policy, source.parent / ("records" + suffix), **options)
    monkeypatch.setattr(formats, "JsonArrayReader", JsonArrayReader)
    return by_runs, by_records


# -- generated arrays ---------------------------------------------------------------

# Each element is one hostile case, and its comment names what it aims at.
ELEMENTS = [
    '{"a": 1}',
    "{}",
    '{"s": "}, {"}',  # a record end inside a string
    '{"s": "\\"}, {\\""}',  # escaped quotes before a brace
    '{"s": "\\\\"}',  # an escaped backslash before the closing quote
    '{"s": "\\\\\\"}, "}',  # backslash, then an escaped quote, then a brace
    '{"k}, {": "v]", "x": "},"}',  # braces and brackets inside keys
    '{"a": [{"b": 1}, {"c": "}]"}]}',  # a nested array of objects
    '{"a": {"b": {}}, "c": [{}]}',
    '{"n": -0}',
    '{"n": -0.0}',
    '{"n": -0e0}',
    '{"n": 1e-0}',
    '{"n": 1.10}',
    '{"n": 1E400}',
    '{"n": 18446744073709551616}',  # past 64 bits
    '{"n": ' + "9" * 4300 + "}",  # the maximum digits Python converts to an int
    '{"n": ' + "9" * 5000 + "}",  # past Python's conversion limit
    '{"n": NaN}',
    '{"n": -Infinity}',
    '{"s": "\\ud800"}',  # a lone high surrogate
    '{"s": "\\udc00\\ud800"}',  # a reversed pair
    '{"s": "\\ud800\\u0041"}',
    '{"s": "\\ud83d\\ude00"}',  # a valid pair
    '{"s": "é€😀"}',
    '{"s": "\x01"}',  # a raw control character
    '{"s": "\x7f\u2028"}',
    '{"a": 1, "a": 2}',  # a duplicate key
    '{"a":\f1}',
    '{"a":\v1}',
    '{"a":\u00a01}',
    '{"a": 1}\ufeff',
    '{"a": 01}',
    '{"a":',
    "{",
    "}",
    '{"a": 1}}',
    "5",
    '"x"',
    "null",
    "[]",
    '[{"a": 1}]',
    '{"d": ' + "[" * 260 + "]" * 260 + "}",
    '{"d": ' + "[" * 253 + "]" * 253 + "}",
    '{"s": "' + "[" * 300 + '"}',  # many brackets, but shallow
]
SEPARATORS = [",", ", ", ",\n", "\n,\n", " ,\r\n  ", "\t,\t", ",\f", ",\v", ",\u00a0", ", ,", ""]
CLOSINGS = ["]", "\n]\n", "]x", "", ",]", "] ]", "]\u00a0", "] {}", "]\f", "]\r\n"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    elements=st.lists(st.sampled_from(ELEMENTS), max_size=14),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=14, max_size=14),
    opening=st.sampled_from(["[", " [", "\r\n[\n", "\ufeff["]),
    closing=st.sampled_from(CLOSINGS),
    bom=st.booleans(),
    chunk=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]),
    max_record_factor=st.sampled_from([None, 1, 3]),
    batch_size=st.sampled_from([1, 3, 1000]),
)
def test_hostile_arrays_read_alike(
    tmp_path, monkeypatch, elements, separators, opening, closing, bom, chunk, max_record_factor, batch_size
):
    body = "".join(element + (separators[index] if index < len(elements) - 1 else "")
                   for index, element in enumerate(elements))
    path = tmp_path / "in.json"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (opening + body + closing).encode())
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
    # Set on every example, because monkeypatch undoes it only after the last one.
    # The limit is never below the chunk size: see test_max_record_below_chunk_differs.
    limit = MAX_RECORD_BYTES if max_record_factor is None else chunk * max_record_factor
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", limit)
    assert_read_alike(path, batch_size)


TRICKY_ARRAY = (
    '[{"s": "}, {", "k]": "\\\\"},\r\n{"n": -0, "m": 1.10},\f{"e": "é😀€", "z": "\\"}, "},\n'
    '{"a": [{"b": {}}, {"c": "}]"}]} ,\n{"u": "\\ud83d\\ude00", "x": 1E400}, {}]\n'
)


def test_every_prefix_read_alike(tmp_path, monkeypatch):
    """A file cut at any byte (a truncated download) fails or reads the same both ways."""
    data = TRICKY_ARRAY.replace("\f", " ").encode()
    path = tmp_path / "in.json"
    monkeypatch.setattr(json_format, "READ_CHUNK", 7)
    for end in range(len(data) + 1):
        path.write_bytes(data[:end])
        by_runs = assert_read_alike(path)
        if end < len(data.rstrip()):
            assert by_runs[0] == "error", end


def test_every_chunk_size_read_alike(tmp_path, monkeypatch):
    """Each brace, escape and multi-byte character falls on a read boundary for some chunk size."""
    data = TRICKY_ARRAY.replace("\f", " ").encode()
    path = tmp_path / "in.json"
    path.write_bytes(data)
    for chunk in range(1, len(data) + 2):
        monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
        by_runs = assert_read_alike(path, batch_size=2)
        assert by_runs[0] == "records"
        assert [first for first, _ in by_runs[1]] == [1, 3, 5]
        assert by_runs[1][0][1][1] == b'{"n":-0,"m":1.10}'


def test_invalid_utf8_in_valid_array(tmp_path, monkeypatch):
    """A bad byte anywhere in an otherwise valid array gives the same error both ways."""
    data = TRICKY_ARRAY.replace("\f", " ").encode()
    path = tmp_path / "in.json"
    monkeypatch.setattr(json_format, "READ_CHUNK", 16)
    for position in range(1, len(data) - 1):
        for bad in (b"\xff", b"\xed\xa0\x80", b"\xc3"):
            path.write_bytes(data[:position] + bad + data[position:])
            by_runs = assert_read_alike(path)
            # Some positions split a character: those are invalid UTF-8 too.
            assert by_runs[0] == "error"


# Nested braces, multi-byte characters, and an escaped quote and backslash before the brace.
@pytest.mark.parametrize("template", ['{"p": {"q": "PAD"}}', '{"p": "PADé😀"}', '{"p": "PAD\\"}\\\\"}'])
def test_real_chunk_boundary_read_alike(tmp_path, template):
    """A record's last bytes (braces, a multi-byte character) on each side of the real 1 MiB read boundary."""
    record = '{"id": 1, "s": "} , {"},\n'
    head = "[" + record * ((json_format.READ_CHUNK - 300) // len(record))
    path = tmp_path / "in.json"
    for shift in range(-6, 3):
        # The padded record's last byte is ``shift`` bytes from the boundary's last byte.
        padding = json_format.READ_CHUNK - 1 + shift - len(head.encode()) - len(template.encode()) + 4
        padded = template.replace("PAD", "x" * padding)
        path.write_text(head + padded + ",\n" + record * 3 + '{"end": 1}]')
        assert len(head.encode()) + len(padded.encode()) - 1 == json_format.READ_CHUNK - 1 + shift
        by_runs = assert_read_alike(path, batch_size=1000)
        assert by_runs[0] == "records"
        assert by_runs[1][-1][1][-1] == b'{"end":1}'


# -- numbers --------------------------------------------------------------------------

NUMBER_TEXTS = [
    "0", "-0", "-0.0", "0.0", "-0e0", "-0E-0", "1.10", "1E400", "-1e-400", "1e-0", "2.5E+3",
    "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "-9223372036854775809", "1" + "0" * 40, "9" * 4300, "-" + "9" * 4300, "9" * 5000,
    "1" + "0" * 400 + ".5",
]


@pytest.mark.parametrize("text", NUMBER_TEXTS)
def test_number_text_read_alike(tmp_path, text):
    path = tmp_path / "in.json"
    path.write_text('[{"a": 1},\n{"n": ' + text + ', "m": [' + text + "]},\n" + '{"b": 2}]')
    by_runs = assert_read_alike(path)
    assert by_runs[1][0][1][1] == f'{{"n":{text},"m":[{text}]}}'.encode()


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv"])
@pytest.mark.parametrize(
    "strategy",
    [
        "keep",
        {"strategy": "hash", "key": "k", "length": 12},
        {"strategy": "redact", "keep_last": 2},
        {"strategy": "noise", "scale": 3, "round": 0, "seed": 5, "on_invalid": "keep"},
        {"strategy": "generalize", "interval": 10, "on_invalid": "keep"},
        {"strategy": "generalize", "prefix": 3},
    ],
)
def test_masked_numbers_same_output(tmp_path, monkeypatch, key_env, suffix, strategy):
    """Integers arrive as ints from runs and as text from the reference: every output must match."""
    texts = [*NUMBER_TEXTS[:17], "null", '"x"', "true", "7"]
    source = tmp_path / "in.json"
    source.write_text("[" + ",\n".join(f'{{"a": {text}, "b": {text}}}' for text in texts) + "]")
    policy = {"version": 1, "default": "keep", "keys": KEYS, "fields": {"a": strategy}}
    by_runs, by_records = mask_both_ways(source, policy, suffix, monkeypatch, batch_size=4)
    assert by_runs == by_records
    assert isinstance(by_runs, bytes)


def test_measure_same_both_ways(tmp_path, monkeypatch):
    source = tmp_path / "in.json"
    rows = [f'{{"age": {20 + n % 7}, "zip": "0213{n % 3}", "d": {"-0" if n == 5 else n % 4}, "s": "}}, {{"}}'
            for n in range(300)]
    source.write_text("[" + ",\r\n".join(rows) + "]")
    monkeypatch.setattr(json_format, "READ_CHUNK", 512)
    options = {"quasi_identifiers": ["age", "zip"], "sensitive_attributes": ["d"], "batch_size": 7}
    by_runs = maskme.measure(source, **options).to_dict()
    monkeypatch.setattr(formats, "JsonArrayReader", RecordByRecordReader)
    by_records = maskme.measure(source, **options).to_dict()
    assert by_runs == by_records
    assert by_runs != {}


# -- nesting and sizes -----------------------------------------------------------------


def nested_objects(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def nested_arrays(depth: int) -> str:
    return '{"a": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def nested_mixed(depth: int) -> str:
    half = (depth - 1) // 2
    return '{"a": ' + '[{"b": ' * half + "1" + "}]" * half + "}"


@pytest.mark.parametrize("shape", [nested_objects, nested_arrays, nested_mixed])
def test_deep_records_near_limit(tmp_path, shape):
    """Depths around orjson's limit of 255 levels, alone, among others and with shallow brackets in a string."""
    path = tmp_path / "in.json"
    others = ['{"x": [[1], [2]]}'] * 3
    outcomes = set()
    for depth in [*range(198, 203), *range(248, 262), 300]:
        for layout in ([shape(depth)], [*others, shape(depth), *others],
                       [*others, '{"s": "' + "[" * 300 + '"}', shape(depth)]):
            path.write_text("[" + ",\n".join(layout) + "]")
            outcomes.add(assert_read_alike(path, batch_size=2)[0])
    assert outcomes == {"records", "error"}


@pytest.mark.parametrize("shape", [nested_objects, nested_arrays])
def test_record_nested_100000_levels(tmp_path, shape):
    path = tmp_path / "in.json"
    path.write_text('[{"x": 1},\n' + shape(100_000) + ',\n{"y": 2}]')
    by_runs = assert_read_alike(path)
    assert by_runs == ("error", f"FormatError: {path}: line 2: record 2: {json_format._TOO_DEEP}")


@pytest.mark.parametrize("size", [3000, 4090, 4200, 9000])
def test_record_near_max_bytes(tmp_path, monkeypatch, size):
    """A record around MAX_RECORD_BYTES, among small ones, at every alignment to the read chunks."""
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 4096)
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    path = tmp_path / "in.json"
    big = '{"s": "' + "}, {" * ((size - 10) // 4) + '"}'
    outcomes = set()
    for lead in range(0, 1100, 97):
        path.write_text("[" + '{"a": 1},' * (lead // 9) + big + ',{"b": 2}]')
        outcomes.add(assert_read_alike(path)[0])
    # Between 4,096 and 5,120 bytes the outcome depends on where the chunks fall.
    if size < 4096:
        assert outcomes == {"records"}
    elif size > 4096 + 1024:
        assert outcomes == {"error"}


def test_max_record_below_chunk_same_message(tmp_path, monkeypatch):
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 50)
    monkeypatch.setattr(json_format, "READ_CHUNK", 64)
    path = tmp_path / "in.json"
    # The reference stops at byte 64 inside the string, the runs at byte 128 in the array.
    path.write_text('[{"a": 1},\n{"s": "' + "x" * 60 + '", "t": [' + "1, " * 60 + "1]}]")
    assert_read_alike(path)


def test_huge_array_of_tiny_records(tmp_path, monkeypatch):
    calls = [0]
    original = json_format._ArrayScanner._decode_record

    def counting(self, number):
        calls[0] += 1
        return original(self, number)

    path = tmp_path / "in.json"
    path.write_text("[" + ",".join(['{}', '{"a":1}', '{"b":[]}'] * 100_000) + "]")
    monkeypatch.setattr(json_format._ArrayScanner, "_decode_record", counting)
    by_runs = read_all(path, 16384, parse_runs=True)
    # At most the record that straddles each chunk boundary is parsed one by one.
    by_one = calls[0]
    assert by_one <= path.stat().st_size // json_format.READ_CHUNK + 1
    assert by_runs == read_all(path, 16384, parse_runs=False)
    assert calls[0] == by_one + 300_000
    assert [first for first, _ in by_runs[1]][-1] == 16384 * 18 + 1
    assert by_runs[1][-1][1][-1] == b'{"b":[]}'


# -- work done by the run search -------------------------------------------------------


class CountingRecordEnd:
    """Replacement for ``_RECORD_END`` that records the earliest position each run search tried."""

    def __init__(self) -> None:
        self.pattern = json_format._RECORD_END
        self.lowest = sys.maxsize

    def match(self, text: str, position: int) -> Any:
        self.lowest = min(self.lowest, position)
        return self.pattern.match(text, position)


def count_searched_characters(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sum, over the run searches, the characters between the earliest brace tried and the buffer end."""
    searched = [0]
    counter = CountingRecordEnd()
    original = json_format._ArrayScanner._run_end

    def run_end(self, start, end):
        counter.lowest = end
        found = original(self, start, end)
        searched[0] += end - counter.lowest
        return found

    monkeypatch.setattr(json_format, "_RECORD_END", counter)
    monkeypatch.setattr(json_format._ArrayScanner, "_run_end", run_end)
    return searched


def test_run_search_bounded_for_plain_records(tmp_path, monkeypatch):
    searched = count_searched_characters(monkeypatch)
    monkeypatch.setattr(json_format, "READ_CHUNK", 4096)
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"id": n, "s": "} , {" * (n % 5)} for n in range(5000)]))
    assert read_all(path, 1000, parse_runs=True)[0] == "records"
    assert searched[0] <= 2 * path.stat().st_size


def test_run_search_bounded_before_long_string(tmp_path, monkeypatch):
    """Small records, then a record longer than the buffer whose string contains many lone braces."""
    chunk = 4096
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
    searched = count_searched_characters(monkeypatch)
    spacing = chunk // 20
    big = '{"s": "' + ("x" * (spacing - 1) + "}") * 40 + '"}'
    path = tmp_path / "in.json"
    path.write_text("[" + '{"a":1},' * (chunk // 8) + big + "]")
    by_runs = read_all(path, 1000, parse_runs=True)
    assert by_runs == read_all(path, 1000, parse_runs=False)
    assert searched[0] <= 4 * path.stat().st_size


# -- invalid UTF-8 in the next chunk: runs must not read ahead of the reference ------------


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ('[{"a": 1},\n5,\n', "line 2: record 2: expected a JSON object, got a number"),
        ('[{"a": 1}\n{"a": 3},\n', "line 2: expected ',' or ']' after a record"),
        ('[{"a": 1},\n{"a": "\\udc00"},\n', "line 2: record 2: a string contains an unpaired UTF-16"),
    ],
)
def test_earlier_error_before_bad_utf8(tmp_path, monkeypatch, head, message):
    monkeypatch.setattr(json_format, "READ_CHUNK", 64)
    path = tmp_path / "in.json"
    # The bad byte is in the second 64-byte chunk, the earlier error in the first.
    path.write_bytes(head.encode() + b'{"a": 2},\n' * 6 + b'{"b": "\xff"}]')
    by_runs, by_records = both_ways(path)
    assert message in by_records[1]
    assert by_runs == by_records


def test_cli_non_object_before_bad_utf8(tmp_path):
    """The same through ``maskme mask`` with the real 1 MiB chunks."""
    record = b'{"id": 1, "name": "somebody"},\n'
    source = tmp_path / "in.json"
    source.write_bytes(b'[{"id": 0},\n5,\n' + record * ((1 << 20) // len(record) + 100) + b'{"b": "\xff"}]')
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    target = tmp_path / "out.json"
    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(target), "-q")
    assert result.returncode == 1
    assert not target.exists()
    assert b"line 2: record 2: expected a JSON object, got a number" in result.stderr


def test_record_error_before_bad_utf8(tmp_path, monkeypatch):
    """A policy error in the first batch comes before a bad byte in the next chunk, as in the reference."""
    record = b'{"a": {"b": "somebody"}, "id": 1},\n'
    source = tmp_path / "in.json"
    source.write_bytes(b'[{"a": "flat", "id": 0},\n' + record * ((1 << 20) // len(record) + 200)
                       + b'{"a": {"b": "\xff"}}]')
    policy = {"version": 1, "default": "keep", "fields": {"a.b": {"strategy": "redact"}}}
    by_runs, by_records = mask_both_ways(source, policy, ".json", monkeypatch, batch_size=2)
    assert by_records.startswith("RecordError: record 1, field `a.b`")
    assert by_runs == by_records


def test_bad_utf8_line_after_split_character(tmp_path, monkeypatch):
    path = tmp_path / "in.json"
    # The first chunk ends with two bytes of a three-byte character, and a
    # newline follows the bad byte.
    path.write_bytes(b'[{"a":"\xe2\x82\xac\xff\n"}]')
    monkeypatch.setattr(json_format, "READ_CHUNK", 9)
    by_runs, by_records = both_ways(path)
    assert by_runs == by_records
    expected = (f"FormatError: {path}: line 1: not valid UTF-8; pass --encoding with "
                "the file's encoding (for example latin-1 or cp1252)")
    assert by_runs == ("error", expected)


# -- through the command line --------------------------------------------------------


def test_cli_tricky_file_same_output(tmp_path, monkeypatch, key_env):
    """Output of ``maskme mask`` (in runs, over real 1 MiB chunks) equals the reference's, in each format."""
    rows = [
        f'{{"id": {n}, "s": "}}, {{\\"", "n": {"-0" if n % 997 == 0 else n}, "e": "é😀", "k}}]": [{{"b": "}}]"}}]}}'
        for n in range(30_000)
    ]
    source = tmp_path / "in.json"
    source.write_text("[" + ",\r\n".join(rows) + "\n]\n")
    assert source.stat().st_size > 2 << 20
    policy = {"version": 1, "default": "keep", "keys": KEYS,
              "fields": {"id": {"strategy": "hash", "key": "k", "length": 8}, "s": {"strategy": "redact"}}}
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy))
    for suffix in [".json", ".jsonl", ".csv"]:
        target = tmp_path / ("cli" + suffix)
        result = run_cli("mask", str(source), "-p", str(policy_file), "-o", str(target), "-q")
        assert result.returncode == 0, result.stderr
        monkeypatch.setattr(formats, "JsonArrayReader", RecordByRecordReader)
        expected = mask_outcome(source, policy, tmp_path / ("records" + suffix))
        monkeypatch.setattr(formats, "JsonArrayReader", JsonArrayReader)
        assert target.read_bytes() == expected


def test_cli_measure_json_like_jsonl(tmp_path):
    """``maskme measure`` reports the same for a JSON array (over 1 MiB, read in runs) as for its JSONL lines."""
    rows = [f'{{"age": {20 + n % 7}, "zip": "0213{n % 3}", "d": {"-0" if n % 50 == 0 else n % 4}, '
            f'"s": "}} , {{", "t": [{{"u": "}}]"}}]}}' for n in range(20_000)]
    array = tmp_path / "in.json"
    array.write_text("[" + ",\r\n".join(rows) + "]")
    assert array.stat().st_size > 1 << 20
    lines = tmp_path / "in.jsonl"
    lines.write_text("\n".join(rows) + "\n")
    reports = []
    for source in (array, lines):
        result = run_cli("measure", str(source), "-q", "age,zip", "-s", "d", "--ordered", "d", "--json")
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["records"] == 20_000


@pytest.mark.parametrize(
    "bad",
    [
        '{"a": "SECRETVALUE\x01"}',
        '{"SECRETKEY": 01}',
        '{"a": "SECRETVALUE", "b": NaN, "c": "\\ud800"}',
        '{"SECRETKEY": "x"} {"a": 1}',
        '"SECRETVALUE"',
    ],
)
def test_cli_errors_contain_no_data(tmp_path, bad):
    source = tmp_path / "in.json"
    source.write_text("[" + ",\n".join(['{"a": "} , {"}'] * 2000 + [bad] + ['{"a": 1}'] * 10) + "]")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(tmp_path / "out.jsonl"), "-q")
    assert result.returncode == 1
    assert b"record 2,001" in result.stderr or b"line 2,001" in result.stderr
    assert b"SECRET" not in result.stderr
    assert b"SECRET" not in result.stdout
