"""``StrategyContract``: the contract checks as a pytest base class.

Subclass it in a test module under a name starting with ``Test`` and set the
class attributes; pytest then runs one test per contract rule::

    class TestNhsNumber(StrategyContract):
        strategy = NhsNumber
        params = {"keep_last": 4}
        values = ["943 476 5919", "401 023 2137"]
        invalid_values = ["12345{marker}"]

The base class itself is not collected, because its name does not start with
``Test``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from maskme.strategies.base import Strategy
from maskme.testing import contract
from maskme.testing.contract import StrategyCase

__all__ = ["StrategyContract"]


class StrategyContract:
    """Pytest base class that runs every contract check on one strategy configuration."""

    #: The strategy class under test.
    strategy: ClassVar[type[Strategy]]
    #: Valid, present sample values (at least two; more distinct values make the checks stronger).
    values: ClassVar[Sequence[str]]
    #: Params as they would appear in a policy entry.
    params: ClassVar[Mapping[str, Any]] = {}
    #: Values the strategy cannot handle; ``{marker}`` is replaced by a unique string.
    invalid_values: ClassVar[Sequence[str]] = ()
    #: The key bytes, for strategies whose params name a key.
    key: ClassVar[bytes | None] = None
    seed: ClassVar[int | None] = None
    #: Values of other fields the strategy reads (for ``consistent_by``).
    other_columns: ClassVar[Mapping[str, Sequence[str | None]]] = {}
    base_dir: ClassVar[Path | None] = None
    #: Set to True when these params make a strategy deterministic that does not declare it.
    expect_deterministic: ClassVar[bool | None] = None

    def contract_case(self) -> StrategyCase:
        """Return the case every check runs on; override to build it differently."""
        return StrategyCase(
            strategy=self.strategy,
            values=list(self.values),
            params=dict(self.params),
            invalid_values=list(self.invalid_values),
            key=self.key,
            seed=self.seed,
            other_columns=dict(self.other_columns),
            base_dir=self.base_dir,
            expect_deterministic=self.expect_deterministic,
        )

    def _run(self, check: contract.Check) -> None:
        reason = check(self.contract_case())
        if reason:
            import pytest

            pytest.skip(reason)

    def test_params_model(self) -> None:
        """Params model: frozen, rejects unknown names, has a JSON Schema."""
        self._run(contract.check_params_model)

    def test_declared_properties(self) -> None:
        """Name, property flags and a docstring Notes section."""
        self._run(contract.check_declared_properties)

    def test_two_pass_lifecycle(self) -> None:
        """``two_pass`` and ``observe`` go together."""
        self._run(contract.check_two_pass_lifecycle)

    def test_same_length(self) -> None:
        """One output value per input value."""
        self._run(contract.check_same_length)

    def test_nulls_stay_null(self) -> None:
        """Nulls stay null and present values stay present."""
        self._run(contract.check_nulls_stay_null)

    def test_batch_size_independent(self) -> None:
        """The output does not depend on how the column is cut into batches."""
        self._run(contract.check_batch_size_independent)

    def test_deterministic(self) -> None:
        """Fresh instances and repeated calls agree, when declared deterministic."""
        self._run(contract.check_deterministic)

    def test_keeps_type(self) -> None:
        """Declared type preservation holds for numbers and dates."""
        self._run(contract.check_keeps_type)

    def test_no_value_in_errors(self) -> None:
        """Invalid values never appear in errors, log records, warnings or printed output."""
        self._run(contract.check_no_value_in_errors)
