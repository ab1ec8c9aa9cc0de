"""Checks a :class:`ReplyLetter` before anything is rendered: a bad letter raises
:class:`InvalidInput` with a stable code from :mod:`.error_codes` and nothing is produced."""

from __future__ import annotations

import datetime as dt
import re

from tongban.core.errors import FieldError, InvalidInput
from tongban.proposals.letters import error_codes as codes
from tongban.proposals.letters.document import ReplyLetter

# 发文字号 (7.2.3): 机关代字 + 〔年份〕 + 序号 + 号; the year in full, the number without leading zeros
# and without 第.
DOCUMENT_NUMBER_RE = re.compile(r"^(?P<code>[^\s〔〕\[\]()（）]+?)〔(?P<year>\d{4})〕(?P<serial>[1-9]\d*)号$")

CN_DIGITS = "一二三四五六七八九十"
LABEL_PATTERNS = {
    1: re.compile(r"^[一二三四五六七八九十百]+、$"),
    2: re.compile(r"^[（(][一二三四五六七八九十百]+[）)]$"),
    3: re.compile(r"^\d+[.．]$"),
    4: re.compile(r"^[（(]\d+[）)]$"),
}


def normalise_class(value: str) -> str:
    """ "B", "b", "B类", " B 类" → "B"."""
    return (value or "").strip().removesuffix("类").strip().upper()


def normalise_label(label: str, level: int) -> str:
    """Half-width brackets and full stops in heading labels as the standard prints them: （一） 1. （1）."""
    label = label.strip()
    if level in (2, 4):
        label = label.replace("(", "（").replace(")", "）")
    if level == 3:
        label = label.replace("．", ".")
    return label


def validate_letter(letter: ReplyLetter) -> None:
    errors: list[FieldError] = []

    def fail(field: str, code: str, message: str) -> None:
        errors.append(FieldError(field, message, code))

    if not (letter.issuer or "").strip():
        fail("issuer", codes.ISSUER_MISSING, "请填写发文机关。")
    number = (letter.document_number or "").strip()
    if not number:
        fail("document_number", codes.DOCUMENT_NUMBER_MISSING, "请填写发文字号。")
    else:
        m = DOCUMENT_NUMBER_RE.match(number)
        if not m or not (1949 <= int(m["year"]) <= 2100):
            fail(
                "document_number",
                codes.DOCUMENT_NUMBER_MALFORMED,
                f"发文字号“{number}”格式不对，应为“机关代字〔年份〕序号号”，如“瑶发改案〔2022〕15号”"
                "（年份用四位数字、加六角括号，序号不编虚位）。",
            )
    if not (letter.title or "").strip():
        fail("title", codes.TITLE_MISSING, "请填写答复函标题。")
    if not (letter.addressee or "").strip().rstrip("：:"):
        fail("addressee", codes.ADDRESSEE_MISSING, "请填写主送对象（如“朱克海委员”）。")
    if not letter.body:
        fail("body", codes.BODY_EMPTY, "答复正文不能为空。")
    for i, block in enumerate(letter.body):
        if block.level not in (0, 1, 2, 3, 4):
            fail(f"body[{i}]", codes.BLOCK_INVALID, f"正文第{i + 1}段的层级“{block.level}”无效（应为0–4）。")
        elif not (block.text or "").strip():
            fail(f"body[{i}]", codes.BLOCK_INVALID, f"正文第{i + 1}段没有内容。")
        elif block.level == 0 and block.label:
            fail(f"body[{i}]", codes.BLOCK_INVALID, f"正文第{i + 1}段是普通段落，不应有序号“{block.label}”。")
        elif block.level and not LABEL_PATTERNS[block.level].match(block.label.strip()):
            fail(
                f"body[{i}]",
                codes.BLOCK_INVALID,
                f"正文第{i + 1}段的序号“{block.label}”与第{block.level}层标题不符"
                "（依次为“一、”“（一）”“1.”“（1）”）。",
            )
    reply_class = normalise_class(letter.reply_class)
    known = tuple(normalise_class(c) for c in letter.known_classes)
    if not reply_class:
        fail("reply_class", codes.CLASS_MISSING, "请选择办复类别。")
    elif reply_class not in known:
        fail(
            "reply_class",
            codes.CLASS_UNKNOWN,
            f"办复类别“{letter.reply_class}”不存在，可选：{'、'.join(c + '类' for c in known)}。",
        )
    if not (letter.contact_unit or "").strip():
        fail("contact_unit", codes.CONTACT_MISSING, "请填写联系单位。")
    if not (letter.contact_phone or "").strip():
        fail("contact_phone", codes.CONTACT_MISSING, "请填写联系电话。")
    if not isinstance(letter.signed_on, dt.date):
        fail("signed_on", codes.DATE_MISSING, "请填写成文日期。")
    if errors:
        first = errors[0]
        message = first.message if len(errors) == 1 else f"答复函有{len(errors)}处问题：{first.message}"
        raise InvalidInput(first.code, message, errors=errors)
