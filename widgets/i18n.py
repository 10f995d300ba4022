"""The language of terralab's pages and widgets: Chinese or English, remembered per user.

Every page of the no-code lab and every widget that shows words (the tool form, the header)
asks :func:`language` which of the two to use:

1. the user's own choice, made with the header's 中文 / English switch and kept in
   ``~/.terralab/preferences.json`` of the user's server (so it follows the user, whatever the
   browser);
2. else the browser's ``Accept-Language`` (Voilà hands it to the page's kernel as
   ``HTTP_ACCEPT_LANGUAGE``): Chinese when the browser prefers Chinese to English;
3. else English.

:func:`pick` chooses between the two texts of a label; tools carry both in their metadata
(``title`` / ``title_zh``) and in each parameter's schema (``description`` / ``help_zh``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from terralab.widgets.page_request import accept_language

__all__ = ["LANGUAGES", "browser_language", "field_help", "language", "pick",
           "preferences_path", "set_language", "tool_title"]

LANGUAGES = ("zh", "en")
"""The languages of the no-code lab: Chinese (``zh``) and English (``en``)."""

_LANGUAGE_KEY = "language"


def preferences_path() -> Path:
    """The file holding this user's preferences (``~/.terralab/preferences.json``)."""
    return Path.home() / ".terralab" / "preferences.json"


def _preferences() -> dict[str, Any]:
    try:
        data = json.loads(preferences_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def browser_language(accept_language: str | None) -> str | None:
    """The language a browser's ``Accept-Language`` asks for, or None when it names neither.

    Chinese when it ranks any ``zh`` tag at least as high as any ``en`` tag.

    Args:
        accept_language: the header's value (``"zh-CN,zh;q=0.9,en;q=0.8"``).
    """
    best: dict[str, float] = {}
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        for option in rest.split(";"):
            name, _, value = option.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            # earlier tags win ties of equal quality, as browsers list them by preference
            best[base] = max(best.get(base, -1.0), quality - position * 1e-6)
    if not best:
        return None
    return max(best, key=lambda code: best[code])


def language() -> str:
    """The language this user's pages speak: their choice, else their browser's, else English."""
    chosen = _preferences().get(_LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return browser_language(accept_language()) or "en"


def set_language(code: str) -> None:
    """Remember ``code`` (``"zh"`` or ``"en"``) as this user's language.

    Raises:
        ValueError: for any other code.
    """
    if code not in LANGUAGES:
        raise ValueError(f"the language is one of {', '.join(LANGUAGES)}, not {code!r}")
    path = preferences_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**_preferences(), _LANGUAGE_KEY: code}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".part",
                                     encoding="utf-8") as part:
        json.dump(data, part, ensure_ascii=False, indent=1)
    Path(part.name).replace(path)


def pick(english: str, chinese: str, lang: str | None = None) -> str:
    """Return the text of a label in ``lang`` (default: :func:`language`)."""
    return chinese if (lang or language()) == "zh" and chinese else english


def tool_title(info: Any, lang: str | None = None) -> str:
    """A tool's title in ``lang``: ``info`` is a ``ToolInfo`` or its ``to_dict()``."""
    data = info if isinstance(info, dict) else info.to_dict()
    return pick(data.get("title", ""), data.get("title_zh", ""), lang)


def field_help(field_schema: dict[str, Any], lang: str | None = None) -> str:
    """A parameter's help text in ``lang``, from its JSON schema (``description``/``help_zh``)."""
    return pick(field_schema.get("description", ""), field_schema.get("help_zh", ""), lang)
