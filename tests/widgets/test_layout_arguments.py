"""Every ``Layout(...)`` in the widgets names a style ipywidgets knows.

ipywidgets drops an unknown keyword with only a deprecation warning (``Layout(gap="8px")``
did nothing on the no-code pages): spacing between a box's children is the ``tl-gap-*``
classes of the page template.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ipywidgets as widgets

from tests.conftest import ROOT

TEMPLATE = ROOT / "templates" / "terralab" / "index.html.j2"


def _layout_keywords(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None)
            if name == "Layout":
                found += [(node.lineno, keyword.arg) for keyword in node.keywords if keyword.arg]
    return found


def test_layouts_use_known_styles_only():
    known = set(widgets.Layout.class_trait_names())
    unknown = [f"{path.relative_to(ROOT)}:{line} {name}"
               for path in sorted((ROOT / "widgets").rglob("*.py"))
               for line, name in _layout_keywords(path) if name not in known]
    assert unknown == []


def test_every_gap_class_used_is_styled():
    template = TEMPLATE.read_text(encoding="utf-8")
    used = {word for path in (ROOT / "widgets").rglob("*.py")
            for word in path.read_text(encoding="utf-8").split('"') if word.startswith("tl-gap-")}
    assert used and all(f".{name} {{" in template for name in used), used
