"""Reply letters (答复函): the seeds' replies rebuilt as ReplyLetter values and rendered as real .docx
and .pdf bytes, read back with python-docx and pypdf."""

from __future__ import annotations

import dataclasses
import io
import re

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from tests.proposals.letter_seeds import EXPECTED_CLOSING, EXPECTED_HEADINGS, SEEDS
from tongban.proposals.letters import content as ct
from tongban.proposals.letters import layout as L
from tongban.proposals.letters.render import render_docx, render_pdf

A4 = (595.28, 841.89)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module", params=sorted(SEEDS))
def seed(request):
    key = request.param
    letter = SEEDS[key]
    return key, letter, render_pdf(letter), render_docx(letter)


# --- PDF ---------------------------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def test_pdf_is_a4_with_the_letter_then_the_feedback_form(seed):
    _key, letter, pdf, _ = seed
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.1)
    pages = pdf_pages(pdf)
    form = squash(pages[-1])
    assert form.startswith("附件征询意见表")
    for word in (
        "满意",
        "基本满意",
        "不满意",
        "意见和建议",
        letter.issuer,
        f"办复类别{ct.class_label(letter)}",
    ):
        assert squash(word) in form
    assert form.count("□") == 9 + 1  # three rows of three, and the note
    assert "抄送" not in form and "抄送" in squash(pages[-2])


def test_pdf_first_page_carries_mark_number_title_and_addressee_in_order(seed):
    _key, letter, pdf, _ = seed
    first = squash(pdf_pages(pdf)[0])
    parts = [letter.issuer, letter.document_number, squash(letter.title), ct.addressee_line(letter)]
    positions = [first.find(p) for p in parts]
    assert -1 not in positions and positions == sorted(positions)
    assert first.startswith(letter.issuer)


def test_pdf_heading_order_and_closing_lines(seed):
    key, letter, pdf, _ = seed
    text = re.sub(r"—\d+—", "", squash("".join(pdf_pages(pdf)[:-1])))
    cursor = 0
    for _level, heading in EXPECTED_HEADINGS[key]:
        found = text.find(squash(heading), cursor)
        assert found >= 0, heading
        cursor = found
    for line in [*EXPECTED_CLOSING[key][:3], ct.signer(letter), *EXPECTED_CLOSING[key][3:]]:
        found = text.find(squash(line), cursor)
        assert found >= 0, line
        cursor = found


def test_pdf_text_is_every_character_of_the_letter(seed):
    """What the PDF draws is the letter's text, character for character (no boxes, nothing lost)."""
    _key, letter, pdf, _ = seed
    text = re.sub(r"—\d+—", "", squash("".join(pdf_pages(pdf))))  # page numbers between pages
    for paragraph in ct.body_paragraphs(letter):
        assert squash(paragraph.text) in text


def test_pdf_page_numbers_outside_from_page_two(seed):
    _key, _letter, pdf, _ = seed
    pages = pdf_pages(pdf)
    assert "— 1 —" not in pages[0]  # 信函格式: 首页不显示页码
    for n, page in enumerate(pages[1:], start=2):
        assert page.rstrip().endswith(f"— {n} —")


def test_pdf_declares_the_chosen_fonts(seed):
    _key, letter, pdf, _ = seed
    from tongban.proposals.letters.pdf_letter import choose_fonts

    reader = PdfReader(io.BytesIO(pdf))
    used = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            used.add(str(ref.get_object()["/BaseFont"]).lstrip("/"))
    chosen = choose_fonts(letter)
    for role in (ct.FANGSONG, ct.XBS, ct.HEI, ct.SONG):
        name = chosen[role].pdf_name
        assert any(name in u for u in used), (role, name, used)
    assert "fangsong=" in reader.metadata["/Keywords"]
    assert reader.metadata["/Subject"] == letter.document_number


def test_pdf_red_double_lines_on_the_first_page_only(seed):
    _key, _letter, pdf, _ = seed
    reader = PdfReader(io.BytesIO(pdf))
    red_rects = lambda page: len(re.findall(rb"1 0 0 rg[^Q]*? re f", page.get_contents().get_data()))  # noqa: E731
    assert red_rects(reader.pages[0]) == 4  # two double lines
    assert red_rects(reader.pages[1]) == 0


# --- DOCX --------------------------------------------------------------------------------------------


def docx_paragraphs(data: bytes):
    document = docx.Document(io.BytesIO(data))
    return document, [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]


def test_docx_structure_matches_the_seed(seed):
    key, letter, _, data = seed
    _document, paras = docx_paragraphs(data)
    styles = [s for s, _ in paras]
    text = dict(paras)
    assert paras[0] == ("Letter Number", letter.document_number)
    assert paras[1] == ("Letter Title", letter.title)
    assert paras[2] == ("Letter Addressee", ct.addressee_line(letter))
    headings = [(int(s[-1]), t) for s, t in paras if s.startswith("Letter Heading")]
    expected = EXPECTED_HEADINGS[key]
    assert [lvl for lvl, _ in headings] == [lvl for lvl, _ in expected]
    for (_, got), (_, want) in zip(headings, expected, strict=True):
        assert got.startswith(want)
    assert text["Letter Class"] == EXPECTED_CLOSING[key][0]
    assert [t for s, t in paras if s == "Letter Contact"] == EXPECTED_CLOSING[key][1:3]
    assert text["Letter Signer"] == ct.signer(letter)
    assert text["Letter Date"] == EXPECTED_CLOSING[key][3]
    assert text["Letter Copy To"] == EXPECTED_CLOSING[key][4]
    order = ["Letter Number", "Letter Title", "Letter Addressee", "Letter Heading 1", "Letter Class",
             "Letter Contact", "Letter Signer", "Letter Date", "Letter Copy To", "Letter Attachment"]  # fmt: skip
    assert [styles.index(s) for s in order] == sorted(styles.index(s) for s in order)
    assert text["Letter Attachment Note"] == "附件：征询意见表"


def test_docx_page_setup_and_grid(seed):
    _key, _letter, _, data = seed
    document = docx.Document(io.BytesIO(data))
    s = document.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert (round(s.top_margin.mm), round(s.left_margin.mm)) == (37, 28)
    assert round(docx.shared.Length(s.page_width - s.left_margin - s.right_margin).mm) == 156
    assert round(docx.shared.Length(s.page_height - s.top_margin - s.bottom_margin).mm) == 225
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    assert int(grid.get(qn("w:linePitch"))) == round(L.LINE_PITCH * 20)
    assert s.different_first_page_header_footer


def test_docx_declares_the_official_fonts(seed):
    _key, _letter, _, data = seed
    document = docx.Document(io.BytesIO(data))

    def east_asia(style_name):
        fonts = document.styles[style_name].element.rPr.find(qn("w:rFonts"))
        return fonts.get(qn("w:eastAsia"))

    assert east_asia("Letter Body") == "仿宋_GB2312"
    assert east_asia("Letter Heading 1") == "黑体"
    assert east_asia("Letter Heading 2") == "楷体_GB2312"
    assert east_asia("Letter Heading 3") == "仿宋_GB2312"
    assert east_asia("Letter Title") == "方正小标宋简体"
    assert document.styles["Letter Title"].font.size.pt == 22
    assert document.styles["Letter Body"].font.size.pt == 16
    assert document.styles["Letter Heading 2"].element.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "1"


def test_docx_header_mark_in_red_with_double_line_and_page_number_field(seed):
    _key, letter, _, data = seed
    document = docx.Document(io.BytesIO(data))
    s = document.sections[0]
    mark = s.first_page_header.paragraphs[0]
    assert mark.text == letter.issuer
    assert str(mark.runs[0].font.color.rgb) == "FF0000"
    bottom = mark._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:val")) == "thickThinSmallGap" and bottom.get(qn("w:color")) == "FF0000"
    top = s.first_page_footer.paragraphs[0]._p.pPr.find(qn("w:pBdr")).find(qn("w:top"))
    assert top.get(qn("w:val")) == "thinThickSmallGap"
    for footer in (s.footer, s.even_page_footer):
        xml = footer.paragraphs[0]._p.xml
        assert "PAGE" in xml and "— " in footer.paragraphs[0].text
    assert s.footer.paragraphs[0].alignment == 2 and s.even_page_footer.paragraphs[0].alignment == 0


def test_docx_feedback_form_on_its_own_page(seed):
    _key, letter, _, data = seed
    document = docx.Document(io.BytesIO(data))
    attachment = next(p for p in document.paragraphs if p.style.name == "Letter Attachment")
    assert attachment.paragraph_format.page_break_before
    table = document.tables[0]
    cells = [c.text for row in table.rows for c in row.cells]
    for word in ("满意", "基本满意", "不满意", "意见和建议", letter.issuer, ct.class_label(letter)):
        assert word in cells
    assert cells.count("□") == 9
    assert letter.proposal_title in cells


# --- shared behaviour --------------------------------------------------------------------------------


def test_half_width_heading_label_is_printed_full_width():
    letter = SEEDS["000"]
    assert any(b.label == "(七)" for b in letter.body)
    assert "（七）发挥自身优势" in squash("".join(pdf_pages(render_pdf(letter))))
    _, paras = docx_paragraphs(render_docx(letter))
    assert ("Letter Heading 2", "（七）发挥自身优势，引导产业结构转型升级") in paras


def test_run_in_heading_keeps_its_first_sentence_in_the_heading_face():
    runs = ct.heading_runs(SEEDS["003"].body[3])
    assert runs[0] == ("（一）强化规划政策引领。", ct.KAI)
    assert runs[1][1] == ct.FANGSONG and runs[1][0].startswith("印发《")


def test_rendering_is_repeatable():
    letter = SEEDS["003"]
    assert render_pdf(letter) == render_pdf(letter)


def test_without_feedback_form_and_copy_to():
    letter = dataclasses.replace(SEEDS["003"], feedback_form=False, copy_to=())
    pages = pdf_pages(render_pdf(letter))
    assert "征询意见表" not in "".join(pages) and "抄送" not in "".join(pages)
    _, paras = docx_paragraphs(render_docx(letter))
    assert not any(s in ("Letter Attachment", "Letter Copy To", "Letter Attachment Note") for s, _ in paras)
