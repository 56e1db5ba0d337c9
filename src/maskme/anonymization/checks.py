"""Which groups of statistics-table rows meet the privacy targets.

A group is a candidate equivalence class: the rows that share a combination of
generalized values at a lattice node, or one half of a Mondrian split. The
checks follow the textbook definitions that the measurement layer reports:

- k: the group has at least ``required_k`` records (k and ``max_risk``
  combined, since the prosecutor risk of a class is 1 / its size).
- distinct l: at least ``l`` distinct non-missing sensitive values.
- entropy l: the entropy of the non-missing sensitive values is at least
  ``ln l``, compared with a relative tolerance of 1e-9.
- recursive (c, l): with the counts sorted from most to least frequent,
  ``r1 < c * (r_l + ... + r_m)``.
- t: the Earth Mover's Distance between the group's distribution and the
  whole released table's is at most ``t``. The distance is equal for
  categorical attributes, ordered (values spaced by rank) for ordered ones,
  and hierarchical for attributes with a hierarchy.

A group whose sensitive values are all missing fails every l target and has
no t-closeness distance (it passes t).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from maskme.anonymization.table import SensitiveCounts, StatisticsTable
from maskme.metrics.closeness import (
    equal_distance_emd,
    hierarchical_distance_emd,
    ordered_distance_emd,
)
from maskme.policy.privacy import PrivacyTargets

__all__ = ["ClassChecker", "group_rows"]

_RELATIVE_TOLERANCE = 1e-9


def group_rows(columns: Sequence[np.ndarray], rows: int) -> tuple[np.ndarray, int]:
    """Number the distinct combinations of integer code columns: return each row's group and the count."""
    if rows == 0:
        return np.zeros(0, dtype=np.int64), 0
    if not columns:
        return np.zeros(rows, dtype=np.int64), 1
    sizes = [int(column.max()) + 1 for column in columns]
    if math.prod(sizes) < 2**62:
        key = np.zeros(rows, dtype=np.int64)
        for column, size in zip(columns, sizes, strict=True):
            key = key * size + column
        unique, inverse = np.unique(key, return_inverse=True)
    else:
        unique, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), int(unique.shape[0])


class ClassChecker:
    """Checks groups of statistics-table rows against one set of privacy targets."""

    def __init__(self, table: StatisticsTable, targets: PrivacyTargets) -> None:
        self.table = table
        self.targets = targets
        self.required_k = targets.required_k
        self.thresholds = {
            counts.name: targets.t_for(counts.name) for counts in table.sensitive
        }
        self.uses_t = any(value is not None for value in self.thresholds.values())

    @property
    def is_monotone(self) -> bool:
        """Whether a failing group makes every group it is merged into pass or fail alike.

        True for k, max_risk and distinct l: a union of groups passes when one
        of them passes. Entropy and recursive l and t-closeness lack this
        property when groups that fail are merged with groups that pass.
        """
        if self.targets.l is not None and self.targets.l_variant != "distinct":
            return False
        return not self.uses_t

    def passes(
        self,
        group_of_row: np.ndarray,
        group_count: int,
        distributions: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """Return, per group, whether it meets every target.

        ``group_of_row`` gives each table row's group, or -1 for rows left
        out. ``distributions`` gives, per sensitive attribute, the whole
        table's share of each value code for t-closeness; when None, t is not
        checked.
        """
        included = group_of_row >= 0
        sizes = np.bincount(
            group_of_row[included], weights=self.table.counts[included], minlength=group_count
        )
        passing = sizes >= self.required_k
        if self.targets.l is None and (distributions is None or not self.uses_t):
            return passing
        for index, counts in enumerate(self.table.sensitive):
            groups, values, value_counts = group_value_counts(counts, group_of_row)
            if self.targets.l is not None:
                passing &= self._l_passes(groups, value_counts, group_count)
            threshold = self.thresholds[counts.name]
            if threshold is not None and distributions is not None:
                distribution = distributions[index]
                if distribution is not None:
                    distances = emd(counts, groups, values, value_counts, group_count, distribution)
                    passing &= distances <= threshold + 1e-12
        return passing

    def _l_passes(self, groups: np.ndarray, counts: np.ndarray, group_count: int) -> np.ndarray:
        l_value = float(self.targets.l or 1)
        totals = np.bincount(groups, weights=counts, minlength=group_count)
        if self.targets.l_variant == "distinct":
            return np.bincount(groups, minlength=group_count) >= l_value
        if self.targets.l_variant == "entropy":
            shares = counts / totals[groups]
            entropy = -np.bincount(groups, weights=shares * np.log(shares), minlength=group_count)
            bound = math.log(l_value)
            return (totals > 0) & (entropy >= bound - _RELATIVE_TOLERANCE * bound)
        # Recursive (c, l): sort each group's counts from most to least frequent.
        order = np.lexsort((-counts, groups))
        sorted_groups = groups[order]
        sorted_counts = counts[order]
        starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
        position = np.arange(sorted_groups.size) - starts
        most = np.zeros(group_count)
        first = position == 0
        most[sorted_groups[first]] = sorted_counts[first]
        in_tail = position >= int(l_value) - 1
        tail = np.bincount(sorted_groups[in_tail], weights=sorted_counts[in_tail], minlength=group_count)
        constant = float(self.targets.c or 0)
        return (tail > 0) & (most < constant * tail)

    def distributions(self, group_of_row: np.ndarray) -> list[np.ndarray | None]:
        """Return, per sensitive attribute, each value code's share among the included rows."""
        result: list[np.ndarray | None] = []
        included = group_of_row >= 0
        for counts in self.table.sensitive:
            if self.thresholds[counts.name] is None:
                result.append(None)
                continue
            keep = included[counts.row]
            totals = np.bincount(
                counts.value[keep], weights=counts.count[keep], minlength=counts.value_count
            )
            whole = totals.sum()
            result.append(totals / whole if whole > 0 else totals)
        return result


def group_value_counts(
    counts: SensitiveCounts, group_of_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum one sensitive attribute's counts per (group, value): return groups, values and counts."""
    groups = group_of_row[counts.row]
    keep = groups >= 0
    groups = groups[keep]
    values = counts.value[keep]
    width = max(counts.value_count, 1)
    key = groups * width + values
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=counts.count[keep])
    return unique // width, unique % width, summed


def emd(
    counts: SensitiveCounts,
    groups: np.ndarray,
    values: np.ndarray,
    value_counts: np.ndarray,
    group_count: int,
    distribution: np.ndarray,
) -> np.ndarray:
    """Return each group's Earth Mover's Distance to ``distribution`` (0 for a group with no values).

    The distances come from the measurement layer's functions, over the values
    present in the released table, in the order the measurement layer uses:
    by number when every present value is a number, else by text.
    ``groups`` must be sorted, as :func:`group_value_counts` returns them.
    """
    totals = np.bincount(groups, weights=value_counts, minlength=group_count)
    if groups.size == 0:
        return np.zeros(group_count)
    present = np.flatnonzero(distribution > 0)
    if counts.kind == "ordered" and not np.isnan(counts.numbers[present]).any():
        # Codes are in text order, so a stable sort by number breaks ties by text.
        present = present[np.argsort(counts.numbers[present], kind="stable")]
    position = np.full(distribution.size, -1, dtype=np.int64)
    position[present] = np.arange(present.size)
    arguments = (
        groups,
        position[values],
        value_counts / totals[groups],
        distribution[present],
        group_count,
    )
    if counts.kind == "ordered":
        distances = ordered_distance_emd(*arguments)
    elif counts.kind == "hierarchical":
        ancestors = [level[present] for level in counts.ancestors]
        distances = hierarchical_distance_emd(*arguments, ancestors)
    else:
        distances = equal_distance_emd(*arguments)
    return np.where(totals > 0, distances, 0.0)
