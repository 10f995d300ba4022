"""Uploads from the browser: a file picker that sends files of any allowed size to my data.

:class:`UploadPicker` is an `anywidget <https://anywidget.dev>`_ (its front end ships in
the wheel; nothing is fetched). The browser sends the files itself, over HTTP, never through
the kernel's websocket (whose message size caps ipywidgets' ``FileUpload``): through the
same-origin bridge of the user's own Jupyter server (``<base_url>terralab/api/service/…``,
:mod:`terralab.extension.bridge`), with Jupyter's XSRF header and no token in page script.
For each chosen file it

1. announces the upload (``mydata.announce_upload``: a file of another type, over the size
   limit or the storage quota is refused before a byte is sent);
2. sends it in chunks of :data:`CHUNK_BYTES` with ``Content-Range``; after a network error
   it asks the service for the bytes ``received`` and goes on from there;
3. follows the publishing (``mydata.upload_status``) until the file is ready in my data, or
   shows the service's message (the rule a file breaks: a NAD83 GeoTIFF, 3 000 × 500 px…).

The page observes :attr:`UploadPicker.uploads` (one ``{name, size, sent, state, message,
item}`` per file) and :attr:`UploadPicker.ready_items`, or registers
:meth:`UploadPicker.on_ready`. The server's base URL is found in the page (Jupyter's
``jupyter-config-data``, which JupyterLab and Voilà both write), else the body's
``data-base-url``, else ``$JUPYTERHUB_SERVICE_PREFIX`` handed from the kernel.

:func:`download_url` gives the relative URL of an item's download through the same bridge,
for a link or a button of a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import anywidget
import traitlets

from terralab.mydata.limits import UploadLimits
from terralab.mydata.uploads import RASTER_SUFFIXES, VECTOR_SUFFIXES
from terralab.service.registry import endpoint
from terralab.settings import settings
from terralab.sizes import format_size
from terralab.widgets._upload_picker_front import ESM
from terralab.widgets.i18n import pick

__all__ = ["BRIDGE_PATH", "CHUNK_BYTES", "UploadPicker", "download_url"]

BRIDGE_PATH = "terralab/api/service/"
"""The bridge's route under the server's base URL (as
:data:`terralab.extension.bridge.BRIDGE_PATH`)."""

CHUNK_BYTES = 8 * 1024**2
"""The bytes of one chunk the browser sends."""

_CSS = """
.tl-upload { font: 13px/1.4 var(--jp-ui-font-family, sans-serif); max-width: 640px; }
.tl-upload-drop { border: 2px dashed #9aa5b1; border-radius: 6px; padding: 14px;
  text-align: center; background: #f8fafc; }
.tl-upload-drop.tl-over { border-color: #2563eb; background: #eff6ff; }
.tl-upload-drop button { font: inherit; padding: 6px 14px; border-radius: 4px;
  border: 1px solid #2563eb; background: #2563eb; color: #fff; cursor: pointer; }
.tl-upload-hint { color: #52606d; margin-top: 6px; font-size: 12px; }
.tl-upload-row { border-bottom: 1px solid #e4e7eb; padding: 6px 2px; }
.tl-upload-name { font-weight: 600; word-break: break-all; }
.tl-upload-bar { height: 8px; background: #e4e7eb; border-radius: 4px; overflow: hidden;
  margin: 4px 0; }
.tl-upload-bar > div { height: 100%; background: #2563eb; width: 0; }
.tl-upload-row[data-state="ready"] .tl-upload-bar > div { background: #16a34a; }
.tl-upload-row[data-state="failed"] .tl-upload-bar > div { background: #dc2626; }
.tl-upload-state { color: #334e68; font-size: 12px; }
.tl-upload-message { color: #b91c1c; font-size: 12px; white-space: pre-wrap; }
"""


def _labels(lang: str | None) -> dict[str, str]:
    """The widget's words in ``lang`` (default: the user's language)."""
    limit = format_size(UploadLimits.from_env().max_bytes)
    words = {
        "choose": ("Choose files…", "选择文件…"),
        "drop": ("or drop them here", "或拖放到这里"),
        "hint": (f"GeoTIFF, Erdas Imagine (.img), zipped shapefile, GeoJSON or GeoPackage, "
                 f"up to {limit} each", f"GeoTIFF、Erdas Imagine (.img)、压缩的 Shapefile、"
                 f"GeoJSON 或 GeoPackage，每个文件不超过 {limit}"),
        "waiting": ("Waiting", "等待中"),
        "announcing": ("Checking the file…", "正在检查文件…"),
        "sending": ("Uploading", "上传中"),
        "resuming": ("Connection lost; resuming…", "连接中断，正在续传…"),
        "publishing": ("Publishing (map tiles, statistics)…", "正在发布（地图瓦片、统计）…"),
        "ready": ("Ready in My data", "已加入我的数据"),
        "failed": ("Not uploaded", "上传失败"),
        "login": ("Your session has ended: reload the page and log in again.",
                  "登录已失效：请刷新页面并重新登录。"),
        "network": ("The connection keeps failing; the upload stopped.",
                    "网络连接多次失败，上传已停止。"),
    }
    return {key: pick(english, chinese, lang) for key, (english, chinese) in words.items()}


def _routes() -> dict[str, Any]:
    """The service paths and answers the front end uses, from their declarations."""
    send = endpoint("mydata.send_upload")
    return {"bridge": BRIDGE_PATH, "announce": endpoint("mydata.announce_upload").path,
            "state": endpoint("mydata.upload_status").path,
            "final": int(send.status)}


class UploadPicker(anywidget.AnyWidget):
    """A file picker that uploads into my data from the browser (see the module).

    Args:
        lang: ``"zh"`` or ``"en"`` (default: the user's language,
            :func:`terralab.widgets.i18n.language`).
        chunk_bytes: the bytes of one chunk (default :data:`CHUNK_BYTES`).
        multiple: allow several files at once.
        **kwargs: traits of the widget.
    """

    _esm = ESM
    _css = _CSS

    uploads = traitlets.List(traitlets.Dict(), help="One {name, size, sent, state, message, "
                             "item} per file, as the browser sends them").tag(sync=True)
    ready_items = traitlets.List(traitlets.Dict(), help="The items of my data the "
                                 "uploads became, in order").tag(sync=True)
    labels = traitlets.Dict(help="The widget's words").tag(sync=True)
    routes = traitlets.Dict(help="The service's paths and statuses").tag(sync=True)
    base_url = traitlets.Unicode("", help="The server's base URL, when the page does not "
                                 "say it").tag(sync=True)
    accept = traitlets.Unicode(help="The file types offered by the picker").tag(sync=True)
    chunk_bytes = traitlets.Int(CHUNK_BYTES).tag(sync=True)
    multiple = traitlets.Bool(True).tag(sync=True)
    retries = traitlets.Int(8, help="Broken chunks in a row before a file gives up"
                            ).tag(sync=True)

    def __init__(self, *, lang: str | None = None, chunk_bytes: int = CHUNK_BYTES,
                 multiple: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("labels", _labels(lang))
        kwargs.setdefault("routes", _routes())
        kwargs.setdefault("base_url", settings().hub.service_prefix or "")
        kwargs.setdefault("accept", ",".join((*RASTER_SUFFIXES, *VECTOR_SUFFIXES)))
        super().__init__(chunk_bytes=chunk_bytes, multiple=multiple, **kwargs)
        self._ready_callbacks: list[Callable[[dict[str, Any]], Any]] = []
        self._announced: set[str] = set()
        self.observe(self._new_ready, names="ready_items")

    def on_ready(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(item)`` for each upload that becomes an item of my data.

        ``item`` is the item as ``GET mydata/items/{id}`` answers it (``id``, ``title``,
        ``item``: the STAC item…); a page refreshes its list or adds it to the map.
        """
        self._ready_callbacks.append(callback)

    def _new_ready(self, change: dict[str, Any]) -> None:
        for item in change["new"]:
            key = str(item.get("id"))
            if key in self._announced:
                continue
            self._announced.add(key)
            for callback in self._ready_callbacks:
                callback(item)


def download_url(item_id: str, *, format: str | None = None, catalog: bool = False,
                 asset: str | None = None, collection: str | None = None) -> str:
    """The URL of an item's download through the bridge of the user's server.

    Relative to the server's base URL (``$JUPYTERHUB_SERVICE_PREFIX``, e.g.
    ``/user/alice/terralab/api/service/mydata/items/ID/download?format=geotiff``), so it works
    in Voilà and JupyterLab behind the hub as a link's ``href``; the download is metered
    like any other.

    Args:
        item_id: the item.
        format: for my data: rasters ``cog`` / ``geotiff``; vectors ``gpkg``, ``geojson`` or
            ``shapefile`` (zipped); default the stored file.
        catalog: a catalog item (``catalog.download``) instead of one of my data.
        asset: for a catalog item, the asset's key (required there).
        collection: for a catalog item, its collection (where ids repeat).

    Raises:
        ValueError: a ``format`` for a catalog item, or a catalog item without ``asset``.
    """
    if catalog:
        if format is not None:
            raise ValueError("a catalog download sends one asset as it is stored; choose "
                             "it with asset=, not format=")
        if not asset:
            raise ValueError("a catalog download needs the asset's key (asset=)")
        found = endpoint("catalog.download")
        values: dict[str, Any] = {"item_id": item_id, "asset": asset, "collection": collection}
    else:
        found = endpoint("mydata.download")
        values = {"item_id": item_id, "format": format}
    path, query, _ = found.split(found.validate(
        {key: value for key, value in values.items() if value is not None}))
    prefix = settings().hub.service_prefix or "/"
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    return f"{prefix}{BRIDGE_PATH}{path}" + (f"?{urlencode(query)}" if query else "")
