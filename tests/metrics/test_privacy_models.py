"""Privacy model functions on hand-built histograms and class sizes."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import maskme
from maskme.errors import MaskMeError
from maskme.metrics import (
    ClassStatistics,
    SensitiveDistribution,
    k_anonymity,
    measure_sensitive_attribute,
    meets_entropy_l,
)
from maskme.metrics.closeness import ordered_distance_emd


def histogram(rows: list[tuple[int, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"class_id": pl.UInt32, "value": pl.String, "count": pl.UInt64}, orient="row"
    )


# Class 0: a 3, b 1. Class 1: a 1, b 1, c 2. Table: a 4/8, b 2/8, c 2/8.
TWO_CLASSES = histogram([(0, "a", 3), (0, "b", 1), (1, "a", 1), (1, "b", 1), (1, "c", 2)])


def test_k_anonymity_distribution_and_below_k():
    result = k_anonymity([1, 3, 3, 5], k=4)

    assert result.k == 1
    assert result.classes == 4
    assert result.records == 12
    assert result.unique_records == 1
    assert result.size_distribution == ((1, 1), (3, 2), (5, 1))
    assert result.records_below_k == 7
    assert math.isclose(result.share_below_k, 7 / 12)


def test_two_class_models():
    measures = measure_sensitive_attribute("d", TWO_CLASSES)

    assert measures.distinct_values == 3
    assert measures.distinct_l == 2
    # Class 0: q = (3/4, 1/4), H = -(3/4 ln 3/4 + 1/4 ln 1/4).
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert math.isclose(measures.entropy_l, math.exp(entropy))
    # l = 2: class 0: 3 / 1; class 1 sorted 2, 1, 1: 2 / (1 + 1) = 1.
    assert measures.recursive_l == 2
    assert measures.recursive_ratio == 3.0
    assert measures.recursive_c == 4
    assert measures.alpha == 0.75
    # Class 0: 1/2 (|3/4 - 1/2| + |1/4 - 1/4| + |0 - 1/4|) = 1/4. Class 1: 1/2 (1/4 + 0 + 1/4).
    assert math.isclose(measures.t_closeness, 0.25)
    # a in class 0: (3/4 - 1/2) / (1/2) = 1/2; c in class 1: (1/2 - 1/4) / (1/4) = 1.
    assert math.isclose(measures.beta_likeness, 1.0)
    assert measures.delta_disclosure == math.inf  # class 0 lacks c


def test_delta_disclosure_finite():
    # Class 0: a 1, b 1. Class 1: a 3, b 1. Table: a 4/6, b 2/6.
    measures = measure_sensitive_attribute(
        "d", histogram([(0, "a", 1), (0, "b", 1), (1, "a", 3), (1, "b", 1)])
    )
    # |ln((1/4) / (1/3))| = ln(4/3); |ln((1/2) / (1/3))| = ln(3/2), the largest.
    assert math.isclose(measures.delta_disclosure, math.log(1.5))


def test_recursive_with_given_l():
    measures = measure_sensitive_attribute("d", TWO_CLASSES, l=3)

    # Class 0 has two values, fewer than l = 3: no c meets (c, 3).
    assert measures.recursive_l == 3
    assert measures.recursive_ratio == math.inf
    assert measures.recursive_c is None
    assert measures.to_dict()["recursive_cl"]["ratio"] == "inf"


def test_balanced_class_meets_entropy_l():
    measures = measure_sensitive_attribute("d", histogram([(0, "a", 1), (0, "b", 1), (0, "c", 1)]))

    assert math.isclose(measures.entropy_l, 3.0)
    assert meets_entropy_l(measures.entropy_l, 3)
    assert not meets_entropy_l(measures.entropy_l, 3.0001)


def test_ordered_numbers_sort_numerically():
    frame = histogram([(0, "2", 1), (1, "9", 1), (2, "10", 1)])
    numeric = SensitiveDistribution.from_histogram(frame, order="ordered")
    text = SensitiveDistribution.from_histogram(frame)

    assert numeric.values == ["2", "9", "10"]
    assert text.values == ["10", "2", "9"]
    # "2" is the lowest of three ranks: cumulative surplus 2/3, 1/3, over m - 1 = 2.
    assert math.isclose(numeric.distances("ordered")[0], 0.5)
    # Ranked as text, "2" sits in the middle: cumulative -1/3, 1/3.
    assert math.isclose(text.distances("ordered")[0], 1 / 3)


def test_ordered_text_sorts_lexicographically():
    frame = histogram([(0, "low", 1), (1, "high", 1), (2, "medium", 1)])
    distribution = SensitiveDistribution.from_histogram(frame, order="ordered")

    assert distribution.values == ["high", "low", "medium"]


def test_hierarchy_must_list_every_value():
    frame = histogram([(0, "a", 1), (1, "z", 1)])
    distribution = SensitiveDistribution.from_histogram(frame)

    with pytest.raises(MaskMeError, match="1 of 2 distinct sensitive values are not listed"):
        distribution.distances("hierarchical", [("a", "x", "*"), ("b", "x", "*")])


def test_hierarchical_distance_on_rows():
    # a and b share parent x; c is under y. Height 2.
    rows = [("a", "x", "*"), ("b", "x", "*"), ("c", "y", "*")]
    frame = histogram([(0, "a", 1), (1, "b", 1), (2, "c", 1)])
    distances = SensitiveDistribution.from_histogram(frame).distances("hierarchical", rows)

    # Class a: surplus a +2/3, b -1/3, c -1/3. Inside x: 1/3 at cost 1/2; across the root
    # x +1/3 against y -1/3 at cost 1: 1/6 + 1/3.
    assert math.isclose(distances[0], 0.5)
    # Class c: surplus c +2/3 against x -2/3 across the root: 2/3.
    assert math.isclose(distances[2], 2 / 3)


def test_class_statistics_rejects_overlap():
    with pytest.raises(MaskMeError, match="both a quasi-identifier and a sensitive attribute"):
        ClassStatistics(["age"], ["age"])


def test_class_statistics_rejects_no_quasi_identifier():
    with pytest.raises(MaskMeError, match="no quasi-identifiers given"):
        ClassStatistics([])


def test_missing_field_error_names_field_not_values():
    statistics = ClassStatistics(["age", "zipcode"])
    frame = pl.DataFrame({"age": ["secret-value"], "zip": ["12345"]})

    with pytest.raises(MaskMeError, match="field `zipcode` not found") as raised:
        statistics.update(frame)
    assert "secret-value" not in str(raised.value)
    assert "12345" not in str(raised.value)


def test_merge_equals_single_pass():
    frame = pl.DataFrame(
        {
            "age": ["1", "1", "2", None, "*"],
            "zip": ["a", "a", "b", "c", "*"],
            "d": ["x", "y", None, "x", "z"],
        }
    )
    whole = ClassStatistics(["age", "zip"], ["d"])
    whole.update(frame)
    first, second = ClassStatistics(["age", "zip"], ["d"]), ClassStatistics(["age", "zip"], ["d"])
    first.update(frame.slice(0, 2))
    second.update(frame.slice(2))
    second.merge(first)

    expected, merged = whole.result(), second.result()
    assert merged.classes.equals(expected.classes)
    assert merged.histograms["d"].equals(expected.histograms["d"])
    assert merged.suppressed_records == expected.suppressed_records == 1


def test_field_names_like_internal_columns():
    frame = pl.DataFrame({"q0": ["1", "1"], "value": ["a", "b"], "count": ["x", "x"]})
    statistics = ClassStatistics(["q0"], ["value", "count"])
    statistics.update(frame)
    result = statistics.result()

    assert result.classes["count"].to_list() == [2]
    assert result.histograms["value"]["value"].to_list() == ["a", "b"]
    assert result.histograms["count"]["count"].to_list() == [2]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 9), st.integers(1, 20)),
        min_size=1,
        max_size=40,
        unique_by=lambda entry: (entry[0], entry[1]),
    )
)
def test_ordered_distance_sparse_equals_dense(entries):  # type: ignore[no-untyped-def]
    frame = histogram([(class_id, str(value), count) for class_id, value, count in entries])
    distribution = SensitiveDistribution.from_histogram(frame, order="ordered")
    arguments = (
        distribution.class_index,
        distribution.value_index,
        distribution.shares,
        distribution.table_shares,
        distribution.class_count,
    )

    dense = ordered_distance_emd(*arguments)
    sparse = ordered_distance_emd(*arguments, counts=distribution.counts)

    assert np.allclose(sparse, dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["categorical", "ordered"])
def test_equal_distributions_have_t_zero(kind):
    frame = pl.DataFrame({"q": ["a"] * 3 + ["b"] * 3 + ["c"] * 3, "s": ["1", "2", "3"] * 3})

    measured = maskme.measure(frame, quasi_identifiers="q", sensitive_attributes={"s": kind})

    # The cumulative sums leave 5.6e-17 of rounding for the ordered distance.
    assert measured.sensitive("s").t_closeness == 0.0
