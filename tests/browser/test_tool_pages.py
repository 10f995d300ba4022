"""Every tool's page in Voilà through the real hub, and one run of NDVI by mouse.

One browser, one page load per registered tool (``dashboards/tool.ipynb?tool=NAME``): the
page renders in its frame without a traceback or a JavaScript error, with the tool's title
and either its Run button or the "needs a model" notice. Then NDVI on a demo Sentinel-2
item, every step by mouse: pick the input, Run, the progress, the result on the map, the
swipe dragged, the GeoTIFF downloaded. Screenshots land in tests/artifacts/tool-pages/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.catalog.query import SearchQuery
from terralab.tools.registry import default_registry
from terralab.widgets.i18n import tool_title
from tests.browser.lab import login
from tests.browser.page_plugin import PLUGIN_TOOL, PageBrightness

pytestmark = [pytest.mark.browser, pytest.mark.hub]

USER, PASSWORD = "toolpages", "toolpages-pass-123"
TOOLS = [*sorted(default_registry()), PLUGIN_TOOL]  # and a plug-in's, installed in the hub
_ERRORS = ("Traceback", "Javascript Error", "Error displaying widget", "Failed to display")


@pytest.fixture(scope="module")
def session(hub, chromium_browser, artifacts) -> Iterator[tuple[Page, list[str], Path]]:
    """One logged-in page of a user of the tool pages, with the JavaScript errors it saw."""
    hub.account(USER, PASSWORD)
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000},
                                           locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(180_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(f"console: {message.text}")
            if message.type == "error" and "favicon" not in message.text
            and "Failed to load resource" not in message.text else None)  # see requestfailed
    page.on("requestfailed", lambda request: errors.append(
        f"request failed: {_origin(request)} ({request.failure})")
            if _counts(request) else None)
    login(page, hub, USER, PASSWORD)
    page.wait_for_url(lambda url: "/hub/login" not in url and "/hub/spawn" not in url,
                      timeout=180_000)
    shots = artifacts / "tool-pages"
    shots.mkdir(exist_ok=True)
    yield page, errors, shots
    context.close()


def _origin(request) -> str:
    """The URL a failed request started from (before its redirects)."""
    while request.redirected_from is not None:
        request = request.redirected_from
    return request.url


def _counts(request) -> bool:
    """Whether a failed request is the page's fault (not one a page left behind when the
    test moved on: aborted)."""
    return "ERR_ABORTED" not in str(request.failure)


def open_tool(page: Page, hub, query: str) -> None:
    """Open a tool page and wait until it says it is usable (``data-tl-ready``)."""
    page.goto(f"{hub.url}/user/{USER}/voila/render/dashboards/tool.ipynb?{query}")
    page.wait_for_selector("body[data-tl-ready='1']", timeout=180_000)


@pytest.mark.parametrize("name", TOOLS)
def test_every_tool_page_renders(session, hub, name):
    page, errors, shots = session
    errors.clear()
    open_tool(page, hub, f"tool={name}")
    header = page.locator(".tl-tool-header")
    header.wait_for()
    tool = PageBrightness if name == PLUGIN_TOOL else default_registry()[name]
    assert tool_title(tool.info, "en") in header.inner_text()
    ready = not getattr(tool, "needs_model", False)
    if ready:
        assert page.locator("button.tl-run").is_visible()
    else:
        assert "needs a model" in page.locator(".tl-needs-model").inner_text()
        assert page.locator("button.tl-run").count() == 0
    page.locator(".leaflet-container").first.wait_for()
    text = page.inner_text("body")
    assert not [word for word in _ERRORS if word in text], text[:2000]
    page.screenshot(path=shots / f"{name}.png")
    assert errors == [], "\n".join(errors)


def _s2_item(hub) -> str:
    with CatalogIndex(default_index_path(hub.home)) as index:
        found = index.search(SearchQuery(collections=("sentinel-2-l2a",), max_cloud=30,
                                         limit=1))
    return str(found[0]["id"])


def test_ndvi_by_mouse_from_input_to_download(session, hub):
    page, errors, shots = session
    errors.clear()
    item = _s2_item(hub)
    open_tool(page, hub, f"tool=index&input={item}")  # as "send to tool" opens it
    picker = page.locator(".tl-field-image select")
    label = picker.locator("option").nth(1).inner_text()
    picker.select_option(label="— choose —")
    picker.select_option(label=label)  # the input, by mouse
    page.screenshot(path=shots / "ndvi-1-input.png")
    page.locator("button.tl-run").click()
    status = page.locator(".tl-job-status")
    status.wait_for()
    page.screenshot(path=shots / "ndvi-2-progress.png")
    page.wait_for_function("() => /Done|Failed/.test("
                           "document.querySelector('.tl-job-status').innerText)",
                           timeout=300_000)
    assert "Done" in status.inner_text(), page.locator(".tl-job textarea").input_value()
    # the result on the map: its tiles, coloured as an index
    page.wait_for_function("() => Array.from(document.querySelectorAll("
                           "'img.leaflet-tile[src*=\"colormap=rdylgn\"]')).some("
                           "t => t.complete && t.naturalWidth > 0)", timeout=120_000)
    divider = page.locator(".leaflet-sbs-divider")
    divider.wait_for()
    box = divider.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 150, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    moved = divider.bounding_box()
    assert moved["x"] < box["x"] - 100  # the swipe followed the mouse
    assert "NDVI" in page.locator(".leaflet-control").all_inner_texts().__str__()
    page.screenshot(path=shots / "ndvi-3-result-swiped.png")
    link = page.locator("a.tl-download[data-format='geotiff']")
    link.wait_for()
    href = str(link.get_attribute("href"))
    answer = page.request.get(href if href.startswith("http") else hub.url + href)
    assert answer.status == 200
    assert answer.body()[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00")
    assert re.search(r"\.tiff?", answer.headers.get("content-disposition", ""))
    assert errors == []
