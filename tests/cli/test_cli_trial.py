"""Hostile use of the command line: odd arguments, closed streams, signals and terminals.

Every test starts real ``maskme`` processes.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY

POLICY = (
    "version: 1\ndefault: keep\nkeys:\n  main: {env: MASKME_KEY}\n"
    "fields:\n  ssn: {strategy: hash, key: main}\n"
    "quasi_identifiers: [zip]\nsensitive_attributes:\n  diagnosis: {kind: categorical}\n"
    "privacy: {k: 2}\n"
)
RECORDS = (
    "zip,ssn,diagnosis\n"
    "02139,900-00-0001,flu\n02139,900-00-0002,cold\n"
    "02140,900-00-0003,flu\n02140,900-00-0004,cold\n"
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "in.csv").write_text(RECORDS)
    (tmp_path / "p.yaml").write_text(POLICY)
    return tmp_path


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "MASKME_KEY": TEST_KEY, **extra}


def run(*args: str | bytes, cwd: Path, stdin: bytes | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "maskme", *args],
        input=stdin, capture_output=True, cwd=cwd, env=env or environment(), timeout=120, check=False,
    )


def run_with_closed(descriptor: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run maskme with standard stream ``descriptor`` (0, 1 or 2) closed, as ``>&-`` does."""
    script = f'exec "$@" {descriptor}>&-'
    return subprocess.run(
        ["sh", "-c", script, "sh", sys.executable, "-m", "maskme", *args],
        stdin=subprocess.DEVNULL,
        stdout=None if descriptor == "1" else subprocess.PIPE,
        stderr=None if descriptor == "2" else subprocess.PIPE,
        cwd=cwd, env=environment(), timeout=120, check=False,
    )


def run_on_terminal(*args: str, cwd: Path, env: dict[str, str],
                    data_on_terminal: bool = False, read_delay: float = 0.0) -> tuple[int, bytes]:
    """Run maskme with stderr (and stdout when asked) on a pseudo-terminal; return its transcript.

    ``read_delay`` seconds between reads of 4 KiB slow the terminal down, so
    that a long write to it blocks the way it does on a slow screen.
    """
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal if data_on_terminal else subprocess.DEVNULL,
        stderr=terminal,
        cwd=cwd,
        env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
        if read_delay:
            time.sleep(read_delay)
    process.wait(timeout=120)
    os.close(controller)
    return process.returncode, b"".join(chunks)


def run_interrupted_at_import(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run maskme so that Ctrl-C arrives while it imports ``module``.

    A finder placed first on sys.meta_path raises KeyboardInterrupt, as the
    SIGINT handler does, when the command reaches that import.
    """
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {module!r}:\n"
        "            raise KeyboardInterrupt\n"
        "        return None\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from maskme.cli.app import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, cwd=cwd, env=environment(), timeout=120, check=False,
    )


# --- usage errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        # batch sizes and privacy parameters outside their ranges
        (["mask", "in.csv", "-p", "p.yaml", "--batch-size", "0"], b"--batch-size"),
        (["anonymize", "in.csv", "-p", "p.yaml", "--batch-size", "-1"], b"--batch-size"),
        (["measure", "in.csv", "-q", "zip", "--k", "0"], b"--k"),
        (["measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--l", "1"], b"--l"),
        (["measure", "in.csv", "-q", "zip", "--risk-threshold", "2"], b"--risk-threshold"),
        # --hierarchy needs FIELD=FILE, with both sides
        (["measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--hierarchy", "diagnosis"], b"--hierarchy"),
        (["measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--hierarchy", "=h.csv"], b"--hierarchy"),
        # --ordered describes a sensitive attribute, so it needs --sensitive
        (["measure", "in.csv", "-q", "zip", "--ordered", "diagnosis"], b"--sensitive"),
        (["measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--ordered", "zip"], b"--sensitive"),
        # missing, unknown and surplus options and arguments
        (["mask", "in.csv"], b"--policy"),
        (["mask", "in.csv", "-p"], b"-p"),
        (["mask", "in.csv", "-p", "p.yaml", "--bogus"], b"--bogus"),
        (["mask", "in.csv", "in.csv", "-p", "p.yaml"], b"in.csv"),
        (["mask", "--", "in.csv", "-p", "p.yaml"], b"--policy"),
        (["mas", "in.csv", "-p", "p.yaml"], b"mask"),
    ],
)
def test_usage_error_exit_2(workdir, args, named):
    done = run(*args, cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    assert done.stdout == b""
    assert b"Traceback" not in done.stderr


def test_options_before_and_after_input(workdir):
    after = run("mask", "in.csv", "-p", "p.yaml", cwd=workdir)
    before = run("mask", "-p", "p.yaml", "in.csv", cwd=workdir)
    joined = run("mask", "--policy=p.yaml", "in.csv", cwd=workdir)
    assert after.returncode == 0, after.stderr
    assert before.stdout == after.stdout
    assert joined.stdout == after.stdout
    assert after.stdout.startswith(b"zip,ssn,diagnosis\n02139,")


def test_double_dash_input_named_like_option(workdir):
    (workdir / "-odd.csv").write_text(RECORDS)
    done = run("mask", "-p", "p.yaml", "-o", "out.csv", "--", "-odd.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    expected = run("mask", "in.csv", "-p", "p.yaml", cwd=workdir).stdout
    assert (workdir / "out.csv").read_bytes() == expected


def test_dash_reads_standard_input(workdir):
    masked = run("mask", "-", "--format", "csv", "-p", "p.yaml", stdin=RECORDS.encode(), cwd=workdir)
    measured = run("measure", "-", "--format", "csv", "-q", "zip", "--json",
                   stdin=RECORDS.encode(), cwd=workdir)
    assert masked.returncode == 0, masked.stderr
    assert masked.stdout == run("mask", "in.csv", "-p", "p.yaml", cwd=workdir).stdout
    assert measured.returncode == 0, measured.stderr
    assert b'"records": 4' in measured.stdout


def test_paths_with_spaces_and_non_ascii(workdir):
    folder = workdir / "dir with space" / "dätä"
    folder.mkdir(parents=True)
    (folder / "ïn put.csv").write_text(RECORDS)
    (folder / "pö lícy.yaml").write_text(POLICY)
    done = run("mask", str(folder / "ïn put.csv"), "-p", str(folder / "pö lícy.yaml"),
               "-o", str(folder / "öut put.csv"), cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "öut put.csv".encode() in done.stderr
    expected = run("mask", "in.csv", "-p", "p.yaml", cwd=workdir).stdout
    assert (folder / "öut put.csv").read_bytes() == expected


def test_non_utf8_path_argument(workdir):
    missing = os.fsencode(workdir) + b"/x\xff.csv"
    done = run("mask", missing, "-p", "p.yaml", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.startswith(b"error: input file not found")
    assert b"Traceback" not in done.stderr


# --- files where a path is expected -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        # a folder given as input, policy, output or report
        (["mask", "folder", "-p", "p.yaml", "-o", "out.csv"], 1, b"folder"),
        (["mask", "in.csv", "-p", "folder", "-o", "out.csv"], 2, b"folder"),
        (["mask", "in.csv", "-p", "p.yaml", "-o", "folder"], 2, b"folder"),
        (["mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "folder"], 2, b"folder"),
        # outputs that would replace the input or the policy
        (["mask", "in.csv", "-p", "p.yaml", "-o", "link.csv"], 2, b"the input file"),
        (["anonymize", "in.csv", "-p", "p.yaml", "-o", "p.yaml"], 2, b"the policy file"),
        (["anonymize", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "out.csv"], 2,
         b"the output file"),
        # an output folder that does not exist, and a file used as a folder
        (["mask", "in.csv", "-p", "p.yaml", "-o", "missing/out.csv"], 1, b"not found"),
        (["mask", "in.csv", "-p", "p.yaml", "-o", "in.csv/out.csv"], 1, b"Not a directory"),
    ],
)
def test_bad_path_rejected_before_writing(workdir, args, status, message):
    (workdir / "folder").mkdir()
    (workdir / "link.csv").symlink_to("in.csv")
    before = {name: (workdir / name).read_bytes() for name in ("in.csv", "p.yaml")}
    done = run(*args, cwd=workdir)
    assert done.returncode == status, done.stderr
    assert done.stderr.startswith(b"error: ")
    assert message in done.stderr
    assert {name: (workdir / name).read_bytes() for name in before} == before
    assert not (workdir / "out.csv").exists()


def test_anonymize_target_missed_writes_nothing(workdir):
    (workdir / "p5.yaml").write_text(POLICY.replace("{k: 2}", "{k: 5}"))
    done = run("anonymize", "in.csv", "-p", "p5.yaml", "-o", "out.csv", cwd=workdir)
    assert done.returncode == 3
    assert b"nothing was written" in done.stderr
    assert not (workdir / "out.csv").exists()
    assert sorted(path.name for path in workdir.iterdir()) == ["in.csv", "p.yaml", "p5.yaml"]


# --- closed streams ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["version"],
        ["schema"],
        ["strategies"],
        ["measure", "in.csv", "-q", "zip"],
        ["mask", "in.csv", "-p", "p.yaml"],
    ],
)
def test_closed_pipe_exit_1_quietly(workdir, args):
    # The reader is gone before maskme writes, as after `| head -c 10` has read its bytes.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "maskme", *args],
            stdout=writer, stderr=subprocess.PIPE, cwd=workdir, env=environment(), timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr == b""


def test_closed_stdout_descriptor_no_traceback(workdir):
    done = run_with_closed("1", "version", cwd=workdir)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr


def test_closed_stdout_descriptor_mask(workdir):
    done = run_with_closed("1", "mask", "in.csv", "-p", "p.yaml", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.startswith(b"error: ")
    assert b"Traceback" not in done.stderr


def test_closed_stdin_descriptor_mask(workdir):
    done = run_with_closed("0", "mask", "-", "--format", "csv", "-p", "p.yaml", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.startswith(b"error: ")
    assert b"Traceback" not in done.stderr


def test_closed_stderr_successful_run_exit_0(workdir):
    done = run_with_closed("2", "mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert (workdir / "out.csv").read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert done.returncode == 0


# --- signals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "signal_number", "status", "message"),
    [
        ("mask", signal.SIGTERM, 143, b"terminated; nothing was written"),
        ("mask", signal.SIGINT, 130, b"interrupted; nothing was written"),
        ("anonymize", signal.SIGTERM, 143, b"terminated; nothing was written"),
        ("measure", signal.SIGINT, 130, b"interrupted; nothing was written"),
    ],
)
def test_signal_while_reading_stdin(workdir, command, signal_number, status, message):
    spool = workdir / "spool"
    spool.mkdir()
    options = ["-q", "zip"] if command == "measure" else ["-p", "p.yaml", "-o", "out.csv"]
    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", command, "-", "--format", "csv", *options],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=environment(TMPDIR=str(spool)),
    )
    assert process.stdin is not None
    process.stdin.write(RECORDS.encode())
    process.stdin.flush()
    # Standard input stays open, so the run waits while it copies standard input
    # to a spool file. The signal arrives once that file exists.
    for _ in range(600):
        if any(spool.iterdir()) or process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal_number)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert stderr.strip().endswith(message)
    assert stdout == b""
    assert list(spool.iterdir()) == []
    assert not (workdir / "out.csv").exists()


def test_ctrl_c_while_mask_loads_exit_130(workdir):
    done = run_interrupted_at_import("maskme.run", "mask", "in.csv", "-p", "p.yaml", "-o", "out.csv",
                                     cwd=workdir)
    assert done.returncode == 130
    assert b"interrupted" in done.stderr


def test_ctrl_c_while_measure_draws_exit_130(workdir):
    done = run_interrupted_at_import("rich.console", "measure", "in.csv", "-q", "zip", cwd=workdir)
    assert done.returncode == 130
    assert b"interrupted" in done.stderr


def test_ctrl_c_while_anonymize_loads_exit_130(workdir):
    done = run_interrupted_at_import("maskme.anonymization", "anonymize", "in.csv", "-p", "p.yaml",
                                     cwd=workdir)
    assert done.returncode == 130
    assert b"interrupted; nothing was written" in done.stderr


# --- terminals and colour ---------------------------------------------------------------


def test_no_color_error_prefix_without_colour(workdir):
    code, transcript = run_on_terminal(
        "mask", "missing.csv", "-p", "p.yaml", "-q", cwd=workdir,
        env=environment(NO_COLOR="1", TERM="xterm", COLUMNS="120"),
    )
    assert code == 1
    assert b"error:" in transcript
    assert b"\x1b[31m" not in transcript


def test_dumb_terminal_error_prefix_plain(workdir):
    code, transcript = run_on_terminal(
        "mask", "missing.csv", "-p", "p.yaml", "-q", cwd=workdir,
        env=environment(TERM="dumb", COLUMNS="120"),
    )
    assert code == 1
    assert b"error: input file not found" in transcript
    assert b"\x1b[" not in transcript


def test_error_prefix_coloured_on_terminal(workdir):
    code, transcript = run_on_terminal(
        "mask", "missing.csv", "-p", "p.yaml", "-q", cwd=workdir,
        env=environment(TERM="xterm", COLUMNS="120"),
    )
    assert code == 1
    assert b"error:" in transcript
    assert b"\x1b[31m" in transcript


def test_progress_bar_kept_out_of_terminal_records(workdir):
    count = 40_000
    lines = ["zip,ssn,diagnosis"]
    lines += [f"{2100 + i % 50:05d},900-00-{i:05d},rowmark" for i in range(count)]
    (workdir / "many.csv").write_text("\n".join(lines) + "\n")
    # The output (about 3 MB) goes to the terminal in writes of 1 MiB, and Linux
    # lets no other write reach a terminal during one of them. A slow reader
    # makes each write last longer than the bar's refresh interval of 0.1 s,
    # so a redraw waits for the end of a write, which falls inside a record.
    code, transcript = run_on_terminal(
        "mask", "many.csv", "-p", "p.yaml", cwd=workdir, data_on_terminal=True, read_delay=0.002,
        env=environment(TERM="xterm", COLUMNS="120"),
    )
    assert code == 0
    records = [line for line in transcript.split(b"\n") if b"rowmark" in line]
    assert len(records) == count
    assert [line for line in records if b"\x1b" in line] == []


# --- what each command loads --------------------------------------------------------------


def imported_packages(*args: str, cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "maskme", *args],
        capture_output=True, cwd=cwd, env=environment(), timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    packages = set()
    for line in done.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            packages.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return packages


def test_mask_off_terminal_loads_no_rich(workdir):
    packages = imported_packages("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert (workdir / "out.csv").exists()
    assert "rich" not in packages


def test_anonymize_off_terminal_loads_no_rich(workdir):
    packages = imported_packages("anonymize", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert (workdir / "out.csv").exists()
    assert "rich" not in packages


# --- measure options --------------------------------------------------------------------


def test_ordered_with_hierarchy_exit_2(workdir):
    (workdir / "h.csv").write_text("flu,respiratory,*\ncold,respiratory,*\n")
    done = run("measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--ordered", "diagnosis",
               "--hierarchy", "diagnosis=h.csv", cwd=workdir)
    assert done.stderr.startswith(b"error: ")
    assert done.returncode == 2


def test_repeated_quasi_identifier_exit_2(workdir):
    done = run("measure", "in.csv", "-q", "zip,zip", cwd=workdir)
    assert b"listed twice" in done.stderr
    assert done.returncode == 2


def test_missing_population_file_named(workdir):
    done = run("measure", "in.csv", "-q", "zip", "--population", "counts.csv", cwd=workdir)
    assert done.returncode == 1
    assert b"counts.csv" in done.stderr
    assert b"population" in done.stderr


def test_missing_hierarchy_option_file_message(workdir):
    done = run("measure", "in.csv", "-q", "zip", "-s", "diagnosis", "--hierarchy", "diagnosis=h.csv",
               cwd=workdir)
    assert b"h.csv" in done.stderr
    assert b"policy file's folder" not in done.stderr


# --- option values that pass unnoticed ----------------------------------------------------


def test_repeated_policy_rejected(workdir):
    (workdir / "keep.yaml").write_text("version: 1\ndefault: keep\n")
    done = run("mask", "in.csv", "-p", "p.yaml", "-p", "keep.yaml", cwd=workdir)
    assert done.returncode == 2
    assert b"900-00-0001" not in done.stdout


def test_empty_encoding_rejected(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "--encoding", "", cwd=workdir)
    assert done.returncode == 2
    assert b"encoding" in done.stderr


def test_empty_output_path_message(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "", cwd=workdir)
    assert done.returncode == 2
    assert b"the output . is a folder" not in done.stderr
    assert b"empty" in done.stderr


def test_risk_threshold_nan_exit_2(workdir):
    done = run("measure", "in.csv", "-q", "zip", "--risk-threshold", "nan", cwd=workdir)
    assert b"risk" in done.stderr
    assert done.returncode == 2


def test_measure_batch_size_above_max_exit_2(workdir):
    too_large = str(2**31)
    for command in (["mask", "in.csv", "-p", "p.yaml"], ["anonymize", "in.csv", "-p", "p.yaml"]):
        assert run(*command, "--batch-size", too_large, cwd=workdir).returncode == 2
    done = run("measure", "in.csv", "-q", "zip", "--batch-size", too_large, cwd=workdir)
    assert done.returncode == 2


def test_measure_invalid_batch_size_variable_exit_2(workdir):
    invalid = environment(MASKME_BATCH_SIZE="abc")
    assert run("mask", "in.csv", "-p", "p.yaml", env=invalid, cwd=workdir).returncode == 2
    done = run("measure", "in.csv", "-q", "zip", env=invalid, cwd=workdir)
    assert b"MASKME_BATCH_SIZE" in done.stderr
    assert done.returncode == 2


def test_compare_without_report_rejected(workdir):
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", "--compare", cwd=workdir)
    assert b"--report" in done.stderr
    assert done.returncode == 2


def test_path_control_characters_escaped_on_terminal(workdir):
    name = "n\x1b[2Jo.csv"
    code, transcript = run_on_terminal(
        "mask", name, "-p", "p.yaml", "-q", cwd=workdir, env=environment(TERM="dumb"),
    )
    assert code == 1
    assert b"input file not found" in transcript
    assert b"\x1b[2J" not in transcript


def test_path_control_characters_kept_in_pipe(workdir):
    done = run("mask", "n\x1b[2Jo.csv", "-p", "p.yaml", cwd=workdir)
    assert done.returncode == 1
    assert b"input file not found" in done.stderr
    assert b"found: no.csv" not in done.stderr


@pytest.mark.parametrize("command", ["mask", "anonymize"])
def test_failed_report_message(workdir, command):
    # /dev/full accepts the open and fails every write with ENOSPC.
    done = run(command, "in.csv", "-p", "p.yaml", "-o", "out.csv", "--report", "/dev/full", cwd=workdir)
    assert done.returncode == 1
    assert (workdir / "out.csv").exists()
    assert b"report" in done.stderr
    assert b"the output was written" in done.stderr


def test_unreadable_input_error_line(workdir):
    # Reading /proc/self/mem at offset 0 fails with EIO in every process.
    done = run("mask", "/proc/self/mem", "-p", "p.yaml", "--format", "csv", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.startswith(b"error: ")
    assert b"Traceback" not in done.stderr


def test_delimiter_backslash_t_means_tab(workdir):
    (workdir / "in.tsv").write_text(RECORDS.replace(",", "\t"))
    done = run("mask", "in.tsv", "-p", "p.yaml", "--format", "csv", "--delimiter", "\\t", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"zip\tssn\tdiagnosis\n")


def test_replaced_output_keeps_mode(workdir):
    output = workdir / "out.csv"
    output.write_text("old\n")
    output.chmod(0o600)
    done = run("mask", "in.csv", "-p", "p.yaml", "-o", "out.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes().startswith(b"zip,ssn,diagnosis\n")
    assert oct(output.stat().st_mode & 0o777) == oct(0o600)
