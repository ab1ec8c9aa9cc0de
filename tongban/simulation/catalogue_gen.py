"""Small catalogues for the cities the reference data does not cover.

The reference data (``tongban/catalogue/data``) has items for six cities. For any other YRD city this
writes, in the reference format (``tongban/catalogue/data/README.md``), a catalogue directory with
the reference ``templates.json``, one ``items/<city>.json`` per city naming three items taken from the
reference templates, and an organisations file with the city's authorities and its window, each with a
generated, valid 统一社会信用代码. A node loads its city from it with
``reference_data_load(catalogue_dir=…, organisations_file=…, cities={code})``.

Illustrative data for the simulation only: names follow the usual pattern of the cities' bodies, the
codes are made up (valid check characters, not the bodies' real codes).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from stdnum.cn import uscc

# The reference data (the same directory as tongban.catalogue.loader.CATALOGUE_DIR, which cannot be
# imported without Django).
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue" / "data"
ORGANISATIONS_FILE = Path(__file__).resolve().parent.parent / "regions" / "data" / "organisations.json"
# (template, authority suffix): what each generated city offers; all three support 全程网办 for a person.
GENERATED_ITEMS = (
    ("company_establishment", "市场监督管理局"),
    ("no_criminal_record", "公安局"),
    ("ssc_application", "人力资源和社会保障局"),
)
WINDOW_SUFFIX = "政务服务中心"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def reference_cities() -> set[str]:
    """Cities the reference data has items for."""
    return {p.stem for p in (CATALOGUE_DIR / "items").glob("*.json")}


def _org_code_check(first8: str) -> str:
    """GB 11714 check character of an organisation code's first eight characters."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_CODE_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_uscc(kind_prefix: str, region: str, serial: int) -> str:
    """统一社会信用代码: ``11`` (机关) or ``12`` (事业单位) + region + ``MB`` + 6 digits + GB 11714 check,
    then the GB 32100 check character over the first 17."""
    org = f"MB{region[:4]}{serial:02d}"
    first17 = f"{kind_prefix}{region}{org}{_org_code_check(org)}"
    return first17 + uscc.calc_check_digit(first17)


def city_organisations(code: str, name: str) -> list[dict]:
    orgs = [
        {
            "name": f"{name}{suffix}",
            "kind": "authority",
            "region": code,
            "uscc": make_uscc("11", code, n),
            "address": f"{name}{WINDOW_SUFFIX}",
            "phone": "12345",
            "office_hours": "周一至周五 9:00—12:00，13:30—17:00（法定节假日除外）",
        }
        for n, (_, suffix) in enumerate(GENERATED_ITEMS, start=1)
    ]
    orgs.append(
        {
            "name": f"{name}{WINDOW_SUFFIX}",
            "kind": "window",
            "region": code,
            "uscc": make_uscc("12", code, 90),
            "address": f"{name}{WINDOW_SUFFIX}综合受理窗口",
            "phone": "12345",
            "office_hours": "周一至周五 9:00—12:00，13:30—17:00（法定节假日除外）",
        }
    )
    return orgs


def city_items(code: str, name: str) -> dict:
    return {
        "city": code,
        "defaults": {
            "location": f"{name}{WINDOW_SUFFIX}",
            "office_hours": "周一至周五 9:00—12:00，13:30—17:00（法定节假日除外）",
        },
        "items": [
            {"template": template, "authority": f"{name}{suffix}"} for template, suffix in GENERATED_ITEMS
        ],
    }


def write_catalogue(directory: Path, cities: list[tuple[str, str]]) -> tuple[Path, Path]:
    """Writes the catalogue directory for ``cities`` ([(code, name)], none of them a reference city) and
    returns (catalogue dir, organisations file). Files are rewritten only when their content changes."""
    directory.mkdir(parents=True, exist_ok=True)
    items_dir = directory / "items"
    items_dir.mkdir(exist_ok=True)
    _write_if_changed(directory / "templates.json", (CATALOGUE_DIR / "templates.json").read_bytes())
    wanted = set()
    orgs: list[dict] = []
    for code, name in sorted(cities):
        path = items_dir / f"{code}.json"
        wanted.add(path.name)
        _write_if_changed(path, _json(city_items(code, name)))
        orgs.extend(city_organisations(code, name))
    for stale in items_dir.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    organisations = directory / "organisations.json"
    _write_if_changed(organisations, _json({"organisations": orgs}))
    return directory, organisations


def fingerprint(code: str, catalogue_dir: Path | None) -> str:
    """What a node's prepared catalogue depends on: its city's items file (generated or reference),
    the templates and the organisations."""
    digest = hashlib.sha256()
    if catalogue_dir is None:
        files = [
            CATALOGUE_DIR / "templates.json",
            CATALOGUE_DIR / "items" / f"{code}.json",
            ORGANISATIONS_FILE,
        ]
    else:
        files = [
            catalogue_dir / "templates.json",
            catalogue_dir / "items" / f"{code}.json",
            catalogue_dir / "organisations.json",
        ]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def _json(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
