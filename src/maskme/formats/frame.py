"""In-memory DataFrames (Polars or pandas) as a source and a destination.

Columns the policy does not touch keep their dtype and values. A transformed
column is handed to its strategy as text. When the strategy keeps the type, the
result is cast back to the column's original dtype, and otherwise it becomes a
String column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from maskme.errors import FormatError, UsageError
from maskme.formats.base import Batch, FieldValues, Reader
from maskme.policy.paths import FieldPath

__all__ = ["FrameBatch", "FrameReader", "is_dataframe", "to_polars"]


def is_dataframe(value: Any) -> bool:
    """Return whether ``value`` is a Polars or pandas DataFrame."""
    if isinstance(value, pl.DataFrame):
        return True
    module = type(value).__module__
    return module.startswith("pandas") and type(value).__name__ == "DataFrame"


def to_polars(frame: Any) -> tuple[pl.DataFrame, str]:
    """Return a Polars DataFrame and the kind of the original ("polars" or "pandas")."""
    if isinstance(frame, pl.DataFrame):
        return frame, "polars"
    if isinstance(frame, pl.LazyFrame):
        return frame.collect(), "polars"
    names = [name for name in getattr(frame.index, "names", []) if name is not None]
    if names:
        raise UsageError(
            f"the DataFrame has a named index ({', '.join(map(str, names))}), which the policy "
            "cannot reach; call reset_index() first so the policy applies to it"
        )
    try:
        converted = pl.from_pandas(frame, include_index=False)
    except Exception as error:  # pyarrow raises several kinds for unsupported object columns
        raise FormatError(f"cannot convert the pandas DataFrame: {type(error).__name__}") from None
    return converted, "pandas"


def _as_text(column: pl.Series) -> pl.Series:
    if column.dtype == pl.String:
        return column
    if column.dtype in (pl.Date, pl.Datetime):
        return column.dt.to_string()
    if column.dtype.is_nested() or column.dtype == pl.Object:
        raise FormatError(
            f"column `{column.name}` has the nested type {column.dtype}; "
            "strategies apply to scalar columns"
        )
    return column.cast(pl.String)


def _restore_type(new: pl.Series, dtype: pl.DataType) -> pl.Series:
    if dtype == pl.String:
        return new
    try:
        if dtype == pl.Date:
            return new.str.to_date(strict=True)
        if isinstance(dtype, pl.Datetime):
            return new.str.to_datetime(strict=True).cast(dtype)
        if dtype.is_integer():
            as_float = new.cast(pl.Float64, strict=True)
            return as_float.round(0).cast(dtype, strict=True)
        return new.cast(dtype, strict=True)
    except pl.exceptions.PolarsError:
        return new


class FrameBatch(Batch):
    """A slice of an in-memory DataFrame, with its original dtypes."""

    def __init__(self, frame: pl.DataFrame, first_record: int) -> None:
        self.data = frame
        self.first_record = first_record

    @property
    def length(self) -> int:
        return self.data.height

    def field_values(self, path: FieldPath) -> FieldValues | None:
        if path.text not in self.data.columns:
            return None
        return FieldValues(values=_as_text(self.data.get_column(path.text)))

    def set_field_values(
        self, path: FieldPath, original: FieldValues, new: pl.Series, *, keeps_type: bool
    ) -> None:
        dtype = self.data.schema[path.text]
        column = _restore_type(new, dtype) if keeps_type else new.cast(pl.String)
        self.data = self.data.with_columns(column.alias(path.text))

    def drop_field(self, path: FieldPath) -> None:
        if path.text in self.data.columns:
            self.data = self.data.drop(path.text)

    def keep_only(self, paths: Sequence[FieldPath]) -> None:
        wanted = {path.text for path in paths}
        self.data = self.data.select([c for c in self.data.columns if c in wanted])

    def frame(self, paths: Sequence[FieldPath]) -> pl.DataFrame:
        columns = []
        for path in paths:
            if path.text in self.data.columns:
                columns.append(_as_text(self.data.get_column(path.text)).alias(path.text))
            else:
                columns.append(pl.Series(path.text, [None] * self.length, dtype=pl.String))
        return pl.DataFrame(columns) if columns else pl.DataFrame(height=self.length)


class FrameReader(Reader):
    """Cuts an in-memory Polars DataFrame into batches."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.total_bytes = None

    def top_level_fields(self) -> list[str]:
        return list(self.frame.columns)

    def batches(self, batch_size: int) -> Iterator[Batch]:
        if self.frame.height == 0:
            yield FrameBatch(self.frame, 1)
            return
        for offset in range(0, self.frame.height, batch_size):
            yield FrameBatch(self.frame.slice(offset, batch_size), offset + 1)
