"""The language of the no-code lab: the user's choice, else the browser's, else English."""

from __future__ import annotations

import pytest

from terralab.widgets import i18n


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HTTP_ACCEPT_LANGUAGE", raising=False)
    return tmp_path


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("en;q=0.5,zh-TW;q=0.7", "zh"),
    ("fr-FR,de;q=0.9", None),
    ("", None),
    (None, None),
    ("zh;q=0,en", "en"),
])
def test_the_browser_language_follows_accept_language(header, expected):
    assert i18n.browser_language(header) == expected


def test_the_users_choice_wins_and_is_remembered(user_home, monkeypatch):
    assert i18n.language() == "en"
    monkeypatch.setenv("HTTP_ACCEPT_LANGUAGE", "zh-CN,zh;q=0.9")
    assert i18n.language() == "zh"
    i18n.set_language("en")
    assert i18n.language() == "en"  # the choice beats the browser
    assert (user_home / ".terralab" / "preferences.json").is_file()
    assert i18n.pick("Search", "数据") == "Search"
    i18n.set_language("zh")
    assert i18n.pick("Search", "数据") == "数据"
    with pytest.raises(ValueError, match="zh, en"):
        i18n.set_language("fr")


def test_tool_titles_and_help_in_both_languages(user_home):
    from terralab.tools.registry import default_registry

    ndvi = default_registry()["index"]
    assert i18n.tool_title(ndvi.info, "zh") == ndvi.info.title_zh
    assert i18n.tool_title(ndvi.info.to_dict(), "en") == ndvi.info.title
    field = next(iter(ndvi.schema()["properties"].values()))
    assert i18n.field_help(field, "zh") == field["help_zh"]
    assert i18n.field_help(field, "en") == field["description"]
