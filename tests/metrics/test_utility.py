"""Utility: whole-table measures, per-field accumulators and run measurement."""

from __future__ import annotations

import math

import polars as pl
import pytest

from maskme.errors import MaskMeError
from maskme.metrics import RunMeasurement, table_utility
from maskme.metrics.utility import DistinctValuesKept, GeneralizationLoss, NoiseDistortion


def strings(*values: str | None) -> pl.Series:
    return pl.Series(values=list(values), dtype=pl.String)


def test_table_utility():
    result = table_utility([2, 3], suppressed_records=1, k=2)

    # 4 + 9, plus 1 suppressed record * 6 records.
    assert result.discernibility == 19
    assert result.average_class_size == 2.5
    assert result.normalized_average_class_size == 1.25
    assert math.isclose(result.suppressed_share, 1 / 6)


def test_numeric_generalization_loss():
    accumulator = GeneralizationLoss()
    accumulator.update(strings("20", "25", "30", "40"), strings("20-29", "20-29", "30-39", "30-39"))
    result = accumulator.result()

    # Domain 20..40 (span 20). 20-29 spans 5 (0.25), 30-39 spans 10 (0.5): mean 0.375.
    assert result["information_loss_kind"] == "numeric_ncp"
    assert math.isclose(result["information_loss"], 0.375)
    assert result["mean_interval_width"] == 9.0
    assert result["changed_share"] == 1.0
    assert result["distinct_values_before"] == 4
    assert result["distinct_values_after"] == 2


def test_categorical_generalization_loss_and_levels():
    hierarchy = [("a", "x", "*"), ("b", "x", "*"), ("c", "y", "*"), ("d", "y", "*")]
    accumulator = GeneralizationLoss(hierarchy=hierarchy)
    accumulator.update(strings("a", "b", "c", "d", None), strings("x", "x", "c", "*", None))
    result = accumulator.result()

    # x covers 2 of 4 values: 1/3 each; c covers 1: 0; * covers all: 1. Mean of 4 records.
    assert result["information_loss_kind"] == "categorical_ncp"
    assert math.isclose(result["information_loss"], (1 / 3 + 1 / 3 + 0 + 1) / 4)
    assert result["levels"] == {"0": 1, "1": 2, "2": 1}
    assert result["records"] == 5
    assert result["records_with_values"] == 4
    assert result["mean_interval_width"] is None


def test_noise_distortion():
    accumulator = NoiseDistortion()
    accumulator.update(strings("1", "2", "3", "4", "x"), strings("2", "2", "3", "5", "x"))
    result = accumulator.result()

    assert result["values_not_numeric"] == 2
    assert result["mean_change"] == 0.5
    assert math.isclose(result["before"]["std"], math.sqrt(1.25))
    assert math.isclose(result["after"]["std"], math.sqrt(1.5))
    # Quantiles of the input are record values, so only their change is reported:
    # before 1 2 3 4 (lower quantiles 1, 1, 2, 3, 4), after 2 2 3 5 (2, 2, 2, 3, 5).
    assert "quantiles" not in result["before"]
    assert "quantiles" not in result["after"]
    assert result["quantile_change"] == {"0.0": 1.0, "0.25": 1.0, "0.5": 0.0, "0.75": 0.0, "1.0": 1.0}
    # CDFs at 1..5: before .25 .5 .75 1 1; after 0 .5 .75 .75 1.
    assert result["kolmogorov_smirnov"] == 0.25
    assert result["wasserstein"] == 0.5
    assert result["mean_absolute_change"] == 0.5


def test_noise_on_dates_counts_days():
    accumulator = NoiseDistortion()
    accumulator.update(strings("2024-01-01", "2024-01-03"), strings("2024-01-02", "2024-01-05"))
    result = accumulator.result()

    assert result["mean_change"] == 1.5
    assert result["mean_absolute_change"] == 1.5


@pytest.mark.parametrize(
    ("strategy", "after", "kept_share", "changed_share"),
    [
        ("hash", strings("h1", "h1", "h2", None), 1.0, 0.75),  # a keyed hash keeps distinct values
        ("redact", strings("x", "x", "x", None), 0.5, 0.75),  # every value redacted alike
        ("drop", None, 0.0, 0.75),  # the field is gone
    ],
)
def test_distinct_values_kept(strategy, after, kept_share, changed_share):  # type: ignore[no-untyped-def]
    accumulator = DistinctValuesKept(strategy)
    accumulator.update(strings("a", "a", "b", None), after)
    result = accumulator.result()

    assert result["distinct_values_before"] == 2
    assert result["distinct_values_kept_share"] == kept_share
    assert result["changed_share"] == changed_share


def test_run_measurement_compare_with_removed_record():
    before = pl.DataFrame(
        {
            "age": ["21", "23", "37", "38", "90"],
            "email": ["a@x", "b@x", "c@x", "d@x", "e@x"],
            "diagnosis": ["flu", "cold", "flu", "flu", "rare"],
        }
    )
    after = pl.DataFrame(
        {"age": ["20-29", "20-29", "30-39", "30-39"], "diagnosis": ["flu", "cold", "flu", "flu"]}
    )
    kept = pl.Series([True, True, True, True, False])
    run = RunMeasurement(
        ["age"], ["diagnosis"], {"age": "generalize", "email": "drop"}, compare=True
    )
    run.update(before.slice(0, 2), after.slice(0, 2), kept=kept.slice(0, 2))
    run.update(before.slice(2), after.slice(2), kept=kept.slice(2))
    report = run.result()

    assert report.removed_records == 1
    assert report.input is not None
    assert report.input.k == 1
    assert report.input.anonymity.classes == 5
    assert report.output.k == 2
    assert report.output.records == 5
    assert report.output.suppressed_records == 1
    assert report.output.sensitive("diagnosis").distinct_values == 2
    # Ages 21, 23 | 37, 38 over the kept domain 21..38 (span 17).
    assert math.isclose(report.fields["age"]["information_loss"], (2 / 17 * 2 + 1 / 17 * 2) / 4)
    assert report.fields["email"]["distinct_values_kept_share"] == 0.0
    assert report.to_dict()["output"]["suppressed_records"] == 1


def test_run_measurement_needs_kept_when_records_removed():
    run = RunMeasurement(["age"], field_strategies={"age": "generalize"})
    before = pl.DataFrame({"age": ["1", "2"]})
    after = pl.DataFrame({"age": ["*"]})

    with pytest.raises(MaskMeError, match="pass `kept`"):
        run.update(before, after)


def test_run_measurement_output_only():
    run = RunMeasurement(["age"], ["diagnosis"])
    run.update(None, pl.DataFrame({"age": ["1", "1"], "diagnosis": ["a", "b"]}))
    report = run.result()

    assert report.input is None
    assert report.fields == {}
    assert report.output.k == 2
    assert report.output.sensitive("diagnosis").distinct_l == 2


def test_run_measurement_dropped_fields():
    run = RunMeasurement(["age", "zip"], ["diagnosis"], {"zip": "drop", "diagnosis": "drop"})
    before = pl.DataFrame({"age": ["1", "2"], "zip": ["a", "b"], "diagnosis": ["x", "y"]})
    run.update(before, pl.DataFrame({"age": ["1", "2"]}))
    report = run.result()

    # A dropped quasi-identifier counts as `*`: the classes are (1, *) and (2, *).
    assert report.output.anonymity.classes == 2
    assert report.output.suppressed_records == 0
    diagnosis = report.output.sensitive("diagnosis")
    assert diagnosis.records_with_missing_values == 2
    assert diagnosis.classes_without_values == 2
    assert report.fields["zip"]["distinct_values_kept_share"] == 0.0


def test_run_measurement_resolves_hierarchy_against_base_dir():
    from .conftest import PAPER

    run = RunMeasurement(
        ["ZIPCode"],
        {"Disease": {"kind": "categorical", "hierarchy": "test2_hierarchy_Disease.csv"}},
        base_dir=PAPER,
    )
    run.update(None, pl.DataFrame({"ZIPCode": ["1", "2"], "Disease": ["flu", "gastritis"]}))
    disease = run.result().output.sensitive("Disease")

    # flu and gastritis meet only at the root (distance 1): each class moves 1/2 across it.
    assert disease.kind == "hierarchical"
    assert math.isclose(disease.t_closeness, 0.5)


def test_noise_ignores_nan_and_infinity():
    accumulator = NoiseDistortion()
    accumulator.update(strings("1", "nan", "inf"), strings("1", "2", "-inf"))
    result = accumulator.result()

    assert result["values_not_numeric"] == 3
    assert result["before"]["values"] == 1
    assert result["after"]["values"] == 2
    assert result["mean_change"] == 0.5


def test_truncated_dates_are_not_intervals():
    accumulator = GeneralizationLoss()
    accumulator.update(strings("2024-01-05", "2024-02-01"), strings("2024-01", "2024-02"))

    assert accumulator.result()["mean_interval_width"] is None


def test_generalized_dates_use_numeric_penalty():
    accumulator = GeneralizationLoss()
    accumulator.update(
        strings("2024-01-01", "2024-01-11", "2024-01-21"), strings("2024-01", "2024-01", "2024-01")
    )
    result = accumulator.result()

    # One label covers the whole 20-day span: every record costs 1.
    assert result["information_loss_kind"] == "numeric_ncp"
    assert result["information_loss"] == 1.0


def test_run_measurement_same_for_one_record_batches():
    ages = [str(20 + index % 50) for index in range(600)]
    before = pl.DataFrame(
        {"age": ages, "income": [str(index * 0.37 % 101) for index in range(600)], "email": ages}
    )
    after = pl.DataFrame(
        {
            "age": [f"{int(age) // 10 * 10}-{int(age) // 10 * 10 + 9}" for age in ages],
            "income": [str(index * 0.41 % 103) for index in range(600)],
            "email": ["x"] * 600,
        }
    )
    strategies = {"age": "generalize", "income": "noise", "email": "redact"}
    whole = RunMeasurement(["age"], field_strategies=strategies, compare=True)
    whole.update(before, after)
    batched = RunMeasurement(["age"], field_strategies=strategies, compare=True)
    for index in range(600):
        batched.update(before.slice(index, 1), after.slice(index, 1))

    assert batched.result().to_dict() == whole.result().to_dict()


def test_run_measurement_journalist_risk_of_output():
    population = pl.DataFrame({"age": ["20-29", "30-39"], "count": ["10", "4"]})
    run = RunMeasurement(["age"], compare=True, population=population)
    before = pl.DataFrame({"age": ["21", "23", "37"]})
    run.update(before, pl.DataFrame({"age": ["20-29", "20-29", "30-39"]}))
    report = run.result()

    # Output classes: 20-29 (2 of 10 people), 30-39 (1 of 4).
    assert report.output.risk.journalist_highest == 0.25
    assert math.isclose(report.output.risk.journalist_average, (2 / 10 + 1 / 4) / 3)
    assert report.input is not None
    assert report.input.risk.journalist_highest is None
