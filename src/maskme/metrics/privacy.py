"""Privacy models computed from class statistics.

The functions here take the plain tables of
:class:`~maskme.metrics.classes.EquivalenceClasses`, so they also work on
class counts built by other means (the anonymization search calls them on
candidate generalizations):

- :func:`k_anonymity` takes the class sizes;
- :func:`measure_sensitive_attribute` and the methods of
  :class:`SensitiveDistribution` take one attribute's histogram, a table with
  columns ``class_id``, ``value`` (``String``, null for a missing value) and
  ``count``.

Definitions follow the textbook forms. With ``n_v`` the records of class E
with value v, ``q_v = n_v / |E|`` over E's non-missing values, and ``p_v`` the
share of v among all non-missing values of the table:

- k: the smallest class size;
- distinct l: the smallest number of distinct values in a class;
- entropy l: the smallest ``exp(H(E))`` over classes, with
  ``H(E) = -sum_v q_v ln q_v`` (a real number);
- recursive (c, l): with a class's counts sorted from most to least frequent,
  ``r_1 >= ... >= r_m``, the class passes when ``r_1 < c * (r_l + ... + r_m)``;
  the measured value is the largest ``r_1 / (r_l + ... + r_m)`` over classes;
- alpha of (alpha, k)-anonymity: the largest ``q_v``;
- t-closeness: the largest Earth Mover's Distance between q and p
  (:mod:`maskme.metrics.closeness`);
- beta-likeness: the largest relative gain ``(q_v - p_v) / p_v``, 0 when no
  value gains;
- delta-disclosure: the largest ``|ln(q_v / p_v)|``, infinite when a class
  lacks a value that the table has.

A missing sensitive value is not a value: it does not count towards l and is
left out of q and p. A class whose sensitive values are all missing is left
out of every model of that attribute and counted in
``classes_without_values``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from maskme.errors import MaskMeError, UsageError
from maskme.metrics._hierarchy import HierarchySource, hierarchy_rows
from maskme.metrics.closeness import (
    equal_distance_emd,
    hierarchical_distance_emd,
    ordered_distance_emd,
)

__all__ = [
    "AttributeKind",
    "KAnonymity",
    "SensitiveAttributeMeasures",
    "SensitiveDistribution",
    "check_ordered_values",
    "json_number",
    "k_anonymity",
    "measure_sensitive_attribute",
    "meets_entropy_l",
]

#: Kind of a sensitive attribute, which picks the ground distance of its t-closeness.
AttributeKind = Literal["categorical", "ordered", "hierarchical"]

_ENTROPY_RELATIVE_TOLERANCE = 1e-9


def json_number(value: float | None) -> float | str | None:
    """Return ``value`` for a JSON report: infinity becomes the string ``"inf"``."""
    if value is None:
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def meets_entropy_l(entropy_l: float, target: float) -> bool:
    """Return whether a measured entropy l meets the target ``l``.

    The comparison is ``H >= ln(target)`` with a relative tolerance of 1e-9, so
    a perfectly balanced class of three values meets ``l = 3`` although
    ``exp(ln 3)`` is 2.9999999999999996 in floating point.
    """
    measured, needed = math.log(entropy_l), math.log(target)
    return measured >= needed or math.isclose(
        measured, needed, rel_tol=_ENTROPY_RELATIVE_TOLERANCE, abs_tol=0.0
    )


@dataclass(frozen=True, kw_only=True)
class KAnonymity:
    """k-anonymity of a table and the distribution of its class sizes.

    ``k`` is None when the table has no class (no records, or all suppressed).
    ``size_distribution`` lists ``(class size, number of classes)`` by
    ascending size. The ``*_below_k`` fields count records in classes smaller
    than ``target_k`` and are None when no target was given.
    """

    k: int | None
    classes: int
    records: int
    unique_records: int
    size_distribution: tuple[tuple[int, int], ...]
    target_k: int | None = None
    records_below_k: int | None = None
    share_below_k: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "k": self.k,
            "classes": self.classes,
            "records": self.records,
            "unique_records": self.unique_records,
            "size_distribution": [
                {"size": size, "classes": count, "records": size * count}
                for size, count in self.size_distribution
            ],
            "target_k": self.target_k,
            "records_below_k": self.records_below_k,
            "share_below_k": self.share_below_k,
        }


def k_anonymity(
    class_sizes: pl.Series | Sequence[int] | npt.ArrayLike, *, k: int | None = None
) -> KAnonymity:
    """Compute k-anonymity from the class sizes, and the records below ``k`` when given."""
    sizes = np.asarray(class_sizes, dtype=np.int64)
    records = int(sizes.sum())
    size_values, size_counts = np.unique(sizes, return_counts=True)
    below = None
    share = None
    if k is not None:
        below = int(sizes[sizes < k].sum())
        share = below / records if records else 0.0
    return KAnonymity(
        k=int(sizes.min()) if sizes.size else None,
        classes=int(sizes.size),
        records=records,
        unique_records=int((sizes == 1).sum()),
        size_distribution=tuple(
            (int(size), int(count)) for size, count in zip(size_values, size_counts, strict=True)
        ),
        target_k=k,
        records_below_k=below,
        share_below_k=share,
    )


class SensitiveDistribution:
    """One sensitive attribute's non-missing values per class, as arrays.

    Build it with :meth:`from_histogram`. The arrays describe C classes (those
    with at least one non-missing value, numbered 0..C-1 in ``class_id``
    order) and m distinct values (in ``values`` order, ascending for an
    ordered attribute).

    Attributes
    ----------
    values
        The distinct non-missing values of the table.
    class_ids
        The ``class_id`` of each of the C classes.
    class_index, value_index, counts
        One entry per (class, value) that occurs, sorted by class.
    class_totals
        Non-missing records per class.
    table_shares
        p: each value's share among all non-missing values of the table.
    missing_records
        Records whose value is missing.
    classes_without_values, records_in_classes_without_values
        Classes whose values are all missing, and their records.
    """

    def __init__(
        self,
        *,
        values: list[str],
        class_ids: npt.NDArray[np.int64],
        class_index: npt.NDArray[np.int64],
        value_index: npt.NDArray[np.int64],
        counts: npt.NDArray[np.float64],
        missing_records: int,
        classes_without_values: int,
        records_in_classes_without_values: int,
    ) -> None:
        self.values = values
        self.class_ids = class_ids
        self.class_index = class_index
        self.value_index = value_index
        self.counts = counts
        self.missing_records = missing_records
        self.classes_without_values = classes_without_values
        self.records_in_classes_without_values = records_in_classes_without_values
        self.class_count = int(class_ids.shape[0])
        self.class_totals: npt.NDArray[np.float64] = np.bincount(
            class_index, weights=counts, minlength=self.class_count
        ).astype(np.float64)
        value_totals = np.bincount(value_index, weights=counts, minlength=len(values)).astype(
            np.float64
        )
        total = value_totals.sum()
        self.table_shares: npt.NDArray[np.float64] = value_totals / total if total else value_totals
        self.shares = counts / self.class_totals[class_index] if counts.size else counts

    @classmethod
    def from_histogram(
        cls,
        histogram: pl.DataFrame,
        *,
        order: Literal["lexicographic", "ordered"] = "lexicographic",
    ) -> SensitiveDistribution:
        """Build the arrays from a histogram with columns ``class_id``, ``value``, ``count``.

        With ``order="ordered"`` the distinct values are sorted numerically when
        every one of them parses as a number, and lexicographically otherwise.
        Values that parse to the same number (``1.0`` and ``1``) stay distinct
        and are ordered by their text.
        """
        histogram = histogram.select(
            pl.col("class_id").cast(pl.Int64),
            pl.col("value").cast(pl.String),
            pl.col("count").cast(pl.Int64),
        ).filter(pl.col("count") > 0)
        present = histogram.filter(pl.col("value").is_not_null())
        missing = (
            histogram.filter(pl.col("value").is_null())
            .group_by("class_id")
            .agg(pl.col("count").sum())
        )
        without_values = missing.join(
            present.select("class_id").unique(), on="class_id", how="anti"
        )

        values = _ordered_values(present["value"].unique(), order)
        # An Enum with the values in distance order turns each value into its rank.
        codes = present["value"].cast(pl.Enum(values)).to_physical().to_numpy().astype(np.int64)
        classes = present["class_id"].to_numpy()
        counts = present["count"].to_numpy()

        # Entries are keyed by (class, rank), sorted, and repeated keys are added up.
        keys = classes * max(len(values), 1) + codes
        unique_keys, positions = np.unique(keys, return_inverse=True)
        summed = np.bincount(positions, weights=counts, minlength=unique_keys.size)
        entry_classes = unique_keys // max(len(values), 1)
        class_ids, class_index = np.unique(entry_classes, return_inverse=True)
        return cls(
            values=values,
            class_ids=class_ids.astype(np.int64),
            class_index=class_index.astype(np.int64),
            value_index=(unique_keys % max(len(values), 1)).astype(np.int64),
            counts=summed.astype(np.float64),
            missing_records=int(histogram.filter(pl.col("value").is_null())["count"].sum()),
            classes_without_values=int(without_values.height),
            records_in_classes_without_values=int(without_values["count"].sum()),
        )

    def distinct_l(self) -> int | None:
        """Return the smallest number of distinct values in a class (None without classes)."""
        if not self.class_count:
            return None
        return int(np.bincount(self.class_index, minlength=self.class_count).min())

    def entropies(self) -> npt.NDArray[np.float64]:
        """Return H(E), the natural-log entropy of each class's values."""
        terms = self.shares * np.log(self.shares)
        entropies = -np.bincount(self.class_index, weights=terms, minlength=self.class_count)
        return entropies.astype(np.float64)

    def entropy_l(self) -> float | None:
        """Return the smallest exp(H(E)) over classes (None without classes)."""
        if not self.class_count:
            return None
        return float(np.exp(self.entropies().min()))

    def recursive_ratio(self, l: int) -> float | None:
        """Return the largest r_1 / (r_l + ... + r_m) over classes.

        A table meets recursive (c, l)-diversity when this is below c. It is
        infinite when a class has fewer than ``l`` distinct values, and None
        for ``l < 2`` (every class passes (c, 1) for any c > 1) or without
        classes.
        """
        if l < 2 or not self.class_count:
            return None
        order = np.lexsort((-self.counts, self.class_index))
        classes = self.class_index[order]
        counts = self.counts[order]
        starts = np.flatnonzero(np.r_[True, classes[1:] != classes[:-1]])
        sizes = np.diff(np.r_[starts, classes.size])
        rank = np.arange(classes.size) - np.repeat(starts, sizes)
        tail = np.bincount(classes, weights=counts * (rank >= l - 1), minlength=self.class_count)
        largest = counts[starts]
        with np.errstate(divide="ignore"):
            ratios = np.where(tail > 0, largest / np.where(tail > 0, tail, 1.0), np.inf)
        return float(ratios.max())

    def alpha(self) -> float | None:
        """Return the largest in-class share of one value (None without classes)."""
        return float(self.shares.max()) if self.class_count else None

    def distances(
        self, kind: AttributeKind = "categorical", hierarchy: HierarchySource | None = None
    ) -> npt.NDArray[np.float64]:
        """Return each class's Earth Mover's Distance to the table's distribution.

        ``kind="ordered"`` expects the distribution built with
        ``order="ordered"``. ``kind="hierarchical"`` needs ``hierarchy``.
        """
        arguments = (self.class_index, self.value_index, self.shares, self.table_shares)
        if kind == "categorical":
            return equal_distance_emd(*arguments, self.class_count)
        if kind == "ordered":
            return ordered_distance_emd(*arguments, self.class_count, counts=self.counts)
        if kind == "hierarchical":
            if hierarchy is None:
                raise MaskMeError(
                    "hierarchical distance needs a hierarchy: give the attribute's hierarchy file"
                )
            return hierarchical_distance_emd(
                *arguments, self.class_count, self._ancestors(hierarchy)
            )
        raise MaskMeError(
            f"unknown sensitive attribute kind '{kind}': expected categorical, ordered "
            "or hierarchical"
        )

    def t_closeness(
        self, kind: AttributeKind = "categorical", hierarchy: HierarchySource | None = None
    ) -> float | None:
        """Return the largest EMD over classes: 0 for a single value, None without classes."""
        if not self.class_count:
            return None
        return float(self.distances(kind, hierarchy).max())

    def beta_likeness(self) -> float | None:
        """Return the largest (q_v - p_v) / p_v over classes and values, at least 0."""
        if not self.class_count:
            return None
        table = self.table_shares[self.value_index]
        return float(max(0.0, ((self.shares - table) / table).max()))

    def delta_disclosure(self) -> float | None:
        """Return the largest |ln(q_v / p_v)|; infinite when a class lacks a table value."""
        if not self.class_count:
            return None
        distinct = np.bincount(self.class_index, minlength=self.class_count)
        if (distinct < len(self.values)).any():
            return math.inf
        table = self.table_shares[self.value_index]
        return float(np.abs(np.log(self.shares / table)).max())

    def _ancestors(self, hierarchy: HierarchySource) -> list[npt.NDArray[np.int64]]:
        rows = hierarchy_rows(hierarchy)
        by_value = {row[0]: row for row in rows}
        unknown = [value for value in self.values if value not in by_value]
        if unknown:
            raise MaskMeError(
                f"{len(unknown)} of {len(self.values)} distinct sensitive values are not "
                "listed in column 0 of the hierarchy: list every raw value, or measure the "
                "attribute as categorical"
            )
        height = len(rows[0]) - 1
        ancestors = []
        for level in range(1, height + 1):
            # A node is named by its path to the root, because labels may repeat.
            paths = [by_value[value][level:] for value in self.values]
            numbering: dict[tuple[str, ...], int] = {}
            ancestors.append(
                np.array(
                    [numbering.setdefault(path, len(numbering)) for path in paths], dtype=np.int64
                )
            )
        if int(ancestors[-1].max()) != 0:
            raise MaskMeError(
                "the hierarchy's last level has more than one label: its last column must be "
                "a single root shared by every value"
            )
        return ancestors


def _ordered_values(distinct: pl.Series, order: str) -> list[str]:
    """Sort the distinct values: numerically when ordered and all are numbers, else as text."""
    frame = pl.DataFrame({"value": distinct})
    if order == "ordered":
        numbers = distinct.cast(pl.Float64, strict=False)
        if numbers.null_count() == 0 and not numbers.is_nan().any():
            return frame.with_columns(number=numbers).sort(["number", "value"])["value"].to_list()
    return frame.sort("value")["value"].to_list()


@dataclass(frozen=True, kw_only=True)
class SensitiveAttributeMeasures:
    """The privacy models of one sensitive attribute.

    Every model is None when no class has a non-missing value.
    ``recursive_c`` is the smallest integer c that meets recursive (c, l) for
    ``recursive_l``: ``floor(recursive_ratio) + 1``.
    """

    name: str
    kind: AttributeKind
    distinct_values: int
    records_with_missing_values: int
    classes_without_values: int
    records_in_classes_without_values: int
    distinct_l: int | None
    entropy_l: float | None
    recursive_l: int | None
    recursive_ratio: float | None
    recursive_c: int | None
    alpha: float | None
    t_closeness: float | None
    beta_likeness: float | None
    delta_disclosure: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: infinite values are the string ``"inf"``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "distance": _DISTANCE_NAMES[self.kind],
            "distinct_values": self.distinct_values,
            "records_with_missing_values": self.records_with_missing_values,
            "classes_without_values": self.classes_without_values,
            "records_in_classes_without_values": self.records_in_classes_without_values,
            "distinct_l": self.distinct_l,
            "entropy_l": self.entropy_l,
            "recursive_cl": {
                "l": self.recursive_l,
                "ratio": json_number(self.recursive_ratio),
                "c": self.recursive_c,
            },
            "alpha": self.alpha,
            "t_closeness": self.t_closeness,
            "beta_likeness": self.beta_likeness,
            "delta_disclosure": json_number(self.delta_disclosure),
        }


_DISTANCE_NAMES = {"categorical": "equal", "ordered": "ordered", "hierarchical": "hierarchical"}


def check_ordered_values(name: str, histogram: pl.DataFrame) -> None:
    """Raise UsageError when an ordered attribute mixes numbers and other texts.

    Numbers sort by value and texts lexicographically, and no order fits a
    mix. The usual cause is a text that marks a missing number, such as
    ``N/A``, so the message names the option that declares it.
    """
    distinct = histogram.get_column("value").cast(pl.String).drop_nulls().unique()
    numbers = distinct.cast(pl.Float64, strict=False)
    texts = numbers.null_count() + int(numbers.is_nan().sum())  # NaN has no place in an order
    if 0 < texts < len(distinct):
        verb = "is not a number" if texts == 1 else "are not numbers"
        raise UsageError(
            f"sensitive attribute `{name}` is ordered, but {texts:,} of its {len(distinct):,} "
            f"distinct values {verb} while the others are numbers, so they have no common "
            "order; declare the texts that mean a missing value (missing_values in the "
            f"policy, or --missing-values), or measure `{name}` as categorical"
        )


def measure_sensitive_attribute(
    name: str,
    histogram: pl.DataFrame,
    *,
    kind: AttributeKind = "categorical",
    hierarchy: HierarchySource | None = None,
    l: int | None = None,
) -> SensitiveAttributeMeasures:
    """Compute every privacy model of one sensitive attribute from its histogram.

    ``l`` sets the l of recursive (c, l)-diversity; by default it is the
    table's distinct l.
    """
    if kind == "hierarchical" and hierarchy is None:
        raise MaskMeError(
            f"sensitive attribute `{name}` is hierarchical but has no hierarchy: "
            "give its hierarchy file, or declare it categorical"
        )
    if kind == "ordered":
        check_ordered_values(name, histogram)
    distribution = SensitiveDistribution.from_histogram(
        histogram, order="ordered" if kind == "ordered" else "lexicographic"
    )
    distinct_l = distribution.distinct_l()
    recursive_l = l if l is not None else distinct_l
    ratio = distribution.recursive_ratio(recursive_l) if recursive_l is not None else None
    recursive_c = None
    if ratio is not None and math.isfinite(ratio):
        recursive_c = math.floor(ratio) + 1
    return SensitiveAttributeMeasures(
        name=name,
        kind=kind,
        distinct_values=len(distribution.values),
        records_with_missing_values=distribution.missing_records,
        classes_without_values=distribution.classes_without_values,
        records_in_classes_without_values=distribution.records_in_classes_without_values,
        distinct_l=distinct_l,
        entropy_l=distribution.entropy_l(),
        recursive_l=recursive_l,
        recursive_ratio=ratio,
        recursive_c=recursive_c,
        alpha=distribution.alpha(),
        t_closeness=distribution.t_closeness(kind, hierarchy),
        beta_likeness=distribution.beta_likeness(),
        delta_disclosure=distribution.delta_disclosure(),
    )
