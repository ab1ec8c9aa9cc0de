"""SD-JWT (RFC 9901) with the SD-JWT VC profile: the signed, machine-readable form of a certificate.

Issuance (:func:`sdjwt_issue`) signs a JWS over the always-visible claims plus the SHA-256 digests of
one *disclosure* per selectively disclosable claim (``[salt, name, value]``, base64url JSON). The
holder shows any subset of the disclosures (:func:`sdjwt_present`): a verifier sees only the claims
disclosed, and can tell that each came from the issuer. Serialised as
``<issuer-signed JWT>~<disclosure>~…~`` (no key binding: the holder is identified by the node they
signed in at, which vouches for them in the case it sends; see docs/certificates.md).

The JWS ``alg`` is the signature suite's name (``Ed25519`` per RFC 9864, or the private ``SM2-SM3``);
``kid`` names the issuer's key in the federation trust list. :func:`sdjwt_parse` checks the structure
and the disclosures; the signature itself is checked by the caller with the key the trust list gives
(:mod:`tongban.certificates.verification`), since which key is right depends on who issued it and when.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import orjson

from tongban.exchange.signing import Signer, b64u

TYP = "dc+sd-jwt"
SD_ALG = "sha-256"
MAX_LENGTH = 64 * 1024
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class SdJwtError(ValueError):
    """Not a well-formed SD-JWT. ``code`` is one of the certificate error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Last characters that leave no non-zero bits over, for text lengths of 2 and 3 (mod 4).
_CANONICAL_LAST = {
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b1111 == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i & 0b11 == 0),
}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_decode_json = json.JSONDecoder().decode


def _b64u_decode(text: str) -> bytes:
    """Exactly :func:`tongban.exchange.signing.b64u_decode` (strict, canonical unpadded base64url),
    three times faster: verification decodes every part of every credential with it."""
    if not isinstance(text, str):
        raise ValueError("base64url text must be a string")
    if "+" in text or "/" in text or "=" in text:
        raise ValueError("not unpadded base64url: characters outside A-Z a-z 0-9 - _")
    rest = len(text) % 4
    if rest == 1:
        raise ValueError("not unpadded base64url: impossible length")
    if rest and text[-1] not in _CANONICAL_LAST[rest]:
        raise ValueError("not canonical base64url: non-zero trailing bits")
    try:
        raw = text.encode("ascii")
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-rest % 4), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not unpadded base64url: characters outside A-Z a-z 0-9 - _") from None


def _b64json(value: Any) -> str:
    return b64u(_JSON.encode(value).encode("utf-8"))


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_sha256 = hashlib.sha256
_b2a = binascii.b2a_base64


def _digest(disclosure: str) -> str:
    # A SHA-256 digest is 32 bytes: 43 base64url characters and one "=" of padding to drop.
    return (
        _b2a(_sha256(disclosure.encode("ascii")).digest(), newline=False)
        .translate(_TO_URLSAFE)[:-1]
        .decode("ascii")
    )


def disclosure_make(name: str, value: Any) -> str:
    return _b64json([b64u(os.urandom(16)), name, value])


def sdjwt_issue(
    *, claims: dict, disclosable: dict[str, Any], nested: dict[str, dict[str, Any]], signer: Signer
) -> str:
    """Signs ``claims`` (always visible) with ``disclosable`` top-level claims and, for each key of
    ``nested``, an object of that name whose members are each selectively disclosable. Returns the
    full SD-JWT with every disclosure."""
    disclosures: list[str] = []
    payload = dict(claims)

    def digests(members: dict[str, Any]) -> list[str]:
        made = [disclosure_make(name, value) for name, value in members.items()]
        disclosures.extend(made)
        return sorted(_digest(d) for d in made)  # sorted: the order must not reveal which claim is which

    payload["_sd"] = digests(disclosable)
    for name, members in nested.items():
        payload[name] = {"_sd": digests(members)}
    payload["_sd_alg"] = SD_ALG
    header = {"alg": signer.alg, "kid": signer.kid, "typ": TYP}
    signing_input = f"{_b64json(header)}.{_b64json(payload)}"
    signature = b64u(signer.sign(signing_input.encode("ascii")))
    return "~".join([f"{signing_input}.{signature}", *disclosures, ""])


@dataclass(frozen=True)
class ParsedSdJwt:
    header: dict
    payload: dict
    signing_input: bytes
    signature: bytes
    disclosures: tuple[str, ...]
    # The claims after the disclosures shown were put back in place (``_sd`` and ``_sd_alg`` removed).
    claims: dict

    @property
    def issuer_jwt(self) -> str:
        return f"{self.signing_input.decode('ascii')}.{b64u(self.signature)}"


def _json_part(text: str, what: str, code: str) -> Any:
    """A signed part's JSON. Decoded leniently: the signature covers the text as given, so a text
    other than the one the issuer signed fails there whatever it decodes to."""
    try:
        # UTF-8, as JWS (RFC 7515) and SD-JWT say; json.loads would also guess UTF-16 and UTF-32.
        raw = text.encode("ascii")
        return _loads(_a2b(raw.translate(_TO_STANDARD) + _PAD[len(raw) & 3]))  # UTF-8 only, checked
    except (ValueError, UnicodeError):
        raise SdJwtError(code, f"{what}不是 base64url 编码的 JSON。") from None


# Headers repeat: one per issuing key and algorithm. Decoded once each (verification speed); a
# parsed header is shared, so nobody may change it.
_HEADERS: dict[str, Any] = {}
_HEADERS_MAX = 256


def _header_part(text: str, code: str) -> Any:
    header = _HEADERS.get(text)
    if header is None:
        header = _json_part(text, "凭证头部", code)
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[text] = header
    return header


_RESERVED = frozenset({"_sd", "_sd_alg", "..."})
_SD_KEYS = frozenset({"_sd", "_sd_alg"})
# Padding for unpadded base64url by its length mod 4 (1 cannot be valid and fails to decode).
_PAD = (b"", b"===", b"==", b"=")
_loads = orjson.loads
_a2b = binascii.a2b_base64


def _disclosures_read(disclosures: tuple[str, ...], code: str) -> dict[str, list]:
    """Each disclosure's ``[salt, name, value]`` by its digest. Raises :class:`SdJwtError` with
    ``code`` for a disclosure that is not one, or one shown twice.

    The values are decoded as one JSON array when every text is an array and the whole gives exactly
    one well-formed disclosure each (one parse instead of one per disclosure); anything else is
    decoded one by one for its own error. The digests are base64url-encoded in one call: each 32-byte
    digest is followed by a zero byte, so every 33 bytes give 44 characters of which the first 43
    are exactly that digest's unpadded encoding (verification speed)."""
    texts, hashes = [], []
    try:
        for disclosure in disclosures:
            raw = disclosure.encode("ascii")
            texts.append(_a2b(raw.translate(_TO_STANDARD) + _PAD[len(raw) & 3]))
            hashes.append(_sha256(raw).digest())
    except (ValueError, UnicodeError):
        raise SdJwtError(code, "披露内容不是 base64url 编码的 JSON。") from None
    encoded = _b2a(b"\0".join(hashes) + b"\0", newline=False).translate(_TO_URLSAFE).decode("ascii")
    values = None
    if all(t[:1] == b"[" and t[-1:] == b"]" for t in texts):
        try:
            values = _loads(b"[" + b",".join(texts) + b"]")
        except ValueError:
            values = None
    if values is None or len(values) != len(texts):
        values = []
        for text in texts:
            try:
                values.append(_loads(text))
            except ValueError:
                raise SdJwtError(code, "披露内容不是 base64url 编码的 JSON。") from None
    by_digest = {}
    at = 0
    for value in values:
        if type(value) is not list or len(value) != 3 or type(value[1]) is not str:
            raise SdJwtError(code, "披露内容应为 [盐值, 名称, 值]。")
        by_digest[encoded[at : at + 43]] = value
        at += 44
    if len(by_digest) != len(values):
        raise SdJwtError(code, "同一项披露内容出现了两次。")
    return by_digest


def sdjwt_parse(text: str, *, malformed: str, disclosure_invalid: str) -> ParsedSdJwt:
    """Splits and decodes an SD-JWT and puts its disclosures back into the claims. Raises
    :class:`SdJwtError` with ``malformed`` for a structure that is not an SD-JWT, and with
    ``disclosure_invalid`` for a disclosure the issuer did not sign or that is shown twice."""
    if not isinstance(text, str) or not text or len(text) > MAX_LENGTH:
        raise SdJwtError(malformed, "不是电子证照凭证：内容为空或过长。")
    parts = text.strip().split("~")
    if len(parts) < 2 or parts[-1] != "":
        # A key-binding JWT in the last place is not used in this profile.
        raise SdJwtError(malformed, "不是电子证照凭证：应为以“~”结尾的 SD-JWT（内容可能不完整）。")
    jws = parts[0].split(".")
    if len(jws) != 3:
        raise SdJwtError(malformed, "不是电子证照凭证：签名部分应由三段组成。")
    header = _header_part(jws[0], malformed)
    payload = _json_part(jws[1], "凭证内容", malformed)
    if type(header) is not dict or type(payload) is not dict:
        raise SdJwtError(malformed, "不是电子证照凭证：头部和内容应为 JSON 对象。")
    try:
        signature = _b64u_decode(jws[2])
    except ValueError:
        raise SdJwtError(malformed, "不是电子证照凭证：签名不是 base64url。") from None
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise SdJwtError(malformed, f"不支持的摘要算法“{payload.get('_sd_alg')}”。")

    disclosures = tuple(parts[1:-1])
    by_digest = _disclosures_read(disclosures, disclosure_invalid)

    used: set[str] = set()

    def restore(obj: dict) -> dict:
        out = obj.copy()
        digests = out.pop("_sd", ())
        out.pop("_sd_alg", None)
        for key, value in out.items():
            if type(value) is dict and "_sd" in value:
                out[key] = restore(value)
        if type(digests) is not list:
            raise SdJwtError(malformed, "凭证内容中的 _sd 应为数组。")
        for digest in digests:
            shown = by_digest.get(digest) if type(digest) is str else None
            if shown is None:
                continue  # not disclosed: the holder kept it back
            name = shown[1]
            if name in out or name in _RESERVED:
                raise SdJwtError(disclosure_invalid, f"披露的“{name}”与凭证中已有的内容重名。")
            if digest in used:
                raise SdJwtError(disclosure_invalid, "同一项披露内容在凭证中出现了两次。")
            out[name] = shown[2]
            used.add(digest)
        return out

    claims = restore(payload)
    if len(used) != len(by_digest):
        raise SdJwtError(disclosure_invalid, "有一项披露内容不属于这份凭证（已被改动，或来自另一份凭证）。")
    return ParsedSdJwt(
        header=header,
        payload=payload,
        signing_input=f"{jws[0]}.{jws[1]}".encode("ascii"),
        signature=signature,
        disclosures=disclosures,
        claims=claims,
    )


def disclosure_name(disclosure: str) -> str | None:
    """The claim name a disclosure reveals (``None`` when it cannot be read)."""
    try:
        value = _decode_json(_b64u_decode(disclosure).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return value[1] if isinstance(value, list) and len(value) == 3 and isinstance(value[1], str) else None


def sdjwt_present(credential: str, names: set[str] | frozenset[str]) -> str:
    """The same credential with only the disclosures of claims named in ``names`` (top-level or inside
    a disclosable object such as ``data``). What is not named stays hidden; signatures stay valid."""
    parts = credential.strip().split("~")
    kept = [d for d in parts[1:-1] if disclosure_name(d) in names]
    return "~".join([parts[0], *kept, ""])
