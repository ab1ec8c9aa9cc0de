"""The reference bundles on the reference catalogue: 企业开办 at 合肥 runs from one form to the first
invoice, every authority deciding its own step; 新生儿出生 hands the 出生医学证明 to the 出生登记."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.certificates import kit as cert_kit
from tongban.accounts.services import staff_create
from tongban.bundles.definitions import reference_bundles_load
from tongban.bundles.models import BundleStep
from tongban.bundles.services import bundle_advance, bundle_submit, external_steps_run
from tongban.cases import services as case_services
from tongban.cases.services import Upload
from tongban.catalogue.loader import reference_data_load
from tongban.certificates.models import CertificateUse
from tongban.certificates.services import certificate_issue
from tongban.core.errors import InvalidInput
from tongban.regions.models import Organisation

pytestmark = pytest.mark.django_db

QYKB_FORM = {
    "enterprise_name": "合肥通办一件事科技有限公司",
    "enterprise_type": "有限责任公司（自然人投资或控股）",
    "registered_capital": 100,
    "shareholder_count": 1,
    "address": "合肥市包河区马鞍山路599号",
    "business_scope": "软件开发；信息技术咨询服务",
    "legal_representative": "周敏",
    "operating_period": "长期",
    "seal_kinds": ["公章", "财务专用章", "发票专用章"],
    "seal_material": "光敏",
    "bank_name": "徽商银行",
    "employee_count": 5,
    "accounting_standard": "小企业会计准则",
    "vat_taxpayer_type": "小规模纳税人",
    "invoice_types": ["普通发票"],
    "invoice_medium": "数电发票",
    "contact_phone": "13912345678",
}

NEWBORN_FORM = {
    "newborn_name": "周小满",
    "newborn_sex": "女",
    "birth_date": "2026-11-18",
    "birth_place": "安徽医科大学第一附属医院",
    "mother_name": "李娜",
    "father_name": "周敏",
    "follow_parent": "随父落户",
    "registration_address": "合肥市包河区马鞍山路599号",
    "guardian_relation": "父亲",
    "contact_phone": "13912345678",
}


@pytest.fixture
def world(settings, tmp_path):
    settings.SIMBANK_FAIL_RATE = 0.0
    settings.SIMBANK_DELAY_MS = 0
    settings.NODE_CODE = cert_kit.HEFEI
    settings.KEY_DIR = tmp_path / "keys"
    reference_data_load(cities={"340100"})
    reference_bundles_load(cities={"340100"})
    citizen = f.citizen("zhoumin", name="周敏")
    police = Organisation.objects.get(name="合肥市公安局")
    for type_key, data in (
        ("sfz", {"address": "合肥市包河区马鞍山路599号"}),
        ("hkb", {"household_address": "合肥市包河区马鞍山路599号"}),
    ):
        certificate_issue(
            type_key=type_key,
            holder_name="周敏",
            holder_id_type="ric",
            holder_id=citizen.id_number,
            data=data,
            issuer=police,
        )
    reviewers = {}

    def reviewer(case):
        org = case.handling_org
        if org.pk not in reviewers:
            reviewers[org.pk] = staff_create(
                username=f"r{org.pk}",
                password="Tongban-2026!",
                real_name="审批",
                organisation=org,
                roles=["reviewer"],
            )
        return reviewers[org.pk]

    return {"citizen": citizen, "reviewer": reviewer}


def approve(world, case):
    actor = world["reviewer"](case)
    case_services.case_accept(actor=actor, number=case.number)
    case_services.case_decide(actor=actor, number=case.number, approve=True, reason="符合条件")


def steps(bundle):
    return {s.key: s for s in BundleStep.objects.filter(bundle=bundle).select_related("case__handling_org")}


def registration_files():
    return {
        "registration": [
            Upload(code, f.pdf())
            for code in ("registration_application", "articles", "officer_appointment", "premises_proof")
        ]
    }


def test_enterprise_opening_at_hefei_from_one_form_to_invoices(world):
    bundle = bundle_submit(
        applicant=world["citizen"],
        definition_key="qykb-340100",
        form_data=QYKB_FORM,
        consent=True,
        files=registration_files(),
    )
    registration = steps(bundle)["registration"].case
    assert registration.handling_org.name == "合肥市市场监督管理局"
    # The founder's identity card is the electronic one: not uploaded again.
    assert CertificateUse.objects.filter(case=registration, material_code="legal_rep_id", valid=True).exists()
    approve(world, registration)
    bundle_advance(bundle.pk)
    s = steps(bundle)
    uscc_code = s["registration"].outputs["certificate_number"]
    parallel = {k: s[k].case.handling_org.name for k in ("seal", "social_insurance", "medical_insurance")}
    assert parallel == {
        "seal": "合肥市公安局",
        "social_insurance": "合肥市人力资源和社会保障局",
        "medical_insurance": "合肥市医疗保障局",
    }
    assert all(s[k].case.form_data["uscc"] == uscc_code for k in parallel)
    assert s["bank"].status == "queued" and s["tax"].status == "waiting"
    # Each authority sees only its own step, with the data it needs.
    assert (
        "invoice_types" not in s["seal"].case.form_data
        and "seal_kinds" not in s["social_insurance"].case.form_data
    )

    external_steps_run()
    bundle_advance(bundle.pk)
    tax = steps(bundle)["tax"].case
    assert tax.handling_org.name == "国家税务总局合肥市税务局"
    assert tax.form_data["bank_account"] == steps(bundle)["bank"].outputs["bank_account"]
    assert tax.form_data["uscc"] == uscc_code
    for key in ("seal", "social_insurance", "medical_insurance"):
        approve(world, steps(bundle)[key].case)
    approve(world, tax)
    bundle_advance(bundle.pk)
    invoice = steps(bundle)["invoice"].case
    assert invoice.form_data["invoice_types"] == ["普通发票"]
    approve(world, invoice)
    assert bundle_advance(bundle.pk).status == "completed"


def test_without_an_electronic_identity_card_the_submission_says_so(world):
    other = f.citizen("wuqi", name="吴七")
    with pytest.raises(InvalidInput) as exc:
        bundle_submit(
            applicant=other,
            definition_key="qykb-340100",
            form_data=QYKB_FORM,
            consent=True,
            files=registration_files(),
        )
    assert exc.value.code == "BUNDLE_CERTIFICATE_MISSING"
    assert "居民身份证" in exc.value.message


def test_newborn_birth_certificate_feeds_the_birth_registration(world):
    bundle = bundle_submit(
        applicant=world["citizen"], definition_key="xsecs-340100", form_data=NEWBORN_FORM, consent=True
    )
    approve(world, steps(bundle)["birth_certificate"].case)
    bundle_advance(bundle.pk)
    registration = steps(bundle)["registration"].case
    uses = {u.material_code: u for u in CertificateUse.objects.filter(case=registration)}
    assert (
        uses["birth_medical_certificate"].type_name == "出生医学证明"
        and uses["birth_medical_certificate"].valid
    )
    assert uses["hukou_book"].valid and uses["parents_id"].valid
    approve(world, registration)
    bundle_advance(bundle.pk)
    approve(world, steps(bundle)["medical_insurance"].case)
    assert bundle_advance(bundle.pk).status == "completed"


def test_a_submission_reads_each_thing_once_and_writes_each_table_once(world):
    """The applicant's certificates in one query (and not again for the case), the definition's
    version not read again, the steps and the timeline each in one insert, nothing re-read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def submit_newborn():
        return bundle_submit(
            applicant=world["citizen"], definition_key="xsecs-340100", form_data=NEWBORN_FORM, consent=True
        )

    submit_newborn()  # the items of the steps are kept per process
    with CaptureQueriesContext(connection) as ctx:
        bundle = submit_newborn()
    sql = [q["sql"] for q in ctx.captured_queries]

    def count(start: str) -> int:
        return sum(s.startswith(start) for s in sql)

    assert count('SELECT "id", "identifier"') == 1  # the applicant's certificates
    assert count('SELECT "id" FROM "bundles_bundledefinition"') == 1
    assert count('INSERT INTO "bundles_bundlestep"') == 1 and count('INSERT INTO "bundles_bundleevent"') == 1
    # The bundle's own statements, all of them (the first step's case is the cases app's business).
    own = [s for s in sql if '"bundles_' in s]
    assert len(own) == 4, "\n".join(own)
    assert steps(bundle)["birth_certificate"].status == "in_progress"
