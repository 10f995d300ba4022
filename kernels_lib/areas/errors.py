"""The errors of :mod:`terralab.areas`: one message a user can read, and the candidates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["AmbiguousAreaError", "AreaError"]


class AreaError(ValueError):
    """A search area that cannot be resolved: unknown name, bad geometry, bad file.

    The message is written for the person who typed the area (English; names are quoted as
    they were given), so callers may show ``str(error)`` as it is.
    """


class AmbiguousAreaError(AreaError):
    """A name that matches several places or regions.

    The message names the best few candidates and how to pick one; the full list is in
    :attr:`candidates`.

    Attributes:
        candidates: the matches, best first. Each has a ``describe()`` method (one line for
            a user) and an ``id`` (``"admin:330521"``, ``"geonames:1812981"``) that resolves
            to exactly that candidate when passed back as the name.
    """

    def __init__(self, message: str, candidates: Sequence[Any]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)
