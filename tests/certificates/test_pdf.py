"""The printable PDF: it carries the credential and a QR code of it, hides personal ID numbers, and its
seal makes any changed byte show; verification of what people hand in never raises."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from reportlab.graphics.barcode import qrencoder
from reportlab.pdfgen import canvas

from tests import factories
from tests.certificates import kit
from tongban.certificates import error_codes as codes
from tongban.certificates import pdf as pdf_module
from tongban.certificates.inputs import input_verify
from tongban.certificates.pdf import (
    ATTACHMENT,
    QR_CAPACITY,
    SEAL_PREFIX,
    certificate_pdf,
    pdf_read,
    pdf_seal,
    qr_content,
)
from tongban.certificates.sdjwt import disclosure_name
from tongban.certificates.selectors import invalidate_status_cache, node_verifier
from tongban.certificates.services import certificate_status_change
from tongban.core.pii import mask_id_number
from tongban.exchange.signing import Ed25519Signer
from tongban.exchange.trust import current_trust_list

pytestmark = pytest.mark.django_db


def check(data, **kw):
    invalidate_status_cache()
    return input_verify(data, trust=current_trust_list(), statuses=node_verifier().statuses, **kw)


def page_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_printed_certificate_verifies_and_carries_the_full_credential(node):
    cert = kit.issue(node, type_key="xwzs", holder_name="王小明")
    data = certificate_pdf(cert)
    assert data.startswith(b"%PDF-") and data.endswith(b"\n")
    credential, seal = pdf_read(data)
    assert credential == cert.credential
    assert seal.node == kit.HEFEI and seal.alg == "Ed25519"
    reader = PdfReader(io.BytesIO(data))  # readers ignore the seal line
    assert len(reader.pages) == 1
    assert reader.attachments[ATTACHMENT] == [cert.credential.encode()]
    verdict = check(data)
    assert verdict.valid, verdict
    assert verdict.identifier == cert.identifier and "封印" in verdict.reason


def test_page_shows_the_fields_in_order_the_identifier_and_the_status(node):
    cert = kit.issue(node, type_key="xwzs", holder_name="王小明")
    text = page_text(certificate_pdf(cert))
    for expected in (
        "高等教育学位证书",
        "王小明",
        "工学学士",
        "中国科学技术大学",
        cert.identifier,
        "有效",
        "长期",
    ):
        assert expected in text, expected
    titles = [text.index(t) for t in ("学位", "学科门类", "授予单位", "授予日期")]
    assert titles == sorted(titles)


def test_resident_id_numbers_are_masked_on_paper_and_kept_out_of_the_qr_code(node):
    holder = factories.id_number()
    cert = kit.issue(node, type_key="jszz", holder_id=holder)  # the licence number is the ID number
    assert cert.number == holder
    data = certificate_pdf(cert)
    text = page_text(data)
    assert mask_id_number(holder) in text and holder not in text
    qr = qr_content(cert)
    names = {disclosure_name(d) for d in qr.text.split("~")[1:-1]}
    assert "holder_id" not in names and "number" not in names and "holder_name" in names
    assert check(qr.text).valid


def test_qr_code_holds_the_default_presentation_within_a_printable_size(node):
    cert = kit.issue(node, type_key="xwzs")
    qr = qr_content(cert)
    shown = {disclosure_name(d) for d in qr.text.split("~")[1:-1]}
    assert shown == set(cert.type.default_disclosure)  # an enterprise-free, ID-free default: all of it
    assert len(qr.text) <= QR_CAPACITY[qr.level]
    assert qr.text != cert.credential and cert.credential.startswith(qr.text.split("~")[0])
    verdict = check(qr.text)
    assert verdict.valid and verdict.claims["data"]["degree"] == "工学学士"


def _drawn_qr_matrix(data: bytes) -> list[list[bool]]:
    """The QR code as drawn on the page: the filled rectangles of the most common height are its
    dark runs, placed on a grid of that height."""
    from pypdf.generic import ContentStream

    page = PdfReader(io.BytesIO(data)).pages[0]
    stream = ContentStream(page.get_contents(), page.pdf)
    rects = [tuple(float(v) for v in ops) for ops, op in stream.operations if op == b"re"]
    heights = [round(r[3], 4) for r in rects]
    box = max(set(heights), key=heights.count)
    runs = [r for r in rects if round(r[3], 4) == box]
    left, top = min(r[0] for r in runs), max(r[1] + r[3] for r in runs)
    size = round((max(r[0] + r[2] for r in runs) - left) / box)
    matrix = [[False] * size for _ in range(size)]
    for x, y, w, h in runs:
        row, col = round((top - y - h) / box), round((x - left) / box)
        for c in range(col, col + round(w / box)):
            matrix[row][c] = True
    return matrix


def test_qr_code_drawn_on_the_page_is_the_code_of_the_presentation(node, monkeypatch):
    cert = kit.issue(node, type_key="sbk")
    given = []
    real = pdf_module.qr_widget
    monkeypatch.setattr(pdf_module, "qr_widget", lambda content: given.append(content) or real(content))
    data = certificate_pdf(cert)
    assert [c.text for c in given] == [qr_content(cert).text]
    content = given[0]
    expected = qrencoder.QRCode(
        pdf_module._qr_version(content.text, content.level),
        getattr(qrencoder.QRErrorCorrectLevel, content.level),
    )
    expected.addData(content.text)
    expected.make()
    assert _drawn_qr_matrix(data) == [[bool(m) for m in row] for row in expected.modules]


def test_a_status_at_printing_is_printed_and_later_changes_are_seen_by_verification(node, settings):
    cert = kit.issue(node)
    data = certificate_pdf(cert)
    certificate_status_change(identifier=cert.identifier, action="revoke", reason="依法吊销", actor=None)
    verdict = check(data)
    assert verdict.code == codes.REVOKED and not verdict.unusable_input
    cert.refresh_from_db()
    assert "已撤销" in page_text(certificate_pdf(cert))


def test_same_certificate_and_moment_give_the_same_bytes(node):
    cert = kit.issue(node)
    moment = datetime.now(UTC)
    assert certificate_pdf(cert, now=moment) == certificate_pdf(cert, now=moment)


def test_any_changed_byte_is_refused_with_a_reason_never_an_exception(node):
    cert = kit.issue(node, type_key="wfzjl")
    data = certificate_pdf(cert)
    seal_at = data.rindex(SEAL_PREFIX)
    positions = list(range(0, len(data), max(1, len(data) // 150))) + list(range(seal_at, len(data)))
    seen = set()
    for pos in positions:
        changed = bytearray(data)
        changed[pos] = changed[pos] ^ 0x01 if changed[pos] != 0x0A else 0x20
        verdict = check(bytes(changed))
        assert not verdict.valid and verdict.reason, pos
        seen.add(verdict.code)
    assert seen <= {codes.PDF_SEAL_INVALID, codes.MALFORMED}, seen
    assert codes.PDF_SEAL_INVALID in seen


def test_truncated_unsealed_or_extended_pdfs_are_refused(node):
    data = certificate_pdf(kit.issue(node))
    body = data[: data.rindex(SEAL_PREFIX)]
    assert check(body).code == codes.PDF_SEAL_INVALID  # the credential is there, the seal is not
    assert check(data + b"%%EOF\n").code == codes.PDF_SEAL_INVALID  # something added after the seal
    assert check(data[:-1]).code == codes.PDF_SEAL_INVALID
    for cut in (len(data) // 2, 2000, 6):
        verdict = check(data[:cut])
        assert not verdict.valid and verdict.code in (
            codes.PDF_SEAL_INVALID,
            codes.PDF_NO_CREDENTIAL,
            codes.MALFORMED,
        )
    # The seal line rewritten with spaces still parses as JSON, but is not the one text form.
    line = data[data.rindex(SEAL_PREFIX) :]
    assert check(body + line.replace(b'","', b'", "', 1)).code == codes.PDF_SEAL_INVALID


def test_a_pdf_without_a_credential_is_unusable_input(node):
    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.drawString(72, 720, "Not a certificate")
    page.save()
    verdict = check(out.getvalue())
    assert verdict.code == codes.PDF_NO_CREDENTIAL and verdict.unusable_input


def test_a_seal_by_a_key_the_trust_list_does_not_hold_is_refused(node):
    from tongban.exchange.keys import node_signer

    data = certificate_pdf(kit.issue(node))
    body = data[: data.rindex(SEAL_PREFIX)]
    now = datetime.now(UTC)
    impostor = Ed25519Signer(Ed25519PrivateKey.generate(), node_signer().kid)
    assert check(pdf_seal(body, signer=impostor, node=kit.HEFEI, now=now)).code == codes.PDF_SEAL_INVALID
    # The node's own key, but at a time it was not yet valid (the trust list has it from 30 days ago).
    early = pdf_seal(body, signer=node_signer(), node=kit.HEFEI, now=now - timedelta(days=60))
    verdict = check(early)
    assert verdict.code == codes.PDF_SEAL_INVALID and "有效期" in verdict.reason
    # Sealed in another node's name.
    assert (
        check(pdf_seal(body, signer=node_signer(), node=kit.SHANGHAI, now=now)).code == codes.PDF_SEAL_INVALID
    )


def test_credential_and_qr_text_with_line_breaks_are_accepted(node):
    cert = kit.issue(node)
    wrapped = "\n".join(re.findall(".{1,76}", cert.credential)) + "\r\n"
    assert check(wrapped).valid
    assert check(wrapped.encode()).valid
    assert check(b"\xff\xfe\x00garbage").code == codes.MALFORMED
    assert check(b"").code == codes.MALFORMED
