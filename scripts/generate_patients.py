#!/usr/bin/env python3
"""Generate MaskMe's synthetic example datasets: patients, e-commerce orders and bank transactions.

Every value is invented. Phone numbers use the 555-0100 to 555-0199 range set
aside for fiction. SSNs use area numbers 900 to 999, never assigned as SSNs,
with group numbers 01 to 49, outside the ITIN ranges. E-mail domains and IP
addresses come from the ranges reserved for documentation (RFC 2606, RFC 5737,
RFC 3849). Card numbers start with 400000, a prefix used for test cards.

The output is deterministic: the same ``--seed`` and sizes give the same bytes
on any machine, because all randomness comes from one ``random.Random(seed)``
and the writers fix line ends, key order and number formatting.

Files written to ``--out`` (default ``examples/data``):

- ``patients.json``, ``patients.jsonl``: one record per visit, with the nested
  ``insurance`` object and ``payments`` array.
- ``patients.csv``: the same records, flat. ``insurance`` becomes the columns
  ``insurance_provider`` and ``insurance_member_id``; ``payments`` is left out,
  because an array does not fit one CSV cell.
- ``orders.csv``, ``orders.jsonl``: e-commerce orders (flat, so one policy
  fits both files).
- ``transactions.csv``, ``transactions.jsonl``: card and account transactions
  (flat).

Usage::

    python scripts/generate_patients.py --records 10000 --seed 20261204 --out examples/data
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

DEFAULT_SEED = 20261204
DEFAULT_PATIENT_RECORDS = 10_000
DEFAULT_ORDER_RECORDS = 2_000
DEFAULT_TRANSACTION_RECORDS = 5_000


class DecimalText(str):
    """A decimal number kept as its text (``"120.50"``), so JSON keeps the trailing zero."""


# --------------------------------------------------------------------------
# Reference tables (invented or public classifications only)
# --------------------------------------------------------------------------

# (weight, first names, last names). The names are common given names and
# surnames; combined at random they describe no real person.
NAME_GROUPS: Sequence[tuple[int, Sequence[str], Sequence[str]]] = (
    (
        60,
        (
            "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
            "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
            "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Nancy",
            "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
            "Emily", "Olivia", "Noah", "Liam", "Ava", "Ethan",
        ),
        (
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson",
            "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
            "O'Brien", "McCarthy", "Fitzgerald-Hayes",
        ),
    ),
    (
        14,
        ("José", "María", "Juan", "Lucía", "Andrés", "Sofía", "Ramón", "Inés", "Ángel", "Begoña"),
        ("García", "Martínez", "Rodríguez", "Hernández", "López", "Núñez", "Peña", "Muñoz",
         "Ibáñez", "de la Cruz"),
    ),
    (
        8,
        ("François", "Zoë", "Chloé", "Jérôme", "Jürgen", "Björn", "Renée", "Søren", "Łukasz",
         "Siobhán", "Aoife", "Małgorzata"),
        ("Müller", "Dubois", "Lefèvre", "Schäfer", "Østergaard", "Wiśniewski", "Kowalczyk",
         "Ó Briain", "Größer", "Dvořák"),
    ),
    (
        9,
        ("伟", "芳", "娜", "秀英", "花子", "翔太", "지민", "서연", "美咲"),
        ("王", "李", "张", "刘", "佐藤", "鈴木", "김", "박", "高橋"),
    ),
    (
        9,
        ("Ngozi", "Oluwaseun", "Priya", "Arjun", "Thảo", "Minh", "Aylin", "Mehmet", "Fatima",
         "Kwame"),
        ("Okafor", "Adeyemi", "Patel", "Iyer", "Nguyễn", "Trần", "Yılmaz", "Demir", "Haddad",
         "Mensah"),
    ),
)

# (city, state, ZIP codes). New England and New Jersey ZIP codes start with 0,
# and Puerto Rico's with 00, so a reader that parses ZIP codes as numbers
# visibly breaks them.
PATIENT_CITIES: Sequence[tuple[str, str, Sequence[str]]] = (
    ("Cambridge", "MA", ("02138", "02139", "02140", "02141", "02142")),
    ("Boston", "MA", ("02108", "02110", "02115", "02118", "02127")),
    ("Worcester", "MA", ("01602", "01603", "01604", "01605")),
    ("Providence", "RI", ("02903", "02904", "02906", "02908")),
    ("Hartford", "CT", ("06103", "06105", "06106", "06112")),
    ("New Haven", "CT", ("06510", "06511", "06513")),
    ("Burlington", "VT", ("05401", "05408")),
    ("Portland", "ME", ("04101", "04102", "04103")),
    ("Manchester", "NH", ("03101", "03102", "03104")),
    ("Newark", "NJ", ("07102", "07103", "07104", "07105")),
    ("San Juan", "PR", ("00901", "00907", "00909", "00917")),
    ("New York", "NY", ("10001", "10002", "10011", "10025", "10463")),
    ("Chicago", "IL", ("60601", "60614", "60622", "60647")),
    ("Austin", "TX", ("78701", "78702", "78704", "78745")),
    ("Denver", "CO", ("80202", "80203", "80205", "80211")),
    ("Seattle", "WA", ("98101", "98103", "98115", "98122")),
    ("San Francisco", "CA", ("94103", "94110", "94114", "94117")),
    ("Miami", "FL", ("33101", "33125", "33130", "33133")),
    ("Atlanta", "GA", ("30303", "30308", "30312", "30318")),
    ("Minneapolis", "MN", ("55401", "55404", "55408", "55414")),
)

STREET_NAMES = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine",
    "Walnut", "Sunset", "Highland", "Mill", "River", "Church", "Spring", "Prospect",
    "Massachusetts", "Beacon", "Cherry", "Chestnut", "Franklin", "Jefferson",
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl", "Way")

# A few ICD-10-CM codes with shortened titles (a public classification), each with
# a typical billed amount in US dollars (an invented scale, not a tariff).
DIAGNOSES: Sequence[tuple[str, str, float]] = (
    ("E11.9", "Type 2 diabetes mellitus", 180.0),
    ("I10", "Essential (primary) hypertension", 140.0),
    ("J45.909", "Asthma, uncomplicated", 160.0),
    ("J06.9", "Acute upper respiratory infection", 95.0),
    ("M54.5", "Low back pain", 210.0),
    ("F32.9", "Major depressive disorder", 230.0),
    ("F41.1", "Generalized anxiety disorder", 220.0),
    ("K21.9", "Gastro-esophageal reflux disease", 150.0),
    ("E78.5", "Hyperlipidemia", 130.0),
    ("N39.0", "Urinary tract infection", 110.0),
    ("R51", "Headache", 120.0),
    ("S93.401A", "Sprain of right ankle", 380.0),
    ("O80", "Full-term uncomplicated delivery", 4200.0),
    ("C50.911", "Malignant neoplasm of right breast", 2600.0),
    ("B20", "HIV disease", 640.0),
    ("Z00.00", "General adult medical examination", 85.0),
    ("I48.91", "Atrial fibrillation", 520.0),
    ("G43.909", "Migraine", 175.0),
    ("L40.0", "Psoriasis vulgaris", 190.0),
    ("U07.1", "COVID-19", 240.0),
)

# Codes that only fit a female patient: a delivery, a female breast neoplasm.
FEMALE_ONLY_CODES = frozenset({"O80", "C50.911"})
DIAGNOSES_FOR_ANY_SEX = tuple(d for d in DIAGNOSES if d[0] not in FEMALE_ONLY_CODES)

INSURANCE_PROVIDERS = (
    "Acme Health Plan", "Harborview Mutual", "Northwind Care", "Pinecrest Assurance",
    "Bluegate Health", "Lakeshore Benefit Trust",
)

NOTES = (
    "Follow-up in 2 weeks.",
    "Patient reports improvement 🙂",
    "Interpreter requested: 普通话",
    "Allergic to penicillin; see chart.",
    "Called patient, left message.\nWill retry Monday.",
    "Prefers contact by e-mail, not phone.",
    "Referred to cardiology — appointment pending.",
    "Paciente prefiere atención en español.",
    "Fasting labs ordered, \"urgent\" flag removed.",
    "Transport arranged 🚑 for next visit.",
)

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")

# (city, region, country) for e-commerce orders; examples/hierarchies/city.csv
# has one row per city with these levels.
ORDER_CITIES: Sequence[tuple[str, str, str]] = (
    ("Boston", "Massachusetts", "United States"),
    ("Springfield", "Illinois", "United States"),
    ("San Francisco", "California", "United States"),
    ("Austin", "Texas", "United States"),
    ("Toronto", "Ontario", "Canada"),
    ("Montréal", "Quebec", "Canada"),
    ("London", "England", "United Kingdom"),
    ("Edinburgh", "Scotland", "United Kingdom"),
    ("Lyon", "Auvergne-Rhône-Alpes", "France"),
    ("Paris", "Île-de-France", "France"),
    ("München", "Bavaria", "Germany"),
    ("Köln", "North Rhine-Westphalia", "Germany"),
    ("Kraków", "Lesser Poland", "Poland"),
    ("São Paulo", "São Paulo", "Brazil"),
    ("東京", "Tokyo", "Japan"),
    ("大阪", "Osaka", "Japan"),
    ("Sydney", "New South Wales", "Australia"),
    ("Melbourne", "Victoria", "Australia"),
)

# Standard-time UTC offset of each order city (daylight saving time is ignored).
CITY_UTC_OFFSETS: Mapping[str, str] = {
    "Boston": "-05:00", "Springfield": "-06:00", "San Francisco": "-08:00",
    "Austin": "-06:00", "Toronto": "-05:00", "Montréal": "-05:00", "London": "+00:00",
    "Edinburgh": "+00:00", "Lyon": "+01:00", "Paris": "+01:00", "München": "+01:00",
    "Köln": "+01:00", "Kraków": "+01:00", "São Paulo": "-03:00", "東京": "+09:00",
    "大阪": "+09:00", "Sydney": "+10:00", "Melbourne": "+10:00",
}

PRODUCTS: Sequence[tuple[str, str]] = (
    ("SKU-10017", "19.99"), ("SKU-10042", "4.50"), ("SKU-20003", "129.00"),
    ("SKU-20118", "59.90"), ("SKU-30007", "8.25"), ("SKU-30555", "249.99"),
    ("SKU-40001", "0.99"), ("SKU-40250", "35.10"),
)

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "Mozilla/5.0 (X11; Linux x86_64)",
)

MERCHANTS: Sequence[tuple[str, str]] = (
    ("Corner Grocery", "groceries"), ("City Transit", "transport"),
    ("Bluebird Café", "restaurants"), ("PowerGrid Utilities", "utilities"),
    ("Northside Pharmacy", "health"), ("StreamFlix", "entertainment"),
    ("Gas & Go", "fuel"), ("Hardware Hub", "home"), ("Bookworm Books", "shopping"),
    ("Skyway Airlines", "travel"),
)


# --------------------------------------------------------------------------
# Small value generators
# --------------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    """Return ``text`` without accents or non-ASCII letters, lower case, for e-mail local parts."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_chars = "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-"))
    return ascii_chars.lower()


def random_date(rng: Random, start: dt.date, end: dt.date) -> dt.date:
    """Return a date drawn uniformly from ``start`` to ``end`` inclusive."""
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def fictional_phone(rng: Random) -> str:
    """Return 10 digits with a real area code and a 555-01XX line (reserved for fiction)."""
    area = rng.choice(("617", "401", "860", "802", "207", "603", "973", "787", "212", "312",
                       "512", "303", "206", "415", "305", "404", "612"))
    return f"{area}5550{rng.randint(100, 199)}"


def format_phone(digits: str, style: int) -> str:
    """Write 10 phone digits in one of five common styles."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    styles = (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        digits,
    )
    return styles[style]


def unissued_ssn(rng: Random) -> str:
    """Return an SSN-shaped string in area 900-999, group 01-49: never issued to anyone."""
    return f"{rng.randint(900, 999)}-{rng.randint(1, 49):02d}-{rng.randint(1, 9999):04d}"


def luhn_check_digit(digits: str) -> str:
    """Return the Luhn check digit that makes ``digits`` + digit a valid card number."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def fake_card_number(rng: Random) -> str:
    """Return a 16-digit Luhn-valid card number with the test prefix 400000."""
    body = "400000" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return body + luhn_check_digit(body)


def money(value: float) -> DecimalText:
    """Round a float to cents and keep it as text with exactly two decimals."""
    return DecimalText(f"{max(value, 0.01):.2f}")


def pick_name(rng: Random) -> tuple[str, str]:
    """Return a (first name, last name) pair from one name group."""
    weights = [group[0] for group in NAME_GROUPS]
    _, firsts, lasts = rng.choices(NAME_GROUPS, weights=weights)[0]
    return rng.choice(firsts), rng.choice(lasts)


def email_for(rng: Random, first: str, last: str, number: int) -> str:
    """Return an e-mail address at a reserved domain, built from the name where it is ASCII-able."""
    local_first, local_last = ascii_slug(first), ascii_slug(last)
    if local_first and local_last:
        pattern = rng.randint(0, 2)
        local = (f"{local_first}.{local_last}", f"{local_first[0]}{local_last}{number % 100}",
                 f"{local_last}.{local_first}{number % 1000}")[pattern]
    else:
        local = f"patient{number}"
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def messy_email(rng: Random, email: str) -> str:
    """Return the same address as a person might type it: other case, stray spaces."""
    local, domain = email.split("@")
    variant = rng.randint(0, 3)
    if variant == 0:
        return email.upper()
    if variant == 1:
        return f"{local.title()}@{domain.capitalize()}"
    if variant == 2:
        return f"  {email} "
    return f"{email}\t"


# --------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Patient:
    """Per-patient facts shared by all of that patient's visits."""

    patient_id: str
    first_name: str
    last_name: str
    sex: str
    birth_date: dt.date
    email: str | None
    phone_digits: str | None
    ssn: str | None
    street: str
    city: str
    state: str
    zip_code: str
    insurance: dict[str, str] | None
    card_number: str
    visit_count: int


def make_patient(rng: Random, number: int) -> Patient:
    """Draw one invented patient."""
    first, last = pick_name(rng)

    city, state, zips = rng.choice(PATIENT_CITIES)
    zip_code = rng.choice(zips)
    if rng.random() < 0.03:
        zip_code = f"{zip_code}-{rng.randint(1, 9999):04d}"  # ZIP+4
    street = f"{rng.randint(1, 9999)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
    if rng.random() < 0.15:
        street += f", Apt {rng.randint(1, 40)}{rng.choice('ABCD')}"

    insurance = None
    if rng.random() < 0.85:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        insurance = {
            "provider": rng.choice(INSURANCE_PROVIDERS),
            "member_id": f"{letters}{rng.randint(0, 999_999_999):09d}",
        }

    # Visit counts from 1 to 6, most patients with 1 to 3.
    visit_count = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 25, 18, 12, 9, 6))[0]
    return Patient(
        patient_id=f"P{number:06d}",
        first_name=first,
        last_name=last,
        sex=rng.choices(("F", "M", "X"), weights=(50, 49, 1))[0],
        birth_date=random_date(rng, dt.date(1930, 1, 1), dt.date(2021, 12, 31)),
        email=None if rng.random() < 0.05 else email_for(rng, first, last, number),
        phone_digits=None if rng.random() < 0.04 else fictional_phone(rng),
        ssn=None if rng.random() < 0.06 else unissued_ssn(rng),
        street=street,
        city=city,
        state=state,
        zip_code=zip_code,
        insurance=insurance,
        card_number=fake_card_number(rng),
        visit_count=visit_count,
    )


def make_visit(rng: Random, patient: Patient, visit_date: dt.date) -> dict[str, Any]:
    """Build one visit record (nested form) for ``patient``; ``visit_id`` is set later."""
    code, title, typical_amount = rng.choice(
        DIAGNOSES if patient.sex == "F" else DIAGNOSES_FOR_ANY_SEX
    )
    billed = money(typical_amount * rng.lognormvariate(0.0, 0.35))
    email: str | None = patient.email
    if email is not None and rng.random() < 0.12:
        email = messy_email(rng, email)
    phone: str | None = None
    if patient.phone_digits is not None:
        phone = format_phone(patient.phone_digits, rng.randint(0, 4))
    elif rng.random() < 0.5:
        phone = ""  # an empty string, as opposed to null, in the JSON files

    payments: list[dict[str, Any]] = []
    payment_count = rng.choices((0, 1, 2), weights=(20, 65, 15))[0]
    remaining = float(billed)
    for _ in range(payment_count):
        amount = money(remaining * rng.uniform(0.2, 1.0))
        remaining = max(remaining - float(amount), 0.01)
        card = patient.card_number
        if rng.random() < 0.4:
            card = " ".join(card[i : i + 4] for i in range(0, 16, 4))
        payments.append({"card_number": card, "amount": amount})

    record: dict[str, Any] = {
        "visit_id": "",
        "patient_id": patient.patient_id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "email": email,
        "phone": phone,
        "ssn": patient.ssn,
        "street": patient.street,
        "city": patient.city,
        "state": patient.state,
        "zip": patient.zip_code,
        "visit_date": visit_date.isoformat(),
        "diagnosis_code": code,
        "diagnosis": title,
        "amount_billed": billed,
        "insurance": dict(patient.insurance) if patient.insurance is not None else None,
        "payments": payments,
    }
    # Most visits have no note at all: the key is absent from the JSON record.
    if rng.random() < 0.08:
        record["notes"] = rng.choice(NOTES)
    return record


def generate_patients(records: int, seed: int) -> list[dict[str, Any]]:
    """Return ``records`` visit records in visit-date order, several per patient.

    A patient's visits are spread over the file (the file is sorted by visit
    date), so masking them consistently needs ``consistent_by: patient_id``
    across batches, not only within one.
    """
    rng = Random(seed)
    visits: list[tuple[dt.date, int, dict[str, Any]]] = []
    number = 0
    while len(visits) < records:
        number += 1
        patient = make_patient(rng, number)
        first_visit = random_date(rng, dt.date(2022, 1, 3), dt.date(2024, 10, 31))
        visit_date = first_visit
        for _ in range(min(patient.visit_count, records - len(visits))):
            visits.append((visit_date, len(visits), make_visit(rng, patient, visit_date)))
            visit_date += dt.timedelta(days=rng.randint(7, 120))
    visits.sort(key=lambda item: (item[0], item[1]))
    result = []
    for index, (_, _, record) in enumerate(visits, start=1):
        record["visit_id"] = f"V{index:07d}"
        result.append(record)
    return result


PATIENT_CSV_COLUMNS = (
    "visit_id", "patient_id", "first_name", "last_name", "sex", "birth_date", "email",
    "phone", "ssn", "street", "city", "state", "zip", "visit_date", "diagnosis_code",
    "diagnosis", "amount_billed", "insurance_provider", "insurance_member_id", "notes",
)


def flatten_patient(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the CSV form of a visit record: insurance flattened, payments left out."""
    flat = {key: value for key, value in record.items() if key not in ("insurance", "payments")}
    insurance = record["insurance"] or {}
    flat["insurance_provider"] = insurance.get("provider")
    flat["insurance_member_id"] = insurance.get("member_id")
    flat.setdefault("notes", None)
    return flat


# --------------------------------------------------------------------------
# E-commerce orders
# --------------------------------------------------------------------------


def documentation_ip(rng: Random) -> str:
    """Return an IPv4 address from the three RFC 5737 blocks, or an RFC 3849 IPv6 address."""
    if rng.random() < 0.1:
        return f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
    block = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{block}.{rng.randint(1, 254)}"


def generate_orders(records: int, seed: int) -> list[dict[str, Any]]:
    """Return ``records`` flat e-commerce orders; customers place several orders each."""
    rng = Random(seed + 1)
    customers = []
    for number in range(1, max(records // 3, 1) + 1):
        first, last = pick_name(rng)
        city = rng.choice(ORDER_CITIES)[0]
        customers.append(
            {
                "user_id": f"u{rng.getrandbits(48):012x}",
                "email": email_for(rng, first, last, number),
                "city": city,
                "ip_address": documentation_ip(rng),
            }
        )
    orders = []
    start = dt.datetime(2024, 1, 1, 0, 0, 0)
    for number in range(1, records + 1):
        customer = rng.choice(customers)
        placed = start + dt.timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
        item_count = rng.randint(1, 4)
        total = sum(
            rng.randint(1, 3) * float(price)
            for _, price in (rng.choice(PRODUCTS) for _ in range(item_count))
        )
        # A customer's IP address changes now and then.
        ip_address = customer["ip_address"] if rng.random() < 0.7 else documentation_ip(rng)
        orders.append(
            {
                "order_id": f"ORD-{number:06d}",
                "user_id": customer["user_id"],
                "email": customer["email"],
                "ip_address": ip_address,
                "user_agent": rng.choice(USER_AGENTS),
                "placed_at": placed.isoformat() + CITY_UTC_OFFSETS[customer["city"]],
                "city": customer["city"],
                "item_count": item_count,
                "total": money(total),
                "coupon": rng.choice(("SPRING10", "WELCOME5")) if rng.random() < 0.15 else None,
            }
        )
    return orders


ORDER_COLUMNS = (
    "order_id", "user_id", "email", "ip_address", "user_agent", "placed_at", "city",
    "item_count", "total", "coupon",
)


# --------------------------------------------------------------------------
# Bank transactions
# --------------------------------------------------------------------------


@dataclass(kw_only=True)
class BankCustomer:
    """An invented bank customer; ``balance`` changes with each transaction."""

    customer_id: str
    account_number: str
    routing_number: str
    card_number: str
    balance: float


def generate_transactions(records: int, seed: int) -> list[dict[str, Any]]:
    """Return ``records`` flat card and account transactions of invented customers."""
    rng = Random(seed + 2)
    # Invented 9-digit routing numbers of three banks, with a leading zero.
    routing_numbers = [f"0{rng.randint(10_000_000, 99_999_999)}" for _ in range(3)]
    customers = [
        BankCustomer(
            customer_id=f"C{number:07d}",
            # Account numbers keep their leading zeros: they are identifiers, not numbers.
            account_number=f"{rng.randint(0, 10**12 - 1):012d}",
            routing_number=rng.choice(routing_numbers),
            card_number=fake_card_number(rng),
            balance=rng.uniform(200.0, 20_000.0),
        )
        for number in range(1, max(records // 20, 1) + 1)
    ]
    rows = []
    start = dt.datetime(2024, 6, 1, 0, 0, 0)
    timestamps = sorted(rng.randint(0, 90 * 24 * 3600) for _ in range(records))
    for number, offset in enumerate(timestamps, start=1):
        customer = rng.choice(customers)
        merchant, category = rng.choice(MERCHANTS)
        amount = round(rng.lognormvariate(3.3, 1.0), 2)
        if rng.random() < 0.04:
            amount = -amount  # a refund
        customer.balance -= amount
        card = customer.card_number
        if rng.random() < 0.3:
            card = "-".join(card[i : i + 4] for i in range(0, 16, 4))
        rows.append(
            {
                "transaction_id": f"T{number:08d}",
                "customer_id": customer.customer_id,
                "account_number": customer.account_number,
                "routing_number": customer.routing_number,
                "card_number": card,
                "posted_at": (start + dt.timedelta(seconds=offset)).isoformat() + "Z",
                "merchant": merchant,
                "category": category,
                "amount": DecimalText(f"{amount:.2f}"),
                "currency": "USD",
                "balance_after": DecimalText(f"{customer.balance:.2f}"),
            }
        )
    return rows


TRANSACTION_COLUMNS = (
    "transaction_id", "customer_id", "account_number", "routing_number", "card_number",
    "posted_at", "merchant", "category", "amount", "currency", "balance_after",
)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """Serialize compactly, keeping key order, UTF-8 text and ``DecimalText`` numbers as written."""
    if isinstance(value, DecimalText):
        return str(value)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(key, ensure_ascii=False)}:{json_text(item)}"
                 for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def write_json(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write one top-level array, one record per line."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("[\n")
        first = True
        for record in records:
            if not first:
                handle.write(",\n")
            handle.write(json_text(record))
            first = False
        handle.write("\n]\n")


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object per line."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json_text(record))
            handle.write("\n")


def write_csv(path: Path, columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> None:
    """Write a comma-separated file with a header, LF line ends; null becomes an empty cell."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow(["" if record.get(name) is None else record[name] for name in columns])


def write_all(out: Path, *, patients: int, orders: int, transactions: int, seed: int) -> list[Path]:
    """Generate every dataset and write its files into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []

    patient_records = generate_patients(patients, seed)
    write_json(out / "patients.json", patient_records)
    write_jsonl(out / "patients.jsonl", patient_records)
    write_csv(out / "patients.csv", PATIENT_CSV_COLUMNS, map(flatten_patient, patient_records))
    written += [out / "patients.json", out / "patients.jsonl", out / "patients.csv"]

    order_records = generate_orders(orders, seed)
    write_csv(out / "orders.csv", ORDER_COLUMNS, order_records)
    write_jsonl(out / "orders.jsonl", order_records)
    written += [out / "orders.csv", out / "orders.jsonl"]

    transaction_records = generate_transactions(transactions, seed)
    write_csv(out / "transactions.csv", TRANSACTION_COLUMNS, transaction_records)
    write_jsonl(out / "transactions.jsonl", transaction_records)
    written += [out / "transactions.csv", out / "transactions.jsonl"]
    return written


def positive_int(text: str) -> int:
    """Parse a record count for argparse: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, write the datasets and list what was written on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=positive_int, default=DEFAULT_PATIENT_RECORDS,
                        help="number of patient visit records (default: %(default)s)")
    parser.add_argument("--orders", type=positive_int, default=DEFAULT_ORDER_RECORDS,
                        help="number of e-commerce order records (default: %(default)s)")
    parser.add_argument("--transactions", type=positive_int, default=DEFAULT_TRANSACTION_RECORDS,
                        help="number of bank transaction records (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="seed of the random generator (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("examples/data"),
                        help="folder to write the files into (default: %(default)s)")
    args = parser.parse_args(argv)
    written = write_all(
        args.out,
        patients=args.records,
        orders=args.orders,
        transactions=args.transactions,
        seed=args.seed,
    )
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
