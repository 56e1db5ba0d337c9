"""The class statistics table the search works on, as integer arrays.

Pass one counts the input's equivalence classes with the measurement layer's
:class:`~maskme.metrics.classes.ClassStatistics`. This module turns that result
into arrays: one row per distinct combination of quasi-identifier values, with
each value replaced by its code (see :mod:`maskme.anonymization.levels`), the
number of records, and per sensitive attribute a long table of
(row, value code, count). Everything the search does is computed from these
arrays, so its memory is bounded by the number of distinct combinations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from maskme.anonymization.levels import encode_values
from maskme.errors import MaskMeError
from maskme.metrics.classes import EquivalenceClasses
from maskme.metrics.measurement import SensitiveAttributeSpec
from maskme.metrics.privacy import AttributeKind, check_ordered_values

__all__ = ["SensitiveCounts", "StatisticsTable", "build_table"]


@dataclass(frozen=True, kw_only=True)
class SensitiveCounts:
    """Counts of one sensitive attribute's values per row of the statistics table.

    Records whose sensitive value is missing are not in these arrays: a missing
    value is not a sensitive value.
    """

    name: str
    kind: AttributeKind
    #: The distinct non-null values, sorted as text; a value's position is its code.
    values: pl.Series
    #: Each value code's number, NaN when the value is not a number (for the ordered distance).
    numbers: np.ndarray
    #: For the hierarchical distance: per hierarchy level 1..H, the node above each value code.
    ancestors: tuple[np.ndarray, ...] = ()
    row: np.ndarray
    value: np.ndarray
    count: np.ndarray

    @property
    def value_count(self) -> int:
        """Number of distinct non-null values."""
        return int(self.values.len())


@dataclass(frozen=True, kw_only=True)
class StatisticsTable:
    """Distinct quasi-identifier combinations of the input, with counts and sensitive counts."""

    quasi_identifiers: tuple[str, ...]
    #: The raw values of each row, one String column per quasi-identifier.
    raw: pl.DataFrame
    #: Value codes, one column per quasi-identifier (rows x quasi-identifiers).
    codes: np.ndarray
    #: Distinct values per quasi-identifier, in code order.
    values: tuple[pl.Series, ...]
    #: Number of records of each row.
    counts: np.ndarray
    sensitive: tuple[SensitiveCounts, ...]
    #: Records whose quasi-identifiers were already all ``*`` in the input.
    input_suppressed: int

    @property
    def records(self) -> int:
        """Number of records read, the already suppressed ones included."""
        return int(self.counts.sum()) + self.input_suppressed

    @property
    def rows(self) -> int:
        """Number of distinct quasi-identifier combinations."""
        return int(self.counts.size)


def _ancestors(spec: SensitiveAttributeSpec, values: pl.Series) -> tuple[np.ndarray, ...]:
    """Number the hierarchy node above each value at every level, naming a node by its path to the root."""
    from maskme.strategies.hierarchy import Hierarchy, load_hierarchy

    source = spec.hierarchy
    hierarchy = source if isinstance(source, Hierarchy) else load_hierarchy(source)  # type: ignore[arg-type]
    missing = int(hierarchy.missing(values).sum())
    if missing:
        raise MaskMeError(
            f"sensitive attribute `{spec.name}`: "
            f"{'1 distinct value is' if missing == 1 else f'{missing:,} distinct values are'} not in its "
            "hierarchy; list every value in column 0, or declare the attribute categorical"
        )
    levels = [hierarchy.generalize(values, level) for level in range(1, hierarchy.level_count)]
    result = []
    for level in range(len(levels)):
        paths = pl.DataFrame([column.alias(str(index)) for index, column in enumerate(levels[level:])])
        _, codes = encode_values(
            paths.select(pl.concat_str(pl.all(), separator="\x1f")).to_series()
        )
        result.append(codes)
    return tuple(result)


def build_table(
    classes: EquivalenceClasses, specs: list[SensitiveAttributeSpec]
) -> StatisticsTable:
    """Turn counted equivalence classes into the search's statistics table."""
    frame = classes.classes
    names = classes.quasi_identifiers
    values: list[pl.Series] = []
    code_columns: list[np.ndarray] = []
    for name in names:
        distinct, codes = encode_values(frame.get_column(name))
        values.append(distinct)
        code_columns.append(codes)
    if code_columns:
        codes_matrix = np.stack(code_columns, axis=1)
    else:
        codes_matrix = np.zeros((frame.height, 0), dtype=np.int64)

    # class_id is the row position: ClassStatistics numbers classes 0..n-1 in row order.
    sensitive: list[SensitiveCounts] = []
    for spec in specs:
        histogram = classes.histograms[spec.name]
        if spec.kind == "ordered":
            check_ordered_values(spec.name, histogram)
        present = histogram.filter(pl.col("value").is_not_null())
        distinct, value_codes = encode_values(present.get_column("value"))
        numbers = distinct.cast(pl.Float64, strict=False).to_numpy().astype(np.float64)
        ancestors = _ancestors(spec, distinct) if spec.kind == "hierarchical" else ()
        sensitive.append(
            SensitiveCounts(
                name=spec.name,
                kind=spec.kind,
                values=distinct,
                numbers=numbers,
                ancestors=ancestors,
                row=present.get_column("class_id").to_numpy().astype(np.int64),
                value=value_codes,
                count=present.get_column("count").to_numpy().astype(np.int64),
            )
        )
    return StatisticsTable(
        quasi_identifiers=tuple(names),
        raw=frame.select(names),
        codes=codes_matrix,
        values=tuple(values),
        counts=frame.get_column("count").to_numpy().astype(np.int64),
        sensitive=tuple(sensitive),
        input_suppressed=classes.suppressed_records,
    )
