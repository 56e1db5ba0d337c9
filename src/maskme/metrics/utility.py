"""Utility and information loss: whole-table measures and per-field distortion.

Whole table (:func:`table_utility`), from the class sizes f_E, the records n
in classes and the suppressed records s, with N = n + s:

- discernibility: ``sum_E f_E**2 + s * N`` (each suppressed record costs as
  much as a class holding every record);
- average class size: ``n / (number of classes)``, and divided by k when a
  k is given (the normalized average class size, 1 at best);
- suppressed share: ``s / N``.

Per field, accumulators compare the values before and after a run, batch by
batch, and merge like :class:`~maskme.metrics.classes.ClassStatistics`:

- :class:`GeneralizationLoss` (``generalize``): the normalized certainty
  penalty, interval widths and, with a hierarchy, generalization levels;
- :class:`NoiseDistortion` (``noise``): change of mean, standard deviation
  and quantiles, and the Kolmogorov-Smirnov and Wasserstein-1 distances;
- :class:`DistinctValuesKept` (``hash``, ``redact``, ``drop`` and every other
  strategy): the share of distinct values kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from maskme.metrics._hierarchy import HierarchySource, hierarchy_rows
from maskme.metrics.classes import SUPPRESSED_PATTERN

__all__ = [
    "DistinctValuesKept",
    "FieldAccumulator",
    "GeneralizationLoss",
    "NoiseDistortion",
    "TableUtility",
    "field_accumulator",
    "table_utility",
]

_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
# Partial value-count tables are merged once they hold more rows than the merged
# table and at least this many, or once this many of them wait.
_COMPACT_ROWS = 500_000
_COMPACT_PIECES = 256


@dataclass(frozen=True, kw_only=True)
class TableUtility:
    """Whole-table utility measures; averages are None without classes."""

    discernibility: int
    average_class_size: float | None
    normalized_average_class_size: float | None
    suppressed_share: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "discernibility": self.discernibility,
            "average_class_size": self.average_class_size,
            "normalized_average_class_size": self.normalized_average_class_size,
            "suppressed_share": self.suppressed_share,
        }


def table_utility(
    class_sizes: pl.Series | npt.ArrayLike, *, suppressed_records: int = 0, k: int | None = None
) -> TableUtility:
    """Compute discernibility, average class size and suppressed share."""
    sizes = np.asarray(class_sizes, dtype=np.int64)
    kept = int(sizes.sum())
    total = kept + suppressed_records
    average = kept / sizes.size if sizes.size else None
    return TableUtility(
        discernibility=int((sizes * sizes).sum()) + suppressed_records * total,
        average_class_size=average,
        normalized_average_class_size=average / k if average is not None and k else None,
        suppressed_share=suppressed_records / total if total else None,
    )


class FieldAccumulator:
    """Base of the per-field accumulators: ``update(before, after)``, ``merge``, ``result``.

    ``before`` and ``after`` are aligned ``String`` series of one batch (row i
    of both is the same record). ``after`` is None when the field was dropped.
    """

    strategy: str

    def update(self, before: pl.Series, after: pl.Series | None) -> None:
        raise NotImplementedError

    def merge(self, other: FieldAccumulator) -> None:
        raise NotImplementedError

    def result(self) -> dict[str, Any]:
        raise NotImplementedError


class _CountTable:
    """Exact value counts that merge: partial tables are concatenated and summed lazily."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self._pieces: list[pl.DataFrame] = []
        self._merged_rows = 0
        self._pending_rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        counted = frame.group_by(self.keys).len(name="count")
        self._append(counted.with_columns(pl.col("count").cast(pl.UInt64)))

    def extend(self, other: _CountTable) -> None:
        for piece in other._pieces:
            self._append(piece)

    def table(self) -> pl.DataFrame:
        if not self._pieces:
            return pl.DataFrame(schema={key: pl.String for key in self.keys} | {"count": pl.UInt64})
        merged = pl.concat(self._pieces).group_by(self.keys).agg(pl.col("count").sum())
        self._pieces = [merged]
        self._merged_rows = merged.height
        self._pending_rows = 0
        return merged

    def _append(self, piece: pl.DataFrame) -> None:
        self._pieces.append(piece)
        self._pending_rows += piece.height
        too_many_rows = self._pending_rows > max(self._merged_rows, _COMPACT_ROWS)
        if too_many_rows or len(self._pieces) > _COMPACT_PIECES:
            self.table()


class DistinctValuesKept(FieldAccumulator):
    """Share of distinct values kept: distinct non-missing values after / before.

    A dropped field keeps 0. Memory is bounded by the number of distinct values.
    """

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self._before = _CountTable(["value"])
        self._after = _CountTable(["value"])
        self._records = 0
        self._changed = 0
        self._dropped = False

    def update(self, before: pl.Series, after: pl.Series | None) -> None:
        self._records += before.len()
        self._before.add(pl.DataFrame({"value": before.drop_nulls()}))
        if after is None:
            self._dropped = True
            self._changed += before.len() - before.null_count()
            return
        self._after.add(pl.DataFrame({"value": after.drop_nulls()}))
        self._changed += int((before.ne_missing(after)).sum())

    def merge(self, other: FieldAccumulator) -> None:
        assert isinstance(other, DistinctValuesKept)
        self._before.extend(other._before)
        self._after.extend(other._after)
        self._records += other._records
        self._changed += other._changed
        self._dropped = self._dropped or other._dropped

    def result(self) -> dict[str, Any]:
        distinct_before = self._before.table().height
        distinct_after = 0 if self._dropped else self._after.table().height
        return {
            "strategy": self.strategy,
            "measure": "distinct_values_kept",
            "records": self._records,
            "changed_share": self._changed / self._records if self._records else None,
            "distinct_values_before": distinct_before,
            "distinct_values_after": distinct_after,
            "distinct_values_kept_share": (
                min(1.0, distinct_after / distinct_before) if distinct_before else None
            ),
        }


class GeneralizationLoss(FieldAccumulator):
    """Information loss of a generalized field, from (before, after) value pairs.

    Parameters
    ----------
    strategy
        The strategy name, for the report.
    hierarchy
        The field's hierarchy, to report the level each record was generalized to.

    Notes
    -----
    The normalized certainty penalty (NCP) of a record is measured against the
    values observed before the run, because the strategy's own domain is not
    known here. For a numeric field (every value before the run parses as a
    number, or as an ISO date counted in days) it is the span ``max - min`` of the original values that share
    the record's generalized value, divided by the span of all original
    values. For any other field it is ``(d_g - 1) / (d - 1)`` with d_g the
    distinct original values sharing the generalized value and d all distinct
    original values. A record whose label covers one value costs 0. A record
    generalized to ``*`` (or removed) costs 1, because it covers the whole
    domain even when few values were observed. The field's loss is the mean
    over records with a value before the run.
    """

    def __init__(
        self, strategy: str = "generalize", hierarchy: HierarchySource | None = None
    ) -> None:
        self.strategy = strategy
        self.hierarchy = hierarchy
        self._pairs = _CountTable(["before", "after"])
        self._records = 0

    def update(self, before: pl.Series, after: pl.Series | None) -> None:
        self._records += before.len()
        if after is None:
            after = pl.Series(values=[None] * before.len(), dtype=pl.String)
        self._pairs.add(
            pl.DataFrame({"before": before, "after": after}).filter(pl.col("before").is_not_null())
        )

    def merge(self, other: FieldAccumulator) -> None:
        assert isinstance(other, GeneralizationLoss)
        self._pairs.extend(other._pairs)
        self._records += other._records

    def result(self) -> dict[str, Any]:
        pairs = self._pairs.table()
        counted = int(pairs["count"].sum())
        report: dict[str, Any] = {
            "strategy": self.strategy,
            "measure": "generalization",
            "records": self._records,
            "records_with_values": counted,
            "distinct_values_before": pairs["before"].n_unique(),
            "distinct_values_after": pairs["after"].drop_nulls().n_unique(),
            "changed_share": (
                int(pairs.filter(pl.col("before").ne_missing(pl.col("after")))["count"].sum())
                / counted
                if counted
                else None
            ),
        }
        report.update(_certainty_penalty(pairs, counted))
        report["mean_interval_width"] = _mean_interval_width(pairs)
        report["levels"] = _levels(pairs, self.hierarchy) if self.hierarchy is not None else None
        return report


def _certainty_penalty(pairs: pl.DataFrame, counted: int) -> dict[str, Any]:
    if counted == 0:
        return {"information_loss": None, "information_loss_kind": None}
    numbers = pairs.with_columns(number=_parse_numbers(pairs["before"]))
    if numbers["number"].null_count() == 0:
        span = float(numbers["number"].max()) - float(numbers["number"].min())  # type: ignore[arg-type]
        groups = numbers.group_by("after").agg(
            (pl.col("number").max() - pl.col("number").min()).alias("span"),
            pl.col("count").sum(),
        )
        penalty = groups["span"] / span if span > 0 else groups["span"] * 0.0
        penalty = _suppressed_costs_one(groups["after"], penalty)
        loss = float((penalty * groups["count"]).sum()) / counted
        return {"information_loss": loss, "information_loss_kind": "numeric_ncp"}
    domain = pairs["before"].n_unique()
    groups = pairs.group_by("after").agg(
        pl.col("before").n_unique().alias("covered"), pl.col("count").sum()
    )
    if domain > 1:
        penalty = (groups["covered"] - 1) / (domain - 1)
    else:
        penalty = groups["covered"] * 0.0
    penalty = _suppressed_costs_one(groups["after"], penalty)
    loss = float((penalty * groups["count"]).sum()) / counted
    return {"information_loss": loss, "information_loss_kind": "categorical_ncp"}


def _suppressed_costs_one(labels: pl.Series, penalty: pl.Series) -> pl.Series:
    """Set the penalty of ``*`` labels and removed values to 1: they cover the whole domain."""
    covers_all = labels.is_null() | labels.str.contains(SUPPRESSED_PATTERN)
    return pl.select(pl.when(covers_all).then(1.0).otherwise(penalty)).to_series()


# Interval labels: `20-39`, `[20,30[`, `[20,30)`, `20..29`.
_INTERVAL_PATTERN = (
    r"^\s*[\[(]?\s*(-?\d+(?:\.\d+)?)\s*(?:-|,|\.\.)\s*(-?\d+(?:\.\d+)?)\s*[\])\[]?\s*$"
)


def _mean_interval_width(pairs: pl.DataFrame) -> float | None:
    bounds = pairs.filter(pl.col("after").is_not_null()).select(
        pl.col("after").str.extract(_INTERVAL_PATTERN, 1).cast(pl.Float64).alias("low"),
        pl.col("after").str.extract(_INTERVAL_PATTERN, 2).cast(pl.Float64).alias("high"),
        "count",
    )
    # A label such as `2024-01` (a truncated date) matches the pattern with high < low:
    # it is not an interval.
    intervals = bounds.filter(
        pl.col("low").is_not_null()
        & pl.col("high").is_not_null()
        & (pl.col("high") >= pl.col("low"))
    )
    total = int(intervals["count"].sum())
    if total == 0:
        return None
    return float(((intervals["high"] - intervals["low"]) * intervals["count"]).sum()) / total


def _levels(pairs: pl.DataFrame, hierarchy: HierarchySource) -> dict[str, int]:
    """Count records per generalization level; ``unknown`` where no level matches."""
    rows = hierarchy_rows(hierarchy)
    by_value = {row[0]: row for row in rows}
    counts: dict[str, int] = {}
    # One step per distinct (before, after) pair, not per record.
    for before, after, count in pairs.iter_rows():
        row = by_value.get(before)
        level = "unknown"
        if after is None:
            level = "removed"
        elif row is not None and after in row:
            level = str(row.index(after))
        counts[level] = counts.get(level, 0) + int(count)
    return dict(sorted(counts.items()))


class NoiseDistortion(FieldAccumulator):
    """Distortion of a noised numeric field: moments, quantiles and distribution distances.

    Notes
    -----
    Values parse as numbers, or as ISO dates (``YYYY-MM-DD``), which count as
    days since 1970-01-01. Other values are counted in ``values_not_numeric``
    and left out. The distributions are kept as exact value counts, so memory
    grows with the number of distinct values (for continuous noise, about one
    per record) and the quantiles and distances are exact.
    """

    def __init__(self, strategy: str = "noise") -> None:
        self.strategy = strategy
        self._before = _CountTable(["value"])
        self._after = _CountTable(["value"])
        self._records = 0
        self._not_numeric = 0
        # Absolute changes are kept as value counts, not as a running float sum,
        # so the mean does not depend on the batching.
        self._changes = _CountTable(["value"])

    def update(self, before: pl.Series, after: pl.Series | None) -> None:
        self._records += before.len()
        old = _parse_numbers(before)
        self._not_numeric += int((before.is_not_null() & old.is_null()).sum())
        self._before.add(pl.DataFrame({"value": old.drop_nulls()}))
        if after is None:
            return
        new = _parse_numbers(after)
        self._not_numeric += int((after.is_not_null() & new.is_null()).sum())
        self._after.add(pl.DataFrame({"value": new.drop_nulls()}))
        both = pl.DataFrame({"old": old, "new": new}).drop_nulls()
        self._changes.add(pl.DataFrame({"value": (both["new"] - both["old"]).abs()}))

    def merge(self, other: FieldAccumulator) -> None:
        assert isinstance(other, NoiseDistortion)
        self._before.extend(other._before)
        self._after.extend(other._after)
        self._records += other._records
        self._not_numeric += other._not_numeric
        self._changes.extend(other._changes)

    def result(self) -> dict[str, Any]:
        before = _Distribution(self._before.table())
        after = _Distribution(self._after.table())
        return {
            "strategy": self.strategy,
            "measure": "noise",
            "records": self._records,
            "values_not_numeric": self._not_numeric,
            "mean_absolute_change": _Distribution(self._changes.table()).mean(),
            # Quantiles of the input are values of real records (the minimum and maximum
            # above all), so a report gives only how far each quantile moved.
            "before": {key: value for key, value in before.summary().items() if key != "quantiles"},
            "after": {key: value for key, value in after.summary().items() if key != "quantiles"},
            "quantile_change": {
                str(share): _difference(after.quantile(share), before.quantile(share))
                for share in _QUANTILES
            },
            "mean_change": _difference(after.mean(), before.mean()),
            "std_change": _difference(after.std(), before.std()),
            "kolmogorov_smirnov": before.kolmogorov_smirnov(after),
            "wasserstein": before.wasserstein(after),
        }


def _parse_numbers(values: pl.Series) -> pl.Series:
    numbers = values.cast(pl.Float64, strict=False)
    # `nan` and `inf` parse as floats but are not measurable values.
    numbers = pl.select(pl.when(numbers.is_finite()).then(numbers)).to_series()
    dates = values.str.to_date("%Y-%m-%d", strict=False).cast(pl.Int32).cast(pl.Float64)
    return numbers.fill_null(dates).alias("value")


def _difference(new: float | None, old: float | None) -> float | None:
    return new - old if new is not None and old is not None else None


class _Distribution:
    """A numeric distribution given as exact value counts."""

    def __init__(self, counts: pl.DataFrame) -> None:
        ordered = counts.sort("value")
        self.values = ordered["value"].to_numpy().astype(np.float64)
        self.counts = ordered["count"].to_numpy().astype(np.float64)
        self.total = float(self.counts.sum())

    def mean(self) -> float | None:
        return float((self.values * self.counts).sum() / self.total) if self.total else None

    def std(self) -> float | None:
        """Return the population standard deviation (divided by n)."""
        mean = self.mean()
        if mean is None:
            return None
        variance = float((self.counts * (self.values - mean) ** 2).sum() / self.total)
        return math.sqrt(variance)

    def quantile(self, share: float) -> float | None:
        """Return the lower quantile: the smallest value whose cumulative share reaches ``share``."""
        if not self.total:
            return None
        cumulative = np.cumsum(self.counts)
        position = max(1.0, math.ceil(share * self.total - 1e-9))
        return float(self.values[int(np.searchsorted(cumulative, position))])

    def summary(self) -> dict[str, Any]:
        return {
            "values": int(self.total),
            "mean": self.mean(),
            "std": self.std(),
            "quantiles": {str(share): self.quantile(share) for share in _QUANTILES},
        }

    def _cdfs(self, other: _Distribution) -> tuple[npt.NDArray[np.float64], ...]:
        grid = np.union1d(self.values, other.values)
        mine = np.cumsum(self.counts)[np.searchsorted(self.values, grid, side="right") - 1]
        mine = np.where(np.searchsorted(self.values, grid, side="right") > 0, mine, 0.0)
        theirs = np.cumsum(other.counts)[np.searchsorted(other.values, grid, side="right") - 1]
        theirs = np.where(np.searchsorted(other.values, grid, side="right") > 0, theirs, 0.0)
        return grid, mine / self.total, theirs / other.total

    def kolmogorov_smirnov(self, other: _Distribution) -> float | None:
        """Return sup |F - G| over all values."""
        if not self.total or not other.total:
            return None
        _, mine, theirs = self._cdfs(other)
        return float(np.abs(mine - theirs).max())

    def wasserstein(self, other: _Distribution) -> float | None:
        """Return the Wasserstein-1 distance: the integral of |F - G|."""
        if not self.total or not other.total:
            return None
        grid, mine, theirs = self._cdfs(other)
        return float((np.abs(mine - theirs)[:-1] * np.diff(grid)).sum())


def field_accumulator(strategy: str, hierarchy: HierarchySource | None = None) -> FieldAccumulator:
    """Return the accumulator that measures a field transformed by ``strategy``."""
    if strategy == "generalize":
        return GeneralizationLoss(strategy, hierarchy)
    if strategy == "noise":
        return NoiseDistortion(strategy)
    return DistinctValuesKept(strategy)
