"""Append-only, hash-chained audit log of every change of state.

Appending and chaining are two steps (ADR 0003):

1. :func:`record` inserts the entry inside the service's own transaction, so an entry exists if and
   only if the change it describes was committed. It takes no lock: concurrent changes never wait
   for each other here. The row's ``id`` (the insert order) is all it gets; ``seq``, ``prev_hash``
   and ``entry_hash`` stay empty.
2. :func:`seal` gives committed, unsealed entries their place in the chain, in ``id`` order: the next
   ``seq``, the previous entry's hash and their own SHA-256. Only the sealer locks the single
   ``AuditHead`` row, once per batch, never per change. After a commit that recorded entries, the
   process seals them in the background within :data:`SEAL_DELAY_SECONDS`; ``tongban audit verify``
   and ``tongban audit seal`` seal whatever is still pending first.

Once sealed, changing or deleting any row is detectable by :func:`verify`, which names the first
broken entry. Entries not sealed yet are reported as pending: until then they are protected only by
the database's permissions, for about a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.context import current_origin
from tongban.core.inserts import rows_insert
from tongban.core.logging import mask_text
from tongban.core.models import AuditEntry, AuditHead

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HEAD_PK = 1
# Audit data is a few identifiers and counters; anything bigger is a programming error.
MAX_DATA_BYTES = 8 * 1024
_VERIFY_CHUNK = 2000
# Entries sealed per transaction: bounds how long the sealer holds the head row.
_SEAL_BATCH = 1000
# How long after a commit the process seals what it recorded. Sealing batches everything committed
# meanwhile (by any process), so under load one seal costs a few milliseconds per second, not per
# change; it is also the longest time an entry of a running process stays without its hash.
SEAL_DELAY_SECONDS = 1.0


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
    """The data exactly as the database will give it back, so the hash computed later matches what
    was recorded (dates and UUIDs become strings, key order stops mattering).

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


def record(*, actor, action: str, target: models.Model | None = None, data: dict | None = None) -> AuditEntry:
    """Appends one entry describing a change of state and returns it (not sealed yet: no ``seq``).

    ``actor`` is the user who acted, or None for the system. ``data`` is a small dict of
    identifiers and counters, never personal data. Call it inside the service's transaction: if the
    change rolls back, so does its entry.
    """
    if not action:
        raise ValueError("audit action is required")
    actor_id, actor_label = _describe_actor(actor)
    target_type, target_id = _describe_target(target)
    origin = current_origin()
    entry = AuditEntry(
        created_at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label[:150],
        action=action,
        target_type=target_type,
        target_id=target_id[:64],
        data=_normalise_data(data),
        channel=origin.channel[:16],
        address=origin.address[:64],
    )
    rows_insert([entry])  # an insert, as AuditEntry.save() insists
    transaction.on_commit(_seal_soon)
    return entry


# --- sealing ---------------------------------------------------------------------------------------


def _lock_head() -> AuditHead:
    """The head row, locked. A data migration creates it; the fallback covers a flushed database
    (test suites, ``flush``). Recreating it next to sealed entries would hide a truncated chain, so
    that case stops the sealing instead."""
    head, created = AuditHead.objects.select_for_update().get_or_create(
        pk=HEAD_PK, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    if created and AuditEntry.objects.filter(seq__isnull=False).exists():
        raise RuntimeError("audit head row is missing while sealed entries exist: run `audit verify`")
    return head


def _write_seals(batch: list[AuditEntry]) -> None:
    """One plain ``UPDATE`` per entry, sent together (``executemany``). ``bulk_update`` builds a
    ``CASE`` per column over the whole batch: under load that expression tree cost about a tenth of
    a web process's CPU (bench/findings.md, round 5), and the database compares n² times."""
    meta = AuditEntry._meta
    quote = connection.ops.quote_name
    columns = [quote(meta.get_field(name).column) for name in ("seq", "prev_hash", "entry_hash")]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{c} = %s' for c in columns)} "
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(e.seq, e.prev_hash, e.entry_hash, e.pk) for e in batch])


def _seal_batch() -> int:
    with transaction.atomic():
        head = _lock_head()
        # Read after the lock: a sealer that held it before us has committed, so what it sealed no
        # longer shows as pending. Entries still in flight are not visible and join a later batch.
        batch = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:_SEAL_BATCH])
        seq, prev_hash = head.last_seq, head.last_hash
        for entry in batch:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev_hash
            entry.entry_hash = prev_hash = _entry_hash(entry)
        if batch:
            _write_seals(batch)
            head.last_seq, head.last_hash = seq, prev_hash
            head.save(update_fields=["last_seq", "last_hash"])
    return len(batch)


def seal() -> int:
    """Chains every committed entry that has no place yet; returns how many. Safe to run at any
    time and from several processes at once (they queue on the head row)."""
    total = 0
    while n := _seal_batch():
        total += n
        if n < _SEAL_BATCH:
            break
    return total


_sealer_lock = threading.Lock()
# This process's sealer thread and what wakes or stops it; a forked child starts its own.
_sealer: _Sealer | None = None


@dataclass
class _Sealer:
    pid: int
    thread: threading.Thread
    wake: threading.Event
    stop: threading.Event


def _seal_soon() -> None:
    """After a commit that recorded entries: have this process's sealer thread seal them (and
    whatever else is pending) shortly, so no request waits for it."""
    global _sealer
    if _in_memory_database():
        return  # another connection would not see this database: `seal()` is called explicitly
    with _sealer_lock:
        if _sealer is None or _sealer.pid != os.getpid() or not _sealer.thread.is_alive():
            wake, stop = threading.Event(), threading.Event()
            # A daemon: a process that exits first leaves its entries to the next sealer.
            thread = threading.Thread(
                target=_sealer_loop, args=(wake, stop), name="audit-sealer", daemon=True
            )
            _sealer = _Sealer(os.getpid(), thread, wake, stop)
            thread.start()
        _sealer.wake.set()


def _sealer_loop(wake: threading.Event, stop: threading.Event) -> None:
    """One long-lived thread per process. While commits keep coming it keeps its database connection
    between seals (a thread per seal opened and closed one every second under load); when a seal
    finds nothing new committed meanwhile, it closes it."""
    while not stop.is_set():
        wake.wait()
        stop.wait(SEAL_DELAY_SECONDS)
        # Cleared before sealing: an entry committed from here on wakes the next round.
        wake.clear()
        try:
            seal()
        except Exception:  # pending entries are sealed by the next run; `audit verify` reports them
            logger.exception("sealing the audit log failed")
        finally:
            if wake.is_set() and not stop.is_set():
                connection.close_if_unusable_or_obsolete()
            else:
                connection.close()


def sealer_stop(timeout: float = 30.0) -> None:
    """Seals what is pending and ends this process's sealer thread (its connection closed): for a
    test suite about to drop its database."""
    global _sealer
    with _sealer_lock:
        sealer, _sealer = _sealer, None
    if sealer is not None and sealer.pid == os.getpid():
        sealer.stop.set()
        sealer.wake.set()
        sealer.thread.join(timeout)


def _in_memory_database() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    checked: int  # sealed entries found intact before the first break (all of them when ok)
    first_broken_seq: int | None
    reason: str
    pending: int = 0  # entries recorded but not sealed yet: not checked, not a fault


def verify() -> AuditVerdict:
    """Walks the sealed chain in ``seq`` order, a chunk at a time, and reports the first break.

    The head is read first and only entries up to it are checked, so entries sealed while the walk
    runs are not mistaken for tampering. Call :func:`seal` first to check everything recorded.
    """
    head = AuditHead.objects.filter(pk=HEAD_PK).first()
    pending = AuditEntry.objects.filter(seq__isnull=True).count()
    if head is None:
        sealed = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
        first = sealed.values_list("seq", flat=True).first()
        if first is not None:
            return AuditVerdict(False, 0, first, _("审计链头缺失，但存在审计记录。"), pending)
        return AuditVerdict(True, 0, None, "", pending)

    checked = 0
    expected_seq = 1
    prev_hash = GENESIS_HASH
    entries = AuditEntry.objects.filter(seq__isnull=False, seq__lte=head.last_seq).order_by("seq")
    for entry in entries.iterator(chunk_size=_VERIFY_CHUNK):
        if entry.seq != expected_seq:
            reason = _("序号不连续：第 %(first)d 至 %(last)d 条记录缺失。") % {
                "first": expected_seq,
                "last": entry.seq - 1,
            }
            return AuditVerdict(False, checked, entry.seq, reason, pending)
        if entry.prev_hash != prev_hash:
            return AuditVerdict(False, checked, entry.seq, _("与前一条记录的哈希链接不符。"), pending)
        if _entry_hash(entry) != entry.entry_hash:
            return AuditVerdict(False, checked, entry.seq, _("记录内容与其哈希不符，已被改动。"), pending)
        checked += 1
        expected_seq += 1
        prev_hash = entry.entry_hash

    last_seq = expected_seq - 1
    if last_seq != head.last_seq:
        reason = _("链尾缺失：链头指向第 %(head)d 条，但最后一条记录是第 %(last)d 条。") % {
            "head": head.last_seq,
            "last": last_seq,
        }
        return AuditVerdict(False, checked, last_seq + 1, reason, pending)
    if prev_hash != head.last_hash:
        return AuditVerdict(False, checked, last_seq or None, _("链头哈希与最后一条记录不符。"), pending)
    return AuditVerdict(True, checked, None, "", pending)
