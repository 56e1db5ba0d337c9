"""Evaluate one lattice node: its classes, suppressed records, targets and utility.

Evaluating a node maps each quasi-identifier column of the statistics table
through its level and groups the rows into classes. Classes that miss a
target, and those whose quasi-identifiers are all ``*``, are suppressed. The
utility metric is computed on what remains. When quasi-identifiers use
Mondrian, the kept classes are first split further into intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maskme.anonymization.checks import ClassChecker, group_rows
from maskme.anonymization.levels import AttributeLevels
from maskme.anonymization.mondrian import MondrianPartition, partition
from maskme.anonymization.table import StatisticsTable
from maskme.policy.privacy import PrivacyTargets

__all__ = ["Evaluator", "NodeEvaluation"]

# Rounds of "suppress the classes that miss t, then recompute the whole-table
# distribution" before giving up on a node. Each round suppresses at least one
# class, so the loop ends; the cap only bounds pathological inputs.
_MAX_T_ROUNDS = 100


@dataclass(frozen=True, kw_only=True)
class NodeEvaluation:
    """The outcome of one lattice node."""

    node: tuple[int, ...]
    meets_targets: bool
    #: Records removed, those already suppressed in the input included.
    suppressed_records: int
    #: Value of the utility metric (lower is better); infinity when the node misses a target.
    utility: float
    #: Lower bound of the metric at this node and every generalization of it, or None.
    bound_for_generalizations: float | None
    #: Whether a class of this node has every quasi-identifier at ``*``.
    has_star_classes: bool
    #: Class of each statistics-table row, and whether each class is kept.
    row_class: np.ndarray
    kept_class: np.ndarray
    mondrian: MondrianPartition | None = None

    @property
    def kept_rows(self) -> np.ndarray:
        """Whether each statistics-table row is released."""
        return self.kept_class[self.row_class] if self.row_class.size else self.row_class.astype(bool)


class Evaluator:
    """Evaluates lattice nodes over one statistics table, set of levels and targets."""

    def __init__(
        self,
        table: StatisticsTable,
        levels: list[AttributeLevels],
        targets: PrivacyTargets,
    ) -> None:
        self.table = table
        self.levels = levels
        self.targets = targets
        self.checker = ClassChecker(table, targets)
        self.lattice_attributes = [i for i, level in enumerate(levels) if not level.mondrian]
        self.mondrian_attributes = [i for i, level in enumerate(levels) if level.mondrian]
        self.records = table.records
        self.required_k = targets.required_k
        self.allowed_suppressed = targets.suppression_limit * self.records + 1e-9
        # The loss is the mean over attributes of each attribute's mean penalty
        # over the records that have a value, so each attribute gets the weight
        # 1 / (attributes * records with a value). Already suppressed records count as valued.
        self._valued_rows = np.stack(
            [level.values.is_not_null().to_numpy()[table.codes[:, i]] for i, level in enumerate(levels)],
            axis=1,
        ) if levels else np.zeros((table.rows, 0), dtype=bool)
        valued = self._valued_rows.T.astype(np.float64) @ table.counts + table.input_suppressed
        self._weights = np.where(valued > 0, 1.0 / (max(len(levels), 1) * np.maximum(valued, 1)), 0.0)
        # Per attribute and level: the weighted loss of every record, nothing suppressed.
        self._level_loss = [
            [float(np.dot(table.counts, level.loss[index][table.codes[:, i]])) * self._weights[i]
             for index in range(level.level_count)]
            for i, level in enumerate(levels)
        ]
        # Weighted cost of suppressing each row: 1 per attribute that has a value.
        self._suppression_cost = self._valued_rows.astype(np.float64) @ self._weights
        self._small_group_records = self._count_small_group_records()

    @property
    def heights(self) -> list[int]:
        """Number of levels of each lattice attribute, in policy order."""
        return [self.levels[i].level_count for i in self.lattice_attributes]

    def _count_small_group_records(self) -> list[list[int]]:
        """Count, per lattice attribute and level, the records in groups that miss k or distinct l alone.

        Every class of a node lies inside one group of each attribute's level,
        so a group with fewer than ``required_k`` records, or fewer than ``l``
        distinct sensitive values, leaves all its records in classes that miss
        the targets.
        """
        table = self.table
        l_value = self.targets.l if self.targets.l_variant == "distinct" else None
        counts: list[list[int]] = []
        for attribute in self.lattice_attributes:
            level = self.levels[attribute]
            per_level = []
            for height in range(level.level_count):
                groups = level.codes[height][table.codes[:, attribute]]
                group_count = int(groups.max()) + 1 if groups.size else 0
                sizes = np.bincount(groups, weights=table.counts, minlength=group_count)
                failing = sizes < self.required_k
                if l_value is not None:
                    for counts_of in table.sensitive:
                        pairs = np.unique(groups[counts_of.row] * max(counts_of.value_count, 1)
                                          + counts_of.value)
                        distinct = np.bincount(pairs // max(counts_of.value_count, 1),
                                               minlength=group_count)
                        failing |= distinct < l_value
                per_level.append(round(float(sizes[failing].sum())))
            counts.append(per_level)
        return counts

    def must_miss(self, node: tuple[int, ...]) -> bool:
        """Check, without grouping, whether ``node`` must suppress more records than allowed.

        Uses the groups of each attribute alone (see ``_count_small_group_records``),
        which is valid for the k, max_risk and distinct l targets, whatever the other targets.
        """
        suppressed = self.table.input_suppressed + max(
            (self._small_group_records[position][level] for position, level in enumerate(node)),
            default=0,
        )
        return suppressed > self.allowed_suppressed

    def loss_lower_bounds(self, nodes: np.ndarray) -> np.ndarray:
        """Return :meth:`loss_lower_bound` for every row of a node array."""
        total = np.full(nodes.shape[0], self.table.input_suppressed * float(self._weights.sum()))
        for position, attribute in enumerate(self.lattice_attributes):
            total += np.asarray(self._level_loss[attribute])[nodes[:, position]]
        return total

    def loss_lower_bound(self, node: tuple[int, ...]) -> float:
        """Return the loss of ``node`` with nothing suppressed, a lower bound for it and its generalizations.

        A removed record counts as fully generalized, and generalizing further
        never lowers a record's loss, so no generalization of the node can do
        better.
        """
        total = self.table.input_suppressed * float(self._weights.sum())
        for position, attribute in enumerate(self.lattice_attributes):
            total += self._level_loss[attribute][node[position]]
        return total

    def evaluate(self, node: tuple[int, ...], *, with_utility: bool = True) -> NodeEvaluation:
        """Evaluate one node: suppress the classes that miss a target and measure the rest."""
        table = self.table
        columns: list[np.ndarray] = []
        star_rows = np.ones(table.rows, dtype=bool) if not self.mondrian_attributes else None
        for attribute, level in enumerate(self.levels):
            height = 0 if level.mondrian else node[self.lattice_attributes.index(attribute)]
            generalized = level.codes[height][table.codes[:, attribute]]
            columns.append(generalized)
            if star_rows is not None:
                star_rows &= level.star[height][generalized]
        row_class, class_count = group_rows(columns, table.rows)

        sizes = np.bincount(row_class, weights=table.counts, minlength=class_count)
        star_class = np.zeros(class_count, dtype=bool)
        if star_rows is not None and table.rows:
            star_class[row_class[star_rows]] = True
        kept = self.checker.passes(row_class, class_count) & ~star_class
        distributions = None
        if self.checker.uses_t:
            kept, distributions = self._suppress_for_t(row_class, class_count, kept)

        suppressed = round(float(sizes[~kept].sum())) + table.input_suppressed
        meets = bool(kept.any()) and suppressed <= self.allowed_suppressed
        bound = None
        if self.targets.metric == "discernibility" and not self.mondrian_attributes:
            bound = float(np.square(sizes).sum()) + table.input_suppressed * self.records

        mondrian = None
        utility = float("inf")
        if meets and with_utility:
            if self.mondrian_attributes:
                kept_rows = kept[row_class]
                mondrian = partition(
                    table,
                    self.levels,
                    self.mondrian_attributes,
                    np.where(kept_rows, row_class, -1),
                    self.checker,
                    distributions,
                )
            utility = self._utility(
                self.targets.metric, node, row_class, sizes, kept, suppressed, mondrian
            )
        return NodeEvaluation(
            node=node,
            meets_targets=meets,
            suppressed_records=suppressed,
            utility=utility,
            bound_for_generalizations=bound,
            has_star_classes=bool(star_class.any()),
            row_class=row_class,
            kept_class=kept,
            mondrian=mondrian,
        )

    def _suppress_for_t(
        self, row_class: np.ndarray, class_count: int, kept: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Suppress classes that miss t until the kept classes all meet it.

        The whole-table distribution is that of the released records, so it
        changes when classes are suppressed; the check repeats until nothing
        changes.
        """
        distributions: list[np.ndarray | None] = []
        for _ in range(_MAX_T_ROUNDS):
            group_of_row = np.where(kept[row_class], row_class, -1)
            distributions = self.checker.distributions(group_of_row)
            passing = self.checker.passes(group_of_row, class_count, distributions)
            updated = kept & passing
            if np.array_equal(updated, kept):
                return kept, distributions
            kept = updated
        return np.zeros_like(kept), distributions

    def utilities(self, evaluation: NodeEvaluation) -> dict[str, float]:
        """Return every utility metric (loss, discernibility, average class size) of an evaluated node."""
        sizes = np.bincount(
            evaluation.row_class, weights=self.table.counts, minlength=evaluation.kept_class.size
        )
        return {
            metric: self._utility(
                metric,
                evaluation.node,
                evaluation.row_class,
                sizes,
                evaluation.kept_class,
                evaluation.suppressed_records,
                evaluation.mondrian,
            )
            for metric in ("loss", "discernibility", "average_class_size")
        }

    def _utility(
        self,
        metric: str,
        node: tuple[int, ...],
        row_class: np.ndarray,
        sizes: np.ndarray,
        kept: np.ndarray,
        suppressed: int,
        mondrian: MondrianPartition | None,
    ) -> float:
        table = self.table
        kept_rows = kept[row_class]
        if metric == "loss":
            row_loss = np.zeros(table.rows)
            for position, attribute in enumerate(self.lattice_attributes):
                level = self.levels[attribute]
                penalty = level.loss[node[position]][table.codes[:, attribute]]
                row_loss += penalty * self._weights[attribute]
            if mondrian is not None:
                for attribute, penalty in mondrian.row_loss.items():
                    row_loss += penalty * self._weights[attribute]
            row_loss = np.where(kept_rows, row_loss, self._suppression_cost)
            total = float(np.dot(table.counts, row_loss))
            return total + table.input_suppressed * float(self._weights.sum())
        if mondrian is not None:
            class_sizes = mondrian.sizes
        else:
            class_sizes = sizes[kept]
        if metric == "discernibility":
            return float(np.square(class_sizes).sum()) + float(suppressed) * self.records
        # average_class_size
        if class_sizes.size == 0:
            return float("inf")
        return float(class_sizes.sum()) / class_sizes.size
