"""The ``terralab`` command: the CLI layer, above the client layer.

One module per domain holds its subcommands (:mod:`terralab.cli.catalog`,
:mod:`~terralab.cli.mydata`, :mod:`~terralab.cli.tools`, :mod:`~terralab.cli.queue`,
:mod:`~terralab.cli.projects`, :mod:`~terralab.cli.quotas`, :mod:`~terralab.cli.ai`); they
call the client layer (``tl.*``: through the hub service inside a terralab hub, in-process
otherwise). Here: the group, ``version``, ``demo-data`` (the only user of the demo generator
besides the tests and ``up``'s first run) and ``up``. ``python -m terralab.cli`` runs it too.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from terralab._version import __version__
from terralab.cli.ai import models_group
from terralab.cli.catalog import catalog, search_command
from terralab.cli.mydata import mydata_group, upload_command
from terralab.cli.projects import projects_group
from terralab.cli.queue import jobs_group, workers_command
from terralab.cli.quotas import quota_group
from terralab.cli.tools import run_command, tools_group
from terralab.home import terralab_home
from terralab.platform_migrate import db_group

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="terralab")
def cli() -> None:
    """terralab: an open-source Earth-observation AI lab on Jupyter."""


@cli.command()
def version() -> None:
    """Print the terralab version."""
    click.echo(__version__)


@cli.command("demo-data")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data folder (default: $TERRALAB_HOME, else ./var or ~/.terralab).")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option("--size", type=click.IntRange(256, 1200), default=1024, show_default=True,
              help="Side of the 0.5 m aerial scenes and of the 10 m regional grid, in pixels "
                   "(larger regions would leave Deqing county).")
@click.option("--force", is_flag=True, help="Write again even if the demo data exists.")
def demo_data(home: Path | None, seed: int, size: int, force: bool) -> None:
    """Write the demo region (seeded GeoTIFFs and their STAC catalog)."""
    from terralab.catalog.bootstrap import index_demo_data
    from terralab.demo import demo_data_exists, write_demo_data

    home = (home or terralab_home()).resolve()
    if demo_data_exists(home) and not force:
        click.echo(f"demo data already in {home / 'catalog' / 'demo'} (use --force to rewrite)")
        click.echo(f"indexed {index_demo_data(home)} demo items in the catalog")
        return
    result = write_demo_data(home, size=size, seed=seed)
    click.echo(f"wrote {len(result.files)} GeoTIFFs and {result.catalog}")
    click.echo(f"indexed {index_demo_data(home)} demo items in the catalog")


cli.add_command(search_command)
cli.add_command(catalog)
cli.add_command(upload_command)
cli.add_command(mydata_group)
cli.add_command(tools_group)
cli.add_command(run_command)
cli.add_command(jobs_group)
cli.add_command(workers_command)
cli.add_command(projects_group)
cli.add_command(quota_group)
cli.add_command(models_group)
cli.add_command(db_group)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt


@cli.command()
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data folder (default: $TERRALAB_HOME, else ./var or ~/.terralab).")
@click.option("--spawner", "spawner_mode", type=click.Choice(["workshop", "system"]),
              default="workshop", show_default=True,
              help="workshop: user servers run as this Unix user (single-trust, no root); "
                   "system: one system user per hub user (root only).")
@click.option("--no-demo-data", is_flag=True, help="Do not create the demo data if missing.")
def up(ip: str, port: int, home: Path | None, spawner_mode: str, no_demo_data: bool) -> None:
    """Start the lab: JupyterHub, the proxy and the terralab service, until Ctrl-C."""
    from terralab.demo import demo_data_exists, write_demo_data
    from terralab.hub.launch import HubStartError, banner, start_hub, stop_hub, wait_until_ready

    home = (home or terralab_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not no_demo_data and not demo_data_exists(home):
        from terralab.catalog.bootstrap import index_demo_data

        click.echo(f"creating the demo data in {home} …")
        write_demo_data(home)
        index_demo_data(home)
    url = f"http://{ip}:{port}"
    try:
        process = start_hub(home, url, spawner_mode=spawner_mode)
    except HubStartError as error:
        raise click.ClickException(str(error)) from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        wait_until_ready(process, url)
        click.echo(banner(url, home), nl=True)
        sys.stdout.flush()
        process.wait()
        click.echo(f"JupyterHub exited with code {process.returncode}", err=True)
        sys.exit(process.returncode or 1)
    except HubStartError as error:
        click.echo(f"terralab up: {error}; see {home / 'hub' / 'jupyterhub.log'}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\nstopping terralab …")
    finally:
        stop_hub(process)


def main() -> None:
    """Entry point of the ``terralab`` console script."""
    cli()

