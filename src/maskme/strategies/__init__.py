"""Strategies: the registry, the base class and the built-in strategies."""

from maskme.strategies import drop as _drop  # noqa: F401  (registers the built-in)
from maskme.strategies import generalize as _generalize  # noqa: F401
from maskme.strategies import hash as _hash  # noqa: F401
from maskme.strategies import keep as _keep  # noqa: F401
from maskme.strategies import noise as _noise  # noqa: F401
from maskme.strategies import redact as _redact  # noqa: F401
from maskme.strategies.base import (
    BatchView,
    ColumnExpression,
    InvalidValues,
    Strategy,
    StrategyContext,
    StrategyParams,
    step_name,
)
from maskme.strategies.registry import (
    available_strategies,
    get_strategy,
    register_strategy,
    unregister_strategy,
)

__all__ = [
    "BatchView",
    "ColumnExpression",
    "InvalidValues",
    "Strategy",
    "StrategyContext",
    "StrategyParams",
    "available_strategies",
    "get_strategy",
    "register_strategy",
    "step_name",
    "unregister_strategy",
]
