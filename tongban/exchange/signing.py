"""Signatures between nodes: who signs (:class:`Signer`) and a registry of verification suites by ``alg``.

Two suites, and every node verifies both; which one a node signs with is its own choice
(``TONGBAN_SIGNATURE_SUITE``):

- ``Ed25519`` (RFC 8032), the default: fast; signed with ``cryptography``, verified with libsodium.
- ``SM2-SM3``: SM2 with SM3 (GB/T 32918, GM/T 0009), the 国密 suite Chinese government signatures use,
  through ``tongsuopy`` (Tongsuo, the OpenSSL fork that implements it). Public keys are the 65-byte
  uncompressed point; signatures are ``r || s``, 32 bytes each (as JOSE does for ECDSA), not DER.

Envelopes, trust lists and certificates carry ``alg`` and look the suite up here. A key or signature
of an algorithm no suite is registered for never verifies.

Binary values travel as unpadded base64url (RFC 4648 §5); :func:`b64u_decode` is strict, so each value
has exactly one text form.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign_open as _sodium_sign_open
from nacl.exceptions import CryptoError

ED25519 = "Ed25519"

_B64U_TEXT = re.compile(r"[A-Za-z0-9_-]*")


def b64u(data: bytes) -> str:
    """Unpadded base64url of ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decodes unpadded base64url strictly: only ``A-Z a-z 0-9 - _``, no padding or whitespace, and no
    non-zero bits left over at the end (so exactly one text per value). Raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError("base64url text must be a string")
    if not _B64U_TEXT.fullmatch(text):
        raise ValueError("not unpadded base64url: characters outside A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise ValueError("not unpadded base64url: impossible length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64url: {exc}") from exc
    if b64u(data) != text:
        raise ValueError("not canonical base64url: non-zero trailing bits")
    return data


@runtime_checkable
class Signer(Protocol):
    """Something that signs with one key: the key's id in the trust list and its algorithm."""

    kid: str
    alg: str

    def sign(self, data: bytes) -> bytes: ...


class Ed25519Signer:
    def __init__(self, private_key: Ed25519PrivateKey, kid: str):
        self._key = private_key
        self.kid = kid
        self.alg = ED25519

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def __repr__(self) -> str:  # never the key itself
        return f"Ed25519Signer(kid={self.kid!r})"


@dataclass(frozen=True)
class SignatureSuite:
    """How to verify one signature algorithm.

    ``verify(public_key, signature, data)`` returns whether the signature is good and must return
    ``False`` (not raise) for a malformed key or signature. ``public_key_size``, when set, is the
    length in bytes a public key of this algorithm must have (checked when a trust list is read).
    """

    alg: str
    verify: Callable[[bytes, bytes, bytes], bool]
    public_key_size: int | None = None

    def public_key_ok(self, public_key: bytes) -> bool:
        return self.public_key_size is None or len(public_key) == self.public_key_size


_SUITES: dict[str, SignatureSuite] = {}


def register_suite(suite: SignatureSuite) -> None:
    """Adds (or replaces) the suite for ``suite.alg``."""
    _SUITES[suite.alg] = suite


def suite_for(alg: str) -> SignatureSuite | None:
    return _SUITES.get(alg)


def supported_algs() -> tuple[str, ...]:
    return tuple(sorted(_SUITES))


def verify_signature(*, alg: str, public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a good ``alg`` signature of ``data`` by ``public_key``. Unknown
    algorithms, malformed keys and malformed signatures are simply not good."""
    suite = _SUITES.get(alg)
    if suite is None:
        return False
    return suite.verify(public_key, signature, data)


def _ed25519_verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    # Verified by libsodium (PyNaCl), signed by ``cryptography`` (OpenSSL): libsodium verifies about a
    # third faster, and is the stricter of the two (it also refuses small-order keys and points),
    # so what it accepts OpenSSL accepts too. ADR 0010.
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        _sodium_sign_open(bytes(signature) + bytes(data), bytes(public_key))
    except (CryptoError, TypeError, ValueError):
        return False
    return True


register_suite(SignatureSuite(alg=ED25519, verify=_ed25519_verify, public_key_size=32))


# --- SM2 with SM3 ----------------------------------------------------------------------------------

SM2_SM3 = "SM2-SM3"
_SM2_SCALAR = 32


def _sm2():
    # Imported when first used: tongsuopy loads its own crypto library, which Ed25519-only nodes skip.
    from tongsuopy.crypto import hashes, serialization
    from tongsuopy.crypto.asymciphers import ec, utils

    return hashes, serialization, ec, utils


class SM2Signer:
    """Signs with an SM2 private key (a ``tongsuopy`` key object) and SM3."""

    def __init__(self, private_key, kid: str):
        self._key = private_key
        self.kid = kid
        self.alg = SM2_SM3

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        hashes, _, ec, _ = _sm2()
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SM3())))
        return r.to_bytes(_SM2_SCALAR, "big") + s.to_bytes(_SM2_SCALAR, "big")

    @property
    def public_key(self) -> bytes:
        """The 65-byte uncompressed point."""
        _, serialization, _, _ = _sm2()
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def __repr__(self) -> str:  # never the key itself
        return f"SM2Signer(kid={self.kid!r})"


def sm2_generate():
    """A new SM2 private key (``tongsuopy``)."""
    _, _, ec, _ = _sm2()
    return ec.generate_private_key(ec.SM2())


@lru_cache(maxsize=4096)
def _sm2_public_key(public_key: bytes):
    _, _, ec, _ = _sm2()
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public_key)


def _sm2_verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    if len(public_key) != 65 or len(signature) != 2 * _SM2_SCALAR:
        return False
    hashes, _, ec, utils = _sm2()
    r = int.from_bytes(signature[:_SM2_SCALAR], "big")
    s = int.from_bytes(signature[_SM2_SCALAR:], "big")
    if not r or not s:
        return False
    try:
        _sm2_public_key(bytes(public_key)).verify(
            utils.encode_dss_signature(r, s), data, ec.ECDSA(hashes.SM3())
        )
    except Exception:
        return False
    return True


register_suite(SignatureSuite(alg=SM2_SM3, verify=_sm2_verify, public_key_size=65))
