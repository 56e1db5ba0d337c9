"""Shared helpers for the metrics tests: read the copied example tables and generalize them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
ADULT = REPOSITORY / "examples" / "data" / "adult"
PAPER = REPOSITORY / "tests" / "data" / "tcloseness_paper"


def read_semicolon_table(path: Path) -> pl.DataFrame:
    """Read a `;`-separated file with a header, every column as String."""
    return pl.read_csv(path, separator=";", infer_schema=False)


def generalize(frame: pl.DataFrame, levels: dict[str, int], hierarchy_path) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Replace each listed column by column `level` of its hierarchy row (full-domain).

    `hierarchy_path(attribute)` returns the attribute's hierarchy file, which
    has no header: column 0 is the raw value, column L its level-L label.
    """
    out = frame
    for attribute, level in levels.items():
        if level == 0:
            continue
        hierarchy = pl.read_csv(
            hierarchy_path(attribute), separator=";", has_header=False, infer_schema=False
        )
        lookup = hierarchy.select(
            pl.col(hierarchy.columns[0]).alias(attribute),
            pl.col(hierarchy.columns[level]).alias("_label"),
        )
        out = (
            out.join(lookup, on=attribute, how="left", maintain_order="left")
            .with_columns(pl.col("_label").alias(attribute))
            .drop("_label")
        )
        assert out[attribute].null_count() == 0, f"{attribute}: a value is not in its hierarchy"
    return out


@pytest.fixture(scope="session")
def adult() -> pl.DataFrame:
    return read_semicolon_table(ADULT / "adult.csv")


def adult_hierarchy(attribute: str) -> Path:
    return ADULT / f"adult_hierarchy_{attribute}.csv"


def paper_hierarchy(attribute: str) -> Path:
    return PAPER / f"test2_hierarchy_{attribute}.csv"


@pytest.fixture(scope="session")
def generalize_adult(adult):  # type: ignore[no-untyped-def]
    """Return a function: Adult generalized to the given levels, with the given columns."""

    def build(levels: dict[str, int], *extra: str) -> pl.DataFrame:
        return generalize(adult.select(*levels, *extra), levels, adult_hierarchy)

    return build


@pytest.fixture(scope="session")
def paper_table() -> pl.DataFrame:
    return read_semicolon_table(PAPER / "test2.csv")


@pytest.fixture(scope="session")
def generalize_paper(paper_table):  # type: ignore[no-untyped-def]
    """Return a function: the t-closeness paper's table generalized to the given levels."""

    def build(levels: dict[str, int]) -> pl.DataFrame:
        return generalize(paper_table, levels, paper_hierarchy)

    return build
