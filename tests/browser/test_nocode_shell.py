"""The no-code lab's pages in Chromium through the real hub, by mouse.

A member of the ``dashboards`` group lands on Home, walks the navigation, switches the
language (remembered for the user, whatever the browser asks), and sees the jobs page with a
queued job's place and a working Cancel; an administrator sees every user's jobs. Every page
loads nothing from outside the lab, logs no JavaScript error and shows no traceback.
Screenshots go to ``tests/artifacts/nocode-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.browser.lab import login

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAGES = ("home", "search", "mydata", "tools", "jobs", "projects")
NAV_EN = {"home": "Home", "search": "Search", "mydata": "My data", "tools": "Tools",
          "jobs": "Jobs", "projects": "Projects"}
NAV_ZH = {"home": "首页", "search": "数据", "mydata": "我的数据", "tools": "工具",
          "jobs": "任务", "projects": "项目"}


class Watch:
    """What a page did wrong: JavaScript errors, requests leaving the lab, tracebacks."""

    def __init__(self, page, base: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.errors.append(message.text)
                if message.type == "error" else None)
        page.on("request", lambda request: self.outside.append(request.url)
                if not request.url.startswith((base, "data:", "blob:")) else None)

    def check(self, page) -> None:
        text = page.inner_text("body")
        assert "Traceback" not in text and "There was an error when executing" not in text
        assert not self.outside, f"requests outside the lab: {self.outside}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


def _admin(hub) -> dict[str, str]:
    return {"Authorization": f"token {hub.token('admin')}"}


def _member(hub, user: str, *groups: str) -> None:
    """Create ``user`` (signed up and approved) and put them in ``groups``."""
    if user not in hub.logins:
        hub.account(user, f"{user}-pass-123")
    # a hub user exists once logged in; an admin creates it at once (409: already there)
    requests.post(f"{hub.url}/hub/api/users/{user}", headers=_admin(hub), timeout=30)
    for group in groups:
        requests.post(f"{hub.url}/hub/api/groups/{group}", headers=_admin(hub), timeout=30)
        requests.post(f"{hub.url}/hub/api/groups/{group}/users", headers=_admin(hub),
                      json={"users": [user]}, timeout=30).raise_for_status()


def _ready(page, timeout: float = 120_000) -> None:
    page.wait_for_selector("body[data-tl-ready='1']", state="attached", timeout=timeout)


def _land(context, hub, user: str):
    """A new page of ``context``, logged in as ``user`` and landed on a usable Home."""
    page = context.new_page()
    login(page, hub, user)
    page.wait_for_url("**/voila/render/dashboards/home.ipynb*", timeout=180_000)
    _ready(page)
    return page


def _nav(page, key: str):
    return page.locator(f"a[data-tl-nav='{key}']")


def test_a_dashboards_member_walks_every_page_and_switches_language(hub, chromium_browser):
    user = "nocode1"
    _member(hub, user, "dashboards")
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 900},
                                           locale="en-US")
    page = context.new_page()
    watch = Watch(page, hub.url)
    login(page, hub, user)
    page.wait_for_url("**/voila/render/dashboards/home.ipynb*", timeout=180_000)
    _ready(page)
    assert _nav(page, "home").get_attribute("class").endswith("tl-active")
    for key in PAGES[1:]:
        _nav(page, key).click()  # by mouse, as a user moves between pages
        page.wait_for_url(f"**/dashboards/{key}.ipynb*")
        _ready(page)
        assert "tl-active" in _nav(page, key).get_attribute("class")
        assert _nav(page, key).inner_text() == NAV_EN[key]
        page.screenshot(path=ARTIFACTS / f"nocode-{key}-en.png", full_page=True)
        watch.check(page)
    # the quota bars: storage, AI hours, downloads, with the reset day
    bars = page.locator(".tl-quota")
    assert bars.count() == 3
    assert "resets" in page.locator(".tl-quota-resets").inner_text()

    page.get_by_role("button", name="中文").click()
    page.wait_for_function("() => !document.body.dataset.tlReady", timeout=60_000)
    _ready(page)
    assert _nav(page, "home").inner_text() == NAV_ZH["home"]
    _nav(page, "jobs").click()
    page.wait_for_url("**/dashboards/jobs.ipynb*")
    _ready(page)
    assert page.get_by_text("我的任务").is_visible()
    page.screenshot(path=ARTIFACTS / "nocode-jobs-zh.png", full_page=True)
    watch.check(page)
    context.close()

    # remembered for the user: another browser that asks for English still gets Chinese
    other = chromium_browser.new_context(locale="en-US")
    page = _land(other, hub, user)
    assert _nav(page, "tools").inner_text() == NAV_ZH["tools"]
    other.close()


def test_chinese_by_default_when_the_browser_asks_for_it(hub, chromium_browser):
    user = "nocode2"
    _member(hub, user, "dashboards")
    context = chromium_browser.new_context(locale="zh-CN")
    page = _land(context, hub, user)
    assert _nav(page, "search").inner_text() == NAV_ZH["search"]
    assert page.get_by_text("选择数据，运行工具，在地图上查看结果。").is_visible()
    page.screenshot(path=ARTIFACTS / "nocode-home-zh.png", full_page=True)
    context.close()


@pytest.fixture
def idle_queue_job(hub):
    """A job of ``nocode3`` in a queue no worker serves: it stays queued, first in line."""
    user = "nocode3"
    _member(hub, user, "dashboards", "nocode-idle")
    token = hub.token(user)
    answer = requests.post(f"{hub.url}/services/terralab/jobs",
                           headers={"Authorization": f"token {token}"},
                           json={"tool": "index", "queue": "nocode-idle",
                                 "params": {"image": "no-such-item", "index": "ndvi"}},
                           timeout=60)
    assert answer.status_code in (200, 201, 202), answer.text
    return user, answer.json()["id"]


def test_jobs_page_shows_the_place_in_the_queue_and_cancels(hub, chromium_browser,
                                                             idle_queue_job):
    user, job_id = idle_queue_job
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    watch = Watch(page, hub.url)
    login(page, hub, user)
    page.wait_for_url("**/voila/render/dashboards/home.ipynb*", timeout=180_000)
    page.goto(f"{hub.url}/user/{user}/voila/render/dashboards/jobs.ipynb")
    _ready(page)
    row = page.locator(".tl-job-line").filter(has=page.locator(f"span[title='{job_id}']"))
    assert "1 in line" in row.inner_text()
    page.screenshot(path=ARTIFACTS / "nocode-jobs-queued.png", full_page=True)
    row.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancel requested.").wait_for(timeout=60_000)
    page.locator(".tl-job-cancelled").first.wait_for(timeout=60_000)
    status = requests.get(f"{hub.url}/services/terralab/jobs/{job_id}",
                          headers={"Authorization": f"token {hub.token(user)}"},
                          timeout=30).json()["status"]
    assert status == "cancelled"
    watch.check(page)
    context.close()

    # the administrator ticks "All users" and sees this user's job among everybody's
    admin = chromium_browser.new_context(viewport={"width": 1366, "height": 900})
    page = admin.new_page()
    login(page, hub, "admin")
    page.wait_for_load_state("networkidle")
    page.goto(f"{hub.url}/user/admin/voila/render/dashboards/jobs.ipynb")
    _ready(page)
    assert page.get_by_text("Queues and workers").is_visible()
    page.get_by_text("All users").click()
    page.locator(".tl-job-all").nth(1).wait_for(timeout=60_000)
    assert page.locator(f"span[title='{job_id}']").count() == 1
    assert user in page.locator(".tl-job-rows").inner_text()
    page.screenshot(path=ARTIFACTS / "nocode-jobs-admin.png", full_page=True)
    admin.close()


def _kernels(hub, user: str) -> list[dict]:
    answer = requests.get(f"{hub.url}/user/{user}/api/kernels",
                          headers={"Authorization": f"token {hub.token(user)}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_refreshed_and_closed_pages_leave_no_kernel_after_the_cull(hub, chromium_browser):
    """The test hub culls dashboards members' idle kernels without a page after 10 s."""
    import time

    user = "nocode4"
    _member(hub, user, "dashboards")
    context = chromium_browser.new_context()
    page = _land(context, hub, user)
    for _ in range(3):
        page.reload()
        _ready(page)
    # the page shown now has its kernel; a closed page whose browser never said goodbye
    # (no beforeunload: a killed tab, a lost network) leaves its kernel behind …
    page.close(run_before_unload=False)
    assert len(_kernels(hub, user)) >= 1
    # … until the cull: idle and without a connection for 10 s, checked every 5 s
    deadline = time.monotonic() + 90
    while _kernels(hub, user) and time.monotonic() < deadline:
        time.sleep(2)
    assert _kernels(hub, user) == []
    context.close()


def test_the_login_page_draws_its_icons_with_the_hubs_own_font(hub, chromium_browser):
    """The show-password button was an emoji, a box on machines without an emoji font."""
    context = chromium_browser.new_context()
    page = context.new_page()
    watch = Watch(page, hub.url)
    page.goto(f"{hub.url}/hub/login")
    eye = page.locator("#eye")
    before = "(e) => getComputedStyle(e, '::before')"
    assert eye.evaluate(f"{before}.content") == '"\uf06e"'
    assert page.evaluate("async () => { await document.fonts.ready;"
                         " return document.fonts.check('900 14px \"Font Awesome 7 Free\"'); }")
    page.fill("#password_input", "secret")
    eye.click()
    assert page.locator("#password_input").get_attribute("type") == "text"
    assert eye.evaluate(f"{before}.content") == '"\uf070"'
    page.screenshot(path=ARTIFACTS / "nocode-login.png")
    watch.check(page)
    context.close()
