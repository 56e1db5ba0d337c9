"""Evaluating a strategy's expression, and its ``apply``, on one batch of text values."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from maskme.strategies import InvalidValues, Strategy
from maskme.strategies.base import BatchView


def evaluate(strategy: Strategy, texts: Sequence[str | None],
             records: Sequence[int] | None = None, *,
             streaming: bool = False) -> tuple[list, list]:
    """Evaluate the strategy's expression on a frame; return (values, failed) as lists.

    ``records`` are the values' record numbers, 1 to the number of values by default.
    """
    if records is None:
        records = range(1, len(texts) + 1)
    described = strategy.expression(pl.col("value"), pl.col("record"))
    assert described is not None
    frame = pl.LazyFrame({"value": pl.Series(texts, dtype=pl.String),
                          "record": pl.Series(records, dtype=pl.UInt64)})
    # Intermediate columns first, as the engine computes them.
    for name, step in described.steps:
        frame = frame.with_columns(step.alias(name))
    failed = described.failed if described.failed is not None else pl.lit(False)
    result = frame.select(described.value.alias("value"), failed.alias("failed")).collect(
        engine="streaming" if streaming else "auto")
    assert result.schema["value"] == pl.String
    return result.get_column("value").to_list(), result.get_column("failed").to_list()


def apply(strategy: Strategy, texts: Sequence[str | None],
          records: Sequence[int] | None = None) -> tuple[list | None, set[int]]:
    """Run apply on one batch; return (values, positions it reports invalid)."""
    if records is None:
        records = range(1, len(texts) + 1)
    batch = BatchView(record_numbers=pl.Series(records, dtype=pl.UInt64),
                      column=lambda path: pl.Series(path, [None] * len(texts), dtype=pl.String))
    column = pl.Series("field", texts, dtype=pl.String)
    try:
        return strategy.apply(column, batch).to_list(), set()
    except InvalidValues as error:
        return None, set(error.positions)
