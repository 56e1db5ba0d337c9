"""The benchmark data generator and the benchmark runner's code paths, on tiny sizes.

These tests check behaviour only; they assert no timings.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is created.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _load("generate")
run = _load("run")


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
    path.write_text("edited\n")
    assert generate.main(["--rows", "10", "--out", str(tmp_path), "--formats", "jsonl"]) == 0
    assert path.read_text() == "edited\n"
    assert "exists and was kept" in capsys.readouterr().err
    assert generate.main(["--rows", "10", "--out", str(tmp_path), "--formats", "jsonl",
                          "--force"]) == 0
    assert path.read_text().count("\n") == 10


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


def test_page_lists_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "DATA", tmp_path)
    generate.write_people(100, "csv", directory=tmp_path)
    generate.write_people(100, "jsonl", directory=tmp_path)
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
        "quick": True, "runs": 1, "sizes": (100,), "started": "now",
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
    assert "**not met**" in text
    assert "Skipped with `--quick`" in text


@pytest.mark.parametrize(("options", "message"), [
    (["--sizes", "0"], "expected at least 1, got 0"),
    (["--sizes", "1000,abc"], "expected a whole number, got 'abc'"),
    (["--runs", "0"], "expected at least 1, got 0"),
    (["--sample", "-5"], "expected at least 1, got -5"),
    (["--sizes", "500", "--sample", "500"], "--sample (500) must be below the first size (500)"),
])
def test_runner_rejects_bad_options(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--output", str(tmp_path / "page.md"), *options])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "page.md").exists()
