"""The policy's ``privacy:`` section and the generalization rules of quasi-identifiers.

``privacy:`` names the privacy targets a run must meet (k, l, t, a maximum
prosecutor risk), the share of records that may be removed to meet them, and
the utility metric the anonymization search minimizes. ``quasi_identifiers:``
lists the quasi-identifiers, either as plain names or each with the rule by
which the search may generalize it.

Both are pydantic models, frozen and with unknown keys rejected, so a policy is
checked when it loads, not when the first record arrives.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "LVariant",
    "PrivacyTargets",
    "QuasiIdentifierRule",
    "QuasiIdentifiersSpec",
    "UtilityMetric",
    "quasi_identifier_rules",
]

LVariant: TypeAlias = Literal["distinct", "entropy", "recursive"]
UtilityMetric: TypeAlias = Literal["loss", "discernibility", "average_class_size"]


class PrivacyTargets(BaseModel):
    """Privacy targets of a policy, with the suppression limit and the search's utility metric.

    Notes
    -----
    - ``k``: every equivalence class has at least ``k`` records.
    - ``l``: for every sensitive attribute, every class has at least ``l``
      distinct values (``l_variant: distinct``), or an entropy of at least
      ``ln l`` (``entropy``, where ``l`` may be a real number), or passes
      recursive (c, l)-diversity (``recursive``). Recursive means that the
      most frequent count is below ``c`` times the sum of the counts from the
      l-th most frequent onward.
    - ``t``: the Earth Mover's Distance between each class's distribution of a
      sensitive attribute and the whole table's is at most ``t``. One number
      applies to every sensitive attribute; a mapping gives one per attribute.
    - ``max_risk``: the highest prosecutor re-identification risk, which is
      1 / (size of the smallest class), may not exceed this value.
    - ``suppression_limit``: the largest share of records (0 to 1) that the
      anonymization search may remove. ``maskme mask`` removes none.
    - ``metric``: the utility metric the search minimizes.
      ``loss`` is the mean, over quasi-identifiers, of the mean normalized
      certainty penalty of the records (a removed record counts 1). For a
      numeric field a label's penalty is the span of the input values under
      it over the span of all input values. For any other field it is
      (distinct values under it - 1) / (distinct values - 1).
      ``discernibility`` is the sum of squared class sizes plus, for each
      removed record, the number of records.
      ``average_class_size`` is the number of kept records divided by the
      number of classes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int | None = Field(default=None, ge=1)
    l: float | None = Field(default=None, ge=1)
    l_variant: LVariant = "distinct"
    c: float | None = Field(default=None, gt=0)
    t: float | dict[str, float] | None = None
    max_risk: float | None = Field(default=None, gt=0, le=1)
    suppression_limit: float = Field(default=0.0, ge=0, le=1)
    metric: UtilityMetric = "loss"

    @model_validator(mode="after")
    def _check_combinations(self) -> Self:
        whole_l_needed = self.l_variant in ("distinct", "recursive")
        if self.l is not None and whole_l_needed and not float(self.l).is_integer():
            raise ValueError(
                f"l must be a whole number for l_variant {self.l_variant}; "
                "only entropy l-diversity takes a real number"
            )
        if self.l_variant == "recursive" and self.l is not None and self.c is None:
            raise ValueError("l_variant recursive needs c, the recursive (c, l)-diversity constant")
        if self.c is not None and self.l_variant != "recursive":
            raise ValueError("c is only used with l_variant: recursive; remove c or set l_variant")
        if self.c is not None and self.l is None:
            raise ValueError("c is set but l is not; recursive (c, l)-diversity needs both")
        thresholds = self.t.values() if isinstance(self.t, dict) else [self.t]
        for value in thresholds:
            if value is not None and not 0 <= value <= 1:
                raise ValueError("t must be between 0 and 1")
        return self

    @property
    def required_k(self) -> int:
        """Smallest class size the targets allow: the larger of ``k`` and ``ceil(1 / max_risk)``."""
        required = self.k or 1
        if self.max_risk is not None:
            # 1 / size <= max_risk  <=>  size >= 1 / max_risk, with a tolerance for
            # values such as 0.2 that are not exact in binary floating point.
            required = max(required, math.ceil(1 / self.max_risk - 1e-9))
        return required

    def t_for(self, attribute: str) -> float | None:
        """Return the t-closeness threshold for one sensitive attribute, or None."""
        if isinstance(self.t, dict):
            return self.t.get(attribute)
        return self.t

    @property
    def has_targets(self) -> bool:
        """Whether any privacy target (k, l, t or max_risk) is set."""
        return any(value is not None for value in (self.k, self.l, self.t, self.max_risk))


class QuasiIdentifierRule(BaseModel):
    """Generalization rule of one quasi-identifier for the anonymization search.

    At most one of the three rules is set:

    - ``hierarchy``: a CSV file with one row per value, column 0 the value and
      then one column per generalization level (no header). A relative path is
      resolved against the policy file's folder.
    - ``intervals``: numeric levels from interval widths, such as ``[5, 10,
      20]`` for half-open intervals ``[20, 25)``, ``[20, 30)``, ``[20, 40)``.
      Each width must be a whole multiple of the one before, so that the
      intervals of one level nest in those of the next.
    - ``mondrian: true``: numeric values recoded per equivalence class into
      intervals by Mondrian multidimensional partitioning.

    A rule with none of them leaves the value as it is, with ``*`` (the value
    fully suppressed) as its only generalization.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hierarchy: Path | None = None
    intervals: tuple[float, ...] | None = None
    mondrian: bool = False

    @model_validator(mode="after")
    def _check_one_rule(self) -> Self:
        chosen = [
            name
            for name, is_set in (
                ("hierarchy", self.hierarchy is not None),
                ("intervals", self.intervals is not None),
                ("mondrian", self.mondrian),
            )
            if is_set
        ]
        if len(chosen) > 1:
            raise ValueError(f"set only one of hierarchy, intervals and mondrian, got {' and '.join(chosen)}")
        if self.intervals is not None:
            _check_interval_widths(self.intervals)
        return self


def _check_interval_widths(widths: Sequence[float]) -> None:
    if not widths:
        raise ValueError("intervals needs at least one width")
    for width in widths:
        if not width > 0 or not math.isfinite(width):
            raise ValueError("each interval width must be a positive number")
    for narrower, wider in itertools.pairwise(widths):
        ratio = wider / narrower
        if ratio < 1.5 or abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(
                "each interval width must be a whole multiple (2 or more) of the width before it, "
                "so that intervals nest from one level to the next"
            )


#: Accepted forms of the policy's ``quasi_identifiers:``: a list of field names,
#: or a mapping from field name to its rule (an empty value means no rule).
QuasiIdentifiersSpec: TypeAlias = list[str] | dict[str, QuasiIdentifierRule | None]


def quasi_identifier_rules(
    spec: Sequence[str] | Mapping[str, QuasiIdentifierRule | Mapping[str, object] | None] | None,
) -> dict[str, QuasiIdentifierRule]:
    """Return the rule of every quasi-identifier, in policy order, from either accepted form.

    Raises
    ------
    ValueError
        A name is listed twice or a rule is invalid (pydantic's message names it).
    """
    if spec is None:
        return {}
    rules: dict[str, QuasiIdentifierRule] = {}
    if isinstance(spec, Mapping):
        for name, rule in spec.items():
            if rule is None:
                rules[name] = QuasiIdentifierRule()
            elif isinstance(rule, QuasiIdentifierRule):
                rules[name] = rule
            else:
                rules[name] = QuasiIdentifierRule.model_validate(rule)
        return rules
    for name in spec:
        if name in rules:
            raise ValueError(f"quasi-identifier {name!r} is listed twice")
        rules[name] = QuasiIdentifierRule()
    return rules
