"""JSON output with masked fields written back while serializing, and writes on a worker thread.

The expected outputs below are those of the simpler path that wrote fields
back in a pass of their own and wrote on the main thread. The runs must give
them byte for byte. Every value is synthetic.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import maskme
from tests.conftest import TEST_KEY, run_cli

_MIXED_LINES = [
    (
        '{"id": 1, "email": "u1@example.test", "income": 1234.50, "age": 37, "name": "Syn One", '
        '"zip": "94110", "note": 1.10, "big": 18446744073709551616}'
    ),
    (
        '{"id": 2, "email": null, "income": 1e5, "age": -0, "name": null, "zip": "02139", '
        '"note": -0, "big": 1}'
    ),
    (
        '{"id": 3, "email": "u3@example.test", "income": 7, "age": 61, '
        '"name": "Syn \\u00e9\\ud83d\\ude00", "zip": "10001", "note": "x\\"y"}'
    ),
]

# Noise, generalization and a hash make pending fields. The drop of `name` comes
# after them, so it is a pending drop.
_MIXED_POLICY = {
    "version": 1,
    "default": "keep",
    "keys": {"main": {"env": "MASKME_KEY"}},
    "fields": {
        "email": {"strategy": "hash", "key": "main", "length": 12},
        "income": {"strategy": "noise", "scale": 5, "seed": 7, "round": 2},
        "age": {"strategy": "generalize", "interval": 10},
        "name": {"strategy": "drop"},
        "zip": {"strategy": "generalize", "prefix": 3},
    },
}

_MIXED_RECORDS = [
    (
        '{"id":1,"email":"14d24aed7e75","income":1234.58,"age":"[30, 40)","zip":"941**",'
        '"note":1.10,"big":18446744073709551616}'
    ),
    '{"id":2,"email":null,"income":100001.13,"age":"[0, 10)","zip":"021**","note":-0,"big":1}',
    '{"id":3,"email":"86f4a6b4900c","income":9,"age":"[60, 70)","zip":"100**","note":"x\\"y"}',
]

_MIXED_EXPECTED = {
    "jsonl": "".join(record + "\n" for record in _MIXED_RECORDS),
    "json": "[\n" + ",\n".join(_MIXED_RECORDS) + "\n]\n",
    "csv": (
        "id,email,income,age,zip,note,big\n"
        '1,14d24aed7e75,1234.58,"[30, 40)",941**,1.10,18446744073709551616\n'
        '2,,100001.13,"[0, 10)",021**,-0,1\n'
        '3,86f4a6b4900c,9,"[60, 70)",100**,"x""y",\n'
    ),
}


@pytest.mark.parametrize("batch_size", [1, 2, 3])
@pytest.mark.parametrize("output_format", ["jsonl", "json", "csv"])
def test_mixed_policy_output_bytes(tmp_path, key_env, output_format, batch_size):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_MIXED_LINES) + "\n", encoding="utf-8")
    target = tmp_path / f"out.{output_format}"

    maskme.mask(source, _MIXED_POLICY, target, batch_size=batch_size)

    assert target.read_text(encoding="utf-8") == _MIXED_EXPECTED[output_format]


_WIDE = "9" * 5000

# The integers past 64 bits make orjson reject the record, so the writer falls
# back to the slower serializer after it has applied some pending fields.
_WIDE_LINES = [
    '{"id": 1, "amount": 2.5, "tag": "a", "text": "Z\\u00fcrich \\ud83d\\ude00 \\u2028 \\\\ \\"q\\""}',
    '{"id": 2, "amount": ' + _WIDE + ', "tag": "b", "text": "plain"}',
    '{"id": 3, "amount": 18446744073709551616, "tag": "c", "text": null}',
    '{"id": 4, "amount": -0, "tag": "d", "text": true}',
]

_WIDE_CASES = {
    # A kept field with escapes and a pending drop after the noised field.
    "drop after noise": (
        {
            "version": 1,
            "default": "keep",
            "fields": {
                "amount": {"strategy": "noise", "scale": 1, "seed": 11, "round": 1,
                           "on_invalid": "keep"},
                "tag": {"strategy": "drop"},
            },
        },
        [
            '{"id":1,"amount":1.7,"text":"Z\u00fcrich \U0001f600 \u2028 \\\\ \\"q\\""}',
            '{"id":2,"amount":' + _WIDE + ',"text":"plain"}',
            '{"id":3,"amount":18446744073709551616,"text":null}',
            '{"id":4,"amount":0,"text":true}',
        ],
    ),
    # default: drop keeps only the listed fields, in their input order.
    "default drop": (
        {
            "version": 1,
            "default": "drop",
            "fields": {
                "amount": {"strategy": "noise", "scale": 1, "seed": 11, "round": 1,
                           "on_invalid": "keep"},
                "id": {"strategy": "keep"},
                "text": {"strategy": "redact", "keep_last": 1},
            },
        },
        [
            '{"id":1,"amount":1.7,"text":"***************\\""}',
            '{"id":2,"amount":' + _WIDE + ',"text":"****n"}',
            '{"id":3,"amount":18446744073709551616,"text":null}',
            '{"id":4,"amount":0,"text":"***e"}',
        ],
    ),
}


@pytest.mark.parametrize("batch_size", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(_WIDE_CASES))
def test_wide_integers_with_pending_fields(tmp_path, case, batch_size):
    policy, records = _WIDE_CASES[case]
    source = tmp_path / "in.json"
    source.write_text("[" + ",\n".join(_WIDE_LINES) + "]\n", encoding="utf-8")
    lines = tmp_path / "out.jsonl"
    array = tmp_path / "out.json"

    maskme.mask(source, policy, lines, batch_size=batch_size)
    maskme.mask(source, policy, array, batch_size=batch_size)

    assert lines.read_text(encoding="utf-8") == "".join(record + "\n" for record in records)
    assert array.read_text(encoding="utf-8") == "[\n" + ",\n".join(records) + "\n]\n"


@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_utf16_output_matches_utf8(tmp_path, key_env, output_format):
    source = tmp_path / "in.jsonl"
    text = "\n".join(_MIXED_LINES) + "\n"
    source.write_bytes(text.encode("utf-16"))
    target = tmp_path / f"out.{output_format}"

    maskme.mask(source, _MIXED_POLICY, target, encoding="utf-16", batch_size=1)

    written = target.read_bytes()
    assert written.startswith(b"\xff\xfe")
    assert written.count(b"\xff\xfe") == 1
    assert written.decode("utf-16") == _MIXED_EXPECTED[output_format]


@pytest.mark.parametrize("output_format", ["jsonl", "json", "csv"])
def test_stdin_to_stdout_batch_size_env(tmp_path, output_format):
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps(_MIXED_POLICY), encoding="utf-8")
    source = ("\n".join(_MIXED_LINES) + "\n").encode("utf-8")

    done = run_cli(
        "mask", "-", "-f", "jsonl", "-p", str(policy), "-o", "-",
        "--output-format", output_format, "-q",
        input=source, env={"MASKME_BATCH_SIZE": "2"},
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == _MIXED_EXPECTED[output_format]
    assert done.stderr == b""


@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_empty_input_writes_empty_output(tmp_path, output_format):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"")
    target = tmp_path / f"out.{output_format}"
    policy = {"version": 1, "default": "keep", "fields": {}}

    maskme.mask(source, policy, target)

    assert target.read_bytes() == {"jsonl": b"", "json": b"[]\n"}[output_format]


def test_no_writer_thread_left(tmp_path, key_env):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_MIXED_LINES) + "\n", encoding="utf-8")
    bad_policy = {
        "version": 1,
        "default": "keep",
        "fields": {"email": {"strategy": "noise", "scale": 1, "seed": 1}},  # not numbers
    }

    maskme.mask(source, _MIXED_POLICY, tmp_path / "out.jsonl", batch_size=1)
    with pytest.raises(maskme.MaskMeError):
        maskme.mask(source, bad_policy, tmp_path / "bad.jsonl", batch_size=1)

    names = [thread.name for thread in threading.enumerate()]
    assert not [name for name in names if name.startswith("maskme-writer")]
    assert not (tmp_path / "bad.jsonl").exists()


@pytest.mark.parametrize("nested_path", ["amount.cents", "amount[*]"])
def test_path_into_noised_decimal_error(tmp_path, nested_path):
    # The noised value is pending when the nested path walks into it, and the
    # error names its JSON kind, not a Python type.
    source = tmp_path / "in.jsonl"
    source.write_text('{"amount": 1.5}\n', encoding="utf-8")
    policy = {
        "version": 1,
        "default": "keep",
        "fields": {
            "amount": {"strategy": "noise", "scale": 1, "seed": 3},
            nested_path: {"strategy": "redact"},
        },
    }

    with pytest.raises(maskme.MaskMeError) as raised:
        maskme.mask(source, policy, tmp_path / "out.jsonl")

    assert "`amount` is a number" in str(raised.value)
    assert not (tmp_path / "out.jsonl").exists()


# -- anonymize: a noised decimal quasi-identifier ---------------------------------------------


def _noised_quasi_identifier_run(tmp_path: Path) -> list[dict[str, object]]:
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": index, "income": [1234.5, 99.25][index % 2]}) for index in range(6)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = {
        "version": 1,
        "default": "keep",
        "fields": {"income": {"strategy": "noise", "scale": 1, "round": 2, "seed": 4}},
        "quasi_identifiers": {"income": {"intervals": [1000]}},
        "privacy": {"k": 1},
    }
    target = tmp_path / "out.jsonl"
    maskme.anonymize(source, policy, target, batch_size=4)
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


def test_anonymize_noised_decimal_stays_number(tmp_path):
    # k = 1 keeps level 0, so recoding leaves the noised values as they are:
    # JSON numbers, which the recoding pass reads back from the records.
    records = _noised_quasi_identifier_run(tmp_path)

    assert [record["id"] for record in records] == list(range(6))
    for record in records:
        assert isinstance(record["income"], float), record["id"]


def test_anonymize_noised_decimal_values(tmp_path):
    records = _noised_quasi_identifier_run(tmp_path)

    incomes = [record["income"] for record in records]
    assert incomes == [1233.02, 99.44, 1235.43, 98.8, 1235.73, 99.14]


# -- failures while writing ---------------------------------------------------------------------


def _limit_file_size() -> None:
    # Writes past 2,000 bytes fail with EFBIG. Python ignores SIGXFSZ, so they raise OSError.
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000))


@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_write_error_before_later_record_error(tmp_path, output_format):
    # The first batch's write fails while the second batch, with a bad value,
    # is read. The write failed first, so its error is the one reported.
    lines = [
        json.dumps({"id": index, "value": "12.5" if index < 50 else "not a number", "pad": "x" * 100})
        for index in range(60)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps({"version": 1, "default": "keep",
                    "fields": {"value": {"strategy": "noise", "scale": 1, "seed": 1}}}),
        encoding="utf-8",
    )
    target = tmp_path / f"out.{output_format}"

    done = subprocess.run(
        [sys.executable, "-m", "maskme", "mask", str(source), "-p", str(policy), "-o", str(target),
         "-q", "--batch-size", "50"],
        check=False, capture_output=True, preexec_fn=_limit_file_size, timeout=60,
        env={**os.environ, "MASKME_KEY": TEST_KEY},
    )

    assert done.returncode == 1
    assert done.stderr == f"error: cannot write output {target}: File too large\n".encode()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "p.json"]


@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_full_device_output(tmp_path, output_format):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_MIXED_LINES) + "\n", encoding="utf-8")
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps(_MIXED_POLICY), encoding="utf-8")

    done = run_cli("mask", str(source), "-p", str(policy), "-o", "/dev/full",
                   "--output-format", output_format, "-q")

    assert done.returncode == 1
    assert done.stderr == b"error: cannot write output /dev/full: No space left on device\n"
    assert done.stdout == b""


def _large_source(path: Path, records: int) -> None:
    pad = "y" * 150
    with path.open("w", encoding="utf-8") as stream:
        for index in range(records):
            stream.write(f'{{"id": {index}, "ssn": "900-00-{index % 10000:04d}", "pad": "{pad}"}}\n')


@pytest.mark.parametrize(
    ("signal_number", "status", "message"),
    [
        (signal.SIGTERM, 143, b"terminated; nothing was written\n"),
        (signal.SIGINT, 130, b"interrupted; nothing was written\n"),
    ],
)
def test_signal_mid_write_leaves_nothing(tmp_path, signal_number, status, message):
    source = tmp_path / "in.jsonl"
    _large_source(source, 300_000)
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps({"version": 1, "default": "keep", "fields": {"ssn": {"strategy": "redact"}}}),
        encoding="utf-8",
    )
    output = tmp_path / "out"
    output.mkdir()
    target = output / "out.jsonl"

    process = subprocess.Popen(
        [sys.executable, "-m", "maskme", "mask", str(source), "-p", str(policy), "-o", str(target),
         "-q", "--batch-size", "1000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        # A child started from a background shell may inherit SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        partial = [path for path in output.iterdir() if path.name.endswith(".part")]
        if partial and partial[0].stat().st_size > 0:
            break
        time.sleep(0.01)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == status
    assert stderr == message
    assert list(output.iterdir()) == []
