"""First render of the no-code lab's Home page, beside a bare Voilà page, through a real hub.

    .venv/bin/python benchmarks/dashboards.py            # median of 5 (warm server)
    .venv/bin/python benchmarks/dashboards.py --runs 9

It starts ``terralab up`` on a temporary home holding the small demo region, makes a member of
the ``dashboards`` group, logs in with Debian's Chromium, lets the server start and renders
each page once to warm it (Python's imports cached on disk, the server's handlers loaded),
then times ``--runs`` navigations per page: from the navigation to the page's
``data-tl-ready`` marker (set once the page is usable) for Home, and to Voilà's own "cells
rendered" point for the peer, a bare Voilà page of one ``print`` cell on the same server — the
floor any Voilà page pays (a kernel started, the widgets' JavaScript loaded). It prints both
medians and their ratio; the goal for Home is ≤ 3 s on the 2-core machine the project is built
on.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from terralab.hub.ports import free_port  # noqa: E402
from tests.conftest import (  # noqa: E402  (the tests' hub helpers: one way to start a hub)
    CHROMIUM_FLAGS,
    start_terralab_up,
    stop_terralab_up,
    write_small_demo,
)
from tests.hub_helpers import RunningHub  # noqa: E402

USER = "bench"


def _setup(hub: RunningHub) -> None:
    hub.account(USER, "bench-pass-123")
    admin = {"Authorization": f"token {hub.token('admin')}"}
    requests.post(f"{hub.url}/hub/api/users/{USER}", headers=admin, timeout=30)
    requests.post(f"{hub.url}/hub/api/groups/dashboards/users", headers=admin,
                  json={"users": [USER]}, timeout=30).raise_for_status()
    bare = nbformat.v4.new_notebook()
    bare.cells = [nbformat.v4.new_code_cell("print('ready')")]
    bare.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    path = hub.home / "users" / USER / "bare.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(bare, path)


def _time(page, url: str, ready: str, runs: int) -> list[float]:
    page.goto(url)  # warm-up render
    page.wait_for_selector(ready, state="attached", timeout=180_000)
    times = []
    for _ in range(runs):
        page.goto("about:blank")
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(ready, state="attached", timeout=180_000)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Run the benchmark and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = write_small_demo(Path(tempfile.mkdtemp(prefix="terralab-bench-")))
    port = free_port()
    process, output = start_terralab_up(home, port)
    try:
        logins = dict(re.findall(r"^\s+(\w+)\s+password: (\S+)$", output, flags=re.M))
        hub = RunningHub(url=f"http://127.0.0.1:{port}", home=home, logins=logins)
        _setup(hub)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", USER)
            page.fill("#password_input", "bench-pass-123")
            page.click("#login_submit")
            page.wait_for_url("**/dashboards/home.ipynb*", timeout=300_000)
            base = f"{hub.url}/user/{USER}/voila/render/"
            home_times = _time(page, base + "dashboards/home.ipynb",
                               "body[data-tl-ready='1']", args.runs)
            bare_times = _time(page, base + "bare.ipynb",
                               "#rendered_cells:not([style*='display: none'])", args.runs)
            browser.close()
    finally:
        stop_terralab_up(process)
        shutil.rmtree(home, ignore_errors=True)
    home_median, bare_median = statistics.median(home_times), statistics.median(bare_times)
    print(f"Home (usable, data-tl-ready): median {home_median:.2f} s of "
          f"{', '.join(f'{t:.2f}' for t in home_times)}")
    print(f"bare Voilà page (one print cell): median {bare_median:.2f} s of "
          f"{', '.join(f'{t:.2f}' for t in bare_times)}")
    print(f"ratio Home / bare Voilà: {home_median / bare_median:.2f}; goal for Home ≤ 3 s: "
          f"{'met' if home_median <= 3 else 'not met'}")


if __name__ == "__main__":
    main()
