"""Properties of the example plugin's strategies, imported from the repository in-process.

The install test covers the packaged plugin through the CLI; these tests run
the same classes directly, against reference computations in plain Python.
"""

import importlib
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from maskme.strategies import InvalidValues
from maskme.testing import make_strategy, run_strategy

EXAMPLE_SOURCE = (
    Path(__file__).resolve().parents[2] / "examples" / "plugins" / "maskme-example-strategies" / "src"
)


@pytest.fixture(scope="module")
def example():
    """The example plugin's package, importable only for this module's tests."""
    sys.path.insert(0, str(EXAMPLE_SOURCE))
    try:
        yield importlib.import_module("maskme_example_strategies")
    finally:
        sys.path.remove(str(EXAMPLE_SOURCE))
        for name in [name for name in sys.modules if name.startswith("maskme_example_strategies")]:
            del sys.modules[name]


def check_digit(nine_digits: str) -> int:
    """Modulus 11 check digit of an NHS number, computed one digit at a time."""
    total = sum(int(digit) * weight for digit, weight in zip(nine_digits, range(10, 1, -1)))
    return (11 - total % 11) % 11


def cut(total: int, sizes: list[int]) -> list[int]:
    """Turn drawn sizes into batch sizes that add up to ``total``."""
    batches, remaining = [], total
    for size in sizes:
        if remaining == 0:
            break
        batches.append(min(size, remaining))
        remaining -= batches[-1]
    if remaining:
        batches.append(remaining)
    return batches or [0]


def flatten(outputs) -> list:
    return [value for output in outputs for value in output.to_list()]


categories = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "é", "a b"])), max_size=40)
batch_sizes = st.lists(st.integers(min_value=1, max_value=7), max_size=10)


@settings(max_examples=60, deadline=None)
@given(values=categories, sizes=batch_sizes, min_count=st.integers(min_value=1, max_value=5))
def test_rare_category_matches_reference(example, values, sizes, min_count):
    counts = Counter(value for value in values if value is not None)
    expected: list[str | None] = []
    for value in values:
        if value is None:
            expected.append(None)
        elif counts[value] >= min_count:
            expected.append(value)
        else:
            expected.append("other")
    strategy = make_strategy(example.RareCategory, {"min_count": min_count})
    outputs = run_strategy(strategy, values, batch_sizes=cut(len(values), sizes))
    assert flatten(outputs) == expected


@settings(max_examples=60, deadline=None)
@given(
    nine=st.text(alphabet="0123456789", min_size=9, max_size=9),
    keep_last=st.integers(min_value=0, max_value=4),
    separator=st.sampled_from([" ", "-", ""]),
)
def test_nhs_number_valid_masked(example, nine, keep_last, separator):
    digit = check_digit(nine)
    assume(digit != 10)  # no valid NHS number starts with these nine digits
    number = f"{nine[:3]} {nine[3:6]} {nine[6:]}{digit}"
    strategy = make_strategy(example.NhsNumber, {"keep_last": keep_last, "separator": separator})
    (output,) = flatten(run_strategy(strategy, [number]))
    plain = "*" * (10 - keep_last) + (nine + str(digit))[10 - keep_last :]
    assert output == separator.join([plain[:3], plain[3:6], plain[6:]])


@settings(max_examples=60, deadline=None)
@given(
    nine=st.text(alphabet="0123456789", min_size=9, max_size=9),
    wrong=st.integers(min_value=0, max_value=9),
)
def test_nhs_number_wrong_check_digit_rejected(example, nine, wrong):
    assume(wrong != check_digit(nine))
    strategy = make_strategy(example.NhsNumber, {})
    with pytest.raises(InvalidValues) as caught:
        run_strategy(strategy, [nine + str(wrong)])
    assert caught.value.positions == [0]


def test_rare_category_memory_is_per_category(example):
    # The first pass keeps one row per distinct category, however many records it saw.
    strategy = make_strategy(example.RareCategory, {"min_count": 2})
    values = ["a", "b", "c"] * 10_000
    run_strategy(strategy, values, batch_sizes=1_000)
    assert strategy._counts.height == 3
    assert sorted(strategy._counts["records"].to_list()) == [10_000, 10_000, 10_000]
