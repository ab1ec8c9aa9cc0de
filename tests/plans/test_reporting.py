"""Reporting: periods and their due dates in working days, a unit's report with evidence files, the
office's return and acceptance, the history of every change, reminders and overdue marks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f
from tests.plans.tracking_fixtures import at, build_plan, tracking_world
from tongban.core import workdays
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEntry
from tongban.notifications.models import Notification
from tongban.plans import error_codes as codes
from tongban.plans import reporting, tasks
from tongban.plans.constants import ReportAction, ReportingFrequency, ReportState, TaskStatus
from tongban.plans.models import ReportAttachment, ReportingPeriod, TaskReport, TaskReportEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def period(w, key):
    return reporting.period_get(plan=w["plan"], key=key)


def submit(w, unit="sci", task=1, key="2024-09", now=None, **kw):
    data = {
        "status": TaskStatus.IN_PROGRESS,
        "progress": 40,
        "narrative": "联合研究基金已设立，完成首批立项。",
    }
    data.update(kw)
    return reporting.report_save(
        actor=w["reporters"][unit],
        task=w["tasks"][task],
        organisation_id=w["units"][unit].pk,
        period=period(w, key),
        submit=data.pop("submit", True),
        now=now or at("2024-10-09"),
        **data,
    )


# --- Periods ----------------------------------------------------------------------------------------


def test_monthly_periods_cover_the_plan_and_are_due_five_working_days_after_they_end(w):
    assert reporting.periods_ensure(plan=w["plan"]) == 36
    assert reporting.periods_ensure(plan=w["plan"]) == 0  # safe to call again
    sept = period(w, "2024-09")
    assert sept.label == "2024年9月" and sept.ends_on == dt.date(2024, 9, 30)
    # National Day 1–7 October 2024 are days off, Saturday 12 October a make-up workday (调休).
    assert sept.due_on == dt.date(2024, 10, 12)
    assert sept.due_on == workdays.add_workdays(dt.date(2024, 9, 30), 5).date
    assert not sept.due_provisional


def test_quarterly_periods_and_provisional_due_dates_beyond_the_known_calendar(w):
    plan = build_plan(code="q-plan", frequency=ReportingFrequency.QUARTERLY, start=2026, end=2027)["plan"]
    reporting.periods_ensure(plan=plan)
    keys = list(ReportingPeriod.objects.filter(plan=plan).values_list("key", flat=True))
    assert keys == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    q4 = ReportingPeriod.objects.get(plan=plan, key="2026-Q4")
    assert q4.label == "2026年第4季度" and q4.ends_on == dt.date(2026, 12, 31)
    # Its due date lies in 2027, whose holiday schedule is not published: provisional.
    assert q4.due_provisional is (not workdays.is_known_year(2027))


def test_the_office_sets_the_due_working_days_and_only_future_periods_move(w):
    reporting.periods_ensure(plan=w["plan"])
    old = period(w, "2024-09").due_on
    with pytest.raises(Forbidden):
        reporting.schedule_set(
            actor=w["reporters"]["sci"], plan=w["plan"], due_workdays=10, remind_workdays=2
        )
    with pytest.raises(InvalidInput) as exc:
        reporting.schedule_set(actor=w["office"], plan=w["plan"], due_workdays=-1, remind_workdays=2)
    assert exc.value.code == codes.SETTINGS_INVALID
    reporting.schedule_set(actor=w["office"], plan=w["plan"], due_workdays=10, remind_workdays=3)
    assert period(w, "2024-09").due_on == old  # in the past: unchanged
    dec = period(w, "2026-12")
    assert dec.due_on == workdays.add_workdays(dt.date(2026, 12, 31), 10).date
    assert reporting.schedule_of(w["plan"]) == (10, 3)


# --- Submitting -------------------------------------------------------------------------------------


def test_a_unit_submits_on_time_with_evidence_and_the_file_is_placed_after_commit(
    w, django_capture_on_commit_callbacks
):
    evidence = SimpleUploadedFile("联合基金协议.pdf", f.PDF_BYTES, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(w, files=[evidence])
    assert report.state == ReportState.SUBMITTED and report.version == 1
    assert report.on_time is True and report.submitted_by == w["reporters"]["sci"]
    attachment = ReportAttachment.objects.get(report=report)
    assert attachment.original_name == "联合基金协议.pdf" and attachment.content_type == "application/pdf"
    assert attachment.version == 1
    path = Path(dj_settings.MEDIA_ROOT) / attachment.file.name
    assert path.read_bytes() == f.PDF_BYTES
    assert "联合基金协议" not in attachment.file.name  # never the uploader's name on disk
    event = TaskReportEvent.objects.get(report=report)
    assert event.action == ReportAction.SUBMIT and event.to_state == ReportState.SUBMITTED
    assert event.snapshot["progress"] == 40 and event.snapshot["attachments"][0]["name"] == "联合基金协议.pdf"
    assert AuditEntry.objects.filter(action="plans.report_submit").count() == 1


def test_a_report_sent_after_its_due_date_is_late(w):
    report = submit(w, now=at("2024-10-14"))  # due 2024-10-12
    assert report.on_time is False


def test_a_draft_is_saved_then_submitted(w):
    draft = submit(w, submit=False, narrative="")
    assert draft.state == ReportState.DRAFT and draft.version == 0 and draft.on_time is None
    report = submit(w)
    assert report.pk == draft.pk and report.state == ReportState.SUBMITTED
    assert list(report.events.values_list("action", flat=True)) == [ReportAction.SAVE, ReportAction.SUBMIT]


def test_only_the_units_own_reporter_reports_on_tasks_it_is_responsible_for(w):
    with pytest.raises(Forbidden):  # another unit's reporter
        reporting.report_save(
            actor=w["reporters"]["data"],
            task=w["tasks"][1],
            organisation_id=w["units"]["sci"].pk,
            period=period(w, "2024-09"),
            status="in_progress",
            progress=10,
            narrative="进展顺利推进中",
            submit=True,
        )
    with pytest.raises(Forbidden) as exc:  # its own reporter, a task it is not responsible for
        submit(w, unit="data", task=1)
    assert exc.value.code == codes.TASK_NOT_ASSIGNED
    with pytest.raises(Forbidden):  # the office reviews, it does not report
        reporting.report_save(
            actor=w["office"],
            task=w["tasks"][1],
            organisation_id=w["units"]["sci"].pk,
            period=period(w, "2024-09"),
            status="in_progress",
            progress=10,
            narrative="进展顺利推进中",
        )
    assert not TaskReport.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"progress": 120}, "progress"),
        ({"status": "unknown"}, "status"),
        ({"status": TaskStatus.DONE, "progress": 80}, "progress"),
        ({"narrative": ""}, "narrative"),
    ],
)
def test_bad_content_is_refused_with_the_field_and_nothing_is_written(w, changes, field):
    with pytest.raises(InvalidInput) as exc:
        submit(w, **changes)
    assert exc.value.code == codes.REPORT_INVALID
    assert field in [e.field for e in exc.value.errors]
    assert not TaskReport.objects.exists() and not TaskReportEvent.objects.exists()


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_written(
    w, django_capture_on_commit_callbacks
):
    fake = SimpleUploadedFile("证明.pdf", b"just some text, not a PDF at all", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput) as exc:
        submit(w, files=[fake])
    assert exc.value.code == codes.ATTACHMENT_TYPE
    assert not TaskReport.objects.exists()
    media = Path(dj_settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_closed_or_future_period_takes_no_report(w):
    reporting.period_close(actor=w["office"], period=period(w, "2024-09"))
    with pytest.raises(Conflict) as exc:
        submit(w)
    assert exc.value.code == codes.PERIOD_NOT_OPEN
    with pytest.raises(Conflict):
        submit(w, key="2026-12", now=at("2026-11-01"))


# --- Review -----------------------------------------------------------------------------------------


def test_return_resubmit_accept_keeps_every_version_in_the_history(w):
    report = submit(w)
    with pytest.raises(Forbidden):
        reporting.report_return(actor=w["reporters"]["sci"], report_id=report.pk, reason="不够具体")
    with pytest.raises(InvalidInput) as exc:
        reporting.report_return(actor=w["office"], report_id=report.pk, reason=" ")
    assert exc.value.code == codes.RETURN_REASON_REQUIRED
    returned = reporting.report_return(
        actor=w["office"], report_id=report.pk, reason="请补充基金规模和立项数量", now=at("2024-10-10")
    )
    assert returned.state == ReportState.RETURNED and returned.times_returned == 1
    note = Notification.objects.get(user=w["reporters"]["sci"])
    assert "退回" in note.title and "请补充基金规模和立项数量" in note.body
    again = submit(w, narrative="基金规模 2 亿元，首批立项 12 项。", progress=45, now=at("2024-10-20"))
    assert again.version == 2 and again.state == ReportState.SUBMITTED
    assert again.on_time is True  # timeliness is the first submission's; the return counts for quality
    with pytest.raises(Conflict) as exc:
        submit(w, progress=50)
    assert exc.value.code == codes.REPORT_LOCKED
    accepted = reporting.report_accept(actor=w["office"], report_id=report.pk, note="内容完整")
    assert accepted.state == ReportState.ACCEPTED and accepted.reviewed_by == w["office"]
    with pytest.raises(Conflict) as exc:
        reporting.report_accept(actor=w["office"], report_id=report.pk)
    assert exc.value.code == codes.REVIEW_STATE
    history = reporting.report_history(accepted)
    assert [e.action for e in history] == ["submit", "return", "resubmit", "accept"]
    assert [e.version for e in history] == [1, 1, 2, 2]
    assert history[0].snapshot["progress"] == 40 and history[2].snapshot["progress"] == 45
    assert history[1].note == "请补充基金规模和立项数量" and history[1].actor == w["office"]


def test_the_review_queue_and_who_may_read_a_report(w):
    r1 = submit(w, now=at("2024-10-08"))
    r2 = submit(w, unit="data", task=4, now=at("2024-10-09"))
    queue = list(reporting.review_queue(user=w["office"], plan=w["plan"]))
    assert queue == [r1, r2]
    with pytest.raises(Forbidden):
        reporting.review_queue(user=w["reporters"]["sci"], plan=w["plan"])
    assert reporting.report_get(user=w["supervisor"], report_id=r1.pk) == r1
    assert reporting.report_get(user=w["reporters"]["sci"], report_id=r1.pk) == r1
    with pytest.raises(Exception) as exc:
        reporting.report_get(user=w["reporters"]["sci"], report_id=r2.pk)
    assert getattr(exc.value, "code", "") == codes.REPORT_NOT_FOUND


# --- Reminders and overdue marks --------------------------------------------------------------------


def test_reminders_go_to_units_with_reports_missing_and_only_once(w):
    reporting.periods_ensure(plan=w["plan"])
    oct_ = period(w, "2026-10")  # due 5 working days after 31 October 2026
    submit(w, unit="sci", task=1, key="2026-10", now=at("2026-11-02"))
    submit(w, unit="sci", task=2, key="2026-10", now=at("2026-11-02"))
    submit(w, unit="sci", task=3, key="2026-10", now=at("2026-11-02"))
    day = oct_.due_on - dt.timedelta(days=1)
    while workdays.workdays_between(day, oct_.due_on) > 2:
        day += dt.timedelta(days=1)
    sent = tasks.reminders_send(on=day)
    reminded = set(Notification.objects.values_list("user_id", flat=True))
    assert reminded == {w["reporters"]["dev"].pk, w["reporters"]["data"].pk}  # sci has sent everything
    assert sent == 2
    assert tasks.reminders_send(on=day) == 0
    assert "还有" in Notification.objects.filter(user=w["reporters"]["data"]).first().body


def test_overdue_marks_only_the_latest_due_period_and_are_idempotent(w):
    reporting.periods_ensure(plan=w["plan"])
    on = dt.date(2026, 11, 20)
    n = tasks.overdue_mark(on=on)
    assert n == 3  # every unit has something missing for October 2026
    assert not ReportingPeriod.objects.filter(
        plan=w["plan"], due_on__lt=on, overdue_marked_at__isnull=True
    ).exists()
    assert Notification.objects.filter(title__contains="2026年10月").count() == 3
    assert tasks.overdue_mark(on=on) == 0
