"""The anjana hospital example: k = 2, and k = 2 with l = 2, without suppression.

anjana's expected outputs use age level 2 (10-year bins) with gender and city
raw for k = 2, and age level 2 with city at ``*`` for k = 2, l = 2. The search
may choose another node when it is valid and loses less information.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from maskme.anonymization import anonymize, plan_anonymization
from maskme.metrics import measure
from tests.anonymization.conftest import HOSPITAL, write_policy

QUASI_IDENTIFIERS = ["age", "gender", "city"]


@pytest.fixture
def hospital(tmp_path: Path) -> Path:
    for path in HOSPITAL.glob("*.csv"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def hospital_policy(folder: Path, privacy: dict) -> Path:
    return write_policy(
        folder,
        {
            "fields": {"name": {"strategy": "drop"}},
            "quasi_identifiers": {
                name: {"hierarchy": f"hierarchy_{name}.csv"} for name in QUASI_IDENTIFIERS
            },
            "sensitive_attributes": ["disease"],
            "privacy": privacy,
        },
    )


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_hospital_k2_matches_anjana(hospital: Path) -> None:
    policy = hospital_policy(hospital, {"k": 2})
    output = hospital / "out.csv"
    result = anonymize(hospital / "input.csv", policy, output)

    expected = read(hospital / "expected_k2_supp0.csv").drop("name")
    written = read(output)
    assert result.levels == {"age": 2, "gender": 0, "city": 0}
    assert result.suppressed_records == 0
    assert written.columns == expected.columns
    assert written.equals(expected)


def test_hospital_k2_l2_valid_and_better(hospital: Path) -> None:
    policy = hospital_policy(hospital, {"k": 2, "l": 2})
    output = hospital / "out.csv"
    result = anonymize(hospital / "input.csv", policy, output)

    expected = read(hospital / "expected_k2_l2_supp0.csv").drop("name")
    written = read(output)
    assert result.suppressed_records == 0
    assert written.height == expected.height
    # Columns outside the quasi-identifiers stay unchanged, in the same order.
    assert written.select("religion", "disease").equals(expected.select("religion", "disease"))

    for table in (written, expected):
        fresh = measure(table, quasi_identifiers=QUASI_IDENTIFIERS, sensitive_attributes=["disease"])
        assert fresh.k is not None
        assert fresh.k >= 2
        assert fresh.sensitive("disease").distinct_l >= 2

    # anjana's node (age 2, gender 0, city 1) meets the targets too, with at least the loss.
    plan = plan_anonymization(hospital / "input.csv", policy)
    anjana = plan.evaluator.evaluate((2, 0, 1))
    assert anjana.meets_targets
    assert result.information_loss <= anjana.utility
    assert result.levels == {"age": 1, "gender": 0, "city": 1}
    assert written["city"].unique().to_list() == ["*"]


def test_hospital_strict_targets_write_nothing(hospital: Path) -> None:
    from maskme.errors import PrivacyTargetError

    policy = hospital_policy(hospital, {"k": 2, "l": 4})
    output = hospital / "out.csv"
    with pytest.raises(PrivacyTargetError, match="no generalization meets the privacy targets"):
        anonymize(hospital / "input.csv", policy, output)
    assert not output.exists()
    assert [path.name for path in hospital.iterdir() if path.name.startswith(".out")] == []


def test_hospital_jsonl_matches_csv(hospital: Path) -> None:
    import json

    frame = read(hospital / "input.csv")
    source = hospital / "input.jsonl"
    source.write_text(
        "".join(json.dumps({**row, "age": int(row["age"])}) + "\n" for row in frame.to_dicts()),
        encoding="utf-8",
    )
    policy = hospital_policy(hospital, {"k": 2, "l": 2})
    result = anonymize(source, policy, hospital / "out.jsonl")
    csv_result = anonymize(hospital / "input.csv", policy, hospital / "out.csv")

    records = [json.loads(line) for line in (hospital / "out.jsonl").read_text().splitlines()]
    assert result.levels == csv_result.levels
    assert [set(record) for record in records] == [{"age", "gender", "city", "religion", "disease"}] * 13
    assert pl.DataFrame(records).equals(read(hospital / "out.csv"))


def test_public_api_takes_dataframe(hospital: Path) -> None:
    import maskme

    policy = hospital_policy(hospital, {"k": 2})
    result = maskme.anonymize(read(hospital / "input.csv"), policy)

    assert isinstance(result, maskme.AnonymizationResult)
    assert result.destination is None
    assert result.frame.equals(read(hospital / "expected_k2_supp0.csv").drop("name"))
    report = result.to_dict()
    assert report["levels"] == {"age": 2, "gender": 0, "city": 0}
    assert report["measurement"]["k_anonymity"]["k"] == 2


def test_field_strategies_run_before_search(hospital: Path) -> None:
    # age is first cut into 10-year intervals by its strategy, then searched as a plain value.
    policy = write_policy(
        hospital,
        {
            "fields": {
                "name": {"strategy": "drop"},
                "age": {"strategy": "generalize", "interval": 10},
            },
            "quasi_identifiers": ["age", "gender", "city"],
            "sensitive_attributes": ["disease"],
            "privacy": {"k": 3, "suppression_limit": 0.3},
        },
    )
    result = anonymize(hospital / "input.csv", policy, hospital / "out.csv")

    written = read(hospital / "out.csv")
    assert result.levels == {"age": 0, "gender": 0, "city": 1}
    assert sorted(written["age"].unique().to_list()) == ["[10, 20)", "[20, 30)"]
    assert written["city"].unique().to_list() == ["*"]


def test_noise_on_quasi_identifier_agrees_between_passes(hospital: Path) -> None:
    # Noise drawn afresh per run must still be the same draw in both passes.
    policy = write_policy(
        hospital,
        {
            "fields": {
                "name": {"strategy": "drop"},
                "age": {"strategy": "noise", "distribution": "laplace", "scale": 2, "round": 0},
            },
            "quasi_identifiers": {"age": {"intervals": [10, 20]}, "gender": None},
            "sensitive_attributes": ["disease"],
            "privacy": {"k": 3, "suppression_limit": 0.3},
        },
    )
    for attempt in range(3):
        output = hospital / f"out{attempt}.csv"
        result = anonymize(hospital / "input.csv", policy, output)
        fresh = measure(output, quasi_identifiers=["age", "gender"])
        assert fresh.k is not None
        assert fresh.k >= 3
        assert result.suppressed_records <= 3


def test_strategy_that_drops_quasi_identifier_rejected(hospital: Path) -> None:
    from maskme.errors import PolicyError

    policy = write_policy(
        hospital,
        {
            "fields": {"city": {"strategy": "drop"}},
            "quasi_identifiers": ["age", "city"],
            "privacy": {"k": 2},
        },
    )
    with pytest.raises(PolicyError, match="field `city` is a quasi-identifier, but strategy 'drop' removes it"):
        anonymize(hospital / "input.csv", policy, hospital / "out.csv")
