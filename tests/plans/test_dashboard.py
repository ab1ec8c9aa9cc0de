"""The dashboard: per area, per unit, per indicator, and the live 一网通办 figures counted from the
node's own catalogue, certificates, cases and bundles; a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories as f
from tests.plans.tracking_fixtures import SHANGHAI, at, tracking_world
from tongban.bundles.models import Bundle, BundleDefinition
from tongban.cases.models import Case
from tongban.certificates.models import Certificate, CertificateType, CertificateUse
from tongban.core.errors import Forbidden
from tongban.plans import dashboard, indicators, reporting
from tongban.plans.constants import IndicatorProgress, Light, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def send(w, unit, task, progress=50, status=TaskStatus.IN_PROGRESS, key="2024-09"):
    return reporting.report_save(
        actor=w["reporters"][unit],
        task=w["tasks"][task],
        organisation_id=w["units"][unit].pk,
        period=reporting.period_get(plan=w["plan"], key=key),
        status=status,
        progress=progress,
        narrative="按计划推进，本期完成阶段目标。",
        submit=True,
        now=at("2024-10-09"),
    )


def case(item, number, receiving, handling, status="submitted"):
    return Case.objects.create(
        number=number,
        item=item,
        handling_org=item.authority,
        receiving_node=receiving,
        handling_node=handling,
        mode="proxy_intake" if receiving != handling else "full_online",
        channel="online",
        status=status,
        applicant_name="张三",
        applicant_id_type="ric",
        applicant_id_enc="x",
        applicant_id_hash=number,
        submitted_at=timezone.now(),
    )


def one_network_data(w):
    authority = f.organisation("合肥市市场监督管理局")
    f.item(authority, name="内资有限公司设立登记", modes=("full_online", "proxy_intake"))
    f.item(authority, name="食品经营许可", modes=("multi_site",))
    f.item(authority, name="仅本地办理的事项", modes=())
    item = f.item(authority, name="个体工商户登记", modes=("proxy_intake",))
    local = case(item, "C-1", "340100", "340100")
    remote = case(item, "C-2", "310000", "340100", status="issued")
    case(item, "C-3", "320500", "340100")
    kinds = {}
    for key, name in (("yyzz", "营业执照"), ("jsz", "驾驶证")):
        kinds[key] = CertificateType.objects.create(
            key=key,
            code=f"11100000000000000{key}"[:18] + key,
            name=name,
            defining_authority="国家市场监督管理总局",
            defining_authority_code="11100000000013127D",
            issuing_authority="市场监督管理局",
            holder_kind="enterprise",
            number_rule="new_uscc",
        )
    cert = Certificate.objects.create(
        identifier="1.2.156.3005.2.test.1",
        type=kinds["yyzz"],
        type_code=kinds["yyzz"].code,
        type_name="营业执照",
        serial=1,
        number="N1",
        holder_name="某公司",
        holder_id_type="uscc",
        holder_id_enc="x",
        holder_id_hash="h",
        issuer_name="上海市市场监督管理局",
        issuer_code="11310000000000000X",
        issuer_node="310000",
        issue_date=dt.date(2024, 1, 1),
        valid_from=dt.date(2024, 1, 1),
        jurisdiction_code="310000",
        credential="x",
        alg="EdDSA",
        kid="k",
        issued_at=timezone.now(),
    )
    common = {
        "material_code": "yyzz",
        "material_name": "营业执照",
        "version": 1,
        "presentation": "x",
        "consented_at": timezone.now(),
        "verified_at": timezone.now(),
        "verified_by_node": "340100",
        "verdict_code": "OK",
        "verdict_reason": "有效",
    }
    # Issued in Shanghai, accepted in a Hefei case: recognised across cities.
    CertificateUse.objects.create(
        case=local,
        identifier=cert.identifier,
        type_code=cert.type_code,
        type_name="营业执照",
        valid=True,
        **common,
    )
    # Used where it was issued, or failing verification: not counted.
    CertificateUse.objects.create(
        case=remote,
        identifier=cert.identifier,
        type_code=cert.type_code,
        type_name="营业执照",
        valid=False,
        **common,
    )
    citizen = f.citizen()
    definition = BundleDefinition.objects.create(
        key="qykb-340100",
        name="企业开办",
        city_code="340100",
        target_workdays=3,
        on_failure="continue",
        form_schema={},
        steps=[],
    )
    for start, end in (
        (dt.datetime(2024, 10, 14, 9, tzinfo=SHANGHAI), dt.datetime(2024, 10, 16, 15, tzinfo=SHANGHAI)),  # 2
        # Friday 27 September to Tuesday 8 October 2024: 29 Sep (a make-up Sunday), 30 Sep, 8 Oct → 3
        (dt.datetime(2024, 9, 27, 9, tzinfo=SHANGHAI), dt.datetime(2024, 10, 8, 15, tzinfo=SHANGHAI)),
    ):
        Bundle.objects.create(
            number=f"B-{start:%m%d}",
            definition=definition,
            applicant=citizen,
            status="completed",
            form_data={},
            consented_at=start,
            submitted_at=start,
            completed_at=end,
        )
    Bundle.objects.create(
        number="B-open",
        definition=definition,
        applicant=citizen,
        status="running",
        form_data={},
        consented_at=timezone.now(),
        submitted_at=timezone.now(),
    )


def test_live_figures_are_counted_from_the_nodes_own_data(w):
    one_network_data(w)
    live = {x.key: x for x in dashboard.live_figures()}
    items = live["cross_province_items"]
    assert items.value == 3
    assert dict(items.breakdown) == {"全程网办": 1, "异地代收代办": 2, "多地联办": 1}
    assert live["recognised_certificate_types"].value == 1
    assert "共定义 2 类" in live["recognised_certificate_types"].method
    cases = live["cross_city_cases"]
    assert cases.value == 2 and dict(cases.breakdown)["其中已办结"] == 1
    assert live["enterprise_opening_workdays"].value == 2.5
    assert "共 2 件" in live["enterprise_opening_workdays"].method


def test_an_empty_node_gives_zero_and_no_average(w):
    live = {x.key: x for x in dashboard.live_figures()}
    assert live["cross_province_items"].value == 0
    assert live["enterprise_opening_workdays"].value is None


def test_the_dashboard_per_area_unit_and_indicator(w):
    for unit, task, progress in (
        ("sci", 1, 40),
        ("sci", 2, 60),
        ("sci", 3, 40),
        ("data", 4, 40),
        ("data", 5, 80),
        ("dev", 6, 60),
    ):
        send(w, unit, task, progress=progress)
    send(w, "dev", 1, status=TaskStatus.BEHIND, progress=5)
    indicators.observation_record(
        actor=w["office"],
        indicator=w["indicators"]["rd"],
        value="2.8",
        observed_on=dt.date(2019, 12, 31),
        source="统计公报",
    )
    indicators.observation_record(
        actor=w["office"],
        indicator=w["indicators"]["rd"],
        value="3.5",
        observed_on=dt.date(2024, 12, 31),
        source="统计公报",
    )
    d = dashboard.plan_dashboard(user=w["supervisor"], plan=w["plan"], on=dt.date(2024, 10, 14))
    assert d.totals["tasks"] == 6 and d.totals[Light.RED] >= 1
    science = next(a for a in d.areas if a.aggregate.name == "科创一体化")
    assert science.avg_progress == pytest.approx((40 + 60 + 40) / 3, abs=0.1)
    assert (science.reported, science.expected) == (4, 5)  # 发改委 has not reported on task 3
    dev = next(u for u in d.units if u.aggregate.name == "合肥市发展和改革委员会")
    assert (dev.lead_tasks, dev.co_tasks, dev.reported, dev.expected) == (1, 3, 2, 4)
    assert d.indicator_counts[IndicatorProgress.ACHIEVED] == 1
    assert d.pending_review == 7
    body = dashboard.dashboard_json(d)
    assert body["plan"] == "hf-test" and len(body["live"]) == 4
    assert body["indicators"][0]["status"] == "achieved"
    with pytest.raises(Forbidden):
        dashboard.plan_dashboard(user=w["reporters"]["sci"], plan=w["plan"])


def test_the_dashboard_takes_a_bounded_number_of_queries(w, django_assert_max_num_queries):
    one_network_data(w)
    for unit, task in (("sci", 1), ("sci", 2), ("data", 4)):
        send(w, unit, task)
    reporting.periods_ensure(plan=w["plan"])
    with django_assert_max_num_queries(22):
        dashboard.plan_dashboard(user=w["office"], plan=w["plan"], on=dt.date(2024, 10, 14))


def test_demo_reports_make_the_dashboard_alive_and_are_idempotent(w):
    from tongban.plans.demo_tracking import plan_demo_reports
    from tongban.plans.models import IndicatorObservation, TaskReport

    first = plan_demo_reports(w["plan"], on=dt.date(2025, 6, 15))
    assert first["reports"] > 100 and first["observations"] > 0
    assert TaskReport.objects.filter(times_returned=1).exists()
    assert plan_demo_reports(w["plan"], on=dt.date(2025, 6, 15)) == {
        "reports": 0,
        "events": 0,
        "observations": 0,
    }
    assert IndicatorObservation.objects.count() == first["observations"]
    d = dashboard.plan_dashboard(user=w["office"], plan=w["plan"], on=dt.date(2025, 6, 15))
    assert sum(a.reported for a in d.areas) > 0
    assert any(v.progress.status != IndicatorProgress.NO_DATA for v in d.indicators)


def test_the_kept_dashboard_follows_every_new_report(w):
    """``plan_dashboard_current`` keeps a dashboard only while nothing it shows has changed."""
    first = dashboard.plan_dashboard_current(user=w["office"], plan=w["plan"], live=False)
    assert dashboard.plan_dashboard_current(user=w["office"], plan=w["plan"], live=False) is first
    send(w, "sci", 1, progress=80)
    again = dashboard.plan_dashboard_current(user=w["office"], plan=w["plan"], live=False)
    assert again is not first
    with pytest.raises(Forbidden):  # the kept one is not handed to someone who may not see it
        dashboard.plan_dashboard_current(user=w["reporters"]["sci"], plan=w["plan"], live=False)
