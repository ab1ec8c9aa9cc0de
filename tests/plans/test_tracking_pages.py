"""Tracking pages: the dashboard (with its chart's table alternative), a unit's report form with
evidence, review, indicators, assessment and the ledger's export and import with row errors."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories as f
from tests.plans.test_ledger import GOOD, fill
from tests.plans.tracking_fixtures import tracking_world
from tongban.plans import reporting
from tongban.plans.constants import ReportState
from tongban.plans.models import IndicatorObservation, TaskReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def as_user(client, user):
    client.force_login(user)
    return client


def test_the_dashboard_for_the_office_and_not_for_a_reporter(w, client):
    page = as_user(client, w["office"]).get(reverse("web:plan_dashboard", args=["hf-test"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "督办看板" in html and "科创一体化" in html and "“跨省通办”事项" in html
    assert 'id="area-chart-data"' in html and "echarts.min.js" in html and 'id="areas"' in html
    client.force_login(w["reporters"]["sci"])
    assert client.get(reverse("web:plan_dashboard", args=["hf-test"])).status_code == 403
    assert client.get(reverse("web:plan_dashboard", args=["nope"])).status_code == 404


def test_a_reporter_fills_in_submits_with_evidence_and_the_office_returns_it(
    w, client, django_capture_on_commit_callbacks
):
    period = reporting.period_reporting_now(w["plan"])
    c = as_user(client, w["reporters"]["sci"])
    listing = c.get(reverse("web:plan_reports", args=["hf-test"]))
    assert listing.status_code == 200 and "（2）" in listing.content.decode()
    url = reverse("web:plan_report", args=["hf-test", 2]) + f"?period={period.key}"
    bad = c.post(
        url, {"status": "in_progress", "progress": "150", "narrative": "进展说明内容", "submit": "1"}
    )
    assert bad.status_code == 422 and "0 至 100" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = c.post(
            url,
            {
                "status": "in_progress",
                "progress": "60",
                "narrative": "实验室方案已上报。",
                "submit": "1",
                "attachments": SimpleUploadedFile("方案.pdf", f.PDF_BYTES, content_type="application/pdf"),
            },
        )
    assert ok.status_code == 302
    report = TaskReport.objects.get()
    assert report.state == ReportState.SUBMITTED and report.attachments.count() == 1
    office = as_user(client, w["office"])
    queue = office.get(reverse("web:plan_review", args=["hf-test"]))
    assert "实验室" in queue.content.decode() or "（2）" in queue.content.decode()
    review_url = reverse("web:plan_review_report", args=["hf-test", report.pk])
    assert "方案.pdf" in office.get(review_url).content.decode()
    download = office.get(
        reverse("web:plan_attachment", args=["hf-test", report.pk, report.attachments.get().pk])
    )
    assert b"".join(download.streaming_content) == f.PDF_BYTES
    assert office.post(review_url, {"decision": "return", "reason": ""}).status_code == 422
    assert office.post(review_url, {"decision": "return", "reason": "请补充选址"}).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.RETURNED
    page = as_user(client, w["reporters"]["sci"]).get(url).content.decode()
    assert "请补充选址" in page and "退回" in page


def test_indicator_page_chart_table_and_recording(w, client):
    ind = w["indicators"]["rd"]
    c = as_user(client, w["office"])
    url = reverse("web:plan_indicator", args=["hf-test", ind.pk])
    assert c.post(url, {"value": "abc", "observed_on": "2024-01-01", "source": "公报"}).status_code == 422
    assert c.post(url, {"value": "2.8", "observed_on": "2019-12-31", "source": "统计公报"}).status_code == 302
    html = c.get(url).content.decode()
    assert IndicatorObservation.objects.count() == 1
    assert 'id="indicator-chart-data"' in html and "2019-12-31" in html and "统计公报" in html
    assert "2025年不低于 3.4%" in html
    assert c.get(reverse("web:plan_indicators", args=["hf-test"])).status_code == 200


def test_assessment_page_runs_and_shows_the_formula(w, client):
    c = as_user(client, w["office"])
    url = reverse("web:plan_assessment", args=["hf-test"])
    assert c.post(url, {"year": "2024"}).status_code == 302
    html = c.get(url).content.decode()
    assert "合肥市科学技术局" in html and "得分 = 100" in html


def test_ledger_export_and_import_with_errors_by_row_and_column(w, client):
    c = as_user(client, w["reporters"]["sci"])
    response = c.get(reverse("web:plan_ledger_export", args=["hf-test"]) + "?period=2024-09")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = response.content
    assert load_workbook(io.BytesIO(content))["台账"].cell(row=3, column=7).value == "合肥市科学技术局"
    url = reverse("web:plan_ledger_import", args=["hf-test"])
    bad = fill(content, {1: ("进行中", 30, "状态写错了的一行。")})
    page = c.post(url, {"file": SimpleUploadedFile("台账.xlsx", bad)})
    assert page.status_code == 422
    html = page.content.decode()
    assert 'id="ledger-errors"' in html and "Q（本期状态）" in html
    assert not TaskReport.objects.exists()
    page = c.post(url, {"file": SimpleUploadedFile("台账.xlsx", fill(content, GOOD))})
    assert page.status_code == 200 and TaskReport.objects.count() == 3
