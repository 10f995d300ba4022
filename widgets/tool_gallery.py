"""The tool gallery of the no-code lab's home page: one card per registered tool.

:func:`tool_cards` turns the tools of the service's ``GET tools`` (or
``[t.to_dict() for t in tl.tools.list_tools()]``) into a responsive grid of cards, AI tools
and processing tools in two groups. A card shows a thumbnail of a typical result (drawn by
``scripts/tool_thumbnails.py`` into this package's ``thumbnails/`` folder, inlined as a
``data:`` URI so that the page needs nothing from the network; a neutral placeholder for a
tool without one), the title and a one-line purpose in the page's language, the suggested
input resolution and a kind badge. The whole card is a link to the tool's page; a tool that
cannot run here (``"ready": false``, a deep tool without an installed model) gets a
"needs a model" badge with the message instead, and no link.

Example::

    from terralab.widgets.tool_gallery import tool_cards

    tools = [t.to_dict() for t in tl.tools.list_tools()]
    tool_cards(tools, lang="zh", link=lambda name: f"tool.ipynb?tool={name}")
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from ipywidgets import HTML, Layout

from terralab.widgets.i18n import pick, tool_title

__all__ = ["PLACEHOLDER", "purpose", "resolution_text", "thumbnail_uri", "tool_cards",
           "tool_cards_html"]

_PURPOSE_LIMIT = {"en": 110, "zh": 60}
_PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120" viewBox="0 0 160 120">'
    '<rect width="160" height="120" fill="#eef1f4"/>'
    '<g fill="none" stroke="#a7b0ba" stroke-width="3" stroke-linejoin="round">'
    '<rect x="46" y="30" width="68" height="60" rx="6"/>'
    '<path d="M52 80 L70 58 L82 70 L92 62 L108 80 Z"/>'
    '<circle cx="96" cy="44" r="6"/></g></svg>')
PLACEHOLDER = "data:image/svg+xml;base64," + base64.b64encode(
    _PLACEHOLDER_SVG.encode()).decode()
"""The picture of a tool without a thumbnail: a grey frame with a landscape (inline SVG)."""

_TEXT = {
    "ai": ("AI tools", "AI 工具"),
    "processing": ("Processing tools", "数据处理工具"),
    "badge_ai": ("AI", "AI"),
    "badge_processing": ("Processing", "处理"),
    "resolution": ("Suggested input: {}", "建议输入分辨率：{}"),
    "any_resolution": ("Any input resolution", "任意输入分辨率"),
    "needs": ("Needs a model", "需要模型"),
    "needs_message": ("needs a model: an administrator installs one with "
                      "`terralab models import`",
                      "需要模型：请管理员使用 `terralab models import` 安装模型"),
    "open": ("Open {}", "打开{}"),
}

_CSS = """
.tl-gallery{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC",
 "PingFang SC","Microsoft YaHei",sans-serif;line-height:1.45;white-space:normal;color:#1f2933;
 width:100%;box-sizing:border-box}
.tl-gallery h3{font-size:17px;font-weight:600;margin:18px 0 10px;line-height:1.3}
.tl-gallery-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));
 gap:16px;align-items:stretch}
.tl-card{display:flex;flex-direction:column;border:1px solid #d5dbe1;border-radius:8px;
 background:#fff;overflow:hidden;color:inherit;text-decoration:none;min-width:0;
 transition:box-shadow .15s,border-color .15s}
a.tl-card:hover{border-color:#2f6fd6;box-shadow:0 2px 10px rgba(31,41,51,.18)}
a.tl-card:focus-visible{outline:3px solid #2f6fd6;outline-offset:2px}
.tl-card img{display:block;width:100%;height:auto;aspect-ratio:4/3;object-fit:cover;
 background:#eef1f4;border-bottom:1px solid #e4e8ec}
.tl-card-off img{filter:grayscale(1);opacity:.7}
.tl-card-body{display:flex;flex-direction:column;gap:6px;padding:10px 12px 12px;min-width:0}
.tl-card-title{font-size:15px;font-weight:600;overflow-wrap:anywhere}
.tl-card-badges{display:flex;flex-wrap:wrap;gap:6px}
.tl-badge{display:inline-block;font-size:12px;line-height:1.5;padding:0 8px;border-radius:10px;
 white-space:nowrap}
.tl-badge-ai{background:#e8f0fd;color:#1d4f9f}
.tl-badge-processing{background:#e7f5ec;color:#1e6b3a}
.tl-badge-needs{background:#fdecea;color:#9b1c1c}
.tl-card-purpose{font-size:13px;color:#3e4c59;overflow-wrap:anywhere}
.tl-card-resolution{font-size:12px;color:#616e7c}
.tl-card-message{font-size:12px;color:#9b1c1c;overflow-wrap:anywhere}
.tl-card-message code{font-size:11.5px;background:#f4f5f7;padding:0 3px;border-radius:3px;
 overflow-wrap:anywhere}
"""


def _t(key: str, lang: str) -> str:
    english, chinese = _TEXT[key]
    return pick(english, chinese, lang)


@cache
def thumbnail_uri(name: str) -> str:
    """The thumbnail of tool ``name`` as a ``data:`` URI, or :data:`PLACEHOLDER`."""
    if not re.fullmatch(r"[a-z0-9_]+", name or ""):
        return PLACEHOLDER
    path = resources.files("terralab.widgets") / "thumbnails" / f"{name}.png"
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, OSError):
        return PLACEHOLDER
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _number(value: float) -> str:
    return f"{float(value):g}"


def resolution_text(resolution: Iterable[float] | None, lang: str) -> str:
    """The suggested input resolution, e.g. ``"Suggested input: 10–30 m"``."""
    values = list(resolution or [])
    if not values:
        return _t("any_resolution", lang)
    low, high = min(values), max(values)
    span = _number(low) if low == high else f"{_number(low)}–{_number(high)}"
    return _t("resolution", lang).format(f"{span} {pick('m', '米', lang)}")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u4e00-\u9fff])|(?<=[。！？])")


def _top_level(text: str, marks: str) -> list[int]:
    """Where ``marks`` stand outside parentheses in ``text``."""
    found, depth = [], 0
    for position, char in enumerate(text):
        depth += char in "(（"
        depth -= char in ")）" and depth > 0
        if depth == 0 and char in marks:
            found.append(position)
    return found


def purpose(tool: Mapping[str, Any], lang: str) -> str:
    """A tool's purpose in one line: its description's first sentence, in ``lang``.

    The Chinese text is ``description_zh`` (the English one when a tool has none). A long
    sentence is cut before its first clause (``:``, ``;``, ``—`` outside parentheses), then
    loses its parentheses, then ends at its last comma that fits, or at a word with "…".
    """
    chinese = lang == "zh" and bool(tool.get("description_zh"))
    text = pick(str(tool.get("description") or ""), str(tool.get("description_zh") or ""),
                lang).strip()
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].strip() if text else ""
    sentence = sentence.rstrip(".。 ")
    limit = _PURPOSE_LIMIT["zh" if chinese else "en"]
    if len(sentence) > limit:
        cuts = [c for c in _top_level(sentence, ":;—：；") if c >= 12]
        sentence = sentence[:cuts[0]].rstrip() if cuts else sentence
    if len(sentence) > limit:
        sentence = re.sub(r"\s*[(（][^()（）]*[)）]", "", sentence)
    if len(sentence) > limit:
        commas = [c for c in _top_level(sentence, ",，") if limit // 3 <= c <= limit]
        if commas:
            sentence = sentence[:commas[-1]]
        else:
            sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;: ") + "…"
    if not sentence or sentence.endswith("…"):
        return sentence
    return sentence + ("。" if chinese else ".")


def _with_code(text: str) -> str:
    """Escaped text whose `backquoted` parts become <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if number % 2 else part
                   for number, part in enumerate(parts))


def _card(tool: Mapping[str, Any], lang: str, link: Callable[[str], str]) -> str:
    name = str(tool.get("name", ""))
    kind = "ai" if tool.get("kind") == "ai" else "processing"
    title = tool_title(dict(tool), lang) or name
    ready = tool.get("ready", True) is not False
    badges = [f'<span class="tl-badge tl-badge-{kind}">{_t("badge_" + kind, lang)}</span>']
    body = [f'<span class="tl-card-title">{html.escape(title)}</span>']
    message = ""
    if not ready:
        badges.append(f'<span class="tl-badge tl-badge-needs">{_t("needs", lang)}</span>')
        text = pick(str(tool.get("message") or ""), str(tool.get("message_zh") or ""), lang)
        text = _with_code(text or _t("needs_message", lang))
        message = f'<span class="tl-card-message">{text}</span>'
    body.append(f'<span class="tl-card-badges">{"".join(badges)}</span>')
    line = purpose(tool, lang)
    if line:
        body.append(f'<span class="tl-card-purpose">{html.escape(line)}</span>')
    body.append(f'<span class="tl-card-resolution">'
                f'{html.escape(resolution_text(tool.get("resolution"), lang))}</span>')
    if message:
        body.append(message)
    full = pick(str(tool.get("description") or ""), str(tool.get("description_zh") or ""), lang)
    inner = (f'<img src="{thumbnail_uri(name)}" alt="" width="160" height="120" '
             f'loading="lazy"><span class="tl-card-body">{"".join(body)}</span>')
    data = f'data-tool="{html.escape(name)}" title="{html.escape(full)}"'
    if not ready:
        return f'<div class="tl-card tl-card-off" aria-disabled="true" {data}>{inner}</div>'
    label = html.escape(_t("open", lang).format(title))
    return (f'<a class="tl-card" href="{html.escape(link(name), quote=True)}" {data} '
            f'aria-label="{label}">{inner}</a>')


def tool_cards_html(tools: Iterable[Mapping[str, Any]], *, lang: str,
                    link: Callable[[str], str]) -> str:
    """The gallery's HTML (its own ``<style>`` included); see :func:`tool_cards`."""
    tools = list(tools)
    groups = []
    for kind in ("ai", "processing"):
        members = [t for t in tools if (t.get("kind") == "ai") == (kind == "ai")]
        if not members:
            continue
        members.sort(key=lambda t: t.get("ready", True) is False)  # ready first, stable
        cards = "".join(_card(t, lang, link) for t in members)
        groups.append(f'<section class="tl-gallery-group" data-kind="{kind}">'
                      f'<h3>{_t(kind, lang)}</h3><div class="tl-gallery-grid">{cards}</div>'
                      f'</section>')
    return (f'<div class="tl-gallery" lang="{"zh-CN" if lang == "zh" else "en"}">'
            f'<style>{_CSS}</style>{"".join(groups)}</div>')


def tool_cards(tools: Iterable[Mapping[str, Any]], *, lang: str,
               link: Callable[[str], str]) -> HTML:
    """The tool gallery: a responsive grid of cards, AI and processing tools apart.

    Args:
        tools: the tools as ``GET tools`` lists them (``name``, ``title``, ``title_zh``,
            ``kind``, ``description``, ``description_zh``, ``resolution`` and, when known,
            ``ready``, ``needs``, ``message``, ``message_zh``); a tool without ``ready`` is
            taken as ready.
        lang: the page's language, ``"zh"`` or ``"en"``.
        link: the URL of a tool's page from its name.

    Returns:
        One HTML widget holding the whole gallery.
    """
    return HTML(tool_cards_html(tools, lang=lang, link=link), layout=Layout(width="100%"))
