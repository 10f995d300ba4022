"""``terralab tools list|show`` and ``terralab run TOOL --param k=v …``."""

from __future__ import annotations

import json
import sys

import click

__all__ = ["run_command", "tools_group"]


def _value(text: str) -> object:
    """A parameter value: JSON when it parses (numbers, lists, objects), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.group("tools")
def tools_group() -> None:
    """The AI and processing tools."""


@tools_group.command("list")
@click.option("--kind", type=click.Choice(["processing", "ai"]))
@click.option("--json", "as_json", is_flag=True)
def list_command(kind: str | None, as_json: bool) -> None:
    """List the registered tools (a deep tool without an installed model says so)."""
    from terralab.ai.readiness import tool_readiness
    from terralab.tools import list_tools

    infos = list_tools(kind)
    states = {info.name: tool_readiness(info.name) for info in infos}
    if as_json:
        click.echo(json.dumps([{**i.to_dict(), **states[i.name].to_dict()} for i in infos],
                              indent=2, ensure_ascii=False))
        return
    for info in infos:
        state = states[info.name]
        note = "" if state.ready else f"  [{state.message}]"
        click.echo(f"{info.name:<22} {info.kind:<11} {info.title} ({info.title_zh}){note}")


@tools_group.command("show")
@click.argument("name")
def show_command(name: str) -> None:
    """Show a tool's parameters (JSON schema, with Chinese help in help_zh)."""
    from terralab.tools import get

    try:
        tool = get(name)
    except KeyError as error:
        click.echo(f"error: {error.args[0]}", err=True)
        sys.exit(2)
    from terralab.ai.readiness import tool_readiness

    click.echo(json.dumps({**tool.info.to_dict(), "parameters": tool.schema(),
                           **tool_readiness(tool).to_dict()}, indent=2, ensure_ascii=False))


@click.command("run")
@click.argument("name")
@click.option("--param", "-p", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A parameter; repeat it. Values are JSON when they parse, else text.")
@click.option("--title", help="The result's name in my data.")
@click.option("--json", "as_json", is_flag=True, help="Print the saved result as JSON.")
def run_command(name: str, pairs: tuple[str, ...], title: str | None, as_json: bool) -> None:
    """Run a tool; its result is saved in my data."""
    from terralab.ai.models import ModelError
    from terralab.client.tools import run  # inside a hub an AI tool is queued
    from terralab.mydata.errors import MyDataError
    from terralab.queue.errors import JobError
    from terralab.quotas.checks import QuotaExceeded
    from terralab.tools import InputError, ToolParameterError

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            click.echo(f"error: --param takes KEY=VALUE, not {pair!r}", err=True)
            sys.exit(2)
        params[key.strip()] = _value(value)
    try:
        result = run(name, title=title, **params)
    except (KeyError, ToolParameterError, InputError, MyDataError, ModelError, JobError,
            QuotaExceeded) as error:  # the last two: an AI tool queued inside a hub
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        click.echo(f"error: {message}", err=True)
        sys.exit(2)
    record = result.record
    if as_json:
        click.echo(json.dumps({"tool": name, "result": record.to_dict(), "extra": result.extra},
                              indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"{name}: saved {record.title} as {record.id} in my data")
    for more in result.records[1:]:
        click.echo(f"{name}: saved {more.title} as {more.id} in my data")
    for key, value in result.extra.items():
        click.echo(f"  {key}: {value}")
