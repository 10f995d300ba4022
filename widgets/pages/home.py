"""首页 Home: the tool gallery, my recent jobs and my quota.

What a non-coder sees first after logging in: what the lab can do (one card per tool, with a
typical result), what they ran lately and how much of their month is left.
"""

from __future__ import annotations

import ipywidgets as widgets

from terralab.widgets.pages.jobs import JobTable
from terralab.widgets.pages.shell import Shell, page_url, run_page
from terralab.widgets.pages.tools import gallery

__all__ = ["build", "show"]


def build(shell: Shell) -> None:
    """Fill the home page."""
    t = shell.t
    recent = JobTable(shell, limit=5)
    recent.refresh()
    all_jobs = (f'<a href="{page_url("jobs")}">{t("All my jobs", "全部任务")} →</a>')
    search = (f'<a class="tl-link-button" href="{page_url("search")}">'
              f'{t("Search imagery", "检索影像")}</a> '
              f'<a class="tl-link-button" href="{page_url("mydata")}">'
              f'{t("Upload my data", "上传我的数据")}</a>')
    slogan = t("Pick data, run a tool, see the result on a map.",
               "选择数据，运行工具，在地图上查看结果。")
    intro = widgets.HTML(f"<h2>{slogan}</h2><p>{search}</p>")
    jobs_title = widgets.HTML(f'<h3>{t("Recent jobs", "最近的任务")}</h3>{all_jobs}')
    tools_title = widgets.HTML(f'<h3>{t("Tools", "工具")}</h3>')
    shell.content.children = [intro, tools_title, gallery(shell), jobs_title, recent.widget]
    shell.recent = recent  # type: ignore[attr-defined]


def show() -> Shell:
    """Show the home page (the one call of ``dashboards/home.ipynb``)."""
    return run_page("home", build)
