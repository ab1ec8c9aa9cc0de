"""Issue 2's user journeys in a real browser (Chromium, driven by Playwright), on the reference catalogue.

Fields are found by their visible labels and buttons by their accessible names, so these tests also
fail when a control loses its label.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import shot
from tongban.accounts.services import staff_create
from tongban.catalogue.loader import reference_data_load
from tongban.catalogue.models import ServiceItem
from tongban.regions.models import Organisation

PASSWORD = "Tongban-2026!"


@pytest.fixture
def catalogue(transactional_db, tmp_path):
    reference_data_load()
    police = Organisation.objects.get(name="合肥市公安局")
    window = Organisation.objects.filter(kind="window", region_id="340100").first()
    staff_create(
        username="gaj", password=PASSWORD, real_name="刘审批", organisation=police, roles=["reviewer"]
    )
    staff_create(
        username="clerk", password=PASSWORD, real_name="陈窗口", organisation=window, roles=["window_clerk"]
    )
    pdf = tmp_path / "身份证.pdf"
    pdf.write_bytes(f.PDF_BYTES)
    return {"pdf": pdf, "item": ServiceItem.objects.get(city_code="340100", name="无犯罪记录证明")}


def field(page, text: str):
    """A control by the start of its label (labels may end with a marker such as （必填）)."""
    return page.get_by_label(re.compile("^" + re.escape(text)))


def upload(page, material_name: str):
    """The file input labelled with a material's name."""
    return page.locator("input[type=file]").and_(
        page.get_by_label(re.compile("^" + re.escape(material_name)))
    )


def login(page, username):
    page.goto(page.base + "/login/")
    field(page, "用户名").fill(username)
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def logout(page):
    page.get_by_role("button", name="退出").click()


def test_citizen_registers_applies_gets_correction_and_is_approved(page, catalogue):
    number_body = f.id_number("340102", "19880808", 521)
    # 1. register with real-name data
    page.goto(page.base + "/register/")
    field(page, "用户名").fill("wangfang")
    field(page, "真实姓名").fill("王芳")
    field(page, "居民身份证号码").fill(number_body)
    field(page, "手机号码").fill("13912345678")
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_text("王芳").first).to_be_visible()

    # 2. search by pinyin initials, open the item, read 一次告知
    page.goto(page.base + "/")
    field(page, "搜索事项").fill("wfzjl")
    field(page, "城市").select_option(label="合肥市")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="无犯罪记录证明").first.click()
    expect(page.get_by_role("heading", name="申请材料")).to_be_visible()
    shot(page, "item-wfzjl")

    # 3. apply with one form and an upload
    page.get_by_role("link", name="在线申请").first.click()
    field(page, "证明用途").select_option("就业")
    field(page, "领取方式").select_option("电子证明")
    field(page, "联系电话").fill("13912345678")
    for m in catalogue["item"].materials.filter(required=True):
        upload(page, m.name).set_input_files(str(catalogue["pdf"]))
    shot(page, "apply-form")
    page.get_by_role("button", name="提交申请").click()
    number = page.locator(".case-number").inner_text().strip()
    assert re.fullmatch(r"340100\d{14}[\dX]", number)
    logout(page)

    # 4. the reviewer finds it in the queue, accepts and asks for one more material
    login(page, "gaj")
    expect(page.get_by_role("heading", name="办件队列")).to_be_visible()
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.get_by_text("已受理").first).to_be_visible()
    purpose = catalogue["item"].materials.get(code="purpose_proof")
    field(page, "材料").first.select_option(label=purpose.name)
    field(page, "需要补正的原因").first.fill("请提供用人单位出具的用途证明")
    page.get_by_role("button", name="一次性告知补正", exact=True).click()
    expect(page.get_by_text("补正").first).to_be_visible()
    logout(page)

    # 5. the applicant sees the notice listing everything, and uploads it
    login(page, "wangfang")
    page.goto(page.base + f"/me/cases/{number}/")
    expect(page.get_by_text(f"{purpose.name}：请提供用人单位出具的用途证明").first).to_be_visible()
    upload(page, purpose.name).set_input_files(str(catalogue["pdf"]))
    page.get_by_role("button", name="提交补正材料").click()
    expect(page.get_by_text("已受理").first).to_be_visible()
    logout(page)

    # 6. the reviewer approves with reasons
    login(page, "gaj")
    page.goto(page.base + f"/workbench/cases/{number}/")
    page.locator("#actions form", has=page.get_by_role("button", name="准予许可", exact=True)).get_by_label(
        re.compile("^理由")
    ).fill("经核查，未发现申请人有犯罪记录")
    page.get_by_role("button", name="准予许可", exact=True).click()
    logout(page)

    # 7. the timeline shows every step, who and when
    login(page, "wangfang")
    page.goto(page.base + f"/me/cases/{number}/")
    timeline = page.locator("ol.timeline")
    for step in ("提交申请", "受理", "一次性告知补正", "补正材料", "准予许可"):
        expect(timeline.get_by_text(step, exact=True).first).to_be_visible()
    shot(page, "case-timeline")

    # 8. the certificate the decision issued is in 我的证照, and its PDF downloads
    page.get_by_role("link", name="我的证照").click()
    page.get_by_role("link", name=re.compile("无犯罪记录证明")).first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载.*PDF")).first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    # 9. 好差评: the applicant rates the finished case
    page.goto(page.base + f"/me/cases/{number}/")
    page.get_by_label(re.compile("^5 · 非常满意")).check()
    page.get_by_label("办理速度快").check()
    field(page, "意见建议").fill("补正一次说清楚，办理很快")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("您的评价：5 星（非常满意）")).to_be_visible()
    shot(page, "case-rated")


def test_window_clerk_takes_in_an_application_for_another_city(page, catalogue):
    item = next(
        (
            i
            for i in ServiceItem.objects.filter(city_code="341000").order_by("implementation_code")
            if "proxy_intake" in i.modes and "person" in i.subject_types
        ),
        None,
    )
    assert item is not None, "reference data needs a 黄山 item open to 异地代收代办"
    login(page, "clerk")
    page.goto(page.base + "/workbench/intake/")
    field(page, "搜索事项").fill(item.name)
    page.get_by_role("button", name="搜索").click()
    page.locator(f"a[href*='{item.implementation_code}']").first.click()
    expect(page.get_by_text(item.authority.name).first).to_be_visible()
    field(page, "申请人姓名").fill("赵六")
    field(page, "申请人居民身份证号码").fill(f.id_number("340102", "19900505", 33))
    field(page, "已核验身份证件原件").check()
    # fill what the item's form requires, by its schema
    for name, prop in item.form_schema.get("properties", {}).items():
        if name not in item.form_schema.get("required", []):
            continue
        control = field(page, prop["title"]).first
        if "enum" in prop:
            control.select_option(prop["enum"][0])
        elif prop.get("type") in ("number", "integer"):
            control.fill("1")
        elif prop.get("format") == "date":
            control.fill("2026-12-01")
        elif prop.get("type") == "boolean":
            control.check()
        elif "pattern" in prop:
            control.fill("13800138000")
        else:
            control.fill("测试")
    for m in item.materials.filter(required=True):
        upload(page, m.name).set_input_files(str(catalogue["pdf"]))
    page.get_by_role("button", name="代收并转办").click()
    expect(page.get_by_text(re.compile("已代收，办件编号"))).to_be_visible()
    message = page.get_by_text(re.compile("已代收，办件编号")).inner_text()
    number = re.search(r"\d{20}[\dX]", message).group(0)
    assert number.startswith("340100")  # received here, handled in 黄山
    expect(page.get_by_text(item.authority.name).first).to_be_visible()
    expect(page.get_by_text("异地代收代办").first).to_be_visible()
    shot(page, "window-intake")


def test_keyboard_only_search(page, catalogue):
    page.goto(page.base + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    field(page, "搜索事项").focus()
    page.keyboard.type("yyzz")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=re.compile("营业执照")).first).to_be_visible()
