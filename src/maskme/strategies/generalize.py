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
from pydantic import Field, field_validator, model_validator

from maskme.strategies.base import (
    BatchView,
    ColumnExpression,
    Strategy,
    StrategyContext,
    StrategyParams,
    step_name,
)
from maskme.strategies.hierarchy import Hierarchy, HierarchyError, load_hierarchy
from maskme.strategies.parsing import (
    OnInvalid,
    checked_date_format,
    decimal_places,
    divide_exactly,
    format_number,
    local_dates,
    local_dates_expression,
    on_invalid_from_yaml,
    resolve_invalid_expression,
    with_number_fields,
)
from maskme.strategies.redact import graphemes
from maskme.strategies.registry import register_strategy

__all__ = ["Generalize", "GeneralizeParams"]

TruncateUnit = Literal["year", "quarter", "month", "week", "day"]

#: From 2**53 on, Float64 skips integers, and format_number writes Python's float notation.
_EXACT_INTEGER_LIMIT = 2.0**53
#: Decimal interval bounds are exact while (|origin| + |bound - origin|) * 10**places stays
#: below this, because the float arithmetic then errs by less than 1/4 in the last decimal place.
_SCALED_BOUND_LIMIT = 2.0**49
#: Maximum decimal places of interval and origin. Float64 carries about 16 significant digits.
_MAX_INTERVAL_PLACES = 15
#: Integer interval and origin below this in magnitude use exact Int128 arithmetic.
_INTEGER_GRID_LIMIT = 2**63

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

    interval: float | None = Field(
        default=None, gt=0,
        description="Width of equal numeric intervals, e.g. 10 for ``[20, 30)``.",
    )
    origin: float | None = Field(
        default=None,
        description="A boundary every interval is aligned to (default 0).",
    )
    breaks: tuple[float, ...] | None = Field(
        default=None,
        description=(
            "Increasing interval boundaries; values below the first or at/above the last get "
            "``<b0`` and ``>=bn``."
        ),
    )
    top: float | None = Field(
        default=None,
        description=(
            "Values above ``top`` become ``top`` (alone) or the label ``>=top`` (with "
            "intervals)."
        ),
    )
    bottom: float | None = Field(
        default=None,
        description=(
            "Values below ``bottom`` become ``bottom`` (alone) or the label ``<bottom`` "
            "(with intervals)."
        ),
    )
    truncate: TruncateUnit | None = Field(
        default=None,
        description="Period a date or timestamp is truncated to.",
    )
    output: Literal["label", "date"] | None = Field(
        default=None,
        description=(
            "``label`` writes ``1990-Q2`` style labels, ``date`` the first day of the "
            "period."
        ),
    )
    format: str | None = Field(
        default=None,
        description="strftime format of the input dates, when they are not ISO 8601.",
    )
    prefix: int | None = Field(
        default=None, ge=0,
        description="Number of leading characters kept; the others are replaced by ``mask_char``.",
    )
    mask_char: str | None = Field(
        default=None,
        description="The character that replaces the characters after the prefix.",
    )
    hierarchy: str | dict[str, list[str]] | None = Field(
        default=None,
        description=(
            "A hierarchy CSV file (relative to the policy's folder) or ``{value: [level1, "
            "...]}``."
        ),
    )
    level: int | None = Field(
        default=None, ge=0,
        description="Hierarchy level to generalize to, 1-based; 0 keeps the raw value.",
    )
    fallback: str | None = Field(
        default=None,
        description="Label for values the hierarchy does not list (without it they are invalid).",
    )
    delimiter: str | None = Field(
        default=None, min_length=1, max_length=1,
        description="Cell separator of the hierarchy file (default: ``;`` or ``,``, detected).",
    )
    on_invalid: OnInvalid = Field(
        default="error",
        description="Handling of a value that cannot be parsed or is missing from the hierarchy.",
    )

    _on_invalid_null = field_validator("on_invalid", mode="before")(on_invalid_from_yaml)
    _format_readable = field_validator("format")(checked_date_format)

    @field_validator("interval", "origin", mode="before")
    @classmethod
    def _float_exact(cls, value: object) -> object:
        # An integer such as 2**53 + 1 would silently become its neighbour.
        if isinstance(value, int) and not isinstance(value, bool) and float(value) != value:
            raise ValueError("expected a number that a 64-bit float represents exactly "
                             "(every integer up to 2**53 is one)")
        return value

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

    @model_validator(mode="after")
    def _exact_intervals(self) -> GeneralizeParams:
        if self.interval is None:
            return self
        origin = self.origin or 0.0
        places = _interval_places(self.interval, origin)
        if places > _MAX_INTERVAL_PLACES:
            raise ValueError(f"interval and origin have {places} decimal places; expected at "
                             f"most {_MAX_INTERVAL_PLACES}")
        if _integer_grid(self.interval, origin) is None and _decimal_value_limit(
                self.interval, origin) <= 0:
            raise ValueError("interval and origin are too large for exact labels; expected "
                             "(|origin| + 2 * interval) * 10**decimal places below 2**49, or "
                             "integers below 2**63")
        return self


def _interval_places(width: float, origin: float) -> int:
    """Return the decimal places of interval bounds, the maximum of ``width`` and ``origin``."""
    return max(decimal_places(width), decimal_places(origin))


def _integer_grid(width: float, origin: float) -> tuple[int, int] | None:
    """Return ``(width, origin)`` as integers when both are whole and below 2**63, else None.

    On such a grid, bounds are computed in Int128 and exact over the whole Int64 range.
    """
    if not (width.is_integer() and origin.is_integer()):
        return None
    if max(abs(width), abs(origin)) >= _INTEGER_GRID_LIMIT:
        return None
    return int(width), int(origin)


def _decimal_value_limit(width: float, origin: float) -> float:
    """Return how far from ``origin`` a number may lie for Float64 to write its interval exactly.

    The bounds near a number ``x`` lie within ``|x - origin| + 2 * width`` of the
    origin (the first index guess may be one off). Below the limit,
    ``(|origin| + that distance) * 10**places`` stays under 2**49, so the
    computed bounds err by less than 1/4 in their last decimal place, and
    Polars, numpy and Python's ``round`` all round them to the exact decimal.
    """
    places = _interval_places(width, origin)
    return _SCALED_BOUND_LIMIT / 10.0**places - abs(origin) - 2 * width


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
        row = self._fields(pl.col("value"))
        if row is None:
            assert self.params.truncate is not None
            return self._truncate_in_python(values, self.params.truncate)
        # The batch path evaluates the same expressions as :meth:`expression`, and
        # computes only what they cannot in Python.
        fields = pl.DataFrame({"value": values}).select(row.alias("row")).to_series().struct
        result = fields.field("output").alias(values.name)
        unsupported = fields.field("unsupported")
        if unsupported.any():
            if self.params.prefix is not None:
                result = self._redo_graphemes(values, result, unsupported, self.params.prefix)
            else:
                result = self._redo_intervals(fields.field("number"), result, unsupported)
        return self._resolve_invalid(values, fields.field("invalid"), result,
                                     expected=self._expected(),
                                     on_invalid=self.params.on_invalid).alias(values.name)

    def expression(self, values: pl.Expr, record_numbers: pl.Expr) -> ColumnExpression | None:
        """Return the generalization as expressions, or None where only Python computes it.

        None for ``truncate`` with a ``format`` that reads an offset or a
        two-digit year, which only Python's datetime reads as documented.
        ``failed`` marks invalid values (with ``on_invalid: error``),
        ``prefix`` values whose user-visible characters Polars does not count,
        and interval bounds that Polars does not write as Python does (see
        :meth:`_decimal_interval_fields`).
        """
        row = self._fields(values)
        if row is None:
            return None
        # One intermediate column, so that value and failed do not each compute the rule.
        name = step_name(self.context.field_path, "generalize")
        fields = pl.col(name).struct
        failed = fields.field("unsupported")
        if self.params.on_invalid == "error":
            failed = failed | fields.field("invalid")
        return ColumnExpression(value=fields.field("output"), failed=failed,
                                steps=((name, row),))

    def _fields(self, values: pl.Expr) -> pl.Expr | None:
        """Build this rule as one struct, or None where only Python computes it.

        apply and :meth:`expression` read its fields ``output`` (the
        generalized values, with ``on_invalid: null`` or ``keep`` applied),
        ``invalid`` and ``unsupported`` (values whose ``output`` is not what
        apply returns, which apply computes in Python). Each mode adds its
        steps as fields that later steps read with ``pl.field``, so no
        expression is copied into several places.
        """
        params = self.params
        row = pl.struct(values.alias("value"))
        mode: pl.Expr | None
        if params.interval is not None:
            mode = self._interval_fields(row, params.interval)
        elif params.breaks is not None:
            mode = self._break_fields(row, params.breaks)
        elif params.top is not None or params.bottom is not None:
            mode = self._extreme_fields(row)
        elif params.truncate is not None:
            mode = self._truncate_fields(row, params.truncate)
        elif params.prefix is not None:
            mode = self._prefix_fields(row, params.prefix)
        else:
            mode = self._hierarchy_fields(row)
        if mode is None:
            return None
        output = resolve_invalid_expression(pl.field("value"), pl.field("result"),
                                            pl.field("invalid"), params.on_invalid)
        return mode.struct.with_fields(output.alias("output"))

    def _expected(self) -> str:
        """Describe a valid value, for the message on an invalid one."""
        params = self.params
        if params.truncate is not None:
            if params.format is not None:
                return f"a date in the format {params.format}"
            return "an ISO 8601 date or timestamp"
        if params.hierarchy is not None:
            return "a value listed in the hierarchy"
        if params.interval is not None:
            origin = params.origin or 0.0
            if _integer_grid(params.interval, origin) is not None:
                return ("a number (an integer within the 64-bit range, or another number "
                        "below 2**53 in magnitude)")
            limit = _decimal_value_limit(params.interval, origin)
            return f"a number within {limit:.3g} of the interval origin"
        return "a number"

    # numbers

    def _interval_fields(self, row: pl.Expr, width: float) -> pl.Expr:
        """Equal-width intervals as expressions, on an integer grid or a decimal one."""
        origin = self.params.origin or 0.0
        grid = _integer_grid(width, origin)
        if grid is not None:
            return self._integer_interval_fields(row, *grid)
        return self._decimal_interval_fields(row, width, origin)

    def _integer_interval_fields(self, row: pl.Expr, width: int, origin: int) -> pl.Expr:
        """Intervals of whole width and origin, with exact integer bounds.

        Integer text is read as Int64, so its bounds are exact over the whole
        Int64 range. They are computed in Int128, where the bounds around the
        ends of that range (up to 2**63 + width) do not overflow. Other
        numbers are read as Float64 and placed by their floor, which is exact
        below 2**53. Beyond that, Float64 represents no fraction and skips
        integers, so such a number is invalid.
        """
        params = self.params
        text = pl.field("value")
        # One stripped copy serves both parses. An unparsable, infinite or NaN
        # number gets no integer below, which makes it invalid.
        row = row.struct.with_fields(text.str.strip_chars().alias("stripped"))
        stripped = pl.field("stripped")
        row = row.struct.with_fields(stripped.cast(pl.Float64, strict=False).alias("number"),
                                     stripped.cast(pl.Int64, strict=False).alias("whole"))
        number, whole = pl.field("number"), pl.field("whole")
        read = (
            pl.when(whole.is_not_null()).then(whole)
            .when(number.abs() < _EXACT_INTEGER_LIMIT)
            .then(number.floor().cast(pl.Int64, strict=False))
        )
        row = row.struct.with_fields(read.cast(pl.Int128).alias("integer"))
        integer = pl.field("integer")
        low = _int128(origin) + (integer - _int128(origin)) // _int128(width) * _int128(width)
        row = row.struct.with_fields(low.alias("low"))
        low = pl.field("low")
        high = low + _int128(width)

        low_text, high_text = low.cast(pl.String), high.cast(pl.String)
        if params.bottom is not None:
            # As max(low, bottom) in _interval_label: low < bottom when low < ceil(bottom).
            low_text = pl.when(low < _int128(_ceil_clamped(params.bottom))).then(
                pl.lit(_whole_text(params.bottom))).otherwise(low_text)
        if params.top is not None:
            # As min(high, top) in _interval_label: high > top when high > floor(top).
            high_text = pl.when(high > _int128(-_ceil_clamped(-params.top))).then(
                pl.lit(_whole_text(params.top))).otherwise(high_text)
        label = pl.lit("[") + low_text + pl.lit(", ") + high_text + pl.lit(")")

        # Integer text compares exactly, other numbers as the floats they are (below 2**53).
        exact = whole.is_not_null()
        if params.bottom is not None:
            below = pl.when(exact).then(integer < _int128(_ceil_clamped(params.bottom))
                                        ).otherwise(number < params.bottom)
            label = pl.when(below).then(pl.lit(f"<{_whole_text(params.bottom)}")
                                        ).otherwise(label)
        if params.top is not None:
            above = pl.when(exact).then(integer >= _int128(_ceil_clamped(params.top))
                                        ).otherwise(number >= params.top)
            label = pl.when(above).then(pl.lit(f">={_whole_text(params.top)}")
                                        ).otherwise(label)
        return row.struct.with_fields(
            pl.when(integer.is_not_null()).then(label).alias("result"),
            (text.is_not_null() & integer.is_null()).alias("invalid"),
            _NONE_UNSUPPORTED,
        )

    def _decimal_interval_fields(self, row: pl.Expr, width: float, origin: float) -> pl.Expr:
        """Equal-width intervals on a decimal grid: the arithmetic of :meth:`_equal_width_bins`.

        Numbers further than :func:`_decimal_value_limit` from the origin are
        invalid, and the others get bounds that are the exact decimals
        ``origin + k * width``. Polars writes these as Python does, except
        below 1e-4, where :func:`format_number` uses exponent notation
        (``3e-05``), so such bounds are ``unsupported``.

        NOTE: a number is read as the nearest Float64 first, so one written
        with more significant digits than Float64 represents (about 16) and
        lying within that rounding of a bound can land in the neighbouring
        interval.
        """
        params = self.params
        places = _interval_places(width, origin)
        number = pl.field("number")
        row = with_number_fields(row, "number", "parse_failed")
        too_far = number.is_not_null() & ~(
            (number - origin).abs() < _decimal_value_limit(width, origin)
        )
        row = row.struct.with_fields(too_far.fill_null(False).alias("too_far"))
        row = row.struct.with_fields(
            (number.is_not_null() & ~pl.field("too_far")).alias("present"),
        )
        present = pl.field("present")
        row = row.struct.with_fields(
            pl.when(present).then(number).otherwise(origin).alias("safe"),
        )
        safe = pl.field("safe")
        index = pl.field("index")
        row = row.struct.with_fields(divide_exactly(safe - origin, width).floor().alias("index"))
        lower = _round_bound(origin + index * width, places)
        row = row.struct.with_fields(
            pl.when(safe < lower).then(index - 1).otherwise(index).alias("index")
        )
        upper = _round_bound(origin + (index + 1) * width, places)
        row = row.struct.with_fields(
            pl.when(safe >= upper).then(index + 1).otherwise(index).alias("index")
        )
        row = row.struct.with_fields(
            _round_bound(origin + index * width, places).alias("low"),
            _round_bound(origin + (index + 1) * width, places).alias("high"),
        )

        low, high = pl.field("low"), pl.field("high")
        low_text, high_text = _number_text(low), _number_text(high)
        low_unwritable, high_unwritable = _python_notation(low), _python_notation(high)
        regular = present
        if params.bottom is not None:
            # As max(low, bottom) in _interval_label.
            low_text = pl.when(low < params.bottom).then(pl.lit(format_number(params.bottom))
                                                         ).otherwise(low_text)
            low_unwritable = low_unwritable & ~(low < params.bottom)
            regular = regular & ~(safe < params.bottom)
        if params.top is not None:
            # As min(high, top) in _interval_label.
            high_text = pl.when(high > params.top).then(pl.lit(format_number(params.top))
                                                        ).otherwise(high_text)
            high_unwritable = high_unwritable & ~(high > params.top)
            regular = regular & ~(safe >= params.top)
        label = pl.lit("[") + low_text + pl.lit(", ") + high_text + pl.lit(")")
        unsupported = regular & (low_unwritable | high_unwritable)
        return row.struct.with_fields(
            pl.when(present).then(self._code_labels(safe, label)).alias("result"),
            (pl.field("parse_failed") | pl.field("too_far")).alias("invalid"),
            unsupported.alias("unsupported"),
        )

    def _break_fields(self, row: pl.Expr, breaks: tuple[float, ...]) -> pl.Expr:
        """Intervals between the breaks as expressions: each label is known in advance.

        Interval ``i`` is ``[b(i-1), b(i))``, so a number gets the label of the
        first break it is below, and the last label when it is below none.
        """
        row = with_number_fields(row, "number", "invalid")
        number = pl.field("number")
        labels = self._break_labels(breaks)
        labelled = pl.lit(labels[-1])
        for bound, label in zip(reversed(breaks), reversed(labels[:-1]), strict=True):
            labelled = pl.when(number < bound).then(pl.lit(label)).otherwise(labelled)
        result = pl.when(number.is_not_null()).then(self._code_labels(number, labelled))
        return row.struct.with_fields(result.alias("result"), _NONE_UNSUPPORTED)

    def _code_labels(self, number: pl.Expr, label: pl.Expr) -> pl.Expr:
        """Put the top and bottom coding labels in front of the interval ``label``."""
        params = self.params
        if params.bottom is not None:
            label = pl.when(number < params.bottom).then(
                pl.lit(f"<{format_number(params.bottom)}")).otherwise(label)
        if params.top is not None:
            label = pl.when(number >= params.top).then(
                pl.lit(f">={format_number(params.top)}")).otherwise(label)
        return label

    def _break_labels(self, breaks: tuple[float, ...]) -> list[str]:
        """Return the label of each interval index, 0 (below the first break) to ``len(breaks)``."""
        inner = [self._interval_label(low, high) for low, high in itertools.pairwise(breaks)]
        return [f"<{format_number(breaks[0])}", *inner, f">={format_number(breaks[-1])}"]

    def _redo_intervals(self, numbers: pl.Series, result: pl.Series, redo: pl.Series
                        ) -> pl.Series:
        """Label the numbers marked ``redo`` with numpy and Python's float notation."""
        positions = redo.arg_true()
        x = numbers.gather(positions).to_numpy().astype(np.float64, copy=False)
        bins, labels = self._equal_width_bins(x, np.ones(len(x), dtype=bool))
        return result.scatter(positions, [labels[k] for k in bins.tolist()])

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
        places = _interval_places(width, origin)
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

    def _interval_label(self, low: float, high: float) -> str:
        """Write the label ``[low, high)``, narrowed to the top and bottom codes when they cut into it."""
        params = self.params
        if params.bottom is not None:
            low = max(low, params.bottom)
        if params.top is not None:
            high = min(high, params.top)
        return f"[{format_number(low)}, {format_number(high)})"

    def _extreme_fields(self, row: pl.Expr) -> pl.Expr:
        """Top and bottom coding alone: extreme values become the bound, others stay as written."""
        params = self.params
        row = with_number_fields(row, "number", "invalid")
        number = pl.field("number")
        result = pl.field("value")
        if params.bottom is not None:
            result = pl.when(number < params.bottom).then(
                pl.lit(format_number(params.bottom))).otherwise(result)
        if params.top is not None:
            result = pl.when(number > params.top).then(
                pl.lit(format_number(params.top))).otherwise(result)
        return row.struct.with_fields(result.alias("result"), _NONE_UNSUPPORTED)

    # dates

    def _truncate_fields(self, row: pl.Expr, unit: TruncateUnit) -> pl.Expr | None:
        parsed = local_dates_expression(pl.field("value"), self.params.format)
        if parsed is None:
            return None
        # The invalid mask reads the date's field, so that parsing runs once:
        # local_dates_expression's mask would parse again.
        row = row.struct.with_fields(parsed[0].alias("date"))
        row = row.struct.with_fields(
            (pl.field("value").is_not_null() & pl.field("date").is_null()).alias("invalid"))
        periods = self._period_expression(pl.field("date"), unit)
        return row.struct.with_fields(periods.alias("result"), _NONE_UNSUPPORTED)

    def _truncate_in_python(self, values: pl.Series, unit: TruncateUnit) -> pl.Series:
        """Truncate dates in a format that Python must read (see :func:`needs_python`)."""
        dates, invalid = local_dates(values, self.params.format)
        result = pl.DataFrame({"date": dates}).select(
            self._period_expression(pl.col("date"), unit)
        ).to_series().alias(values.name)
        return self._resolve_invalid(values, invalid, result, expected=self._expected(),
                                     on_invalid=self.params.on_invalid).alias(values.name)

    def _period_expression(self, date: pl.Expr, unit: TruncateUnit) -> pl.Expr:
        """Write the period of each ``Date`` as a label or as its first day."""
        if self.params.output == "date":
            first_day = {
                "year": date.dt.truncate("1y"),
                "quarter": date.dt.truncate("1q"),
                "month": date.dt.truncate("1mo"),
                "week": date - pl.duration(days=date.dt.weekday() - 1),
                "day": date,
            }[unit]
            return first_day.dt.to_string("%Y-%m-%d")
        return {
            "year": date.dt.to_string("%Y"),
            "quarter": date.dt.to_string("%Y") + pl.lit("-Q") + date.dt.quarter().cast(pl.String),
            "month": date.dt.to_string("%Y-%m"),
            "week": date.dt.to_string("%G-W%V"),
            "day": date.dt.to_string("%Y-%m-%d"),
        }[unit]

    # text

    def _prefix_fields(self, row: pl.Expr, keep: int) -> pl.Expr:
        """Keep ``keep`` characters and mask the rest, keeping the length.

        Polars counts code points. A value with multi-code-point characters
        (the test of :func:`maskme.strategies.redact.needs_grapheme_fallback`)
        is ``unsupported`` when it is
        longer than the prefix, and apply redoes it in Python. A value no
        longer than the prefix stays whole either way.
        """
        mask = self.params.mask_char or "*"
        values = pl.field("value")
        length = values.str.len_chars().cast(pl.Int64)
        hidden = (length - keep).clip(lower_bound=0)
        if len(mask) == 1:
            run = pl.lit("").str.pad_end(hidden, mask)
        else:
            run = pl.lit(mask).repeat_by(hidden).list.join("")
        masked = pl.when(values.is_null()).then(None).otherwise(values.str.head(keep) + run)
        multi_code_point = (
            (values.str.len_bytes() != values.str.len_chars())
            | values.str.contains("\r\n", literal=True)
        )
        return row.struct.with_fields(
            masked.alias("result"),
            _NONE_INVALID,
            (multi_code_point & (length > keep)).fill_null(False).alias("unsupported"),
        )

    def _redo_graphemes(self, values: pl.Series, result: pl.Series, redo: pl.Series,
                        keep: int) -> pl.Series:
        """Mask the values marked ``redo`` in Python, counting grapheme clusters."""
        mask = self.params.mask_char or "*"
        positions = redo.arg_true()
        masked = []
        for value in values.gather(positions).to_list():
            chars = graphemes(value)
            masked.append("".join(chars[:keep]) + mask * max(0, len(chars) - keep))
        return result.scatter(positions, masked)

    def _hierarchy_fields(self, row: pl.Expr) -> pl.Expr:
        params = self.params
        values = pl.field("value")
        hierarchy = self.hierarchy
        assert hierarchy is not None and params.level is not None
        labels = hierarchy.table.get_column(str(params.level))
        result = values.replace_strict(hierarchy.values, labels, default=None,
                                       return_dtype=pl.String)
        missing = values.is_not_null() & ~values.is_in(hierarchy.values.implode())
        if params.fallback is not None:
            result = pl.when(missing).then(pl.lit(params.fallback)).otherwise(result)
            return row.struct.with_fields(result.alias("result"), _NONE_INVALID, _NONE_UNSUPPORTED)
        return row.struct.with_fields(result.alias("result"), missing.alias("invalid"),
                                      _NONE_UNSUPPORTED)


#: The fields ``invalid`` and ``unsupported`` of a rule in which no value can be either.
_NONE_INVALID = pl.lit(False).alias("invalid")
_NONE_UNSUPPORTED = pl.lit(False).alias("unsupported")


def _round_bound(number: pl.Expr, places: int) -> pl.Expr:
    """Round as ``numpy.round`` does (the noise expression tests check Polars 2.1 against it)."""
    return number.round(places, mode="half_to_even")


def _int128(number: int) -> pl.Expr:
    """Return an Int128 literal, so that integer bounds do not overflow Int64."""
    return pl.lit(number, dtype=pl.Int128)


def _whole_text(number: float) -> str:
    """Write a top or bottom code as :func:`format_number` does, but a whole one always as an integer.

    From 2**53 on, :func:`format_number` writes ``9007199254740996.0`` or
    ``1e+20``, unlike the integer bounds next to it in a label.
    """
    if number.is_integer():
        return str(int(number))
    return format_number(number)


def _ceil_clamped(number: float) -> int:
    """Return the ceiling of ``number``, clamped to +-2**64 so that it fits an Int128 literal.

    Every Int64 value and every bound of an integer grid lies strictly inside
    that range, so comparisons with the clamped value come out as with the
    exact one.
    """
    return max(-(2**64), min(2**64, math.ceil(number)))


def _number_text(number: pl.Expr) -> pl.Expr:
    """Write a number as :func:`format_number` does, where :func:`_python_notation` is false."""
    whole = number == number.floor()
    return (
        pl.when(number == 0).then(pl.lit("0"))
        .when(whole & (number.abs() < _EXACT_INTEGER_LIMIT))
        .then(number.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(number.cast(pl.String))
    )


def _python_notation(number: pl.Expr) -> pl.Expr:
    """Mark numbers that :func:`format_number` writes with Python's repr, unlike Polars' text.

    These are numbers below 1e-4 (``1e-05``) and whole numbers of 2**53 and
    more (``1e+16``). Checked for Polars 2.1: its text of any other float
    with a fractional part is Python's repr.
    """
    tiny = (number != 0) & (number.abs() < 1e-4)
    return tiny | (number.abs() >= _EXACT_INTEGER_LIMIT)
