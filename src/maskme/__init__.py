"""MaskMe: anonymize tabular and semi-structured data, and measure what it bought."""

from maskme.errors import (
    FormatError,
    KeyMissingError,
    MaskMeError,
    PolicyError,
    PrivacyTargetError,
    RecordError,
)
from maskme.strategies import Strategy, StrategyParams, register_strategy

__version__ = "0.1.0"

__all__ = [
    "FormatError",
    "KeyMissingError",
    "MaskMeError",
    "PolicyError",
    "PrivacyTargetError",
    "RecordError",
    "Strategy",
    "StrategyParams",
    "register_strategy",
    "__version__",
]
