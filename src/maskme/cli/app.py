"""The ``maskme`` Typer application and its entry point.

Each command lives in its own module under ``maskme.cli`` and is registered
here. Exit codes: 0 success, 1 runtime or data error, 2 usage error or invalid
policy, 3 privacy target not met.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="maskme",
    help="Anonymize CSV, JSON and JSONL data with a policy, and measure privacy and utility.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Run the ``maskme`` command."""
    app()


@app.callback()
def _root() -> None:
    """Anonymize CSV, JSON and JSONL data with a policy, and measure privacy and utility."""


# Command modules register themselves on import; keep this list sorted.
from maskme.cli import anonymize as _anonymize  # noqa: F401
from maskme.cli import mask as _mask  # noqa: F401
from maskme.cli import measure as _measure  # noqa: F401
from maskme.cli import schema as _schema  # noqa: F401
from maskme.cli import strategies as _strategies  # noqa: F401
from maskme.cli import version as _version  # noqa: F401
