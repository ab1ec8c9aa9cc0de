"""Model → API representation. No business decisions here, only shape."""

from __future__ import annotations

import base64
import binascii

from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.cases.constants import CaseAction, CaseStatus
from tongban.cases.selectors import CaseDetail, DueMarks, due_mark
from tongban.cases.services import Upload
from tongban.certificates.once_only import certificate_uses_of
from tongban.core.errors import FieldError, InvalidInput


def item_summary(item) -> dict:
    return {
        "implementation_code": item.implementation_code,
        "basic_code": item.basic_code,
        "name": item.name,
        "item_type": item.item_type,
        "city_code": item.city_code,
        "region_code": item.region_id,
        "authority": item.authority.name,
        "promised_limit_days": item.promised_limit_days,
        "modes": item.modes,
    }


def item_detail(item, materials) -> dict:
    return {
        **item_summary(item),
        "version": item.version,
        "status": item.status,
        "authority_uscc": item.authority.uscc,
        "legal_basis": item.legal_basis,
        "legal_limit_days": item.legal_limit_days,
        "fee": item.fee,
        "conditions": item.conditions,
        "process": item.process,
        "location": item.location,
        "office_hours": item.office_hours,
        "phone": item.phone,
        "subject_types": item.subject_types,
        "form_schema": item.form_schema,
        "materials": [
            {
                "code": m.code,
                "name": m.name,
                "required": m.required,
                "form": m.form,
                "copies": m.copies,
                "note": m.note,
                "certificate_type": m.certificate_type,
            }
            for m in materials
        ],
    }


def case_summary(case) -> dict:
    return {
        "number": case.number,
        "item": case.item.implementation_code,
        "item_name": case.item.name,
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "applicant_name": case.applicant_name,
        "receiving_node": case.receiving_node,
        "handling_node": case.handling_node,
        "mode": case.mode,
        "channel": case.channel,
        "submitted_at": case.submitted_at,
        "due_date": case.due_date,
        "due_provisional": case.due_provisional,
        "due_mark": due_mark(case),
    }


def case_summary_rows(rows) -> list[dict]:
    """``case_summary`` of each row of ``cases.selectors.case_rows``: the same shape from plain
    values, with the deadline horizon and the status labels worked out once per page."""
    marks = DueMarks()
    labels: dict[str, str] = {}
    out = []
    for row in rows:
        status = row["status"]
        label = labels.get(status)
        if label is None:
            label = labels[status] = str(CaseStatus(status).label)
        out.append(
            {
                "number": row["number"],
                "item": row["item__implementation_code"],
                "item_name": row["item__name"],
                "status": status,
                "status_label": label,
                "applicant_name": row["applicant_name"],
                "receiving_node": row["receiving_node"],
                "handling_node": row["handling_node"],
                "mode": row["mode"],
                "channel": row["channel"],
                "submitted_at": row["submitted_at"],
                "due_date": row["due_date"],
                "due_provisional": row["due_provisional"],
                "due_mark": marks.of(status, row["due_date"]),
            }
        )
    return out


def case_detail(detail: CaseDetail) -> dict:
    case = detail.case
    return {
        **case_summary(case),
        "handling_org": case.handling_org.name,
        "applicant_id_masked": case.applicant_id_masked,
        "form": case.form_data,
        "decision_reason": case.decision_reason,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "events": [
            {
                "action": e.action,
                "action_label": str(CaseAction(e.action).label),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_label,
                "reason": e.reason,
                "at": e.created_at,
            }
            for e in detail.events
        ],
        "materials": [
            {
                "id": m.id,
                "material": m.material.code if m.material_id else "",
                "name": m.name,
                "content_type": m.content_type,
                "size": m.size,
                "sha256": m.sha256,
                "round": m.round,
            }
            for m in detail.materials
        ],
        "correction_notices": [
            {
                "round": n.round,
                "items": n.items,
                "note": n.note,
                "issued_at": n.issued_at,
                "resolved_at": n.resolved_at,
            }
            for n in detail.notices
        ],
        "certificate_uses": [
            {
                "material": u.material_code,
                "material_name": u.material_name,
                "identifier": u.identifier,
                "version": u.version,
                "type_name": u.type_name,
                "valid": u.valid,
                "verdict_code": u.verdict_code,
                "verdict_reason": u.verdict_reason,
                "verified_at": u.verified_at,
            }
            for u in certificate_uses_of(case)
        ],
    }


def uploads_from(materials) -> list[Upload]:
    """Base64 materials of a JSON request → the same Upload objects the pages hand to services."""
    out = []
    for i, m in enumerate(materials):
        try:
            content = base64.b64decode(m.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                "UPLOAD_NOT_BASE64",
                f"第 {i + 1} 个材料的内容不是有效的 Base64。",
                errors=[FieldError(f"materials[{i}]", "内容不是有效的 Base64。", "UPLOAD_NOT_BASE64")],
            ) from None
        out.append(Upload(material=m.material, file=SimpleUploadedFile(m.filename or m.material, content)))
    return out
