"""Working days under the State Council schedule, and loading a later year's schedule."""

import datetime as dt
import json
from pathlib import Path

import pytest

from tongban.core import error_codes, workdays
from tongban.core.errors import Forbidden, InvalidInput
from tongban.core.models import AuditEntry, HolidayDay, HolidayYear
from tongban.core.workdays import WorkdayResult, add_workdays, is_known_year, is_workday, workdays_between

pytestmark = pytest.mark.django_db

EXAMPLE_2027 = Path(workdays.__file__).parent / "data" / "holidays-2027.example.json"
D = dt.date


def load_example_2027() -> int:
    parsed = workdays.schedule_parse(EXAMPLE_2027.read_text(encoding="utf-8"))
    return workdays.schedule_load(year=parsed.year, days=parsed.days, source=parsed.source)


# --- counting under the published schedules ----------------------------------------------------


def test_national_day_week_is_skipped_and_makeup_saturday_counts():
    assert add_workdays(D(2026, 9, 28), 5) == WorkdayResult(date=D(2026, 10, 10), provisional=False)


def test_spring_festival_and_its_makeup_saturday():
    # 02-13 Friday, 02-14 make-up Saturday, 02-15..02-23 off, 02-24 Tuesday.
    assert add_workdays(D(2026, 2, 12), 3) == WorkdayResult(date=D(2026, 2, 24), provisional=False)


def test_counting_starts_the_day_after_the_start_date():
    assert add_workdays(D(2026, 11, 23), 1).date == D(2026, 11, 24)  # Monday → Tuesday


def test_zero_days_returns_the_start_date():
    assert add_workdays(D(2026, 10, 3), 0) == WorkdayResult(date=D(2026, 10, 3), provisional=False)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, workdays.MAX_WORKDAYS + 1])
def test_negative_or_non_integer_day_count_is_refused(bad):
    with pytest.raises(InvalidInput) as exc:
        add_workdays(D(2026, 10, 3), bad)
    assert exc.value.code == error_codes.INVALID_WORKDAY_COUNT


def test_datetime_instead_of_date_is_refused():
    with pytest.raises(InvalidInput) as exc:
        add_workdays(dt.datetime(2026, 10, 3, 12, 0), 1)
    assert exc.value.code == error_codes.INVALID_DATE


def test_is_workday_follows_holidays_and_makeup_days():
    assert is_workday(D(2026, 10, 10)) is True  # Saturday, 调休上班
    assert is_workday(D(2026, 10, 1)) is False  # Thursday, 国庆节
    assert is_workday(D(2026, 10, 11)) is False  # ordinary Sunday
    assert is_workday(D(2026, 11, 23)) is True  # ordinary Monday


def test_known_years_come_from_the_package_range():
    assert workdays.PACKAGE_FIRST_YEAR == 2004  # chinesecalendar 1.11.0 as pinned
    assert workdays.PACKAGE_LAST_YEAR == 2026
    assert is_known_year(2004) and is_known_year(2026)
    assert not is_known_year(2003)
    assert not is_known_year(2027)
    assert workdays.last_known_date() == D(2026, 12, 31)


def test_unknown_year_counts_monday_to_friday():
    assert is_workday(D(2027, 1, 1)) is True  # a Friday; its holiday is not known yet
    assert is_workday(D(2027, 1, 2)) is False


def test_workdays_between_counts_the_half_open_interval():
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 10)) == 3  # 10-08, 10-09, 10-10
    assert workdays_between(D(2026, 10, 10), D(2026, 10, 10)) == 0
    assert workdays_between(D(2026, 10, 10), D(2026, 9, 30)) == 0


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 22, 60])
def test_workdays_between_undoes_add_workdays(n):
    start = D(2026, 9, 20)
    assert workdays_between(start, add_workdays(start, n).date) == n


# --- years not yet published --------------------------------------------------------------------


def test_deadline_crossing_unpublished_year_is_provisional():
    # 12-29, 12-30, 12-31 are known; 2027-01-01 (Friday) and 01-04 are counted as plain weekdays.
    assert add_workdays(D(2026, 12, 28), 5) == WorkdayResult(date=D(2027, 1, 4), provisional=True)


def test_deadline_inside_known_year_is_not_provisional_even_near_the_edge():
    assert add_workdays(D(2026, 12, 28), 3) == WorkdayResult(date=D(2026, 12, 31), provisional=False)


def test_loaded_schedule_makes_the_deadline_final_and_respected():
    load_example_2027()
    assert is_known_year(2027)
    assert workdays.last_known_date() == D(2027, 12, 31)
    # 2027-01-01 is now a holiday: the fifth working day moves from 01-04 to 01-05.
    assert add_workdays(D(2026, 12, 28), 5) == WorkdayResult(date=D(2027, 1, 5), provisional=False)


def test_loaded_makeup_saturday_counts_as_a_workday():
    load_example_2027()
    assert is_workday(D(2027, 1, 30)) is True  # Saturday, 春节调休 in the example
    assert add_workdays(D(2027, 1, 29), 1).date == D(2027, 1, 30)


def test_year_after_a_loaded_year_is_still_provisional():
    load_example_2027()
    result = add_workdays(D(2027, 12, 30), 3)
    assert result.provisional is True
    assert result.date == D(2028, 1, 4)


def test_loaded_rows_override_the_package_for_the_same_date():
    workdays.schedule_load(
        year=2026,
        source="更正通知（测试）",
        days=[{"date": "2026-10-11", "is_workday": True, "name": "国庆节调休"}],
    )
    assert is_workday(D(2026, 10, 11)) is True  # Sunday made a workday by the loaded row
    assert is_workday(D(2026, 10, 1)) is False  # package data still applies to other dates


def test_year_loaded_with_no_entries_is_known():
    workdays.schedule_load(year=2028, days=[], source="国办发明电〔2027〕X号")
    assert is_known_year(2028)
    assert HolidayYear.objects.filter(year=2028).exists()


def test_schedule_loaded_elsewhere_is_seen_once_the_cache_is_refreshed():
    assert not is_known_year(2027)
    HolidayYear.objects.create(year=2027, source="另一进程载入")  # as another worker would
    assert not is_known_year(2027)  # this process's snapshot is still fresh
    workdays.invalidate_cache()
    assert is_known_year(2027)


# --- loading schedules -------------------------------------------------------------------------


def test_reloading_a_year_replaces_its_rows():
    workdays.schedule_load(
        year=2027,
        source="第一版",
        days=[
            {"date": "2027-01-01", "is_workday": False, "name": "元旦"},
            {"date": "2027-01-02", "is_workday": False, "name": "元旦"},
        ],
    )
    n = workdays.schedule_load(
        year=2027, source="第二版", days=[{"date": D(2027, 1, 1), "is_workday": False, "name": "元旦"}]
    )
    assert n == 1
    assert list(HolidayDay.objects.values_list("date", "source")) == [(D(2027, 1, 1), "第二版")]
    assert HolidayYear.objects.get(year=2027).source == "第二版"


def test_schedule_load_writes_an_audit_entry():
    load_example_2027()
    entry = AuditEntry.objects.get(action="workdays.schedule_load")
    assert entry.target_type == "core.holidayyear"
    assert entry.data["year"] == 2027
    assert entry.data["workdays"] == 6
    assert entry.actor_label == "system"


@pytest.mark.parametrize(
    ("days", "field_code"),
    [
        ([{"date": "2028-01-01", "is_workday": False, "name": "元旦"}], error_codes.DATE_OUTSIDE_YEAR),
        (
            [
                {"date": "2027-01-01", "is_workday": False, "name": "元旦"},
                {"date": "2027-01-01", "is_workday": False, "name": "元旦"},
            ],
            error_codes.DUPLICATE_DATE,
        ),
        ([{"date": "2027-13-01", "is_workday": False, "name": ""}], error_codes.INVALID_DATE),
        ([{"date": "2027-01-04", "is_workday": True, "name": "调休"}], error_codes.MAKEUP_DAY_NOT_WEEKEND),
        ([{"date": "2027-01-01", "is_workday": "no", "name": ""}], error_codes.INVALID_SCHEDULE),
    ],
)
def test_invalid_schedule_is_refused_whole_and_writes_nothing(days, field_code):
    good = {"date": "2027-10-01", "is_workday": False, "name": "国庆节"}
    with pytest.raises(InvalidInput) as exc:
        workdays.schedule_load(year=2027, days=[good, *days], source="测试")
    assert exc.value.code == error_codes.INVALID_SCHEDULE
    assert [e.code for e in exc.value.errors] == [field_code]
    assert exc.value.message  # Chinese, for the operator
    assert not HolidayDay.objects.exists()
    assert not HolidayYear.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("year", [2003, 2101, "2027", None])
def test_schedule_for_an_impossible_year_is_refused(year):
    with pytest.raises(InvalidInput) as exc:
        workdays.schedule_load(year=year, days=[], source="测试")
    assert exc.value.code == error_codes.INVALID_SCHEDULE


def test_schedule_without_source_is_refused():
    with pytest.raises(InvalidInput) as exc:
        workdays.schedule_load(year=2027, days=[], source="  ")
    assert exc.value.code == error_codes.INVALID_SCHEDULE


def test_user_without_permission_cannot_load_a_schedule(django_user_model):
    clerk = django_user_model.objects.create_user(username="clerk", password="x-Strong-pass-1")
    with pytest.raises(Forbidden) as exc:
        workdays.schedule_load(year=2027, days=[], source="测试", actor=clerk)
    assert exc.value.code == error_codes.SCHEDULE_LOAD_FORBIDDEN
    assert not HolidayYear.objects.exists()


def test_superuser_load_is_audited_under_their_name(django_user_model):
    admin = django_user_model.objects.create_superuser(username="root", password="x-Strong-pass-1")
    workdays.schedule_load(year=2027, days=[], source="测试", actor=admin)
    entry = AuditEntry.objects.get(action="workdays.schedule_load")
    assert (entry.actor_id, entry.actor_label) == (admin.pk, "root")


# --- parsing schedule files --------------------------------------------------------------------


def test_example_file_is_marked_as_an_example():
    document = json.loads(EXAMPLE_2027.read_text(encoding="utf-8"))
    assert "EXAMPLE" in document["source"]
    assert "EXAMPLE" in document["_comment"]


def test_parser_expands_holiday_periods_including_weekends():
    parsed = workdays.schedule_parse(EXAMPLE_2027.read_text(encoding="utf-8"))
    assert parsed.year == 2027
    new_year = [d for d in parsed.days if d["name"] == "元旦"]
    assert [d["date"] for d in new_year] == [D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3)]
    assert all(d["is_workday"] is False for d in new_year)
    assert {"date": D(2027, 2, 20), "is_workday": True, "name": "春节调休"} in parsed.days


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"year": 2027, "source": "x", "holiday": []}',  # typo of "holidays"
        '{"source": "x"}',
        '{"year": 2027}',
        '{"year": 2027, "source": "x", "holidays": [{"name": "元旦", "start": "2027-01-03", "end": "2027-01-01"}]}',
        '{"year": 2027, "source": "x", "workdays": [{"name": "调休", "date": "abc"}]}',
        '{"year": 2027, "source": "x", "workdays": [{"name": "调休", "date": 20270130}]}',
    ],
)
def test_malformed_schedule_file_is_refused(text):
    with pytest.raises(InvalidInput) as exc:
        workdays.schedule_parse(text)
    assert exc.value.code == error_codes.INVALID_SCHEDULE


@pytest.mark.parametrize("text", ["2026-13-01", "abc", "20261001", "2026-W40-1", "", "2026-02-30"])
def test_parse_date_accepts_only_valid_iso_dates(text):
    with pytest.raises(InvalidInput) as exc:
        workdays.parse_date(text)
    assert exc.value.code == error_codes.INVALID_DATE


def test_every_day_of_the_package_range_agrees_with_chinesecalendar():
    """The working-day rule reads chinesecalendar's tables directly (for speed): same answer every day."""
    import chinese_calendar

    from tongban.core import workdays as w

    day = dt.date(w.PACKAGE_FIRST_YEAR, 1, 1)
    snap = w._Snapshot(overrides={}, loaded_years=frozenset(), taken_at=0)
    while day.year <= w.PACKAGE_LAST_YEAR:
        assert w._is_workday(day, snap) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
