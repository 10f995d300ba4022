"""The header of every page: product name, navigation, user, quota bars, language switch.

The quota bars show this month's storage, AI hours and downloads (used of the limit, with the
day the monthly ones start again), read once per page from ``tl.quota()`` — in a hub the
service's report, which applies the user's groups. The 中文 / English switch remembers the
choice for the user (:func:`terralab.widgets.i18n.set_language`) and renders the page again.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from terralab.widgets.i18n import set_language

if TYPE_CHECKING:
    from terralab.widgets.pages.shell import Shell

__all__ = ["Header", "quota_bars"]

log = logging.getLogger("terralab.pages")


def _bar(label: str, used: str, limit: str, share: float, tip: str) -> str:
    width = max(0.0, min(100.0, share))
    level = "tl-full" if share >= 100 else "tl-high" if share >= 80 else ""
    return (f'<div class="tl-quota {level}" title="{html.escape(tip)}">'
            f'<span class="tl-quota-label">{html.escape(label)}</span>'
            f'<span class="tl-quota-track"><span class="tl-quota-fill" '
            f'style="width:{width:.1f}%"></span></span>'
            f'<span class="tl-quota-text">{html.escape(used)} / {html.escape(limit)}</span>'
            "</div>")


def _share(used: float, limit: float) -> float:
    return 100.0 if limit <= 0 and used else 100.0 * used / limit if limit > 0 else 0.0


def quota_bars(report: Any, t: Any) -> str:
    """The three quota bars of a ``QuotaReport`` as HTML (``t(english, chinese)`` picks labels)."""
    from terralab.quotas.policy import format_duration
    from terralab.sizes import format_size

    last_day = (report.resets - timedelta(days=1)).date()
    resets = report.resets.date().isoformat()
    monthly = t(f"this month, until {last_day}; starts again on {resets}",
                f"本月用量，至 {last_day}；{resets} 重新计算")
    bars = [
        _bar(t("Storage", "存储"), format_size(report.storage_bytes_used),
             format_size(report.storage_bytes_limit),
             _share(report.storage_bytes_used, report.storage_bytes_limit),
             t("data kept in my data", "我的数据占用的空间")),
        _bar(t("AI hours", "AI 时长"), format_duration(report.ai_seconds_used),
             format_duration(report.ai_seconds_limit),
             _share(report.ai_seconds_used, report.ai_seconds_limit), monthly),
        _bar(t("Downloads", "下载"), format_size(report.download_bytes_used),
             format_size(report.download_bytes_limit),
             _share(report.download_bytes_used, report.download_bytes_limit), monthly),
    ]
    note = t(f"resets {resets}", f"{resets} 重置")
    return (f'<div class="tl-quotas">{"".join(bars)}'
            f'<span class="tl-quota-resets">{html.escape(note)}</span></div>')


class Header:
    """The header widget of one page (``shell.header.widget``).

    Args:
        shell: the page it heads.
    """

    def __init__(self, shell: Shell) -> None:
        from terralab.identity import current_user
        from terralab.widgets.pages.shell import PAGES, page_url

        self.shell = shell
        t = shell.t
        links = []
        for page in PAGES:
            active = page.key == shell.page or (shell.page == "tool" and page.key == "tools")
            links.append(f'<a class="tl-nav-link{" tl-active" if active else ""}" '
                         f'href="{html.escape(page_url(page.key))}" '
                         f'data-tl-nav="{page.key}">{html.escape(t(page.english, page.chinese))}'
                         "</a>")
        self.brand = widgets.HTML(
            f'<a class="tl-brand" href="{html.escape(page_url("home"))}">terralab</a>'
            f'<nav class="tl-nav">{"".join(links)}</nav>')
        self.brand.add_class("tl-header-left")
        try:
            user = current_user()
        except Exception:  # no user known (a plain kernel): no name shown
            user = ""
        self.user = widgets.HTML(f'<span class="tl-user">{html.escape(user)}</span>')
        self.quotas = widgets.HTML()
        self.quotas.add_class("tl-header-quotas")
        self.refresh_quota()
        self.language = widgets.ToggleButtons(
            options=[("中文", "zh"), ("English", "en")], value=shell.lang,
            tooltips=["界面使用中文", "Show the pages in English"],
            layout=widgets.Layout(width="auto"),
            style={"button_width": "auto"})
        self.language.add_class("tl-language")
        self.language.observe(shell.guard(self._switch), names="value")
        right = widgets.HBox([self.quotas, self.user, self.language])
        right.add_class("tl-header-right")
        self.widget = widgets.HBox([self.brand, right])
        self.widget.add_class("tl-header")

    def refresh_quota(self) -> None:
        """Read the quota report again and redraw the bars (nothing shown if it fails)."""
        import terralab as tl

        try:
            self.quotas.value = quota_bars(tl.quota(), self.shell.t)
        except Exception as error:  # a page without its quota bars is still usable
            log.warning("terralab page %s: quota not shown: %s", self.shell.page, error)
            self.quotas.value = ""

    def _switch(self, change: dict[str, Any]) -> None:
        set_language(change["new"])
        self.shell.signal.reload()
