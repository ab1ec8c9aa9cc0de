"""The proposal API end to end over HTTP with tokens: the whole workflow, problem+json refusals with
stable codes, the letter files, statistics in Excel and the public list without login."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.proposals.flow_fixtures import *  # noqa: F403
from tongban.accounts.services import api_token_issue
from tongban.proposals.models import Proposal, ProposalEvent, Publication

pytestmark = pytest.mark.django_db
BASE = "/api/v1/proposals"


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user, name='test')}")


def test_the_whole_workflow_through_the_api(world):
    office, handler, signer, co = (api(world[k]) for k in ("office", "handler", "signer", "co_handler"))
    r = office.post(
        BASE,
        {
            "kind": "cppcc_proposal",
            "session": "区政协五届一次会议",
            "serial": 2,
            "title": "关于瑶海区融入长三角一体化的提案",
            "text": "建议深化长三角合作。",
            "proposer_name": "朱克海",
            "proposer_phone": "13955112233",
            "jurisdiction": "yaohai",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    pid = body["id"]
    assert body["reference"] == "区政协五届一次会议第2号" and body["proposer_phone"] == "139****2233"

    r = office.post(f"{BASE}/{pid}/hand-over", {}, content_type="application/json")
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "PROPOSAL_LEAD_UNIT_REQUIRED" and r.json()["title"]

    r = office.post(
        f"{BASE}/{pid}/hand-over",
        {"lead_unit_id": world["lead"].pk, "co_unit_ids": [world["co"].pk], "on": "2026-11-20"},
        content_type="application/json",
    )
    assert r.status_code == 200
    deadline = r.json()["deadline"]
    assert (deadline["date"], deadline["provisional"]) == ("2027-02-22", True)

    r = office.post(f"{BASE}/{pid}/feedback", {"satisfaction": "satisfied"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "PROPOSAL_NOT_ANSWERED"

    assert handler.post(f"{BASE}/{pid}/accept").status_code == 200
    assert co.post(f"{BASE}/{pid}/accept").status_code == 200
    assert (
        co.post(f"{BASE}/{pid}/co-opinions", {"text": "支持。"}, content_type="application/json").status_code
        == 200
    )
    r = handler.put(
        f"{BASE}/{pid}/draft",
        {"body": "现答复如下：\n一、情况", "reply_class": "E"},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["code"] == "PROPOSAL_UNKNOWN_CLASS"
    r = handler.put(
        f"{BASE}/{pid}/draft", {"body": "现答复如下：\n一、情况\n已办结。"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["version"] == 1
    r = handler.post(f"{BASE}/{pid}/submit-review")
    assert r.status_code == 422 and r.json()["code"] == "PROPOSAL_CLASS_REQUIRED"
    r = handler.get(f"{BASE}/{pid}/letter?format=docx")
    assert r.status_code == 409 and r.json()["code"] == "PROPOSAL_NOT_SIGNED_OFF"
    handler.put(
        f"{BASE}/{pid}/draft",
        {"body": "现答复如下：\n一、情况\n已办结。", "reply_class": "A"},
        content_type="application/json",
    )
    assert handler.post(f"{BASE}/{pid}/submit-review").status_code == 200
    assert (
        signer.post(f"{BASE}/{pid}/review", {"approve": True}, content_type="application/json").status_code
        == 200
    )
    r = handler.post(f"{BASE}/{pid}/sign-off", {"approve": True}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "PROPOSAL_FORBIDDEN"
    r = signer.post(f"{BASE}/{pid}/sign-off", {"approve": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["document_number"].startswith("瑶发改案〔")
    assert handler.post(f"{BASE}/{pid}/send").status_code == 200

    r = handler.get(f"{BASE}/{pid}/letter?format=docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = handler.get(f"{BASE}/{pid}/letter?format=pdf")
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    r = handler.get(f"{BASE}/{pid}/letter?format=odt")
    assert r.status_code == 422

    r = office.post(f"{BASE}/{pid}/feedback", {"satisfaction": "satisfied"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    events = [e["action"] for e in r.json()["events"]]
    assert events[:3] == ["register", "hand_over", "accept"] and events[-2:] == ["feedback", "close"]

    # Another unit's staff do not see it.
    assert api(world["other_handler"]).get(f"{BASE}/{pid}").status_code == 404

    # Statistics: supervisors only; the workbook is real.
    assert handler.get(f"{BASE}/statistics").status_code == 403
    sup = api(world["supervisor"])
    stats = sup.get(f"{BASE}/statistics").json()
    assert stats["overall"]["total"] == 1 and stats["overall"]["classes"] == {"A": 1}
    r = sup.get(f"{BASE}/statistics.xlsx")
    assert r.status_code == 200
    assert load_workbook(io.BytesIO(r.content))["明细"]["A2"].value == "区政协五届一次会议第2号"

    # Publication: reviewed, then public after the delay, without login.
    pub = Publication.objects.get()
    r = office.post(
        f"{BASE}/publications/{pub.pk}/decision", {"approve": True}, content_type="application/json"
    )
    assert r.status_code == 200
    Publication.objects.filter(pk=pub.pk).update(publish_after=dt.date(2020, 1, 1))
    r = Client().get(f"{BASE}/published")
    assert r.status_code == 200 and [p["id"] for p in r.json()] == [pub.pk]
    assert r.json()[0]["addressee"] == "朱**委员"


def test_listing_and_search_need_a_token_and_show_only_what_the_user_may_see(world):
    from tests.proposals.flow_fixtures import hand_over, register

    p = register(world, title="关于推进异地就医直接结算的提案", text="建议推进门诊费用跨省直接结算。")
    register(world, title="关于城际铁路的建议", text="建议加快城际铁路。")
    assert Client().get(BASE).status_code == 401
    assert len(api(world["office"]).get(BASE).json()["items"]) == 2
    assert api(world["handler"]).get(BASE).json()["items"] == []
    hand_over(world, p)
    items = api(world["handler"]).get(BASE).json()["items"]
    assert [i["id"] for i in items] == [str(p.public_id)]
    hits = api(world["office"]).get(f"{BASE}/search", {"q": "异地就医结算"}).json()
    assert hits[0]["id"] == str(p.public_id)
    assert Proposal.objects.count() == 2 and ProposalEvent.objects.count() == 3
