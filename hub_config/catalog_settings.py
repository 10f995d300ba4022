"""Where catalog assets may live, as traitlets of the terralab hub.

:class:`CatalogSettings` is mixed into :class:`terralab.hub.settings.TerralabHub`, so a site
sets ``c.TerralabHub.catalog_asset_roots = ["/data/landsat"]`` like any JupyterHub option.
:meth:`CatalogSettings.catalog_settings` gives the ``catalog`` of the settings document
(:mod:`terralab.settings`) that the hub service and the workers read back with
:meth:`terralab.catalog.asset_policy.AssetPolicy.from_env`; the rules themselves are described
there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import HasTraits, List, TraitError, Unicode, validate

from terralab.catalog.asset_policy import DEFAULT_HOSTS

__all__ = ["CatalogSettings"]


class CatalogSettings(HasTraits):
    """The data roots and remote hosts that public catalog items may point at."""

    catalog_asset_roots = List(
        Unicode(),
        config=True,
        help="""Folders besides TERRALAB_HOME/catalog whose files public catalog items may
        name (absolute paths), e.g. ["/data/landsat"]. An item whose asset lies anywhere
        else (the hub's secrets, another user's folder, /etc) is refused when it is ingested
        and never served.""",
    )

    catalog_asset_hosts = List(
        Unicode(),
        default_value=list(DEFAULT_HOSTS),
        config=True,
        help="""Hosts whose http(s) URLs public catalog items may name, and the thumbnail
        route may redirect to; "*.example.com" matches the subdomains of example.com. The
        service fetches a URL only when every address of its host is public (no loopback,
        link-local or private address) and checks each redirect the same way; an IP address
        listed here literally is allowed as it is. Default: the Planetary Computer's and
        Earth Search's asset and preview hosts.""",
    )

    @validate("catalog_asset_roots")
    def _check_roots(self, proposal: dict[str, Any]) -> list[str]:
        for root in proposal["value"]:
            if not Path(root).expanduser().is_absolute():
                raise TraitError(f"catalog_asset_roots: {root!r} is not an absolute path")
            if os.pathsep in root:
                raise TraitError(f"catalog_asset_roots: {root!r} holds {os.pathsep!r}")
        return proposal["value"]

    @validate("catalog_asset_hosts")
    def _check_hosts(self, proposal: dict[str, Any]) -> list[str]:
        for host in proposal["value"]:
            bare = host.removeprefix("*.")
            if not bare or "," in host or "/" in host or "*" in bare or " " in host:
                raise TraitError(f"catalog_asset_hosts: {host!r} is not a host name or "
                                 "*.domain pattern")
        return proposal["value"]

    def catalog_settings(self) -> dict[str, Any]:
        """These rules as the settings document's ``catalog`` (``CatalogSettings``)."""
        return {"asset_roots": list(self.catalog_asset_roots),
                "asset_hosts": [host.lower() for host in self.catalog_asset_hosts]}
