"""Masking one JSON batch with a single Polars query over all its fields.

The per-field path (:func:`maskme.engine.local.apply_plan`) runs Polars a few
times for each field of each batch. When every field of the plan is a
top-level key and every transforming strategy has an expression
(:meth:`Strategy.expression`, as for the CSV query), one query per batch does
the same work on all cores. The per-field path stays the reference: a batch
in which some value is ``failed`` is left unchanged and the caller runs
``apply_plan`` on it, which reports or handles that value.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass

import polars as pl

from maskme.engine.plan import Plan, PlannedField
from maskme.engine.query import field_expressions
from maskme.errors import RecordError
from maskme.formats.base import FieldValues
from maskme.formats.json import JsonBatch

__all__ = [
    "BatchQuery",
    "StartedQuery",
    "build_batch_query",
    "finish_batch_query",
    "start_batch_query",
]

_RECORD = "maskme_record"
_FLAG = "maskme_needs_fields"


@dataclass(frozen=True, kw_only=True)
class BatchQuery:
    """A plan's transformations as expressions over columns ``c0``, ``c1``, ... of a batch."""

    #: Fields the strategies transform, in plan order, with their column names.
    transformed: list[tuple[PlannedField, str]]
    #: Intermediate columns, in order, then the outputs and the flag column.
    steps: list[tuple[str, pl.Expr]]
    outputs: list[pl.Expr]


def build_batch_query(plan: Plan) -> BatchQuery | None:
    """Return the plan as one query per batch, or None when some field needs the per-field path."""
    if plan.two_pass or plan.required_paths:
        return None
    if any(planned.path.is_nested or planned.path.walks_arrays for planned in plan.fields):
        return None

    transformed = [
        planned for planned in plan.fields
        if not planned.removes_field and planned.rule.strategy != "keep"
    ]
    if not transformed:
        return None  # apply_plan drops and keeps without Polars
    names = [f"c{index}" for index in range(len(transformed))]

    records = pl.col(_RECORD)
    steps: list[tuple[str, pl.Expr]] = []
    outputs: list[pl.Expr] = []
    failures: list[pl.Expr] = []
    for planned, name in zip(transformed, names, strict=True):
        described = field_expressions(planned, pl.col(name), records, plan.policy.missing_values)
        if described is None:
            return None
        steps.extend(described.steps)
        outputs.append(described.output.alias(name))
        if described.failed is not None:
            failures.append(described.failed)

    if {step for step, _ in steps} & {*names, _RECORD, _FLAG}:
        return None
    outputs.append(pl.any_horizontal(pl.lit(False), *failures).alias(_FLAG))
    return BatchQuery(transformed=list(zip(transformed, names, strict=True)), steps=steps, outputs=outputs)


@dataclass(frozen=True, kw_only=True)
class StartedQuery:
    """A batch's query, running on another thread; see :func:`start_batch_query`."""

    batch: JsonBatch
    #: The transformed fields found in the batch: (field, column name, original values).
    present: list[tuple[PlannedField, str, FieldValues]]
    result: Future[pl.DataFrame]


def start_batch_query(query: BatchQuery, batch: JsonBatch, pool: Executor) -> StartedQuery | None:
    """Read the batch's fields and start its query on ``pool``; None when apply_plan must run instead.

    Polars releases the GIL while a query runs, so the caller can read the
    next batch meanwhile.
    """
    present: list[tuple[PlannedField, str, FieldValues]] = []
    try:
        for planned, name in query.transformed:
            found = batch.field_values(planned.path)
            if found is None:
                return None  # a field absent from the batch has no column for its expressions
            present.append((planned, name, found))
    except RecordError:
        return None  # apply_plan reports it, after the fields before it
    first = batch.first_record
    frame = pl.DataFrame(
        [pl.int_range(first, first + batch.length, dtype=pl.UInt64, eager=True).alias(_RECORD)]
        + [found.values.alias(name) for _, name, found in present]
    )
    lazy = frame.lazy()
    for step, expression in query.steps:
        lazy = lazy.with_columns(expression.alias(step))
    return StartedQuery(batch=batch, present=present, result=pool.submit(lazy.select(query.outputs).collect))


def finish_batch_query(started: StartedQuery, plan: Plan, matched: set[str]) -> bool:
    """Write the query's result into the batch, as apply_plan would.

    Return False, with the batch unchanged, when apply_plan must run instead.
    """
    try:
        result = started.result.result()
    except pl.exceptions.PolarsError:
        return False  # apply_plan runs the batch again, and reports the error without values
    if result.get_column(_FLAG).any():
        return False

    batch = started.batch
    for planned, name, found in started.present:
        matched.add(planned.path.text)
        batch.set_field_values(
            planned.path, found, result.get_column(name),
            keeps_type=planned.strategy.output_keeps_type(),
        )
    for planned in plan.fields:
        if planned.removes_field:
            if batch.has_field(planned.path):
                matched.add(planned.path.text)
            batch.drop_field(planned.path)
        elif planned.rule.strategy == "keep" and batch.has_field(planned.path):
            matched.add(planned.path.text)
    if plan.keep_paths is not None:
        batch.keep_only(plan.keep_paths)
    return True
