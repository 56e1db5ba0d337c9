"""``maskme schema``: print the policy's JSON Schema."""

from __future__ import annotations

import json

import click

from maskme.cli.app import app
from maskme.cli.common import fail_on_errors


@app.command("schema", short_help="Print the JSON Schema of policy files.")
def schema_command() -> None:
    """Print the JSON Schema of policy files, for editors that check and complete YAML."""
    with fail_on_errors():
        from maskme.policy.schema import policy_json_schema

        click.echo(json.dumps(policy_json_schema(), indent=2))
