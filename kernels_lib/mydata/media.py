"""Media results: an animation (GIF or MP4) made by a tool, kept in the user's data.

A tool such as ``animation`` writes a file that is neither a raster nor a vector. It is kept
like any other result (:mod:`terralab.mydata.results`), with the same all-or-nothing steps
as an upload (:mod:`terralab.mydata.uploads`):

1. its size is **reserved** in the user's storage quota (:func:`terralab.mydata.store.reserve`);
2. in a private staging folder it is checked — the first frame must decode — and a PNG
   thumbnail of the first frame (256 pixels on its longer side) is drawn;
3. the file (``data.gif`` / ``data.mp4``) and ``thumbnail.png`` move to
   ``users/<name>/results/<id>/``, the private STAC item is added to the catalog index (its
   geometry is the animation's footprint in lon/lat, so a search of the area finds it) and the
   bytes on disk are charged. Any failure removes everything and releases the reservation.

The item has ``terralab:kind = "result"``, ``terralab:data_type = "media"``, the tool as its
source, and the assets ``data`` (``image/gif`` or ``video/mp4``) and ``thumbnail``;
``terralab:frames``, ``terralab:fps`` and ``terralab:size`` ([width, height]) describe it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from terralab.home import terralab_home, user_dir
from terralab.mydata import store
from terralab.mydata.errors import UploadError
from terralab.mydata.items import COLLECTION
from terralab.mydata.uploads import _give_to_owner, new_item_id
from terralab.quotas.policy import StoragePolicy

__all__ = ["MEDIA_TYPES", "THUMBNAIL_SIDE", "publish_media"]

MEDIA_TYPES = {".gif": "image/gif", ".mp4": "video/mp4"}
"""The media a result may be, by file suffix, with their media types."""
THUMBNAIL_SIDE = 256


def _first_frame(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The first frame (RGB) and what the file is: frame count, fps, size.

    Raises:
        UploadError: ``rule="publish"`` when the file does not decode.
    """
    try:
        if path.suffix == ".gif":
            from PIL import Image

            with Image.open(path) as image:
                if image.format != "GIF":
                    raise ValueError(f"not a GIF but {image.format}")
                frame = np.asarray(image.convert("RGB"))
                duration = image.info.get("duration") or 0
                info = {"frames": getattr(image, "n_frames", 1),
                        "fps": round(1000 / duration, 3) if duration else None,
                        "size": list(image.size)}
            return frame, info
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = reader.__next__()
            width, height = meta["size"]
            frame = np.frombuffer(reader.__next__(), dtype=np.uint8).reshape(height, width, 3)
        finally:
            reader.close()
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        return frame, {"frames": frames, "fps": meta.get("fps"), "size": [width, height]}
    except UploadError:
        raise
    except Exception as error:  # a decoder's own errors: not a usable animation
        raise UploadError(f"{path.name} is not a readable {path.suffix[1:].upper()} "
                          f"animation: {error}", rule="publish") from None


def _thumbnail(frame: np.ndarray, target: Path) -> Path:
    """Write the first frame, at most 256 pixels on its longer side, as a PNG."""
    from PIL import Image

    image = Image.fromarray(frame)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    image.save(target, format="PNG")
    return target


def _item(item_id: str, *, folder: Path, data: Path, thumbnail: Path, title: str, tool: str,
          created: str, size: int, info: dict[str, Any],
          footprint: dict[str, Any] | None) -> dict[str, Any]:
    """The private STAC item of a media result."""
    import shapely
    from shapely.geometry import mapping, shape

    properties: dict[str, Any] = {
        "title": title, "datetime": created, "created": created, "terralab:kind": "result",
        "terralab:data_type": "media", "terralab:source_name": tool, "terralab:bytes": size,
        "terralab:flags": [], "terralab:frames": info["frames"], "terralab:fps": info["fps"],
        "terralab:size": info["size"], "proj:code": None}
    item: dict[str, Any] = {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": item_id,
        "collection": COLLECTION, "properties": properties, "links": [], "geometry": None,
        "assets": {
            "data": {"href": str(folder / data.name), "type": MEDIA_TYPES[data.suffix],
                     "roles": ["data"], "title": title},
            "thumbnail": {"href": str(folder / thumbnail.name), "type": "image/png",
                          "roles": ["thumbnail"], "title": "First frame"}}}
    if footprint is not None:
        geometry = shape(footprint)
        if not geometry.is_empty and shapely.is_valid(geometry):
            item["geometry"] = mapping(geometry)
            item["bbox"] = list(geometry.bounds)
    return item


def publish_media(owner: str, path: str | Path, *, tool: str, title: str | None = None,
                  footprint: dict[str, Any] | None = None, policy: StoragePolicy | None = None,
                  groups: Iterable[str] = (), home: Path | None = None,
                  item_id: str | None = None) -> store.MyDataRecord:
    """Keep a tool's animation (GIF or MP4) as a result in ``owner``'s data.

    Args:
        owner: the user who ran the tool.
        path: the animation (``.gif`` or ``.mp4``).
        tool: the tool's registered name (the item's source).
        title: the name to show (default: the file name).
        footprint: the area shown, a GeoJSON geometry in lon/lat (the ``animation`` tool
            gives it as ``extra["footprint"]``); without it the item is not found by area.
        policy: the storage quota policy (default from the environment).
        groups: the user's groups (group quotas).
        home: the terralab data folder.
        item_id: the result's id (a queued job's); default a new one.

    Returns:
        The new item of the user's data.

    Raises:
        UploadError: ``rule="type"`` for another kind of file, ``"quota"`` when it does not
            fit the user's storage, ``"publish"`` when it does not decode; nothing is kept
            and no quota is charged then.
        FileNotFoundError: if ``path`` is not a file.
    """
    from terralab.catalog.index import CatalogIndex, default_index_path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix not in MEDIA_TYPES:
        raise UploadError(f"{path.name}: a media result is a GIF or an MP4 file",
                          rule="type")
    home = home or terralab_home()
    policy = policy or StoragePolicy.from_env()
    groups = tuple(groups)
    title = title or path.name
    root = user_dir(owner, home=home)
    item_id = item_id or new_item_id(path.name)
    folder = f"results/{item_id}"
    store.reserve(owner, item_id, path.stat().st_size, kind="result", data_type="media",
                  title=title, source_name=tool, folder=folder, policy=policy, groups=groups,
                  home=home)
    staging = home / "staging" / f"{owner}-{item_id}"
    final = root / folder
    item: dict[str, Any] | None = None
    indexed = False
    try:
        out = staging / "out"
        out.mkdir(parents=True, mode=0o700)
        data = out / f"data{suffix}"
        shutil.copyfile(path, data)
        frame, info = _first_frame(data)
        thumbnail = _thumbnail(frame, out / "thumbnail.png")
        size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
        created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        item = _item(item_id, folder=final, data=data, thumbnail=thumbnail, title=title,
                     tool=tool, created=created, size=size, info=info, footprint=footprint)
        final.parent.mkdir(parents=True, exist_ok=True)
        out.rename(final)
        _give_to_owner(final, root)
        if item["geometry"] is not None:
            with CatalogIndex(default_index_path(home)) as index:
                index.add_items([item], owner=owner)
            indexed = True
        return store.commit(owner, item_id, size, item, policy=policy, groups=groups,
                            home=home)
    except BaseException:
        if indexed:
            with CatalogIndex(default_index_path(home)) as index:
                index.remove(item_id, collection=COLLECTION, owner=owner)
        shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        store.release(owner, item_id, home=home)
