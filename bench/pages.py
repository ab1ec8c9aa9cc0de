"""Server-rendered pages on the demo data: time per page (p50/p95), and what the portal's home page
weighs on the wire. Targets (issue 8): p95 ≤ 100 ms per page; home page under 300 KB transferred;
nothing loaded from outside the node.

``python -m bench.pages`` (or from ``bench/run_all.py``): in a child process with its own var
directory, on PostgreSQL (``tongban_pagebench``, created afresh) — or SQLite with ``--sqlite`` —
prepares the demo node (catalogue of every city, demo accounts, a year of cases and ratings) and asks
each page ``ROUNDS`` times through Django's WSGI handler in-process (the middleware, sessions,
templates and queries of a real request; no network or server process in the measure). Results go
to ``docs/benchmarks-pages.md``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine_section, run_child

REPO = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("TONGBAN_PAGEBENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_pagebench")
DOC = REPO / "docs" / "benchmarks-pages.md"
ROUNDS = 60
WARMUP = 5
TARGET_P95_MS = 100
TARGET_HOME_KB = 300

# (label, who, url or callable(context) -> url)
PAGES = [
    ("首页", None, "/"),
    ("首页检索（拼音 yyzz）", None, "/?q=yyzz"),
    ("事项一次告知", None, "item"),
    ("数据公开", None, "/statistics/"),
    ("一件事列表", None, "/bundles/"),
    ("申请表", "citizen", "apply"),
    ("我的办件", "citizen", "/me/cases/"),
    ("办件详情（申请人）", "citizen", "case"),
    ("我的证照", "citizen", "/me/certificates/"),
    ("办件队列", "reviewer", "/workbench/"),
    ("办件详情（工作台）", "reviewer", "wb_case"),
    ("数据看板", "admin", "/workbench/dashboard/"),
    ("推进方案结构", "planoffice", "/plans/hefei-yrd-2020/"),
    ("督办看板（210 项任务）", "planoffice", "/plans/hefei-yrd-2020/dashboard/"),
    ("进展报送（责任单位）", "plan-kjj", "/plans/hefei-yrd-2020/reports/"),
    ("建议提案列表", "proposal_office", "/workbench/proposals/"),
    ("拟写答复（含类案参考）", "proposal_handler", "draft"),
    ("答复公开", None, "/replies/"),
]


def child(sqlite: bool) -> dict:
    import django

    django.setup()
    from django.test import Client

    from bench.machine import load_average, machine_info
    from tongban.accounts.models import User
    from tongban.cases.models import Case
    from tongban.demo import demo_prepare

    started = time.perf_counter()
    demo_prepare()
    prepare_s = time.perf_counter() - started
    # A server process does not carry the preparation's millions of objects: without this, the
    # collector's full passes over them land in the measured requests.
    import gc

    gc.collect()
    gc.freeze()
    citizen_case = Case.objects.filter(applicant__username="citizen").order_by("-submitted_at").first()
    reviewer = User.objects.get(username="reviewer")
    wb_case = Case.objects.filter(handling_org=reviewer.organisation).order_by("-submitted_at").first()
    from tongban.proposals.models import Proposal

    open_proposal = (
        Proposal.objects.filter(status="handed_over").order_by("pk").first() or Proposal.objects.first()
    )
    urls = {
        "draft": f"/workbench/proposals/{open_proposal.public_id}/draft/",
        "item": f"/items/{citizen_case.item.implementation_code}/",
        "apply": f"/items/{citizen_case.item.implementation_code}/apply/",
        "case": f"/me/cases/{citizen_case.number}/",
        "wb_case": f"/workbench/cases/{wb_case.number}/",
    }
    clients = {None: Client()}
    for username in (
        "citizen",
        "reviewer",
        "admin",
        "planoffice",
        "plan-kjj",
        "proposal_office",
        "proposal_handler",
    ):
        c = Client()
        c.force_login(User.objects.get(username=username))
        clients[username] = c
    load_before = load_average()
    rows = []
    for label, who, target in PAGES:
        url = urls.get(target, target)
        client = clients[who]
        for _ in range(WARMUP):
            client.get(url)
        times = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        rows.append(
            {
                "page": label,
                "url": url,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                "max_ms": round(times[-1], 1),
            }
        )
    home = home_weight(clients[None])
    return {
        "database": "SQLite" if sqlite else "PostgreSQL",
        "cases": Case.objects.count(),
        "prepare_s": round(prepare_s, 1),
        "rounds": ROUNDS,
        "pages": rows,
        "home": home,
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def home_weight(client) -> dict:
    """The home page and everything it loads: bytes as sent and gzip-compressed (WhiteNoise and any
    front proxy compress text), and any address outside the node."""
    from django.contrib.staticfiles import finders

    html = client.get("/").content
    text = html.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', text)
    outside = [r for r in refs if re.match(r"^(https?:)?//", r)]
    assets = [r for r in refs if r.startswith("/static/")]
    files = []
    for ref in dict.fromkeys(assets):
        path = finders.find(ref.removeprefix("/static/"))
        data = Path(path).read_bytes() if path else b""
        files.append({"file": ref, "bytes": len(data), "gzip_bytes": len(gzip.compress(data))})
    total = len(html) + sum(f["bytes"] for f in files)
    total_gz = len(gzip.compress(html)) + sum(f["gzip_bytes"] for f in files)
    return {
        "html_bytes": len(html),
        "assets": files,
        "total_bytes": total,
        "total_gzip_bytes": total_gz,
        "outside": outside,
    }


def table(r: dict) -> str:
    lines = [
        "| page | p50 ms | p95 ms | max ms | target p95 ≤ 100 ms |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    for row in r["pages"]:
        ok = "✅" if row["p95_ms"] <= TARGET_P95_MS else "❌"
        lines.append(
            f"| {row['page']} (`{row['url']}`) | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {ok} |"
        )
    h = r["home"]
    lines += [
        "",
        "| home page | bytes | gzip |",
        "| --- | ---: | ---: |",
        f"| HTML | {h['html_bytes']:,} | |",
        *[f"| `{a['file']}` | {a['bytes']:,} | {a['gzip_bytes']:,} |" for a in h["assets"]],
        f"| **total** (target < {TARGET_HOME_KB} KB) | **{h['total_bytes']:,}** | **{h['total_gzip_bytes']:,}** |",
        "",
        f"Addresses outside the node on the home page: {len(h['outside'])}.",
    ]
    return "\n".join(lines)


def write_doc(r: dict) -> None:
    m = r["machine"]
    DOC.write_text(
        "# Benchmarks: server-rendered pages\n\n"
        "Written by `python -m bench.pages` (see its docstring for what is measured and how).\n\n"
        f"{r['database']}, the demo node's data ({r['cases']} cases of the demo's year of activity, the reference "
        f"catalogue of every city); each page asked {r['rounds']} times after {WARMUP} warm-up requests, "
        "through Django's WSGI handler in one process.\n\n"
        f"{table(r)}\n\n"
        f"- Load average before / after: {r['load_average_before']} / {r['load_average_after']} "
        "(the machine is shared; other processes may have been running).\n\n" + machine_section(m),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    sqlite = "--sqlite" in argv
    with tempfile.TemporaryDirectory(prefix="tongban-pagebench-") as var:
        env = {"TONGBAN_VAR_DIR": var}
        if not sqlite:
            from bench.env import ensure_database

            ensure_database(DB_URL, rebuild=True)
            env["DATABASE_URL"] = DB_URL
        results = run_child("bench.pages", *(["--sqlite"] if sqlite else []), env=env)
    print(table(results))
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child("--sqlite" in sys.argv), ensure_ascii=False))
    else:
        main()
