"""The local engine: streams batches through the plan's strategies on one machine.

A run reads the input once, or twice when a strategy needs the whole column
first (``two_pass``). The output goes to a temporary file that is renamed into
place only when every record was written and every check passed. Standard
output gets the finished file copied to it, so a failed run writes nothing
anywhere.
"""

from __future__ import annotations

import codecs
import gc
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import polars as pl

from maskme.engine.batch_query import (
    BatchQuery,
    StartedQuery,
    build_batch_query,
    finish_batch_query,
    start_batch_query,
)
from maskme.engine.plan import Plan, PlannedField, build_plan
from maskme.engine.query import MaskQuery, NeedsBatches, build_query, run_query
from maskme.errors import FormatError, MaskMeError, PolicyError, PolicyProblem, UsageError, suggest
from maskme.formats import (
    Input,
    atomic_output,
    create_writer,
    detect_format,
    open_input,
    resolve_batch_size,
)
from maskme.formats.base import Batch, FieldValues
from maskme.formats.csv import (
    CsvBatch,
    CsvDialect,
    CsvReader,
    CsvWriter,
    check_delimiter,
    with_delimiter,
)
from maskme.formats.frame import FrameBatch
from maskme.formats.json import FieldPresence, JsonBatch
from maskme.missing import missing_text
from maskme.policy.model import Policy, load_policy
from maskme.policy.paths import FieldPath, parse_field_path
from maskme.strategies.base import BatchView, InvalidValues, record_error_from

__all__ = ["ProgressCallback", "RunObserver", "RunResult", "mask"]

logger = logging.getLogger(__name__)

#: CSV batches transformed at the same time: one per core, at most 4 (memory grows with each).
PARALLEL_BATCHES = max(1, min(4, os.cpu_count() or 1))

#: CSV-to-CSV runs whose strategies all have expressions run as one Polars query,
#: and JSON batches whose fields are all top-level keys as one query each
#: (:mod:`maskme.engine.batch_query`). Tests turn it off to compare with the batch path.
QUERY_ENABLED = True

#: Called after each batch with (records done, bytes read, total bytes or None).
ProgressCallback = Callable[[int, int, int | None], None]


class RunObserver(Protocol):
    """Receives each batch's fields before and after transformation (for measurement)."""

    fields_before: Sequence[str]
    fields_after: Sequence[str]

    def update(self, before: pl.DataFrame | None, after: pl.DataFrame) -> None: ...


@dataclass(kw_only=True)
class RunResult:
    """Summary of a run: record count, formats and the output's location."""

    records: int = 0
    input_format: str = ""
    output_format: str = ""
    destination: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    frame: Any = None
    measurement: Any = None
    target_misses: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no data values)."""
        summary: dict[str, Any] = {
            "records": self.records,
            "input_format": self.input_format,
            "output_format": self.output_format,
            "destination": self.destination,
            "fields": dict(self.fields),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }
        if self.measurement is not None and hasattr(self.measurement, "to_dict"):
            summary["measurement"] = self.measurement.to_dict()
        return summary


# -- applying a plan to one batch ---------------------------------------------------


def _aligned(
    required: dict[str, FieldValues], record_index: np.ndarray | None, planned: PlannedField
) -> Callable[[str], pl.Series]:
    def column(path: str) -> pl.Series:
        found = required.get(path)
        if found is None:
            raise MaskMeError(
                f"strategy '{planned.rule.strategy}' on field `{planned.path.text}` read field "
                f"`{path}`, which its required_fields() does not declare; declare every field "
                "the strategy reads"
            )
        if record_index is None:
            return found.values
        return found.values.gather(record_index)

    return column


def _missing_or_empty(values: pl.Series, markers: Sequence[str] = ()) -> tuple[pl.Series, pl.Series]:
    """Return the values with each empty or declared-missing text as null, and where those were."""
    missing = pl.select(missing_text(pl.lit(values), markers).fill_null(False)).to_series()
    if not missing.any():
        return values, missing
    prepared = pl.select(pl.when(pl.lit(missing)).then(None).otherwise(pl.lit(values))).to_series()
    return prepared.alias(values.name), missing


def _required_values(plan: Plan, batch: Batch) -> dict[str, FieldValues]:
    """Read the fields that strategies read (``consistent_by``), with missing values as null.

    An empty or declared-missing subject is no subject, so each such record
    gets its own draw, as a null subject does.
    """
    required: dict[str, FieldValues] = {}
    for path in plan.required_paths:
        found = batch.field_values(path)
        if found is None:
            continue
        values = found.values if found.values.dtype == pl.String else found.values.cast(pl.String)
        prepared, _ = _missing_or_empty(values, plan.policy.missing_values)
        required[path.text] = FieldValues(values=prepared, record_index=found.record_index)
    return required


def apply_plan(plan: Plan, batch: Batch, matched: set[str]) -> None:
    """Transform one batch in place."""
    required = _required_values(plan, batch)

    for planned in plan.fields:
        if planned.removes_field:
            # has_field, not field_values: dropping an object or array is allowed.
            if batch.has_field(planned.path):
                matched.add(planned.path.text)
            batch.drop_field(planned.path)
            continue
        if planned.rule.strategy == "keep":
            # keep changes nothing, so the values are not read (and an object stays an object).
            if planned.path.text not in matched and batch.has_field(planned.path):
                matched.add(planned.path.text)
            continue
        original = batch.field_values(planned.path)
        if original is None:
            continue
        matched.add(planned.path.text)
        _apply_field(planned, batch, original, required, plan.policy.missing_values)

    if plan.keep_paths is not None:
        batch.keep_only(plan.keep_paths)


def _apply_field(
    planned: PlannedField,
    batch: Batch,
    original: FieldValues,
    required: dict[str, FieldValues],
    markers: Sequence[str],
) -> None:
    values = original.values
    if values.dtype != pl.String:
        values = values.cast(pl.String)
    prepared, missing = _missing_or_empty(values, markers)
    record_numbers = batch.record_numbers(original.record_index, len(values))
    view = BatchView(
        record_numbers=record_numbers, column=_aligned(required, original.record_index, planned)
    )
    try:
        result = planned.strategy.apply(prepared, view)
    except InvalidValues as error:
        raise record_error_from(error, record_numbers, planned.path.text) from None
    except MaskMeError:
        raise
    except Exception as error:
        raise _strategy_failure(planned, "apply", error) from None
    if not isinstance(result, pl.Series):
        raise MaskMeError(
            f"strategy '{planned.rule.strategy}' returned {type(result).__name__} for field "
            f"`{planned.path.text}`; a strategy must return a Polars Series"
        )
    if len(result) != len(values):
        raise MaskMeError(
            f"strategy '{planned.rule.strategy}' returned {len(result)} values for "
            f"{len(values)} in field `{planned.path.text}`; a strategy must keep the length"
        )
    if result.dtype != pl.String:
        try:
            result = result.cast(pl.String)
        except pl.exceptions.PolarsError:
            raise MaskMeError(
                f"strategy '{planned.rule.strategy}' returned values of type {result.dtype} for "
                f"field `{planned.path.text}`, which cannot be written as text; return strings "
                "or numbers"
            ) from None
    # Missing values leave as they came: null stays null, and an empty or declared text stays.
    restored = pl.select(
        pl.when(pl.lit(values).is_null())
        .then(None)
        .when(pl.lit(missing))
        .then(pl.lit(values))
        .otherwise(pl.lit(result))
    ).to_series()
    batch.set_field_values(
        planned.path, original, restored, keeps_type=planned.strategy.output_keeps_type()
    )


def observe_plan(plan: Plan, batch: Batch) -> None:
    """Feed one batch to the two-pass strategies' first pass."""
    required = _required_values(plan, batch)
    for planned in plan.fields:
        if not planned.strategy.two_pass:
            continue
        original = batch.field_values(planned.path)
        if original is None:
            continue
        values = original.values.cast(pl.String)
        prepared, _ = _missing_or_empty(values, plan.policy.missing_values)
        view = BatchView(
            record_numbers=batch.record_numbers(original.record_index, len(values)),
            column=_aligned(required, original.record_index, planned),
        )
        try:
            planned.strategy.observe(prepared, view)
        except InvalidValues as error:
            raise record_error_from(error, view.record_numbers, planned.path.text) from None
        except MaskMeError:
            raise
        except Exception as error:
            raise _strategy_failure(planned, "observe", error) from None


def _strategy_failure(planned: PlannedField, method: str, error: Exception) -> MaskMeError:
    """Return the error for an unexpected exception in a strategy, without its message.

    The message of an exception raised inside a strategy (its own, or one
    from Polars about a value) can quote the data, so only its type is named.
    """
    logger.debug("strategy %r raised %s in %s", planned.rule.strategy, type(error).__name__, method)
    return MaskMeError(
        f"strategy '{planned.rule.strategy}' failed on field `{planned.path.text}` in "
        f"{method}() with {type(error).__name__}; its message is not shown, since it may "
        "quote data values"
    )


# -- converting batches between formats --------------------------------------------------


def _convert(batch: Batch, output_format: str, header: list[str] | None) -> Batch:
    if output_format == "dataframe":
        return batch
    if output_format == "csv":
        if isinstance(batch, CsvBatch):
            return batch
        if isinstance(batch, FrameBatch):
            text = batch.data.select(pl.all().cast(pl.String))
            return CsvBatch(text, batch.first_record)
        assert isinstance(batch, JsonBatch)
        return _json_to_csv(batch, header)
    if isinstance(batch, JsonBatch):
        return batch
    data = batch.data if isinstance(batch, (CsvBatch, FrameBatch)) else None
    assert data is not None
    return JsonBatch(data.select(pl.all().cast(pl.String)).to_dicts(), batch.first_record)


def _json_to_csv(batch: JsonBatch, header: list[str] | None) -> CsvBatch:
    from maskme.formats.json import _as_text

    columns: dict[str, list[str | None]] = {name: [] for name in header or []}
    for index, record in enumerate(batch.records):
        for key in record:
            if key not in columns:
                if header is not None:
                    raise FormatError(
                        f"record {batch.first_record + index:,} has field `{key}` that the first "
                        "records lacked; CSV output needs the same fields in every record"
                    )
                columns[key] = [None] * index
        for key, values in columns.items():
            values.append(_as_text(record.get(key)))
    return CsvBatch(
        pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in columns.items()}),
        batch.first_record,
    )


# -- the run ---------------------------------------------------------------------------------


@contextmanager
def _output_stream(destination: str | Path) -> Iterator[BinaryIO]:
    if str(destination) == "-":
        with tempfile.TemporaryFile(prefix="maskme-out-") as spool:
            yield spool
            spool.seek(0)
            shutil.copyfileobj(spool, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        return
    with atomic_output(Path(destination)) as stream:
        yield stream


def protected_files(source: Any, policy: Policy | None) -> dict[str, Path | int]:
    """Return the files a run must never write to, by what they are.

    A value is a path, or a file descriptor (standard input read as ``-``).
    """
    protected: dict[str, Path | int] = {}
    if isinstance(source, (str, Path)):
        protected["the input file"] = 0 if str(source) == "-" else Path(source)
    if policy is not None:
        if policy.source is not None:
            protected["the policy file"] = Path(policy.source)
        for name, key in policy.keys.items():
            if key.file is not None:
                path = Path(key.file)
                protected[f"the key file of key '{name}'"] = (
                    path if path.is_absolute() else policy.base_dir / path
                )
        hierarchies = [getattr(rule.params, "hierarchy", None) for rule in policy.fields.values()]
        hierarchies += [attribute.hierarchy for attribute in policy.sensitive_attributes.values()]
        hierarchies += [getattr(rule, "hierarchy", None) for rule in policy.quasi_identifier_rules.values()]
        for hierarchy in hierarchies:
            if isinstance(hierarchy, (str, Path)):
                path = Path(hierarchy)
                protected[f"the hierarchy file {hierarchy}"] = (
                    path if path.is_absolute() else policy.base_dir / path
                )
    return protected


def check_output_path(target: Any, protected: dict[str, Path | int], *, what: str = "output") -> None:
    """Raise UsageError when ``target`` is one of the ``protected`` files.

    Paths are compared by resolved path and by device and inode, so a symlink,
    a hard link or another spelling of the same file is caught too.
    """
    if target is None or str(target) == "-":
        return
    path = Path(target)
    try:
        target_stat = path.stat()
    except OSError:
        target_stat = None
    for description, other in protected.items():
        if isinstance(other, int):
            same = target_stat is not None and _same_inode(target_stat, os.fstat(other))
        else:
            same = path.resolve() == other.resolve()
            if not same and target_stat is not None:
                try:
                    same = _same_inode(target_stat, other.stat())
                except OSError:
                    same = False
        if same:
            raise UsageError(
                f"the {what} {path} is {description}; MaskMe never overwrites it, "
                "so choose another path"
            )


#: Extensions of formats MaskMe does not write, and of compressed files.
_UNWRITTEN_EXTENSIONS = frozenset({
    ".parquet", ".pq", ".arrow", ".feather", ".ipc", ".avro", ".orc", ".xlsx", ".xls",
    ".sqlite", ".db",
    ".gz", ".gzip", ".tgz", ".bz2", ".xz", ".lz4", ".zst", ".zstd", ".zip", ".7z", ".tar",
})


def check_output_extension(destination: Any) -> None:
    """Reject an output named for a format MaskMe does not write, which would get CSV or JSON text."""
    if destination is None or str(destination) == "-":
        return
    suffix = Path(destination).suffix.lower()
    if suffix in _UNWRITTEN_EXTENSIONS:
        raise UsageError(
            f"cannot write {suffix} output: MaskMe writes uncompressed CSV, JSON and JSONL; "
            "name the output .csv, .tsv, .json or .jsonl"
        )


def _same_inode(first: os.stat_result, second: os.stat_result) -> bool:
    import stat as stat_module

    if not stat_module.S_ISREG(first.st_mode):
        return False  # a device or pipe can be both read and written, as with /dev/null
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _output_format(opened: Input, destination: Any, explicit: str | None) -> str:
    if opened.format == "dataframe":
        if destination is not None or explicit is not None:
            raise UsageError(
                "a DataFrame source gives a DataFrame of the same kind, in the result's "
                "frame; leave out the destination and the output format, and write the "
                "frame with its own methods"
            )
        return "dataframe"
    if explicit is not None:
        return detect_format(None, explicit)
    if str(destination) != "-":
        path = Path(destination)
        if path.suffix:
            try:
                return detect_format(path, None)
            except FormatError:
                pass
    return opened.format


def mask(
    source: str | Path | Any,
    policy: str | Path | Policy | dict[str, Any],
    destination: str | Path | None = None,
    *,
    format: str | None = None,
    output_format: str | None = None,
    delimiter: str | None = None,
    output_delimiter: str | None = None,
    encoding: str | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
    observers: Sequence[RunObserver] = (),
    check: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Apply ``policy`` to ``source`` and write ``destination``.

    ``source`` is a path, ``-`` for stdin, or a pandas or Polars DataFrame (then
    ``destination`` is None and ``RunResult.frame`` is a DataFrame of the same
    kind). ``check`` runs after the last record and before the output is moved
    into place; raising there leaves no output.
    """
    started = time.perf_counter()
    try:
        resolved_policy = load_policy(policy)
    except PolicyError as error:
        raise add_input_problems(error, source, format, delimiter, encoding) from None
    resolve_batch_size(batch_size)  # a bad size fails before the input is opened

    opened = open_input(source, format=format, delimiter=delimiter, encoding=encoding)
    with opened:
        if opened.format != "dataframe":
            if destination is None:
                raise UsageError(
                    "a destination is required when the source is a file; pass a path or '-'"
                )
            check_output_path(destination, protected_files(source, resolved_policy))
            check_output_extension(destination)
        reader = opened.reader
        size = resolve_batch_size(batch_size, opened.format)
        header = reader.top_level_fields()
        plan = build_plan(resolved_policy, header, seed=seed)
        target_format = _output_format(opened, destination, output_format)
        result = RunResult(
            input_format=opened.format,
            output_format=target_format,
            destination=None if destination is None else str(destination),
            fields={p.path.text: p.rule.strategy for p in plan.fields},
        )

        if plan.two_pass:
            with _collector_paused():
                for batch in reader.batches(size):
                    observe_plan(plan, batch)

        if target_format == "dataframe":
            _run_to_frame(plan, opened, size, result, progress, observers)
        else:
            dialect = _output_dialect(opened, target_format, output_delimiter, destination)
            if target_format == "csv" and header is not None:
                _check_some_field_left(plan, header)
            query = _query(plan, opened, target_format, observers)
            with _output_stream(destination) as raw_stream:  # type: ignore[arg-type]
                matched = None
                if query is not None:
                    assert isinstance(opened.reader, CsvReader) and dialect is not None
                    reports = _Monotonic(progress) if progress is not None else None
                    matched = _run_query(query, opened.reader, raw_stream, dialect, size,
                                         result, reports)
                    progress = reports
                if matched is None:
                    with _written_behind(raw_stream, target_format) as behind:
                        stream = encoded_output(behind, opened.encoding)
                        writer = create_writer(stream, target_format, dialect=dialect)
                        matched = _stream_batches(
                            plan, opened, size, result, progress, observers, writer.write,
                            target_format,
                        )
                        writer.finish()
                _check_matched(plan, matched, result.records)
                result.elapsed_seconds = time.perf_counter() - started
                if check is not None:
                    check(result)
        result.elapsed_seconds = time.perf_counter() - started
    logger.info("masked %d records in %.2f s", result.records, result.elapsed_seconds)
    return result


def _check_some_field_left(plan: Plan, header: list[str]) -> None:
    """Reject a policy that leaves no column of a CSV input, which would make an empty file."""
    removed = {planned.path.text for planned in plan.fields if planned.removes_field}
    left = [name for name in header if name not in removed]
    if plan.keep_paths is not None:
        staying = {path.text for path in plan.keep_paths}
        left = [name for name in left if name in staying]
    if not left:
        raise PolicyError([PolicyProblem(
            message="the policy leaves no field of the input to write; keep at least one",
            path="fields", line=plan.policy.line_of("fields"), source=plan.policy.source,
        )])


class _Monotonic:
    """Passes on progress reports only once they pass the furthest one reported.

    After the query hands over to the batch path, reading starts again from
    the first record; a progress bar then waits instead of going back.
    """

    def __init__(self, progress: ProgressCallback) -> None:
        self.progress = progress
        self.records = 0
        self.bytes_read = 0

    def __call__(self, records: int, bytes_read: int, total: int | None) -> None:
        if records < self.records or bytes_read < self.bytes_read:
            return
        self.records, self.bytes_read = records, bytes_read
        self.progress(records, bytes_read, total)


def _query(
    plan: Plan, opened: Input, target_format: str, observers: Sequence[RunObserver]
) -> MaskQuery | None:
    """Return the run as one Polars query when it qualifies (CSV to UTF-8 CSV), else None."""
    if (observers or not QUERY_ENABLED or target_format != "csv"
            or not isinstance(opened.reader, CsvReader)
            or codecs.lookup(opened.encoding).name not in ("utf-8", "utf-8-sig")):
        return None
    return build_query(plan, opened.reader)


def _run_query(
    query: MaskQuery,
    reader: CsvReader,
    stream: BinaryIO,
    dialect: CsvDialect,
    size: int,
    result: RunResult,
    progress: ProgressCallback | None,
) -> set[str] | None:
    """Run the query into ``stream``; return the matched paths, or None to run batches instead.

    When the query meets a record that the batch path must handle, what it
    wrote is discarded, so the batch path writes into an empty stream.
    """
    writer = CsvWriter(stream, dialect)
    try:
        result.records = run_query(query, reader, writer, size, progress)
    except NeedsBatches:
        logger.info("a record needs the batch path; masking %s again in batches", reader.label)
        stream.seek(0)
        stream.truncate()
        result.records = 0
        return None
    writer.finish()
    return query.matched


class _TranscodingStream:
    """Takes UTF-8 bytes and writes them in another encoding (the input's)."""

    def __init__(self, target: BinaryIO, encoding: str) -> None:
        self.target = target
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        # Incremental, so that a byte order mark (UTF-16, UTF-32) starts the file only.
        self.encoder = codecs.getincrementalencoder(encoding)()

    def write(self, data: bytes) -> int:
        text = self.decoder.decode(bytes(data))
        try:
            self.target.write(self.encoder.encode(text))
        except UnicodeEncodeError:
            raise FormatError(
                f"the output has a character that {self.encoding} cannot encode (the output "
                "is written in the input's encoding); choose a mask character or hierarchy "
                "label it can encode, or convert the input to UTF-8 first"
            ) from None
        return len(data)

    def flush(self) -> None:
        self.target.flush()


class _WriteBehindStream:
    """A stream that passes each write to a worker thread, in order, while the caller builds the next one.

    The write system call releases the GIL, so serializing a JSON batch and
    writing the one before overlap. One write waits at a time, so memory keeps
    at most two batches' bytes. An error from a write is raised by the next
    call, or by ``drain``.
    """

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskme-writer")
        self._waiting: Future[int] | None = None

    def write(self, data: bytes | bytearray) -> int:
        self.drain()
        self._waiting = self._pool.submit(self.target.write, data)
        return len(data)

    def flush(self) -> None:
        self.drain()
        self.target.flush()

    def drain(self) -> None:
        """Wait for the write in progress and raise its error, if any."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting.result()

    def close(self) -> BaseException | None:
        """Wait for the write in progress, stop the thread, and return the write's error, if any."""
        self._pool.shutdown(wait=True)
        waiting, self._waiting = self._waiting, None
        return waiting.exception() if waiting is not None else None


@contextmanager
def _written_behind(stream: BinaryIO, target_format: str) -> Iterator[BinaryIO]:
    """Yield ``stream``, with its writes on a worker thread for JSON output (see _WriteBehindStream).

    The worker has finished before the block ends, so the output is complete
    (or the run failed) before it is moved into place. A failed write is
    reported before an error raised later in the block, as a write on this
    thread would have been, but not before an interruption (Ctrl-C, SIGTERM).
    CSV writers make many small writes, so they write directly.
    """
    if target_format not in ("json", "jsonl"):
        yield stream
        return
    behind = _WriteBehindStream(stream)
    try:
        yield behind  # type: ignore[misc]
    except Exception:
        failed = behind.close()
        if failed is not None:
            raise failed from None
        raise
    except BaseException:
        behind.close()
        raise
    failed = behind.close()
    if failed is not None:
        raise failed


def encoded_output(stream: BinaryIO, encoding: str) -> BinaryIO:
    """Return a stream that takes UTF-8 bytes and writes them to ``stream`` in ``encoding``."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return stream
    return _TranscodingStream(stream, encoding)  # type: ignore[return-value]


def add_input_problems(
    error: PolicyError, source: Any, format: str | None, delimiter: str | None, encoding: str | None
) -> PolicyError:
    """Add the field paths that match no input column to an invalid policy's problems.

    An invalid policy stops the run before anything is read, but the user
    should see every problem at once, so the input's header is read here.
    """
    document = error.document
    if not isinstance(document, dict) or not isinstance(document.get("fields"), dict):
        return error
    try:
        with open_input(source, format=format, delimiter=delimiter, encoding=encoding) as opened:
            columns = opened.reader.top_level_fields()
    except MaskMeError:
        return error
    if columns is None:
        return error
    reported = {problem.path for problem in error.problems}
    extra = []
    for path in document["fields"]:
        path = str(path)
        if path in columns or f"fields.{path}" in reported:
            continue
        line = error.line_of("fields", path) if error.line_of else None
        source_name = error.problems[0].source if error.problems else None
        extra.append(
            PolicyProblem(
                message=f"field '{path}' matches nothing in the input{suggest(path, columns)}",
                path=f"fields.{path}",
                line=line,
                source=source_name,
            )
        )
    extra.extend(_key_problems(error, document))
    if not extra:
        return error
    problems = sorted([*error.problems, *extra], key=lambda problem: problem.line or 0)
    combined = PolicyError(problems)
    combined.document = error.document
    combined.line_of = error.line_of
    return combined


def _key_problems(error: PolicyError, document: dict[str, Any]) -> list[PolicyProblem]:
    """Return problems for keys the invalid policy defines but that are not available."""
    from maskme.policy.keys import load_keys
    from maskme.policy.model import _build_keys

    sources = _build_keys(document.get("keys"), lambda *args: None)
    reported = {problem.path for problem in error.problems}
    wanted = [name for name in sources if f"keys.{name}" not in reported]
    policy_source = error.problems[0].source if error.problems else None
    base_dir = Path(policy_source).resolve().parent if policy_source else Path.cwd()
    lines = {name: error.line_of("keys", name) if error.line_of else None for name in wanted}
    try:
        load_keys(sources, wanted, base_dir=base_dir, policy_source=policy_source, lines=lines)
    except PolicyError as missing:
        return list(missing.problems)
    return []


def _output_dialect(
    opened: Input, target_format: str, delimiter: str | None, destination: Any
) -> CsvDialect | None:
    """Return the output's CSV dialect: the input's, with the delimiter asked for.

    Without ``--output-delimiter``, an output named ``.tsv`` gets tabs.
    """
    if target_format != "csv":
        if delimiter is not None:
            raise UsageError(
                f"an output delimiter applies to CSV output, but the output is "
                f"{target_format.upper()}; leave it out, or write CSV"
            )
        return None
    if delimiter is not None:
        check_delimiter(delimiter, "the output delimiter", spaced=True)
    elif isinstance(destination, str | os.PathLike) and Path(destination).suffix.lower() == ".tsv":
        delimiter = "\t"
    return with_delimiter(opened.dialect or CsvDialect(), delimiter)


def _stream_batches(
    plan: Plan,
    opened: Input,
    size: int,
    result: RunResult,
    progress: ProgressCallback | None,
    observers: Sequence[RunObserver],
    emit: Callable[[Batch], None],
    target_format: str,
) -> set[str]:
    with _collector_paused():
        if _can_run_in_parallel(plan, opened, observers, target_format):
            return _stream_batches_in_parallel(plan, opened, size, result, progress, emit)
        per_batch_query = (
            build_batch_query(plan)
            if QUERY_ENABLED and opened.format in ("json", "jsonl")
            else None
        )
        return _stream_batches_in_order(
            plan, per_batch_query, opened, size, result, progress, observers, emit,
            target_format,
        )


def _stream_batches_in_order(
    plan: Plan,
    query: BatchQuery | None,
    opened: Input,
    size: int,
    result: RunResult,
    progress: ProgressCallback | None,
    observers: Sequence[RunObserver],
    emit: Callable[[Batch], None],
    target_format: str,
) -> set[str]:
    """Transform and write the batches one after another, in input order.

    With a per-batch ``query`` (JSON batches), a batch's query runs on a
    worker thread while this thread reads the next batch: reading holds the
    GIL and the query does not, so the two overlap on two cores. An error in
    a batch is still raised before an error in reading a later one. Without
    a query, each batch is written before the next is read, so only one is
    in memory.
    """
    matched: set[str] = set()
    header: list[str] | None = None
    before_paths = _observer_paths(observers, "fields_before")
    after_paths = _observer_paths(observers, "fields_after")
    presence = FieldPresence(before_paths)

    def finish(
        started: StartedQuery | None, batch: Batch, before: pl.DataFrame | None, read: int
    ) -> None:
        nonlocal header
        if started is None or not finish_batch_query(started, plan, matched):
            apply_plan(plan, batch, matched)
        if observers:
            _observe(observers, before, batch.frame(after_paths))
        converted = _convert(batch, target_format, header)
        if target_format == "csv" and isinstance(converted, CsvBatch) and header is None:
            header = list(converted.data.columns)
        emit(converted)
        result.records += batch.length
        if progress is not None:
            # The bytes read up to this batch: with a query, the reader is one batch on.
            progress(result.records, read, opened.reader.total_bytes)

    batches = iter(opened.reader.batches(size))
    running: tuple[StartedQuery | None, Batch, pl.DataFrame | None, int] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="maskme-query") as pool:
        while True:
            try:
                batch = next(batches)
                presence.update(batch)
                before = batch.frame(before_paths) if before_paths else None
                started = (
                    start_batch_query(query, batch, pool)
                    if query is not None and isinstance(batch, JsonBatch)
                    else None
                )
            except StopIteration:
                break
            except BaseException:
                if running is not None:
                    finish(*running)  # an error in an earlier record comes first
                raise
            if running is not None:
                finish(*running)
                running = None
            if started is None:
                finish(None, batch, before, opened.reader.bytes_read)
            else:
                running = (started, batch, before, opened.reader.bytes_read)
            # Free this batch (unless its query runs) before the reader builds the next one.
            del batch, before, started
        if running is not None:
            finish(*running)
    presence.check(opened.name)
    return matched


def _can_run_in_parallel(
    plan: Plan, opened: Input, observers: Sequence[RunObserver], target_format: str
) -> bool:
    if observers or PARALLEL_BATCHES < 2 or opened.format != "csv" or target_format != "csv":
        return False
    # Built-in strategies keep no state between batches; custom ones might.
    return all(
        type(planned.strategy).__module__.startswith("maskme.strategies.")
        for planned in plan.fields
    )


def _stream_batches_in_parallel(
    plan: Plan,
    opened: Input,
    size: int,
    result: RunResult,
    progress: ProgressCallback | None,
    emit: Callable[[Batch], None],
) -> set[str]:
    """Transform CSV batches on worker threads and write them in input order.

    Polars and numpy release the GIL inside their kernels, so reading (this
    thread), transforming (worker threads) and writing (one writer thread)
    run at the same time on several cores. At most ``PARALLEL_BATCHES``
    transformed batches wait for the writer, which bounds memory. The first
    failing batch in input order raises, as in a sequential run.
    """
    matched: set[str] = set()
    waiting: queue.Queue[tuple[Batch, Future[None]] | None] = queue.Queue(PARALLEL_BATCHES)
    failures: list[BaseException] = []

    def write_in_order() -> None:
        while (item := waiting.get()) is not None:
            batch, future = item
            if failures:
                future.cancel()
                continue  # the queue keeps draining, so the reading thread is not stuck on put()
            try:
                future.result()
                emit(batch)
            except BaseException as error:  # re-raised by the reading thread
                failures.append(error)
                continue
            result.records += batch.length
            if progress is not None:
                progress(result.records, opened.reader.bytes_read, opened.reader.total_bytes)

    writer = threading.Thread(target=write_in_order, name="maskme-writer", daemon=True)
    with ThreadPoolExecutor(max_workers=PARALLEL_BATCHES, thread_name_prefix="maskme") as pool:
        writer.start()
        try:
            for batch in opened.reader.batches(size):
                if failures:
                    break
                waiting.put((batch, pool.submit(apply_plan, plan, batch, matched)))
        except BaseException:
            waiting.put(None)
            writer.join()
            if failures:
                raise failures[0] from None  # an earlier batch failed first
            raise
        waiting.put(None)
        writer.join()
    if failures:
        raise failures[0]
    return matched


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while batches stream.

    A JSON batch is tens of thousands of dicts, and every automatic full
    collection walks all of them: masking 100,000 records of the benchmark
    table (bench/generate.py) took 45 % less CPU time without them. Batches
    are freed by reference counting, since records contain no reference
    cycles. The collector runs again once the stream ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _observe(
    observers: Sequence[RunObserver], before: pl.DataFrame | None, after: pl.DataFrame
) -> None:
    for observer in observers:
        observer.update(
            before.select(list(observer.fields_before))
            if before is not None and observer.fields_before else None,
            after.select(list(observer.fields_after)),
        )


def _observer_paths(observers: Sequence[RunObserver], attribute: str) -> list[FieldPath]:
    names: dict[str, None] = {}
    for observer in observers:
        for name in getattr(observer, attribute):
            names[name] = None
    return [parse_field_path(name) for name in names]


def _check_matched(plan: Plan, matched: set[str], records: int) -> None:
    """Reject policy fields that no record had (likely a misspelt name), unless there were no records."""
    unmatched = [path for path in plan.deferred_paths if path not in matched]
    if not unmatched or not records:
        return
    policy = plan.policy
    raise PolicyError(
        [
            PolicyProblem(
                message=f"field '{path}' matches nothing in the input; nothing was written",
                path=f"fields.{path}",
                line=policy.line_of("fields", path),
                source=policy.source,
            )
            for path in unmatched
        ]
    )


def _run_to_frame(
    plan: Plan,
    opened: Input,
    size: int,
    result: RunResult,
    progress: ProgressCallback | None,
    observers: Sequence[RunObserver],
) -> None:
    parts: list[pl.DataFrame] = []

    def collect(batch: Batch) -> None:
        assert isinstance(batch, FrameBatch)
        parts.append(batch.data)

    _stream_batches(plan, opened, size, result, progress, observers, collect, "dataframe")
    frame = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    if opened.frame_kind == "pandas":
        converted = frame.to_pandas()
        if opened.frame_index is not None and len(opened.frame_index) == len(converted):
            converted.index = opened.frame_index
        result.frame = converted
    else:
        result.frame = frame

