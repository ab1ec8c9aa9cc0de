"""Issue 5 in a real browser: an applicant finds 企业开办 under 一件事, fills the one form and signs
the one declaration (keyboard only where the browser allows), and follows one timeline: registration
first, then, once the registration is approved, the seal and the bank together."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.test_portal_flows import field, login
from tests.bundles import kit
from tongban.bundles.definitions import definition_save
from tongban.bundles.models import Bundle
from tongban.bundles.services import bundle_advance
from tongban.cases import services as case_services

DECLARATION = "本人承诺所填信息真实有效，同意将申请信息分送各环节的办理部门"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    w = kit.world(settings, tmp_path)
    definition_save(kit.definition())
    return w


def test_an_applicant_applies_once_and_follows_every_step_on_one_timeline(page, world):
    login(page, world["citizen"].username)
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="一件事", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="企业开办", exact=True)).to_be_visible()
    page.get_by_role("link", name="在线申请").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="申请：企业开办")).to_be_visible()

    for title, value in (
        ("企业名称", kit.FORM_DATA["enterprise_name"]),
        ("注册资本（万元）", "100"),
        ("住所", kit.FORM_DATA["address"]),
        ("经营范围", kit.FORM_DATA["business_scope"]),
        ("法定代表人", kit.FORM_DATA["legal_representative"]),
        ("开户银行", kit.FORM_DATA["bank_name"]),
    ):
        field(page, title).focus()
        page.keyboard.type(value)
    # Choices are picked with the browser's own list; typing into a closed <select> is not portable.
    field(page, "印章式样").select_option("光敏")
    field(page, "纳税人类型").select_option("小规模纳税人")

    # One declaration for every step, signed with the space bar.
    expect(page.get_by_role("checkbox")).to_have_count(1)
    consent = page.get_by_label(re.compile("^" + DECLARATION))
    consent.focus()
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    page.get_by_role("button", name="提交申请").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="企业开办", exact=True)).to_be_visible()
    bundle = Bundle.objects.get()
    registration = bundle.steps.get(key="registration").case
    step = page.locator("#step-registration")
    expect(step.get_by_text("办理中", exact=True)).to_be_visible()
    expect(step.get_by_role("link", name=registration.number)).to_be_visible()
    expect(page.locator("#step-seal")).to_contain_text("等待“设立登记”完成后自动开始")
    expect(page.get_by_text("已用 0 个工作日，承诺 3 个工作日内办结")).to_be_visible()

    # The authority approves the registration (its own queue; driven here through the services).
    case_services.case_accept(actor=world["reviewer"], number=registration.number)
    case_services.case_decide(
        actor=world["reviewer"], number=registration.number, approve=True, reason="符合条件"
    )
    bundle_advance(bundle.pk)

    page.reload()
    expect(page.locator("#step-registration").get_by_text("已完成", exact=True)).to_be_visible()
    expect(page.locator("#step-seal").get_by_text("办理中", exact=True)).to_be_visible()
    expect(page.locator("#step-bank").get_by_text("待发起", exact=True)).to_be_visible()
    expect(page.locator("#step-tax")).to_contain_text("等待“公章刻制、银行开户预约”完成后自动开始")
    uscc = Bundle.objects.get().outputs["registration"]["certificate_number"]
    expect(page.get_by_role("region", name="办理结果")).to_contain_text(uscc)
    shot(page, "bundle-timeline")
