"""任务 Jobs: my jobs, and for an administrator every user's jobs and the workers.

Each job shows its state, tool, queued and run time, place in the queue, progress, results
and a Cancel button while it is queued or running.

The table refreshes itself every few seconds while a job of it is queued or running (and on
"Refresh"). :class:`JobTable` is also the "recent jobs" list of the home page.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as widgets

from terralab.widgets.pages.shell import Shell, page_url, run_page

__all__ = ["JobTable", "build", "show"]

_STATES = {"queued": ("queued", "排队中"), "running": ("running", "运行中"),
           "succeeded": ("done", "已完成"), "failed": ("failed", "失败"),
           "cancelled": ("cancelled", "已取消")}
_ACTIVE = ("queued", "running")
_PLACES = 10
"""Queued jobs of mine whose place in the queue a listing asks for (one request each)."""


def _duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _tool_titles(lang: str) -> dict[str, str]:
    """Each tool's title in ``lang``, from the service's list (no tool module imported)."""
    from terralab.widgets.i18n import tool_title
    from terralab.widgets.pages.tools import list_tool_dicts

    return {tool["name"]: tool_title(tool, lang) for tool in list_tool_dicts()}


class JobTable:
    """A table of jobs with their state, times, place in the queue, progress and results.

    Args:
        shell: the page it is on (language, messages).
        everybody: list every user's jobs (administrators only).
        limit: how many of the newest jobs to list.
        refresh_every: seconds between refreshes while a listed job is active (0: never).
    """

    def __init__(self, shell: Shell, *, everybody: bool = False, limit: int = 50,
                 refresh_every: float = 3.0) -> None:
        self.shell = shell
        self.everybody = everybody
        self.limit = limit
        self.refresh_every = refresh_every
        self.titles = _tool_titles(shell.lang)
        self.rows = widgets.VBox()
        self.rows.add_class("tl-job-rows")
        self.widget = widgets.VBox([self.rows])
        self.widget.add_class("tl-jobs")
        self._timer: threading.Timer | None = None
        self.jobs: list[Any] = []
        self._user: str | None = None

    def refresh(self) -> None:
        """List the jobs again; keep refreshing while one of them is queued or running."""
        import terralab as tl

        self.jobs = tl.jobs(everybody=self.everybody, limit=self.limit)
        # a listing leaves out the place in the queue: ask for it for the first queued jobs
        for job in [job for job in self.jobs if job.status == "queued"][:_PLACES]:
            if job.record.standing is None and job.record.owner == self._me():
                job.refresh()
        t = self.shell.t
        if not self.jobs:
            empty = t("No jobs yet: run a tool from Tools.", "还没有任务：在“工具”里运行一个工具。")
            self.rows.children = [widgets.HTML(f'<p class="tl-empty">{empty}</p>')]
        else:
            self.rows.children = [self._header(), *(self._row(job) for job in self.jobs)]
        self._schedule()

    def _me(self) -> str:
        if self._user is None:
            from terralab.identity import current_user

            self._user = current_user()
        return self._user

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.refresh_every and any(job.status in _ACTIVE for job in self.jobs):
            self._timer = threading.Timer(self.refresh_every, self.shell.guard(self.refresh))
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        """Stop refreshing."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _header(self) -> widgets.Widget:
        t = self.shell.t
        cells = [t("Tool", "工具"), t("State", "状态"), t("Queued", "排队"),
                 t("Run time", "运行时间"), t("Progress", "进度"), t("Results", "结果"), ""]
        if self.everybody:
            cells.insert(0, t("User", "用户"))
        row = widgets.HTML("".join(f"<span>{html.escape(c)}</span>" for c in cells))
        row.add_class("tl-job-row")
        row.add_class("tl-job-head")
        if self.everybody:
            row.add_class("tl-job-all")
        return row

    def _row(self, job: Any) -> widgets.Widget:
        t = self.shell.t
        record = job.record
        english, chinese = _STATES.get(record.status, (record.status, record.status))
        state = t(english, chinese)
        standing = record.standing
        if record.status == "queued" and standing is not None and standing.position:
            state += t(f" · {standing.position} in line", f" · 第 {standing.position} 位")
        now = time.time()
        waited = (record.started or now) - record.submitted if record.submitted else None
        ran = ((record.finished or now) - record.started) if record.started else None
        progress = 100.0 if record.status == "succeeded" else float(record.progress or 0)
        results = "".join(
            f'<a href="{html.escape(page_url("mydata", item=item_id))}">'
            f'{html.escape(t("open", "查看"))}</a> ' for item_id in (record.results or ())[:3])
        if record.status == "failed" and record.error:
            results = f'<span class="tl-error-text">{html.escape(record.error[:160])}</span>'
        cells = [
            f'<span title="{html.escape(record.id)}">'
            f"{html.escape(self.titles.get(record.tool, record.tool))}</span>",
            f'<span class="tl-state tl-state-{record.status}">{html.escape(state)}</span>',
            f"<span>{_duration(waited)}</span>",
            f"<span>{_duration(ran)}</span>",
            f'<span class="tl-progress"><span style="width:{progress:.0f}%"></span></span>',
            f"<span>{results}</span>",
        ]
        if self.everybody:
            cells.insert(0, f"<span>{html.escape(record.owner)}</span>")
        info = widgets.HTML("".join(cells))
        info.add_class("tl-job-row")
        if self.everybody:
            info.add_class("tl-job-all")
        info.add_class(f"tl-job-{record.status}")
        children: list[widgets.Widget] = [info]
        if record.status in _ACTIVE:
            cancel = widgets.Button(description=t("Cancel", "取消"),
                                    layout=widgets.Layout(width="auto", flex="0 0 auto"))
            cancel.add_class("tl-cancel")
            cancel.on_click(self.shell.guard(lambda _button, job_id=record.id:
                                             self._cancel(job_id)))
            children.append(cancel)
        line = widgets.HBox(children, layout=widgets.Layout(align_items="center"))
        line.add_class("tl-job-line")
        return line

    def _cancel(self, job_id: str) -> None:
        import terralab as tl

        tl.job(job_id).cancel()
        self.shell.notify(self.shell.t("Cancel requested.", "已请求取消。"), "info")
        self.refresh()


def _workers(shell: Shell) -> widgets.Widget:
    from terralab.service.local import transport

    t = shell.t
    overview = transport().request("jobs.queue")
    lines = []
    for name, queue in overview.get("queues", {}).items():
        lines.append(f"<li><b>{html.escape(name)}</b>: "
                     + t(f"{queue['queued']} queued, {queue['running']} running, "
                         f"{queue['workers_busy']} of {queue['workers']} workers busy",
                         f"排队 {queue['queued']}，运行 {queue['running']}，"
                         f"工作进程 {queue['workers']} 个（忙 {queue['workers_busy']} 个）")
                     + "</li>")
    for worker in overview.get("workers", []) or []:
        job = worker.get("job") or t("idle", "空闲")
        lines.append(f"<li>{html.escape(str(worker.get('id', '')))} · "
                     f"{html.escape(str(worker.get('queue', '')))} · {html.escape(str(job))}</li>")
    box = widgets.HTML(f'<h3>{t("Queues and workers", "队列与工作进程")}</h3>'
                       f'<ul class="tl-workers">{"".join(lines)}</ul>')
    box.add_class("tl-panel")
    return box


def build(shell: Shell) -> None:
    """Fill the jobs page."""
    from terralab.service.local import transport

    t = shell.t
    admin = bool(transport().request("service.whoami").get("admin"))
    table = JobTable(shell)
    refresh = widgets.Button(description=t("Refresh", "刷新"), layout=widgets.Layout(width="auto"))
    refresh.on_click(shell.guard(lambda _button: table.refresh()))
    controls: list[widgets.Widget] = [refresh]
    parts: list[widgets.Widget] = []
    if admin:
        everybody = widgets.Checkbox(value=False, description=t("All users", "所有用户"),
                                     indent=False, layout=widgets.Layout(width="auto"))

        def switch(change: dict[str, Any]) -> None:
            table.everybody = bool(change["new"])
            table.refresh()

        everybody.observe(shell.guard(switch), names="value")
        controls.append(everybody)
        parts.append(_workers(shell))
    table.refresh()
    title = widgets.HTML(f'<h2>{t("My jobs", "我的任务")}</h2>')
    bar = widgets.HBox(controls, layout=widgets.Layout(align_items="center")).add_class("tl-gap-12")
    shell.content.children = [title, bar, table.widget, *parts]
    shell.jobs = table  # type: ignore[attr-defined]


def show() -> Shell:
    """Show the jobs page (the one call of ``dashboards/jobs.ipynb``)."""
    return run_page("jobs", build)
