"""The ``keep`` strategy: pass a field through unchanged."""

from __future__ import annotations

import polars as pl

from maskme.strategies.base import BatchView, Strategy, StrategyParams
from maskme.strategies.registry import register_strategy


class KeepParams(StrategyParams):
    """``keep`` takes no parameters."""


@register_strategy(builtin=True)
class Keep(Strategy):
    """Pass the field through byte for byte; with ``default: drop`` this lists what stays.

    Notes
    -----
    Keep gives no protection at all. Use it for fields that are safe to
    release as they are, and list quasi-identifiers so they can be measured.
    """

    name = "keep"
    Params = KeepParams
    deterministic = True
    reversible = True
    keeps_type = True

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        return values
