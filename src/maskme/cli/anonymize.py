"""``maskme anonymize``: meet the policy's privacy targets with the least information loss."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maskme.cli.app import app
from maskme.cli.common import configure_logging, fail_on_errors, stderr
from maskme.errors import FormatError


@app.command("anonymize")
def anonymize_command(
    input: Annotated[str, typer.Argument(help="Input file, or - for standard input.")],
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", "-p", help="Policy file with quasi_identifiers and privacy targets.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file, or - for standard output.")
    ] = "-",
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Input format: csv, json or jsonl (default: from the extension)."),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="CSV delimiter of the input (default: detected).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding of the input (default: utf-8).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Records per batch (default: 65536; bounds memory).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the JSON report (levels, suppression, targets, loss) to this file."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log search details to stderr.")] = False,
) -> None:
    """Generalize and suppress INPUT until it meets the policy's privacy targets, and write OUTPUT.

    Exits with status 3, writing nothing, when no generalization meets the
    targets within the suppression limit.
    """
    configure_logging(verbose)
    with fail_on_errors():
        from maskme.anonymization import anonymize
        from maskme.run import check_report_path, write_report

        if report is not None:
            check_report_path(report, input, output, policy)
        result = anonymize(
            input,
            policy,
            output,
            format=format,
            delimiter=delimiter,
            encoding=encoding,
            batch_size=batch_size,
        )
        if report is not None:
            try:
                write_report(report, result)
            except FormatError as error:
                raise FormatError(f"{error}; the output was written") from None
    if quiet:
        return
    levels = ", ".join(f"{name}={level}" for name, level in result.levels.items())
    stderr.print(
        f"anonymized {result.records:,} records -> {output}: levels {levels}; "
        f"suppressed {result.suppressed_records:,}; "
        f"{result.metric} {result.utility:.6g}; "
        f"searched {result.nodes_evaluated:,} of {result.lattice_size:,} nodes "
        f"({result.elapsed_seconds:.2f} s)",
        markup=False,
    )
    for outcome in result.targets:
        stderr.print(f"  {outcome.message}", markup=False)
