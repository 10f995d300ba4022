"""``terralab jobs list|show|cancel`` and ``terralab workers``."""

from __future__ import annotations

import json

import click

from terralab.queue.errors import JobError
from terralab.queue.records import STATUSES, JobRecord

__all__ = ["jobs_group", "workers_command"]


def _row(record: JobRecord) -> str:
    when = record.to_dict()["submitted_at"] or ""
    where = f"  {record.standing}" if record.standing and not record.done else ""
    return (f"{record.id}  {record.status:<9} {record.progress:5.1f}%  {record.tool:<20} "
            f"{record.owner:<12} {when}{where}")


@click.group("jobs")
def jobs_group() -> None:
    """Your queued jobs: list them, follow one, cancel one."""


@jobs_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only jobs in this state.")
@click.option("--all", "everybody", is_flag=True, help="Everybody's jobs (admins).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(status: str | None, everybody: bool, limit: int, as_json: bool) -> None:
    """List your jobs, newest first."""
    from terralab.client.queue import transport

    try:
        records = transport().list(status=status, everybody=everybody, limit=limit)
    except (JobError, PermissionError) as error:  # --all is for admins only
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
        return
    if not records:
        click.echo("no jobs")
    for record in records:
        click.echo(_row(record))


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(job_id: str, as_json: bool) -> None:
    """Show a job: its state, place in the queue, results and log."""
    from terralab.client.queue import transport

    try:
        record = transport().get(job_id)
    except JobError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(record.to_dict(), indent=2))
        return
    click.echo(_row(record))
    if record.standing and not record.done:
        click.echo(f"queue {record.queue}: {record.standing}")
    if record.error:
        click.echo(f"error: {record.error}")
    if record.results:
        click.echo(f"results: {', '.join(record.results)}")
    click.echo(f"params: {json.dumps(record.params)}")
    click.echo(record.log.rstrip())


@jobs_group.command("cancel")
@click.argument("job_id")
def cancel_command(job_id: str) -> None:
    """Cancel a job (a queued one at once, a running one within seconds)."""
    from terralab.client.queue import transport

    try:
        record = transport().cancel(job_id)
    except JobError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{record.id}: {record.message or record.status}")


@click.command("workers")
@click.option("--workers", type=int, default=None,
              help="Workers for the shared queue (default: $TERRALAB_JOB_QUEUES or 1).")
@click.option("--lease", type=float, default=None, help="Lease seconds of a claimed job.")
def workers_command(workers: int | None, lease: float | None) -> None:
    """Run the shared workers of this TERRALAB_HOME until Ctrl-C (what the hub runs)."""
    from terralab.queue.pool import main

    args = [] if workers is None else ["--workers", str(workers)]
    main([*args, *([] if lease is None else ["--lease", str(lease)])])
