"""Mondrian partitioning of numeric quasi-identifiers: intervals per class."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from maskme.anonymization import anonymize
from maskme.metrics import measure
from tests.anonymization.conftest import ADULT, write_policy


def test_mondrian_single_attribute_splits_at_medians(tmp_path: Path) -> None:
    # Ages 1..12, k = 3: Mondrian halves at the median until a half would drop below 3.
    frame = pl.DataFrame({"age": [str(age) for age in range(1, 13)], "id": list("abcdefghijkl")})
    policy = write_policy(
        tmp_path, {"quasi_identifiers": {"age": {"mondrian": True}}, "privacy": {"k": 3}}
    )
    result = anonymize(frame, policy)

    output = result.frame
    assert isinstance(output, pl.DataFrame)
    assert output["id"].to_list() == list("abcdefghijkl")
    assert output["age"].to_list() == [
        "[1, 3]", "[1, 3]", "[1, 3]",
        "[4, 6]", "[4, 6]", "[4, 6]",
        "[7, 9]", "[7, 9]", "[7, 9]",
        "[10, 12]", "[10, 12]", "[10, 12]",
    ]
    assert result.levels == {"age": "mondrian"}
    assert result.suppressed_records == 0
    # Each class spans 2 of the 11 years between the youngest and the oldest.
    assert result.information_loss == pytest.approx(2 / 11)


def test_mondrian_keeps_missing_values_apart(tmp_path: Path) -> None:
    ages = ["20", "21", "22", "23", None, None]
    frame = pl.DataFrame({"age": ages}, schema={"age": pl.String})
    policy = write_policy(
        tmp_path, {"quasi_identifiers": {"age": {"mondrian": True}}, "privacy": {"k": 2}}
    )
    result = anonymize(frame, policy)

    assert result.frame["age"].to_list() == ["[20, 21]", "[20, 21]", "[22, 23]", "[22, 23]", None, None]


def test_mondrian_with_hierarchy_on_adult(tmp_path: Path) -> None:
    # Age by Mondrian inside the classes of sex and education (hierarchy levels).
    policy = write_policy(
        tmp_path,
        {
            "quasi_identifiers": {
                "age": {"mondrian": True},
                "sex": {"hierarchy": str(ADULT / "adult_hierarchy_sex.csv")},
                "education": {"hierarchy": str(ADULT / "adult_hierarchy_education.csv")},
            },
            "sensitive_attributes": ["salary-class"],
            "privacy": {"k": 10, "l": 2, "suppression_limit": 0.02},
        },
    )
    output = tmp_path / "out.csv"
    result = anonymize(ADULT / "adult.csv", policy, output)

    assert result.levels["age"] == "mondrian"
    fresh = measure(
        output,
        quasi_identifiers=["age", "sex", "education"],
        sensitive_attributes=["salary-class"],
    )
    assert fresh.k is not None
    assert fresh.k >= 10
    assert fresh.sensitive("salary-class").distinct_l >= 2
    written = pl.read_csv(output, separator=";", infer_schema=False)
    intervals = written["age"].str.extract(r"^\[(\d+), (\d+)\]$", 1)
    # Most classes get a real interval, and many distinct ones: Mondrian splits finely.
    assert intervals.null_count() < written.height
    assert written["age"].n_unique() > 20
    assert result.suppressed_records <= 0.02 * 30_162


def test_mondrian_rejects_text_values(tmp_path: Path) -> None:
    from maskme.errors import PolicyError

    frame = pl.DataFrame({"zip": ["02139", "n/a", "02141"]})
    policy = write_policy(
        tmp_path, {"quasi_identifiers": {"zip": {"mondrian": True}}, "privacy": {"k": 2}}
    )
    with pytest.raises(PolicyError, match="mondrian needs numbers, but field `zip` has 1 distinct value that"):
        anonymize(frame, policy)
