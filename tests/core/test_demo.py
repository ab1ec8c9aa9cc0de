"""The demo node: accounts, and a year of activity for the dashboards, made once."""

from __future__ import annotations

import pytest

from tongban.cases.models import Case, CaseEvent, CaseRating
from tongban.cases.statistics import case_statistics
from tongban.demo import demo_prepare
from tongban.demo_activity import demo_activity_ensure

pytestmark = pytest.mark.django_db


def test_demo_prepare_makes_a_year_of_real_cases_once():
    demo_prepare(cities={"340100"}, certificates=True)
    made = Case.objects.count()
    assert made >= 80  # nearly every generated application passes the real validation
    # Real cases: submitted through the services, with their events and the applicant's ratings.
    assert CaseEvent.objects.filter(action="submit").count() == made
    assert CaseRating.objects.exists()
    stats = case_statistics()
    assert len(stats.monthly) >= 10 and 0.5 < stats.on_time_rate < 1
    assert demo_activity_ensure() == 0 and Case.objects.count() == made
