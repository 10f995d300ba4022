"""Map tiles served by the user's Jupyter server (:mod:`terralab.tiles` over HTTP).

Both endpoints need the server's login (token or JupyterHub cookie); the user is the
server's owner (:func:`terralab.identity.current_user`), who sees public catalog items, their
own items and the files in their own folder — never another user's.

- ``GET <base_url>terralab/tiles/{z}/{x}/{y}.png``: one WebMercatorQuad tile as a PNG.
- ``GET <base_url>terralab/tiles/info``: TileJSON (bounds, zooms, bands, default display)
  with a ``tiles`` URL template under the server's base URL.

Query parameters (both endpoints): the source, ``item=ID`` (with optional ``collection=``
and ``asset=``) or ``path=REL`` (relative to the user's folder); the display, ``bands=``,
``rescale=`` (repeatable, or ``;``-separated), ``colormap=``, ``nodata=``, ``tilesize=``
(syntax: :mod:`terralab.tiles.params`). Errors are JSON ``{"status", "message"}``: 400 for
a bad parameter, 403 for a refused path or file, 404 for an unknown item, a missing file
or a tile outside the image. Tiles render in a thread pool, off the IOLoop, so a map's
tiles render concurrently; the catalog index is opened once per server.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.client import responses
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from terralab.home import terralab_home
from terralab.identity import current_user
from terralab.mydata.errors import MyDataError
from terralab.service.error_table import ERRORS, NotFound
from terralab.service.errors import ServiceError
from terralab.service.http_client import service_client
from terralab.tiles.errors import TileAccessError, TileNotFound, TileParameterError

__all__ = ["TileHandler", "TileInfoHandler", "TileState", "tile_routes"]

_SOURCE = ("item", "collection", "asset", "path")
_DISPLAY = ("bands", "colormap", "nodata", "tilesize")
_TILE_CACHE = "private, max-age=60"


class TileState:
    """What the tile endpoints of one server share: the user, the data folder, the index.

    Args:
        home: the terralab data folder (``terralab_home()`` when omitted).
        user: the server's owner (``current_user()`` when omitted).
        workers: threads rendering tiles (default: twice the CPUs, 4…16).
    """

    def __init__(self, home: Path | None = None, user: str | None = None,
                 workers: int | None = None) -> None:
        self.home = (home or terralab_home()).resolve()
        self.user = user or current_user()
        count = workers or min(16, max(4, 2 * (os.cpu_count() or 1)))
        self.executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="terralab-tiles")
        self._index: Any = None
        self._lock = threading.Lock()

    def index(self) -> Any:
        """The catalog index, opened on first use and kept (None while there is none).

        :class:`~terralab.catalog.index.CatalogIndex` gives each thread its own SQLite
        connection, so the rendering threads share it safely.
        """
        if self._index is None:
            from terralab.catalog.index import CatalogIndex, default_index_path

            with self._lock:
                path = default_index_path(self.home)
                if self._index is None and path.is_file():
                    self._index = CatalogIndex(path)
        return self._index

    def find_own(self, item_id: str, collection: str | None) -> tuple[dict[str, Any], str] | None:
        """The server owner's own item, asked of the hub service (None: none, or no hub).

        The users' items live in the platform database, which a user's server may not read
        (PostgreSQL in a deployment): inside a hub the service answers them.
        """
        client = service_client()
        if client is None:
            return None
        try:
            record = client.request("mydata.get", item_id=item_id)
        except (MyDataError, NotFound, ServiceError):
            return None
        return record["item"], record["owner"]


class _TileBase(APIHandler):
    """Shared parts: the query parameters, running off the IOLoop, JSON errors."""

    def initialize(self, state: TileState) -> None:
        """Keep the server's tile state."""
        self.state = state

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer ``{"status", "message"}`` (also for a missing login: 403)."""
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        message = responses.get(status_code, "Unknown error")
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def query(self, names: tuple[str, ...]) -> dict[str, str]:
        """The query parameters among ``names`` that the request gives."""
        return {name: value for name in names
                if (value := self.get_query_argument(name, None)) is not None}

    def display(self) -> dict[str, str]:
        """The display parameters; repeated ``rescale`` parameters joined with ``;``."""
        found = self.query(_DISPLAY)
        if rescale := self.get_query_arguments("rescale"):
            found["rescale"] = ";".join(rescale)
        return found

    async def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in the tile threads; a tile error is answered by the error table."""
        try:
            return await IOLoop.current().run_in_executor(self.state.executor, work)
        except (TileParameterError, TileAccessError, TileNotFound) as error:
            status, body = ERRORS.answer_known(error)
            raise web.HTTPError(status, "%s", body["message"]) from None

    def resolver(self) -> Callable[[], Any]:
        """Return a function resolving the request's tile source (to call in a tile thread).

        The query is read here, on the IOLoop; the function touches no handler state.
        """
        from terralab.tiles import resolve_tile_source

        state, names = self.state, self.query(_SOURCE)
        return lambda: resolve_tile_source(state.user, home=state.home, index=state.index(),
                                           find_own=state.find_own, **names)


class TileHandler(_TileBase):
    """``GET <base_url>terralab/tiles/{z}/{x}/{y}.png``."""

    @web.authenticated
    async def get(self, z: str, x: str, y: str) -> None:
        """Render one tile of the item or file named in the query."""
        from terralab.tiles import render_tile

        display, source = self.display(), self.resolver()

        def work() -> bytes:
            return render_tile(source(), int(z), int(x), int(y), **display)

        png = await self.run(work)
        self.set_header("Cache-Control", _TILE_CACHE)
        self.finish(png, set_content_type="image/png")


class TileInfoHandler(_TileBase):
    """``GET <base_url>terralab/tiles/info``."""

    @web.authenticated
    async def get(self) -> None:
        """Answer TileJSON for the item or file named in the query."""
        from terralab.tiles import tile_info

        display, source = self.display(), self.resolver()

        def work() -> dict[str, Any]:
            return tile_info(source(), bands=display.get("bands"), nodata=display.get("nodata"))

        info = await self.run(work)
        params = {**self.query(_SOURCE), **display}
        template = url_path_join(self.base_url, "terralab", "tiles", "{z}", "{x}", "{y}.png")
        info["tiles"] = [template + ("?" + urlencode(params) if params else "")]
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(json.dumps(info))


def tile_routes(base_url: str, state: TileState | None = None) -> list[tuple[str, Any, dict]]:
    """Return the tornado routes of the tile endpoints under ``base_url``.

    Args:
        base_url: the Jupyter server's base URL (``/`` or ``/user/alice/``).
        state: the shared state (a new :class:`TileState` when omitted).
    """
    state = state or TileState()
    prefix = url_path_join(base_url, "terralab", "tiles")
    args = {"state": state}
    return [
        (prefix + "/info", TileInfoHandler, args),
        (prefix + r"/(\d+)/(\d+)/(\d+)\.png", TileHandler, args),
    ]
