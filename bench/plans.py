"""Plan supervision: how fast the dashboard answers and a filled ledger imports, on PostgreSQL.

In one run (``python -m bench.plans``, or :func:`main` from ``bench/run_all.py``):

(a) the dashboard (``tongban.plans.dashboard.plan_dashboard``: lights of every task and unit with
    their reasons, areas, units, indicators with progress, the live 一网通办 figures) of a plan of
    210 tasks in 13 areas, each with a lead and a co-unit (30 units), with five years of monthly
    reports (2021–2025: 60 periods × 420 task-units = 25,200 reports) and 20 indicators with six
    values each; target ≤ 300 ms;
(b) importing a filled ledger of 2,000 rows (250 tasks of one unit × 8 monthly periods), from the
    .xlsx bytes to the committed reports with their event rows; target ≤ 5 s.

The work runs in a child process with its own Django set-up against ``tongban_planbench`` (created
afresh each run), so the caller's Django state is left alone. Each time is the best of five rounds
for (a) (after one warm-up) and of three for (b) (the reports of a round are deleted before the
next). Results go to ``docs/benchmarks-plans.md``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine_section, run_child

REPO = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("TONGBAN_PLANBENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_planbench")
DOC = REPO / "docs" / "benchmarks-plans.md"
TARGETS = {"dashboard_ms": 300.0, "ledger_import_s": 5.0}
TASKS, PARTS, UNITS, INDICATORS = 210, 13, 30, 20
LEDGER_TASKS, LEDGER_PERIODS = 250, 8


def _setup(work: Path) -> None:
    from bench.env import ensure_database, server_env

    ensure_database(DB_URL, rebuild=True)
    os.environ.update(server_env(DB_URL, work))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _org(i: int, region):
    from stdnum.cn import uscc

    from tongban.regions.models import Organisation

    body = f"11340100MB{i:07d}"
    return Organisation.objects.create(
        name=f"合肥市第{i}责任单位", uscc=body + uscc.calc_check_digit(body), kind="unit", region=region
    )


def _big_plan(region):
    """210 tasks, 420 assignments, 25,200 reports over 2021–2025, 20 indicators × 6 values."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from tongban.plans.constants import AssignmentRole, Comparator, ReportState, TaskStatus
    from tongban.plans.models import (
        Indicator,
        IndicatorObservation,
        Plan,
        PlanSection,
        PlanTask,
        ReportingPeriod,
        TaskAssignment,
        TaskReport,
    )
    from tongban.plans.reporting import periods_ensure

    plan = Plan.objects.create(
        code="bench-210", title="基准测试方案", frequency="monthly", start_year=2021, end_year=2025
    )
    parts = [
        PlanSection.objects.create(
            plan=plan, level=1, number=i + 2, label=f"{i + 2}、", title=f"领域{i + 1}", position=i
        )
        for i in range(PARTS)
    ]
    units = [_org(i, region) for i in range(1, UNITS + 1)]
    tasks = PlanTask.objects.bulk_create(
        [
            PlanTask(
                plan=plan,
                part=parts[n % PARTS],
                number=n + 1,
                text=f"第{n + 1}项重点任务的内容。" * 3,
                deadline=dt.date(2023 + n % 3, 12, 31),
                position=n,
            )
            for n in range(TASKS)
        ]
    )
    assignments = []
    for n, t in enumerate(tasks):
        assignments.append(TaskAssignment(task=t, organisation=units[n % UNITS], role=AssignmentRole.LEAD))
        assignments.append(
            TaskAssignment(task=t, organisation=units[(n + 7) % UNITS], role=AssignmentRole.CO)
        )
    TaskAssignment.objects.bulk_create(assignments)
    periods_ensure(plan=plan)
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    reports = []
    for a in assignments:
        for i, p in enumerate(periods):
            sent = timezone.make_aware(dt.datetime.combine(p.due_on, dt.time(9)))
            progress = min(100, int(100 * (i + 1) / (12 * (3 + a.task.number % 3))))
            reports.append(
                TaskReport(
                    task=a.task,
                    organisation=a.organisation,
                    period=p,
                    version=1,
                    status=TaskStatus.DONE if progress == 100 else TaskStatus.IN_PROGRESS,
                    progress=progress,
                    narrative="本期按计划推进。",
                    state=ReportState.ACCEPTED,
                    on_time=(i + a.task.number) % 11 != 0,
                    first_submitted_at=sent,
                    submitted_at=sent,
                    reviewed_at=sent,
                )
            )
    TaskReport.objects.bulk_create(reports, batch_size=5000)
    for k in range(INDICATORS):
        ind = Indicator.objects.create(
            plan=plan,
            name=f"指标{k + 1}",
            comparator=Comparator.AT_LEAST,
            value=Decimal(100 + k),
            unit="%",
            year=2025,
            position=k,
        )
        IndicatorObservation.objects.bulk_create(
            [
                IndicatorObservation(
                    indicator=ind,
                    value=Decimal(60 + 8 * y + k),
                    observed_on=dt.date(2020 + y, 12, 31),
                    source="统计公报",
                )
                for y in range(6)
            ]
        )
    return plan, len(reports)


def _ledger_case(region):
    """A plan whose one unit has 250 tasks, and its filled ledger of 2,000 rows (8 months of 2025)."""
    import io

    from openpyxl import load_workbook

    from tongban.accounts import services as account_services
    from tongban.plans import ledger
    from tongban.plans.constants import AssignmentRole
    from tongban.plans.models import Plan, PlanSection, PlanTask, ReportingPeriod, TaskAssignment
    from tongban.plans.reporting import periods_ensure

    plan = Plan.objects.create(
        code="bench-ledger", title="台账基准方案", frequency="monthly", start_year=2025, end_year=2026
    )
    part = PlanSection.objects.create(plan=plan, level=1, number=2, label="二、", title="领域", position=0)
    unit = _org(900, region)
    tasks = PlanTask.objects.bulk_create(
        [
            PlanTask(plan=plan, part=part, number=n + 1, text=f"任务{n + 1}", position=n)
            for n in range(LEDGER_TASKS)
        ]
    )
    TaskAssignment.objects.bulk_create(
        [TaskAssignment(task=t, organisation=unit, role=AssignmentRole.LEAD) for t in tasks]
    )
    periods_ensure(plan=plan)
    reporter = account_services.staff_create(
        username="bench-reporter",
        password="Tongban-2026!",
        real_name="填报员",
        organisation=unit,
        roles=["plan_reporter"],
    )
    content = ledger.ledger_export(user=reporter, plan=plan, organisation_id=unit.pk, period_key="2025-01")
    wb = load_workbook(io.BytesIO(content))
    ws = wb[ledger.SHEET]
    header = [c.value for c in ws[ledger.HEADER_ROW]]
    template = [[c.value for c in row] for row in ws.iter_rows(min_row=ledger.FIRST_ROW)]
    labels = list(
        ReportingPeriod.objects.filter(plan=plan, year=2025).order_by("seq").values_list("label", flat=True)
    )
    ws.delete_rows(ledger.FIRST_ROW, ws.max_row)
    col = {name: header.index(name) for name in header}
    for label in labels[:LEDGER_PERIODS]:
        for values in template:
            values = list(values)
            values[col["报送期"]] = label
            values[col["本期状态"]] = "推进中"
            values[col["本期进度（%）"]] = 40
            values[col["本期进展情况"]] = "本期完成方案编制，召开推进会一次。"
            ws.append(values)
    out = io.BytesIO()
    wb.save(out)
    return plan, reporter, out.getvalue()


def child() -> dict:
    import datetime as dt

    from bench.machine import load_average, machine_info

    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp))
        from django.utils import timezone

        from tongban.accounts import services as account_services
        from tongban.plans import dashboard, ledger
        from tongban.plans.models import TaskReport
        from tongban.regions.models import Region

        region, _ = Region.objects.get_or_create(code="340100", defaults={"name": "合肥市", "level": "city"})
        plan, n_reports = _big_plan(region)
        office = account_services.staff_create(
            username="bench-office",
            password="Tongban-2026!",
            real_name="推进办",
            organisation=_org(800, region),
            roles=["plan_office"],
        )
        on = dt.date(2026, 1, 20)
        d = dashboard.plan_dashboard(user=office, plan=plan, on=on)  # warm-up
        times = []
        for _ in range(5):
            start = time.perf_counter()
            d = dashboard.plan_dashboard(user=office, plan=plan, on=on)
            times.append(time.perf_counter() - start)
        lplan, reporter, content = _ledger_case(region)
        now = timezone.make_aware(dt.datetime(2026, 1, 10, 10))
        imports, rows = [], 0
        for _ in range(3):
            TaskReport.objects.filter(task__plan=lplan).delete()
            start = time.perf_counter()
            result = ledger.ledger_import(actor=reporter, plan=lplan, content=content, now=now)
            imports.append(time.perf_counter() - start)
            rows = result.created
    return {
        "dashboard_ms": round(min(times) * 1000, 1),
        "dashboard_median_ms": round(sorted(times)[2] * 1000, 1),
        "tasks": d.totals["tasks"],
        "reports": n_reports,
        "ledger_import_s": round(min(imports), 2),
        "ledger_rows": rows,
        "ledger_bytes": len(content),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
        "machine": machine_info(),
    }


# --- In the caller's process ------------------------------------------------------------------------------


def table(r: dict) -> str:
    def ok(passed: bool) -> str:
        return "达标" if passed else "未达标"

    rows = [
        (
            f"(a) dashboard, {r['tasks']} tasks, {r['reports']:,} monthly reports (best of 5; median {r['dashboard_median_ms']} ms)",
            f"{r['dashboard_ms']} ms",
            "≤ 300 ms",
            ok(r["dashboard_ms"] <= TARGETS["dashboard_ms"]),
        ),
        (
            f"(b) ledger import, {r['ledger_rows']:,} rows ({r['ledger_bytes'] // 1024} KB .xlsx; best of 3)",
            f"{r['ledger_import_s']} s",
            "≤ 5 s",
            ok(r["ledger_import_s"] <= TARGETS["ledger_import_s"]),
        ),
    ]
    lines = ["| measure | time | target | verdict |", "| --- | ---: | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def write_doc(r: dict) -> None:
    m = r["machine"]
    DOC.write_text(
        "# Benchmarks: plan supervision\n\n"
        "Written by `python -m bench.plans` (see its docstring for what is measured and how).\n\n"
        f"{table(r)}\n\n"
        f"- Load average before / after: {r['load_average_before']} / {r['load_average_after']} "
        "(the machine is shared; other processes were running).\n\n" + machine_section(m),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> dict:
    """Runs the benchmark in a child process, prints a markdown table, writes the docs page and
    returns the results."""
    argv = sys.argv[1:] if argv is None else argv
    results = run_child("bench.plans")
    print(table(results))
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child(), ensure_ascii=False, default=str))
    else:
        main()
