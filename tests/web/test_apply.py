"""Applying online (一表登记), following the case, answering a 补正 notice, withdrawing."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.web.conftest import application_post, pdf
from tongban.cases import services as case_services
from tongban.cases.constants import CaseStatus
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db


def _apply_url(item):
    return reverse("web:apply", args=[item.implementation_code])


def test_apply_page_is_one_form_built_from_the_schema(citizen_client, item):
    response = citizen_client.get(_apply_url(item))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page
    assert 'name="client_token"' in page and 'type="hidden"' in page
    assert '<label for="id_f_business_name">字号名称' in page
    assert 'type="date"' in page and 'name="f_start_date"' in page
    assert 'type="number"' in page and 'name="f_capital"' in page
    assert '<select name="f_scope_kind"' in page and ">餐饮</option>" in page
    assert '<textarea name="f_remark"' in page
    assert 'type="checkbox" name="f_agree"' in page
    assert 'type="file" name="m_M01"' in page and 'type="file" name="m_M03"' in page
    # The schema's order, not the storage order.
    assert page.index("f_business_name") < page.index("f_address") < page.index("f_remark")


def test_visitor_is_asked_to_sign_in_before_applying(client, item):
    response = client.get(_apply_url(item))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_apply_shows_the_case_number_and_lists_the_case_in_my_cases(citizen, citizen_client, item):
    response = citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex))
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(applicant=citizen)
    assert response["Location"] == reverse("web:case_submitted", args=[case.number])
    page = citizen_client.get(response["Location"]).content.decode()
    assert case.number in page and "申请已提交" in page
    assert case.form_data["capital"] == 10 and case.form_data["start_date"] == "2026-03-01"
    assert case.form_data["agree"] is True
    assert case.materials.count() == 2
    mine = citizen_client.get(reverse("web:my_cases")).content.decode()
    assert case.number in mine and "已提交" in mine and item.name in mine
    detail = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "张三小卖部" in detail and "零售" in detail and "经营者身份证明" in detail


def test_double_submit_with_the_same_token_makes_one_case(citizen, citizen_client, item):
    token = uuid.uuid4().hex
    first = citizen_client.post(_apply_url(item), application_post(token))
    second = citizen_client.post(_apply_url(item), application_post(token))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.filter(applicant=citizen).count() == 1


def test_refused_form_keeps_what_was_typed_and_shows_the_error_at_the_field(citizen, citizen_client, item):
    token = uuid.uuid4().hex
    response = citizen_client.post(_apply_url(item), application_post(token, f_business_name=""))
    page = response.content.decode()
    assert response.status_code == 422
    assert "请填写“字号名称”。" in page
    assert 'id="id_f_business_name_error"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_f_business_name_error"' in page
    # Everything typed is still there, and the same token so a corrected retry still makes one case.
    assert 'value="合肥市包河区芜湖路 1 号"' in page
    assert 'value="2026-03-01"' in page
    assert '<option value="retail" selected>' in page
    assert "日用百货零售</textarea>" in page
    assert f'value="{token}"' in page
    assert "请重新选择要上传的材料" in page
    assert not Case.objects.exists()


def test_missing_material_is_shown_at_its_upload_field(citizen_client, item):
    response = citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex, m_M02=None))
    page = response.content.decode()
    assert response.status_code == 422
    assert "缺少必需的申请材料：经营场所使用证明。" in page
    assert 'id="id_m_M02_error"' in page and "请上传“经营场所使用证明”。" in page


def test_a_file_that_is_not_a_pdf_or_image_is_refused(citizen_client, item):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("id.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex, m_M01=fake))
    assert response.status_code == 422
    assert 'id="id_m_M01_error"' in response.content.decode()


def test_staff_cannot_apply_as_an_applicant(reviewer_client, item):
    response = reviewer_client.get(_apply_url(item))
    assert response.status_code == 403
    assert "窗口代收" in response.content.decode()


def test_material_is_served_inline_to_the_applicant_only(citizen, citizen_client, other_citizen, item):
    citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex))
    case = Case.objects.get(applicant=citizen)
    material = case.materials.get(material__code="M02")
    url = reverse("web:material", args=[case.number, material.pk])
    response = citizen_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    from tests.web.conftest import client_for

    assert client_for(other_citizen).get(url).status_code == 404
    assert client_for(other_citizen).get(reverse("web:case", args=[case.number])).status_code == 404


def test_withdraw_asks_for_confirmation_then_withdraws(citizen, citizen_client, item):
    citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex))
    case = Case.objects.get(applicant=citizen)
    url = reverse("web:case_withdraw", args=[case.number])
    assert url in citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    confirm = citizen_client.get(url)
    assert confirm.status_code == 200 and "确认撤回" in confirm.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    response = citizen_client.post(url, {"reason": "信息填错，重新申请"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    page = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "撤回申请" in page and "信息填错，重新申请" in page


def test_notifications_list_and_mark_read(citizen, citizen_client, item):
    citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex))
    page = citizen_client.get(reverse("web:notifications")).content.decode()
    assert "办件提交申请" in page and "未读" in page
    citizen_client.post(reverse("web:notifications_read"))
    assert not citizen.notifications.filter(read_at__isnull=True).exists()


def test_resubmission_must_bring_every_material_asked_for(citizen, citizen_client, reviewer, item):
    citizen_client.post(_apply_url(item), application_post(uuid.uuid4().hex))
    case = Case.objects.get(applicant=citizen)
    case_services.case_request_correction(
        actor=reviewer,
        number=case.number,
        items=[{"material": "M01", "reason": "照片不清晰"}, {"material": "M02", "reason": "缺少盖章"}],
    )
    response = citizen_client.post(
        reverse("web:case_resubmit", args=[case.number]), {"m_M01": pdf(), "note": "已重新扫描"}
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "补正告知要求的材料尚未提交：经营场所使用证明。" in page
    assert 'id="id_m_M02_error"' in page
    assert "已重新扫描</textarea>" in page


def test_a_second_tab_submitting_the_same_item_makes_one_case(citizen, citizen_client, item):
    import re as _re

    def token_of(page: str) -> str:
        return _re.search(r'name="client_token" value="([0-9a-f]{32})"', page).group(1)

    first_tab = token_of(citizen_client.get(_apply_url(item)).content.decode())
    second_tab = token_of(citizen_client.get(_apply_url(item)).content.decode())
    assert first_tab == second_tab
    one = citizen_client.post(_apply_url(item), application_post(first_tab))
    two = citizen_client.post(_apply_url(item), application_post(second_tab))
    assert one.status_code == two.status_code == 302 and one["Location"] == two["Location"]
    assert Case.objects.filter(applicant=citizen).count() == 1
    # Once submitted, the next application of the item is a new one.
    assert token_of(citizen_client.get(_apply_url(item)).content.decode()) != first_tab
