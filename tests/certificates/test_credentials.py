"""Issuing and verifying certificates with real keys (Ed25519 and SM2), a real trust list and real
status lists: every kind of bad input is refused with its own stable code, never an exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests import factories
from tests.certificates import kit
from tongban.certificates import error_codes as codes
from tongban.certificates.identifiers import IdentifierError, identifier_make, identifier_parse
from tongban.certificates.models import Certificate, CertificateStatusEvent, StatusListRecord
from tongban.certificates.sdjwt import sdjwt_present
from tongban.certificates.selectors import invalidate_status_cache, node_verifier
from tongban.certificates.services import certificate_status_change, status_list_publish, status_list_store
from tongban.certificates.status_list import SUSPENDED, status_list_sign
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.exchange.signing import Ed25519Signer

pytestmark = pytest.mark.django_db


def verify(text, **kw):
    invalidate_status_cache()
    return node_verifier().verify(text, **kw)


# --- Identifier ----------------------------------------------------------------------------------------


def test_identifier_has_the_gbt_36904_shape_and_a_mod_37_36_check():
    ident = identifier_make(type_code="11100000000013338W001", issuer_code=factories.uscc_code(), serial=42)
    text = str(ident)
    assert text.startswith("1.2.156.3005.2.11100000000013338W001.")
    assert text.split(".")[-3:-1] == ["00000042", "001"]
    assert identifier_parse(text) == ident
    typo = text[:-3] + ("1" if text[-3] != "1" else "2") + text[-2:]  # a wrong version digit
    with pytest.raises(IdentifierError, match="校验位"):
        identifier_parse(typo)


def test_identifier_refuses_an_issuer_code_with_a_bad_check_character():
    good = factories.uscc_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(IdentifierError, match="统一社会信用代码"):
        identifier_make(type_code="X001", issuer_code=bad, serial=1)


# --- Issue and verify ------------------------------------------------------------------------------------


def test_issued_certificate_verifies_and_records_its_history(node):
    cert = kit.issue(node, type_key="sbk", holder_name="王五")
    cert.refresh_from_db()
    assert identifier_parse(cert.identifier).serial == cert.serial
    assert cert.valid_until == date(
        cert.valid_from.year + 10, cert.valid_from.month, cert.valid_from.day
    ) - timedelta(days=1)
    assert list(CertificateStatusEvent.objects.filter(certificate=cert).values_list("action", flat=True)) == [
        "issue"
    ]
    verdict = verify(cert.credential)
    assert verdict.valid, verdict
    assert verdict.identifier == cert.identifier
    assert verdict.claims["holder_name"] == "王五"
    assert verdict.claims["data"]["card_kind"] == "第三代社会保障卡"
    # Personal data is encrypted at rest.
    raw = Certificate.objects.filter(pk=cert.pk).values_list("holder_id_enc", flat=True).get()
    assert cert.holder_id not in raw


def test_a_node_on_sm2_issues_certificates_every_node_verifies(settings, tmp_path):
    invalidate_status_cache()
    _, authority = kit.node(settings, tmp_path, alg="SM2-SM3")
    cert = kit.issue(authority, type_key="jszz")
    assert cert.alg == "SM2-SM3"
    assert verify(cert.credential).valid


def test_missing_or_wrong_fields_are_refused_with_field_errors_and_nothing_written(node):
    with pytest.raises(InvalidInput) as exc:
        kit.issue(node, type_key="xwzs", data={"degree": "工学学士", "colour": "red"})
    assert exc.value.code == codes.FIELDS_INVALID
    fields = {e.field for e in exc.value.errors}
    assert "data.discipline" in fields
    assert Certificate.objects.count() == 0


def test_every_changed_byte_is_refused_with_a_reason_never_an_exception(node):
    cert = kit.issue(node, type_key="wfzjl")
    text = cert.credential
    seen = set()
    for pos in range(0, len(text), 7):
        replacement = "A" if text[pos] != "A" else "B"
        changed = text[:pos] + replacement + text[pos + 1 :]
        verdict = verify(changed)
        assert not verdict.valid, pos
        seen.add(verdict.code)
    assert codes.SIGNATURE_INVALID in seen and codes.DISCLOSURE_INVALID in seen


def test_truncated_or_garbage_input_is_malformed(node):
    cert = kit.issue(node)
    for text in (cert.credential[:40], cert.credential.rstrip("~"), "", "not a credential", "~~~", "a.b.c~"):
        verdict = verify(text)
        assert not verdict.valid and verdict.unusable_input, (text, verdict)


def test_signature_by_another_key_under_the_nodes_kid_is_refused(node):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tongban.exchange.keys import node_signer

    impostor = Ed25519Signer(Ed25519PrivateKey.generate(), node_signer().kid)
    cert = kit.issue(node, signer=impostor)
    verdict = verify(cert.credential)
    assert verdict.code == codes.SIGNATURE_INVALID


def test_unknown_and_removed_issuers_are_refused(node, settings):
    cert = kit.issue(node)
    kit.install(settings, removed=(kit.HEFEI,))
    assert verify(cert.credential).code == codes.ISSUER_REMOVED
    from tests.exchange import kit as xkit

    xkit.install_trust(settings, members=(kit.SHANGHAI, kit.HUANGSHAN), version=10_000)
    assert verify(cert.credential).code == codes.UNKNOWN_ISSUER


def test_a_key_rotated_out_still_vouches_for_what_it_signed_while_valid(node, settings):
    from tongban.exchange import keys

    cert = kit.issue(node)
    old = keys.node_public_keys()[0]
    issued = cert.issued_at
    # The key was valid from 30 days ago until one minute after the certificate was issued.
    entry = kit.node_key_entry(old, not_after=issued + timedelta(minutes=1))
    kit.install(settings, hefei_keys=[entry])
    assert verify(cert.credential).valid
    # Had it expired before the certificate was issued, the certificate would not be the issuer's.
    entry = kit.node_key_entry(old, not_after=issued - timedelta(days=1))
    kit.install(settings, hefei_keys=[entry])
    assert verify(cert.credential).code == codes.KEY_NOT_VALID


def test_expired_and_not_yet_valid(node):
    cert = kit.issue(node, type_key="wfzjl")  # three months
    later = datetime.now(UTC) + timedelta(days=120)
    assert verify(cert.credential, now=later).code in (codes.EXPIRED, codes.STATUS_STALE)
    future = kit.issue(node, type_key="wfzjl", valid_from=date.today() + timedelta(days=10))
    assert verify(future.credential).code == codes.NOT_YET_VALID


def test_suspend_revoke_reinstate_are_refused_and_accepted_at_once_here(node):
    cert = kit.issue(node)
    reviewer = factories.staff(node)
    certificate_status_change(identifier=cert.identifier, action="suspend", reason="核查中", actor=reviewer)
    assert verify(cert.credential).code == codes.SUSPENDED
    certificate_status_change(
        identifier=cert.identifier, action="reinstate", reason="核查完毕", actor=reviewer
    )
    assert verify(cert.credential).valid
    certificate_status_change(identifier=cert.identifier, action="revoke", reason="依法吊销", actor=reviewer)
    assert verify(cert.credential).code == codes.REVOKED
    with pytest.raises(Conflict):
        certificate_status_change(identifier=cert.identifier, action="reinstate", reason="x", actor=reviewer)
    actions = list(CertificateStatusEvent.objects.filter(certificate=cert).values_list("action", flat=True))
    assert actions == ["issue", "suspend", "reinstate", "revoke"]


def test_only_the_issuing_authority_changes_status(node):
    cert = kit.issue(node)
    other = factories.staff(factories.organisation(name="合肥市公安局"))
    with pytest.raises(NotFound):
        certificate_status_change(identifier=cert.identifier, action="revoke", reason="x", actor=other)
    with pytest.raises(InvalidInput):
        certificate_status_change(
            identifier=cert.identifier, action="revoke", reason=" ", actor=factories.staff(node)
        )


def test_new_version_supersedes_and_revokes_the_old(node):
    first = kit.issue(node, type_key="jszz")
    second = kit.issue(
        node, type_key="jszz", holder_id=first.holder_id, supersedes=first, data={"vehicle_class": "B2"}
    )
    assert second.serial == first.serial and second.version == 2
    assert identifier_parse(second.identifier).version == 2
    assert verify(second.credential).valid
    assert verify(first.credential).code == codes.REVOKED


# --- Selective disclosure ---------------------------------------------------------------------------------


def test_holder_shows_only_what_an_item_needs(node):
    cert = kit.issue(node, type_key="xwzs")
    shown = sdjwt_present(cert.credential, {"holder_name", "degree"})
    verdict = verify(shown)
    assert verdict.valid
    assert verdict.claims["holder_name"] == "张三"
    assert verdict.claims["data"] == {"degree": "工学学士"}
    assert "holder_id" not in verdict.claims


def test_a_disclosure_taken_from_another_certificate_is_refused(node):
    mine = kit.issue(node, type_key="xwzs", holder_name="张三")
    theirs = kit.issue(node, type_key="xwzs", holder_name="李四")
    foreign = theirs.credential.split("~")[1]
    forged = mine.credential + foreign + "~"
    assert verify(forged).code == codes.DISCLOSURE_INVALID


# --- Status lists of other nodes ---------------------------------------------------------------------------


def _shanghai_list(statuses, *, issued_at=None, lifetime=3600):
    return status_list_sign(
        issuer=kit.SHANGHAI,
        statuses=statuses,
        size=8192,
        signer=kit.SHANGHAI_SM2,
        issued_at=issued_at or datetime.now(UTC).replace(microsecond=0),
        lifetime=lifetime,
        ttl=15,
    )


def test_status_lists_of_other_nodes_are_kept_only_when_signed_by_them_and_newer(node):
    older = _shanghai_list({}, issued_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    newer = _shanghai_list({7: SUSPENDED})
    assert status_list_store(newer, sender=kit.SHANGHAI) is not None
    assert status_list_store(older, sender=kit.SHANGHAI) is None  # never goes back in time
    with pytest.raises(Forbidden):
        status_list_store(_shanghai_list({}), sender=kit.HUANGSHAN)  # 黄山 cannot speak for 上海
    tampered = newer[:-5] + ("AAAAA" if newer[-5:] != "AAAAA" else "BBBBB")
    from tongban.certificates.status_list import StatusListError

    with pytest.raises(StatusListError):
        status_list_store(tampered, sender=kit.SHANGHAI)
    assert StatusListRecord.objects.get(issuer_node=kit.SHANGHAI).token == newer


def test_own_status_list_is_signed_and_covers_new_certificates(node):
    cert = kit.issue(node)
    record = StatusListRecord.objects.get(issuer_node=kit.HEFEI)
    assert record.size > cert.status_index
    status_list_publish()
    assert verify(cert.credential).valid
