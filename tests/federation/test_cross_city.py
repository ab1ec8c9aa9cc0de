"""跨省通办 across real node processes: 全程网办, 异地代收代办, status back, forwarded applicant actions."""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

import pytest

from tests import factories as f

pytestmark = pytest.mark.federation
PDF = base64.b64encode(f.PDF_BYTES).decode()
SH, HF, HS = "310000", "340100", "341000"


def _find_item(node, name: str, city: str) -> dict:
    def found():
        page = node.request("GET", f"/api/v1/items?q={quote(name)}&city={city}", expect=200)
        return next((i for i in page["items"] if i["name"] == name and i["city_code"] == city), None)

    return node.wait_for(found, what=f"{name} of {city} in the federated catalogue")


def _valid_form(schema: dict) -> dict:
    form = {}
    for key in schema.get("required", []):
        prop = schema["properties"][key]
        if "enum" in prop:
            form[key] = prop["enum"][0]
        elif prop.get("type") in ("number", "integer"):
            form[key] = max(prop.get("minimum", 1), 1)
        elif prop.get("type") == "boolean":
            form[key] = True
        elif prop.get("type") == "array":
            item = prop.get("items", {})
            form[key] = [_valid_form(item)] if item.get("type") == "object" else ["测试"]
        elif prop.get("format") == "date":
            form[key] = "2026-12-01"
        elif "pattern" in prop:
            form[key] = "13800138000"
        else:
            form[key] = "测试内容"
    return form


def _submission(node, code: str) -> dict:
    detail = node.request("GET", f"/api/v1/items/{code}", expect=200)
    return {
        "item": code,
        "form": _valid_form(detail["form_schema"]),
        "materials": [
            {"material": m["code"], "filename": f"{m['name']}.pdf", "content_base64": PDF}
            for m in detail["materials"]
            if m["required"]
        ],
    }


def _status(node, number: str, user: str) -> str:
    return node.request("GET", f"/api/v1/cases/{number}", user=user, expect=200)["status"]


def test_hefei_citizen_applies_for_shanghai_item_and_follows_it_at_home(federation):
    hefei, shanghai = federation[HF], federation[SH]
    item = _find_item(hefei, "内资有限公司设立登记", SH)
    case = hefei.request(
        "POST", "/api/v1/cases", _submission(hefei, item["implementation_code"]), user="citizen", expect=201
    )
    number = case["number"]
    assert case["receiving_node"] == HF and case["handling_node"] == SH

    # arrives in the Shanghai reviewer's queue, vouched for by Hefei (一地认证)
    def in_queue():
        page = shanghai.request("GET", "/api/v1/cases?page_size=100", user="reviewer", expect=200)
        return any(c["number"] == number for c in page["items"])

    shanghai.wait_for(in_queue, what="the transferred case in the reviewer's queue")
    there = shanghai.request("GET", f"/api/v1/cases/{number}", user="reviewer", expect=200)
    assert there["events"][0]["actor"].startswith("合肥市")

    # every change in Shanghai shows up at Hefei within seconds
    shanghai.request("POST", f"/api/v1/cases/{number}/accept", {"note": ""}, user="reviewer", expect=200)
    hefei.wait_for(
        lambda: _status(hefei, number, "citizen") == "accepted", timeout=10, what="accepted at home"
    )

    detail = shanghai.request("GET", f"/api/v1/items/{item['implementation_code']}", expect=200)
    optional = next(m for m in detail["materials"] if not m["required"])
    shanghai.request(
        "POST",
        f"/api/v1/cases/{number}/request-correction",
        {"items": [{"material": optional["code"], "reason": "请补充该材料"}], "note": ""},
        user="reviewer",
        expect=200,
    )
    hefei.wait_for(lambda: _status(hefei, number, "citizen") == "correction", timeout=10, what="补正 at home")
    home = hefei.request("GET", f"/api/v1/cases/{number}", user="citizen", expect=200)
    assert home["correction_notices"][-1]["items"][0]["name"] == optional["name"]

    # the applicant answers at home; the handling node applies it
    hefei.request(
        "POST",
        f"/api/v1/cases/{number}/resubmit",
        {
            "materials": [{"material": optional["code"], "filename": "补.pdf", "content_base64": PDF}],
            "note": "已补充",
        },
        user="citizen",
        expect=200,
    )
    shanghai.wait_for(
        lambda: _status(shanghai, number, "reviewer") == "accepted", timeout=10, what="resubmission applied"
    )
    shanghai.request(
        "POST",
        f"/api/v1/cases/{number}/decision",
        {"approve": True, "reason": "符合条件"},
        user="reviewer",
        expect=200,
    )
    hefei.wait_for(
        lambda: _status(hefei, number, "citizen") == "approved", timeout=10, what="approved at home"
    )

    timeline = [
        e["action"] for e in hefei.request("GET", f"/api/v1/cases/{number}", user="citizen")["events"]
    ]
    for action in ("submit", "accept", "request_correction", "resubmit", "approve"):
        assert action in timeline

    # a withdrawal after the decision is refused by the handling node, and the applicant is told why
    hefei.request(
        "POST", f"/api/v1/cases/{number}/withdraw", {"reason": "不需要了"}, user="citizen", expect=409
    )


def test_hefei_window_takes_in_papers_for_a_huangshan_item(federation):
    hefei, huangshan = federation[HF], federation[HS]
    item = _find_item(hefei, "无犯罪记录证明", HS)
    body = _submission(hefei, item["implementation_code"])
    body.update(
        applicant={
            "name": "赵六",
            "id_number": f.id_number("340102", "19900505", 77),
            "phone": "13900139000",
        },
        identity_checked=True,
    )
    case = hefei.request("POST", "/api/v1/cases/intake", body, user="clerk", expect=201)
    number = case["number"]
    assert case["mode"] == "proxy_intake"

    # the Huangshan authority for this item decides; find its reviewer among the demo accounts
    reviewer = _reviewer_for(huangshan, number)
    there = huangshan.request("GET", f"/api/v1/cases/{number}", user=reviewer, expect=200)
    assert "窗口代收" in there["events"][0]["actor"]
    huangshan.request("POST", f"/api/v1/cases/{number}/accept", {"note": ""}, user=reviewer, expect=200)
    huangshan.request(
        "POST",
        f"/api/v1/cases/{number}/decision",
        {"approve": False, "reason": "申请人不符合条件"},
        user=reviewer,
        expect=200,
    )
    hefei.wait_for(
        lambda: _status(hefei, number, "clerk") == "denied", timeout=10, what="decision back at the window"
    )


def _reviewer_for(node, number: str) -> str:
    """The demo reviewer account of the authority that handles this case at ``node``."""
    candidates = ["reviewer"] + [f"reviewer{i}" for i in range(2, 30)]

    def find():
        for username in candidates:
            try:
                got = node.request("GET", f"/api/v1/cases/{number}", user=username)
            except KeyError:  # no such demo account: all reviewers tried
                return None
            if got and got.get("number") == number:
                return username
        return None

    return node.wait_for(find, what=f"a reviewer who sees {number}")


def test_joint_hukou_transfer_completes_only_when_both_cities_complete(federation):
    hefei, shanghai = federation[HF], federation[SH]
    item = _find_item(hefei, "户口迁移（准予迁入）", HF)
    body = _submission(hefei, item["implementation_code"])
    body.update(mode="multi_site", partner_city=SH)
    case = hefei.request("POST", "/api/v1/cases", body, user="citizen", expect=201)
    number = case["number"]
    assert case["mode"] == "multi_site"

    hefei_reviewer = _reviewer_for(hefei, number)
    hefei.request("POST", f"/api/v1/cases/{number}/accept", {"note": ""}, user=hefei_reviewer, expect=200)
    # the Shanghai part is not done yet: the main case cannot be approved
    refused = hefei.request(
        "POST",
        f"/api/v1/cases/{number}/decision",
        {"approve": True, "reason": "符合迁入条件"},
        user=hefei_reviewer,
    )
    assert refused["code"] == "JOINT_PART_PENDING"

    part = f"{number}-2"
    shanghai_reviewer = _reviewer_for(shanghai, part)
    shanghai.request("POST", f"/api/v1/cases/{part}/accept", {"note": ""}, user=shanghai_reviewer, expect=200)
    shanghai.request(
        "POST",
        f"/api/v1/cases/{part}/decision",
        {"approve": True, "reason": "同意迁出"},
        user=shanghai_reviewer,
        expect=200,
    )

    def part_approved():
        events = hefei.request("GET", f"/api/v1/cases/{number}", user="citizen", expect=200)["events"]
        return any(e["action"] == "joint_update" and "准予" in e["reason"] for e in events)

    hefei.wait_for(part_approved, timeout=15, what="the partner's approval on the main case")
    hefei.request(
        "POST",
        f"/api/v1/cases/{number}/decision",
        {"approve": True, "reason": "符合迁入条件"},
        user=hefei_reviewer,
        expect=200,
    )
    assert _status(hefei, number, "citizen") == "approved"


def test_ping_travels_signed_to_another_node_and_shows_in_both_message_logs(federation):
    from pathlib import Path

    from tongban import federation_demo as fd

    hefei, shanghai = federation[HF], federation[SH]
    key = (Path(os.environ["TONGBAN_DEMO_DIR"]) / "federation" / "anchor" / "public.key").read_text().strip()
    fd._cli("federation", "ping", SH, "--count", "3", env=fd.node_env(hefei.node, key))

    def applied_at_shanghai():
        out = fd._cli("federation", "messages", "--type", "node.ping", env=fd.node_env(shanghai.node, key))
        return out.count("applied") >= 3

    shanghai.wait_for(applied_at_shanghai, timeout=15, what="three pings applied")
    sent = fd._cli("federation", "messages", "--type", "node.ping", env=fd.node_env(hefei.node, key))
    assert sent.count("delivered") >= 3
