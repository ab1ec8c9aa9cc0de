"""The reply → ReplyLetter step (the renderers are tested on their own): headings detected, the
发文字号 as the sign-off gave it, 主送 with 代表/委员, and the real replies of seeds 000 and 003."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.proposals.flow_fixtures import *  # noqa: F403
from tests.proposals.flow_fixtures import hand_over, register, to_signed_off
from tongban.proposals import services
from tongban.proposals.letter_build import body_blocks, build_letter, format_document_number
from tongban.proposals.seeds import seed_000, seed_003

pytestmark = pytest.mark.django_db


def test_document_numbers_have_the_year_in_brackets_and_no_leading_zeros():
    assert format_document_number("瑶发改案", 2022, 15) == "瑶发改案〔2022〕15号"
    assert format_document_number("瑶发改案", 2026, 1) == "瑶发改案〔2026〕1号"


def test_the_four_heading_levels_are_detected_and_numbers_in_text_are_not():
    blocks = body_blocks(
        "现答复如下：\n一、主要工作\n（一）强化规划。印发实施意见。\n(七) 发挥优势\n1. 建立机制\n（2）开展活动\n1.5亿元已拨付到位。"
    )
    assert [(b.level, b.label) for b in blocks] == [
        (0, ""),
        (1, "一、"),
        (2, "（一）"),
        (2, "（七）"),
        (3, "1."),
        (4, "（2）"),
        (0, ""),
    ]
    assert blocks[2].text == "强化规划。印发实施意见。"
    assert blocks[-1].text == "1.5亿元已拨付到位。"


def test_the_real_reply_of_seed_000_becomes_its_letter(world):
    seed = seed_000()
    blocks = body_blocks(seed.body)
    assert blocks[0].text.startswith("您提出的“关于瑶海区融入长三角一体化的提案”")
    assert [b.label for b in blocks if b.level == 1] == ["一、", "二、"]
    assert [b.label for b in blocks if b.level == 2] == [f"（{n}）" for n in "一二三四五六七"]
    # Paragraphs broken at the page ends of the PDF are whole again.
    assert any("线下收受分离、异地可办" in b.text for b in blocks)
    assert blocks[-1].text.startswith("六是推动自主创新能力实现突破")

    p = register(
        world, serial=seed.serial, session=seed.session, title=seed.proposal_title, proposer_name="朱克海"
    )
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    services.document_sequence_start(
        actor=world["office"], organisation_id=world["lead"].pk, year=2022, last_used=14
    )
    services.reply_save_draft(
        actor=world["handler"],
        proposal_id=p.public_id,
        body=seed.body,
        reply_class="B",
        copy_to=list(seed.copy_to),
        promise_due=dt.date(2022, 12, 31),
    )
    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    services.reply_review(actor=world["signer"], proposal_id=p.public_id, approve=True)
    reply = services.reply_sign_off(actor=world["signer"], proposal_id=p.public_id, signed_on=seed.signed_on)
    letter = build_letter(reply)
    assert letter.document_number == "瑶发改案〔2022〕15号" == seed.document_number
    assert letter.issuer == "合肥市瑶海区发展和改革委员会"
    assert letter.title == "关于区政协五届一次会议第2号提案的答复"
    assert letter.addressee == "朱克海委员"
    assert letter.reply_class == "B" and letter.contact_phone == "64495522"
    assert letter.signed_on == dt.date(2022, 8, 12)
    assert letter.copy_to == ("区政府办", "区政协提案委")
    assert letter.body == blocks and letter.feedback_form and letter.proposal_title == seed.proposal_title
    assert letter.proposal_number == "区政协五届一次会议第2号" and letter.known_classes == (
        "A",
        "B",
        "C",
        "D",
    )


def test_a_deputys_suggestion_is_addressed_to_the_deputy(world):
    seed = seed_003()
    blocks = body_blocks(seed.body)
    assert [b.label for b in blocks if b.level == 2] == ["（一）", "（二）", "（三）", "（四）"]
    assert blocks[3].text.startswith("强化规划政策引领。印发《关于深度融入长三角一体化发展国家战略")
    p = register(world, kind="npc_suggestion", session=seed.session, serial=153, proposer_name="王景峰")
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    letter = build_letter(to_signed_off(world, p, body=seed.body))
    assert letter.addressee == "王景峰代表"
    assert letter.title == "关于黄山市第八届人民代表大会第四次会议第153号建议的答复"


def test_the_document_sequence_never_goes_backwards(world):
    from tongban.core.errors import InvalidInput

    services.document_sequence_start(
        actor=world["office"], organisation_id=world["lead"].pk, year=2026, last_used=5
    )
    with pytest.raises(InvalidInput):
        services.document_sequence_start(
            actor=world["office"], organisation_id=world["lead"].pk, year=2026, last_used=3
        )


def test_the_letter_files_of_a_signed_off_reply_are_real_docx_and_pdf(world):
    import io

    import docx
    from pypdf import PdfReader

    p = register(world, serial=2, proposer_name="朱克海")
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    reply = to_signed_off(world, p, reply_class="A")
    document = docx.Document(io.BytesIO(services.reply_letter(reply=reply, fmt="docx")))
    text = "\n".join(par.text for par in document.paragraphs)
    assert reply.document_number in text and "朱克海委员" in text
    pdf = PdfReader(io.BytesIO(services.reply_letter(reply=reply, fmt="pdf")))
    assert "瑶发改案" in "".join(page.extract_text() for page in pdf.pages)


def test_a_class_outside_a_jurisdictions_table_is_refused_by_the_letter_too(world):
    from tongban.core.errors import InvalidInput

    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    reply = to_signed_off(world, p, reply_class="A")
    world["jurisdiction"].class_table = [{"code": "甲"}, {"code": "乙"}]
    world["jurisdiction"].save()
    reply.refresh_from_db()
    with pytest.raises(InvalidInput) as exc:
        services.reply_letter(reply=reply, fmt="docx")
    assert exc.value.code == "LETTER_CLASS_UNKNOWN"
