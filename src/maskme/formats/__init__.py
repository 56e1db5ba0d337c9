"""Readers and writers for CSV, JSON and JSONL files, stdin/stdout, and DataFrames.

:func:`open_input` turns a source into a :class:`~maskme.formats.base.Reader`
of batches, and :func:`create_writer` writes batches back in a format.
Standard input is first copied to a temporary file, so a run can read it twice
and detect its format. Text in another encoding is transcoded to UTF-8 the
same way.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import polars as pl

from maskme.errors import FormatError, UsageError, suggest
from maskme.formats.base import Batch, FieldValues, Reader, Writer
from maskme.formats.csv import CsvDialect, CsvReader, CsvWriter, detect_dialect
from maskme.formats.frame import FrameReader, is_dataframe, to_polars
from maskme.formats.json import (
    FieldPresence,
    JsonArrayReader,
    JsonArrayWriter,
    JsonLinesReader,
    JsonLinesWriter,
)
from maskme.policy.paths import parse_field_path

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMATS",
    "JSON_BATCH_SIZE",
    "Batch",
    "CsvDialect",
    "FieldValues",
    "Input",
    "Reader",
    "Writer",
    "create_writer",
    "detect_format",
    "format_hint",
    "open_fields",
    "open_input",
    "read_field_batches",
    "resolve_batch_size",
]

logger = logging.getLogger(__name__)

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "json", "jsonl")
#: Records per batch unless a caller or MASKME_BATCH_SIZE sets another size.
DEFAULT_BATCH_SIZE = 65_536
#: The same for JSON and JSONL, whose records are Python dicts. At 1M records of
#: the benchmark table, 16,384 passed through in 20 % less time than 65,536
#: (fewer page faults), masked as fast, and peaked 40 % lower.
JSON_BATCH_SIZE = 16_384
#: Largest batch size accepted. Polars' default runtime indexes rows with 32 bits,
#: and a batch this large would not fit in memory anyway.
MAX_BATCH_SIZE = 2**31 - 1
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def default_batch_size() -> int:
    """Return MASKME_BATCH_SIZE when set to a positive integer, else DEFAULT_BATCH_SIZE (also when empty)."""
    raw = os.environ.get("MASKME_BATCH_SIZE")
    if raw is None or not raw.strip():
        return DEFAULT_BATCH_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise UsageError(f"MASKME_BATCH_SIZE must be a positive integer, got {raw!r}") from None
    if size < 1:
        raise UsageError(f"MASKME_BATCH_SIZE must be a positive integer, got {size}")
    if size > MAX_BATCH_SIZE:
        raise UsageError(f"MASKME_BATCH_SIZE must be at most {MAX_BATCH_SIZE:,}, got {size:,}")
    return size


def resolve_batch_size(batch_size: int | None, format: str | None = None) -> int:
    """Return ``batch_size``, or the default for ``format`` when it is None.

    Raises
    ------
    UsageError
        When the size is below 1 (0 included, which is no batch size) or above
        MAX_BATCH_SIZE.
    """
    if batch_size is None:
        if format in ("json", "jsonl") and not os.environ.get("MASKME_BATCH_SIZE", "").strip():
            return JSON_BATCH_SIZE
        return default_batch_size()
    if batch_size < 1:
        raise UsageError(f"batch size must be a positive integer, got {batch_size}")
    if batch_size > MAX_BATCH_SIZE:
        raise UsageError(f"batch size must be at most {MAX_BATCH_SIZE:,}, got {batch_size:,}")
    return batch_size


def format_hint(source: Any, explicit: str | None) -> str | None:
    """Return the format given, or the one a file's extension names; None when only the content can decide."""
    if explicit is not None:
        return explicit
    if isinstance(source, str | os.PathLike) and str(source) != "-":
        return _EXTENSIONS.get(Path(source).suffix.lower())
    return None


def detect_format(path: Path | None, explicit: str | None, sample: bytes = b"") -> Format:
    """Choose the format: the explicit one, else the file extension, else the first byte."""
    if explicit is not None:
        if explicit not in FORMATS:
            raise UsageError(f"unknown format '{explicit}'; expected one of csv, json, jsonl")
        return explicit  # type: ignore[return-value]
    if path is not None:
        found = _EXTENSIONS.get(path.suffix.lower())
        if found is not None:
            return found  # type: ignore[return-value]
    start = sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"[":
        return "json"
    if start == b"{":
        return "jsonl"
    if path is not None and path.suffix:
        raise FormatError(
            f"{path}: cannot tell the format from the extension '{path.suffix}'; "
            "pass --format csv, json or jsonl"
        )
    return "csv"


@dataclass(kw_only=True)
class Input:
    """An opened source: its reader, format, CSV dialect and what to clean up."""

    reader: Reader
    format: Format | Literal["dataframe"]
    name: str
    path: Path | None = None
    dialect: CsvDialect | None = None
    encoding: str = "utf-8"
    frame_kind: str | None = None
    #: A pandas source's index, given back to the result so it joins with the source.
    frame_index: Any = None
    _temporary: list[Path] = field(default_factory=list)

    def close(self) -> None:
        """Close the reader and delete temporary copies of stdin or transcoded input."""
        self.reader.close()
        for path in self._temporary:
            path.unlink(missing_ok=True)
        self._temporary.clear()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _spool_stdin(directory: str | None) -> Path:
    return _spool(sys.stdin.buffer, directory)


def _spool(stream: BinaryIO, directory: str | None = None) -> Path:
    """Copy a stream that can be read only once (stdin, a FIFO) to a temporary file."""
    handle, name = tempfile.mkstemp(prefix="maskme-input-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(stream, spool, 1 << 20)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _transcode_to_utf8(path: Path, encoding: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="maskme-utf8-", suffix=path.suffix)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as source, os.fdopen(handle, "wb") as target:
            while chunk := source.read(1 << 20):
                target.write(decoder.decode(chunk).encode("utf-8"))
            target.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as error:
        Path(name).unlink(missing_ok=True)
        raise FormatError(f"{path}: not valid {encoding} at byte {error.start:,}") from None
    except UnicodeError:  # for example a UTF-16 file without a byte order mark
        Path(name).unlink(missing_ok=True)
        # The codec's own message may quote the data, so it is left out.
        hint = (
            "; without a byte order mark at the start, name the byte order (for example "
            f"{codecs.lookup(encoding).name}-le)"
            if codecs.lookup(encoding).name in ("utf-16", "utf-32") else
            "; pass the file's encoding"
        )
        raise FormatError(f"{path}: not valid {encoding}{hint}") from None
    return Path(name)


def open_input(
    source: str | Path | Any,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Input:
    """Open a path, ``-`` (stdin) or a DataFrame as an :class:`Input`.

    Raises
    ------
    FormatError
        When the file is missing, unreadable, or not in the requested format.
    """
    if is_dataframe(source) or isinstance(source, pl.LazyFrame):
        frame, kind = to_polars(source)
        return Input(
            reader=FrameReader(frame),
            format="dataframe",
            name="DataFrame",
            frame_kind=kind,
            frame_index=getattr(source, "index", None) if kind == "pandas" else None,
        )

    encoding = encoding or "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"unknown encoding '{encoding}'; use a Python codec name such as utf-8, latin-1 or cp1252") from None
    # rot13, hex and base64 are codecs too, but they do not turn bytes into text.
    if not getattr(codec, "_is_text_encoding", True):
        raise UsageError(
            f"'{encoding}' is not a text encoding; use a Python codec name such as utf-8, "
            "latin-1 or cp1252"
        )

    if str(source) == "":
        raise UsageError("the input path is empty; pass a file path or '-' for standard input")
    temporary: list[Path] = []
    if str(source) == "-":
        path = _spool_stdin(None)
        temporary.append(path)
        name = "<stdin>"
        original: Path | None = None
    else:
        path = Path(source)
        name = str(path)
        original = path
        if not path.exists():
            raise FormatError(f"input file not found: {path}")
        if path.is_dir():
            raise FormatError(f"input is a folder, not a file: {path}")
        if not path.is_file():
            # A FIFO or a device can be read only once, and the readers open the input twice.
            try:
                with path.open("rb") as stream:
                    path = _spool(stream)
            except OSError as error:
                raise FormatError(f"cannot read input {name}: {error.strerror or error}") from None
            temporary.append(path)
    try:
        if not _is_utf8(encoding):
            converted = _transcode_to_utf8(path, encoding)
            temporary.append(converted)
            path = converted
        try:
            with path.open("rb") as stream:
                sample = stream.read(64 << 10)  # enough to see past leading blank lines
        except OSError as error:
            raise FormatError(f"cannot read input {name}: {error.strerror or error}") from None
        chosen = detect_format(original, format, sample)
        if delimiter is not None and chosen != "csv":
            raise UsageError(
                f"a delimiter applies to CSV input, but {name} is read as {chosen.upper()}; "
                "leave the delimiter out, or read the input as CSV"
            )
        reader: Reader
        dialect = None
        if chosen == "csv":
            dialect = detect_dialect(path, delimiter=delimiter, label=name)
            reader = CsvReader(path, dialect, label=name)
        elif chosen == "json":
            reader = JsonArrayReader(path)
        else:
            reader = JsonLinesReader(path)
    except BaseException:
        for item in temporary:
            item.unlink(missing_ok=True)
        raise
    _rename_reader_path(reader, name)
    return Input(
        reader=reader,
        format=chosen,
        name=name,
        path=original,
        dialect=dialect,
        encoding=encoding,
        _temporary=temporary,
    )


def _rename_reader_path(reader: Reader, name: str) -> None:
    # Messages should name what the user gave, not a temporary copy.
    if hasattr(reader, "label"):
        reader.label = name


def create_writer(
    stream: BinaryIO, format: str, *, dialect: CsvDialect | None = None
) -> Writer:
    """Return a writer of ``format`` on a binary stream."""
    if format == "csv":
        return CsvWriter(stream, dialect or CsvDialect())
    if format == "json":
        return JsonArrayWriter(stream)
    if format == "jsonl":
        return JsonLinesWriter(stream)
    raise UsageError(f"unknown format '{format}'; expected one of csv, json, jsonl")


def read_field_batches(
    source: str | Path | Any,
    fields: Sequence[str],
    *,
    format: str | None = None,
    batch_size: int | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Iterator[pl.DataFrame]:
    """Yield batches of the given fields as String columns named by field path.

    Works on CSV, JSON and JSONL files, ``-`` for stdin, and DataFrames. A
    field missing from a record is null in that row. A JSON field that no
    record has raises UsageError after the last batch (see FieldPresence).
    """
    resolve_batch_size(batch_size)  # a bad size fails before the input is opened
    with open_fields(source, fields, format=format, delimiter=delimiter, encoding=encoding) as opened:
        paths = [parse_field_path(name) for name in fields]
        presence = FieldPresence(paths)
        for batch in opened.reader.batches(resolve_batch_size(batch_size, opened.format)):
            presence.update(batch)
            yield batch.frame(paths)
        presence.check(opened.name)


@contextmanager
def open_fields(
    source: str | Path | Any,
    fields: Sequence[str],
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Iterator[Input]:
    """Open ``source`` as :func:`open_input` does, after checking that it has ``fields``.

    Raises
    ------
    UsageError
        When a field is not among the input's top-level fields (CSV, DataFrame).
    """
    try:
        paths = [parse_field_path(name) for name in fields]
    except ValueError as error:
        raise UsageError(f"{error}; write a field path as key, a.b or a[*].b") from None
    with open_input(source, format=format, delimiter=delimiter, encoding=encoding) as opened:
        top = opened.reader.top_level_fields()
        if top is not None:
            missing = [path.text for path in paths if path.text not in top]
            if missing:
                # The input's field names are not listed: without a header row they
                # would be the first record's values.
                # Suggestions only when some field matched: otherwise the first line is
                # probably data, and a suggestion would quote it.
                header_likely = len(missing) < len(paths) or all(
                    re.fullmatch(r" *[A-Za-z_][A-Za-z0-9_ .\-]{0,63}", name) for name in top
                )
                named = ", ".join(
                    name + (suggest(name, top) if header_likely else "") for name in missing
                )
                stripped = {name.strip(" ") for name in top} - set(top)
                if header_likely and any(name in stripped for name in missing):
                    named += (
                        "; some names in the header start with a space: when a space "
                        "follows each delimiter, pass --delimiter with it (', ')"
                    )
                raise UsageError(
                    f"{opened.name}: field not found: {named}; "
                    f"the input has {len(top)} field{'' if len(top) == 1 else 's'} "
                    "(check that its first line is a header)"
                )
        yield opened


@contextmanager
def atomic_output(destination: Path, *, role: str = "output") -> Iterator[BinaryIO]:
    """Yield a stream for ``destination`` that is written only if the block succeeds.

    A regular file (new or existing) is written to a temporary file beside it
    and renamed into place on success. A device, FIFO or ``/dev/stdout`` is
    never replaced: the output goes to a temporary file first and is copied
    there on success. On failure nothing reaches the destination and the
    temporary file is removed.
    """
    target = Path(destination)
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise FormatError(f"cannot use {role} {target}: {error.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"the {role} {target} is a folder; give a file path")
    if info is not None and not stat.S_ISREG(info.st_mode):
        yield from _spooled_output(target, role)
        return

    resolved = target.resolve()
    directory = resolved.parent
    if not directory.is_dir():
        raise FormatError(f"{role} folder not found: {directory}")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{resolved.name}.", suffix=".part", dir=directory)
    except OSError as error:
        raise FormatError(f"cannot write in the {role} folder {directory}: {error.strerror}") from None
    temporary = Path(name)
    try:
        # mkstemp creates the file as 0600: give the output the permissions of the
        # file it replaces, or those a new file gets.
        os.chmod(temporary, stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask())
        if info is not None and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
            try:  # keep the owner too, which only root may give away
                os.chown(temporary, info.st_uid, info.st_gid)
            except PermissionError:
                logger.info("the replaced output keeps its mode, but not its owner")
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, resolved)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise FormatError(f"cannot write {role} {target}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _spooled_output(target: Path, role: str) -> Iterator[BinaryIO]:
    with tempfile.TemporaryFile(prefix="maskme-out-") as spool:
        yield spool
        spool.seek(0)
        try:
            with target.open("wb") as device:
                shutil.copyfileobj(spool, device, 1 << 20)
        except OSError as error:
            raise FormatError(f"cannot write {role} {target}: {error.strerror or error}") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
