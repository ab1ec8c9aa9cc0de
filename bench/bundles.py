"""一件事 bundles: how fast a node takes bundle submissions, and how soon a finished step hands over.

In one run (``python -m bench.bundles``, or :func:`main` from ``bench/run_all.py``), on PostgreSQL
(``tongban_bundlebench``, created afresh), with the reference catalogue of 合肥 and its bundles:

(a) submissions of 新生儿出生 (validate the form and what later steps need, check the applicant's
    certificates, create the bundle and its steps, start the first step: a case whose material is the
    applicant's electronic identity card, verified), by one process and by two processes at once;
    target ≥ 200/s;
(b) hand-over at that rate: while two processes submit bundles again at full speed, a reviewer
    decides the first step of earlier bundles 准予 (issuing the 出生医学证明), ten decisions a second,
    and the time from that decision's commit to the next step's case being submitted is measured;
    target p95 ≤ 1 s.

The work runs in child processes with their own Django set-up, so the caller's state is left alone.
After loading, the tables are analysed (as autovacuum would have done on a node by then). Besides the
rate, the CPU each submission took is reported, in the submitting process and in its PostgreSQL
backend (read from ``/proc``, so only when the server runs on this machine): on a shared machine the
rate varies with the neighbours' load, the CPU much less. Results go to ``docs/benchmarks-bundles.md``
with the machine and the load average.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get(
    "TONGBAN_BUNDLEBENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_bundlebench"
)
DOC = REPO / "docs" / "benchmarks-bundles.md"
APPLICANTS = 400
SECONDS = 6.0
DECISIONS_PER_S = 10  # decisions while the submissions run: (b)
FORM = {
    "newborn_name": "周小满",
    "newborn_sex": "女",
    "birth_date": "2026-11-18",
    "birth_place": "安徽医科大学第一附属医院",
    "mother_name": "李娜",
    "father_name": "周敏",
    "follow_parent": "随父落户",
    "registration_address": "合肥市包河区马鞍山路599号",
    "guardian_relation": "父亲",
    "contact_phone": "13912345678",
}


def _setup(work: Path, *, rebuild: bool):
    from bench.env import ensure_database, server_env

    if rebuild:
        ensure_database(DB_URL, rebuild=True)
    os.environ.update(server_env(DB_URL, work))
    os.environ.setdefault("TONGBAN_KEY_DIR", str(work / "keys"))  # the submitting children share the key
    os.environ.update(
        TONGBAN_NODE_CODE="340100", TONGBAN_CERT_STATUS_CACHE_SECONDS="5", TONGBAN_PASSWORD_HASHER="fast"
    )
    import django

    django.setup()


def _prepare() -> list[int]:
    """Catalogue, bundles, a node key, applicants holding 身份证 and 户籍 certificates."""
    from django.core.management import call_command
    from stdnum.cn import ric

    from tongban.accounts import services as accounts
    from tongban.bundles.definitions import reference_bundles_load
    from tongban.catalogue.loader import reference_data_load
    from tongban.certificates.services import certificate_issue
    from tongban.exchange.keys import node_key_init
    from tongban.regions.models import Organisation

    call_command("migrate", verbosity=0, interactive=False)
    reference_data_load(cities={"340100"})
    reference_bundles_load(cities={"340100"})
    node_key_init()
    police = Organisation.objects.get(name="合肥市公安局")
    ids = []
    for n in range(APPLICANTS):
        body = f"340102199{n % 10}{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
        number = body + ric.calc_check_digit(body + "0")
        user = accounts.citizen_register(
            username=f"bench{n}",
            password="Tongban-2026!",
            real_name="周敏",
            id_number=number,
            phone="13912345678",
            email="",
        )
        for type_key, data in (("sfz", {}), ("hkb", {"household_address": "合肥市包河区马鞍山路599号"})):
            certificate_issue(
                type_key=type_key,
                holder_name="周敏",
                holder_id_type="ric",
                holder_id=number,
                data=data,
                issuer=police,
            )
        ids.append(user.pk)
    return ids


def _backend_cpu() -> float | None:
    """CPU seconds this connection's PostgreSQL backend has run, when the server is on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except OSError:
        return None


def _submit_for(seconds: float, offset: int, stride: int) -> dict:
    from tongban.accounts.models import User
    from tongban.bundles.services import bundle_submit

    users = list(User.objects.filter(username__startswith="bench").order_by("pk"))[offset::stride]
    db_cpu = _backend_cpu()
    n, latencies, cpu, start = 0, [], time.process_time(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        bundle_submit(
            applicant=users[n % len(users)], definition_key="xsecs-340100", form_data=FORM, consent=True
        )
        latencies.append(time.perf_counter() - t)
        n += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    db_after = _backend_cpu()
    return {
        "n": n,
        "elapsed": elapsed,
        "p99_ms": 1000 * sorted(latencies)[int(0.99 * (n - 1))],
        "cpu_ms": 1000 * cpu / n,
        "db_cpu_ms": 1000 * (db_after - db_cpu) / n if db_cpu is not None and db_after is not None else None,
    }


def child_submit(offset: int, stride: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tongban-bundlebench-"))
    _setup(work, rebuild=False)
    return _submit_for(SECONDS, offset, stride)


def _analyse() -> None:
    """Planner statistics for the tables just loaded, as autovacuum would have gathered them on a node
    by now (without them, finding one person's certificates scans every certificate of the type)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _mean(values: list) -> float | None:
    return round(statistics.mean(values), 2) if values and None not in values else None


def child_main() -> dict:
    from bench.machine import load_average, machine_info

    work = Path(tempfile.mkdtemp(prefix="tongban-bundlebench-"))
    _setup(work, rebuild=True)
    os.environ["TONGBAN_BENCH_WORK"] = str(work)
    _prepare()
    _analyse()
    load_before = load_average()
    one = _submit_for(SECONDS, 0, 1)

    # Two processes submitting at once (the machine has two cores).
    from django.db import connections

    def submitting():
        connections.close_all()
        env = dict(os.environ, TONGBAN_KEY_DIR=str(work / "keys"))
        return [
            subprocess.Popen(
                [sys.executable, "-m", "bench.bundles", "--child-submit", str(i), "2"],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]

    def collected(procs):
        parts = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        return {
            "per_s": sum(p["n"] / p["elapsed"] for p in parts),
            "p99_ms": max(p["p99_ms"] for p in parts),
            "cpu_ms": _mean([p["cpu_ms"] for p in parts]),
            "db_cpu_ms": _mean([p["db_cpu_ms"] for p in parts]),
        }

    two = collected(submitting())

    # Hand-over at that rate: while two processes submit again at full speed, a reviewer decides the
    # first step of earlier bundles (paced, as people decide); the next step starts after the commit.
    from tongban.accounts.services import staff_create
    from tongban.bundles.models import BundleStep
    from tongban.cases import services as case_services

    first = list(
        BundleStep.objects.filter(key="birth_certificate", status="in_progress").select_related(
            "case__handling_org"
        )[: int(SECONDS * DECISIONS_PER_S)]
    )
    reviewer = staff_create(
        username="reviewer-of-bench",  # not "bench…": those are the applicants
        password="Tongban-2026!",
        real_name="审批",
        organisation=first[0].case.handling_org,
        roles=["reviewer"],
    )
    handovers = []
    procs = submitting()
    time.sleep(1.0)  # the submitting processes are under way
    start = time.perf_counter()
    for n, step in enumerate(first):
        time.sleep(max(0.0, start + n / DECISIONS_PER_S - time.perf_counter()))
        case_services.case_accept(actor=reviewer, number=step.case.number)
        decided = time.perf_counter()
        case_services.case_decide(actor=reviewer, number=step.case.number, approve=True, reason="符合条件")
        nxt = BundleStep.objects.get(bundle_id=step.bundle_id, key="registration")
        if nxt.status == "in_progress":
            handovers.append(time.perf_counter() - decided)
    rate = len(first) / (time.perf_counter() - start)
    during = collected(procs)
    handovers.sort()
    return {
        "submit_one_process_per_s": round(one["n"] / one["elapsed"], 1),
        "submit_one_process_p99_ms": round(one["p99_ms"], 1),
        "submit_one_process_cpu_ms": _mean([one["cpu_ms"]]),
        "submit_one_process_db_cpu_ms": _mean([one["db_cpu_ms"]]),
        "submit_two_processes_per_s": round(two["per_s"], 1),
        "submit_two_processes_p99_ms": round(two["p99_ms"], 1),
        "submit_two_processes_cpu_ms": two["cpu_ms"],
        "submit_two_processes_db_cpu_ms": two["db_cpu_ms"],
        "handover_count": len(handovers),
        "handover_of": len(first),
        "handover_p50_ms": round(1000 * statistics.median(handovers), 1) if handovers else None,
        "handover_p95_ms": round(1000 * handovers[int(0.95 * (len(handovers) - 1))], 1)
        if handovers
        else None,
        "decisions_per_s": round(rate, 1),
        "submit_during_handover_per_s": round(during["per_s"], 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
        "machine": machine_info(),
    }


def _cpu(r: dict, run: str) -> str:
    """CPU per submission: the submitting process (+ its PostgreSQL backend, when measured)."""
    cpu, db = r.get(f"submit_{run}_cpu_ms"), r.get(f"submit_{run}_db_cpu_ms")
    if cpu is None:
        return ""
    return f"; CPU {cpu} ms" + (f" + PostgreSQL {db} ms" if db is not None else "") + " per submission"


def table(r: dict) -> str:
    ok = lambda passed: "达标" if passed else "未达标"  # noqa: E731
    rows = [
        (
            "(a) bundle submissions, 1 process",
            f"{r['submit_one_process_per_s']:,}/s (p99 {r['submit_one_process_p99_ms']} ms{_cpu(r, 'one_process')})",
            "—",
            "—",
        ),
        (
            "(a) bundle submissions, 2 processes",
            f"{r['submit_two_processes_per_s']:,}/s (p99 {r['submit_two_processes_p99_ms']} ms{_cpu(r, 'two_processes')})",
            "≥ 200/s",
            ok(r["submit_two_processes_per_s"] >= 200),
        ),
        (
            "(b) hand-over: decision committed → next step's case submitted",
            f"p50 {r['handover_p50_ms']} ms, p95 {r['handover_p95_ms']} ms ({r['handover_count']} of {r['handover_of']} "
            f"at {r['decisions_per_s']} decisions/s, while 2 processes submitted {r['submit_during_handover_per_s']:,} bundles/s)",
            "p95 ≤ 1 s",
            ok(
                r["handover_p95_ms"] is not None
                and r["handover_p95_ms"] <= 1000
                and r["handover_count"] == r["handover_of"]
            ),
        ),
    ]
    lines = ["| measure | result | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def write_doc(r: dict) -> None:
    m = r["machine"]
    DOC.write_text(
        "# Benchmarks: 一件事 bundles\n\n"
        "Written by `python -m bench.bundles` (see its docstring for what is measured and how).\n\n"
        f"{table(r)}\n\n"
        f"- Load average before / after: {r['load_average_before']} / {r['load_average_after']} (shared machine).\n"
        "- A submission here is a real one: form and later-step checks, the applicant's certificates found and\n"
        "  verified, the bundle, its steps, the first step's case with its event, audit entry and notification.\n\n"
        "## Machine\n\n"
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; memory {m['memory_gib']} GiB; Linux {m['kernel']}\n"
        f"- {m['postgresql']}; settings {m['postgresql_settings']}\n"
        f"- Python {m['python']}, Django {m['django']}; run {m['date']}\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "tongban.config.settings"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bundles", "--child"], cwd=REPO, env=env, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"bench.bundles failed:\n{proc.stderr[-4000:]}")
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    print(table(results))
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child_main(), ensure_ascii=False, default=str))
    elif sys.argv[1:2] == ["--child-submit"]:
        print(json.dumps(child_submit(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
