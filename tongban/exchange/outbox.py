"""The transactional outbox: services say what to send inside their own transaction.

``enqueue`` writes an ``OutboxMessage`` row in the caller's transaction, so the message exists if
and only if the business change committed. After the commit it pokes the relay (a Celery task when
a broker is configured, the embedded worker otherwise) so delivery starts at once rather than at the
next poll; if the poke is lost, the periodic run finds the message anyway.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection, transaction

from tongban.core.inserts import rows_insert
from tongban.exchange.envelope import NODE_CODE_TEXT, ORDERING_KEY_MAX, TYPE_MAX, TYPE_TEXT
from tongban.exchange.models import OutboxMessage, OutboxSequence

logger = logging.getLogger(__name__)


def enqueue(*, recipient: str, type: str, payload: dict, ordering_key: str = "") -> OutboxMessage:
    """Queues one message to ``recipient`` (a node code) and returns its row.

    Must be called inside the caller's ``transaction.atomic()`` block: the message is part of the
    business change. With an ``ordering_key`` (e.g. the case number) the message gets the next
    ``seq`` of (recipient, ordering key), and the recipient applies that key's messages in ``seq``
    order; without one, ``seq`` is 0 (unordered).
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "outbox.enqueue() must run inside the business transaction (transaction.atomic()): "
            "the message has to commit or roll back with the change it announces"
        )
    _check(recipient=recipient, type=type, payload=payload, ordering_key=ordering_key)
    seq = _next_seq(recipient=recipient, ordering_key=ordering_key) if ordering_key else 0
    message = OutboxMessage(
        recipient=recipient, type=type, payload=payload, ordering_key=ordering_key, seq=seq
    )
    rows_insert([message])
    transaction.on_commit(poke_relay)
    return message


def _check(*, recipient: str, type: str, payload: dict, ordering_key: str) -> None:
    """Refuses here, in the caller's code, what could never be sealed (a programming error)."""
    if not isinstance(recipient, str) or not NODE_CODE_TEXT.fullmatch(recipient):
        raise ValueError(f"recipient must be a 6-digit node code, not {recipient!r}")
    if not isinstance(type, str) or len(type) > TYPE_MAX or not TYPE_TEXT.fullmatch(type):
        raise ValueError(f"type must be a dotted lower-case name such as 'case.transfer', not {type!r}")
    if not isinstance(payload, dict):
        raise ValueError("payload must be a dict")
    if not isinstance(ordering_key, str) or len(ordering_key) > ORDERING_KEY_MAX:
        raise ValueError(f"ordering_key must be a string of at most {ORDERING_KEY_MAX} characters")
    if any(ord(c) < 0x20 or c == "\x7f" for c in ordering_key):
        raise ValueError("ordering_key must not contain control characters")


def _next_seq(*, recipient: str, ordering_key: str) -> int:
    """Next ``seq`` of (recipient, ordering key), in one statement (an upsert). The counter row stays
    locked until the caller's transaction ends, so concurrent changes of the same case get consecutive
    numbers in commit order; a rolled-back change gives its number back."""
    table = connection.ops.quote_name(OutboxSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (recipient, ordering_key, last_seq) VALUES (%s, %s, 1) "
            f"ON CONFLICT (recipient, ordering_key) DO UPDATE SET last_seq = {table}.last_seq + 1 "
            "RETURNING last_seq",
            [recipient, ordering_key],
        )
        return cursor.fetchone()[0]


def poke_relay() -> None:
    """Tells whoever delivers that there is something to send. Cheap, and never raises: the message
    is committed already, and the periodic run delivers it if this poke is lost."""
    from tongban.exchange import worker

    worker.poke()
    if settings.CELERY_BROKER_URL:
        try:
            from tongban.exchange.tasks import relay_outbox

            relay_outbox.apply_async(retry=False)
        except Exception:  # the broker is down: the beat schedule runs the relay anyway
            logger.warning(
                "could not queue relay_outbox on the broker; the periodic run will deliver", exc_info=True
            )


# --- Operators' commands: `tongban federation outbox | resend | messages` ---------------------------
# Registered in tongban/exchange/management/commands/federation.py (SUBCOMMANDS). Each parses its
# arguments, calls one selector or service, and prints; the actor is the operator at the console
# (None: the system), as for every CLI command.


def _when(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def outbox_arguments(parser) -> None:
    parser.add_argument("--parked", action="store_true", help="只列出已搁置的消息")
    parser.add_argument("--recipient", help="只列出发往该节点的消息")
    parser.add_argument("--case", help="只列出该顺序键（办件编号）的消息")
    parser.add_argument("--limit", type=int, default=100, help="最多列出多少条（默认 100）")


def outbox_command(command, options: dict) -> None:
    from tongban.exchange import selectors

    if options["parked"]:
        rows = list(selectors.parked_messages(recipient=options.get("recipient"))[: options["limit"]])
        for m in rows:
            command.stdout.write(
                f"{m.pk}  {_when(m.created_at)}  → {m.recipient}  {m.type}  {m.ordering_key or '-'}#{m.seq}  "
                f"尝试 {m.attempts} 次  {m.last_error}"
            )
        command.stdout.write(
            f"已搁置 {len(rows)} 条。" + ("重新发送：tongban federation resend ID… 或 --all" if rows else "")
        )
        return
    entries = selectors.message_log(
        direction="out", node=options.get("recipient"), case=options.get("case"), limit=options["limit"]
    )
    for e in entries:
        command.stdout.write(
            f"{e.id}  {_when(e.at)}  → {e.node}  {e.type}  {e.case or '-'}#{e.seq}  {e.state}  "
            f"尝试 {e.attempts} 次  {e.code}"
        )
    command.stdout.write(f"共 {len(entries)} 条。")


def resend_arguments(parser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="要重新发送的已搁置消息的标识")
    parser.add_argument("--all", action="store_true", help="重新发送全部已搁置的消息")
    parser.add_argument("--recipient", help="与 --all 一起用：只重新发送发往该节点的消息")


def resend_command(command, options: dict) -> None:
    from django.core.management.base import CommandError

    from tongban.exchange import services

    if options["all"] == bool(options["ids"]):
        raise CommandError("请给出要重新发送的消息标识，或使用 --all（二者选一）。", returncode=2)
    if options["all"]:
        count = services.outbox_resend_all_parked(recipient=options.get("recipient"), actor=None)
    else:
        for message_id in options["ids"]:
            services.outbox_resend(message_id=message_id, actor=None)
        count = len(options["ids"])
    command.stdout.write(f"已重新发送 {count} 条消息。")


def messages_arguments(parser) -> None:
    parser.add_argument("--case", help="顺序键（办件编号）")
    parser.add_argument("--node", help="对方节点代码")
    parser.add_argument("--type", help="消息类型，如 case.transfer")
    parser.add_argument("--direction", choices=("out", "in", "rejected"), help="发出、收到或拒收")
    parser.add_argument("--since", help="起始时间（含），ISO 8601")
    parser.add_argument("--until", help="截止时间（不含），ISO 8601")
    parser.add_argument("--limit", type=int, default=100)


def messages_command(command, options: dict) -> None:
    from django.core.management.base import CommandError
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from tongban.exchange import selectors

    def moment(name: str):
        text = options.get(name)
        if not text:
            return None
        value = parse_datetime(text)
        if value is None:
            raise CommandError(f"--{name} 应为 ISO 8601 时间，如 2026-11-21T10:00:00+08:00。", returncode=2)
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    arrows = {"out": "→", "in": "←", "rejected": "✗"}
    entries = selectors.message_log(
        case=options.get("case"),
        node=options.get("node"),
        type=options.get("type"),
        direction=options.get("direction"),
        since=moment("since"),
        until=moment("until"),
        limit=options["limit"],
    )
    for e in entries:
        command.stdout.write(
            f"{_when(e.at)}  {arrows[e.direction]} {e.node or '?'}  {e.type or '-'}  {e.case or '-'}#{e.seq}  "
            f"{e.state}  {e.id or '-'}  {e.code}"
        )
    command.stdout.write(f"共 {len(entries)} 条。")
