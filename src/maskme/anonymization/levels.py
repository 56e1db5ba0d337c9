"""Generalization levels of one quasi-identifier, as integer code tables.

The search never touches text while it walks the lattice. Each distinct input
value of a quasi-identifier gets a code (its position in the sorted distinct
values, null last), and each level is an array that maps those codes to the
codes of the level's labels. Generalizing a column of the statistics table is
then one numpy indexing operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from pydantic import ValidationError

from maskme.errors import PolicyError, PolicyProblem
from maskme.policy.privacy import QuasiIdentifierRule

__all__ = ["AttributeLevels", "build_levels", "encode_values"]

STAR = "*"
_STAR_PATTERN = r"^\*+$"


@dataclass(frozen=True, kw_only=True)
class AttributeLevels:
    """The generalization levels of one quasi-identifier over its distinct input values.

    Attributes
    ----------
    name
        The field path.
    values
        The distinct input values, sorted, with null last when present. A
        value's position is its code.
    codes
        Per level, the label code of each value code (``int64``). Level 0 is
        the identity.
    labels
        Per level, the label text of each label code (null stays null).
    star
        Per level, whether each label is a fully suppressed value (``*``).
    loss
        Per level, the normalized certainty penalty of each value code. For a
        numeric field it is the span of the input values that share its label
        over the span of all input values. For any other field it is (number
        of distinct input values that share its label - 1) / (number of
        distinct input values - 1). Null has no loss.
    mondrian
        Whether Mondrian partitioning recodes this attribute per class instead
        of the lattice. Then there is one level, which maps every non-null
        value to one code, and ``numbers`` holds each value code's number (NaN
        for null). Its loss arrays are zero because the loss depends on the
        intervals Mondrian chooses.
    """

    name: str
    values: pl.Series
    codes: tuple[np.ndarray, ...]
    labels: tuple[pl.Series, ...]
    star: tuple[np.ndarray, ...]
    loss: tuple[np.ndarray, ...]
    mondrian: bool = False
    numbers: np.ndarray | None = None

    @property
    def level_count(self) -> int:
        """Number of levels, level 0 (the input value) included."""
        return len(self.codes)



def encode_values(column: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Return the sorted distinct values of a String column (null last) and each row's code."""
    values = column.unique().sort(nulls_last=True)
    lookup = pl.DataFrame({"value": values, "code": np.arange(values.len(), dtype=np.int64)})
    frame = pl.DataFrame({"value": column})
    joined = frame.join(lookup, on="value", how="left", nulls_equal=True, maintain_order="left")
    return values, joined.get_column("code").to_numpy().astype(np.int64)


#: Start of the label of a declared missing text, which no label read from a file has.
_MARKER_LABEL = "\x00"


def build_levels(
    name: str,
    values: pl.Series,
    rule: QuasiIdentifierRule,
    *,
    base_dir: Path,
    policy_source: str | None = None,
    missing_values: Sequence[str] = (),
) -> AttributeLevels:
    """Build the levels of one quasi-identifier from its rule and its distinct input values.

    A text of ``missing_values`` is its own label at every level: it is not
    generalized, and two such texts stay apart, as they do in the output.
    The label starts with a NUL character, so that it cannot merge with a
    hierarchy's label of the same text; the output writes the text itself.

    Raises
    ------
    PolicyError
        When a value is missing from the hierarchy, a value is not a number for
        ``intervals`` or ``mondrian``, or the hierarchy's levels do not nest.
    """
    markers = pl.Series(list(missing_values), dtype=pl.String)
    declared = values.is_in(markers.implode()).fill_null(False)
    plain = values
    if declared.any():
        nulled = pl.select(pl.when(pl.lit(declared)).then(None).otherwise(pl.lit(values)))
        plain = nulled.to_series().alias(values.name)
    built = _label_columns(name, plain, rule, base_dir=base_dir, policy_source=policy_source)
    columns = built.columns
    if declared.any():
        own = pl.lit(_MARKER_LABEL) + pl.lit(values)
        columns = [
            pl.select(pl.when(pl.lit(declared)).then(own).otherwise(pl.lit(labels)))
            .to_series()
            .alias(labels.name)
            for labels in columns
        ]
    return _from_columns(name, plain, columns, mondrian=built.mondrian, numbers=built.numbers,
                         policy_source=policy_source)


@dataclass(frozen=True, kw_only=True)
class _LabelColumns:
    """The labels of each level of one quasi-identifier, one row per distinct value."""

    columns: list[pl.Series]
    mondrian: bool = False
    numbers: np.ndarray | None = None


def _label_columns(
    name: str,
    values: pl.Series,
    rule: QuasiIdentifierRule,
    *,
    base_dir: Path,
    policy_source: str | None,
) -> _LabelColumns:
    non_null = values.drop_nulls()
    if rule.mondrian:
        # In the lattice a Mondrian attribute has one level that only separates
        # null from non-null, because missing values stay missing and form
        # classes of their own. The intervals come from Mondrian partitioning.
        numbers = _parse_numbers(name, values, "mondrian", policy_source)
        presence = pl.Series(name, ["value"] * values.len(), dtype=pl.String).zip_with(
            values.is_not_null(), pl.Series(name, [None] * values.len(), dtype=pl.String)
        )
        return _LabelColumns(columns=[presence], mondrian=True, numbers=numbers)
    if rule.intervals is not None:
        _parse_numbers(name, values, "intervals", policy_source)
        columns = [values]
        for width in rule.intervals:
            columns.append(_interval_labels(name, values, width, policy_source))
        columns.append(_star_column(values))
        return _LabelColumns(columns=columns)
    if rule.hierarchy is not None:
        columns = _hierarchy_columns(name, values, non_null, rule.hierarchy, base_dir, policy_source)
        return _LabelColumns(columns=columns)
    return _LabelColumns(columns=[values, _star_column(values)])


def _star_column(values: pl.Series) -> pl.Series:
    return pl.Series(values.name, [STAR] * values.len(), dtype=pl.String).zip_with(
        values.is_not_null(), pl.Series(values.name, [None] * values.len(), dtype=pl.String)
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _problem(name: str, message: str, policy_source: str | None) -> PolicyError:
    return PolicyError(
        [PolicyProblem(message=message, path=f"quasi_identifiers.{name}", source=policy_source)]
    )


def _parse_numbers(
    name: str, values: pl.Series, rule_name: str, policy_source: str | None
) -> np.ndarray:
    numbers = values.str.strip_chars().cast(pl.Float64, strict=False)
    # The text "nan" parses, but a missing number has no place in an interval.
    unreadable = numbers.is_null() | numbers.is_nan().fill_null(False)
    invalid = int((unreadable & values.is_not_null()).sum())
    if invalid:
        raise _problem(
            name,
            f"{rule_name} needs numbers, but field `{name}` has {_count(invalid, 'distinct value')} "
            "that cannot be read as a number; give the field a hierarchy instead, or list "
            "the text that marks a missing value in missing_values",
            policy_source,
        )
    array = numbers.to_numpy().astype(np.float64)
    if not np.all(np.isfinite(array[~np.isnan(array)])):
        raise _problem(name, f"{rule_name} needs finite numbers in field `{name}`", policy_source)
    return array


def _interval_labels(
    name: str, values: pl.Series, width: float, policy_source: str | None
) -> pl.Series:
    """Label each number with its half-open interval ``[low, low + width)``.

    The labels are those of the ``generalize`` strategy with the same
    ``interval``, which computes the bounds exactly: with floats, 0.3 in
    intervals of 0.1 fell in ``[0.2, 0.30000000000000004)``.
    """
    from maskme.strategies.base import BatchView, InvalidValues, StrategyContext
    from maskme.strategies.generalize import Generalize, GeneralizeParams

    try:
        params = GeneralizeParams(interval=width)
    except ValidationError as error:
        message = "; ".join(problem["msg"] for problem in error.errors())
        raise _problem(name, f"interval width {width:g}: {message}", policy_source) from None
    strategy = Generalize(params, StrategyContext(field_path=name))
    text = values.str.strip_chars()
    view = BatchView(record_numbers=pl.Series(range(1, len(text) + 1)),
                     column=lambda path: pl.Series([], dtype=pl.String))
    try:
        return strategy.apply(text, view).alias(name)
    except InvalidValues as invalid:
        raise _problem(
            name,
            f"intervals of width {width:g} cannot label {_count(len(invalid.positions), 'distinct value')} "
            f"of field `{name}` exactly ({invalid.expected}); use a wider interval or a hierarchy",
            policy_source,
        ) from None


def _hierarchy_columns(
    name: str,
    values: pl.Series,
    non_null: pl.Series,
    path: Path,
    base_dir: Path,
    policy_source: str | None,
) -> list[pl.Series]:
    from maskme.strategies.hierarchy import load_hierarchy

    resolved = path if path.is_absolute() else base_dir / path
    hierarchy = load_hierarchy(resolved)
    missing = int(hierarchy.missing(non_null).sum())
    if missing:
        raise _problem(
            name,
            f"field `{name}` has {_count(missing, 'distinct value')} missing from the hierarchy "
            f"{resolved}; add a row for each value",
            policy_source,
        )
    return [hierarchy.generalize(values, level).alias(name) for level in range(hierarchy.level_count)]


def _from_columns(
    name: str,
    values: pl.Series,
    columns: list[pl.Series],
    *,
    mondrian: bool = False,
    numbers: np.ndarray | None = None,
    policy_source: str | None = None,
) -> AttributeLevels:
    is_value = values.is_not_null().to_numpy()
    penalty = _CertaintyPenalty(values)
    codes: list[np.ndarray] = []
    labels: list[pl.Series] = []
    stars: list[np.ndarray] = []
    losses: list[np.ndarray] = []
    for column in columns:
        level_labels, level_codes = encode_values(column)
        codes.append(level_codes)
        labels.append(level_labels)
        stars.append(level_labels.str.contains(_STAR_PATTERN).fill_null(False).to_numpy())
        if mondrian:
            losses.append(np.zeros(values.len()))
        else:
            losses.append(np.where(is_value, penalty.of_groups(level_codes, level_labels.len()), 0.0))
    for level in range(len(codes) - 1):
        if not _nests(codes[level], codes[level + 1]):
            raise _problem(
                name,
                f"the levels of field `{name}` do not nest: a label of level {level} has more "
                f"than one label at level {level + 1}; fix the hierarchy so that it is a tree",
                policy_source,
            )
    return AttributeLevels(
        name=name,
        values=values,
        codes=tuple(codes),
        labels=tuple(labels),
        star=tuple(stars),
        loss=tuple(losses),
        mondrian=mondrian,
        numbers=numbers,
    )


class _CertaintyPenalty:
    """Normalized certainty penalty of grouping the distinct values, as the measurement layer defines it.

    For a field whose non-null values all parse as numbers, a group costs the
    span (max - min) of its values divided by the span of all values. For any
    other field it costs (values in the group - 1) / (distinct values - 1).
    """

    def __init__(self, values: pl.Series) -> None:
        self.is_value = values.is_not_null().to_numpy()
        parsed = values.cast(pl.Float64, strict=False)
        self.numeric = bool(values.null_count() == parsed.null_count())
        self.numbers = parsed.to_numpy().astype(np.float64)
        self.distinct = int(self.is_value.sum())
        if self.numeric and self.distinct:
            valued = self.numbers[self.is_value]
            self.span = float(valued.max() - valued.min())
        else:
            self.span = 0.0

    def of_groups(self, group: np.ndarray, group_count: int) -> np.ndarray:
        """Return the penalty of each value, given each value's group code."""
        valued = self.is_value
        if self.numeric:
            if self.span <= 0:
                return np.zeros(group.size)
            low = np.full(group_count, np.inf)
            high = np.full(group_count, -np.inf)
            np.minimum.at(low, group[valued], self.numbers[valued])
            np.maximum.at(high, group[valued], self.numbers[valued])
            spans = np.where(np.isfinite(low), high - low, 0.0)
            return spans[group] / self.span
        if self.distinct <= 1:
            return np.zeros(group.size)
        sizes = np.bincount(group[valued], minlength=group_count)
        return (sizes[group] - 1) / (self.distinct - 1)


def _nests(lower: np.ndarray, upper: np.ndarray) -> bool:
    """Check that every label code of ``lower`` maps to exactly one label code of ``upper``."""
    if lower.size == 0:
        return True
    pairs = np.unique(np.stack([lower, upper], axis=1), axis=0)
    return bool(np.unique(pairs[:, 0]).size == pairs.shape[0])
