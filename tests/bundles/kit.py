"""A small 企业开办 bundle on made-up items (the reference one is tested on the reference data):
registration issues the 营业执照; then the seal (certificate instead of a licence upload) and the bank
(outside party); then tax, which needs the new USCC and the bank account."""

from __future__ import annotations

from tests import factories as f
from tests.certificates import kit as cert_kit
from tongban.catalogue.models import Material

FORM = {
    "type": "object",
    "properties": {
        "enterprise_name": {"type": "string", "title": "企业名称", "maxLength": 50},
        "registered_capital": {"type": "number", "title": "注册资本（万元）", "exclusiveMinimum": 0},
        "address": {"type": "string", "title": "住所"},
        "business_scope": {"type": "string", "title": "经营范围"},
        "legal_representative": {"type": "string", "title": "法定代表人"},
        "seal_style": {"type": "string", "title": "印章式样", "enum": ["铜质", "光敏"]},
        "bank_name": {"type": "string", "title": "开户银行"},
        "taxpayer_kind": {"type": "string", "title": "纳税人类型", "enum": ["小规模纳税人", "一般纳税人"]},
    },
    "required": [
        "enterprise_name",
        "registered_capital",
        "address",
        "business_scope",
        "legal_representative",
    ],
    "additionalProperties": False,
}

FORM_DATA = {
    "enterprise_name": "合肥一件事科技有限公司",
    "registered_capital": 100,
    "address": "合肥市包河区马鞍山路599号",
    "business_scope": "软件开发",
    "legal_representative": "张三",
    "seal_style": "光敏",
    "bank_name": "中国工商银行合肥分行",
    "taxpayer_kind": "小规模纳税人",
}


def _schema(props: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {k: {"type": t, "title": k} for k, t in props.items()},
        "required": required,
        "additionalProperties": False,
    }


def items(authority):
    registration = f.item(authority, name="内资有限公司设立登记", materials=())
    registration.basic_code, registration.issues_certificate = "000201001000", "yyzz"
    registration.form_schema = _schema(
        {
            "enterprise_name": "string",
            "enterprise_type": "string",
            "registered_capital": "number",
            "address": "string",
            "business_scope": "string",
            "legal_representative": "string",
        },
        ["enterprise_name", "address", "business_scope", "legal_representative"],
    )
    registration.save()
    seal = f.item(authority, name="公章刻制备案", materials=())
    seal.basic_code = "000172001000"
    seal.form_schema = _schema(
        {"enterprise_name": "string", "uscc": "string", "seal_style": "string"}, ["uscc", "seal_style"]
    )
    seal.save()
    Material.objects.create(
        item=seal, code="licence", name="营业执照", required=True, certificate_type="yyzz"
    )
    tax = f.item(authority, name="新办纳税人涉税事项", materials=())
    tax.basic_code = "000191001000"
    tax.form_schema = _schema(
        {"uscc": "string", "bank_name": "string", "bank_account": "string", "taxpayer_kind": "string"},
        ["uscc", "bank_account"],
    )
    tax.save()
    return registration, seal, tax


def definition(*, on_failure="continue", **changes) -> dict:
    doc = {
        "key": "qykb-test",
        "name": "企业开办",
        "city_code": "340100",
        "target_workdays": 3,
        "on_failure": on_failure,
        "form_schema": FORM,
        "steps": [
            {
                "key": "registration",
                "name": "设立登记",
                "kind": "item",
                "item": "000201001000",
                "city": "340100",
                "inputs": {
                    "enterprise_name": "form.enterprise_name",
                    "enterprise_type": "const:有限责任公司（自然人投资或控股）",
                    "registered_capital": "form.registered_capital",
                    "address": "form.address",
                    "business_scope": "form.business_scope",
                    "legal_representative": "form.legal_representative",
                },
            },
            {
                "key": "seal",
                "name": "公章刻制",
                "kind": "item",
                "item": "000172001000",
                "city": "340100",
                "after": ["registration"],
                "inputs": {
                    "enterprise_name": "form.enterprise_name",
                    "uscc": "step.registration.certificate_number",
                    "seal_style": "form.seal_style",
                },
                "certificates": {"licence": "step.registration.certificate"},
            },
            {
                "key": "bank",
                "name": "银行开户预约",
                "kind": "external",
                "adapter": "bank",
                "after": ["registration"],
                "inputs": {
                    "enterprise_name": "form.enterprise_name",
                    "uscc": "step.registration.certificate_number",
                    "bank_name": "form.bank_name",
                },
            },
            {
                "key": "tax",
                "name": "涉税事项",
                "kind": "item",
                "item": "000191001000",
                "city": "340100",
                "after": ["seal", "bank"],
                "inputs": {
                    "uscc": "step.registration.certificate_number",
                    "bank_name": "step.bank.bank_name",
                    "bank_account": "step.bank.bank_account",
                    "taxpayer_kind": "form.taxpayer_kind",
                },
            },
        ],
    }
    doc.update(changes)
    return doc


def world(settings, tmp_path):
    settings.SIMBANK_FAIL_RATE = 0.0
    settings.SIMBANK_DELAY_MS = 0
    _, authority = cert_kit.node(settings, tmp_path)
    registration, seal, tax = items(authority)
    return {
        "authority": authority,
        "reviewer": f.staff(authority),
        "citizen": f.citizen(name="张三"),
        "items": {"registration": registration, "seal": seal, "tax": tax},
    }
