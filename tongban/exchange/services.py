"""Operators' actions on the exchange: re-send parked messages, retry a failed inbox message now.

The admin, the CLI (``tongban federation resend``) and anything else call these, so each action is
checked, done in one transaction and audited the same way whichever door it came through.
``actor`` is the user acting, or None for the operators' CLI (the system).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, NotFound
from tongban.exchange.models import InboxMessage, InboxState, OutboxMessage, OutboxState, PeerBackoff

OUTBOX_MESSAGE_NOT_FOUND = "OUTBOX_MESSAGE_NOT_FOUND"
OUTBOX_MESSAGE_NOT_PARKED = "OUTBOX_MESSAGE_NOT_PARKED"
INBOX_MESSAGE_NOT_FOUND = "INBOX_MESSAGE_NOT_FOUND"
INBOX_MESSAGE_NOT_FAILED = "INBOX_MESSAGE_NOT_FAILED"
EXCHANGE_OPERATOR_REQUIRED = "EXCHANGE_OPERATOR_REQUIRED"

RESEND_PERMISSION = "exchange.change_outboxmessage"
RETRY_PERMISSION = "exchange.change_inboxmessage"


def _check_permission(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise Forbidden(EXCHANGE_OPERATOR_REQUIRED, _("您无权操作节点交换消息。"))


def _resend(message: OutboxMessage, *, actor, now) -> None:
    previous = {"attempts": message.attempts, "last_error_code": message.last_error_code}
    message.state = OutboxState.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.parked_at = None
    message.claim = ""
    message.save(update_fields=["state", "attempts", "next_attempt_at", "parked_at", "claim"])
    # "Send it now" also ends the relays' backoff from its recipient.
    PeerBackoff.objects.filter(recipient=message.recipient).delete()
    audit.record(
        actor=actor,
        action="exchange.outbox_resend",
        target=message,
        data={"recipient": message.recipient, "type": message.type, "seq": message.seq, **previous},
    )


def _poke_after_commit() -> None:
    from tongban.exchange.outbox import poke_relay

    transaction.on_commit(poke_relay)


def outbox_resend(*, message_id: str, actor) -> OutboxMessage:
    """Puts a parked message back in line: pending, attempts reset to 0, due now. Its last error stays
    visible until the next attempt replaces it."""
    _check_permission(actor, RESEND_PERMISSION)
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFound(
                OUTBOX_MESSAGE_NOT_FOUND, _("没有标识为 %(id)s 的发件箱消息。") % {"id": message_id}
            )
        if message.state != OutboxState.PARKED:
            raise Conflict(
                OUTBOX_MESSAGE_NOT_PARKED,
                _("只有已搁置的消息才能重新发送（该消息当前状态：%(state)s）。")
                % {"state": message.get_state_display()},
            )
        _resend(message, actor=actor, now=timezone.now())
        _poke_after_commit()
    return message


def outbox_resend_all_parked(*, recipient: str | None = None, actor) -> int:
    """Re-sends every parked message (to ``recipient`` only, if given); returns how many. Each one is
    audited on its own."""
    _check_permission(actor, RESEND_PERMISSION)
    now = timezone.now()
    with transaction.atomic():
        query = OutboxMessage.objects.select_for_update().filter(state=OutboxState.PARKED).defer("payload")
        if recipient is not None:
            query = query.filter(recipient=recipient)
        messages = list(query.order_by("created_at", "id"))
        for message in messages:
            _resend(message, actor=actor, now=now)
        if messages:
            _poke_after_commit()
    return len(messages)


def inbox_retry(*, message_id: str, actor) -> InboxMessage:
    """Makes a failed inbox message due now instead of after its backoff (e.g. once the cause, such
    as a missing handler or reference data, has been fixed)."""
    _check_permission(actor, RETRY_PERMISSION)
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().filter(pk=message_id).defer("envelope").first()
        if message is None:
            raise NotFound(
                INBOX_MESSAGE_NOT_FOUND, _("没有标识为 %(id)s 的收件箱消息。") % {"id": message_id}
            )
        if message.state != InboxState.FAILED:
            raise Conflict(INBOX_MESSAGE_NOT_FAILED, _("只有处理失败的消息才能重试。"))
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["next_attempt_at"])
        audit.record(
            actor=actor,
            action="exchange.inbox_retry",
            target=message,
            data={"sender": message.sender, "type": message.type, "error_code": message.error_code},
        )

        def poke() -> None:
            from tongban.exchange.inbox import poke_applier

            poke_applier()

        transaction.on_commit(poke)
    return message
