"""The geocoder plug point: a protocol, a registry, and the choice by configuration.

A geocoder turns a name into :class:`~terralab.areas.places.Place` objects. The one used is
chosen by name: the ``geocoder`` argument, else ``$TERRALAB_GEOCODER``, else ``"offline"``
(:class:`~terralab.areas.places.OfflineGeocoder`). A name is one registered with
:func:`register_geocoder` (``"offline"`` and ``"tianditu"`` are built in), a
``"package.module:ClassName"`` path, or an entry point of the ``terralab.geocoders`` group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from terralab.areas.errors import AreaError
from terralab.settings import settings

if TYPE_CHECKING:
    from terralab.areas.places import Place

__all__ = ["ENV_GEOCODER", "Geocoder", "get_geocoder", "register_geocoder"]

ENV_GEOCODER = "TERRALAB_GEOCODER"
_BUILT_IN = {"offline": "terralab.areas.places", "tianditu": "terralab.areas.tianditu"}


@runtime_checkable
class Geocoder(Protocol):
    """What a geocoder offers: places for a name, best first."""

    name: str

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        """Return up to ``limit`` places for ``query``, best first (empty if none)."""
        ...


GeocoderFactory = Callable[[], Geocoder]
_GEOCODERS: dict[str, GeocoderFactory] = {}


def register_geocoder(name: str, factory: GeocoderFactory, *, overwrite: bool = False) -> None:
    """Make a geocoder available by name (for ``$TERRALAB_GEOCODER`` or ``geocoder=``).

    Args:
        name: the name to choose it by.
        factory: a callable with no arguments returning the geocoder (a class will do).
        overwrite: replace a geocoder of the same name instead of refusing.

    Raises:
        ValueError: when the name is taken and ``overwrite`` is false.
    """
    if name in _GEOCODERS and not overwrite:
        raise ValueError(f"a geocoder named {name!r} is already registered")
    _GEOCODERS[name] = factory


def get_geocoder(name: str | Geocoder | None = None) -> Geocoder:
    """Return a geocoder: by name, else the settings' one (``$TERRALAB_GEOCODER``), else offline.

    Args:
        name: a registered name (``"offline"``, ``"tianditu"``), ``"module:attribute"``,
            an entry point of the ``terralab.geocoders`` group, or a geocoder itself.

    Returns:
        The geocoder.

    Raises:
        AreaError: for a name that is none of these.
    """
    if name is not None and not isinstance(name, str):
        return name
    chosen = (name or settings().areas.geocoder or "offline").strip()
    if chosen in _BUILT_IN and chosen not in _GEOCODERS:
        importlib.import_module(_BUILT_IN[chosen])
    if chosen in _GEOCODERS:
        return _GEOCODERS[chosen]()
    if ":" in chosen:
        module, _, attribute = chosen.partition(":")
        try:
            return getattr(importlib.import_module(module), attribute)()
        except (ImportError, AttributeError) as error:
            raise AreaError(f"cannot load the geocoder {chosen!r}: {error}") from None
    for point in entry_points(group="terralab.geocoders"):
        if point.name == chosen:
            return point.load()()
    raise AreaError(f"unknown geocoder {chosen!r}; known: {', '.join(sorted(_GEOCODERS))}")
