"""docs/measure.md shows real output: run its command and compare the table and the JSON."""

from __future__ import annotations

import json
import math
import re
import shlex

from tests.conftest import ROOT, run_cli

PAGE = ROOT / "docs" / "measure.md"


def page_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.DOTALL)


def first_command() -> tuple[list[str], list[str]]:
    """Return the first console block's command (after `maskme`) and its shown output lines."""
    lines = page_blocks("console")[0].splitlines()
    assert lines[0].startswith("$ maskme ")
    return shlex.split(lines[0][len("$ maskme ") :]), lines[1:]


def assert_contains(shown, actual, where="report"):  # type: ignore[no-untyped-def]
    """Every value shown is in the actual report; shown lists are prefixes of actual lists."""
    if isinstance(shown, dict):
        for key, value in shown.items():
            assert key in actual, f"{where}.{key} is not in the report"
            assert_contains(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert len(shown) <= len(actual), where
        for index, value in enumerate(shown):
            assert_contains(value, actual[index], f"{where}[{index}]")
    elif isinstance(shown, float):
        assert math.isclose(shown, actual, rel_tol=1e-12), where
    else:
        assert shown == actual, where


def test_page_table_matches_command_output():
    arguments, shown = first_command()
    # A plain, wide enough console, whatever the environment of the test run.
    done = run_cli(*arguments, cwd=ROOT, env={"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"})

    assert done.returncode == 0, done.stderr.decode()
    actual = [line.rstrip() for line in done.stdout.decode().splitlines()]
    assert actual == [line.rstrip() for line in shown]


def test_page_json_matches_command_report():
    arguments, _ = first_command()
    done = run_cli(*arguments, "--json", cwd=ROOT)
    shown = json.loads(page_blocks("json")[0])

    assert done.returncode == 0, done.stderr.decode()
    assert_contains(shown, json.loads(done.stdout))
