"""The ``redact`` strategy: keep a few characters and mask the rest."""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from maskme.strategies.base import BatchView, ColumnExpression, Strategy, StrategyParams
from maskme.strategies.registry import register_strategy

if TYPE_CHECKING:
    import regex

__all__ = ["Redact", "RedactParams", "graphemes", "needs_grapheme_fallback"]

#: An e-mail address: group 1 is the local part, group 2 the domain from the last "@".
_EMAIL_PATTERN = r"(?s)^(.*)(@[^@]*)$"


@functools.cache
def _grapheme_pattern() -> regex.Pattern[str]:
    """Compile the grapheme pattern on first use, because importing regex takes about 11 ms (measured here)."""
    import regex

    return regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """Split text into user-visible characters (extended grapheme clusters)."""
    return _grapheme_pattern().findall(text)


def needs_grapheme_fallback(values: pl.Series) -> pl.Series:
    """Mark the values whose characters are not all one code point per user-visible character.

    ASCII text splits into graphemes code point by code point, except the
    two-code-point cluster CR LF. Everything else takes the per-value path.
    """
    frame = pl.DataFrame({"value": values})
    return frame.select(_grapheme_fallback(pl.col("value"))).to_series().alias(values.name)


def _grapheme_fallback(values: pl.Expr) -> pl.Expr:
    non_ascii = values.str.len_bytes() != values.str.len_chars()
    crlf = values.str.contains("\r\n", literal=True)
    return (non_ascii | crlf).fill_null(False)


class RedactParams(StrategyParams):
    """Parameters of ``redact``."""

    keep_first: int = Field(
        default=0, ge=0,
        description="User-visible characters kept at the start.",
    )
    keep_last: int = Field(default=0, ge=0, description="User-visible characters kept at the end.")
    mask_char: str = Field(
        default="*",
        description=(
            "The character written in place of each masked one; exactly one user-visible "
            "character."
        ),
    )
    keep_separators: bool | str = Field(
        default=False,
        description=(
            "Keep separators in place and do not count them. True means every character that "
            "is not a letter or digit, and a string lists the separator characters."
        ),
    )
    email: bool = Field(
        default=False,
        description="Keep ``@domain`` of an e-mail address and redact only the local part.",
    )
    length: int | None = Field(
        default=None, ge=1,
        description=(
            "Write exactly this many mask characters in place of the masked part, hiding its "
            "length."
        ),
    )

    @field_validator("mask_char")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(graphemes(value)) != 1:
            raise ValueError(
                f"expected exactly one user-visible character, got {len(graphemes(value))}"
            )
        if not value.isprintable():
            raise ValueError("expected a printable character")
        return value

    @field_validator("keep_separators")
    @classmethod
    def _separators_listed(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and value == "":
            raise ValueError("expected true, false or a non-empty string of separator characters")
        return value

    @model_validator(mode="after")
    def _length_hides_structure(self) -> RedactParams:
        if self.length is not None and self.keep_separators is not False:
            raise ValueError(
                "length and keep_separators contradict each other: length hides how long the "
                "value is, while kept separators show its layout; use one of them"
            )
        return self


@register_strategy(builtin=True)
class Redact(Strategy):
    """Keep the first and/or last few characters of a value and mask the rest.

    ``555-0142`` with ``keep_last: 2, keep_separators: true`` becomes
    ``***-**42``; ``john.doe@example.com`` with ``email: true, keep_first: 1``
    becomes ``j*******@example.com``. Characters are user-visible characters
    (grapheme clusters), so an emoji with a skin-tone modifier or a letter
    with a combining accent is kept or masked whole. A value with no more
    characters than ``keep_first + keep_last`` is masked completely. In
    e-mail mode a value without ``@`` is redacted as a whole, as if it were
    the local part.

    Notes
    -----
    Redaction releases the kept characters and, unless ``length`` is set, the
    value's length and (with ``keep_separators``) its layout. The last four
    digits of a card or phone number, combined with other fields, can narrow
    down a person, and a kept e-mail domain can be personal
    (``jane@janedoe.name``). Different values can redact to the same output,
    so the output does not link records reliably; use ``hash`` for that.
    Nothing of the masked characters can be recovered from the output.
    """

    name = "redact"
    Params = RedactParams
    deterministic = True
    reversible = False
    keeps_type = False

    params: RedactParams
    _ascii_letter_or_digit: ClassVar[str] = r"^[A-Za-z0-9]$"

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        params = self.params
        values = values.cast(pl.String)
        if params.email:
            # The domain starts at the last "@"; a value without one has no domain.
            parts = values.str.extract_groups(_EMAIL_PATTERN)
            domain = parts.struct.field("2")
            local = parts.struct.field("1").zip_with(domain.is_not_null(), values)
            domain = domain.fill_null("")
        else:
            local = values
            domain = None

        fallback = needs_grapheme_fallback(local)
        if params.keep_separators is False:
            masked = self._mask_plain(local)
        elif params.mask_char.isascii():
            masked = self._mask_bytes_keeping_separators(local)
        else:
            masked = self._mask_keeping_separators(local)
        if fallback.any():
            masked = self._mask_per_value(local, masked, fallback)
        if domain is None:
            return masked.alias(values.name)
        result = pl.select(pl.lit(masked) + pl.lit(domain)).to_series()
        return result.alias(values.name)

    def _mask_run(self, count: pl.Expr) -> pl.Expr:
        """Build a string of ``count`` mask characters."""
        mask = self.params.mask_char
        if len(mask) == 1:
            return pl.lit("").str.pad_end(count, mask)
        return pl.lit(mask).repeat_by(count).list.join("")

    def expression(self, values: pl.Expr, record_numbers: pl.Expr) -> ColumnExpression | None:
        params = self.params
        if params.keep_separators is not False:
            return None
        if not params.email:
            return ColumnExpression(value=self._plain_expression(values),
                                    failed=_grapheme_fallback(values))
        local = values.str.extract(_EMAIL_PATTERN, 1)
        domain = values.str.extract(_EMAIL_PATTERN, 2)
        local = pl.when(domain.is_null()).then(values).otherwise(local)
        return ColumnExpression(value=self._plain_expression(local) + domain.fill_null(""),
                                failed=_grapheme_fallback(local))

    def _mask_plain(self, local: pl.Series) -> pl.Series:
        """Vectorized redaction without separators, exact for ASCII values."""
        frame = pl.DataFrame({"text": local})
        return frame.select(self._plain_expression(pl.col("text")).alias("text")
                            ).to_series().alias(local.name)

    def _plain_expression(self, text: pl.Expr) -> pl.Expr:
        """Build the expression :meth:`_mask_plain` evaluates, on the values ``text``."""
        params = self.params
        kept = params.keep_first + params.keep_last
        size = text.str.len_chars().cast(pl.Int64)
        # Polars evaluates every branch of when/then, so the middle must not go negative.
        middle = (
            pl.lit(params.length) if params.length is not None
            else (size - kept).clip(lower_bound=0)
        )
        whole = pl.lit(params.length) if params.length is not None else size
        return (
            pl.when(text.is_null())
            .then(None)
            .when(size <= kept)
            .then(self._mask_run(whole))
            .otherwise(
                text.str.head(params.keep_first)
                + self._mask_run(middle)
                + text.str.tail(params.keep_last)
            )
        )

    def _mask_keeping_separators(self, local: pl.Series) -> pl.Series:
        """Vectorized redaction that keeps separators in place, exact for ASCII values.

        The values are exploded into one row per character, each non-separator
        gets its rank from the start and from the end of its value, and the
        characters are joined back per value.
        """
        params = self.params
        kept = params.keep_first + params.keep_last
        frame = pl.DataFrame({"text": local}).with_row_index("row")
        chars = (
            frame.with_columns(pl.col("text").str.split(""))
            .explode("text")
            .filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
        )
        is_separator = self._separator_expression(pl.col("text"))
        counted = (~is_separator).cast(pl.Int64)
        chars = chars.with_columns(
            is_separator.alias("separator"),
            counted.cum_sum().over("row").alias("from_start"),
            counted.sum().over("row").alias("total"),
        )
        from_end = pl.col("total") - pl.col("from_start") + 1
        keep = pl.col("separator") | (
            (pl.col("total") > kept)
            & ((pl.col("from_start") <= params.keep_first) | (from_end <= params.keep_last))
        )
        joined = (
            chars.with_columns(
                pl.when(keep).then(pl.col("text")).otherwise(pl.lit(params.mask_char))
            )
            .group_by("row", maintain_order=True)
            .agg(pl.col("text").str.join(""))
        )
        result = frame.select("row", pl.col("text").alias("original")).join(
            joined, on="row", how="left", maintain_order="left"
        )
        # A value that exploded into nothing is the empty string (an e-mail
        # with an empty local part); it stays empty.
        text = pl.when(pl.col("original").is_null()).then(None).otherwise(
            pl.col("text").fill_null(""))
        return result.select(text.alias("text")).to_series().alias(local.name)

    def _mask_bytes_keeping_separators(self, local: pl.Series) -> pl.Series:
        """Redact byte by byte on the Arrow buffers, keeping separators; exact for ASCII values.

        Replacing an ASCII byte by an ASCII mask keeps every value's byte
        length, so the offsets stay and only the data buffer changes. Bytes
        of non-ASCII characters count as separators here, so they stay
        valid UTF-8; those values are redone by the grapheme fallback.
        """
        params = self.params
        count = len(local)
        array = local.fill_null("").to_arrow(compat_level=pl.CompatLevel.oldest())
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[
            array.offset: array.offset + count + 1]
        data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
        offsets = offsets - offsets[0]

        counted = ~self._separator_table()[data]
        # 32-bit counters halve the memory traffic whenever the batch allows them.
        width = np.int32 if data.size < 2**31 - 1 else np.int64
        running = np.zeros(data.size + 1, dtype=width)
        np.cumsum(counted, dtype=width, out=running[1:])
        before_value = running[offsets[:-1]]
        totals = running[offsets[1:]] - before_value
        lengths = np.diff(offsets)
        from_start = running[1:] - np.repeat(before_value, lengths)
        total = np.repeat(totals, lengths)
        from_end = total - from_start + 1
        kept = params.keep_first + params.keep_last
        keep = ~counted | (
            (total > kept) & ((from_start <= params.keep_first) | (from_end <= params.keep_last))
        )
        masked = np.where(keep, data, np.uint8(ord(params.mask_char)))

        import pyarrow as pa  # imported here: it adds 25 ms to every start-up

        result = pa.LargeStringArray.from_buffers(
            count, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(masked.astype(np.uint8))
        )
        text = pl.Series(local.name, result)
        return pl.select(pl.when(pl.lit(local).is_null()).then(None).otherwise(pl.lit(text))
                         ).to_series().alias(local.name)

    def _separator_table(self) -> np.ndarray:
        """Return a lookup table over byte values: True for separators and non-ASCII bytes."""
        table = np.ones(256, dtype=bool)
        separators = self.params.keep_separators
        if separators is True:
            letters_and_digits = string.ascii_letters + string.digits
            table[[ord(char) for char in letters_and_digits]] = False
        else:
            assert isinstance(separators, str)
            table[:128] = False
            table[[ord(char) for char in separators if char.isascii()]] = True
        return table

    def _separator_expression(self, char: pl.Expr) -> pl.Expr:
        separators = self.params.keep_separators
        if separators is True:
            return ~char.str.contains(self._ascii_letter_or_digit)
        assert isinstance(separators, str)
        return char.is_in(list(separators))

    def _mask_per_value(
        self, local: pl.Series, masked: pl.Series, fallback: pl.Series
    ) -> pl.Series:
        """Redact the marked values grapheme by grapheme in Python (non-ASCII fallback)."""
        positions = fallback.arg_true()
        texts = local.gather(positions).to_list()
        redacted = [self._redact_graphemes(graphemes(text)) for text in texts]
        return masked.scatter(positions, redacted)

    def _redact_graphemes(self, chars: list[str]) -> str:
        params = self.params
        is_separator = self._separator_test()
        counted = [index for index, char in enumerate(chars) if not is_separator(char)]
        total = len(counted)
        kept = params.keep_first + params.keep_last
        if params.length is not None:
            if total <= kept:
                return params.mask_char * params.length
            head = "".join(chars[: params.keep_first])
            tail = "".join(chars[len(chars) - params.keep_last:])
            return head + params.mask_char * params.length + tail
        keep_positions: set[int] = set()
        if total > kept:
            keep_positions.update(counted[: params.keep_first])
            keep_positions.update(counted[total - params.keep_last:])
        return "".join(
            char if is_separator(char) or index in keep_positions else params.mask_char
            for index, char in enumerate(chars)
        )

    def _separator_test(self) -> Callable[[str], bool]:
        separators = self.params.keep_separators
        if separators is False:
            return lambda char: False
        if separators is True:
            return lambda char: not char[0].isalnum()
        listed = set(separators)
        return lambda char: char in listed
