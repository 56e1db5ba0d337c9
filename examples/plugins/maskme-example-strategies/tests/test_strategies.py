"""Golden outputs of both strategies, run through the engine-like harness."""

import pytest
from maskme_example_strategies import NhsNumber, RareCategory

from maskme import MaskMeError
from maskme.strategies import InvalidValues
from maskme.testing import make_strategy, run_strategy


def masked(params, values, batch_sizes=None):
    outputs = run_strategy(make_strategy(NhsNumber, params), values, batch_sizes=batch_sizes)
    return [value for output in outputs for value in output.to_list()]


@pytest.mark.parametrize(
    ("params", "value", "expected"),
    [
        ({}, "943 476 5919", "*** *** ****"),  # default keeps nothing
        ({"keep_last": 4}, "943 476 5919", "*** *** 5919"),
        ({"keep_last": 4}, "943-476-5919", "*** *** 5919"),  # dashes accepted
        ({"keep_last": 2, "separator": "-"}, "9434765919", "***-***-**19"),
        ({"keep_last": 4, "separator": ""}, "401 023 2137", "******2137"),
    ],
)
def test_nhs_number_masks(params, value, expected):
    assert masked(params, [value]) == [expected]


def test_nhs_number_null_stays_null():
    assert masked({"keep_last": 4}, ["943 476 5919", None]) == ["*** *** 5919", None]


@pytest.mark.parametrize(
    "value",
    [
        "943 476 5918",  # check digit should be 9
        "943 476 591",  # 9 digits
        "94347659190",  # 11 digits
        "ABC 476 5919",
        "123 456 7890",  # weighted sum leaves check digit 10: never valid
    ],
)
def test_nhs_number_rejects_invalid(value):
    with pytest.raises(InvalidValues) as caught:
        masked({}, ["943 476 5919", value])
    assert caught.value.positions == [1]
    assert caught.value.expected == "a valid NHS number"


def test_nhs_number_on_invalid_choices():
    values = ["943 476 5919", "943 476 5918"]
    assert masked({"keep_last": 4, "on_invalid": "mask"}, values) == ["*** *** 5919", "*** *** ****"]
    assert masked({"keep_last": 4, "on_invalid": "null"}, values) == ["*** *** 5919", None]
    assert masked({"keep_last": 4, "on_invalid": "keep"}, values) == ["*** *** 5919", "943 476 5918"]


def recoded(params, values, batch_sizes=None):
    outputs = run_strategy(make_strategy(RareCategory, params), values, batch_sizes=batch_sizes)
    return [value for output in outputs for value in output.to_list()]


def test_rare_category_counts_whole_column():
    values = ["a", "b", "a", "c", None, "b", "a"]
    expected = ["a", "b", "a", "other", None, "b", "a"]
    # "b" appears once in each batch of 3 but twice overall, so it is kept.
    assert recoded({"min_count": 2}, values) == expected
    assert recoded({"min_count": 2}, values, batch_sizes=3) == expected
    assert recoded({"min_count": 2}, values, batch_sizes=1) == expected


def test_rare_category_threshold_and_label():
    values = ["a", "b", "a", "c", "b", "a"]
    assert recoded({"min_count": 3, "other": "Other"}, values) == [
        "a", "Other", "a", "Other", "Other", "a",
    ]


def test_rare_category_default_min_count():
    values = ["common"] * 10 + ["rare"] * 9
    assert recoded({}, values) == ["common"] * 10 + ["other"] * 9


def test_rare_category_nulls_not_counted():
    assert recoded({"min_count": 1}, [None, None, "x"]) == [None, None, "x"]


def test_rare_category_apply_before_observe_fails():
    strategy = make_strategy(RareCategory, {})
    from maskme.testing import batch_view, string_column

    with pytest.raises(MaskMeError, match="without a first one"):
        strategy.apply(string_column(["a"]), batch_view([1]))


def test_rare_category_rejects_empty_label():
    from maskme.strategies.registry import StrategyParamsError

    with pytest.raises(StrategyParamsError, match="other"):
        make_strategy(RareCategory, {"other": ""})
