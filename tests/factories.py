"""Builders of real rows for tests: valid check digits are computed, never hand-written."""

from __future__ import annotations

import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import ric, uscc

from tongban.accounts import services as account_services
from tongban.catalogue.models import Material, ServiceItem
from tongban.regions.models import Organisation, Region

_seq = itertools.count(1)

# A real-looking PDF and PNG: the first bytes are what content detection looks at.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def id_number(region: str = "340102", birth: str = "19900101", seq: int | None = None) -> str:
    body = f"{region}{birth}{(seq if seq is not None else next(_seq)) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def uscc_code(prefix: str = "11340100", org: str | None = None) -> str:
    body = prefix + (org or f"{next(_seq):08d}X")[:9]
    return body + uscc.calc_check_digit(body)


def region(
    code: str = "340100", name: str = "合肥市", level: str = "city", parent: str | None = None
) -> Region:
    if parent:
        Region.objects.get_or_create(code=parent, defaults={"name": "安徽省", "level": "province"})
    obj, _ = Region.objects.get_or_create(
        code=code, defaults={"name": name, "level": level, "parent_id": parent}
    )
    return obj


def organisation(
    name: str = "合肥市市场监督管理局", kind: str = "authority", region_code: str = "340100"
) -> Organisation:
    reg = region(region_code) if region_code == "340100" else Region.objects.get(code=region_code)
    return Organisation.objects.create(name=name, uscc=uscc_code("11" + region_code), kind=kind, region=reg)


FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "company_name": {"type": "string", "title": "企业名称", "maxLength": 50},
        "capital": {"type": "number", "title": "注册资本（万元）", "minimum": 0},
        "phone": {"type": "string", "title": "联系电话", "pattern": "^1[3-9]\\d{9}$"},
    },
    "required": ["company_name", "capital"],
    "additionalProperties": False,
}


def item(
    authority: Organisation,
    *,
    name: str = "内资有限公司设立登记",
    city_code: str = "340100",
    code: str | None = None,
    modes=("full_online", "proxy_intake"),
    promised: int = 3,
    materials=(
        ("sqs", "公司登记（备案）申请书", True),
        ("zc", "公司章程", True),
        ("zs", "住所使用证明", False),
    ),
    subject_types=("person", "enterprise"),
) -> ServiceItem:
    it = ServiceItem.objects.create(
        basic_code="000201001000",
        implementation_code=code or f"000201001000{city_code}{next(_seq):04d}",
        name=name,
        item_type="licensing",
        authority=authority,
        region_id=authority.region_id,
        city_code=city_code,
        legal_limit_days=15,
        promised_limit_days=promised,
        subject_types=list(subject_types),
        modes=list(modes),
        keywords=["营业执照"],
        form_schema=FORM_SCHEMA,
        search_text=name,
    )
    for i, (mcode, mname, required) in enumerate(materials):
        Material.objects.create(item=it, code=mcode, name=mname, required=required, sort=i)
    return it


def citizen(username: str | None = None, *, name: str = "张三", email: str = "", **kw):
    return account_services.citizen_register(
        username=username or f"citizen{next(_seq)}",
        password="Tongban-2026!",
        real_name=name,
        id_number=kw.get("id_number") or id_number(),
        phone=kw.get("phone", "13800138000"),
        email=email,
    )


def staff(org: Organisation, roles=("reviewer",), username: str | None = None):
    return account_services.staff_create(
        username=username or f"staff{next(_seq)}",
        password="Tongban-2026!",
        real_name="李四",
        organisation=org,
        roles=list(roles),
    )


VALID_FORM = {"company_name": "合肥通办科技有限公司", "capital": 100}
