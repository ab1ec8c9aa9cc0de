"""Model → API representation. No business decisions here, only shape."""

from __future__ import annotations

import base64
import binascii

from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.cases.constants import CaseAction, CaseStatus
from tongban.cases.selectors import CaseDetail, due_mark
from tongban.cases.services import Upload
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
