#!/usr/bin/env python3
"""Generate the synthetic people table that MaskMe's benchmarks run on.

Every value is invented. Phone numbers are written 555-XXX-XXXX, SSNs use
area numbers 900 to 999 (never assigned as SSNs), and e-mail domains are the
ones reserved for documentation (RFC 2606). NOTE: 555 stands where the area
code goes, so the phone numbers are not the 555-0100 to 555-0199 numbers that
the North American plan sets aside for fiction.

Columns: ``id``, ``name``, ``email``, ``phone``, ``ssn``, ``birth_date``,
``visit_date``, ``zip``, ``city``, ``state``, ``gender``, ``age``, ``income``,
``diagnosis``, ``notes``. ``visit_date`` is there because the masking
workload noises one date and generalizes another (``birth_date``) to its
year. ZIP codes of the north-eastern states start with 0, so a reader that
infers numbers would lose their leading zero. ``phone`` is null in about 2 %
of the records and ``notes`` in about 10 %. Notes contain commas, quotes
and accented letters, so CSV writers must quote them.

``age`` is the age on 2025-01-01 of someone born on ``birth_date``. ``city``
is one of 20 cities per state, and ``zip`` starts with its state's 3-digit
prefix, so age, gender, state and city give 126,874 equivalence classes
at 1M records with the default seed.

The output is deterministic: records are drawn in blocks of
``BLOCK_ROWS`` with ``numpy.random.default_rng([seed, block])``, so the same
seed and size give the same bytes on any machine, and the first N records of
a larger table equal the table of N records when N is a multiple of
``BLOCK_ROWS``. Generation is vectorized with numpy and Polars: 10M records
took 1.5 to 2.5 minutes per format on a busy 2-core machine.

Usage::

    .venv/bin/python bench/generate.py --rows 1000000 --formats csv,jsonl
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

__all__ = [
    "BLOCK_ROWS",
    "COLUMNS",
    "DEFAULT_SEED",
    "TableMismatchError",
    "check_people",
    "generate_block",
    "people_path",
    "write_people",
]

DEFAULT_SEED = 20261204
#: Records drawn per random block; also the unit written to disk at a time.
BLOCK_ROWS = 250_000
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "data"
COLUMNS = (
    "id", "name", "email", "phone", "ssn", "birth_date", "visit_date", "zip", "city",
    "state", "gender", "age", "income", "diagnosis", "notes",
)
#: Ages are computed on this day.
REFERENCE_DATE = np.datetime64("2025-01-01")

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "José", "Nancy", "Wei", "Lisa", "Ahmed", "Betty", "Daniel",
    "Margaret", "Matthew", "Sandra", "Anthony", "Ashley", "Mark", "Kimberly", "Chloé",
    "Emily", "Andrew", "Donna", "Joshua", "Michelle",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White",
    "Harris", "Sánchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "O'Brien",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
#: (state code, 3-digit ZIP prefix, relative population weight).
STATES = (
    ("AL", "350", 5.0), ("AK", "995", 0.7), ("AZ", "850", 7.3), ("AR", "716", 3.0),
    ("CA", "900", 39.0), ("CO", "800", 5.8), ("CT", "060", 3.6), ("DE", "197", 1.0),
    ("FL", "320", 22.0), ("GA", "300", 10.9), ("HI", "967", 1.4), ("ID", "832", 1.9),
    ("IL", "600", 12.6), ("IN", "460", 6.8), ("IA", "500", 3.2), ("KS", "660", 2.9),
    ("KY", "400", 4.5), ("LA", "700", 4.6), ("ME", "039", 1.4), ("MD", "206", 6.2),
    ("MA", "010", 7.0), ("MI", "480", 10.0), ("MN", "550", 5.7), ("MS", "386", 2.9),
    ("MO", "630", 6.2), ("MT", "590", 1.1), ("NE", "680", 2.0), ("NV", "889", 3.2),
    ("NH", "030", 1.4), ("NJ", "070", 9.3), ("NM", "870", 2.1), ("NY", "100", 19.6),
    ("NC", "270", 10.8), ("ND", "580", 0.8), ("OH", "430", 11.8), ("OK", "730", 4.0),
    ("OR", "970", 4.2), ("PA", "150", 13.0), ("RI", "028", 1.1), ("SC", "290", 5.3),
    ("SD", "570", 0.9), ("TN", "370", 7.1), ("TX", "750", 30.0), ("UT", "840", 3.4),
    ("VT", "050", 0.6), ("VA", "220", 8.7), ("WA", "980", 7.8), ("WV", "247", 1.8),
    ("WI", "530", 5.9), ("WY", "820", 0.6),
)
CITIES_PER_STATE = 20
CITY_STARTS = (
    "Spring", "River", "Oak", "Maple", "Cedar", "Lake", "Green", "Fair", "Mill", "Stone",
    "Ash", "Brook", "Clear", "Elm", "High", "Pine", "Red", "Silver", "West", "North",
    "East", "Rock", "Sand", "Glen",
)
CITY_ENDS = (
    "field", "ton", "ville", "wood", "port", "dale", "burg", "view", "haven", "ford",
    "side", "mont", "bridge", "water", "hill",
)
#: (ICD-10 code, relative weight): common outpatient diagnoses.
DIAGNOSES = (
    ("I10", 18.0), ("E11.9", 9.0), ("E78.5", 8.0), ("J06.9", 7.0), ("M54.5", 6.0),
    ("F41.1", 5.0), ("F32.9", 5.0), ("K21.9", 4.0), ("J45.909", 3.5), ("N39.0", 3.0),
    ("E66.9", 3.0), ("M17.9", 2.5), ("G43.909", 2.0), ("L40.0", 1.5), ("I25.10", 1.5),
    ("J44.9", 1.5), ("E03.9", 1.5), ("K58.9", 1.0), ("C50.919", 0.6), ("B20", 0.3),
)
NOTE_OPENINGS = (
    "Patient reports mild pain",
    "Follow-up visit, no complaints",
    'Says she feels "much better"',
    "Referred by Dr. Müller, cardiology",
    "Missed last appointment",
    "New patient; history reviewed",
    "Requested a second opinion, noted",
    "Bloodwork ordered",
)
NOTE_ENDINGS = (
    ", advised rest and fluids.",
    "; schedule review in 3 months.",
    ", prescription renewed.",
    ". Café au lait spots noted, benign.",
    ', said "call me after 5pm".',
    ".",
    ", discussed diet, exercise, sleep.",
    "; labs within normal limits.",
)


FORMATS = ("csv", "jsonl")
#: Bytes read from the end of a file to find its last record (records are under 1 kB).
TAIL_BYTES = 4096


class TableMismatchError(Exception):
    """A file at a generated table's path does not contain that table."""


def people_path(
    rows: int, file_format: str, directory: Path = DEFAULT_OUTPUT, *, seed: int = DEFAULT_SEED
) -> Path:
    """Return where the table of ``rows`` records in ``file_format`` is written.

    A seed other than the default is part of the name, so that a file kept
    from an earlier run always contains the table of the requested seed.
    """
    suffix = "" if seed == DEFAULT_SEED else f"-seed{seed}"
    return directory / f"people-{rows}{suffix}.{file_format}"


def _pick(options: Sequence[str], indices: np.ndarray) -> pl.Series:
    return pl.Series(list(options), dtype=pl.String).gather(indices)


def _digits(values: np.ndarray, width: int) -> pl.Series:
    return pl.Series(values).cast(pl.String).str.zfill(width)


def _weighted(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    probabilities = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(probabilities), size=size, p=probabilities / probabilities.sum())


def _with_nulls(values: pl.Series, missing: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.lit(missing)).then(None).otherwise(pl.lit(values))).to_series()


def _city_names() -> list[str]:
    """Return ``CITIES_PER_STATE`` city names for each state, in state order."""
    names = []
    for state_index in range(len(STATES)):
        for city_index in range(CITIES_PER_STATE):
            start = CITY_STARTS[(state_index * 7 + city_index) % len(CITY_STARTS)]
            end = CITY_ENDS[(state_index * 3 + city_index * 4) % len(CITY_ENDS)]
            names.append(start + end)
    return names


def generate_block(block: int, rows: int, *, seed: int = DEFAULT_SEED) -> pl.DataFrame:
    """Draw ``rows`` records of block number ``block`` (ids start at ``block * BLOCK_ROWS + 1``).

    Integer columns (``id``, ``age``) are Int64 and ``income`` is Float64, so
    JSONL gets numbers; every other column is a String.
    """
    rng = np.random.default_rng([seed, block])
    first_id = block * BLOCK_ROWS + 1
    ids = np.arange(first_id, first_id + rows, dtype=np.int64)

    first = rng.integers(0, len(FIRST_NAMES), rows)
    last = rng.integers(0, len(LAST_NAMES), rows)
    first_names = _pick(FIRST_NAMES, first)
    last_names = _pick(LAST_NAMES, last)
    name = pl.concat_str([pl.lit(first_names), pl.lit(" "), pl.lit(last_names)])
    # Some addresses are written in capitals, so normalization before hashing matters.
    shouting = rng.random(rows) < 0.03
    email_local = pl.concat_str(
        [pl.lit(first_names), pl.lit("."), pl.lit(last_names), pl.lit(_digits(ids % 1000, 3))]
    ).str.to_lowercase().str.replace_all("[^a-z0-9.]", "")
    email = pl.concat_str(
        [email_local, pl.lit("@"), pl.lit(_pick(EMAIL_DOMAINS, rng.integers(0, 3, rows)))]
    )
    email = pl.when(pl.lit(shouting)).then(email.str.to_uppercase()).otherwise(email)

    phone = pl.concat_str([
        pl.lit("555-"), pl.lit(_digits(rng.integers(100, 1000, rows), 3)), pl.lit("-"),
        pl.lit(_digits(rng.integers(0, 10_000, rows), 4)),
    ])
    ssn = pl.concat_str([
        pl.lit(_digits(rng.integers(900, 1000, rows), 3)), pl.lit("-"),
        pl.lit(_digits(rng.integers(1, 100, rows), 2)), pl.lit("-"),
        pl.lit(_digits(rng.integers(1, 10_000, rows), 4)),
    ])

    ages = rng.integers(18, 91, rows)
    # Born on January 2 to December 31 of the year 2024 - age, so `age` is exact on 2025-01-01.
    days_before = rng.integers(1, 365, rows)
    birth = (
        REFERENCE_DATE.astype("datetime64[Y]") - ages.astype("timedelta64[Y]")
    ).astype("datetime64[D]") - days_before.astype("timedelta64[D]")
    visits = np.datetime64("2020-01-01") + rng.integers(0, 5 * 365, rows).astype("timedelta64[D]")

    state_index = _weighted(rng, [weight for _, _, weight in STATES], rows)
    city_offset = np.minimum(rng.geometric(0.15, rows) - 1, CITIES_PER_STATE - 1)
    city_index = state_index * CITIES_PER_STATE + city_offset
    prefixes = pl.Series([prefix for _, prefix, _ in STATES]).gather(state_index)
    zip_code = pl.concat_str([
        pl.lit(prefixes), pl.lit(_digits(city_offset * 5 + rng.integers(0, 5, rows), 2))
    ])

    genders = _pick(("F", "M", "X"), _weighted(rng, [0.495, 0.495, 0.01], rows))
    income = np.round(np.exp(rng.normal(10.8, 0.6, rows)), 2)
    diagnosis = _pick([code for code, _ in DIAGNOSES],
                      _weighted(rng, [weight for _, weight in DIAGNOSES], rows))
    notes = pl.concat_str([
        pl.lit(_pick(NOTE_OPENINGS, rng.integers(0, len(NOTE_OPENINGS), rows))),
        pl.lit(_pick(NOTE_ENDINGS, rng.integers(0, len(NOTE_ENDINGS), rows))),
    ])

    frame = pl.select(
        id=pl.lit(pl.Series(ids)),
        name=name,
        email=email,
        phone=phone,
        ssn=ssn,
        birth_date=pl.lit(pl.Series(birth)).cast(pl.String),
        visit_date=pl.lit(pl.Series(visits)).cast(pl.String),
        zip=zip_code,
        city=pl.lit(pl.Series(_city_names()).gather(city_index)),
        state=pl.lit(pl.Series([code for code, _, _ in STATES]).gather(state_index)),
        gender=pl.lit(genders),
        age=pl.lit(pl.Series(ages)),
        income=pl.lit(pl.Series(income)),
        diagnosis=pl.lit(diagnosis),
        notes=notes,
    )
    return frame.with_columns(
        phone=_with_nulls(frame["phone"], rng.random(rows) < 0.02),
        notes=_with_nulls(frame["notes"], rng.random(rows) < 0.10),
    )


def check_people(path: Path, rows: int, file_format: str) -> str | None:
    """Return why ``path`` is not the table of ``rows`` records, or None if it may be.

    Reads only the first and the last line: the header (CSV) or the first
    record's field names (JSONL), and the last record's ``id``, which must be
    ``rows``. That finds a truncated file, a file of another size or one cut
    by an interrupted copy.

    NOTE: an edit inside the file that keeps both lines is not found.
    """
    with path.open("rb") as stream:
        first = stream.readline()
        size = stream.seek(0, 2)
        stream.seek(max(0, size - TAIL_BYTES))
        tail = stream.read()
    if not tail.endswith(b"\n"):
        return "its last line has no line break"
    last = tail[:-1].rsplit(b"\n", 1)[-1]
    try:
        if file_format == "csv":
            fields = tuple(first.decode("utf-8").rstrip("\r\n").split(","))
            last_id = last.split(b",", 1)[0].decode("ascii")
        else:
            fields = tuple(json.loads(first))
            last_id = str(json.loads(last)["id"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return "its first or last line is not a record of the table"
    if fields != COLUMNS:
        return f"expected the columns {', '.join(COLUMNS)}"
    if last_id != str(rows):
        return f"expected the last record to have id {rows}"
    return None


#: Partial tables being written; the process deletes those left when it exits.
_UNFINISHED: set[Path] = set()


@atexit.register
def _remove_unfinished() -> None:
    """Delete partial tables that an interruption left.

    One Ctrl-C during a Polars write can raise KeyboardInterrupt twice: once
    from Polars and once from Python's own handler. The second can stop the
    deletion in ``write_people``, but not this one, which runs at exit.
    """
    for path in _UNFINISHED:
        path.unlink(missing_ok=True)


def write_people(
    rows: int,
    file_format: str,
    *,
    directory: Path = DEFAULT_OUTPUT,
    seed: int = DEFAULT_SEED,
    force: bool = False,
) -> Path:
    """Write the table of ``rows`` records as CSV or JSONL and return its path.

    An existing file is kept unless ``force`` is set, so repeated benchmark
    runs do not regenerate it, but :func:`check_people` must accept it first
    (otherwise :class:`TableMismatchError`). The file is written under a
    temporary name and renamed when complete, so an interrupted run leaves no
    truncated table.
    """
    if file_format not in FORMATS:
        raise ValueError(f"expected format csv or jsonl, got {file_format!r}")
    if seed < 0:
        raise ValueError(f"expected a seed of 0 or more, got {seed}")
    target = people_path(rows, file_format, directory, seed=seed)
    if target.is_dir():
        raise TableMismatchError(f"{target} is a folder, not the generated table; move it away")
    if target.exists() and not force:
        problem = check_people(target, rows, file_format)
        if problem is not None:
            raise TableMismatchError(
                f"{target} is not the generated table of {rows:,} records: {problem}. "
                "Delete it, or generate it again with --force (generate.py) "
                "or force=True (write_people)"
            )
        return target
    directory.mkdir(parents=True, exist_ok=True)
    # The process id keeps two runs that write the same table from writing one file.
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    _UNFINISHED.add(partial)
    try:
        with partial.open("wb") as stream:
            for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
                frame = generate_block(block, min(BLOCK_ROWS, rows - start), seed=seed)
                if file_format == "csv":
                    frame.write_csv(stream, include_header=block == 0)
                else:
                    frame.write_ndjson(stream)
        partial.replace(target)
    except BaseException:
        # An interrupted or failed write leaves neither the table nor its partial file.
        partial.unlink(missing_ok=True)
        raise
    _UNFINISHED.discard(partial)
    return target


def _stop_on_signal(signal_number: int, frame: object) -> None:
    """Turn SIGTERM and SIGHUP into an exit that runs the clean-up code."""
    print(f"generate.py: stopped by {signal.Signals(signal_number).name}; no partial table "
          "is left", file=sys.stderr)
    raise SystemExit(128 + signal_number)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="records to generate")
    parser.add_argument("--formats", default="csv,jsonl", help="comma-separated: csv, jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="random seed, 0 or more")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.seed < 0:
        parser.error(f"--seed: expected 0 or more, got {args.seed}")
    formats = [name.strip() for name in args.formats.split(",")]
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        parser.error(f"--formats: unknown format {unknown[0]!r}; choose from csv, jsonl")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} is a file; expected a folder")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    for file_format in dict.fromkeys(formats):
        started = time.perf_counter()
        existed = people_path(args.rows, file_format, args.out, seed=args.seed).exists()
        try:
            path = write_people(
                args.rows, file_format, directory=args.out, seed=args.seed, force=args.force
            )
        except TableMismatchError as error:
            print(f"generate.py: {error}", file=sys.stderr)
            return 1
        except OSError as error:
            print(f"generate.py: cannot write to {args.out}: {error.strerror}; "
                  "choose a writable folder with --out", file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - started
        size = f"{path.stat().st_size / 1e6:,.1f} MB"
        if existed and not args.force:
            print(f"{path} ({size}) exists and was kept; pass --force to write it again",
                  file=sys.stderr)
        else:
            print(f"{path} ({size}, {elapsed:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("generate.py: interrupted; no partial table is left", file=sys.stderr)
        sys.exit(130)
