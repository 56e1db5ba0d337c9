#!/usr/bin/env python3
"""Run every MaskMe benchmark and write docs/benchmarks.md.

Each benchmark is a fresh child process (the public ``maskme`` command, or a
baseline script), timed with ``os.wait4``, which returns that child's own
resource usage: wall time, CPU time (user + system) and peak resident memory.
Commands run in rounds: every round runs each command once, in the same
order, so that load from other processes on the machine falls on all of them
alike, and ratios are taken between medians of the same run.

Usage::

    .venv/bin/python bench/run.py                      # 1M and 10M records, 3 runs
    .venv/bin/python bench/run.py --quick              # small sizes, under a minute
    .venv/bin/python bench/run.py --sizes 1000000 --runs 5 --output /tmp/bench.md
    .venv/bin/python bench/run.py --render-only        # rewrite the page, run nothing

The full run writes docs/benchmarks.md (20 minutes on 2 cores on
2026-12-05, when the tables existed). ``--quick`` writes
bench/data/benchmarks-quick.md, so a regression check leaves the published
page alone. The masking policy is
bench/policies/mask.yaml; bench/analysis.md (profiles, changes, proposals)
is appended to the page as written.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import csv
import datetime as dt
import functools
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from generate import DEFAULT_SEED, TableMismatchError, people_path, write_people

DATA = BENCH / "data"
POLICIES = BENCH / "policies"
BASELINES = BENCH / "baselines"
#: The masking workload written as one Polars query, for what the machine allows.
REFERENCE_MASK = "csv: Polars expressions, same work (reference)"
PYCANON_VENV = DATA / "pycanon-venv"
PAGE = ROOT / "docs" / "benchmarks.md"
#: Where --quick writes its page, so that a regression check leaves the published page alone.
QUICK_PAGE = DATA / "benchmarks-quick.md"
PYCANON_REQUIREMENT = "pycanon==1.3.6"
#: A fixed test key, so that every run hashes and noises the same way.
BENCH_KEY = "maskme-benchmark-key-not-a-secret-0001"
QUASI_IDENTIFIERS = ("age", "gender", "state", "city")
SENSITIVE_ATTRIBUTE = "diagnosis"

FULL_SIZES = (1_000_000, 10_000_000)
QUICK_SIZES = (20_000,)
#: pycanon's t-closeness took about 40 s of CPU on 20,000 records (2-core AMD EPYC).
FULL_PYCANON_SAMPLE = 20_000
QUICK_PYCANON_SAMPLE = 1_000
#: The pandas script keeps the whole table as Python strings: about 825 MB at 1M records.
PANDAS_MAX_ROWS = 1_000_000


@dataclass(kw_only=True)
class Sample:
    """One child process's measured resources."""

    wall: float
    cpu: float
    peak_mb: float
    stdout: str = ""


@dataclass(kw_only=True)
class Benchmark:
    """A named command and the samples of its runs."""

    name: str
    command: list[str]
    input_path: Path | None = None
    output_path: Path | None = None
    #: Size of ``input_path`` when the benchmark was set up, so a later page needs no file.
    input_bytes: int = 0
    #: Whether the output must have the masking policy applied (checked after the first run).
    masked: bool = False
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.input_path is not None and self.input_path.exists():
            self.input_bytes = self.input_path.stat().st_size

    @property
    def wall(self) -> float:
        return statistics.median(sample.wall for sample in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(sample.cpu for sample in self.samples)

    @property
    def peak_mb(self) -> float:
        return max(sample.peak_mb for sample in self.samples)

    @property
    def wall_range(self) -> str:
        walls = [sample.wall for sample in self.samples]
        return f"{min(walls):.2f}–{max(walls):.2f}"

    def throughput(self) -> str:
        """Return input megabytes per median wall second, or "" without an input."""
        size = self.input_bytes
        if not size and self.input_path is not None and self.input_path.exists():
            size = self.input_path.stat().st_size
        if not size:
            return ""
        return f"{size / 1e6 / self.wall:,.0f}"


#: Starts the measured command and reports its resource usage as JSON to the file argv[1].
#: Linux carries a process's peak RSS across fork and exec, so a child forked straight
#: from this (larger) script would report at least this script's peak; the launcher is
#: small (about 10 MB), so the peak it reports is the command's own.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss_kb": usage.ru_maxrss}, report)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(command: Sequence[str], env: dict[str, str]) -> Sample:
    """Run one command as a child process and return its wall time, CPU time and peak RSS."""
    with (
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        tempfile.NamedTemporaryFile("r", suffix=".json") as usage_file,
    ):
        launcher = [sys.executable, "-S", "-c", LAUNCHER, usage_file.name, *command]
        # A session of its own lets an interrupted run end the launcher and the command
        # together, because killing the launcher alone would leave the command running.
        process = subprocess.Popen(
            launcher, stdout=stdout, stderr=stderr, env=env, cwd=ROOT, start_new_session=True
        )
        try:
            returncode = process.wait()
        except BaseException:
            # The group no longer exists when its processes ended just before the interruption.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read().decode("utf-8", "replace")
        if returncode != 0:
            message = stderr.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{shlex.join(command)} exited {returncode}:\n{message}")
        usage = json.loads(usage_file.read())
    # Linux reports ru_maxrss in kilobytes.
    return Sample(
        wall=usage["wall"],
        cpu=usage["cpu"],
        peak_mb=usage["maxrss_kb"] / 1024,
        stdout=output,
    )


def run_rounds(benchmarks: Sequence[Benchmark], runs: int, env: dict[str, str]) -> None:
    """Run every benchmark ``runs`` times, one of each per round, deleting outputs after each.

    The output of each benchmark's first run is checked with :func:`check_output`
    (outside the timing), so that a command that writes nothing useful stops the run.
    """
    for round_number in range(runs):
        for benchmark in benchmarks:
            sample = run_child(benchmark.command, env)
            benchmark.samples.append(sample)
            print(
                f"  round {round_number + 1}/{runs} {benchmark.name}: {sample.wall:.2f} s wall, "
                f"{sample.cpu:.2f} s CPU, {sample.peak_mb:,.0f} MB",
                file=sys.stderr,
            )
            if benchmark.output_path is not None:
                try:
                    if round_number == 0:
                        problem = check_output(benchmark)
                        if problem is not None:
                            raise RuntimeError(
                                f"{benchmark.name}: {problem}; the command was "
                                f"{shlex.join(benchmark.command)}"
                            )
                finally:
                    benchmark.output_path.unlink(missing_ok=True)


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        while block := stream.read(1 << 24):
            count += block.count(b"\n")
    return count


@functools.lru_cache
def _count_input_lines(path: Path, size: int, modified_ns: int) -> int:
    """Count the lines of an input once per run (the 10M-record JSONL is 3.4 GB)."""
    return _count_lines(path)


def _first_record(path: Path) -> dict[str, Any]:
    """Return the first record of a benchmark CSV or JSONL file, every value as text."""
    with path.open("r", encoding="utf-8", newline="") as stream:
        if path.suffix == ".jsonl":
            return {name: str(value) for name, value in json.loads(stream.readline()).items()}
        reader = csv.reader(stream)
        header = next(reader)
        return dict(zip(header, next(reader), strict=True))


def check_output(benchmark: Benchmark) -> str | None:
    """Return why a benchmark's output is not a complete result, or None if it is.

    Every output must have one line per input line (no benchmark value
    contains a line break). A masked output must also lack ``name`` (dropped)
    and differ from the input in the first record's ``email`` and ``ssn``
    (hashed), ``zip`` and ``birth_date`` (generalized).
    """
    output, source = benchmark.output_path, benchmark.input_path
    assert output is not None and source is not None
    if not output.exists() or output.stat().st_size == 0:
        return "its output is missing or empty"
    status = source.stat()
    expected = _count_input_lines(source, status.st_size, status.st_mtime_ns)
    found = _count_lines(output)
    if found != expected:
        return f"expected {expected:,} lines in its output as in its input, got {found:,}"
    if benchmark.masked:
        before, after = _first_record(source), _first_record(output)
        if "name" in after:
            return "expected `name` to be dropped from its output"
        unchanged = [name for name in ("email", "ssn", "zip", "birth_date")
                     if after.get(name) == before[name]]
        if unchanged:
            return f"expected {', '.join(unchanged)} of the first record to be masked"
    return None


def maskme_command() -> list[str]:
    script = Path(sys.executable).parent / "maskme"
    return [str(script)] if script.exists() else [sys.executable, "-m", "maskme"]


# -- workloads ---------------------------------------------------------------------


def masking_benchmarks(rows: int, output_dir: Path, pandas: bool) -> list[Benchmark]:
    """Return the masking workload and its baselines on the CSV and JSONL tables of ``rows``."""
    csv_path = people_path(rows, "csv", DATA)
    jsonl_path = people_path(rows, "jsonl", DATA)
    mask_policy = str(POLICIES / "mask.yaml")
    keep_policy = str(POLICIES / "passthrough.yaml")

    def script(name: str, baseline: str, source: Path, output: str) -> Benchmark:
        target = output_dir / output
        return Benchmark(
            name=name,
            command=[sys.executable, str(BASELINES / baseline), str(source), str(target)],
            input_path=source, output_path=target, masked=baseline != "polars_passthrough.py",
        )

    def maskme(name: str, source: Path, policy: str, output: str) -> Benchmark:
        target = output_dir / output
        return Benchmark(
            name=name,
            command=[*maskme_command(), "mask", str(source), "-p", policy, "-o", str(target), "-q"],
            input_path=source, output_path=target, masked=policy == mask_policy,
        )

    benchmarks = [
        script("csv: Polars pass-through (baseline a)", "polars_passthrough.py", csv_path,
               "polars.csv"),
        maskme("csv: maskme pass-through", csv_path, keep_policy, "keep.csv"),
        maskme("csv: maskme mask", csv_path, mask_policy, "mask.csv"),
    ]
    # The reference query hashes with the polars-hash plugin, which MaskMe can do without.
    if importlib.util.find_spec("polars_hash") is not None:
        benchmarks.append(script(REFERENCE_MASK, "polars_mask.py", csv_path, "reference.csv"))
    if pandas:
        benchmarks.append(
            script("csv: pandas script (baseline b)", "pandas_mask.py", csv_path, "pandas.csv")
        )
    benchmarks += [
        script("jsonl: Polars pass-through (reference)", "polars_passthrough.py", jsonl_path,
               "polars.jsonl"),
        maskme("jsonl: maskme pass-through", jsonl_path, keep_policy, "keep.jsonl"),
        maskme("jsonl: maskme mask", jsonl_path, mask_policy, "mask.jsonl"),
    ]
    return benchmarks


def check_passthrough(rows: int, output_dir: Path, env: dict[str, str]) -> bool:
    """Check that MaskMe's pass-through writes the benchmark CSV back byte for byte."""
    source = people_path(rows, "csv", DATA)
    target = output_dir / "check.csv"
    run_child([*maskme_command(), "mask", str(source), "-p", str(POLICIES / "passthrough.yaml"),
               "-o", str(target), "-q"], env)
    try:
        return _same_bytes(source, target)
    finally:
        target.unlink(missing_ok=True)


def _same_bytes(first: Path, second: Path) -> bool:
    if first.stat().st_size != second.stat().st_size:
        return False
    with first.open("rb") as a, second.open("rb") as b:
        while True:
            left, right = a.read(1 << 24), b.read(1 << 24)
            if left != right:
                return False
            if not left:
                return True


def write_sample(rows: int, sample: int) -> Path:
    """Write the first ``sample`` records of the CSV table of ``rows`` (records are i.i.d.).

    The file is written again on every run (it takes milliseconds), under a
    temporary name, so that a file cut by an interrupted run is never measured.
    """
    source = people_path(rows, "csv", DATA)
    target = DATA / f"people-{rows}-first-{sample}.csv"
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            # No benchmark value contains a line break, so lines are records.
            for index, line in enumerate(reader):
                if index > sample:
                    break
                writer.write(line)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return target


def measure_command(path: Path, name: str) -> Benchmark:
    """Return ``maskme measure`` of k, l and t on ``path``, with a JSON report."""
    return Benchmark(
        name=name,
        command=[*maskme_command(), "measure", str(path), "-q", ",".join(QUASI_IDENTIFIERS),
                 "-s", SENSITIVE_ATTRIBUTE, "--json"],
        input_path=path,
    )


def measure_benchmarks(rows: int, sample_rows: int) -> tuple[list[Benchmark], list[Benchmark]]:
    """Return (MaskMe on the full table, [MaskMe, pycanon] on the sample)."""
    quasi_identifiers = ",".join(QUASI_IDENTIFIERS)
    full = people_path(rows, "csv", DATA)
    sample = write_sample(rows, sample_rows)

    def inprocess(path: Path, name: str) -> Benchmark:
        return Benchmark(
            name=name,
            command=[sys.executable, str(BASELINES / "maskme_measure_inprocess.py"), str(path),
                     "--quasi-identifiers", quasi_identifiers,
                     "--sensitive", SENSITIVE_ATTRIBUTE],
            input_path=path,
        )

    on_full = [measure_command(full, f"maskme measure, {rows:,} records"),
               inprocess(full, f"maskme.measure in one process, {rows:,} records")]
    on_sample = [measure_command(sample, f"maskme measure, sample of {sample_rows:,}"),
                 inprocess(sample, f"maskme.measure in one process, sample of {sample_rows:,}")]
    pycanon = PYCANON_VENV / "bin" / "python"
    on_sample.append(Benchmark(
        name=f"pycanon k, l, t, sample of {sample_rows:,} (baseline c)",
        command=[str(pycanon), str(BASELINES / "pycanon_measure.py"), str(sample),
                 "--quasi-identifiers", quasi_identifiers, "--sensitive", SENSITIVE_ATTRIBUTE],
        input_path=sample,
    ))
    return on_full, on_sample


def pycanon_ready() -> bool:
    """Return whether the pycanon virtualenv exists and imports pycanon and pandas."""
    python = PYCANON_VENV / "bin" / "python"
    if not python.exists():
        return False
    check = [str(python), "-c", "import pandas, pycanon"]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def pycanon_version() -> str:
    """Return the pycanon version installed in its virtualenv, which may differ from the pin."""
    python = PYCANON_VENV / "bin" / "python"
    query = [str(python), "-c", "from importlib import metadata; print(metadata.version('pycanon'))"]
    result = subprocess.run(query, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def ensure_pycanon() -> None:
    """Create the separate virtualenv for pycanon, whose exact pins conflict with MaskMe's.

    A virtualenv left without pycanon (an interrupted install) is completed.
    Raises SystemExit with a message when pip fails, for example offline.
    """
    if pycanon_ready():
        return
    print(f"creating {PYCANON_VENV} with {PYCANON_REQUIREMENT}", file=sys.stderr)
    python = PYCANON_VENV / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", str(PYCANON_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", PYCANON_REQUIREMENT],
    ]
    for step in steps:
        finished = subprocess.run(step, check=False, stderr=subprocess.PIPE, text=True)
        # pip on some machines warns once per package about index folders that do not
        # exist; those lines carry no information.
        errors = [line for line in finished.stderr.splitlines()
                  if not line.startswith("WARNING: Location")]
        if errors:
            print("\n".join(errors), file=sys.stderr)
        if finished.returncode != 0:
            raise SystemExit(
                f"run.py: {shlex.join(step)} failed, so pycanon (baseline c) is not available. "
                f"Fix the error above, or delete {PYCANON_VENV} and run again"
            )


def maskme_values(sample: Sample) -> dict[str, Any]:
    report = json.loads(sample.stdout)
    attribute = report["sensitive_attributes"][0]
    return {
        "k": report["k_anonymity"]["k"],
        "classes": report["k_anonymity"]["classes"],
        "l": attribute["distinct_l"],
        "t": attribute["t_closeness"],
    }


def pycanon_values(sample: Sample) -> dict[str, Any]:
    return json.loads(sample.stdout)


def hash_speed(values: int) -> dict[str, float | bool] | None:
    """Time the vectorized keyed hash against the pure-Python fallback, in-process.

    Returns None when the polars-hash plugin is not installed.
    """
    import polars as pl

    from maskme.strategies.hash import digest_hex_python, digest_hex_vectorized, plugin_available

    if not plugin_available():
        return None

    column = pl.Series("value", [f"person{index}@example.com" for index in range(values)])
    key = BENCH_KEY.encode("utf-8")
    started = time.perf_counter()
    vectorized = digest_hex_vectorized(column, key)
    vectorized_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fallback = digest_hex_python(column, key, "hmac-sha256")
    fallback_seconds = time.perf_counter() - started
    return {
        "vectorized_us": vectorized_seconds / values * 1e6,
        "fallback_us": fallback_seconds / values * 1e6,
        "identical": vectorized.equals(fallback),
    }


# -- the page ----------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        # Everything that decides what runs: bench/analysis.md and the data are left out.
        measured = ["src", "pyproject.toml", "bench/policies", "bench/baselines", "bench/run.py",
                    "bench/generate.py", "bench/anonymize_adult.py"]
        changed = subprocess.run(["git", "status", "--porcelain", "--", *measured],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout
        if changed.strip():
            # The commit alone does not say which code ran.
            commit += ", with uncommitted changes in src/, bench/ or pyproject.toml"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    import polars

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Polars": polars.__version__,
        "polars-hash": _version("polars-hash"),
        "pandas": _version("pandas"),
        # Replaced by the installed version once the pycanon virtualenv is ready.
        "pycanon": PYCANON_REQUIREMENT.split("==")[1],
        "MaskMe": f"{metadata.version('maskme')} (commit {commit})",
        # Polars settings change the runs of every tool, so the page shows them.
        "POLARS_* variables": ", ".join(
            f"{name}={value}" for name, value in sorted(os.environ.items())
            if name.startswith("POLARS_")
        ) or "none",
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


#: The temporary output folder of the current run, shown as OUT in commands.
_OUTPUT_PLACEHOLDER: list[Path] = []


#: The checkout and Python of the run being rendered, which --render-only may
#: show in another checkout: (repository root, interpreter).
_RUN_PATHS: list[str] = [str(ROOT), sys.executable]


def display_command(command: Sequence[str]) -> str:
    """Return a command with paths relative to the repository root, for the page."""
    root, python = _RUN_PATHS
    shown = []
    for part in command:
        part = part.replace(str(_OUTPUT_PLACEHOLDER[0]), "OUT") if _OUTPUT_PLACEHOLDER else part
        if part == python:
            part = ".venv/bin/python"
        elif part.startswith(root):
            part = os.path.relpath(part, root)
        shown.append(part)
    return shlex.join(shown)


def masking_table(benchmarks: Sequence[Benchmark]) -> list[str]:
    by_name = {benchmark.name: benchmark for benchmark in benchmarks}
    lines = [
        ("| workload | median wall s | range s | median CPU s | peak MB | MB/s | "
         "wall ratio | CPU ratio |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for benchmark in benchmarks:
        fmt = benchmark.name.split(":", 1)[0]
        reference = by_name.get(
            "csv: Polars pass-through (baseline a)" if fmt == "csv" else "jsonl: maskme pass-through"
        )
        ratio = cpu_ratio = ""
        if reference is not None:
            ratio = f"{benchmark.wall / reference.wall:.2f}x"
            cpu_ratio = f"{benchmark.cpu / reference.cpu:.2f}x"
        lines.append(
            f"| {benchmark.name} | {benchmark.wall:.2f} | {benchmark.wall_range} | "
            f"{benchmark.cpu:.2f} | {benchmark.peak_mb:,.0f} | {benchmark.throughput()} | "
            f"{ratio} | {cpu_ratio} |"
        )
    lines.append("")
    lines.append("Ratios: CSV rows against the Polars pass-through, JSONL rows against "
                 "MaskMe's own JSONL pass-through. MB/s is input megabytes (10^6 bytes) per "
                 "wall second. Peak MB is in MiB (2^20 bytes).")
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def write_page(results: dict[str, Any], path: Path) -> None:
    """Write the page of ``results`` to ``path``."""
    write_text_atomically(path, render_page(results))


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` under a temporary name and rename it, so an interruption keeps the older file."""
    partial = path.with_name(f".{path.name}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def render_page(results: dict[str, Any]) -> str:
    """Return the Markdown page of a run's ``results``."""
    _RUN_PATHS[:] = [results.get("root", str(ROOT)), results.get("python", sys.executable)]
    lines: list[str] = []
    add = lines.append
    add("# Benchmarks")
    add("")
    command = results.get("command") or ("bench/run.py" + (" --quick" if results["quick"] else ""))
    full_run = tuple(results["planned_sizes"]) == FULL_SIZES
    add(f"Generated by `.venv/bin/python {command}` on "
        + results["started"] + ". Every number up to the Targets section is from the run "
        "that wrote this page. "
        + ("The sections after it come from `bench/analysis.md`, measured by hand, and say "
           "when and how. " if full_run else "")
        + "Each benchmark is a fresh process, timed from outside with `os.wait4`: wall time, "
        "CPU time (user + system) and peak resident memory (RSS) of that process. Commands "
        f"run in {results['runs']} round(s), each round running every command once in the "
        "same order. Tables show the median wall and CPU times and the highest peak memory "
        "of the runs, and ratios divide medians from the same run. Before the first "
        "command, the run compiles MaskMe's modules to bytecode, as pip does when it "
        "installs a package, so that no process compiles them where "
        "`PYTHONDONTWRITEBYTECODE` is set.")
    add("")
    add("## Running it")
    add("")
    add("`.venv/bin/python bench/run.py` runs every benchmark at 1,000,000 and 10,000,000 "
        "records, 3 rounds (20 minutes on 2 cores on 2026-12-05, once the tables exist). It "
        "first writes the tables that are missing under `bench/data` (with "
        "`bench/generate.py`, a few minutes at 10M records), 5.8 GB for the two sizes, "
        "plus one benchmark output at a time, up to the size of its input. The first run also "
        "creates `bench/data/pycanon-venv` with pip, which needs the package index. "
        "`--quick` runs at 20,000 records in under a minute and writes "
        "`bench/data/benchmarks-quick.md`. `--sizes`, `--runs`, `--sample` and `--output` "
        "set the record counts, the rounds, the pycanon sample and the page, and "
        "`--render-only` rewrites the page from the saved measurements.")
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("| --- | --- |")
    for name, value in results["machine"].items():
        add(f"| {name} | {value} |")
    add(f"| load average (1/5/15 min) at start | {results['load_start']} |")
    add(f"| load average at end | {results['load_end']} |")
    add("")
    add("A load average above the number of cores means other processes competed for the "
        "CPU while this ran: wall times then grow, while CPU times stay close to what the "
        "work needs. Both are shown.")
    add("")
    add("## Data")
    add("")
    add("`bench/generate.py` writes a synthetic people table (id, name, email, phone, SSN, "
        "birth date, visit date, ZIP with leading zeros, city, state, gender, age, income, "
        f"diagnosis, free-text notes), deterministic for a seed (here {DEFAULT_SEED}, "
        "the default). Files:")
    add("")
    add("| records | CSV MB | JSONL MB |")
    add("| ---: | ---: | ---: |")
    for rows in results["sizes"]:
        if rows in results.get("file_mb", {}):
            csv_mb, jsonl_mb = results["file_mb"][rows]["csv"], results["file_mb"][rows]["jsonl"]
        else:
            # Measurements saved before the sizes were recorded.
            csv_mb = people_path(rows, "csv", DATA).stat().st_size / 1e6
            jsonl_mb = people_path(rows, "jsonl", DATA).stat().st_size / 1e6
        add(f"| {rows:,} | {csv_mb:,.1f} | {jsonl_mb:,.1f} |")
    add("")
    add("The masking policy, `bench/policies/mask.yaml`: keyed hash of `email` (normalized) "
        "and `ssn`, `redact` of `phone` (last 4 kept), `drop` of `name`, Laplace noise on "
        "`income`, a date shift of up to 30 days on `visit_date`, and `generalize` of `zip` "
        "(3-digit prefix), `birth_date` (year) and `age` (10-year interval). The pass-through "
        "policy `bench/policies/passthrough.yaml` has `default: keep` and no fields. "
        f"MaskMe's CSV pass-through output equals its input byte for byte at "
        f"{results['sizes'][0]:,} records: "
        f"{'yes' if results['passthrough_identical'] else '**no**'}.")
    add("")
    add("## Masking")
    add("")
    add(f"The pandas script runs only at sizes up to {PANDAS_MAX_ROWS:,} records: it keeps "
        "the whole table in memory (about 825 MB at 1M records), so 10M records would need "
        "about 8 GB on a machine shared with other work.")
    add("")
    add(f"The row \"{REFERENCE_MASK}\" runs `bench/baselines/polars_mask.py`: the same "
        "work on the same fields written by hand as one Polars streaming query, with no "
        "error handling and unkeyed randomness. It shows how close to the pass-through this "
        "machine can mask at all.")
    missing = [rows for rows in results.get("planned_sizes", ()) if rows not in results["sizes"]]
    if missing:
        add("")
        add(f"**Incomplete:** this page was written before the masking runs at "
            f"{', '.join(f'{rows:,}' for rows in missing)} records finished, because the run "
            "was still going or was stopped. Their tables and targets are missing.")
    for rows in results["sizes"]:
        add("")
        add(f"### {rows:,} records")
        add("")
        lines.extend(masking_table(results["masking"][rows]))
    add("")
    add("Commands (OUT is a temporary folder under bench/data, emptied after each run; "
        "`MASKME_BENCH_KEY` holds a fixed test key):")
    add("")
    add("```")
    for benchmark in results["masking"][results["sizes"][0]]:
        add(display_command(benchmark.command))
    add("```")
    add("")
    add("## Measurement: k, l and t")
    add("")
    add(f"Quasi-identifiers {', '.join(QUASI_IDENTIFIERS)}; sensitive attribute "
        f"{SENSITIVE_ATTRIBUTE} (categorical, equal distance for t). pycanon runs on the "
        f"first {results['sample_rows']:,} records of the {results['measure_rows']:,}-record "
        "table (records are drawn independently, so the first records are a random sample), "
        "because its t-closeness grows with classes times records. MaskMe runs on the same "
        "sample and on the whole table, and its command line also at the larger sizes. "
        "pycanon's times are inside its process and exclude reading the file and starting "
        "Python. The table's times are whole processes, and "
        "the times inside the processes are given below it. The in-process script calls "
        "`maskme.measure` twice, so its process takes longer than `maskme measure`.")
    add("")
    add("| run | median wall s | median CPU s | peak MB | k | l | t | classes |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for benchmark, values in results["measure_rows_table"]:
        add(f"| {benchmark.name} | {benchmark.wall:.2f} | {benchmark.cpu:.2f} | "
            f"{benchmark.peak_mb:,.0f} | {values.get('k')} | {values.get('l')} | "
            f"{values['t']:.6f} | {values.get('classes', '')} |")
    pycanon = results["pycanon_values"]
    add("")
    add(f"pycanon inside its process: k {pycanon['k_seconds']:.2f} s, l "
        f"{pycanon['l_seconds']:.2f} s, t {pycanon['t_seconds']:.2f} s (median run).")
    for key, label in (("full_inprocess_values", f"{results['measure_rows']:,} records"),
                       ("inprocess_values", f"the sample of {results['sample_rows']:,}")):
        inprocess = results[key]
        add(f"`maskme.measure` inside its process on {label}, including reading the file "
            f"(imports done before): first call {inprocess['first_seconds']:.3f} s (with "
            f"Polars' start-up), second call {inprocess['repeat_seconds']:.3f} s (median run).")
    add("")
    add("```")
    for benchmark, _ in results["measure_rows_table"]:
        add(display_command(benchmark.command))
    add("```")
    add("")
    add("## Keyed hash")
    add("")
    speed = results["hash"]
    if speed is None:
        add("Not measured: the polars-hash plugin is not installed, so MaskMe computes every "
            "keyed hash in Python.")
    else:
        add(f"HMAC-SHA-256 over {results['hash_values']:,} e-mail-like values, in one process: "
            f"polars-hash {speed['vectorized_us']:.2f} us per value, the pure-Python `hmac` "
            f"fallback {speed['fallback_us']:.2f} us per value; digests identical: "
            f"{'yes' if speed['identical'] else '**no**'}. `tests/strategies/test_hash.py` "
            "checks the same equality as a hypothesis property.")
    add("")
    add("## Anonymization on Adult")
    add("")
    if results["anonymize_skipped"]:
        add("Skipped with `--quick`: the search benchmark takes minutes. Run without `--quick`.")
    elif results["anonymize"] is None:
        add("`bench/anonymize_adult.py` was not found, so this run has no figures.")
    else:
        benchmark = results["anonymize"]
        add(f"`{display_command(benchmark.command)}` (one process that repeats each case and "
            f"prints medians): wall {benchmark.wall:.2f} s, CPU {benchmark.cpu:.2f} s, peak "
            f"{benchmark.peak_mb:,.0f} MB. Its output:")
        add("")
        add("```")
        add(results["anonymize_output"].rstrip())
        add("```")
    add("")
    add("## Targets")
    add("")
    add("| target | measured | |")
    add("| --- | --- | --- |")
    for name, measured, met in results["targets"]:
        add(f"| {name} | {measured} | {verdict(met)} |")
    analysis = BENCH / "analysis.md"
    add("")
    if not full_run:
        # The analysis quotes full runs at these sizes, which a smaller run would contradict.
        add("The profiles, the changes and the analysis of the targets are in "
            "`bench/analysis.md`, shown in `docs/benchmarks.md`. Their figures come from full "
            f"runs at {' and '.join(f'{rows:,}' for rows in FULL_SIZES)} records, not from "
            "this run.")
    elif analysis.exists():
        lines.extend(analysis.read_text(encoding="utf-8").rstrip().splitlines())
    return "\n".join(lines) + "\n"


def target_rows(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows: list[tuple[str, str, bool]] = []
    first = results["sizes"][0]
    by_name = {benchmark.name: benchmark for benchmark in results["masking"][first]}
    mask_csv = by_name["csv: maskme mask"]
    polars_csv = by_name["csv: Polars pass-through (baseline a)"]
    ratio = mask_csv.wall / polars_csv.wall
    measured = f"{ratio:.2f}x wall ({mask_csv.cpu / polars_csv.cpu:.2f}x CPU)"
    reference = by_name.get(REFERENCE_MASK)
    if reference is not None:
        measured += (f"; the same work as one Polars query: {reference.wall / polars_csv.wall:.2f}x "
                     f"wall ({reference.cpu / polars_csv.cpu:.2f}x CPU)")
    rows.append((f"CSV mask at {first:,} records: at most 1.4x the Polars pass-through",
                 measured, ratio <= 1.4))
    pandas = by_name.get("csv: pandas script (baseline b)")
    if pandas is not None:
        speedup = pandas.wall / mask_csv.wall
        rows.append((f"CSV mask at {first:,} records: at least 5x faster than pandas",
                     f"{speedup:.1f}x wall ({pandas.cpu / mask_csv.cpu:.1f}x CPU)",
                     speedup >= 5))
    mask_jsonl = by_name["jsonl: maskme mask"]
    keep_jsonl = by_name["jsonl: maskme pass-through"]
    ratio = mask_jsonl.wall / keep_jsonl.wall
    rows.append((f"JSONL mask at {first:,} records: within 1.5x MaskMe's JSONL pass-through",
                 f"{ratio:.2f}x wall ({mask_jsonl.cpu / keep_jsonl.cpu:.2f}x CPU)", ratio <= 1.5))
    if len(results["sizes"]) > 1:
        last = results["sizes"][-1]
        large = {benchmark.name: benchmark for benchmark in results["masking"][last]}
        for fmt in ("csv", "jsonl"):
            big = large[f"{fmt}: maskme mask"].peak_mb
            small = by_name[f"{fmt}: maskme mask"].peak_mb
            rows.append((f"{fmt.upper()} mask at {last:,} records: peak under 600 MB",
                         f"{big:,.0f} MB", big < 600))
            name = f"{fmt.upper()} mask: peak at {last:,} at most 1.3x the peak at {first:,}"
            rows.append((name, f"{big / small:.2f}x", big / small <= 1.3))
    full, sample_maskme, _, _ = results["measure_benchmarks"]
    call = results["full_inprocess_values"]["first_seconds"]
    rows.append((f"measure k+l+t at {results['measure_rows']:,} records: under 1 s",
                 (f"`maskme.measure` call {call:.2f} s; the whole `maskme measure` process "
                  f"{full.wall:.2f} s wall ({full.cpu:.2f} s CPU), {full.wall - call:.2f} s more "
                  "for starting Python, imports and exit"), call < 1.0))
    pycanon_values = results["pycanon_values"]
    pycanon_seconds = (pycanon_values["k_seconds"] + pycanon_values["l_seconds"]
                       + pycanon_values["t_seconds"])
    inprocess = results["inprocess_values"]
    speedup = pycanon_seconds / inprocess["first_seconds"]
    sample_rows = results["sample_rows"]
    repeat = pycanon_seconds / inprocess["repeat_seconds"]
    rows.append((
        (f"measure: at least 100x faster than pycanon on the same {sample_rows:,} records, "
        "both inside their process"),
        (f"{speedup:.0f}x on the first call, {repeat:.0f}x on the second "
        f"(pycanon k+l+t {pycanon_seconds:.1f} s)"),
        speedup >= 100,
    ))
    whole = pycanon_seconds / sample_maskme.wall
    rows.append((
        (f"measure: at least 100x faster than pycanon on the same {sample_rows:,} records, "
        "MaskMe's whole process"),
        f"{whole:.0f}x (MaskMe {sample_maskme.wall:.2f} s, mostly start-up)",
        whole >= 100,
    ))
    same = results["values_agree"]
    rows.append(("measure: the same k, l and t as pycanon", "same" if same else "different",
                 same))
    speed = results["hash"]
    if speed is None:
        rows.append(("keyed hash vectorized, byte-identical pure-Python fallback",
                     "polars-hash is not installed", False))
    else:
        rows.append(("keyed hash vectorized, byte-identical pure-Python fallback",
                     f"{speed['vectorized_us']:.2f} us per value, identical: {speed['identical']}",
                     bool(speed["identical"])))
    return rows


def _count(text: str) -> int:
    """Parse a positive whole number of an option (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _counts(text: str) -> tuple[int, ...]:
    """Parse comma-separated positive record counts, sorted, without repeats (argparse type).

    The smallest size comes first because the runner takes the pycanon sample
    and the base of the memory ratios from the first size.
    """
    return tuple(sorted({_count(part.strip()) for part in text.split(",")}))


def check_output_path(page: Path) -> str | None:
    """Return why the page cannot be written at ``page``, or None if it can.

    Checked before any benchmark runs, so that a full run does not end after
    20 minutes on an output path that does not exist or is not writable.
    """
    folder = page.parent
    if page.is_dir():
        return f"{page} is a folder; expected a file name such as {page / 'benchmarks.md'}"
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder"
    if not folder.is_dir():
        return f"folder {folder} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".bench-write-check-"):
            pass
    except OSError as error:
        return f"cannot write to folder {folder}: {error.strerror}"
    return None


class _Stopped(BaseException):
    """SIGTERM or SIGHUP (a closed terminal) ended the run."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def _stop_on_signal(signal_number: int, frame: object) -> None:
    """Turn SIGTERM and SIGHUP into an exception, so that the run's clean-up code runs."""
    raise _Stopped(signal_number)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 1 run, for a regression check in under a minute")
    parser.add_argument("--sizes", type=_counts,
                        help="comma-separated record counts, run smallest first "
                        "(default 1000000,10000000)")
    parser.add_argument("--runs", type=_count, help="runs per benchmark (default 3, --quick 1)")
    parser.add_argument("--sample", type=_count,
                        help="records in the pycanon sample, fewer than the smallest size")
    parser.add_argument("--output", type=Path,
                        help=f"page to write (default {PAGE.relative_to(ROOT)}, "
                        f"with --quick {QUICK_PAGE.relative_to(ROOT)})")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the page from the last run's measurements, running nothing")
    args = parser.parse_args(argv)
    output_given = args.output is not None
    if args.output is None:
        args.output = QUICK_PAGE if args.quick else PAGE
    if args.render_only and not output_given and not results_file(args.output).exists():
        # Before the output check, which would blame an option the user did not give:
        # on a fresh clone, bench/data does not exist yet.
        print(f"{results_file(args.output)} not found: run the benchmarks for this page first",
              file=sys.stderr)
        return 1
    if args.output.parent == DATA and not args.render_only:
        # A fresh clone has no bench/data yet; the run writes its tables there anyway.
        DATA.mkdir(parents=True, exist_ok=True)
    problem = check_output_path(args.output)
    if problem is not None:
        parser.error(f"--output: {problem}")
    if args.render_only:
        return render_only(args.output)

    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    runs = args.runs or (1 if args.quick else 3)
    sample_rows = args.sample or (QUICK_PYCANON_SAMPLE if args.quick else FULL_PYCANON_SAMPLE)
    if sample_rows >= sizes[0]:
        # The sample is the first records of the smallest size's table.
        parser.error(f"--sample ({sample_rows:,}) must be below the smallest size ({sizes[0]:,})")
    env = dict(os.environ, MASKME_BENCH_KEY=BENCH_KEY)
    env.pop("MASKME_BATCH_SIZE", None)
    # An editable install has no bytecode of its own; an installed MaskMe does.
    compileall.compile_dir(ROOT / "src" / "maskme", quiet=1)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)

    results: dict[str, Any] = {
        "quick": args.quick,
        "command": shlex.join(["bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "root": str(ROOT),
        "python": sys.executable,
        "runs": runs,
        "planned_sizes": sizes,
        "sizes": sizes[:1],
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "load_start": load_average(),
        "masking": {},
    }
    try:
        for rows in sizes:
            for file_format in ("csv", "jsonl"):
                write_people(rows, file_format, directory=DATA)
    except TableMismatchError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 1
    results["file_mb"] = {
        rows: {fmt: people_path(rows, fmt, DATA).stat().st_size / 1e6 for fmt in ("csv", "jsonl")}
        for rows in sizes
    }
    ensure_pycanon()
    results["machine"]["pycanon"] = pycanon_version()

    output_dir = Path(tempfile.mkdtemp(prefix="maskme-bench-", dir=DATA))
    try:
        results["passthrough_identical"] = check_passthrough(sizes[0], output_dir, env)
        run_masking(sizes[0], output_dir, runs, env, results)
        run_other_benchmarks(args.quick, runs, sample_rows, env, results)
        # The page is complete for the first size now, and is rewritten as larger sizes finish.
        finish_page(results, args.output)
        for rows in sizes[1:]:
            run_masking(rows, output_dir, runs, env, results)
            run_larger_measure(rows, runs, env, results)
            results["sizes"] = (*results["sizes"], rows)
            finish_page(results, args.output)
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)
    return 0


def run_masking(
    rows: int, output_dir: Path, runs: int, env: dict[str, str], results: dict[str, Any]
) -> None:
    print(f"masking, {rows:,} records", file=sys.stderr)
    benchmarks = masking_benchmarks(rows, output_dir, pandas=rows <= PANDAS_MAX_ROWS)
    # Commands show a placeholder for the temporary output folder.
    _OUTPUT_PLACEHOLDER[:] = [output_dir]
    run_rounds(benchmarks, runs, env)
    results["masking"][rows] = benchmarks


def run_larger_measure(rows: int, runs: int, env: dict[str, str], results: dict[str, Any]) -> None:
    """Run ``maskme measure`` on a larger size's table; its row follows the first size's rows."""
    print(f"measurement, {rows:,} records", file=sys.stderr)
    benchmark = measure_command(people_path(rows, "csv", DATA),
                                f"maskme measure, {rows:,} records")
    run_rounds([benchmark], runs, env)
    table = results["measure_rows_table"]
    first_sample_row = next(index for index, (row, _) in enumerate(table) if "sample" in row.name)
    table.insert(first_sample_row, (benchmark, maskme_values(benchmark.samples[0])))


def finish_page(results: dict[str, Any], output: Path) -> None:
    results["load_end"] = load_average()
    results["targets"] = target_rows(results)
    write_page(results, output)
    # Kept so that --render-only can rewrite the page after bench/analysis.md changes.
    saved_results = {**results, "output_dir": _OUTPUT_PLACEHOLDER[:]}
    document = {"format": RESULTS_FORMAT, "results": _as_json(saved_results)}
    write_text_atomically(results_file(output), json.dumps(document))
    print(f"wrote {output}", file=sys.stderr)


#: Marks a saved-measurements file as this script's; another format is not read.
RESULTS_FORMAT = "maskme-bench-results-1"


def _as_json(value: Any) -> Any:
    """Return ``value`` (the run's results) as JSON data, tagging what JSON has no type for."""
    if isinstance(value, Benchmark | Sample):
        fields = {name: _as_json(item) for name, item in vars(value).items()}
        return {"__class__": type(value).__name__, **fields}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _as_json(item) for key, item in value.items()}
        return {"__items__": [[_as_json(key), _as_json(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot save a {type(value).__name__} in the measurements")


def _no_constant(name: str) -> Any:
    """Reject NaN and infinities, which no run measures (a ``json.loads`` hook)."""
    raise ValueError(f"{name} is not a measurement")


def _from_json(data: dict[str, Any]) -> Any:
    """Undo the tags of :func:`_as_json` (a ``json.loads`` object hook)."""
    if "__class__" in data:
        kind: type = {"Benchmark": Benchmark, "Sample": Sample}[data.pop("__class__")]
        restored: Any = object.__new__(kind)
        vars(restored).update(data)  # as saved: no __post_init__ reading the input again
        return restored
    if "__path__" in data:
        return Path(data["__path__"])
    if "__items__" in data:
        return {key: item for key, item in data["__items__"]}
    return data


def results_file(page: Path) -> Path:
    """Return where the measurements behind ``page`` are saved.

    The published page and the quick page keep them under bench/data. Any
    other page keeps them next to itself, named after the whole page name, so
    that no page written elsewhere replaces the measurements of those two.
    """
    if page.resolve() == PAGE.resolve():
        return DATA / "benchmarks.json"
    if page.resolve() == QUICK_PAGE.resolve():
        return DATA / "benchmarks-quick.json"
    return page.with_name(f"{page.name}.json")


def render_only(output: Path) -> int:
    """Rewrite the page from the saved measurements of the last run that wrote it."""
    saved = results_file(output)
    if not saved.exists():
        print(f"{saved} not found: run the benchmarks for this page first", file=sys.stderr)
        return 1
    try:
        document = json.loads(saved.read_text(encoding="utf-8"), object_hook=_from_json,
                              parse_constant=_no_constant)
        if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
            raise ValueError("not the format this script writes")
        results = document["results"]
        _OUTPUT_PLACEHOLDER[:] = results.pop("output_dir")
        page = render_page(results)
        page.encode("utf-8")  # a lone surrogate would fail the write
    except (ValueError, LookupError, TypeError, AttributeError, ArithmeticError, RecursionError,
            OSError) as error:
        # The file is not one this version of the script wrote whole: a run writes only
        # what renders. OSError: a table it names is gone.
        print(f"{saved}: not measurements this script saved ({type(error).__name__}); "
              "run the benchmarks for this page again", file=sys.stderr)
        return 1
    try:
        write_text_atomically(output, page)
    except OSError as error:
        print(f"cannot write {output}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {output}", file=sys.stderr)
    return 0


def _median_sample(benchmark: Benchmark) -> Sample:
    return sorted(benchmark.samples, key=lambda sample: sample.wall)[len(benchmark.samples) // 2]


def run_other_benchmarks(
    quick: bool, runs: int, sample_rows: int, env: dict[str, str], results: dict[str, Any]
) -> None:
    """Run the measurement, anonymization and hash benchmarks on the first size."""
    measure_rows = results["sizes"][0]
    print(f"measurement, {measure_rows:,} records", file=sys.stderr)
    on_full, on_sample = measure_benchmarks(measure_rows, sample_rows)
    run_rounds(on_full + on_sample, runs, env)
    (full, full_inprocess), (sample_maskme, inprocess, pycanon) = on_full, on_sample
    results["inprocess_values"] = json.loads(_median_sample(inprocess).stdout)
    results["full_inprocess_values"] = json.loads(_median_sample(full_inprocess).stdout)
    median_pycanon = sorted(pycanon.samples, key=lambda sample: sample.wall)[len(pycanon.samples) // 2]
    pycanon_result = pycanon_values(median_pycanon)
    sample_values = maskme_values(sample_maskme.samples[0])
    results["measure_rows"] = measure_rows
    results["sample_rows"] = sample_rows
    results["pycanon_values"] = pycanon_result
    results["measure_benchmarks"] = (full, sample_maskme, inprocess, pycanon)
    results["measure_rows_table"] = [
        (full, maskme_values(full.samples[0])),
        (full_inprocess, results["full_inprocess_values"]),
        (sample_maskme, sample_values),
        (inprocess, results["inprocess_values"]),
        (pycanon, {key: pycanon_result[key] for key in ("k", "l", "t")}),
    ]
    results["values_agree"] = (
        sample_values["k"] == pycanon_result["k"]
        and sample_values["l"] == pycanon_result["l"]
        and abs(sample_values["t"] - pycanon_result["t"]) < 1e-5
    )

    script = BENCH / "anonymize_adult.py"
    results["anonymize"] = None
    results["anonymize_skipped"] = quick
    if script.exists() and not quick:
        print("anonymization on Adult", file=sys.stderr)
        # The script repeats each case itself and prints medians, so it runs once here.
        anonymize = Benchmark(
            name="anonymize Adult",
            command=[sys.executable, str(script), "--runs", str(runs)],
        )
        run_rounds([anonymize], 1, env)
        results["anonymize"] = anonymize
        results["anonymize_output"] = anonymize.samples[0].stdout

    hash_values = 20_000 if quick else 1_000_000
    results["hash_values"] = hash_values
    results["hash"] = hash_speed(hash_values)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, _Stopped) as stop:
        cause, status = "interrupted", 130
        if isinstance(stop, _Stopped):
            cause = f"stopped by {signal.Signals(stop.signal_number).name}"
            status = 128 + stop.signal_number
        print(f"run.py: {cause}. The page and its saved measurements are those of the "
              "last finished size, or of an earlier run", file=sys.stderr)
        sys.exit(status)
