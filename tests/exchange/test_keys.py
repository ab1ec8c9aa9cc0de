"""This node's signing keys: created encrypted and private on disk, idempotent, rotated without
signing with a key other nodes do not know yet."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import serialization

from tests.exchange.test_trust import Anchor, member_entry
from tongban.exchange import error_codes as codes
from tongban.exchange.keys import (
    NodeKeyError,
    node_key_init,
    node_key_rotate,
    node_public_keys,
    node_signer,
)
from tongban.exchange.signing import b64u, verify_signature
from tongban.exchange.trust import trust_list_install

# node_signer() chooses its key by the installed trust list, which is in the database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def key_dir(settings, tmp_path):
    settings.KEY_DIR = tmp_path / "keys"
    settings.NODE_CODE = "340100"
    settings.NODE_KEY_PASSPHRASE = "correct horse battery staple"
    return settings.KEY_DIR


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_an_encrypted_private_key_only_the_node_can_read(key_dir):
    key = node_key_init()
    pem = key_dir / f"{key.kid}.pem"
    assert mode(key_dir) == 0o700
    assert mode(pem) == 0o600
    assert pem.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # encrypted: no key without the passphrase
        serialization.load_pem_private_key(pem.read_bytes(), password=None)
    private = serialization.load_pem_private_key(pem.read_bytes(), password=b"correct horse battery staple")
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert b64u(raw) == key.public_key_b64u
    assert (key_dir / "current").read_text().strip() == key.kid
    assert key.kid.startswith("340100-") and key.alg == "Ed25519"


def test_init_is_idempotent(key_dir):
    first = node_key_init()
    assert node_key_init() == first
    assert node_key_init(kid=first.kid) == first
    assert [k.kid for k in node_public_keys()] == [first.kid]


def test_init_with_another_kid_than_the_current_keys_is_refused(key_dir):
    node_key_init(kid="340100-2026a")
    with pytest.raises(NodeKeyError) as exc:
        node_key_init(kid="340100-2026b")
    assert exc.value.code == codes.NODE_KEY_EXISTS
    assert "node-rotate" in exc.value.message


@pytest.mark.parametrize("kid", ["has space", "斜杠/", "", "x" * 129, "../escape"])
def test_a_kid_that_is_not_a_plain_name_is_refused(key_dir, kid):
    with pytest.raises(NodeKeyError) as exc:
        node_key_init(kid=kid or "bad kid")
    assert exc.value.code == codes.NODE_KEY_INVALID_KID
    assert not list(key_dir.glob("*.pem"))


def test_the_signer_signs_with_the_current_key(key_dir):
    key = node_key_init(kid="340100-2026a")
    signer = node_signer()
    assert (signer.kid, signer.alg) == ("340100-2026a", "Ed25519")
    signature = signer.sign(b"message")
    assert verify_signature(alg="Ed25519", public_key=key.public_key, signature=signature, data=b"message")
    assert not verify_signature(
        alg="Ed25519", public_key=key.public_key, signature=signature, data=b"messagE"
    )
    assert node_signer() is signer  # cached


def test_no_key_yet_is_reported_with_what_to_run(key_dir):
    with pytest.raises(NodeKeyError) as exc:
        node_signer()
    assert exc.value.code == codes.NODE_KEY_MISSING
    assert "node-init" in exc.value.message


def test_a_wrong_passphrase_cannot_open_the_key(key_dir, settings):
    node_key_init()
    settings.NODE_KEY_PASSPHRASE = "wrong"
    with pytest.raises(NodeKeyError) as exc:
        node_signer()
    assert exc.value.code == codes.NODE_KEY_UNREADABLE
    with pytest.raises(NodeKeyError):
        node_key_init()


def test_rotate_adds_a_key_and_makes_it_current(key_dir):
    old = node_key_init(kid="340100-2026a")
    new = node_key_rotate()
    assert new.kid != old.kid and new.public_key_b64u != old.public_key_b64u
    assert (key_dir / "current").read_text().strip() == new.kid
    assert [k.kid for k in node_public_keys()] == [old.kid, new.kid]
    assert mode(key_dir / f"{new.kid}.pem") == 0o600
    # Without a trust list (a node being set up), the current key signs.
    assert node_signer().kid == new.kid


def test_rotate_refuses_a_kid_already_used(key_dir):
    node_key_init(kid="340100-2026a")
    with pytest.raises(NodeKeyError) as exc:
        node_key_rotate(kid="340100-2026a")
    assert exc.value.code == codes.NODE_KEY_EXISTS


def test_after_rotation_the_old_key_signs_until_the_trust_list_lists_the_new_one(key_dir, settings):
    anchor = Anchor()
    settings.TRUST_ANCHOR_KEYS = [b64u(anchor.public_key)]

    def listed(*keys, version):
        entries = [
            {
                "kid": k.kid,
                "alg": k.alg,
                "public_key": k.public_key_b64u,
                "not_before": "2020-01-01T00:00:00.000Z",
                "not_after": None,
            }
            for k in keys
        ]
        trust_list_install(anchor.document(member_entry("340100", "合肥市", *entries), version=version))

    old = node_key_init(kid="340100-2026a")
    listed(old, version=1)
    assert node_signer().kid == old.kid

    new = node_key_rotate(kid="340100-2026b")
    assert node_signer().kid == old.kid  # other nodes would refuse the new key: keep the old one

    listed(old, new, version=2)
    assert node_signer().kid == new.kid  # the anchor published it: switch


def test_public_keys_are_listed_without_the_passphrase(key_dir, settings):
    keys = [node_key_init(kid="340100-2026a"), node_key_rotate(kid="340100-2026b")]
    settings.NODE_KEY_PASSPHRASE = "wrong"
    assert node_public_keys() == keys
