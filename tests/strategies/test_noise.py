"""The noise strategy: distributions, reproducibility, batch independence and date shifts."""

import datetime as dt
import hashlib
import hmac
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from maskme.errors import KeyMissingError, PolicyError
from maskme.policy.model import load_policy
from maskme.strategies import InvalidValues, get_strategy
from maskme.strategies.base import BatchView, StrategyContext, record_error_from
from maskme.strategies.noise import Noise, NoiseParams, splitmix64, unit_uniform

KEY = b"noise-test-key-0123456789abcdef"
DRAWS = 100_000


def make(secret=KEY, run_seed=None, **params):
    """Build the strategy; ``secret`` is the loaded key, ``run_seed`` the run's seed."""
    return Noise(NoiseParams(**params),
                 StrategyContext(field_path="field", key=secret, seed=run_seed))


def run(strategy, values, records=None, subjects=None):
    column = pl.Series("field", values, dtype=pl.String)
    numbers = records if records is not None else range(1, len(values) + 1)
    batch = BatchView(
        record_numbers=pl.Series(list(numbers), dtype=pl.Int64),
        column=lambda path: pl.Series(path, subjects, dtype=pl.String),
    )
    result = strategy.apply(column, batch)
    assert result.dtype == pl.String
    assert result.name == "field"
    assert len(result) == len(values)
    return result.to_list()


def draws(distribution, scale=2.0):
    """Noise added to DRAWS zeros written as decimals, so nothing is rounded."""
    strategy = make(distribution=distribution, scale=scale, seed=11)
    return np.array(run(strategy, ["0.0"] * DRAWS), dtype=np.float64)


def test_registered():
    assert get_strategy("noise") is Noise


def test_splitmix64_reference_values():
    # The first two outputs of SplitMix64 started from state 0 (the state advances by
    # the gamma each step), the test vector other SplitMix64 implementations check too.
    states = np.array([0, 0x9E3779B97F4A7C15], dtype=np.uint64)
    assert splitmix64(states).tolist() == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_unit_uniform_open_interval():
    bits = np.array([0, 2**64 - 1], dtype=np.uint64)
    uniform = unit_uniform(bits)
    assert uniform[0] > 0.0
    assert uniform[1] < 1.0


def test_laplace_moments():
    x = draws("laplace", scale=2.0)
    # Laplace(0, b): mean 0, variance 2 b^2 = 8, excess kurtosis 3.
    assert abs(x.mean()) < 0.05
    assert x.var() == pytest.approx(8.0, rel=0.03)
    kurtosis = ((x - x.mean()) ** 4).mean() / x.var() ** 2 - 3
    assert kurtosis == pytest.approx(3.0, abs=0.4)
    assert np.median(np.abs(x)) == pytest.approx(2.0 * np.log(2), rel=0.03)


def test_gaussian_moments():
    x = draws("gaussian", scale=2.0)
    # Normal(0, sigma): mean 0, variance sigma^2 = 4, excess kurtosis 0.
    assert abs(x.mean()) < 0.03
    assert x.var() == pytest.approx(4.0, rel=0.03)
    kurtosis = ((x - x.mean()) ** 4).mean() / x.var() ** 2 - 3
    assert abs(kurtosis) < 0.1
    assert np.mean(np.abs(x) < 2.0) == pytest.approx(0.6827, abs=0.01)


def test_uniform_moments():
    x = draws("uniform", scale=2.0)
    # Uniform(-s, s): mean 0, variance s^2 / 3.
    assert abs(x.mean()) < 0.02
    assert x.var() == pytest.approx(4.0 / 3.0, rel=0.03)
    assert x.min() >= -2.0
    assert x.max() <= 2.0
    assert x.min() < -1.99
    assert x.max() > 1.99


def test_draws_uncorrelated_between_records():
    x = draws("gaussian", scale=1.0)
    correlation = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert abs(correlation) < 0.02


def test_integers_stay_integers():
    values = ["52000", "-3", "0", "007", "+12"]
    result = run(make(scale=500, seed=1), values)
    for text in result:
        assert re.fullmatch(r"-?\d+", text), text


def test_decimals_round_to_places():
    result = run(make(scale=5, seed=1, round=2), ["12.5", "1.10", "3"])
    assert re.fullmatch(r"-?\d+\.\d{2}", result[0])
    assert re.fullmatch(r"-?\d+\.\d{2}", result[1])
    assert re.fullmatch(r"-?\d+", result[2])  # an integer stays an integer


def test_negative_round_to_hundreds():
    result = run(make(scale=500, seed=1, round=-2), ["52000", "12.5"])
    for text in result:
        assert re.fullmatch(r"-?\d+", text)
        assert int(text) % 100 == 0


def test_clipping_bounds():
    values = ["100"] * 2000
    result = np.array(run(make(scale=50, seed=3, min=90, max=120), values), dtype=float)
    assert result.min() == 90
    assert result.max() == 120


def test_relative_scale_proportional():
    values = ["0.0"] * 5000 + ["1000.0"] * 5000
    result = np.array(run(make(scale=0.1, relative=True, seed=2, distribution="gaussian"), values),
                      dtype=float)
    assert np.all(result[:5000] == 0.0)  # |0| * scale is no noise
    assert np.std(result[5000:] - 1000.0) == pytest.approx(100.0, rel=0.05)


def test_relative_fraction_without_scale():
    values = ["1000.0"] * 5000
    strategy = make(relative=0.05, seed=2, distribution="gaussian")
    result = np.array(run(strategy, values), dtype=float)
    # relative: 0.05 is the same as scale: 0.05 with relative: true.
    same = make(scale=0.05, relative=True, seed=2, distribution="gaussian")
    assert run(same, values) == run(strategy, values)
    assert np.std(result - 1000.0) == pytest.approx(50.0, rel=0.05)


def test_null_stays_null():
    assert run(make(scale=1, seed=1), [None, "1", None])[0::2] == [None, None]
    assert run(make(days=3, seed=1), [None])[0] is None


def test_seed_reproducible_and_distinct():
    values = [str(v) for v in range(50)]
    first = run(make(scale=10, seed=42), values)
    assert run(make(scale=10, seed=42), values) == first
    assert run(make(scale=10, seed=43), values) != first


def test_run_seed_used_when_policy_has_none():
    values = [str(v) for v in range(50)]
    first = run(make(scale=10, run_seed=7), values)
    assert run(make(scale=10, run_seed=7), values) == first
    assert run(make(scale=10, run_seed=8), values) != first
    # A seed in the policy wins over the run's seed.
    assert run(make(scale=10, seed=3, run_seed=7), values) == run(make(scale=10, seed=3), values)


def test_key_reproducible_and_key_dependent():
    values = [str(v) for v in range(50)]
    first = run(make(scale=10, key="main"), values)
    assert run(make(scale=10, key="main"), values) == first
    assert run(make(scale=10, key="main", secret=KEY[::-1]), values) != first


def test_key_derived_seed_not_a_hash_digest():
    # hash hashes UTF-8 text, and the noise labels start with the byte 0xFF, so no
    # context and value given to hash reproduce the seed of a field's draws.
    strategy = make(scale=10, key="main")
    # What hash writes for the value "field" with context "maskme.noise.stream".
    hashed = hmac.new(KEY, b"maskme.noise.stream\x00field", hashlib.sha256).digest()
    assert int.from_bytes(hashed[:8], "big") != int(strategy._stream)
    expected = hmac.new(KEY, b"\xffmaskme.noise.stream\x00field", hashlib.sha256).digest()
    assert int.from_bytes(expected[:8], "big") == int(strategy._stream)


def test_fresh_without_seed_or_key():
    values = [str(v) for v in range(50)]
    assert run(make(scale=10), values) != run(make(scale=10), values)


def test_missing_key_rejected():
    with pytest.raises(KeyMissingError, match="noise needs the key 'main'"):
        Noise(NoiseParams(scale=1, key="main"), StrategyContext(field_path="income"))
    assert Noise.requires_key(NoiseParams(scale=1, key="main"))
    assert not Noise.requires_key(NoiseParams(scale=1, seed=1))


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.sampled_from(["laplace", "gaussian", "uniform"]))
def test_batch_size_independent(batch_size, distribution):
    values = [f"{v}.5" for v in range(120)]
    strategy = make(scale=3, seed=9, distribution=distribution)
    whole = run(strategy, values)
    pieces = []
    for start in range(0, len(values), batch_size):
        chunk = values[start:start + batch_size]
        pieces += run(strategy, chunk, records=range(start + 1, start + 1 + len(chunk)))
    assert pieces == whole


def test_date_shift_batch_size_independent():
    values = ["2024-03-15"] * 100
    strategy = make(days=10, seed=5)
    whole = run(strategy, values)
    pieces = run(strategy, values[:37], records=range(1, 38)) + run(
        strategy, values[37:], records=range(38, 101))
    assert pieces == whole


def test_date_shift_range_and_spread():
    values = ["2024-03-15"] * 20_000
    result = run(make(days=3, seed=5), values)
    offsets = [(dt.date.fromisoformat(v) - dt.date(2024, 3, 15)).days for v in result]
    counts = np.bincount(np.array(offsets) + 3)
    # All seven offsets from -3 to 3 occur, each about 1/7 of the time.
    assert len(counts) == 7
    assert np.all(np.abs(counts / len(values) - 1 / 7) < 0.015)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-15T10:00:00+02:00",
        "2024-03-15T10:00:00Z",
        "2024-03-15 23:59",
        "2024-03-15T10:00:00.123456-05:30",
        "2024-03-15T07",
    ],
)
def test_timestamp_keeps_time_and_offset(value):
    [result] = run(make(days=400, seed=8), [value])
    assert result[10:] == value[10:]
    assert dt.date.fromisoformat(result[:10]) != dt.date(2024, 3, 15)
    assert abs((dt.date.fromisoformat(result[:10]) - dt.date(2024, 3, 15)).days) <= 400


def test_date_strftime_format():
    [result] = run(make(days=30, seed=3), ["2024-03-15"])
    shift = dt.date.fromisoformat(result) - dt.date(2024, 3, 15)
    [formatted] = run(make(days=30, seed=3, format="%d/%m/%Y %H:%M"), ["15/03/2024 10:00"])
    expected = (dt.datetime(2024, 3, 15, 10, 0) + shift).strftime("%d/%m/%Y %H:%M")
    assert formatted == expected


def test_date_strftime_format_with_offset_keeps_offset():
    [result] = run(make(days=30, seed=3, format="%d/%m/%Y %H:%M %z"), ["15/03/2024 23:30 -0500"])
    assert result.endswith(" 23:30 -0500")


@pytest.mark.parametrize(
    ("value", "date_format"),
    [
        ("9999-12-31", None),
        # Past 9999 in UTC, but the local date is what moves and what stops.
        ("9999-12-31T23:00:00-05:00", None),
        ("9999-12-31 23:59:59.999999Z", None),
        ("31/12/9999", "%d/%m/%Y"),
        ("9999-12-31 23:00", "%Y-%m-%d %H:%M"),
        ("31/12/9999 23:00 -0500", "%d/%m/%Y %H:%M %z"),  # Python's datetime, not Polars
    ],
)
def test_date_shift_stops_at_last_day(value, date_format):
    # Seed 3 draws shifts of both signs for these 40 records.
    result = run(make(days=30, seed=3, format=date_format), [value] * 40)
    parse = (dt.datetime.fromisoformat if date_format is None
             else lambda text: dt.datetime.strptime(text, date_format))
    moments = [parse(text) for text in result]
    original = parse(value)
    assert all(moment <= original for moment in moments)
    assert sum(moment == original for moment in moments) > 10  # every shift forward stops
    assert len(set(moments)) > 10
    assert all(moment.time() == original.time() for moment in moments)
    assert all(moment.tzinfo == original.tzinfo for moment in moments)


@pytest.mark.parametrize(
    ("value", "date_format"),
    [
        ("0001-01-01", None),
        ("0001-01-01T00:30:00+14:00", None),
        ("01/01/0001", "%d/%m/%Y"),
        ("01/01/0001 00:30 +1400", "%d/%m/%Y %H:%M %z"),
    ],
)
def test_date_shift_stops_at_first_day(value, date_format):
    result = run(make(days=30, seed=3, format=date_format), [value] * 40)
    parse = (dt.datetime.fromisoformat if date_format is None
             else lambda text: dt.datetime.strptime(text, date_format))
    moments = [parse(text) for text in result]
    assert all(moment >= parse(value) for moment in moments)
    assert sum(moment == parse(value) for moment in moments) > 10


def test_year_0000_moves_into_calendar():
    # Polars reads the ISO 8601 year 0000, which Python's date cannot hold.
    result = run(make(days=30, seed=3), ["0000-06-15"] * 20)
    assert all(dt.date.fromisoformat(text) == dt.date(1, 1, 1) for text in result)


def test_early_year_written_with_four_digits():
    # glibc's strftime writes the year 100 as "100"; the offset format goes through Python.
    date_format = "%d/%m/%Y %H:%M %z"
    result = run(make(days=30, seed=3, format=date_format), ["15/06/0100 10:00 +0100"] * 20)
    for text in result:
        assert re.fullmatch(r"\d{2}/\d{2}/0100 10:00 \+0100", text), text
        assert dt.datetime.strptime(text, date_format).year == 100


def test_consistent_by_preserves_intervals():
    patients = [f"P{n % 40}" for n in range(400)]
    admissions = [(dt.date(2024, 1, 1) + dt.timedelta(days=n % 97)).isoformat() for n in range(400)]
    discharges = [(dt.date.fromisoformat(a) + dt.timedelta(days=n % 5)).isoformat()
                  for n, a in enumerate(admissions)]
    admitted = run(make(days=30, consistent_by="patient_id", key="main"),
                   admissions, subjects=patients)
    # A second field, with its own strategy instance and field path, shifts by the same amount.
    discharge_strategy = Noise(NoiseParams(days=30, consistent_by="patient_id", key="main"),
                               StrategyContext(field_path="discharge", key=KEY))
    discharged = run(discharge_strategy, discharges, subjects=patients)

    shifts: dict[str, set[int]] = {}
    for patient, before, after in zip(patients, admissions, admitted):
        delta = (dt.date.fromisoformat(after) - dt.date.fromisoformat(before)).days
        shifts.setdefault(patient, set()).add(delta)
    assert all(len(deltas) == 1 for deltas in shifts.values())
    assert len({next(iter(d)) for d in shifts.values()}) > 10  # subjects differ

    for n in range(400):
        original = (dt.date.fromisoformat(discharges[n]) - dt.date.fromisoformat(admissions[n])).days
        released = (dt.date.fromisoformat(discharged[n]) - dt.date.fromisoformat(admitted[n])).days
        assert released == original


def test_consistent_by_with_seed_is_batch_independent():
    strategy = make(days=30, consistent_by="patient_id", seed=4)
    values = ["2024-03-15", "2024-03-15", "2024-03-15"]
    first = run(strategy, values, subjects=["a", "b", "a"])
    later = run(strategy, values[:1], records=[900], subjects=["a"])
    assert first[0] == first[2]
    assert later[0] == first[0]


def test_consistent_by_declares_required_field():
    assert make(days=3, consistent_by="patient.id", seed=1).required_fields() == ["patient.id"]
    assert make(days=3, seed=1).required_fields() == []


def test_consistent_by_null_subject_gets_record_draw():
    strategy = make(scale=10, consistent_by="patient_id", seed=4)
    result = run(strategy, ["1.0", "1.0", "1.0"], subjects=[None, "a", None])
    assert result[0] != result[2]


def test_consistent_by_numbers():
    strategy = make(scale=10, consistent_by="patient_id", seed=4)
    result = run(strategy, ["1.0", "1.0", "1.0"], subjects=["a", "b", "a"])
    assert result[0] == result[2]
    assert result[0] != result[1]


def test_invalid_numbers_error_positions():
    with pytest.raises(InvalidValues) as caught:
        run(make(scale=1, seed=1), ["1", "one", None, "nan", "inf", "2"])
    assert caught.value.positions == [1, 3, 4]
    assert caught.value.expected == "a finite number"


def test_invalid_number_record_error_message():
    strategy = make(scale=1, seed=1)
    with pytest.raises(InvalidValues) as caught:
        run(strategy, ["1", "12-34-5678", "2", "n/a"], records=[1001, 1002, 1003, 1004])
    error = record_error_from(caught.value, pl.Series([1001, 1002, 1003, 1004]), "income")
    message = str(error)
    assert message.startswith("record 1,002, field `income`: not a finite number (1 more in this batch)")
    assert "12-34-5678" not in message
    assert error.record == 1002


def test_invalid_numbers_null_or_keep():
    assert run(make(scale=1, seed=1, on_invalid="null"), ["n/a"]) == [None]
    assert run(make(scale=1, seed=1, on_invalid="keep"), ["n/a"]) == ["n/a"]


def test_on_invalid_yaml_null():
    # YAML loads an unquoted `on_invalid: null` as None.
    assert NoiseParams(scale=1, on_invalid=None).on_invalid == "null"


def test_integer_overflow_invalid():
    with pytest.raises(InvalidValues) as caught:
        run(make(scale=1, seed=1), ["1", "99999999999999999999"])
    assert caught.value.positions == [1]


INTEGER_RANGE = ("a number that noise can write as a 64-bit integer (the noisy value must stay "
                 "below 2**63 in magnitude)")
DECIMAL_RANGE = ("a number that noise can write with 2 decimal places (the noisy value must stay "
                 "below 1e35 in magnitude)")
FINITE_NOISE = ("a number whose noisy value is finite (a smaller scale, or min and max, keeps it "
                "finite)")


@pytest.mark.parametrize(
    ("params", "values", "expected"),
    [
        # One past the largest Int64: finite, but not writable as an integer.
        ({"scale": 1}, ["9223372036854775808"], INTEGER_RANGE),
        ({"scale": 1}, ["-9223372036854775809"], INTEGER_RANGE),
        # Within the range, but the noise carries some of them past.
        ({"scale": 1e6}, ["9223372036854775807"] * 8, INTEGER_RANGE),
        # round: 0 writes a decimal as an integer too.
        ({"scale": 1, "round": 0}, ["1e19"], INTEGER_RANGE),
        ({"scale": 1, "round": 2}, ["1e40"], DECIMAL_RANGE),
        ({"relative": 1e300}, ["1.5e308"], FINITE_NOISE),
        # The message is about the first invalid value of the batch.
        ({"scale": 1}, ["n/a", "9223372036854775808"], "a finite number"),
        ({"scale": 1}, ["9223372036854775808", "n/a"], INTEGER_RANGE),
    ],
)
def test_unwritable_number_message(params, values, expected):
    with pytest.raises(InvalidValues) as caught:
        run(make(seed=1, **params), ["1.5", *values])
    assert caught.value.expected == expected
    assert caught.value.positions[0] >= 1


def test_integer_range_record_error_message():
    with pytest.raises(InvalidValues) as caught:
        run(make(scale=1, seed=1), ["9223372036854775808"], records=[1204])
    message = str(record_error_from(caught.value, pl.Series([1204]), "income"))
    assert message == ("record 1,204, field `income`: not a number that noise can write as a "
                       "64-bit integer (the noisy value must stay below 2**63 in magnitude); "
                       "fix the data, or set on_invalid: null or keep in the policy")
    assert "9223372036854775808" not in message


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        # Integer 0 clipped to 0.5 would round back to 0, below min: the nearest integer
        # inside the bounds is 1.
        ("0", {"min": 0.5}, "1"),
        ("10", {"max": 9.5}, "9"),
        # 1.25 rounds half to even to 1.2, below min: the nearest tenth inside is 1.3.
        ("1.0", {"min": 1.25, "round": 1}, "1.3"),
        # A bound on the grid is reached exactly, although the float 0.7 is below 0.7.
        ("0.1", {"min": 0.7, "max": 1.2, "round": 1}, "0.7"),
        ("5.0", {"min": 0.7, "max": 1.2, "round": 1}, "1.2"),
        ("40", {"min": 150, "round": -2}, "200"),
        ("4000", {"max": 3150, "round": -2}, "3100"),
        # An integer stays an integer with round > 0: 1, not 0.5.
        ("0", {"min": 0.5, "round": 2}, "1"),
        # Without round, a decimal number is clipped to the bound itself.
        ("0.1", {"min": 0.55}, "0.55"),
    ],
)
def test_bounds_after_rounding(value, params, expected):
    assert run(make(scale=0.01, seed=1, **params), [value] * 6) == [expected] * 6


def test_bounds_without_integer_rejected_on_load():
    policy = ("version: 1\n"
              "default: keep\n"
              "fields:\n"
              "  ratio: {strategy: noise, scale: 0.1, min: 0.25, max: 0.75, round: 2, seed: 1}\n")
    with pytest.raises(PolicyError, match=r"policy:4 \(fields.ratio\): .*min 0.25 and max "
                                          r"0.75 contain no whole number.*widen the bounds"):
        load_policy(policy)


@pytest.mark.parametrize("strategy", [
    "{strategy: noise, days: 30, seed: 1",
    "{strategy: generalize, truncate: year",
])
@pytest.mark.parametrize("date_format", ["%H:%M", "%H:%M:%S%z", "%%d %I %p"])
def test_format_without_date_rejected(strategy, date_format):
    """A time-only format would leave every value unchanged, so the policy is rejected."""
    policy = f"version: 1\ndefault: keep\nfields:\n  at: {strategy}, format: '{date_format}'}}\n"
    with pytest.raises(PolicyError, match=r"policy:4 \(fields.at.format\): .*reads no date"):
        load_policy(policy)


@pytest.mark.parametrize(("date_format", "directive"), [("%x", "%x"), ("%c", "%c"),
                                                        ("%Y %x", "%x")])
def test_format_in_locale_layout_rejected(date_format, directive):
    """%x and %c contain a date, so the message names the locale, not a missing date."""
    policy = f"version: 1\ndefault: keep\nfields:\n  at: {{strategy: noise, days: 3, seed: 1, format: '{date_format}'}}\n"
    with pytest.raises(PolicyError, match=rf"fields.at.format\): .*{directive} writes a date "
                                          r"in the layout of the locale"):
        load_policy(policy)


def test_format_not_read_back_rejected():
    """%G needs %V and a weekday to be read back, so Python's strptime rejects it alone."""
    policy = ("version: 1\ndefault: keep\nfields:\n"
              "  at: {strategy: noise, days: 3, seed: 1, format: '%G-W%V'}\n")
    with pytest.raises(PolicyError, match=r"fields.at.format\): .*cannot read dates back"):
        load_policy(policy)


@pytest.mark.parametrize("date_format",
                         ["%Y", "%m-%d", "%d.%m.%y %H:%M", "%G-W%V-%u", "%j", "%Y-%m-%dT%H:%M%z"])
def test_format_with_date_accepted(date_format):
    policy = f"version: 1\ndefault: keep\nfields:\n  at: {{strategy: noise, days: 3, seed: 1, format: '{date_format}'}}\n"
    assert load_policy(policy).fields["at"].params.format == date_format


@pytest.mark.parametrize("value", ["2024-02-30", "15/03/2024", "2024-03-15T25:00", "soon"])
def test_invalid_dates_error(value):
    with pytest.raises(InvalidValues) as caught:
        run(make(days=3, seed=1), ["2024-03-15", value])
    assert caught.value.positions == [1]
    assert caught.value.expected == "an ISO 8601 date or timestamp"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "expected either scale or relative .numbers. or days .dates."),
        ({"relative": True}, "relative: true needs scale"),
        ({"relative": 0.05, "scale": 1}, "not both"),
        ({"relative": -0.5}, "number greater than 0"),
        ({"relative": 0.05, "days": 3}, "not both or neither"),
        ({"scale": 1, "days": 3}, "not both or neither"),
        ({"scale": 0}, "greater than 0"),
        ({"days": 0}, "greater than or equal to 1"),
        ({"days": 3, "round": 0}, "round applies only to numbers"),
        ({"days": 3, "distribution": "gaussian"}, "distribution applies only to numbers"),
        ({"scale": 1, "format": "%d"}, "format applies only to dates"),
        ({"scale": 1, "min": 5, "max": 1}, "expected min <= max"),
        # An integer stays an integer, so the bounds must contain one.
        ({"scale": 1, "min": 0.5, "max": 0.7}, "min 0.5 and max 0.7 contain no whole number"),
        ({"scale": 1, "min": 0.5, "max": 0.7, "round": 2}, "contain no whole number"),
        ({"scale": 1, "min": 110, "max": 190, "round": -2},
         "min 110 and max 190 contain no multiple of 100, but round: -2"),
        # Every integer output would lie past the 64-bit range, so none could be written.
        ({"scale": 1, "min": 1e19}, r"min 1e\+19 leaves no integer output below 2\*\*63"),
        ({"scale": 1, "min": 1e19, "max": 2e19}, "leaves no integer output below 2"),
        ({"scale": 1, "max": -2**63}, r"max -9.223372036854776e\+18 leaves no integer output"),
        ({"scale": 1, "min": 2**63 - 8}, "min 9.223372036854776e"),  # 2**63 as a float
        ({"scale": 1, "seed": 1, "key": "main"}, "use seed or key, not both"),
        ({"days": 3, "consistent_by": "patient_id"}, "consistent_by needs key or seed"),
        ({"scale": 1, "distribution": "cauchy"}, "distribution"),
        ({"scale": 1, "sigma": 2}, "sigma"),
    ],
)
def test_params_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        NoiseParams(**params)


_DATE_TEXTS = st.one_of(
    st.none(),
    st.dates().map(lambda day: day.strftime("%Y-%m-%d")),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),  # 2021-13-45 and other invalid dates
    st.sampled_from(["2021-01-02T10:00", "2021-01-02 10:00:00Z", "20210102", ""]),
)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_DATE_TEXTS, max_size=20))
def test_split_iso_plain_dates_match_full_pattern(texts: list[str | None]) -> None:
    from maskme.strategies.parsing import ISO_DATE_PATTERN, _split_iso

    values = pl.Series("d", texts, dtype=pl.String)
    dates, rest = _split_iso(values)
    groups = values.str.extract_groups(ISO_DATE_PATTERN)
    expected_dates = groups.struct.field("1").str.to_date("%Y-%m-%d", strict=False)
    expected_rest = groups.struct.field("2")
    # As text, because Python's date cannot hold the year 0000 that Polars parses.
    assert dates.cast(pl.String).to_list() == expected_dates.cast(pl.String).to_list()
    assert rest.to_list() == expected_rest.to_list()
