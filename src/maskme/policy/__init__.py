"""Policies: load, validate and describe what MaskMe does to each field."""

from maskme.policy.model import FieldRule, KeySource, Policy, SensitiveAttribute, load_policy
from maskme.policy.paths import FieldPath, parse_field_path

__all__ = [
    "FieldPath",
    "FieldRule",
    "KeySource",
    "Policy",
    "SensitiveAttribute",
    "load_policy",
    "parse_field_path",
]
