"""Reporting (进展报送): periods with due dates in working days, a unit's report on a task for a
period, its evidence files, and the office's review (return or accept).

A report moves only through these functions, each one transaction that checks access, writes the
report, one ``TaskReportEvent`` with a snapshot of what the report said, and one audit entry; files
are staged and put in place after the commit (``tongban.exchange.files``), and notifications go in
the same transaction. States: 草稿 → 已报送 → 已审核 | 已退回 → (重新报送) 已报送 → …

The due date of a period is ``PlanSchedule.due_workdays`` working days (State Council schedule,
``tongban.core.workdays``) after the period ends; it is marked provisional when it falls in a year
whose holiday schedule is not published yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit, workdays
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from tongban.exchange import files as staged_files
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import (
    ATTACHMENT_MIME,
    DEFAULT_DUE_WORKDAYS,
    DEFAULT_REMIND_WORKDAYS,
    EDITABLE_STATES,
    ReportAction,
    ReportingFrequency,
    ReportState,
    TaskStatus,
)
from tongban.plans.models import (
    Plan,
    PlanSchedule,
    PlanTask,
    ReportAttachment,
    ReportingPeriod,
    TaskAssignment,
    TaskReport,
    TaskReportEvent,
)

NARRATIVE_MAX = 4000
MAX_ATTACHMENTS_PER_SUBMISSION = 10


def today() -> dt.date:
    return timezone.localdate()


def _label(user) -> str:
    return (getattr(user, "real_name", "") or getattr(user, "username", "")) if user else "系统"


# --- Periods --------------------------------------------------------------------------------------


def schedule_of(plan: Plan) -> tuple[int, int]:
    """(due working days after a period ends, reminder working days before the due date)."""
    row = PlanSchedule.objects.filter(plan=plan).values_list("due_workdays", "remind_workdays").first()
    return row if row else (DEFAULT_DUE_WORKDAYS, DEFAULT_REMIND_WORKDAYS)


def _period_bounds(plan: Plan) -> list[tuple[int, int, str, str, dt.date, dt.date]]:
    out = []
    for year in range(plan.start_year, plan.end_year + 1):
        if plan.frequency == ReportingFrequency.MONTHLY:
            for m in range(1, 13):
                start = dt.date(year, m, 1)
                end = (dt.date(year + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)
                out.append((year, m, f"{year}-{m:02d}", f"{year}年{m}月", start, end))
        else:
            for q in range(1, 5):
                start = dt.date(year, 3 * q - 2, 1)
                end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
                out.append((year, q, f"{year}-Q{q}", f"{year}年第{q}季度", start, end))
    return out


def periods_ensure(*, plan: Plan) -> int:
    """Creates the plan's reporting periods (every month or quarter from its start year to its target
    year) that do not exist yet; returns how many were created. Safe to call again."""
    due_days, _remind = schedule_of(plan)
    existing = set(ReportingPeriod.objects.filter(plan=plan).values_list("key", flat=True))
    rows = []
    for year, seq, key, label, start, end in _period_bounds(plan):
        if key in existing:
            continue
        due = workdays.add_workdays(end, due_days)
        rows.append(
            ReportingPeriod(
                plan=plan,
                year=year,
                seq=seq,
                key=key,
                label=label,
                starts_on=start,
                ends_on=end,
                due_on=due.date,
                due_provisional=due.provisional,
            )
        )
    if rows:
        ReportingPeriod.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def schedule_set(*, actor, plan: Plan, due_workdays: int, remind_workdays: int) -> PlanSchedule:
    """Sets when the plan's reports are due; the due dates of periods not yet due are recomputed."""
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以设置报送期限。"))
    errors = []
    for name, value, top in (("due_workdays", due_workdays, 60), ("remind_workdays", remind_workdays, 20)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            errors.append(
                FieldError(name, _("应为 0 至 %(top)d 之间的整数。") % {"top": top}, codes.SETTINGS_INVALID)
            )
    if errors:
        raise InvalidInput(codes.SETTINGS_INVALID, _("报送期限设置不正确。"), errors=errors)
    with transaction.atomic():
        row, _created = PlanSchedule.objects.update_or_create(
            plan=plan,
            defaults={"due_workdays": due_workdays, "remind_workdays": remind_workdays, "updated_by": actor},
        )
        periods_ensure(plan=plan)
        changed = 0
        for period in ReportingPeriod.objects.filter(plan=plan, due_on__gte=today()):
            due = workdays.add_workdays(period.ends_on, due_workdays)
            if (period.due_on, period.due_provisional) != (due.date, due.provisional):
                period.due_on, period.due_provisional = due.date, due.provisional
                period.save(update_fields=["due_on", "due_provisional"])
                changed += 1
        audit.record(
            actor=actor,
            action="plans.schedule_set",
            target=plan,
            data={
                "due_workdays": due_workdays,
                "remind_workdays": remind_workdays,
                "periods_changed": changed,
            },
        )
    return row


def period_get(*, plan: Plan, key: str) -> ReportingPeriod:
    periods_ensure(plan=plan)
    period = ReportingPeriod.objects.filter(plan=plan, key=key).first()
    if period is None:
        raise NotFound(codes.PERIOD_NOT_FOUND, _("报送期“%(key)s”不存在。") % {"key": key})
    return period


def period_is_open(period: ReportingPeriod, *, on: dt.date | None = None) -> bool:
    """Reports are taken from the first day of a period until the office closes it (late ones are
    taken too, and counted late)."""
    return period.closed_at is None and period.starts_on <= (on or today())


def period_reporting_now(plan: Plan, *, on: dt.date | None = None) -> ReportingPeriod | None:
    """The period units are reporting on now: the most recent one that has ended, or (before the
    first one ends) the first."""
    on = on or today()
    periods_ensure(plan=plan)
    qs = ReportingPeriod.objects.filter(plan=plan)
    return qs.filter(ends_on__lt=on).order_by("-ends_on").first() or qs.order_by("starts_on").first()


def period_close(*, actor, period: ReportingPeriod) -> ReportingPeriod:
    """The office closes a period: no more reports or changes for it."""
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以关闭报送期。"))
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.closed_at is None:
            period.closed_at = timezone.now()
            period.save(update_fields=["closed_at"])
            audit.record(actor=actor, action="plans.period_close", target=period, data={"key": period.key})
    return period


# --- Attachments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    file: object  # an UploadedFile
    name: str
    content_type: str
    size: int
    sha256: str


def attachment_check(upload, *, field: str = "attachments") -> CheckedFile:
    """Judges an evidence file by its content (PDF, JPEG, PNG, Word or Excel) and size."""
    name = (getattr(upload, "name", "") or "file")[:255]
    size = upload.size or 0
    if size == 0:
        msg = _("文件“%(name)s”是空的。") % {"name": name}
        raise InvalidInput(
            codes.ATTACHMENT_EMPTY, msg, errors=[FieldError(field, msg, codes.ATTACHMENT_EMPTY)]
        )
    if size > settings.UPLOAD_MAX_BYTES:
        msg = _("文件“%(name)s”超过 %(mb)d MB 的大小限制。") % {
            "name": name,
            "mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        }
        raise InvalidInput(
            codes.ATTACHMENT_TOO_LARGE, msg, errors=[FieldError(field, msg, codes.ATTACHMENT_TOO_LARGE)]
        )
    digest, head = hashlib.sha256(), b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime not in ATTACHMENT_MIME:
        msg = _("文件“%(name)s”的内容不是允许的类型（PDF、JPEG、PNG、Word、Excel）。") % {"name": name}
        raise InvalidInput(codes.ATTACHMENT_TYPE, msg, errors=[FieldError(field, msg, codes.ATTACHMENT_TYPE)])
    return CheckedFile(file=upload, name=name, content_type=mime, size=size, sha256=digest.hexdigest())


# --- A unit's report ------------------------------------------------------------------------------


def content_errors(*, status: str, progress, narrative: str, submitting: bool) -> list[FieldError]:
    """What is wrong with a report's content (shared by the form, the API and the ledger import)."""
    errors = []
    if status not in TaskStatus.values:
        labels = "、".join(str(label) for label in TaskStatus.labels)
        errors.append(
            FieldError(
                "status", _("推进状态应为以下之一：%(labels)s。") % {"labels": labels}, codes.REPORT_INVALID
            )
        )
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        errors.append(FieldError("progress", _("进度应为 0 至 100 之间的整数。"), codes.REPORT_INVALID))
    elif status == TaskStatus.DONE and progress != 100:
        errors.append(FieldError("progress", _("状态为“已完成”时进度应为 100。"), codes.REPORT_INVALID))
    elif status == TaskStatus.NOT_STARTED and progress != 0:
        errors.append(FieldError("progress", _("状态为“未启动”时进度应为 0。"), codes.REPORT_INVALID))
    narrative = narrative or ""
    if len(narrative) > NARRATIVE_MAX:
        errors.append(
            FieldError(
                "narrative", _("进展情况不超过 %(n)d 字。") % {"n": NARRATIVE_MAX}, codes.REPORT_INVALID
            )
        )
    elif submitting and len(narrative.strip()) < 5 and status != TaskStatus.NOT_STARTED:
        errors.append(FieldError("narrative", _("请填写进展情况（至少 5 个字）。"), codes.REPORT_INVALID))
    return errors


def task_of(*, plan: Plan, number: int) -> PlanTask:
    task = PlanTask.objects.filter(plan=plan, number=number, removed_at__isnull=True).first()
    if task is None:
        raise NotFound(codes.TASK_NOT_FOUND, _("方案中没有第 %(n)s 项任务。") % {"n": number})
    return task


def _check_reporter(actor, task: PlanTask, organisation_id: int) -> None:
    if not access.can_report_for(actor, organisation_id):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("您不能代该单位报送。"))
    if task.removed_at is not None:
        raise Conflict(codes.TASK_NOT_FOUND, _("该任务已移出方案，不再报送。"))
    if not TaskAssignment.objects.filter(task=task, organisation_id=organisation_id).exists():
        raise Forbidden(codes.TASK_NOT_ASSIGNED, _("该单位不是此项任务的责任单位。"))


def _snapshot(report: TaskReport, attachments: Iterable[ReportAttachment] = ()) -> dict:
    return {
        "status": report.status,
        "progress": report.progress,
        "narrative": report.narrative,
        "attachments": [{"name": a.original_name, "sha256": a.sha256, "size": a.size} for a in attachments],
    }


def _event(report, action, from_state, actor, *, note="", attachments=(), now=None) -> TaskReportEvent:
    return TaskReportEvent.objects.create(
        report=report,
        action=action,
        from_state=from_state,
        to_state=report.state,
        version=report.version,
        actor=actor,
        actor_label=_label(actor)[:150],
        note=note,
        snapshot=_snapshot(report, attachments),
        at=now or timezone.now(),
    )


def report_save(
    *,
    actor,
    task: PlanTask,
    organisation_id: int,
    period: ReportingPeriod,
    status: str,
    progress: int,
    narrative: str = "",
    files: Iterable = (),
    submit: bool = False,
    now: dt.datetime | None = None,
) -> TaskReport:
    """Saves a unit's report on ``task`` for ``period`` as a draft or, with ``submit``, sends it to
    the office (a returned report is sent again). Evidence ``files`` are added to the report.
    ``now`` is for loading past reports (demo, tests); callers acting for people leave it out."""
    now = now or timezone.now()
    _check_reporter(actor, task, organisation_id)
    if task.plan_id != period.plan_id:
        raise NotFound(codes.PERIOD_NOT_FOUND, _("报送期不属于该方案。"))
    if not period_is_open(period, on=timezone.localtime(now).date()):
        raise Conflict(
            codes.PERIOD_NOT_OPEN, _("报送期“%(label)s”未开始或已关闭。") % {"label": period.label}
        )
    errors = content_errors(status=status, progress=progress, narrative=narrative, submitting=submit)
    if errors:
        raise InvalidInput(codes.REPORT_INVALID, errors[0].message, errors=errors)
    checked = [attachment_check(f, field="attachments") for f in files]
    if len(checked) > MAX_ATTACHMENTS_PER_SUBMISSION:
        raise InvalidInput(
            codes.REPORT_INVALID,
            _("每次最多上传 %(n)d 个佐证材料。") % {"n": MAX_ATTACHMENTS_PER_SUBMISSION},
        )
    staged = []
    try:
        with transaction.atomic():
            report = _write(
                actor=actor,
                task=task,
                organisation_id=organisation_id,
                period=period,
                status=status,
                progress=progress,
                narrative=narrative,
                checked=checked,
                submit=submit,
                now=now,
                staged=staged,
            )
    except BaseException:
        for path in staged:
            staged_files.discard(path)
        raise
    return report


def _write(
    *, actor, task, organisation_id, period, status, progress, narrative, checked, submit, now, staged
):
    try:
        with transaction.atomic():
            report, created = TaskReport.objects.get_or_create(
                task=task, organisation_id=organisation_id, period=period, defaults={"status": status}
            )
    except IntegrityError:  # two first saves at once: the other one won, carry on with its row
        created = False
    report = TaskReport.objects.select_for_update().get(
        task=task, organisation_id=organisation_id, period=period
    )
    if report.state not in EDITABLE_STATES and not created:
        raise Conflict(
            codes.REPORT_LOCKED,
            _("该报告%(state)s，不能修改。") % {"state": ReportState(report.state).label},
        )
    from_state = report.state
    report.status, report.progress, report.narrative = status, progress, narrative or ""
    action = ReportAction.SAVE
    if submit:
        action = ReportAction.RESUBMIT if from_state == ReportState.RETURNED else ReportAction.SUBMIT
        report.state = ReportState.SUBMITTED
        report.version += 1
        report.submitted_at, report.submitted_by = now, actor
        if report.first_submitted_at is None:
            report.first_submitted_at = now
            report.on_time = timezone.localtime(now).date() <= period.due_on
    report.save()
    attachments = []
    for c in checked:
        row = ReportAttachment(
            report=report,
            original_name=c.name,
            content_type=c.content_type,
            size=c.size,
            sha256=c.sha256,
            version=report.version + (0 if submit else 1),
            uploaded_by=actor,
        )
        staged.append(staged_files.stage(row.file, c.file))
        row.save()
        attachments.append(row)
    all_attachments = list(report.attachments.all()) if checked or submit else []
    _event(report, action, from_state, actor, attachments=all_attachments, now=now)
    audit.record(
        actor=actor,
        action=f"plans.report_{action}",
        target=report,
        data={
            "task": task.number,
            "organisation": organisation_id,
            "period": period.key,
            "state": report.state,
            "version": report.version,
            "attachments": len(attachments),
        },
    )
    return report


def _report_for_review(actor, report_id: int) -> TaskReport:
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以审核报送。"))
    report = (
        TaskReport.objects.select_for_update(of=("self",))
        .select_related("task", "period", "organisation", "submitted_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound(codes.REPORT_NOT_FOUND, _("报告不存在。"))
    if report.state != ReportState.SUBMITTED:
        raise Conflict(
            codes.REVIEW_STATE,
            _("只有“已报送”的报告可以审核，该报告%(state)s。") % {"state": ReportState(report.state).label},
        )
    return report


def report_return(*, actor, report_id: int, reason: str, now: dt.datetime | None = None) -> TaskReport:
    """The office returns a submitted report to its unit with the reason; the unit corrects it and
    sends it again."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput(
            codes.RETURN_REASON_REQUIRED,
            _("请填写退回理由。"),
            errors=[FieldError("reason", _("请填写退回理由。"), codes.RETURN_REASON_REQUIRED)],
        )
    now = now or timezone.now()
    with transaction.atomic():
        report = _report_for_review(actor, report_id)
        from_state = report.state
        report.state = ReportState.RETURNED
        report.times_returned += 1
        report.reviewed_at, report.reviewed_by, report.review_note = now, actor, reason[:2000]
        report.save()
        _event(report, ReportAction.RETURN, from_state, actor, note=reason, now=now)
        audit.record(
            actor=actor,
            action="plans.report_return",
            target=report,
            data={"task": report.task.number, "period": report.period.key, "version": report.version},
        )
        _notify_return(report, reason)
    return report


def report_accept(*, actor, report_id: int, note: str = "", now: dt.datetime | None = None) -> TaskReport:
    """The office accepts a submitted report."""
    now = now or timezone.now()
    with transaction.atomic():
        report = _report_for_review(actor, report_id)
        from_state = report.state
        report.state = ReportState.ACCEPTED
        report.reviewed_at, report.reviewed_by, report.review_note = now, actor, (note or "").strip()[:2000]
        report.save()
        _event(report, ReportAction.ACCEPT, from_state, actor, note=report.review_note, now=now)
        audit.record(
            actor=actor,
            action="plans.report_accept",
            target=report,
            data={"task": report.task.number, "period": report.period.key, "version": report.version},
        )
    return report


def _notify_return(report: TaskReport, reason: str) -> None:
    from tongban.notifications.services import notify

    with _node_language():
        title = _("进展报送被退回：第 %(n)s 项任务（%(period)s）") % {
            "n": report.task.number,
            "period": report.period.label,
        }
        body = _("退回理由：%(reason)s。请修改后重新报送。") % {"reason": reason}
    for user in reporters_of(report.organisation_id):
        notify(user=user, title=title, body=body)


def _node_language():
    from django.utils import translation

    return translation.override(settings.LANGUAGE_CODE)


def reporters_of(organisation_id: int) -> list:
    """The active reporters of a unit (the people reminders and returns are sent to)."""
    from django.contrib.auth import get_user_model

    from tongban.accounts.constants import Role, UserKind

    users = get_user_model().objects.filter(
        organisation_id=organisation_id, kind=UserKind.STAFF, is_active=True
    )
    return [u for u in users if u.has_role(Role.PLAN_REPORTER)]


# --- Reads ----------------------------------------------------------------------------------------


def report_get(*, user, report_id: int) -> TaskReport:
    """One report with its task, period and unit, if ``user`` may see it (the office and supervisors
    all; a reporter those of their own unit)."""
    report = (
        TaskReport.objects.select_related("task", "task__part", "period", "organisation", "submitted_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None or not (
        access.can_view_all_plans(user) or access.can_report_for(user, report.organisation_id)
    ):
        raise NotFound(codes.REPORT_NOT_FOUND, _("报告不存在。"))
    return report


def report_history(report: TaskReport) -> list[TaskReportEvent]:
    return list(report.events.select_related("actor").order_by("at", "id"))


def review_queue(*, user, plan: Plan):
    """Reports waiting for the office's review, oldest first."""
    if not access.can_view_all_plans(user):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以查看审核队列。"))
    return (
        TaskReport.objects.filter(task__plan=plan, state=ReportState.SUBMITTED)
        .select_related("task", "period", "organisation", "submitted_by")
        .order_by("submitted_at", "id")
    )


def unit_tasks(*, user, plan: Plan, organisation_id: int, period: ReportingPeriod) -> list[dict]:
    """A unit's tasks with its report for ``period`` (or none yet): the unit's reporting page."""
    if not (access.can_view_all_plans(user) or access.can_report_for(user, organisation_id)):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("您不能查看该单位的报送。"))
    assignments = (
        TaskAssignment.objects.filter(
            task__plan=plan, organisation_id=organisation_id, task__removed_at__isnull=True
        )
        .select_related("task", "task__part")
        .order_by("task__position")
    )
    reports = {
        r.task_id: r
        for r in TaskReport.objects.filter(period=period, organisation_id=organisation_id, task__plan=plan)
    }
    return [{"assignment": a, "task": a.task, "report": reports.get(a.task_id)} for a in assignments]
