"""Service URL paths, status maps and error maps live in the service layer only.

Each endpoint is declared once (kernels_lib/service/endpoints); the hub's routes, the HTTP
client's paths and the error ↔ status table come from there. This test reads the rest of the
code for what would be a second copy:

- a literal path of a declared endpoint (``"mydata/items/"``, ``"catalog/search"`` …) or a
  route built by hand (``prefix + "/jobs"``);
- an HTTP status map: exceptions turned into statuses (``HTTPStatus.NOT_FOUND`` …) or
  statuses into exceptions (``status_code == 404``, ``error.status == …``);
- a ``_raise`` error map.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from terralab.service.registry import endpoints

ROOT = Path(__file__).resolve().parents[1]
CODE = ("kernels_lib", "hub_config", "widgets", "extension")
SERVICE_LAYER = (ROOT / "kernels_lib" / "service",)
# the hub's base handler (authentication answers) and the handler made from declarations;
# the hub's account pages are JupyterHub pages, not endpoints of the service
HUB_BASE = {"api_handler.py", "declared_handlers.py", "account_handlers.py",
            "authenticator.py", "logins.py"}
# answers of other servers, read where they are fetched (not the service's own statuses)
OTHER_SERVERS = {
    ("kernels_lib/catalog/downloads.py", "response.status_code != 200"): "a remote asset's host",
    ("kernels_lib/catalog/stac_api.py", "response.status_code != 200"): "a remote STAC API",
    ("hub_config/launch.py", "response.status == 200"): "the hub answering at start",
    ("hub_config/quota_handlers.py", "response.code != HTTPStatus.OK"): "the hub's REST API",
}
STATUS_MAP = re.compile(
    r"HTTPStatus\.[A-Z_]+|status_code\s*[=!<>]=?\s*\d{3}|\.status\s*[=!]=\s*(\d{3}|HTTPStatus)"
    r"|HTTPError\(\s*\d{3}")
RAISE_MAP = re.compile(r"def _raise\b")
HAND_ROUTE = re.compile(r"""\+\s*r?["']/(catalog|mydata|jobs|projects|tools|queue|quota)\b""")


def _files() -> list[Path]:
    found = []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not any(path.is_relative_to(layer) for layer in SERVICE_LAYER):
                found.append(path)
    return found


def _literal_paths() -> re.Pattern[str]:
    prefixes = set()
    for found in endpoints():
        static = found.path.split("{", 1)[0]
        if "/" in static.strip("/"):  # e.g. catalog/search, mydata/items/
            prefixes.add(static)
        else:  # one segment: only as the start of a longer path ("jobs/…")
            prefixes.add(static.rstrip("/") + "/")
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"""(?<![\w/.-])["'f]?["']({alternatives})""")


@pytest.fixture(scope="module")
def code() -> dict[Path, str]:
    return {path: path.read_text() for path in _files()}


def test_no_literal_service_path_outside_the_service_layer(code):
    literal = _literal_paths()
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path, text in code.items()
                 for number, line in enumerate(text.splitlines(), start=1)
                 if (literal.search(line) or HAND_ROUTE.search(line))
                 and not line.lstrip().startswith("#")]
    assert not offenders, "\n".join(offenders)


def test_no_status_map_or_error_map_outside_the_service_layer(code):
    offenders = []
    for path, text in code.items():
        if path.parent.name == "hub_config" and path.name in HUB_BASE:
            continue
        name = str(path.relative_to(ROOT))
        for number, line in enumerate(text.splitlines(), start=1):
            if any(name == where and what in line for where, what in OTHER_SERVERS):
                continue
            if STATUS_MAP.search(line) or RAISE_MAP.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_checks_see_what_they_look_for():
    literal = _literal_paths()
    assert literal.search('self.call("POST", "catalog/search", json=body)')
    assert literal.search("path = f\"mydata/items/{item_id}/download\"")
    assert not literal.search('body["jobs"]')
    assert STATUS_MAP.search("if error.status == 404:")
    assert STATUS_MAP.search("raise web.HTTPError(HTTPStatus.NOT_FOUND, 'no item')")
    assert HAND_ROUTE.search('(base + "/jobs", JobListHandler, args)')
