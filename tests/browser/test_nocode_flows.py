"""The no-code lab's flows of issue 17, in Chromium through the real hub, by mouse.

A member of the ``dashboards`` group, who writes no code:

1. logs in, lands on Home, opens Search, finds Sentinel-2 scenes of 德清县 with at most 30 %
   cloud, adds one to the map, sends it to the spectral index tool, runs NDVI, drags the
   swipe between the image and the result and downloads the GeoTIFF (its CRS and bounds are
   the result's);
2. runs SAR water extraction on a demo Sentinel-1 scene picked in the tool's input picker:
   water polygons on the map, downloaded as a zipped shapefile;
3. runs change detection on the demo aerial pair, one date in each of the two pickers:
   the change layer on the map;
4. uploads a 60 MB GeoTIFF with the My data page's picker (progress, published, listed,
   shown on the map), then files that break a rule, whose message the page shows.

One browser page, one session hub; every step waits on what the page shows (never a fixed
sleep). Screenshots per step: ``tests/artifacts/flow-*.png``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest
import rasterio
import requests
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from rasterio.transform import Affine, array_bounds, from_origin

from terralab.tools.registry import default_registry
from terralab.widgets.i18n import tool_title
from tests.browser.lab import login, picture
from tests.browser.test_nocode_shell import Watch, _member, _nav, _ready
from tests.browser.test_upload_picker import ROW, refusal, write_geotiff

pytestmark = [pytest.mark.browser, pytest.mark.hub]

USER = "flows"
TILES = "img.leaflet-tile[src*='terralab/tiles']"


class Flow:
    """The page of the flows, what it did wrong (:class:`Watch`) and its refused requests."""

    def __init__(self, page: Page, hub) -> None:
        self.page = page
        self.watch = Watch(page, hub.url)
        self.refused: list[tuple[int, str]] = []  # (status, URL) of the answers >= 400
        page.on("response", lambda answer: self.refused.append((answer.status, answer.url))
                if answer.status >= 400 else None)

    def forgive(self, status: int, url_part: str) -> None:
        """Forget the console's line for each answer ``status`` to a URL holding
        ``url_part``: a refusal the page was meant to get (and shows as a message)."""
        line = f"Failed to load resource: the server responded with a status of {status}"
        for _ in [url for code, url in self.refused if code == status and url_part in url]:
            found = next((e for e in self.watch.errors if e.startswith(line)), None)
            if found is not None:
                self.watch.errors.remove(found)


@pytest.fixture(scope="module")
def session(hub, chromium_browser) -> Iterator[Flow]:
    """One browser page of a ``dashboards`` member, logged in, on Home."""
    _member(hub, USER, "dashboards")
    context = chromium_browser.new_context(viewport={"width": 1440, "height": 960},
                                           locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    flow = Flow(page, hub)
    login(page, hub, USER)
    page.wait_for_url("**/voila/render/dashboards/home.ipynb*", timeout=240_000)
    _ready(page)
    yield flow
    context.close()


@pytest.fixture
def flow(session, artifacts) -> Iterator[tuple[Page, Flow, Path]]:
    """The session's page for one flow: its problems forgotten before, checked after
    (no JavaScript error, no request leaving the lab, no traceback)."""
    session.watch.errors.clear()
    session.watch.outside.clear()
    session.refused.clear()
    yield session.page, session, artifacts
    session.watch.check(session.page)


def _headers(hub) -> dict[str, str]:
    return {"Authorization": f"token {hub.token(USER)}"}


def _title(name: str) -> str:
    return tool_title(default_registry()[name].info, "en")


def _shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"flow-{name}.png", full_page=True)


def _go(page: Page, key: str) -> None:
    """Click page ``key`` in the navigation and wait until it is usable."""
    _nav(page, key).click()
    page.wait_for_url(f"**/dashboards/{key}.ipynb*")
    _ready(page)


def _set_slider(page: Page, slider: Locator, value: int) -> None:
    """Drag an ipywidgets slider's handle to ``value`` (of 0–100), then nudge it with the
    arrow keys until its readout says so."""
    track = slider.locator(".noUi-target")
    handle = slider.locator(".noUi-handle")
    box, grip = track.bounding_box(), handle.bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * value / 100, grip["y"] + grip["height"] / 2,
                    steps=8)
    page.mouse.up()
    readout = slider.locator(".widget-readout")
    for _ in range(10):
        shown = int(readout.inner_text().strip())
        if shown == value:
            return
        handle.press("ArrowLeft" if shown > value else "ArrowRight")
    assert int(readout.inner_text().strip()) == value


def _search(page: Page, collection: str, *, cloud: int | None = None) -> Locator:
    """On the Search page: Region 德清县, one collection, cloud ≤ ``cloud``, Search.

    Returns:
        The search panel, with its results listed.
    """
    panel = page.locator(".tl-search-panel")
    panel.get_by_role("button", name="Region").click()
    panel.locator("input[placeholder*='德清县']").fill("德清县")
    panel.locator("select[multiple]").select_option(collection)
    if cloud is not None:
        _set_slider(page, panel.locator(".widget-slider").filter(has_text="Max cloud"), cloud)
    panel.get_by_role("button", name="Search", exact=True).click()
    panel.locator("text=/\\d+ items found/").wait_for(timeout=120_000)
    return panel


def _rows(panel: Locator) -> Locator:
    return panel.locator(".tl-search-row")


def _send(page: Page, row: Locator, tool: str) -> str:
    """Choose ``tool`` in "Send to", press the row's "send to tool"; wait for its page.

    Returns:
        The id of the row's item.
    """
    item_id = row.locator("b").first.inner_text().strip()
    page.locator(".tl-send-tool select").select_option(label=_title(tool))
    row.get_by_role("button", name="send to tool").click()
    page.wait_for_url(re.compile(rf"/dashboards/tool\.ipynb\?.*tool={tool}"))
    _ready(page)
    return item_id


def _choose(select: Locator, item_id: str) -> None:
    """Choose the option of ``item_id`` in a tool form's input picker (its label holds the
    id after where it comes from: ``Catalog · ID (…)``)."""
    labels = select.locator("option").all_inner_texts()
    wanted = [label for label in labels if item_id in label]
    assert wanted, f"{item_id} is not offered: {labels}"
    select.select_option(label=wanted[0])
    assert item_id in select.input_value()


def _tile_pixels(page: Page, hub, src: str) -> np.ndarray:
    """The RGBA pixels of one map tile, fetched as the page fetched it."""
    answer = page.request.get(src if src.startswith("http") else hub.url + src)
    assert answer.status == 200, answer.text()[:500]
    return np.asarray(Image.open(io.BytesIO(answer.body())).convert("RGBA")).astype(np.int16)


def _wait_for_tiles(page: Page, the_map: Locator, marker: str, *, minimum: int = 1) -> list[str]:
    """Wait until ``minimum`` terralab tiles whose URL holds ``marker`` are loaded (and none of
    them is still loading); returns their URLs."""
    page.wait_for_function(
        """([root, marker, minimum]) => {
            const tiles = Array.from(root.querySelectorAll(
                "img.leaflet-tile[src*='terralab/tiles']")).filter(t => t.src.includes(marker));
            const done = tiles.filter(t => t.complete && t.naturalWidth > 0);
            return done.length >= minimum && tiles.every(t => t.complete)
                && tiles.every(t => getComputedStyle(t).opacity === '1');
        }""", arg=[the_map.element_handle(), marker, minimum], timeout=120_000)
    return [src for src in the_map.locator(TILES).evaluate_all("(ts) => ts.map(t => t.src)")
            if marker in src]


def _tool_map(page: Page) -> Locator:
    return page.locator(".tl-tool-page .leaflet-container").first


def _run(page: Page, artifacts: Path, name: str) -> None:
    """Press Run, see the progress, and wait until the job is done."""
    page.locator("button.tl-run").click()
    status = page.locator(".tl-job-status")
    status.wait_for()
    page.locator(".tl-job .progress-bar, .tl-job .widget-progress").first.wait_for()
    _shot(page, artifacts, f"{name}-progress")
    page.wait_for_function("() => /Done|Failed|Cancelled/.test("
                           "document.querySelector('.tl-job-status').innerText)",
                           timeout=300_000)
    assert "Done" in status.inner_text(), page.locator(".tl-job textarea").input_value()
    page.locator(".tl-result a.tl-download").first.wait_for()


def _result_ids(page: Page) -> dict[str, str]:
    """The result items of the run, by data format of their download links."""
    found: dict[str, str] = {}
    for link in page.locator(".tl-result a.tl-download").all():
        item = re.search(r"mydata/items/([^/?]+)/download", str(link.get_attribute("href")))
        assert item is not None, link.get_attribute("href")
        found[str(link.get_attribute("data-format"))] = unquote(item.group(1))
    return found


def _download(page: Page, link: Locator, target: Path) -> Path:
    """Click a download link and save what the browser downloads."""
    with page.expect_download(timeout=120_000) as download:
        link.click()
    download.value.save_as(target)
    return target


def _record(hub, item_id: str) -> dict:
    answer = requests.get(f"{hub.url}/services/terralab/mydata/items/{item_id}",
                          headers=_headers(hub), timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_search_deqing_sentinel2_add_send_to_ndvi_swipe_and_download(flow, hub, tmp_path):
    page, watched, artifacts = flow
    _go(page, "home")
    _shot(page, artifacts, "1-home")
    _go(page, "search")
    panel = _search(page, "sentinel-2-l2a", cloud=30)
    rows = _rows(panel)
    assert rows.count() >= 1
    clouds = [float(c) for c in re.findall(r"cloud (\d+)%", panel.inner_text())]
    assert clouds and max(clouds) <= 30, clouds
    _shot(page, artifacts, "1-search-results")

    # one result on the map: its tiles are drawn, and they are not blank
    the_map = page.locator(".leaflet-container").first
    before = picture(the_map)
    row = rows.first
    item_id = row.locator("b").first.inner_text().strip()
    row.get_by_role("button", name="add to map").click()
    panel.locator("text=added to the map").wait_for()
    sources = _wait_for_tiles(page, the_map, f"item={item_id}", minimum=2)
    tile = _tile_pixels(page, hub, sources[0])
    assert (tile[..., 3] > 0).mean() > 0.3 and tile[..., :3].std() > 5
    after = picture(the_map, artifacts / "flow-1-search-on-map.png")
    assert np.abs(after - before).mean() > 3 and after.std() > 10

    # send it to the spectral index tool: its page opens with the item as its input
    sent = _send(page, row, "index")
    assert sent == item_id
    assert item_id in page.locator(".tl-field-image select").input_value()
    assert page.locator(".tl-field-index select").input_value().lower().startswith("ndvi")
    _shot(page, artifacts, "1-tool-page")
    _run(page, artifacts, "1-ndvi")

    # the NDVI over its input, the swipe between them dragged by mouse
    tool_map = _tool_map(page)
    results = _result_ids(page)
    _wait_for_tiles(page, tool_map, f"item={results['geotiff']}", minimum=2)
    _wait_for_tiles(page, tool_map, f"item={item_id}", minimum=2)
    # the legend is added after both layers: it may draw after their tiles
    expect(tool_map.locator(".leaflet-control", has_text="NDVI").first).to_be_visible()
    divider = tool_map.locator(".leaflet-sbs-divider")
    box, frame = divider.bounding_box(), tool_map.bounding_box()
    unswiped = picture(tool_map, artifacts / "flow-1-ndvi-result.png")
    page.mouse.move(box["x"] + box["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 240, frame["y"] + frame["height"] / 2, steps=12)
    page.mouse.up()
    moved = divider.bounding_box()
    assert moved["x"] < box["x"] - 200  # the divider followed the mouse
    swiped = picture(tool_map, artifacts / "flow-1-ndvi-swiped.png")
    # between the divider's two places one side (the input) gave way to the other (NDVI)
    left, right = int(moved["x"] - frame["x"]) + 8, int(box["x"] - frame["x"]) - 8
    top, bottom = int(frame["height"] * 0.25), int(frame["height"] * 0.75)
    strip = np.abs(swiped[top:bottom, left:right] - unswiped[top:bottom, left:right])
    assert strip.mean() > 10, strip.mean()

    # the GeoTIFF, downloaded by the browser, has the result's CRS and bounds
    saved = _download(page, page.locator(".tl-result a.tl-download[data-format='geotiff']"),
                      tmp_path / "ndvi.tif")
    properties = _record(hub, results["geotiff"])["item"]["properties"]
    height, width = properties["proj:shape"]
    expected = array_bounds(height, width, Affine(*properties["proj:transform"]))
    with rasterio.open(saved) as result:
        assert result.crs.to_string() == properties["proj:code"]
        assert np.allclose(tuple(result.bounds), expected, atol=1e-6)  # west, south, …
        values = result.read(1, masked=True)
        assert -1 <= float(values.min()) < float(values.max()) <= 1
    assert watched.watch.errors == []


def test_sar_water_polygons_on_the_map_and_a_zipped_shapefile(flow, hub, tmp_path):
    page, watched, artifacts = flow
    _go(page, "search")
    panel = _search(page, "sentinel-1-grd")
    rows = _rows(panel)
    assert rows.count() >= 2
    wanted = rows.nth(1).locator("b").first.inner_text().strip()
    _send(page, rows.first, "sar_water")
    # the tool's picker offers the other scenes of the place: the user picks one
    _choose(page.locator(".tl-field-image select"), wanted)
    _shot(page, artifacts, "2-sar-water-input")
    _run(page, artifacts, "2-sar-water")

    tool_map = _tool_map(page)
    results = _result_ids(page)
    assert {"geotiff", "shapefile"} <= set(results)
    polygons = tool_map.locator("path.leaflet-interactive")
    polygons.first.wait_for(state="attached")
    assert polygons.count() >= 1
    _wait_for_tiles(page, tool_map, f"item={results['geotiff']}")
    picture(tool_map, artifacts / "flow-2-sar-water-result.png")

    saved = _download(page,
                      page.locator(".tl-result a.tl-download[data-format='shapefile']"),
                      tmp_path / "water.zip")
    with zipfile.ZipFile(saved) as archive:
        suffixes = {Path(name).suffix.lower() for name in archive.namelist()}
    assert {".shp", ".shx", ".dbf", ".prj"} <= suffixes, suffixes
    import geopandas

    water = geopandas.read_file(saved, engine="pyogrio")
    assert len(water) >= 1
    assert set(water.geom_type) <= {"Polygon", "MultiPolygon"}
    assert watched.watch.errors == []


def test_change_detection_on_the_aerial_pair(flow, hub):
    page, watched, artifacts = flow
    _go(page, "search")
    panel = _search(page, "demo-aerial")
    rows = _rows(panel)
    dates = sorted(row.locator("b").first.inner_text().strip() for row in rows.all())
    assert len(dates) == 2, dates
    earlier, later = dates
    _send(page, rows.first, "change_detection")
    _choose(page.locator(".tl-field-before select"), earlier)
    _choose(page.locator(".tl-field-after select"), later)
    _shot(page, artifacts, "3-change-inputs")
    _run(page, artifacts, "3-change")

    tool_map = _tool_map(page)
    results = _result_ids(page)
    sources = _wait_for_tiles(page, tool_map, f"item={results['geotiff']}")
    assert "colormap" in parse_qs(urlsplit(sources[0]).query)
    changed = [_tile_pixels(page, hub, src) for src in sources]
    # the changed pixels drawn, the unchanged ones transparent over the input
    assert any((tile[..., 3] > 0).any() for tile in changed)
    assert any((tile[..., 3] == 0).any() for tile in changed)
    picture(tool_map, artifacts / "flow-3-change-result.png")
    assert watched.watch.errors == []


def test_upload_in_my_data_published_listed_shown_and_refusals(flow, hub, tmp_path):
    page, watched, artifacts = flow
    _go(page, "mydata")
    source = write_geotiff(tmp_path / "flow-field-60mb.tif", 4480, 4480)
    assert source.stat().st_size > 60 * 1000**2
    with page.expect_file_chooser() as chooser:
        page.locator(".tl-upload-drop button").click()
    chooser.value.set_files(str(source))
    row = page.locator(ROW.format(source.name))
    page.wait_for_function(
        "(row) => ['sending', 'publishing', 'ready'].includes(row.dataset.state) && "
        "parseFloat(row.querySelector('.tl-upload-bar > div').style.width) > 0",
        arg=row.element_handle(), timeout=120_000)
    _shot(page, artifacts, "4-upload-progress")
    page.wait_for_function("(row) => row.dataset.state === 'ready'",
                           arg=row.element_handle(), timeout=300_000)
    # published: listed in my data, shown on the map, the page says so
    page.locator(".tl-notice").filter(has_text="is ready in my data").wait_for()
    listed = page.locator(".tl-item-row").filter(has_text=source.name)
    listed.first.wait_for()
    item_id = str(listed.first.locator("b").first.get_attribute("title"))
    the_map = page.locator(".leaflet-container").first
    sources = _wait_for_tiles(page, the_map, f"item={item_id}", minimum=2)
    assert _tile_pixels(page, hub, sources[0])[..., :3].std() > 5
    _shot(page, artifacts, "4-upload-published")
    record = _record(hub, item_id)
    assert record["source_name"] == source.name and record["kind"] == "upload"

    # files that break a rule: the rule's message in the page, nothing published
    nad83 = write_geotiff(tmp_path / "flow-nad83.tif", 1024, 1024, crs="EPSG:4269",
                          transform=from_origin(-82.0, 30.0, 0.0001, 0.0001))
    thin = write_geotiff(tmp_path / "flow-thin-3000x500.tif", 3000, 500)
    expected = {path.name: refusal(path) for path in (nad83, thin)}
    with page.expect_file_chooser() as chooser:
        page.locator(".tl-upload-drop button").click()
    chooser.value.set_files([str(nad83), str(thin)])
    for name, message in expected.items():
        refused = page.locator(ROW.format(name))
        page.wait_for_function("(row) => row.dataset.state === 'failed'",
                               arg=refused.element_handle(), timeout=120_000)
        assert refused.locator(".tl-upload-message").inner_text() == message
    _shot(page, artifacts, "4-upload-refused")
    names = [item["source_name"] for item in requests.get(
        f"{hub.url}/services/terralab/mydata/items", headers=_headers(hub), timeout=30
    ).json()["items"]]
    assert nad83.name not in names and thin.name not in names
    for path in (nad83, thin):  # the service's refusal of the last chunk, shown above
        watched.forgive(400, f"/mydata/uploads/{path.stem}")
    assert watched.watch.errors == []
