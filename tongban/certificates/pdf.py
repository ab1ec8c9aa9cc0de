"""The printable PDF of a certificate (电子证照打印件): A4, Chinese, with a QR code anyone can verify
offline, the full credential attached, and the node's seal over every byte.

**What the page shows.** The type's name, holder, certificate number, each data field titled from the
type's ``field_schema`` in ``x-order``, issue date and validity (长期 when open-ended), the issuer and
the issuing node, the identifier (证照标识) in full and the status when printed. Text is set in the
built-in CID font ``STSong-Light``: readers supply the glyphs, so nothing is downloaded or embedded.

**Personal data is masked on paper.** A printout is photocopied, filed and left on desks; a resident
ID number on it (``holder_id_type`` ``ric``) is printed masked (``mask_id_number``), and so is a
certificate number that *is* that ID number (驾驶证, 身份证). The QR code is on the paper too, so it
leaves them out as well. An enterprise's 统一社会信用代码 is public and printed in full. The complete,
unmasked credential travels in the electronic file only (attached as ``credential.sd-jwt``), which
the holder hands over on purpose.

**What the QR code holds: a presentation** (:func:`~tongban.certificates.sdjwt.sdjwt_present`) with
the type's ``default_disclosure`` fields, less the masked ones above; it verifies like the credential
(``tongban cert verify``, or any SD-JWT VC verifier). Measured on the reference types: full
credentials are 1.7–3.0 KB, and grow without bound with the data (a field may hold 2,000 characters);
the issuer-signed JWT alone is 1.3–1.7 KB; the default presentations are 1.4–2.3 KB. A QR code holds
at most 2,331 bytes at error correction M (version 40) and 2,953 at L, and a code beyond about
version 40 does not print in a scannable size on A4; so the full credential often does not fit at M
and sometimes not at all, while the presentation does at M. The code is printed 80 mm wide: 0.43 mm
per module at version 40, which phone cameras read. Error correction M when the presentation fits,
else L; when even that does not fit, only the name and (unmasked) number are disclosed; a credential
whose signed part alone is too long gets no QR code and the page says to use the electronic file.

**The seal.** After the complete PDF, one line (a PDF comment, which readers ignore)::

    %TONGBAN-SEAL {"alg":"Ed25519","kid":"…","node":"340100","sealed_at":"2026-…Z","sig":"…","v":1}\\n

The JSON is RFC 8785 canonical and must be exactly that (so it has one text form); ``sig`` is the
sealing node's signature (:func:`~tongban.exchange.keys.node_signer`) over ``sha256(every byte before
the line) || canonical JSON without "sig"``. It verifies when the node's key ``kid`` was valid at
``sealed_at`` in the trust list and the node is an active member. The sealing node is the one that
printed the page, not necessarily the issuer: the credential inside carries the issuer's signature.

Output is deterministic for the same certificate, status and time (``invariant=1``; Ed25519 signs
deterministically).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from tongban.certificates import error_codes as codes
from tongban.certificates.constants import HolderIdType
from tongban.certificates.sdjwt import sdjwt_present
from tongban.exchange.canonical import CanonicalError, canonical_bytes, format_time, loads_strict, parse_time
from tongban.exchange.signing import b64u, b64u_decode, suite_for

ATTACHMENT = "credential.sd-jwt"
SEAL_PREFIX = b"%TONGBAN-SEAL "
SEAL_VERSION = 1
FONT = "STSong-Light"
MAX_PDF_BYTES = 20 * 1024 * 1024
# Byte-mode capacity of a version 40 QR code (ISO/IEC 18004 table 7).
QR_CAPACITY = {"M": 2331, "L": 2953}
QR_SIZE_MM = 80


class PdfError(ValueError):
    """A PDF that cannot be accepted; ``code`` is a certificate error code, ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Seal:
    node: str
    kid: str
    alg: str
    sealed_at: datetime
    signature: bytes
    signed: bytes  # what the signature covers


@dataclass(frozen=True)
class QrContent:
    text: str  # what the QR code holds ("" for none)
    level: str  # error correction level
    disclosed: tuple[str, ...]


# --- What is printed -----------------------------------------------------------------------------------


def _personal(cert) -> bool:
    return cert.holder_id_type == HolderIdType.RESIDENT_ID


def _masked_names(cert, holder_id: str) -> set[str]:
    """Claims that are personal data, kept off paper and out of the QR code."""
    if not _personal(cert):
        return set()
    return {"holder_id", "number"} if cert.number == holder_id else {"holder_id"}


def qr_content(cert, *, holder_id: str | None = None) -> QrContent:
    """The presentation the QR code of ``cert`` holds, and at which error correction level."""
    holder_id = cert.holder_id if holder_id is None else holder_id
    masked = _masked_names(cert, holder_id)
    default = set(cert.type.default_disclosure or ()) - masked
    minimal = {"holder_name", "number"} - masked
    for names, levels in ((default, ("M", "L")), (minimal, ("L",))):
        text = sdjwt_present(cert.credential, names)
        for level in levels:
            if len(text.encode("ascii")) <= QR_CAPACITY[level]:
                return QrContent(text, level, tuple(sorted(names)))
    return QrContent("", "L", ())


def _qr_version(text: str, level: str) -> int:
    """The smallest version that holds ``text`` in byte mode. reportlab's own choice never goes
    beyond version 39 (its loop stops one short), so it is made here."""
    from reportlab.graphics.barcode import qrencoder

    ec = getattr(qrencoder.QRErrorCorrectLevel, level)
    for version in range(1, 41):
        capacity = sum(block.dataCount for block in qrencoder.QRRSBlock.getRSBlocks(version, ec)) * 8
        if 4 + (8 if version < 10 else 16) + 8 * len(text.encode("ascii")) <= capacity:
            return version
    raise ValueError("too long for a QR code")


def qr_widget(content: QrContent):
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.lib.units import mm

    size = QR_SIZE_MM * mm
    return QrCodeWidget(
        content.text,
        barLevel=content.level,
        qrVersion=_qr_version(content.text, content.level),
        barWidth=size,
        barHeight=size,
    )


_BASE_TITLES = (
    ("number", "证照编号"),
    ("holder_name", "持证主体"),
    ("holder_id", "证件号码"),
    ("holder_id_type", "证件类型"),
)


def _properties(cert) -> dict:
    return (cert.type.field_schema or {}).get("properties", {})


def _field_rows(cert) -> list[tuple[str, str]]:
    properties = _properties(cert)
    ordered = sorted(properties.items(), key=lambda item: (item[1].get("x-order", 1_000), item[0]))
    rows = [(spec.get("title", name), str(cert.data[name])) for name, spec in ordered if cert.data.get(name)]
    # Data the type no longer describes (a certificate is never edited) is still printed.
    rows += [
        (name, str(value)) for name, value in sorted(cert.data.items()) if name not in properties and value
    ]
    return rows


def _node_name(code: str) -> str:
    from tongban.exchange.envelope import TrustListError
    from tongban.exchange.trust import current_trust_list

    try:
        member = current_trust_list().member(code)
    except TrustListError:
        member = None
    return f"{member.name}（{code}）" if member else code


def _local(moment: datetime) -> datetime:
    from django.utils import timezone

    return timezone.localtime(moment)


def _render(cert, *, holder_id: str, status_label: str, now: datetime, qr: QrContent) -> bytes:
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from tongban.core.pii import mask_id_number

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
    label = ParagraphStyle("label", parent=body, textColor=colors.HexColor("#444444"))
    title = ParagraphStyle("title", parent=body, fontSize=22, leading=30, alignment=1)
    small = ParagraphStyle(
        "small", parent=body, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555")
    )

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    masked = _masked_names(cert, holder_id)
    id_label = (
        HolderIdType(cert.holder_id_type).label if cert.holder_id_type in HolderIdType.values else "证件"
    )
    validity = (
        f"{cert.valid_from:%Y年%m月%d日} 至 {cert.valid_until:%Y年%m月%d日}"
        if cert.valid_until
        else f"{cert.valid_from:%Y年%m月%d日} 起 长期"
    )
    rows = [
        ("证照编号", mask_id_number(cert.number) if "number" in masked else cert.number),
        ("持证主体", cert.holder_name),
        (f"{id_label}号码", mask_id_number(holder_id) if "holder_id" in masked else holder_id),
        *_field_rows(cert),
        ("颁证单位", f"{cert.issuer_name}（统一社会信用代码 {cert.issuer_code}）"),
        ("签发节点", _node_name(cert.issuer_node)),
        ("颁证日期", f"{cert.issue_date:%Y年%m月%d日}"),
        ("有效期", validity),
        ("证照标识", cert.identifier),
        ("版本", str(cert.version)),
        ("打印时状态", f"{status_label}（截至 {_local(now):%Y-%m-%d %H:%M}）"),
    ]
    table = Table([[p(k, label), p(v)] for k, v in rows], colWidths=[32 * mm, 138 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story = [p(cert.type_name, title), p("电子证照打印件", ParagraphStyle("sub", parent=small, alignment=1))]
    story += [Spacer(1, 6 * mm), table, Spacer(1, 6 * mm)]
    if qr.text:
        size = QR_SIZE_MM * mm
        drawing = Drawing(size, size)
        drawing.add(qr_widget(qr))
        story += [Table([[drawing]], colWidths=[170 * mm]), Spacer(1, 2 * mm)]
        titles = {**dict(_BASE_TITLES), **{n: s.get("title", n) for n, s in _properties(cert).items()}}
        shown = "、".join(t for n, t in titles.items() if n in qr.disclosed) or "签名部分"
        note = "；身份证件号码不印在纸上，也不放进二维码" if masked else ""
        story.append(
            p(f"扫描二维码即可离线核验：二维码是颁证单位签名的电子证照凭证，只含{shown}{note}。", small)
        )
    else:
        story.append(p("凭证过长，无法印成二维码：请用电子文件核验。", small))
    story.append(
        p(
            f"完整凭证以附件 {ATTACHMENT} 嵌入本 PDF 文件，文件由节点 {_node_name(_sealing_node())} "
            f"封印，任何改动都会使封印失效；可用 tongban cert verify 核验。",
            small,
        )
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=15 * mm,
        title=f"{cert.type_name} {cert.identifier}",
        author=cert.issuer_name,
        subject="电子证照打印件",
        creator="Tongban 通办",
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()


def _attach(pdf: bytes, credential: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_attachment(ATTACHMENT, credential.encode("ascii"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sealing_node() -> str:
    from django.conf import settings

    return settings.NODE_CODE


# --- The seal -------------------------------------------------------------------------------------------


def _signed_bytes(body: bytes, fields: dict) -> bytes:
    return hashlib.sha256(body).digest() + canonical_bytes(fields)


def pdf_seal(body: bytes, *, signer, node: str, now: datetime) -> bytes:
    """``body`` with the seal line appended."""
    fields = {
        "alg": signer.alg,
        "kid": signer.kid,
        "node": node,
        "sealed_at": format_time(now),
        "v": SEAL_VERSION,
    }
    line = canonical_bytes({**fields, "sig": b64u(signer.sign(_signed_bytes(body, fields)))})
    return body + SEAL_PREFIX + line + b"\n"


def seal_split(data: bytes) -> tuple[bytes, Seal | None]:
    """The sealed bytes and the seal (``None`` when the last line is no seal). Raises :class:`PdfError`
    ``PDF_SEAL_INVALID`` for a seal line that is not exactly a seal."""
    start = data.rfind(b"\n", 0, len(data) - 1) + 1 if data.endswith(b"\n") else len(data)
    if not data[start:].startswith(SEAL_PREFIX):
        return data, None
    line = data[start + len(SEAL_PREFIX) : -1]
    bad = PdfError(codes.PDF_SEAL_INVALID, "电子文件的封印已损坏：文件在封印后被改动过。")
    try:
        seal = loads_strict(line)
        if not isinstance(seal, dict) or sorted(seal) != ["alg", "kid", "node", "sealed_at", "sig", "v"]:
            raise bad
        if seal["v"] != SEAL_VERSION or not all(isinstance(seal[k], str) for k in ("alg", "kid", "node")):
            raise bad
        if canonical_bytes(seal) != line:  # one text form only: no added spaces or reordered keys
            raise bad
        signature = b64u_decode(seal.pop("sig"))
        sealed_at = parse_time(seal["sealed_at"])
    except (CanonicalError, ValueError, TypeError):
        raise bad from None
    body = data[:start]
    return body, Seal(seal["node"], seal["kid"], seal["alg"], sealed_at, signature, _signed_bytes(body, seal))


def seal_verify(seal: Seal, *, trust) -> None:
    """Raises :class:`PdfError` ``PDF_SEAL_INVALID`` unless the sealing node's key signed it while
    valid, by the trust list."""
    from tongban.exchange.envelope import EnvelopeError

    try:
        key = trust.key_valid_at(seal.node, seal.kid, seal.sealed_at)
    except EnvelopeError as exc:
        raise PdfError(codes.PDF_SEAL_INVALID, f"电子文件的封印无法确认：{exc.message}") from None
    suite = suite_for(seal.alg)
    if suite is None or key.alg != seal.alg or not suite.verify(key.public_key, seal.signature, seal.signed):
        raise PdfError(
            codes.PDF_SEAL_INVALID,
            f"电子文件的封印无效：文件在节点 {seal.node} 封印后被改动过，或封印不是该节点所加。",
        )


def pdf_credential(body: bytes) -> str:
    """The credential attached to a PDF. Raises :class:`PdfError` ``PDF_NO_CREDENTIAL``."""
    from pypdf import PdfReader

    try:
        files = PdfReader(io.BytesIO(body), strict=False).attachments.get(ATTACHMENT) or []
        text = files[0].decode("ascii").strip() if files else ""
    except Exception:
        text = ""
    if not text:
        raise PdfError(
            codes.PDF_NO_CREDENTIAL, f"这个 PDF 文件没有嵌入电子证照凭证（附件 {ATTACHMENT}），无法核验。"
        )
    return text


def pdf_read(data: bytes) -> tuple[str, Seal | None]:
    """The credential a PDF carries and its seal (unverified; ``None`` when unsealed). Raises
    :class:`PdfError` (``PDF_SEAL_INVALID`` for a damaged seal line, ``PDF_NO_CREDENTIAL``)."""
    body, seal = seal_split(bytes(data))
    return pdf_credential(body), seal


# --- Making one ----------------------------------------------------------------------------------------


def certificate_pdf(cert, *, now: datetime | None = None, signer=None) -> bytes:
    """The sealed printable PDF of ``cert`` (a :class:`~tongban.certificates.models.Certificate`), with
    its status as of ``now``."""
    from tongban.certificates.selectors import shown_status
    from tongban.exchange.keys import node_signer

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    holder_id = cert.holder_id
    qr = qr_content(cert, holder_id=holder_id)
    status = shown_status(cert, now=now)
    pdf = _render(cert, holder_id=holder_id, status_label=status.label, now=now, qr=qr)
    pdf = _attach(pdf, cert.credential)
    return pdf_seal(pdf, signer=signer or node_signer(), node=_sealing_node(), now=now)
