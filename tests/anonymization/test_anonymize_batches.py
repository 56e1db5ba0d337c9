"""anonymize reads JSON in the smaller JSON batches, as mask does, unless --batch-size sets a size."""

import json

import pytest

import maskme
import maskme.formats.json as json_format
from maskme.formats import DEFAULT_BATCH_SIZE, JSON_BATCH_SIZE

POLICY = """version: 1
default: keep
quasi_identifiers: [age]
fields:
  age: {strategy: generalize, interval: 10}
privacy: {k: 2}
"""


@pytest.mark.parametrize(("name", "reader", "expected"), [
    ("in.json", json_format.JsonArrayReader, JSON_BATCH_SIZE),
    ("in.jsonl", json_format.JsonLinesReader, JSON_BATCH_SIZE),
])
def test_json_batches_by_default(tmp_path, monkeypatch, name, reader, expected):
    records = [{"age": str(20 + n % 30), "note": "x"} for n in range(200)]
    text = json.dumps(records) if name.endswith(".json") else "".join(json.dumps(r) + "\n" for r in records)
    (tmp_path / name).write_text(text)
    (tmp_path / "p.yaml").write_text(POLICY)
    sizes = []
    batches = reader.batches

    def recording(self, size):
        sizes.append(size)
        return batches(self, size)

    monkeypatch.setattr(reader, "batches", recording)
    result = maskme.anonymize(tmp_path / name, tmp_path / "p.yaml", tmp_path / ("out" + name[2:]))
    assert result.records == 200
    assert set(sizes) == {expected}
    assert expected < DEFAULT_BATCH_SIZE


def test_batch_size_given_wins(tmp_path, monkeypatch):
    (tmp_path / "in.json").write_text(json.dumps([{"age": str(20 + n % 30)} for n in range(50)]))
    (tmp_path / "p.yaml").write_text(POLICY)
    sizes = []
    batches = json_format.JsonArrayReader.batches

    def recording(self, size):
        sizes.append(size)
        return batches(self, size)

    monkeypatch.setattr(json_format.JsonArrayReader, "batches", recording)
    maskme.anonymize(tmp_path / "in.json", tmp_path / "p.yaml", tmp_path / "out.json", batch_size=7)
    assert set(sizes) == {7}
