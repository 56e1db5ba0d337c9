"""Tests of scripts/generate_patients.py and of the example data it wrote."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "generate_patients.py"
DATA = REPO / "examples" / "data"
GENERATED_FILES = (
    "patients.json", "patients.jsonl", "patients.csv",
    "orders.csv", "orders.jsonl",
    "transactions.csv", "transactions.jsonl",
)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_patients", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generator = load_generator()


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True, text=True, check=True, timeout=120,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    # Numbers stay text (120.50, not 120.5), as MaskMe and the CSV files see them.
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line, parse_float=str, parse_int=str) for line in handle if line.strip()]


def read_json(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle, parse_float=str, parse_int=str)


def as_csv_cells(record: dict[str, Any]) -> dict[str, str]:
    """Return a JSON record as the CSV writer would: flat, null and absent as empty."""
    flat = generator.flatten_patient(record)
    return {
        name: "" if flat.get(name) is None else str(flat[name])
        for name in generator.PATIENT_CSV_COLUMNS
    }


@pytest.fixture(scope="module")
def patients_jsonl() -> list[dict[str, Any]]:
    return read_jsonl(DATA / "patients.jsonl")


@pytest.fixture(scope="module")
def patients_csv() -> list[dict[str, str]]:
    return read_csv(DATA / "patients.csv")


# -- determinism ----------------------------------------------------------------


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    run_script("--records", "300", "--orders", "50", "--transactions", "80",
               "--seed", "7", "--out", str(tmp_path / "a"))
    run_script("--records", "300", "--orders", "50", "--transactions", "80",
               "--seed", "7", "--out", str(tmp_path / "b"))
    for name in GENERATED_FILES:
        first = (tmp_path / "a" / name).read_bytes()
        second = (tmp_path / "b" / name).read_bytes()
        assert first == second, name


def test_other_seed_other_bytes(tmp_path: Path) -> None:
    run_script("--records", "200", "--seed", "1", "--out", str(tmp_path / "a"))
    run_script("--records", "200", "--seed", "2", "--out", str(tmp_path / "b"))
    for name in GENERATED_FILES:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_bundled_files_match_generator(tmp_path: Path) -> None:
    # The bundled files are exactly what the script writes with its defaults,
    # so anyone can check them or regenerate them.
    result = run_script("--out", str(tmp_path))
    for name in GENERATED_FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    assert "patients.csv" in result.stderr
    assert result.stdout == ""


def test_records_below_one_rejected() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--records", "0", "--out", "unused"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 2
    assert "at least 1" in result.stderr


# -- sizes and counts -----------------------------------------------------------


def test_bundled_record_counts(patients_jsonl: list[dict[str, Any]],
                               patients_csv: list[dict[str, str]]) -> None:
    assert len(patients_jsonl) == 10_000
    assert len(read_json(DATA / "patients.json")) == 10_000
    assert len(patients_csv) == 10_000
    assert len(read_csv(DATA / "orders.csv")) == 2_000
    assert len(read_jsonl(DATA / "orders.jsonl")) == 2_000
    assert len(read_csv(DATA / "transactions.csv")) == 5_000
    assert len(read_jsonl(DATA / "transactions.jsonl")) == 5_000


def test_bundled_patients_stay_small() -> None:
    total = sum((DATA / name).stat().st_size for name in ("patients.json", "patients.jsonl",
                                                          "patients.csv"))
    assert total < 13_000_000


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.integers(min_value=1, max_value=120), seed=st.integers(0, 2**32))
def test_requested_counts_written(tmp_path: Path, records: int, seed: int) -> None:
    out = tmp_path / f"{records}-{seed}"
    generator.write_all(out, patients=records, orders=records, transactions=records, seed=seed)
    assert len(read_jsonl(out / "patients.jsonl")) == records
    assert len(read_json(out / "patients.json")) == records
    assert len(read_csv(out / "patients.csv")) == records
    assert len(read_csv(out / "orders.csv")) == records
    assert len(read_jsonl(out / "transactions.jsonl")) == records


# -- the three patient files hold the same records --------------------------------


def test_json_and_jsonl_same_records(patients_jsonl: list[dict[str, Any]]) -> None:
    assert read_json(DATA / "patients.json") == patients_jsonl


def test_csv_holds_jsonl_records(patients_jsonl: list[dict[str, Any]],
                                 patients_csv: list[dict[str, str]]) -> None:
    assert list(patients_csv[0]) == list(generator.PATIENT_CSV_COLUMNS)
    for number, (record, row) in enumerate(zip(patients_jsonl, patients_csv, strict=True), 1):
        assert as_csv_cells(record) == row, f"record {number}"


def test_json_numbers_keep_trailing_zeros() -> None:
    text = (DATA / "patients.jsonl").read_text(encoding="utf-8")
    # Amounts are written with exactly two decimals, 120.50 and not 120.5.
    assert re.search(r'"amount_billed":\d+\.\d0,', text)
    assert not re.search(r'"amount_billed":\d+\.\d[,}]', text)
    assert not re.search(r'"amount_billed":\d+[,}]', text)


def test_orders_and_transactions_same_in_both_files() -> None:
    for stem in ("orders", "transactions"):
        rows = read_csv(DATA / f"{stem}.csv")
        records = read_jsonl(DATA / f"{stem}.jsonl")
        for number, (record, row) in enumerate(zip(records, rows, strict=True), 1):
            cells = {k: "" if v is None else str(v) for k, v in record.items()}
            assert cells == row, f"{stem} record {number}"


# -- content that makes the examples worth masking --------------------------------


def test_zip_codes_keep_leading_zeros(patients_csv: list[dict[str, str]],
                                      patients_jsonl: list[dict[str, Any]]) -> None:
    csv_zips = [row["zip"] for row in patients_csv]
    assert sum(zip_code.startswith("0") for zip_code in csv_zips) > 1_000
    assert any(zip_code.startswith("00") for zip_code in csv_zips)  # Puerto Rico
    assert "02139" in csv_zips
    assert all(isinstance(record["zip"], str) for record in patients_jsonl)
    assert all(re.fullmatch(r"\d{5}(-\d{4})?", zip_code) for zip_code in csv_zips)


def test_patients_have_several_visits(patients_jsonl: list[dict[str, Any]]) -> None:
    visits = Counter(record["patient_id"] for record in patients_jsonl)
    assert max(visits.values()) >= 4
    assert sum(1 for count in visits.values() if count > 1) > 1_000
    # A patient's visits are spread over the file, not next to each other.
    positions: dict[str, list[int]] = {}
    for index, record in enumerate(patients_jsonl):
        positions.setdefault(record["patient_id"], []).append(index)
    spread = [p[-1] - p[0] for p in positions.values() if len(p) > 1]
    assert max(spread) > 2_000


def test_visit_ids_unique_and_dates_sorted(patients_jsonl: list[dict[str, Any]]) -> None:
    ids = [record["visit_id"] for record in patients_jsonl]
    assert len(set(ids)) == len(ids)
    dates = [record["visit_date"] for record in patients_jsonl]
    assert dates == sorted(dates)


def test_missing_values_of_each_kind(patients_jsonl: list[dict[str, Any]]) -> None:
    assert any(record["email"] is None for record in patients_jsonl)
    assert any(record["ssn"] is None for record in patients_jsonl)
    assert any(record["phone"] == "" for record in patients_jsonl)
    assert any(record["insurance"] is None for record in patients_jsonl)
    assert any(record["payments"] == [] for record in patients_jsonl)
    with_notes = sum("notes" in record for record in patients_jsonl)
    assert 0 < with_notes < len(patients_jsonl) // 5


def test_emails_written_several_ways(patients_jsonl: list[dict[str, Any]]) -> None:
    by_patient: dict[str, set[str]] = {}
    for record in patients_jsonl:
        if record["email"] is not None:
            by_patient.setdefault(record["patient_id"], set()).add(record["email"])
    # Some patients' e-mail differs between visits only by case and spaces.
    linked = [emails for emails in by_patient.values()
              if len(emails) > 1 and len({e.strip().lower() for e in emails}) == 1]
    assert len(linked) > 100
    assert any(email != email.strip() for emails in linked for email in emails)


def test_phone_formats_vary(patients_jsonl: list[dict[str, Any]]) -> None:
    phones = [record["phone"] for record in patients_jsonl if record["phone"]]
    shapes = {re.sub(r"\d", "9", phone) for phone in phones}
    assert shapes == {"(999) 999-9999", "999-999-9999", "999.999.9999", "+9 999 999 9999",
                      "9999999999"}
    # Every number is in the 555-0100 to 555-0199 range kept for fiction.
    assert all(re.sub(r"\D", "", phone)[-7:-2] == "55501" for phone in phones)


def test_identifiers_are_never_issued_forms(patients_jsonl: list[dict[str, Any]]) -> None:
    ssns = [record["ssn"] for record in patients_jsonl if record["ssn"] is not None]
    assert all(re.fullmatch(r"9\d\d-(0[1-9]|[1-4]\d)-\d{4}", ssn) for ssn in ssns)
    emails = [record["email"] for record in patients_jsonl if record["email"] is not None]
    assert all(e.strip().lower().endswith(("example.com", "example.org", "example.net"))
               for e in emails)


def test_cards_are_luhn_valid_test_numbers(patients_jsonl: list[dict[str, Any]]) -> None:
    cards = [payment["card_number"] for record in patients_jsonl
             for payment in record["payments"]]
    assert len(cards) > 5_000
    assert any(" " in card for card in cards)
    for card in cards:
        digits = card.replace(" ", "")
        assert digits.startswith("400000")
        assert generator.luhn_check_digit(digits[:-1]) == digits[-1]


def test_non_ascii_text_present(patients_jsonl: list[dict[str, Any]]) -> None:
    names = {record["first_name"] for record in patients_jsonl}
    assert "José" in names or "Zoë" in names
    assert any("\u4e00" <= char <= "\u9fff" for name in names for char in name)  # CJK
    notes = {record.get("notes") for record in patients_jsonl}
    assert "Patient reports improvement 🙂" in notes
    assert any(note and "\n" in note for note in notes)


def test_order_cities_all_in_hierarchy() -> None:
    hierarchy = REPO / "examples" / "hierarchies" / "city.csv"
    listed = {line.split(";")[0] for line in hierarchy.read_text(encoding="utf-8").splitlines()}
    cities = {row["city"] for row in read_csv(DATA / "orders.csv")}
    assert cities <= listed
    assert len(cities) == len(generator.ORDER_CITIES)


def test_account_numbers_keep_leading_zeros() -> None:
    rows = read_csv(DATA / "transactions.csv")
    assert all(re.fullmatch(r"\d{12}", row["account_number"]) for row in rows)
    assert any(row["account_number"].startswith("0") for row in rows)
    assert any(row["amount"].startswith("-") for row in rows)  # refunds
