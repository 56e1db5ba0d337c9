"""CSV: dialect detection, a streaming reader of String columns, and a writer.

Every column is read as text (no type inference), so ``007`` and ``1.10``
leave as they came. An unquoted empty cell is null and a quoted ``""`` is the
empty string; both are written back the same way. The output keeps the input's
delimiter, line ending, byte-order mark and quoting style unless options set others.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import polars as pl
import polars.selectors as cs

from maskme.errors import FormatError, UsageError
from maskme.formats.base import Batch, FieldValues, Reader, Writer
from maskme.policy.paths import FieldPath

__all__ = ["CsvBatch", "CsvDialect", "CsvReader", "CsvScan", "CsvWriter", "detect_dialect"]

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 200
#: Bytes of CSV text the reader parses at a time; bounds its memory whatever the file size.
BLOCK_BYTES = 16 << 20
#: Longest text without a record end the reader keeps in memory before it reports an unclosed quote.
MAX_CARRY_BYTES = 64 << 20

_LF = ord("\n")
_CR = ord("\r")
_SPACE = ord(" ")
_QUOTE = ord('"')

QuoteStyle = Literal["necessary", "always"]


@dataclass(frozen=True, kw_only=True)
class CsvDialect:
    """Dialect of a CSV file: delimiter, line ending, byte-order mark and quoting style."""

    delimiter: str = ","
    line_terminator: str = "\n"
    bom: bool = False
    quote_style: QuoteStyle = "necessary"
    #: Spaces at the start of each field are not part of it, as in the UCI Adult
    #: files ("a, b, c"); Python's csv module calls this ``skipinitialspace``.
    #: A writer puts one space after each delimiter and quotes a value that starts with one.
    skip_initial_space: bool = False


def detect_dialect(path: Path, *, delimiter: str | None = None, label: str | None = None) -> CsvDialect:
    """Detect a UTF-8 CSV file's dialect from its first rows.

    The delimiter is the one candidate (``,``, ``;``, tab, ``|``) that splits
    every sampled row into the same number (more than one) of fields. Failing
    that, the one candidate that splits most rows like the header and the
    others into fewer fields (empty fields at the end), or else into more (so
    the reader names the first such record). When two candidates qualify, or
    none does while the header contains a candidate, detection stops with a
    FormatError asking for ``--delimiter`` rather than guessing.

    A detected delimiter that exactly one space follows everywhere in the
    sample (in the header and in each sampled row, outside quoted fields) is
    read as the delimiter plus that space: the spaces at the start of each
    field are skipped. A given ``delimiter`` of one character and a space
    (``", "``) asks for the same with any number of spaces; a given single
    character never skips spaces.
    """
    label = label or str(path)
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
        complete = len(sample) < SAMPLE_BYTES
    bom = sample.startswith(b"\xef\xbb\xbf")
    if bom:
        sample = sample[3:]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if complete or error.start < len(sample) - 4:
            raise FormatError(
                f"{label}: not valid UTF-8 at byte {error.start:,}; "
                "pass --encoding (for example latin-1 or cp1252)"
            ) from None
        text = sample[: error.start].decode("utf-8")

    if "\r" in text and "\n" not in text:
        raise FormatError(
            f"{label}: lines end with a carriage return alone (classic Mac OS line ends); "
            "convert the file to LF or CRLF line ends first"
        )
    line_terminator = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    if delimiter is None:
        delimiter = _detect_delimiter(text, complete, label)
        skip_initial_space = _space_follows_delimiter(text, delimiter, complete)
    else:
        skip_initial_space = _is_spaced(delimiter)
        if skip_initial_space:
            delimiter = delimiter[0]
        check_delimiter(delimiter, "the delimiter", spaced=True)

    header = text.split("\n", 1)[0].rstrip("\r")
    fields = header.split(delimiter) if header else []
    if skip_initial_space:
        fields = [field.lstrip(" ") for field in fields]
    always_quoted = bool(fields) and all(
        len(field) >= 2 and field.startswith('"') and field.endswith('"') for field in fields
    )
    return CsvDialect(
        delimiter=delimiter,
        line_terminator=line_terminator,
        bom=bom,
        quote_style="always" if always_quoted else "necessary",
        skip_initial_space=skip_initial_space,
    )


def check_delimiter(delimiter: str, what: str, *, spaced: bool = False) -> None:
    """Raise a UsageError unless ``delimiter`` is one byte Polars can split on.

    ``what`` names the option in the message (the delimiter, the output
    delimiter); with ``spaced``, a character and a space (``", "``) passes too.
    """
    character = delimiter[0] if spaced and _is_spaced(delimiter) else delimiter
    if len(character) != 1 or not character.isascii() or character in "\r\n\"":
        spaced_form = (
            ", or one and a space (', ') when a space follows each delimiter" if spaced else ""
        )
        raise UsageError(
            f"{what} must be one ASCII character other than a quote or a line break, "
            f"such as , ; | or a tab{spaced_form}"
        )


def _space_follows_delimiter(text: str, delimiter: str, complete: bool) -> bool:
    """Return whether exactly one space follows every delimiter outside quoted fields in the sample.

    That is the layout of the UCI Adult files ("39, State-gov, 77516"), where
    the space belongs to the delimiter; Python's csv.Sniffer makes the same
    call. Quotes are counted as :func:`_without_initial_spaces` counts them,
    so a quoted field after the space is read as quoted. The header must
    have a delimiter. Several spaces (columns aligned by hand) do not count:
    the writer would put back one, so the file would not pass through byte
    for byte.
    """
    if not complete:
        text = text[: text.rfind("\n") + 1] or text
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    delimiters = np.flatnonzero((data == ord(delimiter)) & _outside_quotes(data))
    line_end = text.find("\n")
    first_line_end = len(data) if line_end < 0 else len(text[:line_end].encode("utf-8"))
    if not delimiters.size or delimiters[0] >= first_line_end:
        return False
    following = delimiters + 1
    if following[-1] + 1 >= data.size:
        return False
    return bool((data[following] == _SPACE).all() and (data[following + 1] != _SPACE).all())


def _detect_delimiter(text: str, complete: bool, label: str) -> str:
    if not complete:
        # Only whole rows count: drop the row the sample cut in two.
        text = text[: text.rfind("\n") + 1] or text
    qualified: dict[str, int] = {}
    # Records with fewer fields than the header are valid (their missing fields
    # are empty). So when no candidate splits every row evenly, one that splits
    # most rows like the header and none into more fields qualifies.
    short_allowed: dict[str, int] = {}
    # Failing both, one that splits most rows like the header is taken, so the
    # reader names the first record with surplus fields.
    mostly: dict[str, int] = {}
    for candidate in CANDIDATE_DELIMITERS:
        spaced = _space_follows_delimiter(text, candidate, True)
        rows = csv.reader(io.StringIO(text), delimiter=candidate, quotechar='"', strict=False,
                          skipinitialspace=spaced)
        counts: list[int] = []
        try:
            for index, row in enumerate(rows):
                if index >= SAMPLE_ROWS:
                    break
                if row:
                    counts.append(len(row))
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        width = counts[0]
        if all(count == width for count in counts):
            qualified[candidate] = width
        elif max(counts) == width and 2 * counts.count(width) > len(counts):
            short_allowed[candidate] = width
        elif 2 * counts.count(width) > len(counts):
            mostly[candidate] = width
    # A candidate that splits some rows into more fields than the header competes
    # with one that only leaves rows short: neither can be trusted then.
    if not qualified and len(short_allowed) == 1 and not mostly:
        return next(iter(short_allowed))
    if len(qualified) == 1:
        return next(iter(qualified))
    if not qualified and not short_allowed and len(mostly) == 1:
        return next(iter(mostly))
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    if len(qualified) > 1:
        found = " and ".join(names[c] for c in qualified)
        raise FormatError(
            f"{label}: cannot tell the delimiter: {found} both split every row evenly; "
            "pass --delimiter"
        )
    header = text.split("\n", 1)[0]
    if any(candidate in header for candidate in CANDIDATE_DELIMITERS):
        raise FormatError(
            f"{label}: cannot tell the delimiter: no candidate splits every row into the same "
            "number of fields; pass --delimiter"
        )
    return ","  # one column: no delimiter occurs at all


class CsvBatch(Batch):
    """A batch of CSV records: a Polars DataFrame of String columns."""

    def __init__(self, frame: pl.DataFrame, first_record: int) -> None:
        self.data = frame
        self.first_record = first_record

    @property
    def length(self) -> int:
        return self.data.height

    def _column_name(self, path: FieldPath) -> str | None:
        return path.text if path.text in self.data.columns else None

    def field_values(self, path: FieldPath) -> FieldValues | None:
        name = self._column_name(path)
        if name is None:
            return None
        return FieldValues(values=self.data.get_column(name))

    def set_field_values(
        self, path: FieldPath, original: FieldValues, new: pl.Series, *, keeps_type: bool
    ) -> None:
        name = self._column_name(path)
        if name is not None:
            self.data = self.data.with_columns(new.cast(pl.String).alias(name))

    def drop_field(self, path: FieldPath) -> None:
        name = self._column_name(path)
        if name is not None:
            self.data = self.data.drop(cs.by_name(name))

    def keep_only(self, paths: Sequence[FieldPath]) -> None:
        wanted = {path.text for path in paths}
        self.data = self.data.select(cs.by_name([c for c in self.data.columns if c in wanted]))

    def frame(self, paths: Sequence[FieldPath]) -> pl.DataFrame:
        columns = []
        for path in paths:
            if path.text in self.data.columns:
                columns.append(self.data.get_column(path.text).alias(path.text))
            else:
                columns.append(pl.Series(path.text, [None] * self.length, dtype=pl.String))
        return pl.DataFrame(columns) if columns else pl.DataFrame(height=self.length)


@dataclass(frozen=True, kw_only=True)
class CsvScan:
    """Some fields of a whole CSV file as a lazy frame; see :meth:`CsvReader.scan`."""

    frame: pl.LazyFrame
    #: The Boolean column that is true for a record whose fields are all empty (maybe an
    #: empty line) and, in a file with a lone carriage return, for a record with one.
    needs_batches: str
    #: True when ``needs_batches`` flags only records whose fields are all empty.
    flags_only_empty: bool = True


class CsvReader(Reader):
    """Streams a UTF-8 CSV file (with a header row) as batches of String columns."""

    def __init__(self, path: Path, dialect: CsvDialect, *, label: str | None = None) -> None:
        self.path = path
        self.label = label or str(path)
        self.dialect = dialect
        self.total_bytes = path.stat().st_size
        self._header = self._read_header()

    def _read_header(self) -> list[str]:
        with self.path.open("r", encoding="utf-8-sig", newline="") as stream:
            first_line = stream.readline()
        skip = self.dialect.skip_initial_space
        with self.path.open("r", encoding="utf-8-sig", newline="") as stream:
            try:
                header = next(
                    csv.reader(stream, delimiter=self.dialect.delimiter, skipinitialspace=skip), None
                )
            except csv.Error as error:
                raise FormatError(f"{self.label}: invalid CSV header: {error}") from None
        if skip:
            first_line = _without_initial_spaces(
                first_line.encode("utf-8"), self.dialect.delimiter
            ).decode("utf-8")
        column = _quote_inside_field(first_line, self.dialect.delimiter)
        if column is not None:
            # Polars would read every later line into this field, and write no record.
            raise FormatError(
                f"{self.label}: column {column} of the header has a quote inside an unquoted "
                'name; quote the whole name ("a""b") or remove the quote'
            )
        if not header:
            problem = "the first line is empty" if self.path.stat().st_size else "the file is empty"
            raise FormatError(f"{self.label}: {problem}; expected a header row")
        first_position: dict[str, int] = {}
        for position, name in enumerate(header, start=1):
            if name in first_position:
                # Positions, not the name: without a header row the name is a data value.
                raise FormatError(
                    f"{self.label}: columns {first_position[name]} and {position} of the header "
                    "have the same name; rename one, and check that the first line is a header"
                )
            first_position[name] = position
        return header

    def top_level_fields(self) -> list[str]:
        return list(self._header)

    def batches(self, batch_size: int) -> Iterator[Batch]:
        first = 1
        self.bytes_read = 0
        try:
            for frame, block_start, block_end in self._blocks():
                for start in range(0, frame.height, batch_size):
                    chunk = frame.slice(start, batch_size)
                    done = (start + chunk.height) / frame.height
                    self.bytes_read = block_start + int((block_end - block_start) * done)
                    yield CsvBatch(chunk, first)
                    first += chunk.height
        except pl.exceptions.PolarsError:
            # Polars' message can quote the offending field, which may be personal data.
            raise FormatError(
                f"{self.label}: invalid CSV after record {first - 1:,}; check the delimiter "
                "(--delimiter) and that quotes are closed"
            ) from None
        if first == 1:
            # A header and no records: one empty batch, so the writer still writes the header.
            empty = pl.DataFrame({name: pl.Series([], dtype=pl.String) for name in self._header})
            yield CsvBatch(empty, 1)
        self.bytes_read = self.total_bytes or 0

    def scan(self, fields: Sequence[str]) -> CsvScan | None:
        """Return ``fields`` of the whole file as a lazy frame, or None to read batches instead.

        None for an empty file and for a dialect that skips initial spaces.

        Polars' streaming engine then reads the file in parallel and computes
        aggregations without holding the records (``maskme measure``). The
        fields have the values :meth:`batches` gives, except in records that
        the frame's ``needs_batches`` column flags: records whose fields are
        all empty, because Polars reads an empty line as such a record where
        :meth:`batches` skips the line, and records with a carriage return in
        a field. A caller that finds one reads the file with :meth:`batches`
        instead. Every column is parsed, so a
        malformed record anywhere (too many fields, a misplaced quote) raises
        a PolarsError when the frame is collected; :meth:`batches` then names
        the record.
        """
        if self.total_bytes == 0 or self.dialect.skip_initial_space:
            return None  # Polars' scan cannot skip the spaces; the batches do
        flag = "needs_batches"
        while flag in self._header:
            flag = f"_{flag}"
        frame = pl.scan_csv(
            self.path,
            glob=False,
            has_header=True,
            new_columns=self._header,
            separator=self.dialect.delimiter,
            quote_char='"',
            infer_schema=False,
        )
        # The flag reads every column, which makes Polars parse (and check) them all.
        flagged = pl.all_horizontal(pl.all().is_null())
        lone_returns = self._has_lone_carriage_return()
        if lone_returns:
            # Polars' streaming reader and its whole-block reader disagree on some lines
            # with a lone carriage return; batches handle them as the block reader does.
            flagged = flagged | pl.any_horizontal(
                pl.all().str.contains("\r", literal=True).fill_null(False))
        # By exact name: pl.col and plain strings read "*" and "^...$" as patterns.
        chosen = [cs.by_name(name).as_expr() for name in dict.fromkeys(fields)]
        selected = frame.select(*chosen, flagged.alias(flag))
        return CsvScan(frame=selected, needs_batches=flag, flags_only_empty=not lone_returns)

    def _has_lone_carriage_return(self) -> bool:
        """Return whether the file has a carriage return that no line feed follows.

        The file is read in blocks (a memory map would count the whole file in
        the process's resident memory). A block without a carriage return
        costs one search; in another, numpy checks the byte after each one.
        """
        with self.path.open("rb") as stream:
            previous_ended_with_return = False
            while block := stream.read(BLOCK_BYTES):
                if previous_ended_with_return and block[0] != _LF:
                    return True
                previous_ended_with_return = block.endswith(b"\r")
                if block.find(b"\r") < 0:
                    continue
                data = np.frombuffer(block, dtype=np.uint8)
                after = np.flatnonzero(data == _CR) + 1
                inside = after[after < data.size]
                if not (data[inside] == _LF).all():
                    return True
            return previous_ended_with_return

    def _blocks(self) -> Iterator[tuple[pl.DataFrame, int, int]]:
        """Parse the file in blocks of about BLOCK_BYTES that end where a record ends.

        Yields each block's records as String columns, with the block's start
        and end byte offsets in the file. Reading fixed-size blocks bounds the
        reader's memory by the block size, whatever the file size; Polars'
        streaming ``scan_csv`` buffered more as files grew (Polars 2.1, reading
        the benchmark table: 328 MB peak at 1M records, 415 MB at 10M).
        """
        options = {
            "separator": self.dialect.delimiter,
            "quote_char": '"',
            "infer_schema": False,
            "raise_if_empty": False,
        }
        offset = 0
        carry = b""
        header_pending = True
        records_before = 0
        names = [f"c{index}" for index in range(len(self._header))]
        placeholder = (self.dialect.delimiter.join(names) + "\n").encode("utf-8")
        with self.path.open("rb") as stream:
            while True:
                data = stream.read(BLOCK_BYTES)
                block = carry + data if carry else data
                if header_pending and block.startswith(b"\xef\xbb\xbf"):
                    block = block[3:]
                    offset += 3
                cut = len(block) if not data else _last_record_end(block)
                if cut == 0 and data:
                    if len(block) > MAX_CARRY_BYTES:
                        # A quote that never closes would make the reader hold the
                        # rest of the file.
                        line = self._line_breaks_before(offset) + 1
                        raise FormatError(
                            f"{self.label}: record {records_before + 1:,} (line {line:,}) is not "
                            "valid CSV: a quote is not closed, or a quoted field is longer than "
                            f"{MAX_CARRY_BYTES >> 20} MiB"
                        )
                    carry = block  # no record ends in this block yet: read on
                    continue
                text, carry = block[:cut], block[cut:]
                if text:
                    parsed = _without_blank_lines(text) if len(self._header) > 1 else text
                    if self.dialect.skip_initial_space:
                        parsed = _without_initial_spaces(parsed, self.dialect.delimiter)
                    if not header_pending and len(parsed) <= 2 and not parsed.strip(b"\r\n"):
                        # The block had only empty lines, now at most one line break: no records.
                        offset += len(text)
                        if not data:
                            return
                        continue
                    try:
                        if header_pending:
                            frame = pl.read_csv(parsed, has_header=True, **options)  # type: ignore[arg-type]
                            frame.columns = self._header
                        else:
                            # A header line of the right width sets the number of
                            # columns. Without it Polars takes the number from the
                            # block's first record, which may be short.
                            frame = pl.read_csv(placeholder + parsed, has_header=True, **options)  # type: ignore[arg-type]
                            frame.columns = self._header
                    except pl.exceptions.PolarsError:
                        lines_before = self._line_breaks_before(offset)
                        raise self._diagnose(text, header_pending, records_before, lines_before) from None
                    header_pending = False
                    if frame.height:
                        yield frame, offset, offset + len(text)
                    offset += len(text)
                    records_before += frame.height
                if not data:
                    return


    def _line_breaks_before(self, offset: int) -> int:
        """Count the line breaks in the file's first ``offset`` bytes (for error messages only)."""
        count = 0
        with self.path.open("rb") as stream:
            while offset > 0:
                chunk = stream.read(min(offset, BLOCK_BYTES))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                offset -= len(chunk)
        return count

    def _diagnose(
        self, text: bytes, has_header: bool, records_before: int, lines_before: int
    ) -> FormatError:
        """Find the first malformed record of a block that Polars rejected.

        The message names the record and line and what is wrong, never the text.
        """
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as error:
            line = lines_before + text.count(b"\n", 0, error.start) + 1
            return FormatError(
                f"{self.label}: not valid UTF-8 on line {line:,}; pass --encoding with the "
                "file's encoding (for example latin-1 or cp1252)"
            )
        # The lines as the csv module reads them (it breaks at \n, \r and \r\n).
        lines = list(io.StringIO(text.decode("utf-8", errors="replace"), newline=""))
        rows = csv.reader(lines, delimiter=self.dialect.delimiter, quotechar='"', strict=True,
                          skipinitialspace=self.dialect.skip_initial_space)
        record = records_before
        expected = len(self._header)
        # The line where the record being read starts: an unclosed quote is found
        # only at the end of the text, many lines later.
        start_line = lines_before + 1
        lines_read = 0
        try:
            for index, row in enumerate(rows):
                if row and not (has_header and index == 0):
                    record += 1
                    # A record with fewer fields is valid: the missing fields are empty.
                    if len(row) > expected:
                        return FormatError(
                            f"{self.label}: record {record:,} (line {start_line:,}) has "
                            f"{len(row)} fields, the header has {expected}; check the delimiter "
                            "(--delimiter) and quoting"
                        )
                    # A record on one line with an odd number of quotes has a quote
                    # inside an unquoted field, which the csv module keeps as text.
                    if rows.line_num == lines_read + 1 and lines[lines_read].count('"') % 2:
                        return self._quote_error(record, start_line, misplaced=True)
                lines_read = rows.line_num
                start_line = lines_before + lines_read + 1
        except csv.Error as error:
            message = str(error)
            # An unclosed quote makes the rest of the text one field, which can
            # exceed the csv module's field size limit before the end is reached.
            unclosed = any(sign in message for sign in ("EOF", "end of data", "field limit"))
            return self._quote_error(record + 1, start_line, misplaced=not unclosed)
        return FormatError(
            f"{self.label}: invalid CSV after record {records_before:,}; check the delimiter "
            "(--delimiter) and that quotes are closed"
        )

    def _quote_error(self, record: int, line: int, *, misplaced: bool) -> FormatError:
        reason = "a quote is misplaced" if misplaced else "a quote is not closed"
        return FormatError(
            f"{self.label}: record {record:,} (line {line:,}) is not valid CSV: {reason}; "
            "a field with quotes must be quoted as a whole, with inner quotes doubled"
        )


def _quote_inside_field(line: str, delimiter: str) -> int | None:
    """Return the 1-based column of the first field with a quote after its start, or None.

    Checks one line: a quoted field that goes on to the next line ends the
    check, since the rest of the line is inside quotes.
    """
    column = 1
    quoted = False
    at_start = True
    position = 0
    while position < len(line):
        char = line[position]
        if quoted:
            if char == '"':
                if line.startswith('"', position + 1):
                    position += 1  # a doubled quote inside the quoted field
                else:
                    quoted = False
        elif char == delimiter:
            column += 1
            at_start = True
            position += 1
            continue
        elif char == '"':
            if not at_start:
                return column
            quoted = True
        elif char in "\r\n":
            return None
        at_start = False
        position += 1
    return None


def _without_blank_lines(text: bytes) -> bytes:
    """Remove empty lines outside quoted fields: with two or more columns they are no record.

    The empty lines are found with numpy and only they are visited: the
    quotes counted between consecutive empty lines tell whether one is
    inside a quoted multi-line field.
    """
    starts = _empty_line_starts(text)
    if not starts:
        return text
    kept = []
    kept_from = 0
    quotes = 0
    counted_to = 0
    for start in starts:
        quotes += text.count(b'"', counted_to, start)
        counted_to = start
        if quotes % 2 == 1:
            continue  # inside a quoted field
        end = start + (2 if text.startswith(b"\r", start) else 1)
        kept.append(text[kept_from:start])
        kept_from = end
    kept.append(text[kept_from:])
    joined = b"".join(kept)
    if kept_from > len(text) and joined.endswith(b"\n"):
        # The last line was a lone "\r" with no break after it, so the break before it goes too.
        return joined[:-1]
    return joined + b"\n" if text.endswith(b"\n") and not joined.endswith(b"\n") else joined


def _outside_quotes(data: np.ndarray) -> np.ndarray:
    """Return, for each byte of a text that starts outside quotes, whether it is outside them.

    The count includes the byte itself, so an opening quote reads as inside
    and a closing one as outside. An escaped quote ``""`` counts twice, and
    the running count is kept in 8 bits, which keeps its parity.
    """
    return (np.cumsum(data == _QUOTE, dtype=np.uint8) & 1) == 0  # type: ignore[no-any-return]


def _without_initial_spaces(text: bytes, delimiter: str) -> bytes:
    """Remove the spaces at the start of each field outside quoted fields, as Python's csv does.

    ``text`` starts outside quotes, at the start of a record. A run of spaces
    is removed when it starts the text, or follows a delimiter or a line feed
    with an even number of quotes before it (an escaped quote ``""`` counts twice).
    Vectorized with numpy, with quotes counted by :func:`_outside_quotes`.
    """
    data = np.frombuffer(text, dtype=np.uint8)
    spaces = data == _SPACE
    if not spaces.any():
        return text
    edges = np.diff(np.concatenate(([False], spaces, [False])).view(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    before = starts - 1
    at_text_start = before < 0
    before = np.maximum(before, 0)
    follows_break = (data[before] == ord(delimiter)) | (data[before] == _LF)
    initial = at_text_start | (follows_break & _outside_quotes(data)[before])
    if not initial.any():
        return text
    marks = np.zeros(data.size + 1, dtype=np.int8)
    marks[starts[initial]] = 1
    marks[ends[initial]] = -1
    removed = np.cumsum(marks[:-1], dtype=np.int8).view(np.bool_)
    return data[~removed].tobytes()


def _empty_line_starts(text: bytes) -> list[int]:
    """Return the sorted offsets where an empty line (``""`` or ``"\\r"``) starts.

    Vectorized with numpy: ``bytes.find(b"\\n\\n")`` took 0.29 s per 185 MB
    of the benchmark table, whose lines are short.
    """
    data = np.frombuffer(text, dtype=np.uint8)
    size = data.size
    if size == 0:
        return []
    line_starts = np.concatenate(([0], np.flatnonzero(data == _LF) + 1))
    line_starts = line_starts[line_starts < size]
    first = data[line_starts]
    after = np.minimum(line_starts + 1, size - 1)
    lone_return = (first == _CR) & ((line_starts + 1 == size) | (data[after] == _LF))
    return line_starts[(first == _LF) | lone_return].tolist()  # type: ignore[no-any-return]


def _last_record_end(block: bytes) -> int:
    """Return the offset just after the last line break outside quotes, or 0 if there is none.

    A block always starts outside quotes, so a line break is outside quotes
    when the number of quote characters before it is even (an escaped quote
    ``""`` counts twice).

    NOTE: Polars reads a stray quote inside an unquoted field as a plain
    character, but it still changes this count. In a file that also has line
    breaks inside quoted fields, a block may then end inside a record. Such a
    file also fails in Polars' own whole-file reader (checked on one example).
    """
    end = len(block)
    odd = block.count(b'"') % 2 == 1
    while True:
        newline = block.rfind(b"\n", 0, end)
        if newline < 0:
            return 0
        if block.count(b'"', newline + 1, end) % 2 == 1:
            odd = not odd
        if not odd:
            return newline + 1
        end = newline


class CsvWriter(Writer):
    """Writes CSV batches in a given dialect; the header goes out with the first batch."""

    def __init__(self, stream: BinaryIO, dialect: CsvDialect) -> None:
        super().__init__(stream)
        self.dialect = dialect
        self._started = False
        self._columns: list[str] | None = None

    def write(self, batch: Batch) -> None:
        assert isinstance(batch, CsvBatch)
        data = batch.data
        if self._columns is None:
            self._columns = data.columns
            if self.dialect.bom:
                self.stream.write(b"\xef\xbb\xbf")
        spaced = self.dialect.skip_initial_space
        target: BinaryIO = io.BytesIO() if spaced else self.stream
        data.write_csv(
            target,
            include_header=not self._started,
            separator=self.dialect.delimiter,
            line_terminator=self.dialect.line_terminator,
            quote_char='"',
            quote_style=self.dialect.quote_style,
        )
        if spaced:
            assert isinstance(target, io.BytesIO)
            self.stream.write(_with_initial_spaces(target.getvalue(), self.dialect.delimiter))
        self._started = True

    def write_frame(self, data: pl.DataFrame) -> None:
        """Write a DataFrame of String columns (records from a non-CSV source)."""
        self.write(CsvBatch(data, 1))


def with_delimiter(dialect: CsvDialect, delimiter: str | None) -> CsvDialect:
    """Return the dialect with another delimiter, when one is given.

    A character and a space (``", "``) is that character with a space after it.
    """
    if delimiter is None:
        return dialect
    spaced = _is_spaced(delimiter)
    return replace(dialect, delimiter=delimiter[0] if spaced else delimiter,
                   skip_initial_space=spaced)


def _is_spaced(delimiter: str) -> bool:
    """Return whether ``delimiter`` is one character and a space, such as ``", "``."""
    return len(delimiter) == 2 and delimiter[1] == " " and delimiter[0] != " "


def _with_initial_spaces(text: bytes, delimiter: str) -> bytes:
    """Put a space after each delimiter outside quoted fields (the writer's side of skipping them).

    A field that itself starts with a space is quoted, or reading would skip
    that space too. Polars leaves such a field unquoted, and since it quotes
    any field with a quote, a delimiter or a line break, the field ends at
    the next delimiter or line break.
    """
    data = np.frombuffer(text, dtype=np.uint8)
    size = data.size
    breaks = np.flatnonzero(((data == ord(delimiter)) | (data == _LF)) & _outside_quotes(data))
    delimiters = breaks[data[breaks] == ord(delimiter)]
    starts = np.concatenate(([0], breaks + 1))
    starts = starts[starts < size]
    spaced = starts[data[starts] == _SPACE]
    if not delimiters.size and not spaced.size:
        return text
    following = np.searchsorted(breaks, spaced)
    ends = np.append(breaks, size)[following]
    before_end = np.maximum(ends - 1, 0)
    ends = np.where((ends < size) & (data[np.minimum(ends, size - 1)] == _LF)
                    & (data[before_end] == _CR) & (ends > spaced), ends - 1, ends)
    positions = np.concatenate((delimiters + 1, spaced, ends))
    inserted = np.concatenate((
        np.full(delimiters.size, _SPACE, dtype=np.uint8),
        np.full(spaced.size * 2, _QUOTE, dtype=np.uint8),
    ))
    return np.insert(data, positions, inserted).tobytes()