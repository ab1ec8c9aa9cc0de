"""Bad reply letters are refused with a stable code and no bytes; fonts fall back, never to boxes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import shutil

import pytest

from tests.proposals.letter_seeds import SEEDS
from tongban.core.errors import InvalidInput
from tongban.proposals.letters import content as ct
from tongban.proposals.letters import error_codes as codes
from tongban.proposals.letters import fonts
from tongban.proposals.letters.document import Block
from tongban.proposals.letters.render import render_docx, render_pdf
from tongban.proposals.letters.textflow import NO_LINE_END, NO_LINE_START, break_lines

GOOD = SEEDS["000"]
RENDERERS = [render_docx, render_pdf]


@pytest.mark.parametrize("render", RENDERERS, ids=["docx", "pdf"])
@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"document_number": ""}, codes.DOCUMENT_NUMBER_MISSING, "document_number"),
        ({"document_number": "   "}, codes.DOCUMENT_NUMBER_MISSING, "document_number"),
        ({"document_number": "瑶发改案[2022]15号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"document_number": "瑶发改案(2022)15号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"document_number": "瑶发改案〔22〕15号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"document_number": "瑶发改案〔2022〕015号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"document_number": "瑶发改案〔2022〕第15号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"document_number": "〔2022〕15号"}, codes.DOCUMENT_NUMBER_MALFORMED, "document_number"),
        ({"reply_class": ""}, codes.CLASS_MISSING, "reply_class"),
        ({"reply_class": "E"}, codes.CLASS_UNKNOWN, "reply_class"),
        ({"reply_class": "D", "known_classes": ("A", "B", "C")}, codes.CLASS_UNKNOWN, "reply_class"),
        ({"addressee": ""}, codes.ADDRESSEE_MISSING, "addressee"),
        ({"addressee": "："}, codes.ADDRESSEE_MISSING, "addressee"),
        ({"issuer": ""}, codes.ISSUER_MISSING, "issuer"),
        ({"title": ""}, codes.TITLE_MISSING, "title"),
        ({"body": ()}, codes.BODY_EMPTY, "body"),
        ({"body": (Block("正文", level=5, label="一、"),)}, codes.BLOCK_INVALID, "body[0]"),
        ({"body": (Block("标题", level=1, label="（一）"),)}, codes.BLOCK_INVALID, "body[0]"),
        ({"body": (Block("段落", label="一、"),)}, codes.BLOCK_INVALID, "body[0]"),
        ({"body": (Block("  "),)}, codes.BLOCK_INVALID, "body[0]"),
        ({"contact_unit": ""}, codes.CONTACT_MISSING, "contact_unit"),
        ({"contact_phone": ""}, codes.CONTACT_MISSING, "contact_phone"),
        ({"signed_on": None}, codes.DATE_MISSING, "signed_on"),
        ({"body": (Block("含有表情😀的段落"),)}, codes.UNRENDERABLE_CHARACTER, "body"),
    ],
)
def test_bad_letter_is_refused(render, changes, code, field):
    letter = dataclasses.replace(GOOD, **changes)
    with pytest.raises(InvalidInput) as info:
        render(letter)
    err = info.value
    assert err.code == code
    assert err.status == 422
    assert err.errors and err.errors[0].field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message)  # a Chinese message


def test_several_problems_are_reported_together():
    letter = dataclasses.replace(GOOD, document_number="", reply_class="", addressee="")
    with pytest.raises(InvalidInput) as info:
        render_pdf(letter)
    assert [e.code for e in info.value.errors] == [
        codes.DOCUMENT_NUMBER_MISSING,
        codes.ADDRESSEE_MISSING,
        codes.CLASS_MISSING,
    ]
    assert "3处问题" in info.value.message


@pytest.mark.parametrize("value", ["B", "b", "B类", " B 类 "])
def test_class_spellings_are_accepted(value):
    letter = dataclasses.replace(GOOD, reply_class=value)
    assert ct.class_label(letter) == "B类"
    render_docx(letter)


def test_configured_class_table_is_used():
    letter = dataclasses.replace(GOOD, reply_class="E", known_classes=("A", "B", "C", "D", "E"))
    assert render_pdf(letter).startswith(b"%PDF")


def test_date_is_arabic_without_leading_zeros():
    assert ct.date_text(dt.date(2022, 6, 10)) == "2022年6月10日"
    assert ct.date_text(dt.date(2024, 1, 5)) == "2024年1月5日"


# --- fonts -------------------------------------------------------------------------------------------


@pytest.fixture
def font_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TONGBAN_LETTER_FONT_DIR", str(tmp_path))
    monkeypatch.setattr(fonts, "font_dirs", lambda: [tmp_path])
    fonts.reset()
    yield tmp_path
    fonts.reset()


def test_official_file_name_found_in_the_font_dir_is_embedded(font_dir):
    shutil.copy("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font_dir / "simfang.ttf")
    choice = fonts.resolve(ct.FANGSONG, set("Reply 2022"))
    assert choice.official and choice.embedded and choice.path.endswith("simfang.ttf")


def test_font_without_the_characters_falls_back_to_the_cid_font(font_dir):
    """A face that lacks a character is never used for it: the letter falls back instead of boxes."""
    shutil.copy("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font_dir / "simfang.ttf")
    choice = fonts.resolve(ct.FANGSONG, set("办复类别：B类"))
    assert choice.pdf_name == fonts.CID_FALLBACK and not choice.embedded
    assert not fonts.uncovered(choice, set("办复类别：B类"))
    assert render_pdf(GOOD).startswith(b"%PDF")


def test_postscript_outline_fonts_are_skipped(font_dir):
    """Debian's Noto CJK (.ttc with CFF outlines) cannot be embedded by reportlab: skipped, not fatal."""
    noto = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
    if not os.path.exists(noto):
        pytest.skip("fonts-noto-cjk not installed")
    (font_dir / "uming.ttc").symlink_to(noto)
    assert fonts.resolve(ct.FANGSONG, set("答复")).pdf_name == fonts.CID_FALLBACK


def test_fallback_emboldens_headings_and_titles_only():
    chosen = {r: fonts.resolve(r, set("一")) for r in ct.ROLES}
    if all(not c.official for c in chosen.values()):
        assert chosen[ct.HEI].embolden and chosen[ct.XBS].embolden
        assert not chosen[ct.FANGSONG].embolden and not chosen[ct.KAI].embolden


# --- line breaking -----------------------------------------------------------------------------------


def test_line_breaking_keeps_punctuation_rules_and_numbers_whole():
    text = "".join(b.text for b in GOOD.body)
    lines = break_lines([(text, "f")], width=lambda t, r: 16.0 * len(t) if not t.isascii() else 8.0 * len(t), spacing=0.0, first=416.0, rest=448.0)  # fmt: skip
    assert "".join(line.text for line in lines) == text.replace("  ", " ")
    for prev, line in itertools.pairwise(lines):
        assert line.text[0] not in NO_LINE_START, line.text
        assert prev.text[-1] not in NO_LINE_END, prev.text
        assert not (prev.text[-1].isdigit() and line.text[0].isdigit()), (prev.text, line.text)
    assert all(line.natural <= 448.01 for line in lines)
