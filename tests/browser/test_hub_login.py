"""A user's first visit, in real Chromium: log in, JupyterLab, a notebook cell, a dashboard."""

import re

import pytest
from playwright.sync_api import expect

import terralab
from terralab.tools.registry import default_registry
from tests.browser.lab import login

pytestmark = [pytest.mark.browser, pytest.mark.hub]


def test_demo_logs_in_runs_a_cell_and_opens_a_dashboard(hub, chromium_browser, artifacts):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)

    login(page, hub, "demo")
    page.screenshot(path=artifacts / "01-after-login.png")
    page.wait_for_url(re.compile(r"/user/demo/lab"), timeout=180_000)
    page.wait_for_selector(".jp-LauncherCard")
    page.screenshot(path=artifacts / "02-jupyterlab.png")

    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    page.wait_for_selector("text=Python 3 (ipykernel) | Idle")
    cell = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    cell.click()
    code = "import terralab; terralab.__version__"
    page.keyboard.type(code)
    expect(cell).to_have_text(code)
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".jp-OutputArea-output").first).to_contain_text(
        repr(terralab.__version__), timeout=120_000)
    page.screenshot(path=artifacts / "03-notebook-cell.png")

    page.goto(f"{hub.url}/user/demo/voila/render/dashboards/home.ipynb")
    page.wait_for_selector("body[data-tl-ready='1']", state="attached", timeout=120_000)
    assert page.locator(".tl-header").is_visible()
    # the gallery: a card for every tool, the tests' hub's plug-in included
    assert page.locator(".tl-card").count() == len(default_registry()) + 1
    page.screenshot(path=artifacts / "04-voila-dashboard.png")
    context.close()


def test_dashboards_are_behind_the_hub_login(hub, chromium_browser):
    context = chromium_browser.new_context()
    page = context.new_page()
    page.goto(f"{hub.url}/user/demo/voila/render/dashboards/home.ipynb")
    page.wait_for_selector("#username_input")
    assert "/hub/login" in page.url
    assert "data-tool=" not in page.content()  # no page of the lab before the login
    context.close()
