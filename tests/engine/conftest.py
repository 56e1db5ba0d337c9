"""Fixtures of the engine tests: counting how CSV runs went through the one-query path."""

from __future__ import annotations

import pytest

from maskme.engine import local, query


class Runs:
    """Counts the queries that finished and those that handed over to the batch path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.finished = 0
        self.handed_over = 0
        original = local.run_query

        def counting(*args, **kwargs):
            try:
                records = original(*args, **kwargs)
            except query.NeedsBatches:
                self.handed_over += 1
                raise
            self.finished += 1
            return records

        monkeypatch.setattr(local, "run_query", counting)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, key_env: str) -> Runs:
    """Count the query runs of a test, with the test key in the environment."""
    return Runs(monkeypatch)
