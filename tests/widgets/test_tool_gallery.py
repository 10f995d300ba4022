"""The tool gallery (terralab.widgets.tool_gallery) and its shipped thumbnails."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from terralab.tools import list_tools
from terralab.tools.registry import default_registry
from terralab.widgets.tool_gallery import (
    PLACEHOLDER,
    purpose,
    resolution_text,
    thumbnail_uri,
    tool_cards,
    tool_cards_html,
)

THUMBNAILS = resources.files("terralab.widgets") / "thumbnails"


def link(name: str) -> str:
    return f"/user/alice/voila/render/dashboards/tool.ipynb?tool={name}"


class Cards(HTMLParser):
    """The cards of a gallery's HTML: tag, attributes, texts by class, headings."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, Any]] = {}
        self.headings: list[str] = []
        self._card: dict[str, Any] | None = None
        self._classes: list[str] = []
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if "tl-card" in classes:
            self._card = {"tag": tag, **values, "texts": {}, "img": None}
            self.cards[values["data-tool"]] = self._card
            self._depth = 0
        if self._card is not None:
            self._depth += tag != "img"
            if tag == "img":
                self._card["img"] = values["src"]
        self._classes.append(classes[0] if classes else tag)

    def handle_endtag(self, tag: str) -> None:
        self._classes.pop()
        if self._card is not None:
            self._depth -= 1
            if self._depth == 0:
                self._card = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._classes.pop()
        if self._card is not None:
            self._depth -= tag != "img"

    def handle_data(self, data: str) -> None:
        where = self._classes[-1] if self._classes else ""
        if where == "h3":
            self.headings.append(data)
        if self._card is not None:
            texts = self._card["texts"]
            texts[where] = texts.get(where, "") + data


def registered() -> list[dict[str, Any]]:
    return [info.to_dict() for info in list_tools()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_registered_tool_gets_a_linked_card_in_both_languages(lang: str) -> None:
    tools = registered()
    widget = tool_cards(tools, lang=lang, link=link)
    cards = Cards(widget.value)
    assert set(cards.cards) == set(default_registry()) and len(tools) >= 20
    for tool in tools:
        card = cards.cards[tool["name"]]
        assert card["tag"] == "a" and card["href"] == link(tool["name"])
        title = tool["title_zh"] if lang == "zh" else tool["title"]
        assert card["texts"]["tl-card-title"] == title
        assert card["texts"]["tl-card-purpose"] == purpose(tool, lang)
        if lang == "zh":  # every built-in tool says what it does in Chinese
            assert re.search(r"[\u4e00-\u9fff]", card["texts"]["tl-card-purpose"]), tool["name"]
        assert "tl-badge-needs" not in card["texts"]
        badge = card["texts"]["tl-badge"]
        assert badge == ("AI" if tool["kind"] == "ai" else {"en": "Processing",
                                                             "zh": "处理"}[lang])
    assert cards.headings == ({"en": ["AI tools", "Processing tools"],
                               "zh": ["AI 工具", "数据处理工具"]}[lang])
    ai_names = [t["name"] for t in tools if t["kind"] == "ai"]
    html_text = widget.value
    ai_part, processing_part = html_text.split('data-kind="processing"')
    assert all(f'data-tool="{n}"' in ai_part for n in ai_names)
    assert 'data-tool="index"' in processing_part and 'data-tool="index"' not in ai_part


def test_a_tool_that_needs_a_model_has_the_badge_and_no_link() -> None:
    tools = registered()
    for tool in tools:
        if tool["name"] == "building_extraction":
            tool.update(ready=False, needs="model",
                        message="needs a model: an administrator installs one with "
                                "`terralab models import`",
                        message_zh="需要模型：请管理员使用 `terralab models import` 安装模型")
    for lang, badge, words in [("en", "Needs a model", "an administrator installs one with"),
                               ("zh", "需要模型", "请管理员使用")]:
        page = tool_cards_html(tools, lang=lang, link=link)
        cards = Cards(page)
        card = cards.cards["building_extraction"]
        assert card["tag"] == "div" and "href" not in card
        assert card["aria-disabled"] == "true"
        assert badge in card["texts"]["tl-badge"]
        assert words in card["texts"]["tl-card-message"]
        assert "terralab models import" in card["texts"]["code"]
        assert link("building_extraction") not in page
        # ready tools first in their group: the not-ready one comes after every ready AI tool
        ai = page.split('data-kind="processing"')[0]
        assert ai.index('data-tool="building_extraction"') > ai.index('data-tool="sar_water"')
    # without a message, the standard one; a tool without "ready" is ready
    bare = {"name": "x_tool", "title": "X", "title_zh": "某工具", "kind": "ai", "ready": False}
    card = Cards(tool_cards_html([bare], lang="zh", link=link)).cards["x_tool"]
    assert "terralab models import" in card["texts"]["code"] and card["img"] == PLACEHOLDER
    plain = {"name": "y_tool", "title": "Y", "title_zh": "乙", "kind": "processing"}
    assert Cards(tool_cards_html([plain], lang="en", link=link)).cards["y_tool"]["tag"] == "a"


def test_cards_inline_the_shipped_thumbnail_or_the_placeholder() -> None:
    cards = Cards(tool_cards_html(registered(), lang="en", link=link)).cards
    shipped = (THUMBNAILS / "index.png").read_bytes()
    assert cards["index"]["img"] == "data:image/png;base64," + base64.b64encode(
        shipped).decode()
    assert thumbnail_uri("no_such_tool") == PLACEHOLDER
    assert thumbnail_uri("../index") == PLACEHOLDER
    assert PLACEHOLDER.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(PLACEHOLDER.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and 'width="160"' in svg


def test_text_is_escaped() -> None:
    evil = {"name": "evil", "title": "<script>alert(1)</script>", "title_zh": "",
            "kind": "processing", "description": 'Breaks "quotes" & <b>tags</b>.'}
    page = tool_cards_html([evil], lang="en", link=lambda n: 'x" onmouseover="alert(1)')
    assert "<script>alert" not in page and "<b>tags" not in page
    assert 'onmouseover="alert' not in page
    assert Cards(page).cards["evil"]["texts"]["tl-card-title"] == "<script>alert(1)</script>"


def test_purpose_is_one_line_in_the_language() -> None:
    tool = {"description": "Finds water. Uses a threshold.",
            "description_zh": "提取水体。使用阈值。"}
    assert purpose(tool, "en") == "Finds water."
    assert purpose(tool, "zh") == "提取水体。"
    assert purpose({"description": "Finds water. Then more."}, "zh") == "Finds water."
    assert purpose({"description": "Arithmetic on bands, e.g. (nir - red) / 2."},
                   "en") == "Arithmetic on bands, e.g. (nir - red) / 2."
    long = ("Open water from radar images (VV/VH, linear or dB): speckle filter, automatic "
            "threshold on the bimodal tiles of the scene, minimum mapping unit, polygons.")
    assert purpose({"description": long}, "en") == \
        "Open water from radar images (VV/VH, linear or dB)."
    words = "word " * 60
    cut = purpose({"description": words}, "en")
    assert cut.endswith("…") and len(cut) <= 111
    assert purpose({}, "en") == ""


def test_resolution_text() -> None:
    assert resolution_text([10.0, 30.0], "en") == "Suggested input: 10–30 m"
    assert resolution_text((0.5, 2.0), "zh") == "建议输入分辨率：0.5–2 米"
    assert resolution_text([5, 5], "en") == "Suggested input: 5 m"
    assert resolution_text(None, "en") == "Any input resolution"
    assert resolution_text(None, "zh") == "任意输入分辨率"


def _thumbnails() -> list[Path]:
    return sorted(Path(str(p)) for p in THUMBNAILS.iterdir() if p.name.endswith(".png"))


def test_shipped_thumbnails_are_small_varied_160x120_pngs() -> None:
    files = _thumbnails()
    names = {p.stem for p in files}
    registry = default_registry()
    builtin = {n for n in registry if registry[n].__module__.startswith("terralab.")
               and not getattr(registry[n], "needs_model", False)}
    assert builtin <= names, ("every built-in tool that runs without a model has a "
                              "thumbnail (python scripts/tool_thumbnails.py --only NAME)")
    assert len(builtin) >= 12
    assert names <= set(registry), "a thumbnail of no registered tool"
    for path in files:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 30_000, path.name
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size == (160, 120), path.name
            pixels = np.asarray(image.convert("RGBA"), dtype=float)
        opaque = pixels[pixels[..., 3] > 0][:, :3]
        assert len(opaque) > 0.3 * 160 * 120, f"{path.name} is mostly transparent"
        assert opaque.std(axis=0).max() > 8, f"{path.name} is one flat colour"
        assert len(np.unique(opaque, axis=0)) >= 4, f"{path.name} has almost no colours"


def test_gallery_in_chromium(chromium_browser, artifacts: Path) -> None:
    tools = registered()
    for tool in tools:
        if tool["name"] in ("building_extraction", "pv_extraction"):
            tool.update(ready=False, needs="model")
    value = tool_cards(tools, lang="zh", link=link).value
    # inside the widget's container, with the line height and nowrap a page may impose
    page_html = ('<!doctype html><html><head><meta charset="utf-8"></head><body '
                 'style="margin:16px;background:#f5f7fa"><div class="widget-html-content" '
                 f'style="line-height:28px;white-space:nowrap">{value}</div></body></html>')
    page = chromium_browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.set_content(page_html)
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=artifacts / "tool-gallery-zh.png", full_page=True)
        report = page.evaluate("""() => {
            const cards = Array.from(document.querySelectorAll('.tl-card'));
            const boxes = cards.map(c => c.getBoundingClientRect());
            const clipped = [];
            for (const el of document.querySelectorAll('.tl-card *')) {
                if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
                    && getComputedStyle(el).overflow !== 'visible') clipped.push(el.className);
                const r = el.getBoundingClientRect(), c = el.closest('.tl-card')
                    .getBoundingClientRect();
                if (r.width && (r.right > c.right + 1 || r.bottom > c.bottom + 1))
                    clipped.push('outside ' + el.className);
            }
            let overlaps = 0;
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i], b = boxes[j];
                if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                    overlaps++;
            }
            const tops = new Set(boxes.map(b => Math.round(b.top)));
            return {count: cards.length, widths: boxes.map(b => b.width), clipped, overlaps,
                    rows: tops.size, imgs: Array.from(document.images).map(i => i.naturalWidth),
                    links: document.querySelectorAll('a.tl-card').length};
        }""")
    finally:
        page.close()
    assert report["count"] == len(tools) and report["links"] == len(tools) - 2
    assert report["overlaps"] == 0 and report["clipped"] == []
    assert all(200 <= w <= 400 for w in report["widths"])
    assert report["rows"] < len(tools) / 2, "cards sit side by side"
    assert all(w == 160 for w in report["imgs"]), "every picture (thumbnail or placeholder)"
