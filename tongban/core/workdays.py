"""Working days under the State Council holiday schedule (法定节假日及调休).

Time limits (办理时限) are counted in working days from the day after the start date. Weekends are
days off unless the schedule makes them make-up workdays (调休上班); weekdays inside a holiday are
days off. The ``chinesecalendar`` package knows the published schedules up to its release; later
years are loaded by an administrator (:func:`schedule_load`) from the published notice. A year that
neither knows is counted Monday–Friday and every result that relies on it is marked provisional
(暂定), so a deadline can be shown as such until the schedule is published.

Reads go through a small per-process snapshot of the loaded rows, refreshed when this process loads
a schedule and at most :data:`CACHE_SECONDS` after another process (CLI, another worker) did.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit, error_codes
from tongban.core.errors import FieldError, Forbidden, InvalidInput
from tongban.core.models import HolidayDay, HolidayYear

ONE_DAY = dt.timedelta(days=1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# How long another process's schedule load may go unnoticed here. Schedules are loaded about once
# a year, weeks before they apply, so a minute of staleness costs nothing.
CACHE_SECONDS = 60
# No time limit in law runs anywhere near this; the cap keeps a typo from spinning a worker.
MAX_WORKDAYS = 3000
# Years a schedule may be loaded for: the package starts in 2004, and nothing is planned in 2100.
MIN_SCHEDULE_YEAR, MAX_SCHEDULE_YEAR = 2004, 2100

# The range the installed package covers, read from its data rather than hard-coded, so upgrading
# ``chinesecalendar`` extends it automatically. Its own range check uses the same keys.
PACKAGE_FIRST_YEAR = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year


@dataclass(frozen=True)
class WorkdayResult:
    date: dt.date
    provisional: bool  # some day counted lies in a year whose schedule is not known yet


@dataclass(frozen=True)
class _Snapshot:
    overrides: dict[dt.date, bool]
    loaded_years: frozenset[int]
    taken_at: float


_snapshot: _Snapshot | None = None
_snapshot_lock = threading.Lock()


def invalidate_cache() -> None:
    """Forgets the loaded schedules so the next read sees the database again."""
    global _snapshot
    with _snapshot_lock:
        _snapshot = None


def _loaded() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.taken_at < CACHE_SECONDS:
        return snap
    overrides = dict(HolidayDay.objects.values_list("date", "is_workday"))
    years = frozenset(HolidayYear.objects.values_list("year", flat=True))
    snap = _Snapshot(overrides=overrides, loaded_years=years, taken_at=time.monotonic())
    with _snapshot_lock:
        _snapshot = snap
    return snap


def _check_date(value: Any, field: str = "date") -> dt.date:
    # datetime is a date subclass, but which day an aware datetime falls on depends on the time
    # zone: callers must decide that, not us.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(
            error_codes.INVALID_DATE,
            _("%(field)s 应为日期。") % {"field": field},
            errors=[FieldError(field, _("应为日期。"), error_codes.INVALID_DATE)],
        )
    return value


def parse_date(value: str, *, field: str = "date") -> dt.date:
    """``"2026-10-10"`` → a date, or ``INVALID_DATE`` with a Chinese message (used by the CLI)."""
    # fromisoformat alone also takes "20261010" and "2026-W41-6": only the one spelling people use.
    try:
        if not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        message = _("日期“%(value)s”无效，应为 YYYY-MM-DD 格式的有效日期。") % {"value": value}
        raise InvalidInput(
            error_codes.INVALID_DATE, message, errors=[FieldError(field, message, error_codes.INVALID_DATE)]
        ) from None


def is_known_year(year: int) -> bool:
    """True when the holiday schedule of ``year`` is known (package data or a loaded schedule)."""
    return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR or year in _loaded().loaded_years


def known_years() -> list[int]:
    """Every known year, ascending."""
    return sorted(set(range(PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR + 1)) | _loaded().loaded_years)


def last_known_date() -> dt.date:
    """The last day up to which every year's schedule is known without a gap, counted from the
    package's range: deadlines up to this day are final."""
    loaded = _loaded().loaded_years
    year = PACKAGE_LAST_YEAR
    while year + 1 in loaded:
        year += 1
    return dt.date(year, 12, 31)


# chinesecalendar's own tables, read once: its is_workday() checks the year range with min() and
# max() over every holiday on each call, which was most of the time of a long count.
_PACKAGE_HOLIDAYS = frozenset(chinese_calendar.holidays)
_PACKAGE_WORKDAYS = frozenset(chinese_calendar.workdays)


def _is_workday(d: dt.date, snap: _Snapshot) -> bool:
    if d in snap.overrides:
        return snap.overrides[d]
    if PACKAGE_FIRST_YEAR <= d.year <= PACKAGE_LAST_YEAR:
        # The package's rule: a 调休 working day, or Monday–Friday that is not a holiday.
        return d in _PACKAGE_WORKDAYS or (d.weekday() < 5 and d not in _PACKAGE_HOLIDAYS)
    return d.weekday() < 5


def is_workday(d: dt.date) -> bool:
    """Whether ``d`` is a working day. In a year whose schedule is unknown: Monday to Friday."""
    return _is_workday(_check_date(d), _loaded())


def add_workdays(start: dt.date, days: int) -> WorkdayResult:
    """The date on which ``days`` working days have passed, counting from the day after ``start``.

    ``days=0`` gives ``start`` itself. The result is provisional when any day walked over lies in a
    year whose schedule is not known (those years are counted Monday–Friday).
    """
    _check_date(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0 or days > MAX_WORKDAYS:
        raise InvalidInput(
            error_codes.INVALID_WORKDAY_COUNT,
            _("工作日数应为 0 至 %(max)d 之间的整数。") % {"max": MAX_WORKDAYS},
            errors=[FieldError("days", _("应为非负整数。"), error_codes.INVALID_WORKDAY_COUNT)],
        )
    snap = _loaded()
    current, remaining, provisional = start, days, False
    try:
        while remaining:
            current += ONE_DAY
            if not (
                PACKAGE_FIRST_YEAR <= current.year <= PACKAGE_LAST_YEAR or current.year in snap.loaded_years
            ):
                provisional = True
            if _is_workday(current, snap):
                remaining -= 1
    except OverflowError:
        raise InvalidInput(error_codes.INVALID_DATE, _("计算结果超出可表示的日期范围。")) from None
    return WorkdayResult(date=current, provisional=provisional)


def workdays_between(start: dt.date, end: dt.date) -> int:
    """How many working days lie in (start, end]: 0 when ``end`` is not after ``start``."""
    _check_date(start, "start")
    _check_date(end, "end")
    snap = _loaded()
    count, current = 0, start
    while current < end:
        current += ONE_DAY
        if _is_workday(current, snap):
            count += 1
    return count


# --- Loading a schedule -----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedSchedule:
    year: int
    source: str
    days: list[dict]  # {"date": date, "is_workday": bool, "name": str}


_SCHEDULE_KEYS = {"year", "source", "holidays", "workdays"}


def _invalid(message: str, errors: list[FieldError] | None = None) -> InvalidInput:
    return InvalidInput(error_codes.INVALID_SCHEDULE, message, errors=errors)


def schedule_parse(document: str | bytes | Mapping) -> ParsedSchedule:
    """Turns a published schedule, written as JSON, into the day list :func:`schedule_load` takes::

        {"year": 2027, "source": "国办发明电〔2026〕X号",
         "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
         "workdays": [{"name": "春节调休", "date": "2027-02-07"}]}

    Every day of a holiday period is listed, weekends included, so each carries the holiday's name.
    Keys starting with ``_`` are comments; any other unknown key is refused, as it is likely a typo.
    """
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid(_("节假日安排不是有效的 JSON：%(error)s") % {"error": exc}) from None
    if not isinstance(document, Mapping):
        raise _invalid(_("节假日安排应为 JSON 对象。"))
    unknown = sorted(k for k in document if k not in _SCHEDULE_KEYS and not str(k).startswith("_"))
    if unknown:
        raise _invalid(_("节假日安排含有未知字段：%(keys)s。") % {"keys": "、".join(map(str, unknown))})
    year = document.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise _invalid(_("节假日安排缺少年份（year，整数）。"))
    source = document.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _invalid(_("节假日安排缺少来源（source，如发布文件的文号）。"))
    holidays, workdays = document.get("holidays", []), document.get("workdays", [])
    if not isinstance(holidays, list) or not isinstance(workdays, list):
        raise _invalid(_("holidays 和 workdays 应为列表。"))

    errors: list[FieldError] = []
    days: list[dict] = []

    def date_of(raw: Any, field: str) -> dt.date | None:
        try:
            return parse_date(raw if isinstance(raw, str) else repr(raw), field=field)
        except InvalidInput as exc:
            errors.extend(exc.errors)
            return None

    for i, item in enumerate(holidays):
        if not isinstance(item, Mapping):
            errors.append(FieldError(f"holidays[{i}]", _("应为对象。"), error_codes.INVALID_SCHEDULE))
            continue
        first = date_of(item.get("start"), f"holidays[{i}].start")
        last = date_of(item.get("end", item.get("start")), f"holidays[{i}].end")
        if first is None or last is None:
            continue
        if last < first or (last - first).days > 31:
            errors.append(
                FieldError(
                    f"holidays[{i}].end",
                    _("结束日期应在开始日期之后且不超过31天。"),
                    error_codes.INVALID_DATE,
                )
            )
            continue
        d = first
        while d <= last:
            days.append({"date": d, "is_workday": False, "name": str(item.get("name", ""))})
            d += ONE_DAY
    for i, item in enumerate(workdays):
        if not isinstance(item, Mapping):
            errors.append(FieldError(f"workdays[{i}]", _("应为对象。"), error_codes.INVALID_SCHEDULE))
            continue
        d = date_of(item.get("date"), f"workdays[{i}].date")
        if d is not None:
            days.append({"date": d, "is_workday": True, "name": str(item.get("name", ""))})
    if errors:
        raise _invalid(
            _("节假日安排有 %(n)d 处错误：%(first)s") % {"n": len(errors), "first": errors[0].message}, errors
        )
    return ParsedSchedule(year=year, source=source.strip(), days=days)


def _validate_days(year: int, days: list[dict]) -> list[HolidayDay]:
    errors: list[FieldError] = []
    rows: list[HolidayDay] = []
    seen: set[dt.date] = set()
    for i, item in enumerate(days):
        field = f"days[{i}]"
        if not isinstance(item, Mapping):
            errors.append(FieldError(field, _("应为对象。"), error_codes.INVALID_SCHEDULE))
            continue
        d = item.get("date")
        if isinstance(d, str):
            try:
                d = parse_date(d, field=f"{field}.date")
            except InvalidInput as exc:
                errors.extend(exc.errors)
                continue
        if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
            errors.append(FieldError(f"{field}.date", _("应为日期。"), error_codes.INVALID_DATE))
            continue
        is_workday_ = item.get("is_workday")
        if not isinstance(is_workday_, bool):
            errors.append(
                FieldError(f"{field}.is_workday", _("应为 true 或 false。"), error_codes.INVALID_SCHEDULE)
            )
            continue
        name = item.get("name", "")
        if not isinstance(name, str) or len(name) > 64:
            errors.append(
                FieldError(f"{field}.name", _("名称应为不超过64字的文本。"), error_codes.INVALID_SCHEDULE)
            )
            continue
        if d.year != year:
            errors.append(
                FieldError(
                    f"{field}.date",
                    _("日期 %(date)s 不在 %(year)d 年内。") % {"date": d.isoformat(), "year": year},
                    error_codes.DATE_OUTSIDE_YEAR,
                )
            )
            continue
        if d in seen:
            errors.append(
                FieldError(
                    f"{field}.date",
                    _("日期 %(date)s 重复出现。") % {"date": d.isoformat()},
                    error_codes.DUPLICATE_DATE,
                )
            )
            continue
        if is_workday_ and d.weekday() < 5:
            # A make-up workday on a weekday changes nothing: almost certainly a wrong date.
            errors.append(
                FieldError(
                    f"{field}.date",
                    _("调休上班日 %(date)s 不是周末。") % {"date": d.isoformat()},
                    error_codes.MAKEUP_DAY_NOT_WEEKEND,
                )
            )
            continue
        seen.add(d)
        rows.append(HolidayDay(date=d, is_workday=is_workday_, name=name.strip(), year=year))
    if errors:
        raise _invalid(
            _("%(year)s 年节假日安排有 %(n)d 处错误：%(first)s")
            % {"year": year, "n": len(errors), "first": errors[0].message},
            errors,
        )
    return rows


def _validate(*, year: Any, days: Any, source: Any) -> list[HolidayDay]:
    if (
        isinstance(year, bool)
        or not isinstance(year, int)
        or not MIN_SCHEDULE_YEAR <= year <= MAX_SCHEDULE_YEAR
    ):
        raise _invalid(
            _("年份应为 %(min)d 至 %(max)d 之间的整数。")
            % {"min": MIN_SCHEDULE_YEAR, "max": MAX_SCHEDULE_YEAR},
            [FieldError("year", _("年份无效。"), error_codes.INVALID_SCHEDULE)],
        )
    if not isinstance(source, str) or not source.strip() or len(source.strip()) > 200:
        raise _invalid(
            _("请填写来源（发布文件的文号），不超过200字。"),
            [FieldError("source", _("来源无效。"), error_codes.INVALID_SCHEDULE)],
        )
    if not isinstance(days, list):
        raise _invalid(_("days 应为列表。"))
    return _validate_days(year, days)


def schedule_check(*, year: int, days: list[dict], source: str) -> int:
    """Validates a schedule exactly as :func:`schedule_load` would, without writing; returns the
    number of days. For ``workdays load --check`` and the admin's upload form."""
    return len(_validate(year=year, days=days, source=source))


def schedule_load(*, year: int, days: list[dict], source: str, actor=None) -> int:
    """Replaces the loaded schedule of ``year`` with ``days`` and returns how many days were loaded.

    ``days`` items are ``{"date": date | "YYYY-MM-DD", "is_workday": bool, "name": str}``. All or
    nothing: one bad item and nothing changes. Loaded days take precedence over the package's data
    for the same dates. ``actor`` is the user loading it (None from the operators' CLI).
    """
    if actor is not None and not actor.has_perm("core.add_holidayyear"):
        raise Forbidden(error_codes.SCHEDULE_LOAD_FORBIDDEN, _("您无权载入节假日安排。"))
    rows = _validate(year=year, days=days, source=source)
    source = source.strip()
    now = timezone.now()
    with transaction.atomic():
        holiday_year, _created = HolidayYear.objects.get_or_create(
            year=year, defaults={"source": source, "loaded_at": now}
        )
        # Two loads of the same year queue here instead of colliding on the unique dates.
        holiday_year = HolidayYear.objects.select_for_update().get(pk=holiday_year.pk)
        replaced = HolidayDay.objects.filter(year=year).delete()[0]
        for row in rows:
            row.source, row.loaded_at = source, now
        HolidayDay.objects.bulk_create(rows)
        holiday_year.source, holiday_year.loaded_at = source, now
        holiday_year.save(update_fields=["source", "loaded_at"])
        audit.record(
            actor=actor,
            action="workdays.schedule_load",
            target=holiday_year,
            data={
                "year": year,
                "source": source,
                "holidays": sum(1 for r in rows if not r.is_workday),
                "workdays": sum(1 for r in rows if r.is_workday),
                "replaced": replaced,
            },
        )
        # Now for reads later in this transaction; again after commit for reads that raced it.
        invalidate_cache()
        transaction.on_commit(invalidate_cache)
    return len(rows)
