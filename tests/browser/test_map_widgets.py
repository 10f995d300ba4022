"""The map widgets in JupyterLab served by the test hub, driven by mouse in real Chromium.

Each test writes a notebook into demo's folder, runs it in JupyterLab and works the map
with the mouse as a person would: the swipe divider, drawing a rectangle that the search
panel searches, dragging a vertex of a polygon layer under edit. Screenshots land in
tests/artifacts/.
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from contextlib import closing

import numpy as np
import pyogrio
import pytest

from tests.browser.lab import Lab, picture

pytestmark = [pytest.mark.browser, pytest.mark.hub]

CENTER = (30.595, 119.9265)  # the middle of the demo region (119.913–119.94 E, 30.583–30.607 N)


@pytest.fixture
def lab(hub, chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield Lab(page, hub, "demo")
    context.close()


def web_mercator_pixel(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """The global pixel of a point at ``zoom`` (256-pixel tiles), as Leaflet computes it."""
    scale = 256 * 2 ** zoom
    x = (lon + 180) / 360 * scale
    sin = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


def lonlat_of_pixel(x: float, y: float, zoom: int) -> tuple[float, float]:
    """The inverse of :func:`web_mercator_pixel`."""
    scale = 256 * 2 ** zoom
    lon = x / scale * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))
    return lon, lat


def band(image: np.ndarray, x0: float, x1: float) -> np.ndarray:
    """The pixels of columns x0…x1 (fractions of the width), rows 45–85 % of the height."""
    height, width = image.shape[:2]
    return image[int(0.45 * height):int(0.85 * height), int(x0 * width):int(x1 * width)]


def test_swipe_divider_shows_two_different_layers(lab, artifacts):
    lab.write_notebook("map-swipe.ipynb", [
        "import terralab as tl\n"
        "from terralab.widgets import Map\n"
        "optical = tl.search(collections='sentinel-2-l2a', limit=1)[0]\n"
        "radar = tl.search(collections='sentinel-1-grd', limit=1)[0]\n"
        f"m = Map(center={CENTER}, zoom=16, layout={{'height': '480px'}}, switcher=False,\n"
        "        draw=False)\n"
        "left = m.add(optical, name='optical', bands='B04,B03,B02', rescale='0,0.3')\n"
        "right = m.add(radar, name='radar', bands='vv', rescale='-25,0', colormap='magma')\n"
        "m.swipe(left, right)\n"
        "m",
    ])
    lab.open("map-swipe.ipynb")
    lab.run(0)
    page = lab.page
    the_map = lab.cell(0).locator(".leaflet-container")
    divider = the_map.locator(".leaflet-sbs-divider")
    divider.wait_for()
    lab.wait_for_tiles(the_map, minimum=4)
    box = the_map.bounding_box()
    before = picture(the_map, artifacts / "map-swipe-before.png")
    start = divider.bounding_box()
    x0 = start["x"] + start["width"] / 2
    # the two layers differ: true colour left of the divider, magma right of it
    split = (x0 - box["x"]) / box["width"]
    left_mean = band(before, 0.05, split - 0.05).reshape(-1, 3).mean(axis=0)
    right_mean = band(before, split + 0.05, 0.70).reshape(-1, 3).mean(axis=0)
    assert np.abs(left_mean - right_mean).sum() > 60, (left_mean, right_mean)

    y = box["y"] + box["height"] / 2  # the round handle in the middle of the divider
    page.mouse.move(x0, y)
    page.mouse.down()
    target = box["x"] + box["width"] * 0.85
    page.mouse.move(target, y, steps=12)
    page.mouse.up()
    page.wait_for_timeout(800)
    after = picture(the_map, artifacts / "map-swipe-after.png")
    moved = divider.bounding_box()
    x1 = moved["x"] + moved["width"] / 2
    assert x1 - x0 > 0.2 * box["width"], (x0, x1)

    # between the old and the new divider the left layer now shows; elsewhere nothing changed
    new_split = (x1 - box["x"]) / box["width"]
    swept = (split + 0.03, new_split - 0.03)
    changed = np.abs(band(after, *swept) - band(before, *swept)).mean()
    kept_left = np.abs(band(after, 0.05, split - 0.05) - band(before, 0.05, split - 0.05)).mean()
    assert changed > 25, changed
    assert kept_left < 3, kept_left
    swept_mean = band(after, *swept).reshape(-1, 3).mean(axis=0)
    assert np.abs(swept_mean - left_mean).sum() < np.abs(swept_mean - right_mean).sum()


def test_a_rectangle_drawn_by_mouse_is_searched_and_an_item_added(lab, artifacts):
    zoom = 14
    east = CENTER[1] + 0.012  # the demo region sits left of the middle, clear of the panel
    lab.write_notebook("map-search.ipynb", [
        "from terralab.widgets import Map\n"
        f"m = Map(center=({CENTER[0]}, {east}), zoom={zoom}, layout={{'height': '900px'}},\n"
        "        switcher=False)\n"
        "panel = m.add_search_panel()\n"
        "m",
        "print('AOI', None if m.aoi is None else [round(v, 5) for v in m.aoi.bounds])",
        "print('LAYERS', [layer.name for layer in m.layers])",
    ])
    lab.open("map-search.ipynb")
    lab.run(0)
    page = lab.page
    the_map = lab.cell(0).locator(".leaflet-container")
    the_map.locator(".leaflet-draw-draw-rectangle").wait_for()
    the_map.scroll_into_view_if_needed()
    box = the_map.bounding_box()

    # the demo region's middle, on screen: the map's centre pixel is (east, CENTER[0])
    mid_x, mid_y = web_mercator_pixel(CENTER[0], east, zoom)
    region_x, region_y = web_mercator_pixel(*CENTER, zoom)
    sx = box["x"] + box["width"] / 2 + (region_x - mid_x)
    sy = box["y"] + box["height"] / 2 + (region_y - mid_y)
    corners = (sx - 40, sy - 30), (sx + 40, sy + 30)
    the_map.locator(".leaflet-draw-draw-rectangle").click()
    page.mouse.move(*corners[0])
    page.mouse.down()
    page.mouse.move(*corners[1], steps=8)
    page.mouse.up()
    page.wait_for_timeout(500)

    text = lab.run(1, expect_text="AOI [")
    west, south, east_edge, north = (float(v) for v in
                                     text.split("[", 1)[1].split("]", 1)[0].split(","))
    pixel = 360 / (256 * 2 ** zoom)                   # degrees of longitude per pixel
    assert east_edge - west == pytest.approx(80 * pixel, rel=0.1)
    assert (west + east_edge) / 2 == pytest.approx(CENTER[1], abs=3 * pixel)
    assert (south + north) / 2 == pytest.approx(CENTER[0], abs=3 * pixel)

    panel = lab.cell(0).locator(".widget-vbox").filter(has_text="Collections").first
    panel.get_by_role("button", name="Drawn area").click()
    panel.locator("button", has_text="Search").click()  # the icon's glyph is in its name
    message = panel.locator("text=/\\d+ items found/")
    message.wait_for(timeout=60_000)
    found = int(message.inner_text().split()[0])
    assert found >= 20                                 # every demo scene covers the area
    assert panel.locator("img").count() > 0            # quicklooks in the rows
    before = picture(the_map, artifacts / "map-search-results.png")

    # a catalog raster (earlier tests may have put vectors of demo's own into the results)
    row = panel.locator(".widget-hbox").filter(
        has_text=re.compile(r"sentinel-2-l2a|sentinel-1-grd|landsat-c2-l2|demo-aerial")).first
    row.get_by_role("button", name="add to map").click()
    panel.locator("text=added to the map").wait_for(timeout=60_000)
    lab.wait_for_tiles(the_map, minimum=1)
    after = picture(the_map, artifacts / "map-search-added.png")
    x, y = int(sx - box["x"]), int(sy - box["y"])
    patch_before = before[y - 60:y + 60, x - 60:x + 60]
    patch_after = after[y - 60:y + 60, x - 60:x + 60]
    assert patch_after.std() > 8                       # imagery, not a flat colour
    assert np.abs(patch_after - patch_before).mean() > 20
    layers = lab.run(2, expect_text="LAYERS")
    assert "Search results" in layers
    assert any(name in layers for name in ("S2A_", "S2B_", "LC0", "S1A_", "deqing"))


def _layer_on_disk(path):
    """The polygons of a my-data GeoPackage as GDAL reads it now, and its edit history."""
    with closing(sqlite3.connect(path)) as db:
        table = db.execute("SELECT table_name FROM gpkg_geometry_columns").fetchone()[0]
        history = [row[0] for row in db.execute(
            "SELECT operation FROM terralab_edit_history ORDER BY seq")]
    return pyogrio.read_dataframe(path, layer=table, fid_as_index=True), history


def _wait_for_disk(path, check, timeout=30.0):
    """Poll the file until ``check(frame, history)`` holds; returns what it read last."""
    deadline = time.monotonic() + timeout
    while True:
        frame, history = _layer_on_disk(path)
        if check(frame, history) or time.monotonic() > deadline:
            return frame, history
        time.sleep(0.3)


def test_vertices_dragged_inserted_and_ctrl_clicked_by_mouse_are_saved(lab, hub, artifacts):
    zoom = 17
    west, south, east, north = 119.9250, 30.5940, 119.9280, 30.5960
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    lab.write_notebook("map-edit.ipynb", [
        "import json\n"
        "from pathlib import Path\n"
        "import terralab as tl\n"
        "from terralab.widgets import Map\n"
        "field = {'type': 'FeatureCollection', 'features': [{'type': 'Feature',\n"
        f"    'properties': {{'name': 'field'}}, 'geometry': {{'type': 'Polygon',\n"
        f"    'coordinates': [{ring}]}}}}]}}\n"
        "Path('field.geojson').write_text(json.dumps(field))\n"
        "record = tl.mydata.upload('field.geojson', title='field')\n"
        f"m = Map(center={CENTER}, zoom={zoom}, layout={{'height': '600px'}}, switcher=False,\n"
        "        draw=False)\n"
        "editor = m.edit(record, zoom=False)\n"
        "print('ITEM', record.id, record.folder)\n"
        "m",
    ])
    lab.open("map-edit.ipynb")
    text = lab.run(0, expect_text="ITEM")
    folder = text.split("ITEM", 1)[1].split()[1]
    path = next((hub.home / "users" / "demo" / folder).glob("*.gpkg"))
    original, history = _layer_on_disk(path)
    assert history == [] and len(original) == 1
    fid = int(original.index[0])
    corners = list(original.geometry[fid].exterior.coords)[:-1]

    page = lab.page
    the_map = lab.cell(0).locator(".leaflet-container")
    handles = the_map.locator(".leaflet-marker-icon.marker-icon:not(.marker-icon-middle)")
    page.wait_for_function("(root) => root.querySelectorAll("
                           "'.marker-icon:not(.marker-icon-middle)').length >= 4",
                           arg=the_map.element_handle())
    the_map.scroll_into_view_if_needed()
    box = the_map.bounding_box()
    centre_global = web_mercator_pixel(*CENTER, zoom)

    def on_screen(lon, lat):
        gx, gy = web_mercator_pixel(lat, lon, zoom)
        return (box["x"] + box["width"] / 2 + gx - centre_global[0],
                box["y"] + box["height"] / 2 + gy - centre_global[1])

    def handle_at(lon, lat, candidates=handles):
        x, y = on_screen(lon, lat)
        best = None
        for index in range(candidates.count()):
            hb = candidates.nth(index).bounding_box()
            cx, cy = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
            distance = math.hypot(cx - x, cy - y)
            if best is None or distance < best[0]:
                best = (distance, cx, cy)
        assert best is not None and best[0] < 6, (best, x, y)  # the handle sits on the corner
        return best[1], best[2]

    def drag(x, y, dx, dy):
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + dx, y + dy, steps=10)
        page.mouse.up()

    picture(the_map, artifacts / "map-edit-before.png")
    index = corners.index(min(corners, key=lambda c: math.hypot(c[0] - east, c[1] - north)))
    hx, hy = handle_at(*corners[index])
    drag(hx, hy, 50, -40)

    frame, history = _wait_for_disk(path, lambda f, h: "move vertex" in h)
    assert history == ["move vertex"]
    moved = list(frame.geometry[fid].exterior.coords)[:-1]
    gx, gy = web_mercator_pixel(corners[index][1], corners[index][0], zoom)
    expected = lonlat_of_pixel(gx + 50, gy - 40, zoom)
    pixel = 360 / (256 * 2 ** zoom)
    assert moved[index] == pytest.approx(expected, abs=2 * pixel)
    assert [c for i, c in enumerate(moved) if i != index] == \
        [c for i, c in enumerate(corners) if i != index]          # the others untouched
    assert frame.loc[fid, "name"] == "field"
    page.wait_for_timeout(300)
    picture(the_map, artifacts / "map-edit-dragged.png")

    # a click on the middle handle of the south edge inserts a corner there; dragging it
    # then moves it like any corner
    south_west = corners.index(min(corners, key=lambda c: math.hypot(c[0] - west, c[1] - south)))
    south_east = corners.index(min(corners, key=lambda c: math.hypot(c[0] - east, c[1] - south)))
    middle = ((west + east) / 2, south)
    page.mouse.click(*handle_at(*middle,
                                the_map.locator(".leaflet-marker-icon.marker-icon-middle")))
    frame, history = _wait_for_disk(path, lambda f, h: len(h) >= 2)
    assert history == ["move vertex", "insert vertex"]
    page.wait_for_timeout(500)              # the map redraws its handles after an insert
    mx, my = handle_at(*middle)
    drag(mx, my, 0, 40)
    frame, history = _wait_for_disk(path, lambda f, h: len(h) >= 3)
    picture(the_map, artifacts / "map-edit-inserted.png")
    assert history == ["move vertex", "insert vertex", "move vertex"]
    inserted = list(frame.geometry[fid].exterior.coords)[:-1]
    assert len(inserted) == len(corners) + 1
    new_corner = next(c for c in inserted if c not in moved)
    gx, gy = web_mercator_pixel(south, (west + east) / 2, zoom)
    assert new_corner == pytest.approx(lonlat_of_pixel(gx, gy + 40, zoom), abs=2 * pixel)
    k = inserted.index(new_corner)                             # between the south corners
    assert {inserted[k - 1], inserted[(k + 1) % len(inserted)]} == \
        {corners[south_west], corners[south_east]}

    # Ctrl-click on the south-west corner deletes it
    ox, oy = handle_at(*corners[south_west])
    page.keyboard.down("Control")
    page.mouse.click(ox, oy)
    page.keyboard.up("Control")
    frame, history = _wait_for_disk(path, lambda f, h: "delete vertex" in h)
    assert history == ["move vertex", "insert vertex", "move vertex", "delete vertex"]
    left = list(frame.geometry[fid].exterior.coords)[:-1]
    assert len(left) == len(inserted) - 1
    assert corners[south_west] not in left and new_corner in left
    page.wait_for_timeout(300)
    picture(the_map, artifacts / "map-edit-ctrl-click.png")


def test_an_in_memory_raster_displays_in_voila_behind_the_hub(lab, artifacts):
    lab.write_notebook("map-voila.ipynb", [
        "import numpy as np\n"
        "import rioxarray  # noqa: F401  (the .rio accessor)\n"
        "import xarray as xr\n"
        "from terralab.widgets import Map\n"
        "y = np.linspace(30.607, 30.583, 256)\n"
        "x = np.linspace(119.913, 119.94, 256)\n"
        "ramp = np.add.outer(np.arange(256), np.arange(256)).astype('float32')\n"
        "data = xr.DataArray(ramp, coords={'y': y, 'x': x}, dims=('y', 'x')).rio.write_crs(4326)\n"
        f"m = Map(center={CENTER}, zoom=15, layout={{'height': '500px'}})\n"
        "m.add(data, name='ramp', colormap='viridis', rescale='0,510')\n"
        "m",
    ])
    lab.open("map-voila.ipynb")  # logs in; Voilà then runs the notebook as the same user
    page = lab.page
    page.goto(f"{lab.hub.url}/user/demo/voila/render/map-voila.ipynb")
    the_map = page.locator(".leaflet-container").first
    the_map.wait_for(timeout=180_000)
    lab.wait_for_tiles(the_map, minimum=2)
    image = picture(the_map, artifacts / "map-voila-array.png")
    height, width = image.shape[:2]
    middle = image[height // 2 - 80:height // 2 + 80, width // 2 - 80:width // 2 + 80]
    assert middle.std() > 10                      # a colour ramp, not an empty map
    red, green, _ = middle.reshape(-1, 3).mean(axis=0)
    assert green > red                            # viridis: greens and blues over reds
    assert any("terralab/tiles" in (img.get_attribute("src") or "") and
               "/user/demo/" in (img.get_attribute("src") or "")
               for img in the_map.locator("img.leaflet-tile").all())
