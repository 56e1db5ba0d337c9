"""``maskme mask``: apply a policy to a file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from maskme.cli.app import app
from maskme.cli.common import (
    configure_logging,
    delimiter_value,
    fail_on_errors,
    format_name,
    input_delimiter_option,
    input_format_option,
    missing_values_option,
    non_empty,
    on_terminal,
    output_option,
    policy_option,
    progress_bar,
    say,
)


@app.command("mask", short_help="Apply a policy to a file.")
@click.argument("input", callback=non_empty)
@policy_option("Policy file (YAML or JSON).")
@output_option
@input_format_option
@click.option(
    "--output-format",
    metavar="FORMAT",
    callback=format_name,
    help="Output format (default: from the output extension, else the input's).",
)
@input_delimiter_option
@click.option(
    "--output-delimiter",
    metavar="CHAR",
    callback=delimiter_value,
    help=(
        "CSV delimiter of the output, \\t for a tab, or the delimiter and a space (', ') "
        "(default: the input's)."
    ),
)
@click.option(
    "--encoding",
    metavar="NAME",
    callback=non_empty,
    help="Text encoding of the input and output (default: utf-8).",
)
@click.option(
    "--batch-size",
    metavar="N",
    type=click.IntRange(min=1),
    help="Records per batch (default: 65536, for JSON 16384; bounds memory).",
)
@missing_values_option
@click.option(
    "--report",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Write a JSON report measuring the output to this file.",
)
@click.option("--compare", is_flag=True, help="Measure the input too, and report both side by side.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--verbose", "-v", is_flag=True, help="Log progress details to stderr.")
def mask_command(
    input: str,
    policy: Path,
    output: str,
    format: str | None,
    output_format: str | None,
    delimiter: str | None,
    output_delimiter: str | None,
    encoding: str | None,
    batch_size: int | None,
    missing_values: list[str] | None,
    report: Path | None,
    compare: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Anonymize INPUT (a file, or - for standard input) with a policy.

    The result goes to the --output file, or to standard output.
    """
    if compare and report is None:
        raise click.UsageError("--compare adds the input's measures to the report: pass --report FILE too")
    configure_logging(verbose)
    # A progress bar on the terminal that also shows the output would draw inside the records.
    show_progress = not quiet and not (output == "-" and on_terminal(sys.stdout))
    with fail_on_errors(), progress_bar("masking", show_progress) as progress:
        from maskme.run import mask_file

        result = mask_file(
            input,
            policy,
            output,
            format=format,
            output_format=output_format,
            delimiter=delimiter,
            output_delimiter=output_delimiter,
            encoding=encoding,
            batch_size=batch_size,
            progress=progress,
            report=report,
            compare=compare,
            missing_values=missing_values,
        )
    if not quiet and output != "-":
        say(f"masked {result.records:,} records -> {output} ({result.elapsed_seconds:.2f} s)")
    if report is not None and verbose:
        say(json.dumps(result.to_dict(), indent=2))
