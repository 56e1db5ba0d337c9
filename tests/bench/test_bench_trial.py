"""A new user's trial of the benchmark tools: bench/generate.py, bench/run.py and the keyed hash.

The runner is started on a copy of bench/ whose pycanon virtualenv is a
stand-in script, so no test here needs pycanon or the package index. The
stand-in's k, l and t are fixed, so no test compares them with MaskMe's.
These tests assert no timings.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from maskme.strategies.hash import digest_hex_python, digest_hex_vectorized, plugin_available
from tests.conftest import load_bench_module

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
GENERATE = BENCH / "generate.py"
BENCH_KEY = "maskme-benchmark-key-not-a-secret-0001"

PYCANON_VALUES = {"records": 0, "read_seconds": 0.0, "k": 1, "k_seconds": 0.5, "l": 1,
                  "l_seconds": 0.5, "t": 1.0, "t_seconds": 0.5}
# Replaces bench/data/pycanon-venv/bin/python: it passes the runner's import
# check, prints a version, and prints fixed k, l and t for the sample.
PYCANON_STAND_IN = f"""#!/bin/sh
case "$*" in
  *pycanon_measure.py*) echo '{json.dumps(PYCANON_VALUES)}' ;;
  *metadata*) echo "0+stand-in" ;;
esac
exit 0
"""
# Starts the command in argv[1:] with SIGINT handled as in a terminal, even
# where the tests run with SIGINT ignored (a background job of a shell).
DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


run = load_bench_module("run")


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATE), *args], capture_output=True,
                          text=True, check=False, timeout=120)


def _bench_copy(tmp_path: Path) -> Path:
    """Copy bench/ to ``tmp_path/repo`` with this virtualenv and a pycanon stand-in.

    Returns the copy's root.
    """
    root = tmp_path / "repo"
    (root / "bench").mkdir(parents=True)
    for name in ("run.py", "generate.py", "analysis.md"):
        shutil.copy(BENCH / name, root / "bench" / name)
    for name in ("policies", "baselines"):
        shutil.copytree(BENCH / name, root / "bench" / name)
    (root / ".venv").symlink_to(Path(sys.prefix))
    stand_in = root / "bench" / "data" / "pycanon-venv" / "bin" / "python"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_text(PYCANON_STAND_IN, encoding="utf-8")
    stand_in.chmod(0o755)
    return root


def _start_runner(root: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", DEFAULT_SIGINT, str(root / ".venv" / "bin" / "python"),
               str(root / "bench" / "run.py"), *args]
    return subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    """Read the runner's stderr until a line contains ``text``, and return what was read."""
    assert process.stderr is not None
    seen = ""
    for line in process.stderr:
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"the runner ended before printing {text!r}:\n{seen}")


def _part_size(folder: Path) -> int:
    for part in folder.glob("*.part") if folder.is_dir() else ():
        try:
            return part.stat().st_size
        except FileNotFoundError:
            return -1
    return -1


def _signal_while_writing(process: subprocess.Popen[str], folder: Path, number: int) -> bool:
    """Send signal ``number`` while a ``.part`` table in ``folder`` grows (Polars is writing it).

    Returns False when the process ended before that happened.
    """
    deadline = time.monotonic() + 60
    last_size = -1
    while process.poll() is None and time.monotonic() < deadline:
        size = _part_size(folder)
        if size > 0 and last_size >= 0 and size != last_size:
            process.send_signal(number)
            return True
        last_size = size
        time.sleep(0.002)
    return False


def _start_generate(folder: Path, rows: int, file_format: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", DEFAULT_SIGINT, sys.executable, str(GENERATE),
               "--rows", str(rows), "--formats", file_format, "--out", str(folder)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run ``bench/run.py --quick`` at 2,000 records on a copy, and return the copy and its page."""
    root = _bench_copy(tmp_path_factory.mktemp("quick"))
    page = root / "page.md"
    process = _start_runner(root, "--quick", "--sizes", "2000", "--sample", "100",
                            "--output", str(page))
    _, errors = process.communicate(timeout=180)
    assert process.returncode == 0, errors
    return root, page.read_text(encoding="utf-8")


# -- the keyed hash ----------------------------------------------------------------

HOSTILE_VALUES = [
    "", " ", "a", "é", "Ａ", "ß", "😀", "🏳️‍🌈", "\x00", "a\x00b", "\r\n", "\u200b", "\ufeff",
    "\U0010ffff", "a\x00" * 1_000, "x" * 1_000_000, None,
]


@pytest.mark.skipif(not plugin_available(), reason="needs the polars-hash plugin")
@pytest.mark.parametrize("key", [
    BENCH_KEY.encode("utf-8"),
    b"k",  # shorter than SHA-256's block, padded by HMAC
    b"k" * 64,  # exactly one block
    b"k" * 1_000,  # longer than a block, hashed first by HMAC
    b"\x00key\x00",  # NUL bytes inside the key
    "clé-ü😀".encode(),  # multi-byte UTF-8
])
def test_hash_fallback_matches_plugin(key: bytes) -> None:
    values = pl.Series("value", HOSTILE_VALUES, dtype=pl.String)
    vectorized = digest_hex_vectorized(values, key).to_list()
    fallback = digest_hex_python(values, key, "hmac-sha256").to_list()
    expected = [None if value is None
                else hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
                for value in HOSTILE_VALUES]
    assert vectorized == expected
    assert fallback == expected


# -- bench/generate.py -------------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    (["--rows", "0"], "--rows must be at least 1"),
    (["--rows", "-5"], "--rows must be at least 1"),
    (["--rows", "abc"], "invalid int value: 'abc'"),
    (["--rows", "1e3"], "invalid int value: '1e3'"),
    (["--rows", "5", "--seed", "-1"], "--seed: expected 0 or more, got -1"),
    (["--rows", "5", "--seed", "x"], "invalid int value: 'x'"),
    (["--rows", "5", "--formats", "csv,xml"], "unknown format 'xml'"),
    (["--rows", "5", "--formats", ""], "unknown format ''"),
    (["--rows", "5", "--formats", "CSV"], "unknown format 'CSV'"),
])
def test_generate_rejects_bad_arguments(options: list[str], message: str, tmp_path: Path) -> None:
    result = _generate(*options, "--out", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_huge_seed_repeats_bytes(tmp_path: Path) -> None:
    seed = str(2**70)
    for folder in ("a", "b"):
        assert _generate("--rows", "300", "--seed", seed, "--out", str(tmp_path / folder)
                         ).returncode == 0
    for file_format in ("csv", "jsonl"):
        name = f"people-300-seed{seed}.{file_format}"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_generate_formats_contain_same_records(tmp_path: Path) -> None:
    assert _generate("--rows", "2000", "--out", str(tmp_path)).returncode == 0
    with (tmp_path / "people-2000.jsonl").open(encoding="utf-8") as stream:
        json_records = [json.loads(line) for line in stream]
    with (tmp_path / "people-2000.csv").open(encoding="utf-8", newline="") as stream:
        csv_records = list(csv.DictReader(stream))
    assert len(json_records) == len(csv_records) == 2000

    # CSV writes a null as an empty field, and JSON numbers as their text.
    as_text = [{name: "" if value is None else str(value) for name, value in record.items()}
               for record in json_records]
    assert as_text == csv_records

    types = {name: {type(record[name]).__name__ for record in json_records}
             for name in json_records[0]}
    assert types["id"] == types["age"] == {"int"}
    assert types["income"] == {"float"}
    assert types["phone"] == types["notes"] == {"str", "NoneType"}
    assert types["zip"] == types["ssn"] == {"str"}

    leading_zero = [record["zip"] for record in csv_records if record["zip"].startswith("0")]
    assert len(leading_zero) > 50
    assert all(len(record["zip"]) == 5 for record in csv_records)
    assert [r["zip"] for r in json_records if r["zip"].startswith("0")] == leading_zero


def test_generate_checks_existing_file(tmp_path: Path) -> None:
    assert _generate("--rows", "100", "--formats", "csv", "--out", str(tmp_path)).returncode == 0
    table = tmp_path / "people-100.csv"
    original = table.read_bytes()

    second_run = _generate("--rows", "100", "--formats", "csv", "--out", str(tmp_path))
    assert second_run.returncode == 0
    assert "exists and was kept" in second_run.stderr

    table.write_bytes(original[:5_000])
    truncated = _generate("--rows", "100", "--formats", "csv", "--out", str(tmp_path))
    assert truncated.returncode == 1
    assert "its last line has no line break" in truncated.stderr

    assert _generate("--rows", "50", "--formats", "csv", "--out", str(tmp_path)).returncode == 0
    shutil.copy(tmp_path / "people-50.csv", table)
    smaller = _generate("--rows", "100", "--formats", "csv", "--out", str(tmp_path))
    assert smaller.returncode == 1
    assert "expected the last record to have id 100" in smaller.stderr

    forced = _generate("--rows", "100", "--formats", "csv", "--out", str(tmp_path), "--force")
    assert forced.returncode == 0
    assert table.read_bytes() == original


def test_generate_directory_at_table_path(tmp_path: Path) -> None:
    (tmp_path / "people-20.jsonl").mkdir()
    result = _generate("--rows", "20", "--formats", "jsonl", "--out", str(tmp_path), "--force")
    assert result.returncode == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["people-20.jsonl"]
    assert f"{tmp_path / 'people-20.jsonl'} is a folder" in result.stderr


def test_generate_out_is_file_message(tmp_path: Path) -> None:
    regular_file = tmp_path / "notes.txt"
    regular_file.write_text("x\n", encoding="utf-8")
    result = _generate("--rows", "5", "--out", str(regular_file))
    assert result.returncode == 2
    assert f"--out: {regular_file} is a file; expected a folder" in result.stderr


def test_generate_sigint_leaves_no_part(tmp_path: Path) -> None:
    process = _start_generate(tmp_path, 100_000, "jsonl")
    signalled = _signal_while_writing(process, tmp_path, signal.SIGINT)
    process.communicate(timeout=60)
    assert signalled
    assert list(tmp_path.glob("*.part")) == []


def test_generate_sigterm_leaves_no_part(tmp_path: Path) -> None:
    process = _start_generate(tmp_path, 100_000, "jsonl")
    signalled = _signal_while_writing(process, tmp_path, signal.SIGTERM)
    process.communicate(timeout=60)
    assert signalled
    assert list(tmp_path.glob("*.part")) == []


# -- bench/run.py: options ---------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    (["--runs", "0"], "--runs: expected at least 1, got 0"),
    (["--runs", "x"], "expected a whole number, got 'x'"),
    (["--sizes", "5000,0"], "expected at least 1, got 0"),
    (["--sizes", "5000,,6000"], "expected a whole number, got ''"),
    (["--sizes", "1e4"], "expected a whole number, got '1e4'"),
    (["--sample", "20000"], "--sample (20,000) must be below the smallest size (20,000)"),
    (["--sizes", "9000,3000,9000", "--sample", "3000"],
     "--sample (3,000) must be below the smallest size (3,000)"),
])
def test_runner_rejects_bad_options(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.md"
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--output", str(page), *options])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not page.exists()


@pytest.mark.parametrize(("output", "message"), [
    ("missing/page.md", "folder {tmp}/missing does not exist"),
    ("", "{tmp} is a folder; expected a file name such as {tmp}/benchmarks.md"),
])
@pytest.mark.parametrize("render_only", [False, True])
def test_runner_checks_output_path(
    output: str, message: str, render_only: bool, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = ["--render-only"] if render_only else ["--quick"]
    with pytest.raises(SystemExit) as stopped:
        run.main([*options, "--output", str(tmp_path / output)])
    assert stopped.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


def test_render_only_without_saved_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--render-only", "--output", str(tmp_path / "page.md")]) == 1
    assert f"{tmp_path / 'page.md.json'} not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_render_only_quick_fresh_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fresh clone: the published page exists, bench/data does not.
    data = tmp_path / "bench" / "data"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n", encoding="utf-8")
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run, "DATA", data)
    monkeypatch.setattr(run, "PAGE", tmp_path / "docs" / "benchmarks.md")
    monkeypatch.setattr(run, "QUICK_PAGE", data / "benchmarks-quick.md")
    try:
        code = run.main(["--render-only", "--quick"])
    except SystemExit as stopped:
        code = stopped.code
    errors = capsys.readouterr().err
    assert code != 0
    assert "--output:" not in errors
    assert "not found" in errors


# Saved measurements whose loading creates the file named in argv[1].
MARKER_PICKLE = """
import pickle, sys
from pathlib import Path

class CreatesMarker:
    def __reduce__(self):
        return (Path.touch, (Path(sys.argv[1]),))

sys.stdout.buffer.write(pickle.dumps(CreatesMarker()))
"""


def test_render_only_runs_no_saved_code(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    payload = subprocess.run([sys.executable, "-c", MARKER_PICKLE, str(marker)],
                             capture_output=True, check=True).stdout
    (tmp_path / "page.md.json").write_bytes(payload)
    result = subprocess.run([sys.executable, str(BENCH / "run.py"), "--render-only", "--output",
                             str(tmp_path / "page.md")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 1
    assert not marker.exists()
    assert not (tmp_path / "page.md").exists()


@pytest.mark.parametrize("content", [
    b"",
    b"\x80\x04K\x05.",
    b'{"sizes": [5]}',
    b'{"format": "maskme-bench-results-1", "results": {"sizes": [5]}}',
    b'{"format": "maskme-bench-results-1", "results": {"__class__": "Sample"}}',
])
def test_render_only_damaged_saved_file(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "page.md.json").write_bytes(content)
    result = subprocess.run([sys.executable, str(BENCH / "run.py"), "--render-only", "--output",
                             str(tmp_path / "page.md")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "page.md.json: not measurements this script saved" in result.stderr
    assert not (tmp_path / "page.md").exists()


# -- bench/run.py: the quick page --------------------------------------------------

def test_quick_page_describes_policy(quick_run: tuple[Path, str]) -> None:
    _, page = quick_run
    policy = yaml.safe_load((BENCH / "policies" / "mask.yaml").read_text(encoding="utf-8"))
    fields = policy["fields"]
    assert sorted(fields) == sorted([
        "email", "ssn", "phone", "name", "income", "visit_date", "zip", "birth_date", "age"])
    # Each YAML setting, and the words of the page that describe it.
    described = [
        (fields["email"], {"strategy": "hash", "key": "bench", "normalize": ["strip", "lower"]},
         "keyed hash of `email` (normalized)"),
        (fields["ssn"], {"strategy": "hash", "key": "bench"}, "and `ssn`"),
        (fields["phone"], {"strategy": "redact", "keep_last": 4},
         "`redact` of `phone` (last 4 kept)"),
        (fields["name"], {"strategy": "drop"}, "`drop` of `name`"),
        (fields["income"], {"strategy": "noise", "distribution": "laplace"},
         "Laplace noise on `income`"),
        (fields["visit_date"], {"strategy": "noise", "days": 30},
         "a date shift of up to 30 days on `visit_date`"),
        (fields["zip"], {"strategy": "generalize", "prefix": 3}, "`zip` (3-digit prefix)"),
        (fields["birth_date"], {"strategy": "generalize", "truncate": "year"},
         "`birth_date` (year)"),
        (fields["age"], {"strategy": "generalize", "interval": 10}, "`age` (10-year interval)"),
    ]
    for params, expected, words in described:
        assert {name: params.get(name) for name in expected} == expected
        assert words in page


def _commands(page: str) -> list[str]:
    block = page.split("Commands (OUT is a temporary folder", 1)[1]
    return block.split("```\n", 2)[1].splitlines()


def test_quick_page_commands_run(quick_run: tuple[Path, str], tmp_path: Path) -> None:
    root, page = quick_run
    commands = _commands(page)
    assert len(commands) == 8
    env = {**run.os.environ, "MASKME_BENCH_KEY": BENCH_KEY}
    for command in commands:
        arguments = [part.replace("OUT/", f"{tmp_path}/") for part in shlex.split(command)]
        result = subprocess.run(arguments, cwd=root, env=env, capture_output=True, text=True,
                                check=False, timeout=120)
        assert result.returncode == 0, f"{command}\n{result.stderr}"

    source = pl.read_csv(root / "bench" / "data" / "people-2000.csv", infer_schema=False)
    masked = pl.read_csv(tmp_path / "mask.csv", infer_schema=False)
    key = BENCH_KEY.encode("utf-8")
    assert "name" not in masked.columns
    assert masked["email"].to_list() == [
        hmac.new(key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
        for value in source["email"]]
    assert masked["ssn"].to_list() == [
        hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        for value in source["ssn"]]
    assert masked["zip"].to_list() == [value[:3] + "**" for value in source["zip"]]
    assert masked["birth_date"].to_list() == [value[:4] for value in source["birth_date"]]
    assert masked["age"].to_list() == [
        f"[{int(value) // 10 * 10}, {int(value) // 10 * 10 + 10})" for value in source["age"]]
    assert masked["phone"].to_list() == [
        None if value is None else "*" * (len(value) - 4) + value[-4:]
        for value in source["phone"]]
    shifts = [(date.fromisoformat(after) - date.fromisoformat(before)).days
              for before, after in zip(source["visit_date"], masked["visit_date"], strict=True)]
    assert min(shifts) >= -30
    assert max(shifts) <= 30
    source_bytes = (root / "bench" / "data" / "people-2000.csv").read_bytes()
    assert (tmp_path / "keep.csv").read_bytes() == source_bytes


def _table_row(page: str, name: str) -> list[str]:
    match = re.search(rf"^\| {re.escape(name)} \|(.*)\|$", page, flags=re.MULTILINE)
    assert match is not None, name
    return [cell.strip() for cell in match.group(1).split("|")]


def test_quick_page_values_and_cleanup(quick_run: tuple[Path, str]) -> None:
    root, page = quick_run
    assert "equals its input byte for byte at 2,000 records: yes." in page
    assert "Skipped with `--quick`" in page
    assert "digests identical: yes" in page
    # k, l, t and classes of the command and of the in-process call on the same file.
    for label in ("2,000 records", "sample of 100"):
        command = _table_row(page, f"maskme measure, {label}")
        in_process = _table_row(page, f"maskme.measure in one process, {label}")
        assert command[3:] == in_process[3:]
    sample = root / "bench" / "data" / "people-2000-first-100.csv"
    assert len(sample.read_text(encoding="utf-8").splitlines()) == 101
    data = root / "bench" / "data"
    assert list(data.glob("maskme-bench-*")) == []
    assert list(data.glob("*.part")) == []


def test_quick_page_no_foreign_figures(quick_run: tuple[Path, str]) -> None:
    _, page = quick_run
    assert "the run on this page" not in page


# -- bench/run.py: interruptions ---------------------------------------------------

def test_runner_sigint_in_masking(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    page = root / "page.md"
    process = _start_runner(root, "--sizes", "2000", "--runs", "1", "--sample", "100",
                            "--output", str(page))
    _wait_for_line(process, "round 1/1 csv: maskme pass-through")
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "run.py: interrupted." in errors
    assert "Traceback" not in errors
    assert not page.exists()
    assert list((root / "bench" / "data").glob("maskme-bench-*")) == []


def test_runner_sigterm_in_generation(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    process = _start_runner(root, "--sizes", "100000", "--runs", "1", "--sample", "10",
                            "--output", str(root / "page.md"))
    signalled = _signal_while_writing(process, root / "bench" / "data", signal.SIGTERM)
    process.communicate(timeout=60)
    assert signalled
    assert process.returncode == 128 + signal.SIGTERM
    assert list((root / "bench" / "data").glob("*.part")) == []


def test_runner_sigint_in_generation(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    process = _start_runner(root, "--sizes", "100000", "--runs", "1", "--sample", "10",
                            "--output", str(root / "page.md"))
    signalled = _signal_while_writing(process, root / "bench" / "data", signal.SIGINT)
    process.communicate(timeout=60)
    assert signalled
    assert list((root / "bench" / "data").glob("*.part")) == []


def test_runner_sigterm_says_why(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    process = _start_runner(root, "--sizes", "2000", "--runs", "1", "--sample", "100",
                            "--output", str(root / "page.md"))
    _wait_for_line(process, "round 1/1 csv: maskme pass-through")
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "run.py: stopped by SIGTERM." in errors


def test_runner_sighup_removes_temporary_folder(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    process = _start_runner(root, "--sizes", "2000", "--runs", "1", "--sample", "100",
                            "--output", str(root / "page.md"))
    _wait_for_line(process, "round 1/1 csv: maskme pass-through")
    process.send_signal(signal.SIGHUP)
    process.communicate(timeout=60)
    # The measured command runs in a session of its own; give it time to end.
    time.sleep(2)
    assert list((root / "bench" / "data").glob("maskme-bench-*")) == []
