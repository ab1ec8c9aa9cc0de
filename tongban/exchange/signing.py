"""Signatures between nodes: who signs (:class:`Signer`) and a registry of verification suites by ``alg``.

Ed25519 (RFC 8032) is the only suite today. Another algorithm (the SM2-with-SM3 suite of GB/T 32918 /
GM/T 0009, name ``"SM2-SM3"``) is added by registering a :class:`SignatureSuite` for it: envelopes and
trust lists carry ``alg`` and everything else looks the suite up here, so nothing else changes::

    register_suite(SignatureSuite(alg="SM2-SM3", public_key_size=65, verify=_sm2_verify))

A key or signature of an algorithm no suite is registered for never verifies.

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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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


@lru_cache(maxsize=4096)
def _ed25519_public_key(public_key: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key)


def _ed25519_verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        _ed25519_public_key(bytes(public_key)).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


register_suite(SignatureSuite(alg=ED25519, verify=_ed25519_verify, public_key_size=32))
