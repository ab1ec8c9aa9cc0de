"""What the dashboards and the public statistics page show of this node's cases: counts per handling
city and item, cross-city flows (receiving city → handling city), the on-time rate, the working days
decisions took, and 好差评. Aggregates only: no applicant appears here.

A node sees the cases it holds: those it handles and those it received for other cities. Everything
is a handful of grouped queries; the working days are counted in Python once per (item, submitted day,
decided day) group, with the real calendar (``tongban.core.workdays``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from tongban.cases.constants import BAD_RATING_MAX, FINAL_STATUSES, CaseStatus
from tongban.cases.models import Case, CaseRating
from tongban.core import workdays
from tongban.regions.models import Region

DECIDED = (CaseStatus.APPROVED, CaseStatus.ISSUED, CaseStatus.DENIED, CaseStatus.REJECTED_INTAKE)
TOP_ITEMS = 10


@dataclass
class CaseStatistics:
    since: dt.date
    until: dt.date
    total: int = 0
    open: int = 0
    decided: int = 0
    overdue_open: int = 0
    cross_city: int = 0
    on_time_rate: float | None = None  # decided on or before their deadline / decided with a deadline
    per_city: list[dict] = field(default_factory=list)  # {code, name, cases}
    per_item: list[dict] = field(default_factory=list)  # {name, city, cases, avg_workdays}
    flows: list[dict] = field(default_factory=list)  # {source, source_name, target, target_name, cases}
    monthly: list[dict] = field(default_factory=list)  # {month, submitted, decided}
    ratings: dict = field(default_factory=dict)  # {count, average, bad, per_score, per_org}

    @property
    def cities(self) -> list[str]:
        """The cities that appear in the flows, in a stable order (for the matrix's axes)."""
        names = {f["source_name"] for f in self.flows} | {f["target_name"] for f in self.flows}
        return sorted(names)


def _names(codes) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))


def case_statistics(*, cases: QuerySet[Case] | None = None, since: dt.date | None = None) -> CaseStatistics:
    """The statistics of ``cases`` (default: every case of this node) submitted since ``since``
    (default: the last 12 months)."""
    today = timezone.localdate()
    since = since or today.replace(year=today.year - 1) + dt.timedelta(days=1)
    qs = (cases if cases is not None else Case.objects.all()).filter(
        submitted_at__date__gte=since, joint_parent__isnull=True
    )
    stats = CaseStatistics(since=since, until=today)
    totals = qs.aggregate(
        total=Count("id"),
        open=Count("id", filter=~Q(status__in=FINAL_STATUSES) & ~Q(status=CaseStatus.APPROVED)),
        decided=Count("id", filter=Q(status__in=DECIDED)),
        overdue=Count(
            "id",
            filter=~Q(status__in=FINAL_STATUSES)
            & ~Q(status__in=(CaseStatus.APPROVED, CaseStatus.CORRECTION, CaseStatus.SPECIAL_PROCEDURE))
            & Q(due_date__lt=today),
        ),
        cross=Count("id", filter=~Q(receiving_node=F("handling_node"))),
    )
    stats.total, stats.open, stats.decided = totals["total"], totals["open"], totals["decided"]
    stats.overdue_open, stats.cross_city = totals["overdue"], totals["cross"]

    flows = list(
        qs.values("receiving_node", "handling_node").annotate(n=Count("id")).order_by("-n", "receiving_node")
    )
    per_city = Counter()
    for row in flows:
        per_city[row["handling_node"]] += row["n"]
    names = _names([r["receiving_node"] for r in flows] + [r["handling_node"] for r in flows])
    stats.flows = [
        {
            "source": r["receiving_node"],
            "source_name": names.get(r["receiving_node"], r["receiving_node"]),
            "target": r["handling_node"],
            "target_name": names.get(r["handling_node"], r["handling_node"]),
            "cases": r["n"],
        }
        for r in flows
    ]
    stats.per_city = [
        {"code": code, "name": names.get(code, code), "cases": n} for code, n in per_city.most_common()
    ]

    # Decided cases: on time, and the working days from submission to decision, per item.
    # Grouped by day in the database: a busy node decides thousands of cases on a few hundred days.
    decided = (
        qs.filter(status__in=DECIDED, decided_at__isnull=False)
        .values_list("item_id", TruncDate("submitted_at"), TruncDate("decided_at"), "due_date")
        .annotate(n=Count("id"))
        .order_by()
    )
    days_per_item: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # item → [days × cases, cases]
    with_deadline = on_time = 0
    for item_id, submitted_on, decided_on, due_date, n in decided:
        total = days_per_item[item_id]
        total[0] += workdays.workdays_between(submitted_on, decided_on) * n
        total[1] += n
        if due_date is not None:
            with_deadline += n
            on_time += n if decided_on <= due_date else 0
    stats.on_time_rate = (on_time / with_deadline) if with_deadline else None

    items = list(
        qs.values("item_id", "item__name", "item__city_code")
        .annotate(n=Count("id"))
        .order_by("-n")[:TOP_ITEMS]
    )
    item_cities = _names([r["item__city_code"] for r in items])
    stats.per_item = [
        {
            "name": r["item__name"],
            "city": item_cities.get(r["item__city_code"], r["item__city_code"]),
            "cases": r["n"],
            "avg_workdays": (
                round(days_per_item[r["item_id"]][0] / days_per_item[r["item_id"]][1], 1)
                if r["item_id"] in days_per_item
                else None
            ),
        }
        for r in items
    ]

    months = {
        m.strftime("%Y-%m"): n
        for m, n in qs.values_list(TruncMonth("submitted_at")).annotate(n=Count("id")).order_by()
    }
    decided_months = {
        m.strftime("%Y-%m"): n
        for m, n in qs.filter(decided_at__isnull=False)
        .values_list(TruncMonth("decided_at"))
        .annotate(n=Count("id"))
        .order_by()
    }
    stats.monthly = [
        {"month": m, "submitted": months.get(m, 0), "decided": decided_months.get(m, 0)}
        for m in sorted(set(months) | set(decided_months))
    ]
    stats.ratings = rating_statistics(case_ids=qs.values("id"))
    return stats


def rating_statistics(*, case_ids) -> dict:
    """好差评: how many, the average, the 差评 (to follow up), per score and per handling unit."""
    ratings = CaseRating.objects.filter(case_id__in=case_ids)
    agg = ratings.aggregate(
        n=Count("id"), avg=Avg("score"), bad=Count("id", filter=Q(score__lte=BAD_RATING_MAX))
    )
    per_score = dict(ratings.values_list("score").annotate(n=Count("id")).order_by())
    per_org = [
        {
            "name": r["handling_org__name"] or "—",
            "count": r["n"],
            "average": round(r["avg"], 2),
            "bad": r["bad"],
        }
        for r in ratings.values("handling_org__name")
        .annotate(n=Count("id"), avg=Avg("score"), bad=Count("id", filter=Q(score__lte=BAD_RATING_MAX)))
        .order_by("-n")[:TOP_ITEMS]
    ]
    return {
        "count": agg["n"],
        "average": round(agg["avg"], 2) if agg["avg"] is not None else None,
        "bad": agg["bad"],
        "per_score": [{"score": s, "count": per_score.get(s, 0)} for s in (5, 4, 3, 2, 1)],
        "per_org": per_org,
    }


def bad_ratings_to_follow_up(*, cases: QuerySet[Case] | None = None, limit: int = 20) -> list[CaseRating]:
    """The latest 差评 for supervisors (GB/T 39735: every 差评 is checked and followed up)."""
    qs = CaseRating.objects.filter(score__lte=BAD_RATING_MAX)
    if cases is not None:
        qs = qs.filter(case_id__in=cases.values("id"))
    return list(qs.select_related("case", "item", "handling_org").order_by("-rated_at")[:limit])


# The home page asks on every view; the answer changes slowly, so each process keeps it a while.
_POPULAR_CACHE: dict[tuple, tuple[float, list]] = {}
POPULAR_SECONDS = 300
POPULAR_DAYS = 90


def popular_items(*, city_code: str | None = None, limit: int = 6) -> list:
    """The items most applied for in the last 90 days at this node, in ``city_code`` or anywhere;
    published items only. Cached per process for five minutes."""
    import time

    from tongban.catalogue.constants import ItemStatus
    from tongban.catalogue.models import ServiceItem

    key = (city_code, limit)
    hit = _POPULAR_CACHE.get(key)
    if hit and time.monotonic() - hit[0] < POPULAR_SECONDS:
        return hit[1]
    since = timezone.now() - dt.timedelta(days=POPULAR_DAYS)
    counts = Case.objects.filter(submitted_at__gte=since, joint_parent__isnull=True)
    if city_code:
        counts = counts.filter(item__city_code=city_code)
    top = list(counts.values_list("item_id").annotate(n=Count("id")).order_by("-n", "item_id")[: limit * 2])
    order = {item_id: i for i, (item_id, _n) in enumerate(top)}
    items = sorted(
        ServiceItem.objects.filter(pk__in=order, status=ItemStatus.PUBLISHED).select_related("authority"),
        key=lambda item: order[item.pk],
    )[:limit]
    _POPULAR_CACHE[key] = (time.monotonic(), items)
    return items


def popular_cache_clear() -> None:
    _POPULAR_CACHE.clear()


_STATS_CACHE: dict[str, tuple[tuple, CaseStatistics]] = {}


def case_statistics_current() -> CaseStatistics:
    """``case_statistics()`` of the whole node, recomputed only when a case or rating changed since
    (one small query tells): the public page and the dashboards are read far more than cases change."""
    from django.db.models import Max

    cases = Case.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    ratings = CaseRating.objects.aggregate(n=Count("id"), last=Max("id"))
    version = (cases["n"], cases["last"], ratings["n"], ratings["last"], timezone.localdate())
    hit = _STATS_CACHE.get("node")
    if hit and hit[0] == version:
        return hit[1]
    stats = case_statistics()
    _STATS_CACHE["node"] = (version, stats)
    return stats


def statistics_cache_clear() -> None:
    _STATS_CACHE.clear()
