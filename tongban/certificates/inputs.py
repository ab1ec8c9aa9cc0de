"""Whatever people hand in for checking: a credential, the text a QR code holds (the same thing), or a
PDF printed by a node. :func:`input_verify` tells them apart and returns a
:class:`~tongban.certificates.verification.Verdict`; it never raises for bad input.

A PDF is accepted when its seal verifies (the sealing node's key valid at the seal time in the trust
list, the node an active member) *and* the credential attached to it verifies. The seal is checked
first: once the file has changed, nothing in it is read. A PDF that was sealed (a seal line anywhere)
but does not end with a good seal, or an unsealed PDF with a credential, is refused
(``CERT_PDF_SEAL_INVALID``); an unsealed PDF without one is unusable input (``CERT_PDF_NO_CREDENTIAL``).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tongban.certificates import error_codes as codes
from tongban.certificates.pdf import (
    MAX_PDF_BYTES,
    SEAL_PREFIX,
    PdfError,
    pdf_credential,
    seal_split,
    seal_verify,
)
from tongban.certificates.verification import StatusSource, Verdict, credential_verify
from tongban.exchange.trust import TrustList

PDF_MAGIC = b"%PDF-"
_BOM = "\ufeff"


def _unusable(code: str, reason: str) -> Verdict:
    return Verdict(False, code, reason)


def _text_of(data: bytes | bytearray | memoryview | str) -> str | None:
    """The credential text: every whitespace removed (QR scanners and editors add line breaks; an
    SD-JWT has none), or ``None`` when the bytes are not text."""
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return "".join(data.lstrip(_BOM).split())


def pdf_verify(
    data: bytes, *, trust: TrustList, statuses: StatusSource, now: datetime | None = None
) -> Verdict:
    if len(data) > MAX_PDF_BYTES:
        return _unusable(
            codes.MALFORMED, f"文件超过 {MAX_PDF_BYTES // (1024 * 1024)} MB，不是电子证照打印件。"
        )
    try:
        body, seal = seal_split(data)
        if seal is None:
            if SEAL_PREFIX not in data:
                pdf_credential(body)  # only to tell "no credential" (unusable) from "not sealed"
            raise PdfError(
                codes.PDF_SEAL_INVALID, "电子文件没有封印，或封印后又被改动过：无法确认它是节点打印的原件。"
            )
        seal_verify(seal, trust=trust)
        credential = pdf_credential(body)
    except PdfError as exc:
        return _unusable(exc.code, exc.message)
    verdict = credential_verify(credential, trust=trust, statuses=statuses, now=now)
    if verdict.valid:
        sealed = f"电子文件由节点 {seal.node} 封印，未被改动"
        return dataclasses.replace(verdict, reason=f"有效：{sealed}；{verdict.reason.removeprefix('有效：')}")
    return verdict


def input_verify(
    data: bytes | bytearray | memoryview | str,
    *,
    trust: TrustList,
    statuses: StatusSource,
    now: datetime | None = None,
) -> Verdict:
    """Verifies a credential, QR text or PDF (bytes starting with ``%PDF-``)."""
    if isinstance(data, bytes | bytearray | memoryview) and bytes(data[: len(PDF_MAGIC)]) == PDF_MAGIC:
        return pdf_verify(bytes(data), trust=trust, statuses=statuses, now=now)
    if not isinstance(data, bytes | bytearray | memoryview | str):
        return _unusable(codes.MALFORMED, "不是电子证照凭证：应为文本或 PDF 文件。")
    text = _text_of(data)
    if text is None:
        return _unusable(codes.MALFORMED, "不是电子证照凭证、二维码内容或电子证照 PDF 文件。")
    return credential_verify(text, trust=trust, statuses=statuses, now=now)
