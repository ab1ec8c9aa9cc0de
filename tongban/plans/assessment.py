"""The annual assessment of units (年度考核): a score per unit from three components, each shown with
its numbers, under the weights in ``Plan.assessment_weights`` (defaults in
``constants.DEFAULT_ASSESSMENT_WEIGHTS``: 30 % timeliness, 30 % quality, 40 % completion).

- 按时报送 timeliness = reports sent by their due date / reports due in the year (every task the unit
  is responsible for × every period of the year whose due date has passed by ``as_of``); a report
  never sent counts as not on time.
- 报送质量 quality = reports accepted at their first submission / reports the office reviewed
  (accepted, or returned at least once), over the year's periods.
- 任务完成 completion = the unit's tasks that, by its latest report up to ``as_of``, are 已完成 or on
  schedule (not 滞后 and no more than the light rule's ``behind_yellow_points`` behind the linear
  schedule) / the unit's tasks.

score = 100 × Σ(weight × component) / Σ(weight) over the components that have data (a unit with no
reviewed report has no quality component and the other weights are scaled up — this is said in the
explanation). Each run is a new set of immutable rows: recomputing never changes a published score.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import DEFAULT_ASSESSMENT_WEIGHTS, AssessmentComponent, ReportState, TaskStatus
from tongban.plans.lights import latest_reports, light_rule, linear_expected
from tongban.plans.models import (
    AssessmentRun,
    AssessmentScore,
    Plan,
    ReportingPeriod,
    TaskAssignment,
    TaskReport,
)
from tongban.regions.models import Organisation

COMPONENTS = [c.value for c in AssessmentComponent]


def weights_of(plan: Plan) -> dict[str, float]:
    w = dict(DEFAULT_ASSESSMENT_WEIGHTS)
    w.update(
        {k: float(v) for k, v in (plan.assessment_weights or {}).items() if k in DEFAULT_ASSESSMENT_WEIGHTS}
    )
    return w


def weights_set(*, actor, plan: Plan, weights: dict) -> Plan:
    """Sets the plan's assessment weights (non-negative numbers, at least one above zero)."""
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以设置考核权重。"))
    errors = []
    if not isinstance(weights, dict):
        raise InvalidInput(codes.SETTINGS_INVALID, _("考核权重应为对象。"))
    for key, value in weights.items():
        if key not in DEFAULT_ASSESSMENT_WEIGHTS:
            errors.append(FieldError(key, _("未知的考核项。"), codes.SETTINGS_INVALID))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            errors.append(FieldError(key, _("权重应为 0 至 100 之间的数。"), codes.SETTINGS_INVALID))
    merged = {**weights_of(plan), **{k: v for k, v in weights.items() if k in DEFAULT_ASSESSMENT_WEIGHTS}}
    if not errors and sum(float(v) for v in merged.values()) <= 0:
        errors.append(FieldError("weights", _("至少一项权重应大于 0。"), codes.SETTINGS_INVALID))
    if errors:
        raise InvalidInput(
            codes.SETTINGS_INVALID, _("考核权重设置不正确：%(m)s") % {"m": errors[0].message}, errors=errors
        )
    with transaction.atomic():
        plan.assessment_weights = {k: float(v) for k, v in merged.items()}
        plan.save(update_fields=["assessment_weights", "updated_at"])
        audit.record(
            actor=actor, action="plans.weights_set", target=plan, data={"weights": plan.assessment_weights}
        )
    return plan


def _pct(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _d(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def compute(plan: Plan, *, year: int, as_of: dt.date) -> list[dict]:
    """The scores (not saved): one dict per unit, best first."""
    weights = weights_of(plan)
    rule = light_rule(plan)
    due_periods = list(
        ReportingPeriod.objects.filter(plan=plan, year=year, due_on__lte=as_of).values_list("id", flat=True)
    )
    year_periods = ReportingPeriod.objects.filter(plan=plan, year=year, starts_on__lte=as_of)
    tasks_of: dict[int, list[tuple[int, object]]] = {}
    for a in TaskAssignment.objects.filter(task__plan=plan, task__removed_at__isnull=True).values(
        "organisation_id", "task_id", "task__deadline"
    ):
        tasks_of.setdefault(a["organisation_id"], []).append((a["task_id"], a["task__deadline"]))
    on_time = dict(
        TaskReport.objects.filter(period_id__in=due_periods, on_time=True, task__removed_at__isnull=True)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
    reviewed = {
        r["organisation_id"]: r
        for r in TaskReport.objects.filter(period__in=year_periods)
        .filter(Q(state=ReportState.ACCEPTED) | Q(times_returned__gt=0))
        .values("organisation_id")
        .annotate(
            reviewed=Count("id"),
            first_pass=Count("id", filter=Q(state=ReportState.ACCEPTED, times_returned=0)),
        )
    }
    latest = latest_reports(plan, on=as_of)
    names = dict(Organisation.objects.filter(id__in=tasks_of).values_list("id", "name"))
    rows = []
    for org_id, tasks in tasks_of.items():
        expected = len(tasks) * len(due_periods)
        n_on_time = on_time.get(org_id, 0)
        q = reviewed.get(org_id, {"reviewed": 0, "first_pass": 0})
        done = on_schedule = 0
        for task_id, deadline in tasks:
            r = latest.get((task_id, org_id))
            if r is None:
                continue
            if r["status"] == TaskStatus.DONE:
                done += 1
            elif r["status"] != TaskStatus.BEHIND and (
                linear_expected(plan, deadline, r["period__ends_on"]) - r["progress"]
                <= rule["behind_yellow_points"]
            ):
                on_schedule += 1
        parts = {
            "timeliness": {
                "numerator": n_on_time,
                "denominator": expected,
                "value": _pct(n_on_time, expected),
            },
            "quality": {
                "numerator": q["first_pass"],
                "denominator": q["reviewed"],
                "value": _pct(q["first_pass"], q["reviewed"]),
            },
            "completion": {
                "numerator": done + on_schedule,
                "denominator": len(tasks),
                "value": _pct(done + on_schedule, len(tasks)),
                "done": done,
                "on_schedule": on_schedule,
            },
        }
        used = {k: w for k, w in weights.items() if parts[k]["value"] is not None and w > 0}
        total_w = sum(used.values())
        score = 100 * sum(w * parts[k]["value"] for k, w in used.items()) / total_w if total_w else 0.0
        rows.append(
            {
                "organisation_id": org_id,
                "organisation": names.get(org_id, ""),
                "score": _d(score),
                "parts": parts,
                "weights": weights,
                "weights_used": {k: w / total_w for k, w in used.items()} if total_w else {},
                "explanation": _explain(parts, weights, used, total_w, score, rule),
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["organisation"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def _explain(parts, weights, used, total_w, score, rule) -> str:
    labels = {c.value: str(c.label) for c in AssessmentComponent}
    lines = [
        _("按时报送率 = 按时报送 %(n)d 份 / 应报 %(d)d 份%(v)s。")
        % {
            "n": parts["timeliness"]["numerator"],
            "d": parts["timeliness"]["denominator"],
            "v": _pv(parts["timeliness"]),
        },
        _("报送质量 = 首次报送即通过 %(n)d 份 / 已审核 %(d)d 份%(v)s。")
        % {
            "n": parts["quality"]["numerator"],
            "d": parts["quality"]["denominator"],
            "v": _pv(parts["quality"]),
        },
        _(
            "任务完成率 = （已完成 %(done)d 项 + 进度正常 %(ok)d 项，落后线性进度不超过 %(y)d 个百分点）/ 承担任务 %(d)d 项%(v)s。"
        )
        % {
            "done": parts["completion"]["done"],
            "ok": parts["completion"]["on_schedule"],
            "y": rule["behind_yellow_points"],
            "d": parts["completion"]["denominator"],
            "v": _pv(parts["completion"]),
        },
    ]
    if not total_w:
        lines.append(_("没有可计算的考核项，得分为 0。"))
        return "\n".join(lines)
    terms = " + ".join(f"{_w(w)}×{parts[k]['value'] * 100:.1f}" for k, w in used.items())
    lines.append(
        _("得分 = 100 × Σ（权重 × 分项）/ Σ权重 = (%(terms)s) / %(tw)s = %(s)s。")
        % {"terms": terms, "tw": _w(total_w), "s": f"{score:.2f}"}
    )
    missing = [labels[k] for k, w in weights.items() if w > 0 and k not in used]
    if missing:
        lines.append(_("“%(m)s”没有数据，不计入，其余权重按比例放大。") % {"m": "、".join(missing)})
    return "\n".join(lines)


def _pv(part) -> str:
    return "" if part["value"] is None else f" = {part['value'] * 100:.1f}%"


def _w(w: float) -> str:
    return f"{w:g}"


def assessment_run(*, actor, plan: Plan, year: int, as_of: dt.date | None = None) -> AssessmentRun:
    """Computes and stores the year's assessment of every responsible unit (a new run each time)."""
    from tongban.plans.reporting import periods_ensure, today

    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以开展考核。"))
    if isinstance(year, bool) or not isinstance(year, int) or not plan.start_year <= year <= plan.end_year:
        raise InvalidInput(
            codes.ASSESSMENT_INVALID,
            _("考核年度应在 %(a)d 至 %(b)d 年之间。") % {"a": plan.start_year, "b": plan.end_year},
            errors=[FieldError("year", _("考核年度无效。"), codes.ASSESSMENT_INVALID)],
        )
    as_of = as_of or min(today(), dt.date(year, 12, 31))
    if as_of.year < year:
        raise InvalidInput(codes.ASSESSMENT_INVALID, _("%(y)d 年尚未开始，不能考核。") % {"y": year})
    periods_ensure(plan=plan)
    rows = compute(plan, year=year, as_of=as_of)
    with transaction.atomic():
        run = AssessmentRun.objects.create(
            plan=plan,
            year=year,
            as_of=as_of,
            weights=weights_of(plan),
            light_rule=light_rule(plan),
            created_by=actor,
        )
        AssessmentScore.objects.bulk_create(
            [
                AssessmentScore(
                    run=run,
                    organisation_id=r["organisation_id"],
                    rank=r["rank"],
                    score=r["score"],
                    timeliness=_opt(r["parts"]["timeliness"]["value"]),
                    quality=_opt(r["parts"]["quality"]["value"]),
                    completion=_opt(r["parts"]["completion"]["value"]),
                    details={"parts": r["parts"], "weights": r["weights"], "weights_used": r["weights_used"]},
                    explanation=r["explanation"],
                )
                for r in rows
            ]
        )
        audit.record(
            actor=actor,
            action="plans.assessment_run",
            target=run,
            data={"plan": plan.code, "year": year, "as_of": as_of.isoformat(), "units": len(rows)},
        )
    return run


def _opt(v: float | None) -> Decimal | None:
    return None if v is None else _d(v * 100)


def latest_run(*, user, plan: Plan, year: int | None = None) -> AssessmentRun | None:
    if not access.can_view_all_plans(user):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办和督查人员可以查看考核结果。"))
    qs = AssessmentRun.objects.filter(plan=plan)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-created_at", "-id").first()


def run_scores(run: AssessmentRun) -> list[AssessmentScore]:
    return list(run.scores.select_related("organisation").order_by("rank"))


def run_get(*, user, plan: Plan, public_id) -> AssessmentRun:
    if not access.can_view_all_plans(user):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办和督查人员可以查看考核结果。"))
    run = AssessmentRun.objects.filter(plan=plan, public_id=public_id).first()
    if run is None:
        raise NotFound(codes.ASSESSMENT_NOT_FOUND, _("考核批次不存在。"))
    return run
