"""Responsible units of tasks: one lead unit (牵头单位) and any co-responsible units (配合单位).

Three ways in, one rule: by task, for every task of a part (by area), or from the Excel template.
Units are existing organisations, named by their name or 统一社会信用代码; an unknown one is an error,
never created on the fly. Every change is a row of :class:`AssignmentEvent` (assigned, removed, lead
changed with the previous lead) and an audit entry. The Excel import validates every row first: any
error and nothing changes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import FieldError, Forbidden, InvalidInput
from tongban.plans import error_codes as codes
from tongban.plans.access import can_manage_plans
from tongban.plans.constants import AssignmentRole, SectionLevel
from tongban.plans.models import AssignmentEvent, Plan, PlanSection, PlanTask, TaskAssignment
from tongban.regions.models import Organisation

TEMPLATE_COLUMNS = ("任务序号", "所属部分", "任务内容", "牵头单位", "配合单位")
REQUIRED_COLUMNS = ("任务序号", "牵头单位", "配合单位")
UNIT_SEPARATORS = re.compile(r"[、,，;；\n]+")
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
MAX_EXCEL_BYTES = 10 * 1024 * 1024


@dataclass
class AssignmentResult:
    tasks: int  # tasks whose units were set
    changes: int  # assignment events written


def _check_actor(actor) -> None:
    if actor is not None and not can_manage_plans(actor):
        raise Forbidden(codes.FORBIDDEN, _("只有推进办可以分配责任单位。"))


def _validate(task: PlanTask, lead: Organisation | None, co: list[Organisation]) -> None:
    if task.removed_at is not None:
        raise InvalidInput(
            codes.ASSIGNMENT_INVALID, _("任务%(label)s已移出方案，不能分配。") % {"label": _label(task)}
        )
    if lead is None and co:
        raise InvalidInput(codes.ASSIGNMENT_INVALID, _("请先指定牵头单位。"))
    if lead is not None and any(o.pk == lead.pk for o in co):
        raise InvalidInput(codes.ASSIGNMENT_INVALID, _("牵头单位不能同时是配合单位。"))


def _label(task: PlanTask) -> str:
    return task.label or f"({task.number})"


def _apply(*, actor, task: PlanTask, lead: Organisation | None, co: list[Organisation], source: str) -> int:
    """Makes the task's units exactly ``lead`` + ``co``; returns the number of events written."""
    current = {a.organisation_id: a for a in TaskAssignment.objects.filter(task=task)}
    wanted = {o.pk: AssignmentRole.CO for o in co}
    if lead is not None:
        wanted[lead.pk] = AssignmentRole.LEAD
    events: list[AssignmentEvent] = []
    old_lead = next((a for a in current.values() if a.role == AssignmentRole.LEAD), None)
    actor_user = actor if actor is not None and getattr(actor, "pk", None) else None
    # Remove what is no longer wanted, and demote/promote in place.
    for org_id, row in current.items():
        if org_id not in wanted:
            row.delete()
            if row.role == AssignmentRole.CO or lead is None:
                events.append(
                    AssignmentEvent(task=task, organisation_id=org_id, role=row.role, action="removed")
                )
        elif wanted[org_id] != row.role:
            row.delete()  # re-created below with its new role (the one-lead constraint)
    for org_id, role in wanted.items():
        row = current.get(org_id)
        if row is not None and row.role == role:
            continue
        TaskAssignment.objects.create(task=task, organisation_id=org_id, role=role, assigned_by=actor_user)
        if role == AssignmentRole.LEAD and old_lead is not None and old_lead.organisation_id != org_id:
            events.append(
                AssignmentEvent(
                    task=task,
                    organisation_id=org_id,
                    previous_organisation_id=old_lead.organisation_id,
                    role=role,
                    action="lead_changed",
                )
            )
        else:
            events.append(AssignmentEvent(task=task, organisation_id=org_id, role=role, action="assigned"))
    for event in events:
        event.source, event.actor = source, actor_user
    AssignmentEvent.objects.bulk_create(events)
    return len(events)


def _record(actor, action: str, target, data: dict) -> None:
    audit.record(actor=actor, action=action, target=target, data=data)


def assignment_set(
    *, actor, task: PlanTask, lead: Organisation | None, co: list[Organisation] | tuple = ()
) -> AssignmentResult:
    """Sets one task's lead unit and co-responsible units (``lead`` None with no ``co`` clears them)."""
    _check_actor(actor)
    co = list(co)
    _validate(task, lead, co)
    with transaction.atomic():
        changes = _apply(actor=actor, task=task, lead=lead, co=co, source="task")
        if changes:
            _record(
                actor,
                "plan.task_assigned",
                task,
                {"plan": task.plan.code, "task": task.number, "lead": lead.pk if lead else None,
                 "co": [o.pk for o in co], "changes": changes},
            )  # fmt: skip
    return AssignmentResult(tasks=1, changes=changes)


def assignment_set_for_part(
    *, actor, part: PlanSection, lead: Organisation, co: list[Organisation] | tuple = ()
) -> AssignmentResult:
    """Gives every task of a part (an area: 交通一体化…) the same lead and co-responsible units."""
    _check_actor(actor)
    if part.level != SectionLevel.PART:
        raise InvalidInput(codes.ASSIGNMENT_INVALID, _("只能按部分（“一、”级）批量分配。"))
    co = list(co)
    tasks = list(PlanTask.objects.filter(part=part, removed_at__isnull=True).select_related("plan"))
    if not tasks:
        raise InvalidInput(codes.ASSIGNMENT_INVALID, _("该部分没有任务。"))
    for task in tasks:
        _validate(task, lead, co)
    with transaction.atomic():
        changes = sum(_apply(actor=actor, task=t, lead=lead, co=co, source="part") for t in tasks)
        _record(
            actor,
            "plan.part_assigned",
            part,
            {"plan": tasks[0].plan.code, "part": part.number, "tasks": len(tasks),
             "lead": lead.pk, "co": [o.pk for o in co], "changes": changes},
        )  # fmt: skip
    return AssignmentResult(tasks=len(tasks), changes=changes)


# --- Excel -----------------------------------------------------------------------------------------


def assignment_template(*, plan: Plan) -> bytes:
    """The Excel template: every task of the plan (not removed) with its current units filled in."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    tasks = (
        PlanTask.objects.filter(plan=plan, removed_at__isnull=True)
        .select_related("part")
        .prefetch_related("assignments__organisation")
        .order_by("position")
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "责任分工"
    sheet.append(TEMPLATE_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for task in tasks:
        lead = next(
            (a.organisation.name for a in task.assignments.all() if a.role == AssignmentRole.LEAD), ""
        )
        co = "、".join(a.organisation.name for a in task.assignments.all() if a.role == AssignmentRole.CO)
        sheet.append([task.number, f"{task.part.label}{task.part.title}", task.text[:500], lead, co])
    for column, width in zip("ABCDE", (10, 22, 80, 30, 40), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    units = book.create_sheet("单位名录")
    units.append(["名称", "统一社会信用代码"])
    for org in Organisation.objects.order_by("name").only("name", "uscc"):
        units.append([org.name, org.uscc])
    validation = DataValidation(type="whole", operator="greaterThan", formula1="0", allow_blank=False)
    validation.error = "任务序号必须是方案中的编号"
    sheet.add_data_validation(validation)
    validation.add(f"A2:A{max(sheet.max_row, 2)}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class _Units:
    """Looks units up by name or 统一社会信用代码, once per import."""

    def __init__(self) -> None:
        self.by_uscc: dict[str, Organisation] = {}
        self.by_name: dict[str, list[Organisation]] = {}
        for org in Organisation.objects.all().only("pk", "name", "uscc"):
            self.by_uscc[org.uscc] = org
            self.by_name.setdefault(org.name, []).append(org)

    def find(self, text: str) -> tuple[Organisation | None, str]:
        text = text.strip()
        if USCC_RE.match(text.upper()):
            org = self.by_uscc.get(text.upper())
            return (
                (org, "") if org else (None, _("统一社会信用代码为 %(code)s 的单位不存在") % {"code": text})
            )
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, _("名为“%(name)s”的单位不止一个，请填写统一社会信用代码") % {"name": text}
        return None, _("单位“%(name)s”不存在（请使用单位名录中的名称或统一社会信用代码）") % {"name": text}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def assignment_import_excel(*, actor, plan: Plan, content: bytes) -> AssignmentResult:
    """Assigns units from a filled-in template. Every row is checked first; errors are reported by
    row and column (``第 5 行 牵头单位``) and nothing changes if there is any."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_actor(actor)
    if len(content) > MAX_EXCEL_BYTES or not content.startswith(b"PK\x03\x04"):
        raise InvalidInput(codes.EXCEL_INVALID, _("请上传 Excel 文件（.xlsx），建议使用下载的分工模板。"))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError, Exception):
        raise InvalidInput(codes.EXCEL_INVALID, _("Excel 文件已损坏或不是 .xlsx 格式。")) from None
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    header = [_cell_text(v) for v in (rows[0] if rows else ())]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            codes.EXCEL_INVALID,
            _("Excel 的列不对：缺少“%(missing)s”。第一行应为：%(columns)s。")
            % {"missing": "”“".join(missing), "columns": "、".join(TEMPLATE_COLUMNS)},
            errors=[
                FieldError(
                    field=_("第 1 行"), message=_("缺少列“%(c)s”") % {"c": c}, code=codes.EXCEL_INVALID
                )
                for c in missing
            ],
        )
    col = {name: header.index(name) for name in REQUIRED_COLUMNS}
    tasks = {t.number: t for t in PlanTask.objects.filter(plan=plan).select_related("plan")}
    units = _Units()
    errors: list[FieldError] = []
    plan_rows: list[tuple[PlanTask, Organisation | None, list[Organisation]]] = []
    seen: dict[int, int] = {}

    def error(row: int, column: str, message: str) -> None:
        errors.append(
            FieldError(
                field=_("第 %(row)d 行 %(col)s") % {"row": row, "col": column},
                message=message,
                code=codes.EXCEL_INVALID,
            )
        )

    for offset, values in enumerate(rows[1:], start=2):

        def value(name: str, values=values) -> str:
            index = col[name]
            return _cell_text(values[index]) if index < len(values) else ""

        number_text, lead_text, co_text = value("任务序号"), value("牵头单位"), value("配合单位")
        if not (number_text or lead_text or co_text):
            continue  # an empty row
        if not re.fullmatch(r"\d{1,5}", number_text):
            error(offset, "任务序号", _("“%(v)s”不是任务序号") % {"v": number_text})
            continue
        task = tasks.get(int(number_text))
        if task is None:
            error(offset, "任务序号", _("方案中没有第 %(n)s 项任务") % {"n": number_text})
            continue
        if task.removed_at is not None:
            error(offset, "任务序号", _("第 %(n)s 项任务已移出方案") % {"n": number_text})
            continue
        if task.number in seen:
            error(offset, "任务序号", _("与第 %(r)d 行重复") % {"r": seen[task.number]})
            continue
        seen[task.number] = offset
        lead = None
        if lead_text:
            if len(UNIT_SEPARATORS.split(lead_text)) > 1:
                error(offset, "牵头单位", _("每项任务只能有一个牵头单位"))
                continue
            lead, problem = units.find(lead_text)
            if problem:
                error(offset, "牵头单位", problem)
        elif co_text:
            error(offset, "牵头单位", _("填写了配合单位，但缺少牵头单位"))
        co: list[Organisation] = []
        for name in (n for n in UNIT_SEPARATORS.split(co_text) if n.strip()):
            org, problem = units.find(name)
            if problem:
                error(offset, "配合单位", problem)
            elif lead is not None and org.pk == lead.pk:
                error(offset, "配合单位", _("“%(n)s”已是牵头单位") % {"n": name.strip()})
            elif all(o.pk != org.pk for o in co):
                co.append(org)
        plan_rows.append((task, lead, co))
    if errors:
        raise InvalidInput(
            codes.EXCEL_INVALID,
            _("Excel 中有 %(n)d 处错误，未做任何变更。") % {"n": len(errors)},
            errors=errors,
        )
    with transaction.atomic():
        changes = sum(
            _apply(actor=actor, task=t, lead=lead, co=co, source="excel") for t, lead, co in plan_rows
        )
        _record(
            actor,
            "plan.assignments_imported",
            plan,
            {"plan": plan.code, "rows": len(plan_rows), "changes": changes},
        )
    return AssignmentResult(tasks=len(plan_rows), changes=changes)


def unit_find(text: str) -> Organisation:
    """One unit by name or 统一社会信用代码 (for the API and pages); unknown → ``PLAN_UNIT_UNKNOWN``."""
    org, problem = _Units().find(text) if text.strip() else (None, _("请填写单位"))
    if org is None:
        raise InvalidInput(codes.UNIT_UNKNOWN, problem)
    return org
