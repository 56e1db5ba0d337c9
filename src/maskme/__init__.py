"""MaskMe: anonymize tabular and semi-structured data, and measure what it bought."""

from maskme.anonymize import AnonymizationResult, anonymize
from maskme.errors import (
    FormatError,
    KeyMissingError,
    MaskMeError,
    PolicyError,
    PrivacyTargetError,
    RecordError,
)
from maskme.metrics import Measurement, measure
from maskme.policy import Policy, load_policy
from maskme.run import mask
from maskme.strategies import Strategy, StrategyParams, register_strategy

__version__ = "0.1.0"

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
    "anonymize",
    "register_strategy",
    "load_policy",
    "mask",
    "measure",
    "__version__",
]
