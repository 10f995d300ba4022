"""The README's tool tables list every registered tool (and nothing that is not one)."""

from __future__ import annotations

import re
from pathlib import Path

from terralab.tools.registry import default_registry

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_tool_tables_list_every_tool():
    rows = re.findall(r"^\| ((?:`[a-z_]+`(?:, )?)+) \|", README.read_text(), flags=re.M)
    listed = {name for row in rows for name in re.findall(r"`([a-z_]+)`", row)}
    registered = set(default_registry())
    assert registered <= listed, f"not in the README: {sorted(registered - listed)}"


def test_the_item_ids_of_the_readme_examples_exist_in_the_demo_catalog(demo_home):
    """A new user copies the README's examples: the items they name must be there."""
    named = set(re.findall(r"\b(S[12][ABC]_[A-Z0-9_]+|L[CO]0[89]_[A-Z0-9_]+)\b",
                           README.read_text()))
    assert named, "the README names no demo item"
    on_disk = {path.name for path in (demo_home / "catalog").rglob("*") if path.is_dir()}
    assert named <= on_disk, f"not in the demo catalog: {sorted(named - on_disk)}"
