"""Reading certificates: a person's certificates, the node's verifier with its cached trust list and
status lists, and each certificate's status as the issuer's list says now."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tongban.certificates.access import holder_hashes
from tongban.certificates.constants import CertificateStatus
from tongban.certificates.models import Certificate, CertificateType, StatusListRecord
from tongban.certificates.status_list import StatusListError, status_list_parse
from tongban.certificates.verification import (
    HeldStatusList,
    StatusLists,
    StatusUnavailable,
    Verdict,
    credential_verify,
)


def certificates_of(user) -> QuerySet[Certificate]:
    """Every certificate the user holds or applied for, from every city, newest first."""
    hashes = holder_hashes(user)
    if not hashes:
        return Certificate.objects.none()
    return Certificate.objects.filter(
        Q(holder_id_hash__in=hashes) | Q(applicant_id_hash__in=hashes)
    ).select_related("type")


def certificates_of_type(user, type_key: str) -> list[Certificate]:
    """The user's newest version of each certificate of one type (for the picker)."""
    newest: dict[str, Certificate] = {}
    for cert in certificates_of(user).filter(type__key=type_key).order_by("serial", "-version"):
        newest.setdefault(f"{cert.issuer_code}.{cert.serial}", cert)
    return list(newest.values())


def certificate_types() -> QuerySet[CertificateType]:
    return CertificateType.objects.all()


# --- Status lists cached per process ------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, HeldStatusList | None]] = {}


def invalidate_status_cache() -> None:
    with _cache_lock:
        _cache.clear()


class NodeStatusLists:
    """The status lists this node holds (its own, and those synced from the others), read from the
    database at most every ``TONGBAN_CERT_STATUS_CACHE_SECONDS`` per issuer and process."""

    def _held(self, issuer: str) -> HeldStatusList | None:
        now = time.monotonic()
        hit = _cache.get(issuer)
        if hit is not None and now - hit[0] < settings.CERT_STATUS_CACHE_SECONDS:
            return hit[1]
        token = StatusListRecord.objects.filter(issuer_node=issuer).values_list("token", flat=True).first()
        held = None
        if token:
            try:
                parsed = status_list_parse(token)  # verified when it was stored
                held = HeldStatusList(parsed.data, parsed.expires_at)
            except StatusListError:
                held = None
        with _cache_lock:
            _cache[issuer] = (now, held)
        return held

    def status_of(self, issuer: str, idx: int, now: datetime) -> int:
        held = self._held(issuer)
        return StatusLists({issuer: held} if held else {}).status_of(issuer, idx, now)


@dataclass
class NodeVerifier:
    """Verifies credentials as this node sees the federation now."""

    statuses: NodeStatusLists

    def verify(self, text: str, *, now: datetime | None = None) -> Verdict:
        from tongban.certificates import error_codes as codes
        from tongban.exchange.envelope import TrustListError
        from tongban.exchange.trust import current_trust_list

        try:
            trust = current_trust_list()
        except TrustListError as exc:
            trust = own_keys_trust()
            if trust is None:
                return Verdict(
                    False, codes.UNKNOWN_ISSUER, f"本节点没有可用的信任列表，无法核验：{exc.message}"
                )
        return credential_verify(text, trust=trust, statuses=self.statuses, now=now)


_verifier = NodeVerifier(NodeStatusLists())


def own_keys_trust():
    """A node not (yet) in a federation still vouches for what it signed itself: a trust list of
    just this node and its own keys. None when the node has no key either."""
    from tongban.exchange.keys import node_public_keys
    from tongban.exchange.trust import ACTIVE, Member, MemberKey, TrustList

    # ``iat`` has whole seconds; a key made earlier in the same second must already count.
    keys = tuple(
        MemberKey(k.kid, k.alg, k.public_key, k.created_at.replace(microsecond=0), None)
        for k in node_public_keys()
    )
    if not keys:
        return None
    me = Member(settings.NODE_CODE, settings.NODE_NAME, "http://127.0.0.1", ("node",), ACTIVE, keys)
    now = datetime.now(UTC)
    return TrustList(0, now, now, {settings.NODE_CODE: me}, {})


def node_verifier() -> NodeVerifier:
    return _verifier


@dataclass(frozen=True)
class ShownStatus:
    code: str  # valid / suspended / revoked / expired / unknown
    label: str


def shown_status(cert: Certificate, *, now: datetime | None = None) -> ShownStatus:
    """The status to show for a certificate: this node's record for its own certificates, the
    issuer's status list for the others; expiry for both."""
    now = now or datetime.now(UTC)
    today = now.astimezone().date()
    if cert.issuer_node == settings.NODE_CODE:
        code = cert.status
    else:
        try:
            code = {0: "valid", 1: "revoked", 2: "suspended"}.get(
                _verifier.statuses.status_of(cert.issuer_node, cert.status_index, now), "unknown"
            )
        except StatusUnavailable:
            code = "unknown"
    if code == "valid" and cert.valid_until and today > cert.valid_until:
        code = "expired"
    labels = {
        **{status.value: status.label for status in CertificateStatus},
        "expired": _("已过期"),
        "unknown": _("状态待同步"),
    }
    return ShownStatus(code, str(labels[code]))


# --- One certificate, for its holder or its issuer ------------------------------------------------------


def own_status_list() -> StatusListRecord | None:
    return StatusListRecord.objects.filter(issuer_node=settings.NODE_CODE).first()


def certificate_for(user, identifier: str) -> Certificate:
    """The certificate, if the user holds it or works for the authority that issued it here. Anything
    else is "not found", so identifiers cannot be probed."""
    from tongban.certificates import error_codes as codes
    from tongban.certificates.access import can_change_status, can_hold
    from tongban.core.errors import NotFound

    cert = Certificate.objects.select_related("type").filter(identifier=identifier).first()
    if cert is None or not (
        can_hold(user, cert) or (cert.issuer_node == settings.NODE_CODE and can_change_status(user, cert))
    ):
        raise NotFound(codes.NOT_FOUND, f"找不到证照 {identifier}。")
    return cert


def credential_for(user, identifier: str, *, disclose: str | None = None) -> str:
    """The holder's credential, whole or with only the named fields disclosed."""
    from tongban.certificates import error_codes as codes
    from tongban.certificates.access import check_holder
    from tongban.certificates.sdjwt import sdjwt_present
    from tongban.core.errors import InvalidInput

    cert = certificate_for(user, identifier)
    check_holder(user, cert)
    if disclose is None:
        return cert.credential
    names = {n.strip() for n in disclose.split(",") if n.strip()}
    known = {
        "number",
        "holder_name",
        "holder_id",
        "holder_id_type",
        *cert.type.field_schema.get("properties", {}),
    }
    unknown = names - known
    if unknown:
        raise InvalidInput(
            codes.DISCLOSE_UNKNOWN, f"“{cert.type_name}”没有这些字段：{'、'.join(sorted(unknown))}。"
        )
    return sdjwt_present(cert.credential, names)


def verify_input(data: bytes | str, *, now: datetime | None = None) -> Verdict:
    """Verifies what a person hands in (credential, QR text or PDF) as this node sees things now."""
    from tongban.certificates import error_codes as codes
    from tongban.certificates.inputs import input_verify
    from tongban.exchange.envelope import TrustListError
    from tongban.exchange.trust import current_trust_list

    try:
        trust = current_trust_list()
    except TrustListError as exc:
        trust = own_keys_trust()
        if trust is None:
            return Verdict(False, codes.UNKNOWN_ISSUER, f"本节点没有可用的信任列表，无法核验：{exc.message}")
    return input_verify(data, trust=trust, statuses=_verifier.statuses, now=now)
