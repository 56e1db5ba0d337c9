"""CSV files whose delimiter is followed by a space ("39, State-gov, 77516"), as the UCI Adult files.

The reference is Python's csv module with ``skipinitialspace=True``.
"""

import csv
import io
import json
import string
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.errors import FormatError, UsageError
from maskme.formats import csv as csv_format
from maskme.formats import open_input
from maskme.formats.csv import (
    CsvBatch,
    CsvDialect,
    CsvWriter,
    _without_initial_spaces,
    detect_dialect,
)
from tests.conftest import TEST_DATA, run_cli

ADULT_UCI = TEST_DATA / "adult_uci" / "adult.csv"


def python_rows(data: bytes, delimiter: str = ",") -> list[list[str]]:
    text = data.decode("utf-8")
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                      skipinitialspace=True) if row]


def maskme_rows(path: Path, batch_size: int = 1000, **options) -> tuple[list[str], list[list[str]]]:
    with open_input(path, **options) as opened:
        header = opened.reader.top_level_fields()
        rows = []
        for batch in opened.reader.batches(batch_size):
            rows.extend(
                ["" if value is None else value for value in row]
                for row in batch.data.iter_rows()
            )
    return header, rows


def test_adult_uci_is_detected_as_comma_and_space():
    dialect = detect_dialect(ADULT_UCI)
    assert dialect.delimiter == ","
    assert dialect.skip_initial_space is True


@pytest.mark.parametrize("batch_size", [1, 4096, 100_000])
def test_adult_uci_reads_as_python_csv_does(batch_size):
    expected = python_rows(ADULT_UCI.read_bytes())
    header, rows = maskme_rows(ADULT_UCI, batch_size=batch_size)
    assert header == expected[0]
    assert header[:3] == ["age", "workclass", "fnlwgt"]
    assert rows == expected[1:]
    assert len(rows) == 32_561


def test_adult_uci_reads_alike_in_small_blocks(monkeypatch):
    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 1000)
    expected = python_rows(ADULT_UCI.read_bytes())
    _, rows = maskme_rows(ADULT_UCI)
    assert rows == expected[1:]


def test_measure_adult_uci_by_plain_names():
    measured = maskme.measure(ADULT_UCI, quasi_identifiers="age,sex,race",
                              sensitive_attributes=["occupation"])
    # Counted with Python's csv module (skipinitialspace=True) and a Counter.
    assert measured.records == 32_561
    assert measured.anonymity.classes == 546
    assert measured.k == 1
    assert measured.anonymity.unique_records == 65
    assert measured.sensitive("occupation").distinct_values == 15


def test_measure_cli_matches_stripped_copy(tmp_path):
    stripped = tmp_path / "stripped.csv"
    with stripped.open("w", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(python_rows(ADULT_UCI.read_bytes()))
    reports = []
    for source in (ADULT_UCI, stripped):
        result = run_cli("measure", str(source), "-q", "age,sex,race,native-country",
                         "-s", "salary-class", "--json")
        assert result.returncode == 0, result.stderr.decode()
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["k_anonymity"]["classes"] > 500


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return path


def test_quoted_fields_after_the_space(tmp_path):
    data = b'name, note, city\nAda, "says ""hi"", twice", London\nBob, "a,\n b", "  Paris"\n'
    path = write(tmp_path, data)
    header, rows = maskme_rows(path)
    assert header == ["name", "note", "city"]
    assert rows == [["Ada", 'says "hi", twice', "London"], ["Bob", "a,\n b", "  Paris"]]
    assert rows == python_rows(data)[1:]


def test_several_spaces_need_the_given_delimiter(tmp_path):
    data = b'name,  note\n  Bob,  "a,\n b"\nAl,   x\n'
    path = write(tmp_path, data)
    with pytest.raises(FormatError, match="pass --delimiter"):
        detect_dialect(path)
    header, rows = maskme_rows(path, delimiter=", ")
    assert header == ["name", "note"]
    assert rows == [["Bob", "a,\n b"], ["Al", "x"]]
    assert rows == python_rows(data)[1:]


def test_no_skip_when_one_field_has_no_space(tmp_path):
    path = write(tmp_path, b"a, b\n1, 2\n3,4\n")
    assert detect_dialect(path).skip_initial_space is False
    _, rows = maskme_rows(path)
    assert rows == [["1", " 2"], ["3", "4"]]


def test_given_delimiter_sets_skipping(tmp_path):
    path = write(tmp_path, b"a, b\n1, 2\n3,4\n")
    _, skipped = maskme_rows(path, delimiter=", ")
    assert skipped == [["1", "2"], ["3", "4"]]
    path = write(tmp_path, b"a, b\n1, 2\n")
    header, unskipped = maskme_rows(path, delimiter=",")
    assert header == ["a", " b"]
    assert unskipped == [["1", " 2"]]


def test_semicolon_and_space(tmp_path):
    path = write(tmp_path, b"a; b; c\n1; x y; 3\n")
    header, rows = maskme_rows(path)
    assert header == ["a", "b", "c"]
    assert rows == [["1", "x y", "3"]]


@pytest.mark.parametrize("delimiter", [",,", "  ", ", x"])
def test_other_two_character_delimiters_rejected(tmp_path, delimiter):
    path = write(tmp_path, b"a,b\n1,2\n")
    with pytest.raises(UsageError, match=r"one and a space \(', '\)"), open_input(path, delimiter=delimiter):
        pass


def mask_cli(tmp_path: Path, source: Path, policy_text: str, *options: str) -> bytes:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text)
    target = tmp_path / "out.csv"
    result = run_cli("mask", str(source), "-p", str(policy), "-o", str(target), *options)
    assert result.returncode == 0, result.stderr.decode()
    return target.read_bytes()


ZIP_PREFIX = "version: 1\ndefault: keep\nfields:\n  zip: {strategy: generalize, prefix: 3}\n"


def test_mask_writes_a_space_after_each_delimiter(tmp_path):
    path = write(tmp_path, b'id, zip, city\n1, 02139, "Boston, MA"\n2, 10001, New York\n')
    assert mask_cli(tmp_path, path, ZIP_PREFIX) == (
        b'id, zip, city\n1, 021**, "Boston, MA"\n2, 100**, New York\n'
    )


def test_output_delimiter_replaces_the_spaced_one(tmp_path):
    path = write(tmp_path, b"id, zip\n1, 02139\n")
    assert mask_cli(tmp_path, path, ZIP_PREFIX, "--output-delimiter", ";") == b"id;zip\n1;021**\n"
    path = write(tmp_path, b"id,zip\n1,02139\n")
    assert mask_cli(tmp_path, path, ZIP_PREFIX, "--output-delimiter", "; ") == b"id; zip\n1; 021**\n"


def test_mask_passes_adult_uci_through_byte_for_byte(tmp_path):
    out = mask_cli(tmp_path, ADULT_UCI, "version: 1\ndefault: keep\n")
    # The file ends with an empty line, which is no record.
    assert ADULT_UCI.read_bytes().endswith(b">50K\n\n")
    assert out == ADULT_UCI.read_bytes()[:-1]


FIELD_TEXT = st.text(alphabet=' ,"ab\n', max_size=6)


@st.composite
def spaced_csv(draw) -> bytes:
    """Rows of 3 fields, some quoted, with random spaces before each field."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        fields = []
        for _ in range(3):
            value = draw(FIELD_TEXT)
            if draw(st.booleans()) or any(c in value for c in ',"\n') or value.startswith(" "):
                value = '"' + value.replace('"', '""') + '"'
            fields.append(" " * draw(st.integers(0, 2)) + value)
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(spaced_csv())
def test_removing_initial_spaces_parses_as_python_csv(data):
    removed = _without_initial_spaces(data, ",")
    plain = [row for row in csv.reader(io.StringIO(removed.decode(), newline="")) if row]
    assert plain == python_rows(data)


def test_no_spaces_returns_the_text_itself():
    data = b"a,b\n1,2\n"
    assert _without_initial_spaces(data, ",") is data


def test_letters_are_not_spaces():
    data = ("".join(string.ascii_letters) + ", x\n").encode()
    assert _without_initial_spaces(data, ",") == ("".join(string.ascii_letters) + ",x\n").encode()


def test_field_named_without_its_space_gets_a_hint():
    result = run_cli("measure", str(ADULT_UCI), "--delimiter", ",", "-q", "sex,race")
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "field not found: sex (did you mean ' sex'?), race (did you mean ' race'?)" in message
    assert "pass --delimiter with it (', ')" in message


def test_cli_takes_a_comma_and_a_space(tmp_path):
    path = write(tmp_path, b"a, b\n1, x\n2,x\n")
    result = run_cli("measure", str(path), "--delimiter", ", ", "-q", "b", "--json")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["k_anonymity"]["k"] == 2
    assert report["k_anonymity"]["classes"] == 1


def test_leading_space_values_pass_through(tmp_path):
    path = write(tmp_path, b'a, b\r\n1, " x"\r\n" y", "  "\r\n2, z\r\n')
    out = mask_cli(tmp_path, path, "version: 1\ndefault: keep\n")
    assert out == b'a, b\r\n1, " x"\r\n" y", "  "\r\n2, z\r\n'


CELL = st.one_of(st.none(), st.text(alphabet=' a,"\n\u00e9', max_size=5))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(CELL, CELL), min_size=1, max_size=6))
def test_written_spaced_csv_reads_back_the_same(tmp_path, rows):
    frame = pl.DataFrame({"x": [row[0] for row in rows], " y": [row[1] for row in rows]},
                         schema={"x": pl.String, " y": pl.String})
    written = io.BytesIO()
    CsvWriter(written, CsvDialect(skip_initial_space=True)).write(CsvBatch(frame, 1))
    path = tmp_path / "round.csv"
    path.write_bytes(written.getvalue())
    with open_input(path, delimiter=", ") as opened:
        assert opened.reader.top_level_fields() == ["x", " y"]
        read = pl.concat([batch.data for batch in opened.reader.batches(100)])
    assert read.rows() == frame.rows()
