"""The CSV reader's fixed-size blocks give the same records as one whole-file parse."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskme.formats import csv as csv_format
from maskme.formats.csv import CsvReader, _last_record_end, detect_dialect

CELLS = st.one_of(
    st.none(),
    st.text(alphabet='ab,"\n\r é', max_size=12),
)


def _write(path: Path, header: list[str], rows: list[list[str | None]], *, crlf: bool) -> None:
    frame = pl.DataFrame({name: [row[i] for row in rows] for i, name in enumerate(header)},
                         schema={name: pl.String for name in header})
    frame.write_csv(path, line_terminator="\r\n" if crlf else "\n")


def _read_all(path: Path, batch_size: int) -> pl.DataFrame:
    reader = CsvReader(path, detect_dialect(path, delimiter=","))
    frames = [batch.data for batch in reader.batches(batch_size)]  # type: ignore[attr-defined]
    return pl.concat(frames)


def _read_in_blocks(path: Path, block: int, batch_size: int) -> pl.DataFrame:
    """Read ``path`` with blocks of ``block`` bytes (hypothesis tests cannot take monkeypatch)."""
    original = csv_format.BLOCK_BYTES
    csv_format.BLOCK_BYTES = block
    try:
        return _read_all(path, batch_size)
    finally:
        csv_format.BLOCK_BYTES = original


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=40),
    block=st.sampled_from([8, 31, 64, 1 << 20]),
    crlf=st.booleans(),
)
def test_blocks_match_whole_file(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str | None]], block: int, crlf: bool
) -> None:
    path = tmp_path_factory.mktemp("blocks") / "table.csv"
    _write(path, ["a", "b", "c"], rows, crlf=crlf)
    expected = pl.read_csv(path, infer_schema=False)
    found = _read_in_blocks(path, block, batch_size=7)
    assert found.columns == ["a", "b", "c"]
    assert found.height == len(rows)
    assert found.equals(expected)


def test_byte_order_mark_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,name\n1,a\n2,\"b\nc\"\n3,\n")
    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 10)
    found = _read_all(path, batch_size=2)
    assert found.columns == ["id", "name"]
    assert found["id"].to_list() == ["1", "2", "3"]
    assert found["name"].to_list() == ["a", "b\nc", None]


def test_progress_reaches_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "table.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(1000)), encoding="utf-8")
    monkeypatch.setattr(csv_format, "BLOCK_BYTES", 100)
    reader = CsvReader(path, detect_dialect(path, delimiter=","))
    seen = []
    for _ in reader.batches(64):
        seen.append(reader.bytes_read)
    assert seen == sorted(seen)
    assert seen[-1] == path.stat().st_size


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (b"a,b\n1,2\n", 8),  # ends with a line break
        (b"a,b\n1,2", 4),  # the last record is cut off
        (b'a,"x\ny"\n1,"p\nq', 8),  # the last line break outside quotes ends 'a,"x\ny"'
        (b'"only\nquoted', 0),  # no line break outside quotes
        (b'a,"say ""hi"""\n', 15),  # escaped quotes count twice
    ],
)
def test_last_record_end(block: bytes, expected: int) -> None:
    assert _last_record_end(block) == expected


def _blank_lines_removed_line_by_line(text: bytes) -> bytes:
    """Reference: split into lines and track quotes line by line."""
    kept_lines = []
    inside_quotes = False
    for line in text.split(b"\n"):
        if not inside_quotes and line in (b"", b"\r"):
            continue
        kept_lines.append(line)
        if line.count(b'"') % 2 == 1:
            inside_quotes = not inside_quotes
    joined = b"\n".join(kept_lines)
    return joined + b"\n" if text.endswith(b"\n") and not joined.endswith(b"\n") else joined


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='a"\n\r,', max_size=40).map(str.encode))
def test_blank_line_removal_matches_line_by_line(text: bytes) -> None:
    assert csv_format._without_blank_lines(text) == _blank_lines_removed_line_by_line(text)


@settings(max_examples=60, deadline=None)
@given(
    # A record of one empty field would be an empty line, which the reader skips.
    rows=st.lists(st.lists(st.sampled_from(["1", "x", "", '"q,r"']), min_size=1, max_size=3)
                  .filter(lambda row: row != [""]), min_size=1, max_size=30),
    block=st.sampled_from([4, 9, 16, 1 << 20]),
    final_break=st.booleans(),
)
def test_blocks_keep_width_of_short_records(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], block: int, final_break: bool
) -> None:
    """A block that starts with a record shorter than the header still has every column."""
    text = "a,b,c\n" + "\n".join(",".join(row) for row in rows) + ("\n" if final_break else "")
    path = tmp_path_factory.mktemp("short") / "table.csv"
    path.write_text(text)
    expected = pl.read_csv(path, infer_schema=False)
    found = _read_in_blocks(path, block, batch_size=5)
    assert found.columns == ["a", "b", "c"]
    assert found.equals(expected)
