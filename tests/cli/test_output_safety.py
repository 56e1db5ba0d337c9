"""Output safety: MaskMe never writes over its input, policy or keys, nor replaces a device."""

import json
import os
import signal
import stat
import threading

import pytest
from click.testing import CliRunner

from maskme.cli.app import app
from maskme.strategies import Strategy, StrategyParams, register_strategy
from maskme.strategies.registry import unregister_strategy
from tests.conftest import run_cli

POLICY = (
    "version: 1\ndefault: keep\nkeys:\n  main: {file: main.key}\n"
    "fields:\n  ssn: {strategy: hash, key: main}\nquasi_identifiers: [zip]\n"
)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "in.csv").write_text("zip,ssn\n02139,900-00-0001\n02139,900-00-0002\n")
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "main.key").write_text("a-test-key-of-some-length\n")
    return tmp_path


def mask(workdir, *extra, input=None):
    return run_cli("mask", *extra, "-p", str(workdir / "p.yaml"), input=input, cwd=workdir)


@pytest.mark.parametrize(
    ("output", "description"),
    [
        ("p.yaml", "the policy file"),
        ("main.key", "the key file of key 'main'"),
        ("./in.csv", "the input file"),
    ],
)
def test_output_never_overwrites_protected_files(workdir, output, description):
    before = {name: (workdir / name).read_bytes() for name in ("in.csv", "p.yaml", "main.key")}
    done = mask(workdir, "in.csv", "-o", output)
    assert done.returncode == 2
    assert description.encode() in done.stderr
    assert {name: (workdir / name).read_bytes() for name in before} == before


def test_stdin_output_is_same_file_refused(workdir):
    with (workdir / "in.csv").open("rb") as stream:
        done = run_cli("mask", "-", "--format", "csv", "-p", "p.yaml", "-o", "in.csv",
                       input=stream.read(), cwd=workdir)
    # Standard input here is a pipe, not the file, so this run may write in.csv...
    assert done.returncode == 0
    with (workdir / "in.csv").open("rb") as stream:
        import subprocess
        import sys

        completed = subprocess.run(
            [sys.executable, "-m", "maskme", "mask", "-", "--format", "csv", "-p", "p.yaml", "-o", "in.csv"],
            stdin=stream, capture_output=True, cwd=workdir, timeout=120,
        )
    # ...but when standard input is the output file itself, the run is refused.
    assert completed.returncode == 2
    assert b"is the input file" in completed.stderr


@pytest.mark.parametrize("report", ["in.csv", "p.yaml", "out.csv", "main.key"])
def test_report_never_overwrites(workdir, report):
    done = mask(workdir, "in.csv", "-o", "out.csv", "--report", report)
    assert done.returncode == 2
    assert b"the report" in done.stderr


def test_report_to_stdout(workdir):
    done = mask(workdir, "in.csv", "-o", "out.csv", "--report", "-")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["records"] == 2
    assert report["measurement"]["output"]["k_anonymity"]["k"] == 2


def test_report_without_quasi_identifiers_fails_early(workdir):
    (workdir / "p.yaml").write_text(POLICY.replace("quasi_identifiers: [zip]\n", ""))
    done = mask(workdir, "in.csv", "-o", "out.csv", "--report", "r.json")
    assert done.returncode == 2
    assert b"needs quasi_identifiers" in done.stderr
    assert not (workdir / "out.csv").exists()


def test_output_folder_is_usage_error(workdir):
    (workdir / "folder").mkdir()
    done = mask(workdir, "in.csv", "-o", "folder")
    assert done.returncode == 2
    assert b"is a folder" in done.stderr
    assert list((workdir / "folder").iterdir()) == []


def test_output_fifo_is_written_not_replaced(workdir):
    fifo = workdir / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = mask(workdir, "in.csv", "-o", "out.fifo")
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received[0].startswith(b"zip,ssn\n02139,")


def test_output_dev_null_not_replaced(workdir):
    done = mask(workdir, "in.csv", "-o", "/dev/null")
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_permissions_follow_umask(workdir):
    done = mask(workdir, "in.csv", "-o", "out.csv")
    assert done.returncode == 0
    mode = stat.S_IMODE((workdir / "out.csv").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".part")] == []


def test_interrupt_leaves_nothing(workdir):
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", "mask", "-", "--format", "csv", "-p", "p.yaml", "-o", "out.csv"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    process.stdin.write(b"zip,ssn\n" + b"02139,900-00-0001\n" * 1000)
    process.stdin.flush()
    time.sleep(2)  # the run is now waiting for the rest of standard input
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"interrupted; nothing was written" in error
    assert sorted(p.name for p in workdir.iterdir()) == ["in.csv", "main.key", "p.yaml"]


ANONYMIZE_POLICY = (
    "version: 1\ndefault: keep\nkeys:\n  main: {file: main.key}\n"
    "fields:\n  ssn: {strategy: hash, key: main}\n"
    "quasi_identifiers:\n  zip: {hierarchy: zip.csv}\nprivacy: {k: 1}\n"
)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "a.yaml"], b"the policy file"),
        (["-o", "main.key"], b"the key file"),
        (["-o", "zip.csv"], b"the hierarchy file"),
        (["-o", "in.csv"], b"the input file"),
        (["-o", "out.csv", "--report", "in.csv"], b"the report in.csv is the input file"),
        (["-o", "out.csv", "--report", "out.csv"], b"the report out.csv is the output file"),
        (["-o", "folder"], b"is a folder"),
    ],
)
def test_anonymize_never_overwrites(workdir, arguments, message):
    (workdir / "a.yaml").write_text(ANONYMIZE_POLICY)
    (workdir / "zip.csv").write_text("02139;021**;*\n")
    (workdir / "folder").mkdir()
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    done = run_cli("anonymize", "in.csv", "-p", "a.yaml", *arguments, cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()} == before


def test_anonymize_to_device_not_replaced(workdir):
    (workdir / "a.yaml").write_text(ANONYMIZE_POLICY)
    (workdir / "zip.csv").write_text("02139;021**;*\n")
    fifo = workdir / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = run_cli("anonymize", "in.csv", "-p", "a.yaml", "-o", "out.fifo", "-q", cwd=workdir)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received[0].startswith(b"zip,ssn\n")


class _TerminateParams(StrategyParams):
    pass


class _TerminateOnSecondBatch(Strategy):
    """Sends SIGTERM to this process while the second batch is transformed."""

    name = "test_terminate"
    Params = _TerminateParams
    batches = 0

    def apply(self, values, batch):
        type(self).batches += 1
        if type(self).batches == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return values


def test_sigterm_leaves_no_output(tmp_path):
    """SIGTERM mid-run ends the command with 143 and removes the partial output."""
    handler_before = signal.getsignal(signal.SIGTERM)
    register_strategy(_TerminateOnSecondBatch)
    try:
        source = tmp_path / "in.csv"
        source.write_text("a,b\n" + "".join(f"{n},x\n" for n in range(50)))
        policy = tmp_path / "policy.yaml"
        policy.write_text("version: 1\ndefault: keep\nfields:\n  b: {strategy: test_terminate}\n")
        target = tmp_path / "out.csv"
        result = CliRunner().invoke(
            app, ["mask", str(source), "-p", str(policy), "-o", str(target), "--batch-size", "10", "-q"]
        )
    finally:
        unregister_strategy(_TerminateOnSecondBatch.name)
    assert result.exit_code == 143
    assert "terminated; nothing was written" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "policy.yaml"]
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_cli_runs_outside_the_main_thread(tmp_path):
    """The SIGTERM handler is set only from the main thread, where Python allows it."""
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,x\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\n")
    target = tmp_path / "out.csv"
    results = []

    def run() -> None:
        results.append(CliRunner().invoke(app, ["mask", str(source), "-p", str(policy),
                                                "-o", str(target), "-q"]))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert results[0].exit_code == 0
    assert target.read_text() == "a,b\n1,x\n"
