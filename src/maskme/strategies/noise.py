"""The ``noise`` strategy: add random noise to numbers or shift dates by random days.

Random draws are counter-based: each value's draw is a function of a 64-bit
stream seed (derived from the policy's ``seed`` or key and the field path)
and the record number, mixed with SplitMix64. A record gets the same draw
whichever batch it arrives in. The draws and the noise are Polars
expressions, which both :meth:`Noise.apply` and :meth:`Noise.expression`
evaluate, so the batch path and a whole-file query give the same bytes.
With ``consistent_by``, the draw is a function of the subject's value
instead (for example a patient id), so every record and every field of one
subject gets the same draw.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, localcontext
from typing import Literal, NoReturn

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from maskme.strategies.base import (
    BatchView,
    ColumnExpression,
    Strategy,
    StrategyContext,
    StrategyParams,
    step_name,
)
from maskme.strategies.hash import StrategyKeyError, hmac_sha256_hex
from maskme.strategies.parsing import (
    OnInvalid,
    checked_date_format,
    divide_exactly,
    format_number,
    on_invalid_from_yaml,
    resolve_invalid_expression,
    shift_dates,
    shift_dates_expression,
    with_number_fields,
)
from maskme.strategies.registry import register_strategy

__all__ = [
    "Noise",
    "NoiseParams",
    "splitmix64",
    "splitmix64_expression",
    "unit_uniform",
    "unit_uniform_expression",
]

logger = logging.getLogger(__name__)

Distribution = Literal["laplace", "gaussian", "uniform"]

#: Increment of SplitMix64 (the golden ratio as a 64-bit fraction).
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
#: Labels of the values derived from a key. Each starts with the byte 0xFF, which no
#: UTF-8 text contains, so ``hash`` (which hashes UTF-8 text with the same key) can
#: never publish a digest equal to a noise seed.
_STREAM_LABEL = b"\xffmaskme.noise.stream\x00"
_SUBJECT_KEY_LABEL = b"\xffmaskme.noise.subject"
#: Numbers whose integer output would not fit in 64 bits are reported invalid.
_INTEGER_LIMIT = 2.0**63
#: Digits of the decimal type that writes rounded numbers. One digit is kept spare,
#: so rounding never carries a number past the type's range.
_DECIMAL_DIGITS = 38
#: Significant digits for rounding a bound to the output grid: the largest float
#: (about 1.8e308) with 15 decimal places has 324 digits.
_GRID_PRECISION = 400

_FINITE_NUMBER = "a finite number"

_NUMBER_ONLY = ("relative", "min", "max", "round", "distribution")


def splitmix64(state: np.ndarray) -> np.ndarray:
    """Mix 64-bit integers with the SplitMix64 finalizer (Steele, Lea and Flood, 2014).

    Works on ``uint64`` arrays, whose arithmetic wraps modulo 2**64.
    """
    z = state + _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def unit_uniform(bits: np.ndarray) -> np.ndarray:
    """Map 64-bit integers to floats strictly between 0 and 1, using their top 52 bits.

    52 bits plus one half stay exactly representable in a float64, so the
    result is never rounded to 0 or 1.
    """
    return ((bits >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52


class NoiseParams(StrategyParams):
    """Parameters of ``noise``."""

    distribution: Distribution = Field(
        default="laplace",
        description=(
            "Shape of the number noise; ``scale`` is the Laplace scale b, the Gaussian "
            "standard deviation, or the uniform half-width."
        ),
    )
    scale: float | None = Field(
        default=None, gt=0,
        description=(
            "Noise scale for numbers (absolute, or a fraction of |value| with ``relative: "
            "true``)."
        ),
    )
    relative: bool | float = Field(
        default=False,
        description=(
            "``true`` multiplies ``scale`` by each value's magnitude. A number is that "
            "fraction itself, in place of ``scale``: ``relative: 0.05`` is 5% of |value|."
        ),
    )
    min: float | None = Field(
        default=None,
        description=(
            "Lower bound of the output, after rounding: a number that would round below it "
            "becomes the smallest value at or above it that the rounding can write."
        ),
    )
    max: float | None = Field(
        default=None,
        description=(
            "Upper bound of the output, after rounding: a number that would round above it "
            "becomes the largest value at or below it that the rounding can write."
        ),
    )
    round: int | None = Field(
        default=None, ge=-15, le=15,
        description=(
            "Decimal places kept (negative rounds to tens, hundreds, ...). Integers stay "
            "integers."
        ),
    )
    days: int | None = Field(
        default=None, ge=1, le=3_650_000,
        description=(
            "Dates: shift each date by a whole number of days drawn uniformly from [-days, "
            "days]."
        ),
    )
    format: str | None = Field(
        default=None,
        description="strftime format of the input dates, when they are not ISO 8601.",
    )
    seed: int | None = Field(default=None, description="Seed that makes the draws reproducible.")
    key: str | None = Field(
        default=None,
        description=(
            "Name of a policy key that makes the draws reproducible and unguessable without "
            "it."
        ),
    )
    consistent_by: str | None = Field(
        default=None,
        description="Field path of the subject (e.g. a patient id): one draw per subject.",
    )
    on_invalid: OnInvalid = Field(
        default="error",
        description="Handling of a value that cannot be parsed.",
    )

    _on_invalid_null = field_validator("on_invalid", mode="before")(on_invalid_from_yaml)
    _format_readable = field_validator("format")(checked_date_format)

    @model_validator(mode="after")
    def _one_mode(self) -> NoiseParams:
        fraction = self.relative_fraction
        if fraction is not None:
            if self.scale is not None:
                raise ValueError("give the fraction either as relative: <number> or as scale "
                                 "with relative: true, not both")
            if not 0 < fraction < float("inf"):
                raise ValueError("relative must be true, false or a number greater than 0")
        if self.relative is True and self.scale is None:
            raise ValueError("relative: true needs scale, the fraction of |value|")
        numbers = self.scale is not None or fraction is not None
        if numbers == (self.days is not None):
            raise ValueError("expected either scale or relative (numbers) or days (dates), "
                             "not both or neither")
        if self.days is not None:
            misplaced = [name for name in _NUMBER_ONLY if name in self.model_fields_set]
            if misplaced:
                raise ValueError(f"{', '.join(misplaced)} applies only to numbers (with scale), "
                                 "not to dates (with days)")
        if numbers and self.format is not None:
            raise ValueError("format applies only to dates (with days)")
        if self.min is not None and self.max is not None:
            if self.min > self.max:
                raise ValueError("expected min <= max")
            self._check_integer_within_bounds(self.min, self.max)
        self._check_bounds_within_integer_range()
        if self.seed is not None and self.key is not None:
            raise ValueError("use seed or key, not both")
        if self.consistent_by is not None and self.seed is None and self.key is None:
            raise ValueError(
                "consistent_by needs key or seed, so that a subject gets the same draw in "
                "every batch and field"
            )
        return self

    @property
    def relative_fraction(self) -> float | None:
        """The fraction of |value| given as ``relative: <number>``, or None."""
        if isinstance(self.relative, bool):
            return None
        return float(self.relative)

    @property
    def integer_places(self) -> int:
        """Decimal places of an integer output: 0, or ``round`` when it is negative."""
        return min(self.round, 0) if self.round is not None else 0

    def _check_integer_within_bounds(self, minimum: float, maximum: float) -> None:
        """Reject bounds that contain no value an integer output can take.

        An integer output is a multiple of 10**-integer_places. A decimal
        output is rounded to a finer grid, or not rounded, so bounds that
        contain an integer output contain a decimal output too.
        """
        low, high = _grid_bounds(minimum, maximum, self.integer_places)
        if low is None or high is None or low <= high:
            return
        bounds = f"min {format_number(minimum)} and max {format_number(maximum)}"
        if self.integer_places == 0:
            raise ValueError(f"{bounds} contain no whole number, but noise writes an integer "
                             "value as an integer; widen the bounds to contain one")
        step = 10 ** -self.integer_places
        raise ValueError(f"{bounds} contain no multiple of {step:,}, but round: {self.round} "
                         "rounds every output to one; widen the bounds to contain one")

    def _check_bounds_within_integer_range(self) -> None:
        """Reject a bound that puts every integer output past the 64-bit range.

        With ``min`` at 2**63 or above (or ``max`` at -2**63 or below), each
        integer value would be reported invalid, so such a policy fails as
        bounds that contain no whole number do.
        """
        low, high = _grid_bounds(self.min, self.max, self.integer_places)
        if low is not None and low >= _INTEGER_LIMIT:
            bound = f"min {format_number(low)}"
        elif high is not None and high <= -_INTEGER_LIMIT:
            bound = f"max {format_number(high)}"
        else:
            return
        raise ValueError(f"{bound} leaves no integer output below 2**63 in magnitude, but "
                         "noise writes an integer value as a 64-bit integer; bring the bound "
                         "within the 64-bit range")


@register_strategy(builtin=True)
class Noise(Strategy):
    """Add random noise to numbers, or shift dates by a random number of days.

    Numbers: ``52000`` with ``scale: 500`` may become ``51731``. Integers stay
    integers, other numbers are rounded to ``round`` decimal places when it is
    set, and the output lies within ``min`` and ``max``: a noisy number that
    would round to a value beyond a bound becomes the value nearest that bound,
    inside it, that the rounding can write (an integer 0 with ``min: 0.5``
    gives 1).

    Dates: ``2024-03-15`` with ``days: 30`` becomes a date from
    ``2024-02-14`` to ``2024-04-14``. An ISO 8601 timestamp keeps its time and
    offset text, and only its date part moves. A shift stops at 0001-01-01
    and 9999-12-31, the ends of Python's calendar, in the value's own local
    time, or at 1969-01-01 and 2068-12-31 for a format with ``%y`` and no
    ``%Y``, so that the two-digit year reads back in the right century.

    Draws are reproducible when ``seed`` or ``key`` is set (or the run has a
    seed), and fresh on every run otherwise. A value with no subject
    (``consistent_by`` field null) gets its own per-record draw.

    Notes
    -----
    Noise hides exact values while keeping totals and distributions roughly
    right. Ad-hoc noise is not differential privacy: the scale is not
    calibrated to any sensitivity or privacy budget. Noise drawn afresh for
    each release can be averaged away across releases, so publish repeated
    releases with the same seed or key. A seed written in the policy lets
    anyone with the policy recompute and subtract the noise, while a key does
    not. Clipping and small scales leave extreme values recognizable.
    ``consistent_by`` keeps intervals between a subject's dates, which also
    lets an attacker who knows one true date of a subject recover all of
    them.
    """

    name = "noise"
    Params = NoiseParams
    #: Only with a seed or key; without them each run draws afresh.
    deterministic = False
    reversible = False
    keeps_type = True

    params: NoiseParams

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._stream = self._stream_seed()

    @classmethod
    def requires_key(cls, params: StrategyParams) -> bool:
        return getattr(params, "key", None) is not None

    def required_fields(self) -> list[str]:
        return [self.params.consistent_by] if self.params.consistent_by else []

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        values = values.cast(pl.String)
        records = batch.record_numbers.cast(pl.UInt64)
        if len(records) != len(values):
            raise ValueError(
                f"expected one record number per value, got {len(records)} for {len(values)}"
            )
        columns: dict[str, pl.Series] = {"value": values, "record": records}
        states = _record_states(pl.col("record"), self._stream)
        subject_path = self.params.consistent_by
        if subject_path is not None:
            subjects = batch.column(subject_path).cast(pl.String)
            columns["subject_state"] = self._subject_states(subjects)
            subject_state = pl.col("subject_state")
            states = pl.when(subject_state.is_not_null()).then(subject_state).otherwise(states)
        frame = pl.DataFrame(columns)

        # The batch path evaluates the same expressions as :meth:`expression`, so
        # both give the same bytes, down to Polars' own log1p, log and cos.
        row = self._transform(pl.col("value"), states)
        if row is None:
            return self._shift_dates_in_python(frame, states, values.name)
        fields = frame.select(row.alias("row")).to_series()
        result = fields.struct.field("output").alias(values.name)
        invalid = fields.struct.field("invalid")
        expected = self._expected()
        if self.params.days is None and self.params.on_invalid == "error" and invalid.any():
            # The message names what is wrong with the first invalid value, which the
            # record error reports.
            expected = self._expected_number(fields, invalid.arg_true()[0])
        return self._resolve_invalid(values, invalid, result, expected=expected,
                                     on_invalid=self.params.on_invalid).alias(values.name)

    def expression(self, values: pl.Expr, record_numbers: pl.Expr) -> ColumnExpression | None:
        """Return the noise as expressions; None with ``consistent_by`` or a format Python must read."""
        if self.params.consistent_by is not None:
            return None
        row = self._transform(values, _record_states(record_numbers, self._stream))
        if row is None:
            return None
        # One intermediate column, so that value and failed do not each compute the noise.
        name = step_name(self.context.field_path, "noise")
        fields = pl.col(name).struct
        failed = fields.field("invalid") if self.params.on_invalid == "error" else None
        return ColumnExpression(value=fields.field("output"), failed=failed,
                                steps=((name, row),))

    def _transform(self, values: pl.Expr, states: pl.Expr) -> pl.Expr | None:
        """Build a struct whose field ``output`` is the noisy values and ``invalid`` the invalid mask.

        ``output`` has ``on_invalid: null`` or ``keep`` applied. ``states`` is
        the ``UInt64`` state of each value's draw. None for dates in a format
        that only Python's datetime reads as documented (see ``needs_python``).
        Each step is a field of the struct (see :func:`splitmix64_expression`
        for why).
        """
        row = pl.struct(values.alias("value"), states.alias("state"))
        days = self.params.days
        if days is None:
            row = self._add_noise(row)
        else:
            offsets = _day_offsets(pl.field("state"), days)
            row = row.struct.with_fields(offsets.alias("offset"))
            shifted = shift_dates_expression(pl.field("value"), pl.field("offset"),
                                             self.params.format)
            if shifted is None:
                return None
            # The invalid mask reads the result's field, so that the shift runs once:
            # shift_dates_expression's mask would compute it again.
            row = row.struct.with_fields(shifted[0].alias("result"))
            row = row.struct.with_fields(
                (pl.field("value").is_not_null() & pl.field("result").is_null()).alias("invalid"))
        output = resolve_invalid_expression(pl.field("value"), pl.field("result"),
                                            pl.field("invalid"), self.params.on_invalid)
        return row.struct.with_fields(output.alias("output"))

    def _expected(self) -> str:
        """Describe a valid value, for the message on an invalid one."""
        if self.params.days is None:
            return _FINITE_NUMBER
        if self.params.format is not None:
            return f"a date in the format {self.params.format}"
        return "an ISO 8601 date or timestamp"

    def _expected_number(self, fields: pl.Series, position: int) -> str:
        """Describe what the invalid number at ``position`` of the noise struct fails to be.

        A number that parses can still be unwritable: its noisy value may be too
        large for the output's type, or infinite.
        """
        row = fields[position]
        if row["parse_failed"]:
            return _FINITE_NUMBER
        places = self.params.round
        if row["is_integer"] or (places is not None and places <= 0):
            return ("a number that noise can write as a 64-bit integer (the noisy value must "
                    "stay below 2**63 in magnitude)")
        if places is not None:
            limit = _DECIMAL_DIGITS - 1 - places
            return (f"a number that noise can write with {places} decimal places (the noisy "
                    f"value must stay below 1e{limit} in magnitude)")
        return ("a number whose noisy value is finite (a smaller scale, or min and max, "
                "keeps it finite)")

    # randomness

    def _stream_seed(self) -> np.uint64:
        """Derive the 64-bit seed of this field's per-record draws."""
        params = self.params
        label = _STREAM_LABEL + self.context.field_path.encode("utf-8")
        if params.key is not None:
            if not self.context.key:
                _raise_missing_key(params.key, self.context.field_path)
            digest = hmac.new(self.context.key, label, hashlib.sha256).digest()
        else:
            seed = params.seed if params.seed is not None else self.context.seed
            if seed is None:
                logger.info("field %s: noise is drawn afresh on every run (no seed or key)",
                            self.context.field_path)
                return np.uint64(secrets.randbits(64))
            digest = hashlib.sha256(str(seed).encode("ascii") + b"\x00" + label).digest()
        return np.uint64(int.from_bytes(digest[:8], "big"))

    def _subject_states(self, subjects: pl.Series) -> pl.Series:
        """Derive a ``UInt64`` state per subject value from HMAC(subject key, subject); null without one.

        The subject key is derived from the policy key, or is the seed's text.

        The field path is not part of the message, so two fields with the same
        ``consistent_by``, ``days`` and key or seed shift a subject's dates by
        the same amount.
        """
        params = self.params
        if params.key is not None:
            assert self.context.key is not None
            # A key derived from the policy key, written as hex text for the plugin.
            subject_key = hmac.new(self.context.key, _SUBJECT_KEY_LABEL, hashlib.sha256).hexdigest()
        else:
            subject_key = f"maskme.noise.seed\x00{params.seed}"
        digests = hmac_sha256_hex(subjects.cast(pl.String), subject_key.encode("utf-8"))
        # The first 16 hex digits are the first 8 bytes, read as a big-endian integer.
        return digests.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64, strict=False)

    # numbers

    def _add_noise(self, row: pl.Expr) -> pl.Expr:
        """Add the fields ``result`` (noisy numbers as text, null where invalid) and ``invalid``.

        ``row`` is a struct with the fields ``value`` (the text) and ``state``.
        """
        params = self.params
        row = with_number_fields(row, "number", "parse_failed", "is_integer")
        row = row.struct.with_fields(
            _standard_draws(pl.field("state"), params.distribution).alias("draw"))

        safe = pl.field("number").fill_null(0.0)
        fraction = params.relative_fraction
        if fraction is not None:
            scale = fraction * safe.abs()
        elif params.relative:
            assert params.scale is not None
            scale = params.scale * safe.abs()
        else:
            assert params.scale is not None
            scale = pl.lit(params.scale, dtype=pl.Float64)
        noisy = safe + scale * pl.field("draw")
        if params.min is not None or params.max is not None:
            noisy = noisy.clip(params.min, params.max)
        row = row.struct.with_fields(noisy.alias("noisy"))

        # Rounding can carry a clipped number out of the bounds (0.5 rounds to 0), so the
        # rounded number is clipped again, to the bounds rounded inward to its grid.
        places = params.round
        integer_places = params.integer_places
        as_integer = _clip_to_grid(_round_half_even(pl.field("noisy"), integer_places),
                                   params.min, params.max, integer_places)
        row = row.struct.with_fields(as_integer.alias("as_integer"))
        fits = pl.field("as_integer").abs() < _INTEGER_LIMIT
        row = row.struct.with_fields(fits.alias("fits"))
        integer_text = (
            pl.when(pl.field("fits")).then(pl.field("as_integer")).otherwise(0.0)
            .cast(pl.Int64, strict=False).cast(pl.String)
        )
        row = row.struct.with_fields(integer_text.alias("integer_text"))
        if places is None:
            decimal_text = pl.field("noisy").cast(pl.String)
        elif places <= 0:
            decimal_text = pl.field("integer_text")
        else:
            # Polars 2.1 raises on a number too large for the decimal type, even with
            # strict=False, so larger numbers become null and are reported invalid.
            rounded = _clip_to_grid(_round_half_even(pl.field("noisy"), places),
                                    params.min, params.max, places)
            decimal_text = (
                pl.when(rounded.abs() < 10.0 ** (_DECIMAL_DIGITS - 1 - places)).then(rounded)
                .cast(pl.Decimal(_DECIMAL_DIGITS, places), strict=False)
                .cast(pl.String)
            )
        row = row.struct.with_fields(decimal_text.alias("decimal_text"))

        present = pl.field("number").is_not_null()
        is_integer = pl.field("is_integer")
        out_of_range = present & is_integer & ~pl.field("fits")
        if places is not None and places <= 0:
            out_of_range = out_of_range | (present & ~pl.field("fits"))
        # Noise can overflow a huge number to infinity, which is no number to write.
        unwritable = present & ~is_integer & (
            pl.field("decimal_text").is_null() | ~pl.field("noisy").is_finite()
        )
        row = row.struct.with_fields(
            (pl.field("parse_failed") | out_of_range | unwritable).alias("invalid")
        )
        result = (
            pl.when(~present | pl.field("invalid")).then(None)
            .when(is_integer).then(pl.field("integer_text"))
            .otherwise(pl.field("decimal_text"))
        )
        return row.struct.with_fields(result.alias("result"))

    # dates

    def _shift_dates_in_python(self, frame: pl.DataFrame, states: pl.Expr, name: str
                               ) -> pl.Series:
        """Shift dates in a format that Python must read (see :func:`needs_python`)."""
        assert self.params.days is not None and self.params.format is not None
        values = frame.get_column("value")
        offsets = frame.select(_day_offsets(states, self.params.days)).to_series()
        shifted, invalid = shift_dates(values, offsets, self.params.format)
        return self._resolve_invalid(values, invalid, shifted, expected=self._expected(),
                                     on_invalid=self.params.on_invalid).alias(name)


def _record_states(record_numbers: pl.Expr, stream: np.uint64) -> pl.Expr:
    """Return the ``UInt64`` state of each record's draw: SplitMix64 of the record number and stream."""
    stream_seed = pl.lit(int(stream), dtype=pl.UInt64)
    return splitmix64_expression(splitmix64_expression(record_numbers.cast(pl.UInt64))
                                 .xor(stream_seed))


def splitmix64_expression(state: pl.Expr) -> pl.Expr:
    """Mix ``UInt64`` values with the SplitMix64 finalizer; the expression form of :func:`splitmix64`.

    Polars' ``UInt64`` addition and multiplication wrap modulo 2**64 as numpy's
    do, and floor division by a power of two is the right shift.

    Notes
    -----
    Each step reads the previous one twice (``z ^ (z >> 30)``). Written as
    nested expressions, the tree would double with every step: the number
    noise built that way was 730 kB of expression text, which Polars 2.1
    took over a second to plan. Each step is therefore a new value of the
    field ``z`` of a struct, which the next step reads with ``pl.field``, so
    the tree grows by one node per step.
    """
    z = pl.field("z")
    mixed = pl.struct(state.alias("z"))
    for step in (
        z + _uint64(_GOLDEN_GAMMA),
        z.xor(z // _uint64(2**30)) * _uint64(_MIX_1),
        z.xor(z // _uint64(2**27)) * _uint64(_MIX_2),
        z.xor(z // _uint64(2**31)),
    ):
        mixed = mixed.struct.with_fields(step.alias("z"))
    return mixed.struct.field("z")


def unit_uniform_expression(bits: pl.Expr) -> pl.Expr:
    """Map ``UInt64`` values to floats strictly between 0 and 1; the expression form of :func:`unit_uniform`."""
    return ((bits // _uint64(2**12)).cast(pl.Float64) + 0.5) * 2.0**-52


def _uint64(value: int | np.uint64) -> pl.Expr:
    return pl.lit(int(value), dtype=pl.UInt64)


def _standard_draws(states: pl.Expr, distribution: Distribution) -> pl.Expr:
    """Draw one unit-scale value per state from the distribution, by inverse transform."""
    first = unit_uniform_expression(splitmix64_expression(states))
    if distribution == "uniform":
        return 2.0 * first - 1.0
    if distribution == "laplace":
        centered = pl.struct((first - 0.5).alias("centered"))
        c = pl.field("centered")
        return centered.struct.with_fields(
            (-c.sign() * (-2.0 * c.abs()).log1p()).alias("centered")
        ).struct.field("centered")
    # Box-Muller needs a second, independent uniform from the same state.
    second = unit_uniform_expression(splitmix64_expression(states.xor(_uint64(_MIX_2))))
    return (-2.0 * first.log()).sqrt() * (2.0 * math.pi * second).cos()


def _day_offsets(states: pl.Expr, days: int) -> pl.Expr:
    """Draw a whole number of days uniformly from [-days, days] per state."""
    uniform = unit_uniform_expression(splitmix64_expression(states))
    return (uniform * (2 * days + 1)).floor().cast(pl.Int64) - days


def _round_half_even(numbers: pl.Expr, places: int) -> pl.Expr:
    """Round to ``places`` decimal places, halves to even, as ``numpy.round`` does.

    A negative ``places`` rounds to tens, hundreds and so on: numpy divides by
    the power of ten, rounds, and multiplies back.
    """
    if places >= 0:
        return numbers.round(places, mode="half_to_even")
    factor = 10.0**-places
    return divide_exactly(numbers, factor).round(0, mode="half_to_even") * factor


def _grid_bounds(minimum: float | None, maximum: float | None, places: int
                 ) -> tuple[float | None, float | None]:
    """Round ``minimum`` up and ``maximum`` down to multiples of 10**-places.

    Each bound is read as the decimal number of its shortest text, so a bound
    written on the grid, such as 0.7 with 1 place, is its own grid value
    although the binary float 0.7 lies just below it. The result is None
    where the bound is None, and the low end exceeds the high end when no
    multiple lies within the bounds.
    """
    step = Decimal(1).scaleb(-places)
    with localcontext(Context(prec=_GRID_PRECISION)):
        low = None if minimum is None else float(
            Decimal(repr(minimum)).quantize(step, rounding=ROUND_CEILING))
        high = None if maximum is None else float(
            Decimal(repr(maximum)).quantize(step, rounding=ROUND_FLOOR))
    return low, high


def _clip_to_grid(rounded: pl.Expr, minimum: float | None, maximum: float | None,
                  places: int) -> pl.Expr:
    """Clip numbers rounded to ``places`` to the grid values nearest the bounds, inside them."""
    if minimum is None and maximum is None:
        return rounded
    low, high = _grid_bounds(minimum, maximum, places)
    return rounded.clip(low, high)


def _raise_missing_key(key_name: str, field_path: str) -> NoReturn:
    raise StrategyKeyError(
        f"noise needs the key '{key_name}', but no key was loaded; define it under "
        "keys: and provide its environment variable or file",
        field_path=field_path,
    )
