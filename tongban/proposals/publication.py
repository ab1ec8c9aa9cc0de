"""Publishing sent replies (答复公开) with personal data removed.

What is removed automatically (each replaced by a visible placeholder such as 【电话号码已隐去】):

1. **ID numbers**: 18 characters (17 digits and a digit or X) that python-stdnum accepts as a
   居民身份证号码 (valid birth date and ISO 7064 check). Other 18-digit numbers (contract or project
   numbers, amounts) stay.
2. **Phone numbers**: mobile numbers (1[3-9] and 9 digits, with or without +86 and separators);
   landline numbers with an area code (0xx-xxxxxxxx); and 7–8 digit numbers right after 电话/手机/
   联系方式/Tel. The published unit phones (the reply's contact phone and the handling unit's phone)
   are public and kept.
3. **Personal addresses**: the proposer's recorded address wherever it appears, and any address that
   reaches down to a dwelling: a street, lane, village or estate (路 街 巷 弄 村 小区 花园 公寓 新村
   家园 苑 社区) followed by a building (栋 幢 号楼 单元) and a flat (室 户). An address that stops at a
   street number (a public building) stays. Up to eight characters before the street marker are
   taken with it, so a district name next to a flat may go too: the rule errs on removing.
4. The proposer's recorded phone number in any spelling.

The reviewer sees the result with every removal highlighted, may add words to remove (a name, a
place), and approves it (or withholds it). The public page lists approved replies once
``publish_after`` (the sending date plus the jurisdiction's delay) has come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import ric

PLACEHOLDERS = {
    "id_number": "【身份证号码已隐去】",
    "phone": "【电话号码已隐去】",
    "address": "【住址已隐去】",
    "term": "【已隐去】",
}
LABELS = {"id_number": "身份证号码", "phone": "电话号码", "address": "住址", "term": "审核人隐去的内容"}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
_KIND_OF = {p: k for k, p in PLACEHOLDERS.items()}

_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?![0-9])")
_LANDLINE_RE = re.compile(r"(?<![0-9])[(（]?0\d{2,3}[)）]?[-－—\s]?\d{7,8}(?![0-9])")
_KEYWORD_PHONE_RE = re.compile(
    r"(?:电话|手机|联系方式|联系电话|座机|Tel|TEL|tel)[:：\s]*((?:\d[-\s]?){7,8})(?![0-9])"
)
_STREET = r"(?:路|街|大道|巷|弄|村|小区|花园|公寓|新村|家园|苑|社区)"
_ADDRESS_RE = re.compile(
    rf"[\u4e00-\u9fff0-9]{{0,8}}?{_STREET}"
    r"[\u4e00-\u9fff0-9\-－]{0,20}?"
    r"\d+\s*(?:栋|幢|号楼|单元)"
    r"[\u4e00-\u9fff0-9\-－]{0,10}?"
    r"\d+\s*(?:室|户)"
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


@dataclass(frozen=True)
class Redacted:
    text: str
    spans: list[dict]  # {"start", "end", "kind", "label"} in ``text``

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.spans:
            out[s["kind"]] = out.get(s["kind"], 0) + 1
        return out


def placeholder_spans(text: str) -> list[dict]:
    return [
        {
            "start": m.start(),
            "end": m.end(),
            "kind": _KIND_OF[m.group()],
            "label": LABELS[_KIND_OF[m.group()]],
        }
        for m in _PLACEHOLDER_RE.finditer(text)
    ]


def _found(
    text: str, *, keep_phones, known_phones, known_addresses, extra_terms
) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for m in _ID_RE.finditer(text):
        if ric.is_valid(m.group()):
            found.append((m.start(), m.end(), "id_number"))
    keep = {_digits(p) for p in keep_phones if _digits(p)}
    for pattern in (_MOBILE_RE, _LANDLINE_RE):
        for m in pattern.finditer(text):
            digits = _digits(m.group())
            if digits not in keep and not any(digits.endswith(k) and len(k) >= 7 for k in keep):
                found.append((m.start(), m.end(), "phone"))
    for m in _KEYWORD_PHONE_RE.finditer(text):
        if _digits(m.group(1)) not in keep:
            found.append((m.start(1), m.end(1), "phone"))
    for phone in known_phones:
        digits = _digits(phone)
        if len(digits) >= 7:
            spaced = r"[-\s]?".join(re.escape(d) for d in digits)
            for m in re.finditer(rf"(?<![0-9]){spaced}(?![0-9])", text):
                found.append((m.start(), m.end(), "phone"))
    for m in _ADDRESS_RE.finditer(text):
        found.append((m.start(), m.end(), "address"))
    for address in known_addresses:
        if address and len(address.strip()) >= 4:
            for m in re.finditer(re.escape(address.strip()), text):
                found.append((m.start(), m.end(), "address"))
    for term in extra_terms:
        term = (term or "").strip()
        if term:
            for m in re.finditer(re.escape(term), text):
                found.append((m.start(), m.end(), "term"))
    # Placeholders already in the text are never cut into.
    for m in _PLACEHOLDER_RE.finditer(text):
        found.append((m.start(), m.end(), "keep"))
    return found


def redact(
    text: str,
    *,
    keep_phones: tuple[str, ...] | list[str] = (),
    known_phones: tuple[str, ...] | list[str] = (),
    known_addresses: tuple[str, ...] | list[str] = (),
    extra_terms: tuple[str, ...] | list[str] = (),
) -> Redacted:
    """``text`` with personal data replaced by placeholders, and where each placeholder is."""
    found = _found(
        text,
        keep_phones=keep_phones,
        known_phones=known_phones,
        known_addresses=known_addresses,
        extra_terms=extra_terms,
    )
    # Overlaps: the earliest start wins, then the longest; a span inside another is dropped.
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if end > last[1]:
                merged[-1] = (last[0], end, last[2] if last[2] != "keep" else kind)
            continue
        merged.append((start, end, kind))
    out, pos = [], 0
    for start, end, kind in merged:
        out.append(text[pos:start])
        out.append(text[start:end] if kind == "keep" else PLACEHOLDERS[kind])
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    return Redacted(text=result, spans=placeholder_spans(result))


def highlighted_segments(text: str) -> list[tuple[str, str]]:
    """``[(segment, kind_or_"")]``: the text cut at its placeholders, for the reviewer's page."""
    segments, pos = [], 0
    for span in placeholder_spans(text):
        if span["start"] > pos:
            segments.append((text[pos : span["start"]], ""))
        segments.append((text[span["start"] : span["end"]], span["kind"]))
        pos = span["end"]
    if pos < len(text):
        segments.append((text[pos:], ""))
    return segments
