"""This node's own signing keys, in ``TONGBAN_KEY_DIR``.

Per key: ``<kid>.pem`` (the private key, Ed25519 or SM2 as ``TONGBAN_SIGNATURE_SUITE`` chose when it
was made, PKCS#8 encrypted with ``TONGBAN_NODE_KEY_PASSPHRASE``,
mode 0600) and ``<kid>.json`` (its public half and creation time). ``current`` holds the kid of the
newest key. The directory is created with mode 0700; changes are serialised by a lock file, and every
file is written whole (create-exclusive or rename), so two processes never see half a key.

Which key signs (:func:`node_signer`): the newest local key that the installed trust list lists for
this node and holds valid now. Right after ``node-rotate`` the new key is ``current`` but not yet in
the trust list, so other nodes would refuse it (``UNKNOWN_KEY``); the node goes on signing with the
old key until the anchor has published a list with the new one, then switches by itself. Without a
usable trust list (a fresh node), ``current`` signs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import DatabaseError

from tongban.core.errors import TongbanError
from tongban.exchange import error_codes as codes
from tongban.exchange.canonical import format_time, parse_time, truncate_ms
from tongban.exchange.envelope import KID_TEXT, TrustListError
from tongban.exchange.signing import (
    ED25519,
    SM2_SM3,
    Ed25519Signer,
    Signer,
    SM2Signer,
    b64u,
    b64u_decode,
    sm2_generate,
    suite_for,
)

if TYPE_CHECKING:
    from tongban.exchange.trust import TrustList

CURRENT = "current"
LOCK = ".lock"


class NodeKeyError(TongbanError):
    """This node cannot sign: no key yet, or the key cannot be read."""

    def __init__(self, code: str, message: str, *, details: dict | None = None):
        super().__init__(code=code, message=message, status=503, details=details or {})


@dataclass(frozen=True)
class NodeKey:
    kid: str
    alg: str
    public_key_b64u: str
    created_at: datetime

    @property
    def public_key(self) -> bytes:
        return b64u_decode(self.public_key_b64u)


def _key_dir() -> Path:
    return Path(settings.KEY_DIR)


def _passphrase() -> bytes:
    passphrase = settings.NODE_KEY_PASSPHRASE
    if not passphrase:
        raise NodeKeyError(codes.NODE_KEY_UNREADABLE, "未设置节点密钥口令（TONGBAN_NODE_KEY_PASSPHRASE）。")
    return passphrase.encode("utf-8")


@contextlib.contextmanager
def _locked(key_dir: Path):
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Creates ``path`` (refusing to overwrite) with ``mode`` and ``data``, synced to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Writes ``path`` atomically (a temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _write_new(tmp, data, mode)
    os.replace(tmp, path)


def _read_current(key_dir: Path) -> str | None:
    try:
        kid = (key_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return kid or None


def _meta(key_dir: Path, kid: str) -> NodeKey:
    try:
        data = json.loads((key_dir / f"{kid}.json").read_text(encoding="utf-8"))
        return NodeKey(data["kid"], data["alg"], data["public_key"], parse_time(data["created_at"]))
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError) as exc:
        raise NodeKeyError(codes.NODE_KEY_UNREADABLE, f"密钥 {kid} 的公钥文件已损坏：{exc}") from exc
    # A key file without its public half (copied by hand): derive it.
    signer = _signer_of(_load_private(key_dir, kid), kid)
    created = datetime.fromtimestamp((key_dir / f"{kid}.pem").stat().st_mtime, tz=UTC)
    return NodeKey(kid, signer.alg, b64u(signer.public_key), created)


def _signer_of(private, kid: str) -> Ed25519Signer | SM2Signer:
    return Ed25519Signer(private, kid) if isinstance(private, Ed25519PrivateKey) else SM2Signer(private, kid)


def _load_private(key_dir: Path, kid: str):
    path = key_dir / f"{kid}.pem"
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise NodeKeyError(codes.NODE_KEY_MISSING, f"找不到密钥文件 {path}。", details={"kid": kid}) from None
    except OSError as exc:
        raise NodeKeyError(codes.NODE_KEY_UNREADABLE, f"无法读取密钥文件 {path}：{exc}") from exc
    if b"SM2" in _pem_label_hint(pem):
        return _load_sm2(path, pem, kid)
    try:
        key = serialization.load_pem_private_key(pem, password=_passphrase())
    except (ValueError, TypeError) as exc:
        # An encrypted PKCS#8 file does not say its algorithm: an SM2 key fails here, and loads there.
        with contextlib.suppress(NodeKeyError):
            return _load_sm2(path, pem, kid)
        raise NodeKeyError(
            codes.NODE_KEY_UNREADABLE,
            f"无法解密密钥文件 {path}：口令（TONGBAN_NODE_KEY_PASSPHRASE）不对，或文件已损坏。",
            details={"kid": kid},
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeKeyError(codes.NODE_KEY_UNREADABLE, f"密钥文件 {path} 不是 Ed25519 或 SM2 私钥。")
    return key


def _pem_label_hint(pem: bytes) -> bytes:
    """The ``# alg:`` line written above an SM2 key's PEM (PEM ignores text outside its armour)."""
    first = pem.split(b"\n", 1)[0]
    return first if first.startswith(b"# alg:") else b""


def _load_sm2(path: Path, pem: bytes, kid: str):
    from tongsuopy.crypto import serialization as sm_serialization

    try:
        return sm_serialization.load_pem_private_key(pem, password=_passphrase())
    except Exception as exc:
        raise NodeKeyError(
            codes.NODE_KEY_UNREADABLE,
            f"无法解密密钥文件 {path}：口令（TONGBAN_NODE_KEY_PASSPHRASE）不对，或文件已损坏。",
            details={"kid": kid},
        ) from exc


def _default_kid() -> str:
    return f"{settings.NODE_CODE}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"


def _new_private_key(alg: str):
    """A new private key of ``alg`` and its PKCS#8 PEM, encrypted with the node passphrase."""
    if alg == ED25519:
        private = Ed25519PrivateKey.generate()
        return private, private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_passphrase()),
        )
    from tongsuopy.crypto import serialization as sm_serialization

    private = sm2_generate()
    pem = private.private_bytes(
        sm_serialization.Encoding.PEM,
        sm_serialization.PrivateFormat.PKCS8,
        sm_serialization.BestAvailableEncryption(_passphrase()),
    )
    return private, b"# alg: SM2-SM3\n" + pem


def _generate(key_dir: Path, kid: str, alg: str | None = None) -> NodeKey:
    if not KID_TEXT.fullmatch(kid):
        raise NodeKeyError(
            codes.NODE_KEY_INVALID_KID, f"密钥标识“{kid}”只能含 A-Z a-z 0-9 . _ : -，不超过 128 个字符。"
        )
    if (key_dir / f"{kid}.pem").exists():
        raise NodeKeyError(codes.NODE_KEY_EXISTS, f"密钥 {kid} 已存在，请换一个密钥标识。")
    alg = alg or settings.SIGNATURE_SUITE
    if alg not in (ED25519, SM2_SM3) or suite_for(alg) is None:
        raise NodeKeyError(
            codes.NODE_KEY_UNREADABLE,
            f"不支持的签名算法“{alg}”：可选 {ED25519} 或 {SM2_SM3}（TONGBAN_SIGNATURE_SUITE）。",
        )
    private, pem = _new_private_key(alg)
    key = NodeKey(kid, alg, b64u(_signer_of(private, kid).public_key), truncate_ms(datetime.now(UTC)))
    _write_new(key_dir / f"{kid}.pem", pem, 0o600)
    meta = {
        "kid": kid,
        "alg": alg,
        "public_key": key.public_key_b64u,
        "created_at": format_time(key.created_at),
    }
    _replace(key_dir / f"{kid}.json", json.dumps(meta, indent=2).encode("utf-8") + b"\n", 0o600)
    _replace(key_dir / CURRENT, kid.encode("utf-8") + b"\n", 0o600)
    return key


def node_key_init(*, kid: str | None = None, alg: str | None = None) -> NodeKey:
    """This node's key, generated on first call. Later calls return the current key (a different
    ``kid`` than the current key's is refused: use :func:`node_key_rotate`)."""
    key_dir = _key_dir()
    with _locked(key_dir):
        current = _read_current(key_dir)
        if current is not None:
            if kid is not None and kid != current:
                raise NodeKeyError(
                    codes.NODE_KEY_EXISTS,
                    f"本节点已有密钥 {current}；要换用新密钥请运行 tongban federation node-rotate。",
                    details={"kid": current},
                )
            _load_private(key_dir, current)  # the passphrase opens it
            return _meta(key_dir, current)
        key = _generate(key_dir, kid or _default_kid(), alg)
    _signing_kids.clear()
    return key


def node_key_rotate(*, kid: str | None = None, alg: str | None = None) -> NodeKey:
    """A new key, made ``current``. Old keys stay (envelopes signed with them still verify while the
    trust list holds them valid); signing switches once the trust list lists the new key."""
    key_dir = _key_dir()
    with _locked(key_dir):
        key = _generate(key_dir, kid or _default_kid(), alg)
    _signing_kids.clear()  # which key signs is decided afresh
    return key


def node_public_keys() -> list[NodeKey]:
    """All of this node's keys, oldest first."""
    key_dir = _key_dir()
    if not key_dir.is_dir():
        return []
    kids = sorted(p.name[: -len(".pem")] for p in key_dir.glob("*.pem") if not p.name.startswith("."))
    return sorted((_meta(key_dir, kid) for kid in kids), key=lambda k: (k.created_at, k.kid))


# (key dir, kid, passphrase digest) → signer
_signers: dict[tuple, Signer] = {}
_signers_lock = threading.Lock()


def _signing_kid(current: str, trust: TrustList | None) -> str:
    """The newest local key the trust list holds valid now for this node, else ``current``."""
    from tongban.exchange.trust import current_trust_list

    if trust is None:
        try:
            trust = current_trust_list()
        except (TrustListError, DatabaseError):
            return current
    me = trust.member(settings.NODE_CODE)
    if me is None or not me.active:
        return current
    now = datetime.now(UTC)
    listed = []
    for key in node_public_keys():
        entry = me.key(key.kid)
        if (
            entry is not None
            and entry.alg == key.alg
            and entry.public_key == key.public_key
            and entry.valid_at(now)
        ):
            listed.append(key)
    return listed[-1].kid if listed else current


# (key dir, current kid) → (when decided, kid): which key signs is decided again after a few seconds,
# not for every signature (it reads the trust list and every key's public half).
_signing_kids: dict[tuple[str, str], tuple[float, str]] = {}
SIGNING_KID_SECONDS = 5.0


def _signing_kid_cached(key_dir: Path, current: str, trust: TrustList | None) -> str:
    if trust is not None:
        return _signing_kid(current, trust)
    key = (str(key_dir), current)
    hit = _signing_kids.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < SIGNING_KID_SECONDS:
        return hit[1]
    kid = _signing_kid(current, None)
    _signing_kids[key] = (now, kid)
    return kid


def node_signer(*, trust: TrustList | None = None) -> Signer:
    """The signer this node signs envelopes with (see the module's description); cached per process.

    ``trust``: the trust list to choose by (default: :func:`~tongban.exchange.trust.current_trust_list`,
    one small query). Raises :class:`NodeKeyError` ``NODE_KEY_MISSING`` when there is no key yet."""
    key_dir = _key_dir()
    current = _read_current(key_dir)
    if current is None:
        raise NodeKeyError(
            codes.NODE_KEY_MISSING,
            f"本节点还没有签名密钥（{key_dir}）：请先运行 tongban federation node-init。",
        )
    kid = _signing_kid_cached(key_dir, current, trust)
    cache_key = (str(key_dir), kid, settings.NODE_KEY_PASSPHRASE)
    signer = _signers.get(cache_key)
    if signer is None:
        with _signers_lock:
            signer = _signers.get(cache_key)
            if signer is None:
                signer = _signer_of(_load_private(key_dir, kid), kid)
                _signers[cache_key] = signer
    return signer


def invalidate_cache() -> None:
    _signers.clear()
    _signing_kids.clear()
