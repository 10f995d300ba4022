"""Sizes and durations for people: ``parse_size("300GB")``, ``parse_duration("1h30min")``.

Binary units (1 GB = 1024³ bytes), as file browsers on Linux and Windows count them; one
place for every message and setting that names a size (upload limits, quotas, zip checks) or
a duration (the AI time quota). It imports nothing of terralab, so :mod:`terralab.settings`
parses the settings with it.
"""

from __future__ import annotations

import re

__all__ = ["format_size", "parse_duration", "parse_size"]

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "t": 1024**4,
          "tb": 1024**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_SECONDS = {"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
            "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
            "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
            "d": 86400, "day": 86400, "days": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


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


def parse_duration(value: str | int | float) -> int:
    """Return a duration in seconds from ``"10h"``, ``"90min"``, ``"1h 30min"`` or seconds.

    Units: ``s``, ``min`` (also ``m``), ``h``, ``d`` and their long names; a bare number is
    seconds.

    Raises:
        ValueError: for text that is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return int(value)
    text = str(value).strip()
    total, position = 0.0, 0
    while position < len(text):
        match = _PART.match(text, position)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in _SECONDS or (not unit and match.end() < len(text)):
            raise ValueError(f"not a duration: {value!r} (examples: 10h, 90min, 1h30min, "
                             "3600 for seconds)")
        total += float(match.group(1)) * _SECONDS[unit]
        position = match.end()
    if not text:
        raise ValueError("not a duration: an empty text (examples: 10h, 90min, 3600)")
    return round(total)
