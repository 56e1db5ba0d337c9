"""``measure`` counts a CSV file alike with Polars' streaming scan and with the batch readers.

The scan is the fast path for CSV files. The batch readers take over for
files with empty lines, records with no measured value, and malformed files.
Most cases compare the numbers with a measurement of the same records given
as a DataFrame, which never takes the scan.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import maskme
from maskme.errors import FormatError
from maskme.formats.csv import CsvReader, detect_dialect
from maskme.metrics.classes import ClassStatistics

QUASI_IDENTIFIERS = ["age", "zip"]
SENSITIVE = ["diagnosis"]

CELLS = st.one_of(st.none(), st.sampled_from(["", "30", "40", "*", "**", "a,b", 'say "x"', "l1\nl2"]))


def _summary(measurement: maskme.Measurement) -> dict[str, object]:
    report = measurement.to_dict()
    return {
        "records": report["records"],
        "suppressed": report["suppressed_records"],
        "k": report["k_anonymity"],
        "sensitive": report["sensitive_attributes"],
        "risk": report["risk"],
    }


def _measure(source: object) -> dict[str, object]:
    return _summary(
        maskme.measure(source, quasi_identifiers=QUASI_IDENTIFIERS, sensitive_attributes=SENSITIVE)
    )


def _frame(rows: list[list[str | None]]) -> pl.DataFrame:
    names = ["id", *QUASI_IDENTIFIERS, *SENSITIVE]
    return pl.DataFrame(
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=dict.fromkeys(names, pl.String),
    )


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=30),
       crlf=st.booleans())
def test_file_and_frame_give_the_same_numbers(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str | None]], crlf: bool
) -> None:
    frame = _frame([[str(index), *row] for index, row in enumerate(rows)])
    path = tmp_path_factory.mktemp("scan") / "table.csv"
    frame.write_csv(path, line_terminator="\r\n" if crlf else "\n")
    assert _measure(path) == _measure(frame)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=4, max_size=4), min_size=1, max_size=30))
def test_scan_reads_the_values_batches_read(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str | None]]
) -> None:
    path = tmp_path_factory.mktemp("scan") / "table.csv"
    _frame(rows).write_csv(path)
    reader = CsvReader(path, detect_dialect(path, delimiter=","))
    scan = reader.scan(["id", *QUASI_IDENTIFIERS, *SENSITIVE])
    assert scan is not None
    whole = scan.frame.collect(engine="streaming")
    batched = pl.concat([batch.data for batch in reader.batches(7)])  # type: ignore[attr-defined]
    doubtful = batched.select(
        pl.all_horizontal(pl.all().is_null())
        | pl.any_horizontal(pl.all().str.contains("\r", literal=True).fill_null(False))
    ).to_series()
    assert whole.drop(scan.needs_batches).equals(batched)
    assert whole[scan.needs_batches].equals(doubtful.alias(scan.needs_batches))


def test_empty_lines_are_no_records(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("id,age,zip,diagnosis\n1,30,100,flu\n\n2,30,100,cold\n\r\n3,40,200,flu\n\n")
    measured = _measure(path)
    assert measured["records"] == 3
    assert measured["k"]["k"] == 1  # type: ignore[index]
    assert measured["k"]["classes"] == 2  # type: ignore[index]
    assert measured == _measure(_frame([["1", "30", "100", "flu"], ["2", "30", "100", "cold"],
                                        ["3", "40", "200", "flu"]]))


def test_records_without_measured_values_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "empty-values.csv"
    path.write_text("id,age,zip,diagnosis\n1,,,\n2,,,\n3,40,200,flu\n")
    measured = _measure(path)
    assert measured["records"] == 3
    assert measured["k"]["classes"] == 2  # type: ignore[index]
    assert measured["k"]["k"] == 1  # type: ignore[index]


def test_suppressed_records_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "suppressed.csv"
    path.write_text("id,age,zip,diagnosis\n1,*,***,flu\n2,30,100,flu\n3,30,100,cold\n")
    measured = _measure(path)
    assert measured["records"] == 3
    assert measured["suppressed"] == 1
    assert measured["k"]["k"] == 2  # type: ignore[index]
    assert measured["sensitive"][0]["distinct_l"] == 2  # type: ignore[index]


def test_measure_malformed_file_names_record(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,age,zip,diagnosis\n1,30,100,flu\n2,30,100,cold,extra\n")
    with pytest.raises(FormatError, match=r"record 2 \(line 3\) has 5 fields, the header has 4"):
        maskme.measure(path, quasi_identifiers=QUASI_IDENTIFIERS, delimiter=",")


def test_lazy_and_batch_counts_merge_alike() -> None:
    frame = _frame([["1", "30", "100", "flu"], ["2", "*", "*", "flu"], ["3", None, "200", None]])
    by_batch = ClassStatistics(QUASI_IDENTIFIERS, SENSITIVE)
    by_batch.update(frame)
    lazily = ClassStatistics(QUASI_IDENTIFIERS, SENSITIVE)
    assert lazily.update_lazy(frame.lazy())
    expected, found = by_batch.result(), lazily.result()
    assert found.classes.equals(expected.classes)
    assert found.histograms["diagnosis"].equals(expected.histograms["diagnosis"])
    assert found.suppressed_records == expected.suppressed_records == 1


def test_lazy_counting_stops_on_a_flagged_record() -> None:
    frame = _frame([["1", "30", "100", "flu"], ["2", "40", "200", "cold"]])
    flagged = frame.with_columns(pl.Series("skip", [False, True]))
    statistics = ClassStatistics(QUASI_IDENTIFIERS, SENSITIVE)
    assert not statistics.update_lazy(flagged.lazy(), unless="skip")
    assert statistics.result().records == 0
    assert statistics.update_lazy(flagged.lazy())
    assert statistics.result().records == 2


def test_measure_empty_surplus_field_rejected(tmp_path: Path) -> None:
    path = tmp_path / "surplus.csv"
    path.write_text("a,b,c\n1,x,p,\n2,y,q\n")
    with pytest.raises(FormatError, match=r"record 1 \(line 2\) has 4 fields, the header has 3"):
        maskme.measure(path, quasi_identifiers=["a", "b"], sensitive_attributes=["c"], delimiter=",")


def test_measure_misplaced_quote_in_other_column_rejected(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('a,b,c\n1,"x"y,p\n2,y,q\n')
    with pytest.raises(FormatError, match=r"record 1 \(line 2\) is not valid CSV: a quote is misplaced"):
        maskme.measure(path, quasi_identifiers=["a"], sensitive_attributes=["c"], delimiter=",")


def test_measure_short_last_record_without_line_break(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,x,p\n2,y")
    measured = maskme.measure(path, quasi_identifiers=["a", "b"], sensitive_attributes=["c"],
                              delimiter=",").to_dict()
    assert measured["records"] == 2
    assert measured["sensitive_attributes"][0]["records_with_missing_values"] == 1
    target = tmp_path / "out.csv"
    maskme.mask(path, {"version": 1, "default": "keep"}, target, delimiter=",")
    assert target.read_text() == "a,b,c\n1,x,p\n2,y,\n"


def test_lazy_counting_casts_typed_columns() -> None:
    frame = pl.DataFrame({"age": [30, 30, 40], "zip": ["1", "1", ""], "diagnosis": ["a", "b", "a"]})
    by_batch = ClassStatistics(QUASI_IDENTIFIERS, SENSITIVE)
    by_batch.update(frame)
    lazily = ClassStatistics(QUASI_IDENTIFIERS, SENSITIVE)
    assert lazily.update_lazy(frame.lazy())
    expected, found = by_batch.result(), lazily.result()
    assert found.classes.equals(expected.classes)
    assert found.histograms["diagnosis"].equals(expected.histograms["diagnosis"])
