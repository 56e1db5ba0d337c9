"""``maskme.anonymization``: meet a policy's privacy targets with the least information loss.

The run has two passes over the input. Pass one reads only the
quasi-identifiers and sensitive attributes and counts the equivalence classes
(memory bounded by distinct quasi-identifier combinations). The search then
chooses generalization levels, Mondrian intervals and the records to suppress
from those counts alone. Pass two streams the input again and writes the
output. Finally the written output is measured afresh with the measurement
layer; if it missed a target, nothing is written.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from maskme.anonymization.evaluation import Evaluator, NodeEvaluation
from maskme.anonymization.levels import AttributeLevels, build_levels
from maskme.anonymization.output import (
    build_recode_table,
    staged_output,
    transform_to_frame,
    write_output,
)
from maskme.anonymization.search import SearchOutcome, search
from maskme.anonymization.table import StatisticsTable, build_table
from maskme.anonymization.targets import TargetOutcome, measure_targets
from maskme.engine.local import apply_plan, observe_plan
from maskme.engine.plan import build_plan
from maskme.errors import (
    FormatError,
    MaskMeError,
    PolicyError,
    PolicyProblem,
    PrivacyTargetError,
    UsageError,
)
from maskme.formats import (
    detect_format,
    format_hint,
    open_input,
    read_field_batches,
    resolve_batch_size,
)
from maskme.formats.csv import with_delimiter
from maskme.metrics.classes import ClassStatistics
from maskme.metrics.measure import measure
from maskme.metrics.measurement import (
    Measurement,
    SensitiveAttributeSpec,
    sensitive_attribute_specs,
)
from maskme.policy.model import Policy, load_policy
from maskme.policy.paths import parse_field_path
from maskme.policy.privacy import PrivacyTargets, QuasiIdentifierRule

__all__ = ["AnonymizationResult", "anonymize", "plan_anonymization"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AnonymizationResult:
    """Outcome of ``anonymize``: the chosen generalization, the output and the values it reaches.

    Attributes
    ----------
    levels
        The generalization level chosen for each quasi-identifier
        (``"mondrian"`` for one recoded by Mondrian partitioning).
    records
        Records read.
    suppressed_records
        Records removed from the output (records whose quasi-identifiers were
        all ``*`` in the input included).
    targets
        Every privacy target with the value the written output reaches,
        measured afresh from the output.
    metric, utility
        The utility metric the search minimized and its value for the output.
    information_loss
        The loss measure (mean normalized certainty penalty over
        quasi-identifiers and records, a removed record counting 1).
    discernibility, average_class_size
        The other utility metrics of the output.
    nodes_evaluated, lattice_size
        Lattice nodes the search evaluated, of all nodes.
    elapsed_seconds
        Wall time of the whole run.
    measurement
        The measurement of the written output (not in ``to_dict``; its own
        ``to_dict`` is under ``"measurement"``).
    frame
        The output DataFrame when the source was a DataFrame.
    """

    levels: dict[str, int | str]
    records: int
    suppressed_records: int
    targets: tuple[TargetOutcome, ...]
    metric: str
    utility: float
    information_loss: float
    discernibility: float
    average_class_size: float | None
    nodes_evaluated: int
    lattice_size: int
    elapsed_seconds: float
    destination: str | None = None
    measurement: Measurement | None = field(default=None, repr=False, compare=False)
    frame: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report: plain types only, and no data value."""
        report: dict[str, Any] = {
            "levels": dict(self.levels),
            "records": self.records,
            "suppressed_records": self.suppressed_records,
            "suppressed_share": self.suppressed_records / self.records if self.records else 0.0,
            "targets": [outcome.to_dict() for outcome in self.targets],
            "metric": self.metric,
            "utility": self.utility,
            "information_loss": self.information_loss,
            "discernibility": self.discernibility,
            "average_class_size": self.average_class_size,
            "nodes_evaluated": self.nodes_evaluated,
            "lattice_size": self.lattice_size,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "destination": self.destination,
        }
        if self.measurement is not None:
            report["measurement"] = self.measurement.to_dict()
        return report


@dataclass(frozen=True, kw_only=True)
class AnonymizationPlan:
    """Pass one and the search: the statistics, the levels and the search's outcome."""

    policy: Policy
    targets: PrivacyTargets
    quasi_identifiers: tuple[str, ...]
    sensitive_attributes: tuple[SensitiveAttributeSpec, ...]
    table: StatisticsTable
    levels: tuple[AttributeLevels, ...]
    evaluator: Evaluator
    outcome: SearchOutcome


def _policy_problem(policy: Policy, message: str, *path: str) -> PolicyProblem:
    return PolicyProblem(
        message=message, path=".".join(path), line=policy.line_of(*path), source=policy.source
    )


def _resolve(policy: Policy) -> tuple[PrivacyTargets, dict[str, QuasiIdentifierRule], list[SensitiveAttributeSpec]]:
    problems: list[PolicyProblem] = []
    targets = policy.privacy
    if not isinstance(targets, PrivacyTargets) or not targets.has_targets:
        problems.append(
            _policy_problem(
                policy,
                "anonymize needs privacy targets: add a privacy section such as "
                "'privacy: {k: 5, suppression_limit: 0.05}'",
                "privacy",
            )
        )
    if not policy.quasi_identifiers:
        problems.append(
            _policy_problem(
                policy,
                "anonymize needs quasi-identifiers: list them under quasi_identifiers, "
                "with a hierarchy, intervals or mondrian rule for each one to generalize",
                "quasi_identifiers",
            )
        )
    rules: dict[str, QuasiIdentifierRule] = {}
    for name in policy.quasi_identifiers:
        rule = policy.quasi_identifier_rules.get(name)
        rules[name] = rule if isinstance(rule, QuasiIdentifierRule) else QuasiIdentifierRule()
    specs = sensitive_attribute_specs(dict(policy.sensitive_attributes), base_dir=policy.base_dir)

    # A strategy in fields: runs before the search, which then works on its
    # output; one that removes the field leaves nothing to count.
    for name in [*rules, *(spec.name for spec in specs)]:
        rule_for_field = policy.fields.get(name)
        if rule_for_field is not None and rule_for_field.strategy_class.removes_field:
            kind = "quasi-identifier" if name in rules else "sensitive attribute"
            problems.append(
                _policy_problem(
                    policy,
                    f"field `{name}` is a {kind}, but strategy '{rule_for_field.strategy}' "
                    "removes it; remove its entry from fields or from the "
                    f"{'quasi_identifiers' if name in rules else 'sensitive_attributes'}",
                    "fields",
                    name,
                )
            )
    if problems:
        raise PolicyError(problems)
    assert isinstance(targets, PrivacyTargets)
    return targets, rules, specs


def plan_anonymization(
    source: str | Path | Any,
    policy: str | Path | Policy | dict[str, Any],
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    batch_size: int | None = None,
    exhaustive: bool = False,
    seed: int | None = None,
) -> AnonymizationPlan:
    """Run pass one and the search, without writing anything.

    ``exhaustive`` evaluates every lattice node (no pruning), for checks.
    ``seed`` is the run seed that strategies on quasi-identifiers and
    sensitive attributes draw from; pass two must use the same one.
    """
    resolved = load_policy(policy)
    targets, rules, specs = _resolve(resolved)
    names = list(rules)
    statistics = ClassStatistics(names, [spec.name for spec in specs], resolved.missing_values)
    fields = [*names, *(spec.name for spec in specs)]
    for batch in _pass_one_batches(
        source, resolved, fields, format=format, delimiter=delimiter, encoding=encoding,
        batch_size=batch_size, seed=seed,
    ):
        statistics.update(batch)
    table = build_table(statistics.result(), specs)
    levels = tuple(
        build_levels(
            name,
            table.values[index],
            rules[name],
            base_dir=Path(resolved.base_dir),
            policy_source=resolved.source,
            missing_values=resolved.missing_values,
        )
        for index, name in enumerate(names)
    )
    evaluator = Evaluator(table, list(levels), targets)
    outcome = search(evaluator, exhaustive=exhaustive)
    logger.info(
        "searched %d of %d lattice nodes over %d distinct quasi-identifier combinations",
        outcome.nodes_evaluated,
        outcome.lattice_size,
        table.rows,
    )
    return AnonymizationPlan(
        policy=resolved,
        targets=targets,
        quasi_identifiers=tuple(names),
        sensitive_attributes=tuple(specs),
        table=table,
        levels=levels,
        evaluator=evaluator,
        outcome=outcome,
    )


def _pass_one_batches(
    source: str | Path | Any,
    policy: Policy,
    fields: list[str],
    *,
    format: str | None,
    delimiter: str | None,
    encoding: str | None,
    batch_size: int | None,
    seed: int | None,
) -> Iterator[pl.DataFrame]:
    """Yield the quasi-identifiers and sensitive attributes of each batch, after their strategies.

    Without a strategy on those fields, only they are read. Otherwise each
    batch goes through the plan restricted to them, as pass two applies it.
    """
    transformed = [name for name in fields if name in policy.fields]
    if not any(policy.fields[name].strategy != "keep" for name in transformed):
        yield from read_field_batches(
            source, fields, format=format, batch_size=batch_size, delimiter=delimiter,
            encoding=encoding,
        )
        return
    size = resolve_batch_size(batch_size, format_hint(source, format))
    paths = [parse_field_path(name) for name in fields]
    with open_input(source, format=format, delimiter=delimiter, encoding=encoding) as opened:
        full = build_plan(policy, opened.reader.top_level_fields(), seed=seed)
        plan = replace(
            full,
            fields=tuple(planned for planned in full.fields if planned.path.text in transformed),
            keep_paths=None,
        )
        if plan.two_pass:
            for batch in opened.reader.batches(size):
                observe_plan(plan, batch)
        for batch in opened.reader.batches(size):
            apply_plan(plan, batch, set())
            yield batch.frame(paths)


def _no_node_message(plan: AnonymizationPlan) -> str:
    targets = plan.targets
    records = plan.table.records
    allowed = math.floor(targets.suppression_limit * records + 1e-9)
    closest = plan.outcome.closest
    detail = ""
    if closest is not None and closest.suppressed_records > allowed:
        detail = (
            f"; the best node tried needs {closest.suppressed_records:,} records suppressed "
            f"(a share of {closest.suppressed_records / records:.4g})"
            if records else ""
        )
    return (
        f"no generalization meets the privacy targets within the suppression limit "
        f"{targets.suppression_limit:g} ({allowed:,} of {records:,} records){detail}. "
        f"Searched {plan.outcome.nodes_evaluated:,} of {plan.outcome.lattice_size:,} lattice "
        "nodes. Raise suppression_limit, add generalization levels, or relax the targets; "
        "nothing was written"
    )


def anonymize(
    source: str | Path | Any,
    policy: str | Path | Policy | dict[str, Any],
    destination: str | Path | None = None,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    missing_values: Sequence[str] | None = None,
) -> AnonymizationResult:
    """Find and apply the generalization that meets the policy's privacy targets with the least loss.

    Parameters
    ----------
    source
        A CSV, JSON or JSONL file, ``"-"`` for standard input, or a Polars or
        pandas DataFrame (then ``destination`` is None and the result's
        ``frame`` is a DataFrame of the same kind).
    policy
        A policy (file path, YAML text, mapping or :class:`~maskme.policy.Policy`)
        with ``quasi_identifiers``, optional ``sensitive_attributes`` and a
        ``privacy`` section. Its other ``fields`` strategies are applied too.
    destination
        The output file, in the input's format, or ``"-"`` for standard output.
    missing_values
        Texts that mean a missing value (``["?"]``), in place of the policy's
        ``missing_values``. Such a value stays as it came and groups as a
        missing value, as an empty one does.

    Raises
    ------
    PrivacyTargetError
        No lattice node meets the targets within the suppression limit, or
        (which would be a bug) the written output misses a target when
        measured afresh. Nothing is written in either case.
    PolicyError
        The policy lacks targets or quasi-identifiers, or a rule is invalid.

    Notes
    -----
    Memory is bounded by the number of distinct quasi-identifier combinations
    (and batch size), not by the number of records. The output keeps the
    input's format, CSV dialect and text encoding.
    """
    started = time.perf_counter()
    size = resolve_batch_size(batch_size, format_hint(source, format))
    if missing_values is not None:
        policy = load_policy(policy).with_missing_values(missing_values)
    if destination is not None:
        from maskme.engine.local import check_output_extension, check_output_path, protected_files

        check_output_path(destination, protected_files(source, load_policy(policy)))
        check_output_extension(destination)
    with _readable_twice(source) as readable:
        try:
            return _anonymize(
                readable, policy, destination, started=started, format=format,
                delimiter=delimiter, encoding=encoding, batch_size=size, seed=seed,
            )
        except MaskMeError as error:
            if readable is not source:  # name standard input as the other commands do
                error.args = tuple(
                    argument.replace(str(readable), "<stdin>") if isinstance(argument, str)
                    else argument
                    for argument in error.args
                )
            raise


@contextmanager
def _readable_twice(source: str | Path | Any) -> Iterator[str | Path | Any]:
    """Yield the source, with standard input first copied to a temporary file for pass two."""
    if not isinstance(source, str | Path) or str(source) != "-":
        yield source
        return
    handle, name = tempfile.mkstemp(prefix="maskme-stdin-")
    try:
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _anonymize(
    source: str | Path | Any,
    policy: str | Path | Policy | dict[str, Any],
    destination: str | Path | None,
    *,
    started: float,
    format: str | None,
    delimiter: str | None,
    encoding: str | None,
    batch_size: int,
    seed: int | None,
) -> AnonymizationResult:
    size = batch_size
    # Strategies that draw randomness take it from the run seed, so both passes
    # must share one: a fresh one when the caller gives none.
    run_seed = seed if seed is not None else secrets.randbits(63)
    plan = plan_anonymization(
        source, policy, format=format, delimiter=delimiter, encoding=encoding, batch_size=size,
        seed=run_seed,
    )
    if plan.table.records == 0:
        raise MaskMeError("the input has no records, so there is nothing to anonymize; nothing was written")
    best = plan.outcome.best
    if best is None:
        raise PrivacyTargetError(_no_node_message(plan))
    recode = build_recode_table(plan.table, plan.levels, best, plan.policy.missing_values)

    opened = open_input(source, format=format, delimiter=delimiter, encoding=encoding)
    with opened:
        engine_plan = build_plan(plan.policy, opened.reader.top_level_fields(), seed=run_seed)
        if opened.format == "dataframe":
            frame, removed = transform_to_frame(opened, engine_plan, recode, size)
            _check_removed(removed, best)
            measurement = _measure_output(frame, plan)
            outcomes = _verify(plan, measurement, best)
            output_frame: Any = frame.to_pandas() if opened.frame_kind == "pandas" else frame
            result_destination = None
        else:
            if destination is None:
                raise UsageError("a destination is required when the source is a file; pass a path or '-'")
            _check_output_named_as_input(destination, opened.format)
            dialect = opened.dialect
            if (dialect is not None and str(destination) != "-"
                    and Path(destination).suffix.lower() == ".tsv"):
                dialect = with_delimiter(dialect, "\t")  # as mask names a .tsv output
            with staged_output(destination) as staged:
                _, removed = write_output(opened, engine_plan, recode, staged, size, dialect)
                _check_removed(removed, best)
                measurement = _measure_output(
                    staged, plan, format=str(opened.format), dialect=dialect, batch_size=size,
                    encoding=opened.encoding,
                )
                outcomes = _verify(plan, measurement, best)
            output_frame = None
            result_destination = str(destination)

    utilities = plan.evaluator.utilities(best)
    chosen: dict[str, int | str] = {}
    lattice = [index for index, level in enumerate(plan.levels) if not level.mondrian]
    for index, name in enumerate(plan.quasi_identifiers):
        if plan.levels[index].mondrian:
            chosen[name] = "mondrian"
        else:
            chosen[name] = best.node[lattice.index(index)]
    elapsed = time.perf_counter() - started
    logger.info(
        "anonymized %d records: %d suppressed, levels %s, in %.2f s",
        plan.table.records, best.suppressed_records, chosen, elapsed,
    )
    return AnonymizationResult(
        levels=chosen,
        records=plan.table.records,
        suppressed_records=best.suppressed_records,
        targets=tuple(outcomes),
        metric=plan.targets.metric,
        utility=utilities[plan.targets.metric],
        information_loss=utilities["loss"],
        discernibility=utilities["discernibility"],
        average_class_size=(
            utilities["average_class_size"]
            if math.isfinite(utilities["average_class_size"]) else None
        ),
        nodes_evaluated=plan.outcome.nodes_evaluated,
        lattice_size=plan.outcome.lattice_size,
        elapsed_seconds=elapsed,
        destination=result_destination,
        measurement=measurement,
        frame=output_frame,
    )


def _check_removed(removed: int, best: NodeEvaluation) -> None:
    if removed != best.suppressed_records:
        raise MaskMeError(
            f"pass two removed {removed:,} records where the search planned "
            f"{best.suppressed_records:,}: the input changed between the two passes; "
            "run again on an input that does not change"
        )


def _check_output_named_as_input(destination: str | Path, input_format: str) -> None:
    """Reject an output whose extension names another format: anonymize writes the input's format."""
    path = Path(destination)
    if str(destination) == "-" or path.suffix.lower() in ("", ".txt"):
        return
    try:
        named = detect_format(path, None)
    except FormatError:
        return  # an extension of no format, such as .out
    if named != input_format:
        raise UsageError(
            f"anonymize writes its output in the input's format ({input_format.upper()}), but "
            f"the output is named {path.suffix}; name it for that format, or convert the "
            "result with maskme mask"
        )


def _measure_output(
    output: Path | pl.DataFrame,
    plan: AnonymizationPlan,
    *,
    format: str | None = None,
    dialect: Any = None,
    batch_size: int | None = None,
    encoding: str | None = None,
) -> Measurement:
    """Measure the written output afresh, from the file (or frame) itself."""
    delimiter = getattr(dialect, "delimiter", None)
    if delimiter is not None and dialect.skip_initial_space:
        delimiter += " "  # the writer put a space after each delimiter
    try:
        return measure(
            output,
            quasi_identifiers=list(plan.quasi_identifiers),
            sensitive_attributes=list(plan.sensitive_attributes),
            format=format,
            delimiter=delimiter,
            encoding=encoding,
            batch_size=batch_size,
            k=plan.targets.k,
            # Suppression may remove every record that has a field, which is no misspelling.
            fields_required=False,
            missing_values=plan.policy.missing_values,
        )
    except FormatError as error:
        raise MaskMeError(f"cannot measure the written output: {error}") from None


def _verify(
    plan: AnonymizationPlan, measurement: Measurement, best: NodeEvaluation
) -> list[TargetOutcome]:
    """Check the measured output against the targets, and raise when one is missed."""
    outcomes = measure_targets(
        measurement, plan.targets, sensitive_attributes=plan.sensitive_attributes
    )

    # The output holds only kept records, so the suppression share comes from
    # the plan's count of removed records.
    records = plan.table.records
    share = best.suppressed_records / records if records else 0.0
    limit = plan.targets.suppression_limit
    outcomes = [outcome for outcome in outcomes if outcome.target != "suppression_limit"]
    outcomes.append(
        TargetOutcome(
            target="suppression_limit",
            attribute=None,
            required=limit,
            achieved=share,
            met=share <= limit + 1e-12,
            message=(
                f"suppressed share = {share:.4g} ({best.suppressed_records:,} of {records:,} "
                f"records), limit {limit:g}"
            ),
        )
    )

    misses = [outcome for outcome in outcomes if not outcome.met]
    if misses:
        details = "; ".join(outcome.message for outcome in misses)
        raise PrivacyTargetError(
            f"the written output misses a privacy target when measured afresh ({details}); "
            "nothing was written. This is a bug in the anonymization search: please report it"
        )
    return outcomes
