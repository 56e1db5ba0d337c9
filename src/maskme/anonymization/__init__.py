"""Automatic anonymization: meet privacy targets with the least information loss.

:func:`anonymize` runs pass one (class statistics), the lattice search with
Mondrian for numeric quasi-identifiers, pass two (the output), and measures
the written output afresh. :func:`check_targets` compares any measurement
with a policy's privacy targets.
"""

from maskme.anonymization.run import AnonymizationResult, anonymize, plan_anonymization
from maskme.anonymization.targets import TargetMiss, TargetOutcome, check_targets, measure_targets

__all__ = [
    "AnonymizationResult",
    "TargetMiss",
    "TargetOutcome",
    "anonymize",
    "check_targets",
    "measure_targets",
    "plan_anonymization",
]
