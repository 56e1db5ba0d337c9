"""Fixtures for the anonymization tests: the Adult data, its hierarchies, and policy files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "examples" / "data" / "adult"
HOSPITAL = ROOT / "tests" / "data" / "anjana_hospital"

ADULT_QUASI_IDENTIFIERS = (
    "age", "education", "marital-status", "occupation", "sex", "native-country",
)


def write_policy(folder: Path, document: dict[str, Any], name: str = "policy.yaml") -> Path:
    """Write a policy document as YAML and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump({"version": 1, "default": "keep", **document}), encoding="utf-8")
    return path


def adult_policy(
    folder: Path,
    privacy: dict[str, Any],
    quasi_identifiers: tuple[str, ...] = ADULT_QUASI_IDENTIFIERS,
    sensitive: list[str] | dict[str, Any] | None = None,
) -> Path:
    """Write a policy for the Adult data with each quasi-identifier's bundled hierarchy."""
    rules = {
        name: {"hierarchy": str(ADULT / f"adult_hierarchy_{name}.csv")} for name in quasi_identifiers
    }
    document: dict[str, Any] = {"quasi_identifiers": rules, "privacy": privacy}
    if sensitive:
        document["sensitive_attributes"] = sensitive
    return write_policy(folder, document)


def read_hierarchy(name: str) -> pl.DataFrame:
    """Read an Adult hierarchy file as String columns ``0``, ``1``, ... (no header)."""
    frame = pl.read_csv(
        ADULT / f"adult_hierarchy_{name}.csv", separator=";", has_header=False, infer_schema=False
    )
    return frame.rename({old: str(index) for index, old in enumerate(frame.columns)})


@pytest.fixture(scope="session")
def adult_frame() -> pl.DataFrame:
    """The Adult data as String columns."""
    return pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
