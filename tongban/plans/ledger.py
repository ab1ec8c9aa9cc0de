"""The Excel ledger (推进台账): export per plan or per unit, and import of a ledger a unit filled in.

Sheet ``台账``: a title in row 1, the headers in row 2 (``COLUMNS``), one row per task × responsible
unit from row 3. The first columns describe the task and where it stands (area, number, text, lead
and co units, deadline, latest status/progress/narrative, light and its reasons); the last four are
for the unit to fill: 报送期 (filled in with the period asked for), 本期状态 (a drop-down list of the
five statuses), 本期进度（%） (a whole number 0–100) and 本期进展情况. A hidden sheet ``_meta`` says
which plan, which unit (empty for a whole-plan ledger) and which period the file was made for.

Import reads the filled columns of every row, checks all of them (the task exists, the row is the
file's unit's and the unit is responsible for the task, the period exists and is open, the status is
one of the list, the progress a whole number 0–100, a narrative is given, the report is not already
sent or accepted, no task and period twice) and reports every error as (row, column, message). One
error and nothing is saved; otherwise every filled row becomes a submitted report, in one
transaction, each with its event row, and one audit entry for the import.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tongban.core import audit
from tongban.core.errors import FieldError, Forbidden, InvalidInput
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import (
    EDITABLE_STATES,
    AssignmentRole,
    Light,
    ReportAction,
    ReportState,
    TaskStatus,
)
from tongban.plans.lights import plan_lights
from tongban.plans.models import (
    Plan,
    PlanSection,
    PlanTask,
    ReportingPeriod,
    TaskAssignment,
    TaskReport,
    TaskReportEvent,
)
from tongban.plans.reporting import content_errors, period_is_open, period_reporting_now, periods_ensure
from tongban.regions.models import Organisation

FORMAT = "tongban-plan-ledger/1"
SHEET, META = "台账", "_meta"
HEADER_ROW, FIRST_ROW = 2, 3
MAX_ROWS = 20000
MAX_BYTES = 20 * 1024 * 1024

COLUMNS = [
    "序号",
    "领域",
    "任务编号",
    "任务内容",
    "牵头单位",
    "配合单位",
    "责任单位",
    "责任",
    "完成时限",
    "最近报送期",
    "最近状态",
    "最近进度（%）",
    "最近进展情况",
    "亮灯",
    "亮灯原因",
    "报送期",
    "本期状态",
    "本期进度（%）",
    "本期进展情况",
]
FILL_COLUMNS = ["本期状态", "本期进度（%）", "本期进展情况"]
REQUIRED = ["任务编号", "责任单位", "报送期", *FILL_COLUMNS]
WIDTHS = [6, 16, 9, 60, 22, 28, 22, 8, 12, 14, 10, 10, 40, 8, 40, 14, 12, 12, 50]
FILL = PatternFill("solid", fgColor="FFF4CC")


# --- Export ---------------------------------------------------------------------------------------


def ledger_export(
    *, user, plan: Plan, organisation_id: int | None = None, period_key: str | None = None
) -> bytes:
    """The ledger as .xlsx bytes: the whole plan (the office, supervisors) or one unit's tasks."""
    if organisation_id is None:
        if not access.can_view_all_plans(user):
            raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办和督查人员可以导出全部台账。"))
    elif not (access.can_view_all_plans(user) or access.can_report_for(user, organisation_id)):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("您不能导出该单位的台账。"))
    periods_ensure(plan=plan)
    if period_key:
        period = ReportingPeriod.objects.filter(plan=plan, key=period_key).first()
        if period is None:
            raise InvalidInput(codes.PERIOD_NOT_FOUND, _("报送期“%(k)s”不存在。") % {"k": period_key})
    else:
        period = period_reporting_now(plan)
    unit = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    lights = plan_lights(plan)
    parts = dict(PlanSection.objects.filter(plan=plan, level=1).values_list("id", "title"))

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    title = _("%(plan)s 推进台账") % {"plan": plan.title}
    if unit:
        title += f" · {unit.name}"
    title += f" · {period.label}" if period else ""
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    for i, (name, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), 1):
        c = ws.cell(row=HEADER_ROW, column=i, value=name)
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="center")
        if name in FILL_COLUMNS or name == "报送期":
            c.fill = FILL
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=4)

    row_no = FIRST_ROW
    for t in lights.tasks:
        lead = t.lead
        co = "、".join(u.organisation for u in t.units if u.role == AssignmentRole.CO)
        for u in t.units:
            if unit and u.organisation_id != unit.pk:
                continue
            values = [
                row_no - FIRST_ROW + 1,
                parts.get(t.part_id, ""),
                t.number,
                t.text,
                lead.organisation if lead else "",
                co,
                u.organisation,
                str(AssignmentRole(u.role).label),
                t.deadline,
                u.period,
                str(TaskStatus(u.status).label) if u.status else "",
                u.progress,
                u.narrative,
                str(Light(u.light).label),
                "；".join(u.reasons),
                period.label if period else "",
                None,
                None,
                None,
            ]
            for col, value in enumerate(values, 1):
                cell = ws.cell(row=row_no, column=col, value=value)
                if isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                if COLUMNS[col - 1] in ("任务内容", "最近进展情况", "亮灯原因", "本期进展情况"):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if COLUMNS[col - 1] in FILL_COLUMNS or COLUMNS[col - 1] == "报送期":
                    cell.fill = FILL
            row_no += 1
    last = max(row_no - 1, FIRST_ROW)
    status_col = get_column_letter(COLUMNS.index("本期状态") + 1)
    progress_col = get_column_letter(COLUMNS.index("本期进度（%）") + 1)
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(str(label) for label in TaskStatus.labels) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("状态无效"),
        error=_("请从列表中选择推进状态。"),
    )
    dv.add(f"{status_col}{FIRST_ROW}:{status_col}{last}")
    ws.add_data_validation(dv)
    pv = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("进度无效"),
        error=_("进度应为 0 至 100 之间的整数。"),
    )
    pv.add(f"{progress_col}{FIRST_ROW}:{progress_col}{last}")
    ws.add_data_validation(pv)

    meta = wb.create_sheet(META)
    for i, (k, v) in enumerate(
        [
            ("format", FORMAT),
            ("plan", plan.code),
            ("plan_version", plan.version),
            ("unit", unit.uscc if unit else ""),
            ("unit_name", unit.name if unit else ""),
            ("period", period.key if period else ""),
            ("exported_at", timezone.localtime().isoformat(timespec="seconds")),
        ],
        1,
    ):
        meta.cell(row=i, column=1, value=k)
        meta.cell(row=i, column=2, value=v)
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- Import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerError:
    row: int
    column: str  # "Q（本期状态）"
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    created: int
    updated: int
    skipped: int  # rows with nothing filled in
    periods: list[str]


def _file_error(message: str) -> InvalidInput:
    return InvalidInput(
        codes.LEDGER_FILE_INVALID, message, errors=[FieldError("file", message, codes.LEDGER_FILE_INVALID)]
    )


def _open(content: bytes):
    if not content:
        raise _file_error(_("文件是空的。"))
    if len(content) > MAX_BYTES:
        raise _file_error(_("文件超过 20 MB。"))
    if not content.startswith(b"PK"):
        raise _file_error(_("文件不是 Excel（.xlsx）格式，请使用导出的台账填写。"))
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise _file_error(_("无法读取该 Excel 文件，文件可能已损坏或不是 .xlsx 格式。")) from None


def _meta(wb) -> dict:
    if META not in wb.sheetnames:
        return {}
    return {
        str(row[0]): ("" if row[1] is None else str(row[1]))
        for row in wb[META].iter_rows(min_row=1, max_col=2, values_only=True)
        if row and row[0]
    }


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _status_by_text() -> dict[str, str]:
    """A status as written in a filled ledger: its label in any of the node's languages (a ledger
    exported from an English page says "In progress"), or its code."""
    from django.conf import settings
    from django.utils import translation

    known = {v: v for v in TaskStatus.values}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            known.update({str(label): value for value, label in TaskStatus.choices})
    return known


def ledger_import(*, actor, plan: Plan, content: bytes, now: dt.datetime | None = None) -> ImportResult:
    """Imports a filled ledger (see the module). Raises ``InvalidInput`` (``LEDGER_*``) with every
    error, by row and column, and saves nothing when anything is wrong."""
    now = now or timezone.now()
    wb = _open(content)
    try:
        meta = _meta(wb)
        if meta.get("plan") and meta["plan"] != plan.code:
            raise _file_error(_("这是方案“%(code)s”的台账，不是本方案的。") % {"code": meta["plan"]})
        if SHEET not in wb.sheetnames:
            raise _file_error(_("文件中没有“台账”工作表，请使用导出的台账填写。"))
        ws = wb[SHEET]
        rows = ws.iter_rows(min_row=HEADER_ROW, values_only=True)
        header = [_text(v) for v in (next(rows, None) or ())]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            msg = _("台账缺少以下列（或列名被修改）：%(cols)s。") % {"cols": "、".join(missing)}
            raise InvalidInput(
                codes.LEDGER_COLUMNS,
                msg,
                errors=[FieldError(name, _("缺少此列。"), codes.LEDGER_COLUMNS) for name in missing],
                details={"missing": missing},
            )
        col = {name: header.index(name) for name in REQUIRED}
        data = []
        for i, values in enumerate(rows, start=FIRST_ROW):
            if i - FIRST_ROW >= MAX_ROWS:
                raise _file_error(_("台账超过 %(n)d 行。") % {"n": MAX_ROWS})
            values = list(values) + [None] * (len(header) - len(values))
            data.append((i, values))
    finally:
        wb.close()

    unit = _unit_of(actor, meta)
    errors, items, skipped = _validate(plan, unit, data, col, on=timezone.localtime(now).date())
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        first = errors[0]
        raise InvalidInput(
            codes.LEDGER_ROWS_INVALID,
            _("台账有 %(n)d 处错误，未保存任何内容。第一处：第 %(row)d 行 %(col)s 列：%(msg)s")
            % {"n": len(errors), "row": first.row, "col": first.column, "msg": first.message},
            errors=[
                FieldError(f"第{e.row}行{e.column}列", e.message, codes.LEDGER_ROWS_INVALID)
                for e in errors[:500]
            ],
            details={"errors": [e.as_dict() for e in errors[:500]], "count": len(errors)},
        )
    return _save(actor=actor, plan=plan, unit=unit, items=items, skipped=skipped, now=now)


def _unit_of(actor, meta: dict) -> Organisation:
    uscc = meta.get("unit", "")
    if uscc:
        unit = Organisation.objects.filter(uscc=uscc).first()
        if unit is None:
            raise _file_error(_("台账所属单位在本节点不存在。"))
    else:
        unit = getattr(actor, "organisation", None)
    if unit is None or not access.can_report_for(actor, unit.pk):
        raise Forbidden(
            codes.TRACKING_FORBIDDEN,
            _("只能导入本单位的台账（该台账属于“%(name)s”）。")
            % {"name": meta.get("unit_name") or (unit.name if unit else "")},
        )
    return unit


def _letter(col: dict, name: str) -> str:
    return f"{get_column_letter(col[name] + 1)}（{name}）"


@dataclass
class _Item:
    row: int
    task_id: int
    period: ReportingPeriod
    status: str
    progress: int
    narrative: str


def _validate(plan, unit, data, col, *, on: dt.date):
    periods_ensure(plan=plan)
    status_by_text = _status_by_text()
    tasks = dict(PlanTask.objects.filter(plan=plan, removed_at__isnull=True).values_list("number", "id"))
    assigned = set(
        TaskAssignment.objects.filter(task__plan=plan, organisation=unit).values_list("task_id", flat=True)
    )
    periods = {p.label: p for p in ReportingPeriod.objects.filter(plan=plan)}
    periods.update({p.key: p for p in periods.values()})
    locked = {
        (r["task_id"], r["period_id"]): r["state"]
        for r in TaskReport.objects.filter(task__plan=plan, organisation=unit)
        .exclude(state__in=EDITABLE_STATES)
        .values("task_id", "period_id", "state")
    }
    errors: list[LedgerError] = []
    items: list[_Item] = []
    seen: dict[tuple[int, int], int] = {}
    skipped = 0
    L = {name: _letter(col, name) for name in REQUIRED}
    for row, values in data:
        filled = [values[col[name]] for name in FILL_COLUMNS]
        if all(v is None or _text(v) == "" for v in filled):
            skipped += 1
            continue
        row_errors = len(errors)

        def err(name, message, row=row):
            errors.append(LedgerError(row, L[name], message))

        number = _int(values[col["任务编号"]])
        task_id = tasks.get(number) if number is not None else None
        if number is None:
            err("任务编号", _("任务编号应为整数。"))
        elif task_id is None:
            err("任务编号", _("方案中没有第 %(n)d 项任务。") % {"n": number})
        unit_name = _text(values[col["责任单位"]])
        if unit_name != unit.name:
            err(
                "责任单位",
                _("该行属于“%(name)s”，不是本单位（%(unit)s）的任务。")
                % {"name": unit_name or "（空）", "unit": unit.name},
            )
        elif task_id is not None and task_id not in assigned:
            err("责任单位", _("本单位不是第 %(n)d 项任务的责任单位。") % {"n": number})
        period = periods.get(_text(values[col["报送期"]]))
        if period is None:
            err("报送期", _("报送期“%(p)s”不存在。") % {"p": _text(values[col["报送期"]]) or "（空）"})
        elif not period_is_open(period, on=on):
            err("报送期", _("报送期“%(p)s”未开始或已关闭。") % {"p": period.label})
        status_text = _text(values[col["本期状态"]])
        status = status_by_text.get(status_text)
        if status is None:
            err(
                "本期状态",
                _("状态“%(s)s”不在列表中（%(labels)s）。")
                % {"s": status_text or "（空）", "labels": "、".join(str(x) for x in TaskStatus.labels)},
            )
        raw_progress = values[col["本期进度（%）"]]
        progress = _int(raw_progress)
        if progress is None or not 0 <= progress <= 100:
            err(
                "本期进度（%）",
                _("进度“%(p)s”应为 0 至 100 之间的整数。") % {"p": _text(raw_progress) or "（空）"},
            )
        narrative = _text(values[col["本期进展情况"]])
        if status is not None and progress is not None and 0 <= progress <= 100:
            for e in content_errors(status=status, progress=progress, narrative=narrative, submitting=True):
                err(
                    {"progress": "本期进度（%）", "narrative": "本期进展情况", "status": "本期状态"}[e.field],
                    e.message,
                )
        if len(errors) > row_errors:
            continue
        key = (task_id, period.pk)
        if key in seen:
            err(
                "任务编号",
                _("第 %(n)d 项任务的%(p)s报告与第 %(r)d 行重复。")
                % {"n": number, "p": period.label, "r": seen[key]},
            )
            continue
        seen[key] = row
        if key in locked:
            err(
                "本期状态",
                _("该任务%(p)s的报告%(s)s，不能通过台账修改。")
                % {"p": period.label, "s": ReportState(locked[key]).label},
            )
            continue
        items.append(_Item(row, task_id, period, status, progress, narrative))
    return errors, items, skipped


def _save(*, actor, plan, unit, items: list[_Item], skipped: int, now) -> ImportResult:
    from tongban.plans.reporting import _label

    label = _label(actor)[:150]
    local_day = timezone.localtime(now).date()
    with transaction.atomic():
        existing = {
            (r.task_id, r.period_id): r
            for r in TaskReport.objects.select_for_update().filter(
                organisation=unit,
                task_id__in={i.task_id for i in items},
                period_id__in={i.period.pk for i in items},
            )
        }
        created, updated, events = [], [], []
        for it in items:
            r = existing.get((it.task_id, it.period.pk))
            from_state = r.state if r else ""
            if r is not None and r.state not in EDITABLE_STATES:  # sent meanwhile
                raise InvalidInput(
                    codes.LEDGER_ROWS_INVALID,
                    _("第 %(row)d 行的报告刚刚已报送，请重新导出台账。") % {"row": it.row},
                )
            if r is None:
                r = TaskReport(task_id=it.task_id, organisation=unit, period=it.period)
                created.append(r)
            else:
                updated.append(r)
            r.status, r.progress, r.narrative = it.status, it.progress, it.narrative
            r.state, r.version = ReportState.SUBMITTED, r.version + 1
            r.submitted_at, r.submitted_by = now, actor
            if r.first_submitted_at is None:
                r.first_submitted_at = now
                r.on_time = local_day <= it.period.due_on
            r._from_state = from_state
        TaskReport.objects.bulk_create(created)
        TaskReport.objects.bulk_update(
            updated,
            [
                "status",
                "progress",
                "narrative",
                "state",
                "version",
                "submitted_at",
                "submitted_by",
                "first_submitted_at",
                "on_time",
                "updated_at",
            ],
        )
        for r in [*created, *updated]:
            r.updated_at = now
            action = ReportAction.RESUBMIT if r._from_state == ReportState.RETURNED else ReportAction.SUBMIT
            events.append(
                TaskReportEvent(
                    report=r,
                    action=action,
                    from_state=r._from_state,
                    to_state=r.state,
                    version=r.version,
                    actor=actor,
                    actor_label=label,
                    note=_("台账导入"),
                    snapshot={
                        "status": r.status,
                        "progress": r.progress,
                        "narrative": r.narrative,
                        "attachments": [],
                    },
                    at=now,
                )
            )
        TaskReportEvent.objects.bulk_create(events)
        period_keys = sorted({i.period.key for i in items})
        audit.record(
            actor=actor,
            action="plans.ledger_import",
            target=plan,
            data={
                "organisation": unit.pk,
                "created": len(created),
                "updated": len(updated),
                "skipped": skipped,
                "periods": period_keys,
            },
        )
    return ImportResult(created=len(created), updated=len(updated), skipped=skipped, periods=period_keys)
