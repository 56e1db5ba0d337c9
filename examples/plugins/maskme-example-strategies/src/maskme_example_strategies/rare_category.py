"""``rare_category``: recode categories seen in fewer than ``min_count`` records."""

from __future__ import annotations

import polars as pl
from pydantic import Field

from maskme import MaskMeError, Strategy, StrategyParams
from maskme.strategies import BatchView

__all__ = ["RareCategory", "RareCategoryParams"]


class RareCategoryParams(StrategyParams):
    """Parameters of ``rare_category``."""

    min_count: int = Field(
        default=10,
        ge=1,
        description="A category with fewer records than this in the whole input is rare.",
    )
    other: str = Field(
        default="other",
        min_length=1,
        description="The value written in place of a rare category.",
    )


class RareCategory(Strategy):
    """Replace every category that fewer than ``min_count`` records have with ``other``.

    A two-pass strategy: :meth:`observe` counts the records of each category
    over every batch of the first pass, and :meth:`apply` recodes in the
    second. Memory grows with the number of distinct categories, not with the
    number of records, so the input still streams. Missing values are not
    counted and stay missing.

    Notes
    -----
    Rare values are the easiest to link to a person, so recoding them lowers
    re-identification risk through this field. It does not make the output
    k-anonymous: a frequent category can still be rare in combination with
    other fields (age, postcode), which needs ``generalize`` and a privacy
    target. The set of rare categories depends on the whole input, so adding
    records can change which categories are kept.
    """

    name = "rare_category"
    Params = RareCategoryParams
    deterministic = True
    reversible = False
    keeps_type = False
    two_pass = True

    params: RareCategoryParams

    def __init__(self, params: StrategyParams, context: object) -> None:
        super().__init__(params, context)  # type: ignore[arg-type]
        self._counts: pl.DataFrame | None = None
        self._frequent: pl.Series | None = None

    def observe(self, values: pl.Series, batch: BatchView) -> None:
        batch_counts = (
            values.drop_nulls()
            .rename("category")
            .value_counts(name="records")
            .with_columns(pl.col("records").cast(pl.Int64))
        )
        if self._counts is None:
            self._counts = batch_counts
        else:
            self._counts = (
                pl.concat([self._counts, batch_counts])
                .group_by("category")
                .agg(pl.col("records").sum())
            )
        self._frequent = None

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        if self._counts is None:
            raise MaskMeError(
                f"strategy rare_category on field `{self.context.field_path}` ran its second "
                "pass without a first one; run it through the MaskMe engine, which calls "
                "observe on every batch before apply"
            )
        if self._frequent is None:
            self._frequent = self._counts.filter(
                pl.col("records") >= self.params.min_count
            ).get_column("category")
        # A category the first pass never saw counts as rare.
        return pl.select(
            pl.when(values.is_null())
            .then(None)
            .when(values.is_in(self._frequent))
            .then(values)
            .otherwise(pl.lit(self.params.other))
            .alias(values.name)
        ).to_series()
