"""Benchmark 2: a reviewer's queue with 1,000,000 cases in the database.

Target: at least 150 requests/s for ``GET /api/v1/cases?page_size=100`` as a reviewer; the
workbench queue page (``/workbench/``, session login) is measured the same way.

The reviewer works at 苏州市市场监督管理局, whose organisation holds about 2,000 open and 40,000
closed cases among the million (the rest spread over ~400 other authorities of the 41 cities).
Besides the HTTP runs, the queue's SQL is explained (``EXPLAIN ANALYZE``) and the selector plus
presenter are timed in process, to tell database time from Python time.
"""

from __future__ import annotations

import json
import time

from bench.appserver import Server
from bench.common import Context, best_run, measured_run, pause_between_runs
from bench.datasets import ensure_reviewer
from bench.env import log
from bench.loadgen import build_request, fetch, latency_summary

NAME = "queue"
TITLE = "审批人员待办队列（100 万办件）"
CONCURRENCY = 16
TARGET_RPS = 150
PAGE_SIZE = 100


class DbTimer:
    """``connection.execute_wrapper`` that adds up the time spent in the database driver."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0
            self.queries += 1


def explain_executed(fn) -> dict:
    """Runs ``fn`` recording the SQL it sends, then ``EXPLAIN (ANALYZE, BUFFERS)`` each SELECT.

    Whatever the selector does (one query, or a first tier and a second), what is explained is
    exactly what ran.
    """
    from django.db import connection

    sent: list[tuple[str, object]] = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        fn()
    statements = []
    with connection.cursor() as cursor:
        for sql, params in sent:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            line = next((x for x in plan if x.startswith("Execution Time")), "")
            ms = float(line.split(":")[1].split()[0]) if line else 0.0
            statements.append(
                {"sql": sql, "params": [str(p) for p in params or ()], "execution_ms": ms, "plan": plan}
            )
    return {"execution_ms": round(sum(s["execution_ms"] for s in statements), 3), "statements": statements}


def in_process(reviewer, repeats: int) -> dict:
    """The API's own steps without HTTP: selector, page of 101 rows, presenter for each row."""
    from django.db import connection

    from tongban.api.v1 import presenters
    from tongban.api.v1.pagination import paginate
    from tongban.cases.selectors import case_queue, case_rows

    totals, db = [], []
    for i in range(repeats + 3):
        timer = DbTimer()
        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            rows, _ = paginate(case_rows(case_queue(user=reviewer)), page=1, page_size=PAGE_SIZE)
            presenters.case_summary_rows(rows)
        if i >= 3:
            totals.append(time.perf_counter() - t0)
            db.append(timer.seconds)
    return {
        "total": latency_summary(totals),
        "db": latency_summary(db),
        "queries": timer.queries,
        "rows": len(rows),
    }


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _check_api(port: int, req: bytes) -> str:
    status, body = fetch(port, req)
    if status != 200:
        raise RuntimeError(f"queue API answered {status}: {body[:300]!r}")
    doc = json.loads(body)
    if len(doc["items"]) != PAGE_SIZE or not doc["has_next"]:
        raise RuntimeError(f"queue API gave {len(doc['items'])} items, has_next={doc['has_next']}")
    return f"{len(body):,} bytes, first due {doc['items'][0]['due_date']}"


def _check_page(port: int, req: bytes) -> str:
    status, body = fetch(port, req)
    text = body.decode("utf-8", "replace")
    if status != 200 or "<form" not in text:
        raise RuntimeError(f"workbench page answered {status}: {text[:300]}")
    return f"{len(body):,} bytes"


def run(ctx: Context) -> dict:
    from tongban.accounts.services import api_token_issue
    from tongban.api.v1.pagination import paginate
    from tongban.cases.models import Case
    from tongban.cases.selectors import case_queue, case_rows

    reviewer = ensure_reviewer()
    token = api_token_issue(user=reviewer, name="bench")
    cookie = _session_cookie(reviewer)
    total_cases = Case.objects.count()
    visible = Case.objects.filter(handling_org=reviewer.organisation_id)
    open_cases = case_queue(user=reviewer).count()
    org_cases = visible.count()
    plan = explain_executed(
        lambda: paginate(case_rows(case_queue(user=reviewer)), page=1, page_size=PAGE_SIZE)
    )
    log(f"    queue SQL: {plan['execution_ms']} ms in PostgreSQL (EXPLAIN ANALYZE)")
    inproc = in_process(reviewer, 10 if ctx.quick else 50)
    log(
        f"    in process: p50 {inproc['total']['p50_ms']} ms (database {inproc['db']['p50_ms']} ms, "
        f"{inproc['queries']} queries)"
    )

    api_runs, page_runs, checks, failures = [], [], {}, []
    for i, config in enumerate(ctx.configs):
        if i:
            pause_between_runs()
        try:
            with Server(config, ctx.server_env, log_dir=ctx.log_dir) as server:
                api = build_request(
                    "GET",
                    f"/api/v1/cases?page_size={PAGE_SIZE}",
                    port=server.port,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
                page = build_request(
                    "GET", "/workbench/", port=server.port, headers={"Cookie": cookie, "Accept": "text/html"}
                )
                checks["api"] = _check_api(server.port, api)
                checks["page"] = _check_page(server.port, page)
                api_runs.append(measured_run(ctx, server, [api], concurrency=CONCURRENCY, label="queue API"))
                if i == 0:  # the page is far slower than the API: one server setting is enough
                    page_runs.append(
                        measured_run(
                            ctx,
                            server,
                            [page],
                            concurrency=CONCURRENCY,
                            label="workbench page",
                            duration=ctx.duration / 2,
                        )
                    )
        except RuntimeError as exc:  # one server setting failing must not lose the others' numbers
            log(f"    {config.label} failed: {str(exc)[:300]}")
            failures.append(f"{config.label}: {str(exc)[:300]}")
    if not api_runs:
        raise RuntimeError("; ".join(failures))
    if not page_runs:
        raise RuntimeError("the workbench page was not measured: " + "; ".join(failures))
    best_api = best_run(api_runs)
    best_page = best_run(page_runs)
    return {
        "name": NAME,
        "title": TITLE,
        "method": {
            "endpoint": f"GET /api/v1/cases?page_size={PAGE_SIZE} (Bearer token, reviewer)",
            "page": "GET /workbench/ (session cookie, 50 rows a page, filter form with counts)",
            "concurrency": CONCURRENCY,
            "cases_total": total_cases,
            "organisation_cases": org_cases,
            "organisation_open_cases": open_cases,
            "responses": checks,
            "failures": failures,
        },
        "explain": plan,
        "in_process": inproc,
        "targets": {"throughput_rps": TARGET_RPS},
        "api_runs": api_runs,
        "page_runs": page_runs,
        "best": best_api,
        "best_page": best_page,
        "pass": best_api["throughput_rps"] >= TARGET_RPS and best_api["errors"] == 0,
        "page_pass": best_page["throughput_rps"] >= TARGET_RPS and best_page["errors"] == 0,
    }
