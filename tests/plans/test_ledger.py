"""The Excel ledger round trip: export per unit or plan (real .xlsx with drop-down validation),
import of a filled ledger with every error by row and column, and nothing saved on any error."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.plans.tracking_fixtures import at, build_plan, tracking_world
from tongban.core.errors import Forbidden, InvalidInput
from tongban.core.models import AuditEntry
from tongban.plans import error_codes as codes
from tongban.plans import ledger, reporting
from tongban.plans.constants import ReportState, TaskStatus
from tongban.plans.models import TaskReport, TaskReportEvent

pytestmark = pytest.mark.django_db

NOW = at("2024-10-09")


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def export(w, unit="sci", period="2024-09", user=None):
    org = w["units"][unit].pk if unit else None
    return ledger.ledger_export(
        user=user or (w["reporters"][unit] if unit else w["office"]),
        plan=w["plan"],
        organisation_id=org,
        period_key=period,
    )


def rows_of(content):
    ws = load_workbook(io.BytesIO(content))[ledger.SHEET]
    header = [c.value for c in ws[ledger.HEADER_ROW]]
    return (
        ws,
        header,
        [
            dict(zip(header, [c.value for c in r], strict=False))
            for r in ws.iter_rows(min_row=ledger.FIRST_ROW)
        ],
    )


def fill(content, values: dict[int, tuple], *, drop_column=None) -> bytes:
    """Fills 本期状态/进度/进展 of the rows of the given task numbers, as a unit would in Excel."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb[ledger.SHEET]
    header = [c.value for c in ws[ledger.HEADER_ROW]]
    col = {name: header.index(name) + 1 for name in header}
    for row in range(ledger.FIRST_ROW, ws.max_row + 1):
        number = ws.cell(row=row, column=col["任务编号"]).value
        if number in values:
            status, progress, narrative = values[number][:3]
            ws.cell(row=row, column=col["本期状态"], value=status)
            ws.cell(row=row, column=col["本期进度（%）"], value=progress)
            ws.cell(row=row, column=col["本期进展情况"], value=narrative)
            if len(values[number]) > 3:
                ws.cell(row=row, column=col["责任单位"], value=values[number][3])
    if drop_column:
        ws.cell(row=ledger.HEADER_ROW, column=col[drop_column], value="备注")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = {
    1: ("推进中", 30, "两大科学中心联络机制已建立，召开联席会议 2 次。"),
    2: ("推进中", 45, "国家实验室建设方案已上报。"),
    3: ("未启动", 0, ""),
}


def test_a_units_ledger_has_its_tasks_the_columns_and_a_status_list(w):
    content = export(w)
    ws, header, rows = rows_of(content)
    assert header == ledger.COLUMNS
    assert [r["任务编号"] for r in rows] == [1, 2, 3]
    assert {r["责任单位"] for r in rows} == {"合肥市科学技术局"}
    first = rows[0]
    assert first["领域"] == "科创一体化" and first["牵头单位"] == "合肥市科学技术局"
    assert first["配合单位"] == "合肥市发展和改革委员会" and first["责任"] == "牵头单位"
    assert first["报送期"] == "2024年9月" and first["本期状态"] is None
    assert first["完成时限"].date().isoformat() == "2026-12-31"
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and lists[0].formula1 == '"未启动,推进中,已完成,滞后,暂缓"'
    assert any(dv.type == "whole" for dv in ws.data_validations.dataValidation)
    meta = load_workbook(io.BytesIO(content))[ledger.META]
    assert meta.sheet_state == "hidden"
    values = {r[0].value: r[1].value for r in meta.iter_rows()}
    assert (
        values["plan"] == "hf-test"
        and values["unit"] == w["units"]["sci"].uscc
        and values["period"] == "2024-09"
    )


def test_the_whole_plan_ledger_is_for_the_office_and_has_every_task_and_unit(w):
    _ws, _header, rows = rows_of(export(w, unit=None))
    assert len(rows) == 10  # six tasks, four of them with a co-unit
    with pytest.raises(Forbidden):
        ledger.ledger_export(user=w["reporters"]["sci"], plan=w["plan"])
    with pytest.raises(Forbidden):
        ledger.ledger_export(
            user=w["reporters"]["sci"], plan=w["plan"], organisation_id=w["units"]["data"].pk
        )


def test_a_filled_ledger_becomes_submitted_reports(w):
    content = fill(export(w), GOOD)
    result = ledger.ledger_import(actor=w["reporters"]["sci"], plan=w["plan"], content=content, now=NOW)
    assert (result.created, result.updated, result.skipped, result.periods) == (3, 0, 0, ["2024-09"])
    reports = {r.task.number: r for r in TaskReport.objects.select_related("task")}
    assert (
        reports[1].state == ReportState.SUBMITTED and reports[1].progress == 30 and reports[1].on_time is True
    )
    assert reports[3].status == TaskStatus.NOT_STARTED
    assert reports[2].narrative == "国家实验室建设方案已上报。"
    assert TaskReportEvent.objects.filter(note="台账导入", action="submit").count() == 3
    assert AuditEntry.objects.get(action="plans.ledger_import").data["created"] == 3
    # The office returns one; the unit fixes it in the ledger and sends it back.
    reporting.report_return(
        actor=w["office"], report_id=reports[2].pk, reason="请说明实验室选址进展", now=at("2024-10-10")
    )
    content = fill(export(w), {2: ("推进中", 50, "实验室选址已确定，方案已上报。")})
    result = ledger.ledger_import(
        actor=w["reporters"]["sci"], plan=w["plan"], content=content, now=at("2024-10-15")
    )
    assert (result.created, result.updated, result.skipped) == (0, 1, 2)
    reports[2].refresh_from_db()
    assert (
        reports[2].state == ReportState.SUBMITTED and reports[2].version == 2 and reports[2].on_time is True
    )
    assert list(reports[2].events.values_list("action", flat=True)) == ["submit", "return", "resubmit"]


def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_saved(w):
    content = fill(
        export(w),
        {
            1: ("进行中", 30, "状态不在列表中的一行。"),
            2: ("推进中", 150, "进度超出范围的一行。"),
            3: ("已完成", 80, "已完成但进度不是 100。", "合肥市数据资源局"),
        },
    )
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(actor=w["reporters"]["sci"], plan=w["plan"], content=content, now=NOW)
    assert exc.value.code == codes.LEDGER_ROWS_INVALID
    errors = exc.value.details["errors"]
    assert {
        "row": 3,
        "column": "Q（本期状态）",
        "message": "状态“进行中”不在列表中（未启动、推进中、已完成、滞后、暂缓）。",
    } in errors
    assert {
        "row": 4,
        "column": "R（本期进度（%））",
        "message": "进度“150”应为 0 至 100 之间的整数。",
    } in errors
    assert any(
        e["row"] == 5 and e["column"] == "G（责任单位）" and "合肥市数据资源局" in e["message"]
        for e in errors
    )
    assert {"row": 5, "column": "R（本期进度（%））", "message": "状态为“已完成”时进度应为 100。"} in errors
    assert exc.value.message.startswith("台账有 4 处错误，未保存任何内容。第一处：第 3 行 Q（本期状态） 列")
    assert not TaskReport.objects.exists() and not TaskReportEvent.objects.exists()


def test_unknown_task_duplicate_rows_locked_reports_and_closed_periods_are_errors(w):
    content = export(w)
    wb = load_workbook(io.BytesIO(content))
    ws = wb[ledger.SHEET]
    ws.cell(row=3, column=3, value=99)  # task 99 does not exist
    ws.append(
        [
            None,
            None,
            2,
            None,
            None,
            None,
            "合肥市科学技术局",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "2024年9月",
            "推进中",
            10,
            "重复的一行任务。",
        ]
    )
    for r in range(3, ws.max_row + 1):
        ws.cell(row=r, column=17, value="推进中")
        ws.cell(row=r, column=18, value=10)
        ws.cell(row=r, column=19, value="进展说明，至少五个字。")
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(actor=w["reporters"]["sci"], plan=w["plan"], content=out.getvalue(), now=NOW)
    messages = [(e["row"], e["message"]) for e in exc.value.details["errors"]]
    assert (3, "方案中没有第 99 项任务。") in messages
    assert any(row == 6 and "重复" in m for row, m in messages)
    # A report already sent cannot be changed through the ledger; a closed period takes nothing.
    ledger.ledger_import(
        actor=w["reporters"]["sci"], plan=w["plan"], content=fill(export(w), {1: GOOD[1]}), now=NOW
    )
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(
            actor=w["reporters"]["sci"], plan=w["plan"], content=fill(export(w), GOOD), now=NOW
        )
    assert any("已报送，不能通过台账修改" in e["message"] for e in exc.value.details["errors"])
    assert TaskReport.objects.count() == 1
    reporting.period_close(actor=w["office"], period=reporting.period_get(plan=w["plan"], key="2024-09"))
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(
            actor=w["reporters"]["sci"], plan=w["plan"], content=fill(export(w), {2: GOOD[2]}), now=NOW
        )
    assert "未开始或已关闭" in exc.value.details["errors"][0]["message"]


def test_wrong_columns_wrong_file_or_another_plan_are_refused_whole(w):
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(
            actor=w["reporters"]["sci"],
            plan=w["plan"],
            content=fill(export(w), GOOD, drop_column="本期状态"),
            now=NOW,
        )
    assert exc.value.code == codes.LEDGER_COLUMNS and "本期状态" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(
            actor=w["reporters"]["sci"], plan=w["plan"], content=b"%PDF-1.4 not a workbook", now=NOW
        )
    assert exc.value.code == codes.LEDGER_FILE_INVALID
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(
            actor=w["reporters"]["sci"], plan=w["plan"], content=b"PK\x03\x04broken", now=NOW
        )
    assert exc.value.code == codes.LEDGER_FILE_INVALID
    empty = io.BytesIO()
    Workbook().save(empty)
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(actor=w["reporters"]["sci"], plan=w["plan"], content=empty.getvalue(), now=NOW)
    assert exc.value.code == codes.LEDGER_FILE_INVALID and "台账" in exc.value.message
    other = build_plan(code="other-plan")["plan"]
    with pytest.raises(InvalidInput) as exc:
        ledger.ledger_import(actor=w["reporters"]["sci"], plan=other, content=fill(export(w), GOOD), now=NOW)
    assert "hf-test" in exc.value.message
    assert not TaskReport.objects.exists()


def test_another_units_reporter_cannot_import_a_units_ledger(w):
    with pytest.raises(Forbidden):
        ledger.ledger_import(
            actor=w["reporters"]["data"], plan=w["plan"], content=fill(export(w), GOOD), now=NOW
        )
    assert not TaskReport.objects.exists()


def test_a_ledger_filled_in_english_is_read_like_a_chinese_one(w):
    """Status names in any of the node's languages are understood (a ledger exported from an English
    page has the English names in its list)."""
    from django.utils import translation

    with translation.override("en"):
        english = {value: str(label) for value, label in TaskStatus.choices}
    assert english[TaskStatus.IN_PROGRESS] != "推进中"
    values = {n: (english[TaskStatus(status_for(s))], p, t) for n, (s, p, t) in GOOD.items()}
    result = ledger.ledger_import(
        actor=w["reporters"]["sci"], plan=w["plan"], content=fill(export(w), values), now=NOW
    )
    assert result.created == 3


def status_for(label: str) -> str:
    return next(value for value, text in TaskStatus.choices if str(text) == label)
