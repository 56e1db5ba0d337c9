"""Hostile inputs for the per-batch Polars query on JSON and JSONL.

Every case runs the same job with the query (``QUERY_ENABLED`` on) and with
the per-field path (off). Both must write the same output bytes, or raise the
same error type and message. No error may contain a data value, and a failed
run must leave no file behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.engine import local
from tests.conftest import TEST_KEY
from tests.engine.both_paths import count_per_field_runs, outcome, outcomes

KEYS = {"k": {"env": "MASKME_KEY"}}

#: Strategies with an expression, with on_invalid variants, plus drop and keep.
STRATEGIES: dict[str, dict | str] = {
    "hash": {"strategy": "hash", "key": "k", "length": 12},
    "hash normalized": {"strategy": "hash", "key": "k", "normalize": ["strip", "lower", "nfkc"]},
    "hash base64": {"strategy": "hash", "key": "k", "encoding": "base64", "context": "x"},
    "redact": {"strategy": "redact", "keep_last": 2},
    "redact both ends": {"strategy": "redact", "keep_first": 2, "keep_last": 2, "mask_char": "•"},
    "noise": {"strategy": "noise", "scale": 3, "round": 1, "seed": 5},
    "noise null": {"strategy": "noise", "scale": 1000, "round": 0, "seed": 5, "on_invalid": "null"},
    "noise keep": {"strategy": "noise", "scale": 3, "seed": 5, "on_invalid": "keep"},
    "noise keyed": {"strategy": "noise", "scale": 3, "key": "k", "on_invalid": "keep"},
    "noise bounded": {
        "strategy": "noise",
        "scale": 5,
        "min": 0,
        "max": 100,
        "seed": 1,
        "on_invalid": "keep",
    },
    "noise relative": {"strategy": "noise", "relative": 0.5, "seed": 1, "on_invalid": "null"},
    "noise gaussian": {
        "strategy": "noise",
        "scale": 5,
        "distribution": "gaussian",
        "round": 3,
        "seed": 1,
        "on_invalid": "keep",
    },
    "noise tens": {"strategy": "noise", "scale": 50, "round": -2, "seed": 1, "on_invalid": "keep"},
    "date noise": {"strategy": "noise", "days": 20, "seed": 5, "on_invalid": "keep"},
    "date noise strict": {"strategy": "noise", "days": 20, "seed": 5},
    "interval": {"strategy": "generalize", "interval": 10, "on_invalid": "keep"},
    "interval strict": {"strategy": "generalize", "interval": 10},
    "interval origin": {
        "strategy": "generalize",
        "interval": 2.5,
        "origin": 0.3,
        "on_invalid": "null",
    },
    "breaks": {"strategy": "generalize", "breaks": [18, 30, 65], "top": 90, "on_invalid": "keep"},
    "top and bottom": {"strategy": "generalize", "top": 50, "bottom": -5, "on_invalid": "keep"},
    "prefix": {"strategy": "generalize", "prefix": 3},
    "year": {"strategy": "generalize", "truncate": "year", "on_invalid": "null"},
    "year as date": {
        "strategy": "generalize",
        "truncate": "year",
        "output": "date",
        "on_invalid": "keep",
    },
    "quarter": {"strategy": "generalize", "truncate": "quarter", "on_invalid": "null"},
    "hierarchy": {
        "strategy": "generalize",
        "hierarchy": {"a": ["A", "*"], "1": ["one", "*"]},
        "level": 1,
        "fallback": "other",
    },
    "hierarchy keep": {
        "strategy": "generalize",
        "hierarchy": {"a": ["A", "*"], "1": ["one", "*"]},
        "level": 1,
        "on_invalid": "keep",
    },
    "drop": "drop",
    "keep": "keep",
}

#: Values as JSON text, so that -0, 1e400 and integers past 64 bits reach the reader as written.
RAW_VALUES = [
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "1.10",
    "1E2",
    "1e400",
    "-1e400",
    "1e-400",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "4.9e-324",
    "9007199254740993",
    "562949953421312.5",
    "37",
    "12.25",
    '""',
    '" "',
    '"abc"',
    '"12"',
    '"-0"',
    '"1e400"',
    '"NaN"',
    '"inf"',
    '" 12 "',
    '"+5"',
    '".5"',
    '"1_000"',
    '"2024-02-29"',
    '"2024-02-30"',
    '"1999-12-31T10:00:00"',
    '"2024-01-01T00:00:00Z"',
    '"9999-12-31"',
    '"0001-01-01"',
    '"2024-02-29T23:59:59+14:00"',
    '"31/12/2024"',
    '"20240101"',
    '"02139"',
    '"A@Example.org "',
    '"é"',
    '"e\\u0301"',
    '"ÄÖ😀"',
    '"👩‍👩‍👧"',
    '"İß"',
    '"١٢"',
    '"a"',
    '"1"',
    '"true"',
    '"null"',
    '"' + "x" * 5000 + '"',
]

FIELD_NAMES = ["a", "b", "é", "x y", "c0", "maskme_record", "maskme_needs_fields"]


def policy_of(fields: dict, default: str = "keep", **extra) -> dict:
    return {"version": 1, "default": default, "keys": KEYS, "fields": fields, **extra}


def write_records(folder: Path, lines: list[str], suffix: str) -> Path:
    source = folder / ("in" + suffix)
    if suffix == ".json":
        source.write_text("[" + ",\n".join(lines) + "]", encoding="utf-8")
    else:
        source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return source


def record_text(items: dict[str, str]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{raw}" for key, raw in items.items()) + "}"


raw_record = st.dictionaries(
    st.sampled_from(FIELD_NAMES[:4]), st.sampled_from(RAW_VALUES), max_size=4
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(raw_record, min_size=1, max_size=8),
    chosen=st.lists(st.sampled_from(sorted(STRATEGIES)), min_size=1, max_size=4),
    default=st.sampled_from(["keep", "drop"]),
    batch_size=st.sampled_from([1, 2, 3, 1000]),
    suffix=st.sampled_from([".jsonl", ".json"]),
)
def test_hostile_values_same_as_fields(
    tmp_path, monkeypatch, key_env, records, chosen, default, batch_size, suffix
):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    source = write_records(folder, [record_text(items) for items in records], suffix)
    fields = {name: STRATEGIES[strategy] for name, strategy in zip(FIELD_NAMES, chosen)}
    fast, slow = outcomes(source, policy_of(fields, default), monkeypatch, batch_size=batch_size)
    assert fast == slow


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(raw_record, min_size=1, max_size=6),
    chosen=st.lists(st.sampled_from(sorted(STRATEGIES)), min_size=1, max_size=3),
    output=st.sampled_from(["out.csv", "out.json"]),
    batch_size=st.sampled_from([1, 4, 1000]),
)
def test_jsonl_to_other_format_same(
    tmp_path, monkeypatch, key_env, records, chosen, output, batch_size
):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    source = write_records(folder, [record_text(items) for items in records], ".jsonl")
    fields = {name: STRATEGIES[strategy] for name, strategy in zip(FIELD_NAMES, chosen)}
    policy = policy_of(fields)

    query_target = folder / ("query-" + output)
    batch_target = folder / ("batches-" + output)
    fast = outcome(source, policy, query_target, batch_size=batch_size)
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = outcome(source, policy, batch_target, batch_size=batch_size)
    assert fast == slow


def test_many_fields_large_batches_same(tmp_path, monkeypatch, key_env):
    """Seven fields, odd key names (``c0``, ``maskme_record``), 3,000 records, some keys missing."""
    lines = []
    for number in range(3000):
        items = {
            name: RAW_VALUES[(number * 7 + position * 13) % len(RAW_VALUES)]
            for position, name in enumerate(FIELD_NAMES)
            if (number + position) % 11
        }
        lines.append(record_text(items))
    source = write_records(tmp_path, lines, ".jsonl")
    fields = {
        "a": STRATEGIES["noise keep"],
        "b": STRATEGIES["interval"],
        "é": STRATEGIES["hash normalized"],
        "x y": STRATEGIES["top and bottom"],
        "c0": STRATEGIES["year as date"],
        "maskme_record": STRATEGIES["noise relative"],
        "maskme_needs_fields": STRATEGIES["redact"],
    }
    for batch_size in (999, 16384):
        fast, slow = outcomes(source, policy_of(fields), monkeypatch, batch_size=batch_size)
        assert isinstance(fast, bytes)
        assert fast == slow


def test_query_handles_hostile_numbers_itself(tmp_path, monkeypatch, key_env):
    """Run hostile but valid values through the query itself, so the comparisons above test it."""
    calls = count_per_field_runs(monkeypatch)
    values = ["-0", "1e400", "-0.0", "true", "null", '""', "9223372036854775808", "1.10", '"abc"']
    lines = [record_text({"a": value, "b": value, "c": value}) for value in values]
    source = write_records(tmp_path, lines, ".jsonl")
    policy = policy_of(
        {"a": STRATEGIES["noise keep"], "b": STRATEGIES["interval"], "c": STRATEGIES["hash"]}
    )
    fast, slow = outcomes(source, policy, monkeypatch)
    assert calls == [1]  # one batch, on the run with the query turned off
    assert fast == slow
    lines = fast.decode().splitlines()
    assert lines[1].startswith('{"a":1e400,"b":1e400,')
    rows = [json.loads(line) for line in lines]
    assert rows[0]["b"] == "[0, 10)"
    assert rows[3]["a"] is True
    assert rows[3]["b"] is True
    assert rows[4]["a"] is None
    assert rows[5]["c"] == ""


def test_field_absent_from_one_batch(tmp_path, monkeypatch, key_env):
    lines = ['{"b":"x"}', '{"b":"y"}', '{"a":5,"b":"z"}', '{"a":"7","b":""}']
    source = write_records(tmp_path, lines, ".jsonl")
    policy = policy_of({"a": STRATEGIES["noise"], "b": STRATEGIES["hash"]}, default="drop")
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=2)
    assert fast == slow
    rows = [json.loads(line) for line in fast.decode().splitlines()]
    assert [sorted(row) for row in rows] == [["b"], ["b"], ["a", "b"], ["a", "b"]]
    assert isinstance(rows[2]["a"], int)
    assert isinstance(rows[3]["a"], str)
    assert rows[3]["b"] == ""


def test_field_absent_from_whole_file(tmp_path, monkeypatch, key_env):
    source = write_records(tmp_path, ['{"b":"x"}', '{"b":"y"}'], ".jsonl")
    policy = policy_of({"a": STRATEGIES["noise"], "b": STRATEGIES["hash"]})
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=1)
    assert fast == slow


def test_default_drop_with_quasi_identifiers(tmp_path, monkeypatch, key_env):
    lines = [
        record_text({"age": "37", "zip": '"02139"', "sex": '"F"', "name": '"N"', "dx": '"a"'})
    ] * 3
    source = write_records(tmp_path, lines, ".json")
    policy = policy_of(
        {"age": STRATEGIES["interval strict"], "zip": STRATEGIES["prefix"], "name": "drop"},
        default="drop",
        quasi_identifiers=["age", "zip", "sex"],
    )
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=2)
    assert fast == slow
    rows = json.loads(fast)
    assert rows == [{"age": "[30, 40)", "zip": "021**", "sex": "F"}] * 3


def test_error_in_later_batch_leaves_nothing(tmp_path, monkeypatch, key_env):
    """Stop on a bad record after clean batches went through the query: no output, no .part."""
    lines = [record_text({"a": str(number), "b": '"x"'}) for number in range(10)]
    lines.append(record_text({"a": '"zq7secret"', "b": '"y"'}))
    source = write_records(tmp_path, lines, ".jsonl")
    policy = policy_of({"b": STRATEGIES["redact"], "a": STRATEGIES["interval strict"]})
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=3)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith("RecordError: record 11, field `a`")
    assert "zq7" not in fast


def test_invalid_field_reported_before_container(tmp_path, monkeypatch, key_env):
    """Report an invalid value in the first field before an object in a later field."""
    lines = ['{"a":"1","b":"x"}', '{"a":"zq7secret","b":{"zq7":1}}']
    source = write_records(tmp_path, lines, ".jsonl")
    policy = policy_of({"a": STRATEGIES["noise"], "b": STRATEGIES["hash"]})
    fast, slow = outcomes(source, policy, monkeypatch)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith("RecordError: record 2, field `a`")
    assert "zq7" not in fast


@pytest.mark.parametrize(
    "raw",
    [
        '"zq7secret"',
        "98765.4321e300",
        '"98765-13-45"',
        '{"zq7":1}',
        '["zq7"]',
        "987654321987654321987654321",
        '"ZQ7😀"',
        '"9876543210.5"',
    ],
)
@pytest.mark.parametrize(
    "strategy",
    [
        "noise",
        "date noise strict",
        "interval strict",
        "prefix",
        "hash",
        "noise relative",
        "year",
        "hierarchy",
    ],
)
def test_errors_contain_no_value(tmp_path, monkeypatch, key_env, raw, strategy):
    source = write_records(tmp_path, ['{"a":1}', '{"a":' + raw + "}"], ".jsonl")
    fast, slow = outcomes(source, policy_of({"a": STRATEGIES[strategy]}), monkeypatch)
    assert fast == slow
    if isinstance(fast, str):
        for fragment in ("zq7", "ZQ7", "98765", "9876"):
            assert fragment not in fast


def test_run_result_same(tmp_path, monkeypatch, key_env):
    lines = [
        record_text(
            {
                "age": str(20 + number % 50),
                "zip": '"02139"',
                "sex": '"M"' if number % 2 else '"F"',
                "other": "1",
            }
        )
        for number in range(200)
    ]
    source = write_records(tmp_path, lines, ".jsonl")
    policy = policy_of(
        {"age": STRATEGIES["interval"], "zip": STRATEGIES["prefix"]},
        quasi_identifiers=["age", "zip", "sex"],
    )
    summaries = []
    for enabled in (True, False):
        monkeypatch.setattr(local, "QUERY_ENABLED", enabled)
        target = tmp_path / f"out-{enabled}.jsonl"
        report = tmp_path / f"report-{enabled}.json"
        result = maskme.mask(source, policy, target, batch_size=7, report=report, compare=True)
        summary = result.to_dict()
        written = json.loads(report.read_text())
        for found in (summary, written):
            found.pop("elapsed_seconds")
            found.pop("destination")
        summaries.append((summary, written, target.read_bytes()))
    assert summaries[0] == summaries[1]
    assert summaries[0][0]["records"] == 200


#: Runs the CLI with the per-batch query on ("1") or off ("0").
CLI_WITH_SWITCH = (
    "import sys\n"
    "from maskme.engine import local\n"
    "local.QUERY_ENABLED = sys.argv.pop(1) == '1'\n"
    "from maskme.cli.app import main\n"
    "sys.argv[0] = 'maskme'\n"
    "sys.exit(main())\n"
)


def run_cli_switched(
    enabled: bool, *args: str, input: bytes, cwd: Path
) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "MASKME_KEY": TEST_KEY, "TMPDIR": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", CLI_WITH_SWITCH, "1" if enabled else "0", *args],
        input=input,
        capture_output=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("bad", [False, True])
def test_cli_stdin_report_compare(tmp_path, bad):
    lines = [
        record_text({"age": str(20 + number % 30), "zip": '"02139"', "sex": '"F"', "n": "-0"})
        for number in range(40)
    ]
    if bad:
        lines.append(record_text({"age": '"zq7secret"', "zip": '"1"', "sex": '"F"', "n": "1"}))
    stdin = "".join(line + "\n" for line in lines).encode()
    (tmp_path / "policy.json").write_text(
        json.dumps(
            policy_of(
                {
                    "age": STRATEGIES["interval strict"],
                    "zip": STRATEGIES["prefix"],
                    "n": STRATEGIES["noise"],
                },
                quasi_identifiers=["age", "zip", "sex"],
            )
        )
    )
    results = []
    for enabled in (True, False):
        folder = tmp_path / ("query" if enabled else "batches")
        folder.mkdir()
        (folder / "policy.json").write_text((tmp_path / "policy.json").read_text())
        completed = run_cli_switched(
            enabled,
            "mask",
            "-",
            "-f",
            "jsonl",
            "-p",
            "policy.json",
            "-o",
            "-",
            "--report",
            "r.json",
            "--compare",
            "-q",
            "--batch-size",
            "4",
            input=stdin,
            cwd=folder,
        )
        leftovers = sorted(path.name for path in folder.iterdir())
        report = (
            json.loads((folder / "r.json").read_text()) if (folder / "r.json").exists() else None
        )
        if report is not None:
            report.pop("elapsed_seconds")
        results.append(
            (completed.returncode, completed.stdout, completed.stderr, leftovers, report)
        )
    assert results[0] == results[1]
    returncode, stdout, stderr, leftovers, report = results[0]
    if bad:
        assert returncode != 0
        assert stdout == b""
        assert b"zq7" not in stderr
        assert leftovers == ["policy.json"]
    else:
        assert returncode == 0
        assert len(stdout.splitlines()) == 40
        assert report is not None
        assert report["records"] == 40


MALFORMED_TAIL_CASES = [
    (
        '[{"a":1,"b":"x"},{"a":"bad","b":"y"},{"a":2,"b":"z"},{"a":3,"b":"z"} oops',
        "record 2, field `a`",
    ),
    (
        '[{"a":1,"b":"x"},{"a":2,"b":{"o":1}},{"a":2,"b":"z"},{"a":3,"b":"z"} oops',
        "record 2, field `b`",
    ),
    (
        '[{"a":1,"b":"x"},{"a":2,"b":"y"},{"a":2,"b":{"o":1}},{"a":3,"b":"z"} oops',
        "record 3, field `b`",
    ),
    (
        '[{"a":1,"b":"x"},{"a":2,"b":"y"},{"a":2,"b":"z"},{"a":"bad","b":"z"} oops',
        "record 4, field `a`",
    ),
    (
        '[{"a":1,"b":"x"},{"a":2,"b":"y"},{"a":2,"b":"z"},{"a":"bad","b":"z"},{"a":"bad"}, 7]',
        "record 4, field `a`",
    ),
]


@pytest.mark.parametrize(("text", "where"), MALFORMED_TAIL_CASES)
def test_record_error_before_malformed_tail(tmp_path, monkeypatch, key_env, text, where):
    """Raise a bad record's error, not the error of malformed JSON read after it."""
    source = tmp_path / "in.json"
    source.write_text(text)
    policy = policy_of({"a": STRATEGIES["interval strict"], "b": STRATEGIES["hash"]})
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=2)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith(f"RecordError: {where}")


def test_record_error_before_malformed_jsonl_block(tmp_path, monkeypatch, key_env):
    """Raise the bad record's error when a later 1 MiB block contains a malformed line."""
    padding = json.dumps("x" * 200)
    clean = "".join(record_text({"a": str(number), "b": padding}) + "\n" for number in range(6000))
    source = tmp_path / "in.jsonl"
    source.write_text(clean + '{"a":"bad","b":"q"}\n' + clean + '{"a":1,\n')
    policy = policy_of({"a": STRATEGIES["interval strict"], "b": STRATEGIES["hash"]})
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=1000)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith("RecordError: record 6,001, field `a`")


#: Strategies with a date format, options of redact and hash, and noise seeded by the run.
FORMAT_STRATEGIES: dict[str, dict] = {
    "day first": {
        "strategy": "noise",
        "days": 3,
        "format": "%d/%m/%Y",
        "seed": 1,
        "on_invalid": "keep",
    },
    "compact": {
        "strategy": "noise",
        "days": 3,
        "format": "%Y%m%d",
        "seed": 1,
        "on_invalid": "null",
    },
    "with minutes": {
        "strategy": "noise",
        "days": 3,
        "format": "%Y-%m-%d %H:%M",
        "seed": 1,
        "on_invalid": "keep",
    },
    "day of year": {
        "strategy": "noise",
        "days": 400,
        "format": "%j/%Y",
        "seed": 1,
        "on_invalid": "keep",
    },
    "month day first": {
        "strategy": "generalize",
        "truncate": "month",
        "format": "%d/%m/%Y",
        "on_invalid": "keep",
    },
    "week as date": {
        "strategy": "generalize",
        "truncate": "week",
        "format": "%d/%m/%Y",
        "output": "date",
        "on_invalid": "null",
    },
    "run seed": {"strategy": "noise", "scale": 2, "on_invalid": "keep"},
    "redact email": {"strategy": "redact", "email": True, "keep_first": 1},
    "redact length": {"strategy": "redact", "keep_separators": False, "keep_last": 3, "length": 4},
    "hash upper": {
        "strategy": "hash",
        "key": "k",
        "normalize": ["upper", "collapse_whitespace", "nfc"],
        "length": 6,
    },
}

FORMAT_VALUES = [
    "31/12/2024", "29/02/2023", "01/01/0001", "1/2/2024", "2024-12-31", "20240229",
    "2024-02-29 10:00", "2024-02-29 25:00", "366/2024", "001/2024", "a.b@ex.org", "@x", "x@", "Ab  C\u00a0d", "ÉCOLE",
    "e\u0301x", None, "", 5, -0.0, True, "31/12/9999",
]  # fmt: skip


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(
        st.dictionaries(st.sampled_from("abc"), st.sampled_from(FORMAT_VALUES), max_size=3),
        min_size=1,
        max_size=8,
    ),
    chosen=st.lists(st.sampled_from(sorted(FORMAT_STRATEGIES)), min_size=3, max_size=3),
    batch_size=st.sampled_from([1, 2, 100]),
)
def test_date_formats_and_run_seed_same(
    tmp_path, monkeypatch, key_env, records, chosen, batch_size
):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    source = write_records(folder, [json.dumps(items) for items in records], ".jsonl")
    fields = {name: FORMAT_STRATEGIES[strategy] for name, strategy in zip("abc", chosen)}
    fast, slow = outcomes(source, policy_of(fields), monkeypatch, batch_size=batch_size, seed=3)
    assert fast == slow


EDGE_FILES = [
    ("[]", ".json"),
    ("", ".jsonl"),
    ("\n\n", ".jsonl"),
    ("[{},{}]", ".json"),
    ('{}\n{"a":null,"b":1}\n', ".jsonl"),
    ('{"a":"","b":1}\n', ".jsonl"),
    ('\ufeff{"a":"1","b":1}\r\n\r\n{"a":2,"b":2}\r\n', ".jsonl"),
]


@pytest.mark.parametrize(("text", "suffix"), EDGE_FILES)
@pytest.mark.parametrize("output", ["same", ".csv"])
def test_edge_files_same(tmp_path, monkeypatch, key_env, text, suffix, output):
    """Compare empty inputs, empty objects, a BOM and CRLF line ends, to JSON and to CSV."""
    source = tmp_path / ("in" + suffix)
    source.write_text(text, encoding="utf-8")
    policy = policy_of(
        {"a": STRATEGIES["noise"], "b": "keep"}, default="drop", quasi_identifiers=["a"]
    )
    target_suffix = suffix if output == "same" else output
    fast = outcome(source, policy, tmp_path / ("query" + target_suffix))
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = outcome(source, policy, tmp_path / ("batches" + target_suffix))
    assert fast == slow


SPELLING_CASES = [
    ({"a": "hash", " a": "redact"}, '{"a":"xy"," a":"yz"}'),
    ({"a": "hash", "a ": "redact"}, '{"a":"xy"}'),
    ({"a": "hash", "A": "redact"}, '{"a":"xy","A":"q"}'),
    ({"é": "hash", "e\u0301": "redact"}, '{"é":"xy","e\u0301":"qq"}'),
    ({"a": "hash", "a[]": "redact"}, '{"a":"xy"}'),
    ({"a": "drop", "a[*]": "redact"}, '{"a":["xy"]}'),
]


@pytest.mark.parametrize(("chosen", "line"), SPELLING_CASES)
def test_one_key_two_spellings_same(tmp_path, monkeypatch, key_env, chosen, line):
    """Compare fields whose names differ by a space, case, Unicode form or array marker."""
    source = write_records(tmp_path, [line, line], ".jsonl")
    fields = {name: STRATEGIES[strategy] for name, strategy in chosen.items()}
    fast, slow = outcomes(source, policy_of(fields), monkeypatch, batch_size=1)
    assert fast == slow
