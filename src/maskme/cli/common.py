"""Shared command-line helpers: error reporting with exit codes, and progress on a terminal.

rich is imported only where a command draws with it (a progress bar on a
terminal, tables), because importing it at every start would cost tens of milliseconds.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from maskme.errors import MaskMeError

if TYPE_CHECKING:
    from maskme.engine import ProgressCallback

__all__ = ["configure_logging", "fail_on_errors", "progress_bar", "say"]


def say(message: str) -> None:
    """Write one line for people to stderr (summaries and failures, never data)."""
    click.echo(message, err=True)


def configure_logging(verbose: bool) -> None:
    """Send library logs to stderr: warnings by default, info with ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="maskme: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )


class _Terminated(Exception):
    """Raised in the main thread when the process receives SIGTERM."""


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
        # click.echo drops the colour when stderr is not a terminal.
        say(f"{click.style('error:', fg='red', bold=True)} {error}")
        raise click.exceptions.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        say("interrupted; nothing was written")
        raise click.exceptions.Exit(130) from None
    except BrokenPipeError:
        raise click.exceptions.Exit(1) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[ProgressCallback | None]:
    """Show a rich progress bar on stderr when it is a terminal; yield its update callback."""
    if not enabled:
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
