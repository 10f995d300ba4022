"""Products without a real collection behind them: users' own items and the demo aerial pair.

:data:`GENERIC` is the fallback for items of unregistered collections: its bands are read
from the item itself (asset key = band key, ``raster:bands`` scale/offset/nodata when the
asset declares them, else the file's nodata). :data:`DEMO_AERIAL` is the 0.5 m RGB+NIR
aerial pair of the demo region: one 4-band uint8 asset ``image`` (nodata 0).
"""

from __future__ import annotations

from terralab.products._base import Band, Product, RGBPreset

__all__ = ["DEMO_AERIAL", "GENERIC"]

GENERIC = Product(id="generic", title="Any raster item (users' own data)")

DEMO_AERIAL = Product(
    id="demo-aerial",
    title="Demo aerial RGB+NIR, 0.5 m",
    bands={
        name: Band(asset="image", band_id=name.upper(), common_name=name,
                   description=f"{name} (8-bit digital number)", resolution=0.5, dtype="uint8",
                   nodata=0, index=index, kind="image")
        for index, name in enumerate(("red", "green", "blue", "nir"), start=1)
    },
    rgb=RGBPreset(("red", "green", "blue"), ((0.0, 255.0),) * 3),
    assets=("image", "landcover", "change", "parcels", "truth"),
)
