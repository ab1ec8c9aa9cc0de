"""Reference data for the page tests: a city, an authority, a window, one item, applicants and staff."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from stdnum.cn import ric, uscc

from tongban.accounts.services import citizen_register, staff_create
from tongban.catalogue.constants import ItemStatus, ItemType, MaterialForm, ServiceMode
from tongban.catalogue.models import Material, ServiceItem
from tongban.regions.constants import OrganisationKind, RegionLevel
from tongban.regions.models import Organisation, Region

PASSWORD = "Tongban#2026pw"
LOCALE = Path(__file__).resolve().parents[2] / "tongban" / "locale" / "en" / "LC_MESSAGES"

# Smallest files whose content says what they are: the services judge uploads by their bytes.
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b" " * 64
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

FORM_SCHEMA = {
    "type": "object",
    "x-order": ["business_name", "address", "capital", "start_date", "scope_kind", "remark", "agree"],
    "properties": {
        "business_name": {"type": "string", "title": "字号名称", "maxLength": 50},
        "address": {"type": "string", "title": "经营场所", "maxLength": 100},
        "capital": {"type": "integer", "title": "资金数额（万元）", "minimum": 0},
        "start_date": {"type": "string", "format": "date", "title": "开业日期"},
        "scope_kind": {
            "type": "string",
            "title": "经营类别",
            "enum": ["retail", "food"],
            "x-enum-labels": ["零售", "餐饮"],
        },
        "remark": {"type": "string", "title": "经营范围说明", "maxLength": 500},
        "agree": {"type": "boolean", "title": "本人承诺所填信息真实有效"},
    },
    "required": ["business_name", "address", "scope_kind"],
    "additionalProperties": False,
}


def id_number(body17: str) -> str:
    """A valid 18-digit 居民身份证号码 (the check digit computed by python-stdnum)."""
    return body17 + ric.calc_check_digit(body17 + "0")


def uscc_code(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


@pytest.fixture(scope="session")
def english_catalogue():
    """Compiles the English translations when they are missing or older than the .po (like `make messages`)."""
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        if shutil.which("msgfmt") is None:
            pytest.skip("msgfmt (GNU gettext) is needed to compile the English translations")
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hefei(db):
    province = Region.objects.create(code="340000", name="安徽省", level=RegionLevel.PROVINCE)
    return Region.objects.create(code="340100", name="合肥市", level=RegionLevel.CITY, parent=province)


@pytest.fixture
def authority(hefei):
    return Organisation.objects.create(
        name="合肥市市场监督管理局",
        uscc=uscc_code("11340100MB1234567"),
        kind=OrganisationKind.AUTHORITY,
        region=hefei,
    )


@pytest.fixture
def window(hefei):
    return Organisation.objects.create(
        name="合肥市政务服务中心长三角专窗",
        uscc=uscc_code("11340100MB7654321"),
        kind=OrganisationKind.WINDOW,
        region=hefei,
    )


@pytest.fixture
def item(authority, hefei):
    from tongban.catalogue.services import item_search_text_refresh

    item = ServiceItem(
        basic_code="000201012000",
        implementation_code="11340100MB1234567-000201012000",
        name="个体工商户设立登记",
        item_type=ItemType.LICENSING,
        status=ItemStatus.PUBLISHED,
        authority=authority,
        region=hefei,
        city_code="340100",
        legal_basis="《促进个体工商户发展条例》第八条",
        legal_limit_days=15,
        promised_limit_days=3,
        fee="不收费",
        conditions="有经营能力的自然人。",
        process=[{"name": "申请", "description": "网上提交"}, "受理", "审查", "决定", "发证"],
        location="合肥市政务服务中心二楼",
        office_hours="工作日 9:00-17:00",
        phone="0551-12345",
        subject_types=["person"],
        modes=[ServiceMode.FULL_ONLINE, ServiceMode.PROXY_INTAKE],
        keywords=["营业执照", "个体户"],
        form_schema=FORM_SCHEMA,
        published_at=timezone.now(),
    )
    item_search_text_refresh(item)
    item.save()
    Material.objects.create(
        item=item,
        code="M01",
        name="经营者身份证明",
        required=True,
        form=MaterialForm.ORIGINAL,
        copies=1,
        note="居民身份证正反面",
        sort=1,
    )
    Material.objects.create(
        item=item,
        code="M02",
        name="经营场所使用证明",
        required=True,
        form=MaterialForm.COPY,
        copies=2,
        note="租赁合同或产权证明",
        sort=2,
    )
    Material.objects.create(
        item=item,
        code="M03",
        name="委托书",
        required=False,
        form=MaterialForm.ORIGINAL,
        copies=1,
        sort=3,
    )
    return item


@pytest.fixture
def citizen(db, hefei):
    return citizen_register(
        username="zhangsan",
        password=PASSWORD,
        real_name="张三",
        id_number=id_number("34010219900307123"),
        phone="13800138000",
        email="",
    )


@pytest.fixture
def other_citizen(db, hefei):
    return citizen_register(
        username="lisi",
        password=PASSWORD,
        real_name="李四",
        id_number=id_number("34010219850612002"),
        phone="13900139000",
    )


@pytest.fixture
def reviewer(authority):
    return staff_create(
        username="reviewer", password=PASSWORD, real_name="王审批", organisation=authority, roles=["reviewer"]
    )


@pytest.fixture
def clerk(window):
    return staff_create(
        username="clerk", password=PASSWORD, real_name="赵窗口", organisation=window, roles=["window_clerk"]
    )


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def citizen_client(citizen):
    return client_for(citizen)


@pytest.fixture
def reviewer_client(reviewer):
    return client_for(reviewer)


@pytest.fixture
def clerk_client(clerk):
    return client_for(clerk)


def application_post(token: str = "", **overrides) -> dict:
    data = {
        "client_token": token,
        "f_business_name": "张三小卖部",
        "f_address": "合肥市包河区芜湖路 1 号",
        "f_capital": "10",
        "f_start_date": "2026-03-01",
        "f_scope_kind": "retail",
        "f_remark": "日用百货零售",
        "f_agree": "on",
        "m_M01": pdf("id.pdf"),
        "m_M02": png("lease.png"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
