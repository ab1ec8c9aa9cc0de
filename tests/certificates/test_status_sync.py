"""A suspension at the issuing node reaches the others through the exchange: the periodic step signs
the status list and puts it in the outbox for every member; a receiving node keeps it (only if signed
by the issuer and newer) and refuses the certificate from then on.

One database plays both nodes, as in the exchange tests: 合肥 issues and broadcasts, then the same
database acts as 上海 (``NODE_CODE``) applying the message 合肥 sent."""

from __future__ import annotations

import pytest

from tests.certificates import kit
from tongban.certificates import error_codes as codes
from tongban.certificates.federation import on_status_list
from tongban.certificates.models import StatusListRecord
from tongban.certificates.selectors import invalidate_status_cache, node_verifier
from tongban.certificates.services import (
    STATUS_LIST_MESSAGE,
    certificate_status_change,
    status_list_broadcast,
)
from tongban.certificates.status_list import SUSPENDED, VALID, status_at, status_list_parse
from tongban.certificates.tasks import status_list_sync_step
from tongban.core.errors import InvalidInput
from tongban.exchange.models import OutboxMessage

pytestmark = pytest.mark.django_db


def sent_status(cert) -> int:
    """The certificate's status in the newest list 合肥 sent to 上海 (as 上海 would read it)."""
    message = OutboxMessage.objects.filter(recipient=kit.SHANGHAI, type=STATUS_LIST_MESSAGE).latest("pk")
    return status_at(status_list_parse(message.payload["token"]).data, cert.status_index)


def test_a_suspension_is_sent_to_every_node_by_the_next_sync(settings, tmp_path):
    invalidate_status_cache()
    _, authority = kit.node(settings, tmp_path)
    cert = kit.issue(authority)
    first = status_list_broadcast()
    assert sorted(first.sent_to) == [kit.SHANGHAI, kit.HUANGSHAN]
    assert sent_status(cert) == VALID

    certificate_status_change(identifier=cert.identifier, action="suspend", reason="核查中", actor=None)
    assert sent_status(cert) == VALID  # the others learn it with the next sync, not before
    assert status_list_sync_step()["sent_to"] == 2
    assert sent_status(cert) == SUSPENDED
    assert status_list_sync_step()["sent_to"] == 0  # nothing new: nothing sent again

    # 上海 applies what it was sent: verified against 合肥's key in the trust list, then kept.
    message = OutboxMessage.objects.filter(recipient=kit.SHANGHAI, type=STATUS_LIST_MESSAGE).latest("pk")
    settings.NODE_CODE = kit.SHANGHAI
    StatusListRecord.objects.filter(issuer_node=kit.HEFEI).delete()  # as if 上海 had none yet
    invalidate_status_cache()
    assert node_verifier().verify(cert.credential).code == codes.STATUS_UNKNOWN
    on_status_list(message.payload, sender=kit.HEFEI, envelope_id=str(message.pk))
    invalidate_status_cache()
    assert node_verifier().verify(cert.credential).code == codes.SUSPENDED
    settings.NODE_CODE = kit.HEFEI


def test_a_status_list_sent_by_another_node_or_changed_is_refused(settings, tmp_path):
    invalidate_status_cache()
    _, authority = kit.node(settings, tmp_path)
    kit.issue(authority)
    status_list_broadcast()
    message = OutboxMessage.objects.filter(recipient=kit.SHANGHAI, type=STATUS_LIST_MESSAGE).latest("pk")
    settings.NODE_CODE = kit.SHANGHAI
    with pytest.raises(Exception) as forged:
        on_status_list(message.payload, sender=kit.HUANGSHAN, envelope_id="x")
    assert getattr(forged.value, "code", "") == codes.NOT_ISSUER
    token = message.payload["token"]
    changed = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(InvalidInput):
        on_status_list({"token": changed}, sender=kit.HEFEI, envelope_id="y")
    assert not StatusListRecord.objects.filter(issuer_node=kit.HEFEI, token=changed).exists()
    settings.NODE_CODE = kit.HEFEI
