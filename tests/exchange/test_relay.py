"""The relay against a real HTTP endpoint (a live server on this database: this node receives as
上海 310000 while the relay sends as 合肥 340100): batches, per-case order, backoff while the endpoint
is down and delivery when it is back, parking and resending, replays after a lost acknowledgement,
and what each refusal does. Real keys, real signatures, real sockets."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from django.utils import timezone

from tests.exchange import kit
from tongban.core.errors import Conflict
from tongban.core.models import AuditEntry
from tongban.exchange import error_codes as codes
from tongban.exchange import handlers, inbox, outbox, relay, selectors, services
from tongban.exchange.models import (
    InboxMessage,
    InboxState,
    OutboxMessage,
    OutboxState,
    PeerBackoff,
    RejectedEnvelope,
)
from tongban.exchange.signing import Ed25519Signer
from tongban.exchange.transport import HttpTransport, Response, TransportError


class Recording:
    """A transport that passes requests on to another and remembers what they carried."""

    def __init__(self, inner):
        self.inner = inner
        self.requests: list[tuple[str, list[dict]]] = []

    def post_envelopes(self, *, endpoint: str, body: bytes) -> Response:
        self.requests.append((endpoint, json.loads(body)["envelopes"]))
        return self.inner.post_envelopes(endpoint=endpoint, body=body)

    def sent(self, index: int = -1) -> list[tuple[str, int]]:
        return [(e["ordering_key"], e["seq"]) for e in self.requests[index][1]]


@pytest.fixture
def http():
    transport = HttpTransport()
    yield transport
    transport.close()


@pytest.fixture
def node(settings, live_server):
    """This database as 上海 (the receiving node) behind the live server; the relay sends as 合肥."""
    settings.ROOT_URLCONF = "tests.exchange.kit"
    settings.NODE_CODE = kit.SHANGHAI
    settings.EXCHANGE_MAX_ATTEMPTS = 15
    return kit.install_trust(settings, endpoints={kit.SHANGHAI: live_server.url})


@pytest.fixture
def notes():
    seen = []
    with handlers.override("test.note", lambda payload, *, sender, envelope_id: seen.append(payload)):
        yield seen


def send(
    *, recipient: str = kit.SHANGHAI, key: str = "", type: str = "test.note", **payload
) -> OutboxMessage:
    with transaction.atomic():
        return outbox.enqueue(
            recipient=recipient, type=type, payload={"key": key, **payload}, ordering_key=key
        )


def deliver(transport, *, identity=None, **kwargs) -> relay.RelayReport:
    return relay.deliver_due(transport=transport, identity=identity or kit.hefei_identity(), **kwargs)


def live_port(live_server) -> int:
    return int(live_server.url.rsplit(":", 1)[1])


def states(*messages: OutboxMessage) -> list[str]:
    return [OutboxMessage.objects.get(pk=m.pk).state for m in messages]


# --- Delivery ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_batch_is_sent_in_one_request_per_recipient_and_marked_delivered(node, http, notes, settings):
    recorder = Recording(http)
    sent = [send(n=1), send(key="C1", n=2), send(key="C2", n=3)]
    elsewhere = send(recipient=kit.HUANGSHAN, n=4)  # its endpoint is down
    report = deliver(recorder)
    assert (report.claimed, report.delivered, report.retrying, report.parked) == (4, 3, 1, 0)
    assert report.requests == 2
    [envelopes] = [e for endpoint, e in recorder.requests if endpoint == node.endpoint_of(kit.SHANGHAI)]
    assert [e["id"] for e in envelopes] == [m.pk for m in sent]
    assert {e["sender"] for e in envelopes} == {kit.HEFEI}
    assert states(*sent) == [OutboxState.DELIVERED] * 3
    assert all(OutboxMessage.objects.get(pk=m.pk).delivered_at for m in sent)
    assert states(elsewhere) == [OutboxState.PENDING]
    # The receiving side (this same database) holds them, verified, keyed by the outbox ids.
    received = InboxMessage.objects.order_by("id")
    assert [(m.id, m.sender) for m in received] == [(m.pk, kit.HEFEI) for m in sent]
    assert inbox.apply_pending() == 3
    assert sorted(n["n"] for n in notes) == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_each_attempt_is_sealed_now_with_the_outbox_id_as_envelope_id(node, http):
    recorder = Recording(http)
    message = send()
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(days=2))
    report = deliver(recorder)  # created two days ago, but sealed now: not STALE at the receiver
    assert report.delivered == 1
    [envelope] = recorder.requests[0][1]
    assert envelope["id"] == message.pk
    assert envelope["created_at"] >= (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.django_db(transaction=True)
def test_messages_of_one_case_leave_one_at_a_time_in_seq_order(node, http, notes):
    recorder = Recording(http)
    c1 = [send(key="C1", step=i) for i in (1, 2, 3)]
    c2 = send(key="C2", step=1)
    deliver(recorder)
    assert sorted(recorder.sent()) == [("C1", 1), ("C2", 1)]  # not C1 #2 before #1 is delivered
    deliver(recorder)
    assert recorder.sent() == [("C1", 2)]
    deliver(recorder)
    assert recorder.sent() == [("C1", 3)]
    assert deliver(recorder).claimed == 0
    assert states(*c1, c2) == [OutboxState.DELIVERED] * 4
    inbox.apply_pending()
    assert [n["step"] for n in notes if n["key"] == "C1"] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_parked_message_holds_back_the_rest_of_its_case_only(node, http):
    first, second = send(key="C1"), send(key="C1")
    other = send(key="C2")
    OutboxMessage.objects.filter(pk=first.pk).update(state=OutboxState.PARKED)
    report = deliver(Recording(http))
    assert report.delivered == 1
    assert states(first, second, other) == [OutboxState.PARKED, OutboxState.PENDING, OutboxState.DELIVERED]


@pytest.mark.django_db(transaction=True)
def test_a_claimed_batch_is_not_claimed_again_by_another_relay(node):
    send(), send(key="C1")
    now = timezone.now()
    assert len(relay._claim(batch_size=10, now=now, token="a")) == 2
    assert relay._claim(batch_size=10, now=now, token="b") == []  # leased to the first relay


@pytest.mark.django_db(transaction=True)
def test_requests_stay_within_the_body_limit(node, http, settings):
    settings.EXCHANGE_MAX_BODY_BYTES = 3500  # two envelopes of about 1.3 kB per request, not three
    recorder = Recording(http)
    messages = [send(text="文" * 300) for _ in range(5)]
    report = deliver(recorder)
    assert report.delivered == 5
    assert [len(envelopes) for _, envelopes in recorder.requests] == [2, 2, 1]
    assert states(*messages) == [OutboxState.DELIVERED] * 5


@pytest.mark.django_db(transaction=True)
def test_a_recipient_with_a_smaller_limit_gets_the_batch_split_and_a_too_large_envelope_is_parked(node, http):
    class SmallLimit:
        requests = 0

        def post_envelopes(self, *, endpoint, body):
            SmallLimit.requests += 1
            if len(body) > 3000:
                return Response(413, b'{"code": "BODY_TOO_LARGE"}')
            return http.post_envelopes(endpoint=endpoint, body=body)

    small = [send(n=i) for i in range(3)]
    huge = send(text="x" * 5000)
    report = deliver(SmallLimit())
    assert states(*small) == [OutboxState.DELIVERED] * 3
    parked = OutboxMessage.objects.get(pk=huge.pk)
    assert (parked.state, parked.last_error_code, parked.attempts) == (
        OutboxState.PARKED,
        codes.BODY_TOO_LARGE,
        1,
    )
    assert (report.delivered, report.parked) == (3, 1)


# --- When the endpoint is down ----------------------------------------------------------------


class Highest(random.Random):
    """Full jitter at its ceiling: backoffs as long as they can be."""

    def uniform(self, a, b):
        return b


@pytest.mark.django_db(transaction=True)
def test_a_node_that_never_answers_does_not_hold_up_deliveries_to_the_others(
    node, http, settings, live_server, monkeypatch
):
    monkeypatch.setattr(relay, "random", Highest())
    with kit.Silent() as silent:
        kit.install_trust(
            settings, version=2, endpoints={kit.SHANGHAI: live_server.url, kit.HUANGSHAN: silent.url}
        )
        worker_relay = relay.Relay(transport=http, identity=kit.hefei_identity())
        try:
            stuck = send(recipient=kit.HUANGSHAN, key="C1")
            assert worker_relay.step().claimed == 1
            assert silent.connected.wait(10)  # the request is in flight and will not be answered
            later = send(recipient=kit.HUANGSHAN, key="C2")
            sent = [send(key="C3"), send(key="C4")]
            report = worker_relay.step()
            # 黄山 has a request in flight: only 上海's messages are claimed, and they go at once.
            assert (report.claimed, report.recipients) == (2, [kit.SHANGHAI])
            for _ in range(200):
                if states(*sent) == [OutboxState.DELIVERED] * 2:
                    break
                worker_relay.wait(timeout=0.05)
            assert states(*sent) == [OutboxState.DELIVERED] * 2
            assert worker_relay.in_flight == [kit.HUANGSHAN]  # still waiting for 黄山's answer
            assert states(stuck, later) == [OutboxState.PENDING] * 2
            assert OutboxMessage.objects.get(pk=stuck.pk).attempts == 0

            silent.hang_up()  # 黄山's request fails (as a timeout would end it)
            worker_relay.wait(timeout=30)
            failed = OutboxMessage.objects.get(pk=stuck.pk)
            assert (failed.attempts, failed.last_error_code) == (1, relay.UNREACHABLE)
            backoff = PeerBackoff.objects.get(recipient=kit.HUANGSHAN)
            assert backoff.failures == 1 and backoff.blocked_until == failed.next_attempt_at

            # Until its backoff ends 黄山 is left alone, even for a message that has not failed yet.
            assert worker_relay.step().claimed == 0
            assert worker_relay.in_flight == []
            assert OutboxMessage.objects.get(pk=later.pk).attempts == 0
        finally:
            worker_relay.close()
        # It answers again: backoff over, and what waited for it goes at once.
        kit.install_trust(
            settings, version=3, endpoints={kit.SHANGHAI: live_server.url, kit.HUANGSHAN: live_server.url}
        )
        settings.NODE_CODE = kit.HUANGSHAN
        report = deliver(http, now=backoff.blocked_until)
    assert report.delivered == 2
    assert states(stuck, later) == [OutboxState.DELIVERED] * 2
    assert not PeerBackoff.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_requests_to_different_recipients_are_in_flight_together(node, http, settings, live_server):
    """deliver_due (Celery, ``tongban worker --once``) sends to every recipient at once and records
    each answer as it comes, so one that hangs delays none of the others' outcomes."""
    with kit.Silent() as silent:
        kit.install_trust(
            settings, version=2, endpoints={kit.SHANGHAI: live_server.url, kit.HUANGSHAN: silent.url}
        )
        stuck, quick = send(recipient=kit.HUANGSHAN), send()
        recorded_while_waiting = []

        def release():
            # 黄山's request ends only once 上海's outcome is recorded (or after ten seconds).
            from django.db import connection, connections

            if connection.vendor == "sqlite":
                # The test database is in memory with a shared cache, where a reader holds a table
                # lock that makes the relay's writes fail at once instead of waiting; a file
                # database (what a node runs on) waits. Read without those locks here.
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA read_uncommitted = 1")
            silent.connected.wait(10)
            for _ in range(200):
                if states(quick) == [OutboxState.DELIVERED]:
                    recorded_while_waiting.append(states(stuck))
                    break
                threading.Event().wait(0.05)
            silent.hang_up()
            connections.close_all()

        releaser = threading.Thread(target=release)
        releaser.start()
        try:
            report = deliver(http)
        finally:
            releaser.join(30)
    assert recorded_while_waiting == [[OutboxState.PENDING]]
    assert (report.claimed, report.delivered, report.retrying, report.requests) == (2, 1, 1, 2)
    assert states(quick, stuck) == [OutboxState.DELIVERED, OutboxState.PENDING]


@pytest.mark.django_db(transaction=True)
def test_endpoint_down_backs_off_then_delivery_succeeds_when_it_is_back(node, http, settings, live_server):
    port = kit.closed_port()
    kit.install_trust(settings, version=2, endpoints={kit.SHANGHAI: f"http://127.0.0.1:{port}"})
    message = send(key="C1")
    t0 = timezone.now()

    report = deliver(http, now=t0)
    assert (report.delivered, report.retrying) == (0, 1)
    first = OutboxMessage.objects.get(pk=message.pk)
    assert (first.state, first.attempts, first.last_error_code) == (OutboxState.PENDING, 1, relay.UNREACHABLE)
    assert f"127.0.0.1:{port}" in first.last_error
    assert t0 <= first.next_attempt_at <= t0 + timedelta(seconds=1)  # base 1 s, full jitter
    assert deliver(http, now=t0).claimed == 0  # backing off, not hammering

    t1 = first.next_attempt_at
    assert deliver(http, now=t1).retrying == 1
    second = OutboxMessage.objects.get(pk=message.pk)
    assert second.attempts == 2
    assert t1 <= second.next_attempt_at <= t1 + timedelta(seconds=2)

    with kit.Forwarder(port, upstream=live_port(live_server)):  # the node is back, at its listed address
        report = deliver(http, now=second.next_attempt_at)
    assert report.delivered == 1
    delivered = OutboxMessage.objects.get(pk=message.pk)
    assert (delivered.state, delivered.attempts, delivered.last_error) == (OutboxState.DELIVERED, 2, "")
    assert InboxMessage.objects.filter(pk=message.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_when_a_recipient_answers_again_its_backed_off_messages_are_due_at_once(
    node, http, settings, live_server
):
    port = kit.closed_port()
    kit.install_trust(settings, version=2, endpoints={kit.SHANGHAI: f"http://127.0.0.1:{port}"})
    early, late = send(key="C1"), send(key="C2")
    t0 = timezone.now()
    assert deliver(http, now=t0).retrying == 2
    # one waits briefly, the other has backed off for minutes during a long outage
    OutboxMessage.objects.filter(pk=early.pk).update(next_attempt_at=t0 + timedelta(seconds=1))
    OutboxMessage.objects.filter(pk=late.pk).update(next_attempt_at=t0 + timedelta(minutes=5))
    t1 = t0 + timedelta(seconds=1)
    with kit.Forwarder(port, upstream=live_port(live_server)):
        assert deliver(http, now=t1).delivered == 1  # the early one, and the recipient is back
        assert deliver(http, now=t1).delivered == 1  # the late one no longer waits its five minutes
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DELIVERED}


@pytest.mark.django_db(transaction=True)
def test_message_is_parked_after_max_attempts_and_resend_delivers_it(node, http, settings, live_server):
    settings.EXCHANGE_MAX_ATTEMPTS = 3
    port = kit.closed_port()
    kit.install_trust(settings, version=2, endpoints={kit.SHANGHAI: f"http://127.0.0.1:{port}"})
    message, follower = send(key="C1"), send(key="C1")
    moment = timezone.now()
    for _ in range(3):
        deliver(http, now=moment)
        moment += timedelta(minutes=10)
    parked = OutboxMessage.objects.get(pk=message.pk)
    assert (parked.state, parked.attempts, parked.last_error_code) == (
        OutboxState.PARKED,
        3,
        relay.UNREACHABLE,
    )
    assert parked.parked_at is not None
    assert deliver(http, now=moment + timedelta(days=1)).claimed == 0  # never dropped, never retried alone
    assert [e.state for e in selectors.message_log(case="C1", direction="out")] == ["pending", "parked"]
    assert list(selectors.parked_messages()) == [parked]

    services.outbox_resend(message_id=message.pk, actor=None)
    resent = OutboxMessage.objects.get(pk=message.pk)
    assert (resent.state, resent.attempts, resent.parked_at) == (OutboxState.PENDING, 0, None)
    entry = AuditEntry.objects.get(action="exchange.outbox_resend")
    assert (entry.target_id, entry.data["attempts"], entry.data["last_error_code"]) == (
        message.pk,
        3,
        "UNREACHABLE",
    )

    with kit.Forwarder(port, upstream=live_port(live_server)):
        deliver(http)
        deliver(http)
    assert states(message, follower) == [OutboxState.DELIVERED, OutboxState.DELIVERED]


@pytest.mark.django_db(transaction=True)
def test_resend_all_parked_for_one_recipient(node, django_user_model):
    to_shanghai = [send(), send()]
    to_huangshan = send(recipient=kit.HUANGSHAN)
    OutboxMessage.objects.update(state=OutboxState.PARKED, attempts=15)
    clerk = django_user_model.objects.create_user(username="operator", password="x-Strong-pass-1")
    from tongban.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.outbox_resend_all_parked(recipient=kit.SHANGHAI, actor=clerk)
    admin = django_user_model.objects.create_superuser(username="root", password="x-Strong-pass-1")
    assert services.outbox_resend_all_parked(recipient=kit.SHANGHAI, actor=admin) == 2
    assert states(*to_shanghai, to_huangshan) == [
        OutboxState.PENDING,
        OutboxState.PENDING,
        OutboxState.PARKED,
    ]
    assert AuditEntry.objects.filter(action="exchange.outbox_resend", actor_label="root").count() == 2
    with pytest.raises(Conflict):
        services.outbox_resend(message_id=to_shanghai[0].pk, actor=None)  # not parked any more


def test_backoff_is_exponential_with_full_jitter_and_capped():
    class Highest(random.Random):
        def uniform(self, a, b):
            return b

    ceilings = [relay.retry_delay(n, rng=Highest()).total_seconds() for n in range(1, 13)]
    assert ceilings == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    rng = random.Random(7)
    samples = [relay.retry_delay(4, rng=rng).total_seconds() for _ in range(200)]
    assert 0 <= min(samples) < 1 and 7 < max(samples) <= 8  # anywhere from 0 to the ceiling


# --- Answers ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_retry_after_a_lost_acknowledgement_is_acknowledged_as_duplicate_and_applied_once(node, http, notes):
    class AckLost:
        def post_envelopes(self, *, endpoint, body):
            http.post_envelopes(endpoint=endpoint, body=body)  # it arrives…
            raise TransportError("connection reset before the answer")  # …but the answer does not

    message = send(n=1)
    assert deliver(AckLost()).retrying == 1
    assert InboxMessage.objects.filter(pk=message.pk).exists()
    recorder = Recording(http)
    report = deliver(recorder, now=timezone.now() + timedelta(minutes=1))
    assert report.delivered == 1
    assert states(message) == [OutboxState.DELIVERED]
    assert InboxMessage.objects.count() == 1
    assert inbox.apply_pending() == 1
    assert notes == [{"key": "", "n": 1}]


@pytest.mark.django_db(transaction=True)
def test_refusal_that_no_retry_can_fix_parks_at_once(node, http):
    impostor = Ed25519Signer(Ed25519PrivateKey.generate(), kit.KEYS[kit.HEFEI].kid)
    message = send()
    report = deliver(http, identity=kit.hefei_identity(impostor))
    assert report.parked == 1
    parked = OutboxMessage.objects.get(pk=message.pk)
    assert (parked.state, parked.attempts, parked.last_error_code) == (
        OutboxState.PARKED,
        1,
        codes.BAD_SIGNATURE,
    )
    assert RejectedEnvelope.objects.get().code == codes.BAD_SIGNATURE  # the receiver's side of it


@pytest.mark.django_db(transaction=True)
def test_refusal_for_a_key_the_recipient_does_not_know_yet_is_retried(node, http, settings, live_server):
    rotated = Ed25519Signer(Ed25519PrivateKey.generate(), "340100-2027")
    message = send()
    report = deliver(http, identity=kit.hefei_identity(rotated))
    assert report.retrying == 1
    pending = OutboxMessage.objects.get(pk=message.pk)
    assert (pending.state, pending.last_error_code) == (OutboxState.PENDING, codes.UNKNOWN_KEY)
    # The anchor publishes the new key; the recipient's next list has it; the retry goes through.
    kit.install_trust(
        settings,
        version=2,
        endpoints={kit.SHANGHAI: live_server.url},
        keys={kit.HEFEI: [kit.key_entry(kit.KEYS[kit.HEFEI]), kit.key_entry(rotated)]},
    )
    assert (
        deliver(
            http, identity=kit.hefei_identity(rotated), now=timezone.now() + timedelta(minutes=1)
        ).delivered
        == 1
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "answer",
    [
        Response(500, b"oops"),
        Response(404, b"not here"),
        Response(200, b"<html>"),
        Response(200, b'{"results": []}'),
    ],
    ids=["5xx", "4xx", "not-json", "no-result"],
)
def test_an_error_or_unusable_answer_is_retried(node, answer):
    class Fixed:
        def post_envelopes(self, *, endpoint, body):
            return answer

    message = send()
    assert deliver(Fixed()).retrying == 1
    pending = OutboxMessage.objects.get(pk=message.pk)
    assert (pending.state, pending.attempts) == (OutboxState.PENDING, 1)
    assert pending.last_error_code in (relay.HTTP_ERROR, relay.BAD_ANSWER, relay.NO_ANSWER)


@pytest.mark.django_db(transaction=True)
def test_unknown_recipient_is_retried_and_a_removed_one_is_parked(node, settings, live_server):
    kit.install_trust(
        settings, version=2, endpoints={kit.SHANGHAI: live_server.url}, removed=(kit.HUANGSHAN,)
    )
    unknown = send(recipient=kit.NANJING)
    removed = send(recipient=kit.HUANGSHAN)
    report = deliver(HttpTransport())
    assert (report.retrying, report.parked, report.requests) == (1, 1, 0)
    assert OutboxMessage.objects.get(pk=unknown.pk).last_error_code == codes.UNKNOWN_RECIPIENT
    parked = OutboxMessage.objects.get(pk=removed.pk)
    assert (parked.state, parked.last_error_code) == (OutboxState.PARKED, codes.RECIPIENT_REMOVED)


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_without_a_usable_trust_list(node):
    from tongban.exchange.trust_models import TrustListState

    message = send()
    TrustListState.objects.all().delete()
    report = deliver(HttpTransport())
    assert (report.claimed, report.error_code) == (0, codes.TRUST_LIST_MISSING)
    untouched = OutboxMessage.objects.get(pk=message.pk)
    assert (untouched.state, untouched.attempts) == (OutboxState.PENDING, 0)


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_relays_skip_messages_another_relay_is_claiming(node, http):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises claims with IMMEDIATE transactions")
    from django.db import connections

    locked, held, release = send(), threading.Event(), threading.Event()
    free = send()

    def other_relay():
        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update().filter(pk=locked.pk))
            held.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_relay)
    thread.start()
    try:
        assert held.wait(10)
        report = deliver(http)  # does not wait for the lock, and does not take the locked row
    finally:
        release.set()
        thread.join(10)
    assert report.claimed == 1
    assert states(locked, free) == [OutboxState.PENDING, OutboxState.DELIVERED]


# --- The message log --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_message_log_lists_outbox_inbox_and_refusals_with_filters(node, http, client):
    sent = send(key="C1")
    send(key="C2", type="case.status")
    send(recipient=kit.HUANGSHAN, key="C1")
    deliver(http)
    refused = kit.envelope(sender=kit.HUANGSHAN, ordering_key="C1", seq=9)
    refused["payload"] = {"tampered": True}
    client.post("/federation/v1/envelopes", data=kit.body(refused), content_type="application/json")

    log = selectors.message_log()
    assert sorted((e.direction, e.node, e.case) for e in log) == [
        ("in", kit.HEFEI, "C1"),
        ("in", kit.HEFEI, "C2"),
        ("out", kit.SHANGHAI, "C1"),
        ("out", kit.SHANGHAI, "C2"),
        ("out", kit.HUANGSHAN, "C1"),
        ("rejected", kit.HUANGSHAN, "C1"),
    ]
    assert [e.at for e in log] == sorted((e.at for e in log), reverse=True)

    case = selectors.message_log(case="C1")
    assert {(e.direction, e.node) for e in case} == {
        ("out", kit.SHANGHAI),
        ("out", kit.HUANGSHAN),
        ("in", kit.HEFEI),
        ("rejected", kit.HUANGSHAN),
    }
    assert [e.id for e in selectors.message_log(case="C1", direction="in")] == [sent.pk]
    [rejection] = selectors.message_log(direction="rejected")
    assert (rejection.code, rejection.seq, rejection.id) == (codes.BAD_SIGNATURE, 9, refused["id"])
    assert {e.node for e in selectors.message_log(node=kit.HUANGSHAN)} == {kit.HUANGSHAN}
    assert {e.type for e in selectors.message_log(type="case.status")} == {"case.status"}
    assert [e.state for e in selectors.message_log(node=kit.SHANGHAI)] == ["delivered", "delivered"]

    everything = selectors.message_log()
    middle = sorted(e.at for e in everything)[2]
    assert all(e.at >= middle for e in selectors.message_log(since=middle))
    assert all(e.at < middle for e in selectors.message_log(until=middle))
    assert len(selectors.message_log(since=middle)) + len(selectors.message_log(until=middle)) == len(
        everything
    )
    assert len(selectors.message_log(limit=2)) == 2
    with pytest.raises(Exception, match="方向"):
        selectors.message_log(direction="sideways")
    assert InboxMessage.objects.filter(state=InboxState.RECEIVED).count() == 2


# --- The operators' commands (tongban federation outbox / resend / messages) -------------------


class Console:
    def __init__(self):
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)


def run(arguments, handle, *argv) -> list[str]:
    import argparse

    parser = argparse.ArgumentParser()
    arguments(parser)
    command = type("Command", (), {"stdout": Console()})()
    handle(command, vars(parser.parse_args(list(argv))))
    return command.stdout.lines


@pytest.mark.django_db(transaction=True)
def test_operators_list_parked_messages_and_resend_them_from_the_command_line(node):
    from django.core.management.base import CommandError

    parked, other = send(key="C1"), send(key="C2")
    OutboxMessage.objects.filter(pk__in=[parked.pk, other.pk]).update(
        state=OutboxState.PARKED, last_error="UNREACHABLE: refused"
    )
    listing = run(outbox.outbox_arguments, outbox.outbox_command, "--parked")
    assert parked.pk in listing[0] and "UNREACHABLE" in listing[0]
    assert listing[-1].startswith("已搁置 2 条")
    assert any(
        "C1" in line for line in run(outbox.messages_arguments, outbox.messages_command, "--case", "C1")
    )

    assert run(outbox.resend_arguments, outbox.resend_command, parked.pk) == ["已重新发送 1 条消息。"]
    assert states(parked, other) == [OutboxState.PENDING, OutboxState.PARKED]
    assert run(outbox.resend_arguments, outbox.resend_command, "--all") == ["已重新发送 1 条消息。"]
    with pytest.raises(CommandError):
        run(outbox.resend_arguments, outbox.resend_command)
    with pytest.raises(CommandError):
        run(outbox.messages_arguments, outbox.messages_command, "--since", "yesterday")


@pytest.mark.django_db(transaction=True)
def test_admin_lists_are_read_only_and_resend_goes_through_the_service(node, admin_client, client):
    parked, pending = send(key="C1"), send(key="C2")
    OutboxMessage.objects.filter(pk=parked.pk).update(state=OutboxState.PARKED)
    client.post("/federation/v1/envelopes", data=b"{broken", content_type="application/json")
    inbox.receive([kit.envelope()])
    for model in ("outboxmessage", "inboxmessage", "rejectedenvelope"):
        listing = admin_client.get(f"/admin/exchange/{model}/")
        assert listing.status_code == 200, model
        assert admin_client.get(f"/admin/exchange/{model}/add/").status_code == 403
    detail = admin_client.get(f"/admin/exchange/outboxmessage/{parked.pk}/change/")
    assert detail.status_code == 200
    response = admin_client.post(
        "/admin/exchange/outboxmessage/",
        {"action": "resend", "_selected_action": [parked.pk, pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert states(parked, pending) == [OutboxState.PENDING, OutboxState.PENDING]
    assert AuditEntry.objects.filter(action="exchange.outbox_resend", target_id=parked.pk).count() == 1
