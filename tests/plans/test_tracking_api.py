"""Tracking through the API: a unit reports, the office returns and accepts, lights, indicators,
the assessment and the dashboard as JSON; errors as problem+json with stable codes."""

from __future__ import annotations

import pytest

from tests.plans.tracking_fixtures import tracking_world
from tongban.accounts.services import api_token_issue
from tongban.plans import reporting

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def h(user):
    return {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=user, name="t")}


def test_report_return_resubmit_accept_through_the_api(w, client):
    period = reporting.period_reporting_now(w["plan"]).key
    sci = h(w["reporters"]["sci"])
    body = {
        "task": 2,
        "period": period,
        "status": "in_progress",
        "progress": 150,
        "narrative": "进展顺利推进中",
    }
    bad = client.post("/api/v1/plans/hf-test/reports", body, content_type="application/json", **sci)
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["code"] == "PLAN_REPORT_INVALID"
    body["progress"] = 60
    created = client.post("/api/v1/plans/hf-test/reports", body, content_type="application/json", **sci)
    assert created.status_code == 201
    report = created.json()
    assert (
        report["state"] == "submitted"
        and report["version"] == 1
        and report["history"][0]["action"] == "submit"
    )
    office = h(w["office"])
    queue = client.get("/api/v1/plans/hf-test/review", **office).json()
    assert [r["id"] for r in queue] == [report["id"]]
    assert client.get("/api/v1/plans/hf-test/review", **sci).status_code == 403
    returned = client.post(
        f"/api/v1/plans/hf-test/reports/{report['id']}/return",
        {"reason": "请补充"},
        content_type="application/json",
        **office,
    )
    assert returned.json()["state"] == "returned"
    again = client.post("/api/v1/plans/hf-test/reports", body, content_type="application/json", **sci)
    assert again.json()["version"] == 2
    accepted = client.post(
        f"/api/v1/plans/hf-test/reports/{report['id']}/accept",
        {"reason": ""},
        content_type="application/json",
        **office,
    )
    assert accepted.json()["state"] == "accepted"
    assert [e["action"] for e in accepted.json()["history"]] == ["submit", "return", "resubmit", "accept"]
    again = client.post(
        f"/api/v1/plans/hf-test/reports/{report['id']}/accept", {}, content_type="application/json", **office
    )
    assert again.status_code == 409 and again.json()["code"] == "PLAN_REVIEW_STATE"
    other = client.get(f"/api/v1/plans/hf-test/reports/{report['id']}", **h(w["reporters"]["data"]))
    assert other.status_code == 404


def test_lights_dashboard_indicators_and_assessment_as_json(w, client):
    office = h(w["office"])
    lights = client.get("/api/v1/plans/hf-test/lights", **office).json()
    assert {t["number"] for t in lights["tasks"]} == {1, 2, 3, 4, 5, 6} and lights["rule_text"]
    dash = client.get("/api/v1/plans/hf-test/dashboard", **office).json()
    assert {x["key"] for x in dash["live"]} == {
        "cross_province_items",
        "recognised_certificate_types",
        "cross_city_cases",
        "enterprise_opening_workdays",
    }
    ind = w["indicators"]["rd"].pk
    for value, day in (("2.8", "2019-12-31"), ("3.1", "2022-12-31")):
        r = client.post(
            f"/api/v1/plans/hf-test/indicators/{ind}/observations",
            {"value": value, "observed_on": day, "source": "统计公报"},
            content_type="application/json",
            **office,
        )
        assert r.status_code == 201
    data = client.get(f"/api/v1/plans/hf-test/indicators/{ind}", **office).json()
    assert data["status"] == "on_track" and len(data["observations"]) == 2
    assert client.get("/api/v1/plans/hf-test/assessment", **office).status_code == 404
    run = client.post(
        "/api/v1/plans/hf-test/assessment", {"year": 2025}, content_type="application/json", **office
    )
    assert run.status_code == 201 and run.json()["scores"][0]["explanation"].count("=") >= 3
    assert client.get("/api/v1/plans/hf-test/assessment?year=2025", **office).json()["year"] == 2025
    assert client.get("/api/v1/plans/hf-test/dashboard", **h(w["reporters"]["sci"])).status_code == 403
    assert client.get("/api/v1/plans/hf-test/dashboard").status_code == 401
