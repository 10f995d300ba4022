"""Where the assets of public catalog items may live: data roots and allowed remote hosts.

An administrator ingests items; their hrefs are then read by the hub service and the workers
for any user (downloads, thumbnails, tiles, tool inputs). So an href may only name

- a file under a **data root**: the catalog folder of ``TERRALAB_HOME`` (``catalog/``, or the
  folder of the index being ingested into) and the extra roots of
  ``TerralabHub.catalog_asset_roots`` (``$TERRALAB_CATALOG_ROOTS``, ``os.pathsep``-separated),
  checked on the real path (links resolved); or
- an ``http(s)`` URL on an **allowed host**: ``TerralabHub.catalog_asset_hosts``
  (``$TERRALAB_CATALOG_HOSTS``, comma-separated; default :data:`DEFAULT_HOSTS`, the public
  hosts of the Planetary Computer's and Earth Search's COGs and previews). ``*.example.com``
  matches every subdomain of example.com. Before the service fetches one, the host's
  addresses are resolved and every one must be public (no loopback, link-local, private or
  reserved address; an IP address the list names literally is the administrator's choice),
  and each redirect is checked the same way before it is followed.

Hrefs are checked when items are ingested (:func:`check_item`, refused with a message) and
again whenever an asset is served (:mod:`terralab.catalog.assets`), so an index written
before these rules is just as safe. A user's own items have stricter rules of their own
(files in that user's folder only, no URL).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from terralab.home import terralab_home
from terralab.settings import settings_of

__all__ = ["DEFAULT_HOSTS", "HOSTS_VARIABLE", "MAX_REDIRECTS", "ROOTS_VARIABLE",
           "AssetPolicy", "HrefRefusedError", "check_item"]

DEFAULT_HOSTS: tuple[str, ...] = (
    "*.blob.core.windows.net",          # Planetary Computer COGs (Sentinel-1/2, Landsat)
    "planetarycomputer.microsoft.com",  # its STAC API and rendered previews
    "earth-search.aws.element84.com",   # Earth Search's STAC API
    "*.s3.us-west-2.amazonaws.com",     # Earth Search's COGs and previews (sentinel-cogs)
    "*.s3.amazonaws.com",
    "landsatlook.usgs.gov",             # Landsat browse images
)
"""The remote hosts catalog assets may be fetched from unless the site says otherwise."""

ROOTS_VARIABLE = "TERRALAB_CATALOG_ROOTS"
HOSTS_VARIABLE = "TERRALAB_CATALOG_HOSTS"
MAX_REDIRECTS = 5
_FETCHED = ("http", "https")


class HrefRefusedError(PermissionError):
    """An asset href outside the data roots and allowed hosts; the message says why."""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


@dataclass(frozen=True)
class AssetPolicy:
    """The data roots and allowed hosts of public catalog assets.

    Attributes:
        roots: folders whose files may be assets (the first is the catalog folder).
        hosts: host names (``*.`` patterns allowed) whose http(s) URLs may be assets.
    """

    roots: tuple[Path, ...]
    hosts: tuple[str, ...] = DEFAULT_HOSTS

    @classmethod
    def from_env(cls, home: Path | None = None, *, catalog: Path | None = None,
                 env: Mapping[str, str] | None = None) -> AssetPolicy:
        """The policy the hub configured (the settings' ``catalog.asset_roots``/``_hosts``).

        Without a hub, ``$TERRALAB_CATALOG_ROOTS`` and ``$TERRALAB_CATALOG_HOSTS`` set them.

        Args:
            home: the terralab data folder (its ``catalog/`` is the first root).
            catalog: the catalog folder, when it is not ``home/catalog`` (an index elsewhere).
            env: another process's environment to read (this process's settings by default).
        """
        section = settings_of(env).catalog
        first = catalog or (home or terralab_home()) / "catalog"
        extra = [Path(p).expanduser() for p in section.asset_roots]
        hosts = DEFAULT_HOSTS if section.asset_hosts is None else tuple(section.asset_hosts)
        return cls(roots=(first, *extra), hosts=hosts)

    # -- files -----------------------------------------------------------------------------
    def check_path(self, path: str | Path, label: str) -> Path:
        """Return the real path of ``path`` if it lies under a data root.

        Raises:
            HrefRefusedError: if it lies (through links) outside every root.
        """
        real = Path(path).expanduser().resolve()
        for root in self.roots:
            if real.is_relative_to(Path(root).expanduser().resolve()):
                return real
        raise HrefRefusedError(f"{label} lies outside the catalog's data folders (the "
                               "catalog folder and TerralabHub.catalog_asset_roots, "
                               f"${ROOTS_VARIABLE})")

    # -- URLs ------------------------------------------------------------------------------
    def _allowed(self, host: str) -> str | None:
        for entry in self.hosts:
            if entry.startswith("*."):
                if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                    return entry
            elif host == entry.strip("[]"):
                return entry
        return None

    def check_url(self, url: str, label: str, *, resolve: bool = False) -> None:
        """Refuse an http(s) URL that is not on an allowed host.

        Args:
            url: the URL.
            label: how messages name the asset.
            resolve: also resolve the host and refuse it unless every address is public
                (done before the service connects; not at ingest, which must work offline).

        Raises:
            HrefRefusedError: for another scheme, a host off the list, or (``resolve``) a
                host with a loopback, link-local, private or reserved address.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in _FETCHED:
            raise HrefRefusedError(f"{label} is at a {parts.scheme or 'relative'} address; "
                                   "terralab fetches http(s) URLs only")
        host = (parts.hostname or "").lower()
        if not host or self._allowed(host) is None:
            raise HrefRefusedError(f"{label} is on host {host or '(none)'!r}, which is not an "
                                   "allowed catalog host (TerralabHub.catalog_asset_hosts, "
                                   f"${HOSTS_VARIABLE})")
        literal = _address(host)
        if literal is not None:  # named literally in the list: the administrator's choice
            return
        if resolve:
            try:
                found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
            except (OSError, UnicodeError) as error:
                raise HrefRefusedError(f"{label}: host {host!r} cannot be resolved "
                                       f"({error})") from None
            for *_, sockaddr in found:
                address = _address(str(sockaddr[0]))
                if address is None or not address.is_global:
                    raise HrefRefusedError(f"{label}: host {host!r} resolves to a "
                                           "non-public address, which terralab never fetches")

    def check_href(self, href: str, label: str) -> None:
        """Refuse an href that is neither a file under a root nor a URL on an allowed host.

        Raises:
            HrefRefusedError: as :meth:`check_path` and :meth:`check_url`.
        """
        parts = urlsplit(href)
        scheme = parts.scheme.lower()
        if scheme in _FETCHED:
            self.check_url(href, label)
        elif scheme == "file":
            self.check_path(unquote(parts.path), label)
        elif scheme and len(scheme) > 1:
            raise HrefRefusedError(f"{label} is at a {scheme}:// address, which terralab "
                                   "does not fetch")
        else:
            self.check_path(href, label)

    def fetch(self, url: str, label: str, *, stream: bool = True) -> Any:
        """GET ``url``, following at most :data:`MAX_REDIRECTS` redirects, each one checked.

        Returns:
            The ``requests`` response (not a redirect); its ``url`` is the final URL.

        Raises:
            HrefRefusedError: for a URL or a redirect off the allowed hosts, or too many
                redirects.
        """
        import requests

        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url, label, resolve=True)
            response = requests.get(url, stream=stream, timeout=60, allow_redirects=False)
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            url = urljoin(url, location)
            label = f"{label} (redirected)"
        raise HrefRefusedError(f"{label}: more than {MAX_REDIRECTS} redirects")


def check_item(item: dict[str, Any], policy: AssetPolicy) -> None:
    """Check every asset href of a public item (at ingest).

    Raises:
        HrefRefusedError: for the first asset whose href is refused, naming item and asset.
    """
    for key, asset in (item.get("assets") or {}).items():
        href = asset.get("href") if isinstance(asset, dict) else None
        if not isinstance(href, str) or not href:
            raise HrefRefusedError(f"asset {key!r} of {item.get('id')!r} has no href")
        policy.check_href(href, f"asset {key!r} of {item.get('id')!r} ({href})")
