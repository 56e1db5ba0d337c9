"""A second trial of the benchmark tools: saved measurements, signals and small-size pages.

Every runner here starts on a copy of bench/ whose pycanon virtualenv is the
stand-in script of test_bench_trial.py, so no test needs pycanon or the
package index. No test asserts a timing.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_bench_trial import (
    _bench_copy,
    _start_generate,
    _start_runner,
    _table_row,
    _wait_for_line,
)

ROOT = Path(__file__).resolve().parents[2]
ANALYSIS_HEADING = next(
    line for line in (ROOT / "bench" / "analysis.md").read_text(encoding="utf-8").splitlines()
    if line.startswith("#")
)


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Run the runner at 1,000 and 2,000 records on a copy, and return the copy and its page."""
    root = _bench_copy(tmp_path_factory.mktemp("two-sizes"))
    page = root / "page.md"
    process = _start_runner(root, "--quick", "--sizes", "1000,2000", "--sample", "50",
                            "--output", str(page))
    _, errors = process.communicate(timeout=180)
    assert process.returncode == 0, errors
    return root, page


def _render_only(root: Path, page: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(root / ".venv" / "bin" / "python"), str(root / "bench" / "run.py"), "--render-only",
         "--output", str(page)],
        cwd=root, capture_output=True, text=True, check=False, timeout=60,
    )


def _saved(root: Path) -> dict[str, Any]:
    return json.loads((root / "page.md.json").read_text(encoding="utf-8"))


def _commands_block(page: str) -> str:
    return page.split("Commands (OUT is a temporary folder", 1)[1]


def _processes_mentioning(text: str) -> list[str]:
    """Return the command lines of running processes that contain ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


def _wait_for_no_processes(text: str) -> list[str]:
    """Wait up to 10 s for processes whose command line contains ``text`` to end."""
    deadline = time.monotonic() + 10
    while (left := _processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


# -- the page of a run at sizes below the full ones --------------------------------

def test_larger_size_measure_row(two_sizes: tuple[Path, Path]) -> None:
    root, page_path = two_sizes
    page = page_path.read_text(encoding="utf-8")
    table = page.split("## Measurement: k, l and t", 1)[1].split("\n\n")[2].splitlines()
    names = [line.split(" | ")[0].lstrip("| ") for line in table[2:]]
    assert names == [
        "maskme measure, 1,000 records",
        "maskme.measure in one process, 1,000 records",
        "maskme measure, 2,000 records",
        "maskme measure, sample of 50",
        "maskme.measure in one process, sample of 50",
        "pycanon k, l, t, sample of 50 (baseline c)",
    ]

    table_path = root / "bench" / "data" / "people-2000.csv"
    direct = subprocess.run(
        [str(root / ".venv" / "bin" / "maskme"), "measure", str(table_path), "-q",
         "age,gender,state,city", "-s", "diagnosis", "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    report = json.loads(direct.stdout)
    row = _table_row(page, "maskme measure, 2,000 records")
    assert row[3] == str(report["k_anonymity"]["k"])
    assert row[4] == str(report["sensitive_attributes"][0]["distinct_l"])
    assert row[5] == f"{report['sensitive_attributes'][0]['t_closeness']:.6f}"
    assert row[6] == str(report["k_anonymity"]["classes"])
    assert "bench/data/people-2000.csv -q age,gender,state,city" in page


def test_small_run_page_points_to_analysis(two_sizes: tuple[Path, Path]) -> None:
    _, page_path = two_sizes
    page = page_path.read_text(encoding="utf-8")
    assert ANALYSIS_HEADING not in page
    assert page.rstrip().endswith("not from this run.")
    assert "shown in `docs/benchmarks.md`" in page


def test_small_run_page_intro_true(two_sizes: tuple[Path, Path]) -> None:
    _, page_path = two_sizes
    page = page_path.read_text(encoding="utf-8")
    assert "The sections after it come from `bench/analysis.md`" not in page


def test_full_sizes_page_includes_analysis(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = two_sizes
    document = _saved(root)
    # The same measurements, marked as planned at the full sizes.
    document["results"]["planned_sizes"] = [1_000_000, 10_000_000]
    page = tmp_path / "page.md"
    (tmp_path / "page.md.json").write_text(json.dumps(document), encoding="utf-8")
    result = _render_only(root, page)
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert ANALYSIS_HEADING in text
    assert "not from this run." not in text


# -- --render-only on saved measurements -------------------------------------------

def test_render_only_same_bytes(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, page = two_sizes
    copy_page = tmp_path / "page.md"
    shutil.copy(root / "page.md.json", tmp_path / "page.md.json")
    result = _render_only(root, copy_page)
    assert result.returncode == 0, result.stderr
    assert copy_page.read_bytes() == page.read_bytes()
    assert _saved(root)["format"] == "maskme-bench-results-1"


def test_render_only_other_checkout(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, page = two_sizes
    other = tmp_path / "other"
    shutil.copytree(root, other, symlinks=True)
    result = _render_only(other, other / "page.md")
    assert result.returncode == 0, result.stderr
    text = (other / "page.md").read_text(encoding="utf-8")
    assert str(root) not in _commands_block(text)
    assert text == page.read_text(encoding="utf-8")


def _masking_benchmark(document: dict[str, Any], index: int) -> dict[str, Any]:
    return document["results"]["masking"]["__items__"][0][1][index]


def _set_wall(document: dict[str, Any], index: int, wall: Any) -> None:
    for sample in _masking_benchmark(document, index)["samples"]:
        sample["wall"] = wall


# Edits of a real saved file.
REJECTED_EDITS = {
    "unknown class": lambda doc: _masking_benchmark(doc, 0).update({"__class__": "Popen"}),
    "class not a string": lambda doc: _masking_benchmark(doc, 0).update({"__class__": []}),
    "items a number": lambda doc: doc["results"].update({"masking": {"__items__": 5}}),
    "items of three": lambda doc: doc["results"].update({"masking": {"__items__": [[1, 2, 3]]}}),
    "items key a list": lambda doc: doc["results"].update({"masking": {"__items__": [[[1], 2]]}}),
    "path a number": lambda doc: doc["results"].update({"output_dir": [{"__path__": 5}]}),
    "no samples": lambda doc: _masking_benchmark(doc, 0).update({"samples": []}),
    "t a string": lambda doc: doc["results"]["measure_rows_table"][0][1].update({"t": "x"}),
    "sizes as text": lambda doc: doc["results"].update({"sizes": ["2000"]}),
    "results a list": lambda doc: doc.update({"results": []}),
    "old format mark": lambda doc: doc.update({"format": "maskme-bench-results-0"}),
}


def test_render_only_ignores_extra_fields(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, page = two_sizes
    document = _saved(root)
    _masking_benchmark(document, 0).update({"unused": 1, "__dict__": {}})
    document["unused"] = True
    (tmp_path / "page.md.json").write_text(json.dumps(document), encoding="utf-8")
    result = _render_only(root, tmp_path / "page.md")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "page.md").read_bytes() == page.read_bytes()


def _deeply_nested(document: dict[str, Any]) -> str:
    return '{"format": "maskme-bench-results-1", "results": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _missing_table(document: dict[str, Any]) -> None:
    # Measurements of a size whose table is gone and whose file sizes were not saved.
    del document["results"]["file_mb"]
    document["results"]["sizes"] = [7]
    document["results"]["masking"]["__items__"][0][0] = 7


# Damaged saved files that once ended render-only with a traceback.
CRASHING_FILES = {
    "nesting 100,000 deep": _deeply_nested,
    "wall time 0": lambda doc: _set_wall(doc, 0, 0),
    "wall time 10**400": lambda doc: _set_wall(doc, 1, 10**400),
    "peak 10**400": lambda doc: _masking_benchmark(doc, 1)["samples"][0].update(
        {"peak_mb": 10**400}),
    "missing table and sizes": _missing_table,
    "lone surrogate in command": lambda doc: doc["results"].update({"command": "\ud800"}),
}


# Every damaged file, edited or crashing, gets the same one-line message.
DAMAGED_FILES = {**REJECTED_EDITS, **CRASHING_FILES}


@pytest.mark.parametrize("damage", DAMAGED_FILES, ids=list(DAMAGED_FILES))
def test_render_only_rejects_damaged_file(damage: str, two_sizes: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    root, _ = two_sizes
    document = copy.deepcopy(_saved(root))
    text = DAMAGED_FILES[damage](document)
    if text is None:
        text = json.dumps(document)
    (tmp_path / "page.md.json").write_text(text, encoding="utf-8")
    result = _render_only(root, tmp_path / "page.md")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "page.md.json: not measurements this script saved" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["page.md.json"]


def test_render_only_rejects_nan(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = two_sizes
    document = _saved(root)
    _set_wall(document, 0, float("nan"))
    (tmp_path / "page.md.json").write_text(json.dumps(document), encoding="utf-8")
    result = _render_only(root, tmp_path / "page.md")
    assert result.returncode == 1
    assert not (tmp_path / "page.md").exists()


# -- messages ----------------------------------------------------------------------

def test_output_under_file_message(two_sizes: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = two_sizes
    regular_file = tmp_path / "notes.txt"
    regular_file.write_text("x\n", encoding="utf-8")
    result = _render_only(root, regular_file / "page.md")
    assert result.returncode == 2
    assert f"{regular_file} is not a folder" in result.stderr


def test_generate_out_under_file_message(tmp_path: Path) -> None:
    regular_file = tmp_path / "notes.txt"
    regular_file.write_text("x\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", "5", "--out",
         str(regular_file / "tables")],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot write to {regular_file / 'tables'}: Not a directory" in result.stderr


def test_generate_folder_at_table_no_force(tmp_path: Path) -> None:
    (tmp_path / "people-5.csv").mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", "5", "--formats", "csv",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 1
    assert f"{tmp_path / 'people-5.csv'} is a folder, not the generated table" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["people-5.csv"]


# -- signals -----------------------------------------------------------------------

def test_runner_two_sigterms_in_measuring(tmp_path: Path) -> None:
    root = _bench_copy(tmp_path)
    page = root / "page.md"
    process = _start_runner(root, "--sizes", "2000", "--runs", "1", "--sample", "100",
                            "--output", str(page))
    _wait_for_line(process, "measurement, 2,000 records")
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=60)
    # The second signal may arrive after Python restored the default handler at exit.
    assert process.returncode in (128 + signal.SIGTERM, -signal.SIGTERM)
    assert "Traceback" not in errors
    assert _wait_for_no_processes(str(root)) == []
    data = root / "bench" / "data"
    assert list(data.glob("maskme-bench-*")) == []
    assert list(data.glob("*.part")) == []
    assert list(data.glob(".*.part")) == []
    assert not page.exists()


def test_generate_two_sigterms_leave_nothing(tmp_path: Path) -> None:
    process = _start_generate(tmp_path, 100_000, "csv")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.part")) and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode in (128 + signal.SIGTERM, -signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []
