"""Shared fixtures: paths to bundled data, a test key, and a CLI runner that starts real processes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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


def load_bench_module(name: str) -> ModuleType:
    """Import ``bench/<name>.py`` (bench/ is no package) as the module ``bench_<name>``."""
    bench = ROOT / "bench"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    module_name = f"bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, bench / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is created.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
