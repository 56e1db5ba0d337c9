"""Policies: load, validate and describe what MaskMe does to each field.

The model (and, through it, the strategies) loads on first use (PEP 562), so
that modules needing only field paths, such as the readers, start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maskme.policy.paths import FieldPath, parse_field_path

if TYPE_CHECKING:
    from maskme.policy.model import FieldRule, KeySource, Policy, SensitiveAttribute, load_policy

_FROM_MODEL = ("FieldRule", "KeySource", "Policy", "SensitiveAttribute", "load_policy")

__all__ = [
    "FieldPath",
    "FieldRule",
    "KeySource",
    "Policy",
    "SensitiveAttribute",
    "load_policy",
    "parse_field_path",
]


def __getattr__(name: str) -> Any:
    if name in _FROM_MODEL:
        value = getattr(importlib.import_module("maskme.policy.model"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'maskme.policy' has no attribute '{name}'")
