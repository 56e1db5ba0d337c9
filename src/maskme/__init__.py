"""MaskMe: anonymize tabular and semi-structured data, and measure what it bought.

The public names below load their modules on first use (PEP 562), so that
``import maskme`` and the ``maskme`` command start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maskme.errors import (
    FormatError,
    KeyMissingError,
    MaskMeError,
    PolicyError,
    PrivacyTargetError,
    RecordError,
    UsageError,
)

if TYPE_CHECKING:
    from maskme.anonymization import AnonymizationResult, anonymize
    from maskme.metrics import Measurement, measure
    from maskme.policy import Policy, load_policy
    from maskme.run import mask
    from maskme.strategies import Strategy, StrategyParams, register_strategy

__version__ = "0.1.0"

_LAZY = {
    "AnonymizationResult": "maskme.anonymization",
    "anonymize": "maskme.anonymization",
    "Measurement": "maskme.metrics",
    "measure": "maskme.metrics",
    "Policy": "maskme.policy",
    "load_policy": "maskme.policy",
    "mask": "maskme.run",
    "Strategy": "maskme.strategies",
    "StrategyParams": "maskme.strategies",
    "register_strategy": "maskme.strategies",
}

__all__ = [
    "AnonymizationResult",
    "FormatError",
    "KeyMissingError",
    "MaskMeError",
    "Measurement",
    "Policy",
    "PolicyError",
    "PrivacyTargetError",
    "RecordError",
    "Strategy",
    "StrategyParams",
    "UsageError",
    "__version__",
    "anonymize",
    "load_policy",
    "mask",
    "measure",
    "register_strategy",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'maskme' has no attribute '{name}'")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
