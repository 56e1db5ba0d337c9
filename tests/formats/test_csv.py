"""CSV reading and writing: dialect detection and byte-for-byte pass-through."""

import os
import string
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.errors import FormatError, UsageError
from maskme.formats import open_input, read_field_batches
from maskme.formats.csv import detect_dialect
from tests.conftest import run_cli

KEEP = {"version": 1, "default": "keep"}


def pass_through(tmp_path: Path, data: bytes, **options) -> bytes:
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    target = tmp_path / "out.csv"
    maskme.mask(source, KEEP, target, **options)
    return target.read_bytes()


@pytest.mark.parametrize(
    "data",
    [
        # leading zeros, trailing zero decimals, big integers stay text
        b"zip,amount,id\n02139,1.10,123456789012345678901234567890\n",
        # CRLF line ends and a quoted field with an embedded CRLF
        b'a;b\r\n"x\r\ny";2\r\n',
        # a UTF-8 byte-order mark, Unicode and an emoji with a modifier
        "\ufeffname,city\nJos\u00e9,M\u00fcnchen\n\U0001f44d\U0001f3fd,\u6771\u4eac\n".encode(),
        # quoted empty string, unquoted empty cell, escaped quotes
        b'a,b,c\n"",,"say ""hi"""\n',
        # tab-separated
        b"a\tb\n1\t2\n",
        # a header and no records
        b"a,b\n",
        # one column, no delimiter at all
        b"only\nx\ny\n",
    ],
)
def test_csv_pass_through_byte_identical(tmp_path, data):
    assert pass_through(tmp_path, data) == data


def test_csv_always_quoted_style_kept(tmp_path):
    data = b'"a","b"\n"1","x"\n'
    assert pass_through(tmp_path, data) == data


def test_csv_very_long_field(tmp_path):
    data = b"a,b\n" + b"x" * 5_000_000 + b",1\n"
    assert pass_through(tmp_path, data) == data


cell = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + ' .-"\n,;\u00e9\u4e2d')),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=20),
    batch_size=st.sampled_from([1, 7, 65_536]),
)
def test_csv_round_trip_property(tmp_path, rows, batch_size):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    target = tmp_path / "out.csv"
    maskme.mask(source, KEEP, target, batch_size=batch_size, delimiter=",")
    parsed = list(csv.reader(io.StringIO(target.read_text(), newline="")))
    assert parsed[0] == ["a", "b", "c"]
    assert parsed[1:] == rows


def test_detect_dialect_ambiguous_stops(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a,b;c\n1,2;3\n")
    with pytest.raises(FormatError, match="cannot tell the delimiter.*--delimiter"):
        detect_dialect(path)
    assert detect_dialect(path, delimiter=";").delimiter == ";"


def test_detect_dialect_inconsistent_stops(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2,3\n4\n")
    with pytest.raises(FormatError, match="cannot tell the delimiter"):
        detect_dialect(path)


def test_detect_dialect_adult(adult_csv):
    dialect = detect_dialect(adult_csv)
    assert dialect.delimiter == ";"
    assert dialect.line_terminator == "\r\n"
    assert dialect.bom is False


def test_csv_other_encoding_round_trip(tmp_path):
    data = "name;city\nJos\u00e9;K\u00f6ln\n".encode("latin-1")
    assert pass_through(tmp_path, data, encoding="latin-1") == data


def test_csv_wrong_encoding_message(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes("name\nJos\u00e9\n".encode("latin-1"))
    with pytest.raises(FormatError, match="not valid UTF-8.*--encoding"):
        maskme.mask(source, KEEP, tmp_path / "out.csv")


def test_csv_duplicate_header(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("b,Smith,Smith\n1,2,3\n")
    with pytest.raises(FormatError, match="columns 2 and 3 of the header have the same name") as raised:
        open_input(source)
    assert "Smith" not in str(raised.value)


def test_csv_first_line_empty(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("\na,b\n1,2\n")
    with pytest.raises(FormatError, match="the first line is empty; expected a header row"):
        open_input(source, delimiter=",")


def test_fifo_input_is_read_once(tmp_path):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as stream:
            stream.write("a,b\n1,x\n2,y\n")

    writer = threading.Thread(target=feed)
    writer.start()
    target = tmp_path / "out.csv"
    maskme.mask(fifo, KEEP, target, format="csv")
    writer.join(timeout=10)
    assert target.read_text() == "a,b\n1,x\n2,y\n"


def test_read_field_batches_selects_columns(adult_csv):
    batches = list(read_field_batches(adult_csv, ["age", "sex"], batch_size=10_000))
    assert [b.height for b in batches] == [10_000, 10_000, 10_000, 162]
    assert batches[0].columns == ["age", "sex"]
    assert batches[0].row(0) == ("39", "Male")


def test_read_field_batches_unknown_field(adult_csv):
    with pytest.raises(UsageError, match="field not found: agee"):
        list(read_field_batches(adult_csv, ["agee"]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # text after a closing quote
        (b'id,ssn\n1,A\n2,"SECRET-0002"x\n', r"record 2 \(line 3\) is not valid CSV: a quote is misplaced"),
        # a quote that never closes
        (b'id,ssn\n1,A\n2,"SECRET-0002\n3,C\n', r"record 2 \(line 3\) is not valid CSV: a quote is not closed"),
        # a row with more fields than the header
        (b"id,ssn\n1,A\n2,SECRET-0002,EXTRA\n", r"record 2 \(line 3\) has 3 fields, the header has 2"),
    ],
)
def test_csv_errors_name_record_not_value(tmp_path, data, message):
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    with pytest.raises(FormatError, match=message) as caught:
        maskme.mask(source, KEEP, tmp_path / "out.csv", delimiter=",")
    assert "SECRET" not in str(caught.value)


def test_csv_blank_lines_are_not_records(tmp_path):
    data = b"id,ssn\n1,A\n\n2,B\r\n\r\n\n"
    assert pass_through(tmp_path, data) == b"id,ssn\n1,A\n2,B\n"


def test_csv_blank_line_inside_quotes_kept(tmp_path):
    data = b'id,note\n1,"first\n\nthird"\n2,x\n'
    assert pass_through(tmp_path, data) == data


def test_csv_single_column_blank_line_is_a_record(tmp_path):
    data = b"name\nann\n\nbob\n"
    assert pass_through(tmp_path, data) == data


def test_csv_cr_only_line_ends_rejected(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,ssn\r1,A\r")
    with pytest.raises(FormatError, match="carriage return alone"):
        maskme.mask(source, KEEP, tmp_path / "out.csv")


def test_unknown_field_does_not_list_header(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("1,900-12-3456,John Smith\n")  # no header row
    policy = {"version": 1, "default": "keep", "fields": {"ssn": {"strategy": "drop"}}}
    with pytest.raises(maskme.PolicyError) as caught:
        maskme.mask(source, policy, tmp_path / "out.csv")
    assert "900-12-3456" not in str(caught.value)
    assert "John" not in str(caught.value)
    assert "the input has 3 fields" in str(caught.value)


def test_headerless_input_gets_no_suggestion(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("Emily,Stone,1984-02-03\nBob,Ray,1990-01-01\n")
    policy = {"version": 1, "default": "keep", "fields": {"email": {"strategy": "drop"}}}
    with pytest.raises(maskme.PolicyError) as caught:
        maskme.mask(source, policy, tmp_path / "out.csv")
    assert "Emily" not in str(caught.value)
    assert "the input has 3 fields" in str(caught.value)


def test_csv_invalid_utf8_names_line(tmp_path):
    source = tmp_path / "in.csv"
    # Past the 256 KiB sample that dialect detection reads, so the block reader meets it.
    rows = "".join(f"{n},plain\n" for n in range(1, 40000))
    source.write_bytes(b"id,name\n" + rows.encode() + b"40000,caf\xe9\n")
    with pytest.raises(FormatError, match=r"not valid UTF-8 on line 40,001; pass --encoding") as caught:
        maskme.mask(source, KEEP, tmp_path / "out.csv", delimiter=",")
    assert "caf" not in str(caught.value)
    assert not (tmp_path / "out.csv").exists()


def test_measure_rejects_bad_batch_size(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,x\n")
    with pytest.raises(UsageError, match="batch size must be a positive integer, got -1"):
        maskme.measure(source, quasi_identifiers=["a"], batch_size=-1)
    with pytest.raises(UsageError, match="batch size must be a positive integer, got -1"):
        list(read_field_batches(source, ["a"], batch_size=-1))
    with pytest.raises(UsageError, match="batch size must be a positive integer, got 0"):
        maskme.mask(source, KEEP, tmp_path / "out.csv", batch_size=0)


def test_batch_size_past_limit_rejected(tmp_path):
    """A size Polars cannot count is a usage error (exit 2), not a traceback."""
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,x\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  b: {strategy: redact}\n")
    for size in ("2147483648", "18446744073709551616"):
        by_option = run_cli("mask", str(source), "-p", str(policy), "--batch-size", size)
        by_variable = run_cli("mask", str(source), "-p", str(policy),
                              env={"MASKME_BATCH_SIZE": size})
        assert by_option.returncode == 2, by_option.stderr
        assert b"batch size must be at most 2,147,483,647" in by_option.stderr
        assert by_variable.returncode == 2, by_variable.stderr
        assert b"MASKME_BATCH_SIZE must be at most 2,147,483,647" in by_variable.stderr
        assert b"Traceback" not in by_option.stderr + by_variable.stderr
    done = run_cli("mask", str(source), "-p", str(policy), "--batch-size", "2147483647")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"a,b\n1,*\n"


@pytest.mark.parametrize("delimiter", ["é", '"', "\n", ";;"])
def test_csv_delimiter_must_be_one_ascii_character(tmp_path, delimiter):
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,x\n")
    with pytest.raises(UsageError, match="the delimiter must be one ASCII character"):
        maskme.mask(source, KEEP, tmp_path / "out.csv", delimiter=delimiter)
    with pytest.raises(UsageError, match="the output delimiter must be one ASCII character"):
        maskme.mask(source, KEEP, tmp_path / "out2.csv", delimiter=",", output_delimiter=delimiter)


def test_measure_rejects_pattern_like_field(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("a,*\n1,x\n")
    with pytest.raises(maskme.MaskMeError, match="field `\\*` cannot be measured"):
        maskme.measure(source, quasi_identifiers=["*"], delimiter=",")
    with pytest.raises(UsageError, match="invalid field path 'a\\[0\\]'"):
        maskme.measure(source, quasi_identifiers=["a[0]"], delimiter=",")


def test_csv_quote_inside_unquoted_field_names_record(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b'id,ssn,x\n1,A,p\n2,SECRET"0002,q\n3,C,r\n')
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) is not valid CSV: a quote is misplaced") as caught:
        maskme.mask(source, KEEP, tmp_path / "out.csv", delimiter=",")
    assert "SECRET" not in str(caught.value)


def test_csv_short_record_is_not_the_malformed_one(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b,c\n1\n1,2,3,4\n")
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) has 4 fields, the header has 3"):
        maskme.mask(source, KEEP, tmp_path / "out.csv", delimiter=",")


def test_csv_block_of_empty_lines_adds_no_record(tmp_path, monkeypatch):
    from maskme.formats import csv as csv_format

    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 8)
    source = tmp_path / "in.csv"
    source.write_bytes(b"a,b\n1,2\n" + b"\n" * 20 + b"3,4\n" + b"\r\n" * 9)
    target = tmp_path / "out.csv"
    maskme.mask(source, KEEP, target, delimiter=",")
    assert target.read_bytes() == b"a,b\n1,2\n3,4\n"


def test_csv_unclosed_quote_stops_before_holding_the_file(tmp_path, monkeypatch):
    from maskme.formats import csv as csv_format

    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 64)
    monkeypatch.setattr(csv_format, "MAX_CARRY_BYTES", 256)
    source = tmp_path / "in.csv"
    rows = "".join(f"{n},SECRET{n},c\n" for n in range(3, 200))
    source.write_text('id,name,city\n1,2,3\n2,"SECRET,y\n' + rows)
    target = tmp_path / "out.csv"
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) is not valid CSV: a quote is not closed") as caught:
        maskme.mask(source, KEEP, target, delimiter=",")
    assert "SECRET" not in str(caught.value)
    assert not target.exists()


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1\n2,y,q\n3,z,r\n", ","),
        ("a;b;c\n1;2\n2;y;q\n3;z;r\n", ";"),
        # The comma splits one row short, the semicolon every row evenly: evenly wins.
        ("a;b,c\n1;2,3\n4;5\n", ";"),
    ],
)
def test_csv_delimiter_detected_with_short_records(tmp_path, text, delimiter):
    source = tmp_path / "in.csv"
    source.write_text(text)
    assert detect_dialect(source).delimiter == delimiter


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_surplus_field_named_not_delimiter(tmp_path, delimiter):
    # Most rows split like the header, so the delimiter is known and the reader
    # names the record with a surplus field instead of asking for --delimiter.
    rows = [["a", "b", "c"], ["1", "2", "3"], ["4", "5", "6", "7"], ["8", "9", "10"]]
    source = tmp_path / "in.csv"
    source.write_text("".join(delimiter.join(row) + "\n" for row in rows))
    policy = {"version": 1, "default": "keep", "fields": {"a": {"strategy": "redact"}}}
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) has 4 fields, the header has 3"):
        maskme.mask(source, policy, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
