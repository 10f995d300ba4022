"""The no-code lab's pages built in-process (no hub, no browser), in both languages.

The browser tests (tests/browser/test_nocode_*.py) walk the pages in English and Chinese
through the hub; these check what each page holds and does, quickly: the header, the
navigation, errors as messages, my data's list and actions, projects, jobs, search's
"send to tool".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from terralab.widgets.pages import home, jobs, mydata, projects, search, shell, tools
from terralab.widgets.pages.shell import PAGES, Shell, message_of, page_url, run_page


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's own HOME (their preferences), and no browser language."""
    monkeypatch.setenv("HOME", str(tmp_path / "alice-home"))
    monkeypatch.delenv("HTTP_ACCEPT_LANGUAGE", raising=False)
    monkeypatch.setenv("SCRIPT_NAME", "/user/alice/voila/render/dashboards/home.ipynb")
    tools.list_tool_dicts.cache_clear()
    return tmp_path / "alice-home"


def _html(widget) -> str:
    """Every HTML value and description under ``widget``."""
    found = [str(getattr(widget, "value", "")), str(getattr(widget, "description", ""))]
    for child in getattr(widget, "children", ()):
        found.append(_html(child))
    return "\n".join(found)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_header_links_every_page_and_shows_the_quota(user_home, lang):
    page = Shell("jobs", lang=lang)
    text = _html(page.header.widget)
    for link in PAGES:
        assert f'href="/user/alice/voila/render/dashboards/{link.notebook}"' in text
        assert (link.chinese if lang == "zh" else link.english) in text
    assert 'tl-nav-link tl-active" href="/user/alice/voila/render/dashboards/jobs.ipynb"' in text
    assert text.count('class="tl-quota ') == 3
    assert ("重置" if lang == "zh" else "resets") in text
    assert page.header.language.value == lang
    assert page_url("tool", tool="index", input="a b") == \
        "/user/alice/voila/render/dashboards/tool.ipynb?tool=index&input=a+b"


def test_the_language_switch_remembers_the_choice_and_reloads(user_home, monkeypatch):
    page = Shell("home")
    sent = []
    monkeypatch.setattr(page.signal, "send", sent.append)
    page.header.language.value = "zh"
    assert (user_home / ".terralab" / "preferences.json").is_file()
    assert sent == [{"reload": True}]
    assert Shell("home").lang == "zh"


def test_a_failing_page_says_so_without_a_traceback(user_home):
    def broken(page):
        raise RuntimeError("internal detail /srv/secret")

    page = run_page("home", broken, lang="en")
    assert page.signal.ready
    assert "log." in page.notice.value and "secret" not in page.notice.value
    assert message_of(ValueError("the image has no red band")) == "the image has no red band"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_and_tools_show_every_tool_with_its_page_link(user_home, lang):
    page = run_page("home", home.build, lang=lang)
    text = _html(page.content)
    from terralab.tools import default_registry
    from terralab.widgets.i18n import tool_title

    for name in default_registry():
        tool = default_registry()[name]
        if getattr(tool, "needs_model", False):  # no model installed here: no link
            assert f'tl-card-off" aria-disabled="true" data-tool="{name}"' in text
        else:
            assert f"tool.ipynb?tool={name}" in text
        assert tool_title(tool.info, lang) in text
    assert ("最近的任务" if lang == "zh" else "Recent jobs") in text
    page = run_page("tools", tools.build, lang=lang)
    assert "tool.ipynb?tool=index" in _html(page.content)


def _small_tif(path: Path) -> Path:
    rng = np.random.default_rng(0)
    with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=3,
                       dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(500_000, 3_390_000, 10, 10)) as dst:
        dst.write(rng.integers(1, 255, size=(3, 1024, 1024), dtype="uint8"))
    return path


def test_my_data_lists_filters_renames_shows_and_deletes(user_home, tmp_path):
    import terralab as tl

    record = tl.upload(_small_tif(tmp_path / "field.tif"), title="Field survey")
    page = run_page("mydata", mydata.build, lang="en")
    assert not page.notice.value, page.notice.value
    data = page.mydata
    assert [r.id for r in data.records] == [record.id]
    row_text = _html(data.rows)
    assert "Field survey" in row_text and f"mydata/items/{record.id}/download" in row_text
    data.text.value = "nothing like it"
    assert data.records == []
    data.text.value = "survey"
    assert [r.id for r in data.records] == [record.id]
    data.text.value = ""
    data.show_item(record.id)
    assert data.map_layer is not None and data.map_layer in data.map.layers
    row = data.rows.children[0]
    row.children[2].click()  # Rename: the row becomes a name field and Save
    row.children[0].value = "Field 2024"
    row.children[1].click()
    assert tl.my_data()[0].title == "Field 2024"
    delete = data.rows.children[0].children[3]
    delete.click()  # asks first
    assert tl.my_data() != []
    delete.click()
    assert tl.my_data() == [] and "deleted" in page.notice.value
    assert data.map_layer is None and data.shown is None  # the deleted item left the map


def test_projects_create_open_rename_delete(user_home):
    import terralab as tl

    page = run_page("projects", projects.build, lang="zh")
    state = page.projects
    state.name.value = "洪水研究"
    state.create.click()
    assert [p.name for p in tl.projects.list_projects()] == ["洪水研究"]
    assert "已创建" in page.notice.value and state.opened.name == "洪水研究"
    rename_field, rename, delete = state.detail.children[0].children
    rename_field.value = "洪水研究 2025"
    rename.click()
    assert tl.projects.list_projects()[0].name == "洪水研究 2025"
    delete.click()
    delete.click()
    assert tl.projects.list_projects() == []
    state.name.value = ""
    state.create.click()  # a bad name is a message, not a traceback
    assert "tl-error" in page.notice.value


def test_jobs_list_my_jobs_with_state_and_results(user_home, tmp_path):
    import terralab as tl

    record = tl.upload(_small_tif(tmp_path / "rgb.tif"), title="RGB")
    job = tl.submit("band_math", expression="b1 + b2", image=record.id)
    job.wait(timeout=120)
    page = run_page("jobs", jobs.build, lang="en")
    table = page.jobs
    table.stop()
    text = _html(table.rows)
    assert "Band math" in text and "done" in text
    assert f"mydata.ipynb?item={job.record.results[0]}" in text


def test_send_to_tool_opens_the_chosen_tools_page_with_the_item(user_home, monkeypatch):
    page = run_page("search", search.build, lang="en")
    assert not page.notice.value, page.notice.value
    sent = []
    monkeypatch.setattr(page.signal, "send", sent.append)
    page.search.tool.value = "index"
    page.search.send_to_tool("S2A_ITEM")
    assert sent == [{"go": "/user/alice/voila/render/dashboards/tool.ipynb?tool=index&input="
                           "S2A_ITEM"}]
    assert shell.page_url("search") in _html(page.header.widget)
