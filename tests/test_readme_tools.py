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
