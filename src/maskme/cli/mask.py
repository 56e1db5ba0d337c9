"""``maskme mask``: apply a policy to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from maskme.cli.app import app
from maskme.cli.common import configure_logging, fail_on_errors, progress_bar, stderr


@app.command("mask")
def mask_command(
    input: Annotated[str, typer.Argument(help="Input file, or - for standard input.")],
    policy: Annotated[
        Path, typer.Option("--policy", "-p", help="Policy file (YAML or JSON).", show_default=False)
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file, or - for standard output.")
    ] = "-",
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Input format: csv, json or jsonl (default: from the extension)."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--output-format", help="Output format (default: from the output extension, else the input's)."),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="CSV delimiter of the input (default: detected).")
    ] = None,
    output_delimiter: Annotated[
        str | None, typer.Option("--output-delimiter", help="CSV delimiter of the output (default: the input's).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding of the input and output (default: utf-8).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Records per batch (default: 65536, for JSON 16384; bounds memory).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a JSON report measuring the output to this file.")
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Measure the input too, and report both side by side.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details to stderr.")] = False,
) -> None:
    """Anonymize INPUT with a policy and write the result to OUTPUT."""
    from maskme.run import mask_file

    configure_logging(verbose)
    with fail_on_errors(), progress_bar("masking", not quiet) as progress:
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
        )
    if not quiet and output != "-":
        stderr.print(
            f"masked {result.records:,} records -> {output} ({result.elapsed_seconds:.2f} s)"
        )
    if report is not None and verbose:
        stderr.print(json.dumps(result.to_dict(), indent=2))
