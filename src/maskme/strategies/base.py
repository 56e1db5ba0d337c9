"""The contract every strategy, built-in or custom, follows.

A strategy transforms the values of one field, a column at a time. The engine
hands it a Polars ``String`` series in which missing values (null, and the empty
string) are already null, and puts missing values back afterwards. So a strategy
meets a missing value only as a null, and whatever it returns there, the
missing value leaves as it came. The strategy returns a series of the same
length with nulls where its input had nulls.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from maskme.errors import RecordError

__all__ = [
    "BatchView",
    "ColumnExpression",
    "InvalidValues",
    "Strategy",
    "StrategyContext",
    "StrategyParams",
    "step_name",
]


class StrategyParams(BaseModel):
    """Base of every strategy's parameter model: frozen, and unknown names are rejected.

    Built-in models describe their parameters with ``Field(description=...)``,
    which ``maskme schema`` shows. Attribute docstrings with pydantic's
    ``use_attribute_docstrings`` read the module's source when the class is
    created: 50 ms of every command's start-up for the four built-in models.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


@dataclass(frozen=True, kw_only=True)
class StrategyContext:
    """Context a strategy instance receives when a plan is built.

    ``key`` is the secret named by the params' ``key`` (if any), already loaded
    from the environment or a key file. ``base_dir`` is where relative paths in
    the params (hierarchy files) are resolved: the policy file's folder.
    """

    field_path: str
    key: bytes | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    seed: int | None = None


@dataclass(frozen=True, kw_only=True)
class BatchView:
    """The part of a batch a strategy may look at besides its own column.

    ``record_numbers`` contains the 1-based record number of each value, so a
    strategy can draw per-record randomness that does not depend on how the
    input was cut into batches. ``column`` returns another field's values
    aligned with this column (for ``consistent_by``), as a ``String`` series.
    """

    record_numbers: pl.Series
    column: Callable[[str], pl.Series]


@dataclass(frozen=True)
class ColumnExpression:
    """A strategy's transformation written as Polars expressions; see :meth:`Strategy.expression`.

    ``value`` is the transformed ``String`` column. ``failed`` is a Boolean
    column, true for a value that the expression does not transform as
    :meth:`Strategy.apply` would (a value ``apply`` reports invalid, or one
    the expression does not handle); None when there is none.
    """

    value: pl.Expr
    failed: pl.Expr | None = None
    #: Intermediate columns, (name, expression) pairs computed in order before ``value`` and
    #: ``failed``, which refer to them with ``pl.col(name)``. An expression that uses a
    #: result several times (a mixing function) stays small this way: written inline, it
    #: would copy its input at each use and grow exponentially. Names must not be a
    #: column of the input; :func:`step_name` makes one from the field path.
    steps: tuple[tuple[str, pl.Expr], ...] = ()

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Evaluate on ``frame`` and return columns ``value`` and ``failed``."""
        lazy = frame.lazy()
        for name, expression in self.steps:
            lazy = lazy.with_columns(expression.alias(name))
        failed = self.failed if self.failed is not None else pl.lit(False)
        return lazy.select(self.value.alias("value"), failed.alias("failed")).collect()


def step_name(field_path: str, step: str) -> str:
    """Return the name of an intermediate column of ``ColumnExpression.steps`` for one field."""
    return f"\x00maskme\x00{field_path}\x00{step}"


class InvalidValues(Exception):
    """Raised inside ``apply`` when values cannot be parsed; the engine turns it into a RecordError.

    ``positions`` are 0-based indices into the column given to ``apply``.
    """

    def __init__(self, positions: list[int], expected: str) -> None:
        self.positions = positions
        self.expected = expected
        count = "1 value is" if len(positions) == 1 else f"{len(positions):,} values are"
        super().__init__(f"{count} not {expected}")


class Strategy(ABC):
    """A named, parametrized, vectorized transformation of one field's values.

    Subclasses set ``name``, ``Params`` and the declared properties, and
    implement :meth:`apply`. A strategy that needs to see the whole column before
    it transforms anything sets ``two_pass = True`` and implements
    :meth:`observe`; the engine then reads the input twice.

    Notes
    -----
    Each strategy's docstring states what privacy it gives and what it does not.
    """

    name: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]

    #: Same input, params and key give the same output.
    deterministic: ClassVar[bool] = True
    #: The input can be recovered with the key (or without one, for some strategies).
    reversible: ClassVar[bool] = False
    #: The output has the input's type: a number stays a number, a date a date.
    keeps_type: ClassVar[bool] = False
    #: Removes the field instead of transforming its values.
    removes_field: ClassVar[bool] = False
    #: Needs a first pass over the whole column (:meth:`observe`) before :meth:`apply`.
    two_pass: ClassVar[bool] = False

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        self.params = params
        self.context = context

    @classmethod
    def key_name(cls, params: StrategyParams) -> str | None:
        """Name of the policy key these params need, or None."""
        return getattr(params, "key", None)

    @classmethod
    def requires_key(cls, params: StrategyParams) -> bool:
        """Return whether these params cannot run without a key."""
        return False

    def required_fields(self) -> list[str]:
        """Other field paths whose values :meth:`apply` reads through ``BatchView.column``."""
        return []

    def output_keeps_type(self) -> bool:
        """Return whether this instance's output has the input's type (may depend on params)."""
        return self.keeps_type

    def observe(self, values: pl.Series, batch: BatchView) -> None:
        """Collect what the second pass needs; called for every batch when ``two_pass``."""

    @abstractmethod
    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        """Return the transformed values: same length, null where the input is null."""

    def expression(self, values: pl.Expr, record_numbers: pl.Expr) -> ColumnExpression | None:
        """Return this transformation as Polars expressions, or None when it has none.

        ``values`` is a ``String`` column with nulls where values are missing,
        as :meth:`apply` receives it, and ``record_numbers`` the ``UInt64``
        1-based record number of each value. Where ``failed`` is false, the
        result must equal what :meth:`apply` returns. The engine then runs a
        whole CSV file as one Polars streaming query, with no Python code per
        batch, and each JSON batch as one query. If some value is ``failed``,
        it discards that run (or batch) and goes through :meth:`apply`, which
        reports or handles the value.
        """
        return None

    def _resolve_invalid(
        self,
        values: pl.Series,
        invalid: pl.Series,
        result: pl.Series,
        *,
        expected: str,
        on_invalid: Literal["error", "null", "keep"] = "error",
    ) -> pl.Series:
        """Apply the ``on_invalid`` choice to the positions where parsing failed."""
        if not invalid.any():
            return result
        if on_invalid == "error":
            positions = invalid.arg_true().to_list()
            raise InvalidValues(positions, expected)
        if on_invalid == "null":
            replaced = pl.select(pl.when(invalid).then(None).otherwise(result)).to_series()
        else:
            replaced = pl.select(pl.when(invalid).then(values).otherwise(result)).to_series()
        return replaced.alias(values.name)


def record_error_from(
    error: InvalidValues, record_numbers: pl.Series, field_path: str
) -> RecordError:
    """Turn an InvalidValues raised by a strategy into a RecordError on the first bad record."""
    first = record_numbers[error.positions[0]]
    more = len(error.positions) - 1
    tail = f" ({more:,} more in this batch)" if more else ""
    return RecordError(
        f"not {error.expected}{tail}; fix the data, or set on_invalid: null or keep in the policy",
        record=int(first),
        field=field_path,
    )
