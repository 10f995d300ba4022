"""Driving JupyterLab in Chromium: log in, open a notebook written by the test, run cells.

The notebooks the map tests use are written into the user's folder on the hub's disk
(``<home>/users/<name>/``, the folder JupyterLab opens), so the test and the kernel meet on
real files; outputs are read back from the page.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

__all__ = ["Lab", "login", "picture"]


def login(page: Page, hub, user: str, password: str | None = None) -> None:
    """Log ``user`` in through the hub's login form."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password or hub.logins[user])
    page.click("#login_submit")


def picture(locator: Locator, path: Path | None = None) -> np.ndarray:
    """A screenshot of an element as an RGB array (saved to ``path`` too when given)."""
    png = locator.screenshot(path=path)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


class Lab:
    """One user's JupyterLab on the test hub, in one browser page."""

    def __init__(self, page: Page, hub, user: str = "demo") -> None:
        self.page, self.hub, self.user = page, hub, user

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        """Write a notebook of code cells into the user's folder; returns its path."""
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        path = self.hub.home / "users" / self.user / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
        return path

    def open(self, name: str) -> None:
        """Log in (when needed) and open notebook ``name`` alone, with an idle kernel."""
        page = self.page
        url = f"{self.hub.url}/user/{self.user}/lab/tree/{name}?reset"  # no restored tabs
        page.goto(url)
        if "/hub/login" in page.url:
            login(page, self.hub, self.user)
            page.wait_for_url(re.compile(rf"/user/{self.user}/lab"), timeout=180_000)
            page.goto(url)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=180_000)
        page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=180_000)

    def cell(self, index: int) -> Locator:
        """The ``index``-th cell of the open notebook."""
        return self.page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(index)

    def run(self, index: int, *, expect_text: str | None = None,
            timeout: float = 120_000) -> str:
        """Run one cell (Shift+Enter), wait until it has run, and return its output text.

        A Shift+Enter that JupyterLab takes before its kernel connection is up does not
        start the cell; it is pressed again (up to three times) until the prompt changes.

        Args:
            index: the cell.
            expect_text: wait until the output contains this text too.
            timeout: how long to wait for the cell to finish, in milliseconds.
        """
        cell = self.cell(index)
        prompt = cell.locator(".jp-InputPrompt")
        before = prompt.inner_text()
        for attempt in range(3):
            cell.locator(".cm-content").click()
            self.page.keyboard.press("Shift+Enter")
            try:
                self.page.wait_for_function(
                    "([element, before]) => element.innerText !== before",
                    arg=[prompt.element_handle(), before], timeout=20_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        self.page.wait_for_function(
            "(element) => /\\[\\d+\\]/.test(element.innerText)",
            arg=prompt.element_handle(), timeout=timeout)
        output = cell.locator(".jp-OutputArea")
        if expect_text is not None:
            expect(output).to_contain_text(expect_text, timeout=timeout)
        return output.inner_text()

    def wait_for_tiles(self, map_locator: Locator, *, minimum: int = 1,
                       timeout: float = 60_000) -> None:
        """Wait until the map shows ``minimum`` terralab tiles and none is still loading."""
        handle = map_locator.element_handle()
        self.page.wait_for_function(
            """([root, minimum]) => {
                const tiles = Array.from(root.querySelectorAll(
                    'img.leaflet-tile[src*="terralab/tiles"]'));
                const done = tiles.filter(t => t.complete && t.naturalWidth > 0);
                return done.length >= minimum && tiles.every(t => t.complete);
            }""", arg=[handle, minimum], timeout=timeout)
        self.page.wait_for_timeout(500)  # the fade-in of the last tiles
