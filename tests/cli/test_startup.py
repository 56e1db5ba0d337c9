"""Start-up: each command loads only the libraries its work needs.

Python's ``-X importtime`` lists every module a real ``maskme`` process
imports, so these tests check what a command loads, not how long it takes.
"""

import subprocess
import sys
from pathlib import Path

HEAVY = ("polars", "numpy", "pydantic", "rich", "yaml", "pyarrow")


def imported_packages(*args: str, cwd: Path) -> set[str]:
    """Return the top-level packages a ``maskme`` process imports, after checking it succeeded."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "maskme", *args],
        capture_output=True, cwd=cwd, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    packages = set()
    for line in done.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            packages.add(name.split(".")[0])
    return packages


def test_version_loads_no_data_library(tmp_path):
    packages = imported_packages("version", cwd=tmp_path)
    assert "click" in packages
    assert packages.isdisjoint(HEAVY), packages & set(HEAVY)


def test_help_loads_no_data_library(tmp_path):
    packages = imported_packages("mask", "--help", cwd=tmp_path)
    assert packages.isdisjoint(HEAVY), packages & set(HEAVY)


def test_measure_json_loads_no_policy_model_or_rich(tmp_path):
    (tmp_path / "people.csv").write_text("age,zip,diagnosis\n30,12345,flu\n30,12345,cold\n")
    packages = imported_packages(
        "measure", "people.csv", "-q", "age,zip", "-s", "diagnosis", "--json", cwd=tmp_path
    )
    assert "polars" in packages
    assert "pydantic" not in packages
    assert "rich" not in packages


def test_quiet_mask_loads_no_rich(tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n1,x\n")
    (tmp_path / "policy.yaml").write_text("version: 1\ndefault: keep\nfields:\n  b: {strategy: drop}\n")
    packages = imported_packages("mask", "in.csv", "-p", "policy.yaml", "-o", "out.csv", "-q", cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text() == "a\n1\n"
    assert "rich" not in packages


def test_regex_loaded_only_for_graphemes(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "version: 1\ndefault: keep\nfields:\n  b: {strategy: redact, keep_last: 1}\n"
    )
    (tmp_path / "ascii.csv").write_text("a,b\n1,xyz\n")
    packages = imported_packages("mask", "ascii.csv", "-p", "policy.yaml", "-o", "out.csv", "-q",
                                 cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text() == "a,b\n1,**z\n"
    assert "regex" not in packages

    # e + combining acute accent is one user-visible character, so it is masked as one.
    (tmp_path / "accents.csv").write_text("a,b\n1,e\u0301te\u0301\n", encoding="utf-8")
    packages = imported_packages("mask", "accents.csv", "-p", "policy.yaml", "-o", "out.csv", "-q",
                                 cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "a,b\n1,**e\u0301\n"
    assert "regex" in packages
