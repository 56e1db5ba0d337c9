"""Hand-computed tables for the edge cases: empty, one record, one class, one value,
missing quasi-identifiers, missing sensitive values and suppressed records."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from maskme.metrics import measure


def table(
    rows: list[tuple[str | None, ...]], columns: tuple[str, ...] = ("age", "zip", "diagnosis")
) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def measure_table(frame: pl.DataFrame, **options):  # type: ignore[no-untyped-def]
    return measure(
        frame, quasi_identifiers=["age", "zip"], sensitive_attributes=["diagnosis"], **options
    )


def test_empty_input():
    result = measure_table(table([]), k=2)
    diagnosis = result.sensitive("diagnosis")

    assert result.records == 0
    assert result.suppressed_records == 0
    assert result.anonymity.classes == 0
    assert result.k is None
    assert result.anonymity.records_below_k == 0
    assert result.anonymity.share_below_k == 0.0
    assert diagnosis.distinct_l is None
    assert diagnosis.entropy_l is None
    assert diagnosis.t_closeness is None
    assert diagnosis.delta_disclosure is None
    assert result.risk.prosecutor_highest is None
    assert result.risk.marketer is None
    assert result.utility.discernibility == 0
    assert result.utility.average_class_size is None
    assert result.utility.suppressed_share is None
    json.dumps(result.to_dict(), allow_nan=False)


def test_one_record():
    result = measure_table(table([("30", "12345", "flu")]))
    diagnosis = result.sensitive("diagnosis")

    assert result.records == 1
    assert result.k == 1
    assert result.anonymity.unique_records == 1
    assert diagnosis.distinct_l == 1
    assert diagnosis.entropy_l == 1.0
    assert diagnosis.recursive_ratio is None  # l = 1: recursive diversity is undefined
    assert diagnosis.alpha == 1.0
    assert diagnosis.t_closeness == 0.0  # the class is the whole table
    assert diagnosis.beta_likeness == 0.0
    assert diagnosis.delta_disclosure == 0.0
    assert result.risk.prosecutor_highest == 1.0
    assert result.risk.prosecutor_average == 1.0
    assert result.risk.prosecutor_records_above_threshold == 1
    assert result.risk.marketer == 1.0
    assert result.utility.discernibility == 1


def test_all_records_in_one_class():
    rows = [("30", "12345", value) for value in ("flu", "flu", "cold", "cough")]
    result = measure_table(table(rows))
    diagnosis = result.sensitive("diagnosis")

    assert result.anonymity.classes == 1
    assert result.k == 4
    assert diagnosis.distinct_l == 3
    # q = (1/2, 1/4, 1/4): H = 1.5 ln 2, e^H = 2^1.5.
    assert math.isclose(diagnosis.entropy_l, 2**1.5)
    # Counts 2, 1, 1 with l = 3: r1 / r3 = 2, so the smallest integer c is 3.
    assert diagnosis.recursive_l == 3
    assert diagnosis.recursive_ratio == 2.0
    assert diagnosis.recursive_c == 3
    assert diagnosis.alpha == 0.5
    assert diagnosis.t_closeness == 0.0
    assert diagnosis.beta_likeness == 0.0
    assert diagnosis.delta_disclosure == 0.0
    assert result.risk.prosecutor_highest == 0.25
    assert result.risk.prosecutor_records_above_threshold == 4  # 1/4 > 0.2
    assert result.utility.discernibility == 16
    assert result.utility.average_class_size == 4.0


@pytest.mark.parametrize("kind", ["categorical", "ordered"])
def test_sensitive_attribute_with_one_value(kind):  # type: ignore[no-untyped-def]
    rows = [("30", "1", "flu")] * 3 + [("40", "2", "flu")] * 2
    result = measure(
        table(rows), quasi_identifiers=["age", "zip"], sensitive_attributes={"diagnosis": kind}
    )
    diagnosis = result.sensitive("diagnosis")

    assert diagnosis.distinct_values == 1
    assert diagnosis.distinct_l == 1
    assert diagnosis.entropy_l == 1.0
    assert diagnosis.alpha == 1.0
    assert diagnosis.t_closeness == 0.0
    assert diagnosis.beta_likeness == 0.0
    assert diagnosis.delta_disclosure == 0.0


def test_missing_quasi_identifiers_group_together():
    rows = [
        ("30", None, "flu"),
        ("30", None, "cold"),
        ("30", "123", "flu"),
        (None, None, "flu"),
    ]
    result = measure_table(table(rows))
    classes = result.equivalence_classes.classes

    # (30, missing): 2 records; (30, 123): 1; (missing, missing): 1.
    assert classes["count"].to_list() == [1, 2, 1]
    assert classes["age"].to_list() == ["30", "30", None]
    assert classes["zip"].to_list() == ["123", None, None]
    assert result.records_with_missing_quasi_identifiers == 3
    assert result.suppressed_records == 0
    assert result.k == 1


def test_missing_quasi_identifier_with_one_column():
    frame = table([("30", "x", "a"), (None, "x", "b"), (None, "x", "c"), ("40", "x", "d")])
    result = measure(frame, quasi_identifiers=["age"], sensitive_attributes=["diagnosis"])

    # The two missing ages form a class of their own, as with several columns.
    assert result.anonymity.size_distribution == ((1, 2), (2, 1))
    assert result.records_with_missing_quasi_identifiers == 2


def test_empty_string_and_pandas_nan_are_missing():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {"age": [30.0, float("nan"), None], "zip": ["1", "", None], "diagnosis": ["a", "b", "c"]}
    )
    result = measure_table(frame)
    classes = result.equivalence_classes.classes

    assert classes["count"].to_list() == [1, 2]
    assert classes["zip"].to_list() == ["1", None]
    assert result.records_with_missing_quasi_identifiers == 2


def test_missing_sensitive_values():
    rows = [
        ("30", "1", "flu"),
        ("30", "1", None),
        ("40", "2", None),
        ("40", "2", None),
        ("50", "3", "cold"),
        ("50", "3", "flu"),
    ]
    result = measure_table(table(rows))
    diagnosis = result.sensitive("diagnosis")

    assert diagnosis.records_with_missing_values == 3
    assert diagnosis.classes_without_values == 1
    assert diagnosis.records_in_classes_without_values == 2
    # Class (30, 1) has one non-missing value; class (40, 2) is left out.
    assert diagnosis.distinct_l == 1
    assert diagnosis.alpha == 1.0
    # p over non-missing values: flu 2/3, cold 1/3. Class (30, 1): flu 1, EMD 1/3.
    assert math.isclose(diagnosis.t_closeness, 1 / 3)
    # k still counts every record of every class.
    assert result.k == 2


def test_suppressed_records():
    rows = [
        ("*", "*", "flu"),
        ("*", "*", "rare"),
        ("**", "*****", "rare"),  # any run of stars is a suppressed value
        ("*", "123", "flu"),  # some but not all quasi-identifiers suppressed: an ordinary record
        ("*", "123", "cold"),
        ("30", "123", "flu"),
        ("30", "123", "flu"),
    ]
    result = measure_table(table(rows))
    diagnosis = result.sensitive("diagnosis")

    assert result.records == 7
    assert result.suppressed_records == 3
    assert result.anonymity.classes == 2
    assert result.k == 2
    # `rare` occurs only in suppressed records, so it is not a value of the table.
    assert diagnosis.distinct_values == 2
    # p: flu 3/4, cold 1/4. (*, 123): 1/2 * (1/4 + 1/4); (30, 123): 1/2 * (1/4 + 1/4).
    assert math.isclose(diagnosis.t_closeness, 0.25)
    # cold in (*, 123): (1/2 - 1/4) / (1/4) = 1.
    assert math.isclose(diagnosis.beta_likeness, 1.0)
    assert diagnosis.delta_disclosure == math.inf  # (30, 123) lacks cold
    assert result.to_dict()["sensitive_attributes"][0]["delta_disclosure"] == "inf"
    # 2^2 + 2^2 + 3 suppressed records * 7 records.
    assert result.utility.discernibility == 29
    assert math.isclose(result.utility.suppressed_share, 3 / 7)
    assert result.utility.average_class_size == 2.0
    assert result.risk.prosecutor_average == 0.5


def test_all_records_suppressed():
    result = measure_table(table([("*", "*", "flu"), ("*", "*", "cold")]))

    assert result.records == 2
    assert result.suppressed_records == 2
    assert result.anonymity.classes == 0
    assert result.k is None
    assert result.sensitive("diagnosis").t_closeness is None
    assert result.utility.discernibility == 4
    assert result.utility.suppressed_share == 1.0


def test_measure_is_public_api():
    import maskme

    result = maskme.measure(table([("30", "1", "flu")]), quasi_identifiers="age,zip")
    assert isinstance(result, maskme.Measurement)
    assert result.sensitive_attributes == ()


def test_pandas_object_column_of_mixed_types():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"age": [1, "x", 2.5, None, 1], "zip": ["a"] * 5})
    result = measure(frame, quasi_identifiers=["age", "zip"])
    classes = result.equivalence_classes.classes

    assert classes["age"].to_list() == ["1", "2.5", "x", None]
    assert classes["count"].to_list() == [2, 1, 1, 1]
