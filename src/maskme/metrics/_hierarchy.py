"""Hierarchies as rows of labels, for the hierarchical distance of t-closeness."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import polars as pl

from maskme.errors import MaskMeError

__all__ = ["HierarchySource", "hierarchy_rows"]

#: A hierarchy file path, or its rows: column 0 is the raw value, column j its
#: generalization at level j, the last column the root.
HierarchySource = str | PathLike[str] | Sequence[Sequence[str]] | Any


def hierarchy_rows(source: HierarchySource) -> list[tuple[str, ...]]:
    """Return a hierarchy's rows, from a file path, a loaded hierarchy or a list of rows.

    Raises
    ------
    MaskMeError
        When the file cannot be read or its rows have different lengths.
    """
    if isinstance(source, str | PathLike):
        rows = _read_rows(Path(source))
        where = str(source)
    elif isinstance(getattr(source, "table", None), pl.DataFrame):
        # A maskme.strategies.hierarchy.Hierarchy: one String column per level.
        table: pl.DataFrame = getattr(source, "table")  # noqa: B009 - typed as Any
        rows = [tuple(str(label) for label in row) for row in table.iter_rows()]
        where = str(getattr(source, "source", "the hierarchy"))
    else:
        rows = [tuple(str(label) for label in row) for row in source]
        where = "the hierarchy"
    if not rows:
        raise MaskMeError(f"{where}: the hierarchy has no rows; expected one row per value")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise MaskMeError(
            f"{where}: rows have {min(widths)} to {max(widths)} levels; every row of a "
            "hierarchy needs the same number of levels"
        )
    if min(widths) < 2:
        raise MaskMeError(f"{where}: expected at least two levels (the value and its root)")
    return rows


def _read_rows(path: Path) -> list[tuple[str, ...]]:
    try:
        from maskme.strategies.hierarchy import load_hierarchy
    except ImportError:
        return _read_semicolon_rows(path)
    loaded = load_hierarchy(path)
    return [tuple(row) for row in loaded.table.iter_rows()]


def _read_semicolon_rows(path: Path) -> list[tuple[str, ...]]:
    # Fallback for a tree without the strategies' loader: one row per raw value,
    # `;`-separated, no header, no quoting.
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise MaskMeError(
            f"cannot read hierarchy file {path}: {error.strerror}; check the path"
        ) from None
    return [tuple(line.split(";")) for line in text.splitlines() if line.strip()]
