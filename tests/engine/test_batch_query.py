"""JSON batches masked with one Polars query must come out as the per-field path writes them.

Each case runs ``maskme.mask`` twice on the same file, once with the query
per batch and once with ``QUERY_ENABLED`` off, and compares the output bytes,
or the error type and message.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.engine import batch_query, local
from tests.engine.both_paths import count_per_field_runs, outcomes

KEYS = {"k": {"env": "MASKME_KEY"}}

#: Strategies with an expression, by name, each with the values it is meant for.
STRATEGIES = {
    "hash": {"strategy": "hash", "key": "k", "length": 12},
    "hash normalized": {"strategy": "hash", "key": "k", "normalize": ["strip", "lower"], "encoding": "base32"},
    "redact": {"strategy": "redact", "keep_last": 2},
    "noise": {"strategy": "noise", "scale": 3, "round": 1, "seed": 5},
    "noise integers": {"strategy": "noise", "scale": 3, "round": 0, "seed": 5, "on_invalid": "null"},
    "noise kept": {"strategy": "noise", "scale": 3, "seed": 5, "on_invalid": "keep"},
    "date noise": {"strategy": "noise", "days": 20, "seed": 5, "on_invalid": "keep"},
    "interval": {"strategy": "generalize", "interval": 10, "on_invalid": "keep"},
    "interval strict": {"strategy": "generalize", "interval": 10},
    "prefix": {"strategy": "generalize", "prefix": 3},
    "year": {"strategy": "generalize", "date": "year", "on_invalid": "null"},
    "drop": "drop",
    "keep": "keep",
}

value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " ", "1.10", "-0", "abc", "2024-02-29", "1999-12-31T10:00:00", "02139",
                     "a@Example.org ", "9223372036854775808", "1e3", "é"]),
    st.text(max_size=5),
)
record = st.dictionaries(st.sampled_from(["a", "b", "c"]), value, max_size=3)


def policy_of(fields: dict, default: str = "keep") -> dict:
    return {"version": 1, "default": default, "keys": KEYS, "fields": fields}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(record, min_size=1, max_size=12),
    chosen=st.lists(st.sampled_from(sorted(STRATEGIES)), min_size=1, max_size=3),
    default=st.sampled_from(["keep", "drop"]),
    batch_size=st.sampled_from([1, 4, 1000]),
)
def test_batch_query_same_as_fields(tmp_path, monkeypatch, key_env, records, chosen, default, batch_size):
    # A folder per example: tmp_path stays the same across hypothesis examples.
    source = Path(tempfile.mkdtemp(dir=tmp_path)) / "in.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in records))
    fields = {name: STRATEGIES[strategy] for name, strategy in zip("abc", chosen)}
    fast, slow = outcomes(source, policy_of(fields, default), monkeypatch, batch_size=batch_size)
    assert fast == slow


@pytest.mark.parametrize("name", ["in.jsonl", "in.json"])
def test_batch_query_runs_without_fallback(tmp_path, monkeypatch, key_env, name):
    """A clean file never needs the per-field path, and the output is the masked values."""
    calls = count_per_field_runs(monkeypatch)
    records = [{"email": f"p{n}@x.org", "age": 20 + n, "zip": "02139", "name": "N"} for n in range(5)]
    source = tmp_path / name
    text = json.dumps(records) if name == "in.json" else "".join(json.dumps(r) + "\n" for r in records)
    source.write_text(text)
    policy = policy_of({
        "email": STRATEGIES["hash"], "age": STRATEGIES["interval strict"],
        "zip": STRATEGIES["prefix"], "name": "drop",
    })
    target = tmp_path / ("out" + source.suffix)
    maskme.mask(source, policy, target, batch_size=2)
    written = target.read_text()
    rows = json.loads(written) if name == "in.json" else [json.loads(line) for line in written.splitlines()]
    assert calls == []
    assert [row["age"] for row in rows] == ["[20, 30)"] * 5
    assert [row["zip"] for row in rows] == ["021**"] * 5
    assert all("name" not in row for row in rows)
    assert len({row["email"] for row in rows}) == 5


def test_invalid_value_reported_as_per_field(tmp_path, monkeypatch, key_env):
    source = tmp_path / "in.jsonl"
    source.write_text('{"a":"1","b":"x"}\n{"a":"SECRET","b":"y"}\n')
    policy = policy_of({"a": STRATEGIES["interval strict"], "b": STRATEGIES["redact"]})
    fast, slow = outcomes(source, policy, monkeypatch)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith("RecordError: record 2, field `a`")
    assert "SECRET" not in fast


def test_nested_paths_use_per_field_path():
    plan_policy = maskme.load_policy(policy_of({"a.b": STRATEGIES["redact"]}))
    from maskme.engine.plan import build_plan

    assert batch_query.build_batch_query(build_plan(plan_policy, None)) is None


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"a":"SECRET"}', '{"a":"1"}', "not json"], "RecordError: record 1, field `a`"),
        (['{"a":"1"}', "not json", '{"a":"SECRET"}'], "FormatError:"),
    ],
)
def test_first_error_in_input_order(tmp_path, monkeypatch, key_env, lines, expected):
    """The query of one batch runs while the next is read: the earlier error must still win."""
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    policy = policy_of({"a": STRATEGIES["interval strict"]})
    fast, slow = outcomes(source, policy, monkeypatch, batch_size=1)
    assert fast == slow
    assert isinstance(fast, str)
    assert fast.startswith(expected)
    assert "SECRET" not in fast


def test_report_same_as_fields(tmp_path, monkeypatch, key_env):
    """A run with a report feeds the same values to the report on both paths."""
    records = [{"age": 20 + n % 30, "zip": f"0213{n % 7}", "email": f"p{n}@x.org"} for n in range(300)]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    policy = policy_of({"age": STRATEGIES["interval strict"], "zip": STRATEGIES["prefix"],
                        "email": STRATEGIES["hash"]})
    policy["quasi_identifiers"] = ["age", "zip"]
    reports = []
    for enabled in (True, False):
        monkeypatch.setattr(local, "QUERY_ENABLED", enabled)
        report = tmp_path / f"report-{enabled}.json"
        maskme.mask(source, policy, tmp_path / f"out-{enabled}.jsonl", report=report, batch_size=64)
        reports.append(json.loads(report.read_text()))
    for report in reports:
        del report["elapsed_seconds"], report["destination"]
    assert reports[0] == reports[1]
    assert (tmp_path / "out-True.jsonl").read_bytes() == (tmp_path / "out-False.jsonl").read_bytes()
