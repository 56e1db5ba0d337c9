"""The redact strategy: kept characters, separators, e-mail mode and grapheme clusters."""

import polars as pl
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from maskme.strategies import get_strategy
from maskme.strategies.base import BatchView, StrategyContext
from maskme.strategies.redact import Redact, RedactParams


def redact(values, **params):
    strategy = Redact(RedactParams(**params), StrategyContext(field_path="field"))
    column = pl.Series("field", values, dtype=pl.String)
    batch = BatchView(record_numbers=pl.Series(range(1, len(values) + 1)),
                      column=lambda path: pl.Series([], dtype=pl.String))
    result = strategy.apply(column, batch)
    assert result.dtype == pl.String
    assert result.name == "field"
    return result.to_list()


def test_registered():
    assert get_strategy("redact") is Redact


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        # The phone number example of the docs.
        ("555-0142", {"keep_last": 2, "keep_separators": True}, "***-**42"),
        # Without keep_separators the dash is masked like any character.
        ("555-0142", {"keep_last": 2}, "******42"),
        ("4111-1111-1111-1234", {"keep_last": 4, "keep_separators": True}, "****-****-****-1234"),
        # Separators are not counted: the last 5 kept characters are digits.
        ("1234-5678", {"keep_last": 5, "keep_separators": True}, "***4-5678"),
        ("1234-5678", {"keep_first": 2, "keep_last": 2, "keep_separators": "-"}, "12**-**78"),
        ("Jane Doe", {"keep_first": 1}, "J*******"),
        ("Jane Doe", {"keep_first": 1, "keep_separators": " "}, "J*** ***"),
        ("abcdef", {"keep_first": 1, "keep_last": 1}, "a****f"),
        ("abcdef", {}, "******"),
        ("abcdef", {"keep_last": 2, "mask_char": "#"}, "####ef"),
        ("abcdef", {"keep_last": 2, "mask_char": "●"}, "●●●●ef"),
        ("abcdef", {"keep_last": 2, "mask_char": "👍🏽"}, "👍🏽👍🏽👍🏽👍🏽ef"),
    ],
)
def test_ascii_cases(value, params, expected):
    assert redact([value], **params) == [expected]


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        # No longer than keep_first + keep_last: masked completely.
        ("ab", {"keep_last": 2}, "**"),
        ("abc", {"keep_first": 2, "keep_last": 2}, "***"),
        ("a", {"keep_last": 4}, "*"),
        ("12-3", {"keep_last": 3, "keep_separators": True}, "**-*"),
        ("ab", {"keep_last": 2, "length": 6}, "******"),
    ],
)
def test_short_values_masked_completely(value, params, expected):
    assert redact([value], **params) == [expected]


def test_length_hides_length():
    values = ["abcdef", "abcdefghijklmn", "a"]
    assert redact(values, keep_first=1, keep_last=1, length=3) == ["a***f", "a***n", "***"]
    assert redact(values, length=4) == ["****", "****", "****"]


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        ("john.doe@example.com", {"email": True, "keep_first": 1}, "j*******@example.com"),
        ("john.doe@example.com", {"email": True, "keep_first": 1, "keep_separators": "."},
         "j***.***@example.com"),
        ("jo@example.com", {"email": True, "keep_first": 1, "keep_last": 1}, "**@example.com"),
        # The domain starts at the last "@".
        ("a@b@example.com", {"email": True}, "***@example.com"),
        ("@example.com", {"email": True, "keep_first": 1}, "@example.com"),
        # Without "@", the whole value is redacted as a local part.
        ("not-an-address", {"email": True, "keep_first": 1}, "n*************"),
        ("jöhn@exämple.com", {"email": True, "keep_first": 1}, "j***@exämple.com"),
    ],
)
def test_email_mode(value, params, expected):
    assert redact([value], **params) == [expected]


@pytest.mark.parametrize(
    ("value", "params", "expected"),
    [
        ("héllo", {"keep_last": 2}, "***lo"),
        # "e" + COMBINING ACUTE is one character and is kept or masked whole.
        ("he\u0301llo", {"keep_first": 2}, "he\u0301***"),
        ("he\u0301llo", {"keep_first": 1}, "h****"),
        # Thumbs up with a skin-tone modifier is one character.
        ("👍🏽ab👍🏽", {"keep_last": 1}, "***👍🏽"),
        # A family emoji joined with zero-width joiners is one character.
        ("x👨\u200d👩\u200d👧", {"keep_first": 1}, "x*"),
        ("🇫🇷🇩🇪", {"keep_last": 1}, "*🇩🇪"),
        ("日本語テキスト", {"keep_first": 2}, "日本*****"),
        # With keep_separators: true a non-ASCII letter counts as a letter.
        ("é-ü-ö", {"keep_last": 1, "keep_separators": True}, "*-*-ö"),
        # CR LF is one character even though it is ASCII.
        ("ab\r\ncd", {"keep_last": 1}, "****d"),
    ],
)
def test_grapheme_clusters(value, params, expected):
    assert redact([value], **params) == [expected]


def test_mixed_column_ascii_and_fallback_rows():
    values = ["555-0142", "5́55-0142", None, "555-01", "👍🏽👍🏽-👍🏽"]
    assert redact(values, keep_last=2, keep_separators=True) == [
        "***-**42", "***-**42", None, "***-01", "👍🏽👍🏽-👍🏽",
    ]
    assert redact(values, keep_last=2) == ["******42", "******42", None, "****01", "**-👍🏽"]


def test_sliced_and_chunked_column():
    # The separator path reads Arrow buffers, so offsets and chunks must be honoured.
    first = pl.Series("field", ["xx-123", "a-bcd", None, "555-0142"])
    column = pl.concat([first, pl.Series("field", ["99-99", "é-éé"])], rechunk=False)
    strategy = Redact(RedactParams(keep_last=2, keep_separators="-"),
                      StrategyContext(field_path="field"))
    batch = BatchView(record_numbers=pl.Series([1, 2, 3, 4, 5]), column=lambda path: column)
    result = strategy.apply(column.slice(1, 5), batch).to_list()
    assert result == ["*-*cd", None, "***-**42", "**-99", "*-éé"]


def test_null_stays_null_everywhere():
    assert redact([None, None], keep_last=2, keep_separators=True) == [None, None]
    assert redact([None], email=True) == [None]


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_MASK = "\u2588"


def read_back(value, result):
    """Split ``result`` into one piece per character of ``value``: the original or the mask.

    Splitting the output itself into graphemes would not work, because a
    kept combining mark that followed a masked character joins the mask.
    """
    pieces = []
    position = 0
    for char in regex.findall(r"\X", value):
        if result.startswith(char, position):
            pieces.append(char)
            position += len(char)
        else:
            assert result.startswith(_MASK, position), (value, result)
            pieces.append(_MASK)
            position += len(_MASK)
    assert position == len(result), (value, result)
    return pieces


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_TEXT, min_size=1, max_size=8),
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([False, True, "-. "]),
)
def test_property_kept_characters_only(values, keep_first, keep_last, separators):
    """Each output character is the value's character or the mask, and few are revealed."""
    results = redact(values, keep_first=keep_first, keep_last=keep_last,
                     keep_separators=separators, mask_char=_MASK)
    for value, result in zip(values, results):
        chars = regex.findall(r"\X", value)
        pieces = read_back(value, result)
        revealed = [piece for piece, char in zip(pieces, chars) if piece == char != _MASK]
        if separators is False:
            assert len(revealed) <= keep_first + keep_last
            if len(chars) <= keep_first + keep_last:
                assert revealed == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127, blacklist_characters="\r"),
                        min_size=1, max_size=15), min_size=1, max_size=10),
       st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=3),
       st.sampled_from([False, True, "-"]))
def test_property_vectorized_equals_fallback(values, keep_first, keep_last, separators):
    """The ASCII fast path and the per-value grapheme path agree."""
    params = RedactParams(keep_first=keep_first, keep_last=keep_last, keep_separators=separators)
    strategy = Redact(params, StrategyContext(field_path="field"))
    expected = [strategy._redact_graphemes(list(value)) for value in values]
    assert redact(values, keep_first=keep_first, keep_last=keep_last,
                  keep_separators=separators) == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mask_char": "**"}, "exactly one user-visible character, got 2"),
        ({"mask_char": ""}, "exactly one user-visible character, got 0"),
        ({"mask_char": "\n"}, "printable"),
        ({"keep_last": -1}, "greater than or equal to 0"),
        ({"length": 0}, "greater than or equal to 1"),
        ({"length": 4, "keep_separators": True}, "length and keep_separators contradict"),
        ({"keep_separators": ""}, "non-empty string"),
        ({"keep_lats": 4}, "keep_lats"),
    ],
)
def test_params_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        RedactParams(**params)
