"""Hostile input for the JSONL block reader and the JSON writer.

The promise under test: for every input, the block reader gives the records
and the error messages that the line parser (``JsonLinesReader._parse_lines``)
gives, the writer keeps every value's text, and the CLI never shows a
traceback or leaves output behind.
"""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import maskme
import maskme.formats.json as json_format
from maskme.errors import FormatError
from maskme.formats.json import JsonLinesReader, dump_record
from tests.conftest import run_cli

BOM = b"\xef\xbb\xbf"
MIB = 1 << 20
KEEP = {"version": 1, "default": "keep"}


def read_by_blocks(path: Path, batch_size: int = 3) -> list[bytes] | str:
    try:
        reader = JsonLinesReader(path)
        return [dump_record(record) for batch in reader.batches(batch_size) for record in batch.records]
    except FormatError as error:
        return f"FormatError: {error}"


def read_by_lines(path: Path) -> list[bytes] | str:
    data = path.read_bytes().removeprefix(BOM)
    try:
        return [dump_record(record) for record in JsonLinesReader(path)._parse_lines(data, 1)]
    except FormatError as error:
        return f"FormatError: {error}"


def string_line(length: int, tail: bytes = b'"}\n') -> bytes:
    """Return a record line of exactly ``length`` bytes that ends with ``tail``."""
    start = b'{"s":"'
    return start + b"x" * (length - len(start) - len(tail)) + tail


# Whole files whose reading depends on where blocks start and end.
WHOLE_FILES = {
    "BOM only": BOM,
    "BOM then blank lines": BOM + b"\n\r\n \n\t\n",
    "BOM, record, no final newline": BOM + b'{"a":-0}',
    "two BOMs": BOM + BOM + b'{"a":1}\n',
    "BOM on line 2": b'{"a":1}\n' + BOM + b'{"a":2}\n',
    "only whitespace": b" \t\r\n\n  \r\n",
    "one space": b" ",
    "empty": b"",
    "lone CRs": b'{"a":1}\r{"a":2}\r',
    "form feed line": b'{"a":1}\n\x0c\n{"a":2}\n',
    "form feed after record": b'{"a":1}\x0c\n',
    "NUL line": b'{"a":1}\n\x00\n',
    "raw NUL in string": b'{"a":"x\x00y"}\n',
    "escaped NUL in string": b'{"a":"x\\u0000y"}\n',
    "raw tab in string": b'{"a":"x\ty"}\n',
    "line separators in string": '{"a":"x\u2028y\u2029z"}\n'.encode(),
    "NaN and Infinity": b'{"a":NaN}\n{"a":Infinity,"b":-Infinity}\n',
    "duplicate keys keep the first position": b'{"a":1,"b":2,"a":3}\n',
    "empty key and dotted key": b'{"":1,"o.v":2,"o":{"v":3}}\n',
    "lone high surrogate": b'{"a":1}\n{"a":"\\ud800"}\n',
    "surrogate in a key": b'{"\\udc00":1}\n',
    "escaped surrogate pair": b'{"a":"\\ud83d\\ude00"}\n',
    "UTF-8 encoded surrogate": b'{"a":"\xed\xa0\x80"}\n',
    "overlong UTF-8": b'{"a":"\xc0\xaf"}\n',
    "array line": b'{"a":1}\n[{"a":2}]\n',
    "string line": b'"a"\n',
    "null line": b"null\n",
    "object then number": b'{"a":1} 2\n',
    "brace in a string": b'{"a":"} {"}\n{"b":"-0"}\n',
}
for depth in (200, 250, 251, 254, 255, 256, 300, 1000, 100_000):
    WHOLE_FILES[f"arrays nested {depth} deep"] = b'{"a":' + b"[" * depth + b"]" * depth + b"}\n"
for text in ("-0", "-0.0", "-0e0", "1E400", "-1e-400", "9223372036854775807", "9223372036854775808",
             "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
             "18446744073709551616", "-18446744073709551616", "9" * 4300, "9" * 4301, "9" * 5000):
    WHOLE_FILES[f"number of {len(text)} characters {text[:8]}"] = b'{"a":%s}\n{"a":1}\n' % text.encode()


@pytest.mark.parametrize("data", list(WHOLE_FILES.values()), ids=list(WHOLE_FILES))
@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_hostile_file_reads_like_lines(tmp_path, monkeypatch, data, chunk):
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
    assert read_by_blocks(path) == read_by_lines(path)


# The reader takes 3 bytes (a possible BOM) first, so a block ends at byte
# 3 + k * READ_CHUNK of the file. Each tail starts a few bytes around that end.
BOUNDARY_TAILS = {
    "newline": b'"}\n',
    "two-byte character": "é".encode() + b'"}\n',
    "four-byte character": "😀".encode() + b'"}\n',
    "invalid byte": b'\xff"}\n',
    "blank line": b'"}\n\n',
    "CRLF": b'"}\r\n',
    "negative zero": b'","n":-0}\n',
}


@pytest.mark.parametrize("tail", list(BOUNDARY_TAILS.values()), ids=list(BOUNDARY_TAILS))
@pytest.mark.parametrize("shift", range(-3, 4))
@pytest.mark.parametrize("bom", [b"", BOM], ids=["no BOM", "BOM"])
def test_block_boundary_reads_like_lines(tmp_path, monkeypatch, tail, shift, bom):
    chunk = 64
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
    head = bom + b'{"a":1}\n'
    # The tail's first byte lands at file offset 3 + 2 * chunk + shift.
    long_line = string_line(3 + 2 * chunk + shift - len(head) + len(tail), tail)
    path = tmp_path / "in.jsonl"
    path.write_bytes(head + long_line + b'{"a":2}\n{"a":3}')
    assert read_by_blocks(path, 2) == read_by_lines(path)


@pytest.mark.parametrize("length", [MIB - 1, MIB, MIB + 1, MIB + 3, 2 * MIB + 7])
def test_line_at_real_block_size_reads_like_lines(tmp_path, length):
    path = tmp_path / "in.jsonl"
    path.write_bytes(string_line(length) + b'{"a":-0}\n' + string_line(length, "é".encode() + b'"}\n'))
    assert read_by_blocks(path) == read_by_lines(path)


def test_late_invalid_utf8_names_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a":1}\n' * 300_000 + b'{"a":"\xff"}\n{"a":2}\n')
    with pytest.raises(FormatError, match=r"line 300,001: not valid UTF-8 at byte 6;"):
        maskme.mask(path, KEEP, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_batch_numbers_continue_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(json_format, "READ_CHUNK", 16)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(b'{"a":%d}\n\n' % index for index in range(50)))
    batches = list(JsonLinesReader(path).batches(7))
    assert [batch.first_record for batch in batches] == list(range(1, 51, 7))
    values = [int(record["a"]) for batch in batches for record in batch.records]
    assert values == list(range(50))


def test_batch_size_one_cuts_every_record(tmp_path):
    """Batches of one record across many blocks number every record once, in order."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(b'{"i":%d}\n' % index for index in range(5_000)))
    batches = list(JsonLinesReader(path).batches(1))
    assert [batch.first_record for batch in batches] == list(range(1, 5_001))
    assert [batch.records[0]["i"] for batch in batches] == list(range(5_000))


def test_keep_policy_runs_no_batch_query():
    """A policy that transforms nothing needs no Polars query per batch (it cost 20x at batch size 1)."""
    from maskme.engine.batch_query import build_batch_query
    from maskme.engine.plan import build_plan

    policy = maskme.load_policy({"version": 1, "default": "keep", "fields": {"a": "drop", "b": "keep"}})
    assert build_batch_query(build_plan(policy, None)) is None


# -- strategies on numbers that the block parser reads as Python ints -----------------------

NUMBER_POLICY = {
    "version": 1,
    "default": "keep",
    "fields": {
        "n": {"strategy": "noise", "scale": 0.0001, "round": 0, "seed": 1, "on_invalid": "keep"},
        "g": {"strategy": "generalize", "interval": 10, "on_invalid": "keep"},
        "r": {"strategy": "redact", "keep_last": 1},
        "o.n": {"strategy": "noise", "scale": 0.0001, "round": 0, "seed": 1, "on_invalid": "keep"},
        "a[*].g": {"strategy": "generalize", "interval": 10, "on_invalid": "null"},
    },
}
NUMBER_RECORDS = [
    # input line, expected output line
    ('{"n":40,"g":41,"r":-0,"o":{"n":7},"a":[{"g":5},{"g":-0}]}',
     '{"n":40,"g":"[40, 50)","r":"*0","o":{"n":7},"a":[{"g":"[0, 10)"},{"g":"[0, 10)"}]}'),
    ('{"n":18446744073709551615,"g":18446744073709551616,"r":1.10,"o":{"n":-9223372036854775809},"a":[]}',
     '{"n":18446744073709551615,"g":18446744073709551616,"r":"***0","o":{"n":-9223372036854775809},"a":[]}'),
    ('{"n":true,"g":null,"r":"007","o":{"n":"5"},"a":[{"g":true}]}',
     '{"n":true,"g":null,"r":"**7","o":{"n":"5"},"a":[{"g":null}]}'),
    ('{"n":2.50,"g":1e400,"r":9223372036854775808,"o":{},"a":[{"h":1}]}',
     '{"n":2,"g":1e400,"r":"******************8","o":{},"a":[{"h":1}]}'),
    ('{"n":null,"r":1}', '{"n":null,"r":"*"}'),
]


@pytest.mark.parametrize("batch_size", [1, 2, None])
def test_number_strategies_keep_types(tmp_path, batch_size):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(line for line, _ in NUMBER_RECORDS) + "\n")
    target = tmp_path / "out.jsonl"
    maskme.mask(source, NUMBER_POLICY, target, batch_size=batch_size)
    assert target.read_text().splitlines() == [expected for _, expected in NUMBER_RECORDS]


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_stdin_to_stdout_keeps_text(tmp_path):
    policy = tmp_path / "keep.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    data = BOM + b'{"a":-0,"b":1.10}\r\n\n{"a":1E400,"b":18446744073709551616}\n{"c":"\xc3\xa9"}'
    completed = run_cli("mask", "-", "-p", str(policy), "-o", "-", "--format", "jsonl", input=data)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        b'{"a":-0,"b":1.10}\n{"a":1E400,"b":18446744073709551616}\n{"c":"\xc3\xa9"}\n'
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1}\n' * 200_000 + b'{"a":' + b"[" * 100_000 + b"\n",
         b"line 200,001: nested too deeply to process"),
        (b'{"a":1}\n{"a":\n2}\n', b"line 2: invalid JSON at column 6"),
        (b'{"a":1}\n{"a":"\\udfff"}\n', b"line 2: a string contains an unpaired UTF-16 surrogate"),
    ],
    ids=["deep line in a late block", "record over two lines", "lone surrogate"],
)
def test_cli_bad_line_leaves_no_output(tmp_path, data, message):
    policy = tmp_path / "keep.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"earlier output\n")
    completed = run_cli("mask", str(source), "-p", str(policy), "-o", str(target))
    assert completed.returncode == 1
    assert message in completed.stderr
    assert b"Traceback" not in completed.stderr
    assert target.read_bytes() == b"earlier output\n"
    assert source.read_bytes() == data
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "keep.yaml", "out.jsonl"]


def test_cli_latin1_with_environment_batch_size(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  n: {strategy: generalize, interval: 10}\n")
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"s":"caf\xe9","n":17}\n{"s":"\xff","n":-0}\n')
    target = tmp_path / "out.jsonl"
    completed = run_cli(
        "mask", str(source), "-p", str(policy), "-o", str(target), "--encoding", "latin-1",
        env={"MASKME_BATCH_SIZE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert target.read_bytes() == b'{"s":"caf\xe9","n":"[10, 20)"}\n{"s":"\xff","n":"[0, 10)"}\n'


def test_measure_reads_integer_fields(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(
        json.dumps({"age": age, "zip": zip_code}) + "\n"
        for age, zip_code in [(30, "94110"), (30, "94110"), (41, "94110"), (41, "94110"), (41, "94110")]
    ))
    completed = run_cli("measure", str(source), "--quasi-identifiers", "age,zip", "--format", "jsonl")
    assert completed.returncode == 0, completed.stderr
    assert b"Traceback" not in completed.stderr
    assert b"k (smallest class)" in completed.stdout
    table = completed.stdout.decode()
    k_row = next(line for line in table.splitlines() if "k (smallest class)" in line)
    assert k_row.split()[-2] == "2"


# -- the same records read as Python ints or as number texts ---------------------------------

VALUE_TEXTS = [
    "0", "-0", "7", "-12", "40", "123456789012345678", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "-9223372036854775809", "9007199254740993",
    "1.10", "2.5", "-0.0", "1e3", "1E400", "null", "true", "false", '"7"', '"007"', '""', '"x"',
]
FIELD_RULES = [
    {"strategy": "noise", "scale": 0.0001, "round": 0, "seed": 1, "on_invalid": "keep"},
    {"strategy": "noise", "scale": 3, "round": 2, "seed": 2, "on_invalid": "null"},
    {"strategy": "generalize", "interval": 10, "on_invalid": "keep"},
    {"strategy": "generalize", "breaks": [0, 5, 100], "on_invalid": "null"},
    {"strategy": "generalize", "prefix": 1},
    {"strategy": "redact", "keep_last": 1},
    {"strategy": "hash", "key": "main", "length": 8},
    {"strategy": "drop"},
    {"strategy": "keep"},
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(VALUE_TEXTS),
            st.sampled_from(VALUE_TEXTS),
            st.sampled_from([True, True, True, False]),  # mostly present, so top-level paths match
        ),
        min_size=1, max_size=8,
    ),
    rule=st.sampled_from(FIELD_RULES),
    path=st.sampled_from(["n", "o.n", "a[*].n"]),
    batch_size=st.sampled_from([1, 3, 100]),
)
# Columns whose values msgspec reads as Python ints in every record.
@example(rows=[("7", "1", True), ("40", "2", True)], rule=FIELD_RULES[6], path="n", batch_size=100)
@example(rows=[("7", "1", True), ("40", "2", True)], rule=FIELD_RULES[0], path="n", batch_size=100)
@example(rows=[("9223372036854775807", "1", True), ("18446744073709551616", "2", True), ("7", "3", True)],
         rule=FIELD_RULES[2], path="n", batch_size=100)
@example(rows=[("7", "1", True), ("2.5", "2", True), ("null", "3", True)], rule=FIELD_RULES[1], path="n",
         batch_size=100)
def test_ints_mask_like_number_texts(tmp_path, monkeypatch, key_env, rows, rule, path, batch_size):
    """A strategy's output must not depend on whether msgspec or the line parser read the record."""
    lines = []
    for first, second, has_field in rows:
        value = first if has_field else None
        if path == "n":
            record = {"m": "1"} if value is None else {"n": value, "m": second}
        elif path == "o.n":
            record = {"o": {} if value is None else {"n": value, "m": second}}
        else:
            record = {"a": [] if value is None else [{"n": value}, {"n": second}]}
        lines.append(_record_text(record))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    policy = {"version": 1, "default": "keep", "keys": {"main": {"env": "MASKME_KEY"}}, "fields": {path: rule}}

    def outcome(target: Path) -> bytes | str:
        try:
            maskme.mask(source, policy, target, batch_size=batch_size)
        except maskme.MaskMeError as error:
            return f"{type(error).__name__}: {error}"
        return target.read_bytes()

    by_blocks = outcome(tmp_path / "blocks.jsonl")
    monkeypatch.setattr(json_format, "_read_alike", lambda block, records: False)
    by_lines = outcome(tmp_path / "lines.jsonl")

    assert by_blocks == by_lines


def _record_text(node: object) -> str:
    """Return ``node`` as JSON text; its leaves are JSON texts already (``7``, ``"x"``, ``null``)."""
    if isinstance(node, dict):
        return "{" + ",".join(f'"{key}":{_record_text(value)}' for key, value in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_record_text(value) for value in node) + "]"
    return str(node)
