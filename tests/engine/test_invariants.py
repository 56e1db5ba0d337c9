"""Hypothesis properties of a masking run: untouched fields, missing values, consistency."""

import csv
import hashlib
import hmac
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme

KEY = "property-test-key"
POLICY = {
    "version": 1,
    "default": "keep",
    "keys": {"main": {"env": "MASKME_PROPERTY_KEY"}},
    "fields": {"secret": {"strategy": "hash", "key": "main"}},
}
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=10)


def digest(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@SETTINGS
@given(
    rows=st.lists(st.tuples(text, text, text), min_size=1, max_size=25),
    batch_size=st.sampled_from([1, 3, 65_536]),
)
def test_csv_other_columns_unchanged(tmp_path, monkeypatch, rows, batch_size):
    monkeypatch.setenv("MASKME_PROPERTY_KEY", KEY)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["before", "secret", "after"])
    writer.writerows(rows)
    source = tmp_path / "in.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    target = tmp_path / "out.csv"
    maskme.mask(source, POLICY, target, batch_size=batch_size, delimiter=",")
    parsed = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert parsed[0] == ["before", "secret", "after"]
    for (before, secret, after), out in zip(rows, parsed[1:], strict=True):
        assert out[0] == before
        assert out[2] == after
        assert out[1] == ("" if secret == "" else digest(secret))


json_value = st.one_of(st.none(), text, st.integers(-(10**20), 10**20), st.booleans())


@SETTINGS
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {"other": json_value}, optional={"secret": st.one_of(st.none(), text), "z": json_value}
        ),
        min_size=1,
        max_size=20,
    ),
    batch_size=st.sampled_from([1, 4, 65_536]),
)
def test_jsonl_missing_stays_missing(tmp_path, monkeypatch, records, batch_size):
    monkeypatch.setenv("MASKME_PROPERTY_KEY", KEY)
    if not any("secret" in record for record in records):
        records[0]["secret"] = "x"
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    target = tmp_path / "out.jsonl"
    maskme.mask(source, POLICY, target, batch_size=batch_size)
    # split on "\n" only: str.splitlines also splits on U+0085 and U+2028 inside values
    out = [json.loads(line) for line in target.read_text().split("\n") if line]
    assert len(out) == len(records)
    for original, masked in zip(records, out, strict=True):
        assert list(masked) == list(original)  # same keys, same order
        for key, value in original.items():
            if key != "secret":
                assert masked[key] == value
        if "secret" in original:
            secret = original["secret"]
            if secret is None or secret == "":
                assert masked["secret"] == secret
            else:
                assert masked["secret"] == digest(secret)
                assert masked["secret"] != secret
