"""Measure a masking run while it streams: the output, and optionally input against output."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from maskme.errors import MaskMeError
from maskme.metrics._hierarchy import HierarchySource
from maskme.metrics._input import string_columns, to_polars
from maskme.metrics.classes import ClassStatistics
from maskme.metrics.measurement import (
    Measurement,
    SensitiveAttributesArgument,
    measure_classes,
    sensitive_attribute_specs,
)
from maskme.metrics.risk import DEFAULT_RISK_THRESHOLD
from maskme.metrics.utility import FieldAccumulator, field_accumulator

__all__ = ["RunMeasurement", "RunReport"]


@dataclass(frozen=True, kw_only=True)
class RunReport:
    """Measures of a masking run: what it bought in privacy and what it cost in utility.

    Attributes
    ----------
    output
        Privacy, risk and table utility of the output.
    input
        The same measures on the input, when the run was measured with
        ``compare=True``; None otherwise.
    fields
        Per transformed field, the utility measures of its strategy (see
        :mod:`maskme.metrics.utility`); empty without ``before`` batches.
    removed_records
        Records the run removed; the output counts them as suppressed.
    """

    output: Measurement
    input: Measurement | None
    fields: dict[str, dict[str, Any]]
    removed_records: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report."""
        return {
            "output": self.output.to_dict(),
            "input": self.input.to_dict() if self.input is not None else None,
            "removed_records": self.removed_records,
            "fields": self.fields,
        }


class RunMeasurement:
    """Accumulate the measures of a masking run, batch by batch.

    Parameters
    ----------
    quasi_identifiers
        Field paths that define the equivalence classes.
    sensitive_attributes
        As for :func:`maskme.measure`: names, or a mapping to kinds or to a
        policy's ``SensitiveAttribute``.
    field_strategies
        ``{field path: strategy name}`` for every field the run transforms.
        ``generalize`` is measured by information loss, ``noise`` by
        distribution change, every other strategy (``hash``, ``redact``,
        ``drop``, ...) by the share of distinct values kept.
    compare
        Also measure the privacy of the input, so the report shows input and
        output side by side.
    field_hierarchies
        ``{field path: hierarchy}`` of generalized fields, to report the
        level each record was generalized to.
    base_dir
        Folder that relative hierarchy paths are resolved against: the
        policy's ``base_dir``.
    k, l, risk_threshold
        As for :func:`maskme.measure`.
    population
        Population counts for the journalist risk of the output: a DataFrame
        with one column per quasi-identifier (with the output's generalized
        values) and a ``count`` column. The input is measured without it,
        because its classes have other values.
    missing_values
        Texts that count as missing values, as the empty string does: the
        policy's ``missing_values``.

    Notes
    -----
    Call ``update(before, after)`` once per batch, in any order:

    - ``before``: the batch as read, a DataFrame with ``String`` columns named
      by field path, or None when only the output is measured. It needs the
      quasi-identifiers and sensitive attributes (with ``compare``) and the
      fields of ``field_strategies`` (for field measures).
    - ``after``: the same records after the strategies, with the same
      column names; a dropped field is absent. A dropped quasi-identifier
      counts as ``*`` (suppressed) in every record, a dropped sensitive
      attribute as missing.
    - ``kept``: when the run removed records, a Boolean series over
      ``before``'s rows that is true for the records present in ``after``, in
      order. Removed records count as suppressed in the output.

    Then ``result()`` returns a :class:`RunReport`. Accumulators of runs on
    other partitions combine with ``merge``. Memory is bounded by the number
    of equivalence classes and, for field measures, of distinct values.
    """

    def __init__(
        self,
        quasi_identifiers: Sequence[str],
        sensitive_attributes: SensitiveAttributesArgument = None,
        field_strategies: Mapping[str, str] | None = None,
        compare: bool = False,
        *,
        field_hierarchies: Mapping[str, HierarchySource] | None = None,
        base_dir: str | Path | None = None,
        k: int | None = None,
        l: int | None = None,
        risk_threshold: float = DEFAULT_RISK_THRESHOLD,
        population: Any = None,
        missing_values: Sequence[str] = (),
    ) -> None:
        self.quasi_identifiers = list(quasi_identifiers)
        self.missing_values = tuple(missing_values)
        base = Path(base_dir) if base_dir is not None else None
        self.specs = sensitive_attribute_specs(sensitive_attributes, base_dir=base)
        self.field_strategies = dict(field_strategies or {})
        self.compare = compare
        self.k = k
        self.l = l
        self.risk_threshold = risk_threshold
        self.population = None
        if population is not None:
            fields = [*self.quasi_identifiers, "count"]
            self.population = string_columns(to_polars(population), fields)
        names = [spec.name for spec in self.specs]
        self._output = ClassStatistics(self.quasi_identifiers, names, self.missing_values)
        self._input = (
            ClassStatistics(self.quasi_identifiers, names, self.missing_values) if compare else None
        )
        hierarchies: dict[str, HierarchySource] = {}
        for path, hierarchy in (field_hierarchies or {}).items():
            if isinstance(hierarchy, str | Path) and base is not None:
                hierarchy = base / hierarchy
            hierarchies[path] = hierarchy
        self._fields: dict[str, FieldAccumulator] = {
            path: field_accumulator(strategy, hierarchies.get(path))
            for path, strategy in self.field_strategies.items()
        }
        self._removed = 0

    def update(self, before: Any | None, after: Any, *, kept: pl.Series | None = None) -> None:
        """Add one batch; see the class Notes for the arguments."""
        after_frame = to_polars(after)
        written = set(after_frame.columns)
        after_frame = self._with_dropped_fields(after_frame)
        before_frame = to_polars(before) if before is not None else None
        if before_frame is not None:
            before_frame = self._align(before_frame, after_frame, kept)
        self._output.update(after_frame)
        if self._input is not None:
            if before is None:
                raise MaskMeError(
                    "comparing input and output needs the input batch: pass `before` to update"
                )
            self._input.update(to_polars(before))
        if before_frame is None:
            return
        for path, accumulator in self._fields.items():
            old = string_columns(before_frame, [path], self.missing_values).to_series()
            new = None
            if path in written:
                new = string_columns(after_frame, [path], self.missing_values).to_series()
            accumulator.update(old, new)

    def merge(self, other: RunMeasurement) -> None:
        """Add the batches measured by ``other``, built with the same arguments."""
        self._output.merge(other._output)
        if self._input is not None and other._input is not None:
            self._input.merge(other._input)
        for path, accumulator in self._fields.items():
            accumulator.merge(other._fields[path])
        self._removed += other._removed

    def result(self) -> RunReport:
        """Return the report of the batches seen so far."""
        options: dict[str, Any] = {
            "k": self.k,
            "l": self.l,
            "risk_threshold": self.risk_threshold,
        }
        output_classes = self._output.result()
        output_classes = dataclasses.replace(
            output_classes, suppressed_records=output_classes.suppressed_records + self._removed
        )
        input_measurement = None
        if self._input is not None:
            input_measurement = measure_classes(self._input.result(), self.specs, **options)
        return RunReport(
            output=measure_classes(
                output_classes, self.specs, population=self.population, **options
            ),
            input=input_measurement,
            fields={path: accumulator.result() for path, accumulator in self._fields.items()},
            removed_records=self._removed,
        )

    def _with_dropped_fields(self, after: pl.DataFrame) -> pl.DataFrame:
        """Add the quasi-identifiers (as ``*``) and sensitive attributes (as null) a run dropped."""
        missing = [
            pl.lit("*", dtype=pl.String).alias(name)
            for name in self.quasi_identifiers
            if name not in after.columns
        ]
        missing += [
            pl.lit(None, dtype=pl.String).alias(spec.name)
            for spec in self.specs
            if spec.name not in after.columns
        ]
        return after.with_columns(missing) if missing else after

    def _align(
        self, before: pl.DataFrame, after: pl.DataFrame, kept: pl.Series | None
    ) -> pl.DataFrame:
        """Return the rows of ``before`` that are in ``after``, counting removed records."""
        if kept is None:
            if before.height != after.height:
                raise MaskMeError(
                    f"the output batch has {after.height} records and the input batch "
                    f"{before.height}: pass `kept` to say which input records were kept"
                )
            return before
        if kept.len() != before.height:
            raise MaskMeError(
                f"`kept` has {kept.len()} entries for an input batch of {before.height} records"
            )
        kept_count = int(kept.sum())
        if kept_count != after.height:
            raise MaskMeError(
                f"`kept` marks {kept_count} records as kept but the output batch has {after.height}"
            )
        self._removed += before.height - kept_count
        return before.filter(kept)
