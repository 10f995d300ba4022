"""``terralab models list|import|export``."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["models_group"]


@click.group("models")
def models_group() -> None:
    """The trained models of the deep AI tools (TERRALAB_HOME/models)."""


@models_group.command("list")
@click.option("--tool", help="Only this tool's models.")
@click.option("--json", "as_json", is_flag=True, help="Print the model cards as JSON.")
def list_command(tool: str | None, as_json: bool) -> None:
    """List the installed models, newest version first."""
    from terralab.ai.models import list_models

    models = list_models(tool)
    if as_json:
        click.echo(json.dumps([m.card.model_dump(mode="json") for m in models], indent=2))
        return
    if not models:
        click.echo("no models installed (terralab models import MODEL.zip)")
    for model in models:
        card = model.card
        metrics = ", ".join(f"{k} {v}" for k, v in card.metrics.items())
        click.echo(f"{card.tool:<24} {card.version:<10} {card.architecture.get('name', '')}"
                   f"  {len(card.classes)} classes  {metrics}")


@models_group.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace an installed model of that version.")
def import_command(source: Path, overwrite: bool) -> None:
    """Install a model from a folder or zip holding model.json and its weights."""
    from terralab.ai.models import ModelError, import_model

    try:
        model = import_model(source, overwrite=overwrite)
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"installed {model.card.tool} {model.card.version} in {model.path}")


@models_group.command("export")
@click.argument("tool")
@click.option("--version", help="The version (default: the newest).")
@click.option("--to", "dest", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="A folder or a .zip path.")
def export_command(tool: str, version: str | None, dest: Path) -> None:
    """Write an installed model to a zip that `terralab models import` reads."""
    from terralab.ai.models import ModelError, export_model

    try:
        target = export_model(tool, version, dest)
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(target))
