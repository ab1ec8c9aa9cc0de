"""Indicators: observations with source and date, and progress to target by the Open SDG method
(已达成 / 基本正常 / 进展缓慢 / 偏离目标) for at-least, at-most and about targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.plans.tracking_fixtures import tracking_world
from tongban.core.errors import Forbidden, InvalidInput
from tongban.core.models import AuditEntry
from tongban.plans import error_codes as codes
from tongban.plans import indicators
from tongban.plans.constants import IndicatorProgress as P
from tongban.plans.models import IndicatorObservation

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(settings, tmp_path):
    return tracking_world(settings, tmp_path)


def record(w, key, value, day, source="市统计局统计公报"):
    return indicators.observation_record(
        actor=w["office"],
        indicator=w["indicators"][key],
        value=value,
        observed_on=dt.date.fromisoformat(day),
        source=source,
    )


def progress(w, key):
    return indicators.indicator_view(w["indicators"][key]).progress


def test_an_at_least_target_on_track_then_off_track_then_achieved(w):
    record(w, "rd", "2.8", "2019-12-31")
    record(w, "rd", "3.1", "2022-12-31")
    p = progress(w, "rd")
    # actual (3.1 − 2.8) / (3.4 − 2.8) = 50 %; expected 1096 / 2192 days = 50 % → ratio 1.00
    assert p.status == P.ON_TRACK and p.ratio == pytest.approx(1.0)
    assert "实际进展 = (3.1 − 2.8) / (3.4 − 2.8) = 50.0%" in p.explanation
    assert "应有进展 = 已过时间 / 基期至目标年末时间 = 50.0%" in p.explanation
    assert p.explanation.endswith("→ 基本正常。")
    record(w, "rd", "2.95", "2023-12-31")
    p = progress(w, "rd")
    assert p.status == P.OFF_TRACK and p.actual == pytest.approx(0.25)
    record(w, "rd", "3.5", "2024-12-31")
    assert progress(w, "rd").status == P.ACHIEVED


def test_an_at_most_target_counts_going_down_as_progress_and_up_as_off_track(w):
    record(w, "gap", "2.0", "2019-12-31")
    record(w, "gap", "1.9", "2022-12-31")
    p = progress(w, "gap")
    # (1.9 − 2.0) / (1.75 − 2.0) = 40 % of the way in 50 % of the time → ratio 0.8
    assert p.status == P.SLOW and p.ratio == pytest.approx(0.8)
    record(w, "gap", "2.1", "2023-06-30")
    assert progress(w, "gap").status == P.OFF_TRACK
    record(w, "gap", "1.74", "2024-06-30")
    assert progress(w, "gap").status == P.ACHIEVED


def test_an_about_target_is_met_only_within_its_tolerance(w):
    record(w, "5g", "40", "2019-12-31")
    record(w, "5g", "70", "2022-12-31")
    p = progress(w, "5g")
    assert p.status == P.ON_TRACK and p.actual == pytest.approx(0.6)  # 1 − |70 − 90| / |40 − 90|
    record(w, "5g", "93", "2024-12-31")  # overshoots 90 ± 2
    p = progress(w, "5g")
    assert p.status != P.ACHIEVED and p.actual == pytest.approx(0.94)
    record(w, "5g", "89", "2025-06-30")
    assert progress(w, "5g").status == P.ACHIEVED
    assert indicators.target_label(w["indicators"]["5g"]) == "2025年左右 90±2%"


def test_one_observation_or_a_qualitative_target_gives_no_progress(w):
    assert progress(w, "rd").status == P.NO_DATA
    record(w, "rd", "2.8", "2019-12-31")
    p = progress(w, "rd")
    assert p.status == P.NO_DATA and "至少两期数据" in p.explanation
    with pytest.raises(InvalidInput):
        record(w, "qual", "1", "2024-01-01")
    assert progress(w, "qual").status == P.NO_DATA


def test_progress_by_year_uses_each_years_last_value(w):
    record(w, "rd", "2.8", "2019-12-31")
    record(w, "rd", "2.9", "2020-06-30")
    record(w, "rd", "3.0", "2020-12-31")
    record(w, "rd", "3.05", "2021-12-31")
    view = indicators.indicator_view(w["indicators"]["rd"])
    years = {y: a for y, a in view.by_year}
    assert sorted(years) == [2019, 2020, 2021]
    assert years[2020].value == Decimal("3.0") and years[2019].status == P.NO_DATA
    chart = indicators.chart_data(view)
    assert chart["points"][0] == ["2019-12-31", 2.8] and len(chart["points"]) == 4
    assert chart["target"] == 3.4 and chart["target_date"] == "2025-12-31"


@pytest.mark.parametrize(
    ("value", "day", "source", "field"),
    [
        ("abc", "2024-01-01", "统计公报", "value"),
        ("NaN", "2024-01-01", "统计公报", "value"),
        ("3.1", "2099-01-01", "统计公报", "observed_on"),
        ("3.1", "2024-01-01", "  ", "source"),
    ],
)
def test_bad_observations_are_refused_with_the_field(w, value, day, source, field):
    with pytest.raises(InvalidInput) as exc:
        record(w, "rd", value, day, source=source)
    assert exc.value.code == codes.OBSERVATION_INVALID
    assert field in [e.field for e in exc.value.errors]
    assert not IndicatorObservation.objects.exists()


def test_only_the_office_records_values_and_each_is_audited(w):
    with pytest.raises(Forbidden):
        indicators.observation_record(
            actor=w["reporters"]["sci"],
            indicator=w["indicators"]["rd"],
            value="3",
            observed_on=dt.date(2024, 1, 1),
            source="x",
        )
    obs = record(w, "rd", "3.12", "2024-12-31")
    assert obs.recorded_by == w["office"] and obs.source == "市统计局统计公报"
    assert AuditEntry.objects.filter(action="plans.indicator_observation").count() == 1


def test_plan_indicator_views_take_two_queries(w, django_assert_num_queries):
    record(w, "rd", "2.8", "2019-12-31")
    record(w, "gap", "2.0", "2019-12-31")
    with django_assert_num_queries(2):
        views = indicators.plan_indicator_views(w["plan"])
    assert [v.indicator.name for v in views][:2] == ["全社会研发投入强度", "城乡居民收入比"]
