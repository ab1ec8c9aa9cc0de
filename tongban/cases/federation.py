"""Cases across nodes (跨省通办): what travels, and what a node does when it arrives.

- ``case.transfer``  receiving → handling node: the case, its materials and the receiving node's
  statement about the applicant (一地认证 online, or the window's identity and form check for 代收).
- ``case.status``    handling → receiving node: every change, so the applicant follows it at home.
- ``case.command``   receiving → handling node: the applicant's own actions (补正材料, 撤回, 好差评).
- ``case.command_refused`` handling → receiving node: a forwarded action the handling node refused.

Every message is ordered per case (``ordering_key`` = case number) and applied exactly once by the
inbox; handlers run inside the inbox's transaction.
"""

from __future__ import annotations

import base64
from datetime import date, datetime

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from tongban.accounts.constants import UserKind
from tongban.bundles.services import bundle_case_changed
from tongban.cases.constants import CaseAction, CaseStatus, Channel
from tongban.certificates.once_only import certificate_uses_payload, certificate_uses_receive
from tongban.core import audit, pii

TRANSFER, STATUS, COMMAND, COMMAND_REFUSED = (
    "case.transfer",
    "case.status",
    "case.command",
    "case.command_refused",
)


def _enqueue(**kwargs):
    from tongban.exchange.outbox import enqueue

    return enqueue(**kwargs)


def node_label(code: str) -> str:
    from tongban.regions.models import Region

    region = Region.objects.filter(code=code).only("name").first()
    return region.name if region else code


# --- statements (一地认证 / 代收) ------------------------------------------------------------------


def online_statement(applicant) -> dict:
    """The receiving node vouches that it authenticated this applicant itself."""
    return {
        "kind": "online_realname",
        "node": settings.NODE_CODE,
        "node_name": settings.NODE_NAME,
        "subject": "enterprise" if applicant.kind == UserKind.ENTERPRISE else "person",
        "realname_verified_at": applicant.realname_verified_at.isoformat()
        if applicant.realname_verified_at
        else None,
        "method": settings.REALNAME_VERIFIER.rsplit(".", 1)[-1],
    }


def window_statement(clerk) -> dict:
    """The window's check, signed with the transfer: identity seen in original, form checked."""
    return {
        "kind": "window_intake",
        "node": settings.NODE_CODE,
        "node_name": settings.NODE_NAME,
        "window": clerk.organisation.name,
        "window_uscc": clerk.organisation.uscc,
        "clerk": clerk.real_name or clerk.username,
        "identity_checked": True,
        "form_checked": True,
        "checked_at": timezone.now().isoformat(),
    }


# --- sending ----------------------------------------------------------------------------------


def _material_payload(row, content: bytes | None = None) -> dict:
    if content is None:
        from tongban.exchange import files

        with files.open_file(row.file) as fh:
            content = fh.read()
    return {
        "material": row.material.code if row.material_id else "",
        "name": row.name,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "round": row.round,
        "content_base64": base64.b64encode(content).decode(),
    }


def _read(upload) -> bytes:
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    return content


def send_transfer(case, *, id_number: str, phone: str, materials=None, certificate_uses=None) -> None:
    """Queues the transfer of ``case`` to its handling node.

    ``materials``: the case's material rows just stored, each with the upload it was stored from, as
    ``(CaseMaterial, file)`` pairs (the rows need their ``material`` set): their content is taken
    from the upload in memory instead of being read back from disk, and no query is made for them.
    Without it (a joint part carries the main application's materials), the rows are read, with
    their catalogue materials joined, and the files read from storage. ``certificate_uses``: the
    certificates used in place of materials, as recorded with the case (read when not given).
    """
    if materials is None:
        rows = (case.joint_parent or case).materials.select_related("material")
        material_payloads = [_material_payload(m) for m in rows]
    else:
        material_payloads = [_material_payload(row, _read(upload)) for row, upload in materials]
    payload = {
        "number": case.number,
        "item": case.item.implementation_code,
        "item_version": case.item.version,
        "mode": case.mode,
        "channel": case.channel,
        "submitted_at": case.submitted_at.isoformat(),
        "form": case.form_data,
        "applicant": {
            "name": case.applicant_name,
            "id_type": case.applicant_id_type,
            "id_number": id_number,
            "phone": phone,
        },
        "statement": case.origin_statement,
        "joint_partner_node": case.joint_partner_node,
        # a joint part carries the main application's materials
        "materials": material_payloads,
        # certificates in place of materials (免提交): the presentations, checked again there
        "certificates": certificate_uses_payload(case.joint_parent or case, uses=certificate_uses),
    }
    _enqueue(recipient=case.handling_node, type=TRANSFER, payload=payload, ordering_key=case.number)


def request_joint_part(case) -> None:
    """多地联办, at the main case's handling node: ask the partner city to handle its part.

    The part is a case of its own at the partner node (number ``<main>-2``, the counterpart item);
    this node keeps a mirror of it, follows its status like any transferred case, and approves the
    main case only once the part is approved.
    """
    from tongban.cases.models import Case
    from tongban.catalogue.selectors import joint_counterpart

    partner = case.joint_partner_node
    counterpart = joint_counterpart(item=case.item, city_code=partner)
    if counterpart is None:  # checked at submission; the partner withdrew the item since
        from tongban.cases import error_codes
        from tongban.core.errors import Conflict

        raise Conflict(
            error_codes.JOINT_PARTNER_UNAVAILABLE, f"{node_label(partner)}已不再办理该事项，无法联办。"
        )
    part = Case.objects.create(
        number=f"{case.number}-2",
        item=counterpart,
        handling_org=counterpart.authority,
        receiving_node=settings.NODE_CODE,
        handling_node=partner,
        mode=case.mode,
        channel=case.channel,
        status=CaseStatus.SUBMITTED,
        applicant=None,
        applicant_name=case.applicant_name,
        applicant_id_type=case.applicant_id_type,
        applicant_id_enc=case.applicant_id_enc,
        applicant_id_hash=case.applicant_id_hash,
        applicant_phone_enc=case.applicant_phone_enc,
        form_data=case.form_data,
        origin_statement={
            **case.origin_statement,
            "joint_with": case.number,
            "requested_by": settings.NODE_CODE,
        },
        joint_parent=case,
        submitted_at=timezone.now(),
        due_date=case.due_date,
    )
    phone = pii.decrypt(case.applicant_phone_enc, purpose="phone") if case.applicant_phone_enc else ""
    send_transfer(part, id_number=pii.decrypt(case.applicant_id_enc, purpose="id_number"), phone=phone)


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def send_status(case, event) -> None:
    notice = None
    if event.action == CaseAction.REQUEST_CORRECTION:
        latest = case.correction_notices.order_by("-round").first()
        if latest is not None:
            notice = {"round": latest.round, "items": latest.items, "note": latest.note}
    payload = {
        "number": case.number,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor_label,
        "reason": event.reason,
        "at": event.created_at.isoformat(),
        "due_date": _iso(case.due_date),
        "due_provisional": case.due_provisional,
        "accepted_at": _iso(case.accepted_at),
        "decided_at": _iso(case.decided_at),
        "decision_reason": case.decision_reason,
        "notice": notice,
    }
    _enqueue(recipient=case.receiving_node, type=STATUS, payload=payload, ordering_key=case.number)


def send_command(case, *, action: str, reason: str, data: dict | None) -> None:
    payload = {"number": case.number, "action": action, "reason": reason}
    if action == CaseAction.RESUBMIT:
        last_round = max((m.round for m in case.materials.all()), default=0)
        payload["materials"] = (
            [_material_payload(m) for m in case.materials.filter(round=last_round).select_related("material")]
            if last_round
            else []
        )
        payload["form"] = case.form_data if (data or {}).get("form_changed") else None
    _enqueue(recipient=case.handling_node, type=COMMAND, payload=payload, ordering_key=case.number)


def send_rating(case, rating) -> None:
    """The applicant's 好差评, to the node that handled the case."""
    payload = {
        "number": case.number,
        "action": "rate",
        "score": rating.score,
        "reasons": rating.reasons,
        "comment": rating.comment,
        "at": rating.rated_at.isoformat(),
    }
    _enqueue(recipient=case.handling_node, type=COMMAND, payload=payload, ordering_key=case.number)


# --- receiving --------------------------------------------------------------------------------


def _uploads(materials: list[dict]):
    from tongban.cases.services import Upload

    return [
        Upload(
            m["material"],
            SimpleUploadedFile(m.get("name") or m["material"], base64.b64decode(m["content_base64"])),
        )
        for m in materials
        if m.get("material")
    ]


def on_transfer(payload: dict, *, sender: str, envelope_id: str) -> None:
    """At the handling node: the case arrives and joins the authority's queue as 已提交."""
    from tongban.cases import error_codes, uploads
    from tongban.cases.models import Case, CaseEvent, CaseMaterial
    from tongban.cases.services import INTAKE_LIMIT_WORKDAYS, _set_due
    from tongban.catalogue.models import ServiceItem
    from tongban.core.errors import InvalidInput
    from tongban.exchange import files

    number = payload["number"]
    if Case.objects.filter(number=number).exists():
        return  # already here (the inbox makes this rare; a re-sent transfer changes nothing)
    item = (
        ServiceItem.objects.filter(
            implementation_code=payload["item"], version=payload["item_version"], city_code=settings.NODE_CODE
        )
        .select_related("authority")
        .first()
    )
    if item is None:
        raise InvalidInput(
            error_codes.CASE_NOT_FOUND,
            f"本节点没有事项 {payload['item']}（版本 {payload['item_version']}）。",
        )
    applicant = payload["applicant"]
    statement = dict(payload.get("statement") or {})
    statement["received_envelope"] = envelope_id
    case = Case(
        number=number,
        item=item,
        handling_org=item.authority,
        receiving_node=sender,
        handling_node=settings.NODE_CODE,
        mode=payload["mode"],
        channel=payload["channel"],
        status=CaseStatus.SUBMITTED,
        applicant=None,
        applicant_name=applicant["name"],
        applicant_id_type=applicant["id_type"],
        applicant_id_enc=pii.encrypt(applicant["id_number"], purpose="id_number"),
        applicant_id_hash=pii.lookup_hash(applicant["id_number"], purpose="id_number"),
        applicant_phone_enc=pii.encrypt(applicant["phone"], purpose="phone")
        if applicant.get("phone")
        else "",
        form_data=payload.get("form") or {},
        origin_statement=statement,
        joint_partner_node=payload.get("joint_partner_node") or "",
        submitted_at=parse_datetime(payload["submitted_at"]) or timezone.now(),
    )
    _set_due(case, timezone.localdate(), INTAKE_LIMIT_WORKDAYS)
    staged = []
    try:
        case.save()
        by_code = {m.code: m for m in item.materials.all()}
        for m in payload.get("materials", []):
            raw = base64.b64decode(m["content_base64"])
            # Judge the content again: a transfer is trusted for who sent it, not for what a file is.
            inspected = uploads.inspect(SimpleUploadedFile(m["name"], raw), field=f"material:{m['material']}")
            row = CaseMaterial(
                case=case,
                material=by_code.get(m["material"]),
                name=m["name"],
                original_name=m["name"][:255],
                content_type=inspected.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
                round=m.get("round", 0),
            )
            # Staged, and moved to its name when the inbox's transaction commits: a crash before
            # that leaves no file at a final name, and the sweeper removes the staged copy.
            staged.append(files.stage(row.file, inspected.file))
            row.save()
        certificate_uses_receive(case, payload.get("certificates") or [])
        via = "窗口代收" if payload["channel"] == Channel.WINDOW else "一地认证"
        label = f"{statement.get('node_name') or node_label(sender)}（{via}）"
        CaseEvent.objects.create(
            case=case,
            action=CaseAction.SUBMIT,
            from_status="",
            to_status=CaseStatus.SUBMITTED,
            actor_label=label,
            data={"from_node": sender, "statement": statement},
        )
        if case.joint_partner_node:
            request_joint_part(case)
        audit.record(
            actor=None,
            action="case.receive",
            target=case,
            data={"from": sender, "item": item.implementation_code},
        )
    except BaseException:
        for path in staged:  # the inbox rolls the rows back; the staged files go too
            files.discard(path)
        raise


def on_status(payload: dict, *, sender: str, envelope_id: str) -> None:
    """At the receiving node: mirror the handling node's change and tell the applicant."""
    from tongban.cases.access import case_handled_by
    from tongban.cases.models import CaseEvent, CorrectionNotice
    from tongban.cases.services import _notify_applicant

    case = case_handled_by(sender, payload["number"], for_update=True)
    case.status = payload["to_status"]
    case.due_date = date.fromisoformat(payload["due_date"]) if payload.get("due_date") else case.due_date
    case.due_provisional = bool(payload.get("due_provisional"))
    case.accepted_at = _dt(payload.get("accepted_at")) or case.accepted_at
    case.decided_at = _dt(payload.get("decided_at")) or case.decided_at
    case.decision_reason = payload.get("decision_reason") or case.decision_reason
    if payload["to_status"] == CaseStatus.CORRECTION:
        case.paused_since = timezone.localdate()
    elif case.paused_since:
        case.paused_since = None
    case.save()
    notice = payload.get("notice")
    if notice:
        CorrectionNotice.objects.update_or_create(
            case=case,
            round=notice["round"],
            defaults={
                "items": notice["items"],
                "note": notice.get("note", ""),
                "issued_by_label": payload["actor"],
            },
        )
    if payload["action"] == CaseAction.RESUBMIT:
        case.correction_notices.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    CaseEvent.objects.create(
        case=case,
        action=payload["action"],
        from_status=payload.get("from_status", ""),
        to_status=payload["to_status"],
        actor_label=f"{node_label(sender)}·{payload['actor']}",
        reason=payload.get("reason", ""),
        data={"from_node": sender, "envelope": envelope_id, "at": payload.get("at")},
    )
    if case.joint_parent_id:
        _joint_progress(case, payload, sender)
    else:
        _notify_applicant(case, payload["action"], payload.get("reason", ""))
    bundle_case_changed(case)
    audit.record(
        actor=None,
        action="case.status_received",
        target=case,
        data={"from": sender, "to": payload["to_status"]},
    )


def _joint_progress(part, payload: dict, sender: str) -> None:
    """A joint part moved at the partner node: note it on the main case, and tell its applicant."""
    from tongban.cases.models import Case, CaseEvent

    main = Case.objects.select_for_update().get(pk=part.joint_parent_id)
    label = CaseAction(payload["action"]).label
    reason = f"{node_label(sender)}（联办）：{label}" + (
        f"，{payload['reason']}" if payload.get("reason") else ""
    )
    event = CaseEvent.objects.create(
        case=main,
        action=CaseAction.JOINT_UPDATE,
        from_status=main.status,
        to_status=main.status,
        actor_label=f"{node_label(sender)}·{payload['actor']}",
        reason=reason,
        data={"part": part.number, "part_status": payload["to_status"]},
    )
    if main.receiving_node != settings.NODE_CODE:
        send_status(main, event)


def _dt(value) -> datetime | None:
    return parse_datetime(value) if value else None


def on_command(payload: dict, *, sender: str, envelope_id: str) -> None:
    """At the handling node: the applicant's own action, forwarded by the receiving node."""
    from tongban.cases import services
    from tongban.core.errors import TongbanError

    remote = services.RemoteActor(node=sender, label=f"申请人（经{node_label(sender)}转达）")
    action = payload["action"]
    try:
        with transaction.atomic():
            if action == CaseAction.RATE:
                from tongban.cases.rating import case_rating_received

                case_rating_received(node=sender, payload=payload)
            elif action == CaseAction.WITHDRAW:
                services.case_withdraw(
                    actor=None, number=payload["number"], reason=payload.get("reason", ""), remote=remote
                )
            elif action == CaseAction.RESUBMIT:
                services.case_resubmit(
                    actor=None,
                    number=payload["number"],
                    files=_uploads(payload.get("materials") or []),
                    form_data=payload.get("form"),
                    note=payload.get("reason", ""),
                    remote=remote,
                )
            else:
                raise ValueError(f"unsupported forwarded action {action}")
    except TongbanError as exc:
        # Refused here (e.g. already decided): tell the receiving node why; that is the outcome.
        with translation.override(settings.LANGUAGE_CODE):
            _enqueue(
                recipient=sender,
                type=COMMAND_REFUSED,
                payload={
                    "number": payload["number"],
                    "action": action,
                    "code": exc.code,
                    "message": str(exc.message),
                },
                ordering_key=payload["number"],
            )


def on_command_refused(payload: dict, *, sender: str, envelope_id: str) -> None:
    from tongban.cases.access import case_handled_by
    from tongban.cases.models import CaseEvent
    from tongban.notifications.services import notify

    case = case_handled_by(sender, payload["number"], for_update=True)
    label = CaseAction(payload["action"]).label
    reason = f"办理地未能执行“{label}”：{payload['message']}"
    CaseEvent.objects.create(
        case=case,
        action=payload["action"],
        from_status=case.status,
        to_status=case.status,
        actor_label=node_label(sender),
        reason=reason,
        data={"refused": True, "code": payload["code"], "from_node": sender},
    )
    notify(user=case.applicant, case=case, title=f"{label}未成功", body=f"您的办件 {case.number}：{reason}")


def register_handlers() -> None:
    from tongban.exchange import files, handlers

    # Every file under cases/ belongs to a CaseMaterial row: the sweeper may remove one that does not.
    files.register(prefix="cases/", model="cases.CaseMaterial", field="file")

    handlers.register(TRANSFER)(on_transfer)
    handlers.register(STATUS)(on_status)
    handlers.register(COMMAND)(on_command)
    handlers.register(COMMAND_REFUSED)(on_command_refused)
