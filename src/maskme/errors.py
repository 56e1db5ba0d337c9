"""Exception tree of MaskMe.

Every error MaskMe raises on purpose derives from :class:`MaskMeError`. Messages
state what failed and where (policy file and line, record number, field path),
what was expected, and how to fix it. They never contain a data value or a key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "FormatError",
    "KeyMissingError",
    "MaskMeError",
    "PolicyError",
    "PolicyProblem",
    "PrivacyTargetError",
    "RecordError",
    "UsageError",
    "suggest",
]


class MaskMeError(Exception):
    """Root of every error MaskMe raises on purpose."""

    #: Process exit status the CLI uses for this kind of error.
    exit_code: int = 1


@dataclass(frozen=True, kw_only=True)
class PolicyProblem:
    """One problem found in a policy, located by file, line and path."""

    message: str
    path: str = ""
    line: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        location = self.source or "policy"
        if self.line is not None:
            location = f"{location}:{self.line}"
        where = f" ({self.path})" if self.path else ""
        return f"{location}{where}: {self.message}"


class PolicyError(MaskMeError):
    """The policy is invalid: every problem found is listed, not only the first."""

    exit_code = 2

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = list(problems)
        self.document: object = None
        self.line_of: Callable[..., int | None] | None = None
        count = len(self.problems)
        header = "invalid policy: 1 problem" if count == 1 else f"invalid policy: {count} problems"
        super().__init__("\n  ".join([header, *map(str, self.problems)]))


class KeyMissingError(PolicyError):
    """A key the policy names is not available from its environment variable or file."""


class UsageError(MaskMeError):
    """The request itself is wrong (for example, the output path is the input file)."""

    exit_code = 2


class FormatError(MaskMeError):
    """The input cannot be read as the requested format, or the output cannot be written."""


class RecordError(MaskMeError):
    """A record cannot be processed: names the record number and field path, never the value."""

    def __init__(self, message: str, *, record: int | None = None, field: str | None = None) -> None:
        self.record = record
        self.field = field
        parts = []
        if record is not None:
            parts.append(f"record {record:,}")
        if field is not None:
            parts.append(f"field `{field}`")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class PrivacyTargetError(MaskMeError):
    """The output does not meet a privacy target of the policy."""

    exit_code = 3


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return a ` (did you mean 'x'?)` hint for a misspelled name, or an empty string."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
