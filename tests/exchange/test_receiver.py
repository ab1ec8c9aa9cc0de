"""The envelope endpoint: verified envelopes are stored before they are acknowledged, replays are
acknowledged and not stored again, and every refusal has its stable code, a RejectedEnvelope row and
never a 5xx. Real keys and signatures; Django's test client."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.exchange import kit
from tongban.exchange import error_codes as codes
from tongban.exchange import handlers, inbox
from tongban.exchange.models import InboxMessage, InboxState, RejectedEnvelope
from tongban.exchange.signing import Ed25519Signer

pytestmark = pytest.mark.django_db

URL = "/federation/v1/envelopes"


@pytest.fixture(autouse=True)
def node(settings):
    settings.ROOT_URLCONF = "tests.exchange.kit"
    settings.NODE_CODE = kit.SHANGHAI
    return kit.install_trust(settings)


@pytest.fixture
def api(client):
    def post(data: bytes, **extra):
        return client.post(URL, data=data, content_type="application/json", REMOTE_ADDR="10.9.8.7", **extra)

    return post


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def refused_with(api, envelope: dict, code: str) -> RejectedEnvelope:
    [result] = results(api(kit.body(envelope)))
    assert (result["status"], result["code"]) == ("rejected", code), result
    assert result["id"] == envelope.get("id")
    assert result["reason"]
    assert not InboxMessage.objects.exists()
    row = RejectedEnvelope.objects.get()
    assert (row.code, row.envelope_id, row.remote_addr) == (code, envelope.get("id", ""), "10.9.8.7")
    return row


# --- Accepted ---------------------------------------------------------------------------------


def test_verified_envelope_is_stored_then_acknowledged(api):
    env = kit.envelope(type="case.status", payload={"number": "X1"}, ordering_key="X1", seq=1)
    assert results(api(kit.body(env))) == [{"id": env["id"], "status": "accepted"}]
    stored = InboxMessage.objects.get()
    assert (stored.id, stored.sender, stored.type, stored.ordering_key, stored.seq, stored.state) == (
        env["id"],
        kit.HEFEI,
        "case.status",
        "X1",
        1,
        InboxState.RECEIVED,
    )
    assert stored.envelope == env  # the signed envelope as received: proof of what was said
    assert stored.remote_addr == "10.9.8.7"
    assert not RejectedEnvelope.objects.exists()


def test_batch_answers_each_envelope_in_order(api):
    good1, good2 = kit.envelope(), kit.envelope(sender=kit.HUANGSHAN)
    tampered = kit.envelope()
    tampered["payload"] = {"n": 2}
    answer = results(api(kit.body(good1, tampered, good2)))
    assert [(r["id"], r["status"]) for r in answer] == [
        (good1["id"], "accepted"),
        (tampered["id"], "rejected"),
        (good2["id"], "accepted"),
    ]
    assert InboxMessage.objects.count() == 2
    assert RejectedEnvelope.objects.get().code == codes.BAD_SIGNATURE


def test_endpoint_needs_no_csrf_token(settings):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        URL, data=kit.body(kit.envelope()), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "accepted"


# --- Replays ----------------------------------------------------------------------------------


def test_replayed_envelope_is_acknowledged_as_duplicate_and_not_applied_again(api):
    calls = []
    env = kit.envelope(type="test.count")
    with handlers.override("test.count", lambda payload, *, sender, envelope_id: calls.append(envelope_id)):
        assert results(api(kit.body(env)))[0]["status"] == "accepted"
        assert inbox.apply_pending() == 1
        replay = results(api(kit.body(env)))
        assert replay == [{"id": env["id"], "status": "duplicate", "duplicate": True}]
        assert inbox.apply_pending() == 0
    assert calls == [env["id"]]
    assert InboxMessage.objects.get().state == InboxState.APPLIED
    assert not RejectedEnvelope.objects.exists()


def test_a_retry_resealed_later_with_the_same_id_is_a_duplicate(api):
    first = kit.envelope(id="0193a1c2-7f3e-7b6a-9c1d-2e4f5a6b7c8d")
    again = kit.envelope(id=first["id"], created_at=datetime.now(UTC) + timedelta(seconds=2))
    assert first["signature"] != again["signature"]
    assert results(api(kit.body(first)))[0]["status"] == "accepted"
    assert results(api(kit.body(again)))[0]["status"] == "duplicate"
    assert InboxMessage.objects.count() == 1


def test_same_id_twice_in_one_batch_is_stored_once(api):
    env = kit.envelope()
    answer = results(api(kit.body(env, env)))
    assert [r["status"] for r in answer] == ["accepted", "duplicate"]
    assert InboxMessage.objects.count() == 1


def test_an_id_taken_by_another_sender_is_refused(api):
    env = kit.envelope()
    api(kit.body(env))
    other = kit.envelope(sender=kit.HUANGSHAN, id=env["id"])
    [result] = results(api(kit.body(other)))
    assert (result["status"], result["code"]) == ("rejected", inbox.ID_CONFLICT)
    assert InboxMessage.objects.get().sender == kit.HEFEI


# --- Refusals, one per check ------------------------------------------------------------------


def test_tampered_payload_is_refused_bad_signature(api):
    env = kit.envelope(payload={"amount": 100})
    env["payload"]["amount"] = 1_000_000
    row = refused_with(api, env, codes.BAD_SIGNATURE)
    assert row.claimed_sender == kit.HEFEI
    assert row.headers["kid"] == env["kid"] and "payload" not in row.headers


def test_envelope_signed_with_another_key_under_the_senders_kid_is_refused(api):
    impostor = Ed25519Signer(Ed25519PrivateKey.generate(), kit.KEYS[kit.HEFEI].kid)
    refused_with(api, kit.envelope(signer=impostor), codes.BAD_SIGNATURE)


def test_envelope_with_a_kid_the_sender_does_not_have_is_refused(api):
    stranger = Ed25519Signer(Ed25519PrivateKey.generate(), "340100-unlisted")
    refused_with(api, kit.envelope(signer=stranger), codes.UNKNOWN_KEY)


def test_envelope_signed_with_another_members_key_is_refused(api):
    refused_with(api, kit.envelope(sender=kit.HEFEI, signer=kit.KEYS[kit.HUANGSHAN]), codes.UNKNOWN_KEY)


def test_envelope_from_a_node_outside_the_trust_list_is_refused(api):
    refused_with(api, kit.envelope(sender=kit.NANJING), codes.UNKNOWN_SENDER)


def test_envelope_from_a_removed_member_is_refused(api, settings):
    kit.install_trust(settings, version=2, removed=(kit.HUANGSHAN,))
    refused_with(api, kit.envelope(sender=kit.HUANGSHAN), codes.MEMBER_REMOVED)


def test_envelope_signed_with_a_key_past_its_validity_is_refused(api, settings):
    retired = datetime.now(UTC) - timedelta(days=1)
    kit.install_trust(
        settings,
        version=2,
        keys={
            kit.HEFEI: [
                kit.key_entry(kit.KEYS[kit.HEFEI], not_before=retired - timedelta(days=30), not_after=retired)
            ]
        },
    )
    refused_with(api, kit.envelope(), codes.KEY_NOT_VALID)


def test_envelope_for_another_node_is_refused(api):
    refused_with(api, kit.envelope(recipient=kit.HUANGSHAN), codes.WRONG_RECIPIENT)


def test_stale_envelope_is_refused(api, settings):
    old = datetime.now(UTC) - timedelta(seconds=settings.EXCHANGE_MAX_AGE_SECONDS + 60)
    refused_with(api, kit.envelope(created_at=old), codes.STALE)


def test_envelope_from_the_future_is_refused(api, settings):
    ahead = datetime.now(UTC) + timedelta(seconds=settings.EXCHANGE_MAX_SKEW_SECONDS + 60)
    refused_with(api, kit.envelope(created_at=ahead), codes.FROM_THE_FUTURE)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e.pop("signature"),
        lambda e: e.update(seq="1"),
        lambda e: e.update(extra="field"),
        lambda e: e.update(id="not-a-uuid"),
        lambda e: e.update(created_at="2026-11-21 10:00:00"),
        lambda e: e.update(signature="***"),
    ],
    ids=["no-signature", "seq-as-text", "extra-field", "bad-id", "bad-time", "bad-signature-text"],
)
def test_malformed_envelope_is_refused(api, spoil):
    env = kit.envelope()
    spoil(env)
    refused_with(api, env, codes.ENVELOPE_MALFORMED)


@pytest.mark.parametrize("item", [None, 42, "envelope", [], {}, {"id": 5, "sender": ["x"]}])
def test_envelopes_that_are_not_even_objects_are_refused_without_a_5xx(api, item):
    [result] = results(api(json.dumps({"envelopes": [item]}).encode()))
    assert (result["status"], result["code"]) == ("rejected", codes.ENVELOPE_MALFORMED)
    assert RejectedEnvelope.objects.get().code == codes.ENVELOPE_MALFORMED


def test_nothing_is_accepted_without_a_trust_list(api):
    from tongban.exchange.trust_models import TrustListState

    TrustListState.objects.all().delete()
    refused_with(api, kit.envelope(), codes.TRUST_LIST_MISSING)


def test_nothing_is_accepted_once_the_trust_list_has_expired(api, settings):
    # The installed list is due for update in a day; a grace of minus two days puts it past its end.
    settings.TRUST_GRACE_HOURS = -48
    refused_with(api, kit.envelope(), codes.TRUST_LIST_EXPIRED)


# --- Whole-request faults ---------------------------------------------------------------------


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"]) == (code, status)
    assert body["title"]
    return body


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b'{"envelopes": [1,}',
        "信封".encode("gbk"),
        b'{"envelopes": [], "envelopes": []}',
        b"NaN",
    ],
    ids=["broken", "trailing-comma", "not-utf8", "duplicate-name", "nan"],
)
def test_body_that_is_not_json_is_refused_malformed(api, data):
    problem(api(data), 400, codes.ENVELOPE_MALFORMED)
    row = RejectedEnvelope.objects.get()
    assert (row.code, row.remote_addr, row.envelope_id) == (codes.ENVELOPE_MALFORMED, "10.9.8.7", "")


@pytest.mark.parametrize(
    "document", [[], {"envelopes": {}}, {"envelope": []}, {"envelopes": [], "more": 1}, "text"]
)
def test_body_of_the_wrong_shape_is_refused_malformed(api, document):
    problem(api(json.dumps(document).encode()), 400, codes.ENVELOPE_MALFORMED)
    assert RejectedEnvelope.objects.get().code == codes.ENVELOPE_MALFORMED


def test_oversized_body_is_refused_before_it_is_parsed(api, settings):
    settings.EXCHANGE_MAX_BODY_BYTES = 2048
    big = kit.envelope(payload={"text": "长" * 2000})
    problem(api(kit.body(big)), 413, codes.BODY_TOO_LARGE)
    assert RejectedEnvelope.objects.get().code == codes.BODY_TOO_LARGE
    assert not InboxMessage.objects.exists()


def test_too_many_envelopes_in_one_request_is_refused_as_too_large(api):
    from tongban.exchange.receiver import MAX_ENVELOPES_PER_REQUEST

    problem(
        api(json.dumps({"envelopes": [{}] * (MAX_ENVELOPES_PER_REQUEST + 1)}).encode()),
        413,
        codes.BODY_TOO_LARGE,
    )
    assert RejectedEnvelope.objects.count() == 1  # one row for the request, not one per item


def test_empty_batch_is_answered_with_no_results(api):
    assert results(api(kit.body())) == []


def test_other_methods_are_refused(client):
    response = client.get(URL)
    problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "POST"


def test_rejection_rows_and_results_never_include_the_payload(api):
    env = kit.envelope(payload={"id_number": "340102199001011234"})
    env["payload"] = copy.deepcopy(env["payload"]) | {"x": 1}
    refused_with(api, env, codes.BAD_SIGNATURE)
    assert "340102199001011234" not in json.dumps(RejectedEnvelope.objects.values().get(), default=str)


# --- Health -----------------------------------------------------------------------------------


def test_health_names_the_node_and_its_trust_list(client, node):
    body = client.get("/federation/v1/health").json()
    assert body["node"] == kit.SHANGHAI
    assert body["status"] == "ok"
    assert body["trust_list"]["version"] == node.version
    assert body["trust_list"]["usable"] is True


def test_health_says_unavailable_without_a_trust_list(client):
    from tongban.exchange.trust_models import TrustListState

    TrustListState.objects.all().delete()
    response = client.get("/federation/v1/health")
    assert response.status_code == 503
    assert response.json()["trust_list"]["error_code"] == codes.TRUST_LIST_MISSING
