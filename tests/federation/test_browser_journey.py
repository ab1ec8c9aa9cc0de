"""The whole journey in a real browser across real nodes: a new user registers at 合肥 with real-name
data, finds 上海's 无犯罪记录证明, applies; a 上海 reviewer asks for one more material; the applicant adds
it at home; 上海 approves and issues the certificate; the applicant downloads it at 合肥 and rates the
service, and the rating reaches 上海. Chromium from the Debian packages, driven by Playwright."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, assert_accessible
from tests.federation.test_cross_city import HF, SH, _find_item, _reviewer_for, _status

pytestmark = pytest.mark.federation
PASSWORD = "Tongban-2026!"


def _page(browser, base: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.base = base
    return page


def _field(page, text: str):
    return page.get_by_label(re.compile("^" + re.escape(text)))


def _upload(page, material_name: str):
    return page.locator("input[type=file]").and_(
        page.get_by_label(re.compile("^" + re.escape(material_name)))
    )


def _login(page, username: str, password: str) -> None:
    page.goto(page.base + "/login/")
    _field(page, "用户名").fill(username)
    _field(page, "密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_register_apply_in_another_city_correct_approve_download_and_rate(federation, browser, tmp_path):
    hefei, shanghai = federation[HF], federation[SH]
    item = _find_item(hefei, "无犯罪记录证明", SH)
    detail = hefei.request("GET", f"/api/v1/items/{item['implementation_code']}", expect=200)
    required = [m for m in detail["materials"] if m["required"]]
    optional = next(m for m in detail["materials"] if not m["required"])
    scan = tmp_path / "身份证.pdf"
    scan.write_bytes(f.PDF_BYTES)

    # 1. A new user registers at home with real-name data.
    home = _page(browser, hefei.node.url)
    home.goto(home.base + "/register/")
    _field(home, "用户名").fill("zhaolei")
    _field(home, "真实姓名").fill("赵磊")
    _field(home, "居民身份证号码").fill(f.id_number("340102", "19870612", 318))
    _field(home, "手机号码").fill("13912345670")
    _field(home, "密码").fill(PASSWORD)
    _field(home, "确认密码").fill(PASSWORD)
    home.get_by_role("button", name="注册").click()
    expect(home.get_by_text("赵磊").first).to_be_visible()

    # 2. Searches 上海's item from 合肥 and applies with one form.
    home.goto(home.base + "/")
    _field(home, "搜索事项").fill("无犯罪记录证明")
    _field(home, "城市").select_option(label="上海市")
    home.get_by_role("button", name="搜索").click()
    home.locator(f"a[href*='{item['implementation_code']}']").first.click()
    expect(home.get_by_text("上海市公安局").first).to_be_visible()
    home.get_by_role("link", name="在线申请").first.click()
    _field(home, "证明用途").select_option("就业")
    _field(home, "领取方式").select_option("电子证明")
    _field(home, "联系电话").fill("13912345670")
    for m in required:
        _upload(home, m["name"]).set_input_files(str(scan))
    home.get_by_role("button", name="提交申请").click()
    number = home.locator(".case-number").inner_text().strip()
    assert number.startswith(HF)

    # 3. 上海's reviewer finds it in the queue and asks for one more material.
    reviewer = _reviewer_for(shanghai, number)
    there = _page(browser, shanghai.node.url)
    _login(there, reviewer, shanghai.accounts.get(reviewer) or shanghai.accounts["reviewer"])
    there.goto(there.base + f"/workbench/cases/{number}/")
    there.get_by_role("button", name="受理", exact=True).click()
    expect(there.get_by_text("已受理").first).to_be_visible()
    _field(there, "材料").first.select_option(label=optional["name"])
    _field(there, "需要补正的原因").first.fill("请提供用人单位出具的用途证明")
    there.get_by_role("button", name="一次性告知补正", exact=True).click()

    # 4. The applicant sees the notice at home and adds the material.
    home.goto(home.base + f"/me/cases/{number}/")
    for _ in range(50):
        if home.get_by_text("需要补正材料").count():
            break
        home.wait_for_timeout(200)
        home.reload()
    expect(home.get_by_text(f"{optional['name']}：请提供用人单位出具的用途证明").first).to_be_visible()
    _upload(home, optional["name"]).set_input_files(str(scan))
    home.get_by_role("button", name="提交补正材料").click()

    # 5. 上海 approves; the certificate is issued there and arrives at home.
    shanghai.wait_for(
        lambda: _status(shanghai, number, reviewer) == "accepted", timeout=20, what="the resubmission at 上海"
    )
    there.goto(there.base + f"/workbench/cases/{number}/")
    there.locator("#actions form", has=there.get_by_role("button", name="准予许可", exact=True)).get_by_label(
        re.compile("^理由")
    ).fill("经核查，未发现申请人有犯罪记录")
    there.get_by_role("button", name="准予许可", exact=True).click()
    expect(there.get_by_text("准予许可").first).to_be_visible()

    home.goto(home.base + "/me/certificates/")
    for _ in range(100):
        if home.get_by_role("link", name=re.compile("无犯罪记录证明")).count():
            break
        home.wait_for_timeout(200)
        home.reload()
    home.get_by_role("link", name=re.compile("无犯罪记录证明")).first.click()
    assert_accessible(home)
    with home.expect_download() as download:
        home.get_by_role("link", name=re.compile("下载.*PDF")).first.click()
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
    _shot(home, "federation-certificate")

    # 6. 好差评 at home; it reaches the handling node.
    home.goto(home.base + f"/me/cases/{number}/")
    timeline = home.locator("ol.timeline")
    for step in ("提交申请", "受理", "一次性告知补正", "补正材料", "准予许可"):
        expect(timeline.get_by_text(step, exact=True).first).to_be_visible()
    home.get_by_label(re.compile("^5 · 非常满意")).check()
    home.get_by_label("办理速度快").check()
    home.get_by_role("button", name="提交评价").click()
    expect(home.get_by_text("您的评价：5 星（非常满意）")).to_be_visible()
    _shot(home, "federation-case-rated")

    def rated_at_shanghai():
        events = shanghai.request("GET", f"/api/v1/cases/{number}", user=reviewer, expect=200)["events"]
        return any(e["action"] == "rate" for e in events)

    shanghai.wait_for(rated_at_shanghai, timeout=20, what="the rating at the handling node")
