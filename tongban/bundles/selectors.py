"""Reading bundles: an applicant's, a supervisor's view with elapsed working days and risk, and the
share of bundles done within their promised time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from tongban.accounts.constants import Role
from tongban.bundles import error_codes as codes
from tongban.bundles.constants import BundleStatus
from tongban.bundles.models import Bundle, BundleDefinition, BundleStep
from tongban.core import workdays
from tongban.core.errors import NotFound

SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def definitions_published() -> QuerySet[BundleDefinition]:
    return BundleDefinition.objects.filter(published=True).order_by("city_code", "name")


def definition_published(key: str) -> BundleDefinition:
    definition = BundleDefinition.objects.filter(key=key, published=True).order_by("-version").first()
    if definition is None:
        raise NotFound(codes.NOT_FOUND, f"“一件事”{key} 不存在。")
    return definition


def bundles_of(user) -> QuerySet[Bundle]:
    return Bundle.objects.filter(applicant=user).select_related("definition")


def can_supervise(user) -> bool:
    return user.is_authenticated and user.kind == "staff" and any(user.has_role(r) for r in SUPERVISOR_ROLES)


def bundle_for(user, number: str) -> Bundle:
    """The bundle, for its applicant or a supervisor; "not found" for anyone else."""
    bundle = Bundle.objects.select_related("definition", "applicant").filter(number=number).first()
    if bundle is None or not (bundle.applicant_id == user.pk or can_supervise(user)):
        raise NotFound(codes.NOT_FOUND, f"找不到“一件事”申请 {number}。")
    return bundle


def elapsed_workdays(start, end) -> int:
    """Working days from the day after ``start`` up to ``end`` (today while still open)."""
    first = timezone.localtime(start).date()
    last = timezone.localtime(end).date() if end else timezone.localdate()
    return workdays.workdays_between(first, last)


@dataclass(frozen=True)
class StepView:
    step: BundleStep
    elapsed_workdays: int | None


@dataclass(frozen=True)
class BundleView:
    bundle: Bundle
    steps: list[StepView]
    elapsed_workdays: int
    target_workdays: int

    @property
    def open(self) -> bool:
        return self.bundle.status in (BundleStatus.RUNNING, BundleStatus.PAUSED)

    @property
    def risk(self) -> str:
        """``late`` past the promised time, ``at_risk`` on its last working day (or later while open), else ``""``."""
        if self.elapsed_workdays > self.target_workdays:
            return "late"
        if self.open and self.elapsed_workdays >= self.target_workdays - 1:
            return "at_risk"
        return ""


def bundle_view(bundle: Bundle) -> BundleView:
    steps = [
        StepView(s, elapsed_workdays(s.started_at, s.completed_at) if s.started_at else None)
        for s in bundle.steps.select_related("case").order_by("sort")
    ]
    return BundleView(
        bundle,
        steps,
        elapsed_workdays(bundle.submitted_at, bundle.completed_at),
        bundle.definition.target_workdays,
    )


@dataclass(frozen=True)
class Share:
    definition: str
    name: str
    completed: int
    on_time: int
    open: int
    at_risk: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.completed, 1) if self.completed else None


def bundle_metrics(*, since: date | None = None) -> list[Share]:
    """Per bundle kind: how many were completed, how many of those within the promised working days,
    and how many open ones are at risk now."""
    out = []
    for key in sorted(set(BundleDefinition.objects.values_list("key", flat=True))):
        qs = Bundle.objects.filter(definition__key=key).select_related("definition")
        if since:
            qs = qs.filter(submitted_at__date__gte=since)
        completed = on_time = open_ = at_risk = 0
        name = ""
        for bundle in qs:
            name = bundle.definition.name
            elapsed = elapsed_workdays(bundle.submitted_at, bundle.completed_at)
            target = bundle.definition.target_workdays
            if bundle.status == BundleStatus.COMPLETED:
                completed += 1
                on_time += elapsed <= target
            elif bundle.status in (BundleStatus.RUNNING, BundleStatus.PAUSED):
                open_ += 1
                at_risk += elapsed >= target - 1
        if name:
            out.append(Share(key, name, completed, on_time, open_, at_risk))
    return out


def bundles_supervised(*, status: str | None = None) -> QuerySet[Bundle]:
    qs = Bundle.objects.select_related("definition", "applicant").order_by("-submitted_at")
    return qs.filter(status=status) if status else qs
