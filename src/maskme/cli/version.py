"""``maskme version``: print the installed version."""

from __future__ import annotations

import click

from maskme import __version__
from maskme.cli.app import app


@app.command("version")
def version_command() -> None:
    """Print the MaskMe version."""
    click.echo(__version__)
