"""terralab.areas: regions, places, geocoders and resolve_area (offline data, no network)."""

import json

import pytest
from shapely.geometry import Point, shape

import terralab.areas as areas
from terralab.areas import (
    AmbiguousAreaError,
    Area,
    AreaError,
    Place,
    admin_region,
    find_admin_regions,
    find_places,
    get_geocoder,
    list_admin_regions,
    register_geocoder,
    resolve_area,
)
from terralab.areas.admin import short_names
from terralab.areas.places import buffer_radius_km, circle, pick_place
from terralab.areas.tianditu import TiandituGeocoder, parse_answer

DEQING_SEAT = Point(119.96, 30.545)


# --- administrative regions ----------------------------------------------------------------

def test_name_and_code_give_the_same_polygon():
    by_name = resolve_area(admin="湖州市")
    by_code = resolve_area(admin="330500")
    assert by_name.code == by_code.code == "330500"
    assert by_name.kind == "admin" and by_name.level == "city"
    assert by_name.geometry.equals(by_code.geometry)
    assert by_name.geometry.geom_type in {"Polygon", "MultiPolygon"}
    assert by_name.geometry.is_valid
    west, south, east, north = by_name.bbox
    assert 119 < west < east < 121 and 30 < south < north < 31.5


@pytest.mark.parametrize(("name", "code", "level"), [
    ("湖州", "330500", "city"), ("德清", "330521", "county"), ("德清县", "330521", "county"),
    ("浙江", "330000", "province"), ("浙江省", "330000", "province"),
    ("广西", "450000", "province"), ("延边", "222400", "city"), ("海南", "460000", "province"),
    ("北京", "110000", "province"), ("156330500", "330500", "city"),
    ("北京市朝阳区", "110105", "county"), ("浙江湖州德清", "330521", "county"),
    ("朝阳区, 北京", "110105", "county"), ("东莞", "441900", "city"),
])
def test_region_names_with_or_without_suffix_and_parents(name, code, level):
    region = admin_region(name)
    assert (region.code, region.level) == (code, level)


def test_deqing_county_contains_its_seat():
    area = resolve_area(admin="德清")
    assert area.code == "330521"
    assert area.geometry.contains(DEQING_SEAT)
    assert resolve_area(admin="湖州市").geometry.contains(area.geometry.representative_point())


def test_ambiguous_region_names_list_candidates_and_resolve_with_a_parent():
    with pytest.raises(AmbiguousAreaError) as caught:
        admin_region("朝阳区")
    codes = {c.code for c in caught.value.candidates}
    assert {"110105", "220104"} <= codes
    assert "110105" in str(caught.value)
    described = [c.describe() for c in caught.value.candidates]
    assert any("北京市" in line for line in described)
    assert admin_region("朝阳区", parent="吉林省").code == "220104"
    assert admin_region("吉林", level="city").code == "220200"
    with pytest.raises(AmbiguousAreaError):
        admin_region("吉林")
    with pytest.raises(AmbiguousAreaError) as caught:
        resolve_area("朝阳")
    assert {"211300", "110105"} <= {c.code for c in caught.value.candidates}


def test_unknown_regions_are_clear_errors():
    with pytest.raises(AreaError, match="999999"):
        resolve_area(admin="999999")
    with pytest.raises(AreaError, match="湖州市") as caught:
        admin_region("湖洲市")
    assert not isinstance(caught.value, AmbiguousAreaError)
    with pytest.raises(AreaError, match="level"):
        admin_region("湖州", level="town")


def test_list_regions_by_parent_and_level():
    counties = list_admin_regions("330500")
    assert [r.name for r in counties] == ["吴兴区", "南浔区", "德清县", "长兴县", "安吉县"]
    assert all(r.parent_codes == ("330000", "330500") for r in counties)
    provinces = list_admin_regions()
    assert len(provinces) == 34 and all(r.level == "province" for r in provinces)
    beijing = list_admin_regions("北京")
    assert "朝阳区" in {r.name for r in beijing} and all(r.level == "county" for r in beijing)
    hubei = {r.name for r in list_admin_regions("湖北省")}
    assert {"武汉市", "仙桃市"} <= hubei
    assert len(list_admin_regions("浙江", level="county")) > 80
    assert [r.code for r in find_admin_regions("北京市")] == ["110000"]


def test_short_names():
    assert short_names("恩施土家族苗族自治州")[-1] == ("恩施", 1)
    assert short_names("忠县") == []
    assert short_names("湖州市") == [("湖州", 3)]


# --- places --------------------------------------------------------------------------------

def test_chinese_place_resolves_to_the_county_polygon():
    area = resolve_area(place="德清")
    assert area.kind == "place" and area.code == "330521"
    assert area.geometry.contains(DEQING_SEAT)


@pytest.mark.parametrize(("name", "code"), [
    ("Huzhou", "330500"), ("huzhou", "330500"), ("Hangzhou", "330100"), ("杭州", "330100"),
    ("Beijing", "110000"), ("Urumqi", "650100"), ("Deqing, Zhejiang", "330521"),
])
def test_english_and_pinyin_place_names(name, code):
    area = resolve_area(place=name)
    assert area.code == code
    assert area.kind == "place"


def test_ambiguous_place_lists_ranked_candidates_and_candidates_resolve():
    with pytest.raises(AmbiguousAreaError) as caught:
        resolve_area(place="Deqing")
    candidates = caught.value.candidates
    assert len(candidates) >= 3
    assert candidates[0].code == "330521", "the most important candidate comes first"
    assert any(c.province == "西藏自治区" for c in candidates)
    assert [c.importance for c in candidates] == sorted((c.importance for c in candidates),
                                                       reverse=True)
    assert "Zhejiang" in str(caught.value)
    tibet = next(c for c in candidates if c.province == "西藏自治区" and not c.code)
    area = resolve_area(place=tibet.id)
    assert area.code is None and area.geometry.contains(Point(tibet.lon, tibet.lat))
    assert resolve_area(place=candidates[0].id).code == "330521"


def test_unknown_place_is_a_clear_error_with_suggestions():
    with pytest.raises(AreaError, match="Nowhereville") as caught:
        resolve_area(place="Nowhereville")
    assert not isinstance(caught.value, AmbiguousAreaError)
    with pytest.raises(AreaError, match="Huzhou"):
        resolve_area(place="Huzou")


def test_point_places_become_circles_in_metres():
    assert buffer_radius_km(0) == 5.0
    assert buffer_radius_km(100) == 2.0
    assert buffer_radius_km(87576) == pytest.approx(4.9)
    assert buffer_radius_km(50_000_000) == 30.0
    disk = circle(119.96, 30.545, 5.0)
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    for lon, lat in list(disk.exterior.coords)[:-1:8]:
        _, _, metres = geod.inv(119.96, 30.545, lon, lat)
        assert metres == pytest.approx(5000, rel=1e-6)
    place = Place(id="test:1", name="somewhere", lon=100.0, lat=60.0)
    area = place.to_area()
    assert area.kind == "place" and "5 km" in area.note
    assert area.geometry.contains(Point(100.0, 60.0))
    width = area.bbox[2] - area.bbox[0]
    assert width == pytest.approx(2 * (area.bbox[3] - area.bbox[1]), rel=0.02), "1/cos(60°)"


def test_pick_place_rule():
    big = Place(id="a", name="a", lon=0, lat=0, population=1_000_000)
    small = Place(id="b", name="b", lon=0, lat=0, population=90_000)
    assert pick_place("x", [big, small]) is big
    with pytest.raises(AmbiguousAreaError):
        pick_place("x", [big, Place(id="c", name="c", lon=0, lat=0, population=200_000)])


def test_the_world_answers_when_china_does_not():
    paris = find_places("Paris")
    assert paris[0].country == "FR" and paris[0].code is None


# --- geocoders -----------------------------------------------------------------------------

class FixedGeocoder:
    name = "fixed"

    def search(self, query, *, limit=10):
        return [Place(id="fixed:1", name=query, lon=120.0, lat=30.0, source="fixed")]


def test_geocoder_plug_point(monkeypatch):
    register_geocoder("fixed-test", FixedGeocoder, overwrite=True)
    with pytest.raises(ValueError, match="already"):
        register_geocoder("fixed-test", FixedGeocoder)
    area = resolve_area(place="anything", geocoder="fixed-test")
    assert area.geometry.contains(Point(120.0, 30.0)) and area.name == "anything"
    monkeypatch.setenv("TERRALAB_GEOCODER", "fixed-test")
    assert isinstance(get_geocoder(), FixedGeocoder)
    monkeypatch.setenv("TERRALAB_GEOCODER", f"{__name__}:FixedGeocoder")
    assert get_geocoder().name == "fixed"
    monkeypatch.setenv("TERRALAB_GEOCODER", "no-such-geocoder")
    with pytest.raises(AreaError, match="no-such-geocoder"):
        find_places("德清")
    monkeypatch.delenv("TERRALAB_GEOCODER")
    assert get_geocoder().name == "offline"
    assert isinstance(get_geocoder(FixedGeocoder()), FixedGeocoder)


def test_tianditu_geocoder_without_network():
    answer = {"pois": [{"name": "西湖风景名胜区", "lonlat": "120.14,30.24",
                        "hotPointID": "X1", "province": "浙江省"}],
              "status": {"infocode": 1000, "cndesc": "服务正常"}}
    seen = []

    def fetch(url, timeout):
        seen.append(url)
        return json.dumps(answer).encode()

    geocoder = TiandituGeocoder("key", fetch=fetch)
    area = resolve_area(place="西湖", geocoder=geocoder)
    assert area.geometry.contains(Point(120.14, 30.24))
    assert "tk=key" in seen[0] and "postStr" in seen[0]
    assert get_geocoder("tianditu").name == "tianditu"
    with pytest.raises(AreaError, match="TIANDITU_TOKEN"):
        TiandituGeocoder("", fetch=fetch).search("西湖")
    with pytest.raises(AreaError, match="refused"):
        parse_answer({"status": {"infocode": 4001, "cndesc": "bad key"}})

    def offline(url, timeout):
        raise OSError("network is unreachable")

    with pytest.raises(AreaError, match="unreachable"):
        TiandituGeocoder("key", fetch=offline).search("西湖")


# --- resolve_area --------------------------------------------------------------------------

def test_auto_detection():
    assert resolve_area("330500").kind == "admin"
    assert resolve_area(330521).code == "330521"
    assert resolve_area("湖州").code == "330500"
    assert resolve_area("Huzhou").code == "330500"
    assert resolve_area((119.9, 30.5, 120.0, 30.6)).kind == "geometry"
    assert resolve_area("119.9,30.5,120.0,30.6").kind == "geometry"
    assert resolve_area("POLYGON ((119 30, 120 30, 120 31, 119 30))").kind == "geometry"
    assert resolve_area('{"type": "Point", "coordinates": [120, 30]}').kind == "geometry"
    assert resolve_area(DEQING_SEAT).geometry.equals(DEQING_SEAT)
    assert resolve_area("admin:330521").code == "330521"
    area = resolve_area("湖州")
    assert resolve_area(area) is area
    with pytest.raises(AreaError, match="not found"):
        resolve_area("missing.zip")


def test_admin_accepts_a_pinyin_region_name_but_not_a_point_place():
    assert resolve_area(admin="Huzhou").code == "330500"
    with pytest.raises(AreaError, match="not an administrative region"):
        resolve_area(admin="Paris")


def test_exactly_one_input():
    with pytest.raises(AreaError, match="no area"):
        resolve_area()
    with pytest.raises(AreaError, match="one area"):
        resolve_area(admin="湖州", place="德清")
    with pytest.raises(AreaError):
        resolve_area(place="  ")


def test_area_to_geojson():
    feature = resolve_area(admin="330521").to_geojson()
    assert feature["type"] == "Feature"
    assert feature["properties"]["code"] == "330521"
    assert shape(feature["geometry"]).contains(DEQING_SEAT)
    json.dumps(feature)
    assert "德清县" in repr(resolve_area(admin="330521"))


def test_public_api():
    for name in areas.__all__:
        assert hasattr(areas, name), name
    assert isinstance(resolve_area("湖州"), Area)


# --- data loading fallbacks ----------------------------------------------------------------

def test_admin_data_falls_back_to_a_full_parse(tmp_path):
    from shapely.geometry import box, mapping

    from terralab.areas._admin_data import AdminData

    feature = {"type": "Feature", "properties": {"name": "测试市", "gb": "156990100"},
               "geometry": mapping(box(0, 0, 1, 1))}
    line = {"type": "Feature", "properties": {"name": "境界线", "gb": ""},
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    for name in ("province.geojson", "city.geojson", "district.geojson"):
        (tmp_path / name).write_text(json.dumps(
            {"type": "FeatureCollection", "features": [line, feature]}, indent=1))
    data = AdminData(tmp_path)
    assert [(r.code, r.name) for r in data.records] == [("990100", "测试市")] * 3
    assert data.geometry("county", "990100").equals(box(0, 0, 1, 1))


def test_gazetteer_falls_back_to_a_full_parse(tmp_path, monkeypatch):
    from terralab.areas import _gazetteer

    records = {str(i): {"name": name, "geonameid": i, "latitude": 30.0, "longitude": 120.0,
                        "countrycode": country, "population": 10, "admin1code": "02",
                        "alternatenames": ["测试"]}
               for i, (name, country) in enumerate([("Alpha", "CN"), ("Beta", "FR"),
                                                    ("Gamma", "CN")], 1)}
    (tmp_path / "cities500.json").write_text(json.dumps(records, indent=2))
    monkeypatch.setattr(_gazetteer, "_data_folder", lambda: tmp_path)
    loaded = _gazetteer._load("cities500.json", _gazetteer.CHINA)
    assert sorted(r["name"] for r in loaded) == ["Alpha", "Gamma"]
    gazetteer = _gazetteer.Gazetteer(loaded)
    assert {e.name for e in gazetteer.lookup("测试")} == {"Alpha", "Gamma"}
    assert gazetteer.by_id(3).name == "Gamma" and gazetteer.by_id("x") is None
