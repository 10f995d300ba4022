"""The upload picker and download links without a browser (the browser test drives the page).

Its words in both languages, the service paths it is given (from the declarations, so the
page and the service never disagree), its ``on_ready`` hook, and the download URLs through
the bridge of the user's server.
"""

from __future__ import annotations

import pytest

from terralab.extension.bridge import BRIDGE_PATH
from terralab.widgets import upload_picker
from terralab.widgets.upload_picker import UploadPicker, download_url


def test_words_in_both_languages_and_the_paths_of_the_declarations(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    english, chinese = UploadPicker(lang="en"), UploadPicker(lang="zh")
    assert english.labels["choose"] == "Choose files…" and chinese.labels["choose"] == "选择文件…"
    assert set(english.labels) == set(chinese.labels)
    assert all(english.labels[key] != chinese.labels[key] for key in english.labels)
    assert "5 GB" in english.labels["hint"] and "5 GB" in chinese.labels["hint"]
    assert english.routes == {"bridge": BRIDGE_PATH, "announce": "mydata/uploads",
                              "state": "mydata/uploads/{upload_id}", "final": 202}
    assert upload_picker.BRIDGE_PATH == BRIDGE_PATH
    assert english.base_url == "/user/alice/"
    assert ".tif" in english.accept.split(",") and ".gpkg" in english.accept.split(",")
    assert english.chunk_bytes == 8 * 1024**2


def test_without_a_choice_the_language_is_the_browsers(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HTTP_ACCEPT_LANGUAGE", "zh-CN,zh;q=0.9,en;q=0.8")
    assert UploadPicker().labels["ready"] == "已加入我的数据"
    monkeypatch.setenv("HTTP_ACCEPT_LANGUAGE", "en-GB,en")
    assert UploadPicker().labels["ready"] == "Ready in My data"


def test_on_ready_is_called_once_per_item():
    picker = UploadPicker(lang="en")
    seen: list[str] = []
    picker.on_ready(lambda item: seen.append(item["id"]))
    picker.ready_items = [{"id": "a"}]
    picker.ready_items = [{"id": "a"}, {"id": "b"}]
    assert seen == ["a", "b"]


def test_download_urls_go_through_the_bridge(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert download_url("field 1", format="geotiff") == (
        "/user/alice/terralab/api/service/mydata/items/field%201/download?format=geotiff")
    assert download_url("field") == "/user/alice/terralab/api/service/mydata/items/field/download"
    assert download_url("S2A_1", catalog=True, asset="B04", collection="sentinel-2-l2a") == (
        "/user/alice/terralab/api/service/catalog/items/S2A_1/download"
        "?collection=sentinel-2-l2a&asset=B04")
    with pytest.raises(ValueError, match="asset="):
        download_url("S2A_1", catalog=True)
    with pytest.raises(ValueError, match="not format="):
        download_url("S2A_1", catalog=True, asset="B04", format="geotiff")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX")
    assert download_url("x").startswith("/terralab/api/service/")
