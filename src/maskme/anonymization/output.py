"""Pass two: apply the chosen generalization to the input and write the output.

The search's choice becomes a recode table with one row per distinct
combination of quasi-identifier values: the label each quasi-identifier gets,
and whether the records with that combination are kept. Pass two streams the
input again through the readers of :mod:`maskme.formats` and joins each
batch's quasi-identifiers with that table. It then applies the policy's other
field strategies with the local engine's ``apply_plan``, removes the
suppressed records, and writes the batch.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import polars as pl

from maskme.anonymization.evaluation import NodeEvaluation
from maskme.anonymization.levels import AttributeLevels
from maskme.anonymization.table import StatisticsTable
from maskme.engine.local import apply_plan, encoded_output, observe_plan
from maskme.engine.plan import Plan
from maskme.errors import MaskMeError
from maskme.formats import Input, atomic_output, create_writer
from maskme.formats.base import Batch
from maskme.formats.csv import CsvBatch, CsvDialect
from maskme.formats.frame import FrameBatch
from maskme.formats.json import JsonBatch
from maskme.missing import missing_text
from maskme.policy.paths import parse_field_path

__all__ = [
    "RecodeTable",
    "build_recode_table",
    "staged_output",
    "transform_to_frame",
    "write_output",
]

_KEPT = "__kept"


class RecodeTable:
    """Output labels of every distinct quasi-identifier combination, and whether it is kept."""

    def __init__(
        self,
        quasi_identifiers: Sequence[str],
        frame: pl.DataFrame,
        missing_values: Sequence[str] = (),
    ) -> None:
        self.quasi_identifiers = tuple(quasi_identifiers)
        #: Texts that mean a missing value besides the empty string (the policy's).
        self.missing_values = tuple(missing_values)
        self.keys = [f"__key{index}" for index in range(len(quasi_identifiers))]
        self.labels = [f"__label{index}" for index in range(len(quasi_identifiers))]
        self.frame = frame

    def lookup(self, values: pl.DataFrame) -> pl.DataFrame:
        """Return, per record, each quasi-identifier's label and ``__kept``.

        ``values`` has one String column per quasi-identifier. The empty string
        is a missing value, as in pass one, and a declared missing text is a
        value of its own there too. A combination the table lacks
        (quasi-identifiers all ``*`` already in the input) is not kept.
        """
        keys = values.select(
            [
                pl.when(pl.col(name) == "")
                .then(None)
                .otherwise(pl.col(name))
                .alias(key)
                for name, key in zip(self.quasi_identifiers, self.keys, strict=True)
            ]
        )
        joined = keys.join(
            self.frame, on=self.keys, how="left", nulls_equal=True, maintain_order="left"
        )
        return joined.with_columns(pl.col(_KEPT).fill_null(False))


def _format_number(number: float) -> str:
    if float(number).is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(float(number))


def _mondrian_labels(low: np.ndarray, high: np.ndarray) -> list[str | None]:
    labels: list[str | None] = []
    # One Python step per partition, not per record.
    for lowest, highest in zip(low.tolist(), high.tolist(), strict=True):
        if not math.isfinite(lowest):
            labels.append(None)
        elif lowest == highest:
            labels.append(_format_number(lowest))
        else:
            labels.append(f"[{_format_number(lowest)}, {_format_number(highest)}]")
    return labels


def build_recode_table(
    table: StatisticsTable,
    levels: Sequence[AttributeLevels],
    best: NodeEvaluation,
    missing_values: Sequence[str] = (),
) -> RecodeTable:
    """Turn the chosen node (and its Mondrian partitions) into a recode table."""
    recode = RecodeTable(table.quasi_identifiers, pl.DataFrame(), missing_values)
    columns: dict[str, pl.Series] = {}
    for index, name in enumerate(table.quasi_identifiers):
        columns[recode.keys[index]] = table.raw.get_column(name).alias(recode.keys[index])
    lattice = [i for i, level in enumerate(levels) if not level.mondrian]
    for index, level in enumerate(levels):
        if level.mondrian:
            labels = _mondrian_row_labels(table, level, index, best)
        else:
            height = best.node[lattice.index(index)]
            generalized = level.codes[height][table.codes[:, index]]
            labels = level.labels[height].gather(pl.Series(generalized))
        columns[recode.labels[index]] = labels.alias(recode.labels[index])
    columns[_KEPT] = pl.Series(_KEPT, best.kept_rows)
    recode.frame = pl.DataFrame(columns)
    return recode


def _mondrian_row_labels(
    table: StatisticsTable, level: AttributeLevels, index: int, best: NodeEvaluation
) -> pl.Series:
    """Label each statistics-table row with its partition's interval; null when suppressed or missing."""
    assert best.mondrian is not None
    partition = best.mondrian.row_partition
    per_partition = _mondrian_labels(best.mondrian.low[index], best.mondrian.high[index])
    is_value = level.values.is_not_null().to_numpy()[table.codes[:, index]]
    labeled = (partition >= 0) & is_value
    if not per_partition:
        return pl.Series([None] * table.rows, dtype=pl.String)
    gathered = pl.Series(per_partition, dtype=pl.String).gather(pl.Series(np.maximum(partition, 0)))
    return pl.select(
        pl.when(pl.lit(pl.Series(labeled))).then(pl.lit(gathered)).otherwise(None)
    ).to_series()


def _keep_records(batch: Batch, keep: np.ndarray) -> Batch:
    """Remove the records of a batch where ``keep`` is False."""
    if keep.all():
        return batch
    if isinstance(batch, CsvBatch | FrameBatch):
        batch.data = batch.data.filter(pl.Series(keep))
        return batch
    if isinstance(batch, JsonBatch):
        batch.records = [record for record, kept in zip(batch.records, keep, strict=True) if kept]
        return batch
    # NOTE: maskme.formats.base.Batch has no method to remove records, so each
    # known batch type is handled here; a new format needs a branch too.
    raise MaskMeError(
        f"cannot remove records from a {type(batch).__name__} batch: anonymize supports CSV, "
        "JSON, JSONL and DataFrame input"
    )


def transform_batch(batch: Batch, plan: Plan, recode: RecodeTable, matched: set[str]) -> tuple[Batch, int]:
    """Apply the plan's strategies, recode the quasi-identifiers and drop suppressed records.

    Returns the batch and the number of records removed from it.
    """
    # Strategies on the quasi-identifiers ran before pass one counted them, so
    # they run first here too.
    apply_plan(plan, batch, matched)
    paths = [parse_field_path(name) for name in recode.quasi_identifiers]
    found = recode.lookup(batch.frame(paths))
    keep = found.get_column(_KEPT).to_numpy()
    for index, path in enumerate(paths):
        original = batch.field_values(path)
        if original is None:
            continue
        labels = found.get_column(recode.labels[index])
        if original.record_index is not None:
            if np.unique(original.record_index).size != original.record_index.size:
                raise MaskMeError(
                    f"quasi-identifier `{path.text}` has several values in one record; a "
                    "quasi-identifier needs one value per record"
                )
            labels = labels.gather(pl.Series(original.record_index))
        # An empty string or a declared missing text stays as it came, as a null does.
        values = original.values.cast(pl.String)
        missing = pl.select(
            missing_text(pl.lit(values), recode.missing_values).fill_null(False)
        ).to_series()
        labels = pl.select(
            pl.when(pl.lit(missing)).then(pl.lit(values)).otherwise(pl.lit(labels))
        ).to_series()
        batch.set_field_values(path, original, labels, keeps_type=False)
    return _keep_records(batch, keep), int((~keep).sum())


@contextmanager
def staged_output(destination: str | Path) -> Iterator[Path]:
    """Yield a temporary path whose content reaches ``destination`` only on success.

    The content then goes where the masking engine would put it (standard
    output, a device or FIFO, or a regular file renamed into place), with the
    same checks and errors.
    """
    handle, name = tempfile.mkstemp(prefix="maskme-anonymize-")
    os.close(handle)
    staged = Path(name)
    try:
        yield staged
        if str(destination) == "-":
            with staged.open("rb") as stream:
                shutil.copyfileobj(stream, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        else:
            with atomic_output(Path(destination)) as target, staged.open("rb") as stream:
                shutil.copyfileobj(stream, target, 1 << 20)
    finally:
        staged.unlink(missing_ok=True)


def _observe(plan: Plan, opened: Input, batch_size: int) -> None:
    if plan.two_pass:
        for batch in opened.reader.batches(batch_size):
            observe_plan(plan, batch)


def write_output(
    opened: Input,
    plan: Plan,
    recode: RecodeTable,
    staged: Path,
    batch_size: int,
    dialect: CsvDialect | None = None,
) -> tuple[int, int]:
    """Write the transformed records of ``opened`` to ``staged`` in the input's format.

    ``dialect`` is the CSV output's, the input's when None. The output is in
    the input's encoding, as ``maskme mask`` writes it. Returns the numbers
    of records written and removed.
    """
    _observe(plan, opened, batch_size)
    matched: set[str] = set()
    written = 0
    removed = 0
    with staged.open("wb") as raw:
        stream = encoded_output(raw, opened.encoding)
        writer = create_writer(stream, str(opened.format), dialect=dialect or opened.dialect)
        for batch in opened.reader.batches(batch_size):
            kept, dropped = transform_batch(batch, plan, recode, matched)
            writer.write(kept)
            written += kept.length
            removed += dropped
        writer.finish()
    return written, removed


def transform_to_frame(
    opened: Input, plan: Plan, recode: RecodeTable, batch_size: int
) -> tuple[pl.DataFrame, int]:
    """Transform a DataFrame source, and return the output frame and the number of records removed."""
    _observe(plan, opened, batch_size)
    matched: set[str] = set()
    parts: list[pl.DataFrame] = []
    removed = 0
    for batch in opened.reader.batches(batch_size):
        kept, dropped = transform_batch(batch, plan, recode, matched)
        assert isinstance(kept, FrameBatch)
        parts.append(kept.data)
        removed += dropped
    frame = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    return frame, removed

