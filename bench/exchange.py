"""Node to node on PostgreSQL: envelopes delivered and applied per second, end-to-end latency.

Two nodes (合肥 340100 → 上海 310000), each with its own PostgreSQL database, signing key and
processes: the sender's `tongban worker` relays from its outbox; the recipient runs `tongban serve`
(the receiver) and its own `tongban worker` (the inbox). An enqueuer writes `node.ping` messages into
the sender's outbox at a steady rate (open loop), each in a committed transaction as a service
would. Latency of a message = applied at the recipient − created in the sender's outbox (both clocks
are this machine's). In the same run, the raw Ed25519 verify rate of `cryptography`.

    python -m bench.exchange [--rate 1000] [--seconds 10] [--databases SENDER_DB,RECIPIENT_DB]

From other code (``bench/run_all.py``): ``from bench.exchange import run_exchange_bench;
result = run_exchange_bench(rate=1000, seconds=10)`` returns the same dict the command prints.

Settings: ``TONGBAN_XBENCH_PG`` (``postgres://postgres@127.0.0.1:5432``, the server both databases
are created on) and ``TONGBAN_XBENCH_DATABASES`` (``xbench_hefei,xbench_shanghai``: dropped and
created afresh by each run; give names of your own when several people share the server).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
PG = os.environ.get("TONGBAN_XBENCH_PG") or "postgres://postgres@127.0.0.1:5432"
TARGET_RATE, TARGET_P95_MS = 1000, 1000


def _nodes(databases: str | None = None) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    names = (databases or os.environ.get("TONGBAN_XBENCH_DATABASES") or "xbench_hefei,xbench_shanghai").split(
        ","
    )
    if len(names) != 2 or not all(n.replace("_", "").isalnum() for n in names):
        raise SystemExit(f"databases must be two names, sender's then recipient's: {names}")
    return ("340100", "合肥市", names[0]), ("310000", "上海市", names[1])


SENDER, RECIPIENT = _nodes()


def raw_verify_rate(seconds: float = 2.0) -> float:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    data = os.urandom(1400)
    sig = key.sign(data)
    pub = key.public_key()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            pub.verify(sig, data)
        n += 200
    return n / (time.perf_counter() - start)


def _recreate(db: str) -> None:
    with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")


def _env(node, work: Path, anchor_key: str = "", port: int = 0) -> dict:
    code, name, db = node
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{db}",
        TONGBAN_VAR_DIR=str(work / code),
        TONGBAN_NODE_CODE=code,
        TONGBAN_NODE_NAME=name,
        TONGBAN_TRUST_LIST_URL=str(work / "trust-list.json"),
        TONGBAN_WORKER_INTERVAL_MS="50",
    )
    env.pop("CELERY_BROKER_URL", None)
    if anchor_key:
        env["TONGBAN_TRUST_ANCHOR_KEY"] = anchor_key
    return env


def _cli(*args, env) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    if r.returncode:
        raise SystemExit(f"tongban {' '.join(args)}: {r.stderr or r.stdout}")
    return r.stdout


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants so far, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, 0.0)
        todo.extend(children.get(current, []))
    return round(total, 1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def enqueue_main(rate: int, seconds: float) -> None:
    """Runs in the sender's environment: `rate` pings per second for `seconds`, in batches of rate/20."""
    import django

    django.setup()
    from tongban.exchange.ping import ping_send

    batch = max(1, rate // 20)
    start = time.perf_counter()
    sent = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate) + batch
        if sent < due:
            sent += ping_send(recipient=RECIPIENT[0], count=batch)
        else:
            time.sleep(0.005)
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - start}))


def run_exchange_bench(*, rate: int = TARGET_RATE, seconds: float = 10, databases: str | None = None) -> dict:
    """Runs the benchmark (see the module's description) and returns its numbers."""
    global SENDER, RECIPIENT
    SENDER, RECIPIENT = _nodes(databases)
    return run(rate=rate, seconds=seconds)


def run(*, rate: int, seconds: float) -> dict:
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="xbench-"))
    for node in (SENDER, RECIPIENT):
        _recreate(node[2])
    anchor = work / "anchor"
    _cli("federation", "anchor-init", "--dir", str(anchor), "--name", "bench", env=_env(SENDER, work))
    key = (anchor / "public.key").read_text().strip()
    port = _free_port()
    endpoints = {SENDER[0]: f"http://127.0.0.1:{_free_port()}", RECIPIENT[0]: f"http://127.0.0.1:{port}"}
    for node in (SENDER, RECIPIENT):
        env = _env(node, work, key)
        _cli("manage", "migrate", "-v", "0", env=env)
        info = json.loads(_cli("federation", "node-init", "--json", env=env))
        _cli(
            "federation",
            "member-add",
            "--dir",
            str(anchor),
            "--code",
            node[0],
            "--name",
            node[1],
            "--endpoint",
            endpoints[node[0]],
            "--public-key",
            info["public_key"],
            "--kid",
            info["kid"],
            env=env,
        )
    _cli(
        "federation",
        "publish",
        "--dir",
        str(anchor),
        "--out",
        str(work / "trust-list.json"),
        env=_env(SENDER, work),
    )
    for node in (SENDER, RECIPIENT):
        _cli("federation", "trust-install", str(work / "trust-list.json"), env=_env(node, work, key))

    procs = []
    logs = work / "logs"
    logs.mkdir()

    roles: list[str] = []

    def start(node, *args):
        roles.append(f"{node[1]} {args[0]}")
        log = open(logs / f"{node[0]}-{args[0]}.log", "wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tongban.cli", *args],
                env=_env(node, work, key),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    start(RECIPIENT, "serve", "--port", str(port), "--workers", "2", "--threads", "4")
    start(RECIPIENT, "worker")
    start(SENDER, "worker")
    time.sleep(4)  # web and workers up
    raw = raw_verify_rate()
    t0 = time.time()
    before = os.times()
    out = subprocess.run(
        [sys.executable, "-m", "bench.exchange", "--enqueue", "--rate", str(rate), "--seconds", str(seconds)],
        env={**_env(SENDER, work, key), "DJANGO_SETTINGS_MODULE": "tongban.config.settings"},
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"enqueuer failed: {out.stderr[-2000:]}")
    after = os.times()
    enqueuer_cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    sent = json.loads(out.stdout.strip().splitlines()[-1])["sent"]
    deadline = time.time() + 120
    with psycopg.connect(f"{PG}/{RECIPIENT[2]}") as conn:
        while time.time() < deadline:
            applied = conn.execute(
                "SELECT count(*) FROM exchange_inboxmessage WHERE state = 'applied'"
            ).fetchone()[0]
            if applied >= sent:
                break
            time.sleep(0.5)
        rows = conn.execute(
            "SELECT id, applied_at FROM exchange_inboxmessage WHERE state = 'applied'"
        ).fetchall()
    cpu = {name: _cpu_seconds(p.pid) for name, p in zip(roles, procs, strict=True)}
    cpu["enqueuer"] = round(enqueuer_cpu, 1)
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=20)
    with psycopg.connect(f"{PG}/{SENDER[2]}") as conn:
        created = dict(conn.execute("SELECT id, created_at FROM exchange_outboxmessage").fetchall())
        parked = conn.execute(
            "SELECT count(*) FROM exchange_outboxmessage WHERE state = 'parked'"
        ).fetchone()[0]
    latencies = sorted((applied_at - created[i]).total_seconds() for i, applied_at in rows if i in created)
    first = min(created.values())
    last_applied = max(a for _, a in rows)
    span = (last_applied - first).total_seconds()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    result = {
        "offered_rate": rate,
        "seconds": seconds,
        "sent": sent,
        "applied": len(rows),
        "parked": parked,
        "throughput": round(len(rows) / span, 1),
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "raw_ed25519_verify_per_s": round(raw),
        "ratio_to_raw_verify": round(len(rows) / span / raw, 3),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "wall_s": round(time.time() - t0, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "cpu_seconds": cpu,
    }
    result["target_met"] = (
        result["applied"] == result["sent"]
        and result["throughput"] >= TARGET_RATE
        and result["p95_ms"] <= TARGET_P95_MS
        and result["parked"] == 0
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--databases", help="SENDER_DB,RECIPIENT_DB (default TONGBAN_XBENCH_DATABASES)")
    parser.add_argument("--enqueue", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enqueue:
        enqueue_main(args.rate, args.seconds)
        return 0
    result = run_exchange_bench(rate=args.rate, seconds=args.seconds, databases=args.databases)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
