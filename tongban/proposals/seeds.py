"""The two real replies of the source documents (seeds 000 and 003) as data: what the proposal was,
what the reply said, who signed it. The demo registers them and the tests rebuild their letters.

The texts are the documents as extracted from their PDFs: paragraphs broken at page ends (000) or at
every printed line (003). :func:`reflow` puts the paragraphs back together.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from tongban.proposals.constants import ProposalKind

DATA = Path(__file__).resolve().parent / "data"
_HEADING_START = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十0-9]+[）)]|[0-9]{1,2}[.．](?![0-9]))"
)
_END = ("。", "：", ":", "！", "？")


def reflow(text: str, *, wrapped: bool, width: int = 27) -> str:
    """Paragraphs, one per line. A heading line (一、 （一） …) without closing punctuation stands
    alone; otherwise a paragraph ends at a line ending in 。 or ： (``wrapped``: only a line shorter
    than the printed width ``width``, since a full line may end a sentence mid-paragraph)."""
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n") if ln.strip()]
    paras: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        heading = bool(_HEADING_START.match(line))
        if heading and current:
            paras.append(current)
            current = ""
        current += line
        if heading and not line.endswith(_END) and len(line) < (width - 4 if wrapped else 40):
            paras.append(current)
            current = ""
            continue
        if line.endswith(_END) and (not wrapped or len(line) < width or i + 1 == len(lines)):
            paras.append(current)
            current = ""
    if current:
        paras.append(current)
    return "\n".join(re.sub(r"\s+", " ", p).strip() for p in paras)


@dataclass(frozen=True)
class SeedReply:
    key: str
    kind: str
    session: str
    serial: int
    proposal_title: str
    proposer: str
    issuer: str
    unit_name: str
    number_prefix: str
    document_number: str
    doc_seq: int
    reply_class: str
    contact_unit: str
    contact_phone: str
    signed_on: dt.date
    copy_to: tuple[str, ...]
    signer_name: str
    body: str
    region_code: str
    handed_over_on: dt.date


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    j = text.index(end, i)
    return text[i:j]


def seed_000() -> SeedReply:
    raw = (DATA / "seed-000-reply-b.txt").read_text(encoding="utf-8")
    body = reflow(_between(raw, "您提出的", "附：征询意见表"), wrapped=False)
    return SeedReply(
        key="seed-000",
        kind=ProposalKind.CPPCC_PROPOSAL,
        session="区政协五届一次会议",
        serial=2,
        proposal_title="关于瑶海区融入长三角一体化的提案",
        proposer="朱克海",
        issuer="合肥市瑶海区发展和改革委员会",
        unit_name="瑶海区发展和改革委员会",
        number_prefix="瑶发改案",
        document_number="瑶发改案〔2022〕15号",
        doc_seq=15,
        reply_class="B",
        contact_unit="合肥市瑶海区发展和改革委员会",
        contact_phone="64495522",
        signed_on=dt.date(2022, 8, 12),
        copy_to=("区政府办", "区政协提案委"),
        signer_name="",
        body=body,
        region_code="340102",
        handed_over_on=dt.date(2022, 5, 20),
    )


def seed_003() -> SeedReply:
    raw = (DATA / "seed-003-reply-a.txt").read_text(encoding="utf-8")
    body = reflow(_between(raw, "您在市八届人大四次会议", "办复类别"), wrapped=True)
    return SeedReply(
        key="seed-003",
        kind=ProposalKind.NPC_SUGGESTION,
        session="黄山市第八届人民代表大会第四次会议",
        serial=153,
        proposal_title="关于推进长三角制造业协作，加快建设现代化产业体系的建议",
        proposer="王景峰",
        issuer="黄山市发展和改革委员会",
        unit_name="黄山市发展和改革委员会",
        # The printed reply shows no 发文字号; the demo's prefix is made up.
        number_prefix="黄发改建",
        document_number="",
        doc_seq=0,
        reply_class="A",
        contact_unit="黄山市发展改革委",
        contact_phone="2355364",
        signed_on=dt.date(2024, 6, 11),
        copy_to=("市人大常委会代表联络室", "市政府办公室意见建议科"),
        signer_name="汪峻",
        body=body,
        region_code="341000",
        handed_over_on=dt.date(2024, 3, 20),
    )
