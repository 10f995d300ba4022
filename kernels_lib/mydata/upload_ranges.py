"""Resumable uploads: the ``Content-Range`` of one chunk, checked against what was received.

A large file is sent to an announced upload (``POST mydata/uploads``) in chunks, each a
``PUT mydata/uploads/{id}`` with ``Content-Range: bytes START-END/TOTAL`` (END inclusive,
as HTTP writes it). The service keeps the bytes received in the upload's private staging
file, so the count received is the size of that file (:func:`staged_bytes`), and a client
whose connection broke asks ``GET mydata/uploads/{id}`` for ``received`` and sends on from
there. :func:`plan_chunk` decides what a chunk is:

- ``"append"``: it starts exactly where the received bytes end;
- ``"repeat"``: it lies wholly inside what was already received (a chunk sent again after
  its answer was lost): accepted, its bytes dropped, nothing changes;
- refused with :class:`~terralab.mydata.errors.UploadRangeError` (416, with ``received``):
  a TOTAL other than the announced size, a gap after the received bytes, a chunk that
  overlaps the received end, or bytes beyond the announced size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from terralab.mydata.errors import MyDataError, UploadRangeError

__all__ = ["ContentRange", "parse_content_range", "plan_chunk", "staged_bytes"]

_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$")


@dataclass(frozen=True)
class ContentRange:
    """One chunk's place in the file: bytes ``start`` to ``end`` (inclusive) of ``total``."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        """The chunk's size in bytes."""
        return self.end - self.start + 1

    @property
    def last(self) -> bool:
        """Whether the chunk ends the file."""
        return self.end + 1 == self.total

    def header(self) -> str:
        """The header's value (``bytes 0-8388607/20000000``)."""
        return f"bytes {self.start}-{self.end}/{self.total}"


def parse_content_range(text: str) -> ContentRange:
    """Read a ``Content-Range: bytes START-END/TOTAL`` header.

    Raises:
        MyDataError: a header of another form, or END before START (400).
    """
    found = _RANGE.match(text or "")
    if not found:
        raise MyDataError(f"Content-Range {text!r} is not 'bytes START-END/TOTAL' (END is the "
                          "chunk's last byte, counted from 0; TOTAL the announced size)")
    start, end, total = (int(group) for group in found.groups())
    if end < start:
        raise MyDataError(f"Content-Range {text!r} ends before it starts")
    return ContentRange(start, end, total)


def plan_chunk(span: ContentRange, *, size: int, received: int, name: str) -> str:
    """Say what to do with a chunk: ``"append"`` or ``"repeat"`` (see the module).

    Args:
        span: the chunk's range.
        size: the upload's announced size.
        received: the bytes received so far.
        name: the file's name (for the messages).

    Raises:
        UploadRangeError: the chunk does not fit (nothing of it is kept).
    """
    def refuse(why: str) -> UploadRangeError:
        return UploadRangeError(f"{name}: {why}; {received:,} of its {size:,} bytes are in, "
                                f"send on from byte {received}", received=received, size=size)

    if span.total != size:
        raise refuse(f"Content-Range says the file has {span.total:,} bytes, but it was "
                     f"announced with {size:,}")
    if span.end >= size:
        raise refuse(f"bytes {span.start}-{span.end} go beyond the announced size")
    if span.end < received:
        return "repeat"
    if span.start > received:
        raise refuse(f"bytes {span.start}-{span.end} leave a gap")
    if span.start < received:
        raise refuse(f"bytes {span.start}-{span.end} overlap the end of what was received")
    return "append"


def staged_bytes(source: Path) -> int:
    """The bytes received so far: the size of the upload's staging file (0 before any)."""
    try:
        return source.stat().st_size
    except OSError:
        return 0
