"""A signed-off reply → the :class:`ReplyLetter` the renderers lay out (GB/T 9704-2012 letter).

- The body is split into :class:`Block` s: one per paragraph; a paragraph opening with 一、 / （一） /
  1. / （1） is a heading of level 1–4 with that label (ASCII brackets are printed as full-width
  ones, as the standard does). A heading whose paragraph continues on the same line keeps it all.
- The 发文字号 (``瑶发改案〔2022〕15号``) is given at sign-off: the unit's prefix, the year and the
  unit's next number in that year, without leading zeros (``services.reply_sign_off``).
- 主送 is the proposer with 代表 (suggestions of deputies) or 委员 (proposals of CPPCC members).
"""

from __future__ import annotations

import re

from tongban.proposals.constants import ADDRESS_SUFFIX, ProposalKind
from tongban.proposals.letters.document import Block, ReplyLetter

_NUMERALS = "一二三四五六七八九十"
HEADINGS: tuple[tuple[int, re.Pattern], ...] = (
    (1, re.compile(rf"^([{_NUMERALS}]+)\s*、\s*")),
    (2, re.compile(rf"^[（(]\s*([{_NUMERALS}]+)\s*[）)]\s*")),
    (3, re.compile(r"^([0-9]{1,2})\s*[.．](?![0-9])\s*")),
    (4, re.compile(r"^[（(]\s*([0-9]{1,2})\s*[）)]\s*")),
)
_LABEL = {1: "{}、", 2: "（{}）", 3: "{}.", 4: "（{}）"}


def format_document_number(prefix: str, year: int, seq: int) -> str:
    """``瑶发改案〔2022〕15号``: the year in 〔〕 and the number without leading zeros."""
    return f"{prefix}〔{year}〕{int(seq)}号"


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n+", (text or "").replace("\r", "")) if p.strip()]


def body_blocks(text: str) -> tuple[Block, ...]:
    blocks = []
    for para in paragraphs(text):
        for level, pattern in HEADINGS:
            m = pattern.match(para)
            if m and para[m.end() :].strip():
                blocks.append(
                    Block(text=para[m.end() :].strip(), level=level, label=_LABEL[level].format(m.group(1)))
                )
                break
        else:
            blocks.append(Block(text=para))
    return tuple(blocks)


def kind_noun(kind: str) -> str:
    return "建议" if kind == ProposalKind.NPC_SUGGESTION else "提案"


def reply_title(proposal) -> str:
    """关于区政协五届一次会议第2号提案的答复"""
    return f"关于{proposal.reference}{kind_noun(proposal.kind)}的答复"


def addressee(proposal) -> str:
    return f"{proposal.proposer_name}{ADDRESS_SUFFIX.get(proposal.kind, '')}"


def class_label(proposal, code: str) -> str:
    """The class as printed after 办复类别：, e.g. "B" (the renderer adds 类)."""
    return code


def build_letter(reply) -> ReplyLetter:
    """The letter of a reply that has been signed off (callers check the status)."""
    proposal = reply.proposal
    issuer = reply.issuer_name
    return ReplyLetter(
        issuer=issuer,
        document_number=reply.document_number,
        title=reply_title(proposal),
        addressee=addressee(proposal),
        body=body_blocks(reply.body),
        reply_class=class_label(proposal, reply.reply_class),
        contact_unit=reply.contact_unit or issuer,
        contact_phone=reply.contact_phone,
        signed_on=reply.signed_on,
        copy_to=tuple(reply.copy_to or ()),
        signer=issuer,
        feedback_form=True,
        proposal_title=proposal.title,
        proposer=proposal.proposer_name,
        proposal_number=proposal.reference,
        known_classes=tuple(c["code"] for c in proposal.jurisdiction.class_table),
        extra={"signer_name": reply.signer_name, "purpose": reply.purpose},
    )
