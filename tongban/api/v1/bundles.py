"""API v1 for 一件事 bundles: what bundles there are, submitting one, following its timeline,
withdrawing it, and the supervisors' share of bundles done within the promised working days.

Submitting takes JSON only, no files. Where a step that starts at submission needs a material that
no earlier step's certificate covers (``materials_up_front`` of the definition), apply on the page
(``/bundles/<key>/apply/``), which takes the uploads; every other bundle is submitted here whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from tongban.api.v1.auth import AUTH
from tongban.api.v1.schemas import Problem
from tongban.bundles import error_codes as bundle_codes
from tongban.bundles import selectors
from tongban.bundles import services as bundle_services
from tongban.bundles.presenters import bundle_summary, bundle_timeline, definition_steps, first_step_uploads
from tongban.core.errors import Forbidden

router = Router(tags=["一件事"])
PROBLEM = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class DefinitionStepOut(Schema):
    key: str
    name: str
    kind: str = Field(description="item（政务服务事项）或 external（外部机构，如银行）")
    after: list[str] = Field(description="须先完成的环节名称；为空表示提交后即开始")
    authority: str = Field(description="办理部门（item 环节）")
    city_code: str
    adapter: str = Field(description="外部机构（external 环节）")


class MaterialUpFrontOut(Schema):
    step: str
    code: str
    name: str


class DefinitionOut(Schema):
    key: str
    version: int
    name: str
    description: str
    city_code: str
    target_workdays: int = Field(description="承诺在多少个工作日内全部办结")
    on_failure: str = Field(description="continue：其余环节继续；pause：全部暂停")
    form_schema: dict[str, Any] = Field(description="一张申请表（JSON Schema），提交时的 form")
    steps: list[DefinitionStepOut]
    materials_up_front: list[MaterialUpFrontOut] = Field(
        description="提交时须上传的材料；不为空时请在网页上申请，本接口不收文件"
    )


class BundleSubmitIn(Schema):
    key: str = Field(description="“一件事”标识")
    form: dict[str, Any]
    consent: bool = Field(False, description="签署承诺：所填信息真实有效，同意分送各环节的办理部门")
    client_token: str = Field("", max_length=64, description="重复提交同一令牌只生成一件申请")


class WithdrawIn(Schema):
    reason: str = ""


class StepOut(Schema):
    key: str
    name: str
    kind: str
    status: str = Field(description="waiting / queued / in_progress / retrying / completed / rejected / …")
    status_label: str
    case_number: str = Field(description="该环节的办件编号（item 环节已发起时）")
    waits_for: list[str]
    elapsed_workdays: int | None
    attempts: int
    last_error: str = Field(description="未获准予、失败、重试中或无法开始的原因")
    started_at: datetime | None
    completed_at: datetime | None


class OutputOut(Schema):
    step: str
    name: str
    label: str
    value: str = Field(description="银行账号只显示末 4 位")


class EventOut(Schema):
    step_key: str
    action: str
    message: str
    at: datetime


class BundleSummaryOut(Schema):
    number: str
    key: str
    name: str
    status: str = Field(description="running / paused / completed / failed / withdrawn")
    status_label: str
    submitted_at: datetime
    completed_at: datetime | None
    elapsed_workdays: int
    target_workdays: int
    risk: str = Field(description="at_risk（临近承诺时限）、late（已超过）或空")


class BundleDetailOut(BundleSummaryOut):
    steps: list[StepOut]
    outputs: list[OutputOut]
    events: list[EventOut]


class ShareOut(Schema):
    definition: str
    name: str
    completed: int
    on_time: int = Field(description="其中在承诺工作日内办结的")
    percent: float | None = Field(description="按时办结率（%）；尚无办结时为空")
    open: int
    at_risk: int = Field(description="办理中且临近或超过承诺时限的")


def _summary(view) -> dict:
    b = view.bundle
    return {
        "number": b.number,
        "key": b.definition.key,
        "name": b.definition.name,
        "status": b.status,
        "status_label": str(b.get_status_display()),
        "submitted_at": b.submitted_at,
        "completed_at": b.completed_at,
        "elapsed_workdays": view.elapsed_workdays,
        "target_workdays": view.target_workdays,
        "risk": view.risk,
    }


def _detail(bundle) -> dict:
    t = bundle_timeline(bundle)
    return {
        **_summary(t.view),
        "steps": [
            {
                "key": s.key,
                "name": s.name,
                "kind": s.kind,
                "status": s.status,
                "status_label": s.status_label,
                "case_number": s.case_number,
                "waits_for": s.waits_for,
                "elapsed_workdays": s.elapsed_workdays,
                "attempts": s.attempts,
                "last_error": s.error,
                "started_at": s.started_at,
                "completed_at": s.completed_at,
            }
            for s in t.steps
        ],
        "outputs": [{"step": o.step, "name": o.name, "label": o.label, "value": o.value} for o in t.outputs],
        "events": [
            {"step_key": e.step_key, "action": e.action, "message": e.message, "at": e.at} for e in t.events
        ],
    }


# Fixed paths first: "/{number}" would take "definitions" and "metrics" otherwise.


@router.get("/definitions", response={200: list[DefinitionOut], **PROBLEM}, summary="可办理的“一件事”")
def definitions(request: HttpRequest):
    defs = list(selectors.definitions_published())
    steps = definition_steps(defs)
    return [
        {
            "key": d.key,
            "version": d.version,
            "name": d.name,
            "description": d.description,
            "city_code": d.city_code,
            "target_workdays": d.target_workdays,
            "on_failure": d.on_failure,
            "form_schema": d.form_schema,
            "steps": [
                {
                    "key": s.key,
                    "name": s.name,
                    "kind": s.kind,
                    "after": s.after,
                    "authority": s.authority,
                    "city_code": s.city_code,
                    "adapter": s.adapter,
                }
                for s in steps[d.pk]
            ],
            "materials_up_front": [
                {"step": step["key"], "code": m.code, "name": m.name} for step, m in first_step_uploads(d)
            ],
        }
        for d in defs
    ]


@router.get(
    "/metrics",
    response={200: list[ShareOut], **PROBLEM},
    auth=AUTH,
    summary="按承诺时限办结情况（督查人员、管理员）",
)
def metrics(request: HttpRequest):
    if not selectors.can_supervise(request.auth):
        raise Forbidden(bundle_codes.SUPERVISORS_ONLY, "此操作需要督查人员或管理员身份。")
    return [
        {
            "definition": m.definition,
            "name": m.name,
            "completed": m.completed,
            "on_time": m.on_time,
            "percent": m.percent,
            "open": m.open,
            "at_risk": m.at_risk,
        }
        for m in selectors.bundle_metrics()
    ]


@router.post(
    "",
    response={201: BundleDetailOut, **PROBLEM},
    auth=AUTH,
    summary="提交“一件事”申请（一张表、一次承诺；不收文件）",
)
def bundle_create(request: HttpRequest, payload: BundleSubmitIn):
    bundle = bundle_services.bundle_submit(
        applicant=request.auth,
        definition_key=payload.key,
        form_data=payload.form,
        consent=payload.consent,
        client_token=payload.client_token,
    )
    return Status(201, _detail(bundle))


@router.get("", response={200: list[BundleSummaryOut], **PROBLEM}, auth=AUTH, summary="我的“一件事”申请")
def my_bundles(request: HttpRequest):
    return [_summary(bundle_summary(b)) for b in selectors.bundles_of(request.auth)]


@router.get(
    "/{number}", response={200: BundleDetailOut, **PROBLEM}, auth=AUTH, summary="“一件事”进度（各环节与记录）"
)
def bundle_read(request: HttpRequest, number: str):
    return _detail(selectors.bundle_for(request.auth, number))


@router.post(
    "/{number}/withdraw",
    response={200: BundleDetailOut, **PROBLEM},
    auth=AUTH,
    summary="撤回（已办结的环节保留，其余终止）",
)
def bundle_withdraw(request: HttpRequest, number: str, payload: WithdrawIn):
    bundle = bundle_services.bundle_withdraw(actor=request.auth, number=number, reason=payload.reason)
    return _detail(bundle)
