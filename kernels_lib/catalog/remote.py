"""The hub transport of the catalog API: the same calls, answered by the terralab hub service.

Inside a user's server of a terralab hub, the spawner sets ``TERRALAB_SERVICE_URL`` and
JupyterHub sets ``JUPYTERHUB_API_TOKEN``; then ``tl.search``, favourites and downloads go to
the trusted hub service, which applies the user's rights and counts their download bytes.
Without a hub (a plain notebook, a script, the tests) the same calls run in-process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from terralab.catalog.disposition import attachment_name
from terralab.catalog.downloads import write_whole
from terralab.service.http_client import ServiceClient as BaseClient
from terralab.service.http_client import ServiceError

__all__ = ["ServiceClient", "ServiceError", "service_client"]


class ServiceClient(BaseClient):
    """The hub service's client with the catalog calls (search, favourites, downloads)."""

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST catalog/search``; returns the FeatureCollection."""
        return self.call("POST", "catalog/search", json=body).json()

    def favourites(self) -> list[dict[str, Any]]:
        """``GET catalog/favourites``."""
        return self.call("GET", "catalog/favourites").json()["features"]

    def add_favourite(self, item_id: str, collection: str | None = None) -> bool:
        """``PUT catalog/favourites/{id}``; True when newly added."""
        params = {"collection": collection} if collection else None
        path = f"catalog/favourites/{quote(item_id, safe='')}"
        return bool(self.call("PUT", path, params=params).json()["added"])

    def remove_favourite(self, item_id: str, collection: str | None = None) -> None:
        """``DELETE catalog/favourites/{id}``."""
        params = {"collection": collection} if collection else None
        self.call("DELETE", f"catalog/favourites/{quote(item_id, safe='')}",
                   params=params)

    def download(self, item_id: str, asset: str, dest: Path, *, collection: str | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> Path:
        """Stream one asset into the folder ``dest`` (``.part`` until complete)."""
        params: dict[str, str] = {"asset": asset}
        if collection:
            params["collection"] = collection
        if bbox:
            params["bbox"] = ",".join(str(v) for v in bbox)
        response = self.call("GET", f"catalog/items/{quote(item_id, safe='')}/download",
                              params=params, stream=True)
        name = attachment_name(response.headers.get("Content-Disposition", ""),
                               f"{item_id}_{asset}")
        target = Path(dest) / name
        try:
            write_whole(target, response.iter_content(1 << 20))
        finally:
            response.close()
        return target


def service_client() -> ServiceClient | None:
    """Return a client of the hub service when running inside a terralab hub, else None."""
    url = os.environ.get("TERRALAB_SERVICE_URL")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if url and token:
        return ServiceClient(url, token)
    return None
