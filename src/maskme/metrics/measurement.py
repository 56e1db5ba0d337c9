"""The typed result of a measurement, and the step from class statistics to it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from maskme.errors import MaskMeError, UsageError
from maskme.metrics._hierarchy import HierarchySource
from maskme.metrics.classes import EquivalenceClasses
from maskme.metrics.privacy import (
    AttributeKind,
    KAnonymity,
    SensitiveAttributeMeasures,
    k_anonymity,
    measure_sensitive_attribute,
)
from maskme.metrics.risk import (
    DEFAULT_RISK_THRESHOLD,
    Risk,
    population_sizes,
    reidentification_risk,
)
from maskme.metrics.utility import TableUtility, table_utility

__all__ = [
    "Measurement",
    "SensitiveAttributeSpec",
    "SensitiveAttributesArgument",
    "measure_classes",
    "sensitive_attribute_specs",
]

_KINDS = ("categorical", "ordered", "hierarchical")


@dataclass(frozen=True, kw_only=True)
class SensitiveAttributeSpec:
    """A sensitive attribute to measure, with the kind that picks its t-closeness distance.

    ``kind`` comes from the policy or the caller, never from a column's dtype.
    ``hierarchical`` needs ``hierarchy`` (a file path or loaded hierarchy).
    """

    name: str
    kind: AttributeKind = "categorical"
    hierarchy: HierarchySource | None = None


#: Accepted forms of ``sensitive_attributes``: a name, a list of names (categorical),
#: or a mapping of name to a kind (``"ordered"``), to ``{"kind": ..., "hierarchy": ...}``,
#: or to a policy's ``SensitiveAttribute``.
SensitiveAttributesArgument = (
    str | Sequence[str | SensitiveAttributeSpec] | Mapping[str, Any] | None
)


def sensitive_attribute_specs(
    argument: SensitiveAttributesArgument, *, base_dir: Path | None = None
) -> list[SensitiveAttributeSpec]:
    """Normalize the accepted forms of ``sensitive_attributes`` to specs.

    A categorical attribute with a hierarchy becomes ``hierarchical``. A
    relative hierarchy path is resolved against ``base_dir`` (a policy's folder).
    """
    if argument is None:
        return []
    if isinstance(argument, str):
        argument = [argument]
    entries: list[tuple[str, Any]]
    if isinstance(argument, Mapping):
        entries = list(argument.items())
    else:
        entries = []
        for item in argument:
            if isinstance(item, SensitiveAttributeSpec):
                entries.append((item.name, item))
            else:
                entries.append((str(item), None))
    return [_spec(name, value, base_dir) for name, value in entries]


def _spec(name: str, value: Any, base_dir: Path | None) -> SensitiveAttributeSpec:
    kind: Any
    if isinstance(value, SensitiveAttributeSpec):
        kind, hierarchy = value.kind, value.hierarchy
    elif value is None:
        kind, hierarchy = "categorical", None
    elif isinstance(value, str):
        kind, hierarchy = value, None
    elif isinstance(value, Mapping):
        kind, hierarchy = value.get("kind", "categorical"), value.get("hierarchy")
    else:
        kind = getattr(value, "kind", "categorical")
        hierarchy = getattr(value, "hierarchy", None)
    if kind not in _KINDS:
        raise MaskMeError(
            f"sensitive attribute `{name}`: unknown kind '{kind}'; expected categorical, "
            "ordered or hierarchical"
        )
    if isinstance(hierarchy, str | Path) and base_dir is not None:
        path = Path(hierarchy)
        hierarchy = path if path.is_absolute() else base_dir / path
    if hierarchy is not None and kind == "categorical":
        kind = "hierarchical"
    if kind == "hierarchical" and hierarchy is None:
        raise UsageError(
            f"sensitive attribute `{name}` is hierarchical but has no hierarchy: "
            "give its hierarchy file, or declare it categorical"
        )
    if kind == "ordered" and hierarchy is not None:
        raise UsageError(
            f"sensitive attribute `{name}` is ordered and also has a hierarchy: an ordered "
            "attribute uses the rank distance, so remove the hierarchy or the kind"
        )
    return SensitiveAttributeSpec(name=name, kind=kind, hierarchy=hierarchy)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """Privacy, risk and utility of one table.

    Attributes
    ----------
    quasi_identifiers
        The fields that define the equivalence classes.
    records
        Every record read, suppressed ones included.
    suppressed_records
        Records whose quasi-identifiers were all suppressed (``*``) or that a
        run removed. They are in no class.
    records_with_missing_quasi_identifiers
        Records in a class with at least one missing quasi-identifier value.
    anonymity
        k-anonymity and the class-size distribution.
    sensitive_attributes
        One set of privacy models per sensitive attribute, in the order given.
    risk
        Prosecutor, journalist and marketer re-identification risk.
    utility
        Discernibility, average class size and suppressed share.
    equivalence_classes
        The class table and histograms the numbers come from (not in ``to_dict``).
    """

    quasi_identifiers: tuple[str, ...]
    records: int
    suppressed_records: int
    records_with_missing_quasi_identifiers: int
    anonymity: KAnonymity
    sensitive_attributes: tuple[SensitiveAttributeMeasures, ...]
    risk: Risk
    utility: TableUtility
    equivalence_classes: EquivalenceClasses = field(repr=False, compare=False)

    @property
    def k(self) -> int | None:
        """The k of k-anonymity: the smallest class size (None without classes)."""
        return self.anonymity.k

    def sensitive(self, name: str) -> SensitiveAttributeMeasures:
        """Return the measures of the sensitive attribute ``name``."""
        for measures in self.sensitive_attributes:
            if measures.name == name:
                return measures
        names = ", ".join(measures.name for measures in self.sensitive_attributes) or "none"
        raise KeyError(f"`{name}` is not a measured sensitive attribute (measured: {names})")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report: plain types only, infinity as the string ``"inf"``."""
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "records": self.records,
            "suppressed_records": self.suppressed_records,
            "records_with_missing_quasi_identifiers": self.records_with_missing_quasi_identifiers,
            "k_anonymity": self.anonymity.to_dict(),
            "sensitive_attributes": [measures.to_dict() for measures in self.sensitive_attributes],
            "risk": self.risk.to_dict(),
            "utility": self.utility.to_dict(),
        }


def measure_classes(
    classes: EquivalenceClasses,
    sensitive_attributes: Iterable[SensitiveAttributeSpec] = (),
    *,
    k: int | None = None,
    l: int | None = None,
    risk_threshold: float = DEFAULT_RISK_THRESHOLD,
    population: pl.DataFrame | None = None,
) -> Measurement:
    """Compute every measure of a table from its class statistics.

    Parameters
    ----------
    classes
        The counted classes; their histograms must cover ``sensitive_attributes``.
    k
        Count the records in classes smaller than ``k``, and normalize the
        average class size by it.
    l
        The l of recursive (c, l)-diversity; by default each attribute's distinct l.
    risk_threshold
        Risk above which a record counts in the "above threshold" shares.
    population
        Population counts for the journalist model: one ``String`` column per
        quasi-identifier and a ``count`` column.
    """
    sizes = classes.class_sizes
    measures = []
    for spec in sensitive_attributes:
        histogram = classes.histograms.get(spec.name)
        if histogram is None:
            raise MaskMeError(
                f"sensitive attribute `{spec.name}` was not counted: add it to the "
                "accumulator's sensitive attributes"
            )
        measures.append(
            measure_sensitive_attribute(
                spec.name, histogram, kind=spec.kind, hierarchy=spec.hierarchy, l=l
            )
        )
    population_counts = None
    if population is not None:
        population_counts = population_sizes(
            classes.classes, population, list(classes.quasi_identifiers)
        )
    return Measurement(
        quasi_identifiers=classes.quasi_identifiers,
        records=classes.records,
        suppressed_records=classes.suppressed_records,
        records_with_missing_quasi_identifiers=classes.records_with_missing_quasi_identifiers,
        anonymity=k_anonymity(sizes, k=k),
        sensitive_attributes=tuple(measures),
        risk=reidentification_risk(
            sizes, population_sizes=population_counts, threshold=risk_threshold
        ),
        utility=table_utility(sizes, suppressed_records=classes.suppressed_records, k=k),
        equivalence_classes=classes,
    )
