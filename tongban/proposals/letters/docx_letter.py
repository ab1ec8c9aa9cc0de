"""The reply letter as .docx (python-docx), in the GB/T 9704-2012 letter format (信函格式).

Word lays the text out, so the document carries the format as settings: an A4 section with the
standard's margins and a 22 × 28 document grid; paragraph styles for each element (``Letter Body``,
``Letter Heading 1``–``4`` with outline levels, ``Letter Class``, ``Letter Contact``, ``Letter Date``,
``Letter Copy To``…) whose East Asian fonts are the official names (仿宋_GB2312, 黑体, 楷体_GB2312,
方正小标宋简体) so Word uses them where installed; the issuer's mark in red with the red double line
(a paragraph border, thick over thin) in the first-page header, the second double line (thin over
thick) in the first-page footer; "— n —" page numbers (4号宋体) outside-bottom from page 2 on; the
版记 (抄送) in a frame anchored to the bottom of the text area; the feedback form on its own page.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from tongban.proposals.letters import content as ct
from tongban.proposals.letters import layout as L
from tongban.proposals.letters.document import ReplyLetter
from tongban.proposals.letters.fonts import OFFICIAL_NAMES
from tongban.proposals.letters.pdf_letter import choose_fonts
from tongban.proposals.letters.validation import validate_letter

LATIN = "Times New Roman"  # digits and Latin letters in the body
TWIPS = 20  # per point
EXACT_PITCH = Pt(round(L.LINE_PITCH, 2))
CHAR_SPACE = round((L.CHAR_PITCH - L.SIZE_3) * 4096)  # w:docGrid charSpace: extra pitch in 1/4096 pt
RULE_OVERHANG = (L.RULE_LENGTH - L.TEXT_WIDTH) / 2  # the 170 mm rules stick out of the 156 mm text
FORM_COL_MM = (40, 38.67, 38.67, 38.67)

# style name → (font role, size, alignment, first-line indent in characters, outline level)
STYLES = {
    "Letter Number": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.RIGHT, 0, None),
    "Letter Title": (ct.XBS, L.SIZE_2, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "Letter Addressee": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 0, None),
    "Letter Body": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, None),
    "Letter Heading 1": (ct.HEI, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 0),
    "Letter Heading 2": (ct.KAI, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 1),
    "Letter Heading 3": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 2),
    "Letter Heading 4": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 3),
    "Letter Attachment Note": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.LEFT, 2, None),
    "Letter Class": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.LEFT, 2, None),
    "Letter Contact": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.LEFT, 2, None),
    "Letter Signer": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.RIGHT, 0, None),
    "Letter Date": (ct.FANGSONG, L.SIZE_3, WD_ALIGN_PARAGRAPH.RIGHT, 0, None),
    "Letter Copy To": (ct.FANGSONG, L.SIZE_4, WD_ALIGN_PARAGRAPH.JUSTIFY, 0, None),
    "Letter Page Number": (ct.SONG, L.SIZE_4, WD_ALIGN_PARAGRAPH.RIGHT, 0, None),
    "Letter Mark": (ct.XBS, L.SIZE_2, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "Letter Attachment": (ct.HEI, L.SIZE_3, WD_ALIGN_PARAGRAPH.LEFT, 0, None),
    "Letter Form Title": (ct.XBS, L.SIZE_2, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "Letter Form Cell": (ct.FANGSONG, L.SIZE_4, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "Letter Form Note": (ct.FANGSONG, L.SIZE_4, WD_ALIGN_PARAGRAPH.JUSTIFY, 0, None),
}
BLOCK_STYLE = {
    0: "Letter Body",
    1: "Letter Heading 1",
    2: "Letter Heading 2",
    3: "Letter Heading 3",
    4: "Letter Heading 4",
}


def _fonts(rpr, role: str) -> None:
    """w:rFonts with the official East Asian face; Latin in Times New Roman (宋体 for page numbers)."""
    fonts = _set(rpr, "w:rFonts")
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    latin = OFFICIAL_NAMES[ct.SONG] if role == ct.SONG else LATIN
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), OFFICIAL_NAMES[role])
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:hint"), "eastAsia")


def _run(paragraph, text: str, role: str, *, size: float | None = None, color: str | None = None):
    run = paragraph.add_run(text)
    _fonts(run._r.get_or_add_rPr(), role)
    if size:
        run.font.size = Pt(size)
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


# Child order the WordprocessingML schema requires (Word rejects files that break it).
ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
    "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
    "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
    "vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark",
    "pBdr": "top left bottom right between bar",
}


def _set(el, tag: str, **attrs):
    child = el.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        order = ORDER.get(el.tag.rsplit("}", 1)[-1], "").split()
        name = tag.split(":", 1)[1]
        later = set(order[order.index(name) + 1 :]) if name in order else set()
        for i, sibling in enumerate(el):
            if sibling.tag.rsplit("}", 1)[-1] in later:
                el.insert(i, child)
                break
        else:
            el.append(child)
    for k, v in attrs.items():
        child.set(qn(f"w:{k}"), str(v))
    return child


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = Pt(L.SIZE_3)
    _fonts(normal.element.get_or_add_rPr(), ct.FANGSONG)
    _set(normal.element.get_or_add_rPr(), "w:lang", val="en-US", eastAsia="zh-CN")
    pf = normal.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = EXACT_PITCH
    pf.widow_control = False
    for name, (role, size, align, indent, outline) in STYLES.items():
        style = doc.styles.add_style(name, 1)  # WD_STYLE_TYPE.PARAGRAPH
        style.base_style = normal
        style.quick_style = True
        style.font.size = Pt(size)
        _fonts(style.element.get_or_add_rPr(), role)
        style.paragraph_format.alignment = align
        if indent:
            style.paragraph_format.first_line_indent = Pt(indent * L.CHAR_PITCH)
            _set(style.element.get_or_add_pPr(), "w:ind", firstLineChars=indent * 100)
        if outline is not None:
            _set(style.element.get_or_add_pPr(), "w:outlineLvl", val=outline)


def _border(paragraph, side: str, kind: str, eighths: int, space_pt: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = _set(ppr, "w:pBdr")
    _set(borders, f"w:{side}", val=kind, sz=eighths, space=space_pt, color=L.RED_HEX)


def _page_field(paragraph, role: str) -> None:
    _run(paragraph, "— ", role)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = _run(paragraph, "", role)
        if kind:
            _set(run._r, "w:fldChar", fldCharType=kind)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    _run(paragraph, " —", role)


def _section(doc, letter: ReplyLetter) -> None:
    s = doc.sections[0]
    s.start_type = WD_SECTION.NEW_PAGE
    s.page_width, s.page_height = Pt(L.PAGE_WIDTH), Pt(L.PAGE_HEIGHT)
    s.top_margin, s.bottom_margin = Pt(L.MARGIN_TOP), Pt(L.MARGIN_BOTTOM)
    s.left_margin, s.right_margin = Pt(L.MARGIN_LEFT), Pt(L.MARGIN_RIGHT)
    s.header_distance = Pt(L.MARK_TOP)
    s.footer_distance = Pt(L.RULE_FROM_BOTTOM - 2)
    s.different_first_page_header_footer = True
    doc.settings.odd_and_even_pages_header_footer = True
    grid = s._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        s._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(L.LINE_PITCH * TWIPS)))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    # page 1: the issuer's mark in red, the double line (thick over thin) 4 mm below it
    mark = s.first_page_header.paragraphs[0]
    mark.style = doc.styles["Letter Mark"]
    size = min(L.MARK_MAX_SIZE, L.MARK_MAX_WIDTH / max(1, len(letter.issuer.strip())))
    mark.paragraph_format.line_spacing = Pt(size * 1.15)
    mark.paragraph_format.left_indent = mark.paragraph_format.right_indent = Pt(-RULE_OVERHANG)
    _run(mark, letter.issuer.strip(), ct.XBS, size=size, color=L.RED_HEX)
    _border(mark, "bottom", "thickThinSmallGap", 24, round(L.RULE_BELOW_MARK))
    # ... and the second double line (thin over thick) 20 mm above the bottom edge, no page number
    foot = s.first_page_footer.paragraphs[0]
    foot.paragraph_format.left_indent = foot.paragraph_format.right_indent = Pt(-RULE_OVERHANG)
    foot.paragraph_format.line_spacing = Pt(2)
    _border(foot, "top", "thinThickSmallGap", 24, 0)
    # pages 2…: "— n —" in 4号宋体, odd pages right and even pages left, one character in
    for footer, align in (
        (s.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        p.style = doc.styles["Letter Page Number"]
        p.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(L.PAGE_NUMBER_SIDE_CHARS * L.SIZE_4)
        else:
            p.paragraph_format.left_indent = Pt(L.PAGE_NUMBER_SIDE_CHARS * L.SIZE_4)
        _page_field(p, ct.SONG)


def _para(doc, style: str, runs=(), *, text: str = ""):
    p = doc.add_paragraph(style=doc.styles[style])
    role = STYLES[style][0]
    if text:
        _run(p, text, role)
    for t, r in runs:
        _run(p, t, r)
    return p


def _width_chars(text: str) -> float:
    return sum(0.5 if ch.isascii() else 1.0 for ch in text)


def _copy_to_frame(paragraph) -> None:
    """The 版记 stays at the bottom of the text area: a frame anchored to the margin's bottom."""
    frame = _set(paragraph._p.get_or_add_pPr(), "w:framePr")
    for k, v in (
        ("w", round(L.TEXT_WIDTH * TWIPS)),
        ("wrap", "around"),
        ("vAnchor", "margin"),
        ("hAnchor", "margin"),
        ("yAlign", "bottom"),
        ("x", 0),
    ):
        frame.set(qn(f"w:{k}"), str(v))


def _form(doc, letter: ReplyLetter) -> None:
    f = ct.feedback_rows(letter)
    head = _para(doc, "Letter Attachment", text="附件")
    head.paragraph_format.page_break_before = True
    doc.add_paragraph(style=doc.styles["Letter Body"])
    _para(doc, "Letter Form Title", text=f["title"])
    doc.add_paragraph(style=doc.styles["Letter Body"])
    rows = [
        [(0, 1, f["subject_label"]), (1, 3, f["subject"])],
        [(0, 1, "编号"), (1, 1, f["number"]), (2, 1, f["proposer_label"]), (3, 1, f["proposer"])],
        [(0, 1, "承办单位"), (1, 3, f["unit"])],
        [(0, 1, "办复类别"), (1, 3, f["reply_class"])],
        [(0, 1, "征询事项")] + [(i + 1, 1, c) for i, c in enumerate(f["choices"])],
        *([(0, 1, q)] + [(i + 1, 1, ct.BOX) for i in range(3)] for q in f["questions"]),
        [(0, 1, f["comments_label"]), (1, 3, "")],
        [(0, 4, f"{f['signature']}{'　' * 12}{f['date']}")],
    ]
    table = doc.add_table(rows=len(rows), cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, row in enumerate(rows):
        cells = table.rows[i].cells
        for col, width in enumerate(FORM_COL_MM):
            cells[col].width = Pt(width * L.MM)
        table.rows[i].height = Pt(
            12 * L.MM if i < len(rows) - 2 else (55 * L.MM if i == len(rows) - 2 else 18 * L.MM)
        )
        for col, span, text in row:
            cell = cells[col].merge(cells[col + span - 1]) if span > 1 else cells[col]
            p = cell.paragraphs[0]
            p.style = doc.styles["Letter Form Cell"]
            p.paragraph_format.line_spacing = Pt(L.SIZE_4 * 1.5)
            if span > 1 and col == 1:
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _run(p, text, ct.FANGSONG)
            _set(cell._tc.get_or_add_tcPr(), "w:vAlign", val="bottom" if span == 4 else "center")
    note = _para(doc, "Letter Form Note", text=f["note"])
    note.paragraph_format.line_spacing = Pt(L.SIZE_4 * 1.5)


def build_docx(letter: ReplyLetter) -> bytes:
    validate_letter(letter)
    choose_fonts(letter)  # the same "no boxes" check as the PDF: a character no font draws is refused
    doc = Document()
    _styles(doc)
    _section(doc, letter)
    props = doc.core_properties
    props.title, props.author, props.subject = (
        letter.title.strip(),
        letter.issuer.strip(),
        letter.document_number.strip(),
    )
    props.keywords = f"办复类别 {ct.class_label(letter)}"

    _para(doc, "Letter Number", text=letter.document_number.strip())
    for _ in range(L.TITLE_GAP_LINES):
        doc.add_paragraph(style=doc.styles["Letter Body"])
    _para(doc, "Letter Title", text=letter.title.strip())
    doc.add_paragraph(style=doc.styles["Letter Body"])
    _para(doc, "Letter Addressee", text=ct.addressee_line(letter))
    for block, paragraph in zip(letter.body, ct.body_paragraphs(letter), strict=True):
        _para(doc, BLOCK_STYLE[block.level], paragraph.runs)
    doc.add_paragraph(style=doc.styles["Letter Body"])
    if ct.attachment_note(letter):
        _para(doc, "Letter Attachment Note", text=ct.attachment_note(letter))
    for p in ct.closing_paragraphs(letter):
        _para(doc, "Letter Class" if p.kind == "class" else "Letter Contact", p.runs)
    for _ in range(L.SEAL_GAP_LINES):
        doc.add_paragraph(style=doc.styles["Letter Body"])
    date, signer = ct.date_text(letter.signed_on), ct.signer(letter)
    offset = max(0.0, L.DATE_RIGHT_CHARS + (_width_chars(date) - _width_chars(signer)) / 2)
    sig = _para(doc, "Letter Signer", text=signer)
    sig.paragraph_format.right_indent = Pt(offset * L.CHAR_PITCH)
    dat = _para(doc, "Letter Date", text=date)
    dat.paragraph_format.right_indent = Pt(L.DATE_RIGHT_CHARS * L.CHAR_PITCH)
    copy_to = ct.copy_to_line(letter)
    if copy_to:
        side, hang = L.COPY_TO_SIDE_CHARS * L.SIZE_4, 3 * L.SIZE_4
        p = _para(doc, "Letter Copy To", text=copy_to)
        p.paragraph_format.left_indent = Pt(side + hang)
        p.paragraph_format.first_line_indent = Pt(-hang)
        p.paragraph_format.right_indent = Pt(side)
        _copy_to_frame(p)
    if letter.feedback_form:
        _form(doc, letter)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
