"""Test support for strategy authors: the strategy contract and an engine-like harness.

``check_strategy`` runs every contract rule on a strategy and raises
``ContractViolation`` listing the rules it breaks. ``StrategyContract`` is the
same suite as a pytest base class. ``run_strategy`` runs a strategy over a
column cut into batches the way the engine does, two-pass lifecycle included,
and ``isolated_registry`` undoes registrations made inside a test.
"""

from maskme.testing.contract import (
    CHECKS,
    CheckResult,
    ContractViolation,
    StrategyCase,
    check_strategy,
)
from maskme.testing.harness import (
    batch_view,
    isolated_registry,
    make_strategy,
    run_strategy,
    string_column,
)
from maskme.testing.suite import StrategyContract

__all__ = [
    "CHECKS",
    "CheckResult",
    "ContractViolation",
    "StrategyCase",
    "StrategyContract",
    "batch_view",
    "check_strategy",
    "isolated_registry",
    "make_strategy",
    "run_strategy",
    "string_column",
]
