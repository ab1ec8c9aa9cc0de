"""Append-only, hash-chained audit log of every change of state.

Each entry stores the SHA-256 of its own canonical content and of its predecessor (``prev_hash``),
so changing or deleting any row is detectable by :func:`verify`. Appends take the single
``AuditHead`` row ``FOR UPDATE``: on PostgreSQL concurrent writers queue there and sequence numbers
stay gap-free; on SQLite the IMMEDIATE transaction mode already serialises writers.

Services call :func:`record` inside their own transaction, so an entry exists if and only if the
change it describes was committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.context import current_origin
from tongban.core.logging import mask_text
from tongban.core.models import AuditEntry, AuditHead

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HEAD_PK = 1
# Audit data is a few identifiers and counters; anything bigger is a programming error.
MAX_DATA_BYTES = 8 * 1024
_VERIFY_CHUNK = 2000


def _canonical(value: Any) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        cls=DjangoJSONEncoder,
    )


def _normalise_data(data: dict | None) -> dict:
    """The data exactly as the database will give it back, so the hash computed now still matches
    after a round trip (dates and UUIDs become strings, key order stops mattering).

    ID and phone numbers are masked as a last line of defence: the log must never hold personal
    data, and it cannot be scrubbed later without breaking the chain.
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError("audit data must be a dict")
    text = _canonical(data)
    masked = mask_text(text)
    if masked != text:
        logger.warning("personal data masked in an audit entry")
        text = masked
    if len(text.encode()) > MAX_DATA_BYTES:
        raise ValueError(f"audit data is larger than {MAX_DATA_BYTES} bytes")
    return json.loads(text)


def _format_time(value: datetime) -> str:
    # One fixed spelling whatever the database returns: UTC, always with microseconds.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    data: dict,
    channel: str,
    address: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical JSON. Changing this breaks every existing chain."""
    body = {
        "seq": seq,
        "created_at": _format_time(created_at),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "data": data,
        "channel": channel,
        "address": address,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _entry_hash(entry: AuditEntry) -> str:
    return compute_hash(
        seq=entry.seq,
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        data=entry.data,
        channel=entry.channel,
        address=entry.address,
        prev_hash=entry.prev_hash,
    )


def _describe_actor(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor.pk, actor.get_username()


def _describe_target(target: models.Model | None) -> tuple[str, str]:
    """``("cases.case", "<办件编号>")``: the business number people search for, if the model has one."""
    if target is None:
        return "", ""
    for attr in ("number", "public_id"):
        value = getattr(target, attr, None)
        if value not in (None, "") and not callable(value):
            return target._meta.label_lower, str(value)
    return target._meta.label_lower, str(target.pk)


def _lock_head() -> AuditHead:
    """The head row, locked. A data migration creates it; the fallback covers a flushed database
    (test suites, ``flush``). Recreating it next to existing entries would hide a truncated chain,
    so that case stops the append instead."""
    head, created = AuditHead.objects.select_for_update().get_or_create(
        pk=HEAD_PK, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    if created and AuditEntry.objects.exists():
        raise RuntimeError("audit head row is missing while entries exist: run `audit verify`")
    return head


def record(*, actor, action: str, target: models.Model | None = None, data: dict | None = None) -> AuditEntry:
    """Appends one entry describing a change of state and returns it.

    ``actor`` is the user who acted, or None for the system. ``data`` is a small dict of
    identifiers and counters, never personal data. Call it inside the service's transaction: if the
    change rolls back, so does its entry.
    """
    if not action:
        raise ValueError("audit action is required")
    actor_id, actor_label = _describe_actor(actor)
    target_type, target_id = _describe_target(target)
    payload = _normalise_data(data)
    origin = current_origin()
    # No savepoint: an audit entry that fails must fail the whole change it describes anyway.
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        fields = {
            "seq": head.last_seq + 1,
            # Taken after the lock so times never go backwards along the chain.
            "created_at": timezone.now(),
            "actor_id": actor_id,
            "actor_label": actor_label[:150],
            "action": action,
            "target_type": target_type,
            "target_id": target_id[:64],
            "data": payload,
            "channel": origin.channel[:16],
            "address": origin.address[:64],
            "prev_hash": head.last_hash,
        }
        entry = AuditEntry(**fields, entry_hash=compute_hash(**fields))
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    checked: int  # entries found intact before the first break (all of them when ok)
    first_broken_seq: int | None
    reason: str


def verify() -> AuditVerdict:
    """Walks the whole chain in ``seq`` order, a chunk at a time, and reports the first break.

    The head is read first and only entries up to it are checked, so appends committed while the
    walk runs are not mistaken for tampering.
    """
    head = AuditHead.objects.filter(pk=HEAD_PK).first()
    if head is None:
        if AuditEntry.objects.exists():
            first = AuditEntry.objects.order_by("seq").values_list("seq", flat=True).first()
            return AuditVerdict(False, 0, first, _("审计链头缺失，但存在审计记录。"))
        return AuditVerdict(True, 0, None, "")

    checked = 0
    expected_seq = 1
    prev_hash = GENESIS_HASH
    entries = AuditEntry.objects.filter(seq__lte=head.last_seq).order_by("seq")
    for entry in entries.iterator(chunk_size=_VERIFY_CHUNK):
        if entry.seq != expected_seq:
            reason = _("序号不连续：第 %(first)d 至 %(last)d 条记录缺失。") % {
                "first": expected_seq,
                "last": entry.seq - 1,
            }
            return AuditVerdict(False, checked, entry.seq, reason)
        if entry.prev_hash != prev_hash:
            return AuditVerdict(False, checked, entry.seq, _("与前一条记录的哈希链接不符。"))
        if _entry_hash(entry) != entry.entry_hash:
            return AuditVerdict(False, checked, entry.seq, _("记录内容与其哈希不符，已被改动。"))
        checked += 1
        expected_seq += 1
        prev_hash = entry.entry_hash

    last_seq = expected_seq - 1
    if last_seq != head.last_seq:
        reason = _("链尾缺失：链头指向第 %(head)d 条，但最后一条记录是第 %(last)d 条。") % {
            "head": head.last_seq,
            "last": last_seq,
        }
        return AuditVerdict(False, checked, last_seq + 1, reason)
    if prev_hash != head.last_hash:
        return AuditVerdict(False, checked, last_seq or None, _("链头哈希与最后一条记录不符。"))
    return AuditVerdict(True, checked, None, "")
