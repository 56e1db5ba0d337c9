"""The noise strategy as Polars expressions: the same output as apply, record by record."""

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from maskme.strategies.base import StrategyContext
from maskme.strategies.noise import (
    Noise,
    NoiseParams,
    _day_offsets,
    _record_states,
    _round_half_even,
    splitmix64,
    splitmix64_expression,
    unit_uniform,
    unit_uniform_expression,
)
from tests.strategies.expressions import apply, evaluate

KEY = b"noise-expression-test-key-012345"
MAX_RECORD = 2**64 - 1
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def make(**params):
    return Noise(NoiseParams(**params), StrategyContext(field_path="field", key=KEY))


def assert_same_as_apply(strategy, texts, records):
    """Check the expression against apply: equal where not failed, failed where apply raises."""
    values, failed = evaluate(strategy, texts, records)
    streamed = evaluate(strategy, texts, records, streaming=True)
    assert streamed == (values, failed)
    assert all(flag is not None for flag in failed)

    expected, invalid = apply(strategy, texts, records)
    if strategy.params.on_invalid == "error":
        assert {i for i, flag in enumerate(failed) if flag} == invalid
    else:
        assert not any(failed)
        assert invalid == set()
    if invalid:
        # apply raised, so compare the valid values on their own, with their record numbers.
        keep = [i for i in range(len(texts)) if i not in invalid]
        expected_valid, still_invalid = apply(strategy, [texts[i] for i in keep],
                                              [records[i] for i in keep])
        assert still_invalid == set()
        expected = [None] * len(texts)
        for i, value in zip(keep, expected_valid, strict=True):
            expected[i] = value
    for i, (value, flag) in enumerate(zip(values, failed, strict=True)):
        if not flag:
            assert value == expected[i], (texts[i], value, expected[i])
    return values, failed


# inputs

_NUMBER_TEXTS = st.one_of(
    st.none(),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: f"+{n}" if n >= 0 else str(n)),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.3e}"),
    st.decimals(allow_nan=False, allow_infinity=False, places=2,
                min_value=-(10**9), max_value=10**9).map(str),
    st.sampled_from([
        "0", "-0", "+0.0", "007", "1.10", "12.50", ".5", "5.", "1e3", "1E-3", "-2.5e+2",
        " 12 ", "\t3\n", "1_000", "1,5", "NaN", "inf", "-Infinity", "1e309", "-1e309",
        "1.7976931348623157e308", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "4.9e-324",
        "١٢", "１２", "12 34", "abc", "--1", "0x10", "e5", "\u00a012\u00a0",
    ]),
    st.text(max_size=8).filter(lambda text: text != ""),
)

_DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%Y%m%d", "%b %d, %Y"]


def _iso_timestamp(moment, separator, seconds, offset):
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M")
    if seconds:
        text += moment.strftime(":%S.%f")
    return text + offset


_OFFSETS = st.sampled_from(["", "Z", "+02:00", "-05:30", "+0100", "-03", "+23:59", "+24:00", "Z "])

_DATE_TEXTS = st.one_of(
    st.none(),
    st.dates().map(lambda day: f"{day.year:04d}-{day.month:02d}-{day.day:02d}"),
    st.builds(_iso_timestamp, st.datetimes(), st.sampled_from(["T", " "]), st.booleans(),
              _OFFSETS),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.sampled_from([
        "0001-01-01", "0001-01-05", "0000-01-01", "9999-12-31", "9999-12-28T23:59:59Z",
        "2024-02-29", "2023-02-29", "2024-03-15T25:00", "2024-03-15T07", "2024-03-15T10:60",
        "2024-03-15T23:59:60", "2024-03-15 10:00:00,5+01", "15/03/2024", "20240315",
        "2024-3-5", " 2024-03-15", "2024-03-15 ", "٢٠٢٤-٠٣-١٥", "soon",
    ]),
    st.text(max_size=12).filter(lambda text: text != ""),
)


def _formatted_dates(date_format):
    return st.one_of(
        st.none(),
        st.datetimes().map(lambda moment: pl.select(pl.lit(moment).dt.to_string(date_format)).item()),
        st.sampled_from(["2024-03-15", "31/02/2024", "15/03/2024 10:00", "x"]),
        st.text(max_size=10).filter(lambda text: text != ""),
    )


@st.composite
def _records(draw, size):
    """Record numbers: consecutive from any start, or any distinct UInt64 values."""
    if draw(st.booleans()):
        start = draw(st.integers(min_value=1, max_value=MAX_RECORD - size))
        return list(range(start, start + size))
    return draw(st.lists(st.integers(min_value=1, max_value=MAX_RECORD), min_size=size,
                         max_size=size, unique=True))


@st.composite
def _column(draw, texts):
    values = draw(st.lists(texts, min_size=1, max_size=25))
    return values, draw(_records(len(values)))


@st.composite
def _number_params(draw):
    params: dict = {"distribution": draw(st.sampled_from(["laplace", "gaussian", "uniform"]))}
    mode = draw(st.sampled_from(["scale", "relative", "fraction"]))
    positive = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False)
    if mode == "fraction":
        params["relative"] = draw(positive)
    else:
        params["scale"] = draw(st.one_of(positive, st.sampled_from([0.05, 1.0, 500.0])))
        params["relative"] = mode == "relative"
    bounds = st.one_of(st.none(), st.floats(min_value=-1e12, max_value=1e12))
    low, high = draw(bounds), draw(bounds)
    if low is not None and high is not None and low > high:
        low, high = high, low
    params["min"], params["max"] = low, high
    params["round"] = draw(st.one_of(st.none(), st.integers(min_value=-15, max_value=15)))
    params["on_invalid"] = draw(st.sampled_from(["error", "null", "keep"]))
    if draw(st.booleans()):
        params["seed"] = draw(st.integers(min_value=-(2**70), max_value=2**70))
    else:
        params["key"] = "main"
    try:
        NoiseParams(**params)
    except ValidationError as error:
        # Bounds with no integer output between them are rejected on load (see test_noise.py).
        assert "contain no" in str(error)
        assume(False)
    return params


# building blocks


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=20))
def test_splitmix64_expression_matches_numpy(states):
    array = np.array(states, dtype=np.uint64)
    frame = pl.DataFrame({"state": pl.Series(states, dtype=pl.UInt64)})
    mixed = frame.select(splitmix64_expression(pl.col("state"))).to_series()
    assert mixed.dtype == pl.UInt64
    assert mixed.to_list() == splitmix64(array).tolist()
    uniform = frame.select(unit_uniform_expression(pl.col("state"))).to_series()
    assert uniform.to_list() == unit_uniform(array).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=True),
                          st.integers(min_value=-(10**7), max_value=10**7).map(lambda n: n * 50.0),
                          st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: n / 8)),
                min_size=1, max_size=20),
       st.integers(min_value=-15, max_value=15))
def test_round_half_even_matches_numpy(numbers, places):
    with np.errstate(over="ignore"):
        expected = np.round(np.array(numbers, dtype=np.float64), places)
    # numpy's 1e303 * 10**5 overflows to infinity, while Polars keeps the number. Either
    # way it has more digits than a Decimal(38, places) fits, so noise reports it.
    comparable = np.isfinite(expected) | ~np.isfinite(np.array(numbers, dtype=np.float64))
    # Long columns and nulls take other Polars kernels than a few values do.
    column = pl.Series("x", [None, *numbers * 50], dtype=pl.Float64)
    for rounded in (
        pl.DataFrame({"x": column}).select(_round_half_even(pl.col("x"), places)),
        pl.LazyFrame({"x": column}).select(_round_half_even(pl.col("x"), places)).collect(
            engine="streaming"),
    ):
        values = rounded.to_series().to_numpy()[1:1 + len(numbers)]
        assert np.array_equal(values[comparable], expected[comparable])
        # The same sign of zero as numpy, which decides between "0" and "-0.00".
        assert np.array_equal(np.signbit(values[comparable]), np.signbit(expected[comparable]))


# numbers


@PROPERTY
@given(_number_params(), _column(_NUMBER_TEXTS))
def test_numbers_expression_matches_apply(params, column):
    texts, records = column
    assert_same_as_apply(make(**params), texts, records)


@PROPERTY
@given(st.sampled_from(["laplace", "gaussian", "uniform"]),
       st.one_of(st.none(), st.integers(min_value=-3, max_value=4)),
       st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=20),
       st.integers(min_value=1, max_value=2**40))
def test_numbers_expression_typical_values(distribution, places, integers, start):
    # Mostly valid numbers, so that the comparison covers many written values.
    texts = [str(n) if n % 2 else f"{n / 100:.2f}" for n in integers]
    strategy = make(distribution=distribution, scale=25.0, round=places, seed=5)
    values, failed = assert_same_as_apply(strategy, texts, list(range(start, start + len(texts))))
    assert not any(failed)
    assert None not in values


def test_benchmark_rule_exact_values():
    # The benchmark's rule: 5% relative Laplace noise rounded to cents.
    strategy = make(distribution="laplace", relative=True, scale=0.05, round=2, key="main")
    texts = ["52000", "1234.56", "0.10", "-17.5", " 3 ", "1e3", None]
    values, failed = evaluate(strategy, texts, list(range(1, 8)))
    assert failed == [False] * 7
    # Checked against the same draws computed with numpy: integers stay integers, and
    # "1e3" is not an integer, so it gets two decimal places.
    assert values == ["50638", "1233.65", "0.09", "-18.13", "3", "1085.85", None]
    assert apply(strategy, texts, list(range(1, 8)))[0] == values


def test_benchmark_rule_matches_numpy_draws():
    # An independent computation of the same noise with numpy, which matches to
    # within rounding (numpy's log1p may differ from Polars' in the last bit).
    strategy = make(distribution="laplace", relative=True, scale=0.05, key="main")
    records = np.arange(1, 2001, dtype=np.uint64)
    states = splitmix64(splitmix64(records) ^ strategy._stream)
    centered = unit_uniform(splitmix64(states)) - 0.5
    draws = -np.sign(centered) * np.log1p(-2.0 * np.abs(centered))
    x = np.linspace(-5000.0, 5000.0, len(records))
    expected = x + 0.05 * np.abs(x) * draws
    values, failed = evaluate(strategy, [repr(v) for v in x.tolist()], records.tolist())
    assert not any(failed)
    np.testing.assert_allclose(np.array(values, dtype=np.float64), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"scale": 1}, "99999999999999999999"),  # an integer beyond 64 bits
        ({"scale": 1, "round": -2}, "1e300"),  # rounded to an integer beyond 64 bits
        ({"relative": 1e300}, "1.5e308"),  # noise overflows to infinity
        ({"scale": 1, "round": 2}, "1e40"),  # more digits than Decimal(38, 2) fits
        ({"scale": 1, "round": 15}, "1e30"),  # Polars would raise on casting this to a decimal
        ({"scale": 1}, "n/a"),
        ({"scale": 1}, "inf"),
    ],
)
def test_unwritable_numbers_fail(params, text):
    strategy = make(seed=3, **params)
    values, failed = evaluate(strategy, ["1.5", text], [1, 2])
    assert failed == [False, True]
    assert values[0] is not None
    assert apply(strategy, ["1.5", text], [1, 2])[1] == {1}
    kept, _ = evaluate(make(seed=3, on_invalid="keep", **params), ["1.5", text], [1, 2])
    assert kept[1] == text
    nulled, _ = evaluate(make(seed=3, on_invalid="null", **params), ["1.5", text], [1, 2])
    assert nulled[1] is None


def test_no_failed_mask_without_error():
    described = make(scale=1, seed=1, on_invalid="null").expression(pl.col("v"), pl.col("r"))
    assert described is not None
    assert described.failed is None


def test_consistent_by_has_no_expression():
    strategy = make(scale=1, seed=1, consistent_by="patient_id")
    assert strategy.expression(pl.col("v"), pl.col("r")) is None


def test_fresh_stream_fixed_per_instance():
    # Without seed or key the draws are fresh per instance, but one instance's
    # expression and apply share its stream.
    strategy = Noise(NoiseParams(scale=10), StrategyContext(field_path="field"))
    texts = [str(n) for n in range(30)]
    records = list(range(1, 31))
    values, _ = evaluate(strategy, texts, records)
    assert values == apply(strategy, texts, records)[0]


# dates


@PROPERTY
@given(st.integers(min_value=1, max_value=3_650_000), st.sampled_from(["error", "null", "keep"]),
       _column(_DATE_TEXTS))
def test_iso_dates_expression_matches_apply(days, on_invalid, column):
    texts, records = column
    assert_same_as_apply(make(days=days, seed=7, on_invalid=on_invalid), texts, records)


@PROPERTY
@given(st.sampled_from(_DATE_FORMATS).flatmap(
    lambda date_format: st.tuples(st.just(date_format), _column(_formatted_dates(date_format)))),
    st.integers(min_value=1, max_value=40_000), st.sampled_from(["error", "null", "keep"]))
def test_formatted_dates_expression_matches_apply(case, days, on_invalid):
    date_format, (texts, records) = case
    strategy = make(days=days, key="main", format=date_format, on_invalid=on_invalid)
    assert_same_as_apply(strategy, texts, records)


@pytest.mark.parametrize(
    ("text", "shifted"),
    [
        ("2024-03-15", "2024-02-25"),
        ("2024-03-15T10:00:00+02:00", "2024-02-25T10:00:00+02:00"),
        ("2024-03-15 23:59", "2024-02-25 23:59"),
    ],
)
def test_date_shift_exact_value(text, shifted):
    # Record 1 with seed 5 and days 30 draws a shift of -19 days (checked with numpy).
    strategy = make(days=30, seed=5)
    values, failed = evaluate(strategy, [text], [1])
    assert failed == [False]
    assert values == [shifted]


def test_date_shift_offset_days_in_range():
    strategy = make(days=3, seed=11)
    records = list(range(1, 3001))
    values, failed = evaluate(strategy, ["2024-03-15"] * len(records), records)
    assert not any(failed)
    offsets = pl.Series(values).str.to_date() - pl.Series(["2024-03-15"]).str.to_date()[0]
    days = offsets.dt.total_days()
    assert days.min() == -3
    assert days.max() == 3
    assert days.n_unique() == 7


def test_format_with_offset_has_no_expression():
    strategy = make(days=3, seed=1, format="%d/%m/%Y %H:%M %z")
    assert strategy.expression(pl.col("v"), pl.col("r")) is None


def test_invalid_date_fails_only_with_error():
    texts = ["2024-03-15", "2024-02-30", "soon"]
    _, failed = evaluate(make(days=3, seed=1), texts, [1, 2, 3])
    assert failed == [False, True, True]
    kept, failed_keep = evaluate(make(days=3, seed=1, on_invalid="keep"), texts, [1, 2, 3])
    assert failed_keep == [False, False, False]
    assert kept[1:] == ["2024-02-30", "soon"]


# bounds, rounding and the calendar


_BOUND = st.one_of(
    st.none(),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-2000, max_value=2000).map(lambda n: n / 8),  # on or off the grid
)


@st.composite
def _bounded_params(draw):
    low, high = draw(_BOUND), draw(_BOUND)
    if low is not None and high is not None and low > high:
        low, high = high, low
    params = {"scale": draw(st.sampled_from([0.01, 1.0, 50.0, 1e4])), "min": low, "max": high,
              "round": draw(st.one_of(st.none(), st.integers(min_value=-3, max_value=4))),
              "distribution": draw(st.sampled_from(["laplace", "gaussian", "uniform"])),
              "seed": draw(st.integers(min_value=0, max_value=2**32)), "on_invalid": "null"}
    try:
        NoiseParams(**params)
    except ValidationError:
        assume(False)
    return params


_BOUNDED_TEXTS = st.one_of(
    st.integers(min_value=-(10**7), max_value=10**7).map(str),
    st.decimals(min_value=-(10**7), max_value=10**7, places=3, allow_nan=False).map(str),
    st.floats(min_value=-1e7, max_value=1e7).map(repr),
)


@PROPERTY
@given(_bounded_params(), st.lists(_BOUNDED_TEXTS, min_size=1, max_size=25))
def test_noisy_numbers_within_bounds(params, texts):
    strategy = make(**params)
    records = list(range(1, len(texts) + 1))
    values, _ = assert_same_as_apply(strategy, texts, records)
    places = params["round"]
    for text, value in zip(texts, values, strict=True):
        assert value is not None, text
        # A bound is the decimal number of its shortest text, as the policy wrote it.
        if params["min"] is not None:
            assert Decimal(value) >= Decimal(repr(params["min"])), (text, value)
        if params["max"] is not None:
            assert Decimal(value) <= Decimal(repr(params["max"])), (text, value)
        if re.fullmatch(r"[+-]?\d+", text) or (places is not None and places <= 0):
            assert re.fullmatch(r"-?\d+", value), (text, value)
            assert int(value) % 10 ** max(0, -(places or 0)) == 0, (text, value)
        elif places is not None:
            assert re.fullmatch(rf"-?\d+\.\d{{{places}}}", value), (text, value)


_CALENDAR_DATES = st.one_of(
    st.dates(),
    st.dates(max_value=dt.date(1, 3, 1)),
    st.dates(min_value=dt.date(9999, 11, 1)),
)

def _expected_shift(strategy, day, record):
    """Return ``day`` moved by the strategy's draw for ``record``, limited to the calendar."""
    state = _record_states(pl.lit(record, dtype=pl.UInt64), strategy._stream)
    shift = pl.select(_day_offsets(state, strategy.params.days)).item()
    assert abs(shift) <= strategy.params.days
    lowest = (dt.date.min - day).days
    highest = (dt.date.max - day).days
    return day + dt.timedelta(days=min(max(shift, lowest), highest))


@PROPERTY
@given(_CALENDAR_DATES, st.sampled_from(["", "T23:00:00-05:00", " 00:30+14:00", "T12Z"]),
       st.integers(min_value=1, max_value=3_650_000), st.integers(min_value=1, max_value=2**40))
def test_shifted_iso_dates_stay_in_calendar(day, rest, days, record):
    strategy = make(days=days, seed=13)
    text = day.isoformat() + rest
    values, failed = assert_same_as_apply(strategy, [text], [record])
    assert failed == [False]
    [shifted] = values
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", shifted[:10]), shifted
    assert shifted[10:] == rest
    assert dt.date.fromisoformat(shifted[:10]) == _expected_shift(strategy, day, record)
    assert dt.datetime.fromisoformat(shifted).date() == dt.date.fromisoformat(shifted[:10])


@PROPERTY
@given(_CALENDAR_DATES, st.sampled_from(["%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y%m%d"]),
       st.integers(min_value=1, max_value=3_650_000), st.integers(min_value=1, max_value=2**40))
def test_shifted_formatted_dates_stay_in_calendar(day, date_format, days, record):
    strategy = make(days=days, seed=13, format=date_format)
    # Python's strftime writes the year 5 as "5", which its own strptime cannot read.
    text = dt.datetime.combine(day, dt.time(23, 30)).strftime(
        date_format.replace("%Y", f"{day.year:04d}"))
    values, failed = assert_same_as_apply(strategy, [text], [record])
    assert failed == [False]
    shifted = dt.datetime.strptime(values[0], date_format)
    assert shifted.date() == _expected_shift(strategy, day, record)
    assert shifted.time() == dt.datetime.strptime(text, date_format).time()
