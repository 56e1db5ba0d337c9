"""Earth Mover's Distances between a class's sensitive values and the whole table's.

Three ground distances, following Li, Li and Venkatasubramanian, "t-Closeness:
Privacy Beyond k-Anonymity and l-Diversity" (ICDE 2007):

- equal distance (categorical values): every two different values are 1 apart,
  so EMD = 1/2 * sum_v |q_v - p_v|;
- ordered distance: the m distinct values of the table, in order, are spaced
  by rank, so EMD = 1/(m-1) * sum_i |(q_1 - p_1) + ... + (q_i - p_i)|;
- hierarchical distance: two values are h/H apart, where h is the height of
  their lowest common ancestor in a hierarchy of height H. The EMD is the sum,
  over the hierarchy's inner nodes N, of height(N)/H * min(pos(N), neg(N)),
  where pos and neg add up the positive and negative surplus q - p of N's
  children.

Each function takes, for C classes and m values, the in-class shares as
sparse entries (``class_index``, ``value_index``, ``shares``) and the table's
shares ``table_shares`` (length m), and returns one distance per class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from maskme.errors import MaskMeError

__all__ = ["equal_distance_emd", "hierarchical_distance_emd", "ordered_distance_emd"]

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]

# Dense class-by-value blocks are built for at most this many cells at a time.
_BLOCK_CELLS = 1 << 22


#: Distances below this are the rounding residue of sums of shares (5.6e-17 for two
#: equal distributions of 3 values, measured), not a difference between distributions.
_RESIDUE = 1e-12


def _without_residue(distances: FloatArray) -> FloatArray:
    """Return the distances with rounding residue (and any negative rounding) as 0."""
    return np.where(distances < _RESIDUE, 0.0, distances)


def equal_distance_emd(
    class_index: IndexArray,
    value_index: IndexArray,
    shares: FloatArray,
    table_shares: FloatArray,
    class_count: int,
) -> FloatArray:
    """Return each class's EMD under the equal distance.

    Values absent from a class contribute their whole table share, so
    ``sum |q - p| = sum over present values |q - p| + (1 - sum over present values p)``
    and no dense table is built.
    """
    present_p = table_shares[value_index]
    differences = np.bincount(
        class_index, weights=np.abs(shares - present_p), minlength=class_count
    )
    covered = np.bincount(class_index, weights=present_p, minlength=class_count)
    return _without_residue(0.5 * (differences + (1.0 - covered)))


def ordered_distance_emd(
    class_index: IndexArray,
    value_index: IndexArray,
    shares: FloatArray,
    table_shares: FloatArray,
    class_count: int,
    *,
    counts: npt.NDArray[np.integer] | npt.NDArray[np.float64] | None = None,
) -> FloatArray:
    """Return each class's EMD under the ordered distance (values spaced by rank).

    ``value_index`` must number the values in ascending order, and the entries
    must be sorted by class, then by value. With a single value every distance
    is 0.

    With ``counts`` (each entry's count, a whole number), the distance is computed
    without a dense class-by-value table, in time proportional to the number of
    entries: between two values of a class, its cumulative share Q is
    constant, and the sum of |Q - P_i| over that range of ranks follows from
    prefix sums of the table's cumulative shares P. Without ``counts``, dense
    blocks of classes are used.
    """
    value_count = table_shares.shape[0]
    if value_count <= 1 or class_count == 0:
        return np.zeros(class_count)
    if counts is not None:
        return _without_residue(
            _ordered_distance_sparse(class_index, value_index, counts, table_shares, class_count)
        )
    distances = np.empty(class_count)
    for start, stop, block in _dense_blocks(
        class_index, value_index, shares, value_count, class_count
    ):
        cumulative = np.cumsum(block - table_shares, axis=1)
        distances[start:stop] = np.abs(cumulative[:, :-1]).sum(axis=1) / (value_count - 1)
    return _without_residue(distances)


def _ordered_distance_sparse(
    class_index: IndexArray,
    value_index: IndexArray,
    counts: npt.NDArray[np.integer] | npt.NDArray[np.float64],
    table_shares: FloatArray,
    class_count: int,
) -> FloatArray:
    value_count = table_shares.shape[0]
    last = value_count - 1  # ranks 0..m-2 are summed; at rank m-1 both sides are 1
    table_cumulative = np.cumsum(table_shares)
    prefix = np.concatenate(([0.0], np.cumsum(table_cumulative)))

    # Cumulative class counts are exact integers, so Q has one rounding only.
    whole = np.asarray(counts, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, class_index[1:] != class_index[:-1]])
    sizes = np.diff(np.r_[starts, class_index.size])
    running = np.cumsum(whole)
    within = running - np.repeat(running[starts] - whole[starts], sizes)
    totals = np.repeat(within[starts + sizes - 1], sizes)
    level = within / totals

    # After entry j, Q stays constant from its rank up to the next value of its class.
    ends = np.r_[value_index[1:], last]
    ends[starts + sizes - 1] = last
    begins = np.minimum(value_index, last)
    ends = np.maximum(ends, begins)
    split = np.clip(np.searchsorted(table_cumulative, level, side="left"), begins, ends)
    below = level * (split - begins) - (prefix[split] - prefix[begins])
    above = (prefix[ends] - prefix[split]) - level * (ends - split)
    sums = np.bincount(class_index, weights=below + above, minlength=class_count)

    # Before a class's first value, Q is 0 and |Q - P_i| is P_i.
    sums += np.bincount(
        class_index[starts], weights=prefix[value_index[starts]], minlength=class_count
    )
    return sums / (value_count - 1)


def hierarchical_distance_emd(
    class_index: IndexArray,
    value_index: IndexArray,
    shares: FloatArray,
    table_shares: FloatArray,
    class_count: int,
    ancestors: Sequence[IndexArray],
) -> FloatArray:
    """Return each class's EMD under the hierarchical distance.

    Parameters
    ----------
    ancestors
        One array per hierarchy level 1..H: ``ancestors[j - 1][i]`` numbers the
        level-j node above value i, with nodes numbered 0..n_j-1. The last
        level must be a single root.
    """
    height = len(ancestors)
    value_count = table_shares.shape[0]
    if height == 0 or value_count <= 1:
        return np.zeros(class_count)
    # One indicator matrix per level maps its nodes to their parents one level up.
    indicators = []
    previous = np.arange(value_count)
    for level_nodes in ancestors:
        node_count = int(level_nodes.max()) + 1
        indicator = np.zeros((int(previous.max()) + 1, node_count))
        indicator[previous, level_nodes] = 1.0
        if (indicator.sum(axis=1) > 1).any():
            raise MaskMeError(
                "the hierarchy is not a tree: a label has two parents at the next level; "
                "give each label one parent so distances between values are defined"
            )
        indicators.append(indicator)
        previous = level_nodes

    distances = np.empty(class_count)
    for start, stop, block in _dense_blocks(
        class_index, value_index, shares, value_count, class_count
    ):
        surplus = block - table_shares
        cost = np.zeros(stop - start)
        for level, indicator in enumerate(indicators, start=1):
            positive = np.clip(surplus, 0.0, None) @ indicator
            negative = np.clip(-surplus, 0.0, None) @ indicator
            cost += (level / height) * np.minimum(positive, negative).sum(axis=1)
            surplus = surplus @ indicator
        distances[start:stop] = cost
    return _without_residue(distances)


def _dense_blocks(
    class_index: IndexArray,
    value_index: IndexArray,
    shares: FloatArray,
    value_count: int,
    class_count: int,
):  # type: ignore[no-untyped-def]
    """Yield ``(start, stop, block)``: in-class shares of classes start..stop-1 as a dense array.

    ``class_index`` must be sorted, which the callers guarantee.
    """
    classes_per_block = max(1, _BLOCK_CELLS // max(value_count, 1))
    for start in range(0, class_count, classes_per_block):
        stop = min(class_count, start + classes_per_block)
        low, high = np.searchsorted(class_index, [start, stop])
        block = np.zeros((stop - start, value_count))
        block[class_index[low:high] - start, value_index[low:high]] = shares[low:high]
        yield start, stop, block
