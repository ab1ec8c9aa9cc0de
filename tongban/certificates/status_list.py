"""Status lists (IETF Token Status List, draft-ietf-oauth-status-list): how a node says which of its
certificates are suspended or revoked, in one small signed token that other nodes cache.

Every certificate a node issues gets an index in that node's list; its credential carries
``status.status_list = {"idx": n, "uri": "urn:tongban:status-list:<node>"}``. The list is two bits
per certificate (0 valid, 1 revoked, 2 suspended), zlib-compressed, inside a JWT signed by the node's
key (``typ: statuslist+jwt``), with ``iat``, ``exp`` and ``ttl``. A verifier refuses a certificate
whose issuer's list it does not have, whose index the list does not cover, or whose list is past its
``exp`` (it cannot know the status then).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from tongban.exchange.signing import Signer, b64u, b64u_decode

TYP = "statuslist+jwt"
BITS = 2
VALID, REVOKED, SUSPENDED = 0, 1, 2
URI_PREFIX = "urn:tongban:status-list:"
MAX_TOKEN = 4 * 1024 * 1024


def status_list_uri(node_code: str) -> str:
    return f"{URI_PREFIX}{node_code}"


def node_of_uri(uri: str) -> str | None:
    return uri[len(URI_PREFIX) :] if isinstance(uri, str) and uri.startswith(URI_PREFIX) else None


def pack(statuses: dict[int, int], size: int) -> bytes:
    """Two bits per index, the lowest index in the lowest bits of the first byte (as the draft says)."""
    data = bytearray((size * BITS + 7) // 8)
    for idx, status in statuses.items():
        if status:
            bit = idx * BITS
            data[bit // 8] |= (status & 0b11) << (bit % 8)
    return bytes(data)


def status_at(data: bytes, idx: int) -> int | None:
    """The status of ``idx`` in the unpacked list, or ``None`` when the list does not cover it."""
    bit = idx * BITS
    if idx < 0 or bit // 8 >= len(data):
        return None
    return (data[bit // 8] >> (bit % 8)) & 0b11


class StatusListError(ValueError):
    pass


@dataclass(frozen=True)
class StatusListToken:
    issuer: str
    kid: str
    alg: str
    issued_at: datetime
    expires_at: datetime
    ttl: int
    data: bytes
    signing_input: bytes
    signature: bytes
    token: str


def status_list_sign(
    *,
    issuer: str,
    statuses: dict[int, int],
    size: int,
    signer: Signer,
    issued_at: datetime,
    lifetime: int,
    ttl: int,
) -> str:
    header = {"alg": signer.alg, "kid": signer.kid, "typ": TYP}
    iat = int(issued_at.timestamp())
    payload = {
        "iss": issuer,
        "sub": status_list_uri(issuer),
        "iat": iat,
        "exp": iat + lifetime,
        "ttl": ttl,
        "status_list": {"bits": BITS, "lst": b64u(zlib.compress(pack(statuses, size), 9))},
    }
    enc = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
    signing_input = f"{b64u(enc.encode(header).encode())}.{b64u(enc.encode(payload).encode())}"
    return f"{signing_input}.{b64u(signer.sign(signing_input.encode('ascii')))}"


def status_list_parse(token: str) -> StatusListToken:
    """Decodes a status list token (its signature is checked by the caller against the trust list).
    Raises :class:`StatusListError`."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise StatusListError("状态列表应为不超过 4 MB 的文本。")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise StatusListError("状态列表不是 JWT。")
    try:
        header = json.loads(b64u_decode(parts[0]))
        payload = json.loads(b64u_decode(parts[1]))
        signature = b64u_decode(parts[2])
        if header.get("typ") != TYP:
            raise StatusListError(f"状态列表的 typ 应为 {TYP}。")
        lst = payload["status_list"]
        if lst.get("bits") != BITS:
            raise StatusListError(f"只支持每项 {BITS} 位的状态列表。")
        data = zlib.decompress(b64u_decode(lst["lst"]))
        issuer = payload["iss"]
        if payload.get("sub") != status_list_uri(issuer):
            raise StatusListError("状态列表的 sub 与 iss 不符。")
        return StatusListToken(
            issuer=issuer,
            kid=header["kid"],
            alg=header["alg"],
            issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            ttl=int(payload.get("ttl", 0)),
            data=data,
            signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
            signature=signature,
            token=token.strip(),
        )
    except StatusListError:
        raise
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        zlib.error,
        UnicodeDecodeError,
        OverflowError,
    ) as exc:
        raise StatusListError(f"状态列表格式不对：{exc}") from None
