"""``python -m bench.run_all [--only submit,queue,search] [--quick] [--rebuild] [--servers 2x4,3x4]``

Runs the benchmarks against PostgreSQL, prints a table and rewrites ``docs/benchmarks.md``.

- ``--quick``: a smoke test of the scripts (small database ``tongban_bench_quick``, short runs,
  under a minute); it prints the table but leaves ``docs/benchmarks.md`` alone.
- ``--rebuild``: drop the benchmark database and generate the data again (otherwise it is reused).
- ``--servers``: gunicorn settings to try, ``<workers>x<threads>``; the first is also the one the
  search benchmark uses. The best run of each benchmark is the one reported.

Exit code: 0 when every benchmark ran (met targets or not), 1 when one failed to run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCHMARKS = ("submit", "queue", "search")
# Benchmarks with their own set-up, databases and docs page (bench/<name>.py), run after the others.
SEPARATE = ("certificates", "bundles", "exchange", "pages", "letters", "plans_import", "plans", "proposals")
# Two cores: two processes keep both busy with Python; threads cover the time each request waits
# for PostgreSQL. The sweep also tries more processes and more threads.
DEFAULT_SERVERS = "2x4,3x4,4x2,2x8"
QUICK_SERVERS = "2x4"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS + SEPARATE),
        help=f"comma-separated benchmarks to run: {', '.join(BENCHMARKS + SEPARATE)}",
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run (< 1 minute), docs untouched")
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the benchmark database and regenerate it"
    )
    parser.add_argument(
        "--servers", default=None, help=f"gunicorn settings to try (default {DEFAULT_SERVERS})"
    )
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per run (default 20)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per run (default 5)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument(
        "--docs-only", action="store_true", help="only rewrite docs/benchmarks.md from the saved results"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each benchmark, wait up to this long for other processes to leave the CPU alone",
    )
    args = parser.parse_args(argv)
    args.only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = [b for b in args.only if b not in BENCHMARKS + SEPARATE]
    if unknown:
        parser.error(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS + SEPARATE)}"
        )
    args.separate = [b for b in args.only if b in SEPARATE]
    args.only = [b for b in args.only if b in BENCHMARKS]
    return args


def wait_quiet(limit: float, *, dbname: str) -> float:
    """Waits (at most ``limit`` seconds) for a 5-second window in which other processes use little CPU."""
    from bench import env
    from bench.common import NOISY_CORES
    from bench.machine import CpuSample

    started = time.monotonic()
    deadline = started + limit
    while True:
        sample = CpuSample(dbname=dbname).start()
        time.sleep(5)
        other = sample.stop()["other_cores"]
        if other <= NOISY_CORES or time.monotonic() >= deadline:
            env.log(f"   other processes use {other} cores; starting")
            return time.monotonic() - started
        env.log(f"   other processes use {other} cores; waiting")


def run_separate(names: list[str], *, quick: bool, no_docs: bool) -> bool:
    """The benchmarks that set up their own databases and write their own pages. True if one failed."""
    import json

    failed = False
    for name in names:
        print(f"\n== {name}", flush=True)
        try:
            if name == "exchange":
                from bench.exchange import run_exchange_bench

                result = run_exchange_bench(rate=1000, seconds=3 if quick else 10)
                keep = (
                    "sent",
                    "applied",
                    "throughput",
                    "p95_ms",
                    "parked",
                    "target_met",
                    "load_average_before",
                )
                print(json.dumps({k: result.get(k) for k in keep}, ensure_ascii=False))
            else:
                module = __import__(f"bench.{name}", fromlist=["main"])
                module.main(["--no-docs"] if quick or no_docs else [])
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed = True
    return failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    from bench import env

    if not args.only:
        return 1 if run_separate(args.separate, quick=args.quick, no_docs=args.no_docs) else 0

    if args.docs_only:
        from bench import report

        doc = report.write_doc(report.load_saved(), notes=[])
        print(f"wrote {doc.relative_to(env.REPO)}")
        return 0

    env.log(f"== Tongban benchmarks ({'quick smoke run' if args.quick else 'full'}): {', '.join(args.only)}")
    url, var_dir, server_env = env.prepare(quick=args.quick, rebuild=args.rebuild)

    from bench import datasets, report
    from bench.appserver import ServerConfig
    from bench.common import Context
    from bench.machine import load_average, machine_info

    machine = machine_info()
    env.log(
        f"   {machine['cpu_model']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"{machine['postgresql']}; Python {machine['python']}; load average {load_average()[0]:.2f}"
    )
    sizes = datasets.QUICK if args.quick else datasets.FULL
    t_data = time.monotonic()
    env.log("-- data")
    datasets.ensure_all(
        url,
        sizes,
        need_cases="queue" in args.only,
        need_catalogue="queue" in args.only or "search" in args.only,
    )
    if "queue" in args.only:
        datasets.ensure_reviewer()
    data_seconds = time.monotonic() - t_data

    servers = args.servers or (QUICK_SERVERS if args.quick else DEFAULT_SERVERS)
    log_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-logs-"))
    ctx = Context(
        url=url,
        dbname=env.dbname(url),
        var_dir=var_dir,
        server_env=server_env,
        sizes=sizes,
        quick=args.quick,
        configs=[ServerConfig.parse(s) for s in servers.split(",") if s.strip()],
        warmup=args.warmup if args.warmup is not None else (1.0 if args.quick else 5.0),
        duration=args.duration if args.duration is not None else (3.0 if args.quick else 20.0),
        log_dir=log_dir,
    )
    from bench import catalogue_search, reviewer_queue, submit

    modules = {"submit": submit, "queue": reviewer_queue, "search": catalogue_search}
    results, failed, waited = [], False, 0.0
    for name in args.only:
        env.log(f"-- {name}")
        if args.wait_quiet:
            waited += wait_quiet(args.wait_quiet, dbname=ctx.dbname)
        t0 = time.monotonic()
        loadavg = load_average()
        try:
            result = modules[name].run(ctx)
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            result = {"name": name, "title": modules[name].TITLE, "error": f"{type(exc).__name__}: {exc}"}
            failed = True
        result["machine"] = machine_info()
        result["loadavg_before"] = [round(x, 2) for x in loadavg]
        result["seconds"] = round(time.monotonic() - t0, 1)
        result["quick"] = args.quick
        results.append(result)
        if not args.quick and "error" not in result:
            report.save(result)

    total = time.monotonic() - started
    print()
    print(report.table(results))
    print()
    print(
        f"data preparation {data_seconds:.0f} s; total {total:.0f} s"
        f"{f' (of which {waited:.0f} s waiting for a quiet machine)' if waited else ''}; server logs in {log_dir}"
    )
    if set(args.only) == set(BENCHMARKS):
        generated = any(k in datasets.DONE for k in ("generated catalogue", "cases"))
        kind = "with_generation" if generated else "data_reused" if data_seconds < 30 else "search_refreshed"
        # Time spent waiting for a quiet machine (--wait-quiet) is not the benchmark's.
        report.save_timing("quick" if args.quick else "full", kind, total=total - waited, data=data_seconds)
    if not args.quick and not args.no_docs:
        doc = report.write_doc(report.load_saved(), notes=ctx.notes)
        print(f"wrote {doc.relative_to(env.REPO)}")
    shutil.rmtree(var_dir, ignore_errors=True)
    failed |= run_separate(args.separate, quick=args.quick, no_docs=args.no_docs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
