"""The contract kit catches each kind of broken strategy, and passes a correct one.

Each broken strategy below breaks one rule of the contract, and its test
asserts that the matching check fails with a message naming the problem.
"""

import logging
import random
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from pydantic import ConfigDict, Field

from maskme.strategies import BatchView, InvalidValues, Strategy, StrategyParams
from maskme.testing import (
    CHECKS,
    ContractViolation,
    StrategyCase,
    StrategyContract,
    check_strategy,
    contract,
    make_strategy,
    run_strategy,
)

SAMPLE = ["12", "7", "300", "45", "8", "19"]
NOTES = """

    Notes
    -----
    A test double; gives no privacy.
"""


def strategy_class(name: str, apply, **attributes) -> type[Strategy]:
    """Build a strategy class with a Notes docstring from an apply function and attributes."""
    namespace = {
        "name": name,
        "Params": StrategyParams,
        "apply": apply,
        "__doc__": f"Test double {name}.{NOTES}",
        **attributes,
    }
    return type(name.title().replace("_", ""), (Strategy,), namespace)


def identity(self, values: pl.Series, batch: BatchView) -> pl.Series:
    return values


class Reverse(Strategy):
    """Reverse each value, a correct strategy.

    Notes
    -----
    A test double; reversing is trivially undone.
    """

    name = "reverse"
    Params = StrategyParams
    reversible = True

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        return values.str.reverse()


class CountingParams(StrategyParams):
    """Params of the two-pass test doubles."""

    threshold: int = Field(default=2, ge=1)


class BelowThreshold(Strategy):
    """Replace values seen fewer than ``threshold`` times in the whole column.

    Notes
    -----
    A test double for the two-pass lifecycle.
    """

    name = "below_threshold"
    Params = CountingParams
    two_pass = True

    def __init__(self, params, context):
        super().__init__(params, context)
        self.seen: dict[str, int] = {}

    def observe(self, values: pl.Series, batch: BatchView) -> None:
        for value, count in values.drop_nulls().value_counts().iter_rows():
            self.seen[value] = self.seen.get(value, 0) + count

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        frequent = [value for value, count in self.seen.items() if count >= self.params.threshold]
        return pl.select(
            pl.when(values.is_null()).then(None)
            .when(values.is_in(frequent)).then(values)
            .otherwise(pl.lit("rare"))
        ).to_series()


class PerBatchThreshold(BelowThreshold):
    """Broken: observe drops earlier batches, so the result depends on the batches.

    Notes
    -----
    A test double.
    """

    name = "per_batch_threshold"

    def observe(self, values: pl.Series, batch: BatchView) -> None:
        self.seen = {}
        super().observe(values, batch)


def failure(strategy: type[Strategy], check: str, values=SAMPLE, **case) -> str:
    """Run one check and return its violation message; fail the test if it passes."""
    with pytest.raises(ContractViolation) as caught:
        CHECKS[check](StrategyCase(strategy=strategy, values=values, **case))
    return str(caught.value)


def test_correct_strategy_passes():
    results = check_strategy(Reverse, SAMPLE)
    outcomes = {result.check: result.outcome for result in results}
    assert outcomes["nulls_stay_null"] == "passed"
    assert outcomes["batch_size_independent"] == "passed"
    assert outcomes["no_value_in_errors"] == "passed"
    assert outcomes["two_pass_lifecycle"] == "skipped"
    assert outcomes["keeps_type"] == "skipped"
    assert list(outcomes) == list(CHECKS)


def test_two_pass_strategy_passes():
    results = check_strategy(BelowThreshold, ["a", "b", "a", "c", "a", "b"])
    outcomes = {result.check: result.outcome for result in results}
    assert outcomes["two_pass_lifecycle"] == "passed"
    assert outcomes["batch_size_independent"] == "passed"


def test_two_pass_runner_observes_before_apply():
    strategy = make_strategy(BelowThreshold, {"threshold": 2})
    outputs = run_strategy(strategy, ["a", "b", "a", None, "c"], batch_sizes=2)
    assert [output.to_list() for output in outputs] == [["a", "rare"], ["a", None], ["rare"]]


def test_two_pass_per_batch_state_caught():
    message = failure(PerBatchThreshold, "batch_size_independent", values=["a", "b", "a", "b"])
    assert "differs from the same records" in message


def test_leaking_cast_caught():
    def apply(self, values, batch):
        return values.cast(pl.Float64).cast(pl.String)  # polars puts the bad value in its error

    message = failure(strategy_class("leaky_cast", apply), "no_value_in_errors")
    assert "raised InvalidOperationError" in message
    assert "contains the value" in message


def test_logged_value_caught():
    def apply(self, values, batch):
        for value in values.to_list():
            logging.getLogger("third_party").debug("saw %s", value)
        return values

    message = failure(strategy_class("logging_leak", apply), "no_value_in_errors")
    assert "appears in an error, log record, warning or printed output" in message


def test_value_in_masking_error_caught():
    from maskme.errors import MaskMeError

    def apply(self, values, batch):
        bad = values.filter(~values.str.contains(r"^\d+$"))
        if len(bad):
            raise MaskMeError(f"cannot parse {bad[0]}")
        return values

    message = failure(strategy_class("error_leak", apply), "no_value_in_errors")
    assert "appears in an error" in message


def test_invalid_values_positions_checked():
    def apply(self, values, batch):
        raise InvalidValues([len(values) + 5], "a number")

    message = failure(strategy_class("bad_positions", apply), "no_value_in_errors")
    assert "positions inside the column" in message


def test_correct_invalid_values_passes():
    def apply(self, values, batch):
        invalid = ~values.str.contains(r"^\d+$")
        return self._resolve_invalid(values, invalid, values, expected="a number")

    checked = strategy_class("number_check", apply)
    assert contract.check_no_value_in_errors(StrategyCase(strategy=checked, values=SAMPLE)) is None


def test_invented_value_for_null_caught():
    def apply(self, values, batch):
        return values.fill_null("0")

    message = failure(strategy_class("fills_nulls", apply), "nulls_stay_null")
    assert "a null input came out as a value" in message


def test_empty_string_output_caught():
    def apply(self, values, batch):
        return pl.select(pl.when(values.is_null()).then(None).otherwise(pl.lit(""))).to_series()

    message = failure(strategy_class("empties", apply), "nulls_stay_null")
    assert "came out missing" in message


def test_wrong_length_caught():
    def apply(self, values, batch):
        return values.head(1)

    message = failure(strategy_class("short", apply), "same_length")
    assert "returned 1 values for 6 input values" in message


def test_non_series_output_caught():
    def apply(self, values, batch):
        return values.to_list()

    message = failure(strategy_class("listy", apply), "same_length")
    assert "expected a polars Series" in message


def test_batch_position_dependence_caught():
    def apply(self, values, batch):
        position = pl.Series(range(len(values))).cast(pl.String)
        return pl.select(
            pl.when(values.is_null()).then(None).otherwise(values + position)
        ).to_series()

    message = failure(strategy_class("by_position", apply), "batch_size_independent")
    assert "differs from the same records" in message


def test_record_number_use_passes():
    # Depending on the record number (not the position in the batch) is allowed.
    def apply(self, values, batch):
        numbers = batch.record_numbers.cast(pl.String)
        return pl.select(
            pl.when(values.is_null()).then(None).otherwise(values + numbers)
        ).to_series()

    by_record = strategy_class("by_record", apply)
    assert contract.check_batch_size_independent(StrategyCase(strategy=by_record, values=SAMPLE)) is None


def test_undeclared_randomness_caught():
    def apply(self, values, batch):
        suffix = str(random.random())
        return pl.select(pl.when(values.is_null()).then(None).otherwise(values + suffix)).to_series()

    message = failure(strategy_class("random_suffix", apply), "deterministic")
    assert "two instances with the same params gave different output" in message


def test_declared_randomness_skipped():
    def apply(self, values, batch):
        return values

    case = StrategyCase(strategy=strategy_class("fresh", apply, deterministic=False), values=SAMPLE)
    assert "not declared deterministic" in contract.check_deterministic(case)
    assert "not declared deterministic" in contract.check_batch_size_independent(case)


def test_state_changed_by_apply_caught():
    def apply(self, values, batch):
        self.calls = getattr(self, "calls", 0) + 1
        return pl.select(
            pl.when(values.is_null()).then(None).otherwise(values + str(self.calls))
        ).to_series()

    message = failure(strategy_class("counting", apply), "deterministic")
    assert "applying the same instance twice" in message


def test_type_change_caught():
    def apply(self, values, batch):
        return pl.select(pl.when(values.is_null()).then(None).otherwise(pl.lit("n/a"))).to_series()

    message = failure(strategy_class("to_text", apply, keeps_type=True), "keeps_type")
    assert "a number came out as a string" in message


def test_date_kept_passes():
    def apply(self, values, batch):
        return values.str.slice(0, 4) + "-01-01"

    year_start = strategy_class("year_start", apply, keeps_type=True)
    case = StrategyCase(strategy=year_start, values=["2024-05-17", "1999-12-31"])
    assert contract.check_keeps_type(case) is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("42", "number"),  # integer
        ("-3.5e2", "number"),  # decimal with exponent
        ("2024-02-29", "date"),  # leap day
        ("2023-02-29", "string"),  # not a real date
        ("2024-02-29T10:00:00", "datetime"),
        ("true", "boolean"),
        ("007", "number"),  # leading zeros still parse as a number
        ("N/A", "string"),
    ],
)
def test_value_kind(value, kind):
    assert contract.value_kind(value) == kind


def test_mutable_params_caught():
    class Mutable(StrategyParams):
        model_config = ConfigDict(frozen=False)
        level: int = 1

    message = failure(strategy_class("mutable", identity, Params=Mutable), "params_model")
    assert "not frozen" in message


def test_lenient_params_caught():
    class Lenient(StrategyParams):
        model_config = ConfigDict(extra="ignore")

    message = failure(strategy_class("lenient", identity, Params=Lenient), "params_model")
    assert "accepts an unknown parameter name" in message


def test_invalid_case_params_reported():
    message = failure(Reverse, "params_model", params={"nonsense": 1})
    assert "do not validate" in message


def test_missing_notes_caught():
    undocumented = strategy_class("undocumented", identity)
    undocumented.__doc__ = "No notes here."
    message = failure(undocumented, "declared_properties")
    assert "no Notes section" in message


def test_two_pass_without_observe_caught():
    message = failure(strategy_class("half_two_pass", identity, two_pass=True), "two_pass_lifecycle")
    assert "does not implement observe" in message


def test_observe_without_two_pass_caught():
    def observe(self, values, batch):
        return None

    one_pass = strategy_class("forgot_flag", identity, observe=observe)
    message = failure(one_pass, "two_pass_lifecycle")
    assert "never call it" in message


def test_check_strategy_lists_every_failure():
    def apply(self, values, batch):
        return values.fill_null("x").head(2)

    broken = strategy_class("very_broken", apply)
    with pytest.raises(ContractViolation) as caught:
        check_strategy(broken, SAMPLE)
    message = str(caught.value)
    assert "same_length" in message
    assert "nulls_stay_null" in message
    assert "breaks" in message


def test_check_strategy_skip():
    results = check_strategy(Reverse, SAMPLE, skip=["no_value_in_errors"])
    skipped = [result for result in results if result.check == "no_value_in_errors"]
    assert skipped[0].outcome == "skipped"


def test_check_strategy_unknown_skip_rejected():
    with pytest.raises(ValueError, match="unknown checks"):
        check_strategy(Reverse, SAMPLE, skip=["nulls"])


def test_check_strategy_needs_two_values():
    with pytest.raises(ValueError, match="at least 2"):
        check_strategy(Reverse, ["one"])


class TestReverseContract(StrategyContract):
    strategy = Reverse
    values = SAMPLE


class TestBelowThresholdContract(StrategyContract):
    strategy = BelowThreshold
    params = {"threshold": 2}
    values = ["a", "b", "a", "c", "b", "a"]


def test_contract_class_fails_broken_strategy(tmp_path):
    test_file = tmp_path / "test_broken_contract.py"
    test_file.write_text(
        textwrap.dedent(
            '''
            import polars as pl
            from maskme import Strategy, StrategyParams
            from maskme.testing import StrategyContract

            class FillsNulls(Strategy):
                """Fill nulls.

                Notes
                -----
                Broken on purpose.
                """

                name = "fills_nulls"
                Params = StrategyParams

                def apply(self, values, batch):
                    return values.fill_null("x")

            class TestFillsNulls(StrategyContract):
                strategy = FillsNulls
                values = ["a", "b", "c"]
            '''
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(test_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout
    assert "FAILED test_broken_contract.py::TestFillsNulls::test_nulls_stay_null" in completed.stdout
    assert "PASSED test_broken_contract.py::TestFillsNulls::test_same_length" in completed.stdout
    assert "SKIPPED" in completed.stdout  # keeps_type and two-pass do not apply


def test_invalid_sample_values_reported():
    def apply(self, values, batch):
        invalid = ~values.str.contains(r"^\d+$")
        return self._resolve_invalid(values, invalid, values, expected="a number")

    message = failure(strategy_class("strict_numbers", apply), "same_length", values=["1", "x"])
    assert "rejected sample values as not a number" in message


def test_printed_value_caught():
    def apply(self, values, batch):
        print(values.to_list())  # noqa: T201  (the leak under test)
        return values

    message = failure(strategy_class("printing_leak", apply), "no_value_in_errors")
    assert "printed output" in message
