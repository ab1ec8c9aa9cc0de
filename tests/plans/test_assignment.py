"""Lead and co-responsible units: by task, by part (area), and from the Excel template."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests import factories
from tests.plans.import_fixtures import xlsx_bytes
from tongban.core.errors import Forbidden, InvalidInput
from tongban.core.models import AuditEntry
from tongban.plans import error_codes as codes
from tongban.plans.assignment import (
    assignment_import_excel,
    assignment_set,
    assignment_set_for_part,
    assignment_template,
    unit_find,
)
from tongban.plans.models import AssignmentEvent, PlanTask, TaskAssignment
from tongban.plans.selectors import part_for, tasks_of_unit

pytestmark = pytest.mark.django_db
pytest_plugins = ("tests.plans.import_fixtures",)


def units_of(task):
    return {
        (a.organisation.name, a.role)
        for a in TaskAssignment.objects.filter(task=task).select_related("organisation")
    }


def test_assign_one_task_and_change_its_lead_is_recorded(seed_plan, units, office):
    task = PlanTask.objects.get(plan=seed_plan, number=1)
    assignment_set(actor=office, task=task, lead=units["kjj"], co=[units["fgw"]])
    assert units_of(task) == {("合肥市科学技术局", "lead"), ("合肥市发展和改革委员会", "co")}
    # The co-unit becomes the lead, the former lead becomes a co-unit: still one lead.
    assignment_set(actor=office, task=task, lead=units["fgw"], co=[units["kjj"]])
    assert units_of(task) == {("合肥市发展和改革委员会", "lead"), ("合肥市科学技术局", "co")}
    change = AssignmentEvent.objects.get(task=task, action="lead_changed")
    assert change.organisation == units["fgw"] and change.previous_organisation == units["kjj"]
    assert change.actor == office and change.source == "task"
    assert AuditEntry.objects.filter(action="plan.task_assigned").count() == 2
    # Setting the same units again writes nothing.
    assert assignment_set(actor=office, task=task, lead=units["fgw"], co=[units["kjj"]]).changes == 0


def test_assignment_rules(seed_plan, units, office, reporter):
    task = PlanTask.objects.get(plan=seed_plan, number=2)
    with pytest.raises(Forbidden):
        assignment_set(actor=reporter, task=task, lead=units["kjj"])
    with pytest.raises(InvalidInput) as exc:
        assignment_set(actor=office, task=task, lead=units["kjj"], co=[units["kjj"]])
    assert exc.value.code == codes.ASSIGNMENT_INVALID
    with pytest.raises(InvalidInput):
        assignment_set(actor=office, task=task, lead=None, co=[units["kjj"]])
    assert not TaskAssignment.objects.filter(task=task).exists()


def test_assign_a_whole_part_by_area(seed_plan, units, office):
    part = part_for(seed_plan, 4)  # 交通一体化: 20 tasks
    result = assignment_set_for_part(actor=office, part=part, lead=units["jtj"], co=[units["fgw"]])
    assert result.tasks == 20 and result.changes == 40
    assert tasks_of_unit(units["jtj"].pk, plan=seed_plan, role="lead").count() == 20
    assert tasks_of_unit(units["fgw"].pk, plan=seed_plan).count() == 20
    assert set(tasks_of_unit(units["jtj"].pk).values_list("number", flat=True)) == set(range(55, 75))
    empty = part_for(seed_plan, 1)
    with pytest.raises(InvalidInput):
        assignment_set_for_part(actor=office, part=empty, lead=units["jtj"])


def test_template_lists_every_task_with_current_units(seed_plan, units, office):
    assignment_set(
        actor=office,
        task=PlanTask.objects.get(plan=seed_plan, number=3),
        lead=units["kjj"],
        co=[units["fgw"], units["jtj"]],
    )
    book = load_workbook(io.BytesIO(assignment_template(plan=seed_plan)))
    sheet = book["责任分工"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("任务序号", "所属部分", "任务内容", "牵头单位", "配合单位")
    assert len(rows) == 211 and [r[0] for r in rows[1:]] == list(range(1, 211))
    assert rows[3][1] == "二、科创一体化" and rows[3][3] == "合肥市科学技术局"
    assert set(rows[3][4].split("、")) == {"合肥市发展和改革委员会", "合肥市交通运输局"}
    directory = {r[0]: r[1] for r in book["单位名录"].iter_rows(min_row=2, values_only=True)}
    assert directory["合肥市交通运输局"] == units["jtj"].uscc


def test_excel_import_by_name_and_credit_code(seed_plan, units, office):
    content = xlsx_bytes(
        [
            [1, "", "", "合肥市科学技术局", "合肥市发展和改革委员会"],
            [2, "", "", units["jtj"].uscc, f"{units['kjj'].uscc}、合肥市发展和改革委员会"],
            [None, None, None, None, None],
            ["3", "", "", "", ""],
        ]
    )
    result = assignment_import_excel(actor=office, plan=seed_plan, content=content)
    assert result.tasks == 3 and result.changes == 5
    assert units_of(PlanTask.objects.get(plan=seed_plan, number=2)) == {
        ("合肥市交通运输局", "lead"), ("合肥市科学技术局", "co"), ("合肥市发展和改革委员会", "co"),
    }  # fmt: skip
    assert set(AssignmentEvent.objects.values_list("source", flat=True)) == {"excel"}


def test_excel_errors_are_reported_by_row_and_column_and_nothing_changes(seed_plan, units, office):
    task1 = PlanTask.objects.get(plan=seed_plan, number=1)
    assignment_set(actor=office, task=task1, lead=units["fgw"])
    content = xlsx_bytes(
        [
            [1, "", "", "合肥市科学技术局", ""],  # valid on its own
            [999, "", "", "合肥市科学技术局", ""],
            ["abc", "", "", "合肥市科学技术局", ""],
            [4, "", "", "不存在的局", ""],
            [5, "", "", "合肥市科学技术局", "合肥市科学技术局"],
            [6, "", "", "", "合肥市交通运输局"],
            [7, "", "", "合肥市科学技术局、合肥市交通运输局", ""],
            [1, "", "", "合肥市交通运输局", ""],
            [8, "", "", "合肥市科学技术局", "91340100MA2T0A0000"],
        ]
    )
    with pytest.raises(InvalidInput) as exc:
        assignment_import_excel(actor=office, plan=seed_plan, content=content)
    assert exc.value.code == codes.EXCEL_INVALID
    fields = [e.field for e in exc.value.errors]
    assert fields == [
        "第 3 行 任务序号", "第 4 行 任务序号", "第 5 行 牵头单位", "第 6 行 配合单位", "第 7 行 牵头单位",
        "第 8 行 牵头单位", "第 9 行 任务序号", "第 10 行 配合单位",
    ]  # fmt: skip
    assert "不存在" in exc.value.errors[2].message
    assert units_of(task1) == {("合肥市发展和改革委员会", "lead")}  # nothing changed
    assert TaskAssignment.objects.count() == 1


def test_excel_with_wrong_columns_or_not_excel(seed_plan, office):
    with pytest.raises(InvalidInput) as exc:
        assignment_import_excel(
            actor=office, plan=seed_plan, content=xlsx_bytes([[1, "x"]], header=("序号", "单位"))
        )
    assert exc.value.code == codes.EXCEL_INVALID and "牵头单位" in exc.value.message
    with pytest.raises(InvalidInput):
        assignment_import_excel(actor=office, plan=seed_plan, content=b"not an excel file")
    with pytest.raises(InvalidInput):
        assignment_import_excel(actor=office, plan=seed_plan, content=b"PK\x03\x04broken zip")


def test_ambiguous_names_need_the_credit_code(units):
    factories.organisation("合肥市科学技术局", kind="unit")
    with pytest.raises(InvalidInput) as exc:
        unit_find("合肥市科学技术局")
    assert "统一社会信用代码" in exc.value.message
    assert unit_find(units["kjj"].uscc) == units["kjj"]


def test_removed_task_cannot_be_assigned(seed_plan, units, office):
    task = PlanTask.objects.get(plan=seed_plan, number=5)
    task.removed_at = task.created_at
    task.save()
    with pytest.raises(InvalidInput):
        assignment_set(actor=office, task=task, lead=units["kjj"])


def test_cli_template_and_import(seed_plan, units, tmp_path, capsys):
    out = tmp_path / "fengong.xlsx"
    call_command("plan", "assign-template", seed_plan.code, str(out))
    book = load_workbook(out)
    sheet = book["责任分工"]
    sheet["D2"] = "合肥市科学技术局"
    sheet["E2"] = "合肥市交通运输局"
    book.save(out)
    call_command("plan", "assign-import", seed_plan.code, str(out))
    assert "已导入分工" in capsys.readouterr().out
    assert units_of(PlanTask.objects.get(plan=seed_plan, number=1)) == {
        ("合肥市科学技术局", "lead"),
        ("合肥市交通运输局", "co"),
    }
    sheet["D3"] = "没有这个单位"
    book.save(out)
    with pytest.raises(CommandError) as exc:
        call_command("plan", "assign-import", seed_plan.code, str(out))
    assert exc.value.returncode == 2 and "第 3 行 牵头单位" in str(exc.value)
    print(exc.value, file=sys.stderr)
    with pytest.raises(CommandError) as exc:
        call_command("plan", "assign-template", "no-such-plan", str(out))
    assert exc.value.returncode == 2
