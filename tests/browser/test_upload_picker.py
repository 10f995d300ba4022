"""The upload picker in a Voilà page behind the test hub, in real Chromium, by mouse.

A user of their own opens a Voilà page holding :class:`terralab.widgets.UploadPicker`,
clicks "Choose files…" and picks a 60 MB real-format GeoTIFF: the browser sends it in chunks
through the user's own server (the bridge), the progress bar moves, a dropped connection
half-way is resumed, and the file is published into my data (the page's ``on_ready`` hook
sees it). A NAD83 GeoTIFF and a 3 000 × 500 px one show the rule's message in the page.
Screenshots land in tests/artifacts/upload-picker-*.png.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import rasterio
import requests
from rasterio.transform import from_origin

from terralab.mydata.errors import UploadError
from terralab.mydata.limits import UploadLimits
from terralab.mydata.raster_publish import check_raster
from tests.browser.lab import login

pytestmark = [pytest.mark.browser, pytest.mark.hub]

USER = "picker-user"
PASSWORD = "picker-pass-123"
PAGE = "upload-picker.ipynb"
ROW = ".tl-upload-row[data-name='{}']"


def write_geotiff(path: Path, width: int, height: int, *, crs: str = "EPSG:32651",
                  transform=None) -> Path:
    """An uncompressed 3-band uint8 GeoTIFF with a ramp pattern (real format, quickly)."""
    ramp_x = np.arange(width, dtype=np.uint8)
    ramp_y = np.arange(height, dtype=np.uint8)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=3,
                       dtype="uint8", crs=crs, tiled=True, blockxsize=256, blockysize=256,
                       transform=transform or from_origin(220_000, 3_400_000, 0.5, 0.5)
                       ) as dst:
        for band in range(1, 4):
            dst.write(np.add.outer(ramp_y, ramp_x * np.uint8(band)), band)
    return path


def refusal(path: Path) -> str:
    """The message the platform's rules give ``path`` (what the page must show)."""
    with pytest.raises(UploadError) as refused:
        check_raster(path, UploadLimits(), name=path.name)
    return str(refused.value)


def write_page(hub) -> None:
    """The Voilà page: the picker and a line its on_ready hook fills."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as widgets\n"
        "from terralab.widgets.upload_picker import UploadPicker\n"
        "picker = UploadPicker(lang='en')\n"
        "done = widgets.HTML('<span class=\"ready-log\">nothing yet</span>')\n"
        "def shown(item):\n"
        "    done.value = f'<span class=\"ready-log\">ready: {item[\"id\"]}</span>'\n"
        "picker.on_ready(shown)\n"
        "widgets.VBox([picker, done])")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    folder = hub.home / "users" / USER
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / PAGE)


@pytest.fixture
def page(hub, chromium_browser):
    if USER not in hub.logins:
        hub.account(USER, PASSWORD)
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(page, hub, USER)
    page.wait_for_url(re.compile(rf"/user/{USER}/"), timeout=180_000)
    write_page(hub)
    page.goto(f"{hub.url}/user/{USER}/voila/render/{PAGE}")
    page.wait_for_selector(".tl-upload-drop button", timeout=240_000)
    yield page
    context.close()
    assert not problems, problems


def choose(page, *paths: Path) -> None:
    """Click "Choose files…" and pick ``paths`` in the file chooser."""
    with page.expect_file_chooser() as chooser:
        page.click(".tl-upload-drop button")
    chooser.value.set_files([str(path) for path in paths])


def width(page, name: str) -> float:
    return float(page.locator(ROW.format(name) + " .tl-upload-bar > div").evaluate(
        "(bar) => parseFloat(bar.style.width) || 0"))


def test_a_60_mb_geotiff_is_sent_in_chunks_resumed_and_published(page, hub, tmp_path,
                                                                 artifacts):
    source = write_geotiff(tmp_path / "field-60mb.tif", 4480, 4480)
    assert source.stat().st_size > 60 * 1000**2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttle = {"offline": False, "latency": 0, "downloadThroughput": -1,
                "uploadThroughput": 12 * 1024**2}
    cdp.send("Network.emulateNetworkConditions", throttle)
    choose(page, source)
    row = page.locator(ROW.format(source.name))
    page.wait_for_function(
        "(row) => row.dataset.state === 'sending' && "
        "parseFloat(row.querySelector('.tl-upload-bar > div').style.width) >= 25",
        arg=row.element_handle(), timeout=120_000)
    page.locator(".tl-upload").screenshot(path=artifacts / "upload-picker-progress.png")
    sent_before = width(page, source.name)
    assert 0 < sent_before < 100
    # the connection drops half-way; the picker asks what arrived and goes on from there
    cdp.send("Network.emulateNetworkConditions", {**throttle, "offline": True})
    page.wait_for_function("(row) => row.dataset.state === 'resuming'",
                           arg=row.element_handle(), timeout=60_000)
    page.locator(".tl-upload").screenshot(path=artifacts / "upload-picker-resuming.png")
    time.sleep(2)
    cdp.send("Network.emulateNetworkConditions", {**throttle, "uploadThroughput": -1})
    page.wait_for_function("(row) => row.dataset.state === 'ready'",
                           arg=row.element_handle(), timeout=300_000)
    assert width(page, source.name) == 100
    log = page.locator(".ready-log")
    log.filter(has_text="ready: ").wait_for(timeout=60_000)
    item_id = log.inner_text().removeprefix("ready: ").strip()
    assert row.locator(".tl-upload-state").inner_text() == "Ready in My data"
    page.locator(".tl-upload").screenshot(path=artifacts / "upload-picker-ready.png")
    headers = {"Authorization": f"token {hub.token(USER)}"}
    item = requests.get(f"{hub.url}/services/terralab/mydata/items/{item_id}",
                        headers=headers, timeout=30).json()
    assert item["source_name"] == source.name
    published = hub.home / "users" / USER / item["folder"] / "data.tif"
    with rasterio.open(published) as cog, rasterio.open(source) as original:
        assert (cog.width, cog.height) == (4480, 4480)
        assert np.array_equal(cog.read(2), original.read(2))  # every byte arrived once


def test_files_that_break_a_rule_show_its_message(page, hub, tmp_path, artifacts):
    nad83 = write_geotiff(tmp_path / "nad83.tif", 1024, 1024, crs="EPSG:4269",
                          transform=from_origin(-82.0, 30.0, 0.0001, 0.0001))
    thin = write_geotiff(tmp_path / "thin-3000x500.tif", 3000, 500)
    expected = {path.name: refusal(path) for path in (nad83, thin)}
    assert "NAD83" in expected[nad83.name] or "North American" in expected[nad83.name]
    choose(page, nad83, thin)
    for name, message in expected.items():
        row = page.locator(ROW.format(name))
        page.wait_for_function("(row) => row.dataset.state === 'failed'",
                               arg=row.element_handle(), timeout=120_000)
        assert row.locator(".tl-upload-message").inner_text() == message
        assert row.locator(".tl-upload-state").inner_text() == "Not uploaded"
    page.locator(".tl-upload").screenshot(path=artifacts / "upload-picker-refused.png")
    headers = {"Authorization": f"token {hub.token(USER)}"}
    names = [item["source_name"] for item in requests.get(
        f"{hub.url}/services/terralab/mydata/items", headers=headers, timeout=30
    ).json()["items"]]
    assert nad83.name not in names and thin.name not in names
