"""Applying received messages: exactly once, in seq order per (sender, ordering key), a gap waits, a
failing handler holds back only its own key, and its writes roll back with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.exchange import kit
from tongban.core import audit
from tongban.core.errors import InvalidInput
from tongban.core.models import AuditEntry
from tongban.exchange import handlers, inbox, services
from tongban.exchange.models import InboxCursor, InboxMessage, InboxState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def node(settings):
    settings.NODE_CODE = kit.SHANGHAI
    return kit.install_trust(settings)


@pytest.fixture
def applied():
    """Registers a handler for ``test.note`` that records (sender, key, seq) and writes an audit entry."""
    seen: list[tuple] = []

    def on_note(payload: dict, *, sender: str, envelope_id: str) -> None:
        if payload.get("fail"):
            audit.record(actor=None, action="test.note_half_done", data={"id": envelope_id})
            raise InvalidInput("NOTE_REFUSED", "这条消息无法处理。")
        audit.record(actor=None, action="test.note", data={"id": envelope_id})
        seen.append((sender, payload.get("key"), payload.get("seq")))

    with handlers.override("test.note", on_note):
        yield seen


def deliver(*envelopes: dict) -> list[dict]:
    answer = inbox.receive(list(envelopes), remote_addr="127.0.0.1")
    assert all(r["status"] in ("accepted", "duplicate") for r in answer), answer
    return answer


def note(key: str = "", seq: int = 0, sender: str = kit.HEFEI, **payload) -> dict:
    return kit.envelope(
        sender=sender,
        type="test.note",
        ordering_key=key,
        seq=seq,
        payload={"key": key, "seq": seq, **payload},
    )


def later(minutes: int = 10):
    return timezone.now() + timedelta(minutes=minutes)


def test_received_message_is_applied_once(applied):
    env = note()
    deliver(env)
    assert inbox.apply_pending() == 1
    assert inbox.apply_pending() == 0
    assert applied == [(kit.HEFEI, "", 0)]
    message = InboxMessage.objects.get()
    assert (message.state, message.attempts, message.error) == (InboxState.APPLIED, 1, "")
    assert message.applied_at is not None


def test_out_of_order_arrival_is_applied_in_seq_order(applied):
    first, second, third = note("C1", 1), note("C1", 2), note("C1", 3)
    deliver(third)
    deliver(second)
    assert inbox.apply_pending() == 0  # 1 has not arrived: 2 and 3 wait
    assert applied == []
    deliver(first)
    assert inbox.apply_pending() == 3
    assert applied == [(kit.HEFEI, "C1", 1), (kit.HEFEI, "C1", 2), (kit.HEFEI, "C1", 3)]
    assert InboxCursor.objects.get(sender=kit.HEFEI, ordering_key="C1").last_seq == 3


def test_sequences_are_per_sender_and_key(applied):
    deliver(note("C1", 1), note("C2", 1), note("C1", 1, sender=kit.HUANGSHAN), note("C2", 2))
    assert inbox.apply_pending() == 4
    assert sorted(applied) == sorted(
        [(kit.HEFEI, "C1", 1), (kit.HEFEI, "C2", 1), (kit.HUANGSHAN, "C1", 1), (kit.HEFEI, "C2", 2)]
    )


def test_failing_handler_blocks_only_its_own_key(applied):
    deliver(note("C1", 1, fail=True), note("C1", 2), note("C2", 1), note())
    assert inbox.apply_pending() == 2
    assert applied == [(kit.HEFEI, "C2", 1), (kit.HEFEI, "", 0)]
    failed = InboxMessage.objects.get(ordering_key="C1", seq=1)
    assert (failed.state, failed.error_code, failed.attempts) == (InboxState.FAILED, "NOTE_REFUSED", 1)
    assert failed.error == "这条消息无法处理。"
    assert failed.next_attempt_at > timezone.now() - timedelta(seconds=1)  # retried after a backoff
    assert InboxMessage.objects.get(ordering_key="C1", seq=2).state == InboxState.RECEIVED


def test_failed_message_is_retried_after_its_backoff_and_then_unblocks_its_successors(applied):
    deliver(note("C1", 1, fail=True), note("C1", 2))
    t0 = timezone.now()
    inbox.apply_pending(now=t0)
    failing = InboxMessage.objects.get(seq=1)
    assert failing.next_attempt_at > t0

    def fixed(payload, *, sender, envelope_id):
        applied.append((sender, payload["key"], payload["seq"]))

    with handlers.override("test.note", fixed):
        assert inbox.apply_pending(now=t0) == 0  # still backing off
        assert inbox.apply_pending(now=later()) == 2
    assert applied == [(kit.HEFEI, "C1", 1), (kit.HEFEI, "C1", 2)]
    failing.refresh_from_db()
    assert (failing.state, failing.attempts, failing.error_code) == (InboxState.APPLIED, 2, "")


def test_handler_writes_roll_back_with_a_failure_and_commit_with_the_applied_mark(applied):
    deliver(note("C1", 1, fail=True), note("C2", 1))
    inbox.apply_pending()
    assert not AuditEntry.objects.filter(action="test.note_half_done").exists()
    entry = AuditEntry.objects.get(action="test.note")
    assert (entry.channel, entry.address) == ("federation", kit.HEFEI)  # who caused it, in the audit log


def test_handler_exception_of_any_kind_is_recorded_not_raised():
    def broken(payload, *, sender, envelope_id):
        raise KeyError("number")

    with handlers.override("test.note", broken):
        deliver(note())
        assert inbox.apply_pending() == 0
    message = InboxMessage.objects.get()
    assert (message.state, message.error_code) == (InboxState.FAILED, inbox.HANDLER_FAILED)
    assert "KeyError" in message.error


def test_unknown_type_fails_with_a_clear_error_until_a_handler_exists():
    env = kit.envelope(type="catalogue.publish")
    deliver(env)
    with handlers.override("catalogue.publish", None):
        assert inbox.apply_pending() == 0
    message = InboxMessage.objects.get()
    assert (message.state, message.error_code) == (InboxState.FAILED, inbox.UNKNOWN_TYPE)
    assert "catalogue.publish" in message.error

    calls = []
    with handlers.override(
        "catalogue.publish", lambda payload, *, sender, envelope_id: calls.append(envelope_id)
    ):
        services.inbox_retry(message_id=env["id"], actor=None)  # an operator: "try again now"
        assert inbox.apply_pending() == 1
    assert calls == [env["id"]]
    assert AuditEntry.objects.filter(action="exchange.inbox_retry").count() == 1


def test_a_second_message_claiming_an_applied_seq_fails_visibly(applied):
    deliver(note("C1", 1))
    inbox.apply_pending()
    deliver(note("C1", 1))  # another id, same place in the sequence (a sender restored from backup)
    assert inbox.apply_pending() == 0
    clash = InboxMessage.objects.get(state=InboxState.FAILED)
    assert clash.error_code == inbox.SEQ_ALREADY_APPLIED
    assert applied == [(kit.HEFEI, "C1", 1)]


def test_limit_caps_how_many_are_applied(applied):
    deliver(*[note() for _ in range(5)])
    assert inbox.apply_pending(limit=2) == 2
    assert inbox.apply_pending() == 3


def test_inbox_retry_only_for_failed_messages(applied):
    from tongban.core.errors import Conflict, NotFound

    env = note()
    deliver(env)
    with pytest.raises(Conflict):
        services.inbox_retry(message_id=env["id"], actor=None)
    with pytest.raises(NotFound):
        services.inbox_retry(message_id="0193a1c2-7f3e-7b6a-9c1d-2e4f5a6b7c8d", actor=None)


def test_register_refuses_a_second_handler_for_a_type():
    def one(payload, *, sender, envelope_id): ...

    def two(payload, *, sender, envelope_id): ...

    with handlers.override("test.twice", None):
        handlers.register("test.twice")(one)
        handlers.register("test.twice")(one)  # again, the same: harmless
        with pytest.raises(ValueError, match="already has a handler"):
            handlers.register("test.twice")(two)
        handlers.register("test.twice", replace=True)(two)
        assert handlers.handler_for("test.twice") is two
