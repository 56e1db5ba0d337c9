"""Privacy targets, quasi-identifier rules, generalization levels and target checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from maskme.anonymization import check_targets
from maskme.anonymization.levels import build_levels
from maskme.errors import PolicyError
from maskme.metrics import measure
from maskme.policy import Policy
from maskme.policy.privacy import PrivacyTargets, QuasiIdentifierRule, quasi_identifier_rules


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"l": 2.5}, "l must be a whole number for l_variant distinct"),
        ({"l": 2, "l_variant": "recursive"}, "l_variant recursive needs c"),
        ({"c": 3}, "c is only used with l_variant: recursive"),
        ({"t": 1.5}, "t must be between 0 and 1"),
        ({"t": {"disease": -0.1}}, "t must be between 0 and 1"),
        ({"suppression_limit": 2}, "less than or equal to 1"),
        ({"max_risk": 0}, "greater than 0"),
        ({"k": 5, "kk": 1}, "Extra inputs are not permitted"),
        ({"metric": "precision"}, "'loss', 'discernibility' or 'average_class_size'"),
    ],
)
def test_privacy_targets_reject_invalid(arguments: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PrivacyTargets(**arguments)


def test_privacy_targets_defaults_and_risk() -> None:
    targets = PrivacyTargets(k=3, max_risk=0.2, l=1.5, l_variant="entropy")

    assert targets.suppression_limit == 0.0
    assert targets.metric == "loss"
    assert targets.required_k == 5  # 1 / 0.2, above k = 3
    assert PrivacyTargets(t={"disease": 0.3}).t_for("disease") == 0.3
    assert PrivacyTargets(t={"disease": 0.3}).t_for("income") is None
    assert PrivacyTargets(t=0.2).t_for("income") == 0.2


def test_privacy_targets_are_frozen() -> None:
    targets = PrivacyTargets(k=2)
    with pytest.raises(ValidationError):
        targets.k = 3  # type: ignore[misc]


def test_quasi_identifier_rules_forms() -> None:
    listed = quasi_identifier_rules(["age", "sex"])
    mapped = quasi_identifier_rules({"age": {"intervals": [5, 10]}, "sex": None, "zip": {"mondrian": True}})

    assert listed == {"age": QuasiIdentifierRule(), "sex": QuasiIdentifierRule()}
    assert mapped["age"].intervals == (5.0, 10.0)
    assert mapped["sex"] == QuasiIdentifierRule()
    assert mapped["zip"].mondrian


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"intervals": [5, 7]}, "whole multiple"),
        ({"intervals": []}, "at least one width"),
        ({"intervals": [0]}, "positive number"),
        ({"intervals": [5], "mondrian": True}, "set only one of"),
        ({"depth": 2}, "Extra inputs are not permitted"),
    ],
)
def test_quasi_identifier_rule_rejects_invalid(rule: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        QuasiIdentifierRule.model_validate(rule)


def test_policy_reports_rule_problem_with_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: 1\ndefault: keep\nquasi_identifiers:\n  age: {intervals: [5, 7]}\n"
        "privacy: {k: 2, kay: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as raised:
        Policy.from_yaml(path)
    text = str(raised.value)
    assert "policy.yaml:4" in text
    assert "whole multiple" in text
    assert "unknown target 'kay'" in text


def test_interval_levels_labels_and_loss() -> None:
    values = pl.Series("age", ["-3", "4", "17", "23", None], dtype=pl.String)
    levels = build_levels("age", values, QuasiIdentifierRule(intervals=(5, 10)), base_dir=Path("."))

    assert levels.level_count == 4  # raw, width 5, width 10, *
    level_one = levels.labels[1].gather(pl.Series(levels.codes[1])).to_list()
    level_two = levels.labels[2].gather(pl.Series(levels.codes[2])).to_list()
    top = levels.labels[3].gather(pl.Series(levels.codes[3])).to_list()
    assert level_one == ["[-5, 0)", "[0, 5)", "[15, 20)", "[20, 25)", None]
    assert level_two == ["[-10, 0)", "[0, 10)", "[10, 20)", "[20, 30)", None]
    assert top == ["*", "*", "*", "*", None]
    # Numeric penalty: span of the values under a label over the span of all (26).
    assert levels.loss[3].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert levels.loss[1].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]


def test_decimal_interval_labels_exact() -> None:
    """Each label contains its value: with floats, 0.3 fell in [0.2, 0.30000000000000004)."""
    values = pl.Series("dose", ["0.3", "0.7", "1.0", "-0.1", "0.25"], dtype=pl.String)
    levels = build_levels("dose", values, QuasiIdentifierRule(intervals=(0.1, 0.3)),
                          base_dir=Path("."))

    level_one = levels.labels[1].gather(pl.Series(levels.codes[1])).to_list()
    level_two = levels.labels[2].gather(pl.Series(levels.codes[2])).to_list()
    assert level_one == ["[0.3, 0.4)", "[0.7, 0.8)", "[1, 1.1)", "[-0.1, 0)", "[0.2, 0.3)"]
    assert level_two == ["[0.3, 0.6)", "[0.6, 0.9)", "[0.9, 1.2)", "[-0.3, 0)", "[0, 0.3)"]


def test_interval_labels_past_2_53() -> None:
    values = pl.Series("id", ["9007199254740993", "39"], dtype=pl.String)
    levels = build_levels("id", values, QuasiIdentifierRule(intervals=(10,)), base_dir=Path("."))

    labels = levels.labels[1].gather(pl.Series(levels.codes[1])).to_list()
    assert labels == ["[9007199254740990, 9007199254741000)", "[30, 40)"]


def test_interval_too_fine_for_values_rejected() -> None:
    values = pl.Series("amount", ["1e15", "3"], dtype=pl.String)
    with pytest.raises(PolicyError, match=r"intervals of width 0\.1 cannot label 1 distinct "
                                          r"value of field `amount` exactly"):
        build_levels("amount", values, QuasiIdentifierRule(intervals=(0.1,)), base_dir=Path("."))


def test_hierarchy_levels_must_nest(tmp_path: Path) -> None:
    hierarchy = tmp_path / "city.csv"
    hierarchy.write_text("A;X;North\nB;X;South\nC;Y;South\n", encoding="utf-8")
    values = pl.Series("city", ["A", "B", "C"])
    with pytest.raises(PolicyError, match="do not nest: a label of level 1 has more than one label"):
        build_levels("city", values, QuasiIdentifierRule(hierarchy=hierarchy), base_dir=tmp_path)


def test_hierarchy_missing_value_is_counted(tmp_path: Path) -> None:
    hierarchy = tmp_path / "city.csv"
    hierarchy.write_text("A;*\nB;*\n", encoding="utf-8")
    values = pl.Series("city", ["A", "B", "Secret-Town", "Other-Town"])
    with pytest.raises(PolicyError) as raised:
        build_levels("city", values, QuasiIdentifierRule(hierarchy=hierarchy), base_dir=tmp_path)
    text = str(raised.value)
    assert "has 2 distinct values missing from the hierarchy" in text
    assert "Secret-Town" not in text


def test_check_targets_messages() -> None:
    # Classes of sizes 1, 2, 2 and 5; the sensitive values make distinct l 1.
    frame = pl.DataFrame(
        {
            "zip": ["1", "2", "2", "3", "3", "4", "4", "4", "4", "4"],
            "disease": ["x", "x", "x", "x", "y", "x", "y", "z", "x", "y"],
        }
    )
    measurement = measure(frame, quasi_identifiers=["zip"], sensitive_attributes=["disease"])
    misses = check_targets(measurement, PrivacyTargets(k=3, l=2, max_risk=0.5, t=0.3))

    messages = [miss.message for miss in misses]
    assert messages[0] == "k = 1, needs 3: 5 records in 3 classes are below"
    assert messages[1] == "highest prosecutor risk = 1, needs at most 0.5: 1 record in 1 class is above"
    assert messages[2] == (
        "distinct l-diversity of `disease` = 1, needs 2: 2 classes (3 records with a value) are below"
    )
    assert [miss.target for miss in misses] == ["k", "max_risk", "l", "t"]
    assert misses[3].achieved == pytest.approx(0.5 * (abs(1 - 0.6) + 0.3 + 0.1))
    assert all(not miss.met for miss in misses)


def test_check_targets_all_met() -> None:
    frame = pl.DataFrame({"zip": ["1"] * 4 + ["2"] * 4, "disease": ["x", "y"] * 4})
    measurement = measure(frame, quasi_identifiers=["zip"], sensitive_attributes=["disease"])
    targets = PrivacyTargets(k=4, l=2, l_variant="recursive", c=2, t=0.0, max_risk=0.25)

    assert check_targets(measurement, targets) == []


def test_check_targets_entropy_tolerance() -> None:
    # A perfectly balanced class of three values meets entropy l = 3 despite rounding.
    frame = pl.DataFrame({"zip": ["1"] * 3, "disease": ["x", "y", "z"]})
    measurement = measure(frame, quasi_identifiers=["zip"], sensitive_attributes=["disease"])

    assert check_targets(measurement, PrivacyTargets(l=3, l_variant="entropy")) == []
    assert np.isclose(measurement.sensitive("disease").entropy_l, 3.0)
