"""The relay: takes due outbox messages, seals them and POSTs them to their recipients.

One run of :func:`deliver_due`:

1. **Claim** a batch in a short transaction: pending messages whose ``next_attempt_at`` has come and
   whose ordering key has no earlier message still undelivered. On PostgreSQL the rows are taken
   ``FOR UPDATE SKIP LOCKED``, so several relays never claim the same message; on SQLite the
   ``IMMEDIATE`` transaction serialises claims. A claim is a token and a lease (``next_attempt_at``
   moved past the time the run may take); the transaction commits before any network I/O, so no
   lock is held while a request is in flight. A relay that dies mid-run leaves messages that fall
   due again when the lease ends (and are recognised as replays by the recipient if they had arrived).
2. **Seal** each message with this node's key, the current time as ``created_at`` and the outbox id as
   envelope id: a retry is a replay of the same envelope id, which the recipient acknowledges as a
   duplicate without applying it twice.
3. **POST** ``{"envelopes": [...]}`` once per recipient (split so a request stays within
   ``TONGBAN_EXCHANGE_MAX_BODY_BYTES``) and record each envelope's answer, only where the claim is
   still ours.

Order: a message with ``seq`` n is never claimed while a message of the same (recipient, ordering
key) with a lower ``seq`` is not delivered, whether that one is pending, backing off or parked. So a
case's messages leave one at a time, in order, and a parked message holds back the rest of its case
(and only its case) until an operator resends it.

Outcomes:

- ``accepted`` or ``duplicate`` → delivered.
- ``rejected`` with a code in :data:`PERMANENT` → parked at once: the same envelope would be refused
  again whatever the number of retries, and a person must look (a malformed envelope or a signature
  that does not verify mean a bug or a wrong key; a wrong recipient means the trust list points at
  another node; a removed member cannot send or receive).
- any other refusal (the recipient's trust list does not know our key yet, clocks apart, its trust
  list expired…), a network error, an HTTP error status or an unreadable answer → ``attempts + 1``,
  retried after an exponential backoff with full jitter (``uniform(0, min(5 min, 1 s · 2^(n-1)))``),
  parked after ``TONGBAN_EXCHANGE_MAX_ATTEMPTS`` attempts.

Nothing is dropped: a message is delivered or stays in the outbox, pending or parked, with its last
error, until an operator resends it (``services.outbox_resend``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from tongban.core.errors import TongbanError
from tongban.exchange import error_codes as codes
from tongban.exchange.conf import setting
from tongban.exchange.envelope import EnvelopeError, envelope_to_dict, seal
from tongban.exchange.ids import uuid7
from tongban.exchange.models import OutboxMessage, OutboxState, PeerBackoff
from tongban.exchange.signing import Signer
from tongban.exchange.transport import Transport, TransportError, default_transport
from tongban.exchange.trust import TrustList, current_trust_list

logger = logging.getLogger(__name__)

# Failures of the sending side (the receiver's refusals carry the codes of error_codes).
UNREACHABLE = "UNREACHABLE"  # the request did not complete: refused, reset, timed out
HTTP_ERROR = "HTTP_ERROR"  # the endpoint answered with an error status for the whole request
BAD_ANSWER = "BAD_ANSWER"  # the answer is not the {"results": [...]} the protocol defines
NO_ANSWER = "NO_ANSWER"  # the answer has no result for this envelope

# Refusals a retry of the same message cannot overcome: parked at once for an operator.
PERMANENT = frozenset(
    {
        codes.ENVELOPE_MALFORMED,
        codes.BAD_SIGNATURE,
        codes.WRONG_RECIPIENT,
        codes.MEMBER_REMOVED,
        codes.BODY_TOO_LARGE,
        codes.RECIPIENT_REMOVED,
    }
)

# deliver_due records its requests' outcomes together, unless one runs longer than this.
SLOW_SECONDS = 1.0
# A recipient that could not be reached is left alone at most this long at a time: its messages back
# off for up to BACKOFF_CAP_SECONDS each, but a new one probes it again after this, so a node that
# comes back is found within seconds (and the probe's success makes everything due at once).
PEER_BACKOFF_CAP_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0
ERROR_MAX = 2000


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter after the ``attempts``-th failure (1, 2, …)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, min(attempts, 32) - 1))
    return timedelta(seconds=(rng or random).uniform(0, ceiling))


@dataclass(frozen=True)
class Identity:
    """Who signs what this relay sends: this node's code and its current signing key."""

    code: str
    signer: Signer


def local_identity() -> Identity:
    from tongban.exchange.keys import node_signer

    return Identity(code=settings.NODE_CODE, signer=node_signer())


@dataclass
class RelayReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0  # failed this time, to be retried after a backoff
    parked: int = 0
    requests: int = 0
    error_code: str = ""  # set when the relay could not run at all (no usable trust list, no key)
    error: str = ""
    recipients: list[str] = field(default_factory=list)

    @property
    def did_work(self) -> bool:
        return self.claimed > 0

    def add(self, other: RelayReport) -> None:
        """Adds the counts of ``other`` (a later part of the same run) to this report."""
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.parked += other.parked
        self.requests += other.requests
        self.recipients = sorted({*self.recipients, *other.recipients})
        self.error_code = self.error_code or other.error_code
        self.error = self.error or other.error


@dataclass
class _Outcome:
    message: OutboxMessage
    delivered: bool = False
    code: str = ""
    reason: str = ""
    permanent: bool = False


def due_messages(now: datetime):
    """Pending, due, and first in line of their ordering key (no earlier seq undelivered)."""
    earlier_undelivered = OutboxMessage.objects.filter(
        recipient=OuterRef("recipient"),
        ordering_key=OuterRef("ordering_key"),
        seq__gt=0,
        seq__lt=OuterRef("seq"),
    ).exclude(state=OutboxState.DELIVERED)
    return (
        OutboxMessage.objects.filter(state=OutboxState.PENDING, next_attempt_at__lte=now)
        .filter(Q(seq=0) | ~Exists(earlier_undelivered))
        .order_by("next_attempt_at", "id")
    )


def _claim(
    *,
    batch_size: int,
    now: datetime,
    token: str,
    exclude: Collection[str] = (),
    max_recipients: int | None = None,
) -> list[OutboxMessage]:
    """Claims up to ``batch_size`` due messages, none to a recipient in ``exclude`` (a request to it
    is in flight, or it is backing off), to at most ``max_recipients`` recipients (the oldest due)."""
    due = due_messages(now)
    if exclude:
        due = due.exclude(recipient__in=list(exclude))
    # A plain read first: an idle relay polling every few hundred milliseconds must not take the
    # write lock (SQLite) or open a locking transaction each time.
    heads = list(dict.fromkeys(due.values_list("recipient", flat=True)[:batch_size]))
    if not heads:
        return []
    if max_recipients is not None and len(heads) > max_recipients:
        due = due.filter(recipient__in=heads[:max_recipients])
    with transaction.atomic():
        query = due
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        messages = list(query[:batch_size])
        if not messages:
            return []
        recipients = {m.recipient for m in messages}
        # Long enough for every request of this run to time out once, with room to spare.
        lease = timedelta(seconds=settings.EXCHANGE_TIMEOUT_SECONDS * 2 * (len(recipients) + 1) + 60)
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            claim=token, next_attempt_at=now + lease, last_attempt_at=now
        )
    return messages


def _backoffs(now: datetime) -> tuple[set[str], dict[str, int]]:
    """(recipients left alone at ``now``, consecutive failures of every recipient with a backoff)."""
    rows = list(PeerBackoff.objects.values_list("recipient", "blocked_until", "failures"))
    return {r for r, until, _ in rows if until > now}, {r: failures for r, _, failures in rows}


@dataclass
class _Flight:
    """The request(s) of one claimed batch to one recipient, running in a relay thread."""

    recipient: str
    token: str
    now: datetime
    now_given: bool  # a test's moment: retries are scheduled from it, not from the clock
    failures: int  # the recipient's consecutive failed requests before this one
    future: Future


def _post_all(
    endpoint: str, sealed: list[tuple[OutboxMessage, bytes]], transport: Transport
) -> tuple[list[_Outcome], int]:
    """Runs in a relay thread: the requests of one batch, one after the other. Touches no database."""
    counter = RelayReport()
    outcomes: list[_Outcome] = []
    for chunk in _chunks(sealed, settings.EXCHANGE_MAX_BODY_BYTES):
        outcomes.extend(_post(endpoint, chunk, transport=transport, report=counter))
    return outcomes, counter.requests


class Relay:
    """Delivers the outbox with requests to different recipients in flight at once.

    :meth:`step` records the requests that have finished, claims what is due for recipients with no
    request in flight and not backing off, seals it, and starts one request (or one run of split
    requests) per recipient in a thread of its pool; it never waits for the network. So a recipient
    that takes the connection and never answers holds one thread until its request times out, and
    the next claims go to the others; afterwards it is left alone until its backoff ends.

    All database work (claims, outcomes) is done by the thread calling :meth:`step` / :meth:`wait`;
    the pool's threads only talk HTTP. One batch in flight per recipient keeps each case's messages
    in ``seq`` order (an undelivered message holds back its successors, as always).
    """

    def __init__(
        self,
        *,
        transport: Transport | None = None,
        identity: Identity | None = None,
        threads: int | None = None,
        on_done: Callable[[], None] | None = None,
    ):
        self._transport = transport
        self._identity = identity
        self.threads = max(1, threads or setting("EXCHANGE_RELAY_THREADS"))
        self._on_done = on_done
        self._pool: ThreadPoolExecutor | None = None
        self._flights: dict[str, _Flight] = {}

    @property
    def in_flight(self) -> list[str]:
        """Recipients a request is in flight to."""
        return sorted(self._flights)

    def step(
        self, *, batch_size: int | None = None, now: datetime | None = None, settle: float = 0
    ) -> RelayReport:
        """Records finished requests, then claims and starts new ones (see the class description).
        With ``settle``, waits up to that many seconds for the requests it started and records those
        that finished: a recipient that answers promptly is done within the step (and the caller
        does no database work while a request of its own is being served), one that does not is
        left running."""
        report = RelayReport()
        self._collect(report)
        free = self.threads - len(self._flights)
        if free <= 0:
            return report
        now_given = now is not None
        now = now or timezone.now()
        try:
            trust = current_trust_list()
            identity = self._identity or local_identity()
        except TongbanError as exc:  # no usable trust list, or no signing key: nothing may be sent
            logger.debug("relay cannot send: %s", exc)  # the caller (worker, task) reports it once
            report.error_code, report.error = exc.code, exc.message
            return report
        blocked, failures = _backoffs(now)
        token = uuid7()
        messages = _claim(
            batch_size=batch_size or settings.EXCHANGE_BATCH,
            now=now,
            token=token,
            exclude=blocked | set(self._flights),
            max_recipients=free,
        )
        report.claimed = len(messages)
        groups: dict[str, list[OutboxMessage]] = {}
        for message in messages:
            groups.setdefault(message.recipient, []).append(message)
        report.recipients = sorted(groups)
        transport = self._transport or default_transport()
        started: list[Future] = []
        for recipient, group in groups.items():
            endpoint, sealed, refused = _seal_group(recipient, group, trust=trust, identity=identity)
            if refused:
                _record(refused, token=token, now=now, report=report)
            if not sealed:
                continue
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="tongban-relay")
            future = self._pool.submit(_post_all, endpoint, sealed, transport)
            self._flights[recipient] = _Flight(
                recipient, token, now, now_given, failures.get(recipient, 0), future
            )
            if self._on_done is not None:
                future.add_done_callback(lambda _future: self._on_done())
            started.append(future)
        if settle > 0 and started:
            wait_for(started, timeout=settle)
            self._collect(report)
        return report

    def wait(self, timeout: float | None = None) -> RelayReport:
        """Waits up to ``timeout`` seconds (None: until all are done) for the requests in flight and
        records them: together once all have finished, or, when one is still running after
        :data:`SLOW_SECONDS`, each of the others as soon as it has (so a recipient that hangs delays
        no one else's outcome by more than that)."""
        report = RelayReport()
        futures = {flight.future for flight in self._flights.values()}
        first = SLOW_SECONDS if timeout is None else min(timeout, SLOW_SECONDS)
        _, running = wait_for(futures, timeout=first)
        self._collect(report)
        if running:
            rest = None if timeout is None else max(0.0, timeout - first)
            with contextlib.suppress(TimeoutError):
                for _ in as_completed(running, timeout=rest):
                    self._collect(report)
            self._collect(report)
        return report

    def _collect(self, report: RelayReport) -> None:
        for recipient, flight in list(self._flights.items()):
            if not flight.future.done():
                continue
            del self._flights[recipient]
            try:
                outcomes, requests = flight.future.result()
            except Exception as exc:  # a bug in the relay thread: retried like any failure, never lost
                logger.exception("posting to %s failed unexpectedly", recipient)
                outcomes = [
                    _Outcome(m, code=UNREACHABLE, reason=f"{type(exc).__name__}: {exc}")
                    for m in OutboxMessage.objects.filter(claim=flight.token, recipient=recipient)
                ]
                requests = 0
            report.requests += requests
            report.recipients = sorted({*report.recipients, recipient})
            _record(
                outcomes,
                token=flight.token,
                now=flight.now,
                retry_from=flight.now if flight.now_given else timezone.now(),
                failures=flight.failures,
                report=report,
            )

    def close(self, *, wait: float | None = 0) -> RelayReport:
        """Waits up to ``wait`` seconds for the requests in flight and records them, then stops the
        pool. A request still running is abandoned: its messages fall due again when their claim's
        lease ends (and the recipient recognises them as replays if they had arrived)."""
        report = self.wait(timeout=wait) if self._flights else RelayReport()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._flights.clear()
        return report


def deliver_due(
    *,
    batch_size: int | None = None,
    now: datetime | None = None,
    transport: Transport | None = None,
    identity: Identity | None = None,
) -> RelayReport:
    """Delivers one batch of due messages (see the module's description) and says what happened.

    The requests to different recipients run concurrently (:class:`Relay`); this returns when all
    have finished, each recorded as soon as it did. ``now`` decides what is due and when retries fall
    due (tests move it forward); envelopes are always sealed with the real current time. Never
    raises for a delivery problem: those are recorded on the messages.
    """
    relay = Relay(transport=transport, identity=identity)
    try:
        report = relay.step(batch_size=batch_size, now=now)
        report.add(relay.wait())
    finally:
        relay.close()
    return report


def _seal_group(
    recipient: str, messages: list[OutboxMessage], *, trust: TrustList, identity: Identity
) -> tuple[str, list[tuple[OutboxMessage, bytes]], list[_Outcome]]:
    """(endpoint, sealed envelopes, outcomes of what cannot be sent at all)."""
    try:
        endpoint = trust.endpoint_of(recipient)
    except EnvelopeError as exc:  # UNKNOWN_RECIPIENT (may be added later) or RECIPIENT_REMOVED
        return (
            "",
            [],
            [
                _Outcome(m, code=exc.code, reason=exc.message, permanent=exc.code in PERMANENT)
                for m in messages
            ],
        )
    outcomes: list[_Outcome] = []
    sealed: list[tuple[OutboxMessage, bytes]] = []
    for message in messages:
        try:
            envelope = seal(
                id=message.id,
                sender=identity.code,
                recipient=message.recipient,
                type=message.type,
                payload=message.payload,
                ordering_key=message.ordering_key,
                seq=message.seq,
                signer=identity.signer,
            )
        except EnvelopeError as exc:  # cannot be sealed (a bad payload): no retry will help
            outcomes.append(_Outcome(message, code=exc.code, reason=exc.message, permanent=True))
            continue
        text = json.dumps(envelope_to_dict(envelope), ensure_ascii=False, separators=(",", ":"))
        sealed.append((message, text.encode("utf-8")))
    return endpoint, sealed, outcomes


def _body(chunk: list[tuple[OutboxMessage, bytes]]) -> bytes:
    return b'{"envelopes":[' + b",".join(data for _, data in chunk) + b"]}"


_BODY_OVERHEAD = len(_body([]))


def _chunks(
    sealed: list[tuple[OutboxMessage, bytes]], limit: int
) -> Iterable[list[tuple[OutboxMessage, bytes]]]:
    """Consecutive runs whose request body stays within ``limit`` (an envelope larger than that on its
    own travels alone: the recipient, whose limit may differ, says whether it takes it)."""
    chunk: list[tuple[OutboxMessage, bytes]] = []
    size = _BODY_OVERHEAD
    for item in sealed:
        extra = len(item[1]) + (1 if chunk else 0)
        if chunk and size + extra > limit:
            yield chunk
            chunk, size, extra = [], _BODY_OVERHEAD, len(item[1])
        chunk.append(item)
        size += extra
    if chunk:
        yield chunk


def _post(
    endpoint: str, chunk: list[tuple[OutboxMessage, bytes]], *, transport: Transport, report: RelayReport
) -> list[_Outcome]:
    messages = [m for m, _ in chunk]

    def all_failed(code: str, reason: str, permanent: bool = False) -> list[_Outcome]:
        return [_Outcome(m, code=code, reason=reason, permanent=permanent) for m in messages]

    try:
        report.requests += 1
        response = transport.post_envelopes(endpoint=endpoint, body=_body(chunk))
    except TransportError as exc:
        return all_failed(UNREACHABLE, str(exc))
    except Exception as exc:  # a bug in a transport: recorded and retried like any failure, never lost
        logger.exception("posting to %s failed unexpectedly", endpoint)
        return all_failed(UNREACHABLE, f"{endpoint}: {type(exc).__name__}: {exc}")
    if response.status == 413:
        if len(chunk) > 1:  # the recipient takes less than we do: halve until it fits
            half = len(chunk) // 2
            return _post(endpoint, chunk[:half], transport=transport, report=report) + _post(
                endpoint, chunk[half:], transport=transport, report=report
            )
        return all_failed(
            codes.BODY_TOO_LARGE, f"{endpoint}: the envelope alone exceeds the recipient's limit", True
        )
    if response.status != 200:
        return all_failed(HTTP_ERROR, f"{endpoint}: HTTP {response.status} {_excerpt(response.body)}")
    try:
        answer = response.json()
        results = {
            r["id"]: r for r in answer["results"] if isinstance(r, dict) and isinstance(r.get("id"), str)
        }
    except (ValueError, KeyError, TypeError):
        return all_failed(BAD_ANSWER, f"{endpoint}: {_excerpt(response.body)}")
    outcomes = []
    for message in messages:
        result = results.get(message.id)
        status = result.get("status") if result else None
        if status in ("accepted", "duplicate"):
            outcomes.append(_Outcome(message, delivered=True))
        elif status == "rejected":
            code = str(result.get("code") or "REJECTED")[:64]
            reason = str(result.get("reason") or "")
            outcomes.append(_Outcome(message, code=code, reason=reason, permanent=code in PERMANENT))
        else:
            outcomes.append(
                _Outcome(message, code=NO_ANSWER, reason=f"{endpoint}: no result for this envelope")
            )
    return outcomes


def _excerpt(body: bytes, size: int = 300) -> str:
    return body[:size].decode("utf-8", "replace")


# A whole request failed this way: the recipient itself is backed off (PeerBackoff).
_RECIPIENT_FAILURES = frozenset({UNREACHABLE, HTTP_ERROR})


def _record(
    outcomes: list[_Outcome],
    *,
    token: str,
    now: datetime,
    report: RelayReport,
    retry_from: datetime | None = None,
    failures: int = 0,
) -> None:
    """Writes each outcome, only where the claim is still this run's (a run that outlived its lease
    must not overwrite what another relay has since recorded).

    ``retry_from``: when retries are counted from (the moment the request failed; ``now``, the
    claim's moment, when not given). ``failures``: the recipient's consecutive failed requests
    before this one. When every envelope of the batch failed because the recipient could not be
    reached, the recipient is left alone until the latest of their retries (each backs off at least
    as long as the recipient's failures so far call for), at most :data:`PEER_BACKOFF_CAP_SECONDS`;
    when it answers again, its backoff ends and what was waiting for it is due at once.
    """
    if not outcomes:
        return
    retry_from = retry_from or now
    delivered = [o.message.pk for o in outcomes if o.delivered]
    recipients = {o.message.recipient for o in outcomes}
    unreachable = all(o.code in _RECIPIENT_FAILURES for o in outcomes)
    latest_retry: datetime | None = None
    with transaction.atomic():
        if delivered:
            report.delivered += OutboxMessage.objects.filter(
                pk__in=delivered, claim=token, state=OutboxState.PENDING
            ).update(
                state=OutboxState.DELIVERED,
                delivered_at=timezone.now(),
                claim="",
                last_error_code="",
                last_error="",
            )
        if delivered and failures:
            # The recipient answers again: what was backing off during its outage is due now, not
            # after each message's own (up to five-minute) wait.
            back = {o.message.recipient for o in outcomes if o.delivered}
            OutboxMessage.objects.filter(
                recipient__in=back,
                state=OutboxState.PENDING,
                claim="",
                next_attempt_at__gt=now,
                attempts__gt=0,
                # only what failed because the node could not be reached: a message refused for a
                # reason of its own keeps its backoff
                last_error_code__in=[UNREACHABLE, HTTP_ERROR],
            ).update(next_attempt_at=now)
            PeerBackoff.objects.filter(recipient__in=back).delete()
        for outcome in outcomes:
            if outcome.delivered:
                continue
            message = outcome.message
            attempts = message.attempts + 1
            error = f"{outcome.code}: {outcome.reason}"[:ERROR_MAX]
            mine = OutboxMessage.objects.filter(pk=message.pk, claim=token, state=OutboxState.PENDING)
            if outcome.permanent or attempts >= settings.EXCHANGE_MAX_ATTEMPTS:
                if mine.update(
                    state=OutboxState.PARKED,
                    parked_at=now,
                    attempts=attempts,
                    last_error_code=outcome.code,
                    last_error=error,
                    claim="",
                ):
                    report.parked += 1
                    logger.error(
                        "outbox message %s (%s → %s) parked after %d attempt(s): %s",
                        message.pk,
                        message.type,
                        message.recipient,
                        attempts,
                        error,
                    )
                continue
            backoff = max(attempts, failures + 1) if unreachable else attempts
            retry_at = retry_from + retry_delay(backoff)
            if mine.update(
                attempts=attempts,
                last_error_code=outcome.code,
                last_error=error,
                next_attempt_at=retry_at,
                claim="",
            ):
                report.retrying += 1
                latest_retry = max(latest_retry or retry_at, retry_at)
                logger.warning(
                    "outbox message %s (%s → %s) not delivered, attempt %d: %s",
                    message.pk,
                    message.type,
                    message.recipient,
                    attempts,
                    error,
                )
        if unreachable and latest_retry is not None and len(recipients) == 1:
            (recipient,) = recipients
            latest_retry = min(latest_retry, retry_from + timedelta(seconds=PEER_BACKOFF_CAP_SECONDS))
            last = outcomes[-1]
            updated = PeerBackoff.objects.filter(recipient=recipient).update(
                failures=F("failures") + 1,
                blocked_until=latest_retry,
                last_error_code=last.code,
                last_error=f"{last.code}: {last.reason}"[:ERROR_MAX],
                updated_at=timezone.now(),
            )
            if not updated:
                with contextlib.suppress(IntegrityError), transaction.atomic():
                    PeerBackoff.objects.create(
                        recipient=recipient,
                        failures=1,
                        blocked_until=latest_retry,
                        last_error_code=last.code,
                        last_error=f"{last.code}: {last.reason}"[:ERROR_MAX],
                    )
            logger.warning(
                "relay: %s unreachable (%d failed request(s) in a row); not sending to it until %s",
                recipient,
                failures + 1,
                latest_retry.isoformat(timespec="seconds"),
            )
