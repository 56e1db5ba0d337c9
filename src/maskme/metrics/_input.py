"""Turn the frames metrics receive into Polars frames of ``String`` columns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

import polars as pl
import polars.selectors as cs

from maskme.errors import MaskMeError, suggest
from maskme.missing import missing_text

__all__ = ["column", "string_columns", "string_expressions", "to_polars"]

logger = logging.getLogger(__name__)

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# pyarrow's ArrowInvalid and ArrowTypeError derive from ValueError and TypeError.
_CONVERSION_ERRORS = (ValueError, TypeError, pl.exceptions.PolarsError)


def to_polars(frame: Any) -> pl.DataFrame:
    """Return ``frame`` as a Polars DataFrame, converting a pandas DataFrame.

    Raises
    ------
    MaskMeError
        When ``frame`` is neither a Polars nor a pandas DataFrame.
    """
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    module = type(frame).__module__
    if module.startswith("pandas") and type(frame).__name__ == "DataFrame":
        # The index carries no field, so it is dropped rather than turned into a column.
        try:
            return pl.from_pandas(frame, include_index=False)
        except _CONVERSION_ERRORS:
            # Object columns that mix types (1, "x", 2.5) fail in pyarrow. They
            # convert as pandas strings, which keep missing values missing.
            logger.debug("converting object columns of a pandas DataFrame to strings")
        objects = [name for name in frame.columns if frame[name].dtype == object]
        converted = frame.astype(dict.fromkeys(objects, "string"))
        try:
            return pl.from_pandas(converted, include_index=False)
        except _CONVERSION_ERRORS as error:
            raise MaskMeError(
                f"cannot convert the pandas DataFrame ({type(error).__name__}): convert "
                "its columns to strings or numbers first"
            ) from None
    raise MaskMeError(
        f"expected a Polars or pandas DataFrame, got {type(frame).__name__}; "
        "pass a DataFrame, a file path, or '-' for standard input"
    )


def string_columns(frame: FrameT, columns: Sequence[str], markers: Sequence[str] = ()) -> FrameT:
    """Select ``columns`` as ``String`` columns in which the empty string and ``markers`` are null.

    Any dtype is accepted and cast to its text form, so grouping never depends
    on how a reader or a user typed a column. An empty string is a missing
    value, as an empty CSV cell is, and so is each text of ``markers`` (a
    policy's ``missing_values``). A LazyFrame gives a LazyFrame.

    Raises
    ------
    MaskMeError
        When a column is not in the frame.
    """
    return frame.select(string_expressions(frame.collect_schema(), columns, markers))


def column(name: str) -> pl.Expr:
    """Select the column named exactly ``name``.

    ``pl.col`` reads ``*`` and names like ``^a.*$`` as patterns, and field
    names come from the data.
    """
    return cs.by_name(name).as_expr()


def string_expressions(
    schema: pl.Schema, columns: Sequence[str], markers: Sequence[str] = ()
) -> list[pl.Expr]:
    """Return the expressions :func:`string_columns` selects, for a frame with ``schema``.

    Raises
    ------
    MaskMeError
        When a column is not in ``schema``.
    """
    missing = [name for name in columns if name not in schema]
    if missing:
        name = missing[0]
        raise MaskMeError(
            f"field `{name}` not found in the data{suggest(name, schema.names())}; "
            f"the data has {len(schema)} fields: check the quasi-identifier and "
            "sensitive attribute names"
        )
    expressions = []
    for name in dict.fromkeys(columns):
        selected = column(name)
        if schema[name] != pl.String:
            selected = selected.cast(pl.String)
        absent = missing_text(selected, markers)
        expressions.append(pl.when(absent).then(None).otherwise(selected).alias(name))
    return expressions
