"""``maskme version``: print the installed version."""

from __future__ import annotations

import click

from maskme import __version__
from maskme.cli.app import app
from maskme.cli.common import fail_on_errors


@app.command("version")
def version_command() -> None:
    """Print the MaskMe version."""
    with fail_on_errors():
        click.echo(__version__)
