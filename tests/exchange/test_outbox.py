"""The transactional outbox: a message exists if and only if the business change committed; seq per
(recipient, ordering key) is handed out inside that transaction; the relay is poked after commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from tests.exchange import kit
from tongban.core import audit
from tongban.core.models import AuditEntry
from tongban.exchange import outbox, worker
from tongban.exchange.models import OutboxMessage, OutboxSequence, OutboxState


class Boom(Exception):
    pass


@pytest.fixture
def pokes(monkeypatch):
    calls = []
    monkeypatch.setattr(worker, "poke", lambda: calls.append("poke"))
    return calls


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(transaction.TransactionManagementError, match="inside the business transaction"):
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_message_rolls_back_with_the_business_transaction(pokes):
    with pytest.raises(Boom), transaction.atomic():
        audit.record(actor=None, action="case.accept")
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={"n": 1}, ordering_key="C1")
        raise Boom
    assert not OutboxMessage.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not OutboxSequence.objects.exists()
    assert pokes == []  # nothing committed: nobody is woken


@pytest.mark.django_db(transaction=True)
def test_message_commits_with_the_business_transaction_and_pokes_the_relay_after_commit(pokes):
    with transaction.atomic():
        audit.record(actor=None, action="case.accept")
        message = outbox.enqueue(
            recipient=kit.SHANGHAI, type="case.status", payload={"n": 1}, ordering_key="C1"
        )
        assert pokes == []  # not before the commit: the relay would not see the row yet
    assert pokes == ["poke"]
    stored = OutboxMessage.objects.get()
    assert stored.pk == message.pk
    assert (stored.state, stored.attempts, stored.seq, stored.payload) == (
        OutboxState.PENDING,
        0,
        1,
        {"n": 1},
    )
    assert stored.next_attempt_at <= timezone.now()  # due at once


@pytest.mark.django_db
def test_message_id_is_a_time_ordered_uuid7():
    with transaction.atomic():
        first = outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
        second = outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
    assert first.pk[14] == "7" and len(first.pk) == 36
    assert first.pk < second.pk


@pytest.mark.django_db
def test_seq_counts_per_recipient_and_ordering_key():
    def send(recipient, key):
        with transaction.atomic():
            return outbox.enqueue(recipient=recipient, type="case.status", payload={}, ordering_key=key).seq

    assert [send(kit.SHANGHAI, "A"), send(kit.SHANGHAI, "A"), send(kit.SHANGHAI, "A")] == [1, 2, 3]
    assert send(kit.SHANGHAI, "B") == 1
    assert send(kit.HUANGSHAN, "A") == 1
    assert send(kit.SHANGHAI, "A") == 4
    assert send(kit.SHANGHAI, "") == 0  # unordered


@pytest.mark.django_db
def test_an_ordered_message_is_queued_in_two_statements(django_assert_num_queries):
    """The seq is handed out by one upsert (first message of a case or not), then the row's INSERT."""
    for _ in range(2):
        with transaction.atomic(), django_assert_num_queries(2):
            outbox.enqueue(
                recipient=kit.SHANGHAI, type="case.status", payload={}, ordering_key="34010020261121000042X"
            )


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_gives_its_seq_back(pokes):
    with transaction.atomic():
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={}, ordering_key="A")
    with pytest.raises(Boom), transaction.atomic():
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={}, ordering_key="A")
        raise Boom
    with transaction.atomic():
        again = outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={}, ordering_key="A")
    assert again.seq == 2  # no gap in the case's sequence, which the recipient would wait on forever
    assert list(OutboxMessage.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"recipient": "31000"},
        {"recipient": 310000},
        {"type": "Case Transfer"},
        {"type": ""},
        {"payload": ["not", "a", "dict"]},
        {"ordering_key": "x" * 201},
        {"ordering_key": "bad\nkey"},
    ],
)
def test_enqueue_refuses_what_could_never_be_sealed(kwargs):
    args = {"recipient": kit.SHANGHAI, "type": "case.status", "payload": {}} | kwargs
    with pytest.raises(ValueError), transaction.atomic():
        outbox.enqueue(**args)


@pytest.mark.django_db(transaction=True)
def test_with_a_broker_the_poke_queues_the_relay_task_after_commit(settings, monkeypatch, pokes):
    from tongban.exchange import tasks

    queued = []
    monkeypatch.setattr(tasks.relay_outbox, "apply_async", lambda **kw: queued.append(kw))
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    with transaction.atomic():
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
        assert queued == []
    assert queued == [{"retry": False}]


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_does_not_undo_or_break_the_change(settings, monkeypatch, pokes):
    from tongban.exchange import tasks

    def down(**kw):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.relay_outbox, "apply_async", down)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    with transaction.atomic():
        outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
    assert OutboxMessage.objects.get().state == OutboxState.PENDING  # the periodic run delivers it


@pytest.mark.django_db(transaction=True)
def test_poke_wakes_a_waiting_worker_within_milliseconds(settings, tmp_path):
    import threading
    import time

    settings.VAR_DIR = tmp_path
    waker = worker.Waker()
    assert waker.listening
    try:
        woke = {}

        def wait():
            woke["poked"] = waker.wait(30)  # True only when poked, not when the 30 s run out

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.05)
        with transaction.atomic():
            outbox.enqueue(recipient=kit.SHANGHAI, type="case.status", payload={})
        thread.join(10)
        assert woke["poked"] is True
    finally:
        waker.close()
