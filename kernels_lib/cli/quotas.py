"""``terralab quota show``: my quotas from a shell (through the hub service inside a hub)."""

from __future__ import annotations

import json
import sys

import click

__all__ = ["quota_group"]


@click.group("quota")
def quota_group() -> None:
    """Show AI time, download and storage quotas."""


@quota_group.command("show")
@click.option("--user", help="Another user's quotas (admins only inside a hub).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def show_command(user: str | None, as_json: bool) -> None:
    """Show this month's use and limits, and when the monthly quotas reset."""
    from terralab.client.quotas import quota
    from terralab.service.errors import ServiceError

    try:
        report = quota(user)
    except (PermissionError, ServiceError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(str(report))
