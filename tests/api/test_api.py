import base64
import json
from pathlib import Path

import pytest

from tests import factories as f
from tongban.accounts.services import api_token_issue
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db
B64_PDF = base64.b64encode(f.PDF_BYTES).decode()


@pytest.fixture
def world(client):
    authority = f.organisation()
    item = f.item(authority)
    citizen = f.citizen()
    reviewer = f.staff(authority)
    return {
        "item": item,
        "citizen": citizen,
        "reviewer": reviewer,
        "citizen_auth": {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=citizen, name="t")},
        "reviewer_auth": {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=reviewer, name="t")},
    }


def post(client, url, body, auth):
    return client.post(url, data=json.dumps(body), content_type="application/json", **auth)


def submission(world, **extra):
    return {
        "item": world["item"].implementation_code,
        "form": f.VALID_FORM,
        "materials": [
            {"material": "sqs", "filename": "申请书.pdf", "content_base64": B64_PDF},
            {"material": "zc", "filename": "章程.pdf", "content_base64": B64_PDF},
        ],
        **extra,
    }


def test_healthz_answers_when_ready(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_submit_then_review_through_the_api(client, world):
    r = post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert r.json()["status"] == "submitted"
    r = post(client, f"/api/v1/cases/{number}/accept", {"note": ""}, world["reviewer_auth"])
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = post(
        client,
        f"/api/v1/cases/{number}/decision",
        {"approve": True, "reason": "符合条件"},
        world["reviewer_auth"],
    )
    assert r.json()["status"] == "approved"
    r = client.get(f"/api/v1/cases/{number}", **world["citizen_auth"])
    assert [e["action"] for e in r.json()["events"]] == ["submit", "accept", "approve"]
    assert "*" in r.json()["applicant_id_masked"]


def test_errors_are_problem_json_with_stable_code_and_chinese_title(client, world):
    r = post(client, "/api/v1/cases", submission(world, form={"capital": "很多"}), world["citizen_auth"])
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "FORM_INVALID" and "申请表" in body["title"]
    assert {e["field"] for e in body["errors"]} >= {"company_name", "capital"}
    assert Case.objects.count() == 0


def test_deciding_unaccepted_case_is_409(client, world):
    number = post(client, "/api/v1/cases", submission(world), world["citizen_auth"]).json()["number"]
    r = post(
        client, f"/api/v1/cases/{number}/decision", {"approve": True, "reason": "x"}, world["reviewer_auth"]
    )
    assert r.status_code == 409 and r.json()["code"] == "TRANSITION_NOT_ALLOWED"


def test_unknown_item_is_404(client, world):
    r = post(client, "/api/v1/cases", submission(world, item="nope"), world["citizen_auth"])
    assert r.status_code == 404 and r.json()["code"] == "ITEM_NOT_FOUND"


def test_wrong_upload_type_is_422(client, world):
    body = submission(world)
    body["materials"][0]["content_base64"] = base64.b64encode(b"GIF89a" + b"\0" * 100).decode()
    r = post(client, "/api/v1/cases", body, world["citizen_auth"])
    assert r.status_code == 422 and r.json()["code"] == "UPLOAD_TYPE_NOT_ALLOWED"


def test_no_token_is_401_problem(client, world):
    r = client.get("/api/v1/cases")
    assert r.status_code == 401 and r.json()["code"] == "NOT_AUTHENTICATED"


def test_malformed_body_is_422_problem(client, world):
    r = client.post(
        "/api/v1/cases", data="{not json", content_type="application/json", **world["citizen_auth"]
    )
    assert r.status_code in (400, 422)
    assert r["Content-Type"] == "application/problem+json"


def test_applicant_sees_only_own_cases(client, world):
    post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    other = f.citizen()
    auth = {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=other, name="t")}
    assert client.get("/api/v1/cases", **auth).json()["items"] == []
    assert len(client.get("/api/v1/cases", **world["citizen_auth"]).json()["items"]) == 1


def test_queue_is_paginated(client, world):
    for _ in range(3):
        post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    r = client.get("/api/v1/cases?page_size=2", **world["reviewer_auth"]).json()
    assert len(r["items"]) == 2 and r["has_next"] is True
    r = client.get("/api/v1/cases?page_size=2&page=2", **world["reviewer_auth"]).json()
    assert len(r["items"]) == 1 and r["has_next"] is False
    r = client.get("/api/v1/cases?page_size=1000", **world["reviewer_auth"])
    assert r.status_code == 422 and r.json()["code"] == "INVALID_PAGE"


def test_case_list_matches_its_documented_schema_and_the_detail(client, world):
    """The list is rendered without ninja's response validation: check it against the schema here."""
    from tongban.api.v1 import schemas

    number = post(client, "/api/v1/cases", submission(world), world["citizen_auth"]).json()["number"]
    detail = client.get(f"/api/v1/cases/{number}", **world["reviewer_auth"]).json()
    for auth in ("reviewer_auth", "citizen_auth"):
        r = client.get("/api/v1/cases", **world[auth])
        assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
        schemas.CasePage.model_validate(r.json())
        (row,) = r.json()["items"]
        # The detail is validated and rendered by ninja: the list's rows must read exactly the same.
        assert row == {k: detail[k] for k in schemas.CaseSummary.model_fields}


def test_a_submission_answers_its_documented_schema_and_the_detail(client, world):
    """The new case is rendered without ninja's response validation: check it here."""
    from tongban.api.v1 import schemas

    r = post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    assert r.status_code == 201 and r["Content-Type"] == "application/json; charset=utf-8"
    schemas.CaseDetailOut.model_validate(r.json())
    detail = client.get(f"/api/v1/cases/{r.json()['number']}", **world["citizen_auth"]).json()
    assert r.json() == detail and r.json()["events"] and r.json()["materials"]


def test_item_list_matches_its_documented_schema(client, world):
    from tongban.api.v1 import schemas

    r = client.get("/api/v1/items")
    schemas.ItemPage.model_validate(r.json())
    (row,) = r.json()["items"]
    detail = client.get(f"/api/v1/items/{world['item'].implementation_code}").json()
    assert row == {k: detail[k] for k in schemas.ItemSummary.model_fields}


def test_list_query_count_does_not_grow_with_the_page(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    client.get("/api/v1/cases", **world["reviewer_auth"])  # warm per-process caches
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/cases", **world["reviewer_auth"])
    for _ in range(3):
        post(client, "/api/v1/cases", submission(world), world["citizen_auth"])
    with CaptureQueriesContext(connection) as four:
        assert len(client.get("/api/v1/cases", **world["reviewer_auth"]).json()["items"]) == 4
    assert len(four) == len(one) == 1  # the token is cached; the page is one query


def test_token_is_looked_up_once_per_cache_period_and_revocation_takes_effect(client, world, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tongban.accounts.models import ApiToken
    from tongban.api.v1 import auth

    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    assert client.get("/api/v1/cases", **world["reviewer_auth"]).status_code == 200
    ApiToken.objects.filter(user=world["reviewer"]).update(revoked_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        # Within the cache period the process still knows the token (documented: a few seconds).
        assert client.get("/api/v1/cases", **world["reviewer_auth"]).status_code == 200
    assert not [q for q in queries if "accounts_apitoken" in q["sql"]]
    clock[0] += auth.TOKEN_CACHE_SECONDS + 0.1
    r = client.get("/api/v1/cases", **world["reviewer_auth"])
    assert r.status_code == 401 and r.json()["code"] == "NOT_AUTHENTICATED"


def test_deactivated_user_is_refused_once_the_cache_expires(client, world, monkeypatch):
    from tongban.api.v1 import auth

    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    assert client.get("/api/v1/cases", **world["citizen_auth"]).status_code == 200
    type(world["citizen"]).objects.filter(pk=world["citizen"].pk).update(is_active=False)
    clock[0] += auth.TOKEN_CACHE_SECONDS + 0.1
    assert client.get("/api/v1/cases", **world["citizen_auth"]).status_code == 401


def test_workdays_endpoint_and_malformed_date(client):
    r = client.get("/api/v1/workdays/add?start=2026-09-28&days=5")
    assert r.json()["date"] == "2026-10-10" and r.json()["provisional"] is False
    r = client.get("/api/v1/workdays/add?start=2026-13-01&days=5")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_DATE"


def test_token_endpoint_and_lockout(client, world, settings):
    settings.LOGIN_MAX_FAILURES = 2
    r = post(
        client, "/api/v1/auth/token", {"username": world["citizen"].username, "password": "Tongban-2026!"}, {}
    )
    assert r.status_code == 201 and r.json()["token"].startswith("tb_")
    for _ in range(2):
        r = post(client, "/api/v1/auth/token", {"username": world["citizen"].username, "password": "bad"}, {})
        assert r.status_code == 401 and r.json()["code"] == "BAD_CREDENTIALS"
    r = post(
        client, "/api/v1/auth/token", {"username": world["citizen"].username, "password": "Tongban-2026!"}, {}
    )
    assert r.status_code == 403 and r.json()["code"] == "ACCOUNT_LOCKED"


def test_committed_openapi_matches_the_code(client):
    served = client.get("/api/v1/openapi.json").json()
    committed = json.loads((Path(__file__).resolve().parents[2] / "docs/api/openapi.json").read_text())
    assert served == committed, "API changed: run `tongban api schema > docs/api/openapi.json` and commit it"
