"""The benchmark data generator and the benchmark runner's code paths, on tiny sizes.

These tests check behaviour only; they assert no timings.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.conftest import load_bench_module

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


generate = load_bench_module("generate")
run = load_bench_module("run")


def test_block_is_deterministic() -> None:
    first = generate.generate_block(0, 500, seed=7)
    second = generate.generate_block(0, 500, seed=7)
    assert first.equals(second)


def test_seed_changes_block() -> None:
    first = generate.generate_block(0, 500, seed=7)
    other = generate.generate_block(0, 500, seed=8)
    assert not first.equals(other)


def test_files_are_byte_identical(tmp_path: Path) -> None:
    for name in ("a", "b"):
        for file_format in ("csv", "jsonl"):
            generate.write_people(300, file_format, directory=tmp_path / name, seed=3)
    for file_format in ("csv", "jsonl"):
        left = (tmp_path / "a" / f"people-300-seed3.{file_format}").read_bytes()
        right = (tmp_path / "b" / f"people-300-seed3.{file_format}").read_bytes()
        assert left == right


def test_other_seed_gets_own_file(tmp_path: Path) -> None:
    default = generate.write_people(200, "csv", directory=tmp_path)
    other = generate.write_people(200, "csv", directory=tmp_path, seed=5)
    assert default.name == "people-200.csv"
    assert other.name == "people-200-seed5.csv"
    assert default.read_bytes() != other.read_bytes()


def test_unknown_format_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        generate.main(["--rows", "10", "--out", str(tmp_path), "--formats", "csv,xml"])
    assert stopped.value.code == 2
    assert "unknown format 'xml'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_existing_file_kept_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generate.write_people(10, "jsonl", directory=tmp_path)
    written = path.stat().st_mtime_ns
    assert generate.main(["--rows", "10", "--out", str(tmp_path), "--formats", "jsonl"]) == 0
    assert path.stat().st_mtime_ns == written
    assert "exists and was kept" in capsys.readouterr().err
    path.write_text("edited\n")
    assert generate.main(["--rows", "10", "--out", str(tmp_path), "--formats", "jsonl",
                          "--force"]) == 0
    assert path.read_text().count("\n") == 10


def test_edited_table_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = generate.write_people(300, "csv", directory=tmp_path)
    # Cut like an interrupted copy: the last record loses its end.
    path.write_bytes(path.read_bytes()[:5_000])
    assert generate.main(["--rows", "300", "--out", str(tmp_path), "--formats", "csv"]) == 1
    assert "is not the generated table of 300 records" in capsys.readouterr().err
    assert path.stat().st_size == 5_000
    with pytest.raises(generate.TableMismatchError, match="no line break"):
        generate.write_people(300, "csv", directory=tmp_path)


@pytest.mark.parametrize(("rows", "file_format", "problem"), [
    # The whole file of 300 records under the name of 200: its last id is 300.
    (200, "csv", "expected the last record to have id 200"),
    (200, "jsonl", "expected the last record to have id 200"),
    # A JSONL file read as CSV has no CSV header.
    (300, "csv-from-jsonl", "expected the columns id, name"),
])
def test_check_people_finds_wrong_file(
    rows: int, file_format: str, problem: str, tmp_path: Path
) -> None:
    source_format = "jsonl" if file_format == "csv-from-jsonl" else file_format
    written = generate.write_people(300, source_format, directory=tmp_path)
    checked_format = "csv" if file_format == "csv-from-jsonl" else file_format
    message = generate.check_people(written, rows, checked_format)
    assert message is not None
    assert problem in message


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_check_people_accepts_tables(rows: int, tmp_path: Path) -> None:
    for file_format in ("csv", "jsonl"):
        path = generate.write_people(rows, file_format, directory=tmp_path)
        assert generate.check_people(path, rows, file_format) is None


def test_negative_seed_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        generate.main(["--rows", "10", "--out", str(tmp_path), "--seed", "-1"])
    assert stopped.value.code == 2
    assert "--seed: expected 0 or more, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected a seed of 0 or more"):
        generate.write_people(10, "csv", directory=tmp_path, seed=-1)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = generate.generate_block

    def fail_on_second_block(block: int, rows: int, *, seed: int) -> pl.DataFrame:
        if block == 1:
            raise KeyboardInterrupt
        return drawn(block, rows, seed=seed)

    monkeypatch.setattr(generate, "BLOCK_ROWS", 50)
    monkeypatch.setattr(generate, "generate_block", fail_on_second_block)
    with pytest.raises(KeyboardInterrupt):
        generate.write_people(120, "csv", directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_both_succeed(tmp_path: Path) -> None:
    # Two runs that generate the same table at once, as two benchmark runs would.
    command = [sys.executable, str(BENCH / "generate.py"), "--rows", "300000",
               "--formats", "csv", "--out", str(tmp_path)]
    writers = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    path = generate.people_path(300_000, "csv", tmp_path)
    assert generate.check_people(path, 300_000, "csv") is None
    assert [file.name for file in tmp_path.iterdir()] == [path.name]


def test_unwritable_out_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(SystemExit) as stopped:
        generate.main(["--rows", "10", "--out", str(not_a_folder)])
    assert stopped.value.code == 2
    assert f"--out: {not_a_folder} is a file; expected a folder" in capsys.readouterr().err


def test_csv_columns_and_count(tmp_path: Path) -> None:
    path = generate.write_people(2_000, "csv", directory=tmp_path)
    frame = pl.read_csv(path, infer_schema=False)
    assert tuple(frame.columns) == generate.COLUMNS
    assert frame.height == 2_000
    assert frame["id"].to_list()[:3] == ["1", "2", "3"]


def test_jsonl_columns_and_types(tmp_path: Path) -> None:
    path = generate.write_people(200, "jsonl", directory=tmp_path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 200
    assert tuple(records[0]) == generate.COLUMNS
    assert isinstance(records[0]["id"], int)
    assert isinstance(records[0]["age"], int)
    assert isinstance(records[0]["zip"], str)


def test_zip_keeps_leading_zeros(tmp_path: Path) -> None:
    path = generate.write_people(5_000, "csv", directory=tmp_path)
    zips = pl.read_csv(path, infer_schema=False)["zip"]
    assert zips.str.len_chars().eq(5).all()
    assert zips.str.contains(r"^[0-9]{5}$").all()
    assert zips.str.starts_with("0").sum() > 0


def test_age_matches_birth_date() -> None:
    frame = generate.generate_block(0, 1_000)
    birth = frame["birth_date"].str.to_date()
    # Age on 2025-01-01 of someone born after January 1 of their birth year.
    assert not ((birth.dt.month() == 1) & (birth.dt.day() == 1)).any()
    expected = 2024 - birth.dt.year().cast(pl.Int64)
    assert (frame["age"] == expected).all()


def test_missing_values_present() -> None:
    frame = generate.generate_block(0, 5_000)
    assert 0 < frame["phone"].null_count() < 500
    assert 0 < frame["notes"].null_count() < 1_000
    assert frame["email"].null_count() == 0


def test_runner_masks_tiny_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    for file_format in ("csv", "jsonl"):
        generate.write_people(300, file_format, directory=tmp_path)
    env = dict(run.os.environ, MASKME_BENCH_KEY=run.BENCH_KEY)
    benchmarks = run.masking_benchmarks(300, tmp_path, pandas=False)
    names = [benchmark.name for benchmark in benchmarks]
    assert "csv: maskme mask" in names
    assert "jsonl: maskme mask" in names
    chosen = [b for b in benchmarks if b.name in ("csv: maskme mask", "jsonl: maskme mask")]
    run.run_rounds(chosen, 1, env)
    for benchmark in chosen:
        assert len(benchmark.samples) == 1
        assert benchmark.samples[0].wall > 0
        assert benchmark.samples[0].peak_mb > 0
        assert benchmark.output_path is not None
        assert not benchmark.output_path.exists()
    assert run.check_passthrough(300, tmp_path, env) is True


def test_runner_reads_measure_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    generate.write_people(300, "csv", directory=tmp_path)
    on_full, _ = run.measure_benchmarks(300, 100)
    sample_file = tmp_path / "people-300-first-100.csv"
    assert len(sample_file.read_text(encoding="utf-8").splitlines()) == 101
    run.run_rounds(on_full[:1], 1, dict(run.os.environ))
    values = run.maskme_values(on_full[0].samples[0])
    assert values["k"] >= 1
    assert values["l"] >= 1
    assert 0 <= values["t"] <= 1


def test_run_child_reports_failure() -> None:
    with pytest.raises(RuntimeError, match="exited 3"):
        run.run_child([sys.executable, "-c", "import sys; sys.exit(3)"], dict(run.os.environ))


def _benchmark(name: str, wall: float, cpu: float, peak: float, stdout: str = "") -> object:
    benchmark = run.Benchmark(name=name, command=[sys.executable, "x"])
    benchmark.samples = [run.Sample(wall=wall, cpu=cpu, peak_mb=peak, stdout=stdout)]
    return benchmark


def _page_results() -> dict[str, Any]:
    """Return the measurements of a quick run on 100 records, as run.main collects them."""
    masking = [
        _benchmark("csv: Polars pass-through (baseline a)", 1.0, 1.0, 100),
        _benchmark("csv: maskme mask", 1.3, 1.2, 200),
        _benchmark(run.REFERENCE_MASK, 1.1, 1.5, 200),
        _benchmark("csv: pandas script (baseline b)", 8.0, 8.0, 900),
        _benchmark("jsonl: maskme pass-through", 2.0, 2.0, 150),
        _benchmark("jsonl: maskme mask", 4.0, 4.0, 250),
    ]
    measure_json = json.dumps({
        "k_anonymity": {"k": 2, "classes": 10},
        "sensitive_attributes": [{"distinct_l": 1, "t_closeness": 0.5}],
    })
    pycanon_json = json.dumps({"k": 2, "l": 1, "t": 0.5, "k_seconds": 1.0, "l_seconds": 2.0,
                               "t_seconds": 97.0})
    full = _benchmark("maskme measure, 100 records", 0.5, 0.5, 100, measure_json)
    sample = _benchmark("maskme measure, sample of 50", 0.5, 0.5, 100, measure_json)
    pycanon = _benchmark("pycanon", 100.0, 100.0, 100, pycanon_json)
    results = {
        "quick": True, "runs": 1, "sizes": (100,), "planned_sizes": (100,), "started": "now",
        "machine": {"CPU": "test"}, "load_start": "0", "load_end": "0",
        "masking": {100: masking}, "passthrough_identical": True,
        "measure_rows": 100, "sample_rows": 50,
        "pycanon_values": json.loads(pycanon_json),
        "measure_benchmarks": (full, sample, sample, pycanon),
        "inprocess_values": {"k": 2, "l": 1, "t": 0.5, "first_seconds": 0.4,
                             "repeat_seconds": 0.05},
        "full_inprocess_values": {"k": 2, "l": 1, "t": 0.5, "first_seconds": 0.3,
                                  "repeat_seconds": 0.2},
        "measure_rows_table": [(full, run.maskme_values(full.samples[0]))],
        "values_agree": True, "anonymize": None, "anonymize_skipped": True,
        "hash_values": 10, "hash": {"vectorized_us": 0.2, "fallback_us": 1.0, "identical": True},
    }
    return results


def test_page_lists_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    generate.write_people(100, "csv", directory=tmp_path)
    generate.write_people(100, "jsonl", directory=tmp_path)
    results = _page_results()
    results["targets"] = run.target_rows(results)
    verdicts = {name: met for name, _, met in results["targets"]}
    measured = {name: text for name, text, _ in results["targets"]}
    csv_target = "CSV mask at 100 records: at most 1.4x the Polars pass-through"
    assert measured[csv_target].startswith("1.30x wall (1.20x CPU)")
    assert "the same work as one Polars query: 1.10x wall (1.50x CPU)" in measured[csv_target]
    assert measured["measure k+l+t at 100 records: under 1 s"].startswith(
        "`maskme.measure` call 0.30 s; the whole `maskme measure` process 0.50 s wall"
    )
    assert verdicts["CSV mask at 100 records: at most 1.4x the Polars pass-through"] is True
    assert verdicts["CSV mask at 100 records: at least 5x faster than pandas"] is True
    assert verdicts["JSONL mask at 100 records: within 1.5x MaskMe's JSONL pass-through"] is False
    assert verdicts["measure k+l+t at 100 records: under 1 s"] is True
    page = tmp_path / "page.md"
    run.write_page(results, page)
    text = page.read_text(encoding="utf-8")
    assert "| csv: maskme mask | 1.30 |" in text
    assert "Peak MB is in MiB (2^20 bytes)" in text
    assert "**not met**" in text
    assert "Skipped with `--quick`" in text


@pytest.mark.parametrize(("options", "message"), [
    (["--sizes", "0"], "expected at least 1, got 0"),
    (["--sizes", "1000,abc"], "expected a whole number, got 'abc'"),
    (["--runs", "0"], "expected at least 1, got 0"),
    (["--sample", "-5"], "expected at least 1, got -5"),
    (["--sizes", "500", "--sample", "500"], "--sample (500) must be below the smallest size (500)"),
    # Sizes run smallest first, so the sample is checked against 500, not 2,000.
    (["--sizes", "2000,500", "--sample", "800"],
     "--sample (800) must be below the smallest size (500)"),
])
def test_runner_rejects_bad_options(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--output", str(tmp_path / "page.md"), *options])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "page.md").exists()


def test_quick_run_creates_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh clone has no bench/data, which is where --quick writes its page."""
    data = tmp_path / "bench" / "data"
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run, "DATA", data)
    monkeypatch.setattr(run, "PAGE", tmp_path / "docs" / "benchmarks.md")
    monkeypatch.setattr(run, "QUICK_PAGE", data / "benchmarks-quick.md")
    # A bad sample stops the run right after the output check, before any benchmark.
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--sizes", "500", "--sample", "500"])
    assert stopped.value.code == 2
    assert "--sample (500) must be below" in capsys.readouterr().err
    assert data.is_dir()


def test_page_states_command_and_gaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No table files: the page must come from the saved measurements alone.
    monkeypatch.setattr(run, "DATA", tmp_path / "no-data")
    results = _page_results()
    results["command"] = "bench/run.py --sizes 100,1000 --runs 1"
    results["planned_sizes"] = (100, 1000)
    results["file_mb"] = {100: {"csv": 0.02, "jsonl": 0.04}}
    results["hash"] = None
    results["targets"] = run.target_rows(results)
    page = tmp_path / "page.md"
    run.write_page(results, page)
    text = page.read_text(encoding="utf-8")
    assert "Generated by `.venv/bin/python bench/run.py --sizes 100,1000 --runs 1` on" in text
    assert "| 100 | 0.0 | 0.0 |" in text
    assert "**Incomplete:**" in text
    assert "masking runs at 1,000 records finished" in text
    assert "Not measured: the polars-hash plugin is not installed" in text
    assert "the highest peak memory of the runs" in text
    assert "## Running it" in text
    assert "`--quick` runs at 20,000 records in under a minute" in text
    assert f"deterministic for a seed (here {generate.DEFAULT_SEED}, the default)" in text
    assert "The sections after it come from `bench/analysis.md`" not in text  # a small run
    assert "calls `maskme.measure` twice, so its process takes longer" in text
    assert "equals its input byte for byte at 100 records: yes." in text
    assert "| keyed hash vectorized, byte-identical pure-Python fallback | " \
        "polars-hash is not installed | **not met** |" in text
    assert [path.name for path in tmp_path.iterdir()] == ["page.md"]


def test_results_saved_next_to_page(tmp_path: Path) -> None:
    # A page written elsewhere must not replace the published page's measurements.
    assert run.results_file(tmp_path / "benchmarks.md") == tmp_path / "benchmarks.md.json"
    beside_quick_page = run.DATA / "benchmarks.md"
    assert run.results_file(beside_quick_page) == run.DATA / "benchmarks.md.json"
    assert run.results_file(run.PAGE) == run.DATA / "benchmarks.json"
    assert run.results_file(run.QUICK_PAGE) == run.DATA / "benchmarks-quick.json"


@pytest.mark.parametrize(("output", "message"), [
    ("missing/page.md", "does not exist"),
    (".", "is a folder"),
])
def test_runner_checks_output_first(
    output: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--output", str(tmp_path / output)])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_sizes_sorted_without_repeats() -> None:
    assert run._counts("3000, 1000,3000") == (1000, 3000)


def test_sample_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    source = generate.write_people(300, "csv", directory=tmp_path)
    # A sample cut short by an interrupted run.
    (tmp_path / "people-300-first-100.csv").write_text("id,name\n1,x\n", encoding="utf-8")
    sample = run.write_sample(300, 100)
    expected = source.read_text(encoding="utf-8").splitlines(keepends=True)[:101]
    assert sample.read_text(encoding="utf-8") == "".join(expected)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "people-300-first-100.csv", "people-300.csv"]


def test_check_output_finds_unmasked(tmp_path: Path) -> None:
    source = generate.write_people(300, "csv", directory=tmp_path)
    output = tmp_path / "out.csv"
    benchmark = run.Benchmark(name="csv: maskme mask", command=["x"], input_path=source,
                              output_path=output, masked=True)
    assert run.check_output(benchmark) == "its output is missing or empty"
    output.write_bytes(source.read_bytes())
    assert run.check_output(benchmark) == "expected `name` to be dropped from its output"
    unmasked = pl.read_csv(source, infer_schema=False).drop("name")
    unmasked.write_csv(output)
    assert run.check_output(benchmark) == (
        "expected email, ssn, zip, birth_date of the first record to be masked")
    unmasked.head(299).write_csv(output)
    assert run.check_output(benchmark) == (
        "expected 301 lines in its output as in its input, got 300")
    passthrough = run.Benchmark(name="csv: pass-through", command=["x"], input_path=source,
                                output_path=output)
    output.write_bytes(source.read_bytes())
    assert run.check_output(passthrough) is None


def test_runner_stops_on_empty_output(tmp_path: Path) -> None:
    source = generate.write_people(10, "csv", directory=tmp_path)
    output = tmp_path / "out.csv"
    benchmark = run.Benchmark(
        name="writes nothing", input_path=source, output_path=output,
        command=[sys.executable, "-c", f"open({str(output)!r}, 'w').close()"],
    )
    with pytest.raises(RuntimeError, match="writes nothing: its output is missing or empty"):
        run.run_rounds([benchmark], 2, dict(run.os.environ))
    assert len(benchmark.samples) == 1
    assert not output.exists()


# Runs one benchmark command that writes its process id and sleeps, as run.main does.
STOPPED_RUNNER = """
import signal, sys
sys.path.insert(0, sys.argv[1])
import run
signal.signal(signal.SIGTERM, run._stop_on_signal)
sleeper = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
try:
    run.run_child([sys.executable, "-c", sleeper, sys.argv[2]], {})
except run._Stopped as stop:
    sys.exit(128 + stop.signal_number)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_sigterm_ends_measured_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    runner = subprocess.Popen([sys.executable, "-c", STOPPED_RUNNER, str(BENCH), str(pid_file)])
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert runner.poll() is None, "the runner ended before the command started"
        assert time.monotonic() < deadline, "the measured command did not start"
        time.sleep(0.05)
    command_pid = int(pid_file.read_text())
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while _running(command_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(command_pid)


def test_interrupt_after_command_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    class InterruptedAfterExit(subprocess.Popen):  # type: ignore[type-arg]
        """A process whose first wait returns only after it ended, then raises as Ctrl-C would."""

        interrupted = False

        def wait(self, timeout: float | None = None) -> int:
            code = super().wait(timeout)
            if not InterruptedAfterExit.interrupted:
                InterruptedAfterExit.interrupted = True
                raise KeyboardInterrupt
            return code

    monkeypatch.setattr(run.subprocess, "Popen", InterruptedAfterExit)
    with pytest.raises(KeyboardInterrupt):
        run.run_child([sys.executable, "-c", "pass"], dict(run.os.environ))


def test_pycanon_venv_without_pycanon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A virtualenv left by an interrupted install: its python exists, pycanon does not.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    monkeypatch.setattr(run, "PYCANON_VENV", tmp_path)
    assert run.pycanon_ready() is False
    assert run.pycanon_version() == "unknown"


@pytest.mark.skipif(not (run.PYCANON_VENV / "bin" / "python").exists(),
                    reason="needs the pycanon virtualenv that bench/run.py creates")
def test_pycanon_version_installed() -> None:
    assert run.pycanon_version() == run.PYCANON_REQUIREMENT.split("==")[1]


def test_machine_facts_show_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "module.py").write_text("x = 1\n")
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "src"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], cwd=tmp_path, check=True)
    monkeypatch.setattr(run, "ROOT", tmp_path)
    for name in [name for name in run.os.environ if name.startswith("POLARS_")]:
        monkeypatch.delenv(name)
    assert "uncommitted" not in run.machine_facts()["MaskMe"]
    assert run.machine_facts()["POLARS_* variables"] == "none"
    # Notes on the page change no measurement.
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "analysis.md").write_text("notes\n")
    assert "uncommitted" not in run.machine_facts()["MaskMe"]
    (tmp_path / "src" / "module.py").write_text("x = 2\n")
    monkeypatch.setenv("POLARS_MAX_THREADS", "1")
    facts = run.machine_facts()
    assert facts["MaskMe"].endswith(", with uncommitted changes in src/, bench/ or pyproject.toml)")
    assert facts["POLARS_* variables"] == "POLARS_MAX_THREADS=1"


def test_pandas_baseline_rejects_bad_use(tmp_path: Path) -> None:
    source = generate.write_people(20, "csv", directory=tmp_path)
    before = source.read_bytes()
    script = str(BENCH / "baselines" / "pandas_mask.py")
    env = {name: value for name, value in run.os.environ.items() if name != "MASKME_BENCH_KEY"}
    missing_key = subprocess.run([sys.executable, script, str(source), str(tmp_path / "out.csv")],
                                 env=env, capture_output=True, text=True, check=False)
    assert missing_key.returncode == 2
    assert "set MASKME_BENCH_KEY" in missing_key.stderr
    env["MASKME_BENCH_KEY"] = run.BENCH_KEY
    same_file = subprocess.run([sys.executable, script, str(source), str(source)],
                               env=env, capture_output=True, text=True, check=False)
    assert same_file.returncode == 2
    assert "expected an OUTPUT.csv other than INPUT.csv" in same_file.stderr
    assert source.read_bytes() == before


def test_anonymize_adult_rejects_zero_runs() -> None:
    script = str(BENCH / "anonymize_adult.py")
    result = subprocess.run([sys.executable, script, "--runs", "0"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "--runs: expected at least 1, got 0" in result.stderr


def _stage_seconds(output: str) -> dict[str, float]:
    seconds = {}
    for line in output.splitlines():
        name, value, unit = line.split()
        assert unit == "s"
        seconds[name] = float(value)
    return seconds


def test_jsonl_stages_times_each_stage(tmp_path: Path) -> None:
    source = generate.write_people(3_000, "jsonl", directory=tmp_path)
    script = str(BENCH / "jsonl_stages.py")
    env = {"MASKME_BENCH_KEY": run.BENCH_KEY, "PATH": "/usr/bin:/bin"}
    masked = subprocess.run(
        [sys.executable, script, str(source), str(BENCH / "policies" / "mask.yaml"),
         "--batch-size", "1000"],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )
    assert masked.returncode == 0, masked.stderr
    seconds = _stage_seconds(masked.stdout)
    assert list(seconds) == ["read", "start", "query", "finish", "serialize", "total"]
    assert seconds["query"] > 0
    assert seconds["total"] == pytest.approx(sum(seconds.values()) - seconds["total"], abs=0.02)

    passthrough = subprocess.run(
        [sys.executable, script, str(source), str(BENCH / "policies" / "passthrough.yaml")],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )
    assert passthrough.returncode == 0, passthrough.stderr
    seconds = _stage_seconds(passthrough.stdout)
    assert seconds["start"] == seconds["query"] == seconds["finish"] == 0
    assert seconds["read"] > 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [source.name]


def test_jsonl_stages_rejects_bad_input(tmp_path: Path) -> None:
    script = str(BENCH / "jsonl_stages.py")
    policy = str(BENCH / "policies" / "mask.yaml")
    table = generate.write_people(10, "csv", directory=tmp_path)
    env = {"MASKME_BENCH_KEY": run.BENCH_KEY, "PATH": "/usr/bin:/bin"}
    zero = subprocess.run([sys.executable, script, str(table), policy, "--batch-size", "0"],
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert zero.returncode == 2
    assert "--batch-size: expected at least 1, got 0" in zero.stderr
    csv_input = subprocess.run([sys.executable, script, str(table), policy],
                               env=env, capture_output=True, text=True, check=False, timeout=120)
    assert csv_input.returncode == 2
    assert "expected a JSON or JSONL file, got CSV" in csv_input.stderr
    no_key = subprocess.run([sys.executable, script, str(table), policy],
                            env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            check=False, timeout=120)
    assert no_key.returncode == 2
    assert "MASKME_BENCH_KEY is not set" in no_key.stderr
    assert "Traceback" not in zero.stderr + csv_input.stderr + no_key.stderr
