"""Fixtures of the widget tests: a private TERRALAB_HOME, user ``alice``, no hub, no keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from terralab.widgets import tile_urls


@pytest.fixture(autouse=True)
def widget_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point TERRALAB_HOME at a temporary folder with ``users/alice``, with no Tianditu key."""
    home = tmp_path / "home"
    (home / "users" / "alice").mkdir(parents=True)
    monkeypatch.setenv("TERRALAB_HOME", str(home))
    monkeypatch.setenv("TERRALAB_USER", "alice")
    monkeypatch.delenv("TIANDITU_TOKEN", raising=False)
    monkeypatch.setattr(tile_urls, "_server_base_url", lambda: None)
    return home
