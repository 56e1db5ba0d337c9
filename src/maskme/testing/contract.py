"""The contract every strategy, built-in or custom, must meet, as runnable checks.

Each ``check_*`` function takes a :class:`StrategyCase` (the strategy class,
params and sample values), raises :class:`ContractViolation` when the
strategy breaks the contract, and returns a reason string when the check does
not apply to this strategy (None when it passed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import re
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import polars as pl
import pydantic

from maskme.errors import MaskMeError
from maskme.strategies.base import (
    BatchView,
    InvalidValues,
    Strategy,
    StrategyParams,
    record_error_from,
)
from maskme.strategies.registry import StrategyParamsError
from maskme.testing.harness import batch_view, make_strategy, run_strategy, string_column

__all__ = [
    "CHECKS",
    "CheckResult",
    "ContractViolation",
    "StrategyCase",
    "check_batch_size_independent",
    "check_declared_properties",
    "check_deterministic",
    "check_keeps_type",
    "check_no_value_in_errors",
    "check_nulls_stay_null",
    "check_params_model",
    "check_same_length",
    "check_strategy",
    "check_two_pass_lifecycle",
]

MARKER_PLACEHOLDER = "{marker}"


class ContractViolation(AssertionError):
    """Raised when a strategy breaks the contract; the message names the rule and the case."""


@dataclass(frozen=True, kw_only=True)
class StrategyCase:
    """A strategy with params and sample values, the input of every contract check.

    ``values`` are valid, present sample values (at least two; more distinct
    values make the checks stronger). ``invalid_values`` are values the
    strategy cannot handle. In each, ``{marker}`` is replaced by a unique
    string, or the marker is appended when there is no placeholder. The marker
    must not appear in any error or log record. ``other_columns`` give
    the values of fields the strategy reads through ``BatchView.column`` (for
    ``consistent_by``); they are repeated to the length each check needs.
    """

    strategy: type[Strategy]
    values: Sequence[str]
    params: Mapping[str, Any] = field(default_factory=dict)
    invalid_values: Sequence[str] = ()
    key: bytes | None = None
    seed: int | None = None
    other_columns: Mapping[str, Sequence[str | None]] = field(default_factory=dict)
    base_dir: Path | None = None
    field_path: str = "field"
    #: Check determinism and batch-size independence even though the class does not
    #: declare ``deterministic`` (for params that make it so, such as a noise seed).
    expect_deterministic: bool | None = None

    def is_deterministic(self) -> bool:
        """Return whether the checks may expect the same output for the same input."""
        if self.expect_deterministic is not None:
            return self.expect_deterministic
        return bool(self.strategy.deterministic)

    def build(self, params: Mapping[str, Any] | None = None) -> Strategy:
        """Return a fresh strategy instance (optionally with other params)."""
        return make_strategy(
            self.strategy,
            self.params if params is None else params,
            field_path=self.field_path,
            key=self.key,
            seed=self.seed,
            base_dir=self.base_dir,
        )

    def others(self, length: int) -> dict[str, list[str | None]]:
        """Return the other columns repeated or cut to ``length`` values."""
        repeated: dict[str, list[str | None]] = {}
        for name, values in self.other_columns.items():
            if not values:
                raise ValueError(f"other column `{name}` has no values")
            repeated[name] = [values[i % len(values)] for i in range(length)]
        return repeated

    def run(
        self,
        values: Sequence[str | None],
        *,
        batch_sizes: Sequence[int] | int | None = None,
        strategy: Strategy | None = None,
    ) -> list[pl.Series]:
        """Run a fresh instance (or ``strategy``) over ``values``; return each batch's output."""
        instance = strategy if strategy is not None else self.build()
        try:
            return run_strategy(
                instance,
                values,
                batch_sizes=batch_sizes,
                other_columns=self.others(len(values)),
            )
        except InvalidValues as error:
            raise ContractViolation(
                f"the strategy rejected sample values as not {error.expected} "
                f"({len(error.positions)} in a batch); give only valid values in `values` "
                "and put invalid ones in `invalid_values`"
            ) from None


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """The outcome of one check: passed, skipped (with the reason) or failed (with the violation)."""

    check: str
    outcome: Literal["passed", "skipped", "failed"]
    detail: str = ""


# --- helpers ----------------------------------------------------------------------


def _with_nulls(values: Sequence[str]) -> list[str | None]:
    """Put nulls first, last and after every second value, so every batching meets some."""
    mixed: list[str | None] = [None]
    for index, value in enumerate(values):
        mixed.append(value)
        if index % 2 == 1:
            mixed.append(None)
    mixed.append(None)
    return mixed


def _one(outputs: list[pl.Series]) -> pl.Series:
    return outputs[0]


def _require_series(output: object, *, where: str) -> pl.Series:
    if not isinstance(output, pl.Series):
        raise ContractViolation(
            f"{where}: apply returned {type(output).__name__}, expected a polars Series"
        )
    return output


def _describe_difference(expected: pl.Series, actual: pl.Series) -> str:
    """Name the first differing position without showing the values (they may be data)."""
    if len(expected) != len(actual):
        return f"lengths differ ({len(expected)} and {len(actual)})"
    if expected.dtype != actual.dtype:
        return f"dtypes differ ({expected.dtype} and {actual.dtype})"
    for index, (left, right) in enumerate(zip(expected.to_list(), actual.to_list(), strict=True)):
        if left != right:
            return f"first difference at position {index}"
    return "no difference"


def _differs(expected: pl.Series, actual: pl.Series) -> bool:
    return expected.dtype != actual.dtype or not expected.equals(actual, null_equal=True)


_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def value_kind(value: str) -> str:
    """Classify a text value as ``number``, ``date``, ``datetime``, ``boolean`` or ``string``."""
    text = value.strip()
    if _INTEGER.fullmatch(text) or _DECIMAL.fullmatch(text):
        return "number"
    if text.lower() in {"true", "false"}:
        return "boolean"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        with contextlib.suppress(ValueError):
            dt.date.fromisoformat(text)
            return "date"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
        with contextlib.suppress(ValueError):
            dt.datetime.fromisoformat(text)
            return "datetime"
    return "string"


class _RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self._formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self._formatter.format(record))


@contextlib.contextmanager
def _capture_reports() -> Iterator[list[str]]:
    """Collect every log record (any logger, any level), warning and print of the block."""
    texts: list[str] = []
    handler = _RecordingHandler()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    printed_out, printed_err = io.StringIO(), io.StringIO()
    caught: list[warnings.WarningMessage] = []
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(printed_out),
            contextlib.redirect_stderr(printed_err),
        ):
            warnings.simplefilter("always")
            yield texts
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        texts.extend(handler.texts)
        texts.extend(str(warning.message) for warning in caught)
        texts.extend([printed_out.getvalue(), printed_err.getvalue()])


def _exception_texts(error: BaseException) -> list[str]:
    """Collect every text an error carries: message, repr, args, notes and its cause chain."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.extend([str(current), repr(current), *map(repr, current.args)])
        texts.extend(getattr(current, "__notes__", []))
        current = current.__cause__ or current.__context__
    return texts


# --- checks -----------------------------------------------------------------------


def check_params_model(case: StrategyCase) -> str | None:
    """Check that Params is a frozen StrategyParams that rejects unknown names and has a schema."""
    model = case.strategy.Params
    if not (isinstance(model, type) and issubclass(model, StrategyParams)):
        raise ContractViolation(f"Params must subclass maskme.StrategyParams, got {model!r}")
    try:
        params = model.model_validate(dict(case.params))
    except pydantic.ValidationError as error:
        raise ContractViolation(
            f"the case's params do not validate against {model.__qualname__}: "
            f"{error.error_count()} problems; fix the params given to the contract"
        ) from None
    if model.model_config.get("frozen") is not True:
        raise ContractViolation(f"{model.__qualname__} is not frozen; keep frozen=True")
    for name in model.model_fields:
        try:
            setattr(params, name, getattr(params, name))
        except (pydantic.ValidationError, TypeError, AttributeError):
            pass
        else:
            raise ContractViolation(f"{model.__qualname__}.{name} can be reassigned after validation")
    try:
        model.model_validate({**case.params, "zz_unknown_parameter": 1})
    except pydantic.ValidationError:
        pass
    else:
        raise ContractViolation(
            f"{model.__qualname__} accepts an unknown parameter name; keep extra='forbid'"
        )
    try:
        json.dumps(model.model_json_schema())
    except Exception as error:  # any schema generation failure is a violation
        raise ContractViolation(
            f"{model.__qualname__} has no JSON Schema ({type(error).__name__}); "
            "`maskme strategies` and policy editors need one"
        ) from error
    return None


def check_declared_properties(case: StrategyCase) -> str | None:
    """Check the name, the property flags and the docstring's Notes section."""
    cls = case.strategy
    if not isinstance(getattr(cls, "name", None), str) or not cls.name.isidentifier():
        raise ContractViolation(f"{cls.__qualname__}.name must be an identifier string")
    for flag in ("deterministic", "reversible", "keeps_type", "removes_field", "two_pass"):
        if not isinstance(getattr(cls, flag), bool):
            raise ContractViolation(f"{cls.__qualname__}.{flag} must be True or False")
    doc = cls.__doc__ or ""
    if not re.search(r"^\s*Notes\s*\n\s*-{3,}", doc, re.MULTILINE):
        raise ContractViolation(
            f"{cls.__qualname__} docstring has no Notes section; say there what privacy "
            "the strategy gives and what it does not"
        )
    if not isinstance(case.build().output_keeps_type(), bool):
        raise ContractViolation(f"{cls.__qualname__}.output_keeps_type() must return a bool")
    return None


def check_same_length(case: StrategyCase) -> str | None:
    """Check that the output has one value per input value, for the samples, one value and none."""
    for values in (list(case.values), list(case.values[:1]), []):
        output = _require_series(_one(case.run(values)), where=f"{len(values)} values")
        if len(output) != len(values):
            raise ContractViolation(
                f"apply returned {len(output)} values for {len(values)} input values"
            )
    return None


def check_nulls_stay_null(case: StrategyCase) -> str | None:
    """Check that nulls stay null and present values stay present.

    The engine reads null and the empty string as missing, so a present value
    must come out neither null nor empty. A strategy that removes the field is
    exempt from the second rule.
    """
    mixed = _with_nulls(case.values)
    output = _require_series(_one(case.run(mixed)), where="values with nulls")
    if len(output) != len(mixed):
        raise ContractViolation(f"apply returned {len(output)} values for {len(mixed)} input values")
    output_text = output.cast(pl.String)
    for index, (given, produced) in enumerate(zip(mixed, output_text.to_list(), strict=True)):
        if given is None and produced is not None:
            raise ContractViolation(f"position {index}: a null input came out as a value")
        if given is not None and not case.strategy.removes_field and produced in (None, ""):
            raise ContractViolation(
                f"position {index}: a present value came out missing (null or empty string)"
            )
    all_null = _require_series(_one(case.run([None, None, None])), where="all-null column")
    if all_null.null_count() != 3 or len(all_null) != 3:
        raise ContractViolation("a column of 3 nulls did not come out as 3 nulls")
    return None


def check_batch_size_independent(case: StrategyCase) -> str | None:
    """Check that cutting the column into batches, in several ways, changes no output value."""
    if not case.is_deterministic():
        return "the strategy is not declared deterministic, so outputs cannot be compared"
    mixed = _with_nulls(case.values)
    total = len(mixed)
    whole = _require_series(_one(case.run(mixed)), where="whole column")
    cuttings: list[Sequence[int] | int] = [
        1,
        2,
        3,
        [0, total],
        [1, total - 1],
        [total // 2, total - total // 2],
    ]
    for cutting in cuttings:
        outputs = case.run(mixed, batch_sizes=cutting)
        start = 0
        for number, output in enumerate(outputs):
            output = _require_series(output, where=f"batch {number + 1}")
            expected = whole.slice(start, len(output))
            start += len(output)
            if output.null_count() == len(output) and expected.null_count() == len(expected):
                continue  # an all-null batch may have its own dtype
            if _differs(expected, output):
                raise ContractViolation(
                    f"batches of {cutting}: batch {number + 1} differs from the same records "
                    f"processed as one column ({_describe_difference(expected, output)})"
                )
        if start != total:
            raise ContractViolation(f"batches of {cutting}: {start} values out, {total} in")
    return None


def check_deterministic(case: StrategyCase) -> str | None:
    """Check that fresh instances and repeated calls agree, when declared deterministic."""
    if not case.is_deterministic():
        return "the strategy is not declared deterministic"
    mixed = _with_nulls(case.values)
    first = _one(case.run(mixed))
    second = _one(case.run(mixed))
    if _differs(first, second):
        raise ContractViolation(
            f"two instances with the same params gave different output "
            f"({_describe_difference(first, second)})"
        )
    instance = case.build()
    once = _one(case.run(mixed, strategy=instance))
    column = string_column(mixed)
    again = instance.apply(column, _last_view(case, len(mixed)))
    if _differs(once, again):
        raise ContractViolation(
            "applying the same instance twice gave different output "
            f"({_describe_difference(once, again)}); apply must not change the instance"
        )
    return None


def _last_view(case: StrategyCase, length: int) -> BatchView:
    """Build the view of records 1 to ``length``, as for a column processed in one batch."""
    return batch_view(list(range(1, length + 1)), case.others(length))


def check_keeps_type(case: StrategyCase) -> str | None:
    """Check that a number stays a number and a date a date, when the instance keeps the type."""
    instance = case.build()
    if not instance.output_keeps_type():
        return "the strategy does not declare keeps_type for these params"
    output = _one(case.run(list(case.values))).cast(pl.String)
    for index, (given, produced) in enumerate(zip(case.values, output.to_list(), strict=True)):
        given_kind = value_kind(given)
        if given_kind == "string" or produced is None:
            continue
        produced_kind = value_kind(produced)
        if produced_kind != given_kind:
            raise ContractViolation(
                f"position {index}: a {given_kind} came out as a {produced_kind}, "
                "but the strategy declares keeps_type"
            )
    return None


def check_no_value_in_errors(case: StrategyCase) -> str | None:
    """Check that invalid values never show up in an exception, a log, a warning or a print.

    Each invalid value carries a unique marker. The strategy must reject it with
    :class:`InvalidValues` (positions of the bad values) or a MaskMeError, or
    accept it, and the marker must not appear anywhere it reports.
    """
    marker = f"zqx{uuid.uuid4().hex[:12]}"
    templates = list(case.invalid_values) or [MARKER_PLACEHOLDER]
    invalid = [
        template.replace(MARKER_PLACEHOLDER, marker)
        if MARKER_PLACEHOLDER in template
        else template + marker
        for template in templates
    ]
    invalid.append(case.values[0] + marker)
    columns = [[value] for value in invalid] + [list(case.values) + invalid]
    for params in _on_invalid_variants(case):
        for values in columns:
            _run_for_leaks(case, params, values, marker)
    return None


def _on_invalid_variants(case: StrategyCase) -> list[Mapping[str, Any]]:
    """List the case's params, plus one variant per ``on_invalid`` choice the model offers."""
    variants: list[Mapping[str, Any]] = [case.params]
    field_info = case.strategy.Params.model_fields.get("on_invalid")
    if field_info is not None:
        for choice in get_args(field_info.annotation):
            if isinstance(choice, str) and case.params.get("on_invalid") != choice:
                variants.append({**case.params, "on_invalid": choice})
    return variants


def _run_for_leaks(
    case: StrategyCase, params: Mapping[str, Any], values: list[str], marker: str
) -> None:
    try:
        strategy = case.build(params)
    except StrategyParamsError:
        return  # this on_invalid choice does not combine with the case's other params
    texts: list[str] = []
    with _capture_reports() as captured:
        try:
            outputs = run_strategy(strategy, values, other_columns=case.others(len(values)))
        except InvalidValues as error:
            texts.extend(_exception_texts(error))
            if not error.positions or not all(0 <= p < len(values) for p in error.positions):
                raise ContractViolation(
                    "InvalidValues must list 0-based positions inside the column"
                ) from None
            record_numbers = pl.Series(range(1, len(values) + 1))
            texts.extend(_exception_texts(record_error_from(error, record_numbers, case.field_path)))
        except MaskMeError as error:
            texts.extend(_exception_texts(error))
        except Exception as error:  # noqa: BLE001  (any other type is a violation)
            leaked = any(marker in text for text in _exception_texts(error))
            raise ContractViolation(
                f"apply raised {type(error).__name__} on invalid values"
                + (" and its message contains the value" if leaked else "")
                + "; raise InvalidValues with the positions instead"
            ) from None
        else:
            for output in outputs:
                _require_series(output, where="invalid values")
    texts.extend(captured)
    for text in texts:
        if marker in text:
            raise ContractViolation(
                "an input value appears in an error, log record, warning or printed output "
                f"(params {dict(params)})"
            )


def check_expression_matches_apply(case: StrategyCase) -> str | None:
    """Check that the strategy's Polars expressions give what apply gives, where not ``failed``.

    The engine runs a CSV file or a JSON batch through :meth:`Strategy.expression`
    and other inputs through :meth:`Strategy.apply`, so a difference would make
    the output depend on the file format.
    """
    instance = case.build()
    if instance.two_pass or instance.removes_field:
        return "two-pass and removing strategies run without expressions"
    if not case.is_deterministic():
        return "the output is not deterministic, so the two cannot be compared"
    try:
        described = instance.expression(pl.col("value"), pl.col("record"))
    except Exception as error:  # noqa: BLE001 - any error of a plugin is a contract failure
        raise ContractViolation(f"expression() raised {type(error).__name__}") from None
    if described is None:
        return "the strategy has no expressions for these parameters"
    values = _with_nulls(case.values)
    frame = pl.DataFrame({
        "value": pl.Series(values, dtype=pl.String),
        "record": pl.Series(range(1, len(values) + 1), dtype=pl.UInt64),
    }).lazy()
    for step, expression in described.steps:
        frame = frame.with_columns(expression.alias(step))
    failed = described.failed if described.failed is not None else pl.lit(False)
    try:
        computed = frame.select(
            described.value.cast(pl.String).alias("value"), failed.fill_null(False).alias("failed")
        ).collect()
    except pl.exceptions.PolarsError as error:
        raise ContractViolation(f"the expressions failed in Polars ({type(error).__name__})") from None
    applied = _require_series(_one(case.run(values)), where="values with nulls").cast(pl.String)
    for index, (given, by_expression, by_apply, skipped) in enumerate(zip(
        values, computed["value"].to_list(), applied.to_list(), computed["failed"].to_list(),
        strict=True,
    )):
        if given is None or skipped:
            continue
        if by_expression != by_apply:
            raise ContractViolation(
                f"position {index}: expression() and apply() give different values, so the "
                "output would depend on the file format"
            )
    return None


def check_two_pass_lifecycle(case: StrategyCase) -> str | None:
    """Check that ``two_pass`` and ``observe`` go together and that observe returns None."""
    cls = case.strategy
    overrides_observe = cls.observe is not Strategy.observe
    if cls.two_pass and not overrides_observe:
        raise ContractViolation(f"{cls.__qualname__} sets two_pass but does not implement observe")
    if not cls.two_pass and overrides_observe:
        raise ContractViolation(
            f"{cls.__qualname__} implements observe but two_pass is False, "
            "so the engine would never call it"
        )
    if not cls.two_pass:
        return "the strategy is single-pass"
    instance = case.build()
    column = string_column(list(case.values))
    observe: Callable[[pl.Series, BatchView], object] = instance.observe
    returned = observe(column, _last_view(case, len(column)))
    if returned is not None:
        raise ContractViolation("observe must return None; keep what it collects on the instance")
    return None


Check = Callable[[StrategyCase], "str | None"]

#: Every contract check by name, in the order :func:`check_strategy` runs them.
CHECKS: dict[str, Check] = {
    "params_model": check_params_model,
    "declared_properties": check_declared_properties,
    "two_pass_lifecycle": check_two_pass_lifecycle,
    "same_length": check_same_length,
    "nulls_stay_null": check_nulls_stay_null,
    "batch_size_independent": check_batch_size_independent,
    "deterministic": check_deterministic,
    "keeps_type": check_keeps_type,
    "no_value_in_errors": check_no_value_in_errors,
    "expression_matches_apply": check_expression_matches_apply,
}


def check_strategy(
    strategy: type[Strategy],
    values: Sequence[str],
    *,
    params: Mapping[str, Any] | None = None,
    invalid_values: Sequence[str] = (),
    key: bytes | None = None,
    seed: int | None = None,
    other_columns: Mapping[str, Sequence[str | None]] | None = None,
    base_dir: Path | None = None,
    expect_deterministic: bool | None = None,
    skip: Sequence[str] = (),
) -> list[CheckResult]:
    """Run every contract check on ``strategy`` and raise if any fails.

    Returns one :class:`CheckResult` per check. Raises
    :class:`ContractViolation` listing every failed check (all checks run
    first). ``skip`` names checks from :data:`CHECKS` to leave out.
    """
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; expected names from {sorted(CHECKS)}")
    if len(values) < 2:
        raise ValueError(f"give at least 2 sample values, got {len(values)}")
    case = StrategyCase(
        strategy=strategy,
        values=list(values),
        params=dict(params or {}),
        invalid_values=list(invalid_values),
        key=key,
        seed=seed,
        other_columns=dict(other_columns or {}),
        base_dir=base_dir,
        expect_deterministic=expect_deterministic,
    )
    results: list[CheckResult] = []
    for name, check in CHECKS.items():
        if name in skip:
            results.append(CheckResult(check=name, outcome="skipped", detail="skipped by caller"))
            continue
        try:
            reason = check(case)
        except ContractViolation as violation:
            results.append(CheckResult(check=name, outcome="failed", detail=str(violation)))
            continue
        outcome: Literal["passed", "skipped"] = "skipped" if reason else "passed"
        results.append(CheckResult(check=name, outcome=outcome, detail=reason or ""))
    failed = [result for result in results if result.outcome == "failed"]
    if failed:
        lines = "\n".join(f"  {result.check}: {result.detail}" for result in failed)
        raise ContractViolation(
            f"strategy '{strategy.name}' breaks {len(failed)} contract rules:\n{lines}"
        )
    return results
