"""The retention policy: finished messages lose their content after TONGBAN_EXCHANGE_KEEP_DAYS, their
log rows go after TONGBAN_EXCHANGE_KEEP_LOG_DAYS, refusals after TONGBAN_EXCHANGE_KEEP_REFUSED_DAYS;
unfinished ones are never touched. Real rows, the real message log, the real command and worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from tests.exchange import kit
from tongban.exchange import inbox, outbox, retention, selectors, worker
from tongban.exchange.models import (
    InboxMessage,
    InboxState,
    OutboxMessage,
    OutboxState,
    RejectedEnvelope,
)

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def policy(settings):
    settings.NODE_CODE = kit.SHANGHAI
    settings.EXCHANGE_KEEP_DAYS = 30
    settings.EXCHANGE_KEEP_LOG_DAYS = 1000
    settings.EXCHANGE_KEEP_REFUSED_DAYS = 90
    kit.install_trust(settings)
    return settings


def sent(state: str, *, ago: timedelta, key: str = "") -> OutboxMessage:
    with transaction.atomic():
        message = outbox.enqueue(
            recipient=kit.HEFEI, type="test.note", payload={"big": "x" * 100}, ordering_key=key
        )
    at = timezone.now() - ago
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=state,
        created_at=at - DAY,
        delivered_at=at if state == OutboxState.DELIVERED else None,
        parked_at=at if state == OutboxState.PARKED else None,
    )
    return OutboxMessage.objects.get(pk=message.pk)


def received(state: str, *, ago: timedelta) -> InboxMessage:
    [result] = inbox.receive([kit.envelope(payload={"big": "y" * 100})])
    at = timezone.now() - ago
    InboxMessage.objects.filter(pk=result["id"]).update(
        state=state, received_at=at - DAY, applied_at=at if state == InboxState.APPLIED else None
    )
    return InboxMessage.objects.get(pk=result["id"])


def refused(*, ago: timedelta) -> RejectedEnvelope:
    row = inbox.rejection(code="BAD_SIGNATURE", reason="test", item={"id": "x", "sender": kit.HEFEI})
    row.received_at = timezone.now() - ago
    row.save()
    return row


def test_finished_messages_lose_their_content_after_the_keep_days_and_stay_in_the_log(policy):
    old_out, new_out = sent(OutboxState.DELIVERED, ago=31 * DAY), sent(OutboxState.DELIVERED, ago=29 * DAY)
    old_in, new_in = received(InboxState.APPLIED, ago=31 * DAY), received(InboxState.APPLIED, ago=29 * DAY)
    report = retention.prune()
    assert (report.outbox_content, report.inbox_content, report.outbox_deleted, report.inbox_deleted) == (
        1,
        1,
        0,
        0,
    )
    pruned_out, pruned_in = OutboxMessage.objects.get(pk=old_out.pk), InboxMessage.objects.get(pk=old_in.pk)
    assert (pruned_out.payload, pruned_in.envelope) == ({}, {})
    assert pruned_out.pruned_at and pruned_in.pruned_at
    assert OutboxMessage.objects.get(pk=new_out.pk).payload == new_out.payload
    assert InboxMessage.objects.get(pk=new_in.pk).envelope == new_in.envelope
    assert InboxMessage.objects.get(pk=new_in.pk).pruned_at is None
    logged = {e.id for e in selectors.message_log(limit=100)}
    assert {old_out.pk, new_out.pk, old_in.pk, new_in.pk} <= logged
    assert not retention.prune().did_work  # done once


def test_unfinished_messages_are_never_pruned_however_old(policy):
    keep = [
        sent(OutboxState.PENDING, ago=5000 * DAY),
        sent(OutboxState.PARKED, ago=5000 * DAY),
    ]
    kept_in = [received(InboxState.RECEIVED, ago=5000 * DAY), received(InboxState.FAILED, ago=5000 * DAY)]
    assert not retention.prune().did_work
    assert all(OutboxMessage.objects.get(pk=m.pk).payload == m.payload for m in keep)
    assert all(InboxMessage.objects.get(pk=m.pk).envelope == m.envelope for m in kept_in)


def test_log_rows_and_refusals_are_deleted_after_their_own_periods(policy):
    gone_out, kept_out = (
        sent(OutboxState.DELIVERED, ago=1001 * DAY),
        sent(OutboxState.DELIVERED, ago=999 * DAY),
    )
    gone_in = received(InboxState.APPLIED, ago=1001 * DAY)
    gone_refusal, kept_refusal = refused(ago=91 * DAY), refused(ago=89 * DAY)
    report = retention.prune()
    assert (report.outbox_deleted, report.inbox_deleted, report.refused_deleted) == (1, 1, 1)
    assert not OutboxMessage.objects.filter(pk=gone_out.pk).exists()
    assert not InboxMessage.objects.filter(pk=gone_in.pk).exists()
    assert OutboxMessage.objects.get(pk=kept_out.pk).pruned_at is not None  # its content went earlier
    assert list(RejectedEnvelope.objects.values_list("pk", flat=True)) == [kept_refusal.pk]
    assert gone_refusal.pk not in {r.pk for r in RejectedEnvelope.objects.all()}


def test_a_setting_of_zero_keeps_that_kind_for_ever(policy):
    policy.EXCHANGE_KEEP_DAYS = policy.EXCHANGE_KEEP_LOG_DAYS = policy.EXCHANGE_KEEP_REFUSED_DAYS = 0
    message = sent(OutboxState.DELIVERED, ago=5000 * DAY)
    received(InboxState.APPLIED, ago=5000 * DAY)
    refused(ago=5000 * DAY)
    assert not retention.prune().did_work
    assert OutboxMessage.objects.get(pk=message.pk).payload == message.payload


def test_more_than_one_batch_is_pruned(policy, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    messages = [sent(OutboxState.DELIVERED, ago=31 * DAY) for _ in range(5)]
    assert retention.prune().outbox_content == 5
    assert {OutboxMessage.objects.get(pk=m.pk).payload.get("big") for m in messages} == {None}


def test_tongban_federation_prune_and_its_dry_run(policy, capsys):
    message = sent(OutboxState.DELIVERED, ago=31 * DAY)
    call_command("federation", "prune", "--dry-run")
    assert "将清除内容：发件 1 条" in capsys.readouterr().out
    assert OutboxMessage.objects.get(pk=message.pk).pruned_at is None
    call_command("federation", "prune")
    assert "已清除内容：发件 1 条" in capsys.readouterr().out
    assert OutboxMessage.objects.get(pk=message.pk).pruned_at is not None


def test_the_worker_prunes_every_maintenance_interval(policy, tmp_path):
    policy.VAR_DIR = tmp_path
    policy.MEDIA_ROOT = tmp_path / "media"
    policy.TRUST_LIST_URL = ""
    policy.EXCHANGE_MAINTENANCE_SECONDS = 3600
    message = sent(OutboxState.DELIVERED, ago=31 * DAY)
    w = worker.Worker()
    assert w.maintain_if_due() is False  # not in the first minute after start
    w._next_maintenance = 0
    assert w.maintain_if_due() is True
    assert OutboxMessage.objects.get(pk=message.pk).pruned_at is not None
    assert w.maintain_if_due() is False  # next one in an hour
