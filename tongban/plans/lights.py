"""Red / yellow / green lights (亮灯) per task, per unit and per area, each with its reasons in words.

The rule is ``constants.DEFAULT_LIGHT_RULE`` overridden key by key by ``Plan.light_rule``; it is
shown next to the lights. For each task and each responsible unit (the unit's light on the task):

- red (红灯): the unit's latest report says 滞后; or the task's deadline has passed and it is not
  reported 已完成; or the report of the last period already due is still missing (or returned and
  not sent again) more than ``overdue_red_workdays`` working days after its due date; or progress is
  behind the linear schedule by more than ``behind_red_points`` points;
- yellow (黄灯): that report is missing but for fewer working days; or it came late
  (``late_is_yellow``); or the report of the period just ended is due within ``due_soon_workdays``
  working days and not sent; or progress is behind by more than ``behind_yellow_points`` points; or
  the task is reported 暂缓;
- green (绿灯) otherwise.

A task's light is the worst of its units' lights. An area (part) or a unit is red when at least
``aggregate_red_share`` of its tasks are red, yellow when any is red or at least
``aggregate_yellow_share`` are red or yellow, green otherwise.

The linear schedule runs from 1 January of the plan's start year (0 %) to the task's deadline, or
31 December of the plan's target year when the task has none (100 %); a report is compared with it
as of the end of the period it reports on.

Reads only: one query each for tasks, assignments, periods, units, the latest report of every task
and unit, and the reports of the two periods that matter now; no query per task.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from tongban.core import audit, workdays
from tongban.core.errors import FieldError, Forbidden, InvalidInput
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import (
    DEFAULT_LIGHT_RULE,
    LIGHT_ORDER,
    REPORTED_STATES,
    AssignmentRole,
    Light,
    ReportState,
    TaskStatus,
)
from tongban.plans.models import Plan, PlanSection, PlanTask, ReportingPeriod, TaskAssignment, TaskReport
from tongban.regions.models import Organisation


def light_rule(plan: Plan) -> dict:
    """The rule in force for ``plan``: the defaults with the plan's own values over them."""
    rule = dict(DEFAULT_LIGHT_RULE)
    rule.update({k: v for k, v in (plan.light_rule or {}).items() if k in DEFAULT_LIGHT_RULE})
    return rule


def light_rule_text(rule: dict) -> list[str]:
    """The rule in words, as shown next to the lights."""
    return [
        _(
            "红灯：最近一期报告为“滞后”；或完成时限已过仍未完成；或应报未报（含退回未重报）超过 %(x)d 个工作日；"
            "或进度落后线性进度超过 %(r)d 个百分点。"
        )
        % {"x": rule["overdue_red_workdays"], "r": rule["behind_red_points"]},
        _(
            "黄灯：应报未报但未超过 %(x)d 个工作日；%(late)s距报送截止不足 %(soon)d 个工作日尚未报送；"
            "进度落后超过 %(y)d 个百分点；或任务暂缓。"
        )
        % {
            "x": rule["overdue_red_workdays"],
            "late": _("逾期报送；") if rule["late_is_yellow"] else "",
            "soon": rule["due_soon_workdays"],
            "y": rule["behind_yellow_points"],
        },
        _("绿灯：按时报送且进度正常。"),
        _(
            "领域、单位：红灯任务占 %(red)d%% 及以上为红灯；有红灯或红黄灯合计占 %(yellow)d%% 及以上为黄灯；否则绿灯。"
        )
        % {
            "red": round(rule["aggregate_red_share"] * 100),
            "yellow": round(rule["aggregate_yellow_share"] * 100),
        },
    ]


_INT_KEYS = ("overdue_red_workdays", "due_soon_workdays", "behind_yellow_points", "behind_red_points")
_SHARE_KEYS = ("aggregate_red_share", "aggregate_yellow_share")


def light_rule_set(*, actor, plan: Plan, rule: dict) -> Plan:
    """Sets the plan's light rule (any subset of the keys of ``DEFAULT_LIGHT_RULE``)."""
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以设置亮灯规则。"))
    errors = []
    if not isinstance(rule, dict):
        raise InvalidInput(codes.SETTINGS_INVALID, _("亮灯规则应为对象。"))
    for key, value in rule.items():
        if key not in DEFAULT_LIGHT_RULE:
            errors.append(FieldError(key, _("未知的规则项。"), codes.SETTINGS_INVALID))
        elif key in _INT_KEYS and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
        ):
            errors.append(FieldError(key, _("应为 0 至 100 之间的整数。"), codes.SETTINGS_INVALID))
        elif key in _SHARE_KEYS and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1
        ):
            errors.append(FieldError(key, _("应为大于 0、不超过 1 的比例。"), codes.SETTINGS_INVALID))
        elif key == "late_is_yellow" and not isinstance(value, bool):
            errors.append(FieldError(key, _("应为 true 或 false。"), codes.SETTINGS_INVALID))
    merged = {**light_rule(plan), **{k: v for k, v in rule.items() if k in DEFAULT_LIGHT_RULE}}
    if not errors and merged["behind_yellow_points"] > merged["behind_red_points"]:
        errors.append(
            FieldError(
                "behind_yellow_points", _("黄灯落后点数不应大于红灯落后点数。"), codes.SETTINGS_INVALID
            )
        )
    if errors:
        raise InvalidInput(
            codes.SETTINGS_INVALID, _("亮灯规则设置不正确：%(m)s") % {"m": errors[0].message}, errors=errors
        )
    with transaction.atomic():
        plan.light_rule = merged
        plan.save(update_fields=["light_rule", "updated_at"])
        audit.record(actor=actor, action="plans.light_rule_set", target=plan, data={"rule": merged})
    return plan


# --- Computing ------------------------------------------------------------------------------------


@dataclass
class UnitLight:
    organisation_id: int
    organisation: str
    role: str
    light: str
    reasons: list[str]
    status: str | None = None  # latest reported status
    progress: int | None = None
    narrative: str = ""
    period: str = ""
    due_reported: bool | None = None  # the last due period's report was sent (None: nothing due yet)


@dataclass
class TaskLight:
    task_id: int
    number: int
    text: str
    part_id: int
    deadline: dt.date | None
    light: str
    reasons: list[str]
    units: list[UnitLight] = field(default_factory=list)

    @property
    def lead(self) -> UnitLight | None:
        return next((u for u in self.units if u.role == AssignmentRole.LEAD), None)


@dataclass
class Aggregate:
    key: int
    name: str
    light: str
    counts: dict[str, int]
    total: int
    reason: str


@dataclass
class PlanLights:
    rule: dict
    on: dt.date
    last_due: ReportingPeriod | None
    pending: ReportingPeriod | None
    tasks: list[TaskLight]
    areas: list[Aggregate]
    units: list[Aggregate]

    def task(self, number: int) -> TaskLight | None:
        return next((t for t in self.tasks if t.number == number), None)


def _worst(lights) -> str:
    return max(lights, key=lambda x: LIGHT_ORDER[x], default=Light.GREY)


def linear_expected(plan: Plan, deadline: dt.date | None, on: dt.date) -> float:
    """The progress (0–100) the linear schedule expects on ``on``."""
    start = dt.date(plan.start_year, 1, 1)
    end = deadline or dt.date(plan.end_year, 12, 31)
    if end <= start:
        return 100.0
    share = (on - start).days / (end - start).days
    return round(max(0.0, min(1.0, share)) * 100, 1)


def latest_reports(plan: Plan, *, on: dt.date | None = None) -> dict[tuple[int, int], dict]:
    """The latest report each unit sent on each task (submitted or accepted), keyed by (task, unit)."""
    qs = TaskReport.objects.filter(task__plan=plan, state__in=REPORTED_STATES)
    if on is not None:
        qs = qs.filter(period__ends_on__lte=on)
    rows = (
        qs.annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("task_id"), F("organisation_id")],
                order_by=[F("period__ends_on").desc(), F("id").desc()],
            )
        )
        .filter(rn=1)
        .values(
            "task_id",
            "organisation_id",
            "status",
            "progress",
            "narrative",
            "period__label",
            "period__ends_on",
        )
    )
    return {(r["task_id"], r["organisation_id"]): r for r in rows}


def _periods_now(plan: Plan, on: dt.date) -> tuple[ReportingPeriod | None, ReportingPeriod | None]:
    """(last period whose due date has passed, period that has ended but is not due yet)."""
    from tongban.plans.reporting import periods_ensure

    periods_ensure(plan=plan)
    last_due = ReportingPeriod.objects.filter(plan=plan, due_on__lt=on).order_by("-due_on").first()
    pending = (
        ReportingPeriod.objects.filter(plan=plan, ends_on__lt=on, due_on__gte=on).order_by("ends_on").first()
    )
    return last_due, pending


def plan_lights(plan: Plan, *, on: dt.date | None = None) -> PlanLights:
    from tongban.plans.reporting import today

    on = on or today()
    rule = light_rule(plan)
    tasks = list(
        PlanTask.objects.filter(plan=plan, removed_at__isnull=True)
        .order_by("position")
        .values("id", "number", "text", "part_id", "deadline")
    )
    assignments: dict[int, list[dict]] = {}
    for a in TaskAssignment.objects.filter(task__plan=plan, task__removed_at__isnull=True).values(
        "task_id", "organisation_id", "role"
    ):
        assignments.setdefault(a["task_id"], []).append(a)
    org_ids = {a["organisation_id"] for rows in assignments.values() for a in rows}
    org_names = dict(Organisation.objects.filter(id__in=org_ids).values_list("id", "name"))
    last_due, pending = _periods_now(plan, on)
    latest = latest_reports(plan, on=on)
    now_reports: dict[tuple[int, int, int], dict] = {}
    period_ids = [p.id for p in (last_due, pending) if p is not None]
    if period_ids:
        for r in TaskReport.objects.filter(period_id__in=period_ids, task__plan=plan).values(
            "task_id", "organisation_id", "period_id", "state", "on_time"
        ):
            now_reports[(r["task_id"], r["organisation_id"], r["period_id"])] = r
    overdue_days = workdays.workdays_between(last_due.due_on, on) if last_due else 0
    days_left = workdays.workdays_between(on, pending.due_on) if pending else 0

    out_tasks = []
    for t in tasks:
        units = []
        for a in sorted(
            assignments.get(t["id"], []),
            key=lambda a: (a["role"] != AssignmentRole.LEAD, a["organisation_id"]),
        ):
            key = (t["id"], a["organisation_id"])
            units.append(
                _unit_light(
                    plan,
                    rule,
                    on,
                    t,
                    a,
                    org_names.get(a["organisation_id"], ""),
                    latest.get(key),
                    last_due,
                    now_reports.get((*key, last_due.id)) if last_due else None,
                    overdue_days,
                    pending,
                    now_reports.get((*key, pending.id)) if pending else None,
                    days_left,
                )
            )
        light = _worst(u.light for u in units)
        if not units:
            reasons = [_("尚未确定责任单位。")]
        elif len(units) == 1:
            reasons = units[0].reasons
        else:
            reasons = [f"{u.organisation}：{r}" for u in units if u.light == light for r in u.reasons]
        out_tasks.append(
            TaskLight(
                task_id=t["id"],
                number=t["number"],
                text=t["text"],
                part_id=t["part_id"],
                deadline=t["deadline"],
                light=light,
                reasons=reasons,
                units=units,
            )
        )
    parts = dict(PlanSection.objects.filter(plan=plan, level=1).values_list("id", "title"))
    areas = []
    by_part: dict[int, list[str]] = {}
    for t in out_tasks:
        by_part.setdefault(t.part_id, []).append(t.light)
    for part_id, title in parts.items():
        if part_id in by_part:
            areas.append(aggregate(part_id, title, by_part[part_id], rule))
    by_unit: dict[int, list[str]] = {}
    for t in out_tasks:
        for u in t.units:
            by_unit.setdefault(u.organisation_id, []).append(u.light)
    units_agg = sorted(
        (aggregate(oid, org_names.get(oid, ""), lights, rule) for oid, lights in by_unit.items()),
        key=lambda a: (-LIGHT_ORDER[a.light], a.name),
    )
    return PlanLights(
        rule=rule, on=on, last_due=last_due, pending=pending, tasks=out_tasks, areas=areas, units=units_agg
    )


def aggregate(key: int, name: str, lights: list[str], rule: dict) -> Aggregate:
    counts = Counter(lights)
    total = len(lights) - counts.get(Light.GREY, 0)
    red, yellow = counts.get(Light.RED, 0), counts.get(Light.YELLOW, 0)
    if total == 0:
        light = Light.GREY
    elif red / total >= rule["aggregate_red_share"]:
        light = Light.RED
    elif red or (red + yellow) / total >= rule["aggregate_yellow_share"]:
        light = Light.YELLOW
    else:
        light = Light.GREEN
    reason = _("红灯 %(r)d 项（%(rp)s%%）、黄灯 %(y)d 项、绿灯 %(g)d 项，共 %(t)d 项。") % {
        "r": red,
        "rp": round(100 * red / total) if total else 0,
        "y": yellow,
        "g": counts.get(Light.GREEN, 0),
        "t": total,
    }
    return Aggregate(
        key=key,
        name=name,
        light=light,
        counts={k: counts.get(k, 0) for k in (Light.RED, Light.YELLOW, Light.GREEN)},
        total=total,
        reason=reason,
    )


def _unit_light(
    plan,
    rule,
    on,
    task,
    assignment,
    org_name,
    latest,
    last_due,
    due_report,
    overdue_days,
    pending,
    pending_report,
    days_left,
) -> UnitLight:
    red: list[str] = []
    yellow: list[str] = []
    status = latest["status"] if latest else None
    progress = latest["progress"] if latest else None
    if status == TaskStatus.BEHIND:
        red.append(_("最近一期（%(p)s）报告状态为“滞后”。") % {"p": latest["period__label"]})
    deadline = task["deadline"]
    if deadline and deadline < on and status != TaskStatus.DONE:
        red.append(_("完成时限 %(d)s 已过，任务尚未完成。") % {"d": deadline.isoformat()})
    if last_due is not None and last_due.starts_on >= dt.date(plan.start_year, 1, 1):
        state = due_report["state"] if due_report else None
        if state not in REPORTED_STATES:
            what = _("已退回未重新报送") if state == ReportState.RETURNED else _("应报未报")
            text = _("%(p)s报告%(what)s，已逾期 %(n)d 个工作日。") % {
                "p": last_due.label,
                "what": what,
                "n": overdue_days,
            }
            (red if overdue_days > rule["overdue_red_workdays"] else yellow).append(text)
        elif due_report.get("on_time") is False and rule["late_is_yellow"]:
            yellow.append(_("%(p)s报告逾期报送。") % {"p": last_due.label})
    if pending is not None and (pending_report is None or pending_report["state"] not in REPORTED_STATES):
        if days_left <= rule["due_soon_workdays"]:
            yellow.append(
                _("%(p)s报告将于 %(d)s 截止（还有 %(n)d 个工作日），尚未报送。")
                % {"p": pending.label, "d": pending.due_on.isoformat(), "n": days_left}
            )
    if latest and status not in (TaskStatus.DONE, TaskStatus.PAUSED):
        expected = linear_expected(plan, deadline, latest["period__ends_on"])
        gap = expected - progress
        text = _("进度 %(p)d%%，按线性进度截至 %(d)s 应达 %(e)s%%，落后 %(g)s 个百分点。") % {
            "p": progress,
            "d": latest["period__ends_on"].isoformat(),
            "e": _fmt(expected),
            "g": _fmt(gap),
        }
        if gap > rule["behind_red_points"]:
            red.append(text)
        elif gap > rule["behind_yellow_points"]:
            yellow.append(text)
    if status == TaskStatus.PAUSED:
        yellow.append(_("任务已暂缓。"))
    if red:
        light, reasons = Light.RED, red + yellow
    elif yellow:
        light, reasons = Light.YELLOW, yellow
    else:
        light = Light.GREEN
        if latest:
            reasons = [
                _("按时报送，最近一期（%(p)s）状态“%(s)s”，进度 %(n)d%%。")
                % {"p": latest["period__label"], "s": TaskStatus(status).label, "n": progress}
            ]
        else:
            reasons = [_("尚无到期的报送。")]
    return UnitLight(
        organisation_id=assignment["organisation_id"],
        organisation=org_name,
        role=assignment["role"],
        light=light,
        reasons=reasons,
        status=status,
        progress=progress,
        narrative=latest["narrative"] if latest else "",
        period=latest["period__label"] if latest else "",
        due_reported=None
        if last_due is None
        else bool(due_report and due_report["state"] in REPORTED_STATES),
    )


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")
