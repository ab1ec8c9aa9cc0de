"""API v1: plan supervision (推进督办) — importing plans and assigning responsible units.

Writes are for the integration office (推进办) only; reads for whoever may see the plan. Uploads are
multipart files; errors are problem+json with the stable ``PLAN_…`` codes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tongban.api.v1.auth import AUTH
from tongban.api.v1.schemas import Problem
from tongban.core.errors import Forbidden, InvalidInput
from tongban.plans import error_codes as codes
from tongban.plans import selectors
from tongban.plans.access import can_manage_plans
from tongban.plans.assignment import (
    assignment_import_excel,
    assignment_set,
    assignment_set_for_part,
    assignment_template,
    unit_find,
)
from tongban.plans.constants import AssignmentRole
from tongban.plans.importing import plan_import_preview, plan_import_save
from tongban.plans.readers import MAX_BYTES

router = Router(tags=["推进督办"])
PROBLEM = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


def _office(request: HttpRequest) -> None:
    if not can_manage_plans(request.auth):
        raise Forbidden(codes.FORBIDDEN, "只有推进办可以导入方案和分配责任单位。")


def _content(upload: UploadedFile) -> bytes:
    if upload.size and upload.size > MAX_BYTES:
        raise InvalidInput(codes.FILE_UNSUPPORTED, "文件超过 20 MB，不是推进方案文件。")
    return upload.read()


class PlanOut(Schema):
    code: str
    title: str
    issuer: str
    frequency: str
    start_year: int
    end_year: int
    version: int
    tasks: int = Field(description="未移出方案的任务数")


class UnitOut(Schema):
    name: str
    uscc: str
    role: str = Field(description="lead（牵头单位）或 co（配合单位）")


class TaskOut(Schema):
    number: int
    label: str
    text: str
    deadline: str | None
    deadline_text: str
    units: list[UnitOut]


class SectionOut(Schema):
    number: int
    label: str
    title: str
    tasks: list[TaskOut]


class ColumnOut(Schema):
    number: int
    title: str
    body: str


class PartOut(Schema):
    number: int
    label: str
    title: str
    tasks: list[TaskOut] = Field(description="直接属于本部分、不在条目下的任务")
    sections: list[SectionOut]
    columns: list[ColumnOut]


class IndicatorOut(Schema):
    name: str
    comparator: str = Field(description="at_least / at_most / about / equal / qualitative")
    value: float | None
    tolerance: float | None
    unit: str
    year: int | None
    source_text: str


class StructureOut(PlanOut):
    parts: list[PartOut]
    indicators: list[IndicatorOut]
    problems: list[dict[str, Any]] = Field(description="最近一次导入报告的问题")


class ImportOut(Schema):
    code: str
    version: int
    unchanged: bool
    created: int
    updated: list[int]
    removed: list[int]
    restored: list[int]


class AssignIn(Schema):
    lead: str = Field(description="牵头单位：名称或统一社会信用代码")
    co: list[str] = Field(default_factory=list, description="配合单位：名称或统一社会信用代码")


class AssignOut(Schema):
    tasks: int
    changes: int


def _plan_out(plan) -> dict:
    return {
        "code": plan.code,
        "title": plan.title,
        "issuer": plan.issuer,
        "frequency": plan.frequency,
        "start_year": plan.start_year,
        "end_year": plan.end_year,
        "version": plan.version,
        "tasks": getattr(plan, "task_count", None) or plan.tasks.filter(removed_at__isnull=True).count(),
    }


def _task_out(task) -> dict:
    return {
        "number": task.number,
        "label": task.label,
        "text": task.text,
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "deadline_text": task.deadline_text,
        "units": [
            {"name": a.organisation.name, "uscc": a.organisation.uscc, "role": a.role}
            for a in sorted(task.assignments.all(), key=lambda a: a.role != AssignmentRole.LEAD)
        ],
    }


@router.post(
    "/import/preview", response={200: dict[str, Any], **PROBLEM}, auth=AUTH, summary="预览导入（不保存）"
)
def import_preview(request: HttpRequest, file: File[UploadedFile]):
    _office(request)
    return plan_import_preview(content=_content(file), filename=file.name or "plan.txt").summary()


@router.post(
    "/import", response={201: ImportOut, **PROBLEM}, auth=AUTH, summary="导入方案；指定 plan 则重新导入"
)
def import_save(
    request: HttpRequest,
    file: File[UploadedFile],
    code: Form[str | None] = None,
    title: Form[str | None] = None,
    frequency: Form[str] = "quarterly",
    plan: Form[str | None] = None,
):
    _office(request)
    existing = selectors.plan_by_code(plan) if plan else None
    result = plan_import_save(
        actor=request.auth,
        content=_content(file),
        filename=file.name or "plan.txt",
        code=code,
        title=title,
        frequency=frequency,
        plan=existing,
    )
    return Status(201, result.as_dict())


@router.get("", response={200: list[PlanOut], **PROBLEM}, auth=AUTH, summary="方案列表")
def plan_list(request: HttpRequest):
    return [_plan_out(p) for p in selectors.plans_visible_to(request.auth)]


@router.get("/{code}", response={200: StructureOut, **PROBLEM}, auth=AUTH, summary="方案结构")
def plan_read(request: HttpRequest, code: str):
    plan = selectors.plan_for(request.auth, code)
    structure = selectors.plan_structure(plan)
    return {
        **_plan_out(plan),
        "parts": [
            {
                "number": node.part.number,
                "label": node.part.label,
                "title": node.part.title,
                "tasks": [_task_out(t) for t in node.tasks],
                "sections": [
                    {
                        "number": s.section.number,
                        "label": s.section.label,
                        "title": s.section.title,
                        "tasks": [_task_out(t) for t in s.tasks],
                    }
                    for s in node.sections
                ],
                "columns": [{"number": c.number, "title": c.title, "body": c.body} for c in node.columns],
            }
            for node in structure.parts
        ],
        "indicators": [
            {
                "name": i.name,
                "comparator": i.comparator,
                "value": float(i.value) if i.value is not None else None,
                "tolerance": float(i.tolerance) if i.tolerance is not None else None,
                "unit": i.unit,
                "year": i.year,
                "source_text": i.source_text,
            }
            for i in structure.indicators
        ],
        "problems": plan.import_problems,
    }


@router.post(
    "/{code}/tasks/{number}/assignment",
    response={200: AssignOut, **PROBLEM},
    auth=AUTH,
    summary="指定任务的牵头单位和配合单位",
)
def assign_task(request: HttpRequest, code: str, number: int, payload: AssignIn):
    _office(request)
    task = selectors.task_for(selectors.plan_by_code(code), number)
    result = assignment_set(
        actor=request.auth, task=task, lead=unit_find(payload.lead), co=[unit_find(c) for c in payload.co]
    )
    return {"tasks": result.tasks, "changes": result.changes}


@router.post(
    "/{code}/parts/{number}/assignment",
    response={200: AssignOut, **PROBLEM},
    auth=AUTH,
    summary="按部分（领域）批量指定责任单位",
)
def assign_part(request: HttpRequest, code: str, number: int, payload: AssignIn):
    _office(request)
    part = selectors.part_for(selectors.plan_by_code(code), number)
    result = assignment_set_for_part(
        actor=request.auth, part=part, lead=unit_find(payload.lead), co=[unit_find(c) for c in payload.co]
    )
    return {"tasks": result.tasks, "changes": result.changes}


@router.get(
    "/{code}/assignment-template",
    response={200: None, **PROBLEM},
    auth=AUTH,
    summary="下载责任分工 Excel 模板",
)
def assignment_template_download(request: HttpRequest, code: str):
    _office(request)
    plan = selectors.plan_by_code(code)
    response = HttpResponse(
        assignment_template(plan=plan),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{plan.code}-assignments.xlsx"'
    return response


@router.post(
    "/{code}/assignment-import",
    response={200: AssignOut, **PROBLEM},
    auth=AUTH,
    summary="从 Excel 导入责任分工",
)
def assignment_import(request: HttpRequest, code: str, file: File[UploadedFile]):
    _office(request)
    result = assignment_import_excel(
        actor=request.auth, plan=selectors.plan_by_code(code), content=_content(file)
    )
    return {"tasks": result.tasks, "changes": result.changes}
