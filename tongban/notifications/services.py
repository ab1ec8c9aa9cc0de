"""Notifications: a row in the same transaction as the change, the e-mail only after it commits."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from tongban.core.inserts import rows_insert
from tongban.notifications.models import Notification

log = logging.getLogger(__name__)


def notify(*, user, title: str, body: str, case=None) -> Notification | None:
    if user is None:
        return None
    note = Notification(user=user, case=case, title=title, body=body)
    rows_insert([note])
    if user.email:
        transaction.on_commit(lambda: _send_email(user.email, title, body))
    return note


def _send_email(address: str, title: str, body: str) -> None:
    try:
        send_mail(f"【通办】{title}", body, None, [address])
    except Exception:  # the in-app message is the record; a failed e-mail must not undo the change
        log.exception("notification e-mail to a user failed")


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())
