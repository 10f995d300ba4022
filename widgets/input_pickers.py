"""Pickers of a tool form's data inputs: my data, catalog results, project layers, the map.

A tool's data inputs are the parameters its schema marks ``terralab:input`` (``raster``,
``rasters``, ``vector``; :mod:`terralab.tools.base`). :class:`InputSources` gathers what may
fill them, newest first:

- **my data**: my uploads and results (``tl.my_data()``), rasters or vectors;
- **catalog**: the items of the current search, which the page hands over
  (:meth:`InputSources.set_catalog_items`);
- **project**: the layers of the current project (:meth:`InputSources.set_project`);
- **map**: the area drawn on the form's map (``map.aoi``), for vector inputs; it is sent to
  the tool as GeoJSON.

Only what fits is offered: rasters for raster inputs, vectors (and the drawn area) for
vector inputs, and images with the bands the tool needs with its current parameters
(:meth:`terralab.tools.base.Tool.required_bands`; an image whose bands are unknown is
offered). :class:`InputPicker` picks one (a dropdown), :class:`MultiInputPicker` several (a
multi-select, for a stack of images).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipywidgets import HTML, Dropdown, Layout, SelectMultiple

from terralab.widgets.i18n import pick

__all__ = ["AOI", "Choice", "InputPicker", "InputSources", "MultiInputPicker", "band_names",
           "catalog_neighbours", "fits_bands"]

log = logging.getLogger(__name__)

AOI = "map:aoi"
"""The value of the "area drawn on the map" choice; the form sends the area's GeoJSON."""

_SOURCES = {"mydata": ("My data", "我的数据"), "catalog": ("Catalog", "目录"),
            "project": ("Project", "项目"), "map": ("Map", "地图"), "given": ("Chosen", "已选")}


@dataclass(frozen=True)
class Choice:
    """One dataset a picker offers.

    Attributes:
        ref: what the tool receives: an item id (my data or catalog), or :data:`AOI`.
        label: the text shown (without the source).
        kind: ``"raster"`` or ``"vector"``.
        source: ``"mydata"``, ``"catalog"``, ``"project"``, ``"map"`` or ``"given"``.
        bands: the band names it is known to have (lower case), or None when unknown.
        data: the record or STAC item (what the map shows), or None.
    """

    ref: str
    label: str
    kind: str
    source: str
    bands: frozenset[str] | None = None
    data: Any = None

    def text(self, lang: str | None = None) -> str:
        """The label with its source, in ``lang``: ``我的数据 · field.tif``."""
        english, chinese = _SOURCES.get(self.source, (self.source, self.source))
        return f"{pick(english, chinese, lang)} · {self.label}"


def _item_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "to_dict"):
        try:
            return item.to_dict(transform_hrefs=False)
        except TypeError:
            return item.to_dict()
    raise TypeError(f"not a STAC item: {type(item).__name__}")


def band_names(item: Mapping[str, Any]) -> frozenset[str] | None:
    """The band names (keys and common names, lower case) of a STAC item, or None.

    A registered collection's bands come from its product conventions (the bands whose
    asset the item has); any other item's from its assets' ``eo:bands``.
    """
    names: set[str] = set()
    assets = item.get("assets") or {}
    if item.get("collection"):
        try:
            from terralab.products import for_item

            product = for_item(item)
            for key, band in product.bands.items():
                if band.asset in assets:
                    names.add(key.lower())
                    if band.common_name:
                        names.add(band.common_name.lower())
        except (KeyError, ValueError, TypeError):
            names = set()
    for asset in assets.values():
        for band in asset.get("eo:bands") or []:
            for key in ("name", "common_name"):
                if band.get(key):
                    names.add(str(band[key]).lower())
    return frozenset(names) if names else None


def fits_bands(bands: frozenset[str] | None, required: Sequence[str]) -> bool:
    """True when ``bands`` has every required band (``"a|b"``: either); unknown bands fit."""
    if bands is None or not required:
        return True
    return all(any(name.strip().lower() in bands for name in need.split("|"))
               for need in required)


def _catalog_label(item: Mapping[str, Any]) -> str:
    props = item.get("properties") or {}
    parts = [str(item.get("collection") or "")]
    when = str(props.get("datetime") or props.get("start_datetime") or "")[:10]
    if when:
        parts.append(when)
    cloud = props.get("eo:cloud_cover")
    if isinstance(cloud, int | float):
        parts.append(f"☁ {cloud:.0f}%")
    details = ", ".join(part for part in parts if part)
    return f"{item.get('id')} ({details})" if details else str(item.get("id"))


def catalog_neighbours(item_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The catalog item ``item_id`` and the other items of its collection over its place.

    What a form offers for an item sent from another page: the other date of a pair, the
    other scenes of a stack, another scene to compare. The search goes where ``tl.search``
    goes (the hub service inside a hub).

    Args:
        item_id: a catalog item's id.
        limit: the most neighbours (newest first); the item itself is always first.

    Returns:
        STAC item dicts, or ``[]`` when the catalog has no such item.
    """
    from terralab.catalog.sources import get_source
    from terralab.client.catalog import search

    item = get_source().get_item(item_id)
    if item is None:
        return []
    item = _item_dict(item)
    found: list[dict[str, Any]] = [item]
    if item.get("geometry") and item.get("collection"):
        result = search(geometry=item["geometry"], collections=[str(item["collection"])],
                        limit=limit)
        found += [_item_dict(other) for other in result
                  if str(_item_dict(other).get("id")) != item_id]
    return found


class InputSources:
    """Everything the pickers of one form may offer.

    Args:
        map: the form's map (its drawn area is offered for vector inputs), or None.
        lang: the language of the labels.
        my_data: returns my data records (default ``tl.my_data``; tests pass their own).
    """

    def __init__(self, *, map: Any = None, lang: str | None = None,
                 my_data: Callable[[], Iterable[Any]] | None = None) -> None:
        self.map = map
        self.lang = lang
        self._my_data_call = my_data
        self._records: list[Any] | None = None
        self.catalog_items: list[dict[str, Any]] = []
        self.project_id: str | None = None
        self.project_layers: list[Any] = []
        self.problems: list[str] = []

    # ------------------------------------------------------------------ what is there
    def records(self) -> list[Any]:
        """My data records (read once; :meth:`refresh` reads them again)."""
        if self._records is None:
            try:
                call = self._my_data_call
                if call is None:
                    from terralab.client.mydata import my_data as call
                self._records = list(call())
            except Exception as error:  # the page stays usable without my data
                log.warning("my data could not be listed: %s", error)
                self.problems.append(pick(f"My data could not be listed: {error}",
                                          f"无法列出我的数据：{error}", self.lang))
                self._records = []
        return self._records

    def refresh(self) -> None:
        """Read my data (and the project's layers) again."""
        self._records = None
        if self.project_id:
            self.set_project(self.project_id)

    def set_catalog_items(self, items: Any) -> None:
        """Offer these catalog items (a search result, pystac Items or STAC dicts)."""
        if hasattr(items, "items") and not isinstance(items, Mapping):
            items = items.items  # a catalog SearchResult
            items = items() if callable(items) else items
        self.catalog_items = [_item_dict(item) for item in (items or [])]

    def offer_neighbours(self, item_id: str) -> bool:
        """Offer catalog item ``item_id`` and the other scenes of its place, first.

        See :func:`catalog_neighbours`; the catalog items offered so far follow them.

        Returns:
            True when the catalog knows the item (the pickers should refresh).
        """
        try:
            found = catalog_neighbours(item_id)
        except Exception as error:  # the item is still offered as it was given
            log.warning("the catalog's items near %s could not be listed: %s", item_id, error)
            return False
        known = {str(item.get("id")) for item in found}
        self.catalog_items = [*found, *(item for item in self.catalog_items
                                        if str(item.get("id")) not in known)]
        return bool(found)

    def set_project(self, project_id: str | None) -> None:
        """Offer the layers of this project (None: no project)."""
        self.project_id = project_id
        self.project_layers = []
        if not project_id:
            return
        try:
            from terralab.client.projects import open as open_project

            project = open_project(project_id)
            self.project_id = project.id
            self.project_layers = [layer for layer in project.layers if not layer.missing]
        except Exception as error:
            log.warning("project %s could not be opened: %s", project_id, error)
            self.problems.append(pick(f"The project could not be opened: {error}",
                                      f"无法打开项目：{error}", self.lang))

    # ------------------------------------------------------------------ choices
    def choices(self, kind: str, required: Sequence[str] = ()) -> list[Choice]:
        """What fits an input of ``kind`` (``raster`` / ``vector``) needing ``required``."""
        found: dict[str, Choice] = {}
        by_id = {record.id: record for record in self.records()}
        for record in self.records():
            if record.data_type == kind:
                self._offer(found, Choice(record.id, record.title or record.id, kind,
                                          "mydata", band_names(record.item), record))
        if kind == "raster":
            for item in self.catalog_items:
                self._offer(found, Choice(str(item["id"]), _catalog_label(item), kind,
                                          "catalog", band_names(item), item))
        for layer in self.project_layers:
            record = by_id.get(layer.ref)
            layer_kind = record.data_type if record is not None else "raster"
            if layer_kind == kind:
                self._offer(found, Choice(layer.ref, layer.title or layer.ref, kind, "project",
                                          band_names(record.item) if record else None,
                                          record))
        if kind == "vector" and self.map is not None:
            self._offer(found, Choice(AOI, pick("the area drawn on the map",
                                                "地图上绘制的区域", self.lang), kind, "map"))
        return [choice for choice in found.values() if fits_bands(choice.bands, required)]

    @staticmethod
    def _offer(found: dict[str, Choice], choice: Choice) -> None:
        found.setdefault(choice.ref, choice)

    def find(self, ref: str) -> Choice | None:
        """The choice of ``ref`` among everything there is (any kind, any bands)."""
        for kind in ("raster", "vector"):
            for choice in self.choices(kind):
                if choice.ref == ref:
                    return choice
        return None

    def aoi(self) -> dict[str, Any] | None:
        """The GeoJSON of the area drawn on the map, or None."""
        if self.map is None:
            return None
        return getattr(self.map, "aoi_geojson", None)


def _hint(lang: str | None) -> HTML:
    """The line a picker shows while it has nothing to offer."""
    text = pick("Nothing to choose yet: find images on the Search page or upload your own "
                "in My data, then send them to this tool.",
                "暂无可选数据：请先在“数据”页搜索影像，或在“我的数据”中上传，"
                "再发送到此工具。", lang)
    hint = HTML(f"<div style='color:#8a6d3b;font-size:12px'>{text}</div>",
                layout=Layout(display="none"))
    hint.add_class("tl-picker-empty")
    return hint


def _show_hint(picker: Any) -> None:
    picker.hint.layout.display = "none" if picker.choices else ""


class InputPicker(Dropdown):
    """A dropdown choosing one dataset for a ``raster`` or ``vector`` input.

    Its ``value`` is the chosen reference, or ``""`` while "— choose —" is shown.

    Args:
        sources: where the choices come from.
        kind: ``raster`` or ``vector``.
        lang: the language of the labels.
    """

    def __init__(self, sources: InputSources, kind: str, *, lang: str | None = None,
                 **kwargs: Any) -> None:
        self.sources, self.kind, self.lang = sources, kind, lang
        self.required: tuple[str, ...] = ()
        self.choices: list[Choice] = []
        self._extra: list[Choice] = []
        self.hint = _hint(lang)
        kwargs.setdefault("layout", Layout(width="auto", flex="1 1 auto", min_width="0"))
        super().__init__(options=[], **kwargs)
        self.refresh()

    def _placeholder(self) -> tuple[str, str]:
        return (pick("— choose —", "— 请选择 —", self.lang), "")

    def refresh(self, required: Sequence[str] | None = None) -> None:
        """Offer what fits now, keeping the selection when it still fits."""
        if required is not None:
            self.required = tuple(required)
        current = self.value
        fitting = self.sources.choices(self.kind, self.required)
        known = {choice.ref for choice in fitting}
        extra = [choice for choice in self._extra if choice.ref not in known
                 and fits_bands(choice.bands, self.required)]
        self.choices = extra + fitting
        self.options = [self._placeholder()] + [(c.text(self.lang), c.ref) for c in self.choices]
        refs = {choice.ref for choice in self.choices}
        self.value = current if current in refs else ""
        _show_hint(self)

    @property
    def ref(self) -> str | None:
        """The chosen dataset's reference, or None while "— choose —" is shown."""
        return self.value or None

    def select(self, ref: str) -> bool:
        """Choose ``ref``; False when it does not fit this input.

        An id that no source lists (a catalog item sent from another page) is added as
        "chosen".
        """
        choice = self.sources.find(ref) or Choice(ref, ref, self.kind, "given")
        if choice.kind != self.kind or not fits_bands(choice.bands, self.required):
            return False
        if ref not in {c.ref for c in self.choices}:
            self._extra.insert(0, Choice(ref, choice.label, self.kind, "given", choice.bands,
                                         choice.data))
            self.refresh()
        self.value = ref
        return True

    @property
    def choice(self) -> Choice | None:
        """The chosen dataset, or None."""
        return next((c for c in self.choices if c.ref == self.value), None)


class MultiInputPicker(SelectMultiple):
    """A multi-select choosing several rasters (a stack, a mosaic's images), in order."""

    def __init__(self, sources: InputSources, kind: str = "raster", *,
                 lang: str | None = None, **kwargs: Any) -> None:
        self.sources, self.kind, self.lang = sources, kind, lang
        self.required: tuple[str, ...] = ()
        self.choices: list[Choice] = []
        self.hint = _hint(lang)
        kwargs.setdefault("layout", Layout(width="auto", flex="1 1 auto", min_width="0",
                                           height="120px"))
        super().__init__(options=[], **kwargs)
        self.refresh()

    def refresh(self, required: Sequence[str] | None = None) -> None:
        """Offer what fits now, keeping the chosen ones that still fit."""
        if required is not None:
            self.required = tuple(required)
        current = tuple(self.value)
        self.choices = self.sources.choices(self.kind, self.required)
        self.options = [(choice.text(self.lang), choice.ref) for choice in self.choices]
        refs = {choice.ref for choice in self.choices}
        self.value = tuple(ref for ref in current if ref in refs)
        _show_hint(self)

    def select(self, ref: str) -> bool:
        """Add ``ref`` to the chosen ones; False when no source offers it here."""
        if ref not in {choice.ref for choice in self.choices}:
            return False
        self.value = (*self.value, ref) if ref not in self.value else tuple(self.value)
        return True
