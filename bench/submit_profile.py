"""CPU of one submission (``POST /api/v1/cases``) in process, against the benchmark database.

``python -m bench.submit_profile [time|queries|prof]`` (after ``make bench`` made the database):

- ``time`` (default): the CPU a submission costs in this thread and in its PostgreSQL backend, best of
  three rounds of 300 (noise from other processes disturbs these far less than throughput);
- ``queries``: the statements of four submissions;
- ``prof``: a cProfile (``CPU=1`` for CPU time instead of wall time, ``SORT=tottime``, ``N=<rows>``,
  ``CALLEES=<regex>`` for what the matching functions call).

The requests are the benchmark's own (bench/submit.py), sent through Django's test client.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

# ROUNDS / PER_ROUND: more rounds for a steadier best, or for a sampling profiler to watch longer.
ROUNDS = int(os.environ.get("ROUNDS", "3"))
PER_ROUND, WARM_UP = int(os.environ.get("PER_ROUND", "300")), 50


def _setup():
    from bench.env import database_url, server_env

    os.environ.update(server_env(database_url(False), Path(tempfile.mkdtemp(prefix="tongban-profile-"))))
    os.environ.pop("TONGBAN_PASSWORD_HASHER", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _bodies(n: int) -> list[tuple[bytes, str]]:
    from bench import submit
    from bench.datasets import ensure_citizens
    from bench.forms import Unsupported
    from tongban.accounts.services import api_token_issue

    tokens = [api_token_issue(user=u, name="bench") for u in ensure_citizens(16)]
    items = []
    for item, materials in submit._candidate_items():
        try:
            submit._request_body(item, materials, random.Random(0), 0)
        except Unsupported:
            continue
        items.append((item, materials))
    rng = random.Random(1)
    out = []
    for k in range(n):
        item, materials = items[k % len(items)]
        body = json.dumps(submit._request_body(item, materials, rng, k), ensure_ascii=False).encode()
        out.append((body, tokens[k % len(tokens)]))
    return out


def _backend_cpu(pid: int) -> float:
    """User + system seconds of one PostgreSQL backend (this machine's /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> None:
    mode = argv[0] if argv else "time"
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    bodies = _bodies(WARM_UP + ROUNDS * PER_ROUND)
    client = Client()

    def submit(k: int) -> None:
        body, token = bodies[k % len(bodies)]
        r = client.post(
            "/api/v1/cases",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT="application/json",
        )
        if r.status_code != 201:
            raise RuntimeError(f"HTTP {r.status_code}: {r.content[:300]!r}")

    for k in range(WARM_UP):
        submit(k)
    if mode == "queries":
        for k in range(WARM_UP, WARM_UP + 4):
            with CaptureQueriesContext(connection) as queries:
                submit(k)
            print(json.loads(bodies[k][0])["item"], len(queries))
            for q in queries:
                print("   ", q["time"], q["sql"][:150])
    elif mode == "prof":
        profile = cProfile.Profile(time.thread_time) if os.environ.get("CPU") else cProfile.Profile()
        profile.enable()
        for k in range(WARM_UP, WARM_UP + PER_ROUND):
            submit(k)
        profile.disable()
        stats = pstats.Stats(profile).sort_stats(os.environ.get("SORT", "cumtime"))
        stats.print_stats(int(os.environ.get("N", "60")))
        if os.environ.get("CALLEES"):
            stats.print_callees(os.environ["CALLEES"])
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        python = postgres = float("inf")
        for r in range(ROUNDS):
            cpu, pg = time.thread_time(), _backend_cpu(backend)
            for k in range(WARM_UP + r * PER_ROUND, WARM_UP + (r + 1) * PER_ROUND):
                submit(k)
            python = min(python, (time.thread_time() - cpu) / PER_ROUND * 1e3)
            postgres = min(postgres, (_backend_cpu(backend) - pg) / PER_ROUND * 1e3)
        print(f"CPU per submission: Python {python:.2f} ms, PostgreSQL {postgres:.2f} ms (best of {ROUNDS})")


if __name__ == "__main__":
    main(sys.argv[1:])
