"""Dashboards: the public statistics page (aggregates only, no login) and the supervisors' dashboard
(the same figures with the 差评 to follow up). Figures come from ``tongban.cases.statistics``; the
charts' options from ``tongban.web.charts``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from tongban.bundles.selectors import can_supervise
from tongban.cases import statistics
from tongban.web import charts
from tongban.web.views.common import forbidden


def _charts(stats: statistics.CaseStatistics) -> dict[str, dict]:
    ratings = stats.ratings
    return {
        "chart_monthly": charts.line(
            labels=[m["month"] for m in stats.monthly],
            series=[
                (_("提交"), [m["submitted"] for m in stats.monthly]),
                (_("办结"), [m["decided"] for m in stats.monthly]),
            ],
        ),
        "chart_cities": charts.bar(
            labels=[c["name"] for c in stats.per_city],
            series=[(_("办件数"), [c["cases"] for c in stats.per_city])],
        ),
        "chart_items": charts.bar(
            labels=[f"{i['name']}（{i['city']}）" for i in stats.per_item],
            series=[(_("办件数"), [i["cases"] for i in stats.per_item])],
            horizontal=True,
        ),
        "chart_workdays": charts.bar(
            labels=[f"{i['name']}（{i['city']}）" for i in stats.per_item if i["avg_workdays"] is not None],
            series=[
                (
                    _("平均工作日"),
                    [i["avg_workdays"] for i in stats.per_item if i["avg_workdays"] is not None],
                )
            ],
            horizontal=True,
        ),
        "chart_flows": charts.flow_matrix(flows=stats.flows, cities=stats.cities),
        "chart_on_time": charts.gauge(value=stats.on_time_rate, name=_("按时办结率")),
        "chart_ratings": charts.pie(
            items=[(f"{r['score']}★", r["count"]) for r in ratings.get("per_score", []) if r["count"]]
        ),
    }


def _plan_dashboards(user) -> list:
    """The newest plans' dashboards (without the live figures), kept until their data changes."""
    from tongban.plans.dashboard import plan_dashboard_current
    from tongban.plans.models import Plan

    return [
        plan_dashboard_current(user=user, plan=plan, live=False)
        for plan in Plan.objects.order_by("-created_at")[:5]
    ]


def _plans(user) -> dict:
    """推进督办 at a glance: each plan's task lights and indicator progress, linking to its dashboard."""
    from tongban.plans.access import can_view_all_plans
    from tongban.plans.constants import IndicatorProgress, Light

    if not can_view_all_plans(user):
        return {}
    rows = _plan_dashboards(user)
    if not rows:
        return {}
    lights = (Light.RED, Light.YELLOW, Light.GREEN, Light.GREY)
    colours = {Light.RED: "#c0392b", Light.YELLOW: "#d9a400", Light.GREEN: "#2e8540", Light.GREY: "#8a949c"}
    option = charts.bar(
        labels=[d.plan.title[:18] for d in rows],
        series=[(str(light.label), [d.totals.get(light.value, 0) for d in rows]) for light in lights],
        horizontal=True,
    )
    for series, light in zip(option["series"], lights, strict=True):
        series["stack"] = "lights"
        series["itemStyle"] = {"color": colours[light]}
    return {
        "plan_rows": [
            {
                "plan": d.plan,
                "totals": d.totals,
                "indicators": [(str(s.label), d.indicator_counts.get(s.value, 0)) for s in IndicatorProgress],
            }
            for d in rows
        ],
        "plan_lights": [(light.value, str(light.label)) for light in lights],
        "chart_plans": option,
    }


def _context(stats) -> dict:
    return {
        "stats": stats,
        "on_time_percent": None if stats.on_time_rate is None else round(stats.on_time_rate * 100, 1),
        "charts": _charts(stats),
    }


def public_statistics(request):
    """政务服务数据公开: what this node handled in the last 12 months, for anyone."""
    return render(request, "web/statistics/public.html", _context(statistics.case_statistics_current()))


@login_required
def supervisor_dashboard(request):
    """The supervisors' dashboard: the same figures, the 差评 to follow up, links to the plans'."""
    if not can_supervise(request.user):
        return forbidden(request, _("数据看板仅供督查人员和管理员查看。"))
    context = _context(statistics.case_statistics_current())
    context["bad_ratings"] = statistics.bad_ratings_to_follow_up()
    context.update(_plans(request.user))
    return render(request, "web/workbench/dashboard.html", context)
