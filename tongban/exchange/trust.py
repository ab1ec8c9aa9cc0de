"""The federation's trust list (docs/exchange.md, "Trust list"): who the members are, where they
listen, and which keys were valid when.

- :func:`trust_list_verify` checks a document against the trust anchor's key(s) and reads it strictly.
- :func:`trust_list_install` stores a newer list durably (:class:`TrustListState`, one row) and refuses
  a lower version; :func:`trust_list_refresh` fetches ``TONGBAN_TRUST_LIST_URL`` and installs what is
  newer, keeping the last good list (and saying why) when that fails.
- :func:`current_trust_list` is the list this node works with: cached per process, re-read when the
  stored one changes, re-verified whenever it is read from the database, and refused
  (``TRUST_LIST_EXPIRED``) once ``next_update + TONGBAN_TRUST_GRACE_HOURS`` has passed.
- :func:`trust_list_sign` is the anchor's side: it signs a payload into a document.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, router, transaction

from tongban.exchange import error_codes as codes
from tongban.exchange.canonical import CanonicalError, canonical_bytes, format_time, loads_strict, parse_time
from tongban.exchange.envelope import ALG_TEXT, KID_TEXT, EnvelopeError, TrustListError
from tongban.exchange.signing import Signer, b64u, b64u_decode, suite_for, verify_signature
from tongban.exchange.trust_models import SINGLETON_ID, TrustListState

__all__ = [
    "Member",
    "MemberKey",
    "RefreshResult",
    "TrustList",
    "TrustListError",
    "TrustStatus",
    "current_trust_list",
    "install_if_newer",
    "installed_trust_list",
    "invalidate_cache",
    "trust_list_install",
    "trust_list_refresh",
    "trust_list_sign",
    "trust_list_verify",
    "trust_status",
]

ACTIVE = "active"
REMOVED = "removed"
STATUSES = (ACTIVE, REMOVED)
MAX_VERSION = 2**53 - 1
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
ROLE_TEXT = re.compile(r"[a-z][a-z0-9_-]{0,31}")
CODE_TEXT = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class MemberKey:
    kid: str
    alg: str
    public_key: bytes
    not_before: datetime
    not_after: datetime | None

    def valid_at(self, at: datetime) -> bool:
        """``not_before <= at < not_after`` (no ``not_after``: open-ended)."""
        return self.not_before <= at and (self.not_after is None or at < self.not_after)


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    endpoint: str
    roles: tuple[str, ...]
    status: str
    keys: tuple[MemberKey, ...]

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def key(self, kid: str) -> MemberKey | None:
        for key in self.keys:
            if key.kid == kid:
                return key
        return None


@dataclass(frozen=True)
class TrustList:
    version: int
    issued_at: datetime
    next_update: datetime
    members: dict[str, Member]
    document: dict = field(repr=False)

    def member(self, code: str) -> Member | None:
        return self.members.get(code)

    def key_valid_at(self, code: str, kid: str, at: datetime) -> MemberKey:
        """The key ``kid`` of member ``code`` if it was valid at ``at`` and the member is not removed.

        Raises :class:`EnvelopeError` ``UNKNOWN_SENDER``, ``MEMBER_REMOVED``, ``UNKNOWN_KEY`` or
        ``KEY_NOT_VALID``.
        """
        details = {"sender": code, "kid": kid, "trust_list_version": self.version}
        member = self.members.get(code)
        if member is None:
            raise EnvelopeError(
                codes.UNKNOWN_SENDER,
                f"发件节点 {code} 不在信任列表（第 {self.version} 版）中。",
                details=details,
            )
        if not member.active:
            raise EnvelopeError(
                codes.MEMBER_REMOVED, f"发件节点 {code}（{member.name}）已被移出联盟。", details=details
            )
        key = member.key(kid)
        if key is None:
            raise EnvelopeError(
                codes.UNKNOWN_KEY, f"密钥 {kid} 不属于发件节点 {code}（{member.name}）。", details=details
            )
        if not key.valid_at(at):
            until = format_time(key.not_after) if key.not_after else "无期限"
            raise EnvelopeError(
                codes.KEY_NOT_VALID,
                f"密钥 {kid} 在 {format_time(at)} 不在有效期内（{format_time(key.not_before)} 至 {until}）。",
                details={**details, "at": format_time(at)},
            )
        return key

    def endpoint_of(self, code: str) -> str:
        """Where member ``code`` receives envelopes. Raises :class:`EnvelopeError` ``UNKNOWN_RECIPIENT``
        or ``RECIPIENT_REMOVED``: nothing is sent to a node that is not an active member."""
        member = self.members.get(code)
        if member is None:
            raise EnvelopeError(
                codes.UNKNOWN_RECIPIENT,
                f"收件节点 {code} 不在信任列表（第 {self.version} 版）中。",
                details={"recipient": code},
            )
        if not member.active:
            raise EnvelopeError(
                codes.RECIPIENT_REMOVED,
                f"收件节点 {code}（{member.name}）已被移出联盟。",
                details={"recipient": code},
            )
        return member.endpoint

    def usable_until(self) -> datetime:
        return self.next_update + timedelta(hours=settings.TRUST_GRACE_HOURS)


# --- Reading and verifying a document ------------------------------------------------------------


def _malformed(where: str, reason: str) -> TrustListError:
    return TrustListError(
        codes.TRUST_LIST_MALFORMED, f"信任列表格式错误：{where} {reason}", details={"field": where}
    )


def _exact_keys(obj: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(obj, dict):
        raise _malformed(where, "应为 JSON 对象")
    missing = [k for k in required if k not in obj]
    if missing:
        raise _malformed(f"{where}.{missing[0]}", "缺失")
    extra = sorted(k for k in obj if k not in required and k not in optional)
    if extra:
        raise _malformed(f"{where}.{extra[0]}", "不是文档规定的字段")
    return obj


def _str(obj: dict, key: str, where: str, *, pattern: re.Pattern | None = None, form: str = "") -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise _malformed(f"{where}.{key}", "应为非空字符串")
    if pattern is not None and not pattern.fullmatch(value):
        raise _malformed(f"{where}.{key}", f"应为{form}")
    return value


def _time(obj: dict, key: str, where: str) -> datetime:
    try:
        return parse_time(obj[key])
    except ValueError:
        raise _malformed(f"{where}.{key}", "应为 UTC 时间，格式 YYYY-MM-DDTHH:MM:SS.mmmZ") from None


def _endpoint(value: str, where: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise _malformed(where, "应为 http(s):// 地址（不带查询串）")
    return value


def _read_key(obj: Any, where: str) -> MemberKey:
    obj = _exact_keys(obj, where, ("kid", "alg", "public_key", "not_before", "not_after"))
    kid = _str(obj, "kid", where, pattern=KID_TEXT, form="1-128 个字符的密钥标识")
    alg = _str(obj, "alg", where, pattern=ALG_TEXT, form="签名算法名称")
    try:
        public_key = b64u_decode(obj["public_key"])
    except ValueError:
        raise _malformed(f"{where}.public_key", "应为无填充的 base64url") from None
    suite = suite_for(alg)
    # A key of an algorithm this node does not know yet is kept (it simply never verifies here).
    if not public_key or (suite is not None and not suite.public_key_ok(public_key)):
        raise _malformed(f"{where}.public_key", f"不是 {alg} 公钥")
    not_before = _time(obj, "not_before", where)
    not_after = None if obj["not_after"] is None else _time(obj, "not_after", where)
    if not_after is not None and not_after <= not_before:
        raise _malformed(f"{where}.not_after", "应晚于 not_before")
    return MemberKey(kid, alg, public_key, not_before, not_after)


def _read_member(obj: Any, where: str) -> Member:
    obj = _exact_keys(obj, where, ("code", "name", "endpoint", "roles", "status", "keys"))
    code = _str(obj, "code", where, pattern=CODE_TEXT, form="6位行政区划代码")
    name = _str(obj, "name", where)
    endpoint = _endpoint(_str(obj, "endpoint", where), f"{where}.endpoint")
    roles = obj["roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) and ROLE_TEXT.fullmatch(r) for r in roles):
        raise _malformed(f"{where}.roles", "应为角色名（小写字母）的数组")
    if len(set(roles)) != len(roles):
        raise _malformed(f"{where}.roles", "有重复的角色")
    status = obj["status"]
    if status not in STATUSES:
        raise _malformed(f"{where}.status", "应为 active 或 removed")
    keys = obj["keys"]
    if not isinstance(keys, list):
        raise _malformed(f"{where}.keys", "应为数组")
    read = tuple(_read_key(k, f"{where}.keys[{i}]") for i, k in enumerate(keys))
    if len({k.kid for k in read}) != len(read):
        raise _malformed(f"{where}.keys", "有重复的 kid")
    return Member(code, name, endpoint, tuple(roles), status, read)


def _read_payload(payload: dict, document: dict) -> TrustList:
    _exact_keys(payload, "payload", ("version", "issued_at", "next_update", "members"))
    version = payload["version"]
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise _malformed("payload.version", "应为正整数")
    issued_at = _time(payload, "issued_at", "payload")
    next_update = _time(payload, "next_update", "payload")
    if next_update <= issued_at:
        raise _malformed("payload.next_update", "应晚于 issued_at")
    members_in = payload["members"]
    if not isinstance(members_in, list):
        raise _malformed("payload.members", "应为数组")
    members: dict[str, Member] = {}
    for i, obj in enumerate(members_in):
        member = _read_member(obj, f"payload.members[{i}]")
        if member.code in members:
            raise _malformed(f"payload.members[{i}].code", f"{member.code} 重复出现")
        members[member.code] = member
    return TrustList(version, issued_at, next_update, members, document)


def trust_list_verify(document: Any, *, anchor_keys: list[bytes]) -> TrustList:
    """Checks that ``document`` is a trust list signed by one of ``anchor_keys`` (raw public keys) and
    reads it. Raises :class:`TrustListError` ``TRUST_LIST_MALFORMED``, ``TRUST_LIST_BAD_SIGNATURE`` (or
    ``TRUST_ANCHOR_NOT_CONFIGURED`` when ``anchor_keys`` is empty)."""
    if not anchor_keys:
        raise TrustListError(
            codes.TRUST_ANCHOR_NOT_CONFIGURED,
            "未配置信任锚公钥（TONGBAN_TRUST_ANCHOR_KEY），无法验证信任列表。",
        )
    _exact_keys(document, "document", ("payload", "kid", "alg", "signature"))
    payload = document["payload"]
    if not isinstance(payload, dict):
        raise _malformed("payload", "应为 JSON 对象")
    _str(document, "kid", "document", pattern=KID_TEXT, form="1-128 个字符的密钥标识")
    alg = _str(document, "alg", "document", pattern=ALG_TEXT, form="签名算法名称")
    try:
        signature = b64u_decode(document["signature"])
    except ValueError:
        raise _malformed("document.signature", "应为无填充的 base64url") from None
    try:
        signed = canonical_bytes(payload)
    except CanonicalError:
        raise _malformed("payload", "含有 JSON 无法规范表示的值") from None
    if not any(
        verify_signature(alg=alg, public_key=key, signature=signature, data=signed) for key in anchor_keys
    ):
        raise TrustListError(
            codes.TRUST_LIST_BAD_SIGNATURE,
            "信任列表的签名无法用已配置的信任锚公钥验证：文件被改动，或不是本联盟的信任锚所签。",
            details={"kid": document["kid"]},
        )
    return _read_payload(payload, document)


def trust_list_sign(payload: dict, *, signer: Signer) -> dict:
    """The anchor's side: the signed document for ``payload`` (checked to be a readable trust list)."""
    document = {
        "payload": payload,
        "kid": signer.kid,
        "alg": signer.alg,
        "signature": b64u(signer.sign(canonical_bytes(payload))),
    }
    _read_payload(payload, document)
    return document


def document_digest(document: dict) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


# --- This node's list -----------------------------------------------------------------------------


def anchor_keys() -> list[bytes]:
    """The configured trust anchor keys (``TONGBAN_TRUST_ANCHOR_KEY``)."""
    keys = []
    for text in settings.TRUST_ANCHOR_KEYS:
        try:
            key = b64u_decode(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise TrustListError(
                codes.TRUST_ANCHOR_NOT_CONFIGURED,
                f"TONGBAN_TRUST_ANCHOR_KEY 中的“{text[:16]}…”不是 Ed25519 公钥（32 字节，无填充 base64url）。",
            )
        keys.append(key)
    return keys


# (stored version, stored digest, anchor keys) → the verified list
_cache: tuple[tuple, TrustList] | None = None
_STATE_SQL = f"SELECT version, digest FROM {TrustListState._meta.db_table} WHERE id = %s"


def invalidate_cache() -> None:
    global _cache
    _cache = None
    # The key this node signs with depends on the list (a rotated key signs once it is listed).
    from tongban.exchange.keys import _signing_kids

    _signing_kids.clear()


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be time zone-aware")
    return now


def _expired(trust: TrustList, now: datetime) -> TrustListError:
    return TrustListError(
        codes.TRUST_LIST_EXPIRED,
        f"信任列表（第 {trust.version} 版）应于 {format_time(trust.next_update)} 更新，"
        f"宽限 {settings.TRUST_GRACE_HOURS} 小时也已过去：暂停收发信封，直到取得新的信任列表。",
        details={
            "version": trust.version,
            "next_update": format_time(trust.next_update),
            "usable_until": format_time(trust.usable_until()),
        },
    )


def _missing() -> TrustListError:
    return TrustListError(
        codes.TRUST_LIST_MISSING,
        "本节点尚未安装信任列表：运行 tongban federation trust-refresh 或 trust-install。",
    )


def installed_trust_list() -> TrustList:
    """The installed list, verified, whether or not it has expired (for showing it); cached while the
    stored row does not change. Raises :class:`TrustListError` ``TRUST_LIST_MISSING`` (or a
    verification error when the stored document no longer verifies with the configured anchor keys)."""
    global _cache
    # Asked on every verification: a fixed statement, not a query built each time.
    with connections[router.db_for_read(TrustListState)].cursor() as cursor:
        cursor.execute(_STATE_SQL, [SINGLETON_ID])
        row = cursor.fetchone()
    if row is None or row[0] == 0:
        raise _missing()
    keys = anchor_keys()
    cache_key = (row[0], row[1], tuple(keys))
    cached = _cache
    if cached is not None and cached[0] == cache_key:
        return cached[1]
    document = TrustListState.objects.filter(pk=SINGLETON_ID).values_list("document", flat=True).first()
    if document is None:
        raise _missing()
    trust = trust_list_verify(document, anchor_keys=keys)
    _cache = (cache_key, trust)
    return trust


def current_trust_list(*, now: datetime | None = None) -> TrustList:
    """The node's last good trust list. Raises :class:`TrustListError` ``TRUST_LIST_MISSING`` or
    ``TRUST_LIST_EXPIRED`` (past ``next_update`` + ``TONGBAN_TRUST_GRACE_HOURS``)."""
    trust = installed_trust_list()
    if _now(now) > trust.usable_until():
        raise _expired(trust, _now(now))
    return trust


def install_if_newer(document: Any, *, now: datetime | None = None) -> tuple[TrustList, bool]:
    """:func:`trust_list_install`, also saying whether anything changed (``False``: that version, with
    that content, was already installed)."""
    now = _now(now)
    trust = trust_list_verify(document, anchor_keys=anchor_keys())
    if now > trust.usable_until():
        raise _expired(trust, now)
    digest = document_digest(document)
    with transaction.atomic():
        state, _ = TrustListState.objects.select_for_update().get_or_create(pk=SINGLETON_ID)
        if state.version > trust.version or (state.version == trust.version and state.digest != digest):
            raise TrustListError(
                codes.TRUST_LIST_ROLLBACK,
                f"本节点已安装第 {state.version} 版信任列表，不接受第 {trust.version} 版"
                + ("（版本相同而内容不同）。" if state.version == trust.version else "（版本更低）。"),
                details={"installed_version": state.version, "offered_version": trust.version},
            )
        if state.version == trust.version:
            return trust, False
        state.version = trust.version
        state.document = document
        state.digest = digest
        state.installed_at = now
        state.save()
    invalidate_cache()
    return trust, True


def trust_list_install(document: Any) -> TrustList:
    """Verifies ``document`` with the configured anchor keys and stores it as this node's list.

    Installing the version already installed (same content) changes nothing. Raises
    :class:`TrustListError`: ``TRUST_LIST_MALFORMED``, ``TRUST_LIST_BAD_SIGNATURE``,
    ``TRUST_ANCHOR_NOT_CONFIGURED``, ``TRUST_LIST_ROLLBACK`` (lower version, or the same version with
    other content), ``TRUST_LIST_EXPIRED`` (already past its grace period: it could not be used).
    """
    trust, _ = install_if_newer(document, now=datetime.now(UTC))
    return trust


# --- Refreshing from the anchor -------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    ok: bool  # fetched and verified: installed, or the one already installed
    installed: bool  # a newer list was installed
    version: int  # the version this node now holds (0: none)
    fetched_version: int | None = None
    error_code: str = ""
    error: str = ""  # why not, in Chinese (also stored as TrustListState.last_error)


def _fetch(url: str) -> bytes:
    timeout = settings.EXCHANGE_TIMEOUT_SECONDS
    if url.startswith(("http://", "https://")):
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "tongban"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    else:
        path = Path(url[len("file://") :] if url.startswith("file://") else url)
        with path.open("rb") as fh:
            body = fh.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"larger than {MAX_DOCUMENT_BYTES} bytes")
    return body


def _record(*, now: datetime, error: str) -> None:
    TrustListState.objects.get_or_create(pk=SINGLETON_ID)
    if error:
        TrustListState.objects.filter(pk=SINGLETON_ID).update(last_error=error, last_error_at=now)
    else:
        TrustListState.objects.filter(pk=SINGLETON_ID).update(fetched_at=now, last_error="")


def _held_version() -> int:
    return TrustListState.objects.filter(pk=SINGLETON_ID).values_list("version", flat=True).first() or 0


def trust_list_refresh() -> RefreshResult:
    """Fetches ``TONGBAN_TRUST_LIST_URL`` (http(s) with a timeout, or a file) and installs it if newer.

    Never raises for a failed fetch or a bad document: the last good list stays in use and the result
    (and ``TrustListState.last_error``) says why.
    """
    now = datetime.now(UTC)
    url = settings.TRUST_LIST_URL

    def failed(code: str, message: str, fetched_version: int | None = None) -> RefreshResult:
        _record(now=now, error=f"[{code}] {message}")
        return RefreshResult(False, False, _held_version(), fetched_version, code, message)

    if not url:
        return failed(codes.TRUST_LIST_URL_MISSING, "未配置信任列表地址（TONGBAN_TRUST_LIST_URL）。")
    try:
        body = _fetch(url)
    except urllib.error.HTTPError as exc:
        return failed(codes.TRUST_LIST_UNREACHABLE, f"获取 {url} 失败：HTTP {exc.code}。")
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, missing files
        reason = getattr(exc, "reason", None) or exc
        return failed(codes.TRUST_LIST_UNREACHABLE, f"获取 {url} 失败：{reason}。")
    try:
        document = loads_strict(body)
    except CanonicalError as exc:
        return failed(codes.TRUST_LIST_MALFORMED, f"{url} 的内容不是合法的 JSON（{exc}）。")
    fetched_version = None
    if isinstance(document, dict) and isinstance(document.get("payload"), dict):
        fetched_version = document["payload"].get("version")
        fetched_version = fetched_version if isinstance(fetched_version, int) else None
    try:
        trust, installed = install_if_newer(document, now=now)
    except TrustListError as exc:
        return failed(exc.code, exc.message, fetched_version)
    _record(now=now, error="")
    return RefreshResult(True, installed, _held_version(), trust.version)


# --- For /healthz and operators -------------------------------------------------------------------


@dataclass(frozen=True)
class TrustStatus:
    state: str  # "ok", "grace" (past next_update, within the grace period), "expired", "missing", "invalid"
    usable: bool
    version: int = 0
    issued_at: datetime | None = None
    next_update: datetime | None = None
    usable_until: datetime | None = None
    members: int = 0
    fetched_at: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    error_code: str = ""

    def as_dict(self) -> dict[str, Any]:
        def t(value: datetime | None) -> str | None:
            return format_time(value) if value else None

        return {
            "state": self.state,
            "usable": self.usable,
            "version": self.version,
            "issued_at": t(self.issued_at),
            "next_update": t(self.next_update),
            "usable_until": t(self.usable_until),
            "members": self.members,
            "fetched_at": t(self.fetched_at),
            "last_error": self.last_error,
            "last_error_at": t(self.last_error_at),
            "error_code": self.error_code,
        }


def trust_status(*, now: datetime | None = None) -> TrustStatus:
    """How usable this node's trust list is, for ``/healthz`` and ``tongban federation trust-show``."""
    now = _now(now)
    state = TrustListState.objects.filter(pk=SINGLETON_ID).first()
    extra: dict[str, Any] = {}
    if state is not None:
        extra = {
            "fetched_at": state.fetched_at,
            "last_error": state.last_error,
            "last_error_at": state.last_error_at,
        }
    try:
        trust = installed_trust_list()
    except TrustListError as exc:
        state_name = "missing" if exc.code == codes.TRUST_LIST_MISSING else "invalid"
        return TrustStatus(
            state=state_name,
            usable=False,
            version=state.version if state else 0,
            error_code=exc.code,
            **extra,
        )
    if now > trust.usable_until():
        state_name, usable, code = "expired", False, codes.TRUST_LIST_EXPIRED
    elif now > trust.next_update:
        state_name, usable, code = "grace", True, ""
    else:
        state_name, usable, code = "ok", True, ""
    return TrustStatus(
        state=state_name,
        usable=usable,
        version=trust.version,
        issued_at=trust.issued_at,
        next_update=trust.next_update,
        usable_until=trust.usable_until(),
        members=len(trust.members),
        error_code=code,
        **extra,
    )
