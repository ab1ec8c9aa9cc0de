"""Reads of the exchange: the node's message log (发件箱、收件箱与拒收记录).

One list over what this node sent (outbox), received (inbox) and refused at its endpoint, newest
first, for operators looking for "what happened to case X" or "what did node Y send us today".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tongban.core.errors import InvalidInput
from tongban.exchange.models import InboxMessage, OutboxMessage, OutboxState, RejectedEnvelope

Direction = Literal["out", "in", "rejected"]
DIRECTIONS = ("out", "in", "rejected")
INVALID_DIRECTION = "INVALID_DIRECTION"


@dataclass(frozen=True)
class LogEntry:
    direction: str  # "out", "in" or "rejected"
    id: str  # message (= envelope) id; "" for a refused request that carried none
    node: str  # the other node: recipient (out), sender (in), claimed sender (rejected)
    type: str
    case: str  # the ordering key (a case number for case messages)
    seq: int
    state: str  # pending / delivered / parked, received / applied / failed, or "rejected"
    at: datetime  # created (out) or received (in, rejected)
    attempts: int
    code: str  # last error code, or the refusal's code
    error: str
    done_at: datetime | None = None  # delivered (out) or applied (in)


def message_log(
    *,
    case: str | None = None,
    node: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    direction: Direction | None = None,
    limit: int = 500,
) -> list[LogEntry]:
    """The message log, newest first, at most ``limit`` rows. Filters are exact (``case`` is the
    ordering key, ``node`` the other node's code); ``since`` is inclusive, ``until`` exclusive."""
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput(INVALID_DIRECTION, f"方向应为 {' / '.join(DIRECTIONS)} 之一。")
    entries: list[LogEntry] = []
    if direction in (None, "out"):
        entries += _outbox(case=case, node=node, type=type, since=since, until=until, limit=limit)
    if direction in (None, "in"):
        entries += _inbox(case=case, node=node, type=type, since=since, until=until, limit=limit)
    if direction in (None, "rejected"):
        entries += _rejected(case=case, node=node, type=type, since=since, until=until, limit=limit)
    entries.sort(key=lambda e: (e.at, e.id), reverse=True)
    return entries[:limit]


def _filtered(query, *, time_field: str, node_field: str, case, node, type, since, until):
    if case is not None:
        query = query.filter(ordering_key=case)
    if node is not None:
        query = query.filter(**{node_field: node})
    if type is not None:
        query = query.filter(type=type)
    if since is not None:
        query = query.filter(**{f"{time_field}__gte": since})
    if until is not None:
        query = query.filter(**{f"{time_field}__lt": until})
    return query.order_by(f"-{time_field}")


def _outbox(*, limit: int, **filters) -> list[LogEntry]:
    rows = _filtered(OutboxMessage.objects.all(), time_field="created_at", node_field="recipient", **filters)
    fields = ("id", "recipient", "type", "ordering_key", "seq", "state", "created_at", "attempts")
    rows = rows.values(*fields, "last_error_code", "last_error", "delivered_at")[:limit]
    return [
        LogEntry(
            direction="out",
            id=r["id"],
            node=r["recipient"],
            type=r["type"],
            case=r["ordering_key"],
            seq=r["seq"],
            state=r["state"],
            at=r["created_at"],
            attempts=r["attempts"],
            code=r["last_error_code"],
            error=r["last_error"],
            done_at=r["delivered_at"],
        )
        for r in rows
    ]


def _inbox(*, limit: int, **filters) -> list[LogEntry]:
    rows = _filtered(InboxMessage.objects.all(), time_field="received_at", node_field="sender", **filters)
    fields = ("id", "sender", "type", "ordering_key", "seq", "state", "received_at", "attempts")
    rows = rows.values(*fields, "error_code", "error", "applied_at")[:limit]
    return [
        LogEntry(
            direction="in",
            id=r["id"],
            node=r["sender"],
            type=r["type"],
            case=r["ordering_key"],
            seq=r["seq"],
            state=r["state"],
            at=r["received_at"],
            attempts=r["attempts"],
            code=r["error_code"],
            error=r["error"],
            done_at=r["applied_at"],
        )
        for r in rows
    ]


def _rejected(*, limit: int, **filters) -> list[LogEntry]:
    rows = _filtered(
        RejectedEnvelope.objects.all(), time_field="received_at", node_field="claimed_sender", **filters
    )
    rows = rows.values(
        "envelope_id", "claimed_sender", "type", "ordering_key", "received_at", "code", "reason", "headers"
    )[:limit]
    return [
        LogEntry(
            direction="rejected",
            id=r["envelope_id"],
            node=r["claimed_sender"],
            type=r["type"],
            case=r["ordering_key"],
            seq=r["headers"].get("seq", 0) if isinstance(r["headers"].get("seq"), int) else 0,
            state="rejected",
            at=r["received_at"],
            attempts=0,
            code=r["code"],
            error=r["reason"],
        )
        for r in rows
    ]


def parked_messages(*, recipient: str | None = None):
    """Parked outbox messages, oldest first (``tongban federation outbox --parked``)."""
    query = OutboxMessage.objects.filter(state=OutboxState.PARKED).defer("payload")
    if recipient is not None:
        query = query.filter(recipient=recipient)
    return query.order_by("created_at", "id")
