"""Privacy models on the Adult data against the textbook reference values.

The data is the ARX edition of Adult (30,162 records), with each
quasi-identifier generalized full-domain by its hierarchy file. The expected
values follow the textbook definitions: entropy l is the real number min e^H,
recursive c compares the most frequent count with the tail, and t uses the
equal distance. Where the peer library pycanon 1.3.5 differs (entropy l
truncated to an integer, recursive c from the least frequent count), these
tests follow the textbook.
"""

from __future__ import annotations

import math

import pytest

from maskme.metrics import count_classes, k_anonymity, measure_sensitive_attribute

A1 = ("age", "sex", "race")
A2 = ("age", "education", "marital-status", "native-country")

# id: (levels, sensitive attribute, classes, smallest class, largest class, k, distinct l,
#      entropy l, recursive ratio (None when l = 1), recursive c, alpha, t)
CASES = {
    "A1-raw": (dict.fromkeys(A1, 0), "occupation", 528, 1, 554, 1, 1,
               1.0, None, None, 1.0, 0.9952589350838804),
    "A1-g1": ({"age": 3, "sex": 0, "race": 0}, "occupation", 44, 2, 9230, 2, 2,
              1.7547653506033232, 3.0, 4, 0.75, 0.9150918374113123),
    "A1-g2": ({"age": 1, "sex": 0, "race": 1}, "occupation", 30, 12, 2947, 12, 5,
              4.339390625257233, 5.0, 6, 0.4166666666666667, 0.506723463412515),
    "A2-raw": (dict.fromkeys(A2, 0), "salary-class", 4856, 1, 301, 1, 1,
               1.0, None, None, 1.0, 0.7510775147536636),
    "A2-g1": ({"age": 1, "education": 2, "marital-status": 2, "native-country": 2},
              "salary-class", 44, 2, 2371, 2, 1, 1.0, None, None, 1.0, 0.2940562381579189),
    "A2-g2": ({"age": 4, "education": 3, "marital-status": 1, "native-country": 1},
              "salary-class", 10, 34, 15432, 34, 2, 1.0575993064679887, 99.0, 100, 0.99,
              0.24687583408139468),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_adult_reference_values(generalize_adult, case):  # type: ignore[no-untyped-def]
    (levels, sensitive, classes, smallest, largest, k, distinct_l, entropy_l,
     ratio, recursive_c, alpha, t) = CASES[case]  # fmt: skip
    table = generalize_adult(levels, sensitive)

    statistics = count_classes([table], list(levels), [sensitive])
    anonymity = k_anonymity(statistics.class_sizes)
    measures = measure_sensitive_attribute(sensitive, statistics.histograms[sensitive])

    assert statistics.records == 30162
    assert anonymity.classes == classes
    assert anonymity.size_distribution[0][0] == smallest
    assert anonymity.size_distribution[-1][0] == largest
    assert anonymity.k == k
    assert measures.distinct_l == distinct_l
    assert math.isclose(measures.entropy_l, entropy_l, rel_tol=1e-9)
    if ratio is None:
        assert measures.recursive_ratio is None
    else:
        assert math.isclose(measures.recursive_ratio, ratio, rel_tol=1e-9)
    assert measures.recursive_c == recursive_c
    assert math.isclose(measures.alpha, alpha, rel_tol=1e-9)
    assert math.isclose(measures.t_closeness, t, rel_tol=1e-9)
