"""Personal data at rest: authenticated encryption, keyed look-up hashes, masking.

ID numbers and phone numbers are stored as AES-256-GCM ciphertext (random nonce, the field name as
associated data so a ciphertext cannot be moved to another field) plus an HMAC-SHA256 of the
normalised value for exact look-ups. Pages and logs only ever see the masked form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = "v1"


@lru_cache(maxsize=4)
def _aead(key_hex: str) -> AESGCM:
    return AESGCM(bytes.fromhex(key_hex))


def normalise(value: str) -> str:
    return value.strip().upper()


def encrypt(value: str, *, purpose: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead(settings.PII_KEY).encrypt(nonce, normalise(value).encode(), purpose.encode())
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str) -> str:
    if not token:
        return ""
    version, _, body = token.partition(":")
    if version != _VERSION:
        raise ValueError("unknown PII ciphertext version")
    raw = base64.urlsafe_b64decode(body)
    return _aead(settings.PII_KEY).decrypt(raw[:12], raw[12:], purpose.encode()).decode()


def lookup_hash(value: str, *, purpose: str) -> str:
    key = bytes.fromhex(settings.PII_HASH_KEY)
    return hmac.new(key, f"{purpose}:{normalise(value)}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """``340102199001011234`` → ``3401**********1234``: region prefix and last four stay readable."""
    v = normalise(value)
    if len(v) <= 8:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    v = value.strip()
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``: used where a name is shown to people other than its owner."""
    v = value.strip()
    return v[:1] + "*" * (len(v) - 1) if v else v
