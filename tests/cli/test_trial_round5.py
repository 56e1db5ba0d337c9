"""Fifth trial: CSV files with a space after each delimiter, and ``missing_values``.

The first part contains problems found in this trial, now fixed. The second
part pins behaviours that the trial checked and found working.

Command-line runs are real ``python -m maskme`` processes (``run_cli``) on
files made here with synthetic data, or on the bundled UCI Adult and stroke
copies.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import maskme
import maskme.engine.local as local_engine
import maskme.formats.csv as csv_format
from maskme.formats.csv import CsvReader, detect_dialect
from maskme.testing import isolated_registry
from tests.conftest import ROOT, TEST_DATA, TEST_KEY, run_cli

ADULT_UCI = TEST_DATA / "adult_uci" / "adult.csv"
ADULT_HIERARCHIES = TEST_DATA / "adult_uci" / "hierarchies"
STROKE = TEST_DATA / "stroke" / "healthcare-dataset-stroke-data.csv"
EXAMPLE_PLUGIN = ROOT / "examples" / "plugins" / "maskme-example-strategies" / "src"

# Synthetic personal value: a test fails when it appears in an error message.
SECRET_NAME = "Secretname"

KEEP_POLICY = "version: 1\ndefault: keep\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def stderr_of(result: Any) -> str:
    return result.stderr.decode("utf-8", errors="replace")


def read_like_python(path: Path, delimiter: str) -> list[list[str]]:
    """Read ``path`` as Python's csv module does with ``skipinitialspace=True``."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = csv.reader(stream, delimiter=delimiter, skipinitialspace=True)
        return [row for row in rows if row]


def read_like_maskme(path: Path, delimiter: str | None = None) -> tuple[Any, list[str], list[list[str]]]:
    """Read ``path`` with MaskMe's reader, with each null as the empty string that csv gives."""
    dialect = detect_dialect(path, delimiter=delimiter)
    reader = CsvReader(path, dialect)
    rows: list[list[str]] = []
    for batch in reader.batches(1000):
        rows.extend(["" if value is None else value for value in row] for row in batch.data.rows())
    return dialect, reader.top_level_fields(), rows


# -- problems found in this trial, and fixed ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'a, b\n1, " x"\n',  # a value that starts with a space
        'a, b\n1, "  "\n',  # a value of spaces only
        'a, b\n" x", 2\n',  # the first field starts with a space
        'a, " b"\n1, 2\n',  # a column name that starts with a space
    ],
)
def test_spaced_leading_space_round_trip(tmp_path: Path, text: str) -> None:
    # The quotes keep the leading spaces in the value, so the writer must quote
    # it again after the delimiter's space, or reading the output (by MaskMe or
    # Python's csv) would give `x` for ` x`.
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    assert read_like_python(output, ",") == read_like_python(data, ",")
    assert output.read_text(encoding="utf-8") == text


def test_json_to_spaced_csv_keeps_spaces(tmp_path: Path) -> None:
    # A JSON value " lead" written with --output-delimiter ', ' must read back the same.
    data = write(tmp_path / "in.jsonl", '{"a": "1", "b": " lead"}\n')
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run_cli(
        "mask", str(data), "-p", str(policy), "-o", str(output), "--output-delimiter", ", "
    )

    assert result.returncode == 0, stderr_of(result)
    assert read_like_python(output, ",") == [["a", "b"], ["1", " lead"]]


@pytest.mark.parametrize("command", ["mask", "anonymize"])
def test_api_single_text_marker(tmp_path: Path, command: str) -> None:
    # The docs allow one text in place of a list: missing_values="N/A" is
    # ["N/A"], never ["N", "/", "A"], which would leave the real values `N`
    # and `A` unmasked and mask "N/A" itself.
    data = write(tmp_path / "in.csv", "x,k\nN/A,1\nN,1\nA,1\nok,1\n")
    if command == "mask":
        policy = write(
            tmp_path / "p.yaml", KEEP_POLICY + "fields:\n  x: {strategy: redact}\n"
        )
        maskme.mask(str(data), str(policy), str(tmp_path / "out.csv"), missing_values="N/A")
    else:
        # A hierarchy that lists every value except the marker N/A. Were the
        # marker split into characters, N/A would be looked up and the run would fail.
        write(tmp_path / "x.csv", "N;*\nA;*\nok;*\n")
        policy = write(
            tmp_path / "p.yaml",
            KEEP_POLICY + "quasi_identifiers:\n  x: {hierarchy: x.csv}\nprivacy: {k: 1}\n",
        )
        maskme.anonymize(str(data), str(policy), str(tmp_path / "out.csv"), missing_values="N/A")
    values = [line.split(",")[0] for line in (tmp_path / "out.csv").read_text().splitlines()[1:]]

    assert values[0] == "N/A"
    if command == "mask":
        assert values[1:] == ["*", "*", "**"]


@pytest.mark.parametrize(
    ("written", "unmasked_value"),
    [
        ("007", "7"),  # YAML 1.1 reads 007 as the octal number 7
        ("0x1F", "31"),  # a hexadecimal number
        ("1_000", "1000"),  # digits grouped by underscores
        ("-0", "0"),  # minus zero
    ],
)
def test_yaml_number_marker_text(tmp_path: Path, written: str, unmasked_value: str) -> None:
    # YAML turns `007` into the number 7, so reading it as the text "7" would
    # leave the real value 7 unmasked. The policy must reject it (quote it) or
    # keep the written text.
    data = write(tmp_path / "in.csv", f"v\n{written}\n{unmasked_value}\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + f"missing_values: [{written}]\nfields:\n  v: {{strategy: redact}}\n",
    )

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    output_lines = result.stdout.decode().splitlines()
    assert result.returncode == 2 or unmasked_value not in output_lines


def test_consistent_by_marker_own_draw(tmp_path: Path) -> None:
    # A record whose consistent_by field is missing gets its own draw, and a
    # declared marker is missing. One shared shift for every `?` subject would
    # let one known true date reveal the shift of every unrelated `?` record.
    rows = "".join("?,2024-03-15\n" for _ in range(6))
    data = write(tmp_path / "in.csv", "pid,visit\n" + rows)
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?"]\nkeys:\n  main: {env: MASKME_KEY}\n'
        + "fields:\n  visit: {strategy: noise, days: 300, consistent_by: pid, key: main}\n",
    )

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 0, stderr_of(result)
    dates = [line.split(",")[1] for line in result.stdout.decode().splitlines()[1:]]
    assert len(set(dates)) > 1


def test_anonymize_marker_texts_distinguishable(tmp_path: Path) -> None:
    # `?` and `N/A` both mean missing, so they form one class of 3 and k = 3
    # is reported as met. The output keeps both texts, so the `?` record is
    # alone with its quasi-identifier values in the released file.
    data = write(tmp_path / "in.csv", "age,zip\n?,1\nN/A,1\nN/A,1\n30,1\n30,1\n30,1\n")
    policy = write(
        tmp_path / "p.yaml", KEEP_POLICY + "quasi_identifiers: [age, zip]\nprivacy: {k: 3}\n"
    )
    output = tmp_path / "out.csv"

    result = run_cli(
        "anonymize", str(data), "-p", str(policy), "-o", str(output), "--missing-values", "?,N/A"
    )

    released = output.read_text().splitlines()[1:] if result.returncode == 0 else []
    smallest_class = min((released.count(line) for line in released), default=3)
    assert smallest_class >= 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a, b\n1, 2\n3, "x\n', "record 2 (line 3) is not valid CSV: a quote is not closed"),
        ('a, b\n1, 2\n3, "x" z\n', "record 2 (line 3) is not valid CSV"),
    ],
)
def test_spaced_error_names_record(tmp_path: Path, text: str, expected: str) -> None:
    # The same files with "," alone get these messages, which name the record
    # and state whether the quote is misplaced or not closed.
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 1
    assert expected in stderr_of(result)


def test_escaped_tab_and_space_delimiter(tmp_path: Path) -> None:
    # `\t` means a tab, and both options take a character and a space, so
    # `\t ` reads a tab-and-space file as a real tab and a space does.
    data = write(tmp_path / "in.csv", "a\t b\n1\t 2\n")
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)

    result = run_cli(
        "mask", str(data), "-p", str(policy), "-o", str(tmp_path / "o.jsonl"), "--delimiter", "\\t "
    )

    assert result.returncode == 0, stderr_of(result)
    assert json.loads((tmp_path / "o.jsonl").read_text()) == {"a": "1", "b": "2"}


def test_ordered_nan_text_rejected(tmp_path: Path) -> None:
    # `NaN` usually marks a missing number, as `N/A` does, so it is a usage
    # error here too, rather than a value ranked above every number.
    data = write(tmp_path / "in.csv", "q,s\na,1\na,2\nb,NaN\nb,3\n")

    result = run_cli("measure", str(data), "-q", "q", "-s", "s", "--ordered", "s")

    assert result.returncode == 2


def test_aligned_columns_keep_spaces(tmp_path: Path) -> None:
    # A keep-all policy leaves the file byte for byte: columns aligned with
    # several spaces are not read as ", ", which would write back one space.
    text = "id,   amount\n1,     10.00\n22,     5.00\n"
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    assert output.read_text() == text


# -- behaviours checked and found working ------------------------------------------

# Files with a space after each delimiter, as Python's csv module with
# skipinitialspace=True reads them.
SPACED_TABLE = [
    'a, b, c\n1, "x, y", 3\n',  # a quoted delimiter
    'a, b, c\n1, "x "" y", 3\n',  # a doubled quote
    'a, b, c\n1, "multi\nline", 3\n4, 5, 6\n',  # a line break inside quotes
    'a, b\n1, "x\n y"\n',  # a space after a line break inside quotes stays
    'a, b\n"1\n, 2", 3\n',  # a delimiter and space inside a multi-line field
    'a, b, c\r\n1, 2, 3\r\n',  # CRLF line ends
    '\ufeffa, b, c\n1, 2, 3\n',  # a byte-order mark
    'a; b; c\n1; 2; 3\n',  # semicolons
    'a| b| c\n1| 2| 3\n',  # pipes
    'a\t b\t c\n1\t 2\t 3\n',  # tabs
    'a, b, c\n1, 2 , 3 \n',  # trailing spaces stay
    'a, b, c\n1, , 3\n',  # an empty field
    'a, b, c\n1, "", 3\n',  # a quoted empty field
    'a, b, c\nä, ü, 中\n',  # non-ASCII text
    'a, b, c\n 1, 2, 3\n',  # a space before the first field
    '"a", "b"\n"1", "x "" ,y"\n',  # every field quoted
    'a, b\n1, 2',  # no line break at the end
    'a, b\n1, 2\n\n\n3, 4\n',  # empty lines
]


@pytest.mark.parametrize("text", SPACED_TABLE)
def test_spaced_reading_matches_csv_module(tmp_path: Path, text: str) -> None:
    data = write(tmp_path / "in.csv", text)

    dialect, header, rows = read_like_maskme(data)

    expected = read_like_python(data, dialect.delimiter)
    assert dialect.skip_initial_space
    assert header == expected[0]
    assert rows == expected[1:]


# Several spaces after a delimiter are not detected (the writer would put
# back one), so these files need the delimiter and a space given.
SEVERAL_SPACES = [
    'a,  b,  c\n1,   2, 3\n',  # several spaces
    'a, b, c\n1,  , 3\n',  # a field of spaces only
]


@pytest.mark.parametrize("text", SEVERAL_SPACES)
def test_several_spaces_read_with_given_delimiter(tmp_path: Path, text: str) -> None:
    data = write(tmp_path / "in.csv", text)

    detected = detect_dialect(data)
    dialect, header, rows = read_like_maskme(data, delimiter=", ")

    expected = read_like_python(data, ",")
    assert not detected.skip_initial_space
    assert dialect.skip_initial_space
    assert header == expected[0]
    assert rows == expected[1:]


def random_spaced_csv(generator: random.Random) -> tuple[str, str]:
    """Return a CSV text with one to three spaces after each delimiter, and its delimiter."""
    delimiter = generator.choice([",", ";", "|", "\t"])
    width = generator.randint(2, 4)
    line_end = generator.choice(["\n", "\r\n"])
    plain = ["a", "Zz", "ä", "中", "1", "x y", "", "  ", "x  "]
    quoted = ["a", "x, y", 'q""q', "", " lead", "line\nbreak", "cr\r\nlf", delimiter, "\n ", "\n\n"]
    lines = [(delimiter + " ").join(f"h{index}" for index in range(width))]
    for _ in range(generator.randint(5, 30)):
        fields = [
            generator.choice(plain) if generator.random() < 0.5
            else '"' + generator.choice(quoted) + '"'
            for _ in range(width)
        ]
        lines.append((delimiter + " " * generator.randint(1, 3)).join(fields))
    return line_end.join(lines) + line_end, delimiter


@pytest.mark.parametrize("seed", range(4))
def test_spaced_reading_small_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # Blocks of a few bytes cut the files at many record ends, as a file
    # larger than 16 MiB is cut.
    generator = random.Random(seed)
    for index in range(40):
        monkeypatch.setattr(csv_format, "BLOCK_BYTES", generator.randint(1, 60))
        text, delimiter = random_spaced_csv(generator)
        data = write(tmp_path / f"in{index}.csv", text)

        dialect, header, rows = read_like_maskme(data, delimiter=delimiter + " ")

        expected = read_like_python(data, dialect.delimiter)
        assert header == expected[0], data.read_text()
        assert rows == expected[1:], data.read_text()


def test_spaced_large_file_round_trip(tmp_path: Path) -> None:
    # 17 MiB: the reader parses more than one 16 MiB block.
    generator = random.Random(3)
    values = ["alpha", '"x, y"', '"line\nbreak"', '"q ""z"" q"', "", "ä中", '"a,\n, b"']
    lines = ["id, a, b, c\n"]
    size = 0
    record = 0
    while size < 17 << 20:
        record += 1
        line = f"{record}, " + ", ".join(generator.choice(values) for _ in range(3)) + "\n"
        lines.append(line)
        size += len(line.encode("utf-8"))
    data = tmp_path / "big.csv"
    data.write_text("".join(lines), encoding="utf-8", newline="")
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    assert output.read_bytes() == data.read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        "id,comment\n1, hello\n2, world\n",  # the header has no space after its delimiter
        "a, b\n1,2\n",  # a record without the space
        "a, b\n1,\n",  # an empty last field without the space
    ],
)
def test_ordinary_file_not_spaced(tmp_path: Path, text: str) -> None:
    data = write(tmp_path / "in.csv", text)

    dialect = detect_dialect(data)

    assert not dialect.skip_initial_space


def test_adult_uci_round_trips(tmp_path: Path) -> None:
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run_cli("mask", str(ADULT_UCI), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    # The copy ends with an empty line, which is no record and is not written.
    assert ADULT_UCI.read_bytes() == output.read_bytes() + b"\n"


def test_adult_uci_delimiter_options(tmp_path: Path) -> None:
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)
    original = ADULT_UCI.read_bytes().rstrip(b"\n") + b"\n"
    plain = tmp_path / "plain.csv"
    spaced_again = tmp_path / "spaced.csv"
    forced_plain = tmp_path / "forced.csv"

    to_plain = run_cli(
        "mask", str(ADULT_UCI), "-p", str(policy), "-o", str(plain), "--output-delimiter", ","
    )
    to_spaced = run_cli(
        "mask", str(plain), "-p", str(policy), "-o", str(spaced_again), "--output-delimiter", ", "
    )
    # With "," alone the spaces are part of the values, and leave as they came.
    as_plain = run_cli(
        "mask", str(ADULT_UCI), "-p", str(policy), "-o", str(forced_plain), "--delimiter", ","
    )

    assert to_plain.returncode == 0, stderr_of(to_plain)
    assert to_spaced.returncode == 0, stderr_of(to_spaced)
    assert as_plain.returncode == 0, stderr_of(as_plain)
    assert plain.read_bytes() == original.replace(b", ", b",")
    assert spaced_again.read_bytes() == original
    assert forced_plain.read_bytes() == original


def test_forced_spaced_delimiter(tmp_path: Path) -> None:
    # Only some records have the space, and ', ' skips it where it is.
    data = write(tmp_path / "in.csv", "a,b\n1, 2\n3,4\n")
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-", "--delimiter", ", ")

    assert result.returncode == 0, stderr_of(result)
    assert result.stdout.decode() == "a, b\n1, 2\n3, 4\n"


@pytest.mark.parametrize("delimiter", ["  ", " ,", ",,", ";  ", "é ", '" '])
def test_odd_delimiters_rejected(tmp_path: Path, delimiter: str) -> None:
    data = write(tmp_path / "in.csv", "a, b\n1, 2\n")
    policy = write(tmp_path / "keep.yaml", KEEP_POLICY)

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-", "--delimiter", delimiter)

    assert result.returncode == 2
    assert "the delimiter must be one ASCII character" in stderr_of(result)


def test_adult_uci_measure_matches_plain(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes(ADULT_UCI.read_bytes().replace(b", ", b","))
    options = ["-q", "age,sex,race,native-country", "-s", "occupation", "--missing-values", "?"]

    spaced_result = run_cli("measure", str(ADULT_UCI), *options, "--json")
    plain_result = run_cli("measure", str(plain), *options, "--json")

    assert spaced_result.returncode == 0, stderr_of(spaced_result)
    assert spaced_result.stdout == plain_result.stdout
    report = json.loads(spaced_result.stdout)
    # Counted by hand with Python's csv module (skipinitialspace=True).
    assert report["records"] == 32_561
    assert report["records_with_missing_quasi_identifiers"] == 583
    assert report["k_anonymity"]["classes"] == 2_382
    assert report["k_anonymity"]["unique_records"] == 1_330
    assert report["sensitive_attributes"][0]["records_with_missing_values"] == 1_843


def test_adult_uci_anonymize_keeps_markers(tmp_path: Path) -> None:
    # k = 100 takes workclass and occupation to level 1, where their
    # hierarchies map `?` to `Unknown` and `Other`. As a declared marker `?`
    # stays `?` instead.
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?"]\nquasi_identifiers:\n'
        + f"  workclass: {{hierarchy: {ADULT_HIERARCHIES / 'workclass.csv'}}}\n"
        + f"  occupation: {{hierarchy: {ADULT_HIERARCHIES / 'occupation.csv'}}}\n"
        + f"  native-country: {{hierarchy: {ADULT_HIERARCHIES / 'country.csv'}}}\n"
        + f"  age: {{hierarchy: {ADULT_HIERARCHIES / 'age.csv'}}}\n"
        + "privacy: {k: 100, suppression_limit: 0.02}\n",
    )
    output = tmp_path / "out.csv"

    result = run_cli("anonymize", str(ADULT_UCI), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    assert "workclass=1, occupation=1" in stderr_of(result)
    assert output.read_text().startswith('age, workclass, fnlwgt, ')
    released = read_like_python(output, ",")[1:]
    original = iter(read_like_python(ADULT_UCI, ",")[1:])
    # Suppression removes records but keeps the order: pair each released
    # record with the next original one that has the same fnlwgt and education.
    for row in released:
        source = next(item for item in original if item[2:4] == row[2:4])
        for column in (1, 6, 13):  # workclass, occupation, native-country
            assert (row[column] == "?") == (source[column] == "?")
    assert sum(row[1] == "?" for row in released) > 1_000


def test_mask_report_on_spaced_file(tmp_path: Path) -> None:
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?"]\nfields:\n  fnlwgt: {strategy: drop}\n'
        + "quasi_identifiers: [sex, native-country]\n",
    )
    output = tmp_path / "out.csv"
    report = tmp_path / "report.json"

    result = run_cli(
        "mask", str(ADULT_UCI), "-p", str(policy), "-o", str(output), "--report", str(report)
    )

    assert result.returncode == 0, stderr_of(result)
    assert output.read_text().startswith("age, workclass, education, ")
    measured = json.loads(report.read_text())["measurement"]["output"]
    assert measured["records"] == 32_561
    assert measured["records_with_missing_quasi_identifiers"] == 583


STRATEGY_POLICY = """\
version: 1
default: keep
missing_values: ["?", "N/A"]
keys:
  main: {env: MASKME_KEY}
fields:
  name: {strategy: hash, key: main}
  phone: {strategy: redact, keep_last: 2}
  income: {strategy: noise, scale: 100, key: main}
  age: {strategy: generalize, interval: 10}
  zip: {strategy: generalize, prefix: 3}
  ssn: {strategy: drop}
  visit: {strategy: noise, days: 30, seed: 7}
  country: {strategy: generalize, hierarchy: country.csv, level: 1}
  top: {strategy: generalize, top: 100}
"""
STRATEGY_FIELDS = ["name", "phone", "income", "age", "zip", "visit", "country", "top"]
STRATEGY_RECORDS = [
    ["Ann", "5551234", "1000", "37", "94110", "123", "2024-01-05", "Spain", "150"],
    ["?"] * 9,
    ["N/A"] * 9,
    ["Bob", "5559876", "2000", "45", "10001", "456", "2024-03-01", "Japan", "50"],
]


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_every_strategy_keeps_markers(tmp_path: Path, suffix: str) -> None:
    write(tmp_path / "country.csv", "Spain;Europe\nJapan;Asia\n")
    policy = write(tmp_path / "p.yaml", STRATEGY_POLICY)
    names = ["name", "phone", "income", "age", "zip", "ssn", "visit", "country", "top"]
    records = [dict(zip(names, values, strict=True)) for values in STRATEGY_RECORDS]
    if suffix == "csv":
        text = ",".join(names) + "\n" + "".join(",".join(v) + "\n" for v in STRATEGY_RECORDS)
    elif suffix == "json":
        text = json.dumps(records)
    else:
        text = "".join(json.dumps(record) + "\n" for record in records)
    data = write(tmp_path / f"in.{suffix}", text)
    output = tmp_path / "out.jsonl"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    masked = [json.loads(line) for line in output.read_text().splitlines()]
    assert masked[1] == dict.fromkeys(STRATEGY_FIELDS, "?")
    assert masked[2] == dict.fromkeys(STRATEGY_FIELDS, "N/A")
    assert masked[0]["age"] == "[30, 40)"
    assert masked[0]["country"] == "Europe"
    assert masked[3]["phone"] == "*****76"


def test_query_and_batch_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASKME_KEY", TEST_KEY)
    write(tmp_path / "country.csv", "Spain;Europe\nJapan;Asia\n")
    policy = write(tmp_path / "p.yaml", STRATEGY_POLICY)
    names = "name,phone,income,age,zip,ssn,visit,country,top\n"
    rows = "".join(",".join(values) + "\n" for values in STRATEGY_RECORDS)
    data = write(tmp_path / "in.csv", names + rows + ",,,,,,,,\n" + '"","","","","","","","",""\n')

    maskme.mask(str(data), str(policy), str(tmp_path / "query.csv"))
    monkeypatch.setattr(local_engine, "QUERY_ENABLED", False)
    maskme.mask(str(data), str(policy), str(tmp_path / "batch.csv"))

    query_output = (tmp_path / "query.csv").read_bytes()
    assert query_output == (tmp_path / "batch.csv").read_bytes()
    assert b"\n?,?,?,?,?,?,?,?\n" in query_output
    assert b'\n,,,,,,,\n"","","","","","","",""\n' in query_output


def test_json_typed_and_nested_markers(tmp_path: Path) -> None:
    records = [
        {"age": -1, "n": {"b": "?"}, "arr": [{"b": "?"}, {"b": "x1"}, {"b": -1}], "zip": "N/A"},
        {"age": 37, "n": {"b": "abc"}, "arr": [{"b": "N/A"}], "zip": 94110},
    ]
    data = write(tmp_path / "in.json", json.dumps(records))
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["-1", "?", "N/A"]\nkeys:\n  main: {env: MASKME_KEY}\nfields:\n'
        + "  age: {strategy: generalize, interval: 10}\n  n.b: {strategy: redact}\n"
        + '  "arr[*].b": {strategy: hash, key: main, length: 8}\n'
        + "  zip: {strategy: generalize, prefix: 3}\n",
    )
    output = tmp_path / "out.json"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    first, second = json.loads(output.read_text())
    assert first["age"] == -1
    assert first["n"] == {"b": "?"}
    assert first["arr"][0] == {"b": "?"}
    assert first["arr"][2] == {"b": -1}
    assert len(first["arr"][1]["b"]) == 8
    assert first["zip"] == "N/A"
    assert second["age"] == "[30, 40)"
    assert second["n"] == {"b": "***"}
    assert second["arr"] == [{"b": "N/A"}]


def test_polars_frame_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASKME_KEY", TEST_KEY)
    policy = maskme.Policy.from_dict({
        "version": 1,
        "default": "keep",
        "fields": {
            "age": {"strategy": "generalize", "interval": 10},
            "name": {"strategy": "redact"},
        },
    })
    frame = pl.DataFrame({"age": [-1, 37, None], "name": ["?", "Ann", None]})

    masked = maskme.mask(frame, policy, missing_values=["-1", "?"])
    measured = maskme.measure(frame, quasi_identifiers=["age"], missing_values=["-1"])

    assert masked.get_column("age").to_list() == ["-1", "[30, 40)", None]
    assert masked.get_column("name").to_list() == ["?", "***", None]
    assert measured.to_dict()["records_with_missing_quasi_identifiers"] == 2


def test_measure_single_text_marker() -> None:
    frame = pl.DataFrame({"x": ["N/A", "N", "A", "ok"]})

    measured = maskme.measure(frame, quasi_identifiers=["x"], missing_values="N/A")

    assert measured.to_dict()["records_with_missing_quasi_identifiers"] == 1


def test_two_pass_strategy_skips_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # rare_category counts categories in its first pass. A lone `?` is rare,
    # so it is recoded unless it is a declared marker.
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    from maskme_example_strategies.rare_category import RareCategory

    data = write(tmp_path / "in.csv", "c\nA\nA\nA\n?\nB\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + 'missing_values: ["?"]\nfields:\n  c: {strategy: rare_category, min_count: 2}\n',
    )
    with isolated_registry():
        maskme.register_strategy(replace=True)(RareCategory)
        maskme.mask(str(data), str(policy), str(tmp_path / "declared.csv"))
        maskme.mask(str(data), str(policy), str(tmp_path / "cleared.csv"), missing_values=[])

    assert (tmp_path / "declared.csv").read_text().split() == ["c", "A", "A", "A", "?", "other"]
    assert (tmp_path / "cleared.csv").read_text().split() == ["c", "A", "A", "A", "other", "other"]


@pytest.mark.parametrize(
    "markers",
    [
        ["a,b", 'say "hi"', "∅", " ", "N/A ", "\t", "😀"],  # unusual texts
        [],  # nothing declared, so `N/A` is a value
    ],
)
def test_unusual_marker_texts(tmp_path: Path, markers: list[str]) -> None:
    data = write(
        tmp_path / "in.csv",
        'v,w\n"a,b",1\n"say ""hi""",2\n∅,3\n ,4\nN/A ,5\n\t,6\n😀,7\nreal,8\nN/A,9\n',
    )
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + f"missing_values: {json.dumps(markers)}\nfields:\n  v: {{strategy: redact}}\n",
    )

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 0, stderr_of(result)
    lines = result.stdout.decode().splitlines()
    if markers:
        assert lines[1:8] == data.read_text().splitlines()[1:8]
        assert lines[8] == "****,8"
        assert lines[9] == "***,9"
    else:
        assert lines[9] == "***,9"
        assert lines[3] == "*,3"


def test_measure_missing_values_option(tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", "q,s\n?,1\nN/A,2\nx,3\n")
    policy = write(
        tmp_path / "p.yaml", KEEP_POLICY + 'missing_values: ["?"]\nquasi_identifiers: [q]\n'
    )

    def missing_count(*options: str) -> int:
        result = run_cli("measure", str(data), "-p", str(policy), "--json", *options)
        assert result.returncode == 0, stderr_of(result)
        return int(json.loads(result.stdout)["records_with_missing_quasi_identifiers"])

    assert missing_count() == 1
    assert missing_count("--missing-values", "N/A") == 1  # replaces the policy's `?`
    assert missing_count("--missing-values", "N/A", "--missing-values", "?") == 2
    assert missing_count("--missing-values", "?, N/A") == 2


def test_missing_quasi_identifiers_group(tmp_path: Path) -> None:
    # -1 (a JSON number) and null are both missing, but the output shows them
    # apart, so they are two classes: -1 twice and null once.
    data = write(
        tmp_path / "in.jsonl",
        '{"age": -1, "d": 5}\n{"age": -1, "d": 6}\n{"age": 30, "d": -1}\n'
        '{"age": 30, "d": -1}\n{"age": null, "d": 7}\n',
    )

    result = run_cli(
        "measure", str(data), "-q", "age", "-s", "d", "--missing-values", "-1", "--json"
    )

    assert result.returncode == 0, stderr_of(result)
    report = json.loads(result.stdout)
    assert report["records_with_missing_quasi_identifiers"] == 3
    sizes = {row["size"]: row["classes"] for row in report["k_anonymity"]["size_distribution"]}
    assert sizes == {1: 1, 2: 2}
    attribute = report["sensitive_attributes"][0]
    assert attribute["records_with_missing_values"] == 2
    assert attribute["classes_without_values"] == 1
    assert attribute["distinct_l"] == 1  # the null class has one value


def test_stroke_ordered_needs_marker(tmp_path: Path) -> None:
    options = ["-q", "gender,age", "-s", "bmi", "--ordered", "bmi"]

    without = run_cli("measure", str(STROKE), *options)
    declared = run_cli("measure", str(STROKE), *options, "--missing-values", "N/A", "--json")

    assert without.returncode == 2
    assert "1 of its 419 distinct values is not a number" in stderr_of(without)
    assert "N/A" not in stderr_of(without).split("(")[0]
    assert declared.returncode == 0, stderr_of(declared)
    attribute = json.loads(declared.stdout)["sensitive_attributes"][0]
    assert attribute["records_with_missing_values"] == 201
    assert attribute["distinct_values"] == 418


def test_stroke_anonymize_keeps_marker(tmp_path: Path) -> None:
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + "quasi_identifiers:\n  age: {intervals: [10, 20, 40]}\n  gender:\n"
        + "sensitive_attributes:\n  bmi: {kind: ordered}\n"
        + "privacy: {k: 5, t: 0.5, suppression_limit: 0.05}\n",
    )
    output = tmp_path / "out.csv"

    without = run_cli("anonymize", str(STROKE), "-p", str(policy), "-o", str(output))
    assert without.returncode == 2
    assert not output.exists()

    declared = run_cli(
        "anonymize", str(STROKE), "-p", str(policy), "-o", str(output), "--missing-values", "N/A"
    )

    assert declared.returncode == 0, stderr_of(declared)
    released = list(csv.DictReader(io.StringIO(output.read_text())))
    kept_ids = {row["id"] for row in released}
    original = list(csv.DictReader(io.StringIO(STROKE.read_text())))
    expected_markers = sum(1 for row in original if row["bmi"] == "N/A" and row["id"] in kept_ids)
    assert sum(1 for row in released if row["bmi"] == "N/A") == expected_markers
    assert expected_markers > 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[null]", "item 1 must be a text"),
        ("[1.5]", "item 1 must be a text"),
        ("[[a]]", "item 1 must be a text"),
        ("{a: 1}", "expected a list of texts"),
        ("true", "expected a list of texts"),
    ],
)
def test_invalid_missing_values(tmp_path: Path, value: str, message: str) -> None:
    data = write(tmp_path / "in.csv", "v\nx\n")
    policy = write(tmp_path / "p.yaml", KEEP_POLICY + f"missing_values: {value}\n")

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 2
    assert "p.yaml:3 (missing_values)" in stderr_of(result)
    assert message in stderr_of(result)


@pytest.mark.parametrize("given", ["", "?,,N/A", " "])
def test_empty_missing_values_option(tmp_path: Path, given: str) -> None:
    data = write(tmp_path / "in.csv", "v\nx\n")

    result = run_cli("measure", str(data), "-q", "v", "--missing-values", given)

    assert result.returncode == 2
    assert "expected comma-separated texts" in stderr_of(result)


def test_errors_name_no_value(tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", f"id, income\n1, 100\n2, ?\n3, {SECRET_NAME}\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + 'missing_values: ["?"]\nfields:\n  income: {strategy: noise, scale: 5, seed: 1}\n',
    )
    ordered = write(tmp_path / "ordered.csv", f"q, s\na, 1\na, {SECRET_NAME}\n")

    masked = run_cli("mask", str(data), "-p", str(policy), "-o", str(tmp_path / "out.csv"))
    measured = run_cli("measure", str(ordered), "-q", "q", "-s", "s", "--ordered", "s")

    assert masked.returncode == 1
    assert "record 3, field `income`: not a finite number" in stderr_of(masked)
    assert SECRET_NAME not in stderr_of(masked)
    assert not (tmp_path / "out.csv").exists()
    assert measured.returncode == 2
    assert SECRET_NAME not in stderr_of(measured)

