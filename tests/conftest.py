"""Shared fixtures: paths to bundled data, a test key, and a CLI runner that starts real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI (CI=true) draws the same examples on every run, so that a run passes or
# fails on the code alone; developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEST_DATA = ROOT / "tests" / "data"
TEST_KEY = "test-key-not-secret-0123456789"


@pytest.fixture
def adult_csv() -> Path:
    return EXAMPLES / "data" / "adult" / "adult.csv"


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MASKME_KEY", TEST_KEY)
    return TEST_KEY


def run_cli(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m maskme`` as a real process and capture its output."""
    environment = {**os.environ, "MASKME_KEY": TEST_KEY, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "maskme", *args],
        input=input,
        capture_output=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def cli():
    return run_cli
