"""Envelopes: sealing, the strict wire form, and every check the receiver makes (docs/exchange.md).
Real Ed25519 keys and signatures; the trust list is a real signed one."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.exchange.test_trust import Anchor, key_entry, member_entry, new_signer
from tongban.exchange import error_codes as codes
from tongban.exchange import signing
from tongban.exchange.canonical import canonical_bytes, format_time
from tongban.exchange.envelope import (
    FIELDS,
    Envelope,
    EnvelopeError,
    envelope_from_dict,
    envelope_from_json,
    envelope_to_dict,
    envelope_verify,
    seal,
    signed_bytes,
)
from tongban.exchange.ids import uuid7
from tongban.exchange.signing import SignatureSuite, b64u
from tongban.exchange.trust import trust_list_verify

ME = "340100"  # 合肥: the receiving node
SENDER = "310000"  # 上海

PAYLOAD = {
    "case": {"number": "31000020261121000042X", "item": "身份证换领", "materials": ["照片", "旧证"]},
    "amount": 12.5,
    "count": 3,
    "urgent": False,
    "note": None,
}


@pytest.fixture
def sender():
    return new_signer("310000-2026a")


@pytest.fixture
def anchor():
    return Anchor()


@pytest.fixture
def trust(anchor, sender):
    document = anchor.document(
        member_entry(SENDER, "上海市", key_entry(sender)),
        member_entry(ME, "合肥市", key_entry(new_signer("340100-2026a"))),
    )
    return trust_list_verify(document, anchor_keys=[anchor.public_key])


def make(signer, **overrides) -> Envelope:
    fields = {
        "id": uuid7(),
        "sender": SENDER,
        "recipient": ME,
        "type": "case.transfer",
        "payload": copy.deepcopy(PAYLOAD),
        "ordering_key": "31000020261121000042X",
        "seq": 1,
        "signer": signer,
    }
    fields.update(overrides)
    return seal(**fields)


def refused(env, trust, *, now=None) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as exc:
        envelope_verify(env, trust=trust, me=ME, now=now)
    return exc.value


# --- Seal and verify ------------------------------------------------------------------------------


def test_a_sealed_envelope_verifies_after_travelling_as_json(sender, trust):
    env = make(sender)
    wire = json.dumps(envelope_to_dict(env), ensure_ascii=False, indent=2).encode()
    received = envelope_from_json(wire)
    assert received == env
    envelope_verify(received, trust=trust, me=ME)


def test_the_wire_form_is_the_documented_one(sender):
    at = datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=UTC)
    env = make(sender, created_at=at)
    data = envelope_to_dict(env)
    assert list(data) == list(FIELDS)
    assert data["created_at"] == "2026-11-21T10:00:00.123Z"
    assert env.created_at == at.replace(microsecond=123000)
    assert (data["kid"], data["alg"]) == ("310000-2026a", "Ed25519")
    # The signature is over the canonical JSON of everything else, kid and alg included.
    unsigned = {k: v for k, v in data.items() if k != "signature"}
    assert signed_bytes(env) == canonical_bytes(unsigned)
    assert signing.verify_signature(
        alg="Ed25519",
        public_key=sender.public_key,
        signature=signing.b64u_decode(data["signature"]),
        data=canonical_bytes(unsigned),
    )


def test_key_order_and_whitespace_on_the_wire_do_not_matter(sender, trust):
    data = envelope_to_dict(make(sender))
    reordered = json.dumps(dict(reversed(list(data.items()))), ensure_ascii=True, indent=7)
    envelope_verify(envelope_from_json(reordered), trust=trust, me=ME)


def test_unordered_envelopes_have_seq_zero_and_an_empty_ordering_key(sender, trust):
    env = make(sender, seq=0, ordering_key="", type="catalogue.publish", payload={})
    envelope_verify(envelope_from_dict(envelope_to_dict(env)), trust=trust, me=ME)


# --- Tampering ------------------------------------------------------------------------------------


def test_changing_any_byte_of_the_payload_is_a_bad_signature(sender, trust):
    """Every single-byte change of the payload's text on the wire: refused as malformed when it no
    longer parses, as a bad signature otherwise; never accepted (unless it parses to the same payload)."""
    env = make(sender)
    data = envelope_to_dict(env)
    wire = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    payload_text = json.dumps(data["payload"], ensure_ascii=False, separators=(",", ":")).encode()
    start = wire.index(payload_text)
    bad_signature = 0
    for i in range(start, start + len(payload_text)):
        for flip in (0x01, 0x20):
            changed = wire[:i] + bytes([wire[i] ^ flip]) + wire[i + 1 :]
            try:
                received = envelope_from_json(changed)
            except EnvelopeError as exc:
                assert exc.code == codes.ENVELOPE_MALFORMED
                continue
            if received.payload == env.payload:
                continue  # the same JSON written differently (e.g. a space): not a change
            with pytest.raises(EnvelopeError) as exc:
                envelope_verify(received, trust=trust, me=ME)
            assert exc.value.code == codes.BAD_SIGNATURE, (i, changed[i - 5 : i + 5])
            bad_signature += 1
    assert bad_signature > len(payload_text)  # most changes still parse: they are caught by the signature


@pytest.mark.parametrize(
    "change",
    [
        {"type": "case.status"},
        {"ordering_key": "31000020261121000043X"},
        {"seq": 2},
        {"id": "0193a1c2-7f3e-7b6a-9c1d-2e4f5a6b7c8d"},
        {"payload": {**PAYLOAD, "amount": 12.6}},
        {"payload": {**PAYLOAD, "extra": 1}},
        {"payload": {k: v for k, v in PAYLOAD.items() if k != "note"}},
    ],
    ids=lambda c: next(iter(c)),
)
def test_changing_any_signed_field_is_a_bad_signature(sender, trust, change):
    env = make(sender)
    assert refused(replace(env, **change), trust).code == codes.BAD_SIGNATURE


def test_a_changed_created_at_is_a_bad_signature(sender, trust):
    env = make(sender)
    assert (
        refused(replace(env, created_at=env.created_at - timedelta(milliseconds=1)), trust).code
        == codes.BAD_SIGNATURE
    )


def test_a_signature_by_another_key_under_the_senders_kid_is_a_bad_signature(trust):
    impostor = new_signer("310000-2026a")  # claims the sender's kid, signs with its own key
    assert refused(make(impostor), trust).code == codes.BAD_SIGNATURE


def test_a_signature_copied_from_another_envelope_is_a_bad_signature(sender, trust):
    one, other = make(sender), make(sender)
    assert refused(replace(one, signature=other.signature), trust).code == codes.BAD_SIGNATURE


def test_a_claimed_algorithm_other_than_the_keys_is_a_bad_signature(sender, trust):
    env = make(sender)
    assert refused(replace(env, alg="SM2-SM3"), trust).code == codes.BAD_SIGNATURE


# --- Who sent it ----------------------------------------------------------------------------------


def test_a_sender_outside_the_trust_list_is_unknown(trust):
    env = make(new_signer("320100-2026a"), sender="320100")
    assert refused(env, trust).code == codes.UNKNOWN_SENDER


def test_a_removed_member_is_refused_even_with_a_valid_key(anchor, sender):
    document = anchor.document(member_entry(SENDER, "上海市", key_entry(sender), status="removed"))
    trust = trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert refused(make(sender), trust).code == codes.MEMBER_REMOVED


def test_a_kid_the_sender_does_not_have_is_unknown(trust):
    assert refused(make(new_signer("310000-2027x")), trust).code == codes.UNKNOWN_KEY


def test_another_members_kid_is_unknown_for_this_sender(trust):
    assert refused(make(new_signer("340100-2026a")), trust).code == codes.UNKNOWN_KEY


def test_a_key_is_judged_at_the_envelopes_created_at(anchor, sender):
    """Rotation: the old key has a not_after; envelopes it signed before then still verify (while fresh),
    one it signed after is refused; the new key is valid from its not_before."""
    now = datetime.now(UTC).replace(microsecond=0)
    rotated_at = now - timedelta(seconds=60)
    new_key = new_signer("310000-2026b")
    document = anchor.document(
        member_entry(
            SENDER,
            "上海市",
            key_entry(sender, not_before=now - timedelta(days=30), not_after=rotated_at),
            key_entry(new_key, not_before=rotated_at),
        ),
    )
    trust = trust_list_verify(document, anchor_keys=[anchor.public_key])

    before = make(sender, created_at=rotated_at - timedelta(seconds=30))
    envelope_verify(before, trust=trust, me=ME, now=now)  # rotated out since, but valid when signed

    after = make(sender, created_at=rotated_at + timedelta(seconds=1))
    error = refused(after, trust, now=now)
    assert error.code == codes.KEY_NOT_VALID
    assert error.status == 403

    envelope_verify(make(new_key, created_at=rotated_at + timedelta(seconds=1)), trust=trust, me=ME, now=now)
    early = make(new_key, created_at=rotated_at - timedelta(seconds=1))
    assert refused(early, trust, now=now).code == codes.KEY_NOT_VALID


# --- When and to whom -----------------------------------------------------------------------------


def test_an_envelope_for_another_node_is_refused(sender, trust):
    error = refused(make(sender, recipient="320100"), trust)
    assert error.code == codes.WRONG_RECIPIENT
    assert "320100" in error.message


def test_freshness_window(sender, trust, settings):
    settings.EXCHANGE_MAX_AGE_SECONDS = 300
    settings.EXCHANGE_MAX_SKEW_SECONDS = 30
    now = datetime.now(UTC).replace(microsecond=0)
    envelope_verify(make(sender, created_at=now - timedelta(seconds=300)), trust=trust, me=ME, now=now)
    envelope_verify(make(sender, created_at=now + timedelta(seconds=30)), trust=trust, me=ME, now=now)
    stale = refused(make(sender, created_at=now - timedelta(seconds=300, milliseconds=1)), trust, now=now)
    assert (stale.code, stale.status) == (codes.STALE, 422)
    future = refused(make(sender, created_at=now + timedelta(seconds=30, milliseconds=1)), trust, now=now)
    assert (future.code, future.status) == (codes.FROM_THE_FUTURE, 422)


def test_checks_come_in_the_documented_order(sender, trust):
    """A stale envelope for another node with a bad signature is refused for the recipient first."""
    old = datetime.now(UTC) - timedelta(hours=1)
    env = replace(make(sender, created_at=old, recipient="320100"), seq=99)
    assert refused(env, trust).code == codes.WRONG_RECIPIENT
    assert refused(replace(env, recipient=ME), trust).code == codes.BAD_SIGNATURE
    assert refused(make(sender, created_at=old), trust).code == codes.STALE


# --- Malformed envelopes --------------------------------------------------------------------------


def _good_dict(signer) -> dict:
    return envelope_to_dict(make(signer))


@pytest.mark.parametrize("field", FIELDS)
def test_a_missing_field_is_malformed_and_named(sender, field):
    data = _good_dict(sender)
    del data[field]
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_dict(data)
    assert exc.value.code == codes.ENVELOPE_MALFORMED
    assert exc.value.status == 400
    assert field in exc.value.message and "缺失" in exc.value.message


WRONG = [
    ("id", 42),
    ("id", "0193A1C2-7F3E-7B6A-9C1D-2E4F5A6B7C8D"),  # uppercase
    ("id", "4b1c7a8e-2f3d-4e5f-8a9b-0c1d2e3f4a5b"),  # a UUIDv4
    ("id", "0193a1c27f3e7b6a9c1d2e4f5a6b7c8d"),  # no hyphens
    ("sender", 310000),
    ("sender", "31000"),
    ("recipient", "34010A"),
    ("type", ""),
    ("type", "Case.Transfer"),
    ("type", ["case.transfer"]),
    ("created_at", 1763719200),
    ("created_at", "2026-11-21T10:00:00Z"),
    ("created_at", "2026-11-21T18:00:00.000+08:00"),
    ("ordering_key", None),
    ("ordering_key", "a\nb"),
    ("ordering_key", "x" * 201),
    ("seq", "1"),
    ("seq", 1.0),
    ("seq", True),
    ("seq", -1),
    ("seq", 2**53),
    ("payload", [1, 2]),
    ("payload", "{}"),
    ("payload", None),
    ("payload", {"n": 2**53}),
    ("payload", {"n": float("nan")}),
    ("kid", ""),
    ("kid", "310000 2026a"),
    ("alg", 7),
    ("alg", ""),
    ("signature", ""),
    ("signature", 12),
    ("signature", "abc="),  # padded
    ("signature", "ab+c"),  # standard, not url-safe, alphabet
    ("signature", "abc d"),
    ("signature", "a"),  # impossible length
    ("signature", "AB"),  # non-zero trailing bits: not the one text of its value
]


@pytest.mark.parametrize(("field", "value"), WRONG, ids=[f"{f}={v!r}"[:40] for f, v in WRONG])
def test_a_wrongly_typed_or_formed_field_is_malformed_and_named(sender, field, value):
    data = _good_dict(sender)
    data[field] = value
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_dict(data)
    assert exc.value.code == codes.ENVELOPE_MALFORMED
    assert exc.value.details["field"] == field
    assert field in exc.value.message


def test_an_unknown_field_is_malformed(sender):
    data = {**_good_dict(sender), "priority": "high"}
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_dict(data)
    assert exc.value.code == codes.ENVELOPE_MALFORMED and "priority" in exc.value.message


@pytest.mark.parametrize("data", [None, [], "envelope", 3], ids=["null", "list", "string", "number"])
def test_something_other_than_an_object_is_malformed(data):
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_dict(data)
    assert exc.value.code == codes.ENVELOPE_MALFORMED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text[:-1],
        lambda text: text.replace('"count":3', '"count":NaN'),
        lambda text: text.replace('"count":3', '"count":3,"count":4'),
        lambda text: text.encode("utf-16"),
    ],
    ids=["truncated", "nan", "duplicate-name", "not-utf8"],
)
def test_bodies_that_are_not_i_json_are_malformed(sender, mangle):
    text = json.dumps(_good_dict(sender), ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_json(mangle(text))
    assert exc.value.code == codes.ENVELOPE_MALFORMED


def test_seal_refuses_what_a_receiver_would_refuse(sender):
    with pytest.raises(EnvelopeError) as exc:
        make(sender, recipient="3401")
    assert exc.value.code == codes.ENVELOPE_MALFORMED and exc.value.details["field"] == "recipient"
    with pytest.raises(EnvelopeError):
        make(sender, payload={"when": datetime.now(UTC)})
    with pytest.raises(EnvelopeError):
        make(sender, created_at=datetime(2026, 11, 21, 10, 0))  # naive


# --- Another signature suite ----------------------------------------------------------------------


def test_a_registered_suite_verifies_keys_of_its_algorithm(anchor):
    """The registry is how SM2-SM3 will be added: register a suite for an alg and keys of that alg
    verify. (Here a keyed hash stands in for it: only the registry is under test.)"""
    secret = bytes(range(32))

    class HmacSigner:
        kid, alg = "310000-test", "Test-HMAC-SHA256"

        def sign(self, data: bytes) -> bytes:
            return hmac.new(secret, data, hashlib.sha256).digest()

    def verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
        return hmac.compare_digest(hmac.new(public_key, data, hashlib.sha256).digest(), signature)

    key = {
        "kid": HmacSigner.kid,
        "alg": HmacSigner.alg,
        "public_key": b64u(secret),
        "not_before": format_time(datetime.now(UTC) - timedelta(days=1)),
        "not_after": None,
    }
    trust = trust_list_verify(
        anchor.document(member_entry(SENDER, "上海市", key)), anchor_keys=[anchor.public_key]
    )
    env = make(HmacSigner())
    assert refused(env, trust).code == codes.BAD_SIGNATURE  # not registered: never verifies
    signing.register_suite(SignatureSuite(alg=HmacSigner.alg, verify=verify, public_key_size=32))
    try:
        assert HmacSigner.alg in signing.supported_algs()
        envelope_verify(env, trust=trust, me=ME)
        assert refused(replace(env, seq=2), trust).code == codes.BAD_SIGNATURE
    finally:
        signing._SUITES.pop(HmacSigner.alg)
