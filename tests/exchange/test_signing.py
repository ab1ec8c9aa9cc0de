"""The Ed25519 suite verifies with libsodium what ``cryptography`` signs, and refuses what it should."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tongban.exchange.signing import verify_signature


def _pair():
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, public


@pytest.mark.parametrize("size", [0, 1, 1700, 64 * 1024])
def test_a_signature_made_by_cryptography_verifies(size):
    key, public = _pair()
    data = os.urandom(size)
    assert verify_signature(alg="Ed25519", public_key=public, signature=key.sign(data), data=data)


def test_a_changed_message_signature_or_key_does_not_verify():
    key, public = _pair()
    data = b"case 340100-20261122-000001"
    signature = key.sign(data)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    _, other = _pair()
    assert not verify_signature(alg="Ed25519", public_key=public, signature=signature, data=data + b"!")
    assert not verify_signature(alg="Ed25519", public_key=public, signature=flipped, data=data)
    assert not verify_signature(alg="Ed25519", public_key=other, signature=signature, data=data)


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (b"\x00" * 31, b"\x00" * 64),  # short key
        (b"\x00" * 32, b"\x00" * 63),  # short signature
        # A small-order public key (the identity point) with a signature that is all zeros except
        # S = 0: OpenSSL would need the hash to vanish; libsodium refuses the key outright.
        (bytes([1]) + b"\x00" * 31, bytes([1]) + b"\x00" * 63),
        (b"\xff" * 32, b"\xff" * 64),  # not a point, S not canonical
    ],
)
def test_malformed_or_weak_keys_and_signatures_are_simply_not_good(public_key, signature):
    assert not verify_signature(alg="Ed25519", public_key=public_key, signature=signature, data=b"x")


def test_verification_takes_any_bytes_like_value():
    key, public = _pair()
    data = b"envelope"
    assert verify_signature(
        alg="Ed25519",
        public_key=bytearray(public),
        signature=memoryview(key.sign(data)),
        data=bytearray(data),
    )
