"""Run each example policy through the real ``maskme mask`` command on the bundled data.

Every case masks a bundled file in one of the formats its policy fits. The
tests check that no record was lost and that no original value of a hashed,
redacted or dropped field appears anywhere in the output. They also check what
each policy promises in its comments: consistent date shifts, last 4 digits
kept, cities turned into countries, and so on.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = EXAMPLES / "data"
POLICIES = EXAMPLES / "policies"
MASKME = Path(sys.executable).with_name("maskme")
TEST_KEY = "example-policies-test-key-0123456789abcdef"

# Strategies after which no original value may remain in the output.
CONCEALING_STRATEGIES = ("hash", "redact", "drop")


@dataclass(frozen=True)
class Case:
    policy: str
    data: str

    @property
    def format(self) -> str:
        return self.data.rsplit(".", 1)[1]

    @property
    def id(self) -> str:
        return f"{self.policy.removesuffix('.yaml')}-{self.data.replace('/', '-')}"


CASES = (
    Case("healthcare.yaml", "patients.json"),
    Case("healthcare.yaml", "patients.jsonl"),
    Case("healthcare.yaml", "patients.csv"),
    Case("finance.yaml", "transactions.csv"),
    Case("finance.yaml", "transactions.jsonl"),
    Case("ecommerce.yaml", "orders.csv"),
    Case("ecommerce.yaml", "orders.jsonl"),
    Case("ml.yaml", "adult/adult.csv"),
)


@dataclass(frozen=True)
class Masked:
    """One finished run: the policy's fields, the input and output records and output text."""

    default: str
    fields: dict[str, dict[str, Any]]
    records_in: list[dict[str, Any]]
    records_out: list[dict[str, Any]]
    text_out: str


def read_records(path: Path) -> list[dict[str, Any]]:
    # Numbers stay text, as MaskMe reads them, so 120.50 is not 120.5.
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            sample = handle.readline()
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            return list(csv.DictReader(handle, delimiter=delimiter))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text, parse_float=str, parse_int=str)
    return [json.loads(line, parse_float=str, parse_int=str)
            for line in text.splitlines() if line.strip()]


def values_at(record: dict[str, Any], path: str) -> list[Any]:
    """Return the values at a field path (``a.b``, ``a[*].b``); an absent key gives nothing."""
    current: list[Any] = [record]
    for segment in path.split("."):
        walks_array = segment.endswith(("[*]", "[]"))
        key = segment.split("[")[0]
        found = []
        for item in current:
            if isinstance(item, dict) and key in item:
                value = item[key]
                if walks_array:
                    found.extend(value if isinstance(value, list) else [])
                else:
                    found.append(value)
        current = found
    return current


def is_missing(value: Any) -> bool:
    return value is None or value == ""


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (pytest-xdist workers wait for each other)."""
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Return a folder shared by every pytest-xdist worker of this session."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's base folder sits in the session's folder
    return root / name


def run_maskme(case: Case, out_dir: Path) -> Path:
    output = out_dir / f"{case.id}.{case.format}"
    env = {**os.environ, "MASKME_KEY": TEST_KEY}
    result = subprocess.run(
        [str(MASKME), "mask", str(DATA / case.data), "-p", str(POLICIES / case.policy),
         "-o", str(output)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert TEST_KEY not in result.stderr
    return output


@pytest.fixture(scope="module")
def masked_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Masked]:
    # The runs happen once per test session, not once per worker: they take a while.
    out_dir = session_folder(tmp_path_factory, "example-policies")
    done = out_dir.with_name("example-policies.done")
    with exclusive(out_dir.with_name("example-policies.lock")):
        if not done.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
            out_dir.mkdir()
            # The runs are separate processes, so they overlap well on several cores.
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda case: run_maskme(case, out_dir), CASES))
            done.touch()
    outputs = {case: out_dir / f"{case.id}.{case.format}" for case in CASES}
    runs = {}
    for case, output in outputs.items():
        policy = yaml.safe_load((POLICIES / case.policy).read_text(encoding="utf-8"))
        runs[case.id] = Masked(
            default=policy["default"],
            fields=policy["fields"],
            records_in=read_records(DATA / case.data),
            records_out=read_records(output),
            text_out=output.read_text(encoding="utf-8"),
        )
    return runs


def run(masked_runs: dict[str, Masked], policy: str, data: str) -> Masked:
    return masked_runs[Case(policy, data).id]


# -- every policy, every format ---------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_loses_no_record(masked_runs: dict[str, Masked], case: Case) -> None:
    masked = masked_runs[case.id]
    assert len(masked.records_out) == len(masked.records_in)
    assert len(masked.records_in) > 1_000


def leaf_texts(value: Any) -> list[str]:
    """Return the non-missing scalar values in a value, looking inside objects and lists."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaf_texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in leaf_texts(item)]
    return [] if is_missing(value) else [str(value)]


def concealed_paths(masked: Masked) -> list[str]:
    """Return the paths whose original values must not survive: hashed, redacted or dropped."""
    paths = [path for path, rule in masked.fields.items()
             if rule["strategy"] in CONCEALING_STRATEGIES]
    if masked.default == "drop":
        listed = {path.split(".")[0].split("[")[0] for path in masked.fields}
        paths += [name for name in masked.records_in[0] if name not in listed]
    return paths


# Short numbers such as amounts (356.62) can equal a kept value of another field.
SHORT_NUMBER = re.compile(r"-?\d{1,7}(\.\d+)?")


def leaked_values(text: str, values: set[str]) -> list[str]:
    """Return the values that occur anywhere in ``text`` (one pass with Polars)."""
    lines = pl.Series("line", text.splitlines(), dtype=pl.String)
    found = lines.str.extract_many(sorted(values), overlapping=True).explode().drop_nulls()
    return sorted(set(found.to_list()))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_leaks_no_original(masked_runs: dict[str, Masked], case: Case) -> None:
    masked = masked_runs[case.id]
    for path in concealed_paths(masked):
        originals: set[str] = set()
        for record in masked.records_in:
            for value in values_at(record, path):
                for text in leaf_texts(value):
                    # As written, trimmed, and escaped the way a JSON string writes it.
                    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
                    originals.update({text, text.strip(), escaped})
        # Values shorter than 5 characters (sex, a state) can occur by chance elsewhere.
        distinctive = {value for value in originals
                       if len(value) >= 5 and not SHORT_NUMBER.fullmatch(value)}
        assert distinctive, f"{path}: no value to check"
        assert leaked_values(masked.text_out, distinctive) == [], path


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_drops_unlisted_fields(masked_runs: dict[str, Masked], case: Case) -> None:
    masked = masked_runs[case.id]
    listed = {path.split(".")[0].split("[")[0] for path in masked.fields}
    dropped = {path for path, rule in masked.fields.items() if rule["strategy"] == "drop"}
    for number, record in enumerate(masked.records_out, start=1):
        if masked.default == "drop":
            assert set(record) <= listed - dropped, f"record {number}"
        else:
            assert not set(record) & dropped, f"record {number}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_transforms_each_value(masked_runs: dict[str, Masked], case: Case) -> None:
    masked = masked_runs[case.id]
    for path, rule in masked.fields.items():
        for number, (before, after) in enumerate(
            zip(masked.records_in, masked.records_out, strict=True), start=1
        ):
            values_before = values_at(before, path)
            values_after = values_at(after, path)
            if rule["strategy"] == "drop":
                assert values_after == [], f"record {number}, {path}: not dropped"
                continue
            assert len(values_after) == len(values_before), f"record {number}, {path}"
            for old, new in zip(values_before, values_after, strict=True):
                # Missing stays missing, and a present value never becomes missing.
                assert is_missing(old) == is_missing(new), f"record {number}, {path}"
                if rule["strategy"] in ("hash", "redact") and not is_missing(old):
                    assert new != old, f"record {number}, {path}: unchanged"


KEEPING_CASES = [
    case for case in CASES
    if yaml.safe_load((POLICIES / case.policy).read_text(encoding="utf-8"))["default"] == "keep"
]


@pytest.mark.parametrize("case", KEEPING_CASES, ids=[case.id for case in KEEPING_CASES])
def test_policy_keeps_unlisted_fields(masked_runs: dict[str, Masked], case: Case) -> None:
    masked = masked_runs[case.id]
    listed_tops = {path.split(".")[0].split("[")[0] for path in masked.fields}
    for number, (before, after) in enumerate(
        zip(masked.records_in, masked.records_out, strict=True), start=1
    ):
        for name, value in before.items():
            if name in listed_tops:
                continue
            assert after[name] == value, f"record {number}, {name}"


# -- healthcare ---------------------------------------------------------------------


def visit_shifts(masked: Masked) -> dict[str, set[int]]:
    shifts: dict[str, set[int]] = defaultdict(set)
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        old = dt.date.fromisoformat(before["visit_date"])
        new = dt.date.fromisoformat(after["visit_date"])
        shifts[before["patient_id"]].add((new - old).days)
    return shifts


@pytest.mark.parametrize(
    ("policy", "data"),
    [("healthcare.yaml", "patients.jsonl"), ("healthcare.yaml", "patients.csv")],
)
def test_healthcare_shifts_patient_visits_together(
    masked_runs: dict[str, Masked], policy: str, data: str
) -> None:
    shifts = visit_shifts(run(masked_runs, policy, data))
    assert all(len(days) == 1 for days in shifts.values())
    all_days = [next(iter(days)) for days in shifts.values()]
    assert all(-30 <= day <= 30 for day in all_days)
    assert len(set(all_days)) > 20
    assert sum(day == 0 for day in all_days) < len(all_days) / 10


def test_healthcare_same_shift_in_every_format(masked_runs: dict[str, Masked]) -> None:
    # The shift comes from the key and the patient id, not from the file format.
    json_shifts = visit_shifts(run(masked_runs, "healthcare.yaml", "patients.json"))
    jsonl_shifts = visit_shifts(run(masked_runs, "healthcare.yaml", "patients.jsonl"))
    csv_shifts = visit_shifts(run(masked_runs, "healthcare.yaml", "patients.csv"))
    assert json_shifts == jsonl_shifts
    assert csv_shifts == jsonl_shifts


def test_healthcare_email_hash_links_spellings(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "healthcare.yaml", "patients.jsonl")
    hashes: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, set[str]] = defaultdict(set)
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        if before["email"] is not None:
            normalized = before["email"].strip().lower()
            hashes[normalized].add(after["email"])
            addresses[after["email"]].add(normalized)
    spellings = {before["email"] for before in masked.records_in if before["email"]}
    assert len(spellings) > len(hashes)  # some addresses are written several ways
    # One digest per address however it is written, and no two addresses share one.
    assert all(len(hashed) == 1 for hashed in hashes.values())
    assert all(len(normalized) == 1 for normalized in addresses.values())


def test_healthcare_coarsens_quasi_identifiers(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "healthcare.yaml", "patients.jsonl")
    for number, (before, after) in enumerate(
        zip(masked.records_in, masked.records_out, strict=True), start=1
    ):
        assert after["zip"][:3] == before["zip"][:3], f"record {number}"
        assert after["zip"] != before["zip"], f"record {number}"
        assert after["birth_date"].startswith(before["birth_date"][:4]), f"record {number}"
        assert after["birth_date"] != before["birth_date"], f"record {number}"
    # ZIP codes with leading zeros keep them.
    assert any(record["zip"].startswith("00") for record in masked.records_out)


# -- finance --------------------------------------------------------------------------


def test_finance_keeps_last_four_digits(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "finance.yaml", "transactions.csv")
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        for name in ("account_number", "card_number"):
            assert after[name][-4:] == before[name][-4:]
            assert len(after[name]) == len(before[name])
            assert set(after[name][:-4]) <= {"*", "-"}


def test_finance_noise_keeps_amounts_close(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "finance.yaml", "transactions.csv")
    before = [float(record["amount"]) for record in masked.records_in]
    after = [float(record["amount"]) for record in masked.records_out]
    changed = sum(old != new for old, new in zip(before, after, strict=True))
    assert changed > len(before) * 0.9
    assert abs(statistics.mean(after) - statistics.mean(before)) < 0.05 * statistics.mean(before)
    # Amounts keep two decimals.
    assert all(len(record["amount"].split(".")[1]) <= 2 for record in masked.records_out
               if "." in record["amount"])


def test_finance_same_output_in_both_formats(masked_runs: dict[str, Masked]) -> None:
    from_csv = run(masked_runs, "finance.yaml", "transactions.csv").records_out
    from_jsonl = run(masked_runs, "finance.yaml", "transactions.jsonl").records_out
    for csv_record, json_record in zip(from_csv, from_jsonl, strict=True):
        for name in ("customer_id", "account_number", "card_number", "amount", "posted_at"):
            assert csv_record[name] == str(json_record[name])


def test_finance_customer_hash_links_transactions(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "finance.yaml", "transactions.jsonl")
    pairs = {(before["customer_id"], after["customer_id"])
             for before, after in zip(masked.records_in, masked.records_out, strict=True)}
    customers = {original for original, _ in pairs}
    assert len(pairs) == len(customers)
    assert len({hashed for _, hashed in pairs}) == len(customers)


# -- e-commerce ---------------------------------------------------------------------


def city_countries() -> dict[str, str]:
    lines = (EXAMPLES / "hierarchies" / "city.csv").read_text(encoding="utf-8").splitlines()
    return {line.split(";")[0]: line.split(";")[2] for line in lines if line}


@pytest.mark.parametrize("data", ["orders.csv", "orders.jsonl"])
def test_ecommerce_cities_become_countries(masked_runs: dict[str, Masked], data: str) -> None:
    masked = run(masked_runs, "ecommerce.yaml", data)
    countries = city_countries()
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        assert after["city"] == countries[before["city"]]
    assert len({record["city"] for record in masked.records_out}) == len(set(countries.values()))


@pytest.mark.parametrize("data", ["orders.csv", "orders.jsonl"])
def test_ecommerce_order_times_keep_the_day(masked_runs: dict[str, Masked], data: str) -> None:
    masked = run(masked_runs, "ecommerce.yaml", data)
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        assert after["placed_at"].startswith(before["placed_at"][:10])
        assert after["placed_at"] != before["placed_at"]


# -- machine learning ---------------------------------------------------------------


def level_one(attribute: str) -> dict[str, str]:
    path = DATA / "adult" / f"adult_hierarchy_{attribute}.csv"
    rows = [line.split(";") for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {row[0]: row[1] for row in rows}


def test_ml_generalizes_categorical_features(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "ml.yaml", "adult/adult.csv")
    for attribute in ("workclass", "education", "marital-status", "occupation",
                      "native-country"):
        mapping = level_one(attribute)
        for before, after in zip(masked.records_in, masked.records_out, strict=True):
            assert after[attribute] == mapping[before[attribute]], attribute


def test_ml_noise_keeps_ages_plausible(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "ml.yaml", "adult/adult.csv")
    before = [int(record["age"]) for record in masked.records_in]
    after = [int(record["age"]) for record in masked.records_out]
    assert all(17 <= age <= 90 for age in after)
    assert sum(old != new for old, new in zip(before, after, strict=True)) > len(before) / 2
    assert abs(statistics.mean(after) - statistics.mean(before)) < 1.0


def test_ml_keeps_label_and_sex(masked_runs: dict[str, Masked]) -> None:
    masked = run(masked_runs, "ml.yaml", "adult/adult.csv")
    for before, after in zip(masked.records_in, masked.records_out, strict=True):
        assert after["salary-class"] == before["salary-class"]
        assert after["sex"] == before["sex"]
        assert after["race"] == before["race"]


def test_leak_check_finds_substrings() -> None:
    text = "a,b\nxx123-45-6789yy,zz\nnothing here\n"
    assert leaked_values(text, {"123-45-6789", "absent", "45-67"}) == ["123-45-6789", "45-67"]
