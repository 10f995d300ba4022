"""The map in Voilà behind the test hub, in real Chromium with no network, by mouse.

- Tutorial 06 rendered by Voilà: no JavaScript error (the swipe cell answered one), the map
  opens on its data, the search panel beside the map is usable control by control, and a
  search keeps the swiped layers.
- A water mask drawn as a class map over imagery: land transparent, water blue; the layer
  manager's crosshairs zoom to it; its Font Awesome icons draw with the CDNs unreachable
  (the terralab template links the copy the user's server serves).

Screenshots land in tests/artifacts/voila-*.png.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import Page

from tests.browser.lab import Lab, login, picture
from tests.browser.test_map_widgets import web_mercator_pixel
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.hub]

TUTORIAL = ROOT / "notebooks" / "tutorials" / "06-the-map.ipynb"
CDN = re.compile(r"^https?://(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)/")
WATER = (0x1F, 0x78, 0xB4)


@pytest.fixture
def voila(hub, chromium_browser):
    """A logged-in page of user demo; the CDNs the lab template links are unreachable."""
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(CDN, lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(120_000)
    problems: list[str] = []
    page.fonts_seen = []  # what became of each icon font the page asked for
    page.on("response", lambda r: page.fonts_seen.append((r.status, r.url))
            if "webfonts" in r.url or ".woff" in r.url else None)
    page.on("requestfailed", lambda r: page.fonts_seen.append((r.failure, r.url))
            if "webfonts" in r.url or ".woff" in r.url else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    login(page, hub, "demo")
    page.wait_for_url(re.compile(r"/user/demo/"), timeout=180_000)
    yield page, problems
    context.close()


def _render(page: Page, hub, name: str) -> None:
    """Open notebook ``name`` of demo's folder in Voilà and wait until every cell ran."""
    page.goto(f"{hub.url}/user/demo/voila/render/{name}")
    page.wait_for_selector("#rendered_cells", state="visible", timeout=240_000)
    page.wait_for_selector(".leaflet-container")


def _tiles(the_map, marker: str) -> list[str]:
    """The src of the map's terralab tiles whose URL holds ``marker``."""
    return [src for src in the_map.locator("img.leaflet-tile").evaluate_all(
        "(tiles) => tiles.map(t => t.src)") if "terralab/tiles" in src and marker in src]


def _icons_drawn(page: Page) -> None:
    """Wait until the icon font of the page's buttons is loaded (fonts load when first used)."""
    family = page.locator("i.fa").first.evaluate("(i) => getComputedStyle(i).fontFamily")
    page.wait_for_function("(family) => document.fonts.check(`900 14px ${family}`)", arg=family,
                           timeout=20_000)


def _zxy(src: str) -> tuple[int, int, int]:
    """The z, x and y of a tile URL (``…/tiles/{z}/{x}/{y}.png?…``)."""
    z, x, y = urlsplit(src).path.split("/")[-3:]
    return int(z), int(x), int(y.split(".")[0])


def _zoom(sources: list[str]) -> int:
    return max(_zxy(src)[0] for src in sources)


def test_tutorial_06_renders_in_voila_and_a_search_keeps_the_swipe(voila, hub, artifacts):
    page, problems = voila
    shutil.copy(TUTORIAL, hub.home / "users" / "demo" / "voila-06-the-map.ipynb")
    _render(page, hub, "voila-06-the-map.ipynb")
    body = page.inner_text("#rendered_cells")
    assert "Javascript Error" not in body and "Traceback" not in body, body[:2000]
    assert "Swipe: 'Sentinel-2 true colour' | 'Sentinel-1 VV (dB)'" in body

    first = page.locator(".leaflet-container").nth(0)
    first.scroll_into_view_if_needed()
    first.locator(".leaflet-sbs-divider").wait_for()
    Lab(page, hub).wait_for_tiles(first, minimum=4)
    assert _zoom(_tiles(first, "bands=B04")) >= 14   # opened on the 3 km demo region
    _icons_drawn(page)
    picture(first, artifacts / "voila-06-swipe.png")

    # the search panel: beside the second view of the map, every control reachable
    side = page.locator(".widget-hbox").filter(has=page.locator(".leaflet-container")).filter(
        has_text="Collections").first
    side.scroll_into_view_if_needed()
    panel = side.locator(".widget-vbox").filter(has_text="Collections").first
    for mode in ("Place", "Drawn area", "Upload", "Region"):
        panel.get_by_role("button", name=mode).click()
    panel.locator("input[type=date]").first.click()
    page.keyboard.press("Escape")
    collections = panel.locator("select[multiple]").first
    collections.select_option(index=0)
    collections.select_option([])
    area = panel.locator("input[placeholder*='德清县']")
    area.fill("德清县")
    page.screenshot(path=artifacts / "voila-06-search-form.png", full_page=False)
    panel.locator("button", has_text="Search").click()
    message = panel.locator("text=/\\d+ items found/")
    message.wait_for(timeout=90_000)
    row_button = panel.get_by_role("button", name="add to map").first
    row_button.scroll_into_view_if_needed()
    row_button.click()
    panel.locator("text=added to the map").wait_for(timeout=60_000)
    next_page = panel.get_by_role("button", name="Next")
    if next_page.is_visible():
        next_page.click()
        panel.locator("text=/^2 \\/ /").wait_for()
    side.screenshot(path=artifacts / "voila-06-search-beside-the-map.png")

    # back on the first map: the divider and both swiped layers are still drawn
    first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    Lab(page, hub).wait_for_tiles(first, minimum=4)
    assert first.locator(".leaflet-sbs-divider").count() == 1
    assert _tiles(first, "bands=B04") and _tiles(first, "bands=vv")
    clipped = first.locator(".leaflet-layer").evaluate_all(
        "(layers) => layers.filter(l => (l.style.clip || '').startsWith('rect')).length")
    assert clipped == 2
    picture(first, artifacts / "voila-06-swipe-after-search.png")
    assert not problems, problems


def test_a_class_map_over_imagery_and_zoom_to_in_voila(voila, hub, artifacts):
    page, problems = voila
    west, south, east, north = 119.920, 30.590, 119.930, 30.600
    Lab(page, hub).write_notebook("voila-class-map.ipynb", [
        "from pathlib import Path\n"
        "import numpy as np\n"
        "import rasterio\n"
        "from rasterio.transform import from_bounds\n"
        "import terralab as tl\n"
        "from terralab.widgets import Map\n"
        "codes = np.zeros((200, 200), 'uint8')\n"
        "codes[:, 80:120] = 1                       # a river: water 1, land 0\n"
        "Path('masks').mkdir(exist_ok=True)\n"
        "with rasterio.open('masks/water.tif', 'w', driver='GTiff', width=200, height=200,\n"
        "                   count=1, dtype='uint8', crs='EPSG:4326',\n"
        f"                   transform=from_bounds({west}, {south}, {east}, {north}, 200, 200)"
        ") as dst:\n"
        "    dst.write(codes, 1)\n"
        "optical = tl.search(collections='sentinel-2-l2a', limit=1)[0]\n"
        "m = Map(layout={'height': '500px'}, switcher=False, draw=False)\n"
        "m.add(optical, name='optical', bands='B04,B03,B02', rescale='0,0.3')\n"
        "m.add('masks/water.tif', name='water', classes={1: ('water', '#1f78b4')})\n"
        "m.add_layer_manager()\n"
        "m",
    ])
    _render(page, hub, "voila-class-map.ipynb")
    the_map = page.locator(".leaflet-container").first
    Lab(page, hub).wait_for_tiles(the_map, minimum=4)
    masks = _tiles(the_map, "water.tif")
    assert masks and "colormap" in parse_qs(urlsplit(masks[0]).query)
    zoom = _zoom(_tiles(the_map, "bands=B04"))
    image = picture(the_map, artifacts / "voila-class-map.png")

    # where the mask lies on screen, from the place of one optical tile
    box = the_map.bounding_box()
    tile = the_map.locator("img.leaflet-tile[src*='bands=B04']").first
    tile_box = tile.bounding_box()
    z, tx, ty = _zxy(tile.get_attribute("src"))
    assert z == zoom

    def screen(lon: float, lat: float) -> tuple[int, int]:
        px, py = web_mercator_pixel(lat, lon, z)
        return (int(tile_box["x"] - box["x"] + px - 256 * tx),
                int(tile_box["y"] - box["y"] + py - 256 * ty))

    river_x, middle_y = screen(west + 0.5 * (east - west), (south + north) / 2)
    land_x, _ = screen(west + 0.15 * (east - west), (south + north) / 2)
    river = image[middle_y - 5:middle_y + 5, river_x - 5:river_x + 5].reshape(-1, 3)
    land = image[middle_y - 10:middle_y + 10, land_x - 10:land_x + 10].reshape(-1, 3)
    assert np.abs(river.mean(axis=0) - WATER).max() < 12, river.mean(axis=0)
    assert np.abs(land.mean(axis=0) - WATER).max() > 30      # not water-coloured
    assert land.std() > 3 and land.mean() > 15                 # imagery shows through

    # the layer manager's icons draw offline: their icon font is served by the user's server
    zoom_button = the_map.locator("button:has(i.fa-crosshairs)").first
    family, content, width = zoom_button.locator("i").evaluate(
        "(i) => [getComputedStyle(i).fontFamily, getComputedStyle(i, '::before').content, "
        "i.getBoundingClientRect().width]")
    assert "Font Awesome" in family and content not in ("none", "normal", "") and width > 0
    _icons_drawn(page)
    zoom_button.screenshot(path=artifacts / "voila-class-map-zoom-button.png")
    the_map.locator(".widget-hbox").filter(has_text="water").locator(
        "button:has(i.fa-crosshairs)").click()
    page.wait_for_timeout(1500)
    Lab(page, hub).wait_for_tiles(the_map, minimum=2)
    assert _zoom(_tiles(the_map, "water.tif")) > zoom           # zoomed in, not only centred
    picture(the_map, artifacts / "voila-class-map-zoomed.png")
    assert not problems, problems
