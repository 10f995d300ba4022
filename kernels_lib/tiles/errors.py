"""The errors of map tiles, each with the HTTP status the extension answers with."""

from __future__ import annotations

from terralab.tiles.params import TileParameterError

__all__ = ["TileAccessError", "TileNotFound", "TileOutside", "TileParameterError"]


class TileAccessError(PermissionError):
    """A file or path the user may not see as tiles (HTTP 403); the message says why."""


class TileNotFound(LookupError):  # noqa: N818 (the name the API promises)
    """No such item or file for this user (HTTP 404).

    Another user's item is reported exactly like a missing one.
    """


class TileOutside(TileNotFound):
    """The tile does not intersect the image (HTTP 404, "tile outside the image")."""
