"""Certificates between nodes: a certificate issued for a case applied for elsewhere goes back to the
node where the holder applied (``cert.issued``); every node sends its newest status list to the others
(``cert.status_list``)."""

from __future__ import annotations

from tongban.certificates.services import (
    ISSUED_MESSAGE,
    STATUS_LIST_MESSAGE,
    certificate_receive,
    status_list_store,
)
from tongban.certificates.status_list import StatusListError
from tongban.core.errors import InvalidInput
from tongban.exchange import handlers
from tongban.exchange.envelope import EnvelopeError

STATUS_LIST_REFUSED = "CERT_STATUS_LIST_REFUSED"


def on_issued(payload: dict, *, sender: str, envelope_id: str) -> None:
    certificate_receive(payload["credential"], sender=sender, case_number=payload.get("case", ""))


def on_status_list(payload: dict, *, sender: str, envelope_id: str) -> None:
    try:
        status_list_store(payload["token"], sender=sender)
    except (StatusListError, EnvelopeError) as exc:
        raise InvalidInput(STATUS_LIST_REFUSED, f"节点 {sender} 的状态列表未通过核验：{exc}") from exc


def register_handlers() -> None:
    handlers.register(ISSUED_MESSAGE, replace=True)(on_issued)
    handlers.register(STATUS_LIST_MESSAGE, replace=True)(on_status_list)
