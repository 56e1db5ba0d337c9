"""Hostile numbers and dates for ``noise`` and ``generalize`` on the one-query path.

Each case writes a CSV file of records ``id,v``, masks field ``v`` with
``maskme.mask`` once as one Polars query and once with ``QUERY_ENABLED`` off,
and compares the output bytes, or the error type and message. Cases marked
``xfail`` are bugs that both paths share: the query matches the batch path,
but the output breaks a documented rule.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maskme.engine import local
from tests.conftest import run_cli
from tests.engine.both_paths import outcome, outcomes

KEYS = {"k": {"env": "MASKME_KEY"}}

#: A value that must never appear in an error message.
SECRET = "secret-4471-value"


def policy_for(strategy: dict) -> dict:
    return {"version": 1, "default": "keep", "keys": KEYS, "fields": {"v": strategy}}


def write_values(path: Path, values: list[str]) -> Path:
    """Write records ``id,v`` with each value quoted only where CSV needs it."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "v"])
    for number, value in enumerate(values):
        writer.writerow([number, value])
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def masked_values(output: bytes | str) -> list[str]:
    """Return field ``v`` of each output record."""
    assert isinstance(output, bytes), output
    reader = csv.reader(io.StringIO(output.decode("utf-8"), newline=""))
    next(reader)
    return [row[1] for row in reader]


def same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[str],
                       strategy: dict, **options) -> bytes | str:
    """Mask ``values`` on both paths, assert the outcomes are equal and return the query's."""
    source = write_values(tmp_path / "in.csv", values)
    fast, slow = outcomes(source, policy_for(strategy), monkeypatch, delimiter=",", **options)
    assert fast == slow
    return fast


# Numbers in the spellings a CSV export can contain.
NUMBERS = [
    "1", "-1", "+1", " 5 ", "1e3", "1E-3", "-0", "-0.0", "0e0", "1.10", "1.", ".5", "-.5",
    "0001", "007", "inf", "-inf", "nan", "NaN", "1e308", "1.7976931348623157e308",
    "4.9e-324", "1e-320",
    "9007199254740993",     # 2**53 + 1, which float64 cannot represent
    "-9007199254740993",
    "9223372036854775807",  # the largest Int64
    "9223372036854775808",  # one past it
    "123456789012345678901",
    "1,5", "1_000", "0x10", "١٢", "１２", "1\u00a0", "  ", "", "abc",
]

NOISE_CASES = {
    # name: noise parameters besides the strategy and seed
    "laplace": {"scale": 1},
    "gaussian": {"scale": 1, "distribution": "gaussian"},
    "uniform": {"scale": 1, "distribution": "uniform"},
    "round -2": {"scale": 1, "round": -2},
    "round 0": {"scale": 1, "round": 0},
    "round 3": {"scale": 1, "round": 3},
    "round 15": {"scale": 1, "round": 15},
    "round -15": {"scale": 1, "round": -15},
    "min and max": {"scale": 1, "min": 0, "max": 10},
    "fractional bounds": {"scale": 1, "min": 0.5, "max": 1.7},
    "huge bounds": {"scale": 1, "min": -1e19, "max": 1e19, "round": -3},
    "relative fraction": {"relative": 0.05},
    "relative scale": {"relative": True, "scale": 10},
    "huge scale": {"scale": 1e300},
}


@pytest.mark.parametrize("on_invalid", ["keep", "null"])
@pytest.mark.parametrize("parameters", NOISE_CASES.values(), ids=NOISE_CASES.keys())
def test_number_noise_same_as_batches(tmp_path, monkeypatch, runs, parameters, on_invalid):
    strategy = {"strategy": "noise", "seed": 7, "on_invalid": on_invalid, **parameters}
    output = same_on_both_paths(tmp_path, monkeypatch, NUMBERS, strategy)
    assert len(masked_values(output)) == len(NUMBERS)


@pytest.mark.parametrize("value", ["abc", "inf", "nan", " 5x", "9223372036854775808"])
def test_number_noise_error_same_as_batches(tmp_path, monkeypatch, runs, value):
    strategy = {"strategy": "noise", "scale": 1, "seed": 7}
    output = same_on_both_paths(tmp_path, monkeypatch, ["1", value], strategy)
    assert isinstance(output, str)
    assert output.startswith("RecordError: record 2, field `v`:")
    assert runs.handed_over == 1


def test_number_noise_golden_values(tmp_path, monkeypatch, runs):
    """Integers stay integers, decimals keep a decimal point, text that is no number stays."""
    strategy = {"strategy": "noise", "scale": 1, "seed": 7, "on_invalid": "keep"}
    values = ["1", "-1", "+1", "1e3", "inf", "123456789012345678901", "1_000", ""]
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    assert masked == ["2", "-1", "1", "998.2014334808634", "inf",
                      "123456789012345678901", "1_000", ""]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    numbers=st.lists(
        st.one_of(
            st.integers(min_value=-2**63, max_value=2**63).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
        ),
        min_size=1,
        max_size=20,
    ),
    round_places=st.one_of(st.none(), st.integers(min_value=-15, max_value=15)),
)
def test_any_number_noise_same_as_batches(tmp_path, monkeypatch, runs, numbers, round_places):
    strategy = {"strategy": "noise", "scale": 3, "seed": 11, "round": round_places,
                "min": -1e6, "on_invalid": "null"}
    output = same_on_both_paths(tmp_path, monkeypatch, numbers, strategy)
    assert len(masked_values(output)) == len(numbers)


@pytest.mark.parametrize(("value", "bounds"), [
    ("0", {"min": 0.5}),
    ("10", {"max": 9.5}),
    ("1.0", {"min": 1.25, "round": 1}),
])
def test_noise_stays_within_bounds(tmp_path, monkeypatch, runs, value, bounds):
    strategy = {"strategy": "noise", "scale": 0.01, "seed": 1, **bounds}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, [value] * 6, strategy))
    for noisy in masked:
        if "min" in bounds:
            assert float(noisy) >= bounds["min"]
        if "max" in bounds:
            assert float(noisy) <= bounds["max"]


def test_integer_past_int64_message(tmp_path, monkeypatch, runs):
    strategy = {"strategy": "noise", "scale": 1, "seed": 1}
    output = same_on_both_paths(tmp_path, monkeypatch, ["9223372036854775808"], strategy)
    assert isinstance(output, str)
    assert output.startswith("RecordError: record 1, field `v`:")
    assert "not a finite number" not in output


# ISO 8601 dates and timestamps, and text that is almost one.
DATES = [
    "2020-02-29",
    "2020-01-01T10:20:30",
    "2020-01-01 10:20:30",
    "2020-01-01T10:20:30.123456",
    "2020-01-01T10:20:30.123456789",
    "2020-01-01T10:20:30Z",
    "2020-01-01T10:20:30+05:30",
    "2020-01-01T10:20:30+0530",
    "2020-01-01T10:20:30.5-08:00",
    "2020-01-01T10:20",
    "2020-01-01T10",
    "1969-12-31T23:59:59.999",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "2020-1-1",
    "20200101",
    "2020-02-30",
    " 2020-01-01",
    "2020-01-01 ",
    "2020-W01-1",
    "2020-01-01T24:00:00",
    "",
]


@pytest.mark.parametrize("on_invalid", ["keep", "null"])
@pytest.mark.parametrize("days", [30, 3_650_000])
def test_date_noise_same_as_batches(tmp_path, monkeypatch, runs, days, on_invalid):
    strategy = {"strategy": "noise", "days": days, "key": "k", "on_invalid": on_invalid}
    output = same_on_both_paths(tmp_path, monkeypatch, DATES, strategy)
    assert len(masked_values(output)) == len(DATES)


def test_date_noise_keeps_layout(tmp_path, monkeypatch, runs):
    """Only the date part moves, and the time, fraction and offset stay as written."""
    strategy = {"strategy": "noise", "days": 30, "seed": 3, "on_invalid": "null"}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, DATES[:12], strategy))
    assert masked == [
        "2020-03-08",
        "2019-12-11T10:20:30",
        "2020-01-20 10:20:30",
        "2019-12-08T10:20:30.123456",
        "2019-12-04T10:20:30.123456789",
        "2020-01-17T10:20:30Z",
        "2019-12-12T10:20:30+05:30",
        "2019-12-14T10:20:30+0530",
        "2019-12-08T10:20:30.5-08:00",
        "2020-01-02T10:20",
        "2020-01-23T10",
        "1970-01-17T23:59:59.999",
    ]


@pytest.mark.parametrize("value", ["2020-1-1", "20200101", "2020-02-30", " 2020-01-01",
                                   "2020-W01-1", "2020-01-01T24:00:00"])
def test_date_noise_error_same_as_batches(tmp_path, monkeypatch, runs, value):
    strategy = {"strategy": "noise", "days": 30, "seed": 3}
    output = same_on_both_paths(tmp_path, monkeypatch, ["2020-01-01", value], strategy)
    assert output == ("RecordError: record 2, field `v`: not an ISO 8601 date or timestamp; "
                      "fix the data, or set on_invalid: null or keep in the policy")
    assert runs.handed_over == 1


DATE_FORMATS = {
    # format: values, valid and not
    "%d/%m/%Y": ["29/02/2020", "1/2/2020", "32/01/2020", " 01/01/2020", ""],
    "%Y-%m-%dT%H:%M:%S%z": ["2020-01-01T10:20:30+0530", "2020-01-01T10:20:30+05:30",
                            "2020-01-01T10:20:30Z", "2020-01-01T10:20:30"],
    "%Y-%m-%d %H:%M:%S": ["2020-01-01 10:20:30", "2020-01-01T10:20:30",
                          "2020-01-01 10:20:30.5", "2020-02-29 00:00:00"],
    "%Y-%m-%d %H:%M:%S%.f": ["2020-01-01 10:20:30.123", "2020-01-01 10:20:30.123456789"],
    "%Y%m%d": ["20200229", "2020011"],
    "%d, %b %Y": ["01, Jan 2020", "15, Mar 2021", "x"],
    "%s": ["1577836800"],
}


@pytest.mark.parametrize("on_invalid", ["error", "keep", "null"])
@pytest.mark.parametrize("date_format", DATE_FORMATS)
def test_formatted_date_noise_same_as_batches(tmp_path, monkeypatch, runs, date_format,
                                              on_invalid):
    strategy = {"strategy": "noise", "days": 30, "seed": 3, "format": date_format,
                "on_invalid": on_invalid}
    same_on_both_paths(tmp_path, monkeypatch, DATE_FORMATS[date_format], strategy)


def test_formatted_date_noise_golden_values(tmp_path, monkeypatch, runs):
    values = ["29/02/2020", "01/01/2020", "32/01/2020"]
    strategy = {"strategy": "noise", "days": 30, "seed": 3, "format": "%d/%m/%Y",
                "on_invalid": "null"}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    assert masked == ["08/03/2020", "11/12/2019", ""]


@pytest.mark.parametrize(("values", "date_format"), [
    (["9999-12-31"] * 8 + ["0001-01-01"] * 8, None),
    (["31/12/9999"] * 8 + ["01/01/0001"] * 8, "%d/%m/%Y"),
])
def test_date_noise_stays_in_calendar(tmp_path, monkeypatch, runs, values, date_format):
    """A shifted date is one that ISO 8601 and Python can read, or null when there is none."""
    strategy = {"strategy": "noise", "days": 30, "seed": 3, "on_invalid": "null"}
    if date_format is not None:
        strategy["format"] = date_format
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    for shifted in masked:
        if not shifted:
            continue
        iso = "-".join(reversed(shifted.split("/")))
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso), shifted
        assert iso[:4] != "0000", shifted
        assert date.fromisoformat(iso).year in range(1, 10_000)


def test_colon_offset_format_accepted_or_rejected(tmp_path, monkeypatch, runs):
    """A ``format`` either shifts dates that match it, or the policy is rejected on load."""
    strategy = {"strategy": "noise", "days": 30, "seed": 3,
                "format": "%Y-%m-%dT%H:%M:%S%:z", "on_invalid": "null"}
    output = same_on_both_paths(tmp_path, monkeypatch, ["2020-01-01T10:20:30+05:30"],
                                strategy)
    if isinstance(output, str):
        assert output.startswith("PolicyError:")
    else:
        assert masked_values(output) == ["2019-12-11T10:20:30+05:30"]


def test_consistent_by_same_as_batches(tmp_path, monkeypatch, runs):
    """Every record of one subject moves by the same days and noise, in any batch size."""
    rows = "".join(f"p{n % 5},2020-0{1 + n % 9}-1{n % 9},{n}.5\n" for n in range(40))
    source = tmp_path / "in.csv"
    source.write_text("pid,d,x\n" + rows + ",2020-01-10,1\n,2020-01-10,1\n")
    policy = {"version": 1, "default": "keep", "keys": KEYS, "fields": {
        "d": {"strategy": "noise", "days": 30, "key": "k", "consistent_by": "pid"},
        "x": {"strategy": "noise", "scale": 3, "key": "k", "consistent_by": "pid", "round": 0},
    }}
    fast, slow = outcomes(source, policy, monkeypatch, delimiter=",")
    assert fast == slow
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    assert outcome(source, policy, tmp_path / "small.csv", delimiter=",", batch_size=3) == slow

    assert isinstance(fast, bytes)
    records = list(csv.reader(io.StringIO(fast.decode())))[1:]
    originals = list(csv.reader(io.StringIO(rows)))
    shifts: dict[str, set[int]] = {}
    for (subject, before, _), (_, after, _) in zip(originals, records):
        moved = date.fromisoformat(after) - date.fromisoformat(before)
        shifts.setdefault(subject, set()).add(moved.days)
    assert len(shifts) == 5
    for days in shifts.values():
        assert len(days) == 1


NUMBERS_TO_GENERALIZE = [
    "0", "-0", "1.5", "-1.5", "29.999999999", "30", "1e3", "-1e-3", "inf", "nan",
    "9007199254740993", "1e20", " 7", "+7", "", "x",
]

GENERALIZE_NUMBER_CASES = {
    # name: generalize parameters besides the strategy
    "interval 10": {"interval": 10},
    "interval 0.1": {"interval": 0.1},
    "interval 2.5 origin 0.3": {"interval": 2.5, "origin": 0.3},
    "interval 0.3 origin -0.1": {"interval": 0.3, "origin": -0.1},
    "interval with top and bottom": {"interval": 10, "top": 100, "bottom": 0},
    "breaks": {"breaks": [0, 18.5, 65]},
    "decimal breaks": {"breaks": [0.1, 0.2, 0.3]},
    "float64 breaks": {"breaks": [-1e308, 0, 1e308]},
    "top alone": {"top": 50},
    "top and bottom": {"bottom": -1.5, "top": 2.5},
    "tiny interval": {"interval": 1e-9},
    "huge interval": {"interval": 1e15},
}


@pytest.mark.parametrize("on_invalid", ["keep", "null"])
@pytest.mark.parametrize("parameters", GENERALIZE_NUMBER_CASES.values(),
                         ids=GENERALIZE_NUMBER_CASES.keys())
def test_number_generalize_same_as_batches(tmp_path, monkeypatch, runs, parameters,
                                           on_invalid):
    strategy = {"strategy": "generalize", "on_invalid": on_invalid, **parameters}
    output = same_on_both_paths(tmp_path, monkeypatch, NUMBERS_TO_GENERALIZE, strategy)
    assert len(masked_values(output)) == len(NUMBERS_TO_GENERALIZE)


def test_decimal_interval_golden_labels(tmp_path, monkeypatch, runs):
    values = ["0", "-1.5", "29.999999999", "30", "-1e-3", " 7"]
    strategy = {"strategy": "generalize", "interval": 2.5, "origin": 0.3}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    assert masked == ["[-2.2, 0.3)", "[-2.2, 0.3)", "[27.8, 30.3)", "[27.8, 30.3)",
                      "[-2.2, 0.3)", "[5.3, 7.8)"]


def test_interval_label_past_2_53(tmp_path, monkeypatch, runs):
    strategy = {"strategy": "generalize", "interval": 10}
    output = same_on_both_paths(tmp_path, monkeypatch, ["9007199254740993"], strategy)
    assert masked_values(output) == ["[9007199254740990, 9007199254741000)"]


def test_decimal_interval_past_2_53(tmp_path, monkeypatch, runs):
    """The label is an interval of the requested width that contains the value, or null."""
    strategy = {"strategy": "generalize", "interval": 2.5, "origin": 0.3,
                "on_invalid": "null"}
    output = same_on_both_paths(tmp_path, monkeypatch, ["9007199254740993"], strategy)
    [label] = masked_values(output)
    if label:
        lower, upper = (Decimal(bound) for bound in label.strip("[)").split(", "))
        assert upper - lower == Decimal("2.5")
        assert lower <= Decimal(9007199254740993) < upper


DATES_TO_TRUNCATE = [
    "2020-02-29", "2020-12-31T23:59:59+05:30", "2020-01-01 00:00:00Z",
    "2021-01-03T10:20:30.5+0530", "0001-01-01", "9999-12-31T23:59:59", "2020-1-1", "", "x",
]


@pytest.mark.parametrize("output_kind", [None, "label", "date"])
@pytest.mark.parametrize("unit", ["year", "quarter", "month", "week", "day"])
def test_truncate_same_as_batches(tmp_path, monkeypatch, runs, unit, output_kind):
    strategy = {"strategy": "generalize", "truncate": unit, "on_invalid": "keep"}
    if output_kind is not None:
        strategy["output"] = output_kind
    output = same_on_both_paths(tmp_path, monkeypatch, DATES_TO_TRUNCATE, strategy)
    assert masked_values(output)[-3:] == ["2020-1-1", "", "x"]


def test_truncate_week_golden_labels(tmp_path, monkeypatch, runs):
    """Week labels follow ISO 8601 weeks, which can belong to the year before or after."""
    strategy = {"strategy": "generalize", "truncate": "week", "output": "label",
                "on_invalid": "null"}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, DATES_TO_TRUNCATE,
                                              strategy))
    assert masked == ["2020-W09", "2020-W53", "2020-W01", "2020-W53", "0001-W01",
                      "9999-W52", "", "", ""]


@pytest.mark.parametrize("unit", ["year", "quarter", "month", "week", "day"])
def test_truncate_with_format_same_as_batches(tmp_path, monkeypatch, runs, unit):
    values = ["02/29/2020", "12/31/9999", "01/01/0001", "13/01/2020"]
    strategy = {"strategy": "generalize", "truncate": unit, "format": "%m/%d/%Y",
                "output": "date", "on_invalid": "null"}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    assert masked[-1] == ""


TEXT = [
    "Zürich",
    "Zu\u0308rich",          # the same name with a combining diaeresis
    "e\u0301\u0301abc",      # two combining acute accents on one letter
    "日本語テキスト",
    "😀😀😀",
    "a\u200db",              # a zero-width joiner
    "ab",
    "  x",
    "",
]


@pytest.mark.parametrize("mask_char", [None, "ü", '"', ",", ";"])
@pytest.mark.parametrize("prefix", [0, 1, 2, 3])
def test_prefix_same_as_batches(tmp_path, monkeypatch, runs, prefix, mask_char):
    strategy: dict = {"strategy": "generalize", "prefix": prefix}
    if mask_char is not None:
        strategy["mask_char"] = mask_char
    same_on_both_paths(tmp_path, monkeypatch, TEXT, strategy)
    same_on_both_paths(tmp_path, monkeypatch, TEXT, strategy, output_delimiter=";")


def test_prefix_counts_characters_as_seen(tmp_path, monkeypatch, runs):
    """A letter with its combining marks is one character, kept or masked whole."""
    strategy = {"strategy": "generalize", "prefix": 2}
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, TEXT, strategy))
    assert masked == ["Zü****", "Zu\u0308****", "e\u0301\u0301a**", "日本*****", "😀😀*",
                      "a\u200db", "ab", "  *", ""]


def test_hierarchy_file_same_as_batches(tmp_path, monkeypatch, runs):
    """Labels with quotes, line breaks and delimiters are written quoted on both paths."""
    hierarchy = tmp_path / "places.csv"
    hierarchy.write_text('value,level1\nParis,"Île, ""de"" France"\nLyon,"multi\nline"\n'
                         "Nice, spaced \nRome,\n", encoding="utf-8")
    values = ["Paris", "Lyon", "Nice", "Rome", "Oslo", "Zu\u0308rich", ""]
    strategy = {"strategy": "generalize", "hierarchy": str(hierarchy), "level": 1,
                "fallback": 'a,"b"'}
    for output_delimiter in [",", ";", "\t"]:
        output = same_on_both_paths(tmp_path, monkeypatch, values, strategy,
                                    output_delimiter=output_delimiter)
        assert isinstance(output, bytes)
    masked = masked_values(same_on_both_paths(tmp_path, monkeypatch, values, strategy))
    assert masked == ['Île, "de" France', "multi\nline", " spaced ", "", 'a,"b"', 'a,"b"', ""]


def test_hierarchy_without_fallback_names_record(tmp_path, monkeypatch, runs):
    hierarchy = tmp_path / "places.csv"
    hierarchy.write_text("value;level1;level2\nParis;Île-de-France;France\n", encoding="utf-8")
    strategy = {"strategy": "generalize", "hierarchy": str(hierarchy), "level": 2}
    output = same_on_both_paths(tmp_path, monkeypatch, ["Paris", SECRET], strategy)
    assert output == ("RecordError: record 2, field `v`: not a value listed in the hierarchy; "
                      "fix the data, or set on_invalid: null or keep in the policy")


ERROR_CASES = {
    # name: strategy that rejects SECRET
    "number noise": {"strategy": "noise", "scale": 1, "seed": 1},
    "date noise": {"strategy": "noise", "days": 3, "seed": 1},
    "formatted date noise": {"strategy": "noise", "days": 3, "seed": 1, "format": "%d.%m.%Y"},
    "offset date noise": {"strategy": "noise", "days": 3, "seed": 1,
                          "format": "%Y-%m-%dT%H:%M:%S%z"},
    "interval": {"strategy": "generalize", "interval": 10},
    "truncate": {"strategy": "generalize", "truncate": "month"},
    "hierarchy": {"strategy": "generalize", "hierarchy": {"a": ["b"]}, "level": 1},
}


@pytest.mark.parametrize("strategy", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_error_never_contains_value(tmp_path, monkeypatch, runs, strategy):
    output = same_on_both_paths(tmp_path, monkeypatch, [SECRET], strategy)
    assert isinstance(output, str)
    assert output.startswith("RecordError: record 1, field `v`:")
    assert SECRET not in output
    assert "4471" not in output


def test_seeded_runs_same_in_any_batch_size(tmp_path, monkeypatch, runs):
    """The draws depend on the record number, not on where a batch or query chunk starts."""
    values = [f"{n * 7919 % 100003 - 50000}.{n % 1000:03d}" if n % 7 else str(n * 104729)
              for n in range(5000)]
    values[2500] = "not a number"
    strategy = {"strategy": "noise", "scale": 5, "key": "k", "round": 1, "on_invalid": "null"}
    output = same_on_both_paths(tmp_path, monkeypatch, values, strategy)
    assert runs.handed_over == 0
    source = tmp_path / "in.csv"
    policy = policy_for(strategy)
    assert outcome(source, policy, tmp_path / "query-small.csv", delimiter=",",
                   batch_size=97) == output
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    for batch_size in [1000, 4096]:
        assert outcome(source, policy, tmp_path / f"b{batch_size}.csv", delimiter=",",
                       batch_size=batch_size) == output
    assert masked_values(output)[2500] == ""


def test_cli_noise_same_in_any_batch_size(tmp_path):
    """``maskme mask`` writes the same output with the default batch size, batches of one
    record and standard input."""
    source = tmp_path / "in.csv"
    source.write_text("id,v,d\n1,12.5,2020-02-29T10:00:00+05:30\n2,-3,9999-12-10\n"
                      "3,7,0001-02-01\n", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n"
                      "  v: {strategy: noise, scale: 2, seed: 5, round: 1}\n"
                      "  d: {strategy: noise, days: 20, seed: 5}\n", encoding="utf-8")
    default = run_cli("mask", str(source), "-p", str(policy), "-o", "-")
    tiny = run_cli("mask", str(source), "-p", str(policy), "-o", "-", "--batch-size", "1")
    piped = run_cli("mask", "-", "-f", "csv", "-p", str(policy), "-o", "-",
                    input=source.read_bytes())
    assert default.returncode == 0, default.stderr
    assert tiny.returncode == 0, tiny.stderr
    assert piped.returncode == 0, piped.stderr
    assert tiny.stdout == default.stdout
    assert piped.stdout == default.stdout
    assert default.stdout.startswith(b"id,v,d\n1,")


def test_cli_error_exit_without_value(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(f"id,v\n1,5\n2,{SECRET}\n", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n"
                      "  v: {strategy: generalize, interval: 10}\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    finished = run_cli("mask", str(source), "-p", str(policy), "-o", str(output))
    assert finished.returncode == 1
    assert b"record 2, field `v`: not a number" in finished.stderr
    assert SECRET.encode() not in finished.stderr
    assert finished.stdout == b""
    assert not output.exists()


def test_policy_error_names_hierarchy_line(tmp_path, monkeypatch, runs):
    hierarchy = tmp_path / "places.csv"
    hierarchy.write_text(f"value;level1\n{SECRET};France\n{SECRET};Germany\n", encoding="utf-8")
    strategy = {"strategy": "generalize", "hierarchy": str(hierarchy), "level": 1}
    output = same_on_both_paths(tmp_path, monkeypatch, ["x"], strategy)
    assert isinstance(output, str)
    assert output.startswith("PolicyError:")
    assert "places.csv:3" in output
    assert SECRET not in output

