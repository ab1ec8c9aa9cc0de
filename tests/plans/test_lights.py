"""Lights: red / yellow / green per task from timeliness, schedule and status, with reasons in words;
the rule configurable; aggregated per area and per unit; a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.plans.tracking_fixtures import at, tracking_world
from tongban.core.errors import Forbidden, InvalidInput
from tongban.plans import lights, reporting
from tongban.plans.constants import Light, TaskStatus
from tongban.plans.models import PlanTask, TaskAssignment

pytestmark = pytest.mark.django_db

ON_TIME = at("2024-10-09")  # September 2024 reports are due on 12 October (a make-up Saturday)


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def send(w, unit, task, key="2024-09", now=ON_TIME, status=TaskStatus.IN_PROGRESS, progress=30):
    return reporting.report_save(
        actor=w["reporters"][unit],
        task=w["tasks"][task],
        organisation_id=w["units"][unit].pk,
        period=reporting.period_get(plan=w["plan"], key=key),
        status=status,
        progress=progress,
        narrative="本期按计划推进，完成阶段性工作。",
        submit=True,
        now=now,
    )


def send_all(w, key, now, progress=None):
    """Every responsible unit reports on every task for ``key``, on schedule."""
    plan = w["plan"]
    ends = reporting.period_get(plan=plan, key=key).ends_on
    by_org = {u.pk: name for name, u in w["units"].items()}
    for a in TaskAssignment.objects.filter(task__plan=plan).select_related("task"):
        p = (
            progress
            if progress is not None
            else min(100, int(lights.linear_expected(plan, a.task.deadline, ends)) + 5)
        )
        status = TaskStatus.DONE if p == 100 else TaskStatus.IN_PROGRESS
        send(w, by_org[a.organisation_id], a.task.number, key=key, now=now, status=status, progress=p)


def unit_light(result, number, unit):
    t = result.task(number)
    return next(u for u in t.units if u.organisation_id == unit.pk)


def test_a_report_missing_more_than_five_working_days_after_its_due_date_is_red(w):
    send_all(w, "2024-08", at("2024-09-05"))
    # 22 October: 7 working days after 12 October (14–18, 21, 22).
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
    u = unit_light(result, 2, w["units"]["sci"])
    assert u.light == Light.RED
    assert any("2024年9月报告应报未报，已逾期 7 个工作日" in r for r in u.reasons)
    # 16 October: 3 working days late (14, 15, 16) → yellow.
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 16))
    u = unit_light(result, 2, w["units"]["sci"])
    assert u.light == Light.YELLOW and "已逾期 3 个工作日" in u.reasons[0]


def test_on_time_and_on_schedule_is_green_and_says_so(w):
    send(w, "sci", 2, progress=60)  # deadline 2025-12-31: expected 39.7 % at 30 September 2024
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
    u = unit_light(result, 2, w["units"]["sci"])
    assert u.light == Light.GREEN
    assert u.reasons == ["按时报送，最近一期（2024年9月）状态“推进中”，进度 60%。"]
    assert result.task(2).light == Light.GREEN  # its only unit


def test_progress_behind_the_linear_schedule_is_yellow_then_red(w):
    # Task 5 is due 2024-12-31: by 30 September 74.8 % of the time has gone.
    send(w, "data", 5, progress=60)
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 10, 14)), 5, w["units"]["data"])
    assert u.light == Light.YELLOW
    assert "按线性进度截至 2024-09-30 应达 74.8%，落后 14.8 个百分点" in u.reasons[0]
    reporting.report_accept(actor=w["office"], report_id=w["tasks"][5].reports.get().pk)
    send(w, "data", 5, key="2024-10", now=at("2024-11-05"), progress=50)
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 11, 10)), 5, w["units"]["data"])
    assert u.light == Light.RED and "落后" in u.reasons[0]


def test_status_behind_and_a_passed_deadline_are_red(w):
    send(w, "sci", 2, status=TaskStatus.BEHIND, progress=50)
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 10, 14)), 2, w["units"]["sci"])
    assert u.light == Light.RED and "状态为“滞后”" in u.reasons[0]
    send(w, "data", 5, progress=90)
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2025, 1, 6)), 5, w["units"]["data"])
    assert u.light == Light.RED
    assert any("完成时限 2024-12-31 已过，任务尚未完成" in r for r in u.reasons)


def test_a_late_report_is_yellow_unless_the_rule_says_otherwise(w):
    send(w, "sci", 2, now=at("2024-10-15"), progress=60)
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22)), 2, w["units"]["sci"])
    assert u.light == Light.YELLOW and u.reasons == ["2024年9月报告逾期报送。"]
    lights.light_rule_set(actor=w["office"], plan=w["plan"], rule={"late_is_yellow": False})
    u = unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22)), 2, w["units"]["sci"])
    assert u.light == Light.GREEN


def test_the_rule_is_configurable_validated_and_shown(w):
    send_all(w, "2024-08", at("2024-09-05"))
    assert (
        unit_light(lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22)), 2, w["units"]["sci"]).light
        == Light.RED
    )
    with pytest.raises(Forbidden):
        lights.light_rule_set(actor=w["reporters"]["sci"], plan=w["plan"], rule={"overdue_red_workdays": 10})
    with pytest.raises(InvalidInput):
        lights.light_rule_set(actor=w["office"], plan=w["plan"], rule={"overdue_red_workdays": "ten"})
    with pytest.raises(InvalidInput):
        lights.light_rule_set(
            actor=w["office"], plan=w["plan"], rule={"behind_yellow_points": 50}
        )  # > red's 30
    lights.light_rule_set(actor=w["office"], plan=w["plan"], rule={"overdue_red_workdays": 10})
    w["plan"].refresh_from_db()
    assert w["plan"].light_rule["overdue_red_workdays"] == 10
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
    assert unit_light(result, 2, w["units"]["sci"]).light == Light.YELLOW
    assert "超过 10 个工作日" in lights.light_rule_text(result.rule)[0]


def test_a_report_due_soon_and_not_sent_is_yellow(w):
    send_all(w, "2024-08", at("2024-09-05"))
    # 9 October: September's reports are due on 12 October, 3 working days away.
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 9))
    assert result.pending.key == "2024-09" and result.last_due.key == "2024-08"
    u = unit_light(result, 2, w["units"]["sci"])
    assert u.light == Light.YELLOW
    assert u.reasons == ["2024年9月报告将于 2024-10-12 截止（还有 3 个工作日），尚未报送。"]


def test_a_task_takes_its_worst_unit_and_areas_and_units_aggregate(w):
    send_all(w, "2024-09", ON_TIME)
    # The co-unit of task 1 (发改委) has not reported for September... undo by returning its report.
    dev_report = w["tasks"][1].reports.get(organisation=w["units"]["dev"])
    reporting.report_return(actor=w["office"], report_id=dev_report.pk, reason="请补充与张江联络机制情况")
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
    t1 = result.task(1)
    assert t1.light == Light.RED
    assert t1.reasons == ["合肥市发展和改革委员会：2024年9月报告已退回未重新报送，已逾期 7 个工作日。"]
    assert {u.light for u in t1.units} == {Light.RED, Light.GREEN}
    science = next(a for a in result.areas if a.name == "科创一体化")
    assert science.counts == {Light.RED: 1, Light.YELLOW: 0, Light.GREEN: 2} and science.total == 3
    assert science.light == Light.RED  # 1/3 ≥ 20 %
    assert science.reason == "红灯 1 项（33%）、黄灯 0 项、绿灯 2 项，共 3 项。"
    business = next(a for a in result.areas if a.name == "营商环境一体化")
    assert business.light == Light.GREEN
    dev = next(a for a in result.units if a.key == w["units"]["dev"].pk)
    assert dev.counts[Light.RED] == 1 and dev.total == 4
    assert result.units[0].key == w["units"]["dev"].pk  # worst first


def test_a_task_without_units_is_grey_and_removed_tasks_are_left_out(w):
    extra = PlanTask.objects.create(
        plan=w["plan"], part=w["parts"]["science"], number=7, text="新增任务", position=99
    )
    w["tasks"][3].removed_at = at("2024-06-01")
    w["tasks"][3].save()
    result = lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
    assert result.task(extra.number).light == Light.GREY
    assert result.task(3) is None


def test_lights_take_a_fixed_number_of_queries(w, django_assert_max_num_queries):
    send_all(w, "2024-08", at("2024-09-05"))
    send_all(w, "2024-09", ON_TIME)
    reporting.periods_ensure(plan=w["plan"])
    # The holiday schedule is cached per process for a minute; read it now so a reload that falls due
    # during the measure is not counted as the lights' own queries.
    from tongban.core import workdays

    workdays.invalidate_cache()
    workdays.is_workday(dt.date(2024, 10, 22))
    with django_assert_max_num_queries(10):
        lights.plan_lights(w["plan"], on=dt.date(2024, 10, 22))
