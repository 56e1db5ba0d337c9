"""Compare a measurement with the policy's privacy targets.

:func:`check_targets` is what ``maskme mask`` and ``maskme anonymize`` call
after writing an output: each missed target becomes a :class:`TargetMiss`
whose message states by how much it missed, for example
``k = 2, needs 5: 143 records in 61 classes are below``. Messages contain
counts and target values only, never a data value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from maskme.metrics.measurement import Measurement, SensitiveAttributeSpec
from maskme.metrics.privacy import SensitiveDistribution, meets_entropy_l
from maskme.policy.privacy import PrivacyTargets

__all__ = ["TargetMiss", "TargetOutcome", "check_targets", "measure_targets"]


@dataclass(frozen=True, kw_only=True)
class TargetOutcome:
    """One privacy target, the value the table reaches, and whether it is met.

    ``target`` is ``k``, ``l``, ``t``, ``max_risk`` or ``suppression_limit``;
    ``attribute`` names the sensitive attribute for ``l`` and ``t``.
    ``achieved`` is None when the table has no class to measure.
    """

    target: str
    attribute: str | None
    required: float
    achieved: float | None
    met: bool
    message: str

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (infinity as the string ``"inf"``)."""
        achieved: float | str | None = self.achieved
        if self.achieved is not None and math.isinf(self.achieved):
            achieved = "inf"
        return {
            "target": self.target,
            "attribute": self.attribute,
            "required": self.required,
            "achieved": achieved,
            "met": self.met,
            "message": self.message,
        }


@dataclass(frozen=True, kw_only=True)
class TargetMiss(TargetOutcome):
    """A privacy target the table does not meet, with a message that states by how much."""


def check_targets(
    measurement: Measurement,
    targets: PrivacyTargets,
    *,
    sensitive_attributes: Sequence[SensitiveAttributeSpec] = (),
) -> list[TargetMiss]:
    """Return the targets that ``measurement`` misses, in the order k, max_risk, l, t, suppression.

    ``sensitive_attributes`` supplies the hierarchy of an attribute measured
    with the hierarchical distance, to count the classes above ``t``.
    """
    return [
        TargetMiss(**{name: getattr(outcome, name) for name in _FIELDS})
        for outcome in measure_targets(
            measurement, targets, sensitive_attributes=sensitive_attributes
        )
        if not outcome.met
    ]


_FIELDS = ("target", "attribute", "required", "achieved", "met", "message")


def measure_targets(
    measurement: Measurement,
    targets: PrivacyTargets,
    *,
    sensitive_attributes: Sequence[SensitiveAttributeSpec] = (),
) -> list[TargetOutcome]:
    """Return every target of ``targets`` with the value ``measurement`` reaches."""
    outcomes: list[TargetOutcome] = []
    sizes = measurement.equivalence_classes.class_sizes.to_numpy().astype(np.int64)
    if targets.k is not None:
        outcomes.append(_k_outcome(sizes, targets.k))
    if targets.max_risk is not None:
        outcomes.append(_risk_outcome(sizes, targets.max_risk))
    hierarchies = {spec.name: spec.hierarchy for spec in sensitive_attributes}
    histograms = measurement.equivalence_classes.histograms
    names = [measures.name for measures in measurement.sensitive_attributes]
    if (targets.l is not None or targets.t is not None) and not names:
        for target, value in (("l", targets.l), ("t", targets.t)):
            if value is not None:
                outcomes.append(
                    TargetOutcome(
                        target=target, attribute=None, required=_first_number(value),
                        achieved=None, met=False,
                        message=f"{target} needs a sensitive attribute, but none was measured; "
                        "name the sensitive attributes in the policy",
                    )
                )
    for measures in measurement.sensitive_attributes:
        histogram = histograms[measures.name]
        distribution = SensitiveDistribution.from_histogram(
            histogram, order="ordered" if measures.kind == "ordered" else "lexicographic"
        )
        if targets.l is not None:
            outcomes.append(_l_outcome(measures.name, distribution, targets))
        threshold = targets.t_for(measures.name)
        if threshold is not None:
            outcomes.append(
                _t_outcome(measures.name, distribution, measures.kind,
                           hierarchies.get(measures.name), threshold)
            )
    if isinstance(targets.t, dict):
        for name, threshold in targets.t.items():
            if name not in names:
                outcomes.append(
                    TargetOutcome(
                        target="t", attribute=name, required=threshold, achieved=None, met=False,
                        message=f"t for `{name}` cannot be checked: `{name}` was not measured as a "
                        "sensitive attribute; list it under sensitive_attributes",
                    )
                )
    outcomes.append(_suppression_outcome(measurement, targets.suppression_limit))
    return outcomes


def _first_number(value: float | dict[str, float]) -> float:
    if isinstance(value, dict):
        return min(value.values()) if value else 0.0
    return float(value)


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _plural(count: int, word: str) -> str:
    plural = word + "es" if word.endswith("s") else word + "s"
    return f"{count:,} {word}" if count == 1 else f"{count:,} {plural}"


def _k_outcome(sizes: np.ndarray, k: int) -> TargetOutcome:
    achieved = int(sizes.min()) if sizes.size else None
    below = sizes < k
    met = achieved is not None and achieved >= k
    if met:
        message = f"k = {achieved}, needs {k}: met"
    elif achieved is None:
        message = f"k needs {k}, but the table has no equivalence class (no records kept)"
    else:
        records = int(sizes[below].sum())
        message = (
            f"k = {achieved}, needs {k}: {_plural(records, 'record')} in "
            f"{_plural(int(below.sum()), 'class')} {_are(records)} below"
        )
    return TargetOutcome(target="k", attribute=None, required=k, achieved=achieved, met=met,
                         message=message)


def _risk_outcome(sizes: np.ndarray, max_risk: float) -> TargetOutcome:
    achieved = float(1 / sizes.min()) if sizes.size else None
    # A tolerance, so that a class of 5 meets max_risk 0.2 although 1/5 is not exact in binary.
    above = 1 / np.maximum(sizes, 1) > max_risk * (1 + 1e-9)
    met = achieved is not None and not bool(above.any())
    if met:
        message = f"highest prosecutor risk = {achieved:.4g}, needs at most {max_risk:g}: met"
    elif achieved is None:
        message = f"max_risk needs at most {max_risk:g}, but the table has no equivalence class"
    else:
        records = int(sizes[above].sum())
        message = (
            f"highest prosecutor risk = {achieved:.4g}, needs at most {max_risk:g}: "
            f"{_plural(records, 'record')} in "
            f"{_plural(int(above.sum()), 'class')} {_are(records)} above"
        )
    return TargetOutcome(target="max_risk", attribute=None, required=max_risk, achieved=achieved,
                         met=met, message=message)


def _l_outcome(
    name: str, distribution: SensitiveDistribution, targets: PrivacyTargets
) -> TargetOutcome:
    required = float(targets.l or 1)
    variant = targets.l_variant
    if not distribution.class_count:
        return TargetOutcome(
            target="l", attribute=name, required=required, achieved=None, met=False,
            message=f"{variant} l-diversity of `{name}` needs {required:g}, but no class has "
            f"a value of `{name}`",
        )
    if variant == "distinct":
        per_class = np.bincount(distribution.class_index, minlength=distribution.class_count)
        failing = per_class < required
        achieved = float(per_class.min())
        head = f"distinct l-diversity of `{name}` = {achieved:g}, needs {required:g}"
        direction = "below"
    elif variant == "entropy":
        entropies = distribution.entropies()
        achieved = float(np.exp(entropies.min()))
        failing = np.array([not meets_entropy_l(float(np.exp(h)), required) for h in entropies])
        head = f"entropy l-diversity of `{name}` = {achieved:.6g}, needs {required:g}"
        direction = "below"
    else:
        # Recursive (c, l): the measured value is the largest r1 / (r_l + ... + r_m).
        constant = float(targets.c or 0)
        ratios = _recursive_ratios(distribution, int(required))
        failing = ratios >= constant
        achieved = float(ratios.max())
        head = (
            f"recursive (c, l)-diversity of `{name}` with l = {required:g}: r1 / tail = "
            f"{achieved:.6g}, needs below c = {constant:g}"
        )
        direction = "above"
    # A class whose values of the attribute are all missing has no distinct value,
    # so it fails l as anonymize's search counts it.
    empty = distribution.classes_without_values
    met = not bool(failing.any()) and not empty
    if met:
        message = f"{head}: met"
    else:
        reasons = []
        if failing.any():
            classes = int(failing.sum())
            records = int(distribution.class_totals[failing].sum())
            reasons.append(
                f"{_plural(classes, 'class')} ({_plural(records, 'record')} with a value) "
                f"{_are(classes)} {direction}"
            )
        if empty:
            records = distribution.records_in_classes_without_values
            reasons.append(
                f"{_plural(empty, 'class')} ({_plural(records, 'record')}) "
                f"{'has' if empty == 1 else 'have'} no value of `{name}`"
            )
        message = f"{head}: {'; '.join(reasons)}"
    return TargetOutcome(target="l", attribute=name, required=required, achieved=achieved,
                         met=met, message=message)


def _recursive_ratios(distribution: SensitiveDistribution, l_value: int) -> np.ndarray:
    """Return r1 / (r_l + ... + r_m) per class (infinite when the tail is empty)."""
    order = np.lexsort((-distribution.counts, distribution.class_index))
    classes = distribution.class_index[order]
    counts = distribution.counts[order]
    starts = np.flatnonzero(np.r_[True, classes[1:] != classes[:-1]])
    lengths = np.diff(np.r_[starts, classes.size])
    rank = np.arange(classes.size) - np.repeat(starts, lengths)
    tail = np.bincount(classes, weights=counts * (rank >= l_value - 1),
                       minlength=distribution.class_count)
    largest = np.zeros(distribution.class_count)
    largest[classes[starts]] = counts[starts]
    with np.errstate(divide="ignore"):
        return np.where(tail > 0, largest / np.where(tail > 0, tail, 1.0), np.inf)


def _t_outcome(
    name: str,
    distribution: SensitiveDistribution,
    kind: str,
    hierarchy: Any,
    threshold: float,
) -> TargetOutcome:
    label = f"t-closeness of `{name}`"
    if not distribution.class_count:
        # With every value missing, no class discloses anything about the attribute.
        return TargetOutcome(
            target="t", attribute=name, required=threshold, achieved=None, met=True,
            message=f"{label}: no class has a value of `{name}`, so nothing is disclosed: met",
        )
    if kind == "hierarchical" and hierarchy is None:
        return TargetOutcome(
            target="t", attribute=name, required=threshold, achieved=None, met=False,
            message=f"{label} cannot be checked without the attribute's hierarchy",
        )
    distances = distribution.distances(kind, hierarchy)  # type: ignore[arg-type]
    achieved = float(distances.max())
    above = distances > threshold + 1e-12
    met = not bool(above.any())
    if met:
        message = f"{label} = {achieved:.6g}, needs at most {threshold:g}: met"
    else:
        records = int(distribution.class_totals[above].sum())
        message = (
            f"{label} = {achieved:.6g}, needs at most {threshold:g}: "
            f"{_plural(int(above.sum()), 'class')} ({_plural(records, 'record')} with a value) "
            f"{_are(int(above.sum()))} above"
        )
    return TargetOutcome(target="t", attribute=name, required=threshold, achieved=achieved,
                         met=met, message=message)


def _suppression_outcome(measurement: Measurement, limit: float) -> TargetOutcome:
    records = measurement.records
    suppressed = measurement.suppressed_records
    share = suppressed / records if records else 0.0
    met = share <= limit + 1e-12
    if met:
        message = f"suppressed share = {share:.4g}, limit {limit:g}: met"
    else:
        message = (
            f"suppressed share = {share:.4g}, limit {limit:g}: "
            f"{_plural(suppressed, 'record')} of {records:,} are suppressed"
        )
    return TargetOutcome(target="suppression_limit", attribute=None, required=limit,
                         achieved=share, met=met, message=message)
