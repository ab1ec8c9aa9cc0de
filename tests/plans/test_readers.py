"""Plan documents of every supported kind, built for real, and the ones that must be refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.plans.import_fixtures import (
    docx_bytes,
    html_bytes,
    paren_plan,
    pdf_bytes,
    scanned_pdf_bytes,
    seed_bytes,
)
from tongban.core.errors import InvalidInput
from tongban.plans import error_codes as codes
from tongban.plans.parsing import parse_plan
from tongban.plans.readers import detect_kind, read_text

LINES = paren_plan().split("\n")


def test_utf8_and_gb18030_text():
    text = paren_plan()
    assert read_text(text.encode("utf-8"), "plan.txt") == text
    assert read_text(b"\xef\xbb\xbf" + text.encode("utf-8"), "plan.txt") == text
    assert read_text(text.encode("gb18030"), "plan.txt") == text


def test_docx_paragraphs_and_tables_in_document_order():
    content = docx_bytes(LINES, table=[["指标", "目标值"], ["研发投入强度", "3%"]], table_after=1)
    assert detect_kind(content, "whatever.bin") == "docx"  # content, not the extension
    text = read_text(content, "plan.docx")
    lines = text.split("\n")
    assert lines[:3] == [LINES[0], LINES[1], "指标 目标值"]
    plan = parse_plan(text)
    assert len(plan.tasks) == 6 and len(plan.parts) == 4


def test_pdf_with_a_text_layer():
    content = pdf_bytes(LINES)
    assert detect_kind(content, "plan.txt") == "pdf"
    text = read_text(content, "plan.pdf")
    assert "科创平台建设工程" in text
    plan = parse_plan(text)
    assert len(plan.parts) == 4 and len(plan.tasks) == 6


def test_html_block_elements_become_lines_and_scripts_are_dropped():
    text = read_text(html_bytes(LINES), "plan.html")
    assert "var x" not in text and "p { margin" not in text
    assert text.split("\n")[:3] == ["首页 > 政策文件", LINES[0], LINES[1]]
    assert len(parse_plan(text).tasks) == 6
    gbk = read_text(html_bytes(LINES, encoding="gbk"), "plan.htm")
    assert LINES[3] in gbk


def test_seed_reads_as_it_is():
    assert read_text(seed_bytes(), "hefei.txt").startswith("时间:2022-11-23")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 32, "plan.txt"),  # a PNG named .txt
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "plan.doc"),  # legacy Word / OLE
        (b"\x00\x01\x02binary", "plan.txt"),
    ],
)
def test_unsupported_files_are_refused(content, name):
    with pytest.raises(InvalidInput) as exc:
        read_text(content, name)
    assert exc.value.code == codes.FILE_UNSUPPORTED


def test_a_zip_that_is_not_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InvalidInput) as exc:
        read_text(out.getvalue(), "plan.docx")
    assert exc.value.code == codes.FILE_UNSUPPORTED


def test_encrypted_pdf_is_unsupported():
    with pytest.raises(InvalidInput) as exc:
        read_text(pdf_bytes(LINES, encrypt="secret"), "plan.pdf")
    assert exc.value.code == codes.FILE_UNSUPPORTED
    assert "加密" in exc.value.message


def test_pdf_without_text_layer():
    with pytest.raises(InvalidInput) as exc:
        read_text(scanned_pdf_bytes(), "scan.pdf")
    assert exc.value.code == codes.PDF_NO_TEXT


def test_damaged_pdf_is_unsupported():
    with pytest.raises(InvalidInput) as exc:
        read_text(b"%PDF-1.7\n garbage that is not a pdf", "plan.pdf")
    assert exc.value.code == codes.FILE_UNSUPPORTED
