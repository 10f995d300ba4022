"""Sizes in bytes, for people: ``parse_size("300GB")`` and ``format_size(10485760)``.

Binary units (1 GB = 1024³ bytes), as file browsers on Linux and Windows count them; one
place for every message and setting that names a size (upload limits, quotas, zip checks).
"""

from __future__ import annotations

import re

__all__ = ["format_size", "parse_size"]

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "t": 1024**4,
          "tb": 1024**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: str | int | float) -> int:
    """Return a size in bytes from ``300GB``, ``"10 MB"``, ``1.5TB`` or a number of bytes.

    Raises:
        ValueError: for text that is not a size.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a size cannot be negative: {value!r}")
        return int(value)
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"not a size: {value!r} (examples: 300GB, 10 MB, 1048576)")
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(size: int | float) -> str:
    """``300 GB``, ``10.5 MB``, ``812 bytes``… for messages."""
    for unit, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if abs(size) >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{int(size)} bytes"
