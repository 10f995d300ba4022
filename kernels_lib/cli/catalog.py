"""The ``terralab search`` and ``terralab catalog …`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import click

from terralab.home import terralab_home

__all__ = ["catalog", "search_command"]

_HOME = click.option("--home", type=click.Path(path_type=Path), default=None,
                     help="Data folder (default: $TERRALAB_HOME, else ./var or ~/.terralab).")


def _bbox(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple | None:
    """Parse ``west,south,east,north``."""
    if value is None:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4:
        raise click.BadParameter("give four numbers: west,south,east,north (degrees)")
    return parts


@click.command("search")
@click.option("--place", help="A place or POI name, Chinese or English (e.g. 德清, Hangzhou).")
@click.option("--admin", help="An administrative region of China by name or 6-digit code "
                              "(e.g. 湖州市, 330500).")
@click.option("--file", "vector", type=click.Path(path_type=Path),
              help="A vector file: zipped shapefile, GeoJSON or GeoPackage.")
@click.option("--bbox", callback=_bbox, help="west,south,east,north in degrees.")
@click.option("--geojson", "geojson_text", help="A GeoJSON geometry or feature, as text.")
@click.option("--start", help="Earliest date: 2024, 2024-05 or 2024-05-10 (UTC).")
@click.option("--end", help="Latest date, inclusive: 2025, 2025-06 or 2025-06-30 (UTC).")
@click.option("--collection", "collections", multiple=True,
              help="Collection id (repeat for several): landsat-c2-l2, sentinel-2-l2a, "
                   "sentinel-1-grd, …")
@click.option("--max-cloud", type=click.FloatRange(0, 100), help="Largest cloud cover, %.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many items.")
@click.option("--source", help="Catalog source (default: embedded; see catalog sources).")
@click.option("--user", help="Also search this user's own items (default: $JUPYTERHUB_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
@_HOME
def search_command(place: str | None, admin: str | None, vector: Path | None,
                   bbox: tuple | None, geojson_text: str | None, start: str | None,
                   end: str | None, collections: tuple[str, ...], max_cloud: float | None,
                   limit: int, offset: int, source: str | None, user: str | None,
                   as_json: bool, home: Path | None) -> None:
    """Search the catalog by area, dates, collection and cloud cover."""
    from terralab.areas import AmbiguousAreaError, AreaError
    from terralab.catalog.search import search

    given = {k: v for k, v in (("--place", place), ("--admin", admin), ("--file", vector),
                               ("--bbox", bbox), ("--geojson", geojson_text)) if v is not None}
    if len(given) > 1:
        raise click.UsageError(f"give one area, not {' and '.join(given)}")
    geometry = bbox
    if geojson_text is not None:
        try:
            geometry = json.loads(geojson_text)
        except ValueError as error:
            raise click.BadParameter(f"not valid JSON: {error}", param_hint="--geojson") from None
    try:
        result = search(place=place, admin=admin, file=vector, geometry=geometry, start=start,
                        end=end, collections=collections or None, max_cloud=max_cloud,
                        limit=limit, offset=offset, source=source, user=user,
                        home=(home or terralab_home()).resolve())
    except AmbiguousAreaError as error:
        lines = [str(error), "candidates:"]
        lines += [f"  {_describe(c)}" for c in error.candidates]
        raise click.ClickException("\n".join(lines)) from None
    except (AreaError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise click.ClickException(str(message)) from None
    if as_json:
        payload = result.to_dict()
        payload["context"] = {"returned": len(result), "limit": limit, "offset": offset,
                              "source": result.source}
        if result.area is not None:
            payload["context"]["area"] = result.area.name
        click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    where = f" in {result.area.name}" if result.area is not None else ""
    click.echo(f"{len(result)} items{where} (source: {result.source})")
    for item in result.dicts():
        props = item.get("properties") or {}
        cloud = props.get("eo:cloud_cover")
        cloud_text = f"{cloud:5.1f}%" if isinstance(cloud, int | float) else "    -"
        when = str(props.get("datetime") or props.get("start_datetime") or "")[:19]
        click.echo(f"{when:19}  {cloud_text}  {item.get('collection', ''):16}  {item['id']}")


def _describe(candidate: object) -> str:
    """One line about an ambiguous name's candidate."""
    describe = getattr(candidate, "describe", None)
    return describe() if callable(describe) else str(candidate)


@click.group()
def catalog() -> None:
    """Manage the catalog: ingest items, list collections."""


@catalog.command()
@click.argument("target")
@click.option("--owner", help="Add as this user's own items (default: public catalog items).")
@click.option("--collection", help="Collection id for items built from GeoTIFFs.")
@click.option("--max-items", type=click.IntRange(1), default=1000, show_default=True,
              help="Most items taken from a STAC API query.")
@_HOME
def ingest(target: str, owner: str | None, collection: str | None, max_items: int,
           home: Path | None) -> None:
    """Add STAC Items / ItemCollections, a STAC API query or a folder of GeoTIFFs.

    TARGET is a file or folder path, or an http(s) URL (a STAC item, collection or an API
    search URL such as https://host/api/search?collections=…&bbox=…&datetime=…).
    """
    from terralab.catalog.index import CatalogIndex, default_index_path
    from terralab.catalog.ingest import IngestError
    from terralab.catalog.ingest import ingest as run_ingest

    home = (home or terralab_home()).resolve()
    index = CatalogIndex(default_index_path(home))
    try:
        report = run_ingest(target, index=index, owner=owner, collection=collection,
                            max_items=max_items)
    except IngestError as error:
        raise click.ClickException(str(error)) from None
    finally:
        index.close()
    click.echo(str(report))


@catalog.command()
@click.option("--source", help="Catalog source (default: embedded).")
@_HOME
def collections(source: str | None, home: Path | None) -> None:
    """List the collections of the catalog source."""
    from terralab.catalog.sources import get_source
    from terralab.products import get as get_product

    for entry in get_source(source, home=(home or terralab_home()).resolve()).collections():
        title = entry.get("title") or entry.get("description")
        if not title:
            try:
                title = get_product(entry.get("id", "")).title
            except KeyError:
                title = ""
        click.echo(f"{entry.get('id', ''):20}  {entry.get('count', '')!s:>8}  {title}")
