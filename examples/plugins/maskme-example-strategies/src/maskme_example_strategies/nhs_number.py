"""``nhs_number``: validate NHS numbers and mask all but their last digits."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from maskme import Strategy, StrategyParams
from maskme.strategies import BatchView

__all__ = ["NhsNumber", "NhsNumberParams"]

# Weights of the first nine digits in the modulus 11 check (NHS Data Dictionary,
# "NHS Number"): 10 for the first digit down to 2 for the ninth.
CHECK_WEIGHTS = tuple(range(10, 1, -1))


class NhsNumberParams(StrategyParams):
    """Parameters of ``nhs_number``."""

    keep_last: int = Field(
        default=0, ge=0, le=4, description="Number of trailing digits left visible."
    )
    separator: Literal[" ", "-", ""] = Field(
        default=" ", description="Put between the 3-3-4 digit groups of the output."
    )
    on_invalid: Literal["error", "mask", "null", "keep"] = Field(
        default="error",
        description=(
            "What to do with a value that is not a valid NHS number: stop the run, "
            "mask every digit position, write a missing value, or keep it unchanged."
        ),
    )


class NhsNumber(Strategy):
    """Check NHS numbers and replace their digits with ``*`` except the last ``keep_last``.

    A valid NHS number has 10 digits, optionally grouped 3-3-4 by spaces or
    dashes, and its last digit is the modulus 11 check digit of the first nine.
    The output always has the 3-3-4 layout, for example ``*** *** 5919``.

    Notes
    -----
    With ``keep_last: 0`` nothing of the number is released. Each kept digit
    narrows the candidates tenfold, so ``keep_last: 4`` leaves one in 10,000
    of valid numbers. Combined with other fields, that can be enough to
    re-identify someone. ``on_invalid: keep`` releases a mistyped number in
    full, and a mistyped number is often one digit away from the real one.
    """

    name = "nhs_number"
    Params = NhsNumberParams
    deterministic = True
    reversible = False
    keeps_type = False

    params: NhsNumberParams

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        digits = values.str.replace_all(r"[ \-]", "")
        frame = pl.DataFrame({"digits": digits})
        valid, masked = frame.select(
            _is_valid(pl.col("digits")).alias("valid"),
            self._mask(pl.col("digits")).alias("masked"),
        ).get_columns()
        invalid = values.is_not_null() & ~valid
        result = masked.alias(values.name)
        on_invalid = self.params.on_invalid
        if on_invalid == "mask":
            full_mask = self._layout(pl.lit("*" * 10))
            return pl.select(
                pl.when(invalid).then(full_mask).otherwise(result).alias(values.name)
            ).to_series()
        return self._resolve_invalid(
            values, invalid, result, expected="a valid NHS number", on_invalid=on_invalid
        )

    def _mask(self, digits: pl.Expr) -> pl.Expr:
        hidden = 10 - self.params.keep_last
        return self._layout(pl.lit("*" * hidden) + digits.str.slice(hidden))

    def _layout(self, ten_characters: pl.Expr) -> pl.Expr:
        separator = self.params.separator
        return pl.concat_str(
            ten_characters.str.slice(0, 3),
            ten_characters.str.slice(3, 3),
            ten_characters.str.slice(6, 4),
            separator=separator,
        )


def _is_valid(digits: pl.Expr) -> pl.Expr:
    """True where ``digits`` is 10 digits whose last one is the modulus 11 check digit."""
    weighted_sum = pl.sum_horizontal(
        digits.str.slice(position, 1).cast(pl.Int32, strict=False) * weight
        for position, weight in enumerate(CHECK_WEIGHTS)
    )
    check_digit = (11 - weighted_sum % 11) % 11  # a remainder of 0 gives check digit 0
    last_digit = digits.str.slice(9, 1).cast(pl.Int32, strict=False)
    # A computed check digit of 10 means no valid NHS number has these nine digits.
    return (
        digits.str.contains(r"^[0-9]{10}$") & (check_digit != 10) & (check_digit == last_digit)
    ).fill_null(False)
