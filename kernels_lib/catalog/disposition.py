"""``Content-Disposition`` of downloads, both ways (RFC 6266 / RFC 5987).

The hub service names a download with :func:`content_disposition` (an ASCII fallback and the
UTF-8 name, so ``湖州 影像.tif`` survives); clients read it back with
:func:`attachment_name`, which keeps only a plain file name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

__all__ = ["attachment_name", "content_disposition"]


def content_disposition(filename: str) -> str:
    """A Content-Disposition for ``filename``, UTF-8 names included (RFC 6266 / 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_name(disposition: str, fallback: str) -> str:
    """The file name of a ``Content-Disposition`` header (RFC 6266), as a plain name.

    ``filename*=UTF-8''…`` (any language) wins over ``filename="…"``; only the last part of
    a path is kept, so a server cannot make the client write outside its folder.
    """
    from email.message import Message
    from email.utils import collapse_rfc2231_value

    message = Message()
    message["Content-Disposition"] = disposition
    names = [value for key, value in message.get_params([], header="Content-Disposition")
             if key == "filename"]
    encoded = [value for value in names if isinstance(value, tuple)]  # filename*=
    chosen = (encoded or names or [""])[0]
    name = collapse_rfc2231_value(chosen) if chosen else ""
    name = Path(name.replace("\\", "/")).name
    return name if name not in {"", ".", ".."} else fallback
