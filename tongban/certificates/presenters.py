"""Certificates as the API and the pages show them: masked ids, fields in the type's order, the status
as the issuer says now."""

from __future__ import annotations

from dataclasses import dataclass

from tongban.certificates.constants import HolderIdType, NumberRule
from tongban.certificates.models import Certificate
from tongban.certificates.selectors import shown_status
from tongban.core import pii


def certificate_fields(cert: Certificate) -> list[dict[str, str]]:
    props = (cert.type.field_schema or {}).get("properties", {})
    ordered = sorted(props.items(), key=lambda kv: kv[1].get("x-order", 0))
    return [
        {"name": name, "title": p.get("title", name), "value": str(cert.data[name])}
        for name, p in ordered
        if name in cert.data
    ]


def certificate_summary(cert: Certificate) -> dict:
    status = shown_status(cert)
    return {
        "identifier": cert.identifier,
        "type_code": cert.type_code,
        "type_name": cert.type_name,
        "version": cert.version,
        # A number that is the holder's ID number (驾驶证) is personal data: masked like it.
        "number": certificate_summary_number(cert),
        "holder_name": cert.holder_name,
        "issuer_name": cert.issuer_name,
        "issuer_node": cert.issuer_node,
        "issue_date": cert.issue_date,
        "valid_until": cert.valid_until,
        "status": status.code,
        "status_label": status.label,
    }


def certificate_detail(cert: Certificate) -> dict:
    return {
        **certificate_summary(cert),
        "holder_id_type": cert.holder_id_type,
        # An enterprise's code is public; a person's ID number is not.
        "holder_id_masked": cert.holder_id
        if cert.holder_id_type == HolderIdType.USCC
        else cert.holder_id_masked,
        "issuer_code": cert.issuer_code,
        "valid_from": cert.valid_from,
        "jurisdiction_code": cert.jurisdiction_code,
        "data": cert.data,
        "fields": certificate_fields(cert),
    }


TOP_TITLES = {
    "number": "证照编号",
    "holder_name": "持证主体",
    "holder_id": "证件号码",
    "holder_id_type": "证件类型",
}


@dataclass(frozen=True)
class PickerOption:
    """One certificate offered in place of a material: what it is and exactly what would be shown."""

    identifier: str
    label: str
    preview: tuple[tuple[str, str], ...]


def disclosure_preview(cert: Certificate) -> tuple[tuple[str, str], ...]:
    from tongban.certificates.once_only import disclosure_for

    props = (cert.type.field_schema or {}).get("properties", {})
    shown = []
    for name in disclosure_for(cert):
        if name in TOP_TITLES:
            value = {
                "number": certificate_summary_number(cert),
                "holder_name": cert.holder_name,
                "holder_id": cert.holder_id
                if cert.holder_id_type == HolderIdType.USCC
                else cert.holder_id_masked,
                "holder_id_type": HolderIdType(cert.holder_id_type).label,
            }[name]
            shown.append((TOP_TITLES[name], str(value)))
        elif name in cert.data:
            shown.append((props.get(name, {}).get("title", name), str(cert.data[name])))
    return tuple(shown)


def certificate_summary_number(cert: Certificate) -> str:
    return pii.mask_id_number(cert.number) if cert.type.number_rule == NumberRule.HOLDER_ID else cert.number


def picker_options(user, materials) -> dict[str, list[PickerOption]]:
    """For each material that accepts a certificate type, the user's certificates of that type that
    are valid now."""
    from tongban.certificates.selectors import certificates_of_type

    options: dict[str, list[PickerOption]] = {}
    for material in materials:
        if not material.certificate_type:
            continue
        offered = []
        for cert in certificates_of_type(user, material.certificate_type):
            if shown_status(cert).code != "valid":
                continue
            until = cert.valid_until.isoformat() if cert.valid_until else "长期"
            label = (
                f"{cert.type_name} {certificate_summary_number(cert)}（{cert.issuer_name}，有效期至 {until}）"
            )
            offered.append(PickerOption(cert.identifier, label, disclosure_preview(cert)))
        if offered:
            options[material.code] = offered
    return options
