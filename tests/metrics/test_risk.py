"""Re-identification risk: prosecutor, journalist and marketer models on hand-computed tables."""

from __future__ import annotations

import math

import polars as pl
import pytest

from maskme.errors import MaskMeError
from maskme.metrics import measure, reidentification_risk


def test_prosecutor_and_marketer_without_population():
    risk = reidentification_risk([2, 3, 10], threshold=0.4)

    assert risk.prosecutor_highest == 0.5
    assert math.isclose(risk.prosecutor_average, 3 / 15)
    # Only the class of 2 has a risk (1/2) above 0.4.
    assert risk.prosecutor_records_above_threshold == 2
    assert math.isclose(risk.prosecutor_share_above_threshold, 2 / 15)
    assert math.isclose(risk.marketer, 3 / 15)
    assert risk.journalist_highest is None


def test_journalist_with_population():
    risk = reidentification_risk([2, 3], population_sizes=[10, 3])

    assert risk.prosecutor_highest == 0.5
    assert risk.prosecutor_records_above_threshold == 5
    # Journalist: 1 / min(10, 3); average (2/10 + 3/3) / 5.
    assert math.isclose(risk.journalist_highest, 1 / 3)
    assert math.isclose(risk.journalist_average, 0.24)
    assert math.isclose(risk.marketer, 0.24)
    # 1/3 > 0.2 for the second class only.
    assert risk.journalist_records_above_threshold == 3
    assert math.isclose(risk.journalist_share_above_threshold, 0.6)


def test_population_smaller_than_class():
    with pytest.raises(MaskMeError, match="1 population count is smaller"):
        reidentification_risk([2, 3], population_sizes=[1, 3])


def test_measure_with_population_table():
    data = pl.DataFrame(
        {"age": ["30", "30", "40", "40", "40"], "zip": ["1", "1", None, None, None]}
    )
    population = pl.DataFrame(
        {"age": ["30", "40", "40"], "zip": ["1", None, None], "count": ["6", "5", "5"]}
    )
    result = measure(data, quasi_identifiers=["age", "zip"], population=population)

    # F: (30, 1) 6; (40, missing) 5 + 5 = 10.
    assert math.isclose(result.risk.journalist_highest, 1 / 6)
    assert math.isclose(result.risk.journalist_average, (2 / 6 + 3 / 10) / 5)


def test_population_missing_a_class():
    data = pl.DataFrame({"age": ["30", "50"]})
    population = pl.DataFrame({"age": ["30"], "count": [9]})

    with pytest.raises(MaskMeError, match="1 of 2 equivalence classes has no population count"):
        measure(data, quasi_identifiers=["age"], population=population)


def test_threshold_out_of_range():
    with pytest.raises(MaskMeError, match="between 0 and 1"):
        reidentification_risk([1], threshold=2.0)
