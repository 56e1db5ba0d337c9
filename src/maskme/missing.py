"""Missing values in text columns: null, the empty string, and the texts a policy declares.

Data often marks a missing value with a text of its own (``?`` in the UCI
Adult data, ``N/A`` in others), which the policy's ``missing_values`` lists.
Masking leaves such values as they came, and measurement counts them as
missing, as it does null and the empty string.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["missing_text"]


def missing_text(values: pl.Expr, markers: Sequence[str] = ()) -> pl.Expr:
    """Return whether each value is the empty string or one of ``markers``; null for a null."""
    empty = values == ""
    if not markers:
        return empty
    return empty | values.is_in(pl.lit(pl.Series(list(markers), dtype=pl.String)).implode())
