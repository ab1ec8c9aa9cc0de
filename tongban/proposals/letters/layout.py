"""Every measure of the reply letter, from GB/T 9704-2012 《党政机关公文格式》 (clause numbers in
brackets). Both renderers read them from here; ``docs/letters.md`` explains each one.

Lengths are in PDF points (1 pt = 1/72 in); :data:`MM` converts millimetres.
"""

from __future__ import annotations

MM = 72 / 25.4

# --- Paper and text area (5.1, 5.2.1) -------------------------------------------------------------
PAGE_WIDTH = 210 * MM  # A4, GB/T 148
PAGE_HEIGHT = 297 * MM
MARGIN_TOP = 37 * MM  # 天头 37 mm ± 1 mm
MARGIN_LEFT = 28 * MM  # 订口 28 mm ± 1 mm
TEXT_WIDTH = 156 * MM  # 版心 156 mm × 225 mm
TEXT_HEIGHT = 225 * MM
MARGIN_RIGHT = PAGE_WIDTH - MARGIN_LEFT - TEXT_WIDTH  # 26 mm
MARGIN_BOTTOM = PAGE_HEIGHT - MARGIN_TOP - TEXT_HEIGHT  # 35 mm

# --- Lines and characters (5.2.3): 22 lines of 28 characters filling the text area -------------------
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LINE_PITCH = TEXT_HEIGHT / LINES_PER_PAGE  # 28.99 pt (Word templates: "exactly 28.95 pt")
CHAR_PITCH = TEXT_WIDTH / CHARS_PER_LINE  # 15.79 pt: a 16 pt character with −0.21 pt spacing

# --- Type sizes (字号 → pt) -------------------------------------------------------------------------
SIZE_XIAOCHU = 36.0  # 小初
SIZE_2 = 22.0  # 二号: title (7.2.4)
SIZE_3 = 16.0  # 三号: everything else unless said (5.2.2)
SIZE_4 = 14.0  # 四号: page numbers (7.5), 版记 (7.4.2)
INDENT_CHARS = 2  # 段首空二字; headings are indented the same

# --- 信函格式 (10.1) -----------------------------------------------------------------------------------
MARK_TOP = 30 * MM  # 发文机关标志 top edge 30 mm from the top of the page
MARK_MAX_SIZE = SIZE_XIAOCHU  # the standard leaves the size to the issuer; we use 小初 unless too wide
MARK_MAX_WIDTH = TEXT_WIDTH  # ... and shrink it so it never leaves the text width
RULE_BELOW_MARK = 4 * MM  # first red double line 4 mm below the mark (thick over thin)
RULE_FROM_BOTTOM = 20 * MM  # second red double line 20 mm above the bottom edge (thin over thick)
RULE_LENGTH = 170 * MM  # both lines 170 mm long, centred
RULE_THICK = 1.0 * MM  # the standard does not fix the widths; common templates use about 1 mm
RULE_THIN = 0.35 * MM  # ... and 0.35 mm
RULE_GAP = 0.5 * MM  # between the two strokes
SEVEN_EIGHTHS = SIZE_3 * 7 / 8  # "3号汉字高度的7/8": 发文字号 under the first line (10.1)
TITLE_GAP_LINES = 2  # title two lines below the element above it (7.2.4 / 10.1)
RED = (1.0, 0.0, 0.0)
RED_HEX = "FF0000"

# --- Signature and date (7.3.5) ----------------------------------------------------------------------
SEAL_GAP_LINES = 2  # blank lines left above the 署名 for the seal (印章顶端上距正文一行之内)
DATE_RIGHT_CHARS = 4  # 成文日期右空四字 (sealed documents)

# --- 版记 (7.4, 10.1): bottom of the last page's text area, 4号仿宋, no separator lines in 信函格式 ----
COPY_TO_SIDE_CHARS = 1  # 抄送 左右各空一字
COPY_TO_LINE_PITCH = SIZE_4 * 1.6

# --- Page numbers (7.5, 10.1) -----------------------------------------------------------------------
PAGE_NUMBER_GAP = 7 * MM  # the dashes' top 7 mm below the text area
PAGE_NUMBER_SIDE_CHARS = 1  # odd pages right, even pages left, one character in (外侧)
PAGE_NUMBER_ON_FIRST_PAGE = False  # 信函格式: 首页不显示页码
