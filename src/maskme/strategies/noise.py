"""The ``noise`` strategy: add random noise to numbers or shift dates by random days.

Random draws are counter-based: each value's draw is a function of a 64-bit
stream seed (derived from the policy's ``seed`` or key and the field path)
and the record number, mixed with SplitMix64. A record gets the same draw
whichever batch it arrives in, and the whole column is drawn at once with
numpy. With ``consistent_by``, the draw is a function of the subject's value
instead (for example a patient id), so every record and every field of one
subject gets the same draw.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Literal, NoReturn

import numpy as np
import polars as pl
import polars_hash as plh
from pydantic import ConfigDict, Field, field_validator, model_validator

from maskme.strategies.base import BatchView, Strategy, StrategyContext, StrategyParams
from maskme.strategies.hash import StrategyKeyError
from maskme.strategies.parsing import (
    OnInvalid,
    on_invalid_from_yaml,
    parse_numbers,
    shift_dates,
)
from maskme.strategies.registry import register_strategy

__all__ = ["Noise", "NoiseParams", "splitmix64", "unit_uniform"]

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

    model_config = ConfigDict(use_attribute_docstrings=True)

    distribution: Distribution = "laplace"
    """Shape of the number noise; ``scale`` is the Laplace scale b, the Gaussian standard
    deviation, or the uniform half-width."""
    scale: float | None = Field(default=None, gt=0)
    """Noise scale for numbers (absolute, or a fraction of |value| with ``relative: true``)."""
    relative: bool | float = False
    """``true`` multiplies ``scale`` by each value's magnitude. A number is that fraction
    itself, in place of ``scale``: ``relative: 0.05`` is 5% of |value|."""
    min: float | None = None
    """Lower bound the noisy number is clipped to."""
    max: float | None = None
    """Upper bound the noisy number is clipped to."""
    round: int | None = Field(default=None, ge=-15, le=15)
    """Decimal places kept (negative rounds to tens, hundreds, ...). Integers stay integers."""
    days: int | None = Field(default=None, ge=1, le=3_650_000)
    """Dates: shift each date by a whole number of days drawn uniformly from [-days, days]."""
    format: str | None = None
    """strftime format of the input dates, when they are not ISO 8601."""
    seed: int | None = None
    """Seed that makes the draws reproducible."""
    key: str | None = None
    """Name of a policy key that makes the draws reproducible and unguessable without it."""
    consistent_by: str | None = None
    """Field path of the subject (e.g. a patient id): one draw per subject."""
    on_invalid: OnInvalid = "error"
    """Handling of a value that cannot be parsed."""

    _on_invalid_null = field_validator("on_invalid", mode="before")(on_invalid_from_yaml)

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
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("expected min <= max")
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


@register_strategy(builtin=True)
class Noise(Strategy):
    """Add random noise to numbers, or shift dates by a random number of days.

    Numbers: ``52000`` with ``scale: 500`` may become ``51731``. Integers stay
    integers, other numbers are rounded to ``round`` decimal places when it is
    set, and the result is clipped to ``min`` / ``max``. Dates: ``2024-03-15``
    with ``days: 30`` becomes a date from ``2024-02-14`` to ``2024-04-14``. An
    ISO 8601 timestamp keeps its time and offset text, and only its date part
    moves.

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
        states = self._row_states(values, batch)
        if self.params.days is not None:
            return self._shift_dates(values, states, self.params.days)
        return self._add_noise(values, states)

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

    def _row_states(self, values: pl.Series, batch: BatchView) -> np.ndarray:
        """Return one 64-bit state per value: per record, or per subject with consistent_by."""
        records = batch.record_numbers.cast(pl.UInt64).to_numpy().astype(np.uint64)
        if len(records) != len(values):
            raise ValueError(
                f"expected one record number per value, got {len(records)} for {len(values)}"
            )
        states = splitmix64(splitmix64(records) ^ self._stream)
        subject_path = self.params.consistent_by
        if subject_path is None:
            return states
        subjects = batch.column(subject_path).cast(pl.String)
        subject_states, has_subject = self._subject_states(subjects)
        return np.where(has_subject, subject_states, states)

    def _subject_states(self, subjects: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """Derive a 64-bit state per subject value from HMAC(subject key, subject).

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
        digests = pl.DataFrame({"subject": subjects}).select(
            plh.col("subject").chash.hmac_sha256(key=subject_key)
        ).to_series()
        high = digests.str.slice(0, 8).str.to_integer(base=16, strict=False)
        low = digests.str.slice(8, 8).str.to_integer(base=16, strict=False)
        has_subject = digests.is_not_null().to_numpy()
        high_bits = high.fill_null(0).cast(pl.UInt64).to_numpy().astype(np.uint64)
        low_bits = low.fill_null(0).cast(pl.UInt64).to_numpy().astype(np.uint64)
        return (high_bits << np.uint64(32)) | low_bits, has_subject

    # numbers

    def _add_noise(self, values: pl.Series, states: np.ndarray) -> pl.Series:
        params = self.params
        numbers, invalid, is_integer = parse_numbers(values)
        x = numbers.to_numpy().astype(np.float64, copy=False)
        present = ~np.isnan(x)
        safe = np.where(present, x, 0.0)

        fraction = params.relative_fraction
        if fraction is not None:
            scale = fraction * np.abs(safe)
        elif params.relative:
            assert params.scale is not None
            scale = params.scale * np.abs(safe)
        else:
            assert params.scale is not None
            scale = np.full_like(safe, params.scale)
        noisy = safe + scale * self._standard_draws(states, params.distribution)
        if params.min is not None or params.max is not None:
            noisy = np.clip(noisy, params.min, params.max)

        integer = is_integer.to_numpy()
        places = params.round
        integer_places = min(places, 0) if places is not None else 0
        as_integer = np.round(noisy, integer_places)
        fits = np.abs(as_integer) < _INTEGER_LIMIT
        integer_text = pl.Series(np.where(fits, as_integer, 0).astype(np.int64)).cast(pl.String)

        if places is None:
            decimal_text = pl.Series(noisy).cast(pl.String)
        elif places <= 0:
            decimal_text = integer_text
        else:
            decimal_text = pl.Series(np.round(noisy, places)).cast(
                pl.Decimal(38, places), strict=False).cast(pl.String)

        out_of_range = present & integer & ~fits
        if places is not None and places <= 0:
            out_of_range |= present & ~fits
        unwritable = present & ~integer & decimal_text.is_null().to_numpy()
        bad = invalid | pl.Series(out_of_range | unwritable)
        result = pl.select(
            pl.when(~pl.lit(present) | pl.lit(bad)).then(None)
            .when(pl.lit(integer)).then(pl.lit(integer_text))
            .otherwise(pl.lit(decimal_text))
        ).to_series().alias(values.name)
        result = self._resolve_invalid(values, bad, result, expected="a finite number",
                                       on_invalid=params.on_invalid)
        return result.alias(values.name)

    @staticmethod
    def _standard_draws(states: np.ndarray, distribution: Distribution) -> np.ndarray:
        """Draw one unit-scale value per state from the distribution, by inverse transform."""
        first = unit_uniform(splitmix64(states))
        if distribution == "uniform":
            return 2.0 * first - 1.0
        if distribution == "laplace":
            centered = first - 0.5
            return -np.sign(centered) * np.log1p(-2.0 * np.abs(centered))
        # Box-Muller needs a second, independent uniform from the same state.
        second = unit_uniform(splitmix64(states ^ _MIX_2))
        return np.sqrt(-2.0 * np.log(first)) * np.cos(2.0 * np.pi * second)

    # dates

    def _shift_dates(self, values: pl.Series, states: np.ndarray, days: int) -> pl.Series:
        uniform = unit_uniform(splitmix64(states))
        offsets = np.floor(uniform * (2 * days + 1)).astype(np.int64) - days
        shifted, invalid = shift_dates(values, pl.Series(offsets), self.params.format)
        expected = (f"a date in the format {self.params.format}" if self.params.format
                    else "an ISO 8601 date or timestamp")
        result = self._resolve_invalid(values, invalid, shifted, expected=expected,
                                       on_invalid=self.params.on_invalid)
        return result.alias(values.name)


def _raise_missing_key(key_name: str, field_path: str) -> NoReturn:
    raise StrategyKeyError(
        f"noise needs the key '{key_name}', but no key was loaded; define it under "
        "keys: and provide its environment variable or file",
        field_path=field_path,
    )
