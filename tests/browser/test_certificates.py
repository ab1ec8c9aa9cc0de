"""Issue 4 in a real browser: a citizen uses an electronic certificate instead of an upload (preview,
consent, keyboard only), the reviewer approves, the new certificate appears in 我的证照, and anyone
verifies it on the verification page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import shot
from tests.browser.test_portal_flows import PASSWORD, field, login, logout
from tongban.accounts.services import staff_create
from tongban.catalogue.loader import reference_data_load
from tongban.catalogue.models import ServiceItem
from tongban.certificates.models import Certificate, CertificateUse
from tongban.certificates.selectors import invalidate_status_cache
from tongban.certificates.services import certificate_issue
from tongban.regions.models import Organisation


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.KEY_DIR = tmp_path / "keys"
    invalidate_status_cache()
    reference_data_load()
    police = Organisation.objects.get(name="合肥市公安局")
    staff_create(
        username="gaj", password=PASSWORD, real_name="刘审批", organisation=police, roles=["reviewer"]
    )
    citizen = f.citizen("sunli", name="孙丽")
    id_card = certificate_issue(
        type_key="sfz",
        holder_name="孙丽",
        holder_id_type="ric",
        holder_id=citizen.id_number,
        data={"address": "安徽省合肥市包河区马鞍山路599号"},
        issuer=police,
    )
    yield {"item": ServiceItem.objects.get(city_code="340100", name="无犯罪记录证明"), "id_card": id_card}
    invalidate_status_cache()


def test_a_certificate_replaces_an_upload_and_the_approval_issues_a_new_one(page, world):
    login(page, "sunli")
    page.goto(page.base + "/me/certificates/")
    expect(page.get_by_role("link", name="居民身份证（电子证照）")).to_be_visible()

    page.goto(page.base + f"/items/{world['item'].implementation_code}/apply/")
    picker = page.get_by_role("group", name=re.compile("申请人居民身份证”的提交方式"))
    expect(picker).to_be_visible()
    # Keyboard only: move to the certificate option and choose it, then open the preview.
    picker.get_by_role("radio", name=re.compile("^上传文件")).focus()
    page.keyboard.press("ArrowDown")
    expect(picker.get_by_role("radio", name=re.compile("^使用电子证照"))).to_be_checked()
    picker.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(picker.get_by_text("3401", exact=False).first).to_be_visible()  # the masked ID number
    field(page, "证明用途").select_option(index=1)
    field(page, "领取方式").select_option(index=1)
    field(page, "联系电话").fill("13912345678")

    # Without consent the application is refused and says why, next to the choice.
    page.get_by_role("button", name="提交申请").click()
    # The error summary links to the consent box, and the message stands next to it.
    expect(page.get_by_role("link", name=re.compile("须先确认授权"))).to_be_visible()
    picker = page.get_by_role("group", name=re.compile("申请人居民身份证”的提交方式"))
    picker.get_by_role("radio", name=re.compile("^使用电子证照")).check()
    consent = page.get_by_label("我同意向审批部门提供所选电子证照中的上述信息")
    consent.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", name=re.compile("已提交"))).to_be_visible()
    number = CertificateUse.objects.get().case.number
    page.goto(page.base + f"/me/cases/{number}/")
    expect(page.get_by_role("heading", name="以电子证照代替的材料（免提交）")).to_be_visible()
    expect(page.get_by_text("核验通过", exact=True)).to_be_visible()
    shot(page, "certificate-once-only")
    logout(page)

    login(page, "gaj")
    page.goto(page.base + f"/workbench/cases/{number}/")
    expect(page.get_by_text(world["id_card"].identifier)).to_be_visible()
    page.get_by_role("button", name="受理", exact=True).click()
    page.locator("#actions form", has=page.get_by_role("button", name="准予许可", exact=True)).get_by_label(
        re.compile("^理由")
    ).fill("经核查，未发现申请人有犯罪记录")
    page.get_by_role("button", name="准予许可", exact=True).click()
    expect(page.locator("ol.timeline").get_by_text("准予许可", exact=True).first).to_be_visible()
    logout(page)

    issued = Certificate.objects.get(type__key="wfzjl")
    login(page, "sunli")
    page.goto(page.base + "/me/certificates/")
    page.get_by_role("link", name="无犯罪记录证明").click()
    expect(page.get_by_text(issued.identifier)).to_be_visible()
    shot(page, "certificate-detail")

    page.goto(page.base + "/certificates/verify/")
    field(page, "凭证或二维码文本").fill(issued.credential)
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("status")).to_contain_text("核验通过")
    field(page, "凭证或二维码文本").fill(issued.credential[:-20])
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("status")).to_contain_text("核验未通过")
