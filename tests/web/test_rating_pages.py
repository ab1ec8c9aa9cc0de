"""好差评 on the case page: offered once the case is finished, errors kept next to the fields."""

from __future__ import annotations

import uuid

from django.urls import reverse

from tests.web.conftest import application_post
from tongban.cases import services as svc
from tongban.cases.models import Case, CaseRating


def _finished(citizen, citizen_client, item, reviewer) -> Case:
    citizen_client.post(
        reverse("web:apply", args=[item.implementation_code]), application_post(uuid.uuid4().hex)
    )
    case = Case.objects.get(applicant=citizen)
    svc.case_accept(actor=reviewer, number=case.number)
    svc.case_decide(actor=reviewer, number=case.number, approve=False, reason="不符合条件")
    return case


def test_rating_form_appears_only_when_finished_and_is_taken_once(citizen, citizen_client, item, reviewer):
    citizen_client.post(
        reverse("web:apply", args=[item.implementation_code]), application_post(uuid.uuid4().hex)
    )
    case = Case.objects.get(applicant=citizen)
    page = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "提交评价" not in page
    svc.case_accept(actor=reviewer, number=case.number)
    svc.case_decide(actor=reviewer, number=case.number, approve=True, reason="")
    svc.case_issue(actor=reviewer, number=case.number)
    page = citizen_client.get(reverse("web:case", args=[case.number])).content.decode()
    assert "提交评价" in page and "非常满意" in page
    response = citizen_client.post(
        reverse("web:case_rate", args=[case.number]), {"score": "5", "reasons": ["fast"], "comment": "很快"}
    )
    assert response.status_code == 302
    page = citizen_client.get(response["Location"]).content.decode()
    assert "您的评价：5 星（非常满意）" in page and "办理速度快" in page and "提交评价" not in page
    assert CaseRating.objects.get(case=case).comment == "很快"


def test_a_bad_rating_without_reason_is_refused_at_the_field_keeping_the_comment(
    citizen, citizen_client, item, reviewer
):
    case = _finished(citizen, citizen_client, item, reviewer)
    response = citizen_client.post(
        reverse("web:case_rate", args=[case.number]), {"score": "1", "comment": "跑了三次"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "差评请至少选择一项理由" in page and "跑了三次" in page
    assert not CaseRating.objects.exists()


def test_the_case_api_takes_a_rating(citizen, item, reviewer, citizen_client):
    from tongban.accounts.services import api_token_issue

    case = _finished(citizen, citizen_client, item, reviewer)
    token = api_token_issue(user=citizen, name="t")
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/cases/{case.number}/rating"
    bad = api.post(url, {"score": 2, "reasons": []}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "RATING_INVALID"
    ok = api.post(url, {"score": 2, "reasons": ["slow"], "comment": ""}, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["score_label"] == "不满意"
    again = api.post(url, {"score": 5}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "RATING_ALREADY_GIVEN"
