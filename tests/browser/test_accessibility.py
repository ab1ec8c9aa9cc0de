"""WCAG 2.1 AA checked by axe-core inside Chromium on the key pages, in normal and large-text mode,
and the dashboards' charts drawn by the vendored ECharts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories as f
from tests.browser.conftest import assert_accessible, shot
from tests.browser.test_portal_flows import PASSWORD, catalogue, login  # noqa: F401  (fixture)
from tests.proposals.flow_fixtures import world  # noqa: F401  (fixture)
from tongban.accounts.services import citizen_register, staff_create
from tongban.cases import services as svc
from tongban.cases.models import Case
from tongban.cases.rating import case_rate
from tongban.cases.services import Upload
from tongban.regions.models import Organisation


@pytest.fixture
def people(catalogue):  # noqa: F811
    citizen = citizen_register(
        username="zhang",
        password=PASSWORD,
        real_name="张三",
        id_number=f.id_number(seq=7),
        phone="13912345678",
    )
    police = Organisation.objects.get(name="合肥市公安局")
    supervisor = staff_create(
        username="sup", password=PASSWORD, real_name="督查", organisation=police, roles=["supervisor"]
    )
    return {"citizen": citizen, "supervisor": supervisor, **catalogue}


def _cases_with_ratings(people, reviewer) -> None:
    """Four cases of 无犯罪记录证明: two approved and rated, one denied with a 差评, one open."""
    item = people["item"]
    files = lambda: [Upload(m.code, f.pdf()) for m in item.materials.filter(required=True)]  # noqa: E731
    form = {"purpose": "就业", "delivery": "电子证明", "contact_phone": "13912345678"}
    numbers = []
    for _ in range(4):
        case = svc.case_submit(applicant=people["citizen"], item=item, form_data=form, files=files())
        numbers.append(case.number)
    for number in numbers[:3]:
        svc.case_accept(actor=reviewer, number=number)
    for number, score in zip(numbers[:2], (5, 4), strict=True):
        svc.case_decide(actor=reviewer, number=number, approve=True, reason="")
        svc.case_issue(actor=reviewer, number=number)
        case_rate(actor=people["citizen"], number=number, score=score, reasons=["fast"])
    svc.case_decide(actor=reviewer, number=numbers[2], approve=False, reason="不符合条件")
    case_rate(actor=people["citizen"], number=numbers[2], score=2, reasons=["slow"], comment="等待时间较长")
    Case.objects.filter(number=numbers[3]).update(receiving_node="310000")


PUBLIC_PAGES = [
    "web:home",
    "web:statistics",
    "web:bundles",
    "web:certificate_verify",
    "web:login",
    "web:register",
]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_pass_axe(page, catalogue, name):  # noqa: F811
    page.goto(page.base + reverse(name))
    assert_accessible(page)


def test_item_page_and_search_results_pass_axe_in_both_modes(page, catalogue):  # noqa: F811
    page.goto(page.base + "/?q=无犯罪")
    assert_accessible(page)
    page.get_by_role("link", name="无犯罪记录证明").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="大字模式").click()
    assert page.locator("html.large-text").count() == 1
    assert_accessible(page)
    # It stays on: the next page is large too.
    page.goto(page.base + "/")
    assert page.locator("html.large-text").count() == 1


def test_signed_in_pages_pass_axe(page, people):
    login(page, "zhang")
    for name in ("web:my_cases", "web:my_bundles", "web:certificates", "web:notifications"):
        page.goto(page.base + reverse(name))
        assert_accessible(page)
    page.goto(page.base + reverse("web:apply", args=[people["item"].implementation_code]))
    assert_accessible(page)


def test_dashboard_charts_are_drawn_and_pass_axe(page, people):
    from tongban.accounts.models import User

    _cases_with_ratings(people, User.objects.get(username="gaj"))
    login(page, "sup")
    page.goto(page.base + reverse("web:wb_dashboard"))
    page.wait_for_selector("[data-chart-ready]")
    assert page.locator("[data-chart-ready]").count() == page.locator("[data-chart]").count() >= 6
    assert page.locator(".chart__canvas svg").count() >= 6  # drawn by ECharts, as SVG
    assert_accessible(page)
    assert page.get_by_text("等待时间较长").count() == 1
    shot(page, "dashboard")


def test_plan_pages_pass_axe_and_the_plan_dashboard_draws_its_charts(page, transactional_db):
    from tests.plans.tracking_fixtures import build_plan
    from tongban.accounts.services import staff_create as create

    plans = build_plan()
    plan = plans["plan"]
    create(
        username="office",
        password=PASSWORD,
        real_name="吴推进",
        organisation=plans["units"]["dev"],
        roles=["plan_office"],
    )
    create(
        username="reporter",
        password=PASSWORD,
        real_name="李填报",
        organisation=plans["units"]["sci"],
        roles=["plan_reporter"],
    )
    login(page, "office")
    for name, args in (
        ("web:plans", []),
        ("web:plan", [plan.code]),
        ("web:plan_review", [plan.code]),
        ("web:plan_indicators", [plan.code]),
        ("web:plan_assessment", [plan.code]),
        ("web:plan_import", []),
    ):
        page.goto(page.base + reverse(name, args=args))
        assert_accessible(page)
    page.goto(page.base + reverse("web:plan_dashboard", args=[plan.code]))
    if page.locator("[data-chart]").count():
        page.wait_for_selector("[data-chart-ready], svg")
    assert_accessible(page)
    shot(page, "plan-dashboard")
    page.get_by_role("button", name="退出").click()
    login(page, "reporter")
    page.goto(page.base + reverse("web:plan_reports", args=[plan.code]))
    assert_accessible(page)


def test_proposal_pages_pass_axe(page, transactional_db, world):  # noqa: F811
    from tests.proposals.flow_fixtures import hand_over, register, to_replied

    w = world
    replied = register(w)
    to_replied(w, replied)  # hands over, drafts, signs off and sends
    open_one = register(w, title="关于推进长三角跨省通办综合服务专窗提质扩面的提案")
    hand_over(w, open_one)

    page.goto(page.base + reverse("web:public_replies"))
    assert_accessible(page)
    login(page, w["office"].username)
    for name, args in (
        ("web:proposals", []),
        ("web:proposal_register", []),
        ("web:proposal", [replied.public_id]),
        ("web:proposal_statistics", []),
        ("web:proposal_publications", []),
    ):
        page.goto(page.base + reverse(name, args=args))
        assert_accessible(page)
    page.get_by_role("button", name="退出").click()
    login(page, w["handler"].username)
    page.goto(page.base + reverse("web:proposal_draft", args=[open_one.public_id]))
    assert_accessible(page)
    shot(page, "proposal-draft")
