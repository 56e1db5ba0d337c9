"""Run the commands of docs/anonymize.md and compare their output with the page.

A fenced block after ``<!-- file: NAME -->`` is saved as NAME. Each ``$ `` line
of a ``console`` block runs with ``bash`` in a folder that holds a copy of
``examples/data/adult``, and the lines after it are the output the page shows.
``...`` inside a shown line matches any text. Output starting with
``error:`` means the command must fail with exit status 3.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.anonymization.conftest import ADULT, ROOT

PAGE = ROOT / "docs" / "anonymize.md"
FILE_MARK = re.compile(r"^<!--\s*file:\s*(?P<name>\S+)\s*-->$")


def parse_page() -> tuple[dict[str, str], list[tuple[str, list[str]]]]:
    files: dict[str, str] = {}
    commands: list[tuple[str, list[str]]] = []
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    index = 0
    pending_file: str | None = None
    while index < len(lines):
        line = lines[index]
        mark = FILE_MARK.match(line.strip())
        if mark:
            pending_file = mark.group("name")
        elif line.startswith("```") and line.strip() != "```":
            info = line.strip("`").strip()
            end = lines.index("```", index + 1)
            body = lines[index + 1 : end]
            if pending_file is not None:
                files[pending_file] = "\n".join(body) + "\n"
            elif info == "console":
                for body_line in body:
                    if body_line.startswith("$ "):
                        commands.append((body_line[2:], []))
                    else:
                        commands[-1][1].append(body_line)
            pending_file = None
            index = end
        index += 1
    return files, commands


FILES, COMMANDS = parse_page()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(ADULT, folder / "data" / "adult")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_page_has_commands() -> None:
    assert len(COMMANDS) == 3
    assert set(FILES) == {"adult-k5.yaml", "adult-entropy.yaml", "adult-mondrian.yaml"}


@pytest.mark.parametrize(("command", "shown"), COMMANDS, ids=[c[0].split()[4] for c in COMMANDS])
def test_page_command_output(workspace: Path, command: str, shown: list[str]) -> None:
    bin_folder = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": bin_folder + os.pathsep + os.environ.get("PATH", "")}
    completed = subprocess.run(
        ["bash", "-c", command], check=False, cwd=workspace, capture_output=True, env=environment, timeout=120,
    )
    output = (completed.stdout + completed.stderr).decode().rstrip("\n").splitlines()

    if shown and shown[0].startswith("error:"):
        assert completed.returncode == 3
    else:
        assert completed.returncode == 0, completed.stderr.decode()
    assert len(output) == len(shown)
    for actual, expected in zip(output, shown, strict=True):
        pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
        assert re.fullmatch(pattern, actual.rstrip()), f"{actual!r} does not match {expected!r}"
