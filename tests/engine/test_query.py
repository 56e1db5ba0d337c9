"""CSV runs as one Polars query: the same bytes as the batch path, or the batch path itself."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import maskme
from maskme.engine import local
from maskme.errors import FormatError
from tests.conftest import TEST_KEY

KEYS = {"k": {"env": "MASKME_KEY"}}

#: Policies whose every strategy has an expression for these params.
POLICIES = {
    "hash and redact": {
        "email": {"strategy": "hash", "key": "k", "normalize": ["strip", "lower"]},
        "ssn": {"strategy": "hash", "key": "k", "encoding": "base64", "length": 20},
        "phone": {"strategy": "redact", "keep_last": 4},
        "name": {"strategy": "drop"},
    },
    "context and e-mail redaction": {
        "email": {"strategy": "redact", "email": True, "keep_first": 1},
        "ssn": {"strategy": "hash", "key": "k", "context": "release-7"},
        "phone": {"strategy": "redact", "keep_first": 2, "length": 6},
        "name": {"strategy": "keep"},
    },
}


def mask_both(source: Path, fields: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              **options) -> tuple[bytes, bytes]:
    """Mask with the query and with batches only; return both outputs."""
    policy = {"version": 1, "default": options.pop("default", "keep"), "keys": KEYS,
              "fields": fields}
    fast = tmp_path / "query.csv"
    maskme.mask(source, policy, fast, **options)
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = tmp_path / "batches.csv"
    maskme.mask(source, policy, slow, **options)
    monkeypatch.setattr(local, "QUERY_ENABLED", True)
    return fast.read_bytes(), slow.read_bytes()


def write_table(path: Path, rows: list[list[str]], *, delimiter: str = ",",
                terminator: str = "\n", bom: bool = False) -> None:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(["name", "email", "ssn", "phone"])
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode("utf-8"))


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(ascii_text, any_text), min_size=4, max_size=4),
                     max_size=30),
       policy=st.sampled_from(sorted(POLICIES)),
       dialect=st.sampled_from([(",", "\n"), (";", "\r\n"), ("\t", "\n")]))
def test_query_writes_what_batches_write(tmp_path_factory, monkeypatch, runs, rows, policy,
                                         dialect):
    tmp_path = tmp_path_factory.mktemp("query")
    delimiter, terminator = dialect
    source = tmp_path / "in.csv"
    write_table(source, rows, delimiter=delimiter, terminator=terminator)
    fast, slow = mask_both(source, POLICIES[policy], tmp_path, monkeypatch, delimiter=delimiter)
    assert fast == slow


def test_query_runs_and_hashes_like_hmac(tmp_path, monkeypatch, runs):
    import hashlib
    import hmac

    source = tmp_path / "in.csv"
    write_table(source, [["Ann", " Ann@Example.org ", "123-45-6789", "555-0100"],
                         ["Bob", "", "", ""]])
    fast, slow = mask_both(source, POLICIES["hash and redact"], tmp_path, monkeypatch)
    assert runs.finished == 1
    assert runs.handed_over == 0
    assert fast == slow
    lines = fast.decode().splitlines()
    assert lines[0] == "email,ssn,phone"
    digest = hmac.new(TEST_KEY.encode(), b"ann@example.org", hashlib.sha256).hexdigest()
    assert lines[1].split(",")[0] == digest
    assert lines[1].split(",")[2] == "****0100"
    assert lines[2] == ",,"


def test_non_ascii_redaction_hands_over_to_batches(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    # A combining accent: two code points, one user-visible character.
    write_table(source, [["a", "x@y.z", "1", "e\u0301e\u0301e\u0301e\u0301e\u0301"]])
    fast, slow = mask_both(source, POLICIES["hash and redact"], tmp_path, monkeypatch)
    assert runs.handed_over == 1
    assert runs.finished == 0
    assert fast == slow
    assert fast.decode().splitlines()[1].endswith(",*" + "e\u0301" * 4)


def test_empty_line_hands_over_and_is_skipped(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    source.write_text("name,email,ssn,phone\nAnn,a@b.c,1,5550100\n\nBob,b@b.c,2,5550101\n")
    fast, slow = mask_both(source, POLICIES["hash and redact"], tmp_path, monkeypatch)
    assert runs.handed_over == 1
    assert fast == slow
    assert len(fast.decode().splitlines()) == 3


def test_record_of_empty_fields_is_kept(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    source.write_text("name,email,ssn,phone\n,,,\nAnn,a@b.c,1,5550100\n")
    fast, slow = mask_both(source, POLICIES["hash and redact"], tmp_path, monkeypatch)
    assert fast == slow
    assert fast.decode().splitlines()[1] == ",,"


def test_malformed_record_is_named_and_nothing_written(tmp_path, runs):
    source = tmp_path / "in.csv"
    source.write_text("name,email,ssn,phone\nAnn,a@b.c,1,5550100\nBob,b@b.c,2,5550101,extra\n")
    target = tmp_path / "out.csv"
    policy = {"version": 1, "default": "keep", "keys": KEYS, "fields": POLICIES["hash and redact"]}
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) has 5 fields"):
        maskme.mask(source, policy, target, delimiter=",")
    assert runs.handed_over == 1
    assert not target.exists()
    assert not list(tmp_path.glob("*.part"))


def test_header_only_file_keeps_its_header(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    source.write_text("name,email,ssn,phone\n")
    fast, slow = mask_both(source, POLICIES["hash and redact"], tmp_path, monkeypatch)
    assert runs.finished == 1
    assert fast == slow == b"email,ssn,phone\n"


def test_bom_and_default_drop(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    write_table(source, [["Ann", "a@b.c", "1", "5550100"]], bom=True)
    fields = {"phone": {"strategy": "redact", "keep_last": 2}, "ssn": {"strategy": "keep"}}
    fast, slow = mask_both(source, fields, tmp_path, monkeypatch, default="drop")
    assert runs.finished == 1
    assert fast == slow == b"\xef\xbb\xbfssn,phone\n1,*****00\n"


def test_column_names_that_look_like_patterns(tmp_path, monkeypatch, runs):
    source = tmp_path / "in.csv"
    source.write_text("^a.*$,a,*\nSECRET,x,y\n")
    fields = {"a": {"strategy": "redact", "keep_last": 0}}
    fast, slow = mask_both(source, fields, tmp_path, monkeypatch)
    assert runs.finished == 1
    assert fast == slow == b"^a.*$,a,*\nSECRET,*,y\n"


def test_progress_ends_at_the_file_size(tmp_path, runs):
    source = tmp_path / "in.csv"
    write_table(source, [["Ann", f"a{n}@b.c", str(n), "5550100"] for n in range(1000)])
    reports: list[tuple[int, int, int | None]] = []
    policy = {"version": 1, "default": "keep", "keys": KEYS, "fields": POLICIES["hash and redact"]}
    result = maskme.mask(source, policy, tmp_path / "out.csv", batch_size=100,
                         progress=lambda *report: reports.append(report))
    assert runs.finished == 1
    assert result.records == 1000
    assert reports[-1] == (1000, source.stat().st_size, source.stat().st_size)
    assert [r[0] for r in reports] == sorted(r[0] for r in reports)
    assert len(reports) >= 10


def test_write_failure_is_raised_not_hidden(tmp_path, monkeypatch, runs):
    from maskme.formats import csv as csv_format

    def failing(self, batch):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv_format.CsvWriter, "write", failing)
    source = tmp_path / "in.csv"
    write_table(source, [["Ann", "a@b.c", "1", "5550100"]])
    policy = {"version": 1, "default": "keep", "keys": KEYS, "fields": POLICIES["hash and redact"]}
    with pytest.raises(FormatError, match="No space left on device"):
        maskme.mask(source, policy, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_steps_are_computed_before_the_value(tmp_path, monkeypatch, runs):
    """A strategy's intermediate columns reach its value expression and leave no trace."""
    import polars as pl

    from maskme.strategies import Strategy, StrategyParams, register_strategy
    from maskme.strategies.base import ColumnExpression, step_name
    from maskme.strategies.registry import unregister_strategy

    class TwiceParams(StrategyParams):
        pass

    class Twice(Strategy):
        name = "test_twice"
        Params = TwiceParams

        def apply(self, values, batch):
            frame = pl.DataFrame({"v": values, "r": batch.record_numbers.cast(pl.UInt64)})
            described = self.expression(pl.col("v"), pl.col("r"))
            return described.evaluate(frame).get_column("value").alias(values.name)

        def expression(self, values, record_numbers):
            doubled = step_name(self.context.field_path, "doubled")
            return ColumnExpression(
                value=pl.col(doubled) + pl.lit("#") + record_numbers.cast(pl.String),
                steps=((doubled, values + values),),
            )

    register_strategy(Twice)
    try:
        source = tmp_path / "in.csv"
        source.write_text("a,b\nx,1\n,2\nyz,3\n")
        fast, slow = mask_both(source, {"a": {"strategy": "test_twice"}}, tmp_path, monkeypatch)
    finally:
        unregister_strategy("test_twice")
    assert runs.finished == 1
    assert fast == slow == b"a,b\nxx#1,1\n,2\nyzyz#3,3\n"


def _outcome(source: Path, policy: dict, target: Path) -> bytes | str:
    try:
        maskme.mask(source, policy, target, delimiter=",")
    except FormatError as error:
        assert not target.exists()
        return f"error: {error}"
    return target.read_bytes()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(st.sampled_from(['a', 'b', ',', '"', '\n', '\r', ' ', 'é', '1']),
                    max_size=40))
def test_any_text_gives_the_batch_result_or_error(tmp_path_factory, monkeypatch, key_env, body):
    """Malformed CSV included: the query path writes or reports exactly what batches do."""
    tmp_path = tmp_path_factory.mktemp("text")
    source = tmp_path / "in.csv"
    source.write_bytes(("a,b,c\n" + body).encode("utf-8"))
    policy = {"version": 1, "default": "keep", "keys": KEYS,
              "fields": {"a": {"strategy": "hash", "key": "k", "length": 6},
                         "c": {"strategy": "redact", "keep_last": 1}}}
    fast = _outcome(source, policy, tmp_path / "fast.csv")
    monkeypatch.setattr(local, "QUERY_ENABLED", False)
    slow = _outcome(source, policy, tmp_path / "slow.csv")
    monkeypatch.setattr(local, "QUERY_ENABLED", True)
    assert fast == slow


# name: (file contents, whether the query hands over to batches)
ENDINGS = {
    "one empty line": (b"a,b\nx,1\n\n", False),
    "three empty lines": (b"a,b\nx,1\n\n\r\n\n", False),
    "empty record, then an empty line": (b"a,b\nx,1\n,\n\n", True),
    "empty record at the end": (b"a,b\nx,1\n,\n", True),
    "empty line inside": (b"a,b\nx,1\n\ny,2\n", True),
    "lone CR at the end": (b"a,b\nx,1\n\r", True),
    "header and an empty line": (b"a,b\n\n", False),
}


@pytest.mark.parametrize("contents, hands_over", ENDINGS.values(), ids=ENDINGS.keys())
def test_query_file_endings(tmp_path, monkeypatch, runs, contents, hands_over):
    """Empty lines at the end of the file stay in the query; other empty records go to batches."""
    source = tmp_path / "in.csv"
    source.write_bytes(contents)
    fast, slow = mask_both(source, {"a": {"strategy": "redact"}}, tmp_path, monkeypatch,
                           delimiter=",", batch_size=1)
    assert fast == slow
    assert runs.handed_over == int(hands_over)


@pytest.mark.parametrize("block_bytes", [3, 4, 5, 1 << 20])
@pytest.mark.parametrize("contents, lone", [
    (b"a,b\n1,2\n", False),
    (b"a,b\r\n1,2\r\n", False),
    (b"a,b\r\n1,\"x\r\ny\"\r\n", False),
    (b"a,b\n1,2\r", True),
    (b"a,b\n1,2\r\r\n", True),
    (b"a,b\n1,\"x\ry\"\n", True),
])
def test_lone_carriage_returns_found_across_blocks(tmp_path, monkeypatch, block_bytes,
                                                   contents, lone):
    from maskme.formats import csv as csv_format

    monkeypatch.setattr(csv_format, "BLOCK_BYTES", block_bytes)
    source = tmp_path / "in.csv"
    source.write_bytes(contents)
    reader = csv_format.CsvReader(source, csv_format.detect_dialect(source, delimiter=","))
    scan = reader.scan(["a"])
    assert scan is not None
    assert scan.flags_only_empty is not lone
