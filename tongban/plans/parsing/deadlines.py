"""Deadlines mentioned inside a task: 2019年底前, 2020年6月底前, 到2020年, 2019年建成…"""

from __future__ import annotations

import calendar
import re
from datetime import date

from tongban.plans.parsing.text import normalise

DEADLINE = re.compile(
    r"(?P<pre>到|至|力争|确保|于|在)?(?P<year>20\d\d)年(?:(?P<month>\d{1,2})月)?"
    r"(?P<end>年?底|年?末)?(?P<before>前|之前|以前)?"
)
_FOLLOWERS = ("建成", "完成", "实现", "基本", "全面", "纳入", "投入", "开工", "竣工", "形成")


def find_deadline(text: str) -> tuple[date, str] | None:
    """The earliest deadline stated in ``text``: (date, the words as written). A year in a range
    (2019—2035年) or a title (《…(2016-2040)》) is not a deadline."""
    norm = normalise(text)
    best: tuple[date, str] | None = None
    for m in DEADLINE.finditer(norm):
        before = norm[m.start() - 1] if m.start() else ""
        if before and (before in "-—–~～至" or before.isdigit()):
            continue
        after = norm[m.end() : m.end() + 2]
        if not (m["pre"] or m["end"] or m["before"] or after in _FOLLOWERS):
            continue
        year = int(m["year"])
        month = int(m["month"]) if m["month"] else 12
        if not 1 <= month <= 12:
            continue
        when = date(year, month, calendar.monthrange(year, month)[1])
        if best is None or when < best[0]:
            best = (when, text[m.start() : m.end()].lstrip("在于"))
    return best
