"""The proposal pages as people use them: registration, the proposal's page with its provisional
deadline and the steps each user may take, the draft with similar cases beside it, the letter
downloads, statistics with the Excel export, publication review and the public page without login."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories as f
from tests.proposals.flow_fixtures import *  # noqa: F403
from tests.proposals.flow_fixtures import REPLY_BODY, hand_over, register
from tongban.proposals import services
from tongban.proposals.models import HandOver, Proposal, Publication

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def act(client, p, action, data=None):
    return client.post(reverse("web:proposal_action", args=[p.public_id, action]), data or {}, follow=True)


def test_visitors_sign_in_and_other_users_are_refused(world):
    r = Client().get(reverse("web:proposals"))
    assert r.status_code == 302 and "/login/" in r["Location"]
    citizen = f.citizen()
    assert client_for(citizen).get(reverse("web:proposals")).status_code == 403
    assert client_for(world["handler"]).get(reverse("web:proposal_register")).status_code == 403


def test_the_office_registers_on_the_page_and_bad_input_is_shown_next_to_the_field(world):
    c = client_for(world["office"])
    data = {
        "kind": "cppcc_proposal",
        "session": "区政协五届一次会议",
        "serial": "2",
        "title": "关于瑶海区融入长三角一体化的提案",
        "text": "建议深化合作。",
        "proposer_name": "朱克海",
        "proposer_phone": "13955112233",
        "co_signers": "王某某 13800001111\n李某",
        "jurisdiction": "yaohai",
    }
    r = c.post(reverse("web:proposal_register"), {**data, "proposer_phone": "123"})
    assert r.status_code == 422 and "电话号码应为" in r.content.decode()
    assert not Proposal.objects.exists()
    r = c.post(reverse("web:proposal_register"), data)
    p = Proposal.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("web:proposal", args=[p.public_id])
    assert [s.name for s in p.co_signers.all()] == ["王某某", "李某"]
    page = c.get(r["Location"]).content.decode()
    assert "139****2233" in page and "13955112233" not in page


def test_the_proposal_page_shows_a_provisional_2027_deadline_and_refusals_with_their_code(world):
    p = register(world)
    office = client_for(world["office"])
    r = act(office, p, "hand_over", {"note": "请认真办理"})
    page = r.content.decode()
    assert "PROPOSAL_LEAD_UNIT_REQUIRED" in page and not HandOver.objects.exists()
    r = act(
        office,
        p,
        "hand_over",
        {"lead_unit": world["lead"].pk, "co_units": [world["co"].pk], "on": "2026-11-20"},
    )
    page = r.content.decode()
    assert "2027-02-22" in page and "暂定" in page and "节假日安排尚未公布" in page
    # The unit sees its step; another unit does not see the proposal at all.
    assert (
        "签收"
        in client_for(world["handler"]).get(reverse("web:proposal", args=[p.public_id])).content.decode()
    )
    assert (
        client_for(world["other_handler"]).get(reverse("web:proposal", args=[p.public_id])).status_code == 404
    )


def test_from_acceptance_to_letters_and_feedback_on_the_pages(world):
    old = register(
        world, title="关于推进长三角物联网产业联盟建设的提案", text="建议筹建长三角物联网产业联盟。"
    )
    p = register(world, title="关于瑶海区物联网产业发展的提案", text="建议发展物联网产业，加强与长三角合作。")
    hand_over(world, old)
    hand_over(world, p)
    handler, signer, office = (client_for(world[k]) for k in ("handler", "signer", "office"))
    act(handler, p, "accept")
    draft_url = reverse("web:proposal_draft", args=[p.public_id])
    page = handler.get(draft_url).content.decode()
    assert "类案参考" in page and old.title in page  # the similar proposal is shown beside the form
    r = handler.post(draft_url, {"reply_class": "Z", "body": REPLY_BODY})
    assert r.status_code == 422  # not one of the table's classes: the form says so
    r = handler.post(draft_url, {"reply_class": "A", "body": REPLY_BODY, "copy_to": "区政府办、区政协提案委"})
    assert r.status_code == 302
    act(handler, p, "submit_review")
    act(signer, p, "review", {"approve": "1"})
    r = act(signer, p, "sign_off", {"approve": "1"})
    assert "瑶发改案〔" in r.content.decode()
    act(handler, p, "send")
    docx = handler.get(reverse("web:proposal_letter", args=[p.public_id, "docx"]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    pdf = signer.get(reverse("web:proposal_letter", args=[p.public_id, "pdf"]))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    r = act(office, p, "feedback", {"satisfaction": "satisfied", "comments": "满意"})
    assert "已登记征询意见" in r.content.decode()
    assert Proposal.objects.get(pk=p.pk).status == "closed"
    page = office.get(reverse("web:proposal", args=[p.public_id])).content.decode()
    for step in (
        "登记",
        "交办",
        "签收",
        "保存答复稿",
        "提交核稿",
        "核稿通过",
        "签发",
        "送达答复",
        "征询意见反馈",
    ):
        assert step in page


def test_statistics_page_has_a_table_alternative_and_exports_excel(world):
    p = register(world)
    hand_over(world, p)
    sup = client_for(world["supervisor"])
    page = sup.get(reverse("web:proposal_statistics")).content.decode()
    assert world["lead"].name in page and "按期答复率" in page and "echarts.min.js" in page
    assert 'id="timeliness-data"' in page
    r = sup.get(reverse("web:proposal_statistics_xlsx"))
    wb = load_workbook(io.BytesIO(r.content))
    assert wb["按承办单位"]["A2"].value == world["lead"].name
    assert client_for(world["handler"]).get(reverse("web:proposal_statistics")).status_code == 403


def test_the_reviewer_sees_each_removal_and_the_public_page_shows_approved_replies_only(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    services.reply_save_draft(
        actor=world["handler"],
        proposal_id=p.public_id,
        reply_class="A",
        body="经电话13955112233联系朱克海委员，现答复如下：\n一、情况\n已办结。",
    )
    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    services.reply_review(actor=world["signer"], proposal_id=p.public_id, approve=True)
    services.reply_sign_off(actor=world["signer"], proposal_id=p.public_id)
    services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    pub = Publication.objects.get()
    office = client_for(world["office"])
    page = office.get(reverse("web:proposal_publication", args=[pub.pk])).content.decode()
    assert '<mark class="redaction redaction--phone"' in page and "13955112233" not in page
    r = office.post(reverse("web:proposal_publication", args=[pub.pk]), {"do": "redact", "terms": "朱克海"})
    assert r.status_code == 302
    assert (
        "redaction--term" in office.get(reverse("web:proposal_publication", args=[pub.pk])).content.decode()
    )
    anonymous = Client()
    assert pub.title not in anonymous.get(reverse("web:public_replies")).content.decode()
    office.post(reverse("web:proposal_publication", args=[pub.pk]), {"do": "approve"})
    Publication.objects.filter(pk=pub.pk).update(publish_after=dt.date.today() - dt.timedelta(days=1))
    listing = anonymous.get(reverse("web:public_replies")).content.decode()
    assert pub.title in listing
    page = anonymous.get(reverse("web:public_reply", args=[pub.pk])).content.decode()
    assert "朱克海" not in page and "13955112233" not in page and "【电话号码已隐去】" in page
