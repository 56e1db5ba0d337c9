"""The progress bar shows on a terminal and never in a pipe."""

import os
import pty
import subprocess
import sys

from tests.conftest import TEST_KEY


def run_with_terminal_stderr(args):
    controller, terminal = pty.openpty()
    environment = {**os.environ, "MASKME_KEY": TEST_KEY, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", *args],
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=environment,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(controller)
    return process.returncode, b"".join(chunks)


def test_progress_bar_on_terminal(tmp_path, adult_csv):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  sex: {strategy: drop}\n")
    code, terminal_output = run_with_terminal_stderr(
        ["mask", str(adult_csv), "-p", str(policy), "-o", str(tmp_path / "o.csv"), "--batch-size", "500"]
    )
    assert code == 0
    assert b"masking" in terminal_output
    assert b"records" in terminal_output
    assert b"masked 30,162 records" in terminal_output


def test_quiet_hides_progress_on_terminal(tmp_path, adult_csv):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    code, terminal_output = run_with_terminal_stderr(
        ["mask", str(adult_csv), "-p", str(policy), "-o", str(tmp_path / "o.csv"), "--quiet"]
    )
    assert code == 0
    assert terminal_output == b""
