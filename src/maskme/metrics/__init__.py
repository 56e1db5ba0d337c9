"""Measure privacy and utility: accumulators, metrics and typed results.

Layers, from data to report:

- accumulators collect what the metrics need, per batch, and merge:
  :class:`ClassStatistics` (class counts and per-class sensitive histograms)
  and the per-field accumulators of :mod:`maskme.metrics.utility`;
- metric functions compute privacy models, risk and utility from those
  tables: :func:`k_anonymity`, :func:`measure_sensitive_attribute`,
  :class:`SensitiveDistribution`, :func:`reidentification_risk`,
  :func:`table_utility`;
- result objects carry the numbers and render them with ``to_dict()``:
  :class:`Measurement` from :func:`measure`, :class:`RunReport` from
  :class:`RunMeasurement`.
"""

from maskme.metrics.classes import ClassStatistics, EquivalenceClasses, count_classes
from maskme.metrics.measure import measure
from maskme.metrics.measurement import (
    Measurement,
    SensitiveAttributeSpec,
    measure_classes,
)
from maskme.metrics.privacy import (
    AttributeKind,
    KAnonymity,
    SensitiveAttributeMeasures,
    SensitiveDistribution,
    k_anonymity,
    measure_sensitive_attribute,
    meets_entropy_l,
)
from maskme.metrics.risk import Risk, reidentification_risk
from maskme.metrics.run import RunMeasurement, RunReport
from maskme.metrics.utility import TableUtility, table_utility

__all__ = [
    "AttributeKind",
    "ClassStatistics",
    "EquivalenceClasses",
    "KAnonymity",
    "Measurement",
    "Risk",
    "RunMeasurement",
    "RunReport",
    "SensitiveAttributeMeasures",
    "SensitiveAttributeSpec",
    "SensitiveDistribution",
    "TableUtility",
    "count_classes",
    "k_anonymity",
    "measure",
    "measure_classes",
    "measure_sensitive_attribute",
    "meets_entropy_l",
    "reidentification_risk",
    "table_utility",
]
