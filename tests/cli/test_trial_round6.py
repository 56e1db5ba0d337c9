"""Sixth trial: declared missing values (``missing_values``) and CSV files with a space after each delimiter.

The first part shows problems found in this trial. Those fixed since pass;
the two still marked ``xfail`` are limits the docs state. The second part
pins behaviours that the trial checked and found working. Most expected values are counted here with Python's csv and
json modules, independently of MaskMe's own code.

Command-line runs are real ``python -m maskme`` processes (``run_cli``) on
files made here with synthetic data, or on the bundled UCI Adult copy.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_DATA, run_cli

ADULT_UCI = TEST_DATA / "adult_uci" / "adult.csv"
ADULT_HIERARCHIES = TEST_DATA / "adult_uci" / "hierarchies"

# Synthetic personal value: a test fails when it appears in an error message.
SECRET_NAME = "Secretname"

KEEP_POLICY = "version: 1\ndefault: keep\n"

_STARS = re.compile(r"\*+")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def stderr_of(result: Any) -> str:
    return result.stderr.decode("utf-8", errors="replace")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a CSV file as Python's csv module does with ``skipinitialspace=True``."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, skipinitialspace=True))


def parse_like_python(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True) if row]


def count_classes(
    rows: list[dict[str, str]], quasi_identifiers: list[str]
) -> collections.Counter[tuple[str, ...]]:
    """Count the records of each class, leaving out records whose quasi-identifiers are all stars."""
    classes: collections.Counter[tuple[str, ...]] = collections.Counter()
    for row in rows:
        key = tuple(row[name] for name in quasi_identifiers)
        if not all(_STARS.fullmatch(value) for value in key):
            classes[key] += 1
    return classes


def sensitive_values(
    rows: list[dict[str, str]], quasi_identifiers: list[str], sensitive: str, markers: set[str]
) -> dict[tuple[str, ...], collections.Counter[str]]:
    """Count each class's non-missing sensitive values (the empty string and markers are missing)."""
    counts: dict[tuple[str, ...], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for row in rows:
        key = tuple(row[name] for name in quasi_identifiers)
        value = row[sensitive]
        if value != "" and value not in markers:
            counts[key][value] += 1
    return counts


# -- problems found in this trial -----------------------------------------------


def test_marker_equal_to_hierarchy_label(tmp_path: Path) -> None:
    # The hierarchy is a tree: `?` (not declared here) generalizes to
    # `Unknown`, then to `*`. The data also writes `Unknown` for a missing
    # value and declares it. The declared text must not merge with the
    # hierarchy's label `Unknown`, which would make the levels look like no
    # tree ("fix the hierarchy so that it is a tree").
    rows = ["job,city"]
    jobs = ["nurse", "doctor", "clerk", "cashier", "Unknown", "?"]
    for index in range(60):
        rows.append(f"{jobs[index % len(jobs)]},{'AB'[index % 2]}")
    data = write(tmp_path / "in.csv", "\n".join(rows) + "\n")
    write(
        tmp_path / "job.csv",
        "nurse;Health;*\ndoctor;Health;*\nclerk;Office;*\ncashier;Office;*\n?;Unknown;*\n",
    )
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["Unknown"]\nquasi_identifiers:\n  job: {hierarchy: job.csv}\n'
        + "  city:\nprivacy: {k: 3}\n",
    )
    output = tmp_path / "out.csv"

    result = run_cli("anonymize", str(data), "-p", str(policy), "-o", str(output))

    assert "do not nest" not in stderr_of(result)
    assert result.returncode == 0, stderr_of(result)
    released = read_rows(output)
    assert min(count_classes(released, ["job", "city"]).values()) >= 3


@pytest.mark.xfail(
    strict=True,
    reason="JSON -1 and \"-1\" are one class in the counts but two in the released file, so k fails there",
)
def test_json_typed_markers_released_k(tmp_path: Path) -> None:
    # Both are the declared text -1, so they group together (7 + 1 records)
    # and are never generalized. The released file still shows them apart,
    # and the one record with the text "-1" is alone in its class.
    lines = [json.dumps({"q": -1, "z": "a"}) for _ in range(7)]
    lines.append(json.dumps({"q": "-1", "z": "a"}))
    lines.extend(json.dumps({"q": value, "z": "a"}) for value in ["x"] * 4 + ["y"] * 4)
    data = write(tmp_path / "in.jsonl", "\n".join(lines) + "\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + 'missing_values: ["-1"]\nquasi_identifiers: [q, z]\nprivacy: {k: 4}\n',
    )
    output = tmp_path / "out.jsonl"

    result = run_cli("anonymize", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    released = [json.loads(line) for line in output.read_text().splitlines()]
    # The JSON type is visible in the file, so classes are counted by the JSON text.
    classes_by_text = collections.Counter((json.dumps(record["q"]), record["z"]) for record in released)
    assert min(classes_by_text.values()) >= 4


def test_mask_and_anonymize_agree_on_l(tmp_path: Path) -> None:
    # Class `b` has only declared missing sensitive values, so it has no
    # distinct value and fails l = 2. Both commands must report it: anonymize
    # finds no node within a suppression limit of 0, and mask writes nothing.
    data = write(tmp_path / "in.csv", "q,s\na,x\na,y\nb,?\nb,N/A\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?", "N/A"]\nquasi_identifiers: [q]\nsensitive_attributes: [s]\n'
        + "privacy: {k: 2, l: 2}\n",
    )

    masked = run_cli("mask", str(data), "-p", str(policy), "-o", str(tmp_path / "masked.csv"))
    anonymized = run_cli(
        "anonymize", str(data), "-p", str(policy), "-o", str(tmp_path / "anonymized.csv")
    )

    assert masked.returncode in (0, 3), stderr_of(masked)
    assert anonymized.returncode in (0, 3), stderr_of(anonymized)
    assert masked.returncode == anonymized.returncode


@pytest.mark.parametrize("rule", ["{intervals: [10]}", "{mondrian: true}"])
def test_nan_text_numeric_rule_rejected(tmp_path: Path, rule: str) -> None:
    # The text `nan` parses as a float, but it is no number an interval can
    # hold: Mondrian would otherwise release the two `nan` records as "[5, 7]".
    data = write(tmp_path / "in.csv", "q,s\nnan,x\nnan,y\n5,x\n6,y\n7,z\n?,y\n?,z\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + f'missing_values: ["?"]\nquasi_identifiers:\n  q: {rule}\nprivacy: {{k: 2}}\n',
    )

    result = run_cli("anonymize", str(data), "-p", str(policy), "-o", str(tmp_path / "out.csv"))

    assert result.returncode == 2
    assert "1 distinct value that cannot be read as a number" in stderr_of(result)


@pytest.mark.xfail(
    strict=True,
    reason="an even number of stray quotes in a spaced row keeps the space that Python's csv skips",
)
def test_spaced_stray_quotes_read_like_csv(tmp_path: Path) -> None:
    # Python reads `1, 5" tall, 6" wide` as ['1', '5" tall', '6" wide'].
    # MaskMe counts the quotes as opening a quoted part, so the space after
    # the second delimiter stays: ' 6" wide'.
    text = 'a, b, c\n1, 5" tall, 6" wide\n2, y, z\n'
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "p.yaml", KEEP_POLICY + "fields:\n  a: {strategy: redact}\n")

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 0, stderr_of(result)
    released = parse_like_python(result.stdout.decode())
    assert released[1][1:] == ['5" tall', '6" wide']


# -- behaviours checked and found working -------------------------------------


def test_adult_uci_anonymize_counted_independently(tmp_path: Path) -> None:
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?"]\nquasi_identifiers:\n'
        + f"  age: {{hierarchy: {ADULT_HIERARCHIES / 'age.csv'}}}\n"
        + f"  workclass: {{hierarchy: {ADULT_HIERARCHIES / 'workclass.csv'}}}\n"
        + f"  occupation: {{hierarchy: {ADULT_HIERARCHIES / 'occupation.csv'}}}\n"
        + f"  native-country: {{hierarchy: {ADULT_HIERARCHIES / 'country.csv'}}}\n"
        + f"  sex: {{hierarchy: {ADULT_HIERARCHIES / 'sex.csv'}}}\n"
        + "sensitive_attributes:\n  salary-class: {kind: categorical}\n"
        + "privacy: {k: 10, l: 2, suppression_limit: 0.05}\n",
    )
    output = tmp_path / "out.csv"
    report = tmp_path / "report.json"
    names = ["age", "workclass", "occupation", "native-country", "sex"]

    result = run_cli(
        "anonymize", str(ADULT_UCI), "-p", str(policy), "-o", str(output), "--report", str(report)
    )

    assert result.returncode == 0, stderr_of(result)
    original = read_rows(ADULT_UCI)
    released = read_rows(output)
    summary = json.loads(report.read_text())
    classes = count_classes(released, names)
    values = sensitive_values(released, names, "salary-class", {"?"})
    assert len(released) == len(original) - summary["suppressed_records"]
    assert min(classes.values()) >= 10
    assert min(len(values[key]) for key in classes) >= 2
    assert summary["measurement"]["k_anonymity"]["k"] == min(classes.values())
    assert summary["measurement"]["k_anonymity"]["classes"] == len(classes)
    # Level 1 of these hierarchies maps `?` to `Unknown` or `Other`: the
    # declared `?` stays, and `Unknown` appears nowhere.
    for name in ("workclass", "occupation", "native-country"):
        column = [row[name] for row in released]
        assert column.count("?") > 0
        assert "Unknown" not in column
    missing = sum(any(row[name] == "?" for name in names) for row in released)
    assert summary["measurement"]["records_with_missing_quasi_identifiers"] == missing


def _make_measure_data(path: Path) -> Path:
    generator = random.Random(5)
    rows = ["age,zip,sex,disease"]
    for _ in range(400):
        age = generator.choice(["30", "40", "50", "?", "N/A", ""])
        zip_code = generator.choice(["1", "2", "?"])
        sex = generator.choice(["M", "F", "N/A"])
        disease = generator.choice(["flu", "cold", "hiv", "?", "N/A", "", "cancer"])
        rows.append(f"{age},{zip_code},{sex},{disease}")
    rows.extend(["?,?,N/A,?"] * 2)  # every field a marker
    return write(path, "\n".join(rows) + "\n")


def test_measure_matches_csv_module_count(tmp_path: Path) -> None:
    data = _make_measure_data(tmp_path / "in.csv")
    names = ["age", "zip", "sex"]
    markers = {"?", "N/A"}

    result = run_cli(
        "measure", str(data), "-q", ",".join(names), "-s", "disease",
        "--missing-values", "?,N/A", "--json",
    )

    assert result.returncode == 0, stderr_of(result)
    measured = json.loads(result.stdout)
    rows = read_rows(data)
    classes = count_classes(rows, names)
    values = sensitive_values(rows, names, "disease", markers)
    whole: collections.Counter[str] = collections.Counter()
    for counts in values.values():
        whole.update(counts)
    total = sum(whole.values())
    valued = [key for key in classes if values[key]]

    def distance(key: tuple[str, ...]) -> float:
        size = sum(values[key].values())
        return 0.5 * sum(abs(values[key][value] / size - whole[value] / total) for value in whole)

    def entropy_l(key: tuple[str, ...]) -> float:
        size = sum(values[key].values())
        shares = [count / size for count in values[key].values()]
        return math.exp(-sum(share * math.log(share) for share in shares))

    attribute = measured["sensitive_attributes"][0]
    assert measured["k_anonymity"]["classes"] == len(classes)
    assert measured["k_anonymity"]["k"] == min(classes.values())
    missing_rows = [row for row in rows if any(row[name] in markers | {""} for name in names)]
    assert measured["records_with_missing_quasi_identifiers"] == len(missing_rows)
    assert attribute["distinct_values"] == len(whole)
    assert attribute["records_with_missing_values"] == len(rows) - total
    assert attribute["classes_without_values"] == len(classes) - len(valued)
    assert attribute["distinct_l"] == min(len(values[key]) for key in valued)
    assert attribute["entropy_l"] == pytest.approx(min(entropy_l(key) for key in valued))
    assert attribute["t_closeness"] == pytest.approx(max(distance(key) for key in valued))


def test_measure_markers_any_batching(tmp_path: Path) -> None:
    data = _make_measure_data(tmp_path / "in.csv")
    # The same records with a space after each delimiter.
    with data.open(newline="", encoding="utf-8") as stream:
        spaced_rows = [", ".join(row) for row in csv.reader(stream)]
    spaced = write(tmp_path / "spaced.csv", "\n".join(spaced_rows) + "\n")
    options = ["-q", "age,zip,sex", "-s", "disease", "--missing-values", "?,N/A", "--json"]

    whole = run_cli("measure", str(data), *options)
    small = run_cli("measure", str(data), *options, "--batch-size", "3")
    piped = run_cli("measure", "-", "--format", "csv", *options, input=data.read_bytes())
    spaced_result = run_cli("measure", str(spaced), *options)

    assert whole.returncode == 0, stderr_of(whole)
    assert small.stdout == whole.stdout
    assert piped.stdout == whole.stdout
    assert spaced_result.stdout == whole.stdout


def test_journalist_risk_with_marker_rows(tmp_path: Path) -> None:
    data = _make_measure_data(tmp_path / "in.csv")
    names = ["age", "zip", "sex"]
    classes = count_classes(read_rows(data), names)
    population = tmp_path / "population.csv"
    with population.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([*names, "count"])
        for key, size in classes.items():
            writer.writerow([*key, size * 10])

    result = run_cli(
        "measure", str(data), "-q", ",".join(names), "--missing-values", "?,N/A",
        "--population", str(population), "--json",
    )

    assert result.returncode == 0, stderr_of(result)
    risk = json.loads(result.stdout)["risk"]
    records = sum(classes.values())
    assert risk["journalist"]["highest"] == pytest.approx(1 / (10 * min(classes.values())))
    assert risk["journalist"]["average"] == pytest.approx(len(classes) / records / 10)


def test_population_errors_name_no_value(tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", f"q,s\n{SECRET_NAME},x\n?,y\nb,z\n")
    cases = {
        "no row for a marker": f"q,count\n{SECRET_NAME},5\nN/A,5\nb,5\n",
        "count below class size": f"q,count\n{SECRET_NAME},5\n?,5\nb,0\n",
        "count not a number": f"q,count\n{SECRET_NAME},5\n?,{SECRET_NAME}\nb,3\n",
    }
    for case, text in cases.items():
        population = write(tmp_path / "population.csv", text)

        result = run_cli(
            "measure", str(data), "-q", "q", "--missing-values", "?,N/A",
            "--population", str(population),
        )

        assert result.returncode == 1, case
        assert SECRET_NAME not in stderr_of(result), case


def test_json_marker_texts_as_written(tmp_path: Path) -> None:
    # A JSON value matches a marker by the text it was written with: 1.50 is
    # not 1.5, and 1e3 is not 1000.0.
    written = ["-1", "1.50", "true", "1e3", '"x"', '"-1"']
    lines = [f'{{"q": {written[index % len(written)]}, "z": "a"}}' for index in range(60)]
    data = write(tmp_path / "in.jsonl", "\n".join(lines) + "\n")
    expected = {"-1": 20, "1.50": 10, "1.5": 0, "true": 10, "1e3": 10, "1000.0": 0}

    for marker, count in expected.items():
        result = run_cli(
            "measure", str(data), "-q", "q,z", "--missing-values", marker, "--json"
        )

        assert result.returncode == 0, stderr_of(result)
        assert json.loads(result.stdout)["records_with_missing_quasi_identifiers"] == count, marker


def test_json_typed_markers_kept_by_anonymize(tmp_path: Path) -> None:
    # Each q value has 3 records with z = a and 3 with z = b, so k = 6 takes
    # z to `*` and keeps q. The markers keep their JSON text.
    written = ["-1", "1e3", "true", '"x"', "null"]
    lines = [f'{{"q": {value}, "z": "{zone}"}}' for value in written for zone in "ab" for _ in range(3)]
    data = write(tmp_path / "in.jsonl", "\n".join(lines) + "\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["-1", "true", "1e3"]\nquasi_identifiers: [q, z]\nprivacy: {k: 6}\n',
    )
    output = tmp_path / "out.jsonl"

    result = run_cli("anonymize", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    assert "levels q=0, z=1" in stderr_of(result)
    released = output.read_text().splitlines()
    for value in written:
        assert released.count(f'{{"q":{value},"z":"*"}}') == 6, value


def test_mondrian_keeps_markers_apart(tmp_path: Path) -> None:
    generator = random.Random(1)
    rows = ["id,age,sex,disease"]
    for index in range(200):
        age = generator.choice([str(generator.randint(20, 70))] * 8 + ["?", "N/A"])
        sex = generator.choice(["M", "F", "?"])
        disease = generator.choice(["flu", "cold", "hiv", "?"])
        rows.append(f"{index},{age},{sex},{disease}")
    data = write(tmp_path / "in.csv", "\n".join(rows) + "\n")
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?", "N/A"]\nquasi_identifiers:\n  age: {mondrian: true}\n  sex:\n'
        + "sensitive_attributes: [disease]\nprivacy: {k: 4, l: 2, suppression_limit: 0.3}\n",
    )
    output = tmp_path / "out.csv"

    result = run_cli("anonymize", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    original = {row["id"]: row for row in read_rows(data)}
    released = read_rows(output)
    classes = count_classes(released, ["age", "sex"])
    values = sensitive_values(released, ["age", "sex"], "disease", {"?", "N/A"})
    assert min(classes.values()) >= 4
    assert min(len(values[key]) for key in classes) >= 2
    for row in released:
        source = original[row["id"]]
        if source["age"] in ("?", "N/A"):
            assert row["age"] == source["age"]
            continue
        interval = re.fullmatch(r"\[(\d+), (\d+)\]", row["age"])
        low, high = (int(interval[1]), int(interval[2])) if interval else (int(row["age"]),) * 2
        assert low <= int(source["age"]) <= high


def test_only_missing_sensitive_class_by_target(tmp_path: Path) -> None:
    # With t alone such a class stays, since it discloses nothing. With l it
    # is removed.
    rows = ["q,s", *[f"{group},{'xy'[index % 2]}" for group in "ab" for index in range(6)]]
    rows += ["c,?"] * 5 + ["d,N/A"] * 5
    data = write(tmp_path / "in.csv", "\n".join(rows) + "\n")
    base = KEEP_POLICY + 'missing_values: ["?", "N/A"]\nquasi_identifiers: [q]\nsensitive_attributes: [s]\n'
    with_t = write(tmp_path / "t.yaml", base + "privacy: {k: 5, t: 0.1}\n")
    with_l = write(tmp_path / "l.yaml", base + "privacy: {k: 5, l: 2, suppression_limit: 0.5}\n")

    t_result = run_cli("anonymize", str(data), "-p", str(with_t), "-o", str(tmp_path / "t.csv"))
    l_result = run_cli("anonymize", str(data), "-p", str(with_l), "-o", str(tmp_path / "l.csv"))

    assert t_result.returncode == 0, stderr_of(t_result)
    assert l_result.returncode == 0, stderr_of(l_result)
    kept_groups = collections.Counter(row["q"] for row in read_rows(tmp_path / "t.csv"))
    removed_groups = collections.Counter(row["q"] for row in read_rows(tmp_path / "l.csv"))
    assert kept_groups == {"a": 6, "b": 6, "c": 5, "d": 5}
    assert removed_groups == {"a": 6, "b": 6}


def test_mask_report_markers_as_empty(tmp_path: Path) -> None:
    # Declared markers are measured as empty values are: the reports agree.
    with_markers = "age,zip,name,income,d\n30,10001,Ann,100,flu\n?,10002,?,?,?\n45,?,Bob,N/A,cold\n"
    with_markers += "52,10001,N/A,300,N/A\n?,?,Cy,200,flu\n"
    marked = write(tmp_path / "marked.csv", with_markers)
    empty = write(tmp_path / "empty.csv", with_markers.replace("N/A", "").replace("?", ""))
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY
        + 'missing_values: ["?", "N/A"]\nkeys:\n  main: {env: MASKME_KEY}\nfields:\n'
        + "  age: {strategy: generalize, interval: 10}\n  zip: {strategy: generalize, prefix: 3}\n"
        + "  name: {strategy: hash, key: main, length: 6}\n"
        + "  income: {strategy: noise, scale: 10, key: main, round: 0}\n"
        + "quasi_identifiers: [age, zip]\nsensitive_attributes: [d]\n",
    )
    reports = []
    for source in (marked, empty):
        report = tmp_path / f"{source.stem}.json"

        result = run_cli(
            "mask", str(source), "-p", str(policy), "-o", str(tmp_path / f"{source.stem}.out.csv"),
            "--report", str(report), "--compare",
        )

        assert result.returncode == 0, stderr_of(result)
        reports.append(json.loads(report.read_text())["measurement"])

    assert reports[0] == reports[1]
    lines = (tmp_path / "marked.out.csv").read_text().splitlines()
    assert lines[2].split(",")[0] == "?"
    assert lines[2].endswith(",?,?,?")


SPACED_CASES = {
    "quoted delimiter": 'a, b, c\n1, "x, y", 3\n4, 5, 6\n',
    "empty middle field": "a, b, c\n1, , 3\n4, 5, 6\n",
    "empty last field": "a, b, c\n1, 2, \n4, 5, 6\n",
    "trailing spaces": "a, b, c\n1 , 2 , 3\n4, 5, 6\n",
    "line break in quotes": 'a, b, c\n1, "x\n y", 3\n4, 5, 6\n',
    "CRLF": "a, b, c\r\n1, 2, 3\r\n4, 5, 6\r\n",
    "doubled quotes": 'a, b\n1, "say ""hi"""\n2, 3\n',
    "tab after space": "a, b\n1, \t2\n3, 4\n",
    "space before quoted first field": 'a, b\n "q", 2\n3, 4\n',
}


@pytest.mark.parametrize("text", list(SPACED_CASES.values()), ids=list(SPACED_CASES))
def test_spaced_cases_read_like_csv(tmp_path: Path, text: str) -> None:
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "p.yaml", KEEP_POLICY + "fields:\n  a: {strategy: redact}\n")

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 0, stderr_of(result)
    expected = parse_like_python(text)
    released = parse_like_python(result.stdout.decode())
    assert released[0] == expected[0]
    assert [row[1:] for row in released] == [row[1:] for row in expected]
    assert [row[0] for row in released[1:]] == ["*" * len(row[0]) for row in expected[1:]]
    # The masked file keeps the `, ` layout.
    assert result.stdout.decode().splitlines()[0].startswith("a, b")


def test_spaced_huge_quoted_field(tmp_path: Path) -> None:
    # 12 MB of `x, ` inside one quoted field: its spaces are data, not layout.
    huge = "x, " * 4_000_000
    text = f'a, b\n1, "{huge}"\n2, 3\n'
    data = write(tmp_path / "in.csv", text)
    policy = write(tmp_path / "p.yaml", KEEP_POLICY + "fields:\n  a: {strategy: redact}\n")
    output = tmp_path / "out.csv"

    result = run_cli("mask", str(data), "-p", str(policy), "-o", str(output))

    assert result.returncode == 0, stderr_of(result)
    csv.field_size_limit(1 << 30)
    released = parse_like_python(output.read_text())
    assert released[1] == ["*", huge]
    assert released[2] == ["*", "3"]


def test_spaced_label_with_leading_space(tmp_path: Path) -> None:
    lines = ["job, city", *[f"j{index % 3}, c{index % 2}" for index in range(12)]]
    data = write(tmp_path / "in.csv", "\n".join(lines) + "\n")
    write(tmp_path / "job.csv", 'j0;" Grp A";*\nj1;" Grp A";*\nj2;" Grp B";*\n')
    policy = write(
        tmp_path / "p.yaml",
        KEEP_POLICY + "fields:\n  job: {strategy: generalize, hierarchy: job.csv, level: 1}\n",
    )

    result = run_cli("mask", str(data), "-p", str(policy), "-o", "-")

    assert result.returncode == 0, stderr_of(result)
    output = result.stdout.decode()
    assert output.splitlines()[1] == '" Grp A", c0'
    assert parse_like_python(output)[3] == [" Grp B", "c0"]


def _random_table(directory: Path, seed: int) -> tuple[Path, Path, list[list[str]], dict[str, Any]]:
    generator = random.Random(seed)
    markers = generator.sample(["?", "N/A", "-1"], generator.randint(1, 3))
    rows = []
    for index in range(generator.randint(30, 120)):

        def pick(choices: list[str]) -> str:
            return generator.choice(markers) if generator.random() < 0.15 else generator.choice(choices)

        rows.append([
            str(index), pick([str(age) for age in range(18, 81)]),
            pick(["10001", "10002", "10003", "20001"]), pick(["M", "F"]),
            pick(["nurse", "doctor", "clerk", "cashier"]), pick(["flu", "cold", "hiv", "cancer"]),
        ])
    data = directory / "in.csv"
    with data.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "age", "zip", "sex", "job", "disease"])
        writer.writerows(rows)
    write(directory / "job.csv", "nurse;Health;*\ndoctor;Health;*\nclerk;Office;*\ncashier;Office;*\n")
    privacy: dict[str, Any] = {"k": generator.choice([2, 3, 5]), "suppression_limit": 0.4}
    if generator.random() < 0.5:
        privacy["l"] = 2
    policy = {
        "version": 1,
        "default": "keep",
        "missing_values": markers,
        "quasi_identifiers": {
            "age": generator.choice([{"intervals": [5, 10, 20]}, {"mondrian": True}, None]),
            "zip": None,
            "sex": None,
            "job": {"hierarchy": "job.csv"},
        },
        "sensitive_attributes": ["disease"],
        "privacy": privacy,
    }
    policy_path = write(directory / "p.json", json.dumps(policy))
    return data, policy_path, rows, policy


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_released_targets(tmp_path: Path, seed: int) -> None:
    data, policy_path, rows, policy = _random_table(tmp_path, seed)
    output = tmp_path / "out.csv"
    markers = set(policy["missing_values"])
    names = ["age", "zip", "sex", "job"]

    result = run_cli("anonymize", str(data), "-p", str(policy_path), "-o", str(output))

    assert result.returncode in (0, 3), stderr_of(result)
    if result.returncode == 3:
        assert not output.exists()
        return
    released = read_rows(output)
    classes = count_classes(released, names)
    assert len(classes) > 0
    assert min(classes.values()) >= policy["privacy"]["k"]
    if "l" in policy["privacy"]:
        values = sensitive_values(released, names, "disease", markers)
        assert min(len(values[key]) for key in classes) >= 2
    fields = ["id", "age", "zip", "sex", "job", "disease"]
    for row in released:
        source = rows[int(row["id"])]
        for position, name in enumerate(fields[1:], start=1):
            # A marker stays exactly itself, and no value becomes a marker.
            assert (source[position] in markers) == (row[name] in markers), (row["id"], name)
            if source[position] in markers:
                assert row[name] == source[position]
