"""The inbox: envelopes are stored on arrival (:func:`receive`) and applied later, exactly once and in
order (:func:`apply_pending`).

Receiving (called by the endpoint, ``receiver.py``): each envelope is read strictly, verified against
this node's trust list, then inserted with its id as primary key, all in one transaction that
commits before the answer is sent, so an acknowledged envelope is never lost. An id already stored
is answered ``duplicate`` and not stored or applied again. A refusal changes nothing but a
:class:`RejectedEnvelope` row and a log line with its code.

Applying: a message is applied by the handler registered for its type (``handlers.register``),
inside the transaction that marks it applied and advances its ordering key's cursor, so the effect
happens exactly once. Messages of one (sender, ordering key) are applied strictly in ``seq`` order:
seq n waits until n-1 is applied, whether n-1 has not arrived yet or failed. A handler that raises
marks its message failed with the error; it is retried after a backoff (capped at 5 minutes, without
limit: operators see it in the admin and the message log) and holds back only its own key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from tongban.core.context import Origin, acting_from
from tongban.core.errors import TongbanError
from tongban.exchange import handlers
from tongban.exchange.envelope import FIELDS, EnvelopeError, envelope_from_dict, envelope_verify
from tongban.exchange.models import (
    CODE_MAX,
    ID_MAX,
    KEY_MAX,
    TYPE_MAX,
    InboxCursor,
    InboxMessage,
    InboxState,
    RejectedEnvelope,
)
from tongban.exchange.relay import ERROR_MAX, retry_delay
from tongban.exchange.trust import TrustListError, current_trust_list

logger = logging.getLogger(__name__)

# Why a received message could not be applied (InboxMessage.error_code).
UNKNOWN_TYPE = "UNKNOWN_TYPE"  # no handler is registered for the message's type
HANDLER_FAILED = "HANDLER_FAILED"  # the handler raised something other than a TongbanError
SEQ_ALREADY_APPLIED = "SEQ_ALREADY_APPLIED"  # another message with this (sender, key, seq) was applied
# Why an envelope was refused without being judged (the endpoint's own failure, retried by the sender).
RECEIVER_ERROR = "RECEIVER_ERROR"
# Refused on arrival: the id is stored already, from another sender.
ID_CONFLICT = "ID_CONFLICT"

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
_APPLY_CHUNK = 100
# Messages applied per commit.
_COMMIT_EVERY = 50


# --- Receiving ------------------------------------------------------------------------------------


def _claimed(item: Any, name: str, size: int) -> str:
    value = item.get(name) if isinstance(item, dict) else None
    return value[:size] if isinstance(value, str) else ""


def _headers(item: Any) -> dict:
    """The envelope's fields but the payload, as received, cut short: for investigating a refusal."""
    if not isinstance(item, dict):
        return {"kind": type(item).__name__}
    out = {}
    for name in FIELDS:
        if name == "payload" or name not in item:
            continue
        value = item[name]
        out[name] = (
            value[:256]
            if isinstance(value, str)
            else value
            if isinstance(value, int | bool)
            else repr(value)[:64]
        )
    extra = [str(k)[:64] for k in item if k not in FIELDS][:10]
    if extra:
        out["extra_fields"] = extra
    return out


def rejection(
    *, code: str, reason: str, item: Any = None, remote_addr: str = "", envelope_id: str = ""
) -> RejectedEnvelope:
    """An unsaved :class:`RejectedEnvelope` for a refused envelope (or a refused request: no ``item``)."""
    return RejectedEnvelope(
        claimed_sender=_claimed(item, "sender", CODE_MAX),
        envelope_id=envelope_id or _claimed(item, "id", ID_MAX),
        type=_claimed(item, "type", TYPE_MAX),
        ordering_key=_claimed(item, "ordering_key", KEY_MAX),
        code=code[:64],
        reason=reason[:ERROR_MAX],
        remote_addr=remote_addr[:64],
        headers=_headers(item) if item is not None else {},
    )


def record_rejections(rows: list[RejectedEnvelope]) -> None:
    """Stores refusals and logs each with its code."""
    for row in rows:
        logger.warning(
            "envelope refused: %s (id %s, claimed sender %s, from %s): %s",
            row.code,
            row.envelope_id or "-",
            row.claimed_sender or "-",
            row.remote_addr or "-",
            row.reason,
        )
    RejectedEnvelope.objects.bulk_create(rows)


@dataclass(frozen=True)
class _Verified:
    index: int
    envelope: Any
    item: dict


def receive(items: list[Any], *, remote_addr: str = "", now: datetime | None = None) -> list[dict]:
    """Verifies and stores a batch of envelopes (as parsed from the request), returns one result per
    item, in order: ``{"id", "status": "accepted" | "duplicate" | "rejected", "code", "reason"}``.

    Returns only once everything is committed: an ``accepted`` envelope is durably in the inbox.
    Database failures propagate (the endpoint answers 503 and the sender retries).
    """
    me = settings.NODE_CODE
    results: list[dict | None] = [None] * len(items)
    refused: list[RejectedEnvelope] = []
    verified: list[_Verified] = []
    try:
        trust, trust_error = current_trust_list(), None
    except TrustListError as exc:  # TRUST_LIST_MISSING / TRUST_LIST_EXPIRED: nothing can be judged
        trust, trust_error = None, exc

    def refuse(index: int, item: Any, code: str, reason: str, envelope_id: str = "") -> None:
        row = rejection(code=code, reason=reason, item=item, remote_addr=remote_addr, envelope_id=envelope_id)
        refused.append(row)
        results[index] = {"id": row.envelope_id or None, "status": REJECTED, "code": code, "reason": reason}

    for index, item in enumerate(items):
        try:
            envelope = envelope_from_dict(item)
            if trust_error is not None:
                raise trust_error
            envelope_verify(envelope, trust=trust, me=me, now=now)
        except (EnvelopeError, TrustListError) as exc:
            refuse(index, item, exc.code, exc.message)
            continue
        except Exception:  # a bug in the checks must not become a 5xx, nor a permanent refusal
            logger.exception("checking an envelope failed unexpectedly")
            refuse(index, item, RECEIVER_ERROR, "接收节点检查信封时出错，请稍后重发。")
            continue
        verified.append(_Verified(index, envelope, item))

    received_at = timezone.now()
    with transaction.atomic():
        ids = [v.envelope.id for v in verified]
        known = dict(InboxMessage.objects.filter(pk__in=ids).values_list("pk", "sender")) if ids else {}
        rows = []
        for v in verified:
            env = v.envelope
            if env.id in known:
                if known[env.id] != env.sender:
                    refuse(
                        v.index, v.item, ID_CONFLICT, f"信封标识 {env.id} 已被其他节点的信封使用。", env.id
                    )
                else:
                    results[v.index] = {"id": env.id, "status": DUPLICATE, "duplicate": True}
                continue
            known[env.id] = env.sender
            rows.append(
                InboxMessage(
                    id=env.id,
                    sender=env.sender,
                    type=env.type,
                    ordering_key=env.ordering_key,
                    seq=env.seq,
                    envelope=v.item,
                    created_at=env.created_at,
                    received_at=received_at,
                    remote_addr=remote_addr[:64],
                    next_attempt_at=received_at,
                )
            )
            results[v.index] = {"id": env.id, "status": ACCEPTED}
        # A concurrent request storing the same id first makes this one a duplicate in effect:
        # either way the envelope is stored once, which is all "accepted" promises.
        InboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        if refused:
            record_rejections(refused)
        if rows:
            transaction.on_commit(poke_applier)
    return results  # type: ignore[return-value]


def poke_applier() -> None:
    """Tells the worker there is something to apply. Cheap; never raises (the periodic run applies it
    anyway)."""
    from tongban.exchange import worker

    worker.poke()
    if settings.CELERY_BROKER_URL:
        try:
            from tongban.exchange.tasks import apply_inbox

            apply_inbox.apply_async(retry=False)
        except Exception:
            logger.warning(
                "could not queue apply_inbox on the broker; the periodic run will apply", exc_info=True
            )


# --- Applying -------------------------------------------------------------------------------------


def due_messages(now: datetime):
    """Received or failed messages whose time has come and whose predecessor (if any) is applied."""
    cursor = InboxCursor.objects.filter(
        sender=OuterRef("sender"), ordering_key=OuterRef("ordering_key")
    ).values("last_seq")[:1]
    return (
        InboxMessage.objects.filter(
            state__in=[InboxState.RECEIVED, InboxState.FAILED], next_attempt_at__lte=now
        )
        .annotate(applied_upto=Coalesce(Subquery(cursor), 0))
        # seq <= applied_upto: a second message claiming a place already taken; it fails below.
        .filter(Q(seq=0) | Q(seq__lte=F("applied_upto") + 1))
        .order_by("next_attempt_at", "id")
    )


def apply_pending(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Applies what is due, several messages per commit; returns how many were applied.

    Runs until nothing more is due (applying seq n makes n+1 due at once) or ``limit`` messages are
    applied. Failures are recorded on the messages, never raised.

    Each group of up to ``_COMMIT_EVERY`` messages is one transaction (one WAL flush). It is first
    applied optimistically in one savepoint (:func:`_apply_group`: the handlers one after the other,
    each ordered message's cursor advanced in one statement, all marked applied in one statement);
    if any handler raises, that savepoint is rolled back and the group is applied again one message
    per savepoint (:func:`_apply_one`), so the failing message is recorded as failed and does not undo
    the others. Either way a message's effect and its "applied" mark commit together.
    """
    applied = 0
    # One moment for the whole run: a message that fails now is not retried by this same run, however
    # short its backoff; its successors, received before this moment, are found as they become due.
    moment = now or timezone.now()
    while limit is None or applied < limit:
        size = _APPLY_CHUNK if limit is None else min(_APPLY_CHUNK, limit - applied)
        ids = list(due_messages(moment).values_list("pk", flat=True)[:size])
        progress = False
        for start in range(0, len(ids), _COMMIT_EVERY):
            with transaction.atomic():
                group = ids[start : start + _COMMIT_EVERY]
                locked = {
                    m.pk: m
                    for m in _lock(
                        InboxMessage.objects.filter(
                            pk__in=group, state__in=[InboxState.RECEIVED, InboxState.FAILED]
                        )
                    )
                }
                try:
                    with transaction.atomic():
                        done, rest = _apply_group([locked[i] for i in group if i in locked])
                except Exception as exc:  # a handler failed: one savepoint per message instead
                    logger.debug("inbox: group of %d applied one by one (%s)", len(group), exc)
                    done, rest = [], [locked[i] for i in group if i in locked]
                applied += len(done)
                progress = progress or bool(done)
                for message in rest:
                    try:
                        outcome = _apply_one(message.pk, now=moment, message=message)
                    except Exception:  # a database error inside: its savepoint is rolled back
                        logger.exception("inbox message %s could not be applied", message.pk)
                        outcome = "skipped"
                    if outcome == "applied":
                        applied += 1
                    progress = progress or outcome != "skipped"
            if limit is not None and applied >= limit:
                break
        if not progress:
            break
    return applied


def _apply_group(messages: list[InboxMessage]) -> tuple[list[InboxMessage], list[InboxMessage]]:
    """Applies ``messages`` (locked, in the caller's savepoint) without a savepoint each: (applied,
    left for :func:`_apply_one`). A message is left when it has no handler or is not its key's next
    one (a replayed or out-of-place ``seq``: :func:`_apply_one` records or skips it). Raises whatever
    a handler raises: the caller rolls the whole group back.
    """
    done: list[InboxMessage] = []
    rest: list[InboxMessage] = []
    for message in messages:
        handler = handlers.handler_for(message.type)
        if handler is None or (message.seq > 0 and not _advance_cursor(message)):
            rest.append(message)
            continue
        with acting_from(Origin(channel="federation", address=message.sender)):
            handler(message.envelope["payload"], sender=message.sender, envelope_id=message.id)
        done.append(message)
    if done:
        InboxMessage.objects.filter(pk__in=[m.pk for m in done]).update(
            state=InboxState.APPLIED,
            applied_at=timezone.now(),
            attempts=F("attempts") + 1,
            error_code="",
            error="",
        )
    return done, rest


def _advance_cursor(message: InboxMessage) -> bool:
    """Moves the cursor of the message's (sender, ordering key) from ``seq - 1`` to ``seq`` in one
    statement, and keeps it locked until the transaction ends; False (nothing changed) when the
    cursor is not at ``seq - 1``."""
    table = connection.ops.quote_name(InboxCursor._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        if message.seq == 1:
            cursor.execute(
                f"INSERT INTO {table} (sender, ordering_key, last_seq, updated_at) VALUES (%s, %s, 1, %s) "
                "ON CONFLICT (sender, ordering_key) DO UPDATE SET last_seq = 1, updated_at = EXCLUDED.updated_at "
                f"WHERE {table}.last_seq = 0 RETURNING last_seq",
                [message.sender, message.ordering_key, now],
            )
        else:
            cursor.execute(
                f"UPDATE {table} SET last_seq = %s, updated_at = %s "
                "WHERE sender = %s AND ordering_key = %s AND last_seq = %s RETURNING last_seq",
                [message.seq, now, message.sender, message.ordering_key, message.seq - 1],
            )
        return cursor.fetchone() is not None


def _lock(query):
    if connection.features.has_select_for_update_skip_locked:
        return query.select_for_update(skip_locked=True)
    return query


_MISSING = object()


def _apply_one(message_id: str, *, now: datetime, message=None) -> str:
    """``"applied"``, ``"failed"`` or ``"skipped"`` (taken by another worker, or not its turn yet).

    ``message`` is the row already locked by the caller (``_MISSING``: locked by nobody, i.e. taken
    by another worker or no longer due); without it the row is locked here.
    """
    with transaction.atomic():
        if message is None:
            message = _lock(
                InboxMessage.objects.filter(pk=message_id, state__in=[InboxState.RECEIVED, InboxState.FAILED])
            ).first()
        if message is None or message is _MISSING:
            return "skipped"
        cursor = None
        if message.seq > 0:
            InboxCursor.objects.get_or_create(sender=message.sender, ordering_key=message.ordering_key)
            cursor = InboxCursor.objects.select_for_update().get(
                sender=message.sender, ordering_key=message.ordering_key
            )
            if message.seq <= cursor.last_seq:
                return _fail(
                    message,
                    now=now,
                    code=SEQ_ALREADY_APPLIED,
                    reason=f"{message.sender} 的顺序键 {message.ordering_key} 已处理到第 {cursor.last_seq} 条，"
                    f"本消息的序号 {message.seq} 已被另一条消息占用。",
                )
            if message.seq != cursor.last_seq + 1:
                return "skipped"
        handler = handlers.handler_for(message.type)
        if handler is None:
            return _fail(
                message, now=now, code=UNKNOWN_TYPE, reason=f"本节点没有处理“{message.type}”类消息的程序。"
            )
        try:
            with transaction.atomic(), acting_from(Origin(channel="federation", address=message.sender)):
                handler(message.envelope["payload"], sender=message.sender, envelope_id=message.id)
        except TongbanError as exc:
            logger.warning(
                "inbox message %s (%s from %s) failed: %s", message.pk, message.type, message.sender, exc
            )
            return _fail(message, now=now, code=exc.code, reason=exc.message)
        except Exception as exc:
            logger.exception("inbox message %s (%s from %s) failed", message.pk, message.type, message.sender)
            return _fail(message, now=now, code=HANDLER_FAILED, reason=f"{type(exc).__name__}: {exc}")
        message.state = InboxState.APPLIED
        message.applied_at = timezone.now()
        message.attempts += 1
        message.error_code = message.error = ""
        message.save(update_fields=["state", "applied_at", "attempts", "error_code", "error"])
        if cursor is not None:
            cursor.last_seq = message.seq
            cursor.save(update_fields=["last_seq", "updated_at"])
    return "applied"


def _fail(message: InboxMessage, *, now: datetime, code: str, reason: str) -> str:
    message.state = InboxState.FAILED
    message.attempts += 1
    message.error_code = str(code)[:64]
    message.error = str(reason)[:ERROR_MAX]
    message.next_attempt_at = now + retry_delay(message.attempts)
    message.save(update_fields=["state", "attempts", "error_code", "error", "next_attempt_at"])
    return "failed"
