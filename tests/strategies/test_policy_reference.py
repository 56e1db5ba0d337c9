"""Run the strategy examples of docs/policy.md and compare with the outputs the page shows.

An example is a YAML policy block followed by a table whose last column is
``output``. The other columns are input fields, and ``output`` is the result
of the first field under ``fields:``. A cell in backticks is a value (read
as CommonMark renders inline code), and a bare ``null`` is a missing value.
A fenced block preceded by ``<!-- file: NAME -->`` is saved as NAME next to
the policy, for hierarchy files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml

import maskme

PAGE = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
#: The key the page names as the one its tables were computed with.
DOC_KEY = "docs-example-key-0123456789abcdef"

FENCE = re.compile(r"^```(?P<info>[\w-]*)\s*$")
FILE_MARK = re.compile(r"^<!--\s*file:\s*(?P<name>\S+)\s*-->\s*$")


@dataclass(frozen=True)
class Example:
    line: int
    policy: str
    files: dict[str, str]
    columns: list[str]
    rows: list[list[str | None]]


def read_cell(cell: str) -> str | None:
    """Return the value a table cell shows: inline code as CommonMark renders it, or None."""
    cell = cell.strip()
    if cell == "null":
        return None
    if not (len(cell) >= 2 and cell.startswith("`") and cell.endswith("`")):
        raise ValueError(f"expected `value` or null in an example table, got {cell!r}")
    inner = cell[1:-1]
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    return inner


def split_row(line: str) -> list[str]:
    return [cell for cell in line.strip().strip("|").split("|")]


def parse_examples(text: str) -> list[Example]:
    """Collect every policy block with the example tables that follow it."""
    lines = text.splitlines()
    examples: list[Example] = []
    files: dict[str, str] = {}
    policy: str | None = None
    file_name: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        mark = FILE_MARK.match(line)
        fence = FENCE.match(line)
        if mark:
            file_name = mark.group("name")
        elif fence:
            end = index + 1
            while not lines[end].startswith("```"):
                end += 1
            block = "\n".join(lines[index + 1:end]) + "\n"
            if fence.group("info") == "yaml" and re.search(r"^version:\s*1", block, re.MULTILINE):
                policy = block
            elif file_name is not None:
                files[file_name] = block
            file_name = None
            index = end
        elif line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("| ---"):
            columns = [cell.strip().strip("`") for cell in split_row(line)]
            end = index + 2
            rows = []
            while end < len(lines) and lines[end].startswith("|"):
                rows.append(split_row(lines[end]))
                end += 1
            if columns[-1] == "output":
                assert policy is not None, f"line {index + 1}: example table without a policy"
                parsed = [[read_cell(cell) for cell in row] for row in rows]
                examples.append(Example(index + 1, policy, dict(files), columns, parsed))
            index = end - 1
        index += 1
    return examples


EXAMPLES = parse_examples(PAGE.read_text(encoding="utf-8"))


def run_example(example: Example, folder: Path) -> list[str | None]:
    """Mask the example's input columns with its policy and return the first field's output."""
    for name, text in example.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    policy_path = folder / "policy.yaml"
    policy_path.write_text(example.policy, encoding="utf-8")
    target = next(iter(yaml.safe_load(example.policy)["fields"]))

    inputs = example.columns[:-1]
    frame = pl.DataFrame(
        {name: [row[position] for row in example.rows] for position, name in enumerate(inputs)},
        schema={name: pl.String for name in inputs},
    )
    masked = maskme.mask(frame, maskme.Policy.from_yaml(policy_path))
    return masked.get_column(target).to_list()


def test_page_has_examples_of_every_strategy():
    strategies = set()
    for example in EXAMPLES:
        rules = yaml.safe_load(example.policy)["fields"]
        strategies.add(rules[next(iter(rules))]["strategy"])
    assert {"hash", "redact", "noise", "generalize"} <= strategies
    assert f"MASKME_KEY={DOC_KEY}" in PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{e.line}" for e in EXAMPLES])
def test_example_output_matches_page(example, tmp_path, monkeypatch):
    monkeypatch.setenv("MASKME_KEY", DOC_KEY)
    expected = [row[-1] for row in example.rows]
    assert run_example(example, tmp_path) == expected
