"""Reply deadlines (答复期限) of suggestions and proposals (ADR 0007).

A deadline is a number of *calendar months* after its start (the hand-over, or the feedback that
re-opened the proposal): 3 months after 2026-11-20 is 2027-02-20; the 31st of a month that has no
31st is its last day. When that date is not a working day under the State Council schedule the
deadline moves to the next working day. A year whose holiday schedule has not been published yet is
counted Monday–Friday and the deadline is *provisional* (暂定) until an administrator loads the
schedule (``tongban workdays load``); :func:`tongban.proposals.services.deadlines_refresh` then
confirms it, moving it if a holiday now covers it.

The transfer window (签收期限) is counted in working days with ``tongban.core.workdays``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from tongban.core import workdays

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    base: dt.date  # the calendar date, months after the start
    date: dt.date  # the working day the deadline falls on
    provisional: bool  # the year's holidays are not known yet


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus whole calendar months; the day is clamped to the target month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def on_or_after_workday(day: dt.date) -> workdays.WorkdayResult:
    """``day`` if it is a working day, else the next one (provisional when a year is unknown)."""
    result = workdays.add_workdays(day - ONE_DAY, 1)
    return workdays.WorkdayResult(
        date=result.date, provisional=result.provisional or not workdays.is_known_year(result.date.year)
    )


def deadline_after(start: dt.date, months: int) -> Deadline:
    base = add_months(start, months)
    landed = on_or_after_workday(base)
    return Deadline(base=base, date=landed.date, provisional=landed.provisional)


def window_end(start: dt.date, days: int) -> workdays.WorkdayResult:
    """The last day of a transfer window of ``days`` working days counted from the day after ``start``."""
    return workdays.add_workdays(start, days)
