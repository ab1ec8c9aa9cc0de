"""The reply letter as PDF (reportlab canvas), in the GB/T 9704-2012 letter format (信函格式).

Layout (measures in :mod:`.layout`, explained in docs/letters.md): page 1 carries the issuer's mark
in red 30 mm from the top with the red double line (thick over thin) 4 mm below it, 发文字号 flush
right 7/8 of a 3号 character under the line, the title two lines lower, 主送, the body on a
22 × 28 grid, the 附件 note, 办复类别 / 联系单位 / 联系电话, the 署名 centred over the 成文日期
(右空四字) and the 版记 (抄送) at the bottom of the last page's text area; the second red double
line (thin over thick) sits 20 mm above the bottom edge of page 1. Pages from the second on carry
"— n —" at the outside bottom. The feedback form follows on its own page.
"""

from __future__ import annotations

import io

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from tongban.core.errors import FieldError, InvalidInput
from tongban.proposals.letters import content as ct
from tongban.proposals.letters import error_codes as codes
from tongban.proposals.letters import fonts as fontlib
from tongban.proposals.letters import layout as L
from tongban.proposals.letters.document import ReplyLetter
from tongban.proposals.letters.textflow import Line, break_lines
from tongban.proposals.letters.validation import validate_letter

CJK_TOP = 0.88  # an ideograph's em box: 0.88 em above the baseline, 0.12 em below
CJK_MIDDLE = 0.38  # ... so its middle is 0.38 em above the baseline
BOTTOM = L.MARGIN_TOP + L.TEXT_HEIGHT  # the text area's lower edge, from the top of the page
RIGHT = L.MARGIN_LEFT + L.TEXT_WIDTH
TITLE_GOOD_ENDS = set("的于对会议案届次函复")
FORM_SIZE = L.SIZE_4
FORM_PITCH = FORM_SIZE * 1.5
FORM_PAD = 2 * L.MM
FORM_COLS = (40 * L.MM,) + ((L.TEXT_WIDTH - 40 * L.MM) / 3,) * 3


def role_chars(letter: ReplyLetter) -> dict[str, set[str]]:
    """Which characters each font role must draw."""
    chars = {role: set() for role in ct.ROLES}
    chars[ct.XBS] |= set(letter.issuer + letter.title + ct.ATTACHMENT_NAME)
    for p in ct.body_paragraphs(letter):
        for text, role in p.runs:
            chars[role] |= set(text)
    chars[ct.HEI] |= set("附件")
    chars[ct.SONG] |= set("—0123456789 ")
    chars[ct.FANGSONG] |= set(ct.letter_text(letter))
    return chars


def choose_fonts(letter: ReplyLetter) -> dict[str, fontlib.FontChoice]:
    """The face for each role; :class:`InvalidInput` if some character cannot be drawn at all."""
    chosen, bad = {}, set()
    for role, chars in role_chars(letter).items():
        chosen[role] = fontlib.resolve(role, chars)
        bad |= fontlib.uncovered(chosen[role], chars)
    if bad:
        shown = "".join(sorted(bad))
        raise InvalidInput(
            codes.UNRENDERABLE_CHARACTER,
            f"答复函中有无法显示的字符：{shown}（U+{', U+'.join(f'{ord(c):04X}' for c in sorted(bad))}）。",
            errors=[FieldError("body", f"请替换字符“{shown}”。", codes.UNRENDERABLE_CHARACTER)],
        )
    return chosen


class _Writer:
    def __init__(self, letter: ReplyLetter, fonts: dict[str, fontlib.FontChoice]):
        self.letter = letter
        self.fonts = fonts
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(
            self.buf, pagesize=(L.PAGE_WIDTH, L.PAGE_HEIGHT), invariant=1, pageCompression=1
        )
        self.c.setTitle(letter.title)
        self.c.setAuthor(letter.issuer)
        self.c.setSubject(letter.document_number)
        self.c.setCreator("Tongban 通办")
        self.c.setKeywords(
            "; ".join(f"{r}={f.pdf_name}{'(embedded)' if f.embedded else ''}" for r, f in fonts.items())
        )
        self.page = 1
        self.top = L.MARGIN_TOP

    # --- primitives ---------------------------------------------------------------------------------
    def width(self, text: str, role: str, size: float) -> float:
        return pdfmetrics.stringWidth(text, self.fonts[role].pdf_name, size)

    def y(self, top: float) -> float:
        return L.PAGE_HEIGHT - top

    def text(self, pieces, x: float, baseline: float, size: float, spacing: float = 0.0, color=(0, 0, 0)):
        c = self.c
        c.saveState()
        c.setFillColorRGB(*color)
        c.setStrokeColorRGB(*color)
        c.setLineWidth(size * 0.035)
        t = c.beginText(x, self.y(baseline))
        t.setCharSpace(spacing)
        for chunk, role in pieces:
            font = self.fonts[role]
            t.setFont(font.pdf_name, size)
            t.setTextRenderMode(2 if font.embolden else 0)
            t.textOut(chunk)
        c.drawText(t)
        c.restoreState()

    def baseline(self, top: float, size: float, pitch: float = L.LINE_PITCH) -> float:
        """The baseline that centres a character of ``size`` in the line cell starting at ``top``."""
        return top + pitch / 2 + CJK_MIDDLE * size

    def rule(self, top: float, height: float, length: float = L.RULE_LENGTH):
        self.c.saveState()
        self.c.setFillColorRGB(*L.RED)
        self.c.rect((L.PAGE_WIDTH - length) / 2, self.y(top + height), length, height, stroke=0, fill=1)
        self.c.restoreState()

    # --- pages --------------------------------------------------------------------------------------
    def page_number(self):
        if self.page == 1 and not L.PAGE_NUMBER_ON_FIRST_PAGE:
            return
        label = f"— {self.page} —"
        w = self.width(label, ct.SONG, L.SIZE_4)
        side = L.PAGE_NUMBER_SIDE_CHARS * L.SIZE_4
        x = RIGHT - side - w if self.page % 2 else L.MARGIN_LEFT + side
        self.text([(label, ct.SONG)], x, BOTTOM + L.PAGE_NUMBER_GAP + CJK_MIDDLE * L.SIZE_4, L.SIZE_4)

    def new_page(self):
        self.page_number()
        self.c.showPage()
        self.page += 1
        self.top = L.MARGIN_TOP

    def room(self, lines: int, pitch: float = L.LINE_PITCH) -> bool:
        return self.top + lines * pitch <= BOTTOM + 0.01

    # --- flowing text -------------------------------------------------------------------------------
    def lines(self, runs, size: float, *, spacing: float, first: float, rest: float) -> list[Line]:
        return break_lines(
            runs, width=lambda t, r: self.width(t, r, size), spacing=spacing, first=first, rest=rest
        )

    def paragraph(self, runs, *, size: float = L.SIZE_3, indent: bool = True, align: str = "justify"):
        spacing = L.CHAR_PITCH - size if size == L.SIZE_3 else 0.0
        lead = L.INDENT_CHARS * L.CHAR_PITCH if indent else 0.0
        for i, line in enumerate(
            self.lines(runs, size, spacing=spacing, first=L.TEXT_WIDTH - lead, rest=L.TEXT_WIDTH)
        ):
            if not self.room(1):
                self.new_page()
            x = L.MARGIN_LEFT + (lead if i == 0 else 0.0)
            avail = L.TEXT_WIDTH - (lead if i == 0 else 0.0)
            extra = 0.0
            if align == "justify" and not line.last and line.chars > 1:
                extra = max(0.0, (avail - line.natural) / (line.chars - 1))
            elif align == "center":
                x += (avail - line.natural) / 2
            elif align == "right":
                x += avail - line.natural
            self.text(line.pieces, x, self.baseline(self.top, size), size, spacing + extra)
            self.top += L.LINE_PITCH

    def blank(self, lines: int = 1):
        self.top += lines * L.LINE_PITCH

    # --- the letter ---------------------------------------------------------------------------------
    def header(self):
        issuer = self.letter.issuer.strip()
        natural = self.width(issuer, ct.XBS, 1.0)
        size = min(L.MARK_MAX_SIZE, L.MARK_MAX_WIDTH / natural) if natural else L.MARK_MAX_SIZE
        x = (L.PAGE_WIDTH - natural * size) / 2
        self.text([(issuer, ct.XBS)], x, L.MARK_TOP + CJK_TOP * size, size, color=L.RED)
        rule_top = L.MARK_TOP + size + L.RULE_BELOW_MARK
        self.rule(rule_top, L.RULE_THICK)
        self.rule(rule_top + L.RULE_THICK + L.RULE_GAP, L.RULE_THIN)
        rule_bottom = rule_top + L.RULE_THICK + L.RULE_GAP + L.RULE_THIN
        # the second double line, thin over thick, 20 mm above the bottom edge
        thick_top = L.PAGE_HEIGHT - L.RULE_FROM_BOTTOM - L.RULE_THICK
        self.rule(thick_top, L.RULE_THICK)
        self.rule(thick_top - L.RULE_GAP - L.RULE_THIN, L.RULE_THIN)
        # 发文字号: flush right, its top 7/8 of a 3号 character under the line
        number = self.letter.document_number.strip()
        glyph_top = rule_bottom + L.SEVEN_EIGHTHS
        w = self.width(number, ct.FANGSONG, L.SIZE_3)
        self.text([(number, ct.FANGSONG)], RIGHT - w, glyph_top + CJK_TOP * L.SIZE_3, L.SIZE_3)
        self.top = glyph_top - (L.LINE_PITCH - L.SIZE_3) / 2 + L.LINE_PITCH

    def title(self, title: str, *, top_lines: int):
        self.blank(top_lines)
        for line in title_lines(title, lambda t: self.width(t, ct.XBS, L.SIZE_2), L.TEXT_WIDTH):
            w = self.width(line, ct.XBS, L.SIZE_2)
            self.text(
                [(line, ct.XBS)],
                L.MARGIN_LEFT + (L.TEXT_WIDTH - w) / 2,
                self.baseline(self.top, L.SIZE_2),
                L.SIZE_2,
            )
            self.top += L.LINE_PITCH

    def closing(self):
        """附件 note, 办复类别 and contacts, then 署名 over 成文日期, kept on one page."""
        letter = self.letter
        paras = []
        if ct.attachment_note(letter):
            paras.append([(ct.attachment_note(letter), ct.FANGSONG)])
        paras += [list(p.runs) for p in ct.closing_paragraphs(letter)]
        spacing = L.CHAR_PITCH - L.SIZE_3
        lead = L.INDENT_CHARS * L.CHAR_PITCH
        count = sum(
            len(self.lines(p, L.SIZE_3, spacing=spacing, first=L.TEXT_WIDTH - lead, rest=L.TEXT_WIDTH))
            for p in paras
        )
        if not self.room(1 + count + L.SEAL_GAP_LINES + 2):
            self.new_page()
        else:
            self.blank()
        for p in paras:
            self.paragraph(p)
        self.blank(L.SEAL_GAP_LINES)
        date = ct.date_text(letter.signed_on)
        signer = ct.signer(letter)
        date_w = self.width(date, ct.FANGSONG, L.SIZE_3) + spacing * (len(date) - 1)
        signer_w = self.width(signer, ct.FANGSONG, L.SIZE_3) + spacing * (len(signer) - 1)
        date_right = RIGHT - L.DATE_RIGHT_CHARS * L.CHAR_PITCH
        centre = date_right - date_w / 2
        signer_x = min(centre - signer_w / 2, RIGHT - signer_w)
        self.text([(signer, ct.FANGSONG)], signer_x, self.baseline(self.top, L.SIZE_3), L.SIZE_3, spacing)
        self.top += L.LINE_PITCH
        self.text(
            [(date, ct.FANGSONG)], date_right - date_w, self.baseline(self.top, L.SIZE_3), L.SIZE_3, spacing
        )
        self.top += L.LINE_PITCH

    def closing_block(self):
        """版记: 抄送 in 4号仿宋 at the bottom of the last page's text area, one character in on each
        side, continuation lines aligned after the colon."""
        line = ct.copy_to_line(self.letter)
        if not line:
            return
        side = L.COPY_TO_SIDE_CHARS * L.SIZE_4
        hang = self.width("抄送：", ct.FANGSONG, L.SIZE_4)
        lines = self.lines(
            [(line, ct.FANGSONG)],
            L.SIZE_4,
            spacing=0.0,
            first=L.TEXT_WIDTH - 2 * side,
            rest=L.TEXT_WIDTH - 2 * side - hang,
        )
        height = len(lines) * L.COPY_TO_LINE_PITCH
        if self.top + L.LINE_PITCH > BOTTOM - height:
            self.new_page()
        top = BOTTOM - height
        for i, ln in enumerate(lines):
            x = L.MARGIN_LEFT + side + (hang if i else 0.0)
            avail = L.TEXT_WIDTH - 2 * side - (hang if i else 0.0)
            extra = 0.0 if ln.last or ln.chars < 2 else max(0.0, (avail - ln.natural) / (ln.chars - 1))
            self.text(ln.pieces, x, self.baseline(top, L.SIZE_4, L.COPY_TO_LINE_PITCH), L.SIZE_4, extra)
            top += L.COPY_TO_LINE_PITCH
        self.top = BOTTOM

    # --- the feedback form --------------------------------------------------------------------------
    def cell_lines(self, text: str, width: float) -> list[Line]:
        if not text:
            return []
        return self.lines([(text, ct.FANGSONG)], FORM_SIZE, spacing=0.0, first=width, rest=width)

    def form(self):
        f = ct.feedback_rows(self.letter)
        self.new_page()
        self.text([("附件", ct.HEI)], L.MARGIN_LEFT, self.baseline(self.top, L.SIZE_3), L.SIZE_3)
        self.top += L.LINE_PITCH
        self.title(f["title"], top_lines=1)  # 附件标题居中编排在版心第三行
        self.blank()
        x = [L.MARGIN_LEFT]
        for w in FORM_COLS:
            x.append(x[-1] + w)
        rows = [
            [(0, 1, f["subject_label"], "center"), (1, 3, f["subject"], "left")],
            [
                (0, 1, "编号", "center"),
                (1, 1, f["number"], "center"),
                (2, 1, f["proposer_label"], "center"),
                (3, 1, f["proposer"], "center"),
            ],
            [(0, 1, "承办单位", "center"), (1, 3, f["unit"], "left")],
            [(0, 1, "办复类别", "center"), (1, 3, f["reply_class"], "left")],
            [(0, 1, "征询事项", "center")] + [(i + 1, 1, c, "center") for i, c in enumerate(f["choices"])],
        ]
        rows += [
            [(0, 1, q, "center")] + [(i + 1, 1, ct.BOX, "center") for i in range(3)] for q in f["questions"]
        ]
        top = self.top
        c = self.c
        c.setLineWidth(0.75)
        for row in rows:
            laid = [
                (col, span, self.cell_lines(text, sum(FORM_COLS[col : col + span]) - 2 * FORM_PAD), align)
                for col, span, text, align in row
            ]
            height = max(12 * L.MM, max(len(ls) for _, _, ls, _ in laid) * FORM_PITCH + 2 * FORM_PAD)
            for col, span, ls, align in laid:
                self.cell(x[col], x[col + span], top, height, ls, align)
            top += height
        # comments: a tall cell filling what the text area has left; signature and date: one cell
        note = self.cell_lines(f["note"], L.TEXT_WIDTH)
        sign_h = 18 * L.MM
        comments_h = max(30 * L.MM, BOTTOM - top - sign_h - FORM_PAD - len(note) * FORM_PITCH)
        self.cell(
            x[0],
            x[1],
            top,
            comments_h,
            self.cell_lines(f["comments_label"], FORM_COLS[0] - 2 * FORM_PAD),
            "center",
        )
        self.cell(x[1], x[4], top, comments_h, [], "left")
        top += comments_h
        self.cell(x[0], x[4], top, sign_h, [], "left")
        base = top + sign_h - FORM_PAD - FORM_PITCH / 2
        self.text([(f["signature"], ct.FANGSONG)], x[0] + 4 * FORM_SIZE, base, FORM_SIZE)
        dw = self.width(f["date"], ct.FANGSONG, FORM_SIZE)
        self.text([(f["date"], ct.FANGSONG)], x[4] - 2 * FORM_SIZE - dw, base, FORM_SIZE)
        top += sign_h + FORM_PAD
        for ln in note:
            self.text(ln.pieces, L.MARGIN_LEFT, top + FORM_PITCH * 0.75, FORM_SIZE)
            top += FORM_PITCH
        self.top = top

    def cell(self, x0: float, x1: float, top: float, height: float, lines: list[Line], align: str):
        self.c.rect(x0, self.y(top + height), x1 - x0, height, stroke=1, fill=0)
        block = len(lines) * FORM_PITCH
        t = top + (height - block) / 2
        for ln in lines:
            w = ln.natural
            lx = x0 + FORM_PAD if align == "left" else x0 + (x1 - x0 - w) / 2
            self.text(ln.pieces, lx, self.baseline(t, FORM_SIZE, FORM_PITCH), FORM_SIZE)
            t += FORM_PITCH

    def build(self) -> bytes:
        letter = self.letter
        self.header()
        self.title(letter.title.strip(), top_lines=L.TITLE_GAP_LINES)
        self.blank()  # 主送 under the title after one blank line (7.3.1)
        self.paragraph([(ct.addressee_line(letter), ct.FANGSONG)], indent=False)
        for p in ct.body_paragraphs(letter):
            self.paragraph(list(p.runs))
        self.closing()
        self.closing_block()
        if letter.feedback_form:
            self.form()
        self.page_number()
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def title_lines(title: str, width, max_width: float) -> list[str]:
    """The title on one line if it fits, else split into two lines as evenly as possible at a word
    end (after 的/于/会/议…), never inside a number or before closing punctuation; longer titles
    fall back to ordinary line breaking."""
    if width(title) <= max_width:
        return [title]
    best, best_score = None, None
    for k in range(2, len(title) - 1):
        a, b = title[:k], title[k:]
        if b[0] in "，。、；：？！）》”’〕" or a[-1] in "（《“‘〔":
            continue
        if (a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum()) or (a[-1] == " "):
            continue
        wa, wb = width(a), width(b.strip())
        if wa > max_width or wb > max_width:
            continue
        score = abs(wa - wb) - (2.5 * L.SIZE_2 if a[-1] in TITLE_GOOD_ENDS else 0.0)
        if best_score is None or score < best_score:
            best, best_score = [a.strip(), b.strip()], score
    if best:
        return best
    lines = break_lines(
        [(title, "t")], width=lambda t, r: width(t), spacing=0.0, first=max_width, rest=max_width
    )
    return [ln.text for ln in lines]


def build_pdf(letter: ReplyLetter) -> bytes:
    validate_letter(letter)
    return _Writer(letter, choose_fonts(letter)).build()
