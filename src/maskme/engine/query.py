"""Masking a CSV file as one Polars streaming query.

A CSV-to-CSV run needs no Python code per record or per column when every
transformed field's strategy can be written as Polars expressions
(:meth:`Strategy.expression`). Polars then reads the file in parallel,
evaluates the expressions on all cores and hands finished batches to the
writer.

The batch path of :mod:`maskme.engine.local` stays the reference. The query
flags every record it may not treat as the batch path would. One is a value
that a strategy's expression marks ``failed``. Another is a record whose
fields are all empty: Polars reads an empty line as one, where the batch
reader skips it, so only those at the very end of the file stay.
Malformed CSV makes Polars fail. In both cases the engine discards what the
query wrote and runs the batch path, which names the record or handles it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
import polars.selectors as cs

from maskme.engine.plan import Plan, PlannedField
from maskme.formats.csv import CsvBatch, CsvReader, CsvWriter
from maskme.missing import missing_text

__all__ = [
    "FieldExpressions",
    "MaskQuery",
    "NeedsBatches",
    "build_query",
    "field_expressions",
    "run_query",
]

logger = logging.getLogger(__name__)

#: Bytes at the start of the file from which the average record size is estimated.
_SAMPLE_BYTES = 1 << 22
#: Bytes at the end of the file in which empty lines are counted.
_TAIL_BYTES = 1 << 16

#: Polars reads CSV in chunks of this many bytes during the query (its setting
#: ``POLARS_CSV_CHUNK_SIZE``, unless the environment sets it). Hashing and
#: redacting the 1.9 GB benchmark file peaked at 690 MB with Polars' default
#: chunks and at 371 MB with 4 MiB chunks, in about the same time. The whole
#: benchmark policy peaked at 425 to 448 MiB with 4 MiB chunks and at 363 to
#: 382 MiB with 2 MiB chunks, which took about 8 % longer at 1M records.
CSV_CHUNK_BYTES = 2 << 20
_CHUNK_SETTING = "POLARS_CSV_CHUNK_SIZE"

#: Called with (records done, bytes read, total bytes or None).
Progress = Callable[[int, int, int | None], None]


class NeedsBatches(Exception):
    """The query met a record it may not treat as the batch path would; run the batch path."""


@dataclass(frozen=True, kw_only=True)
class MaskQuery:
    """The whole masking run of one CSV file, as a lazy frame; see :func:`build_query`."""

    frame: pl.LazyFrame
    #: The output columns, in order (the frame also has the flag column).
    columns: list[str]
    #: Boolean column of ``frame``: true for a record the batch path must handle.
    flag: str
    #: Boolean column of ``frame``: true for a record whose fields are all empty. Polars
    #: reads an empty line as one, which the batch path skips, so only those at the end
    #: of the file, as many as it has empty lines there, stay in the query.
    empty: str
    #: Field paths of the plan that name a column of the file.
    matched: set[str]


def _column(name: str) -> pl.Expr:
    # By exact name: pl.col reads "*" and "^...$" as patterns, and names come from the data.
    return cs.by_name(name).as_expr()


@dataclass(frozen=True, kw_only=True)
class FieldExpressions:
    """One field's transformation as expressions; see :func:`field_expressions`."""

    #: Intermediate columns, (name, expression) pairs computed in order before the others.
    steps: tuple[tuple[str, pl.Expr], ...]
    #: The field's new String column.
    output: pl.Expr
    #: Boolean, true for a value the per-field path must handle; None when there is none.
    failed: pl.Expr | None


def field_expressions(
    planned: PlannedField, original: pl.Expr, records: pl.Expr, markers: Sequence[str] = ()
) -> FieldExpressions | None:
    """Return ``planned``'s strategy over the column ``original``, as the per-field path applies it.

    As in apply_plan, missing values (null, empty, or one of the policy's
    ``markers``) reach the strategy as null, and they leave as they came.
    None when the strategy has no expression for its parameters.
    """
    missing = missing_text(original, markers)
    prepared = pl.when(missing).then(None).otherwise(original)
    try:
        described = planned.strategy.expression(prepared, records)
    except Exception as error:  # a plugin's bug: its apply() runs on the batch path instead
        logger.debug("strategy %r raised %s in expression()", planned.rule.strategy,
                     type(error).__name__)
        return None
    if described is None:
        return None
    output = (
        pl.when(original.is_null()).then(None)
        .when(missing).then(original)
        .otherwise(described.value.cast(pl.String))
    )
    failed = None
    if described.failed is not None:
        failed = (described.failed & prepared.is_not_null()).fill_null(False)
    return FieldExpressions(steps=described.steps, output=output, failed=failed)


def _unused_name(base: str, names: set[str]) -> str:
    name = base
    while name in names:
        name = f"_{name}"
    return name


def build_query(plan: Plan, reader: CsvReader) -> MaskQuery | None:
    """Return the plan as one query over the file, or None when some part has no expression.

    None also for what the query does not cover: fields that other fields'
    strategies read (``consistent_by``), strategies that see the whole
    column first, and an empty file.
    """
    if plan.two_pass or plan.required_paths or plan.deferred_paths:
        return None
    header = reader.top_level_fields()
    header_names = set(header)
    record_name = _unused_name("maskme_record", header_names)
    flag = _unused_name("maskme_needs_batches", header_names | {record_name})
    empty_name = _unused_name("maskme_empty", header_names | {record_name, flag})
    records = pl.col(record_name).cast(pl.UInt64)

    outputs: dict[str, pl.Expr] = {name: _column(name) for name in header}
    failures: list[pl.Expr] = []
    steps: list[tuple[str, pl.Expr]] = []
    matched: set[str] = set()
    for planned in plan.fields:
        name = planned.path.text
        if name not in outputs:
            continue
        matched.add(name)
        if planned.removes_field:
            del outputs[name]
            continue
        if planned.rule.strategy == "keep":
            continue
        described = field_expressions(planned, _column(name), records, plan.policy.missing_values)
        if described is None or any(step in header_names for step, _ in described.steps):
            return None
        steps.extend(described.steps)
        outputs[name] = described.output.alias(name)
        if described.failed is not None:
            failures.append(described.failed)

    if plan.keep_paths is not None:
        staying = {path.text for path in plan.keep_paths}
        outputs = {name: expression for name, expression in outputs.items() if name in staying}

    scan = reader.scan(header)
    if scan is None:
        return None
    if scan.flags_only_empty:
        all_empty = pl.col(scan.needs_batches)
        needs_batches = pl.any_horizontal(pl.lit(False), *failures)
    else:
        all_empty = pl.all_horizontal(_column(name).is_null() for name in header)
        needs_batches = pl.any_horizontal(pl.col(scan.needs_batches) & ~all_empty, *failures)
    frame = scan.frame.with_row_index(record_name, offset=1)
    for step, expression in steps:
        frame = frame.with_columns(expression.alias(step))
    frame = frame.select(
        *[expression.alias(name) for name, expression in outputs.items()],
        needs_batches.alias(flag),
        all_empty.alias(empty_name),
    )
    return MaskQuery(frame=frame, columns=list(outputs), flag=flag, empty=empty_name,
                     matched=matched)


def run_query(
    query: MaskQuery,
    reader: CsvReader,
    writer: CsvWriter,
    batch_size: int,
    progress: Progress | None,
) -> int:
    """Run the query, writing each batch in order; return the number of records written.

    Raises NeedsBatches when a record is flagged or Polars cannot read the
    file; what was written then must be discarded. The query runs on a worker
    thread, so that the main thread keeps handling signals (Ctrl-C, SIGTERM)
    and stops the query at the next batch.
    """
    total = reader.total_bytes or 0
    record_bytes = _average_record_bytes(reader)
    trailing_empty_lines = _trailing_empty_lines(reader)
    state = _RunState()

    def take(batch: pl.DataFrame) -> bool:
        if state.stop.is_set():
            return True
        try:
            empty = batch.get_column(query.empty)
            # Empty records are held back; they may only be the file's last lines.
            trailing = _empty_suffix(empty)
            if (batch.get_column(query.flag).any() or empty.head(batch.height - trailing).any()
                    or (state.held_back and trailing < batch.height)
                    or state.held_back + trailing > trailing_empty_lines):
                state.flagged = True
                return True
            state.held_back += trailing
            written = batch.head(batch.height - trailing).drop(query.flag, query.empty)
            writer.write(CsvBatch(written, state.records + 1))
            state.records += written.height
            if progress is not None:
                estimate = min(total, int(state.records * record_bytes))
                progress(state.records, estimate, total)
        except BaseException as error:  # raised again on the calling thread
            state.error = error
            return True
        return False

    def run() -> None:
        try:
            with _chunk_setting():
                query.frame.sink_batches(take, chunk_size=batch_size, engine="streaming")
        except pl.exceptions.PolarsError:
            # A malformed record (or a value Polars cannot convert): the batch
            # reader finds and names it.
            state.flagged = True
        except BaseException as error:
            if type(error).__name__ == "PanicException":
                # A Polars bug (or a setting Polars cannot use): the batch path does
                # without the streaming engine.
                logger.warning("Polars failed inside the query; masking in batches instead")
                state.flagged = True
            else:
                state.error = error

    worker = threading.Thread(target=run, name="maskme-query", daemon=True)
    worker.start()
    try:
        worker.join()
    except BaseException:
        state.stop.set()
        worker.join()
        raise
    if state.error is not None:
        raise state.error
    if state.flagged or state.held_back != trailing_empty_lines:
        raise NeedsBatches
    if state.records == 0:
        # A header and no records: the header still goes out.
        empty = pl.DataFrame({name: pl.Series([], dtype=pl.String) for name in query.columns})
        writer.write(CsvBatch(empty, 1))
    if progress is not None:
        progress(state.records, total, total)
    return state.records


@contextmanager
def _chunk_setting() -> Iterator[None]:
    """Set Polars' CSV chunk size for the query, unless the environment sets it."""
    if _CHUNK_SETTING in os.environ:
        yield
        return
    os.environ[_CHUNK_SETTING] = str(CSV_CHUNK_BYTES)
    try:
        yield
    finally:
        os.environ.pop(_CHUNK_SETTING, None)


class _RunState:
    def __init__(self) -> None:
        self.records = 0
        #: Empty records at the end of what was read, not written (yet).
        self.held_back = 0
        self.flagged = False
        self.error: BaseException | None = None
        self.stop = threading.Event()


def _empty_suffix(empty: pl.Series) -> int:
    """Return how many of the last values are true in a Boolean column."""
    falses = (~empty).arg_true()
    return empty.len() if falses.is_empty() else empty.len() - 1 - int(falses[-1])


def _trailing_empty_lines(reader: CsvReader) -> int:
    """Count the empty lines (empty or a lone CR) after the file's last line with text.

    Polars reads each as a record whose fields are all empty. Only the last
    64 KiB are looked at; more empty lines than that send the run to batches.
    """
    size = reader.total_bytes or 0
    with reader.path.open("rb") as stream:
        stream.seek(max(0, size - _TAIL_BYTES))
        tail = stream.read()
    lines = tail.split(b"\n")
    if lines[-1] != b"":
        return 0  # the last line has text, or is a CR with no line break after it
    count = 0
    for line in reversed(lines[:-1]):
        if line not in (b"", b"\r"):
            return count
        count += 1
    return 0


def _average_record_bytes(reader: CsvReader) -> float:
    """Estimate the bytes per record from the start of the file, for progress reports."""
    with reader.path.open("rb") as stream:
        sample = stream.read(_SAMPLE_BYTES)
    lines = sample.count(b"\n")
    return len(sample) / lines if lines else float(len(sample) or 1)
