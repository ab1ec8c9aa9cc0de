"""Faults under load: the handling node killed with SIGKILL while 1,000 transfers are in flight, and
stopped for a minute while the receiving node keeps taking applications. Nothing may be lost,
nothing applied twice, and each case's messages must be applied in order. A third test stops one
node and checks that the sender's deliveries to another node do not wait for it.

Settings and how to run: ``tests/soak/conftest.py`` (``make soak``)."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from tests.soak.harness import (
    HF,
    HS,
    SH,
    Creator,
    Pair,
    decide,
    env_float,
    env_int,
    record,
    sample,
)
from tongban.simulation.cluster import parse_db_time, wait_until
from tongban.simulation.stats import percentiles

pytestmark = pytest.mark.soak


def _utc_text(epoch: float) -> str:
    """A moment as Django writes it in SQLite (UTC), for comparisons in SQL."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def wait_delivered(pair: Pair, numbers: list[str], *, timeout: float) -> dict:
    """Until 合肥's outbox has delivered every transfer of ``numbers`` and 上海 has applied them all."""

    def done():
        states = pair.outbox_states(numbers)
        if states["delivered"] != len(numbers):
            return None
        applied = pair.rows(
            SH,
            "SELECT COUNT(*) FROM exchange_inboxmessage WHERE sender = ? AND type = 'case.transfer' "
            "AND state = 'applied' AND ordering_key IN ({keys})",
            numbers,
            (HF,),
        )
        return states if sum(r[0] for r in applied) >= len(numbers) else None

    return wait_until(done, timeout=timeout, interval=0.5, what="every transfer delivered and applied")


def check_exactly_once(pair: Pair, numbers: list[str], *, baseline_cases: int, since: float) -> dict:
    """Every case arrived at 上海 exactly once, whole (its materials), with one submit event, from one
    applied inbox message; nothing parked or pending at 合肥. Returns what was counted."""
    assert len(set(numbers)) == len(numbers), "合肥 handed out a case number twice"
    there = pair.cases_at(SH, numbers)
    missing = sorted(set(numbers) - set(there))
    assert not missing, f"{len(missing)} case(s) never arrived at 上海, e.g. {missing[:5]}"
    total = pair.cluster.query(SH, "SELECT COUNT(*) FROM cases_case WHERE receiving_node = ?", [HF])[0][0]
    assert total == baseline_cases + len(numbers), (
        f"上海 holds {total - baseline_cases} new cases, expected {len(numbers)}"
    )

    events = pair.rows(
        SH,
        "SELECT c.number, SUM(e.action = 'submit'), COUNT(e.id) FROM cases_case c "
        "LEFT JOIN cases_caseevent e ON e.case_id = c.id WHERE c.number IN ({keys}) GROUP BY c.number",
        numbers,
    )
    wrong = [(n, s, c) for n, s, c in events if s != 1 or c != 1]
    assert not wrong, f"cases without exactly one submit event at 上海: {wrong[:5]}"

    inbox = pair.rows(
        SH,
        "SELECT ordering_key, COUNT(*), SUM(state = 'applied'), MAX(seq) FROM exchange_inboxmessage "
        "WHERE sender = ? AND type = 'case.transfer' AND ordering_key IN ({keys}) GROUP BY ordering_key",
        numbers,
        (HF,),
    )
    wrong = [r for r in inbox if r[1] != 1 or r[2] != 1 or r[3] != 1]
    assert len(inbox) == len(numbers) and not wrong, (
        f"inbox rows per case not exactly one applied: {wrong[:5]}"
    )

    expected_materials = len(pair.application("-")["materials"])
    materials = pair.rows(
        SH,
        "SELECT c.number, COUNT(m.id) FROM cases_case c LEFT JOIN cases_casematerial m ON m.case_id = c.id "
        "WHERE c.number IN ({keys}) GROUP BY c.number",
        numbers,
    )
    wrong = [r for r in materials if r[1] != expected_materials]
    assert not wrong, f"cases at 上海 without their {expected_materials} materials: {wrong[:5]}"
    files = pair.rows(
        SH,
        "SELECT m.file FROM cases_casematerial m JOIN cases_case c ON c.id = m.case_id WHERE c.number IN ({keys})",
        numbers,
    )
    media = pair.cluster.var_dir(SH) / "media"
    absent = [f for (f,) in files if not (media / f).exists()]
    assert not absent, f"material files missing at 上海: {absent[:5]}"
    stored = {str(p.relative_to(media)) for p in (media / "cases").rglob("*") if p.is_file()}
    known = {f for (f,) in pair.cluster.query(SH, "SELECT file FROM cases_casematerial")}

    states = pair.outbox_states(numbers)
    assert states["parked"] == 0 and states["pending"] == 0, f"合肥's outbox: {states}"
    rejected = pair.cluster.query(
        SH,
        "SELECT code, COUNT(*) FROM exchange_rejectedenvelope WHERE received_at >= ? GROUP BY code",
        [_utc_text(since)],
    )
    failed = pair.cluster.query(
        SH,
        "SELECT error_code, COUNT(*) FROM exchange_inboxmessage WHERE sender = ? AND attempts > 1 "
        "AND received_at >= ? GROUP BY error_code",
        [HF, _utc_text(since)],
    )
    return {
        "cases_at_shanghai": len(there),
        "unique_numbers": len(set(numbers)),
        "submit_events_each": 1,
        "outbox": states,
        "rejected_at_shanghai": dict(rejected),
        "inbox_applied_after_a_failed_attempt": dict(failed),
        "orphan_material_files_at_shanghai": len(stored - known),
    }


def check_status_order(pair: Pair, numbers: list[str], *, timeout: float = 180) -> dict:
    """上海 accepts and approves each case; 合肥 must show accept then approve, in that order."""
    started = time.monotonic()
    errors = decide(pair, numbers)
    assert not errors, f"上海 could not decide: {errors[:5]}"
    decided = time.monotonic()

    def all_approved():
        cases = pair.cases_at(HF, numbers)
        return all(cases.get(n, ("",))[0] == "approved" for n in numbers)

    wait_until(all_approved, timeout=timeout, what="every decided case approved at 合肥")
    arrived = time.monotonic()
    rows = pair.rows(
        HF,
        "SELECT c.number, e.action FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id "
        "WHERE c.number IN ({keys}) ORDER BY c.number, e.id",
        numbers,
    )
    timeline: dict[str, list[str]] = {}
    for number, action in rows:
        timeline.setdefault(number, []).append(action)
    wrong = {n: t for n, t in timeline.items() if t != ["submit", "accept", "approve"]}
    assert len(timeline) == len(numbers) and not wrong, (
        f"timelines at 合肥 out of order: {list(wrong.items())[:5]}"
    )
    # Every message of a case from 上海 (its statuses, and whatever else travels under the case
    # number, such as an issued certificate): seq 1, 2, … without a gap, all applied, in seq order.
    inbox = pair.rows(
        HF,
        "SELECT ordering_key, seq, type, state, applied_at FROM exchange_inboxmessage "
        "WHERE sender = ? AND ordering_key IN ({keys}) ORDER BY ordering_key, seq",
        numbers,
        (SH,),
    )
    by_case: dict[str, list[tuple]] = {}
    for key, seq, type_, state, applied_at in inbox:
        by_case.setdefault(key, []).append((seq, type_, state, parse_db_time(applied_at)))
    assert len(by_case) == len(numbers)
    for key, messages in by_case.items():
        assert [m[0] for m in messages] == list(range(1, len(messages) + 1)), (key, messages)
        assert all(m[2] == "applied" for m in messages), (key, messages)
        assert [m[1] for m in messages].count("case.status") == 2, (key, messages)
        times = [m[3] for m in messages]
        assert times == sorted(times), f"{key}: applied out of seq order: {messages}"
    return {
        "decided": len(numbers),
        "decide_seconds": round(decided - started, 1),
        "all_approved_at_hefei_after_seconds": round(arrived - decided, 1),
        "timelines_in_order": len(numbers),
    }


def latency_summary(pair: Pair, numbers: list[str]) -> dict:
    """Outbox created → delivered at 合肥, per transfer (seconds)."""
    rows = pair.rows(
        HF,
        "SELECT created_at, delivered_at FROM exchange_outboxmessage WHERE type = 'case.transfer' "
        "AND ordering_key IN ({keys})",
        numbers,
    )
    return percentiles([(parse_db_time(d) - parse_db_time(c)).total_seconds() for c, d in rows if c and d])


def test_kill_9_handling_node_while_1000_transfers_are_in_flight(pair: Pair):
    n = env_int("TONGBAN_SOAK_TRANSFERS", 1000)
    kill_at = env_float("TONGBAN_SOAK_KILL_AT", 0.3)
    down = env_float("TONGBAN_SOAK_DOWN_SECONDS", 5)
    since = time.time()
    baseline_cases = pair.cluster.query(SH, "SELECT COUNT(*) FROM cases_case WHERE receiving_node = ?", [HF])[
        0
    ][0]
    baseline_inbox = pair.received_transfers()

    creator = Creator(pair, prefix=f"soak-kill-{uuid.uuid4().hex[:8]}", count=n).start()
    wait_until(
        lambda: pair.received_transfers() - baseline_inbox >= n * kill_at,
        timeout=300,
        interval=0.1,
        what=f"{kill_at:.0%} of the transfers at 上海",
    )
    at_kill = {
        "created_at_hefei": len(creator.numbers),
        "received_at_shanghai": pair.received_transfers() - baseline_inbox,
        "applied_at_shanghai": pair.cluster.query(
            SH, "SELECT COUNT(*) FROM cases_case WHERE receiving_node = ?", [HF]
        )[0][0]
        - baseline_cases,
        "pending_in_hefei_outbox": pair.pending_transfers(),
        "pids_killed": pair.cluster.pids(SH),
    }
    killed = time.monotonic()
    pair.cluster.kill(SH)  # SIGKILL to the web (gunicorn master and worker) and worker process groups
    time.sleep(down)
    pair.cluster.restart(SH)
    pair.cluster.wait_healthy([SH], timeout=120)
    restarted = time.monotonic()

    creator.join(timeout=600)
    assert not creator.errors, f"合肥 refused applications: {creator.errors[:5]}"
    assert len(creator.numbers) == n
    created = time.monotonic()
    states = wait_delivered(pair, creator.numbers, timeout=300)
    delivered = time.monotonic()

    result = {
        "transfers": n,
        "creation_seconds": round(creator.seconds, 1),
        "creation_rate_per_second": round(n / creator.seconds, 1),
        "at_kill": at_kill,
        "down_seconds": round(restarted - killed, 1),
        "all_delivered_after_restart_seconds": round(delivered - restarted, 1),
        "all_delivered_after_last_created_seconds": round(delivered - created, 1),
        "delivery_latency_seconds": latency_summary(pair, creator.numbers),
    }
    result.update(check_exactly_once(pair, creator.numbers, baseline_cases=baseline_cases, since=since))
    assert states["delivered"] == n
    result["status_order"] = check_status_order(pair, sample(creator.numbers, "TONGBAN_SOAK_DECIDE", 200))
    record("kill-9-handling-node", result)


def test_handling_node_down_for_a_minute_under_load(pair: Pair):
    outage = env_float("TONGBAN_SOAK_OUTAGE_SECONDS", 60)
    mode = os.environ.get("TONGBAN_SOAK_OUTAGE_MODE") or "stop"
    rate = env_float("TONGBAN_SOAK_RATE", 5)
    lead = 5.0  # seconds of load before and after the outage
    since = time.time()
    baseline_cases = pair.cluster.query(SH, "SELECT COUNT(*) FROM cases_case WHERE receiving_node = ?", [HF])[
        0
    ][0]

    depth: list[tuple[float, int, int]] = []  # (seconds since start, pending, max attempts of pending)
    sampling = True

    def sampler():
        t0 = time.monotonic()
        while sampling:
            row = pair.cluster.query(
                HF,
                "SELECT COUNT(*), MAX(attempts) FROM exchange_outboxmessage WHERE recipient = ? "
                "AND type = 'case.transfer' AND state = 'pending'",
                [SH],
            )[0]
            depth.append((round(time.monotonic() - t0, 1), row[0], row[1] or 0))
            time.sleep(1)

    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    creator = Creator(pair, prefix=f"soak-outage-{uuid.uuid4().hex[:8]}", rate=rate, threads=4).start()
    time.sleep(lead)
    before = len(creator.numbers)
    down_at = time.monotonic()
    if mode == "stop":
        pair.cluster.pause(SH)
    else:
        pair.cluster.terminate(SH)
    time.sleep(outage)
    during = len(creator.numbers) - before
    if mode == "stop":
        pair.cluster.resume(SH)
    else:
        pair.cluster.restart(SH)
    back_at = time.monotonic()
    pending_at_return = pair.pending_transfers()
    time.sleep(lead)
    creator.stop.set()
    creator.join(timeout=120)
    assert not creator.errors, f"合肥 refused applications: {creator.errors[:5]}"
    numbers = creator.numbers
    states = wait_delivered(pair, numbers, timeout=600)
    drained = time.monotonic()
    sampling = False
    watcher.join(timeout=5)

    result = {
        "mode": {"stop": "SIGSTOP/SIGCONT", "term": "SIGTERM, restart"}[mode],
        "outage_seconds": round(back_at - down_at, 1),
        "applications": len(numbers),
        "created_during_outage": during,
        "rate_per_second": rate,
        "max_outbox_depth": max(d[1] for d in depth),
        "pending_when_shanghai_returned": pending_at_return,
        "max_attempts_of_a_message": states["max_attempts"],
        "messages_that_failed_at_least_once": states["failed_once_or_more"],
        "all_delivered_after_return_seconds": round(drained - back_at, 1),
        "delivery_latency_seconds": latency_summary(pair, numbers),
        "outbox_depth_every_10s": [d for d in depth if int(d[0]) % 10 == 0],
    }
    assert result["max_outbox_depth"] > 0 and states["max_attempts"] >= 1, (
        "the outage did not make messages wait"
    )
    result.update(check_exactly_once(pair, numbers, baseline_cases=baseline_cases, since=since))
    result["status_order"] = check_status_order(pair, sample(numbers, "TONGBAN_SOAK_DECIDE_OUTAGE", 50))
    record("handling-node-down-under-load", result)


def test_a_stopped_node_does_not_hold_up_deliveries_to_the_others(pair: Pair):
    run = uuid.uuid4().hex[:8]
    pair.cluster.pause(SH)
    try:
        first = pair.hefei.request(
            "POST", "/api/v1/cases", pair.application(f"hol-{run}-sh"), user="citizen", expect=201
        )
        time.sleep(1.0)  # 合肥's relay is now waiting for 上海's answer
        t = time.monotonic()
        second = pair.hefei.request(
            "POST",
            "/api/v1/cases",
            pair.application(f"hol-{run}-hs", pair.item_huangshan),
            user="citizen",
            expect=201,
        )
        wait_until(
            lambda: pair.cases_at(HS, [second["number"]]),
            timeout=120,
            interval=0.1,
            what="the transfer to 黄山",
        )
        latency = time.monotonic() - t
        # Read while 上海 is still stopped: 合肥's request to it has not ended yet (no attempt has
        # been counted), so 黄山's transfer did not wait for it to time out.
        to_shanghai = pair.cluster.query(
            HF,
            "SELECT state, attempts FROM exchange_outboxmessage WHERE type = 'case.transfer' "
            "AND ordering_key = ?",
            [first["number"]],
        )
    finally:
        pair.cluster.resume(SH)
    wait_until(lambda: pair.cases_at(SH, [first["number"]]), timeout=300, what="the transfer to 上海")
    record(
        "stopped-node-holds-up-others",
        {"transfer_to_huangshan_seconds": round(latency, 2), "transfer_to_shanghai_then": to_shanghai},
    )
    assert to_shanghai == [("pending", 0)], (
        f"合肥 → 黄山 arrived only after 合肥's request to the stopped 上海 had ended: {to_shanghai}"
    )
