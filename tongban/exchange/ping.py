"""``node.ping``: a signed probe from one node to another, for operators and for measuring delivery.

``tongban federation ping 310000 [--count N]`` queues N pings; each travels the whole path (outbox,
relay, signature, receiver, inbox) and its effect at the recipient is only that it is applied, so
the message log shows end-to-end delivery time between the two nodes.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tongban.exchange.outbox import enqueue

PING = "node.ping"


def ping_send(*, recipient: str, count: int = 1) -> int:
    with transaction.atomic():
        for i in range(count):
            enqueue(recipient=recipient, type=PING, payload={"sent_at": timezone.now().isoformat(), "n": i})
    return count


def on_ping(payload: dict, *, sender: str, envelope_id: str) -> None:
    """Nothing to do: being applied is the answer (its time is in the inbox row)."""


def ping_arguments(parser) -> None:
    parser.add_argument("recipient", help="接收节点的区划代码")
    parser.add_argument("--count", type=int, default=1, help="发送次数（默认 1）")


def ping_command(command, options: dict) -> None:
    if not 1 <= options["count"] <= 1_000_000:
        from tongban.core.errors import InvalidInput

        raise InvalidInput("INVALID_COUNT", "发送次数应在 1 到 1000000 之间。")
    n = ping_send(recipient=options["recipient"], count=options["count"])
    command.stdout.write(
        f"已排队 {n} 个探测消息发往 {options['recipient']}；用 `tongban federation messages --type node.ping` 查看送达。"
    )


def register_handlers() -> None:
    from tongban.exchange import handlers

    handlers.register(PING)(on_ping)
