"""The pixel inspector, the time slider and the job progress bar (no browser, no network)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from ipyleaflet import TileLayer

from terralab.queue.records import QueueStanding
from terralab.widgets import Inspector, JobProgress, Map, TimeSlider
from terralab.widgets.inspector import BandValue, read_pixel, source_of
from terralab.widgets.time_slider import frame_date

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _tif(path: Path, values: list[float], *, crs: str = "EPSG:4326",
         nodata: float | None = None) -> Path:
    """A 10×10 raster, one band per value, over lon 120…121, lat 30…31 (or UTM 51N)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if crs == "EPSG:4326":
        transform = from_origin(120.0, 31.0, 0.1, 0.1)
    else:  # EPSG:32651, about the same place, 10 km pixels
        transform = from_origin(200_000.0, 3_430_000.0, 10_000.0, 10_000.0)
    data = np.stack([np.full((10, 10), v, dtype="float32") for v in values])
    data[0, 0, 0] = nodata if nodata is not None else data[0, 0, 0]
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=len(values),
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data)
    return path


def _click(m: Map, lat: float, lon: float) -> None:
    """What the front end sends on a click (ipyleaflet's interaction message)."""
    for callback in m._interaction_callbacks.callbacks:
        callback(type="click", coordinates=[lat, lon])


# ------------------------------------------------------------------- inspector
def test_raster_layers_keep_their_source(widget_env: Path) -> None:
    _tif(widget_env / "users/alice/a.tif", [1.0])
    m = Map()
    layer = m.add(widget_env / "users/alice/a.tif")
    assert source_of(layer) == {"path": "a.tif"}
    assert source_of(m.add("item:abc"))["item"] == "abc"
    assert source_of(m.layers[0]) is None  # the basemap


def test_inspector_reads_every_band_on_click(widget_env: Path) -> None:
    alice = widget_env / "users/alice"
    _tif(alice / "rgb.tif", [10.0, 20.0, 30.0])
    _tif(alice / "utm.tif", [7.5], crs="EPSG:32651", nodata=-9999.0)
    m = Map()
    m.add(alice / "rgb.tif", name="RGB")
    m.add(alice / "utm.tif", name="UTM")
    m.add({"type": "Point", "coordinates": [120.5, 30.5]}, name="pt")  # vectors are skipped
    inspector = m.add_inspector()
    assert isinstance(inspector, Inspector)
    assert m.add_inspector() is inspector and inspector in m.controls
    _click(m, 30.55, 120.55)
    assert list(inspector.values) == ["UTM", "RGB"]  # top layer first
    assert inspector.values["RGB"] == [BandValue("b1", 10.0), BandValue("b2", 20.0),
                                       BandValue("b3", 30.0)]
    assert inspector.values["UTM"] == [BandValue("b1", 7.5)]
    html = inspector.output.value
    assert "RGB" in html and "b3" in html and "30" in html and "30.55000, 120.55000" in html
    _click(m, 45.0, 100.0)
    assert inspector.values == {"UTM": None, "RGB": None}
    assert inspector.output.value.count("outside") == 2


def test_inspector_nodata_errors_and_hidden_layers(widget_env: Path) -> None:
    alice = widget_env / "users/alice"
    _tif(alice / "n.tif", [3.0], nodata=-1.0)
    m = Map()
    layer = m.add(alice / "n.tif", name="N")
    m.add("item:nowhere", name="Missing")
    inspector = m.add_inspector()
    inspector.handle(type="click", coordinates=[30.95, 120.05])  # pixel (0, 0) holds nodata
    assert inspector.values["N"] == [BandValue("b1", None)]
    assert isinstance(inspector.values["Missing"], str)
    assert "no data" in inspector.output.value
    inspector.handle(type="mousemove", coordinates=[30.5, 120.5])  # ignored
    assert inspector.point == (120.05, 30.95)
    layer.visible = False
    assert "N" not in inspector.inspect(120.5, 30.5)
    inspector.detach()


def test_read_pixel_directly(widget_env: Path) -> None:
    _tif(widget_env / "users/alice/x.tif", [4.0, 5.0])
    assert read_pixel({"path": "x.tif"}, 120.5, 30.5) == [BandValue("b1", 4.0),
                                                         BandValue("b2", 5.0)]
    assert read_pixel({"path": "x.tif"}, 0.0, 0.0) is None


def test_inspector_reads_a_dataarray_layer() -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("rioxarray")
    data = xr.DataArray(np.full((20, 20), 0.25, dtype="float32"), dims=("y", "x"),
                        coords={"y": np.linspace(31, 30, 20), "x": np.linspace(120, 121, 20)},
                        name="ndvi")
    m = Map()
    m.add(data)
    values = m.add_inspector().inspect(120.5, 30.5)
    assert values == {"ndvi": [BandValue("ndvi", 0.25)]}


# ------------------------------------------------------------------- time slider
def test_time_slider_switches_the_layer_and_the_inspector_follows(widget_env: Path) -> None:
    alice = widget_env / "users/alice"
    files = [_tif(alice / f"s2_{day}.tif", [value])
             for day, value in (("20240610", 2.0), ("2024-05-10", 1.0), ("20240710", 3.0))]
    m = Map()
    slider = m.add_time_slider(files, name="NDVI", colormap="rdylgn", rescale="0,3")
    assert isinstance(slider, TimeSlider) and slider in m.controls
    assert slider.layer in m.layers and isinstance(slider.layer, TileLayer)
    assert slider.labels == ["2024-05-10", "2024-06-10", "2024-07-10"]
    assert _query(slider.layer.url)["path"] == "s2_2024-05-10.tif"
    assert _query(slider.layer.url)["colormap"] == "rdylgn"
    assert slider.layer.bounds  # from the file
    inspector = m.add_inspector()
    assert inspector.inspect(120.5, 30.5)["NDVI"] == [BandValue("b1", 1.0)]
    slider.slider.value = "2024-07-10"
    assert _query(slider.layer.url)["path"] == "s2_20240710.tif" and slider.play.value == 2
    assert inspector.inspect(120.5, 30.5)["NDVI"] == [BandValue("b1", 3.0)]
    slider.play.value = 1  # the play button steps the slider
    assert slider.slider.value == "2024-06-10"
    assert _query(slider.layer.url)["path"] == "s2_20240610.tif"
    with pytest.raises(ValueError, match="no date"):
        slider.show("1999-01-01")


def test_time_slider_of_items_pairs_and_errors() -> None:
    pystac = pytest.importorskip("pystac")
    box = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 30]]]}
    items = [pystac.Item(f"S2_{d}", box, [120, 30, 121, 31], datetime(2024, 5, d, tzinfo=UTC),
                         {}, collection="sentinel-2-l2a") for d in (20, 10)]
    m = Map()
    slider = m.add_time_slider(items, bands="B08,B04,B03")
    assert slider.labels == ["2024-05-10", "2024-05-20"]
    assert _query(slider.layer.url)["item"] == "S2_10"
    slider.show("2024-05-20")
    assert _query(slider.layer.url)["item"] == "S2_20" and slider.slider.value == "2024-05-20"
    pairs = m.add_time_slider([("spring", "item:a"), ("summer", "item:b")])
    assert pairs.labels == ["spring", "summer"]
    same = m.add_time_slider(["item:a", "item:b"])  # no dates: numbered, kept in order
    assert same.labels == ["#1", "#2"]
    assert frame_date({"properties": {"datetime": "2023-01-02T00:00:00Z"}}) == "2023-01-02"
    with pytest.raises(ValueError, match="at least one"):
        m.add_time_slider([])
    with pytest.raises(TypeError, match="rasters take"):
        m.add_time_slider(["item:a"], color="red")


# ------------------------------------------------------------------- job progress
class FakeJob:
    """A job whose fields the test changes (like :class:`terralab.queue.Job`)."""

    def __init__(self) -> None:
        self.status = "queued"
        self.progress = 0.0
        self.message = ""
        self.standing: QueueStanding | None = QueueStanding(position=2, jobs_ahead=1,
                                                            workers=1, workers_busy=1)
        self.result = None

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


def test_job_progress_follows_queued_running_and_succeeded() -> None:
    job = FakeJob()
    bar = JobProgress(job, start=False)
    assert "position 2 in the queue" in bar.label.value and bar.bar.value == 0
    job.status, job.progress, job.message, job.standing = "running", 42.4, "tile 3/7", None
    bar.update()
    assert bar.bar.value == 42 and bar.label.value == "42% tile 3/7" and not bar.finished
    job.status, job.progress = "succeeded", 100.0
    job.result = SimpleNamespace(title="NDVI of field", id="r1")
    bar.update()
    assert bar.bar.value == 100 and bar.label.value == "done: NDVI of field"
    assert bar.bar.bar_style == "success" and bar.finished


def test_job_progress_failed_and_unreadable() -> None:
    job = FakeJob()
    job.status, job.message = "failed", "out of memory"
    bar = JobProgress(job)  # already done: no thread
    assert bar.label.value == "failed: out of memory" and bar.bar.bar_style == "danger"
    assert bar.finished and bar._thread is None

    class Broken:
        @property
        def status(self) -> str:
            raise ConnectionError("queue gone")

    broken = JobProgress(Broken(), start=False)
    assert "queue gone" in broken.label.value and broken.finished


def test_job_progress_thread_polls_without_blocking() -> None:
    job = FakeJob()
    started = time.monotonic()
    bar = JobProgress(job, interval=0.01)
    assert time.monotonic() - started < 0.5  # the constructor returns at once
    job.status, job.progress = "running", 60.0
    deadline = time.monotonic() + 5
    while bar.bar.value != 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bar.bar.value == 60
    job.status = "cancelled"
    bar.join(timeout=5)
    assert bar.finished and bar.label.value == "cancelled"
    assert not bar._thread.is_alive()
