"""``maskme strategies``: list every available strategy, plugins included."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from maskme.cli.app import app
from maskme.cli.common import configure_logging, fail_on_errors

if TYPE_CHECKING:
    from rich.table import Table

    from maskme.strategies.registry import ParameterDescription, StrategyDescription

PROPERTY_LABELS = {
    "deterministic": "deterministic",
    "reversible": "reversible",
    "keeps_type": "keeps type",
    "two_pass": "two-pass",
    "removes_field": "removes field",
}


@app.command("strategies", short_help="List every strategy with its parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def strategies_command(as_json: bool) -> None:
    """List every strategy with its source package, parameters and properties."""
    configure_logging(False)  # a plugin that fails to load is reported as a warning
    with fail_on_errors():
        from maskme.strategies.registry import available_strategies

        descriptions = [entry.describe() for entry in available_strategies()]
        if as_json:
            click.echo(json.dumps([description.to_dict() for description in descriptions], indent=2))
            return
        from rich.console import Console

        Console(soft_wrap=False).print(_table(descriptions))


def _table(descriptions: list[StrategyDescription]) -> Table:
    from rich.table import Table

    table = Table(title="MaskMe strategies", show_lines=True)
    table.add_column("strategy", style="bold", no_wrap=True)
    # Fold long package names and parameter types instead of cutting them off.
    table.add_column("source", overflow="fold")
    table.add_column("parameters", overflow="fold")
    table.add_column("properties")
    for description in descriptions:
        parameters = "\n".join(_parameter_line(p) for p in description.parameters) or "-"
        properties = ", ".join(
            label for flag, label in PROPERTY_LABELS.items() if description.properties.get(flag)
        )
        table.add_row(
            description.name,
            description.source,
            parameters,
            properties or "-",
            end_section=False,
        )
    return table


def _parameter_line(parameter: ParameterDescription) -> str:
    if parameter.required:
        return f"{parameter.name}: {parameter.type} (required)"
    return f"{parameter.name}: {parameter.type} = {json.dumps(parameter.default)}"
