"""API v1 for plan supervision's tracking (推进督办): reports and their review, lights, indicators,
the assessment and the dashboard. Mounted at ``/plans`` next to the plans' own router.

Thin: each operation calls one service or selector of ``tongban.plans``; errors are problem+json.
Reports are sent here as JSON without files; evidence files are added on the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from tongban.api.v1.auth import AUTH
from tongban.api.v1.schemas import Problem
from tongban.core.errors import InvalidInput, NotFound
from tongban.plans import assessment, dashboard, indicators, lights, reporting
from tongban.plans import error_codes as codes
from tongban.plans.models import Plan, TaskReport

router = Router(tags=["推进督办"], auth=AUTH)
PROBLEM = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


def _plan(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(codes.NOT_FOUND, _("推进方案不存在。"))
    return plan


class ReportIn(Schema):
    task: int = Field(description="任务序号")
    period: str = Field(description="报送期编码，如 2024-09 或 2024-Q3")
    status: str = Field(
        description="not_started 未启动 | in_progress 推进中 | done 已完成 | behind 滞后 | paused 暂缓"
    )
    progress: int = Field(description="进度，0–100 的整数")
    narrative: str = ""
    submit: bool = Field(True, description="false 时只保存草稿")


class ReportOut(Schema):
    id: int
    task: int
    organisation: str
    period: str
    status: str
    progress: int
    narrative: str
    state: str
    version: int
    on_time: bool | None
    submitted_at: dt.datetime | None
    review_note: str
    history: list[dict[str, Any]]


class ReviewIn(Schema):
    reason: str = ""


class ObservationIn(Schema):
    value: str
    observed_on: dt.date
    source: str
    note: str = ""


class AssessmentIn(Schema):
    year: int


def _report_out(report: TaskReport) -> dict:
    return {
        "id": report.pk,
        "task": report.task.number,
        "organisation": report.organisation.name,
        "period": report.period.key,
        "status": report.status,
        "progress": report.progress,
        "narrative": report.narrative,
        "state": report.state,
        "version": report.version,
        "on_time": report.on_time,
        "submitted_at": report.submitted_at,
        "review_note": report.review_note,
        "history": [
            {
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "version": e.version,
                "actor": e.actor_label,
                "note": e.note,
                "at": e.at.isoformat(),
                "snapshot": e.snapshot,
            }
            for e in reporting.report_history(report)
        ],
    }


@router.post(
    "/{code}/reports", response={201: ReportOut, **PROBLEM}, summary="报送（或保存草稿）一项任务的进展"
)
def report_submit(request: HttpRequest, code: str, payload: ReportIn):
    plan = _plan(code)
    user = request.auth
    if user.organisation_id is None:
        raise InvalidInput(codes.TRACKING_FORBIDDEN, _("您的账户未关联单位。"))
    report = reporting.report_save(
        actor=user,
        task=reporting.task_of(plan=plan, number=payload.task),
        organisation_id=user.organisation_id,
        period=reporting.period_get(plan=plan, key=payload.period),
        status=payload.status,
        progress=payload.progress,
        narrative=payload.narrative,
        submit=payload.submit,
    )
    return Status(201, _report_out(reporting.report_get(user=user, report_id=report.pk)))


@router.get(
    "/{code}/reports/{report_id}", response={200: ReportOut, **PROBLEM}, summary="一份报告及其全部记录"
)
def report_read(request: HttpRequest, code: str, report_id: int):
    _plan(code)
    return _report_out(reporting.report_get(user=request.auth, report_id=report_id))


@router.get("/{code}/review", response={200: list[ReportOut], **PROBLEM}, summary="待审核的报告（推进办）")
def review_queue(request: HttpRequest, code: str, limit: int = 100):
    qs = reporting.review_queue(user=request.auth, plan=_plan(code))[: max(1, min(limit, 500))]
    return [_report_out(r) for r in qs]


@router.post("/{code}/reports/{report_id}/return", response={200: ReportOut, **PROBLEM}, summary="退回报告")
def report_return(request: HttpRequest, code: str, report_id: int, payload: ReviewIn):
    _plan(code)
    report = reporting.report_return(actor=request.auth, report_id=report_id, reason=payload.reason)
    return _report_out(reporting.report_get(user=request.auth, report_id=report.pk))


@router.post(
    "/{code}/reports/{report_id}/accept", response={200: ReportOut, **PROBLEM}, summary="审核通过报告"
)
def report_accept(request: HttpRequest, code: str, report_id: int, payload: ReviewIn):
    _plan(code)
    report = reporting.report_accept(actor=request.auth, report_id=report_id, note=payload.reason)
    return _report_out(reporting.report_get(user=request.auth, report_id=report.pk))


@router.get("/{code}/lights", response={200: dict, **PROBLEM}, summary="每项任务的红黄绿灯及原因")
def plan_lights(request: HttpRequest, code: str):
    plan = _plan(code)
    d = dashboard.plan_dashboard(user=request.auth, plan=plan, live=False)
    return {
        "on": d.lights.on.isoformat(),
        "rule": d.lights.rule,
        "rule_text": lights.light_rule_text(d.lights.rule),
        "tasks": [
            {
                "number": t.number,
                "light": t.light,
                "reasons": t.reasons,
                "units": [
                    {"organisation": u.organisation, "role": u.role, "light": u.light, "reasons": u.reasons}
                    for u in t.units
                ],
            }
            for t in d.lights.tasks
        ],
    }


@router.get(
    "/{code}/dashboard",
    response={200: dict, **PROBLEM},
    summary="督办看板：领域、单位、指标与一网通办实时数据",
)
def plan_dashboard(request: HttpRequest, code: str):
    return dashboard.dashboard_json(dashboard.plan_dashboard(user=request.auth, plan=_plan(code)))


@router.get("/{code}/indicators/{indicator_id}", response={200: dict, **PROBLEM}, summary="指标数据与进展")
def indicator_read(request: HttpRequest, code: str, indicator_id: int):
    ind = indicators.indicator_get(user=request.auth, plan=_plan(code), indicator_id=indicator_id)
    view = indicators.indicator_view(ind)
    return {
        "id": ind.pk,
        "name": ind.name,
        "target": view.target_label,
        "status": view.progress.status,
        "explanation": view.progress.explanation,
        "by_year": [{"year": y, "status": a.status, "explanation": a.explanation} for y, a in view.by_year],
        "observations": [
            {
                "value": str(o.value),
                "observed_on": o.observed_on.isoformat(),
                "source": o.source,
                "note": o.note,
            }
            for o in view.observations
        ],
    }


@router.post(
    "/{code}/indicators/{indicator_id}/observations", response={201: dict, **PROBLEM}, summary="录入指标数据"
)
def observation_create(request: HttpRequest, code: str, indicator_id: int, payload: ObservationIn):
    ind = indicators.indicator_get(user=request.auth, plan=_plan(code), indicator_id=indicator_id)
    obs = indicators.observation_record(
        actor=request.auth,
        indicator=ind,
        value=payload.value,
        observed_on=payload.observed_on,
        source=payload.source,
        note=payload.note,
    )
    return Status(201, {"id": obs.pk, "value": str(obs.value), "observed_on": obs.observed_on.isoformat()})


def _run_out(run) -> dict:
    return {
        "id": str(run.public_id),
        "year": run.year,
        "as_of": run.as_of.isoformat(),
        "weights": run.weights,
        "scores": [
            {
                "rank": s.rank,
                "organisation": s.organisation.name,
                "score": str(s.score),
                "timeliness": None if s.timeliness is None else str(s.timeliness),
                "quality": None if s.quality is None else str(s.quality),
                "completion": None if s.completion is None else str(s.completion),
                "details": s.details,
                "explanation": s.explanation,
            }
            for s in assessment.run_scores(run)
        ],
    }


@router.post("/{code}/assessment", response={201: dict, **PROBLEM}, summary="生成年度考核结果")
def assessment_create(request: HttpRequest, code: str, payload: AssessmentIn):
    run = assessment.assessment_run(actor=request.auth, plan=_plan(code), year=payload.year)
    return Status(201, _run_out(run))


@router.get("/{code}/assessment", response={200: dict, **PROBLEM}, summary="最近一次考核结果")
def assessment_read(request: HttpRequest, code: str, year: int | None = None):
    run = assessment.latest_run(user=request.auth, plan=_plan(code), year=year)
    if run is None:
        raise NotFound(codes.ASSESSMENT_NOT_FOUND, _("尚未生成考核结果。"))
    return _run_out(run)
