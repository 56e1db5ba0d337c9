"""Number and date parsing shared by the ``noise`` and ``generalize`` strategies.

Values reach a strategy as text. These helpers parse a whole column at once
and return, next to the parsed values, an ``invalid`` mask marking the
non-null values that could not be parsed, ready for
:meth:`Strategy._resolve_invalid`.

Dates are ISO 8601 text by default: a calendar date ``YYYY-MM-DD``, optionally
followed by a time (``T`` or a space, then ``hh``, ``hh:mm``, ``hh:mm:ss`` or
``hh:mm:ss.fff``) and an offset (``Z``, ``+hh``, ``+hhmm`` or ``+hh:mm``).
The local date of such a value is its date part, as written, so a timestamp is
never converted to UTC first. Other layouts need an explicit strftime
``format``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import polars as pl

__all__ = [
    "ISO_DATE_PATTERN",
    "OnInvalid",
    "decimal_places",
    "format_number",
    "local_dates",
    "on_invalid_from_yaml",
    "parse_numbers",
    "shift_dates",
]

_TIME = r"(?:[01]\d|2[0-3])(?::[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?)?"
_OFFSET = r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
#: An ISO 8601 date or timestamp: group 1 is the date, group 2 the rest (time and offset).
ISO_DATE_PATTERN = rf"^(\d{{4}}-\d{{2}}-\d{{2}})((?:[T ]{_TIME}{_OFFSET}?)?)$"

#: A calendar date alone, which ISO_DATE_PATTERN splits into itself and "".
_PLAIN_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_INTEGER_PATTERN = r"^\s*[+-]?\d+\s*$"

#: Choices for a value a strategy cannot parse.
OnInvalid = Literal["error", "null", "keep"]


def on_invalid_from_yaml(value: object) -> object:
    """Read ``on_invalid: null`` (which YAML loads as None) as the choice ``"null"``."""
    return "null" if value is None else value


def parse_numbers(values: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Parse decimal text into floats.

    Surrounding whitespace is ignored. Accepted: an optional sign, digits with
    an optional decimal point, and an optional exponent (``1e3``). Rejected,
    hence marked invalid: anything else, ``inf`` and ``nan``.

    Returns
    -------
    numbers
        ``Float64``, null where the input is null or invalid.
    invalid
        ``Boolean``, True where a non-null value is not a finite number.
    is_integer
        ``Boolean``, True where the text is an integer (no point, no exponent).
    """
    stripped = values.str.strip_chars()
    parsed = stripped.cast(pl.Float64, strict=False)
    finite = parsed.is_finite().fill_null(False)
    numbers = pl.select(pl.when(finite).then(parsed).otherwise(None)).to_series().alias(values.name)
    invalid = (values.is_not_null() & ~finite).alias(values.name)
    is_integer = values.str.contains(_INTEGER_PATTERN).fill_null(False).alias(values.name)
    return numbers, invalid, is_integer


def format_number(number: float) -> str:
    """Return the shortest text for a number: ``20`` for 20.0, ``2.5`` for 2.5."""
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def decimal_places(number: float) -> int:
    """Return how many digits the shortest text of ``number`` has after the point."""
    text = repr(float(number))
    if "e" in text or "E" in text:
        mantissa, exponent = text.lower().split("e")
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return max(0, digits - int(exponent))
    _, _, fraction = text.partition(".")
    return 0 if fraction == "0" else len(fraction)


def local_dates(values: pl.Series, date_format: str | None) -> tuple[pl.Series, pl.Series]:
    """Parse dates or timestamps and return their local calendar date.

    Returns
    -------
    dates
        ``Date``, null where the input is null or invalid.
    invalid
        ``Boolean``, True where a non-null value cannot be parsed.
    """
    if date_format is None:
        dates, _ = _split_iso(values)
    elif _has_offset(date_format):
        dates = _python_dates(values, date_format)
    else:
        dates = values.str.to_datetime(date_format, strict=False).dt.date()
    invalid = (values.is_not_null() & dates.is_null()).alias(values.name)
    return dates.alias(values.name), invalid


def shift_dates(
    values: pl.Series, days: pl.Series, date_format: str | None
) -> tuple[pl.Series, pl.Series]:
    """Move each date or timestamp by a whole number of days, keeping its layout.

    An ISO 8601 value keeps its time and offset text exactly as written; only
    its date part changes, so the shift is in local time. A value read with
    ``date_format`` is written back with the same format.

    Returns
    -------
    shifted
        ``String``, null where the input is null or invalid.
    invalid
        ``Boolean``, True where a non-null value cannot be parsed.
    """
    if date_format is None:
        dates, rest = _split_iso(values)
        moved = pl.select(
            (pl.lit(dates) + pl.duration(days=pl.lit(days))).dt.to_string("%Y-%m-%d")
            + pl.lit(rest)
        ).to_series()
    elif _has_offset(date_format):
        moved = _python_shift(values, days, date_format)
    else:
        parsed = values.str.to_datetime(date_format, strict=False)
        moved = pl.select(
            (pl.lit(parsed) + pl.duration(days=pl.lit(days))).dt.to_string(date_format)
        ).to_series()
    invalid = (values.is_not_null() & moved.is_null()).alias(values.name)
    return moved.alias(values.name), invalid


def _split_iso(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Split ISO 8601 text into its calendar date and the text after it."""
    if values.str.contains(_PLAIN_DATE_PATTERN).fill_null(True).all():
        # Only plain dates (or nulls): the same split without the full pattern's
        # capture groups, which cost about twice as much.
        return values.str.to_date("%Y-%m-%d", strict=False), values.str.slice(10)
    groups = values.str.extract_groups(ISO_DATE_PATTERN)
    dates = groups.struct.field("1").str.to_date("%Y-%m-%d", strict=False)
    rest = groups.struct.field("2")
    return dates, rest


def _has_offset(date_format: str) -> bool:
    # Polars converts values parsed with %z to UTC, which would change their
    # local date, so these formats go through Python's datetime instead.
    return "%z" in date_format or "%Z" in date_format or "%:z" in date_format


def _python_dates(values: pl.Series, date_format: str) -> pl.Series:
    """Parse with ``datetime.strptime`` once per distinct value (fallback for offsets)."""
    local: dict[str, object] = {}
    for text in values.drop_nulls().unique().to_list():
        try:
            local[text] = datetime.strptime(text, date_format).date()
        except ValueError:
            local[text] = None
    return values.replace_strict(list(local), list(local.values()), default=None,
                                 return_dtype=pl.Date)


def _python_shift(values: pl.Series, days: pl.Series, date_format: str) -> pl.Series:
    """Shift with Python's datetime, once per value (fallback for formats with offsets)."""
    parsed: dict[str, datetime | None] = {}
    for text in values.drop_nulls().unique().to_list():
        try:
            parsed[text] = datetime.strptime(text, date_format)
        except ValueError:
            parsed[text] = None
    shifted: list[str | None] = []
    for text, offset in zip(values.to_list(), days.to_list(), strict=True):
        moment = parsed.get(text) if text is not None else None
        if moment is None or offset is None:
            shifted.append(None)
            continue
        try:
            shifted.append((moment + timedelta(days=int(offset))).strftime(date_format))
        except OverflowError:
            shifted.append(None)
    return pl.Series(values.name, shifted, dtype=pl.String)
