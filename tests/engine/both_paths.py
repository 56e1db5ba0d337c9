"""Running one masking job on the query path and on the batch path, for comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

import maskme
from maskme.engine import local
from maskme.errors import MaskMeError


def outcome(source: Path, policy: dict, target: Path, **options) -> bytes | str:
    """Return the output bytes, or the error's type and message.

    A failed run must leave neither the output nor a temporary ``.part`` file.
    """
    try:
        maskme.mask(source, policy, target, **options)
    except MaskMeError as error:
        assert not target.exists()
        assert not list(target.parent.glob("*.part"))
        return f"{type(error).__name__}: {error}"
    return target.read_bytes()


def outcomes(source: Path, policy: dict, monkeypatch: pytest.MonkeyPatch,
             **options) -> tuple[bytes | str, bytes | str]:
    """Return the query's outcome and the batch path's outcome for the same run.

    The query is the CSV query for a CSV source, and the one-query-per-batch
    path for JSON and JSONL; the output has the source's format.
    """
    fast = outcome(source, policy, source.parent / ("query" + source.suffix), **options)
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = outcome(source, policy, source.parent / ("batches" + source.suffix), **options)
    monkeypatch.setattr(local, "QUERY_ENABLED", True)
    return fast, slow


def count_per_field_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Return a list that gets one item for each batch ``apply_plan`` (the per-field path) transforms."""
    calls: list[int] = []
    original = local.apply_plan

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(local, "apply_plan", counting)
    return calls
