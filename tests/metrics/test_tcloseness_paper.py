"""t-closeness on the 9-record example table of Li, Li and Venkatasubramanian (ICDE 2007).

Table 4 of the paper generalizes ZIP code to 3 digits and age to decades;
Table 5 generalizes ZIP code to 4 digits and suppresses age. Salary (3K to
11K, 9 distinct values) uses the ordered distance, Disease the hierarchical
distance over the disease hierarchy (height 3).

Every expected value below is worked out by hand in the comments. The paper
prints 0.375 for Salary in the first class of Table 4 and 0.167 for Salary in
Table 5, which these tests reproduce. It prints 0.278 for Disease in Table 5,
which cannot come out of this table: with masses of 1/9 and ground distances
of 1/3 and 1, every cost is a multiple of 1/27, and the hand computation gives
8/27 = 0.296.
"""

from __future__ import annotations

import math

import pytest

from maskme.metrics import SensitiveDistribution, count_classes, measure

from .conftest import PAPER

T4 = {"ZIPCode": 2, "Age": 1}
T5 = {"ZIPCode": 1, "Age": 2}
DISEASE_HIERARCHY = PAPER / "test2_hierarchy_Disease.csv"


def distances(table, attribute, kind, hierarchy=None):  # type: ignore[no-untyped-def]
    """Return {class label: EMD}, the label being the ZIP code of the class."""
    classes = count_classes([table], ["ZIPCode", "Age"], [attribute])
    order = "ordered" if kind == "ordered" else "lexicographic"
    distribution = SensitiveDistribution.from_histogram(classes.histograms[attribute], order=order)
    labels = classes.classes["ZIPCode"] + "/" + classes.classes["Age"]
    values = distribution.distances(kind, hierarchy)
    return {labels[int(class_id)]: value for class_id, value in zip(distribution.class_ids, values)}


def test_table4_salary_ordered(generalize_paper):  # type: ignore[no-untyped-def]
    result = distances(generalize_paper(T4), "Salary", "ordered")
    # Salaries 3K, 4K, 5K are ranks 1-3 of 9; cumulative surplus 2,4,6,5,4,3,2,1 (/9),
    # sum 27/9, divided by m - 1 = 8: 0.375, the paper's value.
    assert math.isclose(result["476**/[20,30["], 0.375)
    # Ranks 5, 7, 8: cumulative surplus -1,-2,-3,-4,-2,-3,-1,1 (/9), |sum| 17/9, / 8.
    assert math.isclose(result["476**/[30,40["], 17 / 72)
    # Ranks 4, 6, 9: cumulative -1,-2,-3,-1,-2,0,-1,-2 (/9), |sum| 12/9, / 8.
    assert math.isclose(result["479**/>=40"], 1 / 6)


def test_table5_salary_ordered(generalize_paper):  # type: ignore[no-untyped-def]
    result = distances(generalize_paper(T5), "Salary", "ordered")
    # 4767*: ranks 1, 3, 7: cumulative 2,1,3,2,1,0,2,1 (/9), sum 12/9, / 8 = 1/6.
    assert math.isclose(result["4767*/*"], 1 / 6)
    # 4760*: ranks 2, 5, 8: cumulative -1,1,0,-1,1,0,-1,1 (/9), |sum| 6/9, / 8.
    assert math.isclose(result["4760*/*"], 1 / 12)
    # 4790*: ranks 4, 6, 9: as the third class of Table 4.
    assert math.isclose(result["4790*/*"], 1 / 6)
    # The paper: Table 5 has 0.167-closeness with respect to Salary.
    assert round(max(result.values()), 3) == 0.167


def test_table4_disease_hierarchical(generalize_paper):  # type: ignore[no-untyped-def]
    result = distances(generalize_paper(T4), "Disease", "hierarchical", DISEASE_HIERARCHY)
    # Gastric ulcer, gastritis, stomach cancer: the surplus 4/9 sits under
    # "stomach disease" and must cross the root (cost 3/3): 4/9.
    assert math.isclose(result["476**/[20,30["], 4 / 9)
    # Bronchitis, pneumonia, stomach cancer: 1/27 inside each height-1 node,
    # then 2/9 across the root: 1/27 + 1/27 + 6/27.
    assert math.isclose(result["476**/[30,40["], 8 / 27)
    # Gastritis, flu, bronchitis: the same structure, 8/27.
    assert math.isclose(result["479**/>=40"], 8 / 27)


def test_table5_disease_hierarchical(generalize_paper):  # type: ignore[no-untyped-def]
    result = distances(generalize_paper(T5), "Disease", "hierarchical", DISEASE_HIERARCHY)
    # Gastric ulcer, stomach cancer, pneumonia: 2/27 + 2/27 inside, 1/9 across the root.
    assert math.isclose(result["4767*/*"], 7 / 27)
    # Gastritis, bronchitis, stomach cancer: 1/27 + 1/27 inside, 1/9 across.
    assert math.isclose(result["4760*/*"], 5 / 27)
    # Gastritis, flu, bronchitis: 1/27 + 1/27 inside, 2/9 across.
    assert math.isclose(result["4790*/*"], 8 / 27)


def test_equal_distance_ignores_order(generalize_paper):  # type: ignore[no-untyped-def]
    result = distances(generalize_paper(T4), "Salary", "categorical")
    # Three values at 1/3 against 1/9 each: 1/2 * (3 * 2/9 + 6 * 1/9) = 2/3 in every class.
    assert all(math.isclose(value, 2 / 3) for value in result.values())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("categorical", 2 / 3),  # equal distance, whatever the dtype
        ("ordered", 0.375),  # rank distance, declared
    ],
)
def test_kind_comes_from_declaration(paper_table, generalize_paper, kind, expected):  # type: ignore[no-untyped-def]
    # pandas infers Salary as int64: the declared kind, not the dtype, picks the distance.
    pandas = pytest.importorskip("pandas")
    frame = generalize_paper(T4).to_pandas()
    frame["Salary"] = frame["Salary"].astype("int64")
    assert str(frame["Salary"].dtype) == "int64"
    result = measure(
        frame, quasi_identifiers=["ZIPCode", "Age"], sensitive_attributes={"Salary": kind}
    )
    assert isinstance(frame, pandas.DataFrame)
    assert math.isclose(result.sensitive("Salary").t_closeness, expected)


def test_measure_hierarchy_from_file(generalize_paper):  # type: ignore[no-untyped-def]
    result = measure(
        generalize_paper(T5),
        quasi_identifiers=["ZIPCode", "Age"],
        sensitive_attributes={"Disease": {"kind": "categorical", "hierarchy": DISEASE_HIERARCHY}},
    )
    disease = result.sensitive("Disease")
    assert disease.kind == "hierarchical"
    assert math.isclose(disease.t_closeness, 8 / 27)
