"""The one error of uploads and my-data operations, with the rule that was broken."""

from __future__ import annotations

__all__ = ["MyDataError", "UploadError", "UploadRangeError"]


class MyDataError(ValueError):
    """A my-data operation that cannot be done (unknown item, bad name…); the message says why."""


class UploadError(MyDataError):
    """An upload that breaks a rule; nothing of it is kept and no quota is charged.

    Attributes:
        rule: which rule (``"driver"``, ``"size"``, ``"bands"``, ``"dtype"``, ``"crs"``,
            ``"georeference"``, ``"pixels"``, ``"truncated"``, ``"zip"``, ``"layers"``,
            ``"quota"``, ``"type"``, ``"vector"`` …), for programs and tests.
        layers: for ``rule == "layers"``: the file's layers, one of which must be chosen.
    """

    def __init__(self, message: str, *, rule: str, layers: list[str] | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.layers = list(layers or [])


class UploadRangeError(MyDataError):
    """A chunk of a resumable upload that does not fit what the service has received.

    The chunk is refused and nothing of it is kept, but the upload stays: the client sends
    again from ``received`` (``Content-Range: bytes <received>-…``).

    Attributes:
        received: the bytes of the upload received so far (the next chunk starts there).
        size: the upload's announced size.
    """

    def __init__(self, message: str, *, received: int, size: int) -> None:
        super().__init__(message)
        self.received = int(received)
        self.size = int(size)
