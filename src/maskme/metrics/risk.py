"""Re-identification risk under the prosecutor, journalist and marketer models.

With f_E the records of class E in the released table, F_E the people of the
population who share E's quasi-identifier values, and n the records in
classes:

- prosecutor (the attacker knows the target is in the table): a record's risk
  is 1 / f_E. Highest = 1 / min f_E, average = (number of classes) / n.
- journalist (the attacker knows the target is in the population): a
  record's risk is 1 / F_E. Highest = 1 / min F_E, average = sum_E f_E / F_E / n.
- marketer (the attacker links every record it can and counts the hits): the
  expected share of records re-identified, sum_E f_E / F_E / n with
  population counts and (number of classes) / n without.

The share "above the threshold" counts records whose risk is strictly greater
than the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from maskme.errors import MaskMeError

__all__ = ["DEFAULT_RISK_THRESHOLD", "Risk", "population_sizes", "reidentification_risk"]

#: Default threshold of the "records above" share: a risk above 0.2 means a
#: class of fewer than 5 records.
DEFAULT_RISK_THRESHOLD = 0.2


@dataclass(frozen=True, kw_only=True)
class Risk:
    """Re-identification risks of one table; None where undefined (no classes, no population)."""

    threshold: float
    prosecutor_highest: float | None
    prosecutor_average: float | None
    prosecutor_records_above_threshold: int
    prosecutor_share_above_threshold: float | None
    marketer: float | None
    journalist_highest: float | None = None
    journalist_average: float | None = None
    journalist_records_above_threshold: int | None = None
    journalist_share_above_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "threshold": self.threshold,
            "prosecutor": {
                "highest": self.prosecutor_highest,
                "average": self.prosecutor_average,
                "records_above_threshold": self.prosecutor_records_above_threshold,
                "share_above_threshold": self.prosecutor_share_above_threshold,
            },
            "journalist": {
                "highest": self.journalist_highest,
                "average": self.journalist_average,
                "records_above_threshold": self.journalist_records_above_threshold,
                "share_above_threshold": self.journalist_share_above_threshold,
            },
            "marketer": self.marketer,
        }


def reidentification_risk(
    class_sizes: pl.Series | npt.ArrayLike,
    *,
    population_sizes: pl.Series | npt.ArrayLike | None = None,
    threshold: float = DEFAULT_RISK_THRESHOLD,
) -> Risk:
    """Compute the risk models from class sizes and, optionally, population sizes.

    ``population_sizes`` gives F_E for each class, aligned with ``class_sizes``;
    each must be at least the class size.
    """
    if not 0.0 <= threshold <= 1.0:
        raise MaskMeError(f"risk threshold must be between 0 and 1, got {threshold}")
    sizes = np.asarray(class_sizes, dtype=np.float64)
    records = float(sizes.sum())
    if sizes.size == 0 or records == 0:
        return Risk(
            threshold=threshold,
            prosecutor_highest=None,
            prosecutor_average=None,
            prosecutor_records_above_threshold=0,
            prosecutor_share_above_threshold=None,
            marketer=None,
            journalist_records_above_threshold=0 if population_sizes is not None else None,
        )
    above = int(sizes[1.0 / sizes > threshold].sum())
    prosecutor_average = sizes.size / records
    journalist: dict[str, Any] = {}
    marketer = prosecutor_average
    if population_sizes is not None:
        population = np.asarray(population_sizes, dtype=np.float64)
        if population.shape != sizes.shape:
            raise MaskMeError(
                f"expected one population count per class ({sizes.size}), got {population.size}"
            )
        too_small = int((population < sizes).sum())
        if too_small:
            raise MaskMeError(
                f"{too_small:,} population {'count is' if too_small == 1 else 'counts are'} "
                "smaller than the number of records of the class: the population must include "
                "every record of the table"
            )
        journalist_above = int(sizes[1.0 / population > threshold].sum())
        marketer = float((sizes / population).sum() / records)
        journalist = {
            "journalist_highest": float(1.0 / population.min()),
            "journalist_average": marketer,
            "journalist_records_above_threshold": journalist_above,
            "journalist_share_above_threshold": journalist_above / records,
        }
    return Risk(
        threshold=threshold,
        prosecutor_highest=float(1.0 / sizes.min()),
        prosecutor_average=prosecutor_average,
        prosecutor_records_above_threshold=above,
        prosecutor_share_above_threshold=above / records,
        marketer=marketer,
        **journalist,
    )


def population_sizes(
    classes: pl.DataFrame, population: pl.DataFrame, quasi_identifiers: list[str]
) -> pl.Series:
    """Return F_E for each row of ``classes``, looked up in ``population``.

    ``population`` has one ``String`` column per quasi-identifier and a
    ``count`` column; rows with the same values are added up. A missing
    value matches a missing value.

    Raises
    ------
    MaskMeError
        When a class of the table has no population count.
    """
    if "count" not in population.columns:
        raise MaskMeError(
            "population counts need a `count` column next to the quasi-identifier columns"
        )
    counts = population.select(*quasi_identifiers, pl.col("count").cast(pl.Float64, strict=False))
    if counts["count"].null_count():
        absent = counts["count"].null_count()
        raise MaskMeError(
            f"{absent:,} population {'count is' if absent == 1 else 'counts are'} missing or "
            "not a number: every row of the population table needs a numeric `count`"
        )
    totals = counts.group_by(quasi_identifiers).agg(pl.col("count").sum().alias("_population"))
    joined = classes.select("class_id", *quasi_identifiers).join(
        totals, on=quasi_identifiers, how="left", nulls_equal=True, maintain_order="left"
    )
    unmatched = joined["_population"].null_count()
    if unmatched:
        raise MaskMeError(
            f"{unmatched:,} of {classes.height:,} equivalence classes "
            f"{'has' if unmatched == 1 else 'have'} no population count: "
            "the population table needs a row for every combination of quasi-identifier "
            "values in the data"
        )
    return joined.sort("class_id")["_population"]
