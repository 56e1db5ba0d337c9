"""Field paths: ``a.b`` for nested objects, ``a[*].b`` (or ``a[].b``) for every array element."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FieldPath", "PathSegment", "is_column_pattern", "parse_field_path"]

_SEGMENT = re.compile(r"^(?P<key>[^\[\]]+)(?P<array>\[\*?\])?$")


@dataclass(frozen=True, slots=True)
class PathSegment:
    """One object key, and whether the path then walks every element of an array."""

    key: str
    each_element: bool = False


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed field path. ``text`` is how the policy wrote it."""

    text: str
    segments: tuple[PathSegment, ...]

    @property
    def is_nested(self) -> bool:
        """Whether the path goes below the top level of a record."""
        return len(self.segments) > 1 or self.segments[0].each_element

    @property
    def walks_arrays(self) -> bool:
        """Whether the path walks the elements of at least one array."""
        return any(segment.each_element for segment in self.segments)

    @property
    def top_key(self) -> str:
        """The top-level key the path starts with."""
        return self.segments[0].key


def parse_field_path(text: str) -> FieldPath:
    """Parse ``customer.email`` or ``orders[*].card_number`` into segments.

    Raises
    ------
    ValueError
        When the path is empty or a segment is malformed; the message names the segment.
    """
    if not text or not text.strip():
        raise ValueError("field path is empty")
    segments = []
    for part in text.split("."):
        match = _SEGMENT.match(part)
        if match is None:
            raise ValueError(
                f"invalid field path '{text}': segment '{part}' is not a key or key[*]"
            )
        segments.append(PathSegment(match["key"], match["array"] is not None))
    return FieldPath(text, tuple(segments))


def is_column_pattern(name: str) -> bool:
    """Return whether Polars reads ``name`` as a column pattern rather than a column name."""
    return name == "*" or (name.startswith("^") and name.endswith("$"))
