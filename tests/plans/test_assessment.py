"""Assessment: a yearly score per unit from timeliness, quality and completion, with configurable
weights and the formula with its numbers next to each score; runs are immutable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.plans.tracking_fixtures import at, tracking_world
from tongban.core.errors import Forbidden, InvalidInput
from tongban.plans import assessment, reporting
from tongban.plans.constants import TaskStatus
from tongban.plans.models import AssessmentScore

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 3, 15)  # January (due 6 February) and February (due 7 March) reports are due


@pytest.fixture
def w(settings, tmp_path):
    w = tracking_world(settings, tmp_path)
    reporting.periods_ensure(plan=w["plan"])
    return w


def send(w, unit, task, key, now, status=TaskStatus.IN_PROGRESS, progress=10):
    return reporting.report_save(
        actor=w["reporters"][unit],
        task=w["tasks"][task],
        organisation_id=w["units"][unit].pk,
        period=reporting.period_get(plan=w["plan"], key=key),
        status=status,
        progress=progress,
        narrative="本期推进情况良好，按计划实施。",
        submit=True,
        now=now,
    )


def scenario(w):
    office = w["office"]
    assert reporting.period_get(plan=w["plan"], key="2024-01").due_on == dt.date(2024, 2, 6)
    assert reporting.period_get(plan=w["plan"], key="2024-02").due_on == dt.date(2024, 3, 7)
    # 科技局: tasks 1, 2, 3. Five of six on time; one of three reviewed reports was returned once.
    jan = {n: send(w, "sci", n, "2024-01", at("2024-02-05")) for n in (1, 2, 3)}
    reporting.report_accept(actor=office, report_id=jan[1].pk)
    reporting.report_accept(actor=office, report_id=jan[2].pk)
    reporting.report_return(actor=office, report_id=jan[3].pk, reason="请补充设施清单")
    send(w, "sci", 3, "2024-01", at("2024-02-20"))
    reporting.report_accept(actor=office, report_id=jan[3].pk)
    send(w, "sci", 1, "2024-02", at("2024-03-05"), progress=10)
    send(w, "sci", 2, "2024-02", at("2024-03-05"), status=TaskStatus.BEHIND, progress=2)
    send(w, "sci", 3, "2024-02", at("2024-03-10"), progress=5)  # late
    # 数据资源局: tasks 4, 5 (lead) and 6 (co): everything on time, January accepted.
    for key, day in (("2024-01", "2024-02-02"), ("2024-02", "2024-03-04")):
        for n in (4, 5, 6):
            r = send(w, "data", n, key, at(day), progress=20)
            if key == "2024-01":
                reporting.report_accept(actor=office, report_id=r.pk)
    # 发改委 (tasks 1 and 3 co, 6 lead) reports nothing.


def test_scores_with_their_numbers_and_formula(w):
    scenario(w)
    run = assessment.assessment_run(actor=w["office"], plan=w["plan"], year=2024, as_of=AS_OF)
    scores = {s.organisation_id: s for s in assessment.run_scores(run)}
    sci, data, dev = (scores[w["units"][k].pk] for k in ("sci", "data", "dev"))
    assert (data.rank, sci.rank, dev.rank) == (1, 2, 3)
    assert data.score == Decimal("100.00")
    # 100 × (0.3 × 5/6 + 0.3 × 2/3 + 0.4 × 2/3) = 71.67
    assert (
        sci.timeliness == Decimal("83.33")
        and sci.quality == Decimal("66.67")
        and sci.completion == Decimal("66.67")
    )
    assert sci.score == Decimal("71.67")
    assert sci.details["parts"]["timeliness"] == {
        "numerator": 5,
        "denominator": 6,
        "value": pytest.approx(5 / 6),
    }
    assert "按时报送率 = 按时报送 5 份 / 应报 6 份 = 83.3%" in sci.explanation
    assert "报送质量 = 首次报送即通过 2 份 / 已审核 3 份 = 66.7%" in sci.explanation
    assert "已完成 0 项 + 进度正常 2 项" in sci.explanation
    assert (
        "得分 = 100 × Σ（权重 × 分项）/ Σ权重 = (0.3×83.3 + 0.3×66.7 + 0.4×66.7) / 1 = 71.67"
        in sci.explanation
    )
    # Nothing reviewed: quality drops out and the other weights are scaled up, which is said.
    assert dev.score == Decimal("0.00") and dev.quality is None
    assert "“报送质量”没有数据，不计入" in dev.explanation
    assert run.weights == {"timeliness": 0.3, "quality": 0.3, "completion": 0.4}


def test_weights_are_configurable_and_old_runs_do_not_change(w):
    scenario(w)
    first = assessment.assessment_run(actor=w["office"], plan=w["plan"], year=2024, as_of=AS_OF)
    with pytest.raises(Forbidden):
        assessment.weights_set(actor=w["reporters"]["sci"], plan=w["plan"], weights={"timeliness": 1})
    with pytest.raises(InvalidInput):
        assessment.weights_set(actor=w["office"], plan=w["plan"], weights={"timeliness": -1})
    with pytest.raises(InvalidInput):
        assessment.weights_set(
            actor=w["office"], plan=w["plan"], weights={"timeliness": 0, "quality": 0, "completion": 0}
        )
    assessment.weights_set(
        actor=w["office"], plan=w["plan"], weights={"timeliness": 1, "quality": 0, "completion": 0}
    )
    second = assessment.assessment_run(actor=w["office"], plan=w["plan"], year=2024, as_of=AS_OF)
    sci = w["units"]["sci"].pk
    assert second.scores.get(organisation_id=sci).score == Decimal("83.33")
    assert first.scores.get(organisation_id=sci).score == Decimal("71.67")
    assert assessment.latest_run(user=w["supervisor"], plan=w["plan"], year=2024) == second
    score = first.scores.get(organisation_id=sci)
    score.score = Decimal("99")
    with pytest.raises(ValueError):
        score.save()
    assert AssessmentScore.objects.get(pk=score.pk).score == Decimal("71.67")


def test_only_the_office_runs_it_and_for_a_year_of_the_plan(w):
    with pytest.raises(Forbidden):
        assessment.assessment_run(actor=w["supervisor"], plan=w["plan"], year=2024)
    with pytest.raises(InvalidInput):
        assessment.assessment_run(actor=w["office"], plan=w["plan"], year=2030)
    with pytest.raises(Forbidden):
        assessment.latest_run(user=w["reporters"]["sci"], plan=w["plan"])
