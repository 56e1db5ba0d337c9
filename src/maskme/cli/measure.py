"""``maskme measure``: privacy, risk and utility of a data file, as a table or JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from maskme.cli.app import app
from maskme.cli.common import (
    configure_logging,
    delimiter_value,
    fail_on_errors,
    format_name,
    joined,
    missing_values_option,
    non_empty,
    policy_option,
)

if TYPE_CHECKING:
    from rich.table import Table

    from maskme.metrics import Measurement, SensitiveAttributeMeasures

#: Equal to maskme.metrics.risk.DEFAULT_RISK_THRESHOLD (a test checks it); written out here
#: so that the command line starts without importing the metrics layer.
RISK_THRESHOLD = 0.2


@app.command("measure", short_help="Measure privacy, risk and utility of a file.")
@click.argument("data", metavar="DATA", callback=non_empty)
@click.option(
    "--quasi-identifiers",
    "-q",
    metavar="FIELDS",
    multiple=True,
    callback=joined,
    help="Comma-separated field paths that define the equivalence classes (repeat to add more).",
)
@click.option(
    "--sensitive",
    "-s",
    metavar="FIELDS",
    multiple=True,
    callback=joined,
    help="Comma-separated sensitive attribute field paths (repeat to add more).",
)
@click.option(
    "--ordered",
    metavar="FIELDS",
    multiple=True,
    callback=joined,
    help="Comma-separated sensitive attributes whose values are ordered "
    "(numbers, or text in lexicographic order, not both); t-closeness uses the rank distance.",
)
@click.option(
    "--hierarchy",
    metavar="FIELD=FILE",
    multiple=True,
    help="Hierarchy file of a sensitive attribute, for the hierarchical "
    "distance of t-closeness. Repeat for several attributes.",
)
@policy_option(
    "Policy file; supplies the quasi-identifiers, sensitive attributes "
    "and target k not given as options.",
    required=False,
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of tables.")
@click.option(
    "--format",
    "-f",
    "data_format",
    metavar="FORMAT",
    callback=format_name,
    help="Input format: csv, json or jsonl. Detected when omitted.",
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    callback=delimiter_value,
    help=(
        "CSV delimiter, \\t for a tab, or the delimiter and a space (', ') when a space "
        "follows each one. Detected when omitted."
    ),
)
@click.option(
    "--encoding", metavar="NAME", callback=non_empty, help="Input text encoding (default UTF-8)."
)
@click.option("--batch-size", metavar="N", type=click.IntRange(min=1), help="Records read per batch.")
@click.option(
    "--k",
    "k",
    metavar="K",
    type=click.IntRange(min=1),
    help="Count the records in classes smaller than this k (default: the policy's).",
)
@click.option(
    "--l",
    "l",
    metavar="L",
    type=click.IntRange(min=2),
    help="The l of recursive (c,l)-diversity (default: the distinct l).",
)
@click.option(
    "--risk-threshold",
    metavar="RISK",
    type=click.FloatRange(min=0.0, max=1.0),
    default=RISK_THRESHOLD,
    show_default=True,
    help="Re-identification risk (0 to 1) above which a record counts as at risk.",
)
@click.option(
    "--population",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Population counts for the journalist risk: a file with the "
    "quasi-identifier columns and a `count` column.",
)
@missing_values_option
@click.option("--verbose", "-v", is_flag=True, help="Log progress to stderr.")
def measure_command(
    data: str,
    quasi_identifiers: str | None,
    sensitive: str | None,
    ordered: str | None,
    hierarchy: tuple[str, ...],
    policy: Path | None,
    as_json: bool,
    data_format: str | None,
    delimiter: str | None,
    encoding: str | None,
    batch_size: int | None,
    k: int | None,
    l: int | None,
    risk_threshold: float,
    population: Path | None,
    missing_values: list[str] | None,
    verbose: bool,
) -> None:
    """Measure k-anonymity, l-diversity, t-closeness, re-identification risk and utility.

    DATA is a CSV, JSON or JSONL file, or - for standard input.
    """
    if population is not None and str(population) == "-":
        raise click.BadParameter("the counts are read from a file, not from standard input",
                                 param_hint="--population")
    if math.isnan(risk_threshold):
        raise click.BadParameter("expected a number from 0 to 1", param_hint="--risk-threshold")
    configure_logging(verbose)
    with fail_on_errors():
        sensitive_attributes = _sensitive_attributes(sensitive, ordered, list(hierarchy))
        from maskme.metrics import measure

        result = measure(
            data,
            quasi_identifiers=quasi_identifiers,
            sensitive_attributes=sensitive_attributes,
            policy=policy,
            format=data_format,
            batch_size=batch_size,
            delimiter=delimiter,
            encoding=encoding,
            population=population,
            k=k,
            l=l,
            risk_threshold=risk_threshold,
            missing_values=missing_values,
        )
        if as_json:
            click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
            return
        from rich.console import Console

        console = Console(soft_wrap=False, highlight=False)
        for table in summary_tables(result):
            console.print(table)


def _sensitive_attributes(
    sensitive: str | None, ordered: str | None, hierarchies: list[str]
) -> dict[str, dict[str, Any] | None] | None:
    """Combine --sensitive, --ordered and --hierarchy into the library's mapping."""
    names = _split(sensitive)
    ordered_names = _split(ordered)
    by_field: dict[str, str] = {}
    for entry in hierarchies:
        name, separator, path = entry.partition("=")
        if not separator or not name.strip() or not path.strip():
            raise click.BadParameter(
                f"expected FIELD=FILE, got {entry!r}", param_hint="--hierarchy"
            )
        if name.strip() in by_field:
            raise click.BadParameter(
                f"two hierarchy files for `{name.strip()}`: give one", param_hint="--hierarchy"
            )
        by_field[name.strip()] = path.strip()
    if not names and (ordered_names or by_field):
        raise click.BadParameter(
            "--ordered and --hierarchy describe sensitive attributes: name them with --sensitive",
            param_hint="--sensitive",
        )
    if not names:
        return None
    for name in names:
        if names.count(name) > 1:
            raise click.BadParameter(f"`{name}` is listed twice", param_hint="--sensitive")
    for name in [*ordered_names, *by_field]:
        if name not in names:
            raise click.BadParameter(
                f"`{name}` is not among the --sensitive attributes", param_hint="--sensitive"
            )
    # An attribute without --ordered or --hierarchy maps to None, so it keeps the
    # kind the policy declares (categorical when the policy does not list it).
    mapping: dict[str, dict[str, Any] | None] = {}
    for name in names:
        if name in ordered_names:
            mapping[name] = {"kind": "ordered", "hierarchy": by_field.get(name)}
        elif name in by_field:
            mapping[name] = {"kind": "categorical", "hierarchy": by_field[name]}
        else:
            mapping[name] = None
    return mapping


def _split(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def summary_tables(result: Measurement) -> list[Table]:
    """Return the rich tables that show a measurement to people."""
    from rich.table import Table

    anonymity = result.anonymity
    overview = Table(title="Equivalence classes and risk", show_header=False)
    overview.add_column("measure", style="bold")
    overview.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("quasi-identifiers", ", ".join(result.quasi_identifiers)),
        ("records", f"{result.records:,}"),
        ("suppressed records", _count_and_share(result.suppressed_records, result.records)),
        (
            "records with a missing quasi-identifier",
            _count_and_share(result.records_with_missing_quasi_identifiers, result.records),
        ),
        ("equivalence classes", f"{anonymity.classes:,}"),
        ("k (smallest class)", _number(anonymity.k)),
        ("unique records (class of 1)", f"{anonymity.unique_records:,}"),
    ]
    if anonymity.target_k is not None and anonymity.records_below_k is not None:
        rows.append(
            (
                f"records in classes below k={anonymity.target_k}",
                _count_and_share(anonymity.records_below_k, anonymity.records),
            )
        )
    risk = result.risk
    rows += [
        ("prosecutor risk: highest", _number(risk.prosecutor_highest)),
        ("prosecutor risk: average", _number(risk.prosecutor_average)),
        (
            f"records with prosecutor risk above {risk.threshold:g}",
            _count_and_share(risk.prosecutor_records_above_threshold, anonymity.records),
        ),
        ("marketer risk", _number(risk.marketer)),
    ]
    if risk.journalist_highest is not None:
        rows += [
            ("journalist risk: highest", _number(risk.journalist_highest)),
            ("journalist risk: average", _number(risk.journalist_average)),
        ]
    utility = result.utility
    rows += [
        ("discernibility", f"{utility.discernibility:,}"),
        ("average class size", _number(utility.average_class_size)),
    ]
    for name, value in rows:
        overview.add_row(name, value)
    tables = [overview]

    if result.sensitive_attributes:
        # One column per attribute, so the table stays narrow with many measures.
        sensitive = Table(title="Sensitive attributes")
        sensitive.add_column("measure", style="bold")
        for measures in result.sensitive_attributes:
            sensitive.add_column(measures.name, justify="right")
        lines: list[tuple[str, list[str]]] = [
            (
                "t-closeness distance",
                [m.to_dict()["distance"] for m in result.sensitive_attributes],
            ),
            ("distinct values", [f"{m.distinct_values:,}" for m in result.sensitive_attributes]),
            ("distinct l", [_number(m.distinct_l) for m in result.sensitive_attributes]),
            ("entropy l", [_number(m.entropy_l) for m in result.sensitive_attributes]),
            ("recursive (c,l)", [_recursive(m) for m in result.sensitive_attributes]),
            ("alpha", [_number(m.alpha) for m in result.sensitive_attributes]),
            ("t", [_number(m.t_closeness) for m in result.sensitive_attributes]),
            ("beta", [_number(m.beta_likeness) for m in result.sensitive_attributes]),
            ("delta", [_number(m.delta_disclosure) for m in result.sensitive_attributes]),
            (
                "records with a missing value",
                [f"{m.records_with_missing_values:,}" for m in result.sensitive_attributes],
            ),
            (
                "classes with only missing values",
                [f"{m.classes_without_values:,}" for m in result.sensitive_attributes],
            ),
        ]
        for name, values in lines:
            sensitive.add_row(name, *values)
        tables.append(sensitive)
    return tables


def _recursive(measures: SensitiveAttributeMeasures) -> str:
    """Show the smallest integer c that meets recursive (c, l), with its l."""
    if measures.recursive_c is not None:
        return f"({measures.recursive_c}, {measures.recursive_l})"
    if measures.recursive_ratio is not None:
        return f"(inf, {measures.recursive_l})"
    return "-"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if math.isinf(value):
        return "inf"
    return f"{value:.4g}"


def _count_and_share(count: int, total: int) -> str:
    if not total:
        return f"{count:,}"
    return f"{count:,} ({count / total:.2%})"


__all__ = ["measure_command", "summary_tables"]
