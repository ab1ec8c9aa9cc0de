"""Plan documents → plain text, one paragraph a line.

The kind of file is detected from its first bytes (magic), the name's extension only breaks ties for
plain text and HTML:

- ``.docx`` (a ZIP with ``word/document.xml``): paragraphs and table rows in document order;
- ``.pdf`` with a text layer (pypdf). Encrypted → ``PLAN_FILE_UNSUPPORTED``; no text (a scan) →
  ``PLAN_PDF_NO_TEXT``;
- ``.html``: the standard library's parser; block elements (p, div, li, h1…, tr, br) end a line,
  scripts and styles are dropped;
- text: UTF-8 (with or without BOM), else GB18030 (which covers GBK and GB2312).

Everything else (images, .doc, spreadsheets, archives…) is ``PLAN_FILE_UNSUPPORTED``.
"""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser

from django.utils.translation import gettext as _

from tongban.core.errors import InvalidInput
from tongban.plans import error_codes as codes

MAX_BYTES = 20 * 1024 * 1024
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\xd0\xcf\x11\xe0",  # OLE: .doc, .xls, encrypted Office files
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"II*\x00",
    b"MM\x00*",
)


def _unsupported(message: str | None = None) -> InvalidInput:
    return InvalidInput(
        codes.FILE_UNSUPPORTED,
        message
        or _("不支持的文件类型：请上传文本（.txt）、Word（.docx）、带文字层的 PDF 或网页（.html）文件。"),
    )


def detect_kind(content: bytes, filename: str = "") -> str:
    """``docx``, ``pdf``, ``html`` or ``text``; raises ``PLAN_FILE_UNSUPPORTED`` otherwise."""
    head = content[:1024]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        raise _unsupported()
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise _unsupported()
    sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html", b"<?xml")) or (
        filename.lower().endswith((".html", ".htm")) and sniff.startswith(b"<")
    ):
        return "html"
    return "text"


def read_text(content: bytes, filename: str = "") -> str:
    """The text of a plan document, one paragraph a line."""
    if not content:
        raise InvalidInput(codes.NO_STRUCTURE, _("文件是空的。"))
    if len(content) > MAX_BYTES:
        raise _unsupported(_("文件超过 20 MB，不是推进方案文件。"))
    kind = detect_kind(content, filename)
    return {"pdf": _pdf, "docx": _docx, "html": _html, "text": _plain}[kind](content)


def _plain(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise _unsupported(_("无法识别文本文件的编码（支持 UTF-8 和 GB18030/GBK）。")) from None


def _docx(content: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(content))
    except Exception:  # python-docx raises many kinds for a damaged package
        raise _unsupported(_("Word 文件已损坏或无法读取。")) from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                lines.append(" ".join(cells))
    return "\n".join(lines)


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise _unsupported(_("PDF 文件已加密，无法读取。请上传未加密的文件。"))
        pages = [page.extract_text() or "" for page in reader.pages]
    except InvalidInput:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise _unsupported(_("PDF 文件已损坏或无法读取。")) from None
    text = "\n".join(pages)
    if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", text):
        raise InvalidInput(
            codes.PDF_NO_TEXT,
            _("PDF 没有文字层（可能是扫描件），无法识别内容。请上传带文字的 PDF 或 Word 文件。"),
        )
    return text


class _HtmlText(HTMLParser):
    BLOCKS = {
        "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
        "article", "br", "blockquote", "pre", "title", "header", "footer", "dd", "dt",
    }  # fmt: skip
    SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def _html(content: bytes) -> str:
    text = _plain(content)
    match = re.search(r"<meta[^>]+charset=[\"']?([\w-]+)", text[:2048], re.I)
    if match and match.group(1).lower() in ("gbk", "gb2312", "gb18030"):
        text = content.decode("gb18030", errors="replace")
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    return "\n".join(line.strip() for line in "".join(parser.parts).split("\n") if line.strip())
