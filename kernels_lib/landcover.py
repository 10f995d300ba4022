"""The 10 land-cover classes of terralab (PRODUCT.md §4) with their codes and colours.

Code 0 is nodata. Every class map terralab writes or reads uses these codes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLASSES", "NODATA", "LandCoverClass", "by_name"]

NODATA = 0


@dataclass(frozen=True)
class LandCoverClass:
    """One land-cover class.

    Attributes:
        code: the pixel value in class maps (1…10).
        name: the machine name.
        title: the English title.
        title_zh: the Chinese title.
        color: the display colour as ``#rrggbb``.
    """

    code: int
    name: str
    title: str
    title_zh: str
    color: str


CLASSES: tuple[LandCoverClass, ...] = (
    LandCoverClass(1, "cropland", "Cropland", "耕地", "#f2d16b"),
    LandCoverClass(2, "forest", "Forest", "林地", "#1f7a3a"),
    LandCoverClass(3, "grass", "Grassland", "草地", "#8fd16a"),
    LandCoverClass(4, "building", "Building", "建筑", "#d6453d"),
    LandCoverClass(5, "road", "Road", "道路", "#7a7a7a"),
    LandCoverClass(6, "structure", "Structure", "构筑物", "#b05fc4"),
    LandCoverClass(7, "excavated", "Excavated land", "人工堆掘地", "#c98b4b"),
    LandCoverClass(8, "bare", "Bare land", "裸地", "#e3c8a8"),
    LandCoverClass(9, "water", "Water", "水体", "#2f6fd6"),
    LandCoverClass(10, "unknown", "Unknown / cloud-snow", "未知/云雪", "#ffffff"),
)


def by_name(name: str) -> LandCoverClass:
    """Return the class with machine name ``name``.

    Raises:
        KeyError: for a name that is not one of the 10 classes.
    """
    for cls in CLASSES:
        if cls.name == name:
            return cls
    raise KeyError(f"unknown land-cover class {name!r}; known: {[c.name for c in CLASSES]}")
