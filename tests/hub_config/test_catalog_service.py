"""The catalog endpoints of the hub service, behind the real hub, per user."""

import copy
import os
import shutil
import subprocess
import sys

import pytest
import requests

from terralab.catalog.index import CatalogIndex, default_index_path
from terralab.quotas.downloads import downloaded_bytes

pytestmark = pytest.mark.hub

SEARCH = {"admin": "湖州市", "collections": ["sentinel-2-l2a"], "max_cloud": 30}


def api(hub, path):
    return f"{hub.url}/services/terralab/catalog/{path}"


def auth(hub, user):
    return {"Authorization": f"token {hub.token(user)}"}


@pytest.fixture(scope="module")
def found(hub):
    response = requests.post(api(hub, "search"), json=SEARCH, headers=auth(hub, "demo"),
                             timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def admins_own_item(hub, found):
    """An item only the user `admin` owns, with its file in admin's folder."""
    item = copy.deepcopy(found["features"][0])
    item["id"] = "admins-private-scene"
    folder = hub.home / "users" / "admin" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    for key, asset in item["assets"].items():
        if asset["href"].startswith("/"):
            target = folder / f"{key}.tif"
            shutil.copyfile(asset["href"], target)
            asset["href"] = str(target)
    index = CatalogIndex(default_index_path(hub.home))
    try:
        index.add_items([item], owner="admin")
    finally:
        index.close()
    return item


def test_search_needs_a_login(hub):
    response = requests.post(api(hub, "search"), json=SEARCH, timeout=30)
    assert response.status_code == 401


def test_search_finds_the_cloud_filtered_demo_items(found):
    assert found["features"]
    assert all(f["collection"] == "sentinel-2-l2a" for f in found["features"])
    assert all(f["properties"]["eo:cloud_cover"] <= 30 for f in found["features"])
    assert found["context"]["returned"] == len(found["features"])


def test_collections_are_listed(hub):
    response = requests.get(api(hub, "collections"), headers=auth(hub, "demo"), timeout=30)
    assert response.status_code == 200
    ids = {c["id"] for c in response.json()["collections"]}
    assert {"landsat-c2-l2", "sentinel-2-l2a", "sentinel-1-grd"} <= ids


@pytest.mark.parametrize(("body", "words"), [
    ({"place": "Nowhereville"}, "Nowhereville"),
    ({"geometry": {"type": "Polygon", "coordinates": []}}, "empty"),
    ({"admin": "330500", "max_cloud": 300}, "cloud"),
    ({"admin": "330500", "place": "德清"}, "one area"),
])
def test_bad_searches_get_400_with_a_message(hub, body, words):
    response = requests.post(api(hub, "search"), json=body, headers=auth(hub, "demo"), timeout=30)
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_an_ambiguous_place_answers_its_candidates(hub):
    response = requests.post(api(hub, "search"), json={"place": "Deqing"},
                             headers=auth(hub, "demo"), timeout=30)
    assert response.status_code == 400
    assert len(response.json()["candidates"]) >= 2


def test_thumbnail_is_a_png(hub, found):
    item = found["features"][0]["id"]
    response = requests.get(api(hub, f"items/{item}/thumbnail"), headers=auth(hub, "demo"),
                            timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content[:4] == b"\x89PNG"


def test_favourites_belong_to_their_user(hub, found):
    item = found["features"][0]["id"]
    demo, admin = auth(hub, "demo"), auth(hub, "admin")
    assert requests.put(api(hub, f"favourites/{item}"), headers=demo, timeout=30).status_code \
        == 201
    listed = requests.get(api(hub, "favourites"), headers=demo, timeout=30).json()
    assert [f["id"] for f in listed["features"]] == [item]
    assert requests.get(api(hub, "favourites"), headers=admin, timeout=30).json()["features"] \
        == []
    assert requests.delete(api(hub, f"favourites/{item}"), headers=admin,
                           timeout=30).status_code == 404
    assert requests.delete(api(hub, f"favourites/{item}"), headers=demo,
                           timeout=30).status_code == 204
    assert requests.put(api(hub, "favourites/no-such-item"), headers=demo,
                        timeout=30).status_code == 404


def test_download_streams_the_asset_and_counts_the_bytes(hub, found):
    item = found["features"][0]
    key = next(k for k, a in item["assets"].items() if a["href"].endswith(".tif"))
    before = downloaded_bytes("demo", home=hub.home)
    response = requests.get(api(hub, f"items/{item['id']}/download"), params={"asset": key},
                            headers=auth(hub, "demo"), timeout=60)
    assert response.status_code == 200, response.text
    with open(item["assets"][key]["href"], "rb") as handle:
        assert response.content == handle.read()
    assert "attachment" in response.headers["Content-Disposition"]
    assert downloaded_bytes("demo", home=hub.home) - before == len(response.content)
    missing = requests.get(api(hub, f"items/{item['id']}/download"), params={"asset": "nope"},
                           headers=auth(hub, "demo"), timeout=30)
    assert missing.status_code == 404 and "no asset" in missing.json()["message"]


def test_another_users_item_is_invisible_everywhere(hub, admins_own_item):
    item = admins_own_item["id"]
    key = next(k for k, a in admins_own_item["assets"].items() if a["href"].endswith(".tif"))
    demo, admin = auth(hub, "demo"), auth(hub, "admin")
    body = {"admin": "湖州市", "limit": 1000}
    seen = requests.post(api(hub, "search"), json=body, headers=demo, timeout=60).json()
    assert item not in {f["id"] for f in seen["features"]}
    for path in (f"items/{item}/thumbnail", f"items/{item}/download?asset={key}"):
        assert requests.get(api(hub, path), headers=demo, timeout=30).status_code == 404, path
    assert requests.put(api(hub, f"favourites/{item}"), headers=demo, timeout=30).status_code \
        == 404
    mine = requests.post(api(hub, "search"), json=body, headers=admin, timeout=60).json()
    assert item in {f["id"] for f in mine["features"]}
    download = requests.get(api(hub, f"items/{item}/download"), params={"asset": key},
                            headers=admin, timeout=60)
    assert download.status_code == 200


def test_tl_search_in_a_users_server_goes_through_the_service(hub, found, tmp_path):
    """The kernel's environment in a hub: the service URL and the user's API token."""
    env = dict(os.environ, TERRALAB_SERVICE_URL=f"{hub.url}/services/terralab/",
               JUPYTERHUB_API_TOKEN=hub.token("demo"), TERRALAB_HOME=str(tmp_path))
    code = ("import terralab as tl\n"
            "r = tl.search(admin='湖州市', collections='sentinel-2-l2a', max_cloud=30)\n"
            "print(r.source)\nprint(','.join(i.id for i in r))\n"
            f"files = tl.download(r[0], {str(tmp_path / 'out')!r}, assets=['B04'])\n"
            "print(files[0].stat().st_size)\n")
    before = downloaded_bytes("demo", home=hub.home)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    source, ids, size = done.stdout.strip().splitlines()
    assert source.startswith("hub service")
    assert ids.split(",") == [f["id"] for f in found["features"]]
    with open(found["features"][0]["assets"]["B04"]["href"], "rb") as handle:
        assert int(size) == len(handle.read())
    assert downloaded_bytes("demo", home=hub.home) - before == int(size)
    assert not (tmp_path / "catalog").exists(), "the kernel read a local catalog"



def test_a_users_item_cannot_point_at_files_outside_their_folder(hub, found):
    """Ingesting an item whose href points at someone else's file must not leak that file."""
    item = copy.deepcopy(found["features"][0])
    item["id"] = "admins-sneaky-scene"
    key = next(k for k, a in item["assets"].items() if a["href"].endswith(".tif"))
    index = CatalogIndex(default_index_path(hub.home))
    try:
        index.add_items([item], owner="admin")  # hrefs still point into the public catalog
    finally:
        index.close()
    response = requests.get(api(hub, f"items/{item['id']}/download"), params={"asset": key},
                            headers=auth(hub, "admin"), timeout=30)
    assert response.status_code == 404
    assert "outside" in response.json()["message"]


def add_admins_item(hub, item):
    index = CatalogIndex(default_index_path(hub.home))
    try:
        index.add_items([item], owner="admin")
    finally:
        index.close()


def test_a_chinese_file_name_downloads_with_its_name(hub, found):
    item = copy.deepcopy(found["features"][0])
    item["id"] = "admins-huzhou-scene"
    source = item["assets"]["B04"]["href"]
    target = hub.home / "users" / "admin" / "uploads" / "湖州 影像.tif"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    item["assets"] = {"B04": dict(item["assets"]["B04"], href=str(target))}
    add_admins_item(hub, item)
    response = requests.get(api(hub, f"items/{item['id']}/download"), params={"asset": "B04"},
                            headers=auth(hub, "admin"), timeout=60)
    assert response.status_code == 200, response.text
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E6%B9%96%E5%B7%9E%20%E5%BD%B1%E5%83%8F.tif" in disposition
    assert response.content == target.read_bytes()


def test_a_users_item_cannot_make_the_service_fetch_a_url(hub, found):
    item = copy.deepcopy(found["features"][0])
    item["id"] = "admins-url-scene"
    item["assets"] = {"B04": {"href": f"{hub.url}/hub/api", "roles": ["data"]}}
    add_admins_item(hub, item)
    response = requests.get(api(hub, f"items/{item['id']}/download"), params={"asset": "B04"},
                            headers=auth(hub, "admin"), timeout=30)
    assert response.status_code == 404
    assert "outside" in response.json()["message"]


def test_a_bad_thumbnail_size_is_a_400(hub, found):
    item = found["features"][0]["id"]
    response = requests.get(api(hub, f"items/{item}/thumbnail"), params={"size": "big"},
                            headers=auth(hub, "demo"), timeout=30)
    assert response.status_code == 400
