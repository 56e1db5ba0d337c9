"""The ``hash`` strategy: replace each value by a keyed digest."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from maskme.errors import KeyMissingError, PolicyProblem
from maskme.strategies.base import (
    BatchView,
    ColumnExpression,
    Strategy,
    StrategyContext,
    StrategyParams,
)
from maskme.strategies.registry import register_strategy

__all__ = [
    "DIGEST_SIZE",
    "ENCODED_LENGTH",
    "Hash",
    "HashParams",
    "StrategyKeyError",
    "digest_hex_python",
    "digest_hex_vectorized",
    "encode_hex_digests",
    "hmac_sha256_hex",
    "plugin_available",
]

logger = logging.getLogger(__name__)

try:
    import polars_hash as plh
except ImportError:  # pragma: no cover - the plugin has no wheel for some platforms
    plh = None  # type: ignore[assignment]
    logger.info("polars-hash is not installed: keyed hashes are computed in Python (slower)")

Algorithm = Literal["hmac-sha256", "blake2b"]
Encoding = Literal["hex", "base64", "base32"]
Normalization = Literal["strip", "lower", "upper", "nfc", "nfkc", "collapse_whitespace"]

#: Digest size in bytes of both algorithms (BLAKE2b is used with a 32-byte digest).
DIGEST_SIZE = 32
#: Length of a full digest in each encoding (base64 and base32 with their ``=`` padding).
ENCODED_LENGTH: dict[str, int] = {"hex": 64, "base64": 44, "base32": 56}
#: BLAKE2b accepts keys of at most 64 bytes.
BLAKE2B_MAX_KEY_SIZE = 64
#: Keys shorter than this are accepted with a warning (HMAC-SHA-256 wants at least 32).
SHORT_KEY_SIZE = 16
#: Byte between the ``context`` and the value, so that context and value cannot run together.
CONTEXT_SEPARATOR = "\x00"

_BASE32_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)


class StrategyKeyError(KeyMissingError):
    """The key a strategy's params name was not loaded, or cannot be used by it.

    Its text is the one problem's message alone, without the ``invalid
    policy`` header, so a plan can nest it under the field's policy line.
    """

    def __init__(self, message: str, *, field_path: str) -> None:
        super().__init__([PolicyProblem(message=message, path=field_path)])

    def __str__(self) -> str:
        return self.problems[0].message


class HashParams(StrategyParams):
    """Parameters of ``hash``."""

    key: str = Field(
        description="Name of the policy key (under ``keys:``) the digest is keyed with.",
    )
    algorithm: Algorithm = Field(
        default="hmac-sha256",
        description=(
            "``hmac-sha256`` (HMAC with SHA-256) or ``blake2b`` (keyed BLAKE2b, 32-byte "
            "digest)."
        ),
    )
    encoding: Encoding = Field(
        default="hex",
        description=(
            "Text encoding of the 32-byte digest: ``hex`` (64 characters), ``base64`` (44) "
            "or ``base32`` (56)."
        ),
    )
    length: int | None = Field(
        default=None, ge=1,
        description="Keep only the first ``length`` characters of the encoded digest.",
    )
    normalize: tuple[Normalization, ...] = Field(
        default=(),
        description="Steps applied, in order, before hashing, so that variants of a value link.",
    )
    context: str | None = Field(
        default=None,
        description="Domain separator hashed before the value, so that two releases do not link.",
    )

    @field_validator("context")
    @classmethod
    def _no_separator(cls, value: str | None) -> str | None:
        if value is not None and CONTEXT_SEPARATOR in value:
            raise ValueError("context must not contain a NUL character")
        return value

    @model_validator(mode="after")
    def _length_fits(self) -> HashParams:
        full = ENCODED_LENGTH[self.encoding]
        if self.length is not None and self.length > full:
            raise ValueError(
                f"length {self.length} exceeds the {full} characters of a {self.encoding} digest"
            )
        return self


@register_strategy(builtin=True)
class Hash(Strategy):
    """Replace each value by its keyed digest (HMAC-SHA-256 or keyed BLAKE2b).

    The same value, key, algorithm, normalization and context give the same
    digest on any machine, so hashed fields still join across files and
    releases that share a key. The digest of a value ``v`` is
    ``HMAC-SHA-256(key, v)`` or ``BLAKE2b(v, key=key, digest_size=32)`` over
    the UTF-8 bytes of the normalized value, with ``context`` and a NUL byte
    before ``v`` when a context is set. Null stays null.

    Notes
    -----
    Keyed hashing is pseudonymization, not anonymization. Without the key,
    the digest cannot be reversed by enumerating a small domain (phone
    numbers, birth dates), which an unkeyed hash allows. Anyone with the key
    can hash candidate values and match them, so guard the key like the
    data. Equal inputs give equal outputs, so frequencies and links
    between records survive: a rare value stays rare and identifiable through
    other fields. A short ``length`` makes different values collide more
    often (for ``length`` hex characters, expect a collision among about
    ``16 ** (length / 2)`` distinct values). Normalization merges values that
    differ only in the normalized respects.
    """

    name = "hash"
    Params = HashParams
    deterministic = True
    reversible = False
    keeps_type = False

    params: HashParams

    def __init__(self, params: StrategyParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        key = context.key
        if key is None or len(key) == 0:
            raise StrategyKeyError(
                f"hash needs the key '{self.params.key}', but no key was loaded; "
                "define it under keys: and provide its environment variable or file",
                field_path=context.field_path,
            )
        if self.params.algorithm == "blake2b" and len(key) > BLAKE2B_MAX_KEY_SIZE:
            raise StrategyKeyError(
                f"key '{self.params.key}' is longer than the {BLAKE2B_MAX_KEY_SIZE} "
                "bytes blake2b accepts; use a shorter key or algorithm: hmac-sha256",
                field_path=context.field_path,
            )
        if len(key) < SHORT_KEY_SIZE:
            logger.warning(
                "field %s: key '%s' is shorter than %d bytes, which makes guessing it easier; "
                "use 32 random bytes", context.field_path, self.params.key, SHORT_KEY_SIZE,
            )
        self._key = key

    @classmethod
    def requires_key(cls, params: StrategyParams) -> bool:
        return True

    def apply(self, values: pl.Series, batch: BatchView) -> pl.Series:
        params = self.params
        if self._vectorized():
            frame = pl.DataFrame({"value": values.cast(pl.String)})
            expression = self._digest_expression(pl.col("value"))
            return frame.select(expression).to_series().alias(values.name)
        message = normalize(values.cast(pl.String), params.normalize)
        if params.context is not None:
            prefix = pl.lit(params.context + CONTEXT_SEPARATOR, dtype=pl.String)
            message = pl.select(prefix + pl.lit(message)).to_series().alias(values.name)
        digests = digest_hex_python(message, self._key, params.algorithm)
        encoded = encode_hex_digests(digests, params.encoding)
        if params.length is not None:
            encoded = encoded.str.head(params.length)
        return encoded.alias(values.name)

    def expression(self, values: pl.Expr, record_numbers: pl.Expr) -> ColumnExpression | None:
        if not self._vectorized():
            return None
        return ColumnExpression(value=self._digest_expression(values))

    def _vectorized(self) -> bool:
        """Return whether the polars-hash plugin computes these digests in their encoding."""
        return (plugin_available() and self.params.algorithm == "hmac-sha256"
                and _is_utf8(self._key) and self.params.encoding != "base32")

    def _digest_expression(self, values: pl.Expr) -> pl.Expr:
        """HMAC-SHA-256 of the normalized values with the plugin, encoded and cut to length."""
        params = self.params
        message = normalize_expression(values, params.normalize)
        if params.context is not None:
            message = pl.lit(params.context + CONTEXT_SEPARATOR, dtype=pl.String) + message
        digests = plh.CryptographicHashingNameSpace(message).hmac_sha256(
            key=self._key.decode("utf-8"))
        if params.encoding == "base64":
            digests = digests.str.decode("hex").bin.encode("base64")
        if params.length is not None:
            digests = digests.str.head(params.length)
        return digests


def normalize(values: pl.Series, steps: tuple[Normalization, ...]) -> pl.Series:
    """Apply the normalization steps in order, as Polars string operations."""
    frame = pl.DataFrame({"value": values})
    return frame.select(normalize_expression(pl.col("value"), steps)).to_series().alias(values.name)


def normalize_expression(values: pl.Expr, steps: tuple[Normalization, ...]) -> pl.Expr:
    """Return the expression that applies the normalization steps in order."""
    for step in steps:
        if step == "strip":
            values = values.str.strip_chars()
        elif step == "lower":
            values = values.str.to_lowercase()
        elif step == "upper":
            values = values.str.to_uppercase()
        elif step == "nfc":
            values = values.str.normalize("NFC")
        elif step == "nfkc":
            values = values.str.normalize("NFKC")
        else:
            values = values.str.replace_all(r"\s+", " ")
    return values


def plugin_available() -> bool:
    """Return whether the polars-hash plugin is installed.

    Without it, every digest comes from :func:`digest_hex_python`, which
    writes the same digests value by value.
    """
    return plh is not None


def hmac_sha256_hex(values: pl.Series, key: bytes) -> pl.Series:
    """Return HMAC-SHA-256 hex digests, with the plugin where it is installed and takes the key."""
    if plugin_available() and _is_utf8(key):
        return digest_hex_vectorized(values, key)
    return digest_hex_python(values, key, "hmac-sha256")


def digest_hex_vectorized(values: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA-256 hex digests with the polars-hash plugin; ``key`` must be UTF-8."""
    if plh is None:
        raise RuntimeError("the polars-hash plugin is not installed; use digest_hex_python")
    frame = pl.DataFrame({"value": values})
    return frame.select(
        plh.col("value").chash.hmac_sha256(key=key.decode("utf-8"))
    ).to_series().alias(values.name)


def digest_hex_python(values: pl.Series, key: bytes, algorithm: Algorithm) -> pl.Series:
    """Hex digests computed value by value with :mod:`hmac` and :mod:`hashlib`.

    The fallback for keys that are not UTF-8 and for BLAKE2b, which the
    polars-hash plugin does not offer keyed.
    """
    digests: list[str | None] = []
    if algorithm == "hmac-sha256":
        keyed = hmac.new(key, digestmod=hashlib.sha256)
        for value in values.to_list():
            if value is None:
                digests.append(None)
                continue
            state = keyed.copy()
            state.update(value.encode("utf-8"))
            digests.append(state.hexdigest())
    else:
        for value in values.to_list():
            if value is None:
                digests.append(None)
                continue
            digest = hashlib.blake2b(value.encode("utf-8"), key=key, digest_size=DIGEST_SIZE)
            digests.append(digest.hexdigest())
    return pl.Series(values.name, digests, dtype=pl.String)


def encode_hex_digests(digests: pl.Series, encoding: Encoding) -> pl.Series:
    """Re-encode hex digests as ``hex`` (unchanged), padded ``base64`` or padded ``base32``."""
    if encoding == "hex":
        return digests
    if encoding == "base64":
        return digests.str.decode("hex").bin.encode("base64").alias(digests.name)
    if len(digests) == 0:
        return digests

    count = len(digests)
    present = digests.is_not_null()
    filled = digests.fill_null("00" * DIGEST_SIZE).to_list()
    raw = np.frombuffer(bytes.fromhex("".join(filled)), dtype=np.uint8).reshape(count, DIGEST_SIZE)

    # Base32 writes 5 bits per character: 256 bits give 52 characters, the
    # last one padded with zero bits, then "====" pads to 56. Character i is
    # bits 5i to 5i+4, read from the 16-bit window of bytes 5i//8 and the next.
    padded = np.zeros((count, DIGEST_SIZE + 1), dtype=np.uint16)
    padded[:, :DIGEST_SIZE] = raw
    first_bit = 5 * np.arange(52)
    byte_index = first_bit // 8
    shift = (11 - first_bit % 8).astype(np.uint16)
    window = (padded[:, byte_index] << np.uint16(8)) | padded[:, byte_index + 1]
    characters = _BASE32_ALPHABET[(window >> shift) & np.uint16(31)]
    padding = np.full((count, 4), ord("="), dtype=np.uint8)
    text = np.ascontiguousarray(np.hstack([characters, padding]))

    width = ENCODED_LENGTH["base32"]
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int64)
    import pyarrow as pa  # imported here: it adds 25 ms to every start-up

    array = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))
    encoded = pl.Series(digests.name, array)
    return pl.select(pl.when(pl.lit(present)).then(pl.lit(encoded)).otherwise(None)
                     ).to_series().alias(digests.name)


def _is_utf8(key: bytes) -> bool:
    try:
        key.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
