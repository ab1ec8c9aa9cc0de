"""The trust list: verification against the anchor key, install with rollback protection, the grace
period, refreshing from a URL or file, and key validity over time. Real keys, real signatures."""

from __future__ import annotations

import copy
import http.server
import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tongban.exchange import error_codes as codes
from tongban.exchange.canonical import format_time
from tongban.exchange.envelope import EnvelopeError
from tongban.exchange.signing import Ed25519Signer, b64u
from tongban.exchange.trust import (
    TrustListError,
    current_trust_list,
    install_if_newer,
    trust_list_install,
    trust_list_refresh,
    trust_list_sign,
    trust_list_verify,
    trust_status,
)
from tongban.exchange.trust_models import TrustListState

# --- Builders shared with the envelope tests ------------------------------------------------------


def new_signer(kid: str) -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.generate(), kid)


def key_entry(
    signer: Ed25519Signer, *, not_before: datetime | None = None, not_after: datetime | None = None
) -> dict:
    return {
        "kid": signer.kid,
        "alg": signer.alg,
        "public_key": b64u(signer.public_key),
        "not_before": format_time(not_before or datetime.now(UTC) - timedelta(days=30)),
        "not_after": format_time(not_after) if not_after else None,
    }


def member_entry(code: str, name: str, *keys: dict, status: str = "active", port: int = 8000) -> dict:
    return {
        "code": code,
        "name": name,
        "endpoint": f"http://127.0.0.1:{port}",
        "roles": ["node"],
        "status": status,
        "keys": list(keys),
    }


class Anchor:
    """A trust anchor for tests: a real Ed25519 key that signs trust lists."""

    def __init__(self, kid: str = "anchor-test"):
        self.signer = new_signer(kid)

    @property
    def public_key(self) -> bytes:
        return self.signer.public_key

    def document(
        self,
        *members: dict,
        version: int = 1,
        issued_at: datetime | None = None,
        next_update: datetime | None = None,
    ) -> dict:
        issued_at = issued_at or datetime.now(UTC) - timedelta(hours=1)
        payload = {
            "version": version,
            "issued_at": format_time(issued_at),
            "next_update": format_time(next_update or issued_at + timedelta(hours=24)),
            "members": list(members),
        }
        return trust_list_sign(payload, signer=self.signer)


@pytest.fixture
def anchor(settings):
    anchor = Anchor()
    settings.TRUST_ANCHOR_KEYS = [b64u(anchor.public_key)]
    return anchor


@pytest.fixture
def hefei():
    return new_signer("340100-2026a")


@pytest.fixture
def shanghai():
    return new_signer("310000-2026a")


def two_members(hefei, shanghai) -> list[dict]:
    return [
        member_entry("340100", "合肥市", key_entry(hefei), port=8002),
        member_entry("310000", "上海市", key_entry(shanghai), port=8001),
    ]


# --- Verification ---------------------------------------------------------------------------------


def test_a_signed_list_is_read_as_the_document_says(anchor, hefei, shanghai):
    document = anchor.document(*two_members(hefei, shanghai), version=7)
    trust = trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert trust.version == 7
    assert set(trust.members) == {"340100", "310000"}
    hf = trust.member("340100")
    assert (hf.name, hf.endpoint, hf.roles, hf.status) == (
        "合肥市",
        "http://127.0.0.1:8002",
        ("node",),
        "active",
    )
    assert hf.keys[0].public_key == hefei.public_key and hf.keys[0].not_after is None
    assert trust.endpoint_of("310000") == "http://127.0.0.1:8001"
    assert trust.member("320100") is None
    assert trust.document is document


def test_the_document_is_json_and_survives_a_round_trip_through_text(anchor, hefei, shanghai):
    document = anchor.document(*two_members(hefei, shanghai))
    again = json.loads(json.dumps(document, ensure_ascii=False, indent=4))
    assert trust_list_verify(again, anchor_keys=[anchor.public_key]).version == 1


def _edits():
    """Each changes one value of a signed document; every one must break the signature."""
    return {
        "version": lambda d: d["payload"].__setitem__("version", 8),
        "next_update": lambda d: d["payload"].__setitem__("next_update", "2099-01-01T00:00:00.000Z"),
        "member name, one character": lambda d: d["payload"]["members"][0].__setitem__("name", "合肥巿"),
        "endpoint": lambda d: d["payload"]["members"][0].__setitem__("endpoint", "http://127.0.0.1:9999"),
        "status": lambda d: d["payload"]["members"][0].__setitem__("status", "removed"),
        "role added": lambda d: d["payload"]["members"][0]["roles"].append("anchor"),
        "public key, one character": lambda d: d["payload"]["members"][0]["keys"][0].__setitem__(
            "public_key", _flip_char(d["payload"]["members"][0]["keys"][0]["public_key"])
        ),
        "not_after": lambda d: d["payload"]["members"][0]["keys"][0].__setitem__(
            "not_after", "2099-01-01T00:00:00.000Z"
        ),
        "member dropped": lambda d: d["payload"]["members"].pop(),
        "signature, one character": lambda d: d.__setitem__("signature", _flip_char(d["signature"])),
    }


def _flip_char(text: str, at: int = 5) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize("edit", list(_edits()))
def test_a_list_with_any_change_fails_its_signature(anchor, hefei, shanghai, edit):
    document = copy.deepcopy(anchor.document(*two_members(hefei, shanghai), version=7))
    _edits()[edit](document)
    with pytest.raises(TrustListError) as exc:
        trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert exc.value.code == codes.TRUST_LIST_BAD_SIGNATURE


def test_every_byte_of_the_published_file_matters(anchor, hefei):
    """Change any one byte of the file as published: it is refused (malformed or bad signature), unless
    the byte is in the anchor's ``kid``, a hint outside the signed payload (which anchor keys to try is
    the node's configuration, not the document's say)."""
    document = anchor.document(member_entry("340100", "合肥市", key_entry(hefei)))
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    accepted_changes = 0
    for i in range(len(text)):
        changed = text[:i] + bytes([text[i] ^ 0x01]) + text[i + 1 :]
        try:
            tampered = json.loads(changed)
            trust_list_verify(tampered, anchor_keys=[anchor.public_key])
        except (ValueError, TrustListError):
            continue
        unsigned_hint_only = {k: v for k, v in tampered.items() if k != "kid"}
        assert unsigned_hint_only == {k: v for k, v in document.items() if k != "kid"}, (
            f"byte {i} was accepted"
        )
        accepted_changes += 1
    assert accepted_changes <= len(anchor.signer.kid)


def test_a_list_signed_by_another_key_is_refused(anchor, hefei):
    impostor = Anchor(kid=anchor.signer.kid)
    document = impostor.document(member_entry("340100", "合肥市", key_entry(hefei)))
    with pytest.raises(TrustListError) as exc:
        trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert exc.value.code == codes.TRUST_LIST_BAD_SIGNATURE


def test_any_of_several_anchor_keys_verifies_during_an_anchor_rollover(anchor, hefei):
    next_anchor = Anchor(kid="anchor-next")
    document = next_anchor.document(member_entry("340100", "合肥市", key_entry(hefei)))
    assert trust_list_verify(document, anchor_keys=[anchor.public_key, next_anchor.public_key]).version == 1


def test_without_anchor_keys_nothing_verifies(anchor, hefei):
    document = anchor.document(member_entry("340100", "合肥市", key_entry(hefei)))
    with pytest.raises(TrustListError) as exc:
        trust_list_verify(document, anchor_keys=[])
    assert exc.value.code == codes.TRUST_ANCHOR_NOT_CONFIGURED


def _malformed_payloads():
    return {
        "members missing": lambda p: p.pop("members"),
        "unknown field": lambda p: p.__setitem__("extra", 1),
        "version zero": lambda p: p.__setitem__("version", 0),
        "version text": lambda p: p.__setitem__("version", "7"),
        "bad time": lambda p: p.__setitem__("issued_at", "2026-11-21T10:00:00Z"),
        "next_update before issued_at": lambda p: p.__setitem__("next_update", "2000-01-01T00:00:00.000Z"),
        "duplicate member": lambda p: p["members"].append(copy.deepcopy(p["members"][0])),
        "code not six digits": lambda p: p["members"][0].__setitem__("code", "3401"),
        "status unknown": lambda p: p["members"][0].__setitem__("status", "suspended"),
        "endpoint not http": lambda p: p["members"][0].__setitem__("endpoint", "ftp://example"),
        "roles not a list": lambda p: p["members"][0].__setitem__("roles", "node"),
        "key too short": lambda p: p["members"][0]["keys"][0].__setitem__("public_key", b64u(b"\x01" * 31)),
        "key padded base64": lambda p: p["members"][0]["keys"][0].__setitem__(
            "public_key", p["members"][0]["keys"][0]["public_key"] + "="
        ),
        "key without not_after": lambda p: p["members"][0]["keys"][0].pop("not_after"),
        "not_after before not_before": lambda p: p["members"][0]["keys"][0].__setitem__(
            "not_after", "2000-01-01T00:00:00.000Z"
        ),
        "duplicate kid": lambda p: p["members"][0]["keys"].append(copy.deepcopy(p["members"][0]["keys"][0])),
    }


@pytest.mark.parametrize("edit", list(_malformed_payloads()))
def test_a_signed_but_malformed_list_is_refused_as_malformed(anchor, hefei, edit):
    payload = copy.deepcopy(anchor.document(member_entry("340100", "合肥市", key_entry(hefei)))["payload"])
    _malformed_payloads()[edit](payload)
    # Signed properly (trust_list_sign would refuse it, so sign by hand): only the content is wrong.
    from tongban.exchange.canonical import canonical_bytes

    document = {
        "payload": payload,
        "kid": anchor.signer.kid,
        "alg": "Ed25519",
        "signature": b64u(anchor.signer.sign(canonical_bytes(payload))),
    }
    with pytest.raises(TrustListError) as exc:
        trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert exc.value.code == codes.TRUST_LIST_MALFORMED
    assert "信任列表格式错误" in exc.value.message


@pytest.mark.parametrize(
    "document",
    [None, [], {"payload": {}}, {"payload": [], "kid": "a", "alg": "Ed25519", "signature": "AA"}],
    ids=["null", "list", "fields-missing", "payload-not-object"],
)
def test_documents_that_are_not_trust_lists_are_malformed(anchor, document):
    with pytest.raises(TrustListError) as exc:
        trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert exc.value.code == codes.TRUST_LIST_MALFORMED


def test_a_key_of_an_algorithm_this_node_does_not_know_is_kept_but_never_verifies(anchor, hefei):
    future = {
        **key_entry(new_signer("340100-sm2")),
        "alg": "SM2-SM3",
        "public_key": b64u(b"\x04" + b"\x01" * 64),
    }
    document = anchor.document(member_entry("340100", "合肥市", key_entry(hefei), future))
    trust = trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert [k.alg for k in trust.member("340100").keys] == ["Ed25519", "SM2-SM3"]


# --- Key validity over time -----------------------------------------------------------------------


def test_key_valid_at_follows_not_before_not_after_and_membership(anchor, hefei, shanghai):
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    t1 = datetime(2026, 11, 20, tzinfo=UTC)
    new_hefei = new_signer("340100-2026b")
    document = anchor.document(
        member_entry(
            "340100",
            "合肥市",
            key_entry(hefei, not_before=t0, not_after=t1),
            key_entry(new_hefei, not_before=t1),
        ),
        member_entry("310000", "上海市", key_entry(shanghai, not_before=t0), status="removed"),
    )
    trust = trust_list_verify(document, anchor_keys=[anchor.public_key])
    assert trust.key_valid_at("340100", hefei.kid, t0).public_key == hefei.public_key
    assert trust.key_valid_at("340100", hefei.kid, t1 - timedelta(milliseconds=1)).kid == hefei.kid
    assert trust.key_valid_at("340100", new_hefei.kid, t1).kid == new_hefei.kid
    cases = [
        (("340100", hefei.kid, t1), codes.KEY_NOT_VALID),  # not_after is exclusive
        (("340100", hefei.kid, t0 - timedelta(seconds=1)), codes.KEY_NOT_VALID),
        (("340100", new_hefei.kid, t1 - timedelta(seconds=1)), codes.KEY_NOT_VALID),
        (("340100", shanghai.kid, t1), codes.UNKNOWN_KEY),
        (("310000", shanghai.kid, t1), codes.MEMBER_REMOVED),
        (("320100", "320100-a", t1), codes.UNKNOWN_SENDER),
    ]
    for args, code in cases:
        with pytest.raises(EnvelopeError) as exc:
            trust.key_valid_at(*args)
        assert exc.value.code == code, args
    with pytest.raises(EnvelopeError) as exc:
        trust.endpoint_of("310000")
    assert exc.value.code == codes.RECIPIENT_REMOVED
    with pytest.raises(EnvelopeError) as exc:
        trust.endpoint_of("320100")
    assert exc.value.code == codes.UNKNOWN_RECIPIENT


# --- This node's list: install, rollback, grace -----------------------------------------------------


@pytest.mark.django_db
def test_no_list_installed_is_missing(anchor):
    with pytest.raises(TrustListError) as exc:
        current_trust_list()
    assert exc.value.code == codes.TRUST_LIST_MISSING
    assert trust_status().state == "missing"


@pytest.mark.django_db
def test_install_stores_the_list_durably_and_current_reads_it(anchor, hefei, shanghai):
    document = anchor.document(*two_members(hefei, shanghai), version=3)
    assert trust_list_install(document).version == 3
    state = TrustListState.objects.get()
    assert state.version == 3 and state.document == document and state.installed_at is not None
    assert current_trust_list().version == 3
    assert current_trust_list() is current_trust_list()  # cached while the stored row is unchanged


@pytest.mark.django_db
def test_a_lower_version_is_refused_and_the_installed_list_kept(anchor, hefei, shanghai):
    trust_list_install(anchor.document(*two_members(hefei, shanghai), version=5))
    with pytest.raises(TrustListError) as exc:
        trust_list_install(anchor.document(*two_members(hefei, shanghai)[:1], version=4))
    assert exc.value.code == codes.TRUST_LIST_ROLLBACK
    assert current_trust_list().version == 5
    assert len(current_trust_list().members) == 2


@pytest.mark.django_db
def test_the_same_version_is_a_no_op_but_the_same_version_with_other_content_is_refused(
    anchor, hefei, shanghai
):
    document = anchor.document(*two_members(hefei, shanghai), version=5)
    trust_list_install(document)
    assert install_if_newer(copy.deepcopy(document))[1] is False
    with pytest.raises(TrustListError) as exc:
        trust_list_install(anchor.document(*two_members(hefei, shanghai)[:1], version=5))
    assert exc.value.code == codes.TRUST_LIST_ROLLBACK


@pytest.mark.django_db
def test_a_newer_version_replaces_the_list(anchor, hefei, shanghai):
    trust_list_install(anchor.document(*two_members(hefei, shanghai), version=1))
    assert set(current_trust_list().members) == {"340100", "310000"}
    trust_list_install(anchor.document(*two_members(hefei, shanghai)[:1], version=2))
    assert current_trust_list().version == 2
    assert set(current_trust_list().members) == {"340100"}


@pytest.mark.django_db
def test_a_list_installed_by_another_process_is_picked_up(anchor, hefei, shanghai):
    trust_list_install(anchor.document(*two_members(hefei, shanghai), version=1))
    assert current_trust_list().version == 1
    # Another process writes the row; this process's cache must notice.
    from tongban.exchange.trust import document_digest

    newer = anchor.document(*two_members(hefei, shanghai)[:1], version=2)
    TrustListState.objects.update(version=2, document=newer, digest=document_digest(newer))
    assert current_trust_list().version == 2


@pytest.mark.django_db
def test_a_list_changed_in_the_database_is_refused_when_loaded(anchor, hefei, shanghai):
    document = anchor.document(*two_members(hefei, shanghai), version=1)
    trust_list_install(document)
    forged = copy.deepcopy(document)
    forged["payload"]["members"][1]["endpoint"] = "http://127.0.0.1:6666"
    TrustListState.objects.update(document=forged, digest="0" * 64)
    with pytest.raises(TrustListError) as exc:
        current_trust_list()
    assert exc.value.code == codes.TRUST_LIST_BAD_SIGNATURE


@pytest.mark.django_db
def test_the_list_is_usable_within_the_grace_period_and_expired_after(anchor, hefei, shanghai, settings):
    settings.TRUST_GRACE_HOURS = 2
    issued = datetime.now(UTC) - timedelta(hours=1)
    document = anchor.document(
        *two_members(hefei, shanghai), issued_at=issued, next_update=issued + timedelta(hours=3)
    )
    next_update = trust_list_install(document).next_update  # as written: to the millisecond
    assert current_trust_list(now=next_update - timedelta(minutes=1)).version == 1
    assert trust_status(now=next_update - timedelta(minutes=1)).state == "ok"
    # Past next_update (the anchor unreachable): still working, for the grace period.
    assert current_trust_list(now=next_update + timedelta(hours=1)).version == 1
    assert trust_status(now=next_update + timedelta(hours=1)).state == "grace"
    assert current_trust_list(now=next_update + timedelta(hours=2)).version == 1
    with pytest.raises(TrustListError) as exc:
        current_trust_list(now=next_update + timedelta(hours=2, milliseconds=1))
    assert exc.value.code == codes.TRUST_LIST_EXPIRED
    status = trust_status(now=next_update + timedelta(hours=3))
    assert (status.state, status.usable, status.error_code) == ("expired", False, codes.TRUST_LIST_EXPIRED)


@pytest.mark.django_db
def test_a_list_already_past_its_grace_period_is_not_installed(anchor, hefei, settings):
    settings.TRUST_GRACE_HOURS = 1
    issued = datetime.now(UTC) - timedelta(hours=30)
    document = anchor.document(member_entry("340100", "合肥市", key_entry(hefei)), issued_at=issued)
    with pytest.raises(TrustListError) as exc:
        trust_list_install(document)
    assert exc.value.code == codes.TRUST_LIST_EXPIRED
    assert not TrustListState.objects.filter(version__gt=0).exists()


@pytest.mark.django_db
def test_a_changed_anchor_configuration_is_applied_to_the_installed_list(anchor, hefei, settings):
    trust_list_install(anchor.document(member_entry("340100", "合肥市", key_entry(hefei))))
    settings.TRUST_ANCHOR_KEYS = [b64u(Anchor().public_key)]
    with pytest.raises(TrustListError) as exc:
        current_trust_list()
    assert exc.value.code == codes.TRUST_LIST_BAD_SIGNATURE


# --- Refresh --------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_refresh_from_a_file_installs_a_newer_list(anchor, hefei, shanghai, settings, tmp_path):
    path = tmp_path / "trust-list.json"
    path.write_text(json.dumps(anchor.document(*two_members(hefei, shanghai), version=4)), encoding="utf-8")
    settings.TRUST_LIST_URL = str(path)
    result = trust_list_refresh()
    assert (result.ok, result.installed, result.version) == (True, True, 4)
    assert current_trust_list().version == 4
    assert TrustListState.objects.get().fetched_at is not None
    again = trust_list_refresh()
    assert (again.ok, again.installed, again.version) == (True, False, 4)


@pytest.mark.django_db
def test_refresh_over_http_installs_a_newer_list(anchor, hefei, shanghai, settings):
    body = json.dumps(anchor.document(*two_members(hefei, shanghai), version=9)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.TRUST_LIST_URL = f"http://127.0.0.1:{server.server_port}/trust-list.json"
        result = trust_list_refresh()
    finally:
        server.shutdown()
        server.server_close()
    assert (result.ok, result.installed, result.version) == (True, True, 9)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "where", ["closed port", "missing file", "not json", "bad signature", "older version", "no url"]
)
def test_a_failed_refresh_keeps_the_last_good_list_and_says_why(
    anchor, hefei, shanghai, settings, tmp_path, where
):
    trust_list_install(anchor.document(*two_members(hefei, shanghai), version=5))
    path = tmp_path / "trust-list.json"
    expected = codes.TRUST_LIST_UNREACHABLE
    if where == "closed port":
        settings.TRUST_LIST_URL = f"http://127.0.0.1:{_closed_port()}/trust-list.json"
    elif where == "missing file":
        settings.TRUST_LIST_URL = str(tmp_path / "nowhere.json")
    elif where == "not json":
        path.write_text("<html>维护中</html>", encoding="utf-8")
        settings.TRUST_LIST_URL, expected = str(path), codes.TRUST_LIST_MALFORMED
    elif where == "bad signature":
        forged = anchor.document(*two_members(hefei, shanghai), version=6)
        forged["payload"]["members"][0]["endpoint"] = "http://127.0.0.1:6666"
        path.write_text(json.dumps(forged), encoding="utf-8")
        settings.TRUST_LIST_URL, expected = str(path), codes.TRUST_LIST_BAD_SIGNATURE
    elif where == "older version":
        path.write_text(
            json.dumps(anchor.document(*two_members(hefei, shanghai), version=4)), encoding="utf-8"
        )
        settings.TRUST_LIST_URL, expected = str(path), codes.TRUST_LIST_ROLLBACK
    else:
        settings.TRUST_LIST_URL, expected = "", codes.TRUST_LIST_URL_MISSING

    result = trust_list_refresh()

    assert (result.ok, result.installed, result.version, result.error_code) == (False, False, 5, expected)
    assert result.error
    assert current_trust_list().version == 5
    state = TrustListState.objects.get()
    assert expected in state.last_error and state.last_error_at is not None
    assert trust_status().last_error == state.last_error


@pytest.mark.django_db
def test_a_failed_refresh_without_any_list_is_reported_not_raised(anchor, settings, tmp_path):
    settings.TRUST_LIST_URL = str(tmp_path / "nowhere.json")
    result = trust_list_refresh()
    assert (result.ok, result.version, result.error_code) == (False, 0, codes.TRUST_LIST_UNREACHABLE)
    with pytest.raises(TrustListError) as exc:
        current_trust_list()
    assert exc.value.code == codes.TRUST_LIST_MISSING
