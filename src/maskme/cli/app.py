"""The ``maskme`` command group (Click) and its entry point.

Each command lives in its own module under ``maskme.cli`` and is registered
here. Exit codes: 0 success, 1 runtime or data error, 2 usage error or invalid
policy, 3 privacy target not met.

The command modules import the libraries a command needs (Polars, the
policy model, rich) inside the command, so that every command starts with
only Click loaded.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, TextIO, cast

import click

from maskme import __version__
from maskme.cli.common import os_error_text, say
from maskme.errors import MaskMeError


@click.group(
    name="maskme", no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(version=__version__, message="%(version)s")
def app() -> None:
    """Anonymize CSV, JSON and JSONL data with a policy, and measure privacy and utility."""


class _ClosedStream(io.TextIOBase):
    """A standard stream the process was started without (as with ``>&-``): using it fails with an error."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def buffer(self) -> _ClosedStream:
        return self

    def _closed(self) -> MaskMeError:
        return MaskMeError(f"standard {self._name} is closed; run the command with it open")

    def write(self, data: Any) -> int:
        raise self._closed()

    def read(self, size: int | None = -1) -> Any:
        raise self._closed()

    def readinto(self, buffer: Any) -> int:
        raise self._closed()

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass


def _stand_in_for_closed_streams() -> None:
    """Replace closed standard streams: stdin and stdout fail when used, stderr discards."""
    if sys.stdin is None:
        sys.stdin = cast(TextIO, _ClosedStream("input"))
    if sys.stdout is None:
        sys.stdout = cast(TextIO, _ClosedStream("output"))
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (open until exit)


def main() -> None:
    """Run the ``maskme`` command; after a successful run, end the process at once.

    Python's usual shutdown frees every module and stops Polars' threads,
    about 50 ms of each run (a tenth of masking a small file). By the end of
    a successful command its files are closed and removed, so only the
    standard streams need flushing. Failures exit the usual way, and so does
    a run under a tracer or profiler (coverage, cProfile, pyinstrument), which
    writes its results while Python shuts down.
    """
    _stand_in_for_closed_streams()
    try:
        app.main(prog_name="maskme")
    except SystemExit as ended:
        if ended.code not in (0, None):
            raise
    except MaskMeError as error:  # from --help or --version, which run before any command
        say(str(error), error=True)
        raise SystemExit(error.exit_code) from None
    except OSError as error:
        say(os_error_text(error), error=True)
        raise SystemExit(1) from None
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise SystemExit(1) from None  # a closed pipe: the usual shutdown reports it
    if sys.gettrace() is None and sys.getprofile() is None:
        os._exit(0)


# Command modules register themselves on import; keep this list sorted.
from maskme.cli import anonymize as _anonymize  # noqa: F401
from maskme.cli import mask as _mask  # noqa: F401
from maskme.cli import measure as _measure  # noqa: F401
from maskme.cli import schema as _schema  # noqa: F401
from maskme.cli import strategies as _strategies  # noqa: F401
from maskme.cli import version as _version  # noqa: F401
