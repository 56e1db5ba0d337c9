"""The public ``maskme.mask`` function and the run the ``maskme mask`` command makes.

Both go through the local engine. Measuring the output (``report``), comparing
it with the input (``compare``) and checking the policy's privacy targets are
done while the output streams, before it is moved into place: a run that
misses a target writes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maskme.engine import ProgressCallback, RunResult
from maskme.engine import mask as run_mask
from maskme.engine.local import add_input_problems, check_output_path, protected_files
from maskme.errors import FormatError, MaskMeError, PolicyError, UsageError
from maskme.formats import atomic_output
from maskme.formats.frame import is_dataframe
from maskme.policy.model import Policy, load_policy

__all__ = ["mask", "mask_file"]


def mask(
    source: Any,
    policy: str | Path | Policy | dict[str, Any],
    destination: str | Path | None = None,
    **options: Any,
) -> Any:
    """Anonymize ``source`` with ``policy``.

    Parameters
    ----------
    source
        A CSV, JSON or JSONL file path, ``"-"`` for standard input, or a pandas
        or Polars DataFrame.
    policy
        A :class:`Policy`, a path to a policy file, YAML text, or a mapping.
    destination
        Output path or ``"-"`` for standard output. Leave it out for a
        DataFrame source: the result is then returned as a DataFrame of the
        same kind.
    **options
        ``format``, ``output_format``, ``delimiter``, ``output_delimiter``,
        ``encoding``, ``batch_size``, ``seed``, ``progress``, ``report``
        (path of a JSON report), ``compare`` (measure the input too),
        ``missing_values`` (texts that mean a missing value, in place of the
        policy's).

    Returns
    -------
    DataFrame or RunResult
        The masked DataFrame for a DataFrame source; otherwise the run's summary.
    """
    result = mask_file(source, policy, destination, **options)
    if is_dataframe(source):
        return result.frame
    return result


def mask_file(
    source: Any,
    policy: str | Path | Policy | dict[str, Any],
    destination: str | Path | None,
    *,
    report: str | Path | None = None,
    compare: bool = False,
    progress: ProgressCallback | None = None,
    missing_values: Sequence[str] | None = None,
    **options: Any,
) -> RunResult:
    """Run the engine, measuring and checking privacy targets when the policy or the caller requests it.

    ``missing_values``, when given, replaces the policy's.
    """
    try:
        resolved = load_policy(policy)
        if missing_values is not None:
            resolved = resolved.with_missing_values(missing_values)
    except PolicyError as error:
        raise add_input_problems(
            error, source, options.get("format"), options.get("delimiter"), options.get("encoding")
        ) from None
    if (report is not None or compare) and not resolved.quasi_identifiers:
        raise UsageError(
            "--report and --compare measure equivalence classes, so the policy needs "
            "quasi_identifiers; list them in the policy (for example quasi_identifiers: [age, zip])"
        )
    if report is not None:
        check_report_path(report, source, destination, resolved)
    observers: list[Any] = []
    measurement = _measurement_for(resolved, report is not None or resolved.privacy is not None, compare)
    if measurement is not None:
        observers.append(measurement)

    def check(result: RunResult) -> None:
        if measurement is None:
            return
        result.measurement = measurement.result()
        if resolved.privacy is not None:
            _check_targets(result, resolved, measurement)

    result = run_mask(
        source,
        resolved,
        destination,
        progress=progress,
        observers=observers,
        check=check,
        **options,
    )
    if report is not None:
        try:
            write_report(report, result)
        except FormatError as error:
            raise FormatError(f"{error}; the output was written") from None
    return result


def check_report_path(
    report: str | Path, source: Any, destination: Any, policy: str | Path | Policy | dict[str, Any]
) -> None:
    """Raise UsageError when the report would overwrite an input, the output, or land nowhere."""
    policy = load_policy(policy)
    if str(report) == "-":
        if destination is not None and str(destination) == "-":
            raise UsageError("the report and the output cannot both go to standard output")
        return
    protected = protected_files(source, policy)
    if destination is not None and str(destination) != "-":
        protected["the output file"] = Path(destination)
    check_output_path(report, protected, what="report")
    path = Path(report)
    if path.is_dir():
        raise UsageError(f"the report {path} is a folder; give a file path")
    if not path.resolve().parent.is_dir():
        raise UsageError(f"the report's folder {path.resolve().parent} does not exist")


class _MeasurementObserver:
    """Feeds a run's batches to :class:`maskme.metrics.RunMeasurement`."""

    def __init__(self, policy: Policy, compare: bool) -> None:
        from maskme.metrics import RunMeasurement
        from maskme.policy.paths import parse_field_path

        # Fields inside arrays have several values per record, so they get no field measure.
        measured = {
            path: rule.strategy
            for path, rule in policy.fields.items()
            if not parse_field_path(path).walks_arrays
        }
        private = [*policy.quasi_identifiers, *policy.sensitive_attributes]
        targets = policy.privacy
        self.measurement = RunMeasurement(
            policy.quasi_identifiers,
            policy.sensitive_attributes or None,
            measured,
            compare,
            base_dir=policy.base_dir,
            k=getattr(targets, "k", None),
            missing_values=policy.missing_values,
        )
        kept_fields = [p for p, rule in measured.items() if not rule_removes(rule)]
        self.fields_before = _unique([*private, *measured])
        self.fields_after = _unique([*private, *kept_fields])

    def update(self, before: Any, after: Any) -> None:
        self.measurement.update(before, after)

    def result(self) -> Any:
        return self.measurement.result()


def rule_removes(strategy_name: str) -> bool:
    """Return whether the named strategy removes its field."""
    from maskme.strategies import get_strategy

    return get_strategy(strategy_name).removes_field


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _measurement_for(policy: Policy, wanted: bool, compare: bool) -> _MeasurementObserver | None:
    if not wanted and not compare:
        return None
    return _MeasurementObserver(policy, compare)


def _check_targets(
    result: RunResult, policy: Policy, measurement: _MeasurementObserver
) -> None:
    from maskme.anonymization.targets import check_targets
    from maskme.errors import PrivacyTargetError

    misses = check_targets(
        result.measurement.output,
        policy.privacy,
        sensitive_attributes=measurement.measurement.specs,
    )
    result.target_misses = list(misses)
    if misses:
        lines = "\n  ".join(miss.message for miss in misses)
        raise PrivacyTargetError(f"privacy targets not met, so nothing was written:\n  {lines}")


def write_report(report: str | Path, result: Any) -> None:
    """Write a run's JSON report to a file (atomically) or, for ``-``, to standard output."""
    text = json.dumps(result.to_dict(), indent=2, default=str) + "\n"
    if str(report) == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # a reader that stopped early, as for any output to a pipe
        except (OSError, MaskMeError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise FormatError(f"cannot write the report to standard output: {reason}") from None
        return
    with atomic_output(Path(report), role="report") as stream:
        stream.write(text.encode("utf-8"))
