"""Every number is the same whatever the batch size: exact counts, merged per batch."""

from __future__ import annotations

import itertools
import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskme.metrics import ClassStatistics, measure

from .conftest import ADULT

# Small alphabets so classes repeat; `*` and missing values exercise suppression
# and missing-value grouping.
QUASI_IDENTIFIER_VALUES = st.one_of(st.none(), st.sampled_from(["1", "2", "3", "*"]))
SENSITIVE_VALUES = st.one_of(st.none(), st.sampled_from(["3", "10", "7", "flu"]))
NUMBERS = st.one_of(st.none(), st.sampled_from(["3", "10", "7", "2.5"]))

ROWS = st.lists(
    st.tuples(QUASI_IDENTIFIER_VALUES, QUASI_IDENTIFIER_VALUES, SENSITIVE_VALUES, NUMBERS),
    max_size=40,
)


def report(frame: pl.DataFrame, batch_size: int | None) -> str:
    result = measure(
        frame,
        quasi_identifiers=["age", "zip"],
        sensitive_attributes={"diagnosis": "categorical", "income": "ordered"},
        batch_size=batch_size,
        k=3,
    )
    return json.dumps(result.to_dict(), sort_keys=True, allow_nan=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_batch_sizes_give_identical_numbers(rows):  # type: ignore[no-untyped-def]
    frame = pl.DataFrame(
        rows,
        schema={"age": pl.String, "zip": pl.String, "diagnosis": pl.String, "income": pl.String},
        orient="row",
    )
    whole = report(frame, None)

    assert report(frame, 1) == whole
    assert report(frame, 7) == whole


def test_file_batch_sizes_give_identical_numbers(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "adult.csv"
    source = pl.read_csv(ADULT / "adult_subset.csv", separator=";", infer_schema=False)
    source.write_csv(path)
    options = {
        "quasi_identifiers": ["age", "sex", "race"],
        "sensitive_attributes": {"occupation": "categorical", "salary-class": "ordered"},
    }
    whole = measure(path, **options).to_dict()

    assert measure(path, batch_size=7, **options).to_dict() == whole
    assert measure(path, batch_size=1000, **options).to_dict() == whole
    assert whole["records"] == 3016


@settings(max_examples=40, deadline=None)
@given(ROWS, st.lists(st.integers(0, 40), max_size=4))
def test_merged_partitions_equal_one_pass(rows, cuts):  # type: ignore[no-untyped-def]
    frame = pl.DataFrame(
        rows,
        schema={"age": pl.String, "zip": pl.String, "diagnosis": pl.String, "income": pl.String},
        orient="row",
    )
    bounds = sorted({0, frame.height, *(min(cut, frame.height) for cut in cuts)})
    partitions = []
    for start, stop in itertools.pairwise(bounds):
        partition = ClassStatistics(["age", "zip"], ["diagnosis", "income"])
        partition.update(frame.slice(start, stop - start))
        partitions.append(partition)
    whole = ClassStatistics(["age", "zip"], ["diagnosis", "income"])
    whole.update(frame)

    # Merge the partitions in reverse order, as partitions of a cluster may arrive.
    combined = ClassStatistics(["age", "zip"], ["diagnosis", "income"])
    for partition in reversed(partitions):
        combined.merge(partition)
    expected, merged = whole.result(), combined.result()

    assert merged.classes.equals(expected.classes)
    assert merged.histograms["diagnosis"].equals(expected.histograms["diagnosis"])
    assert merged.histograms["income"].equals(expected.histograms["income"])
    assert merged.suppressed_records == expected.suppressed_records
