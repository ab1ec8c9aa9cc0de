"""Electronic certificates across real node processes: a 合肥 citizen's electronic identity card stands
in for a material of a 上海 item and 上海 verifies it itself; the 营业执照 上海 issues arrives among the
citizen's certificates at 合肥 and verifies there; 上海 revokes it and 合肥 refuses it after the next
status-list sync."""

from __future__ import annotations

import urllib.request

import pytest

from tests.federation.test_cross_city import HF, SH, _find_item, _submission

pytestmark = pytest.mark.federation


def test_a_certificate_issued_in_shanghai_is_held_verified_and_revoked_across_the_federation(federation):
    hefei, shanghai = federation[HF], federation[SH]
    mine = hefei.request("GET", "/api/v1/certificates", user="citizen", expect=200)
    id_card = next(c for c in mine if c["type_name"].startswith("居民身份证"))
    assert id_card["issuer_node"] == HF

    item = _find_item(hefei, "内资有限公司设立登记", SH)
    submission = _submission(hefei, item["implementation_code"])
    submission["materials"] = [m for m in submission["materials"] if m["material"] != "legal_rep_id"]
    submission["certificates"] = [
        {"material": "legal_rep_id", "identifier": id_card["identifier"], "consent": True}
    ]
    case = hefei.request("POST", "/api/v1/cases", submission, user="citizen", expect=201)
    number = case["number"]
    assert [u["material"] for u in case["certificate_uses"]] == ["legal_rep_id"]

    # 上海 checks the 合肥 certificate itself, against 合肥's key and status list.
    def verified_there():
        detail = shanghai.request("GET", f"/api/v1/cases/{number}", user="reviewer")
        uses = (detail or {}).get("certificate_uses") or []
        return uses[0] if uses else None

    use = shanghai.wait_for(verified_there, timeout=30, what="the transferred case with its certificate use")
    assert use["identifier"] == id_card["identifier"] and use["valid"], str(sorted(use.items()))

    shanghai.request("POST", f"/api/v1/cases/{number}/accept", {"note": ""}, user="reviewer", expect=200)
    shanghai.request(
        "POST",
        f"/api/v1/cases/{number}/decision",
        {"approve": True, "reason": "符合条件"},
        user="reviewer",
        expect=200,
    )

    def licence_at_home():
        held = hefei.request("GET", "/api/v1/certificates", user="citizen") or []
        return next((c for c in held if c["type_name"] == "营业执照" and c["issuer_node"] == SH), None)

    licence = hefei.wait_for(
        licence_at_home, timeout=30, what="the 营业执照 among the citizen's certificates at 合肥"
    )
    req = urllib.request.Request(hefei.node.url + f"/api/v1/certificates/{licence['identifier']}/credential")
    req.add_header("Authorization", f"Bearer {hefei.token('citizen')}")
    with urllib.request.urlopen(req, timeout=30) as r:
        credential = r.read().decode()

    def verdict_at_hefei():
        return hefei.request("POST", "/api/v1/certificates/verify", {"text": credential}, expect=200)

    # 合肥 can say it is valid once it holds 上海's status list (sent every 2 s here).
    hefei.wait_for(lambda: verdict_at_hefei()["valid"], timeout=30, what="the 营业执照 valid at 合肥")

    shanghai.request(
        "POST",
        f"/api/v1/certificates/{licence['identifier']}/revoke",
        {"reason": "依法吊销"},
        user="reviewer",
        expect=200,
    )
    assert shanghai.request("POST", "/api/v1/certificates/verify", {"text": credential}, expect=200)[
        "code"
    ] == ("CERT_REVOKED")
    hefei.wait_for(
        lambda: verdict_at_hefei()["code"] == "CERT_REVOKED",
        timeout=30,
        what="合肥 refusing the revoked 营业执照",
    )
