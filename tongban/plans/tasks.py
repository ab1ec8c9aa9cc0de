"""Background work of plan supervision: reminders before a report is due and overdue marks after.

Both are safe to run again (a period remembers when it was reminded and marked) and run from the
embedded worker (registered in ``apps.py``) or Celery. Only the most recent period of a plan is ever
reminded or marked, so a plan imported years into its course does not flood units with old periods.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.config.celery import app
from tongban.core import audit, workdays
from tongban.core.context import Origin, acting_from
from tongban.plans.constants import REPORTED_STATES
from tongban.plans.models import Plan, ReportingPeriod, TaskAssignment, TaskReport

PERIODIC_SECONDS = 3600.0


def _missing_by_unit(period: ReportingPeriod) -> dict[int, int]:
    """Unit id → how many of its tasks have no report sent for ``period``."""
    expected: dict[int, set[int]] = {}
    for task_id, org_id in TaskAssignment.objects.filter(
        task__plan_id=period.plan_id, task__removed_at__isnull=True
    ).values_list("task_id", "organisation_id"):
        expected.setdefault(org_id, set()).add(task_id)
    for task_id, org_id in TaskReport.objects.filter(period=period, state__in=REPORTED_STATES).values_list(
        "task_id", "organisation_id"
    ):
        expected.get(org_id, set()).discard(task_id)
    return {org: len(tasks) for org, tasks in expected.items() if tasks}


def _notify_units(period: ReportingPeriod, missing: dict[int, int], *, title: str, body: str) -> int:
    from tongban.notifications.services import notify
    from tongban.plans.reporting import _node_language, reporters_of

    sent = 0
    for org_id, n in missing.items():
        for user in reporters_of(org_id):
            with _node_language():
                notify(
                    user=user,
                    title=title % {"p": period.label},
                    body=body % {"p": period.label, "n": n, "d": period.due_on.isoformat()},
                )
            sent += 1
    return sent


def reminders_send(*, on: dt.date | None = None) -> int:
    """Reminds the reporters of units with reports still to send for a period due within the plan's
    reminder window. Returns the number of notifications."""
    from tongban.plans.reporting import periods_ensure, schedule_of

    on = on or timezone.localdate()
    sent = 0
    for plan in Plan.objects.all():
        periods_ensure(plan=plan)
        _due, remind = schedule_of(plan)
        period = (
            ReportingPeriod.objects.filter(
                plan=plan, ends_on__lt=on, due_on__gte=on, reminded_at__isnull=True
            )
            .order_by("-ends_on")
            .first()
        )
        if period is None or workdays.workdays_between(on, period.due_on) > remind:
            continue
        with transaction.atomic():
            period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
            if period.reminded_at is not None:
                continue
            missing = _missing_by_unit(period)
            n = _notify_units(
                period,
                missing,
                title=_("进展报送提醒：%(p)s"),
                body=_("%(p)s的进展报送将于 %(d)s 截止，本单位还有 %(n)d 项任务未报送。"),
            )
            period.reminded_at = timezone.now()
            period.save(update_fields=["reminded_at"])
            audit.record(
                actor=None,
                action="plans.period_remind",
                target=period,
                data={"units": len(missing), "notified": n},
            )
            sent += n
    return sent


def overdue_mark(*, on: dt.date | None = None) -> int:
    """Marks the latest period whose due date has passed as overdue and tells units with reports
    still missing; older unmarked periods are marked silently. Returns the number of notifications."""
    on = on or timezone.localdate()
    sent = 0
    for plan in Plan.objects.all():
        overdue = list(
            ReportingPeriod.objects.filter(plan=plan, due_on__lt=on, overdue_marked_at__isnull=True).order_by(
                "-due_on"
            )
        )
        if not overdue:
            continue
        with transaction.atomic():
            latest, older = overdue[0], overdue[1:]
            ReportingPeriod.objects.filter(pk__in=[p.pk for p in older]).update(
                overdue_marked_at=timezone.now()
            )
            period = ReportingPeriod.objects.select_for_update().get(pk=latest.pk)
            if period.overdue_marked_at is not None:
                continue
            missing = _missing_by_unit(period)
            n = _notify_units(
                period,
                missing,
                title=_("进展报送已逾期：%(p)s"),
                body=_("%(p)s的进展报送已于 %(d)s 截止，本单位还有 %(n)d 项任务未报送，请尽快报送。"),
            )
            period.overdue_marked_at = timezone.now()
            period.save(update_fields=["overdue_marked_at"])
            audit.record(
                actor=None,
                action="plans.period_overdue",
                target=period,
                data={"units": len(missing), "tasks_missing": sum(missing.values()), "notified": n},
            )
            sent += n
    return sent


def reminders_step() -> dict:
    with acting_from(Origin(channel="task", address="plans.reminders")):
        return {"reminded": reminders_send(), "overdue": overdue_mark()}


@app.task(name="tongban.plans.reminders", soft_time_limit=300)
def reminders() -> dict:
    return reminders_step()


# An uploaded plan waits on disk between its preview and the save (named by its SHA-256); one
# previewed and never saved is removed after a day.
PREVIEW_DIR = "plan-previews"
PREVIEW_KEEP_SECONDS = 24 * 3600


def preview_path(sha: str):
    from django.conf import settings

    return settings.VAR_DIR / PREVIEW_DIR / f"{sha}.bin"


def previews_sweep(*, now: float | None = None) -> int:
    """Removes previewed plan files older than a day; returns how many."""
    import time

    from django.conf import settings

    folder = settings.VAR_DIR / PREVIEW_DIR
    if not folder.is_dir():
        return 0
    cutoff = (now or time.time()) - PREVIEW_KEEP_SECONDS
    removed = 0
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # saved (and removed) meanwhile
            continue
    return removed


@app.task(name="tongban.plans.previews_sweep", soft_time_limit=300)
def previews_sweep_task() -> int:
    return previews_sweep()
