"""What the three benchmarks share: the run context, one measured HTTP run, target verdicts."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.appserver import Server, ServerConfig
from bench.datasets import Sizes
from bench.env import log
from bench.loadgen import run_load
from bench.machine import CpuSample, WaitSampler, load_average


@dataclass
class Context:
    url: str
    dbname: str
    var_dir: Path
    server_env: dict[str, str]
    sizes: Sizes
    quick: bool
    configs: list[ServerConfig]  # server settings to try; the first is the default
    warmup: float
    duration: float
    log_dir: Path
    notes: list[str] = field(default_factory=list)


# A run during which other processes (other people's test suites…) used more than this many cores is
# repeated once, and the quieter of the two attempts is kept: the machine is shared.
NOISY_CORES = 0.3
# Every run is bounded in time (warm-up + duration) and in requests.
MAX_REQUESTS_PER_RUN = 200_000


def measured_run(
    ctx: Context,
    server: Server,
    requests: list[bytes],
    *,
    concurrency: int,
    ok_status=(200,),
    duration: float | None = None,
    warmup: float | None = None,
    label: str = "",
) -> dict:
    """One closed-loop run against ``server`` with the CPU accounted for (repeated if it was noisy)."""
    attempts = []
    for attempt in range(1 if ctx.quick else 2):
        if attempt:
            log(
                f"      noisy: other processes used {attempts[-1]['cpu']['other_cores']} cores; running again"
            )
            pause_between_runs(3)
        attempts.append(
            _one_run(
                ctx,
                server,
                requests,
                concurrency=concurrency,
                ok_status=ok_status,
                duration=duration,
                warmup=warmup,
                label=label,
            )
        )
        if attempts[-1]["cpu"]["other_cores"] <= NOISY_CORES:
            break
    best = min(attempts, key=lambda r: r["cpu"]["other_cores"])
    best["attempts"] = len(attempts)
    best["noisy"] = best["cpu"]["other_cores"] > NOISY_CORES
    return best


def _one_run(ctx, server, requests, *, concurrency, ok_status, duration, warmup, label) -> dict:
    duration = ctx.duration if duration is None else duration
    warmup = ctx.warmup if warmup is None else warmup
    cpu = CpuSample(server_root=server.pid, dbname=ctx.dbname)
    log(
        f"    {label or 'run'}: {server.config.label}, {concurrency} clients, {warmup:.0f}+{duration:.0f} s, "
        f"load average {load_average()[0]:.2f}"
    )
    database_settled(ctx.url)
    waits = WaitSampler(ctx.url, ctx.dbname).start()
    cpu.start()
    result = run_load(
        "127.0.0.1",
        server.port,
        requests,
        concurrency=concurrency,
        warmup=warmup,
        duration=duration,
        ok_status=ok_status,
        max_requests=MAX_REQUESTS_PER_RUN,
    )
    usage = cpu.stop()
    sessions = waits.stop()
    out = {
        "server": server.config.label,
        "workers": server.config.workers,
        "threads": server.config.threads,
        **result.summary(),
        "cpu": usage,
        "db_sessions": sessions,
    }
    log(
        f"      → {out['throughput_rps']}/s ok, {out['errors']} errors, p50 {out['p50_ms']} ms, "
        f"p95 {out['p95_ms']} ms, p99 {out['p99_ms']} ms; CPU cores: server {usage['server_cores']}, "
        f"postgres {usage['postgres_cores']} (+{usage['postgres_exited_cores']} exited), "
        f"load generator {usage['loadgen_cores']}, "
        f"other {usage['other_cores']}, unattributed {usage['unattributed_cores']}"
    )
    log(f"      database sessions (average count): {sessions}")
    if result.error_samples:
        log(f"      first errors: {result.error_samples[:3]}")
    return out


def database_settled(url: str) -> None:
    """Every run starts from the same state of the database: what autovacuum would have vacuumed is
    vacuumed (its default rule: more dead rows than 50 + 20 % of the live ones), then a checkpoint.

    This machine's PostgreSQL runs without autovacuum. Without it, each sealed audit entry left a
    dead row in the partial index of unsealed entries, and the sealer's look-up read 2,714 pages
    (12 ms) after 78,000 submissions. A checkpoint falling inside a run makes the first change of
    each page write the whole page to the WAL. Together, the same code measured 130–220
    submissions/s within an hour (bench/findings.md, round 5)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        tables = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables "
            "WHERE n_dead_tup > 50 + 0.2 * n_live_tup"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("CHECKPOINT")


def best_run(runs: list[dict]) -> dict:
    """The run with the highest throughput; among runs within 5 % of it (the noise between two runs
    of the same setting on this machine), the one with the lowest p99."""
    top = max(r["throughput_rps"] for r in runs)
    close = [r for r in runs if r["throughput_rps"] >= 0.95 * top and r["errors"] == 0] or runs
    return min(close, key=lambda r: r["p99_ms"])


def verdict(value: float, target: float, *, higher_is_better: bool) -> bool:
    return value >= target if higher_is_better else value <= target


def pause_between_runs(seconds: float = 2.0) -> None:
    time.sleep(seconds)


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)
