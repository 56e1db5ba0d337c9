"""``maskme anonymize``: meet the policy's privacy targets with the least information loss."""

from __future__ import annotations

from pathlib import Path

import click

from maskme.cli.app import app
from maskme.cli.common import (
    configure_logging,
    fail_on_errors,
    input_delimiter_option,
    input_format_option,
    missing_values_option,
    non_empty,
    output_option,
    policy_option,
    say,
)


@app.command(
    "anonymize", short_help="Meet the policy's privacy targets with the least loss."
)
@click.argument("input", callback=non_empty)
@policy_option("Policy file with quasi_identifiers and privacy targets.")
@output_option
@input_format_option
@input_delimiter_option
@click.option(
    "--encoding", metavar="NAME", callback=non_empty, help="Text encoding of the input and output (default: utf-8)."
)
@click.option(
    "--batch-size",
    metavar="N",
    type=click.IntRange(min=1),
    help="Records per batch (default: 65536, for JSON 16384, or MASKME_BATCH_SIZE; bounds memory).",
)
@missing_values_option
@click.option(
    "--report",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Write the JSON report (levels, suppression, targets, loss) to this file.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@click.option("--verbose", "-v", is_flag=True, help="Log search details to stderr.")
def anonymize_command(
    input: str,
    policy: Path,
    output: str,
    format: str | None,
    delimiter: str | None,
    encoding: str | None,
    batch_size: int | None,
    missing_values: list[str] | None,
    report: Path | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Generalize and suppress INPUT until it meets the policy's privacy targets.

    INPUT is a file, or - for standard input; the result goes to the --output
    file, or to standard output. Exits with status 3, writing nothing, when no
    generalization meets the targets within the suppression limit.
    """
    configure_logging(verbose)
    with fail_on_errors():
        from maskme.anonymization import anonymize
        from maskme.errors import FormatError
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
            missing_values=missing_values,
        )
        if report is not None:
            try:
                write_report(report, result)
            except FormatError as error:
                raise FormatError(f"{error}; the output was written") from None
    if quiet:
        return
    levels = ", ".join(f"{name}={level}" for name, level in result.levels.items())
    say(
        f"anonymized {result.records:,} records -> {'standard output' if output == '-' else output}: "
        f"levels {levels}; "
        f"suppressed {result.suppressed_records:,}; "
        f"{result.metric} {result.utility:.6g}; "
        f"searched {result.nodes_evaluated:,} of {result.lattice_size:,} nodes "
        f"({result.elapsed_seconds:.2f} s)"
    )
    for outcome in result.targets:
        say(f"  {outcome.message}")
