"""``python -m tongban.simulation`` (``make simulate``): the 41 YRD city nodes on this machine.

Every city (codes from ``yrd_divisions()``: the 40 prefecture-level cities and 上海) runs as a node
of its own: SQLite database, signing key, one web process (``tongban serve --workers 1 --threads 2``)
and one worker (``tongban worker``), on ``127.0.0.1:<port base + i>``. One trust anchor signs the
trust list naming all of them; each node's worker fetches and installs it when it starts. Cities
without reference data get a small generated catalogue (:mod:`tongban.simulation.catalogue_gen`);
then every node runs ``tongban catalogue publish`` so each learns every other city's items.

Then a stream of cross-city applications between random pairs: a citizen at node A applies, through
A's API, for an item of node B; A transfers the case to B. Measured: delivery counts (sent,
delivered, applied, parked, rejected), end-to-end latency (created at A → case in B's queue, from the
two databases' timestamps), the time to distribute the trust list and the catalogues, the memory of
all node processes, and the startup time. Results go to ``<dir>/runs/<time>.json`` (the latest also
to ``<dir>/results.json``, or ``results-fault.json`` with ``--pause-node``) and into
``docs/simulation.md``.

``--pause-node CODE`` adds a fault: that node is stopped (SIGSTOP) for ``--pause-seconds`` during the
load, and the latency of transfers between the other nodes is reported apart.

Bounded: every wait has a deadline within ``--max-minutes``; every node process is stopped at the end,
on Ctrl-C and on SIGTERM. A second run reuses the prepared nodes (databases, keys, accounts) and the
anchor; ``--fresh`` starts over. Options can also be given as environment variables
(``TONGBAN_SIM_APPLICATIONS``, ``TONGBAN_SIM_RATE``, ``TONGBAN_SIM_NODES``, ``TONGBAN_SIM_PORT_BASE``,
``TONGBAN_SIM_DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tongban.simulation.client import NodeClient, application, fill_form, form_valid
from tongban.simulation.cluster import (
    REPO,
    Cluster,
    ClusterError,
    machine_info,
    parse_db_time,
    yrd_city_nodes,
)
from tongban.simulation.stats import percentiles

DOC = REPO / "docs" / "simulation.md"
# The document keeps the latest plain run and the latest run with a fault (--pause-node) apart.
MARKERS = {
    "plain": ("<!-- simulation-results:begin -->", "<!-- simulation-results:end -->"),
    "fault": ("<!-- simulation-fault-results:begin -->", "<!-- simulation-fault-results:end -->"),
}
MB = 1024 * 1024
# What one node (gunicorn master + worker, and the exchange worker) takes, measured: ~300 MB RSS.
NODE_MEMORY_ESTIMATE = 320 * MB


class Deadline(Exception):
    pass


def _env(name: str, default):
    return type(default)(os.environ.get(name) or default)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tongban.simulation", description=__doc__.split("\n\n")[0])
    p.add_argument("--applications", type=int, default=_env("TONGBAN_SIM_APPLICATIONS", 500))
    p.add_argument(
        "--rate", type=float, default=_env("TONGBAN_SIM_RATE", 10.0), help="applications per second"
    )
    p.add_argument("--concurrency", type=int, default=8, help="client threads submitting applications")
    p.add_argument("--nodes", type=int, default=_env("TONGBAN_SIM_NODES", 41), help="only the first N cities")
    p.add_argument("--port-base", type=int, default=_env("TONGBAN_SIM_PORT_BASE", 18600))
    p.add_argument(
        "--dir", type=Path, default=Path(_env("TONGBAN_SIM_DIR", str(REPO / "var" / "simulation")))
    )
    p.add_argument("--prepare-parallel", type=int, default=3, help="node preparations at once (2–4)")
    p.add_argument("--publish-parallel", type=int, default=4, help="`catalogue publish` commands at once")
    p.add_argument("--worker-interval-ms", type=int, default=1000, help="idle poll interval of each worker")
    p.add_argument(
        "--settle-seconds", type=float, default=300, help="longest wait for deliveries after the load"
    )
    p.add_argument("--max-minutes", type=float, default=40, help="the whole run, everything included")
    p.add_argument(
        "--pause-node",
        default="",
        help="fault: stop this node (SIGSTOP) during the load; it only receives applications (code)",
    )
    p.add_argument("--pause-seconds", type=float, default=30, help="how long --pause-node stays stopped")
    p.add_argument("--pause-at", type=float, default=0.2, help="when, as a share of the load's duration")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fresh", action="store_true", help="delete the simulation directory first")
    p.add_argument("--force", action="store_true", help="start even if the memory looks too small")
    p.add_argument("--doc", type=Path, default=DOC, help="where to write the results (Markdown)")
    p.add_argument("--no-doc", action="store_true", help="do not write the results into the document")
    return p.parse_args(argv)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _mem_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Sent:
    index: int
    sender: str  # node A (receiving node, where the citizen applies)
    recipient: str  # node B (handling node)
    item: str
    number: str = ""
    status: int = 0
    error: str = ""
    seconds: float = 0.0


@dataclass
class Run:
    args: argparse.Namespace
    cluster: Cluster
    deadline: float
    results: dict = field(default_factory=dict)
    trust_signed_at: float = 0.0
    pause_window: tuple[datetime, datetime] | None = None

    def remaining(self, cap: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Deadline("the run reached --max-minutes")
        return min(cap, left)


# --- phases -----------------------------------------------------------------------------------------


def phase_prepare(run: Run) -> None:
    c = run.cluster
    log(f"preparing {len(c.nodes)} nodes under {c.base} ({run.args.prepare_parallel} at a time)…")
    report = c.prepare(parallel=run.args.prepare_parallel, log=log)
    log(f"prepared in {report.seconds:.1f} s: {len(report.prepared)} set up, {len(report.reused)} reused")
    t = time.monotonic()
    version = c.publish_trust_list()
    trust_sign = time.monotonic() - t
    log(f"trust list v{version} signed for {len(c.nodes)} members in {trust_sign:.1f} s")
    run.trust_signed_at = time.monotonic()
    run.results["prepare"] = {
        "seconds": round(report.seconds, 1),
        "set_up": len(report.prepared),
        "reused": len(report.reused),
        "schema_template_seconds": round(report.template_seconds, 1),
        "parallel": run.args.prepare_parallel,
        "trust_list_version": version,
        "trust_list_sign_seconds": round(trust_sign, 1),
    }


def phase_start(run: Run) -> None:
    c = run.cluster
    busy = [n.port for n in c.nodes.values() if _port_busy(n.port)]
    if busy:
        raise ClusterError(f"ports already in use on 127.0.0.1: {busy[:10]} (another run still going?)")
    published = run.trust_signed_at
    log(f"starting {len(c.nodes)} nodes ({2 * len(c.nodes)} process groups)…")
    t = time.monotonic()
    c.start()
    healthy = c.wait_healthy(timeout=run.remaining(600))
    log(f"all {len(c.nodes)} nodes answer /healthz after {healthy:.1f} s")
    trust = c.wait_trust(timeout=run.remaining(300))
    held = time.monotonic() - published
    log(f"every node holds trust list v{c.trust_version} {held:.1f} s after it was signed")
    run.results["startup"] = {
        "processes": c.memory().processes,
        "all_healthy_seconds": round(healthy, 1),
        "all_hold_trust_list_seconds": round(time.monotonic() - t, 1),
        "after_healthy_seconds": round(trust, 1),
    }
    run.results["trust_list"] = {"version": c.trust_version, "signed_to_held_by_all_seconds": round(held, 1)}


def phase_catalogues(run: Run) -> None:
    c = run.cluster
    codes = list(c.nodes)
    since = datetime.now(UTC)
    log(
        f"publishing catalogues: `tongban catalogue publish` on each node, {run.args.publish_parallel} at a time…"
    )
    t = time.monotonic()
    c.publish_catalogues(parallel=run.args.publish_parallel)
    commands = time.monotonic() - t
    want = len(codes) - 1
    progress: dict[str, int] = {}

    def all_applied() -> bool:
        for code in codes:
            if progress.get(code) == want:
                continue
            progress[code] = c.query(
                code,
                "SELECT COUNT(DISTINCT sender) FROM exchange_inboxmessage WHERE type = 'catalogue.publish' "
                "AND state = 'applied' AND received_at >= ?",
                [_utc_text(since)],
            )[0][0]
        return all(progress.get(code) == want for code in codes)

    _wait(run, all_applied, cap=600, what="every node applied every other node's catalogue")
    done = time.monotonic() - t
    cities = {
        code: c.query(
            code, "SELECT COUNT(DISTINCT city_code) FROM catalogue_serviceitem WHERE status = 'published'"
        )[0][0]
        for code in codes
    }
    items = sum(
        c.query(code, "SELECT COUNT(*) FROM catalogue_serviceitem WHERE city_code = ?", [code])[0][0]
        for code in codes
    )
    # Each publication: queued at its sender (the publish command) → applied at its recipient.
    queued: dict[str, datetime] = {}
    applied: dict[str, datetime] = {}
    for code in codes:
        for pk, made in c.query(
            code,
            "SELECT id, created_at FROM exchange_outboxmessage WHERE type = 'catalogue.publish' AND created_at >= ?",
            [_utc_text(since)],
        ):
            queued[pk] = parse_db_time(made)
        for pk, at in c.query(
            code,
            "SELECT id, applied_at FROM exchange_inboxmessage WHERE type = 'catalogue.publish' "
            "AND state = 'applied' AND received_at >= ?",
            [_utc_text(since)],
        ):
            applied[pk] = parse_db_time(at)
    publication = percentiles([(applied[k] - queued[k]).total_seconds() for k in applied if k in queued])
    log(f"catalogues distributed in {done:.1f} s ({commands:.1f} s of it running the publish commands)")
    run.results["catalogues"] = {
        "publications": len(codes) * want,
        "own_items_total": items,
        "publish_commands_seconds": round(commands, 1),
        "all_applied_everywhere_seconds": round(done, 1),
        "cities_known_per_node_min": min(cities.values()),
        "publication_queued_to_applied_seconds": publication,
    }


def _wait(run: Run, predicate, *, cap: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + run.remaining(cap)
    while True:
        result = predicate()
        if result:
            return result
        dead = run.cluster.dead()
        if dead:
            code, role = dead[0].split("/")
            raise ClusterError(f"{dead} exited:\n{run.cluster.log_tail(code, role)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {cap:.0f} s: {what}")
        time.sleep(interval)


def eligible_items(cluster: Cluster) -> dict[str, list[tuple[str, dict, list[tuple[str, str]]]]]:
    """Per node, its own items a citizen elsewhere can apply for online, with a form we can fill."""
    out: dict[str, list] = {}
    for code in cluster.nodes:
        rows = cluster.query(
            code,
            "SELECT id, implementation_code, form_schema, modes, subject_types FROM catalogue_serviceitem "
            "WHERE city_code = ? AND status = 'published' ORDER BY implementation_code",
            [code],
        )
        items = []
        for pk, item_code, schema, modes, subjects in rows:
            schema = json.loads(schema)
            if "full_online" not in json.loads(modes) or "person" not in json.loads(subjects):
                continue
            if not form_valid(schema, fill_form(schema)):
                continue
            required = cluster.query(
                code,
                "SELECT code, name FROM catalogue_material WHERE item_id = ? AND required = 1 ORDER BY sort",
                [pk],
            )
            items.append((item_code, schema, [tuple(r) for r in required]))
        out[code] = items
    return out


def phase_load(run: Run) -> list[Sent]:
    c, args = run.cluster, run.args
    rng = random.Random(args.seed)
    items = eligible_items(c)
    codes = [code for code in c.nodes if items[code]]
    clients = {code: NodeClient(c.nodes[code].url, c.accounts(code)) for code in c.nodes}
    log("logging the citizens in at every node…")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda code: clients[code].token("citizen"), list(c.nodes)))
    plan: list[tuple[Sent, dict]] = []
    run_id = f"{int(time.time())}"
    for i in range(args.applications):
        sender = rng.choice([code for code in c.nodes if code != args.pause_node])
        recipient = rng.choice([code for code in codes if code != sender])
        item_code, schema, required = rng.choice(items[recipient])
        body = application(item_code, schema, required, token=f"sim-{run_id}-{i}")
        plan.append((Sent(i, sender, recipient, item_code), body))
    log(
        f"sending {len(plan)} applications between random pairs at {args.rate:g}/s ({args.concurrency} clients)…"
    )

    peak = {"rss": 0, "pss": 0}
    sampling = threading.Event()

    def sample_memory():
        while not sampling.wait(5):
            m = c.memory()
            peak["rss"], peak["pss"] = max(peak["rss"], m.rss_bytes), max(peak["pss"], m.pss_bytes)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    started = time.monotonic()
    pauser = None
    if args.pause_node:

        def pause():
            time.sleep(args.pause_at * len(plan) / args.rate)
            log(f"fault: stopping {args.pause_node} (SIGSTOP) for {args.pause_seconds:g} s")
            since = datetime.now(UTC)
            c.pause(args.pause_node)
            try:
                time.sleep(args.pause_seconds)
            finally:
                c.resume(args.pause_node)
                run.pause_window = (since, datetime.now(UTC))
                log(f"fault: {args.pause_node} resumed")

        pauser = threading.Thread(target=pause, daemon=True)
        pauser.start()
    next_index = iter(range(len(plan)))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next(next_index, None)
            if i is None or time.monotonic() > run.deadline:
                return
            sent, body = plan[i]
            delay = started + i / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.monotonic()
            for attempt in range(3):
                try:
                    status, answer = clients[sent.sender].call("POST", "/api/v1/cases", body, user="citizen")
                except OSError as exc:
                    sent.error = f"{type(exc).__name__}: {exc}"
                    time.sleep(1 + attempt)
                    continue
                sent.status = status
                if status in (200, 201):
                    sent.number, sent.error = answer["number"], ""
                else:
                    sent.error = json.dumps(answer, ensure_ascii=False)[:300]
                break
            sent.seconds = time.monotonic() - t

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for _ in range(args.concurrency):
            pool.submit(worker)
    if pauser is not None:
        pauser.join()
    load_seconds = time.monotonic() - started
    sampling.set()
    sampler.join(timeout=10)
    sent = [s for s, _ in plan]
    ok = sum(1 for s in sent if s.number)
    log(f"{ok} of {len(sent)} applications accepted by their receiving node in {load_seconds:.1f} s")
    run.results["load"] = {
        "applications": len(sent),
        "accepted_by_receiving_node": ok,
        "api_errors": len(sent) - ok,
        "api_error_examples": sorted({s.error for s in sent if not s.number})[:5],
        "seconds": round(load_seconds, 1),
        "rate_target": args.rate,
        "rate_achieved": round(ok / load_seconds, 2) if load_seconds else 0,
        "pairs": len({(s.sender, s.recipient) for s in sent}),
        "eligible_items": sum(len(v) for v in items.values()),
        "submit_response_seconds": percentiles([s.seconds for s in sent if s.number]),
    }
    run.results["memory_peak_under_load"] = {"rss_mb": peak["rss"] // MB, "pss_mb": peak["pss"] // MB}
    return sent


def _rows(cluster: Cluster, code: str, sql: str, keys: list[str], params: tuple = ()) -> list[tuple]:
    out: list[tuple] = []
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        out += cluster.query(code, sql.replace("{keys}", ",".join("?" * len(part))), [*params, *part])
    return out


def phase_settle(run: Run, sent: list[Sent], load_started: datetime) -> None:
    c = run.cluster
    by_recipient: dict[str, list[str]] = {}
    by_sender: dict[str, list[str]] = {}
    for s in sent:
        if s.number:
            by_recipient.setdefault(s.recipient, []).append(s.number)
            by_sender.setdefault(s.sender, []).append(s.number)
    arrived: dict[str, datetime] = {}
    total = sum(len(v) for v in by_recipient.values())
    t = time.monotonic()

    def all_arrived() -> bool:
        for code, numbers in by_recipient.items():
            missing = [n for n in numbers if n not in arrived]
            if missing:
                for number, created in _rows(
                    c, code, "SELECT number, created_at FROM cases_case WHERE number IN ({keys})", missing
                ):
                    arrived[number] = parse_db_time(created)
        return len(arrived) >= total

    log(f"waiting until all {total} cases are in their handling node's queue…")
    try:
        _wait(run, all_arrived, cap=run.args.settle_seconds, what="every case at its handling node")
    except TimeoutError as exc:
        log(f"  {exc}: {total - len(arrived)} not there")
    settle = time.monotonic() - t

    # Counts, from the senders' outboxes and the recipients' inboxes.
    created: dict[str, datetime] = {}
    outbox = {"sent": 0, "delivered": 0, "pending": 0, "parked": 0}
    outbox_latency: list[float] = []
    attempts_max = 0
    retried = 0
    for code, numbers in by_sender.items():
        for number, submitted in _rows(
            c, code, "SELECT number, submitted_at FROM cases_case WHERE number IN ({keys})", numbers
        ):
            created[number] = parse_db_time(submitted)
        for state, made, delivered_at, attempts in _rows(
            c,
            code,
            "SELECT state, created_at, delivered_at, attempts FROM exchange_outboxmessage "
            "WHERE type = 'case.transfer' AND ordering_key IN ({keys})",
            numbers,
        ):
            outbox["sent"] += 1
            outbox[state] = outbox.get(state, 0) + 1
            attempts_max = max(attempts_max, attempts)
            retried += attempts > 0
            if delivered_at:
                outbox_latency.append((parse_db_time(delivered_at) - parse_db_time(made)).total_seconds())
    inbox = {"applied": 0, "received": 0, "failed": 0}
    for code, numbers in by_recipient.items():
        for state, count in _rows(
            c,
            code,
            "SELECT state, COUNT(*) FROM exchange_inboxmessage WHERE type = 'case.transfer' "
            "AND ordering_key IN ({keys}) GROUP BY state",
            numbers,
        ):
            inbox[state] = inbox.get(state, 0) + count
    rejected: dict[str, int] = {}
    for code in c.nodes:
        for reason, count in c.query(
            code,
            "SELECT code, COUNT(*) FROM exchange_rejectedenvelope WHERE received_at >= ? GROUP BY code",
            [_utc_text(load_started)],
        ):
            rejected[reason] = rejected.get(reason, 0) + count
    duplicates = 0
    for code, numbers in by_recipient.items():
        duplicates += sum(
            n - 1
            for (n,) in _rows(
                c,
                code,
                "SELECT COUNT(*) FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id "
                "WHERE c.number IN ({keys}) AND e.action = 'submit' GROUP BY c.number",
                numbers,
            )
        )
    latency = [(arrived[n] - created[n]).total_seconds() for n in arrived if n in created]
    run.results["delivery"] = {
        "sent": outbox["sent"],
        "delivered": outbox["delivered"],
        "applied": inbox["applied"],
        "pending": outbox["pending"],
        "parked": outbox["parked"],
        "rejected": sum(rejected.values()),
        "rejected_by_code": rejected,
        "inbox_failed": inbox["failed"],
        "inbox_not_yet_applied": inbox["received"],
        "in_handling_queue": len(arrived),
        "duplicate_submit_events": duplicates,
        "messages_retried": retried,
        "max_attempts": attempts_max,
        "settle_seconds": round(settle, 1),
    }
    run.results["latency_seconds"] = {
        "end_to_end": percentiles(latency),
        "outbox_to_delivered": percentiles(outbox_latency),
    }
    if run.pause_window is not None:
        paused = run.args.pause_node
        since, until = run.pause_window
        recipient_of = {s.number: s.recipient for s in sent if s.number}
        groups: dict[str, list[float]] = {
            "to_paused_node": [],
            "others_during_pause": [],
            "others_otherwise": [],
        }
        for number in arrived:
            if number not in created:
                continue
            value = (arrived[number] - created[number]).total_seconds()
            if recipient_of[number] == paused:
                groups["to_paused_node"].append(value)
            elif since <= created[number] <= until:
                groups["others_during_pause"].append(value)
            else:
                groups["others_otherwise"].append(value)
        run.results["pause"] = {
            "node": paused,
            "seconds": round((until - since).total_seconds(), 1),
            **{name: percentiles(values) for name, values in groups.items()},
        }
    d = run.results["delivery"]
    log(
        f"sent {d['sent']}, delivered {d['delivered']}, applied {d['applied']}, parked {d['parked']}, "
        f"rejected {d['rejected']}; end-to-end p50 {run.results['latency_seconds']['end_to_end'].get('p50')} s"
    )
    phase_queue_check(run, [s for s in sent if s.number in arrived])


def phase_queue_check(run: Run, delivered: list[Sent], count: int = 5) -> None:
    """For a few delivered cases: a reviewer at the handling node sees it in the queue (over the API)."""
    from tongban.simulation.client import ApiError

    c = run.cluster
    seen = 0
    checked = random.Random(run.args.seed).sample(delivered, min(count, len(delivered)))
    for s in checked:
        client = NodeClient(c.nodes[s.recipient].url, c.accounts(s.recipient))
        # the demo's reviewers: one per authority of the city, reviewerN sharing reviewer's password
        for username in ["reviewer"] + [f"reviewer{i}" for i in range(2, 16)]:
            try:
                page = client.request("GET", "/api/v1/cases?view=queue&page_size=100", user=username)
            except ApiError:
                break  # no such account: every reviewer tried
            if any(i["number"] == s.number for i in page["items"]):
                seen += 1
                break
    run.results["queue_check"] = {"checked": len(checked), "in_a_reviewers_queue": seen}


# --- report -----------------------------------------------------------------------------------------


def _fmt_latency(p: dict) -> str:
    if not p.get("count"):
        return "–"
    return f"{p['p50']:.2f} / {p['p95']:.2f} / {p['p99']:.2f} / {p['max']:.2f}"


def markdown(results: dict) -> str:
    m = results["machine"]
    r = results
    lines = [
        f"### Run of {m['date']}: {r['nodes']} nodes, {r.get('load', {}).get('applications', 0)} applications",
        "",
        f"Machine: {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gb']} GB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}; load average when the run started {m['load_average'][0]} "
        "(other test suites shared the machine).",
        "",
        "| what | measured |",
        "| --- | --- |",
    ]
    p = r.get("prepare", {})
    if p:
        lines.append(
            f"| prepare | {p['seconds']} s: {p['set_up']} nodes set up, {p['reused']} reused "
            f"({p['parallel']} at a time; schema template {p['schema_template_seconds']} s); trust list "
            f"v{p['trust_list_version']} signed for all in {p['trust_list_sign_seconds']} s |"
        )
    s = r.get("startup", {})
    if s:
        lines.append(
            f"| startup | {s['processes']} processes; every node answers `/healthz` {s['all_healthy_seconds']} s "
            f"after the first was spawned |"
        )
    t = r.get("trust_list", {})
    if t:
        lines.append(
            f"| trust list distribution | v{t['version']} held by all {r['nodes']} nodes "
            f"{t['signed_to_held_by_all_seconds']} s after it was signed (each worker fetches it on its first "
            f"cycle; startup included) |"
        )
    cat = r.get("catalogues", {})
    if cat:
        lines.append(
            f"| catalogue distribution | {cat['publications']} publications ({cat['own_items_total']} items in "
            f"all) applied everywhere {cat['all_applied_everywhere_seconds']} s after the first "
            f"`catalogue publish` ({cat['publish_commands_seconds']} s running the commands: a Django start each); "
            f"one publication, queued → applied at its recipient: "
            f"{_fmt_latency(cat.get('publication_queued_to_applied_seconds', {}))} s (p50 / p95 / p99 / max); "
            f"every node knows ≥ {cat['cities_known_per_node_min']} cities |"
        )
    mem = r.get("memory_idle", {})
    if mem:
        peak = r.get("memory_peak_under_load", {})
        lines.append(
            f"| memory | idle: RSS Σ {mem['rss_mb']} MB, PSS Σ {mem['pss_mb']} MB over {mem['processes']} "
            f"processes ({mem['pss_mb'] // max(1, r['nodes'])} MB PSS per node); under load, peak RSS Σ "
            f"{peak.get('rss_mb', '–')} MB, PSS Σ {peak.get('pss_mb', '–')} MB |"
        )
    ld = r.get("load", {})
    if ld:
        lines.append(
            f"| load | {ld['applications']} applications over {ld['pairs']} city pairs in {ld['seconds']} s "
            f"(target {ld['rate_target']:g}/s, achieved {ld['rate_achieved']}/s); {ld['api_errors']} refused "
            f"by the receiving node |"
        )
    d = r.get("delivery", {})
    if d:
        lines += [
            "",
            "| sent | delivered | applied | in queue | pending | parked | rejected | inbox failed | duplicates |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {d['sent']} | {d['delivered']} | {d['applied']} | {d['in_handling_queue']} | {d['pending']} | "
            f"{d['parked']} | {d['rejected']} | {d['inbox_failed']} | {d['duplicate_submit_events']} |",
        ]
    lat = r.get("latency_seconds", {})
    if lat:
        lines += [
            "",
            "| latency (s) | p50 / p95 / p99 / max |",
            "| --- | --- |",
            f"| end to end: created at A → case in B's queue | {_fmt_latency(lat['end_to_end'])} |",
            f"| outbox: queued → acknowledged by B | {_fmt_latency(lat['outbox_to_delivered'])} |",
            f"| `POST /api/v1/cases` at A (client side) | {_fmt_latency(ld.get('submit_response_seconds', {}))} |",
        ]
    pz = r.get("pause")
    if pz:
        lines += [
            "",
            f"Fault: node {pz['node']} stopped (SIGSTOP) for {pz['seconds']} s during the load. End-to-end "
            "latency (s), p50 / p95 / p99 / max:",
            "",
            "| transfers | count | p50 / p95 / p99 / max |",
            "| --- | --- | --- |",
        ]
        for name, label in (
            ("to_paused_node", f"to {pz['node']}"),
            ("others_during_pause", "between other nodes, created during the stop"),
            ("others_otherwise", "between other nodes, before or after it"),
        ):
            lines.append(f"| {label} | {pz[name].get('count', 0)} | {_fmt_latency(pz[name])} |")
    q = r.get("queue_check")
    if q:
        lines += [
            "",
            f"Queue check over the API: {q['in_a_reviewers_queue']} of {q['checked']} sampled cases found in a reviewer's queue at their handling node.",
        ]
    if r.get("error"):
        lines += ["", f"**The run did not finish:** {r['error']}"]
    lines += [
        "",
        f"Total run time {r.get('total_seconds', 0)} s. Raw numbers: `{r.get('results_file', '')}`.",
    ]
    return "\n".join(lines) + "\n"


def write_doc(path: Path, block: str, kind: str = "plain") -> None:
    begin, end = MARKERS[kind]
    text = path.read_text(encoding="utf-8") if path.exists() else "# Federation simulation\n\n## Results\n\n"
    section = f"{begin}\n{block}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


# --- main -------------------------------------------------------------------------------------------


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.fresh and args.dir.exists():
        shutil.rmtree(args.dir)
    nodes = yrd_city_nodes(args.port_base)[: args.nodes]
    need = len(nodes) * NODE_MEMORY_ESTIMATE
    available = _mem_available()
    if available and available < need * 1.2 and not args.force:
        print(
            f"{len(nodes)} nodes need about {need // MB} MB of memory; {available // MB} MB are available. "
            "Run fewer (--nodes) or use --force.",
            file=sys.stderr,
        )
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    started = time.monotonic()
    cluster = Cluster(
        args.dir, nodes, web_workers=1, web_threads=2, worker_interval_ms=args.worker_interval_ms
    )
    run = Run(args, cluster, deadline=started + args.max_minutes * 60)
    run.results.update(machine=machine_info(), nodes=len(nodes), ports=[nodes[0].port, nodes[-1].port])
    code = 0
    try:
        phase_prepare(run)
        phase_start(run)
        phase_catalogues(run)
        m = cluster.memory()
        run.results["memory_idle"] = {
            "processes": m.processes,
            "rss_mb": m.rss_bytes // MB,
            "pss_mb": m.pss_bytes // MB,
        }
        log(
            f"memory, idle: RSS Σ {m.rss_bytes // MB} MB, PSS Σ {m.pss_bytes // MB} MB over {m.processes} processes"
        )
        load_started = datetime.now(UTC)
        sent = phase_load(run)
        phase_settle(run, sent, load_started)
    except KeyboardInterrupt:
        log("interrupted: stopping every node…")
        run.results["error"] = "interrupted"
        code = 130
    except (Deadline, TimeoutError, ClusterError) as exc:
        log(f"stopped: {exc}")
        run.results["error"] = str(exc).splitlines()[0][:300]
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave nodes behind
        t = time.monotonic()
        cluster.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log(f"all node processes stopped ({time.monotonic() - t:.1f} s)")
    run.results["total_seconds"] = round(time.monotonic() - started, 1)
    # Every run keeps its own file; results.json / results-fault.json are the latest of each kind.
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    results_file = args.dir / "runs" / f"{stamp}{'-fault' if args.pause_node else ''}.json"
    run.results["results_file"] = str(
        results_file.relative_to(REPO) if results_file.is_relative_to(REPO) else results_file
    )
    results_file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(run.results, ensure_ascii=False, indent=2)
    results_file.write_text(text)
    (args.dir / ("results-fault.json" if args.pause_node else "results.json")).write_text(text)
    block = markdown(run.results)
    print("\n" + block)
    if not args.no_doc and code != 130:
        write_doc(args.doc, block, "fault" if args.pause_node else "plain")
        log(f"results written to {args.doc}")
    return code
