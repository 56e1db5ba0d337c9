"""Fourth trial of the command line and the API, against the fixes of the third.

The first part contains problems found in this trial: each test fails on the code
it was written against and passes once the problem is fixed. The second part
pins behaviours that the trial checked and found working. They cover JSON
fields that are rare, nested, dotted or null, input encodings, the JSON array
record limit, surrogate pairs in policies, output names, whitespace keys and
CSV delimiters.
Command-line runs are real ``python -m maskme`` processes on files made here
with synthetic data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import maskme
import maskme.formats.json as json_format

# Synthetic personal values: the tests fail when one appears in an error message.
SECRET_NAME = "Secretname"
SECRET_CITY = "Hiddenville"

# Every policy below keeps the fields it does not list.
KEEP_POLICY = "version: 1\ndefault: keep\n"
# Anonymize: `age` and `diag` as quasi-identifier and sensitive attribute, k = 2.
K2_POLICY = (
    "version: 1\ndefault: keep\nquasi_identifiers: [age]\n"
    "sensitive_attributes: [diag]\nprivacy: {k: 2, suppression_limit: 0.5}\n"
)
# Mask with a report: measures `age` and `diag` before and after masking.
REPORT_POLICY = (
    "version: 1\ndefault: keep\nfields:\n  name: {strategy: redact}\n"
    "quasi_identifiers: [age]\nsensitive_attributes: [diag]\n"
)


def run(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "maskme", *args],
        input=stdin,
        capture_output=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", **env},
        timeout=60,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", errors="replace"),
        result.stderr.decode("utf-8", errors="replace"),
    )


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- problems found in this trial ------------------------------------------------


def test_anonymize_suppressed_sensitive_field(tmp_path: Path) -> None:
    # Only record 4 has `diag`, and its class (age 35) is too small, so the
    # search removes it. The output then has no `diag`, which is the expected
    # result of suppression, yet measuring the output rejects `diag` as a
    # misspelled field.
    records = [{"age": 1}, {"age": 1}, {"age": 1}, {"age": 35, "diag": "a"}]
    data = write_jsonl(tmp_path / "in.jsonl", records)
    policy = write_policy(tmp_path / "k2.yaml", K2_POLICY)
    output = tmp_path / "out.jsonl"

    result = run("anonymize", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 0, result.stderr
    assert "field not found" not in result.stderr
    kept_records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(kept_records) == 3
    assert all("diag" not in record for record in kept_records)


def test_anonymize_suppressed_quasi_identifier(tmp_path: Path) -> None:
    # `age` is a quasi-identifier that only the last record has. That record is
    # alone in its class and is suppressed, so the output has no `age`.
    records = [
        {"zip": "1", "diag": "a"},
        {"zip": "1", "diag": "b"},
        {"zip": "1", "diag": "a"},
        {"zip": "2", "age": 35, "diag": "a"},
    ]
    data = write_jsonl(tmp_path / "in.jsonl", records)
    policy = write_policy(
        tmp_path / "k2.yaml",
        "version: 1\ndefault: keep\nquasi_identifiers: [zip, age]\n"
        "privacy: {k: 2, suppression_limit: 0.5}\n",
    )
    output = tmp_path / "out.jsonl"

    result = run("anonymize", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 0, result.stderr
    assert len(output.read_text().splitlines()) == 3


def test_anonymize_stdin_error_names_stdin(tmp_path: Path) -> None:
    # measure and mask name standard input "<stdin>", but anonymize names its
    # temporary copy (/tmp/maskme-stdin-...), a path the user never gave.
    records = [{"age": 1, "n": None}, {"age": 2, "n": None}]
    text = "".join(json.dumps(record) + "\n" for record in records).encode()
    policy = write_policy(tmp_path / "k2.yaml", K2_POLICY)

    result = run("anonymize", "-", "-f", "jsonl", "-p", str(policy), stdin=text)

    assert result.returncode == 2
    assert "field not found in any record: diag" in result.stderr
    assert "<stdin>" in result.stderr
    assert "maskme-stdin-" not in result.stderr


def test_array_typo_reported_as_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Record 1 has a syntax error (`tru`), and the file is longer than the
    # record limit. The scanner keeps reading until the limit and then calls
    # record 1 too long, advising JSONL, instead of calling it invalid JSON.
    # The same happens without the patch on a 68 MiB file.
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 4096)
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    filler = [{"name": f"n{index}", "pad": "x" * 50} for index in range(200)]
    data = tmp_path / "typo.json"
    data.write_text('[{"name": "a", "v": tru},' + json.dumps(filler)[1:], encoding="utf-8")
    output = tmp_path / "out.json"

    with pytest.raises(maskme.FormatError) as caught:
        maskme.mask(str(data), KEEP_POLICY, str(output))

    assert "record 1" in str(caught.value)
    assert "invalid JSON" in str(caught.value)
    assert "JSONL" not in str(caught.value)
    assert not output.exists()


def test_array_limit_counts_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is compared with the decoded characters, so a record of 3-byte
    # characters passes at three times the limit in bytes, while an ASCII
    # record of 1.3 times the limit is rejected.
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 4096)
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    wide = [{"name": "a"}, {"name": "b", "pad": "\u4e2d" * 3000}, {"name": "c"}]
    data = tmp_path / "wide.json"
    data.write_text(json.dumps(wide, ensure_ascii=False), encoding="utf-8")
    assert len(json.dumps(wide[1], ensure_ascii=False).encode()) > 2 * 4096

    with pytest.raises(maskme.FormatError, match="record 2: no complete JSON object"):
        maskme.mask(str(data), KEEP_POLICY, str(tmp_path / "out.json"))


def test_mask_frame_destination_not_ignored(tmp_path: Path) -> None:
    # A DataFrame source with a file destination returns a DataFrame and writes
    # no file, without a warning. By contrast, output_format raises UsageError.
    frame = pl.DataFrame({"name": ["a", "b"], "age": [1, 2]})
    destination = tmp_path / "out.csv"
    policy = KEEP_POLICY + "fields:\n  name: {strategy: redact}\n"

    try:
        maskme.mask(frame, policy, str(destination))
    except maskme.UsageError:
        rejected = True
    else:
        rejected = False

    assert rejected or destination.exists()


def test_anonymize_tsv_output_is_tab_separated(tmp_path: Path) -> None:
    # anonymize accepts an output named .tsv for a comma-separated input, but
    # writes commas into it (mask writes tabs for the same name).
    data = tmp_path / "in.csv"
    data.write_text("age,diag\n1,a\n1,b\n2,a\n2,b\n", encoding="utf-8")
    policy = write_policy(tmp_path / "k2.yaml", K2_POLICY)
    output = tmp_path / "out.tsv"

    result = run("anonymize", str(data), "-p", str(policy), "-o", str(output), "-q")

    if result.returncode == 0:
        assert output.read_text().splitlines()[0] == "age\tdiag"
    else:
        assert result.returncode == 2
        assert not output.exists()


@pytest.mark.parametrize(
    "suffix",
    [
        ".tgz",  # gzip-compressed tar, like .tar.gz
        ".7z",  # 7-Zip archive
        ".lz4",  # LZ4-compressed file
    ],
)
def test_mask_rejects_more_compressed_names(tmp_path: Path, suffix: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text("name,age\na,1\n", encoding="utf-8")
    policy = write_policy(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / f"out{suffix}"

    result = run("mask", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 2
    assert not output.exists()


def test_key_file_unicode_spaces_missing(tmp_path: Path) -> None:
    # MASKME_KEY of two no-break spaces is missing, but a key file of the
    # same two characters (UTF-8) keys every hash.
    data = tmp_path / "in.csv"
    data.write_text("age,diag\n1,a\n", encoding="utf-8")
    key_file = tmp_path / "main.key"
    key_file.write_bytes("\u00a0\u00a0".encode())
    file_policy = write_policy(
        tmp_path / "file.yaml",
        KEEP_POLICY + f"keys:\n  main: {{file: {key_file}}}\n"
        "fields:\n  diag: {strategy: hash, key: main}\n",
    )
    env_policy = write_policy(
        tmp_path / "env.yaml",
        KEEP_POLICY + "keys:\n  main: {env: TRIAL_FOUR_KEY}\n"
        "fields:\n  diag: {strategy: hash, key: main}\n",
    )

    from_env = run("mask", str(data), "-p", str(env_policy), "-q", TRIAL_FOUR_KEY="\u00a0\u00a0")
    from_file = run("mask", str(data), "-p", str(file_policy), "-q")

    assert from_env.returncode == 2
    assert from_file.returncode == 2
    assert "is missing" in from_file.stderr


def test_punycode_error_quotes_no_data(tmp_path: Path) -> None:
    # The codec's own message is put in the error, and punycode's names the
    # character it rejected, here `#` from the value of record 1.
    data = tmp_path / "in.csv"
    data.write_text("age\nab-q#w\n", encoding="ascii")

    result = run("measure", str(data), "-q", "age", "--encoding", "punycode")

    assert result.returncode in (1, 2)
    assert "#" not in result.stderr


def test_ragged_semicolon_file_rejected(tmp_path: Path) -> None:
    # The delimiter is `;`, and records 2 and 3 have surplus fields. The
    # header has a comma, and comma splits most rows like the header and the
    # rest into fewer fields, so the file is read as one with commas. Each
    # surplus record gets a comma added, and the run succeeds.
    data = tmp_path / "in.csv"
    data.write_text(
        "name, first;city\nann, x;Paris\nbob;Rome;IT;x\ncid;Oslo;NO;y\ndan, y;Nice\nemi, z;Lyon\n",
        encoding="utf-8",
    )
    policy = write_policy(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run("mask", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode != 0 or output.read_text() == data.read_text()


# -- behaviours verified ---------------------------------------------------------


@pytest.fixture
def rare_jsonl(tmp_path: Path) -> Path:
    """1,001 records, and only the last has `diag`."""
    records: list[dict[str, Any]] = [
        {"age": index % 3, "name": SECRET_NAME} for index in range(1000)
    ]
    records.append({"age": 0, "name": SECRET_NAME, "diag": "a"})
    return write_jsonl(tmp_path / "rare.jsonl", records)


@pytest.mark.parametrize("batch_size", ["1", "2", "3"])
def test_rare_field_measured_at_small_batches(rare_jsonl: Path, batch_size: str) -> None:
    result = run(
        "measure", str(rare_jsonl), "-q", "age", "-s", "diag", "--json", "--batch-size", batch_size
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 1001


def test_rare_field_in_mask_report(rare_jsonl: Path, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "report.yaml", REPORT_POLICY)
    output = tmp_path / "out.jsonl"

    result = run(
        "mask",
        str(rare_jsonl),
        "-p",
        str(policy),
        "-o",
        str(output),
        "--report",
        str(tmp_path / "report.json"),
        "--batch-size",
        "2",
        "-q",
    )

    assert result.returncode == 0, result.stderr
    assert len(output.read_text().splitlines()) == 1001


def test_rare_field_in_anonymize(rare_jsonl: Path, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "k2.yaml", K2_POLICY)
    output = tmp_path / "out.jsonl"

    result = run(
        "anonymize",
        str(rare_jsonl),
        "-p",
        str(policy),
        "-o",
        str(output),
        "--batch-size",
        "3",
        "-q",
    )

    assert result.returncode == 0, result.stderr
    assert len(output.read_text().splitlines()) == 1001


@pytest.mark.parametrize(
    ("records", "fields"),
    [
        # a nested object path
        ([{"o": {"z": "1"}, "age": 1}, {"o": {"z": "2"}, "age": 1}], "age,o.z"),
        # one top-level key that contains a dot
        ([{"a.b": "1", "age": 1}, {"a.b": "2", "age": 1}], "age,a.b"),
        # a field present only as null
        ([{"n": None, "age": 1}, {"n": None, "age": 1}], "age,n"),
        # a path into a string, which has no keys
        ([{"s": "text", "age": 1}, {"s": "text", "age": 1}], "age,s.x"),
    ],
)
def test_present_fields_measured(
    tmp_path: Path, records: list[dict[str, Any]], fields: str
) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", records)

    result = run("measure", str(data), "-q", fields, "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 2


@pytest.mark.parametrize("command", ["measure", "mask", "anonymize"])
def test_absent_field_is_usage_error(tmp_path: Path, command: str) -> None:
    records = [{"age": 1, "name": SECRET_NAME}, {"age": 2, "name": SECRET_NAME}]
    data = write_jsonl(tmp_path / "in.jsonl", records)
    output = tmp_path / "out.jsonl"
    policy = write_policy(
        tmp_path / "p.yaml", K2_POLICY if command == "anonymize" else REPORT_POLICY
    )
    arguments = {
        "measure": ["measure", str(data), "-q", "age", "-s", "diag"],
        "mask": [
            "mask",
            str(data),
            "-p",
            str(policy),
            "-o",
            str(output),
            "--report",
            str(tmp_path / "r.json"),
        ],
        "anonymize": ["anonymize", str(data), "-p", str(policy), "-o", str(output)],
    }[command]

    result = run(*arguments)

    assert result.returncode == 2
    assert "field not found in any record: diag" in result.stderr
    assert SECRET_NAME not in result.stderr
    assert not output.exists()


@pytest.mark.parametrize("text", ["[]", "", "\n\n"])
def test_empty_json_measured(tmp_path: Path, text: str) -> None:
    data = tmp_path / "empty.json"
    data.write_text(text, encoding="utf-8")

    result = run(
        "measure",
        str(data),
        "-q",
        "age",
        "-s",
        "diag",
        "-f",
        "json" if text == "[]" else "jsonl",
        "--json",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 0


def test_frame_measure_with_null_column() -> None:
    frame = pl.DataFrame({"age": [1, 1], "diag": [None, None]})

    measurement = maskme.measure(
        frame, quasi_identifiers=["age"], sensitive_attributes=["diag"], batch_size=1
    )

    assert measurement.to_dict()["records"] == 2


@pytest.mark.parametrize(
    ("codec", "data_codec"),
    [
        ("utf-16", "utf-16"),  # with a byte order mark
        ("utf-16-le", "utf-16-le"),  # without one
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32"),
        ("utf-8-sig", "utf-8-sig"),
    ],
)
def test_unicode_encodings_masked(tmp_path: Path, codec: str, data_codec: str) -> None:
    data = tmp_path / "in.csv"
    data.write_bytes(f"name,city\n{SECRET_NAME},{SECRET_CITY}\n".encode(data_codec))
    policy = write_policy(
        tmp_path / "p.yaml", KEEP_POLICY + "fields:\n  name: {strategy: redact}\n"
    )
    output = tmp_path / "out.csv"

    result = run("mask", str(data), "-p", str(policy), "-o", str(output), "--encoding", codec, "-q")

    assert result.returncode == 0, result.stderr
    written = output.read_bytes().decode(data_codec).lstrip("\ufeff")
    assert written == f"name,city\n{'*' * len(SECRET_NAME)},{SECRET_CITY}\n"


def test_utf16_without_mark_is_invalid_input(tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    data.write_bytes(f"name\n{SECRET_NAME}\n".encode("utf-16-le"))

    result = run("measure", str(data), "-q", "name", "--encoding", "utf-16")

    assert result.returncode == 1
    assert "utf-16-le" in result.stderr
    assert SECRET_NAME not in result.stderr


@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib", "quopri"])
def test_non_text_codecs_rejected(tmp_path: Path, codec: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text(f"name\n{SECRET_NAME}\n", encoding="utf-8")

    result = run("measure", str(data), "-q", "name", "--encoding", codec)

    assert result.returncode == 2
    assert "is not a text encoding" in result.stderr
    assert SECRET_NAME not in result.stderr


@pytest.mark.parametrize("size", [3000, 5000])
def test_array_records_below_limit_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # With a limit of 4096 and reads of 1024 characters, records of up to the
    # limit plus one read pass.
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 4096)
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    records = [{"name": "a"}, {"name": "b", "pad": "p" * (size - 30)}, {"name": "c"}]
    data = tmp_path / "in.json"
    data.write_text(json.dumps(records), encoding="utf-8")
    output = tmp_path / "out.json"

    maskme.mask(str(data), KEEP_POLICY, str(output))

    assert json.loads(output.read_text()) == records


def test_array_record_over_limit_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_format, "MAX_RECORD_BYTES", 4096)
    monkeypatch.setattr(json_format, "READ_CHUNK", 1024)
    records = [{"name": "a"}, {"name": SECRET_NAME, "pad": "p" * 9000}, {"name": "c"}]
    data = tmp_path / "in.json"
    data.write_text(json.dumps(records), encoding="utf-8")
    output = tmp_path / "out.json"

    with pytest.raises(maskme.FormatError) as caught:
        maskme.mask(str(data), KEEP_POLICY, str(output))

    assert "record 2: no complete JSON object" in str(caught.value)
    assert SECRET_NAME not in str(caught.value)
    assert not output.exists()


def test_policy_surrogate_pair_key_and_value(tmp_path: Path) -> None:
    field = "n\U0001f600me"
    data = write_jsonl(tmp_path / "in.jsonl", [{field: "abc", "age": 1}])
    # json.dumps escapes both characters beyond U+FFFF as surrogate pairs.
    policy_text = json.dumps(
        {
            "version": 1,
            "default": "keep",
            "fields": {field: {"strategy": "redact", "mask_char": "\U0001f512"}},
        }
    )
    assert "\\ud83d\\ude00" in policy_text
    policy = write_policy(tmp_path / "p.json", policy_text)

    result = run("mask", str(data), "-p", str(policy), "-q")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {field: "\U0001f512" * 3, "age": 1}


def test_policy_error_line_after_surrogate_pair(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"n\U0001f600me": "abc", "age": 1}])
    policy = write_policy(
        tmp_path / "p.json",
        '{\n "version": 1,\n "default": "keep",\n "fields": {\n'
        '  "n\\ud83d\\ude00me": {"strategy": "redact"},\n  "age": {"strategy": "nosuch"}\n }\n}\n',
    )

    result = run("mask", str(data), "-p", str(policy), "-q")

    assert result.returncode == 2
    assert "p.json:6 (fields.age.strategy)" in result.stderr


def test_policy_lone_surrogate_matches_nothing(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"name": "abc"}])
    policy = write_policy(
        tmp_path / "p.json",
        '{"version": 1, "default": "keep", "fields": {"n\\ud83dme": {"strategy": "redact"}}}',
    )

    result = run("mask", str(data), "-p", str(policy), "-q")

    assert result.returncode == 2
    assert "matches nothing" in result.stderr


@pytest.mark.parametrize("name", ["out.parquet", "out.CSV.GZ", "out.zip", "out.xlsx"])
@pytest.mark.parametrize("command", ["mask", "anonymize"])
def test_unwritten_output_names_rejected(tmp_path: Path, name: str, command: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text("age,diag\n1,a\n1,b\n", encoding="utf-8")
    policy = write_policy(tmp_path / "p.yaml", K2_POLICY if command == "anonymize" else KEEP_POLICY)
    output = tmp_path / name

    result = run(command, str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 2
    assert "cannot write" in result.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("out.json", 0),  # the input's format
        ("out.txt", 0),  # a name of no format
        ("out.result", 0),  # an extension of no format
        ("out.jsonl", 2),  # another format
        ("out.csv", 2),
    ],
)
def test_anonymize_output_named_for_input(tmp_path: Path, name: str, status: int) -> None:
    data = tmp_path / "in.json"
    data.write_text(
        json.dumps([{"age": 1, "diag": "a"}, {"age": 1, "diag": "b"}]), encoding="utf-8"
    )
    policy = write_policy(tmp_path / "k2.yaml", K2_POLICY)
    output = tmp_path / name

    result = run("anonymize", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == status, result.stderr
    assert output.exists() == (status == 0)


def test_mask_frame_output_format_rejected() -> None:
    frame = pl.DataFrame({"name": ["a"]})

    with pytest.raises(maskme.UsageError, match="output format"):
        maskme.mask(frame, KEEP_POLICY, output_format="csv")


@pytest.mark.parametrize("value", [" ", "\t\t", "\u3000"])
def test_whitespace_env_key_is_missing(tmp_path: Path, value: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text("age,diag\n1,a\n", encoding="utf-8")
    policy = write_policy(
        tmp_path / "env.yaml",
        KEEP_POLICY
        + "keys:\n  main: {env: TRIAL_FOUR_KEY}\nfields:\n  diag: {strategy: hash, key: main}\n",
    )

    result = run("mask", str(data), "-p", str(policy), "-q", TRIAL_FOUR_KEY=value)

    assert result.returncode == 2
    assert "only whitespace" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("content", [b" ", b"  \r\n", b"\n\n", b"\x0b\x0c"])
def test_whitespace_key_file_is_missing(tmp_path: Path, content: bytes) -> None:
    data = tmp_path / "in.csv"
    data.write_text("age,diag\n1,a\n", encoding="utf-8")
    key_file = tmp_path / "main.key"
    key_file.write_bytes(content)
    policy = write_policy(
        tmp_path / "file.yaml",
        KEEP_POLICY
        + f"keys:\n  main: {{file: {key_file}}}\nfields:\n  diag: {{strategy: hash, key: main}}\n",
    )

    result = run("mask", str(data), "-p", str(policy), "-q")

    assert result.returncode == 2
    assert "only whitespace" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # semicolons, commas inside values, record 3 with a surplus field
        (
            "name;city;amount\nann;Paris, FR;1,5\nbob;Rome, IT;2,5\ncid;Oslo, NO;3,5;x\n",
            "record 3 (line 4) has 4 fields, the header has 3",
        ),
        # tabs, commas inside values
        (
            "name\tnote\nann\ta,b\nbob\tc,d\ncid\te,f\tg\n",
            "record 3 (line 4) has 3 fields, the header has 2",
        ),
        # commas, semicolons inside values
        (
            "name,note\nann,a;b\nbob,c;d\ncid,e;f,g\n",
            "record 3 (line 4) has 3 fields, the header has 2",
        ),
    ],
)
def test_surplus_field_record_named(tmp_path: Path, text: str, message: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text(text, encoding="utf-8")
    policy = write_policy(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run("mask", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 1
    assert message in result.stderr
    assert not output.exists()


def test_semicolon_values_with_commas_kept(tmp_path: Path) -> None:
    text = 'name;city\nann;"Paris; FR"\nbob;Rome, IT\ncid;Oslo, NO\n'
    data = tmp_path / "in.csv"
    data.write_text(text, encoding="utf-8")
    policy = write_policy(tmp_path / "keep.yaml", KEEP_POLICY)
    output = tmp_path / "out.csv"

    result = run("mask", str(data), "-p", str(policy), "-o", str(output), "-q")

    assert result.returncode == 0, result.stderr
    assert output.read_text() == text
