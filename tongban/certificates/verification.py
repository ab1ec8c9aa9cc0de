"""Whether a certificate is acceptable: one function for the CLI, the API, the pages and the cases.

:func:`credential_verify` takes the credential text (an SD-JWT, which is also what the QR code holds),
the trust list and a source of status lists, and returns a :class:`Verdict`; it never raises for bad
input. What it checks, in this order: the SD-JWT's structure and every disclosure (each must be one
the issuer signed); the issuing node and its key in the trust list *at the time of issue* (so a key
rotated out since still vouches for what it signed while valid, and a removed node vouches for
nothing); the signature; the identifier (check character, and that it names the type, issuer and
version the credential states); the validity period; the issuer's status list.

:func:`tongban.certificates.inputs.input_verify` accepts what people hand in: a credential, QR text
or a PDF made by a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tongban.certificates import error_codes as codes
from tongban.certificates.identifiers import IdentifierError, identifier_parse
from tongban.certificates.sdjwt import TYP, SdJwtError, sdjwt_parse
from tongban.certificates.status_list import REVOKED, SUSPENDED, node_of_uri
from tongban.exchange import error_codes as xcodes
from tongban.exchange.envelope import EnvelopeError
from tongban.exchange.signing import suite_for
from tongban.exchange.trust import TrustList

VCT_PREFIX = "urn:tongban:certificate:"

_TRUST_CODES = {
    xcodes.UNKNOWN_SENDER: codes.UNKNOWN_ISSUER,
    xcodes.MEMBER_REMOVED: codes.ISSUER_REMOVED,
    xcodes.UNKNOWN_KEY: codes.UNKNOWN_KEY,
    xcodes.KEY_NOT_VALID: codes.KEY_NOT_VALID,
}


@dataclass(frozen=True)
class Verdict:
    valid: bool
    code: str  # "VALID" or one of tongban.certificates.error_codes
    reason: str
    identifier: str | None = None
    version: int | None = None
    issuer: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def unusable_input(self) -> bool:
        return self.code in codes.UNUSABLE_INPUT

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "identifier": self.identifier,
            "code": self.code,
            "version": self.version,
            "issuer": self.issuer,
        }


class StatusSource(Protocol):
    def status_of(self, issuer: str, idx: int, now: datetime) -> int:
        """The status (0 valid, 1 revoked, 2 suspended) of entry ``idx`` of ``issuer``'s list. Raises
        :class:`StatusUnavailable` when there is no usable list."""


class StatusUnavailable(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _refuse(code: str, reason: str, **known) -> Verdict:
    return Verdict(False, code, reason, **known)


def credential_verify(
    text: str, *, trust: TrustList, statuses: StatusSource, now: datetime | None = None
) -> Verdict:
    now = now or datetime.now(UTC)
    try:
        parsed = sdjwt_parse(text, malformed=codes.MALFORMED, disclosure_invalid=codes.DISCLOSURE_INVALID)
    except SdJwtError as exc:
        return _refuse(exc.code, exc.message)
    header, claims = parsed.header, parsed.claims
    identifier_text = claims.get("id") if isinstance(claims.get("id"), str) else None
    known = {"identifier": identifier_text}
    if (
        header.get("typ") != TYP
        or not isinstance(claims.get("vct"), str)
        or not claims["vct"].startswith(VCT_PREFIX)
    ):
        return _refuse(codes.UNSUPPORTED, "不是本平台的电子证照凭证（typ 或 vct 不符）。", **known)
    alg, kid, issuer, iat = header.get("alg"), header.get("kid"), claims.get("iss"), claims.get("iat")
    if not isinstance(kid, str) or not isinstance(issuer, str) or type(iat) is not int:
        return _refuse(
            codes.MALFORMED, "凭证缺少签发节点（iss）、密钥标识（kid）或签发时间（iat）。", **known
        )
    known["issuer"] = issuer
    suite = suite_for(alg) if isinstance(alg, str) else None
    if suite is None:
        return _refuse(codes.UNSUPPORTED, f"不支持的签名算法“{alg}”。", **known)

    # Who signed, with which key, and was that key theirs when the certificate was issued?
    try:
        issued_at = datetime.fromtimestamp(iat, UTC)
        key = trust.key_valid_at(issuer, kid, issued_at)
    except (OverflowError, OSError, ValueError):
        return _refuse(codes.MALFORMED, "签发时间（iat）超出范围。", **known)
    except EnvelopeError as exc:
        return _refuse(
            _TRUST_CODES.get(exc.code, codes.UNKNOWN_ISSUER), _issuer_reason(exc, issuer, kid), **known
        )
    if key.alg != alg or not suite.verify(key.public_key, parsed.signature, parsed.signing_input):
        return _refuse(
            codes.SIGNATURE_INVALID,
            f"签名无效：凭证内容被改动过，或不是用签发节点 {issuer} 的密钥 {kid} 签名的。",
            **known,
        )

    try:
        ident = identifier_parse(identifier_text or "", check_issuer=False)
    except IdentifierError as exc:
        return _refuse(codes.IDENTIFIER_INVALID, str(exc), **known)
    issuer_org = claims.get("issuer") if isinstance(claims.get("issuer"), dict) else {}
    if (
        ident.type_code != claims.get("type_code")
        or ident.issuer_code != issuer_org.get("code")
        or ident.version != claims.get("version")
        or claims["vct"] != VCT_PREFIX + ident.type_code
    ):
        return _refuse(codes.IDENTIFIER_INVALID, "证照标识与凭证中的类型、颁证单位或版本不一致。", **known)
    known["version"] = ident.version

    moment = int(now.timestamp())
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if type(nbf) is int and moment < nbf:
        return _refuse(
            codes.NOT_YET_VALID, f"证照自 {claims.get('valid_from')} 起生效，现在尚未生效。", **known
        )
    if type(exp) is int and moment >= exp:
        return _refuse(codes.EXPIRED, f"证照已于 {claims.get('valid_until')} 到期。", **known)

    status = claims.get("status", {}).get("status_list") if isinstance(claims.get("status"), dict) else None
    idx = status.get("idx") if isinstance(status, dict) else None
    if type(idx) is not int or node_of_uri(status.get("uri")) != issuer:
        return _refuse(codes.MALFORMED, "凭证没有指向签发节点状态列表的状态项。", **known)
    try:
        state = statuses.status_of(issuer, idx, now)
    except StatusUnavailable as exc:
        return _refuse(exc.code, exc.reason, **known)
    if state == REVOKED:
        return _refuse(codes.REVOKED, "证照已被颁证单位撤销（吊销或注销）。", **known)
    if state == SUSPENDED:
        return _refuse(codes.SUSPENDED, "证照已被颁证单位暂停使用。", **known)
    if state != 0:
        return _refuse(codes.STATUS_UNKNOWN, f"状态列表中的状态值 {state} 无法识别。", **known)
    return Verdict(True, "VALID", "有效：签名、颁证单位、有效期和状态均已核验。", claims=claims, **known)


def _issuer_reason(exc: EnvelopeError, issuer: str, kid: str) -> str:
    if exc.code == xcodes.UNKNOWN_SENDER:
        return f"签发节点 {issuer} 不在信任列表中，无法确认颁证单位。"
    if exc.code == xcodes.MEMBER_REMOVED:
        return f"签发节点 {issuer} 已被移出联盟，其签发的证照不再被认可。"
    if exc.code == xcodes.UNKNOWN_KEY:
        return f"密钥 {kid} 不是签发节点 {issuer} 的密钥。"
    return f"签发节点 {issuer} 的密钥 {kid} 在签发时不在有效期内。"


# --- Status lists held in memory (the CLI's files; the node's cache wraps the same) ---------------


@dataclass
class HeldStatusList:
    data: bytes
    expires_at: datetime


class StatusLists:
    """Status lists by issuing node, already verified (see ``status_list_accept``)."""

    def __init__(self, lists: dict[str, HeldStatusList] | None = None):
        self.lists = lists or {}

    def status_of(self, issuer: str, idx: int, now: datetime) -> int:
        from tongban.certificates.status_list import status_at

        held = self.lists.get(issuer)
        if held is None:
            raise StatusUnavailable(
                codes.STATUS_UNKNOWN, f"没有签发节点 {issuer} 的状态列表，无法确认证照是否仍然有效。"
            )
        if now >= held.expires_at:
            raise StatusUnavailable(
                codes.STATUS_STALE,
                f"签发节点 {issuer} 的状态列表已于 {held.expires_at:%Y-%m-%d %H:%M} 过期，无法确认证照是否仍然有效。",
            )
        state = status_at(held.data, idx)
        if state is None:
            raise StatusUnavailable(
                codes.STATUS_UNKNOWN, f"签发节点 {issuer} 的状态列表还不包含这份证照（第 {idx} 项）。"
            )
        return state


def status_list_accept(token: str, *, trust: TrustList):
    """Parses a status list token and checks its signature against the trust list. Returns the parsed
    token. Raises ``StatusListError`` or ``EnvelopeError``."""
    from tongban.certificates.status_list import StatusListError, status_list_parse

    parsed = status_list_parse(token)
    key = trust.key_valid_at(parsed.issuer, parsed.kid, parsed.issued_at)
    suite = suite_for(parsed.alg)
    if (
        suite is None
        or key.alg != parsed.alg
        or not suite.verify(key.public_key, parsed.signature, parsed.signing_input)
    ):
        raise StatusListError(f"状态列表的签名无效（签发节点 {parsed.issuer}）。")
    return parsed
