"""Mondrian multidimensional partitioning of numeric quasi-identifiers.

Mondrian (LeFevre, DeWitt and Ramakrishnan, "Mondrian Multidimensional
K-Anonymity", ICDE 2006) starts from one partition and repeatedly splits a
partition at the median of one attribute, as long as both halves still meet
the privacy targets. Each final partition is an equivalence class, and each
numeric attribute is released as the interval of values in its partition.

Here the partitions start from the classes of a lattice node, with the
attributes that have hierarchies already generalized and null kept apart from
numbers. Every round splits all open partitions at once with numpy. So the
number of Python steps grows with the number of rounds (about log2 of
records / k), not with the number of partitions. A partition is split on the attribute with the
widest range relative to that attribute's whole range, among the attributes
whose median split leaves two halves that meet the targets ("strict"
partitioning: the halves do not share a value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maskme.anonymization.checks import ClassChecker
from maskme.anonymization.levels import AttributeLevels
from maskme.anonymization.table import StatisticsTable

__all__ = ["MondrianPartition", "partition"]


@dataclass(frozen=True, kw_only=True)
class MondrianPartition:
    """Final partitions of the kept rows, with the interval of each Mondrian attribute."""

    #: Partition of each statistics-table row; -1 for suppressed rows.
    row_partition: np.ndarray
    #: Number of records of each partition.
    sizes: np.ndarray
    #: Per Mondrian attribute (by attribute index): lowest and highest number of each partition.
    low: dict[int, np.ndarray]
    high: dict[int, np.ndarray]
    #: Per Mondrian attribute: the normalized certainty penalty of each row, the
    #: span of its partition's values over the span of all values (0 for
    #: suppressed rows and missing values).
    row_loss: dict[int, np.ndarray]


def partition(
    table: StatisticsTable,
    levels: Sequence[AttributeLevels],
    attributes: Sequence[int],
    start: np.ndarray,
    checker: ClassChecker,
    distributions: Sequence[np.ndarray | None] | None,
) -> MondrianPartition:
    """Split the kept classes of a node (``start``: class per row, -1 when suppressed)."""
    numbers = {i: _row_numbers(table, levels[i], i) for i in attributes}
    spans = {}
    kept = start >= 0
    for i in attributes:
        values = numbers[i][kept]
        values = values[~np.isnan(values)]
        spans[i] = float(values.max() - values.min()) if values.size else 0.0

    row_partition = _renumber(start)
    partition_count = int(row_partition.max()) + 1 if kept.any() else 0
    open_partitions = np.ones(partition_count, dtype=bool)
    while open_partitions.any():
        best_score = np.full(partition_count, -np.inf)
        best_right = np.zeros(table.rows, dtype=bool)
        best_attribute = np.full(partition_count, -1)
        for i in attributes:
            if spans[i] <= 0:
                continue
            score, right = _median_split(
                table, numbers[i], row_partition, partition_count, open_partitions, spans[i]
            )
            valid = _halves_pass(checker, row_partition, right, partition_count, distributions)
            score = np.where(valid, score, -np.inf)
            better = score > best_score
            best_score = np.where(better, score, best_score)
            best_attribute = np.where(better, i, best_attribute)
            row_better = better[np.maximum(row_partition, 0)] & (row_partition >= 0)
            best_right = np.where(row_better, right, best_right)
        splitting = best_attribute >= 0
        if not splitting.any():
            break
        new_ids = np.full(partition_count, -1)
        new_ids[splitting] = partition_count + np.arange(int(splitting.sum()))
        moving = (row_partition >= 0) & splitting[np.maximum(row_partition, 0)] & best_right
        row_partition = np.where(moving, new_ids[np.maximum(row_partition, 0)], row_partition)
        partition_count += int(splitting.sum())
        # A partition that could not be split is final, while both halves of a split stay open.
        open_partitions = np.concatenate([splitting, np.ones(int(splitting.sum()), dtype=bool)])

    return _describe(table, levels, attributes, numbers, row_partition, partition_count)


def _row_numbers(table: StatisticsTable, level: AttributeLevels, attribute: int) -> np.ndarray:
    assert level.numbers is not None
    return level.numbers[table.codes[:, attribute]]


def _renumber(groups: np.ndarray) -> np.ndarray:
    """Number the groups that occur 0..n-1, keeping -1 for rows left out."""
    result = np.full(groups.size, -1, dtype=np.int64)
    included = groups >= 0
    if included.any():
        _, inverse = np.unique(groups[included], return_inverse=True)
        result[included] = inverse.reshape(-1)
    return result


def _median_split(
    table: StatisticsTable,
    numbers: np.ndarray,
    row_partition: np.ndarray,
    partition_count: int,
    open_partitions: np.ndarray,
    span: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each open partition at its weighted median on one attribute.

    Returns the score of each partition and, per row, whether the row goes to
    the right half (values above the median). The score is the partition's
    range divided by the attribute's whole range, or -inf when it cannot be
    split.
    """
    score = np.full(partition_count, -np.inf)
    right = np.zeros(table.rows, dtype=bool)
    candidate = (row_partition >= 0) & ~np.isnan(numbers)
    candidate &= open_partitions[np.maximum(row_partition, 0)]
    rows = np.flatnonzero(candidate)
    if rows.size == 0:
        return score, right
    groups = row_partition[rows]
    values = numbers[rows]
    order = np.lexsort((values, groups))
    rows, groups, values = rows[order], groups[order], values[order]
    weights = table.counts[rows].astype(np.float64)

    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], groups.size]
    group_ids = groups[starts]
    low = values[starts]
    high = values[ends - 1]
    totals = np.add.reduceat(weights, starts)
    cumulative = np.cumsum(weights)
    before = np.r_[0.0, cumulative][starts]
    within = cumulative - np.repeat(before, ends - starts)

    # The median is the first value at which half of the partition's records are reached.
    reached = within * 2 >= np.repeat(totals, ends - starts)
    positions = np.flatnonzero(reached)
    segment = np.searchsorted(starts, positions, side="right") - 1
    first_position = np.full(group_ids.size, groups.size)
    np.minimum.at(first_position, segment, positions)
    median = values[np.minimum(first_position, groups.size - 1)]
    # When the median is the highest value, split below it instead.
    split_at_or_below = median < high
    median_per_row = np.repeat(median, ends - starts)
    below_per_row = np.repeat(split_at_or_below, ends - starts)
    goes_right = np.where(below_per_row, values > median_per_row, values >= median_per_row)

    right_count = np.add.reduceat(goes_right.astype(np.float64), starts)
    splittable = (high > low) & (right_count > 0) & (right_count < (ends - starts))
    score[group_ids[splittable]] = ((high - low) / span)[splittable]
    right[rows] = goes_right
    return score, right


def _halves_pass(
    checker: ClassChecker,
    row_partition: np.ndarray,
    right: np.ndarray,
    partition_count: int,
    distributions: Sequence[np.ndarray | None] | None,
) -> np.ndarray:
    """Return, per partition, whether both halves of its split meet the targets."""
    halves = np.where(row_partition >= 0, row_partition * 2 + right.astype(np.int64), -1)
    passing = checker.passes(halves, partition_count * 2, distributions)
    return passing[0::2] & passing[1::2]


def _describe(
    table: StatisticsTable,
    levels: Sequence[AttributeLevels],
    attributes: Sequence[int],
    numbers: dict[int, np.ndarray],
    row_partition: np.ndarray,
    partition_count: int,
) -> MondrianPartition:
    included = row_partition >= 0
    sizes = np.bincount(
        row_partition[included], weights=table.counts[included], minlength=partition_count
    )
    low: dict[int, np.ndarray] = {}
    high: dict[int, np.ndarray] = {}
    row_loss: dict[int, np.ndarray] = {}
    for i in attributes:
        values = numbers[i]
        lows = np.full(partition_count, np.inf)
        highs = np.full(partition_count, -np.inf)
        valued = included & ~np.isnan(values)
        np.minimum.at(lows, row_partition[valued], values[valued])
        np.maximum.at(highs, row_partition[valued], values[valued])
        low[i] = lows
        high[i] = highs
        every = levels[i].numbers
        assert every is not None
        every = every[~np.isnan(every)]
        span = float(every.max() - every.min()) if every.size else 0.0
        loss = np.zeros(table.rows)
        if span > 0:
            loss[valued] = (highs - lows)[row_partition[valued]] / span
        row_loss[i] = loss
    return MondrianPartition(
        row_partition=row_partition, sizes=sizes, low=low, high=high, row_loss=row_loss
    )
