"""Properties: whatever ``anonymize`` writes meets the targets when measured afresh.

Random small tables with a numeric quasi-identifier (interval levels or
Mondrian), a categorical one with a random two-level hierarchy, and a
sensitive attribute (categorical or ordered) with missing values. Each example also checks that the
pruned search finds the same optimum as the exhaustive one, and that a run
that finds no node writes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from maskme.anonymization import anonymize, plan_anonymization
from maskme.errors import PrivacyTargetError
from maskme.metrics import measure
from tests.anonymization.conftest import write_policy

COLORS = "abcdef"


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    rows = draw(st.integers(min_value=1, max_value=40))
    ages = draw(st.lists(st.one_of(st.integers(0, 39), st.none()), min_size=rows, max_size=rows))
    colors = draw(st.lists(st.sampled_from(COLORS), min_size=rows, max_size=rows))
    kind = draw(st.sampled_from(["categorical", "ordered"]))
    # Ordered values that sort differently as numbers and as text.
    choices = ["x", "y", "z"] if kind == "categorical" else ["1", "2", "10"]
    sensitive = draw(
        st.lists(st.one_of(st.sampled_from(choices), st.none()), min_size=rows, max_size=rows)
    )
    parents = draw(st.lists(st.sampled_from("PQR"), min_size=len(COLORS), max_size=len(COLORS)))
    privacy: dict[str, Any] = {
        "k": draw(st.integers(1, 4)),
        "suppression_limit": draw(st.sampled_from([0.0, 0.1, 0.3, 1.0])),
        "metric": draw(st.sampled_from(["loss", "discernibility", "average_class_size"])),
    }
    l_value = draw(st.sampled_from([None, 2]))
    if l_value is not None:
        privacy["l"] = l_value
        privacy["l_variant"] = draw(st.sampled_from(["distinct", "entropy"]))
    max_risk = draw(st.sampled_from([None, 0.5, 0.34]))
    if max_risk is not None:
        privacy["max_risk"] = max_risk
    t_value = draw(st.sampled_from([None, 0.3, 0.6]))
    if t_value is not None:
        privacy["t"] = t_value
    return {
        "frame": pl.DataFrame(
            {
                "id": [str(index) for index in range(rows)],
                "age": [None if age is None else str(age) for age in ages],
                "color": colors,
                "outcome": sensitive,
            },
            schema={"id": pl.String, "age": pl.String, "color": pl.String, "outcome": pl.String},
        ),
        "parents": parents,
        "privacy": privacy,
        "mondrian": draw(st.booleans()),
        "kind": kind,
    }


def prepare(folder: Path, case: dict[str, Any]) -> tuple[Path, Path]:
    data = folder / "data.csv"
    case["frame"].write_csv(data)
    hierarchy = folder / "color.csv"
    hierarchy.write_text(
        "".join(f"{color};{parent};*\n" for color, parent in zip(COLORS, case["parents"], strict=True)),
        encoding="utf-8",
    )
    age_rule = {"mondrian": True} if case["mondrian"] else {"intervals": [5, 10, 20]}
    policy = write_policy(
        folder,
        {
            "quasi_identifiers": {"age": age_rule, "color": {"hierarchy": "color.csv"}},
            "sensitive_attributes": {"outcome": {"kind": case["kind"]}},
            "privacy": case["privacy"],
        },
    )
    return data, policy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_output_meets_targets_afresh(case: dict[str, Any]) -> None:
    privacy = case["privacy"]
    rows = case["frame"].height
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        data, policy = prepare(folder, case)
        output = folder / "out.csv"
        every = plan_anonymization(data, policy, exhaustive=True)
        try:
            result = anonymize(data, policy, output)
        except PrivacyTargetError:
            event("no node meets the targets")
            assert every.outcome.best is None
            assert not output.exists()
            return

        event("written")
        if case["mondrian"]:
            event("mondrian")
        assert every.outcome.best is not None
        assert result.utility == every.outcome.best.utility
        written = pl.read_csv(output, infer_schema=False) if output.stat().st_size else pl.DataFrame()
        assert written.height + result.suppressed_records == rows
        assert result.suppressed_records <= privacy["suppression_limit"] * rows + 1e-9
        # Records keep their other fields and their order.
        kept_ids = written["id"].to_list()
        assert kept_ids == sorted(kept_ids, key=int)

        fresh = measure(
            written,
            quasi_identifiers=["age", "color"],
            sensitive_attributes={"outcome": case["kind"]},
        )
        assert fresh.k is not None
        assert fresh.k >= privacy["k"]
        if "max_risk" in privacy:
            assert 1 / fresh.k <= privacy["max_risk"]
        outcome = fresh.sensitive("outcome")
        if "l" in privacy and outcome.distinct_l is not None:
            if privacy["l_variant"] == "distinct":
                assert outcome.distinct_l >= privacy["l"]
            else:
                assert outcome.entropy_l is not None
                assert outcome.entropy_l >= privacy["l"] * (1 - 1e-9)
        if "t" in privacy and outcome.t_closeness is not None:
            assert outcome.t_closeness <= privacy["t"] + 1e-12
