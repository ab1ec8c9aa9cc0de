"""The public statistics page and the supervisors' dashboard show this node's real figures."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web.conftest import application_post, client_for
from tongban.accounts.services import staff_create
from tongban.cases import services as svc
from tongban.cases import statistics
from tongban.cases.models import Case
from tongban.cases.rating import case_rate


def _apply(citizen_client, item) -> None:
    citizen_client.post(
        reverse("web:apply", args=[item.implementation_code]), application_post(uuid.uuid4().hex)
    )


@pytest.fixture
def decided_cases(citizen, citizen_client, item, reviewer):
    """Three cases: one approved the same day, one denied and rated 差评, one still open."""
    for _ in range(3):
        _apply(citizen_client, item)
    first, second, third = Case.objects.order_by("id")
    for case in (first, second):
        svc.case_accept(actor=reviewer, number=case.number)
    svc.case_decide(actor=reviewer, number=first.number, approve=True, reason="")
    svc.case_issue(actor=reviewer, number=first.number)
    svc.case_decide(actor=reviewer, number=second.number, approve=False, reason="不符合条件")
    case_rate(actor=citizen, number=first.number, score=5, reasons=["fast"])
    case_rate(actor=citizen, number=second.number, score=1, reasons=["many_trips"], comment="跑了三趟")
    # One cross-city case: received at 上海 for this node.
    Case.objects.filter(pk=third.pk).update(receiving_node="310000")
    return first, second, third


def test_statistics_count_cases_flows_on_time_and_ratings(decided_cases, item):
    stats = statistics.case_statistics()
    assert (stats.total, stats.decided, stats.open, stats.cross_city) == (3, 2, 1, 1)
    assert stats.on_time_rate == 1.0  # both decided within their deadline
    assert stats.per_item[0]["cases"] == 3 and stats.per_item[0]["avg_workdays"] == 0
    assert {(f["source"], f["target"], f["cases"]) for f in stats.flows} == {
        ("340100", "340100", 2),
        ("310000", "340100", 1),
    }
    assert stats.ratings["count"] == 2 and stats.ratings["average"] == 3.0 and stats.ratings["bad"] == 1
    month = timezone.localdate().strftime("%Y-%m")
    assert stats.monthly[-1] == {"month": month, "submitted": 3, "decided": 2}


def test_a_late_decision_lowers_the_on_time_rate(decided_cases):
    first = decided_cases[0]
    Case.objects.filter(pk=first.pk).update(due_date=timezone.localdate() - dt.timedelta(days=30))
    assert statistics.case_statistics().on_time_rate == 0.5


def test_public_statistics_page_shows_figures_charts_and_tables_without_personal_data(
    client, decided_cases, citizen
):
    page = client.get(reverse("web:statistics")).content.decode()
    assert "政务服务数据公开" in page and "echarts.min.js" in page
    assert citizen.real_name not in page and decided_cases[0].number not in page
    option = json.loads(
        re.search(r'<script id="chart_cities-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert option["series"][0]["data"] == [3]
    assert 'id="chart_flows-table"' in page and "100.0%" in page


def test_dashboard_is_for_supervisors_and_lists_the_bad_ratings(decided_cases, citizen_client, authority):
    assert citizen_client.get(reverse("web:wb_dashboard")).status_code == 403
    supervisor = staff_create(
        username="sup",
        password="Tongban#2026pw",
        real_name="督查",
        organisation=authority,
        roles=["supervisor"],
    )
    page = client_for(supervisor).get(reverse("web:wb_dashboard")).content.decode()
    assert "待核实整改的差评" in page and decided_cases[1].number in page and "跑了三趟" in page
    assert decided_cases[0].number not in page  # a 5-star rating needs no follow-up


def test_home_lists_the_most_used_items_of_the_city_and_the_delta(client, decided_cases, item):
    page = client.get(reverse("web:home")).content.decode()
    assert "合肥市热门事项" in page and "长三角热门事项" in page
    popular = page.split("长三角热门事项")[1].split("</section>")[0]
    assert item.name in popular
    # Not while searching: then the results are what matters.
    assert "热门事项" not in client.get(reverse("web:home") + "?q=营业").content.decode()


def test_the_statistics_follow_a_new_case_at_once(client, decided_cases, citizen_client, item):
    def total(page: str) -> str:
        return re.search(r"<dt>办件总数</dt><dd>(\d+)</dd>", page).group(1)

    assert total(client.get(reverse("web:statistics")).content.decode()) == "3"
    _apply(citizen_client, item)
    assert total(client.get(reverse("web:statistics")).content.decode()) == "4"


def test_dashboard_shows_each_plans_lights_with_a_link_to_its_dashboard(hefei):
    from tests.plans.tracking_fixtures import build_plan

    world = build_plan()
    plan = world["plan"]
    page = client_for(world["supervisor"]).get(reverse("web:wb_dashboard")).content.decode()
    assert "推进督办：任务亮灯与指标进展" in page
    assert reverse("web:plan_dashboard", args=[plan.code]) in page
    option = json.loads(
        re.search(r'<script id="chart_plans-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert sum(sum(s["data"]) for s in option["series"]) == plan.tasks.count()
