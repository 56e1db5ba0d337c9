"""Every built-in strategy meets the same contract as a plugin, through ``maskme.testing``.

Each case is one configuration of a built-in with sample values it accepts
and, where it parses its input, values it must reject. A case whose strategy
is not registered is skipped, and the last test fails when a built-in has no
case at all.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest

from maskme.strategies import get_strategy
from maskme.strategies.registry import available_strategies
from maskme.testing import check_strategy

KEY = b"contract-test-key-0123456789abcdef"
AGES = ["37", "42", "19", "88", "5", "61", "37"]
INCOMES = ["52000", "48000.50", "130000", "0", "-120", "52000"]
DATES = ["2024-03-15", "1999-12-31", "2000-02-29", "2024-03-15", "1970-01-01"]
EMAILS = ["Ana.Silva@example.org", "bob@example.com", " carol@EXAMPLE.net", "bob@example.com"]
PHONES = ["+44 20 7946 0958", "020-7946-0011", "07700900123", "+44 20 7946 0958"]
ZIP_CODES = ["94110", "94117", "10001", "94110", "02139"]
NOT_A_NUMBER = ["abc{marker}", "12,5{marker}", "{marker}"]
NOT_A_DATE = ["2024-13-01{marker}", "yesterday{marker}"]


@dataclass(frozen=True)
class Case:
    """One configuration of a built-in strategy for the contract suite."""

    strategy: str
    params: dict[str, Any]
    values: list[str]
    invalid_values: list[str] = field(default_factory=list)
    key: bytes | None = None
    other_columns: dict[str, list[str | None]] = field(default_factory=dict)
    expect_deterministic: bool | None = None


CASES = {
    "drop": Case("drop", {}, ["a", "b", "c"]),
    "keep": Case("keep", {}, ["007", "1.10", "2024-01-01", "text"]),
    "hash_hmac": Case("hash", {"key": "main"}, EMAILS, key=KEY),
    "hash_normalized_short": Case(
        "hash",
        {"key": "main", "normalize": ["strip", "lower"], "length": 16, "encoding": "base32"},
        EMAILS,
        key=KEY,
    ),
    "redact_keep_last": Case("redact", {"keep_last": 4}, PHONES),
    "redact_email": Case("redact", {"email": True}, EMAILS),
    "generalize_interval": Case("generalize", {"interval": 10}, AGES, NOT_A_NUMBER),
    "generalize_top_coding": Case("generalize", {"top": 80}, AGES, NOT_A_NUMBER),
    "generalize_truncate_year": Case("generalize", {"truncate": "year"}, DATES, NOT_A_DATE),
    "generalize_truncate_date": Case(
        "generalize", {"truncate": "month", "output": "date"}, DATES, NOT_A_DATE
    ),
    "generalize_prefix": Case("generalize", {"prefix": 3}, ZIP_CODES),
    "generalize_hierarchy": Case(
        "generalize",
        {
            "hierarchy": {"94110": ["941**", "9****"], "94117": ["941**", "9****"]},
            "level": 1,
            "fallback": "*",
        },
        ZIP_CODES,
    ),
    "noise_numbers_seeded": Case(
        "noise",
        {"scale": 500, "round": 0, "seed": 7},
        INCOMES,
        NOT_A_NUMBER,
        expect_deterministic=True,
    ),
    "noise_numbers_keyed": Case(
        "noise",
        {"scale": 0.1, "relative": True, "key": "main"},
        INCOMES,
        NOT_A_NUMBER,
        key=KEY,
        expect_deterministic=True,
    ),
    "noise_dates_seeded": Case(
        "noise", {"days": 30, "seed": 3}, DATES, NOT_A_DATE, expect_deterministic=True
    ),
    "noise_dates_by_subject": Case(
        "noise",
        {"days": 30, "seed": 3, "consistent_by": "patient_id"},
        DATES,
        NOT_A_DATE,
        other_columns={"patient_id": ["p1", "p2", "p1", None, "p3"]},
        expect_deterministic=True,
    ),
    "noise_unseeded": Case("noise", {"scale": 10}, INCOMES, NOT_A_NUMBER),
}


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_builtin_meets_contract(case_name):
    case = CASES[case_name]
    try:
        strategy = get_strategy(case.strategy)
    except KeyError:
        pytest.skip(f"built-in strategy '{case.strategy}' is not registered in this build")
    results = check_strategy(
        strategy,
        case.values,
        params=case.params,
        invalid_values=case.invalid_values,
        key=case.key,
        other_columns=case.other_columns,
        expect_deterministic=case.expect_deterministic,
    )
    outcomes = {result.check: result.outcome for result in results}
    assert "failed" not in outcomes.values()
    assert outcomes["nulls_stay_null"] == "passed"
    assert outcomes["no_value_in_errors"] == "passed"
    if case.expect_deterministic or strategy.deterministic:
        assert outcomes["batch_size_independent"] == "passed"


def test_every_builtin_has_case():
    builtins = {entry.name for entry in available_strategies() if entry.builtin}
    covered = {case.strategy for case in CASES.values()}
    assert sorted(builtins - covered) == []
