"""The ``drop`` strategy: remove the field from every record."""

from __future__ import annotations

import polars as pl

from maskme.strategies.base import BatchView, Strategy, StrategyParams
from maskme.strategies.registry import register_strategy


class DropParams(StrategyParams):
    """``drop`` takes no parameters."""


@register_strategy(builtin=True)
class Drop(Strategy):
    """Remove the field: a CSV column or a JSON key disappears from the output.

    Notes
    -----
    Dropping gives the strongest protection for that field, since nothing of it
    is released. It does nothing against re-identification through the fields
    that remain (quasi-identifiers such as age, ZIP code and sex).
    """

    name = "drop"
    Params = DropParams
    deterministic = True
    reversible = False
    keeps_type = False
    removes_field = True

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        # The engine removes the field before any value reaches a strategy; this
        # only runs when a caller applies the strategy to a column directly.
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
