"""The staff workbench: the queue, the actions on a case, and window intake (代收)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse

from tests.web.conftest import application_post, id_number, pdf, png
from tongban.cases import services as case_services
from tongban.cases.constants import CaseStatus, Channel
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db


def _submit(client, item, **overrides) -> Case:
    response = client.post(
        reverse("web:apply", args=[item.implementation_code]), application_post(uuid.uuid4().hex, **overrides)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    number = response["Location"].rstrip("/").split("/")[-2]
    return Case.objects.get(number=number)


def test_queue_is_ordered_by_deadline(citizen_client, reviewer_client, item):
    cases = [_submit(citizen_client, item, f_business_name=f"小店{i}") for i in range(3)]
    today = dt.date.today()
    # Deadlines set out of submission order: the queue must follow the deadline.
    for case, days in zip(cases, (9, 2, 5), strict=True):
        Case.objects.filter(pk=case.pk).update(due_date=today + dt.timedelta(days=days))
    page = reviewer_client.get(reverse("web:workbench")).content.decode()
    order = [m for m in re.findall(r"\b\d{20}[0-9X]\b", page) if m in {c.number for c in cases}]
    order = list(dict.fromkeys(order))
    assert order == [cases[1].number, cases[2].number, cases[0].number]
    assert "张三" in page
    assert 'class="badge badge--' in page


def test_queue_page_queries_do_not_grow_with_the_number_of_cases(citizen_client, reviewer_client, item):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _submit(citizen_client, item)
    reviewer_client.get(reverse("web:workbench"))  # warm per-process caches (holiday schedule)
    with CaptureQueriesContext(connection) as one:
        reviewer_client.get(reverse("web:workbench"))
    for _ in range(4):
        _submit(citizen_client, item)
    with CaptureQueriesContext(connection) as five:
        page = reviewer_client.get(reverse("web:workbench")).content.decode()
    assert page.count('<th scope="row">') == 5
    assert len(five) == len(one)


def test_queue_filters_by_status_item_and_number(citizen_client, reviewer, reviewer_client, item):
    a = _submit(citizen_client, item)
    b = _submit(citizen_client, item)
    case_services.case_accept(actor=reviewer, number=a.number)
    page = reviewer_client.get(reverse("web:workbench"), {"status": "accepted"}).content.decode()
    assert a.number in page and b.number not in page
    page = reviewer_client.get(reverse("web:workbench"), {"q": b.number}).content.decode()
    assert b.number in page and a.number not in page
    page = reviewer_client.get(reverse("web:workbench"), {"item": item.implementation_code}).content.decode()
    assert a.number in page and b.number in page


def test_queue_counts_and_pages_follow_the_filter(
    citizen_client, reviewer, reviewer_client, item, monkeypatch
):
    from tongban.web.views import workbench

    monkeypatch.setattr(workbench, "QUEUE_PAGE_SIZE", 2)
    cases = [_submit(citizen_client, item) for _ in range(3)]
    case_services.case_accept(actor=reviewer, number=cases[0].number)
    case_services.case_withdraw(actor=cases[1].applicant, number=cases[1].number, reason="不需要了")

    def caption_and_pages(params):
        page = reviewer_client.get(reverse("web:workbench"), params).content.decode()
        caption = re.search(r'<caption class="visually-hidden">(\d+) 件办件</caption>', page)
        pages = re.search(r"第 1 页，共 (\d+) 页", page)
        return (int(caption.group(1)) if caption else 0), (int(pages.group(1)) if pages else 1)

    assert caption_and_pages({}) == (2, 1)  # the withdrawn case is not open
    assert caption_and_pages({"status": "accepted"}) == (1, 1)
    assert caption_and_pages({"status": "done"}) == (1, 1)
    assert caption_and_pages({"item": item.name[:4]}) == (2, 1)
    assert caption_and_pages({"q": cases[2].number}) == (1, 1)
    for case in [_submit(citizen_client, item) for _ in range(2)]:
        assert case.status == CaseStatus.SUBMITTED
    assert caption_and_pages({}) == (4, 2)


def test_queue_row_shows_the_deadline_and_the_badges(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    Case.objects.filter(pk=case.pk).update(due_date=dt.date(2026, 1, 5), due_provisional=True)
    page = reviewer_client.get(reverse("web:workbench")).content.decode()
    row = page[page.index(case.number) : page.index("</tr>", page.index(case.number))]
    assert '<time datetime="2026-01-05">2026-01-05</time>' in row
    assert "暂定" in row
    assert '<span class="badge badge--info">已提交</span>' in row
    assert 'badge--bad"><span class="badge__icon" aria-hidden="true">■</span>已超期' in row
    local = case.submitted_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M") in row


def test_queue_rows_escape_what_applicants_and_authorities_wrote(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    Case.objects.filter(pk=case.pk).update(applicant_name='<script>alert("x")</script>&')
    item.name = "<b>事项</b>"
    item.save(update_fields=["name"])
    page = reviewer_client.get(reverse("web:workbench")).content.decode()
    row = page[page.index(f'value="{case.number}"') : page.index("</tr>", page.index(case.number))]
    assert "<script>" not in page and "<b>事项" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in row
    assert "&lt;b&gt;事项&lt;/b&gt;" in row
    assert f'aria-label="选择 {case.number}"' in row
    assert f'href="{reverse("web:wb_case", args=[case.number])}"' in row


def test_queue_filter_keeps_what_was_chosen_and_typed(citizen_client, reviewer_client, item):
    _submit(citizen_client, item)
    page = reviewer_client.get(
        reverse("web:workbench"), {"status": "submitted", "item": '<i>"'}
    ).content.decode()
    select = page[page.index('<select name="status"') : page.index("</select>")]
    assert re.search(r'<option value="submitted" selected>已提交 \(1\)</option>', select)
    assert select.count(" selected") == 1
    assert 'value="&lt;i&gt;&quot;"' in page
    unfiltered = reviewer_client.get(reverse("web:workbench")).content.decode()
    assert '<option value="" selected>' in unfiltered


def test_navigation_marks_the_current_page_only(reviewer_client):
    page = reviewer_client.get(reverse("web:workbench")).content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    # The header's 工作台 and the workbench's own 办件队列 both lead here.
    assert current == [reverse("web:workbench")] * 2
    assert f'<a href="{reverse("web:home")}">' in page


def test_a_staff_page_reads_the_organisation_with_the_user(reviewer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer_client.get(reverse("web:workbench"))
    with CaptureQueriesContext(connection) as queries:
        page = reviewer_client.get(reverse("web:workbench")).content.decode()
    assert "subnav__who" in page
    assert not [q["sql"] for q in queries if 'FROM "regions_organisation"' in q["sql"]]


def test_workbench_is_forbidden_to_citizens(citizen_client, client):
    response = citizen_client.get(reverse("web:workbench"))
    assert response.status_code == 403
    assert "工作台仅供工作人员使用" in response.content.decode()
    assert client.get(reverse("web:workbench")).status_code == 302


def test_reviewer_accepts_asks_for_correction_citizen_answers_then_approval(
    citizen, citizen_client, reviewer_client, item
):
    case = _submit(citizen_client, item)
    wb = reverse("web:wb_case", args=[case.number])
    page = reviewer_client.get(wb).content.decode()
    assert "3401**********1232" in page  # the applicant's ID, masked
    assert "138****8000" in page
    assert "字号名称" in page and "张三小卖部" in page
    assert reverse("web:wb_accept", args=[case.number]) in page
    assert reverse("web:wb_approve", args=[case.number]) not in page  # not valid before acceptance

    # 受理
    r = reviewer_client.post(reverse("web:wb_accept", args=[case.number]), {"accept-note": "材料齐全"})
    assert r.status_code == 302 and r["Location"] == wb
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED

    # 一次性告知补正: the add-row button gives one more row without sending the notice.
    url = reverse("web:wb_correction", args=[case.number])
    rows = {
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-material": "M01",
        "items-0-name": "",
        "items-0-reason": "身份证照片不清晰",
        "items-1-material": "",
        "items-1-name": "",
        "items-1-reason": "",
        "correction-note": "请于 5 个工作日内补正",
    }
    more = reviewer_client.post(url, {**rows, "add_row": "1"})
    assert more.status_code == 200
    assert 'name="items-2-reason"' in more.content.decode()
    assert "身份证照片不清晰" in more.content.decode()
    rows.update({"items-1-material": "M02", "items-1-reason": "租赁合同缺少盖章页"})
    r = reviewer_client.post(url, rows)
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION

    # The citizen sees everything asked for, once, and uploads it.
    page = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "需要补正材料" in page
    assert "身份证照片不清晰" in page and "租赁合同缺少盖章页" in page and "请于 5 个工作日内补正" in page
    assert 'name="m_M01"' in page and 'name="m_M02"' in page
    r = citizen_client.post(
        reverse("web:case_resubmit", args=[case.number]),
        {"m_M01": pdf("id-new.pdf"), "m_M02": png("lease-new.png"), "note": "已补齐"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.materials.filter(round=1).count() == 2

    # 准予许可, then 发证.
    r = reviewer_client.post(reverse("web:wb_approve", args=[case.number]), {"approve-reason": "符合条件"})
    assert r.status_code == 302
    r = reviewer_client.post(reverse("web:wb_issue", args=[case.number]), {"issue-note": ""})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ISSUED

    page = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    timeline = page[page.index("办理记录") :]
    positions = [
        timeline.index(label)
        for label in ("提交申请", "受理", "一次性告知补正", "补正材料", "准予许可", "发证")
    ]
    assert positions == sorted(positions)
    assert "王审批" in timeline and "张三" in timeline and "材料齐全" in timeline and "已补齐" in timeline
    assert "撤回申请" not in page  # nothing left to withdraw


def test_a_refusal_without_reason_keeps_the_form_and_says_why(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    r = reviewer_client.post(reverse("web:wb_reject", args=[case.number]), {"reject-reason": "  "})
    page = r.content.decode()
    assert r.status_code == 422
    assert "“不予受理”必须写明理由。" in page
    assert 'id="id_reject-reason_error"' in page
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_an_action_not_valid_now_is_refused_with_a_message(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    r = reviewer_client.post(reverse("web:wb_issue", args=[case.number]), {"issue-note": ""})
    assert r.status_code == 409
    assert "不能“发证”" in r.content.decode()


def test_a_window_clerk_takes_an_application_in(clerk_client, reviewer_client, citizen, item):
    page = clerk_client.get(reverse("web:wb_intake"), {"q": "个体"}).content.decode()
    assert item.name in page
    url = reverse("web:wb_intake")
    page = clerk_client.get(url, {"item": item.implementation_code}).content.decode()
    assert 'name="identity_checked"' in page and "已核验身份证件原件" in page
    data = application_post(
        uuid.uuid4().hex,
        item=item.implementation_code,
        applicant_name="张三",
        applicant_id_number=id_number("34010219900307123"),
        applicant_phone="13800138000",
    )
    # Without the identity check the form comes back, with what was typed.
    r = clerk_client.post(url, data)
    assert r.status_code == 422
    assert "请核验身份证件原件" in r.content.decode() and 'value="张三小卖部"' in r.content.decode()
    data.update({"identity_checked": "on", "m_M01": pdf(), "m_M02": png()})
    r = clerk_client.post(url, data)
    assert r.status_code == 302
    case = Case.objects.get(channel=Channel.WINDOW)
    assert r["Location"] == reverse("web:wb_case", args=[case.number])
    assert case.applicant == citizen  # linked to the account with the same ID number
    page = clerk_client.get(r["Location"]).content.decode()
    assert case.number in page and "合肥市政务服务中心长三角专窗" in page
    assert reverse("web:wb_accept", args=[case.number]) not in page  # a clerk does not decide
    assert case.number in reviewer_client.get(reverse("web:workbench")).content.decode()


def test_intake_is_for_window_clerks_only(reviewer_client, citizen_client):
    assert reviewer_client.get(reverse("web:wb_intake")).status_code == 403
    assert citizen_client.get(reverse("web:wb_intake")).status_code == 403


def test_batch_accept_does_each_case_and_says_which_were_refused(
    citizen_client, reviewer, reviewer_client, item
):
    first, second, third = (_submit(citizen_client, item) for _ in range(3))
    case_services.case_accept(actor=reviewer, number=third.number)  # a colleague was quicker
    queue = reviewer_client.get(reverse("web:workbench")).content.decode()
    assert f'value="{first.number}" form="batch-form"' in queue and "批量办理" in queue
    response = reviewer_client.post(
        reverse("web:wb_batch"),
        {
            "action": "accept",
            "numbers": [first.number, second.number, third.number],
            "next": "/workbench/?status=submitted",
        },
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/workbench/?status=submitted"
    assert "已办理 2 件" in page and f"{third.number} 未办理" in page
    assert set(Case.objects.filter(status=CaseStatus.ACCEPTED).values_list("number", flat=True)) == {
        first.number,
        second.number,
        third.number,
    }
    assert Case.objects.get(pk=first.pk).events.filter(action="accept").count() == 1


def test_batch_refuses_actions_that_need_reasons_and_empty_selections(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    page = reviewer_client.post(
        reverse("web:wb_batch"), {"action": "reject_intake", "numbers": [case.number]}, follow=True
    ).content.decode()
    assert "不能批量办理" in page
    page = reviewer_client.post(reverse("web:wb_batch"), {"action": "accept"}, follow=True).content.decode()
    assert "请至少选择一件办件" in page
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_batch_is_for_staff_and_a_clerk_sees_no_batch_form(citizen_client, clerk_client, item):
    case = _submit(citizen_client, item)
    assert (
        citizen_client.post(
            reverse("web:wb_batch"), {"action": "accept", "numbers": [case.number]}
        ).status_code
        == 403
    )
    assert "batch-form" not in clerk_client.get(reverse("web:workbench")).content.decode()


def test_case_page_previews_pdf_and_image_materials_inline(citizen_client, reviewer_client, item):
    case = _submit(citizen_client, item)
    page = reviewer_client.get(reverse("web:wb_case", args=[case.number])).content.decode()
    assert '<iframe class="preview__frame"' in page and '<img class="preview__image"' in page
    material = case.materials.get(content_type="application/pdf")
    response = reviewer_client.get(reverse("web:material", args=[case.number, material.pk]))
    assert response["X-Frame-Options"] == "SAMEORIGIN" and response["Content-Type"] == "application/pdf"
