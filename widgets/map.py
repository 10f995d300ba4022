"""The terralab map: an ``ipyleaflet.Map`` with basemaps, one ``add()`` and a drawn AOI.

In a notebook::

    from terralab.widgets import Map
    import terralab as tl

    m = Map()                                   # offline blank basemap + graticule
    found = tl.search(admin="德清县", collections="sentinel-2-l2a")
    m.add(found[0], bands="B08,B04,B03", rescale="0,0.3")   # the map opens on it
    m.add(found.gdf, name="footprints", color="orange")
    m.add_basemap("tianditu-img")               # needs $TIANDITU_TOKEN
    m                                           # draw a polygon, then:
    m.aoi                                       # shapely geometry of the last drawn shape
    m.save_aoi("my area")                       # the drawn shapes, as a layer of my data
    m.edit(record)                              # edit a polygon layer of my data

Rasters (catalog items, my-data records, tool results, files, DataArrays, localtileserver
``TileClient`` objects) are tile layers on the user's own Jupyter server
(:mod:`terralab.widgets.tile_urls`); vectors are GeoJSON layers with popups
(:mod:`terralab.widgets.vectors`); class maps (water masks, land cover, change masks) get
their class colours over a transparent background (:mod:`terralab.widgets.map_data`). The
map stays small on purpose: panels (layers, legend, swipe, inspector …) are separate
controls; the map only has short methods that attach them (``swipe``, ``add_layer_manager``,
``add_legend``, ``add_inspector``, ``add_time_slider``, ``add_search_panel``, ``edit``).

A map made without ``center`` and ``zoom`` opens on its data: the first layer added whose
bounds are known (an item, a record, a result, a file, an array, a vector) sets the view to
it; ``m.fit(layer_or_data)`` does the same at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipyleaflet
from ipyleaflet import DrawControl, GeoJSON, Layer
from shapely.geometry.base import BaseGeometry
from traitlets import Unicode, validate

from terralab.widgets.aoi import AoiTracker
from terralab.widgets.basemaps import DEFAULT_BASEMAP, basemap_layers
from terralab.widgets.inspector import Inspector
from terralab.widgets.layer_manager import LatLonBounds, LayerManager, find_control, fit_map
from terralab.widgets.legend import Legend
from terralab.widgets.map_data import data_bounds, layer_for
from terralab.widgets.search_panel import SearchPanel, search_layout, show
from terralab.widgets.swipe import Swipe, swipe_control
from terralab.widgets.switcher import BasemapSwitcher
from terralab.widgets.tile_urls import tile_base_url
from terralab.widgets.time_slider import TimeSlider
from terralab.widgets.vector_editor import VectorEditor
from terralab.widgets.vectors import geojson_layer

__all__ = ["Map"]

_AOI_STYLE = {"color": "#e4572e", "weight": 2, "fillColor": "#e4572e", "fillOpacity": 0.1}
#: maps shorter than this (pixels) get the search panel beside them, not on them
SIDE_PANEL_BELOW = 640


class Map(ipyleaflet.Map):
    """An ipyleaflet map with terralab's basemaps, layers and drawn area of interest.

    Args:
        basemap: a basemap name (``"blank"``, ``"osm"``, ``"tianditu-vec"``,
            ``"tianditu-img"``); ``"blank"`` needs no network.
        tianditu_token: the Tianditu key (default ``$TIANDITU_TOKEN``).
        tile_base_url: the base URL of the server serving the tiles (see
            :func:`~terralab.widgets.tile_urls.tile_base_url`).
        draw: add a draw control (polygons, rectangles, circles) that sets :attr:`aoi`.
        switcher: add the basemap switcher.
        fit: open on the first data layer added (default: when neither ``center`` nor
            ``zoom`` is given).
        **kwargs: ``center``, ``zoom`` and other ``ipyleaflet.Map`` options.
    """

    basemap_name = Unicode(DEFAULT_BASEMAP, help="the basemap shown (a registry name)")

    def __init__(self, *, basemap: str = DEFAULT_BASEMAP, tianditu_token: str | None = None,
                 tile_base_url: str | None = None, draw: bool = True, switcher: bool = True,
                 fit: bool | None = None, **kwargs: Any) -> None:
        self._before_layers: list[Callable[[tuple[Layer, ...]], None]] = []
        self._fit_first = fit if fit is not None else not ({"center", "zoom"} & set(kwargs))
        layers = basemap_layers(basemap, token=tianditu_token)
        kwargs.setdefault("center", (30.5, 120.0))
        kwargs.setdefault("zoom", 4)
        kwargs.setdefault("scroll_wheel_zoom", True)
        super().__init__(layers=tuple(layers), **kwargs)
        self.tianditu_token = tianditu_token
        self.tile_base_url = tile_base_url
        self.basemap_name = basemap
        self._basemap_layers: list[Layer] = list(layers)
        self.switcher: BasemapSwitcher | None = None
        self.draw_control: DrawControl | None = None
        self._aoi = AoiTracker()
        if switcher:
            self.switcher = BasemapSwitcher(self)
            self.add(self.switcher)
        if draw:
            self.draw_control = DrawControl(
                polygon={"shapeOptions": _AOI_STYLE}, rectangle={"shapeOptions": _AOI_STYLE},
                circle={"shapeOptions": _AOI_STYLE}, polyline={}, circlemarker={}, marker={})
            self._aoi.attach(self.draw_control)
            self.add(self.draw_control)

    # ----------------------------------------------------------------- the view
    def fit(self, target: Any, *, max_zoom: int | None = None) -> LatLonBounds:
        """Centre and zoom the map on a layer or on data; returns the bounds used.

        Args:
            target: a layer, ``(west, south, east, north)``, ``[[south, west], [north,
                east]]``, a shapely geometry, a GeoDataFrame, a search result, a catalog
                item, a my-data record, a tool's result or a localtileserver ``TileClient``.
            max_zoom: the closest zoom to use (default: the map's ``max_zoom``, else 18).

        Raises:
            ValueError: when the bounds of ``target`` are not known.
        """
        bounds = data_bounds(target)
        if bounds is None:
            raise ValueError(f"the bounds of this {type(target).__name__} are not known")
        fit_map(self, bounds, max_zoom=max_zoom)
        self._fit_first = False
        return bounds

    def fit_bounds(self, bounds: LatLonBounds) -> None:
        """Centre and zoom on ``[[south, west], [north, east]]`` at once.

        ipyleaflet's own version zooms a level per round trip with the browser.
        """
        self.fit(bounds)

    def before_layers_change(self, callback: Callable[[tuple[Layer, ...]], None], *,
                             remove: bool = False) -> None:
        """Call ``callback(new_layers)`` just before ``m.layers`` changes (or stop calling it).

        The browser hears of what the callback changes (a control taken off) before it
        hears of the new layers; the swipe uses it to let go of its two layers in time.
        """
        if callback in self._before_layers:
            self._before_layers.remove(callback)
        if not remove:
            self._before_layers.append(callback)

    @validate("layers")
    def _validate_layers(self, proposal: Any) -> Any:
        value = super()._validate_layers(proposal)
        for callback in list(getattr(self, "_before_layers", ())):
            callback(tuple(value))
        return value

    def _fit_on(self, layer: Layer) -> None:
        """Open the view on the first data layer with known bounds."""
        if self._fit_first and not getattr(layer, "base", False) and data_bounds(layer):
            self.fit(layer)

    # ----------------------------------------------------------------- basemaps
    def add_basemap(self, name: str) -> None:
        """Show basemap ``name`` instead of the current one (below every other layer).

        Raises:
            BasemapError: for an unknown name or a Tianditu basemap without a key.
        """
        new = basemap_layers(name, token=self.tianditu_token)
        kept = [layer for layer in self.layers if layer not in self._basemap_layers]
        self.layers = tuple(new) + tuple(kept)
        self._basemap_layers = list(new)
        self.basemap_name = name
        if self.switcher is not None:
            self.switcher.sync(name)

    # ----------------------------------------------------------------- panels
    def swipe(self, left: Layer | str | None = None,
              right: Layer | str | None = None) -> Swipe | None:
        """Compare two data layers (layers or names) with a divider; ``swipe(None)``: off.

        The swipe chooser (:class:`~terralab.widgets.swipe.Swipe`) is added on the first
        call and returned. Raises ValueError for unknown layers or a missing ``right``.
        """
        if left is None:
            self.unswipe()
            return swipe_control(self, create=False)
        if right is None:
            raise ValueError("swipe needs two layers: m.swipe(left, right)")
        control = swipe_control(self, create=False)
        if control is not None:
            control.start(left, right)
            return control
        control = Swipe(self)
        try:
            control.start(left, right)  # checks the layers before the chooser is shown
        except ValueError:
            control.detach()
            raise
        self.add(control)
        return control

    def unswipe(self) -> None:
        """Switch the swipe off, putting its two layers back."""
        control = swipe_control(self, create=False)
        if control is not None:
            control.stop()

    def add_layer_manager(self, position: str = "topright") -> LayerManager:
        """Add (once) and return the layer manager panel."""
        control = find_control(self, LayerManager)
        if control is None:
            control = LayerManager(self, position=position)
            self.add(control)
        return control

    def add_legend(self, classes: Any = None, **options: Any) -> Legend:
        """Add and return a legend: classes or a colorbar.

        See :class:`~terralab.widgets.legend.Legend` (``colormap``, ``vmin``, ``vmax``,
        ``rescale``, ``title``, ``position``).
        """
        legend = Legend(classes, **options)
        self.add(legend)
        return legend

    def add_inspector(self, position: str = "bottomright") -> Inspector:
        """Add (once) and return the pixel inspector: click to read the rasters' bands."""
        control = find_control(self, Inspector)
        if control is None:
            control = Inspector(self, position=position)
            self.add(control)
        return control

    def add_time_slider(self, stack: Any, name: str = "Time series",
                        **style: Any) -> TimeSlider:
        """Add one raster layer stepping through ``stack`` (dated items, records, paths).

        See :class:`~terralab.widgets.time_slider.TimeSlider` (``interval``, ``position``
        and the raster style). Returns the slider control; its layer is ``.layer``.
        """
        control = TimeSlider(self, stack, name=name, **style)
        self.add(control.layer)
        self.add(control)
        return control

    def add_search_panel(self, position: str | None = None, **options: Any) -> SearchPanel:
        """Add (once) and return the catalog search panel.

        Args:
            position: ``"side"``: the panel in its own scrolling column beside the map
                (an ``HBox`` shown in the cell's output, also as ``panel.side_layout``);
                a corner (``"topright"`` …): in a control on this map. Default: beside a
                map shorter than 640 pixels (every control stays reachable), else on it.
            **options: :class:`~terralab.widgets.search_panel.SearchPanel`'s options
                (``home``, ``limit``, ``page_size``, ``thumbnails``, ``download_dir``,
                ``lang``).
        """
        for control in self.controls:
            if isinstance(getattr(control, "widget", None), SearchPanel):
                return control.widget
        if getattr(self, "_side_panel", None) is not None:
            return self._side_panel
        height = str(self.layout.height or "")
        tall = height.endswith("px") and float(height[:-2] or 0) >= SIDE_PANEL_BELOW
        panel = SearchPanel(self, **options)
        if (position or ("topright" if tall else "side")) != "side":
            self.add(ipyleaflet.WidgetControl(widget=panel, position=position or "topright"))
            return panel
        self._side_panel = panel
        show(search_layout(self, panel))
        return panel

    # ----------------------------------------------------------------- the AOI
    @property
    def aoi(self) -> BaseGeometry | None:
        """The last shape drawn and still on the map, as edited (shapely, WGS84), or None."""
        return self._aoi.geometry

    @property
    def aoi_geojson(self) -> dict[str, Any] | None:
        """The same AOI as a GeoJSON geometry dict, or None."""
        feature = self._aoi.feature
        return dict(feature["geometry"]) if feature else None

    def on_aoi_change(self, callback: Any) -> None:
        """Call ``callback(aoi)`` (a shapely geometry or None) when the AOI may have changed."""
        self._aoi.on_change(callback)

    def clear_aoi(self) -> None:
        """Remove every drawn shape."""
        if self.draw_control is not None:
            self.draw_control.clear()
            self.draw_control.data = []
        self._aoi.clear()

    def save_aoi(self, title: str = "Drawn area", *, everything: bool = True) -> Any:
        """Save the drawn shapes to my data as a vector layer (GeoJSON, WGS84).

        Args:
            title: the name the layer gets in my data.
            everything: all shapes still on the map (default), else only the AOI.

        Returns:
            The new my-data record (an upload: checked, published, counted in storage).

        Raises:
            ValueError: when nothing is drawn.
        """
        import tempfile

        import geopandas
        from shapely.geometry import shape

        from terralab.client.mydata import upload

        features = list(self._aoi.shapes) if everything else [self._aoi.feature]
        features = [f for f in features if f]
        if not features:
            raise ValueError("nothing is drawn: draw a polygon, rectangle or circle on the map "
                             "first")
        frame = geopandas.GeoDataFrame(
            {"shape": list(range(1, len(features) + 1))},
            geometry=[shape(f["geometry"]) for f in features], crs="EPSG:4326")
        with tempfile.TemporaryDirectory(prefix="terralab-aoi-") as folder:
            path = Path(folder) / "drawn-area.geojson"
            frame.to_file(path, driver="GeoJSON")
            return upload(path, title=title)

    # ----------------------------------------------------------------- editing
    def edit(self, layer: Any, *, position: str = "topright", zoom: bool = True,
             **style: Any) -> VectorEditor:
        """Edit a polygon layer of my data here; each change is saved at once.

        Args:
            layer: a vector item id of my data, its record, or an open ``VectorLayer``.
            position: the corner of the editing panel.
            zoom: zoom the map to the layer.
            **style: Leaflet path options of the edited polygons.

        Returns:
            The :class:`~terralab.widgets.vector_editor.VectorEditor` (``undo()``,
            ``stop()``); a layer already under edit is stopped first.
        """
        for control in list(self.controls):
            if isinstance(control, VectorEditor):
                control.stop()
        editor = VectorEditor(self, layer, position=position, style=style)
        self.add(editor.draw)
        self.add(editor)
        bounds = editor.bounds() if zoom else None
        if bounds is not None:
            self.fit_bounds([list(bounds[0]), list(bounds[1])])
        return editor

    # ----------------------------------------------------------------- layers
    def add(self, obj: Any, name: str | None = None, index: int | None = None,
            **style: Any) -> Any:
        """Add data (or, as ipyleaflet does, a layer or control) and return the new layer.

        Args:
            obj: a catalog item (pystac Item or STAC dict), a my-data record, a tool result,
                a search result (its footprints), a file path (raster, or a vector file by
                suffix), ``"item:ID"``, an ``xarray.DataArray``, a localtileserver
                ``TileClient`` (its file, on terralab's tiles), a GeoDataFrame / GeoSeries,
                GeoJSON or a shapely geometry; or an ipyleaflet layer or control.
            name: the layer's name (default: derived from the data).
            index: the position in the layer list (ipyleaflet's meaning).
            **style: rasters: ``bands``, ``rescale``, ``colormap``, ``nodata``, ``tilesize``,
                ``opacity``, ``asset`` (items), ``classes`` (``{value: (name, colour)}``: a
                class map in these colours, other values transparent; ``False``: no class
                colours for a result that is a class map); vectors: Leaflet path options
                (``color``, ``weight``, ``fillColor``, ``fillOpacity`` …) and
                ``popups=False``.

        Raises:
            TypeError: for an object the map cannot show, or a style it does not take.
            ValueError: for a file outside the user's folder or an array without a CRS.
        """
        if isinstance(name, int) and not isinstance(name, bool):  # ipyleaflet's add(item, 0)
            name, index = None, name
        if isinstance(obj, (Layer, ipyleaflet.Control)) or (
                isinstance(obj, Mapping) and "url" in obj and "type" not in obj):
            if style or name:
                raise TypeError("name and style go with data, not with a ready-made layer")
            added = super().add(obj, index) if index is not None else super().add(obj)
            if isinstance(obj, Layer):
                self._fit_on(obj)
            return added
        layer = self._layer_for(obj, name, style)
        if index is None:
            super().add(layer)
        else:
            super().add(layer, index)
        self._fit_on(layer)
        return layer

    def _layer_for(self, obj: Any, name: str | None, style: dict[str, Any]) -> Layer:
        """The layer showing ``obj`` (:func:`terralab.widgets.map_data.layer_for`)."""
        return layer_for(obj, name, style, base_url=self.tile_base_url)

    def tile_base(self) -> str:
        """The base URL the map's raster tiles are requested under."""
        return tile_base_url(self.tile_base_url)

    def aoi_layer(self) -> GeoJSON | None:
        """A GeoJSON layer of the AOI (to keep it after the draw control is cleared)."""
        feature = self._aoi.feature
        return geojson_layer(feature, name="AOI", **_AOI_STYLE) if feature else None
