"""Full-domain generalization search over the lattice of level combinations.

A lattice node gives one generalization level per quasi-identifier (those
recoded by Mondrian excepted). Node A is a generalization of node B when every
level of A is at least that of B. The search returns the node with the lowest
utility metric among those that meet every privacy target within the
suppression limit. Ties go to fewer suppressed records, then the lower sum of
levels, then the levels themselves, so the result does not depend on the
visiting order.

Pruning, without losing the optimum:

- Lower bound (metric ``loss``): a node's loss with nothing suppressed is a
  lower bound for the node and for every generalization of it. A suppressed
  record costs as much as a fully generalized one, and a higher level never
  lowers a record's loss. Nodes are visited in increasing order of that
  bound, and the search stops at the first whose bound exceeds the best loss
  found.
- Lower bound (metric ``discernibility``): after evaluating a node, the sum of
  its squared class sizes counting every class is a lower bound for its
  generalizations, which are skipped once that bound exceeds the best value.
- Single-attribute check: each class lies inside one group of every
  attribute's level, so the records of a group that alone has fewer than k
  records (or fewer than l distinct sensitive values) are suppressed. When
  one attribute's small groups already exceed the suppression limit, the
  node is skipped without grouping.
- Predictive tagging: with only k, ``max_risk`` and distinct l as targets, a
  node that misses the targets makes every specialization of it miss them too
  (a class that passes stays passing when merged), unless the node has
  classes at ``*``, which count as suppressed. Those specializations are not
  evaluated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from maskme.anonymization.evaluation import Evaluator, NodeEvaluation
from maskme.errors import MaskMeError

__all__ = ["MAX_LATTICE_NODES", "SearchOutcome", "search"]

logger = logging.getLogger(__name__)

#: Largest lattice the search enumerates: the nodes are held as an integer
#: array (8 bytes per level and node), so this bounds memory, not time.
MAX_LATTICE_NODES = 2_000_000


@dataclass(frozen=True, kw_only=True)
class SearchOutcome:
    """The best node found (None when no node meets the targets) and what the search cost."""

    best: NodeEvaluation | None
    nodes_evaluated: int
    lattice_size: int
    #: The evaluation of the least generalized node tried, for the message when none meets the targets.
    closest: NodeEvaluation | None = None


def _ranking(evaluation: NodeEvaluation) -> tuple[float, int, int, tuple[int, ...]]:
    return (
        evaluation.utility,
        evaluation.suppressed_records,
        sum(evaluation.node),
        evaluation.node,
    )


def lattice_nodes(heights: list[int]) -> np.ndarray:
    """Return every level combination as rows of an integer array."""
    size = int(np.prod(heights)) if heights else 1
    if size > MAX_LATTICE_NODES:
        raise MaskMeError(
            f"the generalization lattice has {size:,} nodes, more than the {MAX_LATTICE_NODES:,} "
            "the search enumerates; use hierarchies with fewer levels or fewer quasi-identifiers"
        )
    if not heights:
        return np.zeros((1, 0), dtype=np.int64)
    grids = np.meshgrid(*(np.arange(height) for height in heights), indexing="ij")
    return np.stack(grids, axis=-1).reshape(size, len(heights)).astype(np.int64)


def search(evaluator: Evaluator, *, exhaustive: bool = False) -> SearchOutcome:
    """Find the node with the lowest utility metric that meets the targets.

    With ``exhaustive`` every node is evaluated and nothing is pruned, which
    tests use to check the pruned search.
    """
    nodes = lattice_nodes(evaluator.heights)
    metric = evaluator.targets.metric
    level_sums = nodes.sum(axis=1)
    bounds = np.zeros(nodes.shape[0])
    if metric == "loss":
        bounds = evaluator.loss_lower_bounds(nodes)
        order = np.lexsort((level_sums, bounds))
    elif metric == "discernibility":
        order = np.argsort(level_sums, kind="stable")
    else:
        # No bound exists for the average class size, so visit general nodes
        # first: a node that misses the targets then rules out many others.
        order = np.argsort(-level_sums, kind="stable")

    propagate_failures = evaluator.checker.is_monotone and not exhaustive
    ruled_out = np.zeros(nodes.shape[0], dtype=bool)
    bound_nodes: list[np.ndarray] = []
    bound_values: list[float] = []
    best: NodeEvaluation | None = None
    closest: NodeEvaluation | None = None
    evaluated = 0
    for index in order.tolist():
        if not exhaustive:
            if metric == "loss" and best is not None and bounds[index] > best.utility + 1e-12:
                break
            if ruled_out[index]:
                continue
            if evaluator.must_miss(tuple(int(level) for level in nodes[index])):
                continue
            if best is not None and bound_nodes and _bounded_out(
                nodes[index], bound_nodes, bound_values, best.utility
            ):
                continue
        node = tuple(int(level) for level in nodes[index])
        evaluation = evaluator.evaluate(node)
        evaluated += 1
        if evaluation.meets_targets:
            if best is None or _ranking(evaluation) < _ranking(best):
                best = evaluation
        else:
            if closest is None or evaluation.suppressed_records < closest.suppressed_records:
                closest = evaluation
            if propagate_failures and not evaluation.has_star_classes:
                ruled_out |= np.all(nodes <= nodes[index], axis=1)
        if evaluation.bound_for_generalizations is not None and not exhaustive:
            bound_nodes.append(nodes[index])
            bound_values.append(evaluation.bound_for_generalizations)
    logger.debug("search evaluated %d of %d lattice nodes", evaluated, nodes.shape[0])
    return SearchOutcome(
        best=best, nodes_evaluated=evaluated, lattice_size=int(nodes.shape[0]), closest=closest
    )


def _bounded_out(
    node: np.ndarray, bound_nodes: list[np.ndarray], bound_values: list[float], best: float
) -> bool:
    """Check whether an evaluated node below ``node`` already has a lower bound above ``best``."""
    below = np.all(np.stack(bound_nodes) <= node, axis=1)
    return bool(np.any(below & (np.asarray(bound_values) > best + 1e-9)))
