"""Once-only (免提交): a certificate stands in for a material the applicant would otherwise upload.

The applicant picks one of their certificates for a material that accepts its type, sees exactly
which fields will be shown (the type's ``default_disclosure``) and consents. Their node checks the
certificate now and keeps a presentation with only those fields; the case then records which
certificate (identifier and version) satisfied which material and what verification found at that
moment. A transferred case carries the presentations, and the handling node verifies them again and
records its own result: it decides on what it checked itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections, router

from tongban.certificates import error_codes as codes
from tongban.certificates.access import can_hold, holder_hashes
from tongban.certificates.models import Certificate, CertificateType, CertificateUse
from tongban.certificates.sdjwt import sdjwt_present
from tongban.certificates.selectors import node_verifier, shown_status
from tongban.certificates.verification import Verdict
from tongban.core.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class CertificateChoice:
    """The applicant's choice for one material: which certificate, and whether they consented."""

    material: str
    identifier: str
    consent: bool
    # The certificate row itself (with its type), when the caller has just read it for this applicant:
    # not read again. It is checked as any other choice (holder, type, validity).
    certificate: Certificate | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PreparedUse:
    material: object  # catalogue.Material
    certificate: Certificate
    presentation: str
    disclosed: tuple[str, ...]
    verdict: Verdict
    consented_at: datetime


def disclosure_for(cert: Certificate) -> tuple[str, ...]:
    return tuple(cert.type.default_disclosure or ("number", "holder_name"))


def certificate_uses_prepare(*, applicant, item, choices: Iterable[CertificateChoice]) -> list[PreparedUse]:
    """Checks every choice (material accepts the type, the certificate is the applicant's and valid
    now, consent given) and returns what to record. Raises ``InvalidInput`` listing every problem."""
    choices = list(choices)
    if not choices:
        return []  # most applications: nothing to read
    materials = {m.code: m for m in item.materials.all()}
    errors: list[FieldError] = []
    prepared: list[PreparedUse] = []
    seen: set[str] = set()
    now = datetime.now(UTC)
    for choice in choices:
        field = f"certificate:{choice.material}"

        def refuse(code: str, message: str) -> None:
            errors.append(FieldError(field, message, code))  # noqa: B023 - used at once

        material = materials.get(choice.material)
        if material is None or not material.certificate_type:
            refuse(codes.WRONG_TYPE, "该材料不能以电子证照代替。")
            continue
        if choice.material in seen:
            refuse(codes.WRONG_TYPE, f"“{material.name}”只能选一份证照。")
            continue
        seen.add(choice.material)
        if not choice.consent:
            refuse(codes.CONSENT_REQUIRED, f"使用证照代替“{material.name}”须先确认授权。")
            continue
        cert = choice.certificate
        if cert is None or cert.identifier != choice.identifier:
            cert = Certificate.objects.select_related("type").filter(identifier=choice.identifier).first()
        if cert is None or not can_hold(applicant, cert):
            refuse(codes.NOT_HOLDER, "找不到您的这份证照。")
            continue
        if cert.type.key != material.certificate_type:
            refuse(codes.WRONG_TYPE, f"“{material.name}”不接受{cert.type_name}。")
            continue
        disclosed = disclosure_for(cert)
        presentation = sdjwt_present(cert.credential, set(disclosed))
        verdict = node_verifier().verify(presentation, now=now)
        if not verdict.valid:
            refuse(verdict.code, f"{cert.type_name}无法使用：{verdict.reason}")
            continue
        prepared.append(PreparedUse(material, cert, presentation, disclosed, verdict, now))
    if errors:
        raise InvalidInput(errors[0].code, "所选电子证照不能用于本次申请。", errors=errors)
    return prepared


_HELD_SQL: dict[tuple[str, int, int], str] = {}


def _held_of_types(user, types: dict[int, CertificateType]) -> list[Certificate]:
    """The user's certificates (held, or from cases they applied for: ``selectors.certificates_of``)
    of these types. Asked at every application that uses certificates: one statement per shape,
    written once, instead of a query built and compiled each time; each row's type is the object
    this process keeps."""
    hashes = sorted(holder_hashes(user))
    if not hashes:
        return []
    ids = sorted(types)
    connection = connections[router.db_for_read(Certificate)]
    shape = (connection.alias, len(hashes), len(ids))
    sql = _HELD_SQL.get(shape)
    if sql is None:
        q = connection.ops.quote_name

        def marks(n: int) -> str:
            return ", ".join(["%s"] * n)

        columns = ", ".join(q(f.column) for f in Certificate._meta.concrete_fields)
        sql = _HELD_SQL[shape] = (
            f"SELECT {columns} FROM {q(Certificate._meta.db_table)} "
            f"WHERE ({q('holder_id_hash')} IN ({marks(len(hashes))}) "
            f"OR {q('applicant_id_hash')} IN ({marks(len(hashes))})) AND {q('type_id')} IN ({marks(len(ids))})"
        )
    held = list(Certificate.objects.db_manager(connection.alias).raw(sql, [*hashes, *hashes, *ids]))
    for cert in held:
        cert.type = types[cert.type_id]
    return held


def certificates_offered(user, type_keys: Iterable[str]) -> dict[str, Certificate]:
    """For each type, the certificate of the user's that the picker offers first
    (``presenters.picker_options``: the newest version of each, in serial order, valid now), all
    types in one query; a type the user holds no valid certificate of is absent."""
    from tongban.certificates.services import certificate_type_kept

    types = {t.pk: t for t in filter(None, map(certificate_type_kept, set(type_keys)))}
    if not types:
        return {}
    seen: set[tuple[str, str, int]] = set()
    offered: dict[str, Certificate] = {}
    now = datetime.now(UTC)
    # A person holds a handful: sorted here rather than by the database (cheaper to build and plan).
    for cert in sorted(_held_of_types(user, types), key=lambda c: (c.serial, -c.version)):
        key = cert.type.key
        if key in offered or (key, cert.issuer_code, cert.serial) in seen:
            continue  # one already chosen, or an older version of one already looked at
        seen.add((key, cert.issuer_code, cert.serial))
        if shown_status(cert, now=now).code == "valid":
            offered[key] = cert
    return offered


def certificate_uses_record(case, uses: Iterable[PreparedUse]) -> list[CertificateUse]:
    """Records the uses checked at this node (inside the case's transaction)."""
    rows = [
        CertificateUse(
            case=case,
            material=u.material,
            material_code=u.material.code,
            material_name=u.material.name,
            identifier=u.certificate.identifier,
            version=u.certificate.version,
            type_code=u.certificate.type_code,
            type_name=u.certificate.type_name,
            presentation=u.presentation,
            disclosed=list(u.disclosed),
            consented_at=u.consented_at,
            verified_at=datetime.now(UTC),
            verified_by_node=settings.NODE_CODE,
            valid=u.verdict.valid,
            verdict_code=u.verdict.code,
            verdict_reason=u.verdict.reason[:300],
        )
        for u in uses
    ]
    return CertificateUse.objects.bulk_create(rows)


def certificate_uses_payload(case, *, uses=None) -> list[dict]:
    """What a transfer carries: the presentations, not the verdicts (the handling node checks anew).
    ``uses``: the case's ``CertificateUse`` rows when the caller has them (else they are read)."""
    if uses is None:
        uses = CertificateUse.objects.filter(case=case, verified_by_node=settings.NODE_CODE)
    return [
        {
            "material": u.material_code,
            "identifier": u.identifier,
            "version": u.version,
            "presentation": u.presentation,
            "disclosed": u.disclosed,
            "consented_at": u.consented_at.isoformat(),
        }
        for u in uses
    ]


def certificate_uses_receive(case, items: list[dict]) -> list[CertificateUse]:
    """At the handling node: verifies each presentation the transfer carried and records the result,
    valid or not (a reviewer sees 核验未通过 and can ask for the paper through 补正)."""
    materials = {m.code: m for m in case.item.materials.all()}
    now = datetime.now(UTC)
    rows = []
    for entry in items or []:
        verdict = node_verifier().verify(entry["presentation"], now=now)
        if verdict.valid and (
            verdict.identifier != entry["identifier"] or verdict.version != entry["version"]
        ):
            verdict = Verdict(False, codes.IDENTIFIER_INVALID, "证照标识与申请地节点所述不一致。")
        material = materials.get(entry["material"])
        rows.append(
            CertificateUse(
                case=case,
                material=material,
                material_code=entry["material"],
                material_name=material.name if material else entry["material"],
                identifier=entry["identifier"],
                version=entry["version"],
                type_code=(verdict.claims or {}).get("type_code", ""),
                type_name=(verdict.claims or {}).get("type_name", ""),
                presentation=entry["presentation"],
                disclosed=entry.get("disclosed", []),
                consented_at=datetime.fromisoformat(entry["consented_at"]),
                verified_at=now,
                verified_by_node=settings.NODE_CODE,
                valid=verdict.valid,
                verdict_code=verdict.code,
                verdict_reason=verdict.reason[:300],
            )
        )
    return CertificateUse.objects.bulk_create(rows)


def certificate_uses_of(case) -> list[CertificateUse]:
    """The uses recorded for a case at this node, as this node verified them (from the rows a
    submission has just written when it kept them on the case, else one query)."""
    return [u for u in case.certificate_uses.all() if u.verified_by_node == settings.NODE_CODE]
