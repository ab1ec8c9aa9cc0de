"""The application form in a real browser: checks as you type (in Chinese, next to the field), a draft
that survives a reload and an expired session, and the upload progress path to the submitted page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import assert_accessible
from tests.browser.test_portal_flows import PASSWORD, catalogue, field, login, upload  # noqa: F401
from tongban.accounts.services import citizen_register
from tongban.cases.models import Case


def _citizen():
    return citizen_register(
        username="li", password=PASSWORD, real_name="李四", id_number=f.id_number(seq=9), phone="13912345678"
    )


def test_fields_are_checked_as_they_are_filled_in(page, catalogue):  # noqa: F811
    _citizen()
    login(page, "li")
    page.goto(page.base + f"/items/{catalogue['item'].implementation_code}/apply/")
    phone = field(page, "联系电话")
    phone.fill("12345")
    phone.blur()
    expect(page.get_by_text("格式不正确：联系电话")).to_be_visible()
    assert phone.get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    phone.fill("13912345678")
    expect(page.get_by_text("格式不正确：联系电话")).to_have_count(0)
    assert phone.get_attribute("aria-invalid") is None


def test_a_draft_survives_a_reload_and_an_expired_session_and_is_gone_after_submitting(page, catalogue):  # noqa: F811
    _citizen()
    login(page, "li")
    url = page.base + f"/items/{catalogue['item'].implementation_code}/apply/"
    page.goto(url)
    field(page, "证明用途").select_option("出国（境）")
    field(page, "证明提交单位").fill("某国驻上海总领事馆")
    field(page, "联系电话").fill("13700001111")
    page.wait_for_timeout(400)  # the draft is saved 300 ms after the last keystroke
    # The session expires (the cookie is gone): the next visit signs in again and finds the draft.
    page.context.clear_cookies()
    page.goto(url)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    field(page, "用户名").fill("li")
    field(page, "密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile("/apply/$"))
    expect(page.get_by_text("已恢复您上次未提交的填写内容")).to_be_visible()
    expect(field(page, "证明提交单位")).to_have_value("某国驻上海总领事馆")
    expect(field(page, "证明用途")).to_have_value("出国（境）")
    # Submit (files go through the upload-progress path) and the draft is cleared.
    field(page, "领取方式").select_option("电子证明")
    for m in catalogue["item"].materials.filter(required=True):
        upload(page, m.name).set_input_files(str(catalogue["pdf"]))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".case-number")).to_be_visible()
    assert Case.objects.count() == 1
    page.goto(url)
    expect(page.get_by_text("已恢复您上次未提交的填写内容")).to_be_hidden()
    expect(field(page, "证明提交单位")).to_have_value("")


def test_a_refused_upload_submission_keeps_what_was_typed_with_the_error_at_the_field(page, catalogue):  # noqa: F811
    _citizen()
    login(page, "li")
    page.goto(page.base + f"/items/{catalogue['item'].implementation_code}/apply/")
    field(page, "证明用途").select_option("就业")
    field(page, "证明提交单位").fill("合肥某科技有限公司")
    # 领取方式 left empty; a file chosen, so the form goes through the upload path.
    first = catalogue["item"].materials.filter(required=True).first()
    upload(page, first.name).set_input_files(str(catalogue["pdf"]))
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(field(page, "证明提交单位")).to_have_value("合肥某科技有限公司")
    assert Case.objects.count() == 0
