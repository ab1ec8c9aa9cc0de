"""The two renderings of a reply letter: .docx (python-docx) and .pdf (reportlab), both in the
GB/T 9704-2012 letter format. Everything else calls these two functions."""

from __future__ import annotations

from tongban.proposals.letters.document import ReplyLetter


def render_docx(letter: ReplyLetter) -> bytes:
    from tongban.proposals.letters.docx_letter import build_docx

    return build_docx(letter)


def render_pdf(letter: ReplyLetter) -> bytes:
    from tongban.proposals.letters.pdf_letter import build_pdf

    return build_pdf(letter)
