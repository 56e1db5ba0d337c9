"""Shared command-line helpers: error reporting with exit codes, and progress on a terminal.

rich is imported only where a command draws with it (a progress bar on a
terminal, tables), because importing it at every start would cost tens of milliseconds.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from maskme.errors import MaskMeError

if TYPE_CHECKING:
    from maskme.engine import ProgressCallback

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "configure_logging",
    "delimiter_value",
    "fail_on_errors",
    "format_name",
    "input_delimiter_option",
    "input_format_option",
    "joined",
    "missing_values_option",
    "non_empty",
    "on_terminal",
    "os_error_text",
    "output_option",
    "policy_option",
    "progress_bar",
    "say",
    "single_policy",
]


#: C0 and C1 control characters other than tab and line feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def on_terminal(stream: TextIO | None) -> bool:
    """Return whether ``stream`` is open and a terminal."""
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def _visible(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def say(message: str, *, error: bool = False) -> None:
    """Write one line for people to stderr (summaries and failures, never data).

    Text goes to a pipe or file as it is. On a terminal, control characters
    (from a file name, say) are shown as escapes rather than run, and an error
    gets a red ``error:`` unless ``NO_COLOR`` is set (not empty) or ``TERM`` is
    ``dumb``.
    """
    stream = sys.stderr
    if stream is None:  # closed, as with 2>&-
        return
    prefix = "error: " if error else ""
    if on_terminal(stream):
        message = _CONTROL.sub(_visible, message)
        plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
        if error and not plain:
            prefix = click.style("error:", fg="red", bold=True) + " "
    click.echo(prefix + message, file=stream, color=True)


def os_error_text(error: OSError) -> str:
    """Describe a failed read or write by the system's reason and the file, if known."""
    # Polars raises OSError with its message (for example "File too large (os error 27)")
    # and no strerror.
    reason = error.strerror or str(error) or error.__class__.__name__
    return f"{reason}: {error.filename}" if error.filename else f"cannot read or write: {reason}"


def non_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Reject an empty option value, which would otherwise mean the default or the current folder."""
    if value == "":
        raise click.BadParameter("the value is empty")
    return value


def single_policy(ctx: click.Context, param: click.Parameter, values: tuple[Path, ...]) -> Path | None:
    """Take the one ``--policy`` given: with two, one of them would be ignored without a word."""
    if len(values) > 1:
        raise click.BadParameter("given more than once; pass one policy file")
    if values and str(values[0]) == "-":
        raise click.BadParameter("the policy is read from a file, not from standard input")
    return values[0] if values else None


def joined(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """Join the comma-separated lists of a repeated option into one list."""
    return ",".join(values) if values else None


def format_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Read a format name in any case (``CSV`` is ``csv``)."""
    value = non_empty(ctx, param, value)
    return value.lower() if value is not None else None


def delimiter_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    r"""Read ``\t`` or ``tab`` as a tab, since a tab is awkward to type in a shell (also before a space)."""
    if value in ("\\t", "tab"):
        return "\t"
    if value in ("\\t ", "tab "):
        return "\t "
    return non_empty(ctx, param, value)


def policy_option(help: str, *, required: bool = True) -> Callable[[F], F]:
    """Return the ``--policy`` / ``-p`` option, given once, with this help."""
    return click.option(
        "--policy",
        "-p",
        required=required,
        metavar="FILE",
        type=click.Path(path_type=Path),
        multiple=True,
        callback=single_policy,
        help=help,
    )


#: ``--output`` / ``-o`` of the commands that write data.
output_option = click.option(
    "--output",
    "-o",
    default="-",
    metavar="FILE",
    show_default=True,
    callback=non_empty,
    help="Output file, or - for standard output.",
)
#: ``--format`` / ``-f`` of the commands that write data.
input_format_option = click.option(
    "--format",
    "-f",
    "format",
    metavar="FORMAT",
    callback=format_name,
    help="Input format: csv, json or jsonl (default: from the extension).",
)
#: ``--delimiter`` of the commands that write data.
input_delimiter_option = click.option(
    "--delimiter",
    metavar="CHAR",
    callback=delimiter_value,
    help=(
        "CSV delimiter of the input, \\t for a tab, or the delimiter and a space (', ') "
        "when a space follows each one (default: detected)."
    ),
)



def missing_values(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[str] | None:
    """Split the comma-separated texts of a repeated ``--missing-values``; None when not given."""
    if not values:
        return None
    markers = [marker.strip() for value in values for marker in value.split(",")]
    if not all(markers):
        raise click.BadParameter(
            "expected comma-separated texts such as '?,N/A' (an empty value is always missing)",
            ctx=ctx,
            param=param,
        )
    return markers


#: ``--missing-values`` of the commands that read data with a policy.
missing_values_option = click.option(
    "--missing-values",
    metavar="TEXTS",
    multiple=True,
    callback=missing_values,
    help=(
        "Comma-separated texts that mean a missing value, such as '?,N/A' (repeat to add "
        "more); replaces the policy's missing_values. Such values stay as they are and "
        "count as missing."
    ),
)


def configure_logging(verbose: bool) -> None:
    """Send library logs to stderr: warnings by default, info with ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="maskme: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )


class _Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A BaseException, as KeyboardInterrupt is, so that code which handles the
    errors of a strategy or a write (``except Exception``) lets it through.
    """


def _raise_terminated(signal_number: int, frame: object) -> None:
    raise _Terminated


@contextmanager
def fail_on_errors() -> Iterator[None]:
    """Turn MaskMe errors into a message on stderr and the error's exit status.

    SIGTERM raises inside the command, so that temporary output is removed on
    the way out, as for Ctrl-C.
    """
    # Signal handlers can be set only from the main thread (the CLI's, but not
    # when the app runs elsewhere).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        yield
    except _Terminated:
        say("terminated; nothing was written")
        raise click.exceptions.Exit(143) from None
    except MaskMeError as error:
        say(str(error), error=True)
        raise click.exceptions.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        say("interrupted; nothing was written")
        raise click.exceptions.Exit(130) from None
    except BrokenPipeError:
        raise click.exceptions.Exit(1) from None
    except OSError as error:  # a full disk or a failed device: no traceback for people
        say(os_error_text(error), error=True)
        raise click.exceptions.Exit(1) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[ProgressCallback | None]:
    """Show a rich progress bar on stderr when it is a terminal; yield its update callback."""
    if not enabled or not on_terminal(sys.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records {task.fields[records]:,}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=None, records=0)

        def update(records: int, bytes_read: int, total_bytes: int | None) -> None:
            if total_bytes:
                progress.update(task, completed=bytes_read, total=total_bytes, records=records)
            else:
                progress.update(task, records=records)

        yield update
