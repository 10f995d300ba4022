"""Layer references: checked when a layer is added, looked up again when a project is read.

A layer points at an item of the owner's data (``source="my-data"``, checked with
:func:`terralab.mydata.store.get_record`) or at a catalog item (``source="catalog"``: the
embedded index, the owner's own items included, then the configured catalog source). Only
the reference is kept: the project never copies data. When a my-data item is deleted later,
the project still opens and its layer is reported ``missing``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from terralab.projects.errors import ProjectError
from terralab.projects.model import MY_DATA, SOURCES, check_layer_changes

__all__ = ["catalog_item", "checked_layer", "missing_refs"]


def catalog_item(owner: str, item_id: str, collection: str | None = None, *,
                 home: Path | None = None) -> dict[str, Any] | None:
    """Return the catalog item ``item_id`` that ``owner`` may see, or None.

    The embedded index (public items and the owner's own) answers first; then the
    configured catalog source (a STAC API or pgstac), when it is not the embedded index.
    """
    from terralab.catalog.index import CatalogIndex, default_index_path
    from terralab.catalog.sources import EmbeddedSource, get_source

    index = CatalogIndex(default_index_path(home))
    try:
        found = index.lookup(item_id, collection=collection, owner=owner)
    finally:
        index.close()
    if found is not None:
        return found[0]
    source = get_source(None, home=home)
    if isinstance(source, EmbeddedSource):
        source.index.close()
        return None
    return source.get_item(item_id, collection)


def _check_asset(item: dict[str, Any], asset: str | None, ref: str) -> None:
    assets = item.get("assets") or {}
    if asset is not None and asset not in assets:
        raise ProjectError(f"item {ref!r} has no asset {asset!r}; its assets: "
                           f"{', '.join(sorted(assets)) or 'none'}")


def checked_layer(owner: str, ref: Any, *, source: str | None = None,
                  collection: str | None = None, asset: str | None = None,
                  title: str | None = None, visible: bool | None = None,
                  opacity: float | None = None, style: dict[str, Any] | None = None,
                  home: Path | None = None) -> dict[str, Any]:
    """Check a new layer's reference and settings; return the layer to store.

    Args:
        owner: the project's owner (whose data the reference may point at).
        ref: a my-data id or a catalog item id.
        source: ``"my-data"`` or ``"catalog"``; None = my data when the owner has such an
            item, else the catalog.
        collection: the catalog collection (speeds up the look-up; needed when two
            collections hold the same id).
        asset: the asset to show; None = the item's default.
        title: the name in the layer list (default: the item's title, else its id).
        visible: shown on the map (default True).
        opacity: 0…1 (default 1).
        style: display settings for the map (default none).
        home: the terralab data folder.

    Raises:
        ProjectError: for an item the owner has no access to, an unknown asset or a bad
            setting.
    """
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 255:
        raise ProjectError(f"a layer refers to an item id, not {ref!r}")
    if source not in (None, *SOURCES):
        raise ProjectError(f"a layer's source is 'my-data' or 'catalog', not {source!r}")
    settings = check_layer_changes(title=title, visible=visible, opacity=opacity, style=style)
    if asset is not None and (not isinstance(asset, str) or not asset):
        raise ProjectError(f"an asset is named by its key, not {asset!r}")
    layer: dict[str, Any] = {"ref": ref, "asset": asset, "visible": True, "opacity": 1.0,
                             "style": {}}
    if source == MY_DATA or (source is None and collection in (None, MY_DATA)):
        from terralab.mydata.store import get_record

        record = get_record(owner, ref, home=home)
        if record is not None:
            _check_asset(record.item, asset, ref)
            return {**layer, "source": MY_DATA, "collection": MY_DATA, "title": record.title,
                    **settings}
        if source == MY_DATA or collection == MY_DATA:
            raise ProjectError(f"you have no item {ref!r} in my data")
    item = catalog_item(owner, ref, collection, home=home)
    if item is None or item.get("collection") == MY_DATA:
        where = "the catalog" if source == "catalog" else "my data or the catalog"
        raise ProjectError(f"no item {ref!r}{f' in {collection}' if collection else ''} "
                           f"in {where}")
    _check_asset(item, asset, ref)
    name = (item.get("properties") or {}).get("title") or ref
    return {**layer, "source": "catalog", "collection": item.get("collection") or collection,
            "title": name, **settings}


def missing_refs(owner: str, layers: list[dict[str, Any]], *,
                 home: Path | None = None) -> set[str]:
    """Return the refs of the my-data layers whose item the owner no longer has.

    Catalog layers are not looked up again (a remote catalog would cost a request each).
    """
    refs = {layer["ref"] for layer in layers if layer.get("source") == MY_DATA}
    if not refs:
        return set()
    from terralab.mydata.store import get_record

    return {ref for ref in refs if get_record(owner, ref, home=home) is None}
