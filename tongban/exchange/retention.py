"""How long the exchange keeps what it sent, received and refused (docs/exchange.md, "Retention").

Three steps, each in batches of :data:`BATCH` rows per statement so no run holds locks for long:

1. **Content** — ``TONGBAN_EXCHANGE_KEEP_DAYS`` (30) days after a message was delivered (outbox) or
   applied (inbox), its payload / envelope is dropped and ``pruned_at`` set. The row stays: it is the
   message log (who, what type, which case and seq, when, in which state) and, in the inbox, what
   recognises a replay of the same envelope id. The content is the bulk of the tables (a transfer
   carries its materials); its effect is in the business tables and the audit log.
2. **Log** — ``TONGBAN_EXCHANGE_KEEP_LOG_DAYS`` (3 years) after delivery / application the row
   itself is deleted.
3. **Refusals** — refused envelopes (headers only) are deleted ``TONGBAN_EXCHANGE_KEEP_REFUSED_DAYS``
   (90) days after they arrived.

Never pruned: pending and parked outbox messages, received and failed inbox messages (they are not
finished), the per-case counters (``OutboxSequence``, ``InboxCursor``: small, and what keeps a late
envelope of an old case from being applied out of order). A setting of 0 keeps that kind for ever.

Run by the worker every ``TONGBAN_EXCHANGE_MAINTENANCE_SECONDS`` (``maintenance.py``), by the Celery
task ``tongban.exchange.maintain`` and by ``tongban federation prune``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tongban.exchange.conf import setting
from tongban.exchange.models import InboxMessage, InboxState, OutboxMessage, OutboxState, RejectedEnvelope

logger = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class PruneReport:
    outbox_content: int = 0
    inbox_content: int = 0
    outbox_deleted: int = 0
    inbox_deleted: int = 0
    refused_deleted: int = 0

    @property
    def did_work(self) -> bool:
        return any(vars(self).values())


def _in_batches(query, action) -> int:
    """Applies ``action`` (a function of a queryset) to ``query``'s rows, BATCH at a time."""
    done = 0
    while True:
        ids = list(query.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        with transaction.atomic():
            done += action(query.model.objects.filter(pk__in=ids))
        if len(ids) < BATCH:
            return done


def _delete(query) -> int:
    return query.delete()[0]


def prune(*, now: datetime | None = None) -> PruneReport:
    """Applies the retention policy once (see the module's description); returns what it did."""
    now = now or timezone.now()
    report = PruneReport()
    keep = setting("EXCHANGE_KEEP_DAYS")
    keep_log = setting("EXCHANGE_KEEP_LOG_DAYS")
    keep_refused = setting("EXCHANGE_KEEP_REFUSED_DAYS")

    if keep_log > 0:
        cutoff = now - timedelta(days=keep_log)
        report.outbox_deleted = _in_batches(
            OutboxMessage.objects.filter(state=OutboxState.DELIVERED, delivered_at__lt=cutoff), _delete
        )
        report.inbox_deleted = _in_batches(
            InboxMessage.objects.filter(state=InboxState.APPLIED, applied_at__lt=cutoff), _delete
        )
    if keep > 0:
        cutoff = now - timedelta(days=keep)
        report.outbox_content = _in_batches(
            OutboxMessage.objects.filter(
                state=OutboxState.DELIVERED, delivered_at__lt=cutoff, pruned_at__isnull=True
            ),
            lambda rows: rows.update(payload={}, pruned_at=now),
        )
        report.inbox_content = _in_batches(
            InboxMessage.objects.filter(
                state=InboxState.APPLIED, applied_at__lt=cutoff, pruned_at__isnull=True
            ),
            lambda rows: rows.update(envelope={}, pruned_at=now),
        )
    if keep_refused > 0:
        report.refused_deleted = _in_batches(
            RejectedEnvelope.objects.filter(received_at__lt=now - timedelta(days=keep_refused)), _delete
        )
    if report.did_work:
        logger.info("retention: %s", report)
    return report


def prune_arguments(parser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="只统计将清理多少，不做改动")


def prune_command(command, options: dict) -> None:
    if options.get("dry_run"):
        with transaction.atomic():
            report = prune()
            transaction.set_rollback(True)
        prefix = "（试运行，未改动）将"
    else:
        report = prune()
        prefix = "已"
    command.stdout.write(
        f"{prefix}清除内容：发件 {report.outbox_content} 条、收件 {report.inbox_content} 条；"
        f"删除记录：发件 {report.outbox_deleted} 条、收件 {report.inbox_deleted} 条、拒收 {report.refused_deleted} 条。"
    )
