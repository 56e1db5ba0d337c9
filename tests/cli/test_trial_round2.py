"""Second trial of the command line and the JSON array reader, as a new user.

The cases sit next to the fixes of the first trial: delimiter spellings,
reports on standard output, replaced outputs, colour settings, closed and full
standard streams, and repeated list options. JSON arrays written as people and
tools write them (pretty-printed, nested arrays of objects, strings that look
like record ends) are checked against the same records as JSONL.
"""

from __future__ import annotations

import json
import os
import pty
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme.formats.json as json_format
from maskme.errors import MaskMeError
from maskme.formats.json import JsonArrayReader, dump_record
from tests.conftest import TEST_KEY

POLICY = (
    "version: 1\ndefault: keep\nkeys:\n  main: {env: MASKME_KEY}\n"
    "fields:\n  ssn: {strategy: hash, key: main}\n"
    "quasi_identifiers: [zip]\nsensitive_attributes:\n  diagnosis: {kind: categorical}\n"
    "privacy: {k: 2}\n"
)
RECORDS = (
    "zip,ssn,diagnosis\n"
    "02139,900-00-0001,flu\n02139,900-00-0002,cold\n"
    "02140,900-00-0003,flu\n02140,900-00-0004,cold\n"
)
# Nested arrays of objects, so the record-end search meets inner "}, {" and "}]".
NESTED_POLICY = (
    "version: 1\ndefault: keep\nkeys:\n  main: {env: MASKME_KEY}\n"
    "fields:\n"
    "  id: {strategy: hash, key: main, length: 12}\n"
    '  "orders[*].card": {strategy: redact, keep_last: 4}\n'
    '  "orders[*].items[*].sku": {strategy: hash, key: main, length: 8}\n'
    "  age: {strategy: generalize, interval: 10}\n"
    "quasi_identifiers: [zip, age, sex]\n"
    "sensitive_attributes:\n  diagnosis: {kind: categorical}\n"
    "privacy: {k: 2}\n"
)
# Strings that look like the end of a record, or of a nested array, to a byte search.
RECORD_END_LOOKALIKES = ["flu", "}, {", "}]", 'a"}, {"b', "},\n  {", "\\}, {"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "in.csv").write_text(RECORDS)
    (tmp_path / "p.yaml").write_text(POLICY)
    return tmp_path


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "MASKME_KEY": TEST_KEY, **extra}


def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
        stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "maskme", *args],
        stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
        cwd=cwd, env=env or environment(), timeout=120, check=False,
    )


def run_with_closed(descriptor: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run maskme with standard stream ``descriptor`` (0 or 1) closed, as ``>&-`` does."""
    return subprocess.run(
        ["sh", "-c", f'exec "$@" {descriptor}>&-', "sh", sys.executable, "-m", "maskme", *args],
        stdin=subprocess.DEVNULL,
        stdout=None if descriptor == "1" else subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd, env=environment(), timeout=120, check=False,
    )


def run_to_full_device(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run maskme with stdout on /dev/full, where every write fails with ENOSPC (a full disk)."""
    with open("/dev/full", "wb") as full:
        return run(*args, cwd=cwd, stdout=full)


def stderr_on_terminal(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """Run maskme with stderr on a pseudo-terminal; return the exit status and the transcript."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal, cwd=cwd, env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(controller)
    return process.returncode, b"".join(chunks)


# --- delimiters ---------------------------------------------------------------------


def test_output_delimiter_backslash_t(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "--output-delimiter", "\\t", cwd=workdir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == b"zip\tssn\tdiagnosis"
    assert lines[1].startswith(b"02139\t")
    assert lines[1].endswith(b"\tflu")


def test_delimiter_word_tab(workdir):
    (workdir / "in.tsv").write_text(RECORDS.replace(",", "\t"))
    done = run("mask", "in.tsv", "-p", "p.yaml", "-f", "csv", "--delimiter", "tab", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"zip\tssn\tdiagnosis\n02139\t")


@pytest.mark.parametrize(
    "delimiter",
    [
        "TAB",  # only the lower-case word means a tab
        "\\n",  # a line break cannot separate fields
        '"',  # nor can the quote character
        ";;",  # one character only
    ],
)
def test_bad_delimiter_usage_error(workdir, delimiter):
    done = run("mask", "in.csv", "-p", "p.yaml", "--delimiter", delimiter, cwd=workdir)
    assert done.returncode == 2
    assert b"delimiter must be one ASCII character" in done.stderr
    assert done.stdout == b""


def test_tsv_output_name_gets_tabs(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.tsv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / "out.tsv").read_bytes().startswith(b"zip\tssn\tdiagnosis\n")


def test_empty_batch_size_variable_default(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", cwd=workdir, env=environment(MASKME_BATCH_SIZE=""))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"zip,ssn,diagnosis\n")


# --- options given once or twice ---------------------------------------------------


def test_policy_equals_syntax_once(workdir):
    done = run("mask", "in.csv", "--policy=p.yaml", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"zip,ssn,diagnosis\n")


def measured_or_rejected(done: subprocess.CompletedProcess[bytes], option: bytes) -> Any:
    """Return the JSON measurement of a run with a repeated list option, or None if it was rejected.

    Either outcome is fine: a usage error that names the option, or a
    measurement of every field the repeats list. Dropping a repeat is not.
    """
    if done.returncode == 2:
        assert option in done.stderr
        return None
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_repeated_quasi_identifiers_not_dropped(workdir):
    done = run("measure", "in.csv", "-q", "zip", "-q", "diagnosis", "--json", cwd=workdir)
    measurement = measured_or_rejected(done, b"--quasi-identifiers")
    if measurement is not None:
        assert measurement["quasi_identifiers"] == ["zip", "diagnosis"]


def test_repeated_sensitive_not_dropped(workdir):
    done = run("measure", "in.csv", "-q", "zip", "-s", "diagnosis", "-s", "ssn", "--json", cwd=workdir)
    measurement = measured_or_rejected(done, b"--sensitive")
    if measurement is not None:
        names = [attribute["name"] for attribute in measurement["sensitive_attributes"]]
        assert names == ["diagnosis", "ssn"]


def test_two_hierarchies_one_field_rejected(workdir):
    (workdir / "h1.csv").write_text("flu,respiratory,*\ncold,respiratory,*\n")
    (workdir / "h2.csv").write_text("flu,a,*\ncold,b,*\n")
    done = run(
        "measure", "in.csv", "-q", "zip", "-s", "diagnosis",
        "--hierarchy", "diagnosis=h1.csv", "--hierarchy", "diagnosis=h2.csv", cwd=workdir,
    )
    assert done.returncode == 2
    assert b"--hierarchy" in done.stderr


# --- reports on standard output ----------------------------------------------------


def test_report_dash_goes_to_stdout(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "-", cwd=workdir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["records"] == 4
    assert report["destination"] == "out.csv"
    assert report["measurement"]["output"]["k_anonymity"]["k"] == 2
    assert (workdir / "out.csv").read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert not (workdir / "-").exists()


def test_report_dash_with_compare(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "-", "--compare",
               cwd=workdir)
    assert done.returncode == 0, done.stderr
    measurement = json.loads(done.stdout)["measurement"]
    assert measurement["input"]["records"] == 4
    assert measurement["output"]["records"] == 4


def test_anonymize_report_dash_to_stdout(workdir):
    done = run("anonymize", "in.csv", "-p", "p.yaml", "-o", "out.csv", "-q", "--report", "-",
               cwd=workdir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["records"] == 4
    assert report["destination"] == "out.csv"
    assert (workdir / "out.csv").read_bytes().startswith(b"zip,ssn,diagnosis\n")


@pytest.mark.parametrize("command", ["mask", "anonymize"])
def test_report_and_output_both_stdout_rejected(workdir, command):
    done = run(command, "in.csv", "-p", "p.yaml", "-o", "-", "--report", "-", cwd=workdir)
    assert done.returncode == 2
    assert b"cannot both go to standard output" in done.stderr
    assert done.stdout == b""


def test_report_dash_closed_stdout_named(workdir):
    done = run_with_closed("1", "mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "-",
                           cwd=workdir)
    assert done.returncode == 1
    assert (workdir / "out.csv").exists()
    assert b"report" in done.stderr
    assert b"the output was written" in done.stderr


# --- replaced outputs ------------------------------------------------------------------


def test_read_only_output_replaced_keeps_mode(workdir):
    output = workdir / "out.csv"
    output.write_text("old\n")
    output.chmod(0o400)
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert oct(output.stat().st_mode & 0o777) == oct(0o400)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_replaced_output_keeps_owner(workdir):
    output = workdir / "out.csv"
    output.write_text("old\n")
    os.chown(output, 65534, 65534)  # the "nobody" user and group on most Linux systems
    output.chmod(0o640)
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert output.stat().st_uid == 65534
    assert output.stat().st_gid == 65534


def test_symlinked_output_replaces_target(workdir):
    target = workdir / "target.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = workdir / "link.csv"
    link.symlink_to("target.csv")
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "link.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert os.readlink(link) == "target.csv"
    assert target.read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)


def test_dangling_symlink_output_creates_target(workdir):
    link = workdir / "link.csv"
    link.symlink_to("made.csv")
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "link.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert (workdir / "made.csv").read_bytes().startswith(b"zip,ssn,diagnosis\n")


def test_output_symlink_to_input_rejected(workdir):
    (workdir / "link.csv").symlink_to("in.csv")
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "link.csv", cwd=workdir)
    assert done.returncode == 2
    assert b"is the input file" in done.stderr
    assert (workdir / "in.csv").read_text() == RECORDS


# --- colour ------------------------------------------------------------------------------


def test_no_color_set_drops_colour(workdir):
    status, transcript = stderr_on_terminal("mask", "nope.csv", "-p", "p.yaml", "-q", cwd=workdir,
                                       env=environment(NO_COLOR="1", TERM="xterm"))
    assert status == 1
    assert transcript.startswith(b"error: input file not found")
    assert b"\x1b[" not in transcript


def test_no_color_empty_keeps_colour(workdir):
    status, transcript = stderr_on_terminal("mask", "nope.csv", "-p", "p.yaml", "-q", cwd=workdir,
                                       env=environment(NO_COLOR="", TERM="xterm"))
    assert status == 1
    assert transcript.startswith(b"\x1b[")
    assert b"input file not found" in transcript


# --- closed and full standard streams ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["mask", "in.csv", "-p", "p.yaml", "-o", "out.csv"],
        ["measure", "in.csv", "-p", "p.yaml", "--json"],
        ["anonymize", "in.csv", "-p", "p.yaml", "-o", "out.csv", "-q"],
    ],
)
def test_closed_stdin_policy_from_file(workdir, args):
    done = run_with_closed("0", *args, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert b"closed" not in done.stderr


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_closed_stdout_eager_option_error_line(workdir, option):
    done = run_with_closed("1", option, cwd=workdir)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert done.stderr.startswith(b"error: standard output is closed")


@pytest.mark.parametrize(
    "args",
    [
        ["mask", "in.csv", "-p", "p.yaml", "-o", "-"],
        ["measure", "in.csv", "-p", "p.yaml"],
        ["measure", "in.csv", "-p", "p.yaml", "--json"],
        ["schema"],
        ["--version"],
    ],
)
def test_full_stdout_error_line(workdir, args):
    done = run_to_full_device(*args, cwd=workdir)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert done.stderr.startswith(b"error: ")


def test_full_stdout_report_named(workdir):
    done = run_to_full_device("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "-",
                              cwd=workdir)
    assert done.returncode == 1
    assert (workdir / "out.csv").exists()
    assert b"Traceback" not in done.stderr
    assert b"report" in done.stderr


# --- JSON arrays against the same records as JSONL -----------------------------------------


def nested_records(count: int, seed: int) -> list[dict[str, Any]]:
    """Build records with nested arrays of objects and strings that look like record ends."""
    generator = random.Random(seed)
    records = []
    for index in range(count):
        orders = [
            {
                "card": f"4111 1111 1111 {generator.randint(1000, 9999)}",
                "amount": round(generator.uniform(1, 500), 2),
                "items": [{"sku": "x}, {y", "n": 1}, {"sku": "}]", "n": 2}],
            }
            for _ in range(generator.randint(0, 3))
        ]
        record: dict[str, Any] = {
            "id": f"R{index:05d}",
            "zip": generator.choice(["02139", "02140"]),
            "age": generator.randint(20, 59),
            "sex": generator.choice("FM"),
            "diagnosis": generator.choice(RECORD_END_LOOKALIKES),
            "orders": orders,
            "note": generator.choice(["", None, "é😀", "line\nbreak", "1.10"]),
        }
        if index % 7 == 0:
            record["extra"] = {"deep": [[{"a": 1}], [], [{}]]}
        records.append(record)
    return records


# Each layout is one way people and tools write a JSON array.
LAYOUTS = {
    "compact": {"separators": (",", ":"), "ensure_ascii": False},
    "spaced": {},  # json.dumps defaults: ", " and ": ", ASCII escapes
    "indent2": {"indent": 2, "ensure_ascii": False},
    "tabs": {"indent": "\t"},
}


@pytest.fixture(scope="module")
def nested_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nested")
    records = nested_records(600, seed=7)
    (folder / "records.jsonl").write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8"
    )
    for name, options in LAYOUTS.items():
        (folder / f"{name}.json").write_text(json.dumps(records, **options), encoding="utf-8")
    (folder / "p.yaml").write_text(NESTED_POLICY)
    return folder


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_json_array_masks_like_jsonl(nested_files, layout):
    reference = run("mask", "records.jsonl", "-p", "p.yaml", "-o", "-", "--output-format", "jsonl",
                    cwd=nested_files)
    done = run("mask", f"{layout}.json", "-p", "p.yaml", "-o", "-", "--output-format", "jsonl",
               cwd=nested_files)
    assert reference.returncode == 0, reference.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout == reference.stdout
    masked = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(masked) == 600
    cards = [order["card"] for record in masked for order in record["orders"]]
    assert cards
    assert all(card[:15] == "*" * 15 and card[15:].isdigit() for card in cards)


def test_json_array_stdin_crlf_bom_like_jsonl(nested_files):
    # As a Windows tool writes it: a byte order mark, CRLF line ends, pretty-printed.
    text = (nested_files / "indent2.json").read_text(encoding="utf-8").replace("\n", "\r\n")
    reference = run("mask", "records.jsonl", "-p", "p.yaml", "-o", "-", "--output-format", "jsonl",
                    cwd=nested_files)
    done = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", "-", "-f", "json", "-p", "p.yaml", "-o", "-",
         "--output-format", "jsonl"],
        input=text.encode("utf-8-sig"), capture_output=True, cwd=nested_files,
        env=environment(), timeout=120, check=False,
    )
    assert reference.returncode == 0, reference.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout == reference.stdout


@pytest.mark.parametrize("layout", ["compact", "indent2"])
def test_json_array_measures_like_jsonl(nested_files, layout):
    reference = run("measure", "records.jsonl", "-p", "p.yaml", "--json", cwd=nested_files)
    done = run("measure", f"{layout}.json", "-p", "p.yaml", "--json", cwd=nested_files)
    assert reference.returncode == 0, reference.stderr
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(reference.stdout)
    assert json.loads(done.stdout)["records"] == 600


def test_json_array_anonymizes_like_jsonl(nested_files):
    reference = run("anonymize", "records.jsonl", "-p", "p.yaml", "-o", "-", "-q", cwd=nested_files)
    done = run("anonymize", "indent2.json", "-p", "p.yaml", "-o", "-", "-q", cwd=nested_files)
    assert reference.returncode == 0, reference.stderr
    assert done.returncode == 0, done.stderr
    by_lines = [json.loads(line) for line in reference.stdout.splitlines()]
    # The output keeps the input's format: a JSON array here.
    assert done.stdout.startswith(b"[\n")
    assert json.loads(done.stdout) == by_lines
    assert len(by_lines) == 600


def read_dumped(path: Path, *, parse_runs: bool) -> tuple[Any, ...]:
    """Return the dumped records and bytes_read, or the error, reading in batches of 5."""
    reader = JsonArrayReader(path, parse_runs=parse_runs)
    try:
        dumped = [dump_record(record) for batch in reader.batches(5) for record in batch.records]
    except MaskMeError as error:
        return ("error", str(error))
    return ("records", dumped, reader.bytes_read)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_small_chunks_read_like_reference(nested_files, layout, monkeypatch):
    # Chunks of 4 KiB put many chunk ends inside nested arrays and lookalike strings.
    monkeypatch.setattr(json_format, "READ_CHUNK", 4096)
    path = nested_files / f"{layout}.json"
    by_runs = read_dumped(path, parse_runs=True)
    by_records = read_dumped(path, parse_runs=False)
    assert by_runs == by_records
    assert by_runs[0] == "records"
    assert len(by_runs[1]) == 600


# Values that nest objects in arrays and carry record-end lookalikes in keys and strings.
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(RECORD_END_LOOKALIKES),
    st.text(alphabet="{}[],:\" \\\nxé", max_size=8),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "}, {", "}]", "b"]), children, max_size=3),
        st.lists(st.dictionaries(st.sampled_from(["c", "}"]), children, max_size=2), max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(st.dictionaries(st.sampled_from(["id", "x}, {", "orders"]), JSON_VALUES),
                     min_size=1, max_size=12),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    chunk=st.sampled_from([7, 64, 512]),
)
def test_generated_arrays_read_like_reference(tmp_path, monkeypatch, records, indent, chunk):
    monkeypatch.setattr(json_format, "READ_CHUNK", chunk)
    path = tmp_path / "generated.json"
    path.write_text(json.dumps(records, indent=indent, ensure_ascii=False), encoding="utf-8")
    by_runs = read_dumped(path, parse_runs=True)
    assert by_runs == read_dumped(path, parse_runs=False)
    assert by_runs[0] == "records"
    assert [json.loads(line) for line in by_runs[1]] == records


def test_pretty_nested_array_read_in_runs(tmp_path, monkeypatch):
    # Each record contains an array of 50 objects, so a buffer end almost always falls
    # after three or more "}," that close a nested object.
    records = [{"id": index, "items": [{"n": item} for item in range(50)]} for index in range(1500)]
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    one_by_one = 0
    decode_record = json_format._ArrayScanner._decode_record

    def counting(scanner: Any, number: int) -> Any:
        nonlocal one_by_one
        one_by_one += 1
        return decode_record(scanner, number)

    monkeypatch.setattr(json_format._ArrayScanner, "_decode_record", counting)
    read = sum(len(batch.records) for batch in JsonArrayReader(path).batches(16384))
    assert read == 1500
    # The file spans three buffers; a few records at each buffer end may go one by one.
    assert one_by_one <= 150


# --- messages that name what failed -------------------------------------------------------


def test_hierarchy_argument_escaped_on_terminal(workdir):
    argument = "diagnosis\x1b]0;title\x07"
    status, transcript = stderr_on_terminal(
        "measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--hierarchy", argument,
        cwd=workdir, env=environment(TERM="xterm"),
    )
    assert status == 2
    assert b"--hierarchy" in transcript
    assert b"\x1b]0;" not in transcript
    assert b"\x07" not in transcript


@pytest.mark.parametrize(
    "population",
    [
        "folder",  # a folder where the counts file should be
        "/proc/self/mem",  # reading it fails with EIO
    ],
)
def test_unreadable_population_named(workdir, population):
    (workdir / "folder").mkdir()
    done = run("measure", "in.csv", "-q", "zip", "--population", population, cwd=workdir)
    assert done.returncode in (1, 2)
    assert done.stderr.startswith(b"error: ")
    assert b"population" in done.stderr


@pytest.mark.parametrize("layout", ["compact", "indent2"])
def test_json_array_as_jsonl_suggests_json(nested_files, layout):
    done = run("mask", f"{layout}.json", "-f", "jsonl", "-p", "p.yaml", "-o", "-", cwd=nested_files)
    assert done.returncode == 1
    assert b"line 1" in done.stderr
    assert b"--format json" in done.stderr


@pytest.mark.parametrize(
    "text",
    [
        "\n" * 100 + '[{"ssn": "1"}, {"ssn": "2"}]\n',  # an array after blank lines
        " \n" * 40 + '{"ssn": "1"}\n{"ssn": "2"}\n',  # JSONL ignores blank lines
    ],
)
def test_stdin_json_after_blank_lines_detected(workdir, text):
    (workdir / "r.yaml").write_text("version: 1\ndefault: keep\nfields:\n  ssn: {strategy: redact}\n")
    done = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", "-", "-p", "r.yaml", "-o", "-", "--output-format", "jsonl"],
        input=text.encode(), capture_output=True, cwd=workdir, env=environment(), timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b'{"ssn":"*"}\n{"ssn":"*"}\n'


def test_jsonl_as_json_suggests_jsonl(nested_files):
    done = run("mask", "records.jsonl", "-f", "json", "-p", "p.yaml", "-o", "-", cwd=nested_files)
    assert done.returncode == 1
    assert b"line 1" in done.stderr
    assert b"--format jsonl" in done.stderr
    assert done.stdout == b""
