"""The reference certificate types (``data/types.json``): read and checked without the database (the
catalogue loader names them), and loaded into it with :func:`certificate_types_load`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from stdnum.cn import uscc

from tongban.certificates.constants import HolderKind, NumberRule
from tongban.certificates.identifiers import TYPE_CODE

TYPES_FILE = Path(__file__).resolve().parent / "data" / "types.json"
SOURCE_PREFIXES = ("form.", "applicant.", "case.", "item.", "const:")


class ReferenceDataError(ValueError):
    pass


def _field_schema(fields: list) -> dict:
    """``[[name, title, required], …]`` → the JSON Schema certificate data is checked against."""
    properties, required = {}, []
    for order, (name, title, needed) in enumerate(fields):
        properties[name] = {"type": "string", "title": title, "maxLength": 2000, "x-order": order}
        if needed:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


@lru_cache(maxsize=1)
def reference_types() -> tuple[dict, ...]:
    doc = json.loads(TYPES_FILE.read_text(encoding="utf-8"))
    out = []
    for n, t in enumerate(doc["types"], start=1):
        where = f"{TYPES_FILE.name} 第{n}个类型"
        if not TYPE_CODE.fullmatch(t["code"]) or not t["code"].startswith(t["defining_authority_code"]):
            raise ReferenceDataError(f"{where}：证照类型代码应为定义机构代码加序号")
        if not uscc.is_valid(t["defining_authority_code"]):
            raise ReferenceDataError(f"{where}：定义机构代码不是有效的统一社会信用代码")
        if t["holder_kind"] not in HolderKind.values or t["number_rule"] not in NumberRule.values:
            raise ReferenceDataError(f"{where}：持证主体或编号规则无效")
        names = {f[0] for f in t["fields"]}
        for field, sources in t.get("from_case", {}).items():
            if field not in names or not all(s.startswith(SOURCE_PREFIXES) for s in sources):
                raise ReferenceDataError(f"{where}：from_case 的“{field}”无效")
        out.append({**t, "field_schema": _field_schema(t["fields"])})
    return tuple(out)


def reference_type_names() -> dict[str, str]:
    return {t["key"]: t["name"] for t in reference_types()}


def certificate_types_load() -> int:
    """Creates or updates the reference types (idempotent). Returns how many there are."""
    from django.db import transaction

    from tongban.certificates.models import CertificateType

    fields = (
        "code",
        "name",
        "defining_authority",
        "defining_authority_code",
        "issuing_authority",
        "holder_kind",
        "field_schema",
        "validity",
        "number_rule",
        "from_case",
        "default_disclosure",
    )
    from tongban.certificates.services import caches_clear

    types = reference_types()
    transaction.on_commit(caches_clear)
    caches_clear()
    with transaction.atomic():
        for t in types:
            defaults = {f: t.get(f, {} if f in ("validity", "from_case") else []) for f in fields}
            CertificateType.objects.update_or_create(key=t["key"], defaults=defaults)
    return len(types)
