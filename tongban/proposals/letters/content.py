"""What each element of a reply letter says, worked out once for both renderers: the heading runs,
the 办复类别 and contact lines, the date in Arabic numerals, the 抄送 line and the feedback form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tongban.proposals.letters.document import Block, ReplyLetter
from tongban.proposals.letters.validation import normalise_class, normalise_label

# Font roles. Each has an official face (docs/letters.md) and a fallback chain (fonts.py).
XBS = "xbs"  # 小标宋: the issuer's mark, titles
FANGSONG = "fangsong"  # 仿宋: body
HEI = "hei"  # 黑体: 一、 headings, 附件
KAI = "kai"  # 楷体: （一） headings
SONG = "song"  # 宋体: page numbers
ROLES = (XBS, FANGSONG, HEI, KAI, SONG)

HEADING_ROLE = {1: HEI, 2: KAI, 3: FANGSONG, 4: FANGSONG}
KIND = {0: "body", 1: "heading1", 2: "heading2", 3: "heading3", 4: "heading4"}
ATTACHMENT_NAME = "征询意见表"
SATISFACTION = ("满意", "基本满意", "不满意")
FORM_QUESTIONS = ("与承办单位沟通联系情况", "承办单位办理工作情况", "对办理结果的评价")
BOX = "□"


@dataclass(frozen=True)
class Paragraph:
    kind: str  # body, heading1..4, attachment, class, contact_unit, contact_phone
    runs: tuple[tuple[str, str], ...]  # (text, font role)
    indent: bool = True  # 首行缩进二字

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs)


def heading_runs(block: Block) -> tuple[tuple[str, str], ...]:
    """A heading's label and its first sentence in the heading face; text that continues after it
    on the same line (“（一）强化规划政策引领。印发……”) in 仿宋."""
    label = normalise_label(block.label, block.level)
    text = block.text.strip()
    role = HEADING_ROLE.get(block.level, FANGSONG)
    if not block.level:
        return ((text, FANGSONG),)
    stop = text.find("。")
    if role != FANGSONG and 0 <= stop < len(text) - 1:
        return ((label + text[: stop + 1], role), (text[stop + 1 :], FANGSONG))
    return ((label + text, role),)


def body_paragraphs(letter: ReplyLetter) -> list[Paragraph]:
    return [Paragraph(KIND[b.level], heading_runs(b)) for b in letter.body]


def class_label(letter: ReplyLetter) -> str:
    return f"{normalise_class(letter.reply_class)}类"


def closing_paragraphs(letter: ReplyLetter) -> list[Paragraph]:
    """办复类别, 联系单位, 联系电话 in the seeds' wording and order (after the 附件 note)."""
    return [
        Paragraph("class", ((f"办复类别：{class_label(letter)}", FANGSONG),)),
        Paragraph("contact_unit", ((f"联系单位：{letter.contact_unit.strip()}", FANGSONG),)),
        Paragraph("contact_phone", ((f"联系电话：{letter.contact_phone.strip()}", FANGSONG),)),
    ]


def attachment_note(letter: ReplyLetter) -> str:
    """附件说明 (7.3.4): 正文下空一行左空二字编排“附件：名称”."""
    return f"附件：{ATTACHMENT_NAME}" if letter.feedback_form else ""


def addressee_line(letter: ReplyLetter) -> str:
    return letter.addressee.strip().rstrip("：:") + "："


def signer(letter: ReplyLetter) -> str:
    return (letter.signer or letter.issuer).strip()


def date_text(day: dt.date) -> str:
    """成文日期 in Arabic numerals, no leading zeros (7.3.5.1): 2022年6月10日."""
    return f"{day.year}年{day.month}月{day.day}日"


def copy_to_line(letter: ReplyLetter) -> str:
    """抄送：A，B。 (7.4.2): 机关间用逗号，最后一个后标句号."""
    names = [c.strip().rstrip("，,。.、；;") for c in letter.copy_to if c and c.strip()]
    return f"抄送：{'，'.join(names)}。" if names else ""


def proposer_kind(letter: ReplyLetter) -> str:
    """代表 (NPC suggestion) or 委员 (CPPCC proposal), from how the letter addresses the proposer."""
    who = letter.addressee.strip().rstrip("：:")
    return "代表" if who.endswith("代表") else "委员"


def feedback_rows(letter: ReplyLetter) -> dict:
    """The facts the feedback form (征询意见表) shows."""
    kind = proposer_kind(letter)
    return {
        "title": ATTACHMENT_NAME,
        "subject_label": "建议名称" if kind == "代表" else "提案名称",
        "subject": letter.proposal_title.strip(),
        "number": letter.proposal_number.strip(),
        "proposer_label": f"{kind}姓名",
        "proposer": (letter.proposer or letter.addressee.strip().rstrip("：:").removesuffix(kind)).strip(),
        "unit": letter.issuer.strip(),
        "reply_class": class_label(letter),
        "questions": FORM_QUESTIONS,
        "choices": SATISFACTION,
        "comments_label": "意见和建议",
        "signature": f"{kind}签名：",
        "date": "年    月    日",
        "note": (
            f"注：请在相应的“{BOX}”内划“√”，并于收到答复之日起一个月内将本表反馈承办单位"
            f"（{letter.contact_unit.strip()}，电话{letter.contact_phone.strip()}）。"
        ),
    }


def letter_text(letter: ReplyLetter) -> str:
    """Every character the rendered letter shows (for the font coverage check)."""
    form = feedback_rows(letter) if letter.feedback_form else {}
    parts = [
        letter.issuer,
        letter.document_number,
        letter.title,
        addressee_line(letter),
        *(p.text for p in body_paragraphs(letter)),
        attachment_note(letter),
        *(p.text for p in closing_paragraphs(letter)),
        signer(letter),
        date_text(letter.signed_on),
        copy_to_line(letter),
        "附件—0123456789",
        *(str(v) if not isinstance(v, tuple) else "".join(v) for v in form.values()),
    ]
    return "".join(parts)
