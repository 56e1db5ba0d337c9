"""Number and date parsing shared by the ``noise`` and ``generalize`` strategies.

Values reach a strategy as text. These helpers parse a whole column at once
and return, next to the parsed values, an ``invalid`` mask marking the
non-null values that could not be parsed, ready for
:meth:`Strategy._resolve_invalid`. Each comes as a Polars expression (for a
strategy's :meth:`Strategy.expression`) and as a function over a series,
which evaluates the same expression.

Dates are ISO 8601 text by default: a calendar date ``YYYY-MM-DD``, optionally
followed by a time (``T`` or a space, then ``hh``, ``hh:mm``, ``hh:mm:ss`` or
``hh:mm:ss.fff``) and an offset (``Z``, ``+hh``, ``+hhmm`` or ``+hh:mm``).
The local date of such a value is its date part, as written, so a timestamp is
never converted to UTC first. Other layouts need an explicit strftime
``format``.
"""

from __future__ import annotations

import _strptime
import functools
import re
import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import polars as pl

__all__ = [
    "ISO_DATE_PATTERN",
    "OnInvalid",
    "checked_date_format",
    "decimal_places",
    "divide_exactly",
    "format_number",
    "has_offset",
    "local_dates",
    "local_dates_expression",
    "needs_python",
    "on_invalid_from_yaml",
    "parse_numbers",
    "parse_numbers_expression",
    "resolve_invalid_expression",
    "shift_dates",
    "shift_dates_expression",
    "with_number_fields",
]

_TIME = r"(?:[01]\d|2[0-3])(?::[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d+)?)?)?"
_OFFSET = r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
#: An ISO 8601 date or timestamp: group 1 is the date, group 2 the rest (time and offset).
ISO_DATE_PATTERN = rf"^(\d{{4}}-\d{{2}}-\d{{2}})((?:[T ]{_TIME}{_OFFSET}?)?)$"
#: ISO_DATE_PATTERN without capture groups, which a regex engine matches faster.
_ISO_DATE_MATCH = rf"^\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]{_TIME}{_OFFSET}?)?$"
#: Characters in group 1 of ISO_DATE_PATTERN: ``\d`` matches one character.
_ISO_DATE_LENGTH = 10

_INTEGER_PATTERN = r"^\s*[+-]?\d+\s*$"

#: Days from 1970-01-01 (Polars' day 0) to the first and last date Python's ``date`` holds.
_FIRST_DAY = (date.min - date(1970, 1, 1)).days
_LAST_DAY = (date.max - date(1970, 1, 1)).days
#: A strftime directive: ``%`` and the character after it, so ``%%`` is one directive.
_DIRECTIVE = re.compile(r"%(.)", re.DOTALL)
#: Directives that write the whole year.
_FULL_YEAR_DIRECTIVES = frozenset("YG")
#: Directives that write a year, whole or its last two digits.
_YEAR_DIRECTIVES = frozenset("YGy")
#: Python 3.11's strptime pattern for %S, and the seconds that datetime accepts.
_STRPTIME_SECONDS = r"(?P<S>6[0-1]|[0-5]\d|\d)"
_DATETIME_SECONDS = r"(?P<S>[0-5]\d|\d)"
#: The first and last date that Python's strptime reads from a two-digit year (%y).
_TWO_DIGIT_YEAR_DATES = (date(1969, 1, 1), date(2068, 12, 31))

#: Choices for a value a strategy cannot parse.
OnInvalid = Literal["error", "null", "keep"]


#: strftime directives that read a year, month, week or day of the month or year.
_DATE_DIRECTIVES = frozenset("YyGmbBhdejUWV")
#: strftime directives that write a whole date in the locale's layout.
_LOCALE_DATE_DIRECTIVES = frozenset("cx")


def checked_date_format(value: str | None) -> str | None:
    """Reject a strftime ``format`` that cannot read a date (a pydantic validator).

    Python's ``strptime`` cannot read ``%:z``. A format without a date
    directive, such as ``%H:%M``, reads every value as 1900-01-01, so noise
    and truncation would write the values back unchanged.
    """
    if value is None:
        return value
    if "%:z" in value:
        raise ValueError("Python cannot read %:z; use %z, which reads +05:30 and +0530 alike")
    directives = set(_DIRECTIVE.findall(value))
    locale_directives = sorted(directives & _LOCALE_DATE_DIRECTIVES)
    if locale_directives:
        raise ValueError(
            f"%{locale_directives[0]} writes a date in the layout of the locale, which can "
            "change between machines; write its directives out, such as %m/%d/%y for %x"
        )
    if not directives & _DATE_DIRECTIVES:
        raise ValueError(
            "the format reads no date: it needs a year, month, week or day directive "
            "(such as %Y, %m, %d or %j), because a time of day alone would be written "
            "back unchanged"
        )
    sample = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    try:
        datetime.strptime(sample.strftime(value), value)
    except ValueError as error:
        # The message quotes the format and a fixed sample date, no data value.
        raise ValueError(f"Python cannot read dates back in this format: {error}") from None
    return value


def on_invalid_from_yaml(value: object) -> object:
    """Read ``on_invalid: null`` (which YAML loads as None) as the choice ``"null"``."""
    return "null" if value is None else value


def resolve_invalid_expression(
    values: pl.Expr, result: pl.Expr, invalid: pl.Expr, on_invalid: OnInvalid
) -> pl.Expr:
    """Apply ``on_invalid: null`` or ``keep`` to ``result`` where ``invalid`` is true.

    With ``error`` the result is returned unchanged: the caller reports the
    invalid values (``apply`` raises, an expression marks them ``failed``).
    """
    if on_invalid == "null":
        return pl.when(invalid).then(None).otherwise(result)
    if on_invalid == "keep":
        return pl.when(invalid).then(values).otherwise(result)
    return result


# numbers


def parse_numbers_expression(values: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Parse decimal text into floats; the expression form of :func:`parse_numbers`."""
    parsed = values.str.strip_chars().cast(pl.Float64, strict=False)
    finite = parsed.is_finite().fill_null(False)
    numbers = pl.when(finite).then(parsed).otherwise(None)
    invalid = values.is_not_null() & ~finite
    is_integer = values.str.contains(_INTEGER_PATTERN).fill_null(False)
    return numbers, invalid, is_integer


def with_number_fields(
    row: pl.Expr, number: str, invalid: str, is_integer: str | None = None
) -> pl.Expr:
    """Add the results of :func:`parse_numbers_expression` on field ``value`` to a struct.

    The text is parsed once: the fields ``number`` and ``invalid`` (and
    ``is_integer`` when named) read the parsed field, where the three
    expressions of :func:`parse_numbers_expression` would each parse it.
    """
    text = pl.field("value")
    row = row.struct.with_fields(text.str.strip_chars().cast(pl.Float64, strict=False).alias(number))
    finite = pl.field(number).is_finite().fill_null(False)
    fields = [pl.when(finite).then(pl.field(number)).otherwise(None).alias(number),
              (text.is_not_null() & ~finite).alias(invalid)]
    if is_integer is not None:
        fields.append(text.str.contains(_INTEGER_PATTERN).fill_null(False).alias(is_integer))
    return row.struct.with_fields(*fields)


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
    numbers, invalid, is_integer = parse_numbers_expression(pl.col("value"))
    frame = _frame(values).select(numbers.alias("numbers"), invalid.alias("invalid"),
                                  is_integer.alias("is_integer"))
    return tuple(column.alias(values.name) for column in frame.get_columns())  # type: ignore[return-value]


def divide_exactly(numbers: pl.Expr, divisor: float) -> pl.Expr:
    """Divide ``Float64`` numbers by a constant with IEEE 754 division, as numpy does.

    Polars 2.1 divides by a literal through its reciprocal (``3e5 / 1e5`` is
    then ``3.0000000000000004``), in some plans but not in others. Between two
    columns it divides exactly, so the divisor is written as a column.
    """
    divisor_column = pl.when(numbers.is_null()).then(None).otherwise(pl.lit(divisor))
    return numbers / divisor_column


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


# dates


def has_offset(date_format: str) -> bool:
    """Check whether a strftime format reads a UTC offset or time zone.

    Polars converts values parsed with one to UTC, which would change their
    local date, so these formats go through Python's datetime instead and
    have no expression.
    """
    return "%z" in date_format or "%Z" in date_format or "%:z" in date_format


def _reads_two_digit_year(date_format: str) -> bool:
    """Check whether a format reads the year only from ``%y``, its last two digits."""
    directives = set(_DIRECTIVE.findall(date_format))
    return "y" in directives and not directives & _FULL_YEAR_DIRECTIVES


def needs_python(date_format: str) -> bool:
    """Check whether dates in this format must be read with Python's datetime, not Polars.

    The docs promise Python's strptime reading, which Polars 2.1 differs from
    in these formats. Polars converts a value read with an offset to UTC,
    which would change its local date (see :func:`has_offset`). It reads
    ``%y`` 69 as 2069 where Python reads 1969, ``%f`` as nanoseconds where
    Python reads a fraction of up to 6 digits, and a format without a year
    in the year 1 where Python reads 1900. Other formats are tried on a
    sample date, which Polars rejects for an hour without a minute.
    """
    directives = set(_DIRECTIVE.findall(date_format))
    return (has_offset(date_format) or _reads_two_digit_year(date_format)
            or "f" in directives or not directives & _YEAR_DIRECTIVES
            or not _polars_reads_like_python(date_format))


@functools.lru_cache(maxsize=64)
def _polars_reads_like_python(date_format: str) -> bool:
    """Check that Polars reads a sample date in this format, and writes it back, as Python does."""
    # Each field differs from the others, and the day and hour exceed 12, so that no
    # two directives can be confused.
    sample = datetime(2020, 11, 23, 13, 14, 15)
    text = sample.strftime(date_format)
    try:
        expected = datetime.strptime(text, date_format)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pl.DataFrame({"value": [text]}).select(
                pl.col("value").str.to_datetime(date_format, strict=False))
            written = parsed.select(pl.first().dt.to_string(date_format)).item()
    except (ValueError, pl.exceptions.PolarsError):
        return False
    return bool(parsed.item() == expected and written == text)


@functools.lru_cache(maxsize=64)
def _strptime_pattern(date_format: str) -> str:
    """Return the regular expression that Python's strptime matches a whole value against.

    Polars reads text that strptime rejects, such as a two-digit year under
    ``%Y`` or a leading space, so a value read by Polars must match this too.
    """
    # NOTE: _strptime is CPython's private module behind datetime.strptime, so a
    # new Python version could change TimeRE. strptime ignores case.
    pattern = _strptime.TimeRE().pattern(date_format)
    # The pattern matches the seconds 60 and 61, which datetime then rejects, while
    # Polars reads 10:00:60 as 10:01:00.
    pattern = pattern.replace(_STRPTIME_SECONDS, _DATETIME_SECONDS)
    return "(?i)^(?:" + pattern + ")$"


def _parse_formatted_expression(values: pl.Expr, date_format: str) -> pl.Expr:
    """Parse text in a format Polars reads as Python does; null where strptime would fail."""
    readable = values.str.contains(_strptime_pattern(date_format))
    return pl.when(readable).then(values.str.to_datetime(date_format, strict=False))


def _calendar_limits(date_format: str | None) -> tuple[date, date]:
    """Return the first and last date that a format writes and Python reads back as written."""
    if date_format is not None and _reads_two_digit_year(date_format):
        return _TWO_DIGIT_YEAR_DATES
    return date.min, date.max


def local_dates_expression(
    values: pl.Expr, date_format: str | None
) -> tuple[pl.Expr, pl.Expr] | None:
    """Return the local calendar date and the invalid mask; the expression form of :func:`local_dates`.

    None when Python's datetime must read ``date_format`` (see :func:`needs_python`).
    """
    if date_format is None:
        dates, _ = _split_iso_expression(values)
    elif needs_python(date_format):
        return None
    else:
        dates = _parse_formatted_expression(values, date_format).dt.date()
    return dates, values.is_not_null() & dates.is_null()


def local_dates(values: pl.Series, date_format: str | None) -> tuple[pl.Series, pl.Series]:
    """Parse dates or timestamps and return their local calendar date.

    Returns
    -------
    dates
        ``Date``, null where the input is null or invalid.
    invalid
        ``Boolean``, True where a non-null value cannot be parsed.
    """
    parsed = local_dates_expression(pl.col("value"), date_format)
    if parsed is None:
        assert date_format is not None
        dates = _python_dates(values, date_format)
        invalid = values.is_not_null() & dates.is_null()
        return dates.alias(values.name), invalid.alias(values.name)
    frame = _frame(values).select(parsed[0].alias("dates"), parsed[1].alias("invalid"))
    return frame.to_series(0).alias(values.name), frame.to_series(1).alias(values.name)


def shift_dates_expression(
    values: pl.Expr, days: pl.Expr, date_format: str | None
) -> tuple[pl.Expr, pl.Expr] | None:
    """Move dates by ``days``; the expression form of :func:`shift_dates`.

    None when Python's datetime must read ``date_format`` (see :func:`needs_python`).
    """
    if date_format is None:
        dates, rest = _split_iso_expression(values)
        moved = _shift_within_calendar(dates, days).dt.to_string("%Y-%m-%d") + rest
    elif needs_python(date_format):
        return None
    else:
        parsed = _parse_formatted_expression(values, date_format)
        moved = _shift_within_calendar(parsed, days).dt.to_string(date_format)
    return moved, values.is_not_null() & moved.is_null()


def _shift_within_calendar(moments: pl.Expr, days: pl.Expr) -> pl.Expr:
    """Add ``days`` to ``Date`` or ``Datetime`` values, stopping at 0001-01-01 and 9999-12-31.

    Polars writes dates past that range with a year of 5 digits or 0000, which
    Python and the ISO 8601 forms without a sign cannot read. The shift is
    limited, rather than the result clipped, so a timestamp keeps its time of
    day. ``moments`` is read from a struct field, because an expression used
    twice would parse the text twice.
    """
    row = pl.struct(moments.alias("moment"), days.cast(pl.Int64).alias("days"))
    moment = pl.field("moment")
    day_numbers = moment.dt.date().cast(pl.Int64)
    limited = pl.field("days").clip(_FIRST_DAY - day_numbers, _LAST_DAY - day_numbers)
    moved = moment + pl.duration(days=limited)
    return row.struct.with_fields(moved.alias("moment")).struct.field("moment")


def shift_dates(
    values: pl.Series, days: pl.Series, date_format: str | None
) -> tuple[pl.Series, pl.Series]:
    """Move each date or timestamp by a whole number of days, keeping its layout.

    An ISO 8601 value keeps its time and offset text exactly as written; only
    its date part changes, so the shift is in local time. A value read with
    ``date_format`` is written back with the same format. A shift that would
    leave the calendar stops at 0001-01-01 or 9999-12-31 (local date), which
    keeps the time of day. With a two-digit year (``%y`` and no ``%Y``), the
    shift stops at 1969-01-01 and 2068-12-31, because a date outside them
    would be written with a year that reads back a century off.

    Returns
    -------
    shifted
        ``String``, null where the input is null or invalid.
    invalid
        ``Boolean``, True where a non-null value cannot be parsed.
    """
    shifted = shift_dates_expression(pl.col("value"), pl.col("days"), date_format)
    if shifted is None:
        assert date_format is not None
        moved = _python_shift(values, days, date_format)
        invalid = values.is_not_null() & moved.is_null()
        return moved.alias(values.name), invalid.alias(values.name)
    frame = pl.DataFrame({"value": values.cast(pl.String), "days": days}).select(
        shifted[0].alias("shifted"), shifted[1].alias("invalid")
    )
    return frame.to_series(0).alias(values.name), frame.to_series(1).alias(values.name)


def _split_iso_expression(values: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Split ISO 8601 text into its calendar date and the text after it; null where it is not ISO.

    The same split as the groups of ISO_DATE_PATTERN: group 1 is always the
    first ten characters, so a match test and two slices replace the capture
    groups, which cost about twice as much.
    """
    matched = values.str.contains(_ISO_DATE_MATCH)
    dates = pl.when(matched).then(
        values.str.slice(0, _ISO_DATE_LENGTH).str.to_date("%Y-%m-%d", strict=False)
    )
    rest = pl.when(matched).then(values.str.slice(_ISO_DATE_LENGTH))
    return dates, rest


def _split_iso(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Split ISO 8601 text into its calendar date and the text after it."""
    dates, rest = _split_iso_expression(pl.col("value"))
    frame = _frame(values).select(dates.alias("dates"), rest.alias("rest"))
    return frame.to_series(0).alias(values.name), frame.to_series(1).alias(values.name)


def _frame(values: pl.Series) -> pl.DataFrame:
    """Put a column of text in a frame as its column ``value``, for evaluating expressions."""
    return pl.DataFrame({"value": values.cast(pl.String)})


def _python_dates(values: pl.Series, date_format: str) -> pl.Series:
    """Parse with ``datetime.strptime`` once per distinct value (see :func:`needs_python`)."""
    local: dict[str, object] = {}
    for text in values.drop_nulls().unique().to_list():
        try:
            local[text] = datetime.strptime(text, date_format).date()
        except ValueError:
            local[text] = None
    return values.replace_strict(list(local), list(local.values()), default=None,
                                 return_dtype=pl.Date)


def _python_shift(values: pl.Series, days: pl.Series, date_format: str) -> pl.Series:
    """Shift with Python's datetime, once per value (see :func:`needs_python`).

    The shift is limited as in :func:`_shift_within_calendar`, or to the years that
    ``%y`` reads. Python adds days to an aware datetime in its own local time, so its
    offset stays as it was.
    """
    first, last = _calendar_limits(date_format)
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
        local_date = moment.date()
        offset = min(max(int(offset), (first - local_date).days), (last - local_date).days)
        shifted.append(_strftime(moment + timedelta(days=offset), date_format))
    return pl.Series(values.name, shifted, dtype=pl.String)


def _strftime(moment: datetime, date_format: str) -> str:
    """Format like ``datetime.strftime``, but write ``%Y`` with 4 digits for years before 1000.

    On Linux, Python 3.11's strftime (glibc's) writes the year 5 as ``5``,
    which ``strptime``'s ``%Y`` does not read back, while Polars writes ``0005``.
    """
    def write(directive: re.Match[str]) -> str:
        return f"{moment.year:04d}" if directive.group(1) == "Y" else directive.group(0)

    if moment.year < 1000:
        date_format = _DIRECTIVE.sub(write, date_format)
    return moment.strftime(date_format)
