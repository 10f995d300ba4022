"""``terralab upload`` and ``terralab mydata …``: my data from a shell.

They use the same calls as ``tl.upload`` / ``tl.my_data``: through the hub service inside a
terralab hub, in-process otherwise (for ``$TERRALAB_USER`` or the login name).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.store import MyDataRecord
from terralab.sizes import format_size

__all__ = ["mydata_group", "upload_command"]


def _fail(error: Exception) -> None:
    click.echo(f"error: {error}", err=True)
    layers = getattr(error, "layers", None)
    if layers:
        click.echo("layers: " + ", ".join(layers) + "  (choose one with --layer)", err=True)
    sys.exit(2)


def _line(record: MyDataRecord) -> str:
    flags = f"  [{'; '.join(record.flags)}]" if record.flags else ""
    return (f"{record.id:<52} {record.kind:<9} {record.data_type:<6} "
            f"{format_size(record.bytes):>9}  {record.title}{flags}")


@click.command("upload")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--title", help="The name to show (default: the file name).")
@click.option("--layer", help="The layer of a GeoPackage with several.")
@click.option("--bands", help="What the raster's bands hold, e.g. red,green,blue,nir.")
@click.option("--json", "as_json", is_flag=True, help="Print the new item as JSON.")
def upload_command(file: Path, title: str | None, layer: str | None, bands: str | None,
                   as_json: bool) -> None:
    """Upload a raster (.tif, .img) or vector (.zip shapefile, .geojson, .gpkg) to my data."""
    from terralab.client.mydata import upload

    try:
        record = upload(file, title=title, layer=layer, bands=bands)
    except (UploadError, MyDataError) as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"published {record.title} as {record.id} ({format_size(record.bytes)})")
    for flag in record.flags:
        click.echo(f"note: {flag}")


@click.group("mydata")
def mydata_group() -> None:
    """List, rename, delete and download my data; show my storage."""


@mydata_group.command("list")
@click.option("--kind", type=click.Choice(["upload", "result", "favourite"]))
@click.option("--type", "data_type", type=click.Choice(["raster", "vector", "media"]))
@click.option("--text", help="Only items whose name contains this text.")
@click.option("--json", "as_json", is_flag=True)
def list_command(kind: str | None, data_type: str | None, text: str | None,
                 as_json: bool) -> None:
    """List my data, newest first."""
    from terralab.client.mydata import my_data

    records = my_data(kind, data_type=data_type, text=text)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
        return
    for record in records:
        click.echo(_line(record))
    if not records:
        click.echo("no items")


@mydata_group.command("rename")
@click.argument("item_id")
@click.argument("title")
def rename_command(item_id: str, title: str) -> None:
    """Give an item a new name."""
    from terralab.client.mydata import rename

    try:
        click.echo(_line(rename(item_id, title)))
    except MyDataError as error:
        _fail(error)


@mydata_group.command("delete")
@click.argument("item_id")
def delete_command(item_id: str) -> None:
    """Delete an upload or result and free its storage."""
    from terralab.client.mydata import delete

    try:
        freed = delete(item_id)
    except MyDataError as error:
        _fail(error)
    click.echo(f"deleted {item_id}; {format_size(freed)} freed")


@mydata_group.command("download")
@click.argument("item_id")
@click.option("--dest", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--format", "fmt",
              type=click.Choice(["cog", "geotiff", "gpkg", "geojson", "shapefile"]),
              help="Rasters: cog, geotiff; vectors: gpkg, geojson, shapefile (zipped).")
def download_command(item_id: str, dest: Path, fmt: str | None) -> None:
    """Download an item's data file (counted in my download record)."""
    from terralab.client.mydata import download

    try:
        for path in download(item_id, dest, format=fmt):
            click.echo(str(path))
    except MyDataError as error:
        _fail(error)


@mydata_group.command("storage")
def storage_command() -> None:
    """Show my storage use and quota."""
    from terralab.client.mydata import storage

    click.echo(storage().to_dict()["text"])
