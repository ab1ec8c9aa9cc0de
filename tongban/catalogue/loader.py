"""Loads the reference data: YRD divisions, organisations, and the service catalogue.

The files and their format are described in ``tongban/catalogue/data/README.md``. Every file is
read and checked completely before anything is written, and everything is written in one
transaction, so a bad file writes nothing. Loading is idempotent: items are upserted by
(实施编码, 版本) and organisations by 统一社会信用代码; unchanged rows are not written at all.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from tongban.catalogue import error_codes, search
from tongban.catalogue.constants import ItemStatus, ItemType, MaterialForm, ServiceMode, SubjectType
from tongban.catalogue.models import Material, ServiceItem
from tongban.catalogue.services import form_schema_problems
from tongban.certificates.reference import certificate_types_load, reference_type_names
from tongban.core.errors import InvalidInput
from tongban.regions import divisions
from tongban.regions.constants import OrganisationKind
from tongban.regions.models import MUNICIPALITIES, Organisation
from tongban.regions.services import organisation_upsert, regions_sync_yrd

REPO_DIR = Path(__file__).resolve().parent.parent.parent
CATALOGUE_DIR = Path(__file__).resolve().parent / "data"
ORGANISATIONS_FILE = REPO_DIR / "tongban" / "regions" / "data" / "organisations.json"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Electronic certificate types (电子证照类型) a material may be replaced by, or an item may issue:
# the keys of the certificates app's reference types (one source for both).
CERTIFICATE_TYPES = reference_type_names()

BASIC_CODE = re.compile(r"^\d{12}$")
MATERIAL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# Fields an item (or a template) may set, with the type each must have.
ITEM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "basic_code": str,
    "name": str,
    "item_type": str,
    "legal_basis": str,
    "legal_limit_days": int,
    "promised_limit_days": int,
    "fee": str,
    "conditions": str,
    "process": list,
    "location": str,
    "office_hours": str,
    "phone": str,
    "subject_types": list,
    "modes": list,
    "keywords": list,
    "form_schema": (str, dict),
    "materials": list,
    "issues_certificate": str,
}
REQUIRED_ITEM_FIELDS = (
    "basic_code",
    "name",
    "item_type",
    "legal_limit_days",
    "promised_limit_days",
    "subject_types",
)
# What only a city file's item entry may say.
ENTRY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "template": str,
    "authority": str,
    "region": str,
    "seq": int,
    "version": int,
    "extra_keywords": list,
    "extra_materials": list,
    "omit_materials": list,
}
CITY_DEFAULT_FIELDS = ("location", "office_hours", "phone")
MAX_LENGTHS = {"name": 200, "fee": 255, "location": 255, "office_hours": 128, "phone": 64}
MATERIAL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "use": str,
    "code": str,
    "name": str,
    "required": bool,
    "form": str,
    "copies": int,
    "note": str,
    "certificate_type": str,
}
ORGANISATION_FIELDS = ("name", "kind", "region", "uscc", "address", "phone", "office_hours")


def implementation_code(basic_code: str, region_code: str, seq: int = 1) -> str:
    """实施编码: 基本编码 (12 digits) + the implementing region's division code (6) + a 2-digit sequence.

    The sequence tells apart several implementations of one basic item in one region (01 unless the
    data says otherwise). 000201001000 at 合肥市 (340100) → ``00020100100034010001``.
    """
    return f"{basic_code}{region_code}{seq:02d}"


@dataclass
class LoadReport:
    regions: int = 0
    organisations: int = 0
    organisations_created: int = 0
    organisations_updated: int = 0
    cities: list[str] = field(default_factory=list)
    items: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    materials: int = 0

    def summary(self) -> str:
        return (
            f"行政区划 {self.regions} 个；单位 {self.organisations} 个（新增 {self.organisations_created}，"
            f"更新 {self.organisations_updated}）；城市 {len(self.cities)} 个；事项 {self.items} 项（新增 "
            f"{self.items_created}，更新 {self.items_updated}，未变 {self.items_unchanged}）；申请材料 {self.materials} 项。"
        )


@dataclass
class _Org:
    name: str
    kind: str
    region: str
    uscc: str
    address: str
    phone: str
    office_hours: str


@dataclass
class _ItemSpec:
    source: str  # for messages: "items/340100.json 第3项“…”"
    fields: dict[str, Any]
    authority_uscc: str
    materials: list[dict[str, Any]]


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_DIR))
    except ValueError:
        return str(path)


def _fail(code: str, where: str, problem: str, **details: Any) -> InvalidInput:
    return InvalidInput(code, f"{where}：{problem}。", details={"where": where, **details})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(error_codes.DATA_FILE_UNREADABLE, _label(path), "文件不存在") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(
            error_codes.DATA_FILE_UNREADABLE, _label(path), f"不是有效的 UTF-8 JSON 文件（{exc}）"
        ) from None


def _check_types(obj: dict, allowed: dict[str, Any], where: str) -> None:
    for key, value in obj.items():
        if key not in allowed:
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"未知字段“{key}”")
        expected = allowed[key]
        # bool is an int in Python: a true/false where a number belongs is still wrong.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"字段“{key}”的类型不正确")


# Divisions -------------------------------------------------------------------------------------


def _yrd_codes() -> set[str]:
    return {d.code for d in divisions.yrd_divisions()}


def _is_city(code: str) -> bool:
    division = divisions.lookup(code) if len(code) == 6 and code.isdigit() else None
    return division is not None and (code in MUNICIPALITIES or division.level == "city")


# Organisations ---------------------------------------------------------------------------------


def _read_organisations(path: Path, yrd: set[str]) -> list[_Org]:
    label = _label(path)
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("organisations"), list):
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "应为含 organisations 列表的 JSON 对象")
    out: list[_Org] = []
    seen_uscc: dict[str, str] = {}
    seen_name: set[str] = set()
    for n, row in enumerate(doc["organisations"], start=1):
        where = f"{label} 第{n}个单位"
        if not isinstance(row, dict):
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, "应为 JSON 对象")
        where = f"{label} 第{n}个单位“{row.get('name', '')}”"
        _check_types(row, dict.fromkeys(ORGANISATION_FIELDS, str), where)
        for key in ("name", "kind", "region", "uscc"):
            if not row.get(key):
                raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"缺少字段“{key}”")
        if row["kind"] not in OrganisationKind.values:
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"单位类型“{row['kind']}”无效")
        if row["region"] not in yrd:
            raise _fail(
                error_codes.DATA_UNKNOWN_REGION, where, f"行政区划代码“{row['region']}”不是长三角的区划"
            )
        try:
            code = uscc_std.validate(row["uscc"])
        except StdnumError:
            raise _fail(
                error_codes.DATA_INVALID_USCC,
                where,
                f"统一社会信用代码“{row['uscc']}”无效（应为18位且校验位正确）",
            ) from None
        if code in seen_uscc:
            raise _fail(error_codes.DATA_DUPLICATE_CODE, where, f"统一社会信用代码与“{seen_uscc[code]}”重复")
        if row["name"] in seen_name:
            raise _fail(error_codes.DATA_DUPLICATE_CODE, where, "单位名称重复")
        seen_uscc[code] = row["name"]
        seen_name.add(row["name"])
        out.append(
            _Org(
                name=row["name"],
                kind=row["kind"],
                region=row["region"],
                uscc=code,
                address=row.get("address", ""),
                phone=row.get("phone", ""),
                office_hours=row.get("office_hours", ""),
            )
        )
    return out


# Templates -------------------------------------------------------------------------------------


@dataclass
class _Templates:
    label: str
    fields: dict[str, dict]
    form_schemas: dict[str, dict]
    materials: dict[str, dict]
    items: dict[str, dict]


def _read_templates(path: Path) -> _Templates:
    label = _label(path)
    doc = _read_json(path)
    if not isinstance(doc, dict):
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "应为 JSON 对象")
    sections = {}
    for key in ("fields", "form_schemas", "materials", "items"):
        section = doc.get(key, {})
        if not isinstance(section, dict) or not all(isinstance(v, dict) for v in section.values()):
            raise _fail(error_codes.DATA_FORMAT_INVALID, label, f"“{key}”应为以名称为键的 JSON 对象")
        sections[key] = section
    unknown = set(doc) - set(sections)
    if unknown:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, f"未知的顶层字段“{sorted(unknown)[0]}”")
    templates = _Templates(label=label, **sections)
    for name, material in templates.materials.items():
        _check_types(material, MATERIAL_FIELDS, f"{label} 材料模板“{name}”")
    for name, item in templates.items.items():
        _check_types(item, ITEM_FIELDS, f"{label} 事项模板“{name}”")
    for name in templates.form_schemas:  # every shared schema is checked, used or not
        _resolve_form_schema(name, templates, f"{label} 申请表模板“{name}”", default_title=name)
    return templates


def _resolve_form_schema(value: str | dict, templates: _Templates, where: str, *, default_title: str) -> dict:
    if isinstance(value, str):
        if value not in templates.form_schemas:
            raise _fail(error_codes.DATA_UNKNOWN_TEMPLATE, where, f"申请表模板“{value}”不存在")
        schema = copy.deepcopy(templates.form_schemas[value])
    else:
        schema = copy.deepcopy(value)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, spec in list(properties.items()):
            if isinstance(spec, dict) and "$field" in spec:
                ref = spec["$field"]
                if ref not in templates.fields:
                    raise _fail(
                        error_codes.DATA_UNKNOWN_TEMPLATE, where, f"字段“{key}”引用的公共字段“{ref}”不存在"
                    )
                merged = copy.deepcopy(templates.fields[ref])
                merged.update({k: v for k, v in spec.items() if k != "$field"})
                properties[key] = merged
    resolved = {"$schema": JSON_SCHEMA_DIALECT, "title": default_title}
    resolved.update(schema)
    problems = form_schema_problems(resolved)
    if problems:
        raise _fail(error_codes.DATA_INVALID_FORM_SCHEMA, where, "申请表无效：" + "；".join(problems))
    return resolved


# Items -----------------------------------------------------------------------------------------


def _resolve_material(entry: Any, templates: _Templates, where: str) -> dict[str, Any]:
    if isinstance(entry, str):
        entry = {"use": entry}
    if not isinstance(entry, dict):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "申请材料应为材料模板名称或 JSON 对象")
    _check_types(entry, MATERIAL_FIELDS, where)
    material: dict[str, Any] = {
        "required": True,
        "form": MaterialForm.ORIGINAL.value,
        "copies": 1,
        "note": "",
    }
    material["certificate_type"] = ""
    if "use" in entry:
        if entry["use"] not in templates.materials:
            raise _fail(error_codes.DATA_UNKNOWN_TEMPLATE, where, f"材料模板“{entry['use']}”不存在")
        base = templates.materials[entry["use"]]
        material.update(base)
        material["code"] = base.get("code", entry["use"])
    material.update({k: v for k, v in entry.items() if k != "use"})
    material.pop("use", None)
    label = f"{where}材料“{material.get('name', material.get('code', ''))}”"
    if not isinstance(material.get("code"), str) or not MATERIAL_CODE.match(material["code"]):
        raise _fail(
            error_codes.DATA_FORMAT_INVALID, label, "材料编码应为小写字母开头的字母、数字、下划线（至多32位）"
        )
    if not material.get("name") or len(material["name"]) > 200:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "材料名称不能为空，且至多200字")
    if material["form"] not in MaterialForm.values:
        raise _fail(error_codes.DATA_UNKNOWN_MATERIAL_FORM, label, f"材料形式“{material['form']}”无效")
    if material["copies"] < 1:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "份数至少为1")
    if len(material["note"]) > 500:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "填报说明至多500字")
    if material["certificate_type"] and material["certificate_type"] not in CERTIFICATE_TYPES:
        raise _fail(
            error_codes.DATA_UNKNOWN_CERTIFICATE_TYPE,
            label,
            f"电子证照类型“{material['certificate_type']}”未定义",
        )
    return material


def _item_spec(
    entry: Any,
    *,
    where: str,
    city: str,
    defaults: dict[str, str],
    templates: _Templates,
    orgs: dict[str, _Org],
    yrd: set[str],
) -> _ItemSpec:
    if not isinstance(entry, dict):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "应为 JSON 对象")
    _check_types(entry, {**ITEM_FIELDS, **ENTRY_FIELDS}, where)
    data: dict[str, Any] = {}
    if "template" in entry:
        if entry["template"] not in templates.items:
            raise _fail(error_codes.DATA_UNKNOWN_TEMPLATE, where, f"事项模板“{entry['template']}”不存在")
        data.update(copy.deepcopy(templates.items[entry["template"]]))
    data.update({k: copy.deepcopy(v) for k, v in entry.items() if k in ITEM_FIELDS})
    name = data.get("name", "")
    where = f"{where}“{name}”" if name else where
    for key in REQUIRED_ITEM_FIELDS:
        if key not in data:
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"缺少字段“{key}”")
    for key, limit in MAX_LENGTHS.items():
        if len(data.get(key, "")) > limit:
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"字段“{key}”超过{limit}字")
    if not name:
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "事项名称不能为空")
    if not BASIC_CODE.match(data["basic_code"]):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"基本编码“{data['basic_code']}”应为12位数字")
    if data["item_type"] not in ItemType.values:
        raise _fail(error_codes.DATA_UNKNOWN_ITEM_TYPE, where, f"事项类型“{data['item_type']}”无效")
    legal, promised = data["legal_limit_days"], data["promised_limit_days"]
    if legal < 1 or promised < 0 or promised > legal:
        raise _fail(
            error_codes.DATA_INVALID_TIME_LIMIT,
            where,
            f"办结时限无效（法定{legal}个工作日，承诺{promised}个工作日）：承诺时限不得超过法定时限",
        )
    subject_types = data["subject_types"]
    if not subject_types or len(set(subject_types)) != len(subject_types):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "服务对象不能为空或重复")
    for value in subject_types:
        if value not in SubjectType.values:
            raise _fail(error_codes.DATA_UNKNOWN_SUBJECT_TYPE, where, f"服务对象“{value}”无效")
    modes = data.get("modes", [])
    if len(set(modes)) != len(modes):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "跨省通办方式重复")
    for value in modes:
        if value not in ServiceMode.values:
            raise _fail(error_codes.DATA_UNKNOWN_MODE, where, f"跨省通办方式“{value}”无效")
    keywords = data.get("keywords", []) + entry.get("extra_keywords", [])
    if not all(isinstance(k, str) and k.strip() for k in keywords):
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "关键词应为非空字符串")
    keywords = list(dict.fromkeys(k.strip() for k in keywords))
    process = data.get("process", [])
    for step in process:
        if not (
            isinstance(step, dict)
            and set(step) <= {"name", "description"}
            and isinstance(step.get("name"), str)
            and step["name"]
            and isinstance(step.get("description", ""), str)
        ):
            raise _fail(
                error_codes.DATA_FORMAT_INVALID, where, "办理流程的每一步应为含 name、description 的对象"
            )

    # Authority and region.
    authority = orgs.get(entry.get("authority", ""))
    if authority is None:
        raise _fail(
            error_codes.DATA_UNKNOWN_ORGANISATION,
            where,
            f"实施主体“{entry.get('authority', '')}”不在单位数据中",
        )
    if authority.kind != OrganisationKind.AUTHORITY:
        raise _fail(error_codes.DATA_UNKNOWN_ORGANISATION, where, f"“{authority.name}”不是审批部门")
    region = entry.get("region", authority.region)
    if region not in yrd:
        raise _fail(error_codes.DATA_UNKNOWN_REGION, where, f"行政区划代码“{region}”不是长三角的区划")
    if divisions.city_of(region) != city:
        raise _fail(
            error_codes.DATA_REGION_OUTSIDE_CITY, where, f"行政区划“{region}”不属于本文件的城市“{city}”"
        )

    # Form and materials.
    issues = data.get("issues_certificate", "")
    if issues and issues not in CERTIFICATE_TYPES:
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"电子证照类型“{issues}”未定义")
    form_schema = _resolve_form_schema(data.get("form_schema", {}), templates, where, default_title=name)
    raw_materials = list(data.get("materials", [])) + entry.get("extra_materials", [])
    materials = [_resolve_material(m, templates, where) for m in raw_materials]
    omit = entry.get("omit_materials", [])
    codes = [m["code"] for m in materials]
    for code in omit:
        if code not in codes:
            raise _fail(error_codes.DATA_FORMAT_INVALID, where, f"omit_materials 中的材料“{code}”不存在")
    materials = [m for m in materials if m["code"] not in omit]
    seen: set[str] = set()
    for sort, material in enumerate(materials, start=1):
        if material["code"] in seen:
            raise _fail(error_codes.DATA_DUPLICATE_CODE, where, f"材料编码“{material['code']}”重复")
        seen.add(material["code"])
        material["sort"] = sort

    seq = entry.get("seq", 1)
    version = entry.get("version", 1)
    if not 1 <= seq <= 99 or version < 1:
        raise _fail(error_codes.DATA_FORMAT_INVALID, where, "seq 应在1至99之间，version 至少为1")
    fields = {
        "basic_code": data["basic_code"],
        "implementation_code": implementation_code(data["basic_code"], region, seq),
        "version": version,
        "name": name,
        "item_type": data["item_type"],
        "region_id": region,
        "city_code": divisions.city_of(region),
        "legal_basis": data.get("legal_basis", ""),
        "legal_limit_days": legal,
        "promised_limit_days": promised,
        "fee": data.get("fee", "不收费"),
        "conditions": data.get("conditions", ""),
        "process": process,
        "location": data.get("location", defaults.get("location", "")),
        "office_hours": data.get("office_hours", defaults.get("office_hours", authority.office_hours)),
        "phone": data.get("phone", defaults.get("phone", authority.phone)),
        "subject_types": subject_types,
        "modes": modes,
        "keywords": keywords,
        "form_schema": form_schema,
        "issues_certificate": issues,
        "search_text": search.search_text_for(name=name, keywords=keywords),
    }
    return _ItemSpec(source=where, fields=fields, authority_uscc=authority.uscc, materials=materials)


def _read_city_file(
    path: Path, templates: _Templates, orgs: dict[str, _Org], yrd: set[str]
) -> list[_ItemSpec]:
    label = _label(path)
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "应为含 city 和 items 的 JSON 对象")
    unknown = set(doc) - {"city", "defaults", "items"}
    if unknown:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, f"未知的顶层字段“{sorted(unknown)[0]}”")
    city = doc.get("city")
    if not isinstance(city, str) or not _is_city(city) or city not in yrd:
        raise _fail(error_codes.DATA_UNKNOWN_REGION, label, f"城市代码“{city}”不是长三角的城市")
    if path.stem != city:
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, f"文件名应为城市代码“{city}.json”")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(error_codes.DATA_FORMAT_INVALID, label, "defaults 应为 JSON 对象")
    _check_types(defaults, dict.fromkeys(CITY_DEFAULT_FIELDS, str), f"{label} defaults")
    return [
        _item_spec(
            entry,
            where=f"{label} 第{n}项",
            city=city,
            defaults=defaults,
            templates=templates,
            orgs=orgs,
            yrd=yrd,
        )
        for n, entry in enumerate(doc["items"], start=1)
    ]


def read_reference_data(
    *, catalogue_dir: Path | None = None, organisations_file: Path | None = None
) -> tuple[list[_Org], list[_ItemSpec]]:
    """Reads and checks every reference data file; raises ``InvalidInput`` on the first problem."""
    catalogue_dir = Path(catalogue_dir or CATALOGUE_DIR)
    yrd = _yrd_codes()
    orgs = _read_organisations(Path(organisations_file or ORGANISATIONS_FILE), yrd)
    by_key = {o.name: o for o in orgs} | {o.uscc: o for o in orgs}
    templates = _read_templates(catalogue_dir / "templates.json")
    item_files = sorted((catalogue_dir / "items").glob("*.json"))
    if not item_files:
        raise _fail(error_codes.DATA_FILE_UNREADABLE, _label(catalogue_dir / "items"), "没有事项文件")
    specs: list[_ItemSpec] = []
    seen: dict[tuple[str, int], str] = {}
    for path in item_files:
        for spec in _read_city_file(path, templates, by_key, yrd):
            key = (spec.fields["implementation_code"], spec.fields["version"])
            if key in seen:
                raise _fail(
                    error_codes.DATA_DUPLICATE_CODE,
                    spec.source,
                    f"实施编码“{key[0]}”（版本{key[1]}）与{seen[key]}重复；同一区划实施同一事项多次时请用 seq 区分",
                )
            seen[key] = spec.source
            specs.append(spec)
    return orgs, specs


# Writing ---------------------------------------------------------------------------------------


def _upsert_organisations(orgs: list[_Org], report: LoadReport) -> dict[str, int]:
    existing = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[o.uscc for o in orgs])}
    ids: dict[str, int] = {}
    for org in orgs:
        values = {
            "name": org.name,
            "kind": org.kind,
            "region_id": org.region,
            "address": org.address,
            "phone": org.phone,
            "office_hours": org.office_hours,
        }
        row = existing.get(org.uscc)
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            ids[org.uscc] = row.pk
            continue
        saved = organisation_upsert(
            uscc=org.uscc,
            name=org.name,
            kind=org.kind,
            region_code=org.region,
            address=org.address,
            phone=org.phone,
            office_hours=org.office_hours,
        )
        ids[org.uscc] = saved.pk
        if row is None:
            report.organisations_created += 1
        else:
            report.organisations_updated += 1
    report.organisations = len(orgs)
    return ids


MATERIAL_VALUE_FIELDS = ("name", "required", "form", "copies", "note", "certificate_type", "sort")


def _upsert_materials(item: ServiceItem, wanted: list[dict[str, Any]], existing: list[Material]) -> bool:
    by_code = {m.code: m for m in existing}
    to_create, to_update = [], []
    for spec in wanted:
        row = by_code.pop(spec["code"], None)
        if row is None:
            to_create.append(
                Material(item=item, code=spec["code"], **{k: spec[k] for k in MATERIAL_VALUE_FIELDS})
            )
            continue
        if any(getattr(row, k) != spec[k] for k in MATERIAL_VALUE_FIELDS):
            for k in MATERIAL_VALUE_FIELDS:
                setattr(row, k, spec[k])
            to_update.append(row)
    if to_create:
        Material.objects.bulk_create(to_create)
    if to_update:
        Material.objects.bulk_update(to_update, list(MATERIAL_VALUE_FIELDS))
    if by_code:  # materials the data no longer lists
        Material.objects.filter(pk__in=[m.pk for m in by_code.values()]).delete()
    return bool(to_create or to_update or by_code)


def _upsert_items(specs: list[_ItemSpec], org_ids: dict[str, int], report: LoadReport) -> None:
    codes = [s.fields["implementation_code"] for s in specs]
    existing = {
        (i.implementation_code, i.version): i
        for i in ServiceItem.objects.filter(implementation_code__in=codes).prefetch_related("materials")
    }
    now = timezone.now()
    for spec in specs:
        values = {**spec.fields, "authority_id": org_ids[spec.authority_uscc]}
        key = (values["implementation_code"], values["version"])
        item = existing.get(key)
        if item is None:
            item = ServiceItem.objects.create(status=ItemStatus.PUBLISHED, published_at=now, **values)
            _upsert_materials(item, spec.materials, [])
            report.items_created += 1
            continue
        # Status and publication time belong to the catalogue's operators, not to the data file.
        changed_fields = [k for k, v in values.items() if getattr(item, k) != v]
        for k in changed_fields:
            setattr(item, k, values[k])
        if changed_fields:
            item.save(update_fields=[*changed_fields, "updated_at"])
        materials_changed = _upsert_materials(item, spec.materials, list(item.materials.all()))
        if changed_fields or materials_changed:
            report.items_updated += 1
        else:
            report.items_unchanged += 1


def reference_data_load(
    *,
    catalogue_dir: Path | None = None,
    organisations_file: Path | None = None,
    cities: set[str] | None = None,
) -> LoadReport:
    """Loads divisions, organisations and the service catalogue; safe to run again.

    Every file is checked before anything is written; one transaction writes it all. ``cities``
    limits the load to those cities' items and organisations: a federation node loads only its own
    city and learns the others' catalogues from their publications.
    """
    orgs, specs = read_reference_data(catalogue_dir=catalogue_dir, organisations_file=organisations_file)
    if cities is not None:
        specs = [s for s in specs if s.fields["city_code"] in cities]
        orgs = [o for o in orgs if divisions.city_of(o.region) in cities]
    report = LoadReport()
    with transaction.atomic():
        report.regions = regions_sync_yrd()
        org_ids = _upsert_organisations(orgs, report)
        _upsert_items(specs, org_ids, report)
        # The certificate types the items issue and the materials accept come with the catalogue.
        certificate_types_load()
    report.items = len(specs)
    report.materials = sum(len(s.materials) for s in specs)
    report.cities = sorted({s.fields["city_code"] for s in specs})
    return report
