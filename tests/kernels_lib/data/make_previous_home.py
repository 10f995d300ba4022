"""How ``home_previous_release.zip`` was made: run with the release before the one store.

That release (commit cef59d0) kept my data, favourites and waiting uploads in
``platform.db`` through raw sqlite3 and users' catalog items in ``catalog/index.sqlite``.
This script, run with that release's code, wrote the home at ``/tmp/terralab-prev-home`` and
zipped it; :mod:`tests.kernels_lib.test_platform_migrate` opens it with today's code. It is
kept as the record of what the fixture holds, not run by the tests.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

HOME = Path("/tmp/terralab-prev-home")
ZIP = Path(__file__).with_name("home_previous_release.zip")


def main() -> None:
    """Write the previous release's home and zip it beside this script."""
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()
    os.environ["TERRALAB_HOME"] = str(HOME)
    os.environ.pop("TERRALAB_PLATFORM_DB_URL", None)

    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from shapely.geometry import box

    from terralab.catalog.favourites import add_favourite
    from terralab.catalog.index import CatalogIndex, default_index_path
    from terralab.mydata import upload_jobs
    from terralab.mydata.limits import UploadLimits
    from terralab.mydata.uploads import start_upload, upload_file
    from terralab.quotas.ledger import DOWNLOAD_BYTES, charge

    source = HOME.parent / "small.tif"
    ramp = (np.arange(1024) // 512).astype("uint8") * 100 + 20  # compresses to a few KB
    data = np.stack([np.broadcast_to(ramp, (1024, 1024)),
                     np.broadcast_to(ramp[:, None], (1024, 1024)),
                     np.full((1024, 1024), 90, "uint8")])
    with rasterio.open(source, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8", compress="deflate", tiled=True, crs="EPSG:32651",
                       transform=from_origin(220_000, 3_400_000, 0.5, 0.5)) as dst:
        dst.write(data)
    upload_file(source, owner="alice", title="Old field", home=HOME)
    public = {"type": "Feature", "stac_version": "1.0.0", "id": "public-scene",
              "collection": "demo-optical",
              "geometry": box(119.9, 30.5, 120.1, 30.7).__geo_interface__,
              "bbox": [119.9, 30.5, 120.1, 30.7],
              "properties": {"datetime": "2024-05-01T00:00:00Z", "eo:cloud_cover": 3.0},
              "links": [], "assets": {"data": {"href": "/nowhere/public-scene.tif"}}}
    with CatalogIndex(default_index_path(HOME)) as index:
        index.add_items([public])
    add_favourite("alice", public, home=HOME)
    pending = start_upload("alice", "waiting.tif", 1234, home=HOME)
    upload_jobs.announce(pending, UploadLimits(), title="Still waiting")
    charge(None, kind=DOWNLOAD_BYTES, key="old-download", owner="alice", amount=4321,
           note="demo-optical/public-scene/data", home=HOME)
    with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(HOME.rglob("*")):
            archive.write(path, str(path.relative_to(HOME)))


if __name__ == "__main__":
    main()
