"""The supervision dashboard (推进督办看板): per area, per unit, per indicator, and the live figures of
一网通办 computed from this node's own data (the figures the seed documents report by hand).

Reads only, in a fixed number of aggregate queries whatever the number of tasks and reports: the
lights (``tongban.plans.lights``: the latest report of every task and unit through one window
query), the indicators (two queries) and one or two queries per live figure. No loop over reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tongban.core import workdays
from tongban.core.errors import Forbidden
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import AssignmentRole, IndicatorProgress, Light, ReportState
from tongban.plans.indicators import IndicatorView, plan_indicator_views
from tongban.plans.lights import Aggregate, PlanLights, light_rule_text, plan_lights
from tongban.plans.models import Plan, TaskReport


@dataclass
class AreaRow:
    aggregate: Aggregate
    avg_progress: float | None  # of the lead units' latest reports
    reported: int  # last due period: task × unit reports sent
    expected: int


@dataclass
class UnitRow:
    aggregate: Aggregate
    lead_tasks: int
    co_tasks: int
    reported: int
    expected: int


@dataclass
class LiveFigure:
    key: str
    label: str
    value: float | int | None
    unit: str
    method: str  # how it is computed, in words
    breakdown: list[tuple[str, int | float]] = field(default_factory=list)


@dataclass
class Dashboard:
    plan: Plan
    lights: PlanLights
    rule_text: list[str]
    areas: list[AreaRow]
    units: list[UnitRow]
    indicators: list[IndicatorView]
    indicator_counts: dict[str, int]
    live: list[LiveFigure]
    totals: dict[str, int]
    pending_review: int


def plan_dashboard(*, user, plan: Plan, on: dt.date | None = None, live: bool = True) -> Dashboard:
    if not access.can_view_all_plans(user):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办和督查人员可以查看督办看板。"))
    result = plan_lights(plan, on=on)
    areas_by_key = {a.key: a for a in result.areas}
    units_by_key = {a.key: a for a in result.units}
    area_acc: dict[int, dict] = {}
    unit_acc: dict[int, dict] = {}
    for t in result.tasks:
        acc = area_acc.setdefault(t.part_id, {"progress": [], "reported": 0, "expected": 0})
        lead = t.lead
        if lead and lead.progress is not None:
            acc["progress"].append(lead.progress)
        for u in t.units:
            ua = unit_acc.setdefault(u.organisation_id, {"lead": 0, "co": 0, "reported": 0, "expected": 0})
            ua["lead" if u.role == AssignmentRole.LEAD else "co"] += 1
            if u.due_reported is not None:
                acc["expected"] += 1
                ua["expected"] += 1
                if u.due_reported:
                    acc["reported"] += 1
                    ua["reported"] += 1
    areas = [
        AreaRow(
            aggregate=areas_by_key[key],
            avg_progress=round(sum(a["progress"]) / len(a["progress"]), 1) if a["progress"] else None,
            reported=a["reported"],
            expected=a["expected"],
        )
        for key, a in area_acc.items()
        if key in areas_by_key
    ]
    units = [
        UnitRow(
            aggregate=units_by_key[key],
            lead_tasks=unit_acc[key]["lead"],
            co_tasks=unit_acc[key]["co"],
            reported=unit_acc[key]["reported"],
            expected=unit_acc[key]["expected"],
        )
        for key in units_by_key
    ]
    views = plan_indicator_views(plan)
    ind_counts = {s.value: 0 for s in IndicatorProgress}
    for v in views:
        ind_counts[v.progress.status] += 1
    totals = {k: sum(1 for t in result.tasks if t.light == k) for k in Light.values}
    totals["tasks"] = len(result.tasks)
    pending = TaskReport.objects.filter(task__plan=plan, state=ReportState.SUBMITTED).count()
    return Dashboard(
        plan=plan,
        lights=result,
        rule_text=light_rule_text(result.rule),
        areas=areas,
        units=units,
        indicators=views,
        indicator_counts=ind_counts,
        live=live_figures() if live else [],
        totals=totals,
        pending_review=pending,
    )


# --- Live figures of 一网通办 -----------------------------------------------------------------------


def live_figures() -> list[LiveFigure]:
    """The four figures seeds 000, 002 and 003 report by hand, counted from this node's database."""
    return [
        _cross_province_items(),
        _recognised_certificate_types(),
        _cross_city_cases(),
        _enterprise_opening_days(),
    ]


def _cross_province_items() -> LiveFigure:
    from tongban.catalogue.constants import ItemStatus, ServiceMode
    from tongban.catalogue.models import ServiceItem

    by_mode = dict.fromkeys(ServiceMode.values, 0)
    total = 0
    for modes in (
        ServiceItem.objects.filter(status=ItemStatus.PUBLISHED)
        .exclude(modes=[])
        .values_list("modes", flat=True)
    ):
        known = [m for m in modes or [] if m in by_mode]
        if known:
            total += 1
            for m in known:
                by_mode[m] += 1
    return LiveFigure(
        key="cross_province_items",
        label=_("“跨省通办”事项"),
        value=total,
        unit=_("项"),
        method=_("本节点已发布事项中，支持全程网办、异地代收代办或多地联办至少一种方式的事项数。"),
        breakdown=[(str(ServiceMode(m).label), n) for m, n in by_mode.items()],
    )


def _recognised_certificate_types() -> LiveFigure:
    from tongban.certificates.models import Certificate, CertificateType, CertificateUse

    issuer = Certificate.objects.filter(identifier=OuterRef("identifier")).values("issuer_node")[:1]
    used = (
        CertificateUse.objects.filter(valid=True)
        .annotate(issuer_node=Subquery(issuer))
        .exclude(issuer_node__isnull=True)
        .exclude(issuer_node=F("case__handling_node"))
        .values("type_code")
        .distinct()
        .count()
    )
    defined = CertificateType.objects.count()
    return LiveFigure(
        key="recognised_certificate_types",
        label=_("互认电子证照类型"),
        value=used,
        unit=pgettext("count of certificate types", "类"),
        method=_(
            "已在签发城市以外的办件中核验通过、代替纸质材料使用过的电子证照类型数；本节点共定义 %(n)d 类。"
        )
        % {"n": defined},
        breakdown=[(_("已定义类型"), defined)],
    )


def _cross_city_cases() -> LiveFigure:
    from tongban.cases.constants import CaseStatus
    from tongban.cases.models import Case

    row = Case.objects.exclude(receiving_node=F("handling_node")).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status__in=[CaseStatus.APPROVED, CaseStatus.ISSUED, CaseStatus.DENIED])),
    )
    return LiveFigure(
        key="cross_city_cases",
        label=_("跨城市办理的办件"),
        value=row["total"],
        unit=_("件"),
        method=_("受理地节点与办理地节点不同的办件数（异地代收代办、全程网办异地申请、多地联办）。"),
        breakdown=[(_("其中已办结"), row["done"])],
    )


def _enterprise_opening_days() -> LiveFigure:
    from tongban.bundles.constants import BundleStatus
    from tongban.bundles.models import Bundle

    rows = list(
        Bundle.objects.filter(
            definition__name="企业开办", status=BundleStatus.COMPLETED, completed_at__isnull=False
        ).values_list("submitted_at", "completed_at")
    )
    days = [
        workdays.workdays_between(timezone.localtime(s).date(), timezone.localtime(c).date()) for s, c in rows
    ]
    avg = round(sum(days) / len(days), 2) if days else None
    return LiveFigure(
        key="enterprise_opening_workdays",
        label=_("企业开办平均用时"),
        value=avg,
        unit=_("个工作日"),
        method=_(
            "已办结的“企业开办”一件事从提交到办结所用工作日的平均值（国务院节假日安排，提交次日起算）；共 %(n)d 件。"
        )
        % {"n": len(days)},
        breakdown=[(_("已办结件数"), len(days))],
    )


def dashboard_json(d: Dashboard) -> dict:
    """The dashboard as plain data (the API and the page's charts)."""
    return {
        "plan": d.plan.code,
        "on": d.lights.on.isoformat(),
        "totals": d.totals,
        "pending_review": d.pending_review,
        "rule": d.lights.rule,
        "rule_text": d.rule_text,
        "areas": [
            {
                "id": a.aggregate.key,
                "name": a.aggregate.name,
                "light": a.aggregate.light,
                "counts": a.aggregate.counts,
                "reason": a.aggregate.reason,
                "avg_progress": a.avg_progress,
                "reported": a.reported,
                "expected": a.expected,
            }
            for a in d.areas
        ],
        "units": [
            {
                "id": u.aggregate.key,
                "name": u.aggregate.name,
                "light": u.aggregate.light,
                "counts": u.aggregate.counts,
                "reason": u.aggregate.reason,
                "lead_tasks": u.lead_tasks,
                "co_tasks": u.co_tasks,
                "reported": u.reported,
                "expected": u.expected,
            }
            for u in d.units
        ],
        "indicators": [
            {
                "id": v.indicator.pk,
                "name": v.indicator.name,
                "target": v.target_label,
                "latest": None if v.latest is None else float(v.latest.value),
                "latest_on": None if v.latest is None else v.latest.observed_on.isoformat(),
                "status": v.progress.status,
                "explanation": v.progress.explanation,
            }
            for v in d.indicators
        ],
        "live": [
            {
                "key": f.key,
                "label": f.label,
                "value": f.value,
                "unit": f.unit,
                "method": f.method,
                "breakdown": f.breakdown,
            }
            for f in d.live
        ],
    }


# --- The same, recomputed only when its data changed ---------------------------------------------

_CACHE: dict[tuple, tuple[tuple, Dashboard]] = {}


def _data_version(*, live: bool) -> tuple:
    """Cheap aggregates that change whenever anything a dashboard shows changes; and the date, since
    lights depend on it."""
    from django.db.models import Count, Max
    from django.utils import timezone

    from tongban.plans.models import IndicatorObservation, Plan, TaskAssignment, TaskReport

    def agg(qs, last: str = "id") -> tuple:
        return tuple(qs.aggregate(n=Count("id"), last=Max(last)).values())

    version = [
        agg(Plan.objects.all(), "updated_at"),
        agg(TaskReport.objects.all(), "updated_at"),
        agg(TaskAssignment.objects.all()),
        agg(IndicatorObservation.objects.all()),
        timezone.localdate(),
    ]
    if live:
        from tongban.bundles.models import Bundle
        from tongban.cases.models import Case
        from tongban.catalogue.models import ServiceItem
        from tongban.certificates.models import CertificateUse

        version += [
            agg(Case.objects.all(), "updated_at"),
            agg(ServiceItem.objects.all(), "updated_at"),
            agg(CertificateUse.objects.all()),
            agg(Bundle.objects.all()),
        ]
    return tuple(version)


def plan_dashboard_current(*, user, plan: Plan, live: bool = True) -> Dashboard:
    """``plan_dashboard`` for today, kept per process until a plan, report, assignment, indicator
    value (or, with the live figures, a case, item, certificate use or bundle) changes."""
    if not access.can_view_all_plans(user):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办和督查人员可以查看督办看板。"))
    key = (plan.pk, live)
    version = _data_version(live=live)
    hit = _CACHE.get(key)
    if hit and hit[0] == version:
        return hit[1]
    result = plan_dashboard(user=user, plan=plan, live=live)
    _CACHE[key] = (version, result)
    return result


def dashboards_cache_clear() -> None:
    _CACHE.clear()
