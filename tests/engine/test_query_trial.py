"""Hostile CSV input for the one-query path: it must write or report what the batch path does.

Each case runs ``maskme.mask`` twice on the same file, once as one Polars
query and once with ``QUERY_ENABLED`` off, and compares the output bytes, or
the error type and message.
"""

from __future__ import annotations

import os
import signal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.cli.app import app
from maskme.engine import local
from maskme.formats import csv as csv_format
from tests.conftest import run_cli
from tests.engine.both_paths import outcome, outcomes

KEYS = {"k": {"env": "MASKME_KEY"}}

#: Hash field a, redact field c, keep field b.
HASH_AND_REDACT = {
    "a": {"strategy": "hash", "key": "k", "length": 8},
    "c": {"strategy": "redact", "keep_last": 1},
}


def policy_of(fields: dict, default: str = "keep") -> dict:
    return {"version": 1, "default": default, "keys": KEYS, "fields": fields}


# Records after the header "a,b,c\nx,y,z\n", with a hostile field in each column in turn.
HOSTILE_FIELDS = [
    b'x"y',        # a quote inside an unquoted field
    b'ab"c"d',     # two stray quotes, which Polars reads leniently
    b'a""b',       # a doubled quote in an unquoted field
    b'"a"b"c"',    # inner quotes not doubled
    b'"a""b"c',    # text after the closing quote
    b'""a',        # an empty quoted field followed by text
    b'"""',        # a quote that never closes
    b'""""',       # one escaped quote
    b'"a" "b"',    # two quoted parts with a space between
    b'"a"\t',      # a tab after the closing quote
    b'\t"a"',      # a tab before the opening quote
    b'"a\nb"c',    # a quoted line break, then text
    b'"',          # a lone quote
    b'"x\ry"',     # a carriage return inside quotes
    b'"x\r\ny"',   # CRLF inside quotes in an LF file
    b'x\ry',       # a carriage return in an unquoted field
    b'x\x00y',     # a NUL byte
    b'',           # an empty field
    b'""',         # an empty quoted field
    b' ',          # a blank field
]


@pytest.mark.parametrize("field", HOSTILE_FIELDS)
@pytest.mark.parametrize("column", [0, 1, 2])
def test_hostile_field_same_as_batches(tmp_path, monkeypatch, runs, field, column):
    cells = [b"p", b"q", b"r"]
    cells[column] = field
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\nx,y,z\n" + b",".join(cells) + b"\n1,2,3\n")
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert fast == slow


LINE_CASES = {
    # name: file contents
    "CRLF": b"a,b,c\r\nx,y,z\r\n1,2,3\r\n",
    "CRLF without final line end": b"a,b,c\r\nx,y,z\r\n1,2,3",
    "CRLF header, LF records": b"a,b,c\r\nx,y,z\n1,2,3\n",
    "LF header, CRLF records": b"a,b,c\nx,y,z\r\n1,2,3\r\n",
    "CR before CRLF": b"a,b,c\r\nx,y,z\r\r\n1,2,3\r\n",
    "lone CR line ends": b"a,b,c\rx,y,z\r1,2,3\r",
    "mixed line ends": b"a,b,c\r\nx,y,z\n1,2,3\r4,5,6\r\n",
    "CR ending the last line": b"a,b,c\nx,y,z\n1,2,3\r",
    "empty lines at the start": b"\n\na,b,c\nx,y,z\n",
    "empty line after the header": b"a,b,c\n\nx,y,z\n",
    "empty lines in the middle": b"a,b,c\nx,y,z\n\n\n1,2,3\n",
    "empty lines at the end": b"a,b,c\nx,y,z\n\n\n",
    "CRLF empty lines": b"a,b,c\r\nx,y,z\r\n\r\n\r\n1,2,3\r\n\r\n",
    "blank line": b"a,b,c\nx,y,z\n   \n1,2,3\n",
    "record of empty fields": b"a,b,c\n,,\nx,y,z\n",
    "too few fields": b"a,b,c\nx,y\n1\n",
    "too many fields": b"a,b,c\nx,y,z,w\n",
    "header only": b"a,b,c\n",
    "header only, no line end": b"a,b,c",
    "BOM": b"\xef\xbb\xbfa,b,c\nx,y,z\n",
    "BOM and quoted header": b'\xef\xbb\xbf"a","b","c"\nx,y,z\n',
    "duplicate header names": b"a,a,c\nx,y,z\n",
    "invalid UTF-8": b"a,b,c\nx\xff,y,z\n",
    "empty file": b"",
}


@pytest.mark.parametrize("contents", LINE_CASES.values(), ids=LINE_CASES.keys())
def test_line_layout_same_as_batches(tmp_path, monkeypatch, runs, contents):
    source = tmp_path / "in.csv"
    source.write_bytes(contents)
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert fast == slow


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_same_as_batches(tmp_path, monkeypatch, runs, delimiter):
    separator = delimiter.encode()
    rows = [[b"a", b"b", b"c"], [b"x,1", b'"y' + separator + b'q"', b"z"], [b"1", b"2", b"3"]]
    source = tmp_path / "in.csv"
    source.write_bytes(b"".join(separator.join(row) + b"\n" for row in rows))
    for options in ({"delimiter": delimiter}, {}):  # given, then detected
        fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, **options)
        assert fast == slow
        assert isinstance(fast, bytes)
        assert fast.splitlines()[0] == separator.join([b"a", b"b", b"c"])
    assert runs.finished == 2


def test_late_flag_discards_written_batches(tmp_path, monkeypatch, runs):
    """A record flagged after many written batches: only the batch path's output remains."""
    rows = b"".join(b"r%d,s%d,t%d\n" % (n, n, n) for n in range(50))
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\n" + rows + b"\n" + rows + b'"x\ry",1,2\n')
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",",
                          batch_size=7)
    assert runs.handed_over == 1
    assert fast == slow
    assert isinstance(fast, bytes)
    assert fast.count(b"\n") == 1 + 100 + 1  # the header, the records, the CR record


def test_column_names_like_internal_columns(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    header = b"a,maskme_record,maskme_needs_batches,needs_batches,_needs_batches,c\n"
    source.write_bytes(header + b"1,2,3,4,5,6\n7,8,9,10,11,12\n")
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert runs.finished == 1
    assert fast == slow
    assert isinstance(fast, bytes)
    assert fast.splitlines()[1].split(b",")[1:5] == [b"2", b"3", b"4", b"5"]


def test_invalid_utf8_late_in_file(tmp_path, monkeypatch, runs):
    """Invalid UTF-8 after the sampled start: the same error, with no value in it."""
    source = tmp_path / "in.csv"
    filler = b"abc,def,ghi\n" * (csv_format.SAMPLE_BYTES // 12 + 10)
    source.write_bytes(b"a,b,c\n" + filler + b"secret\xff,y,z\n")
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert runs.handed_over == 1
    assert fast == slow
    assert isinstance(fast, str)
    assert "not valid UTF-8 on line" in fast
    assert "secret" not in fast


def test_stdin_to_stdout_same_as_file(tmp_path, key_env):
    """Standard input to standard output, with an empty line that sends the run to batches."""
    contents = b"a,b,c\nx,y,z\n\n1,2,3\n"
    source = tmp_path / "in.csv"
    source.write_bytes(contents)
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\ndefault: keep\nkeys: {k: {env: MASKME_KEY}}\n"
        "fields:\n  a: {strategy: hash, key: k, length: 8}\n  c: {strategy: redact}\n"
    )
    piped = run_cli("mask", "-", "-p", str(policy), "-o", "-", input=contents)
    from_file = run_cli("mask", str(source), "-p", str(policy), "-o", str(tmp_path / "out.csv"))
    assert piped.returncode == 0
    assert from_file.returncode == 0
    assert piped.stdout == (tmp_path / "out.csv").read_bytes()
    assert piped.stdout.count(b"\n") == 3


def test_sigterm_during_query_leaves_nothing(tmp_path, monkeypatch, runs):
    """SIGTERM while the query writes: exit 143, no output and no temporary file."""
    source = tmp_path / "in.csv"
    source.write_text("a,b\n" + "".join(f"{n},x\n" for n in range(50)))
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  b: {strategy: redact}\n")
    original_write = csv_format.CsvWriter.write
    writes = []

    def write_then_terminate(self, batch):
        writes.append(batch)
        if len(writes) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        original_write(self, batch)

    monkeypatch.setattr(csv_format.CsvWriter, "write", write_then_terminate)
    result = CliRunner().invoke(app, ["mask", str(source), "-p", str(policy),
                                      "-o", str(tmp_path / "out.csv"), "--batch-size", "10", "-q"])
    assert result.exit_code == 143
    assert "terminated; nothing was written" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "policy.yaml"]
    assert runs.finished + runs.handed_over == 0  # the query raised, it did not end


#: Policies whose every strategy has an expression. Some set on_invalid, so invalid values pass.
MIXED_POLICIES = [
    HASH_AND_REDACT,
    {"a": {"strategy": "noise", "scale": 1, "key": "k", "on_invalid": "keep"},
     "b": {"strategy": "drop"}},
    {"c": {"strategy": "generalize", "interval": 5, "on_invalid": "null"},
     "a": {"strategy": "redact", "email": True}},
    {"b": {"strategy": "generalize", "truncate": "month", "on_invalid": "keep"},
     "c": {"strategy": "hash", "key": "k", "encoding": "base64", "normalize": ["strip", "lower"]}},
]

hostile_cell = st.sampled_from([
    b"", b"x", b'""', b'"a,b"', b'"q""r"', b'"\r"', b'"\n"', b" ", b"\xc3\xa9", b"5", b"-2.5",
    b"1990-02-03", b"a@b.c", b'"x', b'y"', b"\x00",
])
hostile_line = st.builds(
    lambda cells, separator, end: separator.join(cells) + end,
    st.lists(hostile_cell, max_size=5),
    st.sampled_from([b",", b";", b"\t"]),
    st.sampled_from([b"\n", b"\r\n", b"", b"\n\n"]),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from([b"a,b,c\n", b"a;b;c\r\n", b'"a","b","c"\n', b"\xef\xbb\xbfa,b,c\n"]),
       lines=st.lists(hostile_line, max_size=25),
       policy=st.sampled_from(MIXED_POLICIES),
       delimiter=st.sampled_from([None, ",", ";"]),
       batch_size=st.sampled_from([None, 1, 3]))
def test_hostile_lines_same_as_batches(tmp_path_factory, monkeypatch, key_env, header, lines,
                                       policy, delimiter, batch_size):
    """Any mix of hostile lines gives the batch path's output or error, for any batch size."""
    source = tmp_path_factory.mktemp("hostile") / "in.csv"
    source.write_bytes(header + b"".join(lines))
    options = {"delimiter": delimiter, "batch_size": batch_size}
    fast, slow = outcomes(source, policy_of(policy), monkeypatch, **options)
    assert fast == slow


# -- known bugs ----------------------------------------------------------------------------


NO_FIELD_LEFT = {
    # name: (fields, default)
    "default drop": ({"a": {"strategy": "drop"}}, "drop"),
    "every field dropped": ({name: {"strategy": "drop"} for name in "abc"}, "keep"),
}


@pytest.mark.parametrize("fields, default", NO_FIELD_LEFT.values(), ids=NO_FIELD_LEFT.keys())
def test_no_field_left_same_as_batches(tmp_path, monkeypatch, runs, fields, default):
    """A policy that leaves no field gives output or a MaskMeError, the same on both paths."""
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\nx,y,z\n1,2,3\n")
    policy = policy_of(fields, default=default)
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = outcome(source, policy, tmp_path / "batches.csv")
    monkeypatch.setattr(local, "QUERY_ENABLED", True)
    fast = outcome(source, policy, tmp_path / "query.csv")
    assert fast == slow


def test_record_over_limit_written_whole_by_query(tmp_path, monkeypatch, runs):
    """The batch reader rejects a record longer than its limit; the query has none and writes it.

    The limit (MAX_CARRY_BYTES) bounds the batch reader's memory, which the
    streaming query does not need (limit made small here).
    """
    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 1 << 10)
    monkeypatch.setattr(csv_format, "MAX_CARRY_BYTES", 4 << 10)
    source = tmp_path / "in.csv"
    source.write_bytes(b'a,b,c\n1,2,3\n"' + b"q" * (8 << 10) + b'",y,z\n4,5,6\n')
    fast, slow = outcomes(source, policy_of({"c": {"strategy": "redact"}}), monkeypatch,
                          delimiter=",")
    assert isinstance(slow, str)
    assert "longer than" in slow
    assert fast == b"a,b,c\n1,2,*\n" + b"q" * (8 << 10) + b",y,*\n4,5,*\n"


@pytest.mark.parametrize("query_enabled", [True, False], ids=["query", "batches"])
def test_stray_quote_in_header_loses_no_record(tmp_path, monkeypatch, runs, query_enabled):
    """The run either reports the header or writes all three records."""
    monkeypatch.setattr(local, "QUERY_ENABLED", query_enabled)
    source = tmp_path / "in.csv"
    source.write_bytes(b'a",b,c\nx,y,z\n1,2,3\n4,5,6\n')
    result = outcome(source, policy_of({"b": {"strategy": "redact"}}), tmp_path / "out.csv",
                     delimiter=",")
    if isinstance(result, str):
        assert result.startswith("FormatError: ")
    else:
        assert result.count(b"\n") == 4


def test_utf16_output_has_one_bom(tmp_path, monkeypatch, runs):
    """UTF-16 never runs as a query; the batch path repeats the byte order mark."""
    source = tmp_path / "in.csv"
    source.write_bytes("a,b,c\nx,y,z\n1,2,3\n".encode("utf-16"))
    target = tmp_path / "out.csv"
    maskme.mask(source, policy_of({"c": {"strategy": "redact"}}), target, delimiter=",",
                encoding="utf-16")
    written = target.read_bytes()
    assert written.count("\ufeff".encode("utf-16-le")) == 1
    assert written.decode("utf-16") == "a,b,c\nx,y,*\n1,2,*\n"


# name: (the input's file name, another file in the same folder)
GLOB_NAMES = {
    "brackets": ("in[1].csv", "in1.csv"),
    "star": ("in*.csv", "in-other.csv"),
    "question mark": ("in?.csv", "in2.csv"),
}


@pytest.mark.parametrize("name, other", GLOB_NAMES.values(), ids=GLOB_NAMES.keys())
def test_glob_characters_in_input_path(tmp_path, monkeypatch, runs, name, other):
    """Only the named file is read, never a file whose name the path matches as a pattern."""
    source = tmp_path / name
    source.write_bytes(b"a,b,c\nx,1,2\n")
    (tmp_path / other).write_bytes(b"a,b,c\nother,9,9\nother,8,8\n")
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert isinstance(slow, bytes)
    assert slow.count(b"\n") == 2
    assert fast == slow


def test_glob_characters_in_measured_path(tmp_path):
    source = tmp_path / "in[1].csv"
    source.write_bytes(b"a,b,c\nx,1,2\n")
    (tmp_path / "in1.csv").write_bytes(b"a,b,c\nother,9,9\nother,8,8\n")
    measurement = maskme.measure(source, quasi_identifiers=["b"])
    assert measurement.records == 1


def test_progress_never_goes_back(tmp_path, runs):
    """A progress bar fed by the callback never moves backwards, even after a hand-over."""
    rows = b"".join(b"r%d,s%d,t%d\n" % (n, n, n) for n in range(40))
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\n" + rows + b"\n" + rows)
    reports: list[tuple[int, int, int | None]] = []
    maskme.mask(source, policy_of(HASH_AND_REDACT), tmp_path / "out.csv", delimiter=",",
                batch_size=10, progress=lambda *report: reports.append(report))
    assert runs.handed_over == 1
    records_done = [records for records, _, _ in reports]
    bytes_read = [read for _, read, _ in reports]
    assert records_done == sorted(records_done)
    assert bytes_read == sorted(bytes_read)
    assert records_done[-1] == 80


def test_trailing_empty_line_stays_in_query(tmp_path, monkeypatch, runs):
    """Many exported files end with an empty line, which contains no record on either path.

    On 3 million records (bench/generate.py, 2 cores) the hand-over made the run take
    8.7 to 12.1 s, where the batch path alone took 4.4 to 4.9 s.
    """
    rows = b"".join(b"r%d,s%d,t%d\n" % (n, n, n) for n in range(30))
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\n" + rows + b"\n")
    fast, slow = outcomes(source, policy_of(HASH_AND_REDACT), monkeypatch, delimiter=",")
    assert fast == slow
    assert runs.handed_over == 0
