"""Plan import: how long importing seed 001 (the Hefei plan, 210 tasks) takes.

In one run (``python -m bench.plans_import``, or :func:`main` from ``bench/run_all.py``):

(a) parse alone: ``plan_import_preview`` (read the bytes, parse the structure, targets, deadlines and
    problems), no database;
(b) parse + save on PostgreSQL: ``plan_import_save`` of a new plan (14 parts, 55 sections, 210 tasks,
    19 columns, 13 indicators, the import row and the audit entry in one transaction), target ≤ 200 ms;
(c) re-import of an amended text (one task changed, one removed) onto an existing plan.

The work runs in a child process with its own Django set-up against ``tongban_plansbench`` (created
afresh each run), so the caller's Django state is left alone. Each figure is the median of
:data:`RUNS` runs after a warm-up (best given too); the load average is reported with them. Results
go to ``docs/benchmarks-plans-import.md``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine_section, run_child

REPO = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("TONGBAN_PLANSBENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_plansbench")
DOC = REPO / "docs" / "benchmarks-plans-import.md"
SEED = REPO / "tongban" / "plans" / "data" / "hefei-yrd-plan-2020.txt"
RUNS = 15
TARGET_MS = 200


def _times(fn, runs: int = RUNS) -> list[float]:
    fn(0)  # warm-up: imports, regular expressions, connection
    out = []
    for i in range(1, runs + 1):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


# --- In the child process -------------------------------------------------------------------------------


def child() -> dict:
    from bench.env import ensure_database, server_env
    from bench.machine import load_average, machine_info

    work = Path(tempfile.mkdtemp(prefix="tongban-plansbench-"))
    ensure_database(DB_URL, rebuild=True)
    os.environ.update(server_env(DB_URL, work))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from tongban.plans.importing import plan_import_preview, plan_import_save
    from tongban.plans.models import Plan

    content = SEED.read_bytes()
    text = content.decode("utf-8")
    load_before = load_average()
    parse = _times(lambda i: plan_import_preview(content=content, filename=SEED.name))
    save = _times(
        lambda i: plan_import_save(actor=None, content=content, filename=SEED.name, code=f"bench-{i}")
    )
    plan = Plan.objects.get(code="bench-1")
    variants = []
    for i in range(RUNS + 1):
        # Alternate between two amended texts so every run really changes the plan.
        amended = text.replace("(12)对接国家战略需求", f"(12)对接国家战略需求{i}")
        if i % 2:
            amended = amended.replace("(59)积极发展高铁快运和电商快递班列。", "")
        variants.append(amended.encode())
    reimport = _times(
        lambda i: plan_import_save(actor=None, content=variants[i], filename="amended.txt", plan=plan)
    )
    assert Plan.objects.get(code="bench-1").version == RUNS + 2
    return {
        "parse_ms": [round(x, 1) for x in parse],
        "save_ms": [round(x, 1) for x in save],
        "reimport_ms": [round(x, 1) for x in reimport],
        "tasks": plan.tasks.count(),
        "bytes": len(content),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
        "machine": machine_info(),
    }


# --- In the caller's process ------------------------------------------------------------------------------


def _row(label: str, values: list[float], target: str = "—", verdict: str = "—") -> tuple:
    return (label, f"{statistics.median(values):.1f} ms", f"{min(values):.1f} ms", target, verdict)


def table(r: dict) -> str:
    save_ok = statistics.median(r["save_ms"]) <= TARGET_MS
    rows = [
        _row("(a) parse alone (read + structure + targets + problems)", r["parse_ms"]),
        _row(
            "(b) parse + save a new plan on PostgreSQL",
            r["save_ms"],
            f"≤ {TARGET_MS} ms",
            "达标" if save_ok else "未达标",
        ),
        _row("(c) re-import an amended text (update by number)", r["reimport_ms"]),
    ]
    lines = ["| measure | median | best | target | verdict |", "| --- | ---: | ---: | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return "\n".join(lines)


def write_doc(r: dict) -> None:
    m = r["machine"]
    DOC.write_text(
        "# Benchmarks: plan import\n\n"
        "Written by `python -m bench.plans_import` (see its docstring for what is measured and how).\n\n"
        f"{table(r)}\n\n"
        f"- Seed 001: {r['bytes']:,} bytes of text, {r['tasks']} tasks saved per plan.\n"
        f"- Median and best of {RUNS} runs after one warm-up, one process.\n"
        f"- Load average before / after: {r['load_average_before']} / {r['load_average_after']} "
        "(the machine is shared; other processes were running).\n\n" + machine_section(m),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> dict:
    """Runs the benchmark in a child process, prints a markdown table, writes the docs page and
    returns the results."""
    argv = sys.argv[1:] if argv is None else argv
    results = run_child("bench.plans_import")
    print(table(results))
    print(f"load average before / after: {results['load_average_before']} / {results['load_average_after']}")
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child(), ensure_ascii=False, default=str))
    else:
        main()
