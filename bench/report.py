"""The results table printed at the end of a run, and ``docs/benchmarks.md``.

Each benchmark's last full result is kept in ``bench/results/<name>.json`` (not committed), so
``--only queue`` refreshes the queue section of the document and keeps the other two as they were,
with their own date and machine load.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from bench.common import NOISY_CORES
from bench.env import REPO, RESULTS_DIR
from bench.machine import speed_line

DOC = REPO / "docs" / "benchmarks.md"
# Hand-written analysis (bottlenecks, proposed changes), copied into the document after the numbers.
FINDINGS = Path(__file__).resolve().parent / "findings.md"
ORDER = ("submit", "queue", "search")


def mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌")


def rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, target, measured, verdict) lines of one benchmark."""
    name = result["name"]
    if "error" in result:
        return [(result.get("title", name), "—", f"failed: {result['error']}", False)]
    b = result["best"]
    if name == "submit":
        return [
            (
                "提交申请 throughput",
                f"≥ {result['targets']['throughput_rps']}/s",
                f"{b['throughput_rps']}/s ({b['server']}, {b['concurrency']} clients)",
                b["throughput_rps"] >= 350,
            ),
            (
                "提交申请 p99",
                f"≤ {result['targets']['p99_ms']} ms",
                f"{b['p99_ms']} ms (p50 {b['p50_ms']}, p95 {b['p95_ms']})",
                b["p99_ms"] <= 100,
            ),
            ("提交申请 errors", "0", str(b["errors"]), b["errors"] == 0),
        ]
    if name == "queue":
        p = result["best_page"]
        t = result["targets"]["throughput_rps"]
        return [
            (
                "队列 API throughput",
                f"≥ {t}/s",
                f"{b['throughput_rps']}/s ({b['server']}; p50 {b['p50_ms']}, p95 {b['p95_ms']}, p99 {b['p99_ms']} ms)",
                b["throughput_rps"] >= t and b["errors"] == 0,
            ),
            (
                "工作台队列页 throughput",
                f"≥ {t}/s",
                f"{p['throughput_rps']}/s ({p['server']}; p50 {p['p50_ms']}, p95 {p['p95_ms']}, p99 {p['p99_ms']} ms)",
                p["throughput_rps"] >= t and p["errors"] == 0,
            ),
        ]
    if name == "search":
        ip = result["in_process"]
        t = result["targets"]["p95_ms"]
        out = [
            (
                "检索 in process p95",
                f"≤ {t} ms",
                f"{ip['total']['p95_ms']} ms (p50 {ip['total']['p50_ms']}; database p95 {ip['db']['p95_ms']})",
                ip["total"]["p95_ms"] <= t,
            ),
        ]
        for run in result["http_runs"]:
            ok = run["p95_ms"] <= t and run["errors"] == 0 if run["concurrency"] == 1 else None
            out.append(
                (
                    f"检索 API p95, {run['concurrency']} client{'s' if run['concurrency'] > 1 else ''}",
                    f"≤ {t} ms" if run["concurrency"] == 1 else "(throughput)",
                    f"{run['p95_ms']} ms (p50 {run['p50_ms']}, p99 {run['p99_ms']}; {run['throughput_rps']}/s)",
                    ok,
                )
            )
        return out
    return []


def _pad(text: str, width: int) -> str:
    """Left-justify by display width: CJK characters take two columns in a terminal."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def table(results: list[dict]) -> str:
    width = (28, 13, 80)
    lines = [
        f"{_pad('benchmark', width[0])} {_pad('target', width[1])} {_pad('measured', width[2])} ok",
        "-" * (sum(width) + 6),
    ]
    for result in results:
        for what, target, measured, ok in rows(result):
            lines.append(
                f"{_pad(what, width[0])} {_pad(target, width[1])} {_pad(measured, width[2])} {mark(ok)}"
            )
    return "\n".join(lines)


def save(result: dict) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{result['name']}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str)
    )


def load_saved() -> dict[str, dict]:
    out = {}
    for name in ORDER:
        path = RESULTS_DIR / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
    return out


# --- the document ---------------------------------------------------------------------------------


def _cpu(run: dict) -> str:
    c = run["cpu"]
    return (
        f"server {c['server_cores']}, PostgreSQL {c['postgres_cores']}, load generator {c['loadgen_cores']}, "
        f"other processes {c['other_cores']} (machine busy {c['machine_busy_cores']} of "
        f"{c.get('cores', 2)} cores; load average before {c['loadavg_before'][0]})"
    )


def _cpu_cell(c: dict) -> str:
    pg = c["postgres_cores"] + c.get("postgres_exited_cores", 0)
    return (
        f"server {c['server_cores']} · PG {round(pg, 2)} · loadgen {c['loadgen_cores']} · "
        f"**other {c['other_cores']}** · ? {c.get('unattributed_cores', 0)}"
    )


def _runs_table(runs: list[dict]) -> list[str]:
    out = [
        "| server | clients | requests | throughput | p50 | p95 | p99 | max | errors | CPU, cores of 2 | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        tries = r.get("attempts", 1)
        note = f"{tries}{' (still noisy)' if r.get('noisy') else ''}"
        out.append(
            f"| {r['server']} | {r['concurrency']} | {r['ok']:,} | {r['throughput_rps']}/s | {r['p50_ms']} ms | "
            f"{r['p95_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms | {r['errors']} | {_cpu_cell(r['cpu'])} | {note} |"
        )
    return out


def _sessions(run: dict) -> str:
    s = run.get("db_sessions") or {}
    if not s:
        return ""
    return "; ".join(f"{k}: {v}" for k, v in list(s.items())[:6])


def _machine(m: dict) -> list[str]:
    pg = m.get("postgresql_settings", {})
    return [
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; memory {m['memory_gib']} GiB; Linux {m['kernel']}",
        f"- {m['postgresql']} with the server's defaults, not tuned for the benchmark (shared_buffers "
        f"{pg.get('shared_buffers', '?')}, synchronous_commit {pg.get('synchronous_commit', '?')}, "
        f"max_connections {pg.get('max_connections', '?')})",
        f"- Python {m['python']}, Django {m['django']}",
        f"- run at {m['date']}",
    ] + ([f"- {speed_line(m['speed_ms'])}"] if m.get("speed_ms") else [])


def _all_runs(r: dict) -> list[dict]:
    return [x for k in ("runs", "api_runs", "page_runs", "http_runs") for x in r.get(k, [])]


def _noise(r: dict) -> str:
    others = [x["cpu"]["other_cores"] for x in _all_runs(r)]
    if not others:
        return "no HTTP runs"
    return f"other processes used {min(others)}–{max(others)} cores of 2 during its kept runs"


def _explained(plan: dict) -> str:
    n = len(plan.get("statements", [])) or 1
    return f"{plan['execution_ms']} ms" + (f" ({n} statements)" if n > 1 else "")


def _per_request_ms(run: dict) -> tuple[float, float, float]:
    """CPU per answered request in ms: server, PostgreSQL, and everything on the machine."""
    c, n = run["cpu"], run["throughput_rps"] or 1
    pg = c["postgres_cores"] + c.get("postgres_exited_cores", 0)
    return (
        round(c["server_cores"] / n * 1000, 2),
        round(pg / n * 1000, 2),
        round(c["machine_busy_cores"] / n * 1000, 2),
    )


def _floor_lines(floor: dict, best: dict, target: int) -> list[str]:
    """The floor runs (``bench.floor``) beside the submissions, as CPU per request."""
    cores = best["cpu"].get("cores", 2)
    budget = round(cores / target * 1000, 2)
    rows = [("`POST /bench-floor/read`: token, JSON, Base64, SHA-256", floor["read"])]
    rows.append(("`POST /bench-floor/commit`: the same, then one row committed", floor["commit"]))
    rows.append(("`POST /api/v1/cases`: the submission (best run)", best))
    out = [
        "The stack's floor: the same requests on a server of the same configuration and settings, "
        "answered with the least work that still reads them as the product must (`bench/floor`). "
        f"At {target}/s, {cores} cores leave **{budget} ms of CPU per request** for everything on the "
        "machine (server, PostgreSQL, load generator).",
        "",
        "| answered by | throughput | p99 | server CPU / request | PostgreSQL CPU / request | machine CPU / request |",
        "|---|---|---|---|---|---|",
    ]
    for label, run in rows:
        server, pg, machine = _per_request_ms(run)
        out.append(
            f"| {label}, {run['server']} | {run['throughput_rps']}/s | {run['p99_ms']} ms | {server} ms | {pg} ms "
            f"| {machine} ms |"
        )
    return [*out, ""]


def _submit_section(r: dict) -> list[str]:
    m, b = r["method"], r["best"]
    out = [
        "## 1. 提交申请 — `POST /api/v1/cases`",
        "",
        f"Target: **≥ 350 submissions/s with p99 ≤ 100 ms, 16 concurrent clients**. "
        f"Result: **{b['throughput_rps']}/s, p99 {b['p99_ms']} ms** with {b['server']} "
        f"{mark(r['pass'])}{'' if r['pass'] else ' (missed)'}.",
        "",
        "Method: each request is a complete application as a program sends it — one of "
        f"{m['items']} reference items a citizen may apply for online at this node, a form generated from the "
        "item's JSON Schema and checked with the product's `validate_form` before sending, every required "
        f"material (avg {m['avg_required_materials']}) and some optional ones as a {m['pdf_bytes']}-byte "
        f"well-formed PDF in Base64 (requests average {m['avg_request_bytes']:,} bytes), and the bearer "
        f"token of one of {m['citizens']} citizens registered with `citizen_register` (real PBKDF2 hashing "
        f"on the node; tokens from `api_token_issue`). {m['concurrency']} keep-alive connections in a closed "
        f"loop cycle through {m['request_pool']} distinct requests; every answer must be `201`. The database "
        "already holds the million cases of benchmark 2, so inserts maintain full-size indexes.",
        "",
        *_runs_table(r["runs"]),
        "",
    ]
    if r.get("baseline"):
        h = r["baseline"]
        out += [
            f"For scale, the same server answers `GET /healthz` (one trivial query, the whole middleware "
            f"stack) at {h['throughput_rps']}/s with p99 {h['p99_ms']} ms ({h['server']}, 16 clients).",
            "",
        ]
    if r.get("floor"):
        out += _floor_lines(r["floor"], b, r["targets"]["throughput_rps"])
    s = _sessions(b)
    if s:
        out += [f"Database sessions of the best run (average number at any moment): {s}.", ""]
    if m.get("refused_items") or m.get("skipped_items"):
        out += [f"Items left out: {m.get('refused_items', []) + m.get('skipped_items', [])}", ""]
    return out


def _queue_section(r: dict) -> list[str]:
    m, b, p = r["method"], r["best"], r["best_page"]
    ip = r["in_process"]
    out = [
        "## 2. 审批人员待办队列 — 1,000,000 cases",
        "",
        f"Target: **≥ 150 requests/s**. Result: API **{b['throughput_rps']}/s** {mark(r['pass'])}"
        f"{'' if r['pass'] else ' (missed)'}, workbench page **{p['throughput_rps']}/s** "
        f"{mark(r['page_pass'])}{'' if r['page_pass'] else ' (missed)'}.",
        "",
        f"Method: {m['cases_total']:,} cases in `cases_case`, generated with one `INSERT … SELECT "
        "generate_series` (valid case numbers with their ISO 7064 check character, weekday deadlines, "
        "statuses consistent with their timestamps, ~12 % of cases open) across the generated authorities "
        f"of the 41 cities, then `VACUUM ANALYZE`. The reviewer's organisation (苏州市市场监督管理局) "
        f"handles {m['organisation_cases']:,} of them, {m['organisation_open_cases']:,} open. "
        f"`{m['endpoint']}` and `{m['page']}`, {m['concurrency']} keep-alive clients each.",
        "",
        f"In process (selector + page of 101 rows + presenter, no HTTP): p50 {ip['total']['p50_ms']} ms, "
        f"of which {ip['db']['p50_ms']} ms in the database driver "
        f"({ip['queries']} {'query' if ip['queries'] == 1 else 'queries'}). "
        f"The queue's SQL runs in {_explained(r['explain'])} in PostgreSQL (`EXPLAIN ANALYZE`).",
        "",
        "API:",
        "",
        *_runs_table(r["api_runs"]),
        "",
        "Workbench page:",
        "",
        *_runs_table(r["page_runs"]),
        "",
    ]
    return out


def _search_section(r: dict) -> list[str]:
    m, ip = r["method"], r["in_process"]
    out = [
        "## 3. 事项检索 — ~150,000 items",
        "",
        f"Target: **p95 ≤ 20 ms**. Result: in process **p95 {ip['total']['p95_ms']} ms** "
        f"{mark(r['pass_in_process'])}, API (1 client) **p95 {r['http_runs'][0]['p95_ms']} ms** "
        f"{mark(r['pass_http'])}{'' if r['pass'] else ' (missed)'}.",
        "",
        f"Method: {m['item_rows']:,} item rows ({m['published_rows']:,} published; some items also have an "
        "older version, a newer draft or a withdrawn current version, which search must skip): the "
        "reference items' names varied with realistic prefixes, suffixes and the region's name, "
        "implemented by each city and its districts, for all 41 YRD cities "
        "(`tongban.regions.divisions.yrd_divisions()`); `search_text` made by the product's own "
        "`search_text_for`; loaded with COPY, then `ANALYZE`. Each query is "
        "`item_search(query=…, city_code=…, mode=…)` evaluated for the first page of 20 "
        f"({ip['repeats']} times each, in process, timing the whole call and the part spent in the "
        "database driver) and `GET /api/v1/items?q=…` over HTTP, cycling through the mix, with 1 and 8 clients.",
        "",
        "| query | matches | in process p50 | p95 | database p95 | PostgreSQL (EXPLAIN ANALYZE) |",
        "|---|---|---|---|---|---|",
    ]
    for label, q in ip["per_query"].items():
        out.append(
            f"| {label} | {m['matches'].get(label, 0):,} | {q['total']['p50_ms']} ms | "
            f"{q['total']['p95_ms']} ms | {q['db']['p95_ms']} ms | {_explained(r['explain'][label])} |"
        )
    extra = r.get("extra_in_process", {}).get("per_query", {})
    if extra:
        out += [
            "",
            "Outside the target mix, in process — a two-character word that is no name's prefix, two "
            "that match nothing, a four-character phrase:",
            "",
            "| query | rows on page 1 | p50 | p95 | database p95 |",
            "|---|---|---|---|---|",
        ]
        for label, q in extra.items():
            out.append(
                f"| {label} | {q['rows']} | {q['total']['p50_ms']} ms | {q['total']['p95_ms']} ms | "
                f"{q['db']['p95_ms']} ms |"
            )
    out += ["", "API:", "", *_runs_table(r["http_runs"]), ""]
    return out


SECTIONS = {"submit": _submit_section, "queue": _queue_section, "search": _search_section}


def save_timing(size: str, kind: str, *, total: float, data: float) -> None:
    """How long the last complete run took (``size``: full or quick; ``kind``: data_reused,
    search_refreshed or with_generation), and how much of it went into preparing data."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "timing.json"
    timing = json.loads(path.read_text()) if path.exists() else {}
    timing.setdefault(size, {})[kind] = {"total_s": round(total), "data_s": round(data)}
    path.write_text(json.dumps(timing, indent=2))


def _timing_lines() -> list[str]:
    path = RESULTS_DIR / "timing.json"
    if not path.exists():
        return []
    timing = json.loads(path.read_text())
    out = ["## How long `make bench` takes", ""]
    labels = {
        "data_reused": "data already generated",
        "search_refreshed": "data reused, search columns recomputed after a change to the search code",
        "with_generation": "first run or --rebuild: data generated",
    }
    for kind in ("full", "quick"):
        for key, label in labels.items():
            t = timing.get(kind, {}).get(key)
            if t:
                name = "`make bench`" if kind == "full" else "`python -m bench.run_all --quick`"
                out.append(
                    f"- {name}, {label}: {t['total_s'] / 60:.1f} min ({t['data_s']} s of it preparing data)"
                )
    return [*out, ""] if len(out) > 2 else []


def write_doc(results: dict[str, dict], *, notes: list[str]) -> Path:
    machine = next((r["machine"] for r in results.values() if "machine" in r), None)
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`python -m bench.run_all`); this file is rewritten by it from the last full "
        "run of each benchmark (`--only` refreshes one section). `--quick` is a smoke test of the scripts on "
        "a small database and does not touch this file. Tests never check timings; only these benchmarks do.",
        "",
        "## Summary",
        "",
        "| benchmark | target | measured | |",
        "|---|---|---|---|",
    ]
    for name in ORDER:
        if name in results:
            for what, target, measured, ok in rows(results[name]):
                lines.append(f"| {what} | {target} | {measured} | {mark(ok)} |")
    lines += [
        "",
        "Measured by their own scripts (also run by `make bench`), each with its page: node-to-node delivery",
        "(issue 3) [benchmarks-exchange.md](benchmarks-exchange.md), electronic certificates (issue 4)",
        "[benchmarks-certificates.md](benchmarks-certificates.md), 一件事 bundles (issue 5)",
        "[benchmarks-bundles.md](benchmarks-bundles.md), plan import and supervision (issue 6)",
        "[benchmarks-plans-import.md](benchmarks-plans-import.md) and [benchmarks-plans.md](benchmarks-plans.md),",
        "reply letters and similar-case search (issue 7) [benchmarks-letters.md](benchmarks-letters.md) and",
        "[benchmarks-proposals.md](benchmarks-proposals.md), server-rendered pages and the home page's weight",
        "(issue 8) [benchmarks-pages.md](benchmarks-pages.md).",
    ]
    lines += ["", "## Machine", ""]
    if machine:
        lines += _machine(machine)
    lines += [
        "",
        "Everything runs on this one machine: PostgreSQL, the node (`tongban serve`, gunicorn gthread workers) "
        "and the load generator (`bench/loadgen.py`, asyncio HTTP/1.1 keep-alive clients in a closed loop: each "
        "client sends its next request when the previous answer has arrived). Latency is measured by the client, "
        "from writing the request to reading the last byte. Each run has a warm-up that is not counted.",
        "",
        "The machine is shared: other people's test suites run on it at the same time. The CPU column says "
        "where the two cores went during each run, from `/proc` polled twice a second: the node's server "
        "processes, PostgreSQL (the benchmark database's sessions and parallel workers, and the server's own "
        "background processes), the load generator, **other** (everything else: the noise), and `?` "
        "(busy time no process could be credited with). A run during which other processes used more than "
        f"{NOISY_CORES} cores is run once more and the quieter attempt is kept (the `runs` column); "
        '"still noisy" marks a result that stayed above. The load average printed before each run counts '
        "the benchmark's own threads too, so it is not a measure of noise; the `other` column is.",
        "",
    ]
    for name in ORDER:
        if name in results and "error" not in results[name]:
            r = results[name]
            lines += SECTIONS[name](r)
            if r.get("machine"):
                lines += [f"_Measured at {r['machine']['date']}; {_noise(r)}._", ""]
    if notes:
        lines += ["## Notes on this run", ""] + [f"- {n}" for n in notes] + [""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    lines += _timing_lines()
    DOC.write_text("\n".join(lines))
    return DOC
