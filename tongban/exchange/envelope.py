"""Signed envelopes between nodes (docs/exchange.md, "Envelope").

:func:`seal` makes one; :func:`envelope_to_dict` / :func:`envelope_from_dict` are its JSON form (the
latter strict: every field present, typed and well-formed, nothing else); :func:`envelope_verify` is
what a receiver checks, in the order of the table in docs/exchange.md, raising :class:`EnvelopeError`
with the table's stable code at the first check that fails.

The signature covers the RFC 8785 canonical JSON of every field except ``signature`` (including
``kid`` and ``alg``), exactly the bytes :func:`signed_bytes` returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

from tongban.core.errors import TongbanError
from tongban.exchange import error_codes as codes
from tongban.exchange.canonical import (
    CanonicalError,
    canonical_bytes,
    check_canonical,
    format_time,
    loads_strict,
    parse_time,
    truncate_ms,
)
from tongban.exchange.signing import Signer, b64u, b64u_decode, suite_for

if TYPE_CHECKING:
    from tongban.exchange.trust import TrustList

# HTTP status of each refusal. None is 5xx: a refusal is the sender's or the federation's business.
_STATUS = {
    codes.ENVELOPE_MALFORMED: 400,
    codes.BODY_TOO_LARGE: 413,
    codes.WRONG_RECIPIENT: 422,
    codes.UNKNOWN_SENDER: 403,
    codes.MEMBER_REMOVED: 403,
    codes.UNKNOWN_KEY: 403,
    codes.KEY_NOT_VALID: 403,
    codes.BAD_SIGNATURE: 403,
    codes.STALE: 422,
    codes.FROM_THE_FUTURE: 422,
    codes.UNKNOWN_RECIPIENT: 422,
    codes.RECIPIENT_REMOVED: 422,
    codes.TRUST_LIST_MALFORMED: 422,
    codes.TRUST_LIST_BAD_SIGNATURE: 422,
    codes.TRUST_LIST_ROLLBACK: 409,
    # The receiver cannot judge anything until it has a usable list again: a refusal the sender
    # retries later (never 5xx, as docs/exchange.md requires of every refusal).
    codes.TRUST_LIST_MISSING: 403,
    codes.TRUST_LIST_EXPIRED: 403,
    codes.TRUST_ANCHOR_NOT_CONFIGURED: 403,
}


class EnvelopeError(TongbanError):
    """An envelope refused (or one that cannot be addressed). ``code`` is from ``error_codes``."""

    def __init__(self, code: str, message: str, *, details: dict | None = None, status: int | None = None):
        super().__init__(
            code=code, message=message, status=status or _STATUS.get(code, 400), details=details or {}
        )


class TrustListError(TongbanError):
    """A trust list that cannot be used: malformed, badly signed, older, missing or expired."""

    def __init__(self, code: str, message: str, *, details: dict | None = None, status: int | None = None):
        super().__init__(
            code=code, message=message, status=status or _STATUS.get(code, 422), details=details or {}
        )


@dataclass(frozen=True)
class Envelope:
    id: str
    sender: str
    recipient: str
    type: str
    created_at: datetime
    ordering_key: str
    seq: int
    payload: dict
    kid: str
    alg: str
    signature: str


FIELDS = (
    "id",
    "sender",
    "recipient",
    "type",
    "created_at",
    "ordering_key",
    "seq",
    "payload",
    "kid",
    "alg",
    "signature",
)

MAX_SEQ = 2**53 - 1
UUID7_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
NODE_CODE_TEXT = re.compile(r"[0-9]{6}")
TYPE_TEXT = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
KID_TEXT = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ALG_TEXT = re.compile(r"[A-Za-z0-9._-]{1,32}")
ORDERING_KEY_MAX = 200
TYPE_MAX = 64
SIGNATURE_TEXT_MAX = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _malformed(field: str, problem: str, /, **details: Any) -> EnvelopeError:
    return EnvelopeError(
        codes.ENVELOPE_MALFORMED, f"信封格式错误：字段 {field} {problem}", details={"field": field, **details}
    )


def _check_str(field: str, value: Any, pattern: re.Pattern, form: str) -> str:
    if not isinstance(value, str):
        raise _malformed(field, "应为字符串")
    if not pattern.fullmatch(value):
        raise _malformed(field, f"应为{form}")
    return value


def _check_fields(
    *, id, sender, recipient, type, created_at, ordering_key, seq, payload, kid, alg
) -> datetime:
    """Checks every field but ``signature``; returns the parsed time."""
    _check_str("id", id, UUID7_TEXT, "小写带连字符的 UUIDv7（RFC 9562）")
    _check_str("sender", sender, NODE_CODE_TEXT, "6位行政区划代码")
    _check_str("recipient", recipient, NODE_CODE_TEXT, "6位行政区划代码")
    if not isinstance(type, str):
        raise _malformed("type", "应为字符串")
    if len(type) > TYPE_MAX or not TYPE_TEXT.fullmatch(type):
        raise _malformed("type", f"应为以点分隔的小写名称（如 case.transfer），不超过 {TYPE_MAX} 个字符")
    if isinstance(created_at, datetime):
        try:
            when = truncate_ms(created_at)
        except ValueError:
            raise _malformed("created_at", "应带时区") from None
    else:
        try:
            when = parse_time(created_at)
        except ValueError:
            raise _malformed("created_at", "应为 UTC 时间，格式 YYYY-MM-DDTHH:MM:SS.mmmZ") from None
    if not isinstance(ordering_key, str):
        raise _malformed("ordering_key", "应为字符串（无顺序要求时为空字符串）")
    if len(ordering_key) > ORDERING_KEY_MAX or _CONTROL.search(ordering_key):
        raise _malformed("ordering_key", f"不能含控制字符，且不超过 {ORDERING_KEY_MAX} 个字符")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise _malformed("seq", "应为整数")
    if not 0 <= seq <= MAX_SEQ:
        raise _malformed("seq", f"应在 0 到 {MAX_SEQ} 之间")
    if not isinstance(payload, dict):
        raise _malformed("payload", "应为 JSON 对象")
    try:
        check_canonical(payload)
    except CanonicalError as exc:
        raise _malformed(
            "payload",
            "含有 JSON 无法规范表示的值（非有限数、超出 ±(2^53-1) 的整数、非字符串键等）",
            reason=str(exc),
        ) from None
    _check_str("kid", kid, KID_TEXT, "1-128 个字符的密钥标识（A-Z a-z 0-9 . _ : -）")
    _check_str("alg", alg, ALG_TEXT, "签名算法名称（如 Ed25519）")
    return when


def seal(
    *,
    id: str,
    sender: str,
    recipient: str,
    type: str,
    payload: dict,
    ordering_key: str = "",
    seq: int = 0,
    signer: Signer,
    created_at: datetime | None = None,
) -> Envelope:
    """Signs a new envelope with ``signer``. ``created_at`` (default now) is kept to the millisecond.

    Raises :class:`EnvelopeError` ``ENVELOPE_MALFORMED`` for a field a receiver would refuse.
    """
    when = _check_fields(
        id=id,
        sender=sender,
        recipient=recipient,
        type=type,
        created_at=created_at if created_at is not None else datetime.now(UTC),
        ordering_key=ordering_key,
        seq=seq,
        payload=payload,
        kid=signer.kid,
        alg=signer.alg,
    )
    unsigned = Envelope(
        id, sender, recipient, type, when, ordering_key, seq, payload, signer.kid, signer.alg, ""
    )
    signature = b64u(signer.sign(signed_bytes(unsigned)))
    return Envelope(
        id, sender, recipient, type, when, ordering_key, seq, payload, signer.kid, signer.alg, signature
    )


def _unsigned_dict(env: Envelope) -> dict[str, Any]:
    return {
        "id": env.id,
        "sender": env.sender,
        "recipient": env.recipient,
        "type": env.type,
        "created_at": format_time(env.created_at),
        "ordering_key": env.ordering_key,
        "seq": env.seq,
        "payload": env.payload,
        "kid": env.kid,
        "alg": env.alg,
    }


def signed_bytes(env: Envelope) -> bytes:
    """The bytes the signature is over: RFC 8785 canonical JSON of every field except ``signature``."""
    try:
        unsigned = _unsigned_dict(env)
    except ValueError:
        raise _malformed("created_at", "应为带时区的时间") from None
    try:
        return canonical_bytes(unsigned)
    except CanonicalError as exc:
        raise _malformed("payload", "含有 JSON 无法规范表示的值", reason=str(exc)) from None


def envelope_to_dict(env: Envelope) -> dict[str, Any]:
    """The JSON form of ``env`` (the wire format of docs/exchange.md)."""
    return {**_unsigned_dict(env), "signature": env.signature}


def envelope_from_dict(data: Any) -> Envelope:
    """Reads an envelope's JSON form strictly; raises :class:`EnvelopeError` ``ENVELOPE_MALFORMED``
    naming the first field at fault. Does not verify anything: see :func:`envelope_verify`."""
    if not isinstance(data, dict):
        raise EnvelopeError(codes.ENVELOPE_MALFORMED, "信封格式错误：信封应为 JSON 对象。")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise _malformed(missing[0], "缺失", missing=missing)
    extra = sorted(name for name in data if name not in FIELDS)
    if extra:
        raise _malformed(str(extra[0]), "不是信封的字段（信封只能含有文档规定的字段）", extra=extra)
    created_at = data["created_at"]
    if not isinstance(created_at, str):
        raise _malformed("created_at", "应为 UTC 时间字符串，格式 YYYY-MM-DDTHH:MM:SS.mmmZ")
    when = _check_fields(**{name: data[name] for name in FIELDS if name != "signature"})
    signature = data["signature"]
    if not isinstance(signature, str):
        raise _malformed("signature", "应为字符串")
    if not signature or len(signature) > SIGNATURE_TEXT_MAX:
        raise _malformed("signature", f"应为 1-{SIGNATURE_TEXT_MAX} 个字符的 base64url")
    try:
        b64u_decode(signature)
    except ValueError:
        raise _malformed("signature", "应为无填充的 base64url（RFC 4648 §5）") from None
    return Envelope(
        id=data["id"],
        sender=data["sender"],
        recipient=data["recipient"],
        type=data["type"],
        created_at=when,
        ordering_key=data["ordering_key"],
        seq=data["seq"],
        payload=data["payload"],
        kid=data["kid"],
        alg=data["alg"],
        signature=signature,
    )


def envelope_from_json(body: bytes | str) -> Envelope:
    """Parses a request body (I-JSON: no duplicate names, no NaN) and reads the envelope strictly."""
    try:
        data = loads_strict(body)
    except CanonicalError as exc:
        raise EnvelopeError(
            codes.ENVELOPE_MALFORMED,
            "信封格式错误：不是合法的 JSON（UTF-8，无重复字段名）。",
            details={"reason": str(exc)},
        ) from None
    return envelope_from_dict(data)


def envelope_verify(env: Envelope, *, trust: TrustList, me: str, now: datetime | None = None) -> None:
    """What the receiver checks (docs/exchange.md), in that order; returns when all pass.

    Raises :class:`EnvelopeError`: ``WRONG_RECIPIENT``; ``UNKNOWN_SENDER`` / ``MEMBER_REMOVED`` /
    ``UNKNOWN_KEY`` / ``KEY_NOT_VALID`` (the key must have been valid at ``created_at``);
    ``BAD_SIGNATURE``; ``STALE`` / ``FROM_THE_FUTURE``. Whether the trust list itself is still usable
    is :func:`tongban.exchange.trust.current_trust_list`'s to say; replays are the inbox's.
    """
    about = {"envelope_id": env.id, "sender": env.sender, "kid": env.kid}
    if env.recipient != me:
        raise EnvelopeError(
            codes.WRONG_RECIPIENT,
            f"信封的收件节点是 {env.recipient}，不是本节点 {me}。",
            details={**about, "recipient": env.recipient},
        )
    key = trust.key_valid_at(env.sender, env.kid, env.created_at)
    if env.alg != key.alg:
        raise EnvelopeError(
            codes.BAD_SIGNATURE, f"签名算法 {env.alg} 与密钥 {env.kid} 的算法 {key.alg} 不符。", details=about
        )
    if suite_for(env.alg) is None:
        raise EnvelopeError(codes.BAD_SIGNATURE, f"本节点不支持签名算法 {env.alg}。", details=about)
    try:
        signature = b64u_decode(env.signature)
    except ValueError:
        raise EnvelopeError(codes.BAD_SIGNATURE, "签名不是合法的 base64url。", details=about) from None
    if not suite_for(env.alg).verify(key.public_key, signature, signed_bytes(env)):
        raise EnvelopeError(
            codes.BAD_SIGNATURE, "签名验证失败：信封在途中被改动，或不是该密钥所签。", details=about
        )
    now = now or datetime.now(UTC)
    age = now - env.created_at
    if age > timedelta(seconds=settings.EXCHANGE_MAX_AGE_SECONDS):
        raise EnvelopeError(
            codes.STALE,
            f"信封创建于 {int(age.total_seconds())} 秒前，超过了 {settings.EXCHANGE_MAX_AGE_SECONDS} 秒的时限。",
            details={**about, "created_at": format_time(env.created_at)},
        )
    if -age > timedelta(seconds=settings.EXCHANGE_MAX_SKEW_SECONDS):
        raise EnvelopeError(
            codes.FROM_THE_FUTURE,
            f"信封的创建时间比本节点时钟晚 {int(-age.total_seconds())} 秒，超过了允许的 "
            f"{settings.EXCHANGE_MAX_SKEW_SECONDS} 秒时钟偏差。",
            details={**about, "created_at": format_time(env.created_at)},
        )
