"""Class statistics: the equivalence classes of a table and their sensitive values.

:class:`ClassStatistics` is the accumulator every privacy model and risk
measure is computed from. It reads batches, keeps one count per combination of
quasi-identifier values and, per sensitive attribute, one count per
(combination, sensitive value), and merges with another accumulator. Memory is
bounded by the number of equivalence classes times the number of sensitive
values per class, never by the number of records.

:meth:`ClassStatistics.result` returns :class:`EquivalenceClasses`, the plain
tables that the metric functions in :mod:`maskme.metrics.privacy` and
:mod:`maskme.metrics.risk` take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from maskme.errors import MaskMeError, UsageError
from maskme.metrics._input import column, string_expressions, to_polars
from maskme.missing import missing_text
from maskme.policy.paths import is_column_pattern

__all__ = ["SUPPRESSED_PATTERN", "ClassStatistics", "EquivalenceClasses", "count_classes"]

#: A quasi-identifier value made only of ``*`` characters is a suppressed value
#: (hierarchies write full suppression as ``*`` or as ``*****``).
SUPPRESSED_PATTERN = r"^\*+$"

# Pending partial tables are merged once they hold more rows than the merged
# table and at least this many, so memory stays within about twice the merged
# table and each row is merged a bounded number of times on average.
_COMPACT_SLACK_ROWS = 200_000
# A merge also happens once this many partial tables wait, so tiny batches do not
# pile up objects.
_COMPACT_PIECES = 256

_RESERVED_NAMES = ("class_id", "count")


@dataclass(frozen=True, kw_only=True)
class EquivalenceClasses:
    """The equivalence classes of a table, ready for the metric functions.

    Attributes
    ----------
    quasi_identifiers
        The quasi-identifier field paths, in the order given.
    classes
        One row per equivalence class: ``class_id`` (``UInt32``, 0-based), one
        ``String`` column per quasi-identifier (null is a missing value, which
        is a value of its own), and ``count``, the number of records. Rows are
        sorted by the quasi-identifier values, nulls last, so ``class_id`` does
        not depend on how the input was cut into batches.
    histograms
        Per sensitive attribute, one row per (class, value) that occurs:
        ``class_id``, ``value`` (``String``; null counts the records whose
        sensitive value is missing) and ``count``. Sorted by class and value.
    suppressed_records
        Records whose quasi-identifiers were all suppressed (``*``): they are in
        no class and in no histogram.
    missing_values
        Texts declared missing. In a quasi-identifier each stays a value of
        its own (the output shows it), and it counts as missing.
    """

    quasi_identifiers: tuple[str, ...]
    classes: pl.DataFrame
    histograms: dict[str, pl.DataFrame] = field(default_factory=dict)
    suppressed_records: int = 0
    missing_values: tuple[str, ...] = ()

    @property
    def class_sizes(self) -> pl.Series:
        """The number of records of each class, indexed by ``class_id``."""
        return self.classes["count"]

    @property
    def records_in_classes(self) -> int:
        """The number of records that belong to a class (all but the suppressed ones)."""
        return int(self.classes["count"].sum())

    @property
    def records(self) -> int:
        """The number of records read, suppressed ones included."""
        return self.records_in_classes + self.suppressed_records

    @property
    def records_with_missing_quasi_identifiers(self) -> int:
        """The number of records with at least one missing quasi-identifier value."""
        if self.classes.height == 0:
            return 0
        has_missing = pl.any_horizontal(
            column(name).is_null() | missing_text(column(name), self.missing_values)
            for name in self.quasi_identifiers
        )
        return int(self.classes.filter(has_missing)["count"].sum())


class ClassStatistics:
    """Accumulator of class counts and per-class sensitive value counts.

    Parameters
    ----------
    quasi_identifiers
        Field paths whose combination of values defines a class. At least one.
    sensitive_attributes
        Field paths whose values are counted per class.
    missing_values
        Texts that count as missing values, as the empty string does.

    Notes
    -----
    The lifecycle is ``update(batch)`` for each batch, ``merge(other)`` to
    combine accumulators filled elsewhere (another batch range, a Spark
    partition), then ``result()``. Counts are exact integers, so the result is
    identical for any batching and any merge order.

    A batch may be a Polars or pandas DataFrame with any dtypes: the needed
    columns are cast to ``String`` and the empty string counts as missing.
    A record whose quasi-identifier values all match :data:`SUPPRESSED_PATTERN`
    is counted as suppressed and left out of every class and histogram. A
    missing quasi-identifier value is grouped as a value of its own.
    """

    def __init__(
        self,
        quasi_identifiers: Sequence[str],
        sensitive_attributes: Sequence[str] = (),
        missing_values: Sequence[str] = (),
    ) -> None:
        self.quasi_identifiers = tuple(quasi_identifiers)
        self.sensitive_attributes = tuple(dict.fromkeys(sensitive_attributes))
        self.missing_values = tuple(missing_values)

        if not self.quasi_identifiers:
            raise MaskMeError(
                "no quasi-identifiers given: name at least one field whose values, "
                "combined, can identify a person"
            )
        if len(set(self.quasi_identifiers)) != len(self.quasi_identifiers):
            raise UsageError("a quasi-identifier is listed twice: list each field once")
        patterns = [
            name for name in (*self.quasi_identifiers, *self.sensitive_attributes)
            if is_column_pattern(name)
        ]
        if patterns:
            raise MaskMeError(
                f"field `{patterns[0]}` cannot be measured, because Polars reads `*` and names "
                "like `^...$` as column patterns: rename the field before measuring"
            )
        reserved = [name for name in self.quasi_identifiers if name in _RESERVED_NAMES]
        if reserved:
            raise MaskMeError(
                f"a quasi-identifier cannot be named `{reserved[0]}`, because the class table "
                "uses that column name: rename the field before measuring"
            )
        overlap = set(self.quasi_identifiers) & set(self.sensitive_attributes)
        if overlap:
            name = min(overlap)
            raise MaskMeError(
                f"field `{name}` is both a quasi-identifier and a sensitive attribute: "
                "a field can be only one of the two"
            )

        # Inside the accumulator, quasi-identifiers have positional names.
        self._keys = [f"q{index}" for index in range(len(self.quasi_identifiers))]
        self._targets: list[str | None] = list(self.sensitive_attributes) or [None]
        self._pending: dict[str | None, list[pl.DataFrame]] = {
            target: [] for target in self._targets
        }
        self._merged: dict[str | None, pl.DataFrame | None] = {
            target: None for target in self._targets
        }
        self._pending_rows = 0
        self._suppressed = 0
        self._fields = [*self.quasi_identifiers, *self.sensitive_attributes]

    @property
    def suppressed_records(self) -> int:
        """Suppressed records seen so far."""
        return self._suppressed

    def update(self, batch: object) -> None:
        """Count the records of one batch."""
        frame = to_polars(batch).lazy()
        frame = frame.select(self._string_expressions(frame.collect_schema()))
        self._add(pl.collect_all(self._queries(frame)))

    def update_lazy(self, frame: pl.LazyFrame, *, unless: str | None = None) -> bool:
        """Count the records of a lazy frame with Polars' streaming engine.

        Polars reads the source in parallel and keeps only the class tables,
        so a whole file is counted in one call, in memory bounded like
        :meth:`update`'s. ``unless`` names a Boolean column of ``frame``: when
        it is true for some record, nothing is counted and False is returned.
        Errors of the source (a malformed file) propagate as PolarsError, and
        then nothing has been counted either.
        """
        flag = "unless"
        while flag in self._fields:
            flag = f"_{flag}"
        selected = frame.select(
            *self._string_expressions(frame.collect_schema()),
            (column(unless) if unless is not None else pl.lit(False)).alias(flag),
        )
        tables = pl.collect_all(self._queries(selected, extra_key=flag), engine="streaming")
        if any(table[flag].any() for table in tables):
            return False
        self._add([table.drop(flag) for table in tables])
        return True

    def _string_expressions(self, schema: pl.Schema) -> list[pl.Expr]:
        """Select the fields as text with missing values null.

        A declared missing text becomes null only in a sensitive attribute. In a
        quasi-identifier it stays a value of its own, because the output keeps
        it as it came, where records with ``?`` and with ``N/A`` differ.
        """
        return [
            *string_expressions(schema, self.quasi_identifiers),
            *string_expressions(schema, self.sensitive_attributes, self.missing_values),
        ]

    def _queries(self, frame: pl.LazyFrame, extra_key: str | None = None) -> list[pl.LazyFrame]:
        """Build the count queries: per class, or per class and sensitive value for each attribute.

        ``extra_key``, a column of ``frame``, is one more grouping key, kept in
        the tables under its own name.
        """
        # Columns are selected under internal names, so a sensitive attribute
        # named like an internal column (`q0`, `value`) cannot collide.
        keys = [
            column(name).alias(key)
            for name, key in zip(self.quasi_identifiers, self._keys, strict=True)
        ]
        extra = [] if extra_key is None else [extra_key]
        queries = []
        for target in self._targets:
            if target is None:
                counted = frame.select(*keys, *extra).group_by([*self._keys, *extra]).len(name="count")
            else:
                counted = (
                    frame.select(*keys, column(target).alias("value"), *extra)
                    .group_by([*self._keys, "value", *extra])
                    .len(name="count")
                )
            queries.append(counted.with_columns(pl.col("count").cast(pl.UInt64)))
        return queries

    def _add(self, tables: list[pl.DataFrame]) -> None:
        """Set aside suppressed records and queue the counts of the others for merging."""
        starts_with_star = pl.all_horizontal(
            pl.col(key).str.starts_with("*").fill_null(False) for key in self._keys
        )
        suppressed = pl.all_horizontal(
            pl.col(key).str.contains(SUPPRESSED_PATTERN).fill_null(False) for key in self._keys
        )
        # The regular expression runs only when some row could match it.
        any_suppressed = tables[0].select(starts_with_star.any()).item()
        if any_suppressed:
            self._suppressed += int(tables[0].filter(suppressed)["count"].sum())
        for target, table in zip(self._targets, tables, strict=True):
            in_classes = table.filter(~suppressed) if any_suppressed else table
            if in_classes.height:
                self._pending[target].append(in_classes)
                self._pending_rows += in_classes.height
        self._compact_if_large()

    def merge(self, other: ClassStatistics) -> None:
        """Add the counts of ``other``, an accumulator over the same fields."""
        if (
            other.quasi_identifiers != self.quasi_identifiers
            or other.sensitive_attributes != self.sensitive_attributes
        ):
            raise MaskMeError(
                "cannot merge class statistics over different fields: both accumulators "
                "need the same quasi-identifiers and sensitive attributes, in the same order"
            )
        if set(other.missing_values) != set(self.missing_values):
            raise MaskMeError(
                "cannot merge class statistics counted with different missing values: "
                "give both accumulators the same missing_values"
            )
        self._suppressed += other._suppressed
        for target in self._targets:
            merged = other._merged[target]
            if merged is not None:
                self._pending[target].append(merged)
                self._pending_rows += merged.height
            self._pending[target].extend(other._pending[target])
            self._pending_rows += sum(frame.height for frame in other._pending[target])
        self._compact_if_large()

    def result(self) -> EquivalenceClasses:
        """Return the classes and histograms counted so far."""
        self._compact()
        empty_keys = {key: pl.String for key in self._keys}
        empty_counts = pl.DataFrame(schema={**empty_keys, "value": pl.String, "count": pl.UInt64})
        first = self._targets[0]
        histograms: dict[str, pl.DataFrame] = {}
        if first is None:
            base = self._merged[first]
            if base is None:
                base = pl.DataFrame(schema={**empty_keys, "count": pl.UInt64})
            classes = base.sort(self._keys, nulls_last=True).with_row_index("class_id")
        else:
            # One grouping gives both the classes and, exploded, the first histogram
            # already in class order, which saves a join over the histogram rows.
            counts = self._merged[first]
            grouped = (
                (empty_counts if counts is None else counts)
                .group_by(self._keys)
                .agg(pl.col("count").sum().alias("total"), pl.col("value"), pl.col("count"))
                .sort(self._keys, nulls_last=True)
                .with_row_index("class_id")
            )
            classes = grouped.select("class_id", *self._keys, pl.col("total").alias("count"))
            exploded = grouped.select("class_id", "value", "count").explode("value", "count")
            histograms[first] = _by_class_and_value(exploded)

        for target in self.sensitive_attributes[1:]:
            counts = self._merged[target]
            joined = (empty_counts if counts is None else counts).join(
                classes.select(["class_id", *self._keys]), on=self._keys, nulls_equal=True
            )
            histograms[target] = _by_class_and_value(joined)
        renames = dict(zip(self._keys, self.quasi_identifiers, strict=True))
        return EquivalenceClasses(
            quasi_identifiers=self.quasi_identifiers,
            classes=classes.rename(renames).select("class_id", *self.quasi_identifiers, "count"),
            histograms={name: histograms[name] for name in self.sensitive_attributes},
            suppressed_records=self._suppressed,
            missing_values=self.missing_values,
        )

    def _compact_if_large(self) -> None:
        merged_rows = sum(frame.height for frame in self._merged.values() if frame is not None)
        pieces = max(len(pending) for pending in self._pending.values())
        too_many_rows = self._pending_rows > max(merged_rows, _COMPACT_SLACK_ROWS)
        if too_many_rows or pieces > _COMPACT_PIECES:
            self._compact()

    def _compact(self) -> None:
        for target in self._targets:
            pieces = self._pending[target]
            if not pieces:
                continue
            merged = self._merged[target]
            if merged is not None:
                pieces = [merged, *pieces]
            if len(pieces) == 1:
                # Each piece already has one row per key, so there is nothing to add up.
                self._merged[target] = pieces[0]
            else:
                keys = self._keys if target is None else [*self._keys, "value"]
                self._merged[target] = pl.concat(pieces).group_by(keys).agg(pl.col("count").sum())
            self._pending[target] = []
        self._pending_rows = 0


def _by_class_and_value(histogram: pl.DataFrame) -> pl.DataFrame:
    """Return ``class_id``, ``value`` and ``count``, sorted by class and then value (nulls last).

    Sorting by two integers, the class and the rank of the value among the
    distinct values, is faster than sorting by the strings themselves.
    """
    distinct = histogram["value"].unique().sort(nulls_last=True)
    rank = pl.col("value").replace_strict(
        distinct, pl.int_range(distinct.len(), eager=True), return_dtype=pl.UInt32
    )
    return histogram.sort("class_id", rank).select("class_id", "value", "count")


def count_classes(
    batches: Iterable[object],
    quasi_identifiers: Sequence[str],
    sensitive_attributes: Sequence[str] = (),
) -> EquivalenceClasses:
    """Count the equivalence classes of ``batches`` (DataFrames) in one call."""
    statistics = ClassStatistics(quasi_identifiers, sensitive_attributes)
    for batch in batches:
        statistics.update(batch)
    return statistics.result()
