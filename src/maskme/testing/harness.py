"""Run a strategy on a column the way the engine does, without files or a policy.

The engine cuts the input into batches and hands each strategy one ``String``
column per batch, with missing values (null and the empty string) already
null. A two-pass strategy gets every batch through ``observe`` first, and
then every batch again through ``apply``. These helpers reproduce that lifecycle so
tests can compare a whole column with the same column cut into batches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from maskme.strategies import registry
from maskme.strategies.base import BatchView, Strategy, StrategyContext
from maskme.strategies.registry import get_strategy, validate_params

__all__ = [
    "batch_view",
    "isolated_registry",
    "make_strategy",
    "run_strategy",
    "string_column",
]


def string_column(values: Sequence[str | None] | pl.Series, name: str = "field") -> pl.Series:
    """Build the column the engine would hand a strategy: ``String``, empty strings as null."""
    column = values if isinstance(values, pl.Series) else pl.Series(name, list(values), dtype=pl.String)
    column = column.cast(pl.String)
    return pl.select(
        pl.when(column == "").then(None).otherwise(column).alias(column.name)
    ).to_series()


def batch_view(
    record_numbers: Sequence[int] | pl.Series,
    other_columns: Mapping[str, Sequence[str | None] | pl.Series] | None = None,
) -> BatchView:
    """Build a :class:`BatchView` with the given 1-based record numbers and other fields.

    Each other column must have one value per record number. Asking the view
    for a field that is not given raises ``KeyError`` naming the field.
    """
    numbers = (
        record_numbers
        if isinstance(record_numbers, pl.Series)
        else pl.Series("record", list(record_numbers), dtype=pl.Int64)
    )
    columns = {name: string_column(values, name) for name, values in (other_columns or {}).items()}
    for name, other in columns.items():
        if len(other) != len(numbers):
            raise ValueError(
                f"other column `{name}` has {len(other)} values, expected {len(numbers)} "
                "(one per record number)"
            )

    def lookup(field_path: str) -> pl.Series:
        if field_path not in columns:
            raise KeyError(f"field `{field_path}` is not part of this test batch")
        return columns[field_path]

    return BatchView(record_numbers=numbers, column=lookup)


def make_strategy(
    strategy: str | type[Strategy],
    params: Mapping[str, Any] | None = None,
    *,
    field_path: str = "field",
    key: bytes | None = None,
    seed: int | None = None,
    base_dir: Path | None = None,
) -> Strategy:
    """Validate ``params`` as the policy loader does and build a fresh strategy instance."""
    strategy_cls = get_strategy(strategy) if isinstance(strategy, str) else strategy
    validated = validate_params(strategy_cls, params or {})
    context = StrategyContext(
        field_path=field_path, key=key, seed=seed, base_dir=base_dir or Path.cwd()
    )
    return strategy_cls(validated, context)


def split_sizes(total: int, sizes: Sequence[int] | int | None) -> list[int]:
    """Turn a batch size (or an explicit list of sizes) into sizes that add up to ``total``."""
    if sizes is None:
        return [total]
    if isinstance(sizes, int):
        if sizes < 1:
            raise ValueError(f"batch size must be at least 1, got {sizes}")
        return [min(sizes, total - start) for start in range(0, total, sizes)] or [0]
    if sum(sizes) != total or any(size < 0 for size in sizes):
        raise ValueError(f"batch sizes {list(sizes)} do not add up to {total} values")
    return list(sizes)


def run_strategy(
    strategy: Strategy,
    values: Sequence[str | None] | pl.Series,
    *,
    batch_sizes: Sequence[int] | int | None = None,
    other_columns: Mapping[str, Sequence[str | None] | pl.Series] | None = None,
    first_record: int = 1,
) -> list[pl.Series]:
    """Run the engine's lifecycle on one column and return the output of each batch.

    The column is cut into batches of ``batch_sizes`` (one batch when None).
    Record numbers start at ``first_record``. A two-pass strategy observes every
    batch before the first ``apply``. Use a fresh strategy instance per call,
    because two-pass strategies keep what they observed.
    """
    column = string_column(values)
    others = {name: string_column(other, name) for name, other in (other_columns or {}).items()}
    batches: list[tuple[pl.Series, BatchView]] = []
    start = 0
    for size in split_sizes(len(column), batch_sizes):
        numbers = pl.Series(
            "record", range(first_record + start, first_record + start + size), dtype=pl.Int64
        )
        view = batch_view(numbers, {name: other.slice(start, size) for name, other in others.items()})
        batches.append((column.slice(start, size), view))
        start += size
    if strategy.two_pass:
        for batch_values, view in batches:
            strategy.observe(batch_values, view)
    return [strategy.apply(batch_values, view) for batch_values, view in batches]


@contextlib.contextmanager
def isolated_registry() -> Iterator[None]:
    """Restore the strategy registry on exit, so a test can register strategies freely.

    Plugins are scanned again afterwards as well.
    """
    with registry._lock:
        saved = dict(registry._registry)
    try:
        yield
    finally:
        with registry._lock:
            registry._registry.clear()
            registry._registry.update(saved)
        registry.refresh_plugins()
