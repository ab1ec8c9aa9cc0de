"""Demo data for plan supervision: plausible reports over the plan's past periods (most on time, some
late, some returned and sent again, a few missing), and indicator observations, so the demo
dashboard has lights, reviews and charts. Idempotent: a period a unit already has a report for is
left alone, an indicator with values gets none added.

Rows are written in bulk with their event rows (a demo of five years of monthly reports through the
one-by-one services would take minutes); the values are deterministic (seeded by task and period).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tongban.core import audit
from tongban.plans.constants import Comparator, ReportAction, ReportState, TaskStatus
from tongban.plans.models import (
    IndicatorObservation,
    Plan,
    ReportingPeriod,
    TaskAssignment,
    TaskReport,
    TaskReportEvent,
)
from tongban.plans.reporting import periods_ensure

NARRATIVES = [
    "已召开专题推进会，明确责任分工和时间节点，各项工作按计划推进。",
    "与沪苏浙相关部门建立对接机制，完成阶段性任务，形成工作台账。",
    "项目前期工作有序开展，已完成方案编制并报市领导小组办公室。",
    "受外部因素影响进度有所放缓，已制定整改措施，下一阶段加快推进。",
    "已完成年度目标任务，相关经验做法在长三角区域交流推广。",
]


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def plan_demo_reports(plan: Plan, *, on: dt.date | None = None, seed: int = 2020) -> dict:
    """Fills the plan's past periods with reports; returns counts of what was added."""
    on = on or timezone.localdate()
    periods_ensure(plan=plan)
    periods = list(ReportingPeriod.objects.filter(plan=plan, ends_on__lt=on).order_by("starts_on"))
    assignments = list(
        TaskAssignment.objects.filter(task__plan=plan, task__removed_at__isnull=True).select_related("task")
    )
    have = set(
        TaskReport.objects.filter(task__plan=plan).values_list("task_id", "organisation_id", "period_id")
    )
    start = dt.date(plan.start_year, 1, 1)
    reports, returned_keys = [], set()
    for a in assignments:
        end = a.task.deadline or dt.date(plan.end_year, 12, 31)
        rnd = random.Random(f"{seed}:{a.task_id}:{a.organisation_id}")
        pace = rnd.uniform(0.6, 1.3)  # some units run ahead of the linear schedule, some behind
        for p in periods:
            key = (a.task_id, a.organisation_id, p.pk)
            if key in have:
                continue
            prnd = random.Random(f"{seed}:{a.task_id}:{a.organisation_id}:{p.key}")
            roll = prnd.random()
            if roll < 0.04 and p.due_on < on:  # never sent
                continue
            share = max(0.0, min(1.0, (p.ends_on - start).days / max(1, (end - start).days)))
            progress = int(min(100, round(share * 100 * pace)))
            status = (
                TaskStatus.DONE
                if progress >= 100
                else TaskStatus.NOT_STARTED
                if progress == 0
                else TaskStatus.BEHIND
                if pace < 0.7 and share > 0.3
                else TaskStatus.IN_PROGRESS
            )
            late = roll > 0.9
            sent_day = (
                p.due_on + dt.timedelta(days=3) if late else p.due_on - dt.timedelta(days=prnd.randint(0, 4))
            )
            sent = _at(min(sent_day, on))
            r = TaskReport(
                task_id=a.task_id,
                organisation_id=a.organisation_id,
                period=p,
                status=status,
                progress=100
                if status == TaskStatus.DONE
                else 0
                if status == TaskStatus.NOT_STARTED
                else progress,
                narrative=NARRATIVES[min(4, int(share * 4)) if status != TaskStatus.BEHIND else 3],
                state=ReportState.ACCEPTED
                if p.due_on < on - dt.timedelta(days=20)
                else ReportState.SUBMITTED,
                version=1,
                first_submitted_at=sent,
                submitted_at=sent,
                on_time=not late,
            )
            if r.state == ReportState.ACCEPTED:
                r.reviewed_at = sent + dt.timedelta(days=2)
                if 0.04 <= roll < 0.12:  # returned once, then accepted
                    r.times_returned, r.version = 1, 2
                    returned_keys.add(key)
            reports.append(r)
    with transaction.atomic():
        TaskReport.objects.bulk_create(reports, batch_size=2000)
        events = []
        for r in reports:
            snap = {"status": r.status, "progress": r.progress, "narrative": r.narrative, "attachments": []}
            events.append(
                TaskReportEvent(
                    report=r,
                    action=ReportAction.SUBMIT,
                    from_state="draft",
                    to_state="submitted",
                    version=1,
                    actor_label="演示数据",
                    snapshot=snap,
                    at=r.submitted_at,
                )
            )
            if (r.task_id, r.organisation_id, r.period_id) in returned_keys:
                events.append(
                    TaskReportEvent(
                        report=r,
                        action=ReportAction.RETURN,
                        from_state="submitted",
                        to_state="returned",
                        version=1,
                        actor_label="演示数据",
                        note="请补充量化成果和佐证材料。",
                        snapshot=snap,
                        at=r.submitted_at + dt.timedelta(days=1),
                    )
                )
                events.append(
                    TaskReportEvent(
                        report=r,
                        action=ReportAction.RESUBMIT,
                        from_state="returned",
                        to_state="submitted",
                        version=2,
                        actor_label="演示数据",
                        snapshot=snap,
                        at=r.submitted_at + dt.timedelta(days=1, hours=6),
                    )
                )
            if r.state == ReportState.ACCEPTED:
                events.append(
                    TaskReportEvent(
                        report=r,
                        action=ReportAction.ACCEPT,
                        from_state="submitted",
                        to_state="accepted",
                        version=r.version,
                        actor_label="演示数据",
                        snapshot=snap,
                        at=r.reviewed_at,
                    )
                )
        TaskReportEvent.objects.bulk_create(events, batch_size=5000)
        observations = _demo_observations(plan, on)
        audit.record(
            actor=None,
            action="plans.demo_reports",
            target=plan,
            data={"reports": len(reports), "events": len(events), "observations": observations},
        )
    return {"reports": len(reports), "events": len(events), "observations": observations}


def _demo_observations(plan: Plan, on: dt.date) -> int:
    rows = []
    for ind in plan.indicators.exclude(comparator=Comparator.QUALITATIVE).exclude(value__isnull=True):
        if ind.observations.exists():
            continue
        target = ind.value
        base_year = plan.start_year - 1
        base = target * (Decimal("1.25") if ind.comparator == Comparator.AT_MOST else Decimal("0.75"))
        last_year = min(on.year - 1, ind.year or plan.end_year)
        rnd = random.Random(f"obs:{ind.pk}")
        for year in range(base_year, last_year + 1):
            share = Decimal(year - base_year) / Decimal(max(1, (ind.year or plan.end_year) - base_year))
            value = base + (target - base) * share * Decimal(str(round(rnd.uniform(0.7, 1.05), 3)))
            rows.append(
                IndicatorObservation(
                    indicator=ind,
                    value=value.quantize(Decimal("0.001")),
                    observed_on=dt.date(year, 12, 31),
                    source=f"{year}年国民经济和社会发展统计公报（演示数据）",
                )
            )
    IndicatorObservation.objects.bulk_create(rows)
    return len(rows)
