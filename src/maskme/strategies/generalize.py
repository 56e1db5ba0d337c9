"""The ``generalize`` strategy: replace values by coarser ones.

One rule uses exactly one mode: numeric intervals (``interval`` or
``breaks``), top and bottom coding (``top`` / ``bottom``, alone or with
intervals), date truncation (``truncate``), prefix truncation (``prefix``) or a
value hierarchy (``hierarchy`` with ``level``).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import ConfigDict, Field, field_validator, model_validator

from maskme.strategies.base import BatchView, Strategy, StrategyContext, StrategyParams
from maskme.strategies.hierarchy import Hierarchy, HierarchyError, load_hierarchy
from maskme.strategies.parsing import (
    OnInvalid,
    decimal_places,
    format_number,
    local_dates,
    on_invalid_from_yaml,
    parse_numbers,
)
from maskme.strategies.redact import graphemes, needs_grapheme_fallback
from maskme.strategies.registry import register_strategy

__all__ = ["Generalize", "GeneralizeParams"]

TruncateUnit = Literal["year", "quarter", "month", "week", "day"]

#: Modes of which a rule uses exactly one (top/bottom may join interval or breaks).
_MODES = ("interval", "breaks", "truncate", "prefix", "hierarchy")

#: Parameters that belong to one mode only.
_MODE_OF_PARAMETER = {
    "origin": "interval",
    "output": "truncate",
    "format": "truncate",
    "mask_char": "prefix",
    "level": "hierarchy",
    "fallback": "hierarchy",
    "delimiter": "hierarchy",
}


class GeneralizeParams(StrategyParams):
    """Parameters of ``generalize``."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    interval: float | None = Field(default=None, gt=0)
    """Width of equal numeric intervals, e.g. 10 for ``[20, 30)``."""
    origin: float | None = None
    """A boundary every interval is aligned to (default 0)."""
    breaks: tuple[float, ...] | None = None
    """Increasing interval boundaries; values below the first or at/above the last get ``<b0``
    and ``>=bn``."""
    top: float | None = None
    """Values above ``top`` become ``top`` (alone) or the label ``>=top`` (with intervals)."""
    bottom: float | None = None
    """Values below ``bottom`` become ``bottom`` (alone) or the label ``<bottom`` (with
    intervals)."""
    truncate: TruncateUnit | None = None
    """Period a date or timestamp is truncated to."""
    output: Literal["label", "date"] | None = None
    """``label`` writes ``1990-Q2`` style labels, ``date`` the first day of the period."""
    format: str | None = None
    """strftime format of the input dates, when they are not ISO 8601."""
    prefix: int | None = Field(default=None, ge=0)
    """Number of leading characters kept; the others are replaced by ``mask_char``."""
    mask_char: str | None = None
    """The character that replaces the characters after the prefix."""
    hierarchy: str | dict[str, list[str]] | None = None
    """A hierarchy CSV file (relative to the policy's folder) or ``{value: [level1, ...]}``."""
    level: int | None = Field(default=None, ge=0)
    """Hierarchy level to generalize to, 1-based; 0 keeps the raw value."""
    fallback: str | None = None
    """Label for values the hierarchy does not list (without it they are invalid)."""
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    """Cell separator of the hierarchy file (default: ``;`` or ``,``, detected)."""
    on_invalid: OnInvalid = "error"
    """Handling of a value that cannot be parsed or is missing from the hierarchy."""

    _on_invalid_null = field_validator("on_invalid", mode="before")(on_invalid_from_yaml)

    @field_validator("breaks")
    @classmethod
    def _increasing(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        if len(value) == 0:
            raise ValueError("expected at least one boundary")
        if any(not math.isfinite(bound) for bound in value):
            raise ValueError("expected finite numbers")
        if any(later <= earlier for earlier, later in itertools.pairwise(value)):
            raise ValueError("expected strictly increasing boundaries")
        return value

    @field_validator("mask_char")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(graphemes(value)) != 1 or not value.isprintable()):
            raise ValueError("expected exactly one printable user-visible character")
        return value

    @field_validator("hierarchy", mode="before")
    @classmethod
    def _integers_as_text(cls, value: object) -> object:
        # YAML reads an unquoted 29 as an integer; the values being matched are text.
        if not isinstance(value, dict):
            return value
        return {_as_text(raw): [_as_text(label) for label in labels]
                if isinstance(labels, list) else labels for raw, labels in value.items()}

    @field_validator("hierarchy")
    @classmethod
    def _inline_hierarchy_valid(
        cls, value: str | dict[str, list[str]] | None
    ) -> str | dict[str, list[str]] | None:
        if isinstance(value, dict):
            try:
                Hierarchy.from_mapping(value)
            except HierarchyError as error:
                raise ValueError(error.problems[0].message) from None
        elif isinstance(value, str) and value.strip() == "":
            raise ValueError("expected a file path or a mapping {value: [level1, ...]}")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> GeneralizeParams:
        chosen = [mode for mode in _MODES if getattr(self, mode) is not None]
        coding = [name for name in ("top", "bottom") if getattr(self, name) is not None]
        if len(chosen) > 1:
            raise ValueError(f"expected one generalization mode, got {', '.join(chosen)}")
        if not chosen and not coding:
            raise ValueError(
                "expected one generalization mode: interval, breaks, top/bottom, truncate, "
                "prefix or hierarchy"
            )
        if coding and chosen and chosen[0] not in ("interval", "breaks"):
            raise ValueError(f"{' and '.join(coding)} can only be combined with interval or breaks, "
                             f"not with {chosen[0]}")
        if self.top is not None and self.bottom is not None and self.bottom >= self.top:
            raise ValueError("expected bottom < top")
        for parameter, mode in _MODE_OF_PARAMETER.items():
            if getattr(self, parameter) is not None and mode not in chosen:
                raise ValueError(f"{parameter} applies only with {mode}")
        if self.hierarchy is not None:
            if self.level is None:
                raise ValueError("hierarchy needs level (1 for the first generalization level)")
            if isinstance(self.hierarchy, dict) and self.delimiter is not None:
                raise ValueError("delimiter applies only to a hierarchy file")
            if isinstance(self.hierarchy, dict):
                levels = len(next(iter(self.hierarchy.values()))) + 1
                if self.level >= levels:
                    raise ValueError(
                        f"level {self.level} does not exist; expected 0 (raw) to {levels - 1}"
                    )
        return self


def _as_text(value: object) -> object:
    """Write an integer as text; leave anything else for validation to judge."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


@register_strategy(builtin=True)
class Generalize(Strategy):
    """Replace each value by a coarser one: an interval, a period, a prefix or a hierarchy label.

    Examples:

    - ``37`` with ``interval: 10`` becomes ``[30, 40)``, and ``-5`` becomes ``[-10, 0)``.
    - With ``breaks: [18, 65]``, ``12`` becomes ``<18`` and ``70`` becomes ``>=65``.
    - ``95`` with ``top: 90`` alone becomes ``90``.
    - ``1990-04-05T23:30:00-05:00`` with ``truncate: month`` becomes ``1990-04``,
      from the local date, never converted to UTC.
    - ``02139`` with ``prefix: 3`` becomes ``021**``.
    - ``Cambodia`` with a country hierarchy at level 1 becomes ``Asia``.

    Notes
    -----
    Generalization makes values shared by more records, which is what
    k-anonymity and related models need, and it keeps the values truthful
    (the true age lies in the released interval). On its own it guarantees no
    privacy level: a rare interval, period or label still singles a person
    out, so measure or enforce a privacy target on the quasi-identifiers.
    Top and bottom coding hide extreme values, which are often the most
    identifying. Prefix truncation keeps values no longer than the prefix
    whole.
    """

    name = "generalize"
    Params = GeneralizeParams
    deterministic = True
    reversible = False
    keeps_type = False

    params: GeneralizeParams

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self.hierarchy: Hierarchy | None = None
        hierarchy = self.params.hierarchy
        if isinstance(hierarchy, dict):
            self.hierarchy = Hierarchy.from_mapping(hierarchy)
        elif isinstance(hierarchy, str):
            path = Path(hierarchy)
            if not path.is_absolute():
                path = context.base_dir / path
            self.hierarchy = load_hierarchy(path, delimiter=self.params.delimiter)
        if self.hierarchy is not None:
            level = self.params.level
            assert level is not None  # the params validator requires it
            if level >= self.hierarchy.level_count:
                raise HierarchyError(
                    f"level {level} does not exist; expected 0 (raw) to "
                    f"{self.hierarchy.level_count - 1}",
                    source=self.hierarchy.source,
                )

    def output_keeps_type(self) -> bool:
        params = self.params
        coding_alone = (params.top is not None or params.bottom is not None) and (
            params.interval is None and params.breaks is None
        )
        return coding_alone or (params.truncate is not None and params.output == "date")

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        values = values.cast(pl.String)
        params = self.params
        if params.interval is not None or params.breaks is not None:
            return self._intervals(values)
        if params.top is not None or params.bottom is not None:
            return self._code_extremes(values)
        if params.truncate is not None:
            return self._truncate(values, params.truncate)
        if params.prefix is not None:
            return self._prefix(values, params.prefix)
        return self._map_hierarchy(values)

    # numbers

    def _intervals(self, values: pl.Series) -> pl.Series:
        params = self.params
        numbers, invalid, _ = parse_numbers(values)
        x = numbers.to_numpy().astype(np.float64, copy=False)
        present = ~np.isnan(x)
        if params.interval is not None:
            # Interval indexes of 2**52 and more are not exact in a float, so the
            # values that need them are reported invalid.
            with np.errstate(invalid="ignore", over="ignore"):
                too_far = present & ~(np.abs((x - (params.origin or 0.0)) / params.interval) < 2**52)
            if too_far.any():
                present = present & ~too_far
                invalid = invalid | pl.Series(too_far)
            bins, labels = self._equal_width_bins(x, present)
        else:
            assert params.breaks is not None
            bins, labels = self._break_bins(x, present, params.breaks)
        result = pl.Series(values.name, bins, dtype=pl.Int64).replace_strict(
            list(labels), list(labels.values()), default=None, return_dtype=pl.String
        )
        result = pl.select(pl.when(pl.lit(present)).then(pl.lit(result)).otherwise(None)
                           ).to_series().alias(values.name)
        return self._resolve_invalid(values, invalid, result, expected="a number",
                                     on_invalid=params.on_invalid).alias(values.name)

    def _equal_width_bins(self, x: np.ndarray, present: np.ndarray
                          ) -> tuple[np.ndarray, dict[int, str]]:
        """Assign each number its interval index and return a label per index used.

        Index ``k`` is ``[origin + k*width, origin + (k+1)*width)``. Bounds are
        rounded to the decimal places of ``width`` and ``origin``, and the
        index is corrected against the rounded bounds, so ``0.3`` with width
        ``0.1`` lands in ``[0.3, 0.4)`` despite floating-point error.
        """
        params = self.params
        assert params.interval is not None
        width = params.interval
        origin = params.origin or 0.0
        places = min(15, max(decimal_places(width), decimal_places(origin)))
        safe = np.where(present, x, origin)
        index = np.floor((safe - origin) / width)
        lower = np.round(origin + index * width, places)
        index = np.where(safe < lower, index - 1, index)
        upper = np.round(origin + (index + 1) * width, places)
        index = np.where(safe >= upper, index + 1, index)
        bins = index.astype(np.int64)
        top_bin, bottom_bin = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        if params.top is not None:
            bins = np.where(safe >= params.top, top_bin, bins)
        if params.bottom is not None:
            bins = np.where(safe < params.bottom, bottom_bin, bins)

        labels: dict[int, str] = {}
        for k in np.unique(bins[present]).tolist():
            if k == top_bin:
                labels[k] = f">={format_number(float(params.top))}"  # type: ignore[arg-type]
            elif k == bottom_bin:
                labels[k] = f"<{format_number(float(params.bottom))}"  # type: ignore[arg-type]
            else:
                low = round(origin + k * width, places)
                high = round(origin + (k + 1) * width, places)
                labels[k] = self._interval_label(low, high)
        return bins, labels

    def _break_bins(self, x: np.ndarray, present: np.ndarray, breaks: tuple[float, ...]
                    ) -> tuple[np.ndarray, dict[int, str]]:
        """Assign each number its interval index between the breaks and return a label per index used.

        Index ``i`` is ``[b(i-1), b(i))``. Index 0 is below the first break,
        and index ``len(breaks)`` is at or above the last.
        """
        params = self.params
        bounds = np.asarray(breaks, dtype=np.float64)
        safe = np.where(present, x, bounds[0])
        bins = np.searchsorted(bounds, safe, side="right").astype(np.int64)
        top_bin, bottom_bin = -1, -2
        if params.top is not None:
            bins = np.where(safe >= params.top, top_bin, bins)
        if params.bottom is not None:
            bins = np.where(safe < params.bottom, bottom_bin, bins)

        labels: dict[int, str] = {}
        for k in np.unique(bins[present]).tolist():
            if k == top_bin:
                labels[k] = f">={format_number(float(params.top))}"  # type: ignore[arg-type]
            elif k == bottom_bin:
                labels[k] = f"<{format_number(float(params.bottom))}"  # type: ignore[arg-type]
            elif k == 0:
                labels[k] = f"<{format_number(breaks[0])}"
            elif k == len(breaks):
                labels[k] = f">={format_number(breaks[-1])}"
            else:
                labels[k] = self._interval_label(breaks[k - 1], breaks[k])
        return bins, labels

    def _interval_label(self, low: float, high: float) -> str:
        """Write the label ``[low, high)``, narrowed to the top and bottom codes when they cut into it."""
        params = self.params
        if params.bottom is not None:
            low = max(low, params.bottom)
        if params.top is not None:
            high = min(high, params.top)
        return f"[{format_number(low)}, {format_number(high)})"

    def _code_extremes(self, values: pl.Series) -> pl.Series:
        """Top and bottom coding alone: extreme values become the bound, others stay as written."""
        params = self.params
        numbers, invalid, _ = parse_numbers(values)
        top = params.top if params.top is not None else math.inf
        bottom = params.bottom if params.bottom is not None else -math.inf
        number = pl.lit(numbers)
        expression = (
            pl.when(number.is_not_null() & (number > top))
            .then(pl.lit(format_number(top)))
            .when(number.is_not_null() & (number < bottom))
            .then(pl.lit(format_number(bottom)))
            .otherwise(pl.lit(values))
        )
        result = pl.select(expression).to_series().alias(values.name)
        return self._resolve_invalid(values, invalid, result, expected="a number",
                                     on_invalid=params.on_invalid).alias(values.name)

    # dates

    def _truncate(self, values: pl.Series, unit: TruncateUnit) -> pl.Series:
        params = self.params
        dates, invalid = local_dates(values, params.format)
        date = pl.lit(dates)
        if params.output == "date":
            first_day = {
                "year": date.dt.truncate("1y"),
                "quarter": date.dt.truncate("1q"),
                "month": date.dt.truncate("1mo"),
                "week": date - pl.duration(days=date.dt.weekday() - 1),
                "day": date,
            }[unit]
            expression = first_day.dt.to_string("%Y-%m-%d")
        else:
            expression = {
                "year": date.dt.to_string("%Y"),
                "quarter": date.dt.to_string("%Y") + pl.lit("-Q")
                + date.dt.quarter().cast(pl.String),
                "month": date.dt.to_string("%Y-%m"),
                "week": date.dt.to_string("%G-W%V"),
                "day": date.dt.to_string("%Y-%m-%d"),
            }[unit]
        result = pl.select(expression).to_series().alias(values.name)
        expected = f"a date in the format {params.format}" if params.format else \
            "an ISO 8601 date or timestamp"
        return self._resolve_invalid(values, invalid, result, expected=expected,
                                     on_invalid=params.on_invalid).alias(values.name)

    # text

    def _prefix(self, values: pl.Series, keep: int) -> pl.Series:
        """Keep ``keep`` user-visible characters and mask the rest, keeping the length."""
        mask = self.params.mask_char or "*"
        text = pl.col("text")
        hidden = (text.str.len_chars().cast(pl.Int64) - keep).clip(lower_bound=0)
        if len(mask) == 1:
            run = pl.lit("").str.pad_end(hidden, mask)
        else:
            run = pl.lit(mask).repeat_by(hidden).list.join("")
        frame = pl.DataFrame({"text": values})
        result = frame.select(
            pl.when(text.is_null()).then(None).otherwise(text.str.head(keep) + run).alias("text")
        ).to_series().alias(values.name)

        # Polars counts code points, so values with multi-code-point characters
        # are redone one by one in Python, counting grapheme clusters.
        fallback = needs_grapheme_fallback(values)
        if fallback.any():
            positions = fallback.arg_true()
            masked = []
            for value in values.gather(positions).to_list():
                chars = graphemes(value)
                masked.append("".join(chars[:keep]) + mask * max(0, len(chars) - keep))
            result = result.scatter(positions, masked)
        return result

    def _map_hierarchy(self, values: pl.Series) -> pl.Series:
        params = self.params
        hierarchy = self.hierarchy
        assert hierarchy is not None and params.level is not None
        result = hierarchy.generalize(values, params.level)
        missing = hierarchy.missing(values)
        if params.fallback is not None:
            return pl.select(
                pl.when(pl.lit(missing)).then(pl.lit(params.fallback)).otherwise(pl.lit(result))
            ).to_series().alias(values.name)
        return self._resolve_invalid(values, missing, result,
                                     expected="a value listed in the hierarchy",
                                     on_invalid=params.on_invalid).alias(values.name)
