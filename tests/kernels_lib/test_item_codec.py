"""Compact item bodies: what is taken out of an item's text comes back exactly."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from terralab.catalog._item_codec import (
    DICTIONARY_SAMPLES,
    BodyCodec,
    bbox_text,
    geometry_text,
    pack,
    train_dictionary,
    unpack,
)


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("geometry", [
    box(119.5, 30.25, 120.125, 31.0),
    Polygon([(0.1, 0.2), (1.3, 0.2), (1.3, 1.7), (0.1, 0.2)], [[(0.5, 0.4), (0.9, 0.4),
                                                                  (0.9, 0.6), (0.5, 0.4)]]),
    MultiPolygon([box(179.5, 50, 180, 51), box(-180, 50, -179.5, 51)]),
])
def test_the_footprint_text_is_what_json_writes(geometry: shapely.Geometry) -> None:
    mapping = shapely.geometry.mapping(geometry)
    expected = dumps({"type": mapping["type"],
                      "coordinates": json.loads(json.dumps(mapping["coordinates"]))})
    assert geometry_text(shapely.from_wkb(shapely.to_wkb(geometry))) == expected


def test_other_geometries_and_3d_stay_inline() -> None:
    assert geometry_text(shapely.Point(1, 2)) is None
    assert geometry_text(shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 0, 1)])) is None


@pytest.mark.parametrize("item_id", ["S2A_50RQV_20261015_0_L2A", 'a "quoted" id', "back\\slash",
                                     "蝴蝶 ü", "1", "tab\there", "Feature"])
def test_pack_and_unpack_give_the_same_text_for_any_id(item_id: str) -> None:
    geometry = box(120.0, 30.0, 121.0, 31.0)
    item = {"type": "Feature", "id": item_id, "geometry": shapely.geometry.mapping(geometry),
            "bbox": [120.0, 30.0, 121.0, 31.0], "properties": {"title": f"{item_id} 1"},
            "assets": {"a": {"href": f"s3://bucket/{item_id}/B04.tif"}}}
    item["geometry"] = json.loads(json.dumps(item["geometry"]))
    text = dumps(item)
    geom, bbox = geometry_text(geometry), bbox_text(geometry.bounds)
    residual = pack(text, item_id, geom, bbox)
    assert geom not in residual and len(residual) < len(text)
    assert unpack(residual, item_id, lambda: geom, bbox) == text


def test_a_text_without_the_parts_is_left_as_it_is() -> None:
    text = dumps({"id": "x", "geometry": {"type": "Point", "coordinates": [1, 2]}})
    residual = pack(text, "absent-id", geometry_text(box(0, 0, 1, 1)), bbox_text([0, 0, 1, 1]))
    assert residual == text
    assert unpack(residual, "absent-id", lambda: pytest.fail("not asked for"),
                  "[0,0,1,1]") == text


def test_a_dictionary_makes_bodies_small_and_is_needed_to_read_them() -> None:
    texts = [dumps({"type": "Feature", "stac_version": "1.1.0", "id": "\x01",
                    "properties": {"datetime": f"2024-01-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
                                   "platform": "sentinel-2a", "eo:cloud_cover": n * 0.37 % 100},
                    "assets": {"red": {"href": "s3://b/\x01/B04.tif", "roles": ["data"]}}})
             for n in range(DICTIONARY_SAMPLES * 2)]
    assert train_dictionary(texts[:DICTIONARY_SAMPLES - 1]) is None
    dictionary = train_dictionary(texts)
    assert dictionary is not None
    codec = BodyCodec()
    number, frame = codec.compress(texts[-1], dictionary)
    plain, plain_frame = codec.compress(texts[-1], None)
    assert (number, plain) == (1, 0) and len(frame) < len(plain_frame) / 2
    assert codec.decompress(number, frame, dictionary) == texts[-1]
    assert codec.decompress(plain, plain_frame, None) == texts[-1]
    with pytest.raises(ValueError, match="dictionary"):
        codec.decompress(number, frame, None)
