"""Node to node on PostgreSQL: envelopes delivered and applied per second, end-to-end latency.

Two nodes (合肥 340100 → 上海 310000), each with its own PostgreSQL database, signing key and
processes: the sender's `tongban worker` relays from its outbox; the recipient runs `tongban serve`
(the receiver) and its own `tongban worker` (the inbox). An enqueuer writes `node.ping` messages into
the sender's outbox at a steady rate (open loop), each in a committed transaction as a service
would. Latency of a message = applied at the recipient − created in the sender's outbox (both clocks
are this machine's). In the same run, the raw Ed25519 verify rate of `cryptography`.

    python -m bench.exchange [--rate 1000] [--seconds 10]
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
PG = "postgres://postgres@127.0.0.1:5432"
SENDER, RECIPIENT = ("340100", "合肥市", "xbench_hefei"), ("310000", "上海市", "xbench_shanghai")


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


def run(*, rate: int, seconds: float) -> dict:
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

    def start(node, *args):
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
    out = subprocess.run(
        [sys.executable, "-m", "bench.exchange", "--enqueue", "--rate", str(rate), "--seconds", str(seconds)],
        env={**_env(SENDER, work, key), "DJANGO_SETTINGS_MODULE": "tongban.config.settings"},
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"enqueuer failed: {out.stderr[-2000:]}")
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
    }
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--enqueue", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.enqueue:
        enqueue_main(args.rate, args.seconds)
        return 0
    print(json.dumps(run(rate=args.rate, seconds=args.seconds), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
