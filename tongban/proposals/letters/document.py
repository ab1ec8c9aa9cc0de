"""What a reply letter (答复函) says, independent of how it is rendered.

The proposal workflow builds a :class:`ReplyLetter` from a signed-off reply; the renderers
(.docx and .pdf) lay it out in the GB/T 9704-2012 letter format. Tests rebuild the replies of seeds
000 and 003 as ``ReplyLetter`` values and check the generated files' structure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """One block of the body, in order.

    ``level`` 0 is a plain paragraph; 1–4 are headings 一、 / （一） / 1. / （1）. ``label`` is the
    number as printed (e.g. "一、"); ``text`` is what follows it. A heading whose paragraph continues on
    the same line (common in replies: "（一）加快推进……。同时……") keeps the whole text in ``text``.
    """

    text: str
    level: int = 0
    label: str = ""


@dataclass(frozen=True)
class ReplyLetter:
    issuer: str  # 发文机关, e.g. 瑶海区发展和改革委员会
    document_number: str  # 发文字号, e.g. 瑶发改案〔2022〕15号
    title: str  # e.g. 关于区政协五届一次会议第2号提案的答复
    addressee: str  # 主送, e.g. 朱克海委员 (rendered as "朱克海委员：")
    body: tuple[Block, ...]
    reply_class: str  # 办复类别 label, e.g. "B" (rendered "办复类别：B类")
    contact_unit: str  # 联系单位
    contact_phone: str  # 联系电话
    signed_on: dt.date  # 成文日期 (rendered 2022年6月10日)
    copy_to: tuple[str, ...] = ()  # 抄送
    signer: str = ""  # 署名 (the issuer's name on the signature line); defaults to ``issuer``
    # The feedback form (征询意见表) attached to the letter.
    feedback_form: bool = True
    proposal_title: str = ""  # shown on the feedback form
    proposer: str = ""  # shown on the feedback form
    # Optional, added by the letters renderer (defaults keep every caller working):
    proposal_number: str = ""  # 建议/提案编号, shown on the feedback form (e.g. 第2号)
    known_classes: tuple[str, ...] = ("A", "B", "C", "D")  # the jurisdiction's 办复类别 table
    extra: dict = field(default_factory=dict, hash=False, compare=False)
