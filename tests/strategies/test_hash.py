"""The hash strategy: golden vectors, normalization, encodings and key handling.

The golden digests were computed outside Python with OpenSSL 3.0, for example::

    printf 'john@example.com' | openssl mac -digest SHA256 \
        -macopt hexkey:6d61736b6d652d676f6c64656e2d6b65792d3031323334353637383961626364 HMAC
    printf 'john@example.com' | openssl mac -macopt hexkey:<same> -macopt size:32 BLAKE2BMAC

and re-encoded with coreutils ``xxd -r -p | base64`` or ``| base32``.
"""

import base64
import hashlib
import hmac
import logging
import re
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from maskme.errors import KeyMissingError, PolicyError
from maskme.strategies import get_strategy
from maskme.strategies.base import BatchView, StrategyContext
from maskme.strategies.hash import (
    Hash,
    HashParams,
    digest_hex_python,
    digest_hex_vectorized,
)

#: The golden key, 32 ASCII bytes.
KEY = b"maskme-golden-key-0123456789abcd"
#: A key that is not valid UTF-8, so the vectorized plugin cannot take it.
BINARY_KEY = bytes.fromhex("ff00fe01c0c1deadbeef00112233445566778899")


def hash_values(values, key=KEY, **params):
    params.setdefault("key", "main")
    strategy = Hash(HashParams(**params), StrategyContext(field_path="email", key=key))
    column = pl.Series("email", values, dtype=pl.String)
    batch = BatchView(record_numbers=pl.Series(range(1, len(values) + 1)),
                      column=lambda path: pl.Series([], dtype=pl.String))
    result = strategy.apply(column, batch)
    assert result.dtype == pl.String
    assert result.name == "email"
    return result.to_list()


def test_registered():
    assert get_strategy("hash") is Hash
    assert Hash.requires_key(HashParams(key="main"))


@pytest.mark.parametrize(
    ("value", "params", "digest"),
    [
        # HMAC-SHA-256, hex, of the ASCII bytes.
        ("john@example.com", {},
         "00ec147bff42ffc0831a6d1b25fe4d67a1e470115de7ca0d1dfbad1675848611"),
        ("555-0142", {},
         "591e98705c50bad9e8253d3db1826534a74e4856907d1d19be3a84cd4033a648"),
        # Non-ASCII text is hashed as UTF-8: "Zürich" is 5a c3 bc 72 69 63 68.
        ("Zürich", {},
         "d55b377311deb9f43bcf5224e342eb4a79fef86e126ca1b9345bafbbb37df3c7"),
        # strip + lower turn the address into the first case.
        ("  John@Example.COM ", {"normalize": ["strip", "lower"]},
         "00ec147bff42ffc0831a6d1b25fe4d67a1e470115de7ca0d1dfbad1675848611"),
        # NFC composes "e" + COMBINING ACUTE into U+00E9, hashed as "caf\xc3\xa9".
        ("cafe\u0301", {"normalize": ["nfc"]},
         "2b7f236d7ff9e8f27171f9fd4ad94ff2ced7d8d713f3117ccc7bb656d439bf2d"),
        # The context and a NUL byte come before the value.
        ("john@example.com", {"context": "release-2026"},
         "6df1d29ea24d398a74994d528f36719cf779420dd46a39efe9fc55a7df4a2601"),
        # Keyed BLAKE2b with a 32-byte digest.
        ("john@example.com", {"algorithm": "blake2b"},
         "099700e9dd151da824a94d6ac22301aa636056f14641cd8e6a97ea5dce356f30"),
        ("555-0142", {"algorithm": "blake2b"},
         "9d1d60054b0d8d71268d43b26af9f8c8e22216c8a3a80425a851c26e1ee9bc29"),
        # The first case in padded standard base64 and base32.
        ("john@example.com", {"encoding": "base64"},
         "AOwUe/9C/8CDGm0bJf5NZ6HkcBFd58oNHfutFnWEhhE="),
        ("john@example.com", {"encoding": "base32"},
         "ADWBI677IL74BAY2NUNSL7SNM6Q6I4ARLXT4UDI57OWRM5MEQYIQ===="),
        ("john@example.com", {"algorithm": "blake2b", "encoding": "base32"},
         "BGLQB2O5CUO2QJFJJVVMEIYBVJRWAVXRIZA43DTKS7VF3TRVN4YA===="),
        # length keeps the first characters of the encoded digest.
        ("john@example.com", {"length": 16}, "00ec147bff42ffc0"),
        ("john@example.com", {"encoding": "base32", "length": 10}, "ADWBI677IL"),
    ],
)
def test_golden_vectors(value, params, digest):
    assert hash_values([value], **params) == [digest]


def test_golden_vector_binary_key():
    # This key is not UTF-8, so the pure-Python path computes the digest.
    assert hash_values(["john@example.com"], key=BINARY_KEY) == [
        "a92793b836803ee60b358c1d5430e145ee7eef351a74f42db2f4df09a9811038"
    ]


def test_null_stays_null_in_every_encoding():
    for encoding in ("hex", "base64", "base32"):
        for algorithm in ("hmac-sha256", "blake2b"):
            result = hash_values([None, "a", None], encoding=encoding, algorithm=algorithm)
            assert result[0] is None
            assert result[2] is None
            assert result[1] is not None


def test_empty_column():
    assert hash_values([], encoding="base32") == []


def test_same_value_same_digest_across_batches():
    first = hash_values(["a", "b", "a"])
    second = hash_values(["b"])
    assert first[0] == first[2]
    assert first[1] == second[0]
    assert first[0] != first[1]


def test_key_changes_digest():
    assert hash_values(["a"]) != hash_values(["a"], key=KEY[::-1])


def test_context_separates_releases():
    assert hash_values(["a"], context="2025") != hash_values(["a"], context="2026")
    assert hash_values(["a"], context="2025") != hash_values(["a"])


def test_collapse_whitespace_and_upper():
    result = hash_values(["jane \t doe", "JANE DOE"], normalize=["collapse_whitespace", "upper"])
    assert result[0] == result[1]


def test_nfkc_links_compatibility_forms():
    # U+FB01 LATIN SMALL LIGATURE FI becomes "fi" under NFKC but not NFC.
    assert hash_values(["\ufb01le", "file"], normalize=["nfkc"])[0] == hash_values(["file"])[0]
    nfc = hash_values(["\ufb01le", "file"], normalize=["nfc"])
    assert nfc[0] != nfc[1]


def test_missing_key_rejected():
    with pytest.raises(KeyMissingError, match="hash needs the key 'main', but no key was loaded"):
        Hash(HashParams(key="main"), StrategyContext(field_path="email"))


def test_empty_key_rejected():
    with pytest.raises(KeyMissingError, match="no key was loaded"):
        Hash(HashParams(key="main"), StrategyContext(field_path="email", key=b""))


def test_blake2b_long_key_rejected():
    long_key = b"k" * 65
    with pytest.raises(PolicyError, match="longer than the 64 bytes blake2b accepts") as caught:
        Hash(HashParams(key="main", algorithm="blake2b"),
             StrategyContext(field_path="email", key=long_key))
    assert long_key.decode() not in str(caught.value)


def test_long_key_accepted_by_hmac():
    # HMAC hashes keys longer than the SHA-256 block (64 bytes) first.
    assert len(hash_values(["a"], key=b"k" * 100)[0]) == 64


def test_short_key_warns_without_key(caplog):
    with caplog.at_level(logging.WARNING, logger="maskme.strategies.hash"):
        hash_values(["a"], key=b"tiny-key")
    assert "shorter than 16 bytes" in caplog.text
    assert "tiny-key" not in caplog.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "key"),
        ({"key": "main", "algorithm": "md5"}, "algorithm"),
        ({"key": "main", "encoding": "base58"}, "encoding"),
        ({"key": "main", "length": 0}, "greater than or equal to 1"),
        ({"key": "main", "length": 65}, "length 65 exceeds the 64 characters of a hex digest"),
        ({"key": "main", "encoding": "base64", "length": 45}, "44 characters of a base64"),
        ({"key": "main", "normalize": ["trim"]}, "normalize"),
        ({"key": "main", "context": "a\x00b"}, "must not contain a NUL"),
        ({"key": "main", "salt": "x"}, "salt"),
    ],
)
def test_params_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        HashParams(**params)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)))),
             max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80),
)
def test_vectorized_equals_python(values, key_text):
    """The polars-hash path and the hmac fallback give identical digests."""
    column = pl.Series("value", values, dtype=pl.String)
    key = key_text.encode("utf-8")
    vectorized = digest_hex_vectorized(column, key).to_list()
    fallback = digest_hex_python(column, key, "hmac-sha256").to_list()
    assert vectorized == fallback


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=20),
       st.sampled_from(["base64", "base32"]))
def test_encodings_match_python(values, encoding):
    encode = base64.b64encode if encoding == "base64" else base64.b32encode
    expected = [
        None if value is None
        else encode(hmac.new(KEY, value.encode(), hashlib.sha256).digest()).decode()
        for value in values
    ]
    assert hash_values(values, encoding=encoding) == expected


#: Masks a file with several hash settings and noise per subject in a fresh process.
#: A first argument "blocked" hides the polars-hash plugin, as if it were not installed.
_MASK_SCRIPT = """
import sys
if sys.argv[1] == "blocked":
    sys.modules["polars_hash"] = None  # import polars_hash now raises ImportError
import maskme
from maskme.strategies.hash import plugin_available
print(plugin_available())
policy = {"version": 1, "default": "keep", "keys": {"k": {"env": "MASKME_KEY"}}, "fields": {
    "a": {"strategy": "hash", "key": "k"},
    "b": {"strategy": "hash", "key": "k", "encoding": "base64", "length": 12,
          "normalize": ["strip", "lower"], "context": "mail"},
    "d": {"strategy": "noise", "days": 30, "key": "k", "consistent_by": "a"},
}}
maskme.mask(sys.argv[2], policy, sys.argv[3])
"""


@pytest.mark.parametrize("extension", ["csv", "jsonl"])
def test_same_digests_without_plugin(tmp_path, extension):
    """Without polars-hash, hashes and consistent noise are the same, byte for byte."""
    import subprocess
    import sys

    from tests.conftest import TEST_KEY

    source = tmp_path / f"in.{extension}"
    values = [("x@Example.com", " Ada@Mail.org ", "2020-01-31"), ("", "é", "2021-06-01"),
              ("1", "", "1999-12-31"), ("x@Example.com", "b", "2020-02-10")]
    if extension == "csv":
        rows = "".join(f"{a},{b},{d}\n" for a, b, d in values)
        source.write_text("a,b,d\n" + rows, encoding="utf-8")
    else:
        rows = "".join(f'{{"a":"{a}","b":"{b}","d":"{d}"}}\n' for a, b, d in values)
        source.write_text(rows, encoding="utf-8")
    outputs = {}
    for mode in ("plugin", "blocked"):
        target = tmp_path / f"{mode}.{extension}"
        done = subprocess.run(
            [sys.executable, "-c", _MASK_SCRIPT, mode, str(source), str(target)],
            capture_output=True, text=True, timeout=120, env={"MASKME_KEY": TEST_KEY},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(mode == "plugin")
        outputs[mode] = target.read_bytes()
    assert outputs["plugin"] == outputs["blocked"]
    assert b"x@Example.com" not in outputs["plugin"]
    # Records 1 and 4 share a subject, so their dates move by the same days.
    text = outputs["plugin"].decode("utf-8")
    dates = [date.fromisoformat(found) for found in re.findall(r"\d{4}-\d{2}-\d{2}", text)]
    assert len(dates) == 4
    assert dates[3] - dates[0] == timedelta(days=10)
    assert dates[0] != date(2020, 1, 31)
