"""Run every command of docs/getting-started.md, in order, and check what it shows.

The page is parsed into steps: a fenced block preceded by
``<!-- file: NAME -->`` is saved as NAME, and each ``$ `` line of a
``console`` block is a command, followed by the output the page shows for it.
Blocks preceded by ``<!-- not run ... -->`` are skipped. Commands run one at a
time with ``bash`` in a temporary copy of ``examples/``, as real processes,
with the virtual environment's ``maskme`` and ``python`` first on ``PATH``.
``export NAME=VALUE`` commands change the environment of later commands, as in
a shell.

The output on the page is compared line by line with the real output,
ignoring trailing spaces. A line ``...`` matches any number of lines, and
``...`` inside a line matches any text. A command whose output on the page
starts with ``error:`` must fail, and every other command must succeed.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "getting-started.md"
# The key the test starts with. The page's own ``export`` replaces it.
TEST_KEY = "getting-started-test-key-0123456789abcdef"

FENCE = re.compile(r"^```(?P<info>[\w-]*)\s*$")
FILE_MARK = re.compile(r"^<!--\s*file:\s*(?P<name>\S+)\s*-->\s*$")
SKIP_MARK = re.compile(r"^<!--\s*not run\b.*-->\s*$")
EXPORT = re.compile(r"^export (?P<name>[A-Za-z_][A-Za-z0-9_]*)=")


@dataclass(frozen=True)
class Command:
    line: int
    command: str
    expected_output: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"line{self.line}-{self.command.split()[0]}"


@dataclass(frozen=True)
class SavedFile:
    line: int
    name: str
    text: str


Step = Command | SavedFile


def parse_page(text: str) -> list[Step]:
    """Split the page into files to save and commands with their expected output."""
    steps: list[Step] = []
    lines = text.splitlines()
    index = 0
    mark: str | None = None
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence is None:
            if FILE_MARK.match(line) or SKIP_MARK.match(line):
                mark = line
            elif line.strip():
                mark = None
            index += 1
            continue
        start = index + 1
        end = start
        while not lines[end].startswith("```"):
            end += 1
        body = lines[start:end]
        file_mark = FILE_MARK.match(mark or "")
        if file_mark:
            steps.append(SavedFile(start, file_mark["name"], "\n".join(body) + "\n"))
        elif fence["info"] == "console" and not SKIP_MARK.match(mark or ""):
            steps.extend(parse_console(body, start + 1))
        mark = None
        index = end + 1
    return steps


def parse_console(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    for offset, line in enumerate(body):
        if line.startswith("$ "):
            commands.append(Command(first_line + offset, line[2:], ()))
        elif commands:
            last = commands[-1]
            commands[-1] = Command(last.line, last.command, (*last.expected_output, line))
        else:
            raise AssertionError(f"line {first_line + offset}: output before any command")
    return commands


def output_pattern(expected_output: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for line in expected_output:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(piece) for piece in line.rstrip().split("..."))
            parts.append("[^\n]*?".join(pieces) + r"[ \t]*\n")
    return re.compile("".join(parts))


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (pytest-xdist workers wait for each other)."""
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Return a folder shared by every pytest-xdist worker of this session."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's base folder sits in the session's folder
    return root / name


STEPS = parse_page(PAGE.read_text(encoding="utf-8"))
COMMANDS = [step for step in STEPS if isinstance(step, Command)]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


@dataclass(frozen=True)
class Walkthrough:
    folder: Path
    outcomes: dict[int, Outcome]


def run_page(folder: Path) -> dict[int, Outcome]:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "MASKME_KEY": TEST_KEY}
    env.pop("PYTHONPATH", None)
    outcomes: dict[int, Outcome] = {}
    for step in STEPS:
        if isinstance(step, SavedFile):
            (folder / step.name).write_text(step.text, encoding="utf-8")
            continue
        result = subprocess.run(
            ["bash", "-c", step.command], cwd=folder, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )
        # Standard error follows standard output, since no command on the page shows both.
        outcomes[step.line] = Outcome(result.returncode, result.stdout + result.stderr)
        export = EXPORT.match(step.command)
        if export and result.returncode == 0:
            value = subprocess.run(
                ["bash", "-c", f'{step.command}; printf %s "${export["name"]}"'],
                cwd=folder, env=env, capture_output=True, text=True, check=True, timeout=60,
            ).stdout
            env[export["name"]] = value
    return outcomes


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Walkthrough:
    # The page runs once per test session, not once per worker: it takes a while.
    folder = session_folder(tmp_path_factory, "getting-started")
    results = folder.with_name("getting-started.json")
    with exclusive(folder.with_name("getting-started.lock")):
        if not results.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            shutil.copytree(REPO / "examples", folder / "examples",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            outcomes = run_page(folder)
            serialized = {line: [o.returncode, o.output] for line, o in outcomes.items()}
            results.write_text(json.dumps(serialized), encoding="utf-8")
    loaded = json.loads(results.read_text(encoding="utf-8"))
    outcomes = {int(line): Outcome(code, output) for line, (code, output) in loaded.items()}
    return Walkthrough(folder, outcomes)


def read_records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if path.suffix == ".json":
        return json.loads(text, parse_float=str, parse_int=str)
    return [json.loads(line, parse_float=str, parse_int=str)
            for line in text.splitlines() if line.strip()]


# -- the page itself ------------------------------------------------------------


def test_page_has_runnable_steps() -> None:
    names = [step.name for step in STEPS if isinstance(step, SavedFile)]
    assert names == ["my-policy.yaml", "my-json-policy.yaml", "mask_patients.py",
                     "mask_dataframes.py"]
    commands = " ".join(command.command for command in COMMANDS)
    for expected in ("maskme mask examples/data/patients.csv",
                     "maskme mask examples/data/patients.jsonl",
                     "maskme mask examples/data/patients.json",
                     "maskme mask - --format jsonl", "python mask_patients.py"):
        assert expected in commands
    assert "bash scripts/setup.sh" not in commands  # the install block is not run


def test_output_pattern_wildcards() -> None:
    pattern = output_pattern(("masked 3 records (... s)", "...", "end"))
    assert pattern.fullmatch("masked 3 records (0.12 s)\nline\nline\nend\n")
    assert pattern.fullmatch("masked 3 records (0.12 s)\nend\n")
    assert not pattern.fullmatch("masked 4 records (0.12 s)\nend\n")


@pytest.mark.parametrize("command", COMMANDS, ids=[command.id for command in COMMANDS])
def test_command_shows_documented_output(walkthrough: Walkthrough, command: Command) -> None:
    outcome = walkthrough.outcomes[command.line]
    expect_failure = bool(command.expected_output) and command.expected_output[0].startswith("error:")
    if expect_failure:
        assert outcome.returncode != 0, outcome.output
    else:
        assert outcome.returncode == 0, outcome.output
    assert output_pattern(command.expected_output).fullmatch(outcome.output), outcome.output


# -- what the commands wrote ------------------------------------------------------------


@pytest.mark.parametrize("name", ["patients.csv", "patients.jsonl", "patients.json",
                                  "piped.jsonl", "from-python.csv"])
def test_masked_file_keeps_every_record(walkthrough: Walkthrough, name: str) -> None:
    masked = read_records(walkthrough.folder / "out" / name)
    source = "patients" + Path(name).suffix
    original = read_records(walkthrough.folder / "examples" / "data" / source)
    assert len(masked) == len(original) == 10_000


def occurring(text: str, values: set[str]) -> list[str]:
    """Return the values that occur anywhere in ``text`` (one pass with Polars)."""
    lines = pl.Series("line", text.splitlines(), dtype=pl.String)
    found = lines.str.extract_many(sorted(values), overlapping=True).explode().drop_nulls()
    return sorted(set(found.to_list()))


@pytest.mark.parametrize("name", ["patients.csv", "patients.jsonl"])
def test_masked_file_changes_identifiers(walkthrough: Walkthrough, name: str) -> None:
    masked = read_records(walkthrough.folder / "out" / name)
    original = read_records(walkthrough.folder / "examples" / "data" / name)
    text = (walkthrough.folder / "out" / name).read_text(encoding="utf-8")
    assert set(masked[0]) == {"visit_id", "email", "phone", "ssn", "zip", "birth_date",
                              "visit_date", "sex", "diagnosis"}
    for before, after in zip(original, masked, strict=True):
        assert after["visit_id"] == before["visit_id"]
        for field in ("email", "ssn", "phone", "zip", "birth_date"):
            if before[field]:
                assert after[field] != before[field], field
    # Only values a hex digest cannot contain by chance are searched for in the text.
    for field in ("email", "ssn", "phone", "patient_id", "last_name"):
        originals = {record[field].strip() for record in original
                     if record[field] and len(record[field].strip()) >= 5}
        assert originals, field
        assert occurring(text, originals) == [], field


def test_masked_json_reaches_nested_fields(walkthrough: Walkthrough) -> None:
    masked = read_records(walkthrough.folder / "out" / "patients.json")
    original = read_records(walkthrough.folder / "examples" / "data" / "patients.json")
    text = (walkthrough.folder / "out" / "patients.json").read_text(encoding="utf-8")
    member_ids: set[str] = set()
    cards: set[str] = set()
    for before, after in zip(original, masked, strict=True):
        assert "first_name" not in after
        assert "notes" not in after
        if before["insurance"] is None:
            assert after["insurance"] is None
        else:
            assert after["insurance"]["provider"] == before["insurance"]["provider"]
            assert len(after["insurance"]["member_id"]) == 12
            member_ids.add(before["insurance"]["member_id"])
        for old, new in zip(before["payments"], after["payments"], strict=True):
            assert new["card_number"][-4:] == old["card_number"][-4:]
            assert new["amount"] == old["amount"]
            cards.add(old["card_number"])
    assert len(cards) > 2_000
    assert occurring(text, member_ids) == []
    assert occurring(text, cards) == []


def test_dataframe_keeps_its_kind(walkthrough: Walkthrough) -> None:
    command = next(c for c in COMMANDS if c.command == "python mask_dataframes.py")
    outcome = walkthrough.outcomes[command.line]
    assert outcome.returncode == 0, outcome.output
    lines = outcome.output.splitlines()
    assert lines[0] == "<class 'polars.dataframe.frame.DataFrame'> (10000, 9)"
    assert lines[-1] == "<class 'pandas.DataFrame'> (10000, 9)"


def test_key_file_gives_other_digests(walkthrough: Walkthrough) -> None:
    with_file = read_records(walkthrough.folder / "out" / "with-key-file.csv")
    with_walkthrough_key = read_records(walkthrough.folder / "out" / "patients.csv")
    assert len(with_file) == len(with_walkthrough_key) == 10_000
    for first, second in zip(with_file, with_walkthrough_key, strict=True):
        assert first["zip"] == second["zip"]
        if second["email"]:
            assert first["email"] != second["email"]


def test_failed_run_writes_nothing(walkthrough: Walkthrough) -> None:
    assert not (walkthrough.folder / "out" / "no-key.csv").exists()
    leftovers = [path.name for path in (walkthrough.folder / "out").iterdir()
                 if path.name.startswith(".") or "tmp" in path.name]
    assert leftovers == []
