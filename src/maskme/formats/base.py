"""The shape every format module shares: a reader of batches, a batch, a writer.

A batch is a slice of consecutive records. Strategies never receive it: the
engine reads one field's values from it as a Polars ``String`` column, and
writes the transformed column back. Every format keeps values it is not asked to change
exactly as they came.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import polars as pl

from maskme.policy.paths import FieldPath

__all__ = ["Batch", "FieldValues", "Reader", "Writer"]


@dataclass(frozen=True, kw_only=True)
class FieldValues:
    """One field's values in a batch, and which record each value belongs to.

    ``record_index`` is the 0-based record position in the batch for each
    value; it is None when there is exactly one value per record, in order.
    A path through arrays has one value per array element.
    """

    values: pl.Series
    record_index: np.ndarray | None = None


class Batch(ABC):
    """Consecutive records of one input, in the format's own representation."""

    #: 1-based number of the batch's first record in the whole input.
    first_record: int

    @property
    @abstractmethod
    def length(self) -> int:
        """Number of records."""

    @abstractmethod
    def field_values(self, path: FieldPath) -> FieldValues | None:
        """Return the values at ``path`` as a String column, or None if no record has it."""

    def has_field(self, path: FieldPath) -> bool:
        """Return whether some record has a value (null included) at ``path``."""
        return self.field_values(path) is not None

    @abstractmethod
    def set_field_values(
        self, path: FieldPath, original: FieldValues, new: pl.Series, *, keeps_type: bool
    ) -> None:
        """Write transformed values back where ``original`` came from."""

    @abstractmethod
    def drop_field(self, path: FieldPath) -> None:
        """Remove the field from every record."""

    @abstractmethod
    def keep_only(self, paths: Sequence[FieldPath]) -> None:
        """Remove every field that is not on one of ``paths`` (``default: drop``)."""

    @abstractmethod
    def frame(self, paths: Sequence[FieldPath]) -> pl.DataFrame:
        """Return one String column per path (one row per record), null where absent."""

    def record_numbers(self, record_index: np.ndarray | None, count: int) -> pl.Series:
        """Return the 1-based record number of each of ``count`` values."""
        if record_index is None:
            start = self.first_record
            return pl.Series("record", np.arange(start, start + count, dtype=np.uint64))
        return pl.Series("record", record_index.astype(np.uint64) + np.uint64(self.first_record))


class Reader(ABC):
    """Reads an input as a stream of batches; can be iterated more than once (two passes)."""

    #: Bytes of input read so far, for progress; ``total_bytes`` is None when unknown.
    bytes_read: int = 0
    total_bytes: int | None = None

    @abstractmethod
    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Yield the input's records in batches of at most ``batch_size`` records."""

    def top_level_fields(self) -> list[str] | None:
        """Return the field names every record has (CSV header), or None when not fixed."""
        return None

    def close(self) -> None:
        """Release files held by the reader."""


class Writer(ABC):
    """Writes batches to a binary stream (the engine handles temporary files and renames)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    @abstractmethod
    def write(self, batch: Batch) -> None:
        """Append a batch's records."""

    def finish(self) -> None:
        """Write whatever closes the document (a JSON array's bracket)."""
