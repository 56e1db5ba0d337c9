"""Every number is the same whatever the batch size: exact counts, merged per batch."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskme.metrics import measure

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
