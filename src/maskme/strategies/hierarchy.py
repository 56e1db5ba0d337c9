"""Value hierarchies: ordered generalization levels for the values of one field.

A hierarchy lists, for each raw value, its label at every generalization level:
``94110 -> 9411* -> 941** -> *``. Level 0 is the raw value itself. The
``generalize`` strategy maps a column to one level; the anonymization search
walks the levels.

The file format is the one-row-per-value CSV that ARX and other anonymization
tools read and write: no header, column 0 the raw value, then one column per
level, cells separated by ``;`` or ``,`` and optionally double-quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from maskme.errors import PolicyError, PolicyProblem

__all__ = ["Hierarchy", "HierarchyError", "load_hierarchy"]

#: Delimiters tried, in order of preference, when a file does not name one.
CANDIDATE_DELIMITERS = (";", ",")


class HierarchyError(PolicyError):
    """A hierarchy file or mapping is invalid; the message names the file and line.

    Its text is the one problem alone (``file:line: message``), without the
    ``invalid policy`` header, so a plan can nest it under the policy line
    that names the hierarchy.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        super().__init__([PolicyProblem(message=message, source=source, line=line)])

    def __str__(self) -> str:
        return str(self.problems[0])


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """Generalization levels of a field's values, level 0 being the raw value.

    Build one with :func:`load_hierarchy` or :meth:`from_mapping`; both check
    that every row has the same number of levels and that no raw value is
    listed twice.
    """

    #: One column per level, named ``"0"``, ``"1"`` and so on. Column ``"0"`` contains the raw values.
    table: pl.DataFrame
    #: Where the hierarchy came from (a file path or ``"inline hierarchy"``), for messages.
    source: str = "inline hierarchy"
    _lookup: dict[int, pl.DataFrame] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[str]], *, source: str = "inline hierarchy",
                  line_numbers: Sequence[int] | None = None) -> Hierarchy:
        """Build a hierarchy from rows ``[raw, level1, level2, ...]``.

        ``line_numbers`` (1-based, one per row) are used in error messages;
        without them the row's position counts as its line.

        Raises
        ------
        HierarchyError
            When there are no rows, fewer than two columns, rows of different
            lengths, or a raw value listed twice.
        """
        lines = list(line_numbers) if line_numbers is not None else list(range(1, len(rows) + 1))
        if not rows:
            raise HierarchyError("the hierarchy has no rows; expected one row per value",
                                 source=source)
        width = len(rows[0])
        if width < 2:
            raise HierarchyError(
                f"expected at least 2 columns (the raw value, then one per level), got {width}; "
                "check the delimiter",
                source=source, line=lines[0],
            )
        first_line_of: dict[str, int] = {}
        for row, line in zip(rows, lines, strict=True):
            if len(row) != width:
                raise HierarchyError(
                    f"expected {width} columns like the first row, got {len(row)}",
                    source=source, line=line,
                )
            raw = row[0]
            if raw in first_line_of:
                raise HierarchyError(
                    f"this value is already listed on line {first_line_of[raw]}; "
                    "list each raw value once",
                    source=source, line=line,
                )
            first_line_of[raw] = line
        columns = {str(level): [row[level] for row in rows] for level in range(width)}
        table = pl.DataFrame(columns, schema={name: pl.String for name in columns})
        return cls(table=table, source=source)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[str]], *,
                     source: str = "inline hierarchy") -> Hierarchy:
        """Build a hierarchy from ``{raw value: [level1 label, level2 label, ...]}``.

        Raises
        ------
        HierarchyError
            When the mapping is empty or its lists differ in length; the line
            number in the message is the entry's 1-based position.
        """
        rows = [[str(raw), *map(str, labels)] for raw, labels in mapping.items()]
        return cls.from_rows(rows, source=source)

    @property
    def level_count(self) -> int:
        """Number of levels, the raw level 0 included."""
        return self.table.width

    @property
    def values(self) -> pl.Series:
        """The raw values the hierarchy lists (level 0)."""
        return self.table.get_column("0")

    def labels(self, level: int) -> pl.Series:
        """Return the distinct labels of one level, in order of first appearance."""
        self._check_level(level)
        return self.table.get_column(str(level)).unique(maintain_order=True)

    def mapping(self, level: int) -> dict[str, str]:
        """Return ``{raw value: label}`` for one level."""
        self._check_level(level)
        return dict(zip(self.values.to_list(), self.table.get_column(str(level)).to_list(),
                        strict=True))

    def missing(self, values: pl.Series) -> pl.Series:
        """Return a boolean mask: True where a non-null value is not listed in the hierarchy."""
        listed = values.is_in(self.values.implode())
        return (values.is_not_null() & ~listed).alias(values.name)

    def generalize(self, values: pl.Series, level: int) -> pl.Series:
        """Map a ``String`` column to its labels at ``level``.

        Null stays null, and a value missing from the hierarchy becomes null
        (find those with :meth:`missing`).
        """
        self._check_level(level)
        lookup = self._lookup.get(level)
        if lookup is None:
            lookup = self.table.select(
                pl.col("0").alias("value"), pl.col(str(level)).alias("label")
            )
            self._lookup[level] = lookup
        frame = pl.DataFrame({"value": values.cast(pl.String)})
        joined = frame.join(lookup, on="value", how="left", maintain_order="left")
        return joined.get_column("label").alias(values.name)

    def is_nested(self) -> bool:
        """Check whether each label of a level has exactly one parent label at the next level.

        A nested hierarchy is a tree, which search algorithms that assume
        monotonic generalization need. Loading does not require it.
        """
        for level in range(1, self.level_count - 1):
            parents = self.table.group_by(str(level)).agg(
                pl.col(str(level + 1)).n_unique().alias("parents")
            )
            if parents.get_column("parents").max() != 1:
                return False
        return True

    def _check_level(self, level: int) -> None:
        if not 0 <= level < self.level_count:
            raise HierarchyError(
                f"level {level} does not exist; expected 0 (raw) to {self.level_count - 1}",
                source=self.source,
            )


def load_hierarchy(path: str | Path, delimiter: str | None = None) -> Hierarchy:
    """Read a hierarchy file in the one-row-per-value format.

    The file is UTF-8 (a byte-order mark is ignored), has no header, and may
    end lines with LF or CRLF and omit the final newline. Cells may be
    double-quoted, which lets a label contain the delimiter. Blank lines are
    skipped.

    Parameters
    ----------
    path
        The CSV file.
    delimiter
        The cell separator. When None, ``;`` and ``,`` are tried: a candidate
        fits when it splits every row into the same number (at least 2) of
        cells. When both fit, ``;`` wins, because labels such as ``[20,30[``
        contain commas in semicolon files, while comma files quote them.

    Raises
    ------
    HierarchyError
        When the file cannot be read, no delimiter fits, or the rows are
        inconsistent; the message names the file and line.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HierarchyError("hierarchy file not found; check the path (a relative path in a policy "
                             "starts at the policy's folder, one on the command line at the working "
                             "folder)", source=source) from None
    except (OSError, UnicodeDecodeError) as error:
        raise HierarchyError(f"cannot read the hierarchy file: {error.__class__.__name__}; "
                             "expected a readable UTF-8 text file", source=source) from None

    if delimiter is not None:
        rows, lines = _parse(text, delimiter, source)
        return Hierarchy.from_rows(rows, source=source, line_numbers=lines)

    for candidate in CANDIDATE_DELIMITERS:
        try:
            rows, lines = _parse(text, candidate, source)
        except HierarchyError:
            continue
        if rows and len(rows[0]) >= 2 and all(len(row) == len(rows[0]) for row in rows):
            return Hierarchy.from_rows(rows, source=source, line_numbers=lines)
    raise HierarchyError(
        "cannot detect the delimiter: neither ';' nor ',' splits every row into the same "
        "number of cells (at least 2); fix the file or name the delimiter (the generalize "
        "parameter delimiter)",
        source=source,
    )


def _parse(text: str, delimiter: str, source: str) -> tuple[list[list[str]], list[int]]:
    """Split CSV text into non-blank rows, with the 1-based line where each row starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    line = 1
    try:
        for row in reader:
            if row and any(cell != "" for cell in row):
                rows.append(row)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as error:
        raise HierarchyError(f"malformed CSV ({error})", source=source,
                             line=reader.line_num) from None
    return rows, lines
