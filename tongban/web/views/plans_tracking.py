"""Plan supervision pages (推进督办): the dashboard, a unit's reporting page and one report's form,
the office's review queue and review, indicators with their charts, the assessment, and the Excel
ledger's export and import.

Thin: each view parses the request, calls one service or selector of ``tongban.plans`` and renders.
Access is decided there (``tongban.plans.access``); a refusal becomes the 403/404 page or the
service's message next to the form.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.errors import NotFound, TongbanError
from tongban.exchange.files import open_file
from tongban.plans import access, assessment, dashboard, indicators, ledger, lights, reporting
from tongban.plans import error_codes as codes
from tongban.plans.constants import ReportState, TaskStatus
from tongban.plans.models import Plan, ReportAttachment, TaskAssignment
from tongban.web.views.common import forbidden, handles_errors, paginate


def _plan(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(codes.NOT_FOUND, _("推进方案不存在。"))
    return plan


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _period(request, plan):
    key = request.GET.get("period") or request.POST.get("period")
    return reporting.period_get(plan=plan, key=key) if key else reporting.period_reporting_now(plan)


def _periods(plan):
    from tongban.plans.models import ReportingPeriod

    return list(
        ReportingPeriod.objects.filter(plan=plan, starts_on__lte=reporting.today()).order_by("-starts_on")
    )


# --- Dashboard ------------------------------------------------------------------------------------


@login_required
@handles_errors
def plan_dashboard(request, code: str):
    plan = _plan(code)
    d = dashboard.plan_dashboard_current(user=request.user, plan=plan)
    chart = {
        "areas": [a.aggregate.name for a in d.areas],
        "red": [a.aggregate.counts["red"] for a in d.areas],
        "yellow": [a.aggregate.counts["yellow"] for a in d.areas],
        "green": [a.aggregate.counts["green"] for a in d.areas],
        "labels": {"red": _("红灯"), "yellow": _("黄灯"), "green": _("绿灯")},
    }
    attention = [t for t in d.lights.tasks if t.light in ("red", "yellow")]
    return render(
        request,
        "web/plans/track_dashboard.html",
        {"plan": plan, "d": d, "chart": chart, "attention": attention, "charts": True},
    )


# --- A unit's reports -----------------------------------------------------------------------------


def _unit_id(request) -> int | None:
    """The unit whose reports the page shows: a reporter's own; for the office, ``?unit=``."""
    if access.can_view_all_plans(request.user):
        return _int(request.GET.get("unit")) or getattr(request.user, "organisation_id", None)
    return getattr(request.user, "organisation_id", None)


@login_required
@handles_errors
def plan_reports(request, code: str):
    plan = _plan(code)
    unit_id = _unit_id(request)
    if unit_id is None:
        return forbidden(request, _("您的账户未关联单位。"))
    period = _period(request, plan)
    rows = reporting.unit_tasks(user=request.user, plan=plan, organisation_id=unit_id, period=period)
    units = []
    if access.can_view_all_plans(request.user):
        from tongban.regions.models import Organisation

        units = Organisation.objects.filter(plan_assignments__task__plan=plan).distinct().order_by("name")
    return render(
        request,
        "web/plans/track_reports.html",
        {
            "plan": plan,
            "period": period,
            "periods": _periods(plan),
            "rows": rows,
            "unit_id": unit_id,
            "units": units,
            "can_report": access.can_report_for(request.user, unit_id),
            "open": reporting.period_is_open(period),
        },
    )


@login_required
@handles_errors
def plan_report(request, code: str, number: int):
    """One task's report for a period: the unit fills it in, saves a draft or submits it."""
    plan = _plan(code)
    task = reporting.task_of(plan=plan, number=number)
    period = _period(request, plan)
    unit_id = _unit_id(request)
    from tongban.plans.models import TaskReport

    report = TaskReport.objects.filter(task=task, period=period, organisation_id=unit_id).first()
    can_edit = (
        access.can_report_for(request.user, unit_id)
        and TaskAssignment.objects.filter(task=task, organisation_id=unit_id).exists()
        and (report is None or report.state in (ReportState.DRAFT, ReportState.RETURNED))
        and reporting.period_is_open(period)
    )
    if report is None and not (
        access.can_view_all_plans(request.user) or access.can_report_for(request.user, unit_id)
    ):
        return forbidden(request)
    error = None
    values = {
        "status": report.status if report else TaskStatus.IN_PROGRESS,
        "progress": report.progress if report else 0,
        "narrative": report.narrative if report else "",
    }
    if request.method == "POST":
        values = {
            "status": request.POST.get("status", ""),
            "progress": _int(request.POST.get("progress"), -1),
            "narrative": request.POST.get("narrative", ""),
        }
        try:
            report = reporting.report_save(
                actor=request.user,
                task=task,
                organisation_id=unit_id,
                period=period,
                files=request.FILES.getlist("attachments"),
                submit="submit" in request.POST,
                **values,
            )
        except NotFound:
            raise
        except TongbanError as exc:
            error = exc
        else:
            messages.success(
                request, _("已报送。") if report.state == ReportState.SUBMITTED else _("草稿已保存。")
            )
            return redirect(
                f"{reverse('web:plan_report', args=[plan.code, task.number])}?period={period.key}"
            )
    history = reporting.report_history(report) if report else []
    return render(
        request,
        "web/plans/track_report.html",
        {
            "plan": plan,
            "task": task,
            "period": period,
            "report": report,
            "attachments": list(report.attachments.all()) if report else [],
            "history": history,
            "can_edit": can_edit,
            "values": values,
            "statuses": TaskStatus.choices,
            "error": error,
        },
        status=error.status if error else 200,
    )


@login_required
@handles_errors
def plan_attachment(request, code: str, report_id: int, attachment_id: int):
    report = reporting.report_get(user=request.user, report_id=report_id)
    att = ReportAttachment.objects.filter(report=report, pk=attachment_id).first()
    if att is None or report.task.plan.code != code:
        raise NotFound(codes.REPORT_NOT_FOUND, _("材料不存在。"))
    return FileResponse(
        open_file(att.file), content_type=att.content_type, as_attachment=True, filename=att.original_name
    )


# --- Review ---------------------------------------------------------------------------------------


@login_required
@handles_errors
def plan_review(request, code: str, report_id: int | None = None):
    plan = _plan(code)
    if report_id is None:
        page = paginate(request, reporting.review_queue(user=request.user, plan=plan))
        return render(request, "web/plans/track_review_queue.html", {"plan": plan, "page": page})
    if not access.can_view_all_plans(request.user):
        return forbidden(request)
    report = reporting.report_get(user=request.user, report_id=report_id)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "return":
                reporting.report_return(
                    actor=request.user, report_id=report.pk, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("已退回。"))
            else:
                reporting.report_accept(
                    actor=request.user, report_id=report.pk, note=request.POST.get("reason", "")
                )
                messages.success(request, _("已审核通过。"))
        except NotFound:
            raise
        except TongbanError as exc:
            error = exc
        else:
            return redirect("web:plan_review", plan.code)
    return render(
        request,
        "web/plans/track_review.html",
        {
            "plan": plan,
            "report": report,
            "attachments": list(report.attachments.all()),
            "history": reporting.report_history(report),
            "error": error,
            "can_review": access.can_manage_plans(request.user) and report.state == ReportState.SUBMITTED,
        },
        status=error.status if error else 200,
    )


# --- Indicators -----------------------------------------------------------------------------------


@login_required
@handles_errors
def plan_indicators(request, code: str):
    plan = _plan(code)
    if not access.can_view_all_plans(request.user):
        return forbidden(request)
    return render(
        request,
        "web/plans/track_indicators.html",
        {"plan": plan, "views": indicators.plan_indicator_views(plan)},
    )


@login_required
@handles_errors
def plan_indicator(request, code: str, pk: int):
    plan = _plan(code)
    if not access.can_view_all_plans(request.user):
        return forbidden(request)
    ind = indicators.indicator_get(user=request.user, plan=plan, indicator_id=pk)
    error, values = None, {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("value", "observed_on", "source", "note")}
        try:
            try:
                day = dt.date.fromisoformat(values["observed_on"])
            except ValueError:
                day = None
            indicators.observation_record(
                actor=request.user,
                indicator=ind,
                value=values["value"],
                observed_on=day,
                source=values["source"],
                note=values["note"],
            )
        except NotFound:
            raise
        except TongbanError as exc:
            error = exc
        else:
            messages.success(request, _("指标数据已录入。"))
            return redirect("web:plan_indicator", plan.code, ind.pk)
    view = indicators.indicator_view(ind)
    return render(
        request,
        "web/plans/track_indicator.html",
        {
            "plan": plan,
            "view": view,
            "chart": indicators.chart_data(view),
            "charts": True,
            "error": error,
            "values": values,
            "can_record": access.can_manage_plans(request.user),
        },
        status=error.status if error else 200,
    )


# --- Assessment -----------------------------------------------------------------------------------


@login_required
@handles_errors
def plan_assessment(request, code: str):
    plan = _plan(code)
    error = None
    if request.method == "POST":
        try:
            assessment.assessment_run(actor=request.user, plan=plan, year=_int(request.POST.get("year"), 0))
        except NotFound:
            raise
        except TongbanError as exc:
            error = exc
        else:
            messages.success(request, _("考核结果已生成。"))
            return redirect("web:plan_assessment", plan.code)
    year = _int(request.GET.get("year"))
    run = assessment.latest_run(user=request.user, plan=plan, year=year)
    return render(
        request,
        "web/plans/track_assessment.html",
        {
            "plan": plan,
            "run": run,
            "scores": assessment.run_scores(run) if run else [],
            "weights": assessment.weights_of(plan),
            "years": list(range(plan.start_year, min(plan.end_year, reporting.today().year) + 1)),
            "can_run": access.can_manage_plans(request.user),
            "error": error,
            "rule_text": lights.light_rule_text(lights.light_rule(plan)),
        },
        status=error.status if error else 200,
    )


# --- Ledger ---------------------------------------------------------------------------------------


@login_required
@handles_errors
def plan_ledger_export(request, code: str):
    plan = _plan(code)
    unit = _int(request.GET.get("unit"))
    if unit is None and not access.can_view_all_plans(request.user):
        unit = request.user.organisation_id
    content = ledger.ledger_export(
        user=request.user, plan=plan, organisation_id=unit, period_key=request.GET.get("period") or None
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"{plan.code}-ledger{'-' + str(unit) if unit else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@handles_errors
def plan_ledger_import(request, code: str):
    plan = _plan(code)
    result, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                from tongban.core.errors import InvalidInput

                raise InvalidInput(codes.LEDGER_FILE_INVALID, _("请选择要导入的台账文件。"))
            result = ledger.ledger_import(actor=request.user, plan=plan, content=upload.read())
        except NotFound:
            raise
        except TongbanError as exc:
            error = exc
    return render(
        request,
        "web/plans/track_ledger_import.html",
        {
            "plan": plan,
            "result": result,
            "error": error,
            "row_errors": (error.details.get("errors", []) if error else []),
            "periods": _periods(plan),
        },
        status=error.status if error else 200,
    )


@require_POST
@login_required
@handles_errors
def plan_period_close(request, code: str):
    plan = _plan(code)
    period = reporting.period_get(plan=plan, key=request.POST.get("period", ""))
    reporting.period_close(actor=request.user, period=period)
    messages.success(request, _("报送期已关闭。"))
    return redirect(f"{reverse('web:plan_reports', args=[plan.code])}?period={period.key}")
