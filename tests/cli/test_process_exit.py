"""How a successful ``maskme`` process ends: at once, unless a profiler waits for the exit."""

import pstats
import subprocess
import sys

from tests.conftest import TEST_KEY

POLICY = "version: 1\ndefault: keep\nfields:\n  name: {strategy: drop}\n"


def test_profiler_output_written_after_success(tmp_path):
    """cProfile writes its file while Python shuts down, which the quick exit would skip."""
    source = tmp_path / "in.csv"
    source.write_text("name,age\nAda,36\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    profile = tmp_path / "run.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "maskme", "mask",
         str(source), "-p", str(policy), "-o", str(tmp_path / "out.csv")],
        capture_output=True, timeout=120, env={"MASKME_KEY": TEST_KEY, "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.csv").read_text() == "age\n36\n"
    functions = {name for _, _, name in pstats.Stats(str(profile)).stats}  # type: ignore[attr-defined]
    assert "mask_command" in functions


def test_quick_exit_flushes_standard_output(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    done = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", "-", "-p", str(policy)],
        input=b"name,age\n" + b"Ada,36\n" * 50_000, capture_output=True, timeout=120,
        env={"MASKME_KEY": TEST_KEY, "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"age\n" + b"36\n" * 50_000
