"""The generalize strategy: intervals, top/bottom coding, dates, prefixes and hierarchies."""

import logging
import math
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import maskme
from maskme.engine import local
from maskme.errors import PolicyError, RecordError
from maskme.strategies import InvalidValues, get_strategy
from maskme.strategies.base import BatchView, StrategyContext
from maskme.strategies.generalize import Generalize, GeneralizeParams

DATA = Path(__file__).resolve().parents[1] / "data"


def generalize(values, base_dir=DATA, **params):
    strategy = Generalize(GeneralizeParams(**params),
                          StrategyContext(field_path="field", base_dir=base_dir))
    column = pl.Series("field", values, dtype=pl.String)
    batch = BatchView(record_numbers=pl.Series(range(1, len(values) + 1)),
                      column=lambda path: pl.Series([], dtype=pl.String))
    result = strategy.apply(column, batch)
    assert result.dtype == pl.String
    assert result.name == "field"
    assert len(result) == len(values)
    return result.to_list()


def test_registered():
    assert get_strategy("generalize") is Generalize


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("37", "[30, 40)"),
        ("30", "[30, 40)"),  # the lower bound is inside
        ("40", "[40, 50)"),  # the upper bound is outside
        ("0", "[0, 10)"),
        ("-5", "[-10, 0)"),  # negative numbers floor downwards
        ("-10", "[-10, 0)"),
        ("-10.5", "[-20, -10)"),
        ("9.99", "[0, 10)"),
        (" 25 ", "[20, 30)"),  # surrounding blanks are ignored
        ("1e2", "[100, 110)"),
    ],
)
def test_interval_width_10(value, label):
    assert generalize([value], interval=10) == [label]


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("0.3", "[0.3, 0.4)"),  # 0.3 / 0.1 is 2.9999999999999996 in floating point
        ("0.7", "[0.7, 0.8)"),
        ("0.2999", "[0.2, 0.3)"),
        ("-0.05", "[-0.1, 0)"),
    ],
)
def test_interval_decimal_width(value, label):
    assert generalize([value], interval=0.1) == [label]


def test_interval_origin():
    assert generalize(["37", "-5", "1"], interval=2.5, origin=1) == ["[36, 38.5)", "[-6.5, -4)", "[1, 3.5)"]


def test_interval_keeps_null():
    assert generalize([None, "5", None], interval=10) == [None, "[0, 10)", None]


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("12", "<18"),
        ("18", "[18, 30)"),
        ("29.9", "[18, 30)"),
        ("30", "[30, 65)"),
        ("65", ">=65"),
        ("99", ">=65"),
        ("-4", "<18"),
    ],
)
def test_breaks(value, label):
    assert generalize([value], breaks=[18, 30, 65]) == [label]


def test_breaks_non_integer_and_negative():
    values = ["-1.5", "-0.5", "0.25", "2.5"]
    assert generalize(values, breaks=[-1, 0.5, 2.5]) == ["<-1", "[-1, 0.5)", "[-1, 0.5)", ">=2.5"]


def test_top_bottom_alone_keep_numbers():
    values = ["95", "90", "-3", "12", " 7 ", "90.5"]
    # Values inside the bounds leave exactly as written.
    assert generalize(values, top=90, bottom=0) == ["90", "90", "0", "12", " 7 ", "90"]


def test_top_alone_keeps_type():
    strategy = Generalize(GeneralizeParams(top=90), StrategyContext(field_path="age"))
    assert strategy.output_keeps_type()
    strategy = Generalize(GeneralizeParams(interval=5), StrategyContext(field_path="age"))
    assert not strategy.output_keeps_type()


def test_top_bottom_with_interval_labels():
    values = ["95", "85", "84", "-3", "3", "12"]
    assert generalize(values, interval=10, top=85, bottom=5) == [
        ">=85",
        ">=85",
        "[80, 85)",  # the interval is narrowed to the top code
        "<5",
        "<5",
        "[10, 20)",
    ]


def test_top_with_breaks():
    assert generalize(["70", "50", "10"], breaks=[18, 65], top=60) == [">=60", "[18, 60)", "<18"]


def test_invalid_number_error_positions():
    with pytest.raises(InvalidValues) as caught:
        generalize(["12", "twelve", None, "inf", "nan"], interval=10)
    assert caught.value.positions == [1, 3, 4]
    assert caught.value.expected == ("a number (an integer within the 64-bit range, or another "
                                     "number below 2**53 in magnitude)")


def test_invalid_number_null_or_keep():
    values = ["12", "n/a"]
    assert generalize(values, interval=10, on_invalid="null") == ["[10, 20)", None]
    assert generalize(values, interval=10, on_invalid="keep") == ["[10, 20)", "n/a"]
    assert generalize(values, top=10, on_invalid="null") == ["10", None]


def test_on_invalid_yaml_null():
    # YAML loads an unquoted `on_invalid: null` as None.
    assert GeneralizeParams(interval=10, on_invalid=None).on_invalid == "null"


def test_interval_too_far_is_invalid():
    assert generalize(["1", "1e300"], interval=1e-10, on_invalid="null") == ["[1, 1.0000000001)", None]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=-10**6, max_value=10**6), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=-1000, max_value=1000),
)
def test_interval_contains_value(numbers, width, origin):
    labels = generalize([str(n) for n in numbers], interval=width, origin=origin)
    for number, label in zip(numbers, labels):
        low, high = label[1:-1].split(", ")
        assert int(low) <= number < int(high)
        assert int(high) - int(low) == width
        assert (int(low) - origin) % width == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30))
def test_interval_decimal_contains_value(numbers):
    labels = generalize([repr(n) for n in numbers], interval=0.25)
    for number, label in zip(numbers, labels):
        low, high = (float(part) for part in label[1:-1].split(", "))
        assert low <= number < high
        assert math.isclose(high - low, 0.25)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.decimals(min_value=-10**5, max_value=10**5, places=3, allow_nan=False,
                         allow_infinity=False), min_size=1, max_size=30),
    st.sampled_from(["0.1", "0.25", "0.5", "2.5", "0.01"]),
)
def test_interval_decimal_text_in_label(numbers, width):
    """The number as written (not its float) lies in its label, for decimal widths."""
    texts = [str(number) for number in numbers]
    labels = generalize(texts, interval=float(width))
    for text, label in zip(texts, labels):
        low, high = (Decimal(part) for part in label[1:-1].split(", "))
        assert low <= Decimal(text) < high, (text, label)
        assert high - low == Decimal(width)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"interval": 2**53 + 1}, "a 64-bit float represents exactly"),
        ({"interval": 10, "origin": -(2**53) - 1}, "a 64-bit float represents exactly"),
        ({"interval": 1e-16}, "16 decimal places; expected at most 15"),
        ({"interval": 0.5, "origin": 0.1234567890123456}, "16 decimal places"),
        ({"interval": 2.0**63}, "too large for exact labels"),
        ({"interval": 0.5, "origin": 1e14}, "too large for exact labels"),
    ],
)
def test_interval_params_not_exact_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        GeneralizeParams(**params)


def test_interval_params_exact_accepted():
    assert GeneralizeParams(interval=2**53, origin=-(2**62)).interval == 2.0**53
    assert GeneralizeParams(interval=0.5, origin=1e13).origin == 1e13


def test_interval_invalid_message_names_limit():
    with pytest.raises(InvalidValues) as caught:
        generalize(["1", "1e14"], interval=2.5, origin=0.3)
    assert caught.value.positions == [1]
    assert caught.value.expected == "a number within 5.63e+13 of the interval origin"


def test_interval_past_2_53_exact():
    values = ["9007199254740993", "-9007199254740993", "9223372036854775807", "1e16", "x"]
    assert generalize(values, interval=10, on_invalid="null") == [
        "[9007199254740990, 9007199254741000)",
        "[-9007199254741000, -9007199254740990)",
        "[9223372036854775800, 9223372036854775810)",
        None,  # Float64 represents no fraction from 2**53 on, so only integer text is exact
        None,
    ]
    assert generalize(["9007199254740993", "37"], interval=2.5, origin=0.3,
                      on_invalid="null") == [None, "[35.3, 37.8)"]


def mask_both_ways(directory, values, strategy):
    """Mask records ``id,v`` as one query and in batches.

    Returns the query's output, the batch path's output and whether the query
    handed the run over to the batch path.
    """
    source = directory / "in.csv"
    source.write_text("id,v\n" + "".join(f"{n},{value}\n" for n, value in enumerate(values)),
                      encoding="utf-8")
    policy = {"version": 1, "default": "keep", "fields": {"v": strategy}}
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("maskme.engine.local")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        maskme.mask(source, policy, directory / "query.csv", delimiter=",")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    local.QUERY_ENABLED = False
    try:
        maskme.mask(source, policy, directory / "batches.csv", delimiter=",")
    finally:
        local.QUERY_ENABLED = True
    handed_over = any("batch path" in message for message in messages)
    return ((directory / "query.csv").read_bytes(), (directory / "batches.csv").read_bytes(),
            handed_over)


@pytest.mark.parametrize("query_enabled", [True, False])
def test_interval_too_far_error_names_record(tmp_path, monkeypatch, query_enabled):
    monkeypatch.setattr(local, "QUERY_ENABLED", query_enabled)
    source = tmp_path / "in.csv"
    source.write_text("id,v\n1,37\n2,9007199254740993\n", encoding="utf-8")
    policy = {"version": 1, "default": "keep",
              "fields": {"v": {"strategy": "generalize", "interval": 2.5, "origin": 0.3}}}
    with pytest.raises(RecordError) as caught:
        maskme.mask(source, policy, tmp_path / "out.csv", delimiter=",")
    message = str(caught.value)
    assert message.startswith("record 2, field `v`: not a number within 5.63e+13 of the "
                              "interval origin;")
    assert "9007199254740993" not in message
    assert "900719925" not in message
    assert not (tmp_path / "out.csv").exists()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1),
                       st.integers(min_value=2**53 - 20, max_value=2**53 + 20)),
             min_size=1, max_size=20),
    st.sampled_from([{"interval": 10}, {"interval": 7, "origin": -3},
                     {"interval": 1000, "top": 2.0**60, "bottom": -(2.0**60)}]),
)
def test_integer_interval_query_same_as_batches(numbers, params):
    with tempfile.TemporaryDirectory() as folder:
        query, batches, handed_over = mask_both_ways(
            Path(folder), [str(n) for n in numbers], {"strategy": "generalize", **params})
    assert query == batches
    assert not handed_over
    labels = [line.split(",", 1)[1] for line in query.decode().splitlines()[1:]]
    for number, label in zip(numbers, labels, strict=True):
        if label.startswith("["):
            low, high = (int(bound) for bound in label.strip('"[)').split(", "))
            assert low <= number < high
            assert high - low == params["interval"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.decimals(min_value=-6 * 10**13, max_value=6 * 10**13, places=1),
                min_size=1, max_size=20))
def test_decimal_interval_query_same_as_batches(numbers):
    """Past the limit (5.63e13 from origin 0.3, for interval 2.5) values become null on both paths."""
    strategy = {"strategy": "generalize", "interval": 2.5, "origin": 0.3, "on_invalid": "null"}
    with tempfile.TemporaryDirectory() as folder:
        query, batches, handed_over = mask_both_ways(
            Path(folder), [str(n) for n in numbers], strategy)
    assert query == batches
    assert not handed_over
    labels = [line.split(",", 1)[1] for line in query.decode().splitlines()[1:]]
    for number, label in zip(numbers, labels, strict=True):
        if abs(number - Decimal("0.3")) < Decimal("5.6e13"):
            low, high = (Decimal(bound) for bound in label.strip('"[)').split(", "))
            assert low <= number < high
            assert high - low == Decimal("2.5")
        elif abs(number - Decimal("0.3")) > Decimal("5.7e13"):
            assert label == ""


@pytest.mark.parametrize(
    ("unit", "label", "first_day"),
    [
        ("year", "1990", "1990-01-01"),
        ("quarter", "1990-Q2", "1990-04-01"),
        ("month", "1990-04", "1990-04-01"),
        ("week", "1990-W14", "1990-04-02"),  # 1990-04-05 is a Thursday in ISO week 14
        ("day", "1990-04-05", "1990-04-05"),
    ],
)
def test_truncate_units(unit, label, first_day):
    assert generalize(["1990-04-05"], truncate=unit) == [label]
    assert generalize(["1990-04-05"], truncate=unit, output="date") == [first_day]


def test_truncate_week_uses_iso_year():
    # 2021-01-01 is a Friday in the last ISO week of 2020.
    assert generalize(["2021-01-01"], truncate="week") == ["2020-W53"]
    assert generalize(["2021-01-01"], truncate="week", output="date") == ["2020-12-28"]


@pytest.mark.parametrize(
    "value",
    [
        "1990-12-31T23:30:00-05:00",  # 04:30 UTC on 1991-01-01, still 1990 locally
        "1990-12-31 23:30",
        "1990-12-31T23:30:00.123456+14:00",
        "1990-12-31T23Z",
        "1990-12-31T23:59:60+0100",
    ],
)
def test_truncate_timestamps_in_local_time(value):
    assert generalize([value], truncate="year") == ["1990"]
    assert generalize([value], truncate="day") == ["1990-12-31"]


def test_truncate_strftime_format():
    values = ["05/04/1990 10:00", "31/12/1990 23:59"]
    assert generalize(values, truncate="month", format="%d/%m/%Y %H:%M") == ["1990-04", "1990-12"]


def test_truncate_strftime_format_with_offset_stays_local():
    values = ["31/12/1990 23:00 -0500"]
    assert generalize(values, truncate="year", format="%d/%m/%Y %H:%M %z") == ["1990"]


@pytest.mark.parametrize("value", ["1990-02-30", "05/04/1990", "1990-04-05T25:00", "1990-4-5", "x"])
def test_truncate_invalid_dates(value):
    with pytest.raises(InvalidValues) as caught:
        generalize(["1990-04-05", value], truncate="year")
    assert caught.value.positions == [1]
    assert caught.value.expected == "an ISO 8601 date or timestamp"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("02139", "021**"),  # leading zero kept, length kept
        ("021", "021"),
        ("02", "02"),  # no longer than the prefix: kept whole
        ("Zürich", "Zür***"),
        ("👍🏽👍🏽👍🏽👍🏽", "👍🏽👍🏽👍🏽*"),  # an emoji with its modifier is one character
        ("e\u0301e\u0301e\u0301e\u0301", "e\u0301e\u0301e\u0301*"),  # combining accents
    ],
)
def test_prefix(value, masked):
    assert generalize([value], prefix=3) == [masked]


def test_prefix_mask_char_and_null():
    assert generalize(["94110", None], prefix=2, mask_char="#") == ["94###", None]
    assert generalize(["94110"], prefix=0, mask_char="●") == ["●●●●●"]


def test_hierarchy_file_relative_to_base_dir():
    values = ["47677", "47905", None]
    result = generalize(values, hierarchy="tcloseness_paper/test2_hierarchy_ZIPCode.csv", level=2)
    assert result == ["476**", "479**", None]


def test_hierarchy_levels_zero_and_top():
    path = "tcloseness_paper/test2_hierarchy_Age.csv"
    assert generalize(["29", "52"], hierarchy=path, level=0) == ["29", "52"]
    assert generalize(["29", "52"], hierarchy=path, level=1) == ["[20,30[", ">=40"]
    assert generalize(["29", "52"], hierarchy=path, level=2) == ["*", "*"]


def test_hierarchy_inline_mapping_with_integer_keys():
    # YAML reads unquoted 29 as an integer.
    hierarchy = {29: ["young", "*"], "43": ["old", "*"]}
    assert generalize(["29", "43"], hierarchy=hierarchy, level=1) == ["young", "old"]


def test_hierarchy_missing_value_error():
    with pytest.raises(InvalidValues) as caught:
        generalize(["29", "17", "43", "18"], hierarchy={"29": ["a"], "43": ["b"]}, level=1)
    assert caught.value.positions == [1, 3]
    assert caught.value.expected == "a value listed in the hierarchy"


def test_hierarchy_fallback():
    result = generalize(["29", "17", None], hierarchy={"29": ["a"]}, level=1, fallback="other")
    assert result == ["a", "other", None]


def test_hierarchy_level_beyond_file():
    with pytest.raises(PolicyError, match=r"test2_hierarchy_Age.csv: level 3 does not exist; expected 0 \(raw\) to 2"):
        Generalize(GeneralizeParams(hierarchy="tcloseness_paper/test2_hierarchy_Age.csv", level=3),
                   StrategyContext(field_path="age", base_dir=DATA))


def test_hierarchy_file_with_tab_delimiter(tmp_path):
    (tmp_path / "sex.tsv").write_text("F\tperson\nM\tperson\n", encoding="utf-8")
    result = generalize(["F", "M"], base_dir=tmp_path, hierarchy="sex.tsv", level=1,
                        delimiter="\t")
    assert result == ["person", "person"]
    with pytest.raises(PolicyError, match="cannot detect the delimiter"):
        generalize(["F"], base_dir=tmp_path, hierarchy="sex.tsv", level=1)


def test_hierarchy_file_missing():
    with pytest.raises(PolicyError, match="hierarchy file not found"):
        Generalize(GeneralizeParams(hierarchy="nowhere.csv", level=1),
                   StrategyContext(field_path="age", base_dir=DATA))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "expected one generalization mode"),
        ({"interval": 10, "prefix": 3}, "expected one generalization mode, got interval, prefix"),
        ({"top": 5, "truncate": "year"}, "top can only be combined with interval or breaks"),
        ({"top": 1, "bottom": 2}, "expected bottom < top"),
        ({"interval": 0}, "greater than 0"),
        ({"breaks": [3, 2]}, "strictly increasing"),
        ({"breaks": []}, "at least one boundary"),
        ({"interval": 10, "level": 1}, "level applies only with hierarchy"),
        ({"interval": 10, "output": "date"}, "output applies only with truncate"),
        ({"prefix": 3, "mask_char": "**"}, "exactly one printable"),
        ({"hierarchy": "x.csv"}, "hierarchy needs level"),
        ({"hierarchy": {"a": ["x"]}, "level": 2}, "level 2 does not exist"),
        ({"hierarchy": {"a": ["x"], "b": ["x", "y"]}, "level": 1}, "expected 2 columns"),
        ({"truncate": "decade"}, "truncate"),
        ({"interval": 10, "delimiter": ";"}, "delimiter applies only with hierarchy"),
        ({"hierarchy": {"a": ["x"]}, "level": 1, "delimiter": ";"}, "only to a hierarchy file"),
        ({"hierarchy": "h.csv", "level": 1, "delimiter": ";;"}, "at most 1 character"),
        ({"interval": 10, "widht": 3}, "widht"),
    ],
)
def test_params_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        GeneralizeParams(**params)
