"""The generalize strategy as Polars expressions: the same output as apply, value by value."""

import datetime as dt
import re
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskme.strategies.base import StrategyContext
from maskme.strategies.generalize import Generalize, GeneralizeParams
from maskme.strategies.parsing import decimal_places, format_number, parse_numbers
from tests.strategies.expressions import apply, evaluate

PROPERTY = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def make(**params):
    return Generalize(GeneralizeParams(**params), StrategyContext(field_path="field"))


def assert_same_as_apply(strategy, texts):
    """Check the expression against apply value by value; return (values, failed)."""
    values, failed = evaluate(strategy, texts)
    assert evaluate(strategy, texts, streaming=True) == (values, failed)
    assert all(flag is not None for flag in failed)

    # apply transforms each value on its own, so it runs once per value here.
    for text, value, flag in zip(texts, values, failed, strict=True):
        expected, invalid = apply(strategy, [text])
        if invalid:
            assert flag, text
            assert strategy.params.on_invalid == "error"
        elif not flag:
            assert value == expected[0], (text, value, expected[0])
    return values, failed


# inputs

_NUMBER_TEXTS = st.one_of(
    st.none(),
    st.integers(min_value=-200, max_value=200).map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1000, max_value=1000).map(lambda x: f"{x:.2f}"),
    st.sampled_from([
        "0", "-0", "+7", "007", "29.999999999999996", "30", " 30 ", "1e1", "-1e-9", "9.5",
        "9007199254740993", "4503599627370496", "1e16", "-1e300", "1e308", "nan", "inf",
        "١٢", "abc", "1,5",
    ]),
    st.text(max_size=6).filter(lambda text: text != ""),
)


@st.composite
def _coding(draw, required=False):
    """Optional top and bottom codes, bottom below top."""
    bound = st.one_of(st.integers(min_value=-300, max_value=300).map(float),
                      st.floats(min_value=-300, max_value=300))
    top = draw(bound if required else st.one_of(st.none(), bound))
    bottom = draw(st.one_of(st.none(), bound))
    if top is not None and bottom is not None and bottom >= top:
        bottom = None if bottom == top else bottom
        if bottom is not None:
            top, bottom = bottom, top
    if required and top is None and bottom is None:
        top = 100.0
    return {"top": top, "bottom": bottom}


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)

_ON_INVALID = st.sampled_from(["error", "null", "keep"])

_DATE_TEXTS = st.one_of(
    st.none(),
    st.dates().map(lambda day: f"{day.year:04d}-{day.month:02d}-{day.day:02d}"),
    st.datetimes().map(lambda moment: f"{moment:%Y-%m-%dT%H:%M:%S}"),
    st.tuples(st.datetimes(), st.sampled_from(["Z", "+02:00", "-05:30", "+0100", "-03", ""])).map(
        lambda pair: f"{pair[0]:%Y-%m-%d %H:%M}{pair[1]}"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.sampled_from([
        "0001-01-01", "0000-01-01", "9999-12-31", "9999-12-31T23:59:59+14:00", "2024-02-29",
        "2023-02-29", "2024-03-15T25:00", "2024-03-15T23:59:60", "2021-01-03", "2020-12-31",
        "15/03/2024", "20240315", " 2024-03-15", "٢٠٢٤-٠٣-١٥", "soon",
    ]),
    st.text(max_size=12).filter(lambda text: text != ""),
)

_DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%Y%m%d", "%b %d, %Y"]

_TEXTS = st.one_of(
    st.none(),
    st.text(min_size=1, max_size=10),
    st.text(alphabet="0123456789", min_size=1, max_size=7),
    st.sampled_from([
        "02139", "9", "é", "e\u0301tude", "👍🏽👍", "🇫🇷🇩🇪", "a\r\nb", "ab\r\n", "한국어",
        "Zoë", "\u200d", "abc\n", "   ",
    ]),
)


# numbers


@PROPERTY
@given(st.one_of(st.integers(min_value=1, max_value=1000), st.sampled_from([10**9, 10**16, 3 * 10**17])),
       st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**6)),
       _coding(), _ON_INVALID, st.lists(_NUMBER_TEXTS, min_size=1, max_size=20))
def test_interval_expression_matches_apply(width, origin, coding, on_invalid, texts):
    strategy = make(interval=width, origin=origin, on_invalid=on_invalid, **coding)
    values, failed = assert_same_as_apply(strategy, texts)
    assert_same_as_numpy(strategy, texts, values, failed)


def assert_same_as_numpy(strategy, texts, values, failed):
    """Check the labels against the numpy intervals that apply uses for unsupported values.

    Only numbers whose interval numpy computes and Python writes exactly are
    compared: bounds below 2**53 on an integer grid, within the value limit
    on a decimal one.
    """
    params = strategy.params
    origin = params.origin or 0.0
    places = max(decimal_places(params.interval), decimal_places(origin))
    scaled_limit = 2.0**53 if params.interval.is_integer() and origin.is_integer() else 2.0**49
    limit = scaled_limit / 10.0**places - abs(origin) - 2 * params.interval
    numbers, invalid, _ = parse_numbers(pl.Series(texts, dtype=pl.String))
    for text, value, flag, number, bad in zip(texts, values, failed, numbers, invalid,
                                              strict=True):
        if flag or bad or number is None or abs(number) >= limit:
            continue
        bins, labels = strategy._equal_width_bins(np.array([number]), np.array([True]))
        assert value == labels[int(bins[0])], (text, value)


_DECIMAL_WIDTHS = st.one_of(
    st.sampled_from([0.1, 0.25, 0.3, 2.5, 7.5, 0.001, 1e-5, 0.07, 1.1]),
    st.decimals(min_value="0.001", max_value="1000", places=3).map(float),
)


@PROPERTY
@given(_DECIMAL_WIDTHS,
       st.one_of(st.none(), st.sampled_from([0.5, -1.25, 0.1, 3.0]),
                 st.decimals(min_value=-1000, max_value=1000, places=2).map(float)),
       _coding(), _ON_INVALID,
       st.lists(st.one_of(_NUMBER_TEXTS,
                          st.integers(min_value=-3000, max_value=3000).map(lambda k: repr(k * 0.1)),
                          st.decimals(min_value=-1000, max_value=1000, places=4).map(str)),
                min_size=1, max_size=20))
def test_decimal_interval_matches_apply(width, origin, coding, on_invalid, texts):
    strategy = make(interval=width, origin=origin, on_invalid=on_invalid, **coding)
    values, failed = assert_same_as_apply(strategy, texts)
    assert_same_as_numpy(strategy, texts, values, failed)


@PROPERTY
@given(st.integers(min_value=1, max_value=100), st.integers(min_value=-1000, max_value=1000),
       st.lists(st.integers(min_value=-10**6, max_value=10**6), min_size=1, max_size=30))
def test_interval_label_contains_value(width, origin, numbers):
    strategy = make(interval=width, origin=origin)
    values, failed = evaluate(strategy, [str(n) for n in numbers])
    assert not any(failed)
    for number, label in zip(numbers, values, strict=True):
        low, high = (int(bound) for bound in label[1:-1].split(", "))
        assert low <= number < high
        assert high - low == width
        assert (low - origin) % width == 0


_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

#: Integers that a 64-bit float represents exactly, as the params model requires.
_FLOAT_EXACT_WIDTHS = st.one_of(st.integers(min_value=1, max_value=100),
                                st.integers(min_value=1, max_value=2**62).map(lambda n: int(float(n))))
_FLOAT_EXACT_ORIGINS = st.one_of(st.integers(min_value=-1000, max_value=1000),
                                 st.integers(min_value=-(2**62), max_value=2**62)
                                 .map(lambda n: int(float(n))))


@PROPERTY
@given(_FLOAT_EXACT_WIDTHS, _FLOAT_EXACT_ORIGINS,
       st.lists(st.one_of(_INT64, st.integers(min_value=2**53 - 40, max_value=2**53 + 40),
                          st.integers(min_value=-(2**53) - 40, max_value=-(2**53) + 40),
                          st.sampled_from([2**63 - 1, -(2**63)])),
                min_size=1, max_size=20))
def test_integer_interval_contains_value(width, origin, numbers):
    """Over the whole Int64 range, the label contains the integer and is exactly one width wide."""
    strategy = make(interval=width, origin=origin)
    values, failed = assert_same_as_apply(strategy, [str(n) for n in numbers])
    assert not any(failed)
    for number, label in zip(numbers, values, strict=True):
        low, high = (int(bound) for bound in label[1:-1].split(", "))
        assert low <= number < high
        assert high - low == width
        assert (low - origin) % width == 0


@pytest.mark.parametrize(
    ("params", "text", "label"),
    [
        ({"interval": 10}, "9007199254740993", "[9007199254740990, 9007199254741000)"),
        ({"interval": 10}, "-9007199254740993", "[-9007199254741000, -9007199254740990)"),
        ({"interval": 10}, "+9007199254740993 ", "[9007199254740990, 9007199254741000)"),
        # The ends of Int64: the other bound lies outside it and is written in full.
        ({"interval": 10}, "9223372036854775807", "[9223372036854775800, 9223372036854775810)"),
        ({"interval": 10}, "-9223372036854775808",
         "[-9223372036854775810, -9223372036854775800)"),
        ({"interval": 7, "origin": -3}, "9223372036854775807",
         "[9223372036854775804, 9223372036854775811)"),
        ({"interval": 2**62}, "-9223372036854775808",
         "[-9223372036854775808, -4611686018427387904)"),
        ({"interval": 1, "origin": 2**62}, "9223372036854775807",
         "[9223372036854775807, 9223372036854775808)"),
        # Top and bottom codes past 2**53, compared with the exact integer.
        ({"interval": 10, "top": 2.0**53 + 4}, "9007199254740995",
         "[9007199254740990, 9007199254740996)"),
        ({"interval": 10, "top": 2.0**53 + 4}, "9007199254740996", ">=9007199254740996"),
        ({"interval": 10, "bottom": -(2.0**53) - 4}, "-9007199254740997",
         "<-9007199254740996"),
        ({"interval": 10, "bottom": -(2.0**53) - 4}, "-9007199254740996",
         "[-9007199254740996, -9007199254740990)"),
        ({"interval": 10, "top": 1e20}, "9223372036854775807",
         "[9223372036854775800, 9223372036854775810)"),
        ({"interval": 10, "bottom": 2.5}, "2", "<2.5"),
        ({"interval": 10, "bottom": 2.5}, "3", "[2.5, 10)"),
    ],
)
def test_integer_interval_exact_labels(params, text, label):
    values, failed = assert_same_as_apply(make(**params), [text])
    assert failed == [False]
    assert values == [label]


def test_integer_past_int64_invalid():
    texts = ["9223372036854775808", "-9223372036854775809", "123456789012345678901"]
    _, failed = evaluate(make(interval=10), texts)
    assert failed == [True, True, True]
    assert evaluate(make(interval=10, on_invalid="null"), texts) == ([None] * 3, [False] * 3)


def _decimal_limit(width, origin):
    """The distance from the origin within which decimal bounds are exact, as the docs state it."""
    places = max(decimal_places(width), decimal_places(origin))
    return 2**49 / 10**places - abs(origin) - 2 * width


def _assert_exact_label(label, text, width):
    low, high = (Decimal(bound) for bound in label[1:-1].split(", "))
    assert low <= Decimal(text.strip()) < high, (text, label)
    assert high - low == Decimal(repr(width)), (text, label)


@pytest.mark.parametrize(
    ("width", "origin"),
    [(2.5, 0.3), (0.1, 0.0), (0.25, -1.25), (0.3, -0.1), (1e-5, 0.0), (7.5, 1000.5),
     (0.5, 10.0**13)],
)
def test_decimal_interval_limit_edge(width, origin):
    """Check exact decimal bounds just inside the limit, and invalid numbers just outside."""
    places = max(decimal_places(width), decimal_places(origin))
    step = Decimal(1).scaleb(-places)
    limit = Decimal(_decimal_limit(width, origin)).quantize(step, rounding="ROUND_FLOOR")
    center = Decimal(repr(origin))
    inside = [center + limit - step * k for k in range(1, 30)]
    inside += [center - limit + step * k for k in range(1, 30)]
    outside = [center + limit + step * 2, center - limit - step * 2]
    texts = [str(number) for number in inside + outside]
    strategy = make(interval=width, origin=origin, on_invalid="null")
    values, failed = assert_same_as_apply(strategy, texts)
    assert not any(failed)
    for text, label in zip(texts[:-2], values[:-2], strict=True):
        _assert_exact_label(label, text, width)
    assert values[-2:] == [None, None]
    assert evaluate(make(interval=width, origin=origin), texts[-2:])[1] == [True, True]


@PROPERTY
@given(st.sampled_from(["0.1", "0.25", "2.5", "0.3", "7.5", "0.001", "1.1", "0.07"]),
       st.sampled_from(["0", "0.3", "-1.25", "0.5", "1000.05", "-0.1"]),
       st.lists(st.tuples(st.floats(min_value=-1.01, max_value=1.01), st.integers(0, 9)),
                min_size=1, max_size=20))
def test_decimal_interval_contains_value(width, origin, fractions):
    """Numbers with the grid's decimal places get exact labels up to the limit, then are invalid."""
    width_number, origin_number = float(width), float(origin)
    places = max(decimal_places(width_number), decimal_places(origin_number))
    limit = _decimal_limit(width_number, origin_number)
    step = Decimal(1).scaleb(-places)
    # Spread values over the whole range up to just past the limit, with random last digits.
    texts = [str(Decimal(origin) + Decimal(fraction * limit).quantize(step) + digit * step)
             for fraction, digit in fractions]
    strategy = make(interval=width_number, origin=origin_number, on_invalid="null")
    values, failed = assert_same_as_apply(strategy, texts)
    assert not any(failed)
    for text, label in zip(texts, values, strict=True):
        if abs(float(text) - origin_number) < limit:
            _assert_exact_label(label, text, width_number)
        else:
            assert label is None, text


@pytest.mark.parametrize(
    ("params", "text", "label"),
    [
        ({"interval": 10}, "37", "[30, 40)"),
        ({"interval": 10}, "-5", "[-10, 0)"),
        ({"interval": 10}, "40", "[40, 50)"),
        ({"interval": 10}, " 0 ", "[0, 10)"),
        ({"interval": 10}, "-0.0", "[0, 10)"),
        ({"interval": 5, "origin": 3}, "7.9", "[3, 8)"),
        ({"interval": 10, "top": 90}, "95", ">=90"),
        ({"interval": 10, "top": 85}, "82", "[80, 85)"),
        ({"interval": 10, "bottom": 2.5}, "1", "<2.5"),
        ({"interval": 10, "bottom": 2.5}, "3", "[2.5, 10)"),
    ],
)
def test_interval_exact_labels(params, text, label):
    values, failed = evaluate(make(**params), [text])
    assert failed == [False]
    assert values == [label]


@pytest.mark.parametrize(
    ("params", "text", "label"),
    [
        ({"interval": 0.1}, "0.3", "[0.3, 0.4)"),  # 0.3 / 0.1 is 2.9999999999999996
        ({"interval": 0.1}, "0.7", "[0.7, 0.8)"),
        ({"interval": 2.5}, "-1", "[-2.5, 0)"),
        ({"interval": 10, "origin": 0.5}, "10.5", "[10.5, 20.5)"),
        ({"interval": 0.25, "top": 1}, "0.9", "[0.75, 1)"),
    ],
)
def test_decimal_interval_exact_labels(params, text, label):
    values, failed = evaluate(make(**params), [text])
    assert failed == [False]
    assert values == [label]


def test_interval_tiny_bounds_fail():
    # Python writes 3e-05, Polars 0.00003, so apply writes such labels.
    strategy = make(interval=0.00001)
    values, failed = evaluate(strategy, ["0.5", "0.000035"])
    assert failed == [False, True]
    assert values[0] == "[0.5, 0.50001)"
    assert apply(strategy, ["0.000035"])[0] == ["[3e-05, 4e-05)"]


def test_interval_huge_integers_exact():
    # Integer text is exact in the whole Int64 range. Other numbers from 2**53 on
    # are invalid, because Float64 represents no fraction there and skips integers.
    strategy = make(interval=10)
    texts = ["12", "10000000000000000", "1e16", "9007199254740993.0", "4503599627370495.5"]
    values, failed = evaluate(strategy, texts)
    assert failed == [False, False, True, True, False]
    assert values[:2] == ["[10, 20)", "[10000000000000000, 10000000000000010)"]
    assert values[4] == "[4503599627370490, 4503599627370500)"
    assert apply(strategy, texts) == (None, {2, 3})


def test_interval_too_far_is_invalid():
    values, failed = evaluate(make(interval=1), ["1e300", "3"])
    assert failed == [True, False]
    assert values[1] == "[3, 4)"
    nulled, failed_null = evaluate(make(interval=1, on_invalid="null"), ["1e300", "3"])
    assert nulled == [None, "[3, 4)"]
    assert failed_null == [False, False]


@PROPERTY
@given(st.lists(st.floats(min_value=-500, max_value=500), min_size=1, max_size=8, unique=True),
       _coding(), _ON_INVALID, st.lists(_NUMBER_TEXTS, min_size=1, max_size=20))
def test_breaks_expression_matches_apply(breaks, coding, on_invalid, texts):
    breaks = sorted(breaks)
    strategy = make(breaks=breaks, on_invalid=on_invalid, **coding)
    values, failed = assert_same_as_apply(strategy, texts)

    # Independently of apply: the interval index is the number of breaks at or below the value.
    bounds = np.array(breaks)
    for text, value, flag in zip(texts, values, failed, strict=True):
        # Only plain decimal text, which Python and Polars read alike.
        if text is None or flag or not _PLAIN_NUMBER.fullmatch(text):
            continue
        number = float(text)
        if not np.isfinite(number):
            continue
        index = int(np.searchsorted(bounds, number, side="right"))
        if coding["top"] is not None and number >= coding["top"]:
            assert value == f">={format_number(coding['top'])}"
        elif coding["bottom"] is not None and number < coding["bottom"]:
            assert value == f"<{format_number(coding['bottom'])}"
        elif index == 0:
            assert value == f"<{format_number(breaks[0])}"
        elif index == len(breaks):
            assert value == f">={format_number(breaks[-1])}"
        else:
            assert value.startswith("[")


def test_breaks_exact_labels():
    values, failed = evaluate(make(breaks=[18, 65]), ["12", "18", "64.9", "65", "70", None])
    assert failed == [False] * 6
    assert values == ["<18", "[18, 65)", "[18, 65)", ">=65", ">=65", None]


@PROPERTY
@given(_coding(required=True), _ON_INVALID, st.lists(_NUMBER_TEXTS, min_size=1, max_size=20))
def test_top_bottom_alone_matches_apply(coding, on_invalid, texts):
    strategy = make(on_invalid=on_invalid, **coding)
    values, _ = assert_same_as_apply(strategy, texts)
    for text, value in zip(texts, values, strict=True):
        if text == "5" and (coding["top"] is None or coding["top"] >= 5) and (
                coding["bottom"] is None or coding["bottom"] <= 5):
            assert value == "5"


def test_top_bottom_alone_exact_values():
    values, failed = evaluate(make(top=90, bottom=0.5), ["95", "90", "007", "0.1", "x"])
    assert failed == [False, False, False, False, True]
    assert values[:4] == ["90", "90", "007", "0.5"]


# dates


@PROPERTY
@given(st.sampled_from(["year", "quarter", "month", "week", "day"]),
       st.sampled_from([None, "label", "date"]), _ON_INVALID,
       st.lists(_DATE_TEXTS, min_size=1, max_size=20))
def test_truncate_iso_matches_apply(unit, output, on_invalid, texts):
    strategy = make(truncate=unit, output=output, on_invalid=on_invalid)
    assert_same_as_apply(strategy, texts)


def _formatted(date_format):
    return st.one_of(
        st.none(),
        st.datetimes().map(lambda moment: pl.select(pl.lit(moment).dt.to_string(date_format)).item()),
        st.sampled_from(["2024-03-15", "31/02/2024", "x"]),
        st.text(max_size=10).filter(lambda text: text != ""),
    )


@PROPERTY
@given(st.sampled_from(_DATE_FORMATS).flatmap(
    lambda date_format: st.tuples(st.just(date_format), st.lists(_formatted(date_format),
                                                                 min_size=1, max_size=15))),
    st.sampled_from(["year", "quarter", "month", "week", "day"]),
    st.sampled_from([None, "date"]), _ON_INVALID)
def test_truncate_format_matches_apply(case, unit, output, on_invalid):
    date_format, texts = case
    strategy = make(truncate=unit, output=output, format=date_format, on_invalid=on_invalid)
    assert_same_as_apply(strategy, texts)


@PROPERTY
@given(st.lists(st.dates(min_value=dt.date(1, 1, 8), max_value=dt.date(9999, 12, 24)),
                min_size=1, max_size=20))
def test_truncate_iso_reference_labels(days):
    # Independently of apply: Python's calendar arithmetic.
    texts = [f"{day.year:04d}-{day.month:02d}-{day.day:02d}T12:00+05:00" for day in days]
    for unit, label in [
        ("year", lambda day: f"{day.year:04d}"),
        ("quarter", lambda day: f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"),
        ("month", lambda day: f"{day.year:04d}-{day.month:02d}"),
        ("week", lambda day: "{:04d}-W{:02d}".format(*day.isocalendar()[:2])),
    ]:
        values, failed = evaluate(make(truncate=unit), texts)
        assert not any(failed)
        assert values == [label(day) for day in days]
    values, _ = evaluate(make(truncate="week", output="date"), texts)
    assert values == [(day - dt.timedelta(days=day.weekday())).isoformat() for day in days]


def test_truncate_exact_values():
    values, failed = evaluate(make(truncate="year"), ["1990-04-05", "1990-04-05T23:30:00-05:00",
                                                      "1990-02-30", None])
    assert failed == [False, False, True, False]
    assert values[:2] == ["1990", "1990"]
    assert values[3] is None


def test_truncate_format_with_offset_has_no_expression():
    strategy = make(truncate="month", format="%d/%m/%Y %H:%M %z")
    assert strategy.expression(pl.col("v"), pl.col("r")) is None


# text


@PROPERTY
@given(st.integers(min_value=0, max_value=6), st.sampled_from([None, "#", "é", "👍🏽"]),
       st.lists(_TEXTS, min_size=1, max_size=20))
def test_prefix_matches_apply(keep, mask_char, texts):
    strategy = make(prefix=keep, mask_char=mask_char)
    _, failed = assert_same_as_apply(strategy, texts)
    for text, flag in zip(texts, failed, strict=True):
        # Only values Polars cannot count, and only when they are longer than the prefix.
        simple = text is None or (text.isascii() and "\r\n" not in text)
        if simple or len(text) <= keep:
            assert not flag, text


@pytest.mark.parametrize(
    ("text", "keep"),
    [
        ("e\u0301tu", 3),  # four code points, three graphemes: apply keeps it whole
        ("e\u0301tud", 3),  # five code points, four graphemes: apply masks one
        ("👍🏽a", 2),  # an emoji with a skin tone modifier is one grapheme
        ("a\r\nb", 2),  # CR LF is one grapheme
        ("🇫🇷🇩🇪", 1),  # two flags of two code points each
    ],
)
def test_prefix_multi_code_point_fails(text, keep):
    strategy = make(prefix=keep)
    _, failed = evaluate(strategy, ["12345", text])
    assert failed == [False, True]
    assert assert_same_as_apply(strategy, ["12345", text])[1] == [False, True]


def test_prefix_exact_values():
    values, failed = evaluate(make(prefix=3), ["02139", "021", "9", None, "Zoë12", "né"])
    assert failed == [False, False, False, False, True, False]
    assert values[:4] == ["021**", "021", "9", None]
    # Longer than the prefix and not ASCII: apply counts its graphemes in Python.
    assert apply(make(prefix=3), ["Zoë12"])[0] == ["Zoë**"]
    assert values[5] == "né"


# hierarchy

_MAPPING = {"Cambodia": ["Asia", "*"], "France": ["Europe", "*"], "Peru": ["America", "*"],
            "29": ["20-29", "*"], "": ["empty", "*"]}


@PROPERTY
@given(st.integers(min_value=0, max_value=2), st.sampled_from([None, "other", ""]), _ON_INVALID,
       st.lists(st.one_of(st.none(), st.sampled_from(sorted(_MAPPING)), st.text(max_size=5)),
                min_size=1, max_size=20))
def test_hierarchy_matches_apply(level, fallback, on_invalid, texts):
    texts = [text if text != "" else None for text in texts]
    strategy = make(hierarchy=_MAPPING, level=level, fallback=fallback, on_invalid=on_invalid)
    values, failed = assert_same_as_apply(strategy, texts)
    for text, value, flag in zip(texts, values, failed, strict=True):
        if text in _MAPPING:
            assert not flag
            assert value == [text, *_MAPPING[text]][level]


def test_hierarchy_exact_values():
    values, failed = evaluate(make(hierarchy=_MAPPING, level=1), ["Cambodia", "29", "Mars"])
    assert failed == [False, False, True]
    assert values[:2] == ["Asia", "20-29"]


def test_hierarchy_file_matches_apply(tmp_path):
    (tmp_path / "zip.csv").write_text("02139;0213*;021**\n02140;0214*;021**\n94110;9411*;941**\n",
                                      encoding="utf-8")
    strategy = Generalize(GeneralizeParams(hierarchy="zip.csv", level=2, on_invalid="null"),
                          StrategyContext(field_path="zip", base_dir=tmp_path))
    texts = ["02139", "94110", "99999", None, "02140"]
    values, failed = assert_same_as_apply(strategy, texts)
    assert values == ["021**", "941**", None, None, "021**"]
    assert not any(failed)
