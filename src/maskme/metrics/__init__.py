"""Measure privacy and utility: accumulators, metrics and typed results.

Layers, from data to report:

- accumulators collect what the metrics need, per batch, and merge:
  :class:`ClassStatistics` (class counts and per-class sensitive histograms);
- metric functions compute privacy models and risk from those tables:
  :func:`k_anonymity`, :func:`measure_sensitive_attribute`,
  :class:`SensitiveDistribution`;
- result objects carry the numbers and render them with ``to_dict()``.
"""

from maskme.metrics.classes import ClassStatistics, EquivalenceClasses, count_classes
from maskme.metrics.privacy import (
    AttributeKind,
    KAnonymity,
    SensitiveAttributeMeasures,
    SensitiveDistribution,
    k_anonymity,
    measure_sensitive_attribute,
    meets_entropy_l,
)

__all__ = [
    "AttributeKind",
    "ClassStatistics",
    "EquivalenceClasses",
    "KAnonymity",
    "SensitiveAttributeMeasures",
    "SensitiveDistribution",
    "count_classes",
    "k_anonymity",
    "measure_sensitive_attribute",
    "meets_entropy_l",
]
