"""JSON output written on a worker thread while the next batch is serialized."""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import maskme
from maskme.engine.local import _written_behind, _WriteBehindStream


class _FailingStream(io.BytesIO):
    """A stream whose third write fails as a full disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, data) -> int:  # type: ignore[override]
        self.calls += 1
        if self.calls == 3:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_writes_arrive_in_order():
    target = io.BytesIO()
    with _written_behind(target, "jsonl") as stream:
        for index in range(200):
            stream.write(b"%d\n" % index)
    assert target.getvalue() == b"".join(b"%d\n" % index for index in range(200))


def test_csv_output_writes_directly():
    target = io.BytesIO()
    with _written_behind(target, "csv") as stream:
        assert stream is target


def test_write_error_raised_by_next_call():
    stream = _WriteBehindStream(_FailingStream())
    stream.write(b"a")
    stream.write(b"b")
    stream.write(b"c")  # fails on the worker thread
    with pytest.raises(OSError, match="No space left"):
        stream.write(b"d")
    stream.close()


def test_write_error_raised_at_block_end():
    target = _FailingStream()
    with pytest.raises(OSError, match="No space left"):
        with _written_behind(target, "json") as stream:
            stream.write(b"a")
            stream.write(b"b")
            stream.write(b"c")
    assert target.getvalue() == b"ab"


def test_error_in_block_waits_for_write():
    target = io.BytesIO()
    with pytest.raises(ValueError, match="stop"):
        with _written_behind(target, "jsonl") as stream:
            stream.write(b"x" * 1_000_000)
            raise ValueError("stop")
    assert len(target.getvalue()) == 1_000_000


def _records(path: Path, count: int) -> None:
    lines = (json.dumps({"id": index, "ssn": f"900-00-{index:04d}", "note": "x" * 200})
             for index in range(count))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_POLICY = {"version": 1, "default": "keep", "fields": {"ssn": {"strategy": "redact"}}}


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_masked_json_batches_in_order(tmp_path, suffix):
    source = tmp_path / "in.jsonl"
    _records(source, 40_000)
    target = tmp_path / ("out" + suffix)
    maskme.mask(source, _POLICY, target, batch_size=1_000)
    text = target.read_text(encoding="utf-8")
    if suffix == ".json":
        written = json.loads(text)
    else:
        written = [json.loads(line) for line in text.splitlines()]
    assert len(written) == 40_000
    assert [record["id"] for record in written] == list(range(40_000))
    assert all(set(record["ssn"]) == {"*"} for record in written)
    assert all(len(record["ssn"]) == len(f"900-00-{record['id']:04d}") for record in written)


def test_full_disk_leaves_no_output(tmp_path):
    # RLIMIT_FSIZE makes writes past 1 MB fail with EFBIG. Python ignores the
    # SIGXFSZ signal that comes with it, so the write raises OSError.
    source = tmp_path / "in.jsonl"
    _records(source, 40_000)
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefault: keep\nfields:\n  ssn: {strategy: redact}\n")
    target = tmp_path / "out.jsonl"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    done = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", str(source), "-p", str(policy),
         "-o", str(target), "-q", "--batch-size", "1000"],
        capture_output=True, preexec_fn=limit, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(b"error: ")
    assert b"Traceback" not in done.stderr
    assert not target.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "p.yaml"]


def test_failed_write_reported_before_later_error():
    target = _FailingStream()
    with pytest.raises(OSError, match="No space left"):
        with _written_behind(target, "jsonl") as stream:
            for piece in (b"a", b"b", b"c"):
                stream.write(piece)
            raise ValueError("a record error after the failed write")


def test_interruption_wins_over_failed_write():
    target = _FailingStream()
    with pytest.raises(KeyboardInterrupt):
        with _written_behind(target, "jsonl") as stream:
            for piece in (b"a", b"b", b"c"):
                stream.write(piece)
            raise KeyboardInterrupt
