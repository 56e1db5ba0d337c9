"""Hierarchy files and mappings: loading, checks and mapping a column to a level."""

from pathlib import Path

import polars as pl
import pytest

from maskme.errors import PolicyError
from maskme.strategies.hierarchy import Hierarchy, HierarchyError, load_hierarchy

DATA = Path(__file__).resolve().parents[1] / "data"
ADULT = Path(__file__).resolve().parents[2] / "examples" / "data" / "adult"


def test_load_arx_semicolon_crlf():
    hierarchy = load_hierarchy(DATA / "arx_test" / "test_hierarchy_zipcode.csv")
    assert hierarchy.level_count == 6
    assert hierarchy.table.height == 10000
    assert hierarchy.mapping(2)["81667"] == "816**"
    # CRLF line ends must not leak into the last level.
    assert hierarchy.labels(5).to_list() == ["*"]


def test_load_tcloseness_labels_with_commas():
    # Semicolon file whose labels contain commas, CRLF, no final newline.
    path = DATA / "tcloseness_paper" / "test2_hierarchy_Age.csv"
    assert not path.read_bytes().endswith(b"\n")
    hierarchy = load_hierarchy(path)
    assert hierarchy.level_count == 3
    assert hierarchy.mapping(1)["29"] == "[20,30["
    assert hierarchy.mapping(1)["43"] == ">=40"
    assert hierarchy.mapping(2)["43"] == "*"


def test_load_tcloseness_top_label_not_star():
    hierarchy = load_hierarchy(DATA / "tcloseness_paper" / "test2_hierarchy_ZIPCode.csv")
    assert hierarchy.labels(5).to_list() == ["*****"]
    hierarchy = load_hierarchy(DATA / "tcloseness_paper" / "test2_hierarchy_Disease.csv")
    assert hierarchy.labels(3).to_list() == ["respiratory&digestive disease"]
    assert hierarchy.mapping(1)["flu"] == "respiratory infection"


def test_load_comma_quoted_labels():
    hierarchy = load_hierarchy(DATA / "adult_uci" / "hierarchies" / "age.csv")
    assert hierarchy.level_count == 7
    assert hierarchy.mapping(1)["17"] == "[15, 20["
    assert hierarchy.mapping(5)["17"] == "[0, 80["
    assert hierarchy.mapping(6)["17"] == "*"


def test_load_every_bundled_hierarchy():
    paths = [
        *sorted(ADULT.glob("adult_hierarchy_*.csv")),
        *sorted((DATA / "adult_uci" / "hierarchies").glob("*.csv")),
        *sorted((DATA / "arx_test").glob("test_hierarchy_*.csv")),
        *sorted((DATA / "tcloseness_paper").glob("test2_hierarchy_*.csv")),
        *sorted((DATA / "anjana_hospital").glob("hierarchy_*.csv")),
    ]
    assert len(paths) == 27
    for path in paths:
        hierarchy = load_hierarchy(path)
        assert hierarchy.level_count >= 2, path
        assert hierarchy.is_nested(), path


def test_load_adult_native_country_no_final_newline():
    path = ADULT / "adult_hierarchy_native-country.csv"
    assert not path.read_bytes().endswith(b"\n")
    hierarchy = load_hierarchy(path)
    assert hierarchy.mapping(1)["Holand-Netherlands"] == "Europe"
    assert hierarchy.table.height == 41


def test_semicolon_file_with_comma_labels_everywhere(tmp_path):
    # Both delimiters split every row into 3 cells here; ';' wins.
    path = tmp_path / "age.csv"
    path.write_text("17;[15, 20);[10, 20)\n22;[20, 25);[20, 30)\n", encoding="utf-8")
    hierarchy = load_hierarchy(path)
    assert hierarchy.mapping(1) == {"17": "[15, 20)", "22": "[20, 25)"}


def test_explicit_delimiter_tab(tmp_path):
    path = tmp_path / "sex.tsv"
    path.write_text("F\t*\nM\t*\n", encoding="utf-8")
    assert load_hierarchy(path, delimiter="\t").mapping(1) == {"F": "*", "M": "*"}


def test_bom_and_blank_lines_ignored(tmp_path):
    path = tmp_path / "sex.csv"
    path.write_bytes(b"\xef\xbb\xbfF;*\r\n\r\nM;*\r\n")
    hierarchy = load_hierarchy(path)
    assert hierarchy.values.to_list() == ["F", "M"]


def test_quoted_value_with_newline(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text('"a\nb",x,*\nc,y,*\n', encoding="utf-8")
    hierarchy = load_hierarchy(path)
    assert hierarchy.mapping(1) == {"a\nb": "x", "c": "y"}


def test_ragged_rows_name_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1;a;*\n2;a;*\n3;a\n", encoding="utf-8")
    with pytest.raises(HierarchyError, match=r"bad\.csv:3: expected 3 columns like the first row, got 2"):
        load_hierarchy(path, delimiter=";")


def test_ragged_rows_without_delimiter_cannot_detect(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1;a;*\n2;a\n", encoding="utf-8")
    with pytest.raises(HierarchyError, match="cannot detect the delimiter"):
        load_hierarchy(path)


def test_duplicate_value_names_both_lines(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("secret-1;a;*\nx;b;*\nsecret-1;c;*\n", encoding="utf-8")
    with pytest.raises(HierarchyError) as caught:
        load_hierarchy(path)
    message = str(caught.value)
    assert "dup.csv:3: this value is already listed on line 1" in message
    # The message locates the row and never repeats the value.
    assert "secret-1" not in message


def test_duplicate_line_counts_quoted_newlines(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text('"a\nb";x;*\nc;y;*\nc;z;*\n', encoding="utf-8")
    with pytest.raises(HierarchyError, match=r"dup\.csv:4: this value is already listed on line 3"):
        load_hierarchy(path)


def test_missing_file_is_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="hierarchy file not found"):
        load_hierarchy(tmp_path / "none.csv")


def test_not_utf8_rejected(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Zürich;CH;*\n".encode("latin-1"))
    with pytest.raises(HierarchyError, match="expected a readable UTF-8 text file"):
        load_hierarchy(path)


def test_single_column_rejected(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(HierarchyError, match="expected at least 2 columns"):
        load_hierarchy(path, delimiter=";")


def test_empty_file_rejected(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(HierarchyError, match="no rows"):
        load_hierarchy(path, delimiter=";")


def test_from_mapping_levels():
    hierarchy = Hierarchy.from_mapping({"94110": ["9411*", "941**", "*"], "94117": ["9411*", "941**", "*"]})
    assert hierarchy.level_count == 4
    assert hierarchy.mapping(0) == {"94110": "94110", "94117": "94117"}
    assert hierarchy.mapping(2) == {"94110": "941**", "94117": "941**"}


def test_from_mapping_uneven_lists():
    with pytest.raises(HierarchyError, match="inline hierarchy:2: expected 3 columns"):
        Hierarchy.from_mapping({"a": ["x", "*"], "b": ["*"]})


def test_generalize_column_vectorized():
    hierarchy = load_hierarchy(DATA / "tcloseness_paper" / "test2_hierarchy_Disease.csv")
    column = pl.Series("disease", ["flu", None, "gastritis", "unknown", "flu"])
    assert hierarchy.generalize(column, 2).to_list() == [
        "vascular lung disease", None, "digestive system disease", None, "vascular lung disease",
    ]
    assert hierarchy.generalize(column, 0).to_list() == ["flu", None, "gastritis", None, "flu"]
    assert hierarchy.missing(column).to_list() == [False, False, False, True, False]
    assert hierarchy.generalize(column, 2).name == "disease"


def test_generalize_level_out_of_range():
    hierarchy = Hierarchy.from_mapping({"a": ["*"]})
    with pytest.raises(HierarchyError, match="level 2 does not exist; expected 0 .raw. to 1"):
        hierarchy.generalize(pl.Series(["a"]), 2)


def test_is_nested_detects_two_parents():
    hierarchy = Hierarchy.from_mapping({"a": ["x", "p"], "b": ["x", "q"]})
    assert not hierarchy.is_nested()
