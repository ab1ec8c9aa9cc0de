"""Every change to a case. Pages, API, admin and CLI call these and nothing else.

Each service validates everything it can before it writes, then does the whole change in one
transaction: the case row, its event row, the audit entry and the notification. Files written for a
change that then fails are removed, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from tongban.accounts.constants import IdType, UserKind
from tongban.accounts.models import User
from tongban.accounts.services import valid_phone, verified_id_number
from tongban.bundles.services import bundle_case_changed
from tongban.cases import access, error_codes, federation, numbering, uploads
from tongban.cases.constants import (
    APPLICANT_ACTIONS,
    FINAL_STATUSES,
    INTAKE_LIMIT_WORKDAYS,
    PAUSED_STATUSES,
    REASON_REQUIRED,
    TRANSITIONS,
    CaseAction,
    CaseStatus,
    Channel,
)
from tongban.cases.forms_schema import validate_form
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CorrectionNotice
from tongban.catalogue.constants import ServiceMode, SubjectType
from tongban.catalogue.models import ServiceItem
from tongban.catalogue.selectors import item_materials
from tongban.certificates.once_only import (
    CertificateChoice,
    certificate_uses_prepare,
    certificate_uses_record,
)
from tongban.certificates.services import certificate_issue_for_case
from tongban.core import audit, pii, workdays
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput
from tongban.core.inserts import rows_insert
from tongban.notifications.services import notify

A, S = CaseAction, CaseStatus


@dataclass(frozen=True)
class RemoteActor:
    """Another node acting on a case through a verified envelope: the receiving node forwarding the
    applicant's own action, identified by the node code and a label for the timeline."""

    node: str
    label: str


@dataclass(frozen=True)
class Upload:
    """One file handed in for a material of the item (``material`` is the material's code)."""

    material: str
    file: object  # django.core.files.uploadedfile.UploadedFile


# --- helpers --------------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _set_due(case: Case, start: date, days: int) -> None:
    result = workdays.add_workdays(start, days)
    case.due_date, case.due_provisional = result.date, result.provisional


def _check_uploads(
    item: ServiceItem, files: Iterable[Upload]
) -> list[tuple[object, uploads.InspectedUpload]]:
    by_code = {m.code: m for m in item_materials(item)}
    checked = []
    for up in files:
        material = by_code.get(up.material)
        if material is None:
            raise InvalidInput(
                error_codes.MATERIAL_UNKNOWN,
                f"事项“{item.name}”没有编码为“{up.material}”的材料。",
                errors=[FieldError(f"material:{up.material}", "未知材料。", error_codes.MATERIAL_UNKNOWN)],
            )
        checked.append((material, uploads.inspect(up.file, field=f"material:{up.material}")))
    return checked


def _check_required_materials(item: ServiceItem, checked, covered: frozenset[str] = frozenset()) -> None:
    """Every required material is uploaded, or covered by an electronic certificate (免提交)."""
    given = {m.code for m, _ in checked} | covered
    missing = [m for m in item_materials(item) if m.required and m.code not in given]
    if missing:
        names = "、".join(m.name for m in missing)
        raise InvalidInput(
            error_codes.MATERIAL_MISSING,
            f"缺少必需的申请材料：{names}。",
            errors=[
                FieldError(f"material:{m.code}", f"请上传“{m.name}”。", error_codes.MATERIAL_MISSING)
                for m in missing
            ],
        )


@contextlib.contextmanager
def _files_removed_on_failure() -> Iterator[list]:
    """Yields a list to which saved file names are added; removes them if the block fails."""
    saved: list = []
    try:
        yield saved
    except BaseException:
        for storage, name in saved:
            with contextlib.suppress(OSError):
                storage.delete(name)
        raise


def _store_materials(
    case: Case, checked, *, round_no: int, actor: User | None, saved: list
) -> list[CaseMaterial]:
    rows = []
    for material, inspected in checked:
        row = CaseMaterial(
            case=case,
            material=material,
            name=material.name,
            original_name=(inspected.file.name or "")[:255],
            content_type=inspected.content_type,
            size=inspected.size,
            sha256=inspected.sha256,
            round=round_no,
            uploaded_by=actor,
        )
        row.file.save("upload", inspected.file, save=False)
        saved.append((row.file.storage, row.file.name))
        rows.append(row)
    rows_insert(rows)
    return rows


def _remember_relations(case: Case, **relations: list) -> None:
    """Keeps rows this change has just written as the case's related rows, as a prefetch would, so
    that ``case_detail_of`` answers without reading them back (three queries of a submission).
    Only for complete relations; material rows without their primary key are left to the query."""
    if any(row.pk is None for row in relations.get("materials", ())):
        relations.pop("materials")
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in relations.items():
        # What prefetch_related stores: the relation's queryset with its rows already in it, so
        # `.all()` gives them and anything narrower (`.filter()`, `.get()`) still asks the database.
        related = getattr(case, name).all()
        related._result_cache, related._prefetch_done = list(rows), True
        cache[name] = related


def _event(
    case: Case,
    action: str,
    from_status: str,
    actor: User | None,
    reason: str = "",
    data=None,
    label: str = "",
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor=actor,
        actor_label=label or ((actor.real_name or actor.username) if actor else "系统"),
        reason=reason,
        data=data or {},
    )
    rows_insert([event])
    return event


def _notify_applicant(case: Case, action: str, reason: str = "") -> None:
    # Stored text, read later in any language: written in the node's language, not the request's.
    with translation.override(settings.LANGUAGE_CODE):
        _notify_applicant_text(case, action, reason)


def _notify_applicant_text(case: Case, action: str, reason: str) -> None:
    label = CaseAction(action).label
    body = f"您的办件 {case.number}（{case.item.name}）：{label}，当前状态：{CaseStatus(case.status).label}。"
    if reason:
        body += f"\n说明：{reason}"
    if case.due_date and case.status not in FINAL_STATUSES:
        body += f"\n办理期限：{case.due_date:%Y-%m-%d}" + ("（暂定）" if case.due_provisional else "")
    notify(user=case.applicant, case=case, title=f"办件{label}", body=body)


def _resolve_mode(item: ServiceItem, *, channel: str, mode: str | None) -> str:
    remote = item.city_code != settings.NODE_CODE
    if channel == Channel.WINDOW:
        if remote and ServiceMode.PROXY_INTAKE not in item.modes:
            raise InvalidInput(
                error_codes.MODE_NOT_SUPPORTED, "该事项不支持异地代收代办，请到办理地窗口申请。"
            )
        return ServiceMode.PROXY_INTAKE if remote else (mode or ServiceMode.FULL_ONLINE)
    if mode and mode not in ServiceMode.values:
        raise InvalidInput(error_codes.MODE_NOT_SUPPORTED, f"未知的办理方式“{mode}”。")
    if mode and mode not in item.modes and (remote or mode != ServiceMode.FULL_ONLINE):
        raise InvalidInput(error_codes.MODE_NOT_SUPPORTED, f"该事项不支持“{ServiceMode(mode).label}”。")
    if remote and ServiceMode.FULL_ONLINE not in item.modes and mode != ServiceMode.MULTI_SITE:
        raise InvalidInput(error_codes.MODE_NOT_SUPPORTED, "该事项不支持全程网办，请到窗口申请异地代收代办。")
    return mode or ServiceMode.FULL_ONLINE


def _check_joint(item: ServiceItem, mode: str, partner_city: str) -> str:
    """多地联办 needs a partner city that publishes the same item; other modes take none."""
    if mode != ServiceMode.MULTI_SITE:
        return ""
    from tongban.catalogue.selectors import joint_counterpart

    if not partner_city:
        raise InvalidInput(
            error_codes.JOINT_PARTNER_REQUIRED,
            "多地联办须选择另一办理地城市。",
            errors=[FieldError("partner_city", "请选择联办城市。", error_codes.JOINT_PARTNER_REQUIRED)],
        )
    if partner_city == item.city_code or joint_counterpart(item=item, city_code=partner_city) is None:
        raise InvalidInput(
            error_codes.JOINT_PARTNER_UNAVAILABLE,
            "所选城市没有可联办的同一事项。",
            errors=[
                FieldError("partner_city", "所选城市不办理该事项。", error_codes.JOINT_PARTNER_UNAVAILABLE)
            ],
        )
    return partner_city


def _check_subject(item: ServiceItem, subject: str) -> None:
    if item.subject_types and subject not in item.subject_types:
        who = "、".join(str(SubjectType(s).label) for s in item.subject_types)
        raise InvalidInput(error_codes.SUBJECT_TYPE_NOT_ALLOWED, f"该事项的服务对象为{who}。")


def _create_case(
    *,
    item: ServiceItem,
    channel: str,
    mode: str,
    applicant: User | None,
    applicant_name: str,
    id_type: str,
    id_number: str,
    phone: str,
    form_data: dict,
    checked,
    actor: User,
    intake_org=None,
    client_token: str = "",
    event_data: dict | None = None,
    origin_statement: dict | None = None,
    partner_city: str = "",
    certificate_uses=(),
    number: str = "",
) -> Case:
    number = number or numbering.allocate(settings.NODE_CODE, _today())
    now = timezone.now()
    case = Case(
        number=number,
        item=item,
        handling_org=item.authority,
        receiving_node=settings.NODE_CODE,
        handling_node=item.city_code,
        mode=mode,
        channel=channel,
        status=S.SUBMITTED,
        applicant=applicant,
        applicant_name=applicant_name,
        applicant_id_type=id_type,
        applicant_id_enc=pii.encrypt(id_number, purpose="id_number"),
        applicant_id_hash=pii.lookup_hash(id_number, purpose="id_number"),
        applicant_phone_enc=pii.encrypt(phone, purpose="phone") if phone else "",
        intake_clerk=actor if channel == Channel.WINDOW else None,
        intake_org=intake_org,
        form_data=form_data,
        origin_statement=origin_statement or {},
        joint_partner_node=partner_city,
        submitted_at=now,
        client_token=client_token,
    )
    _set_due(case, _today(), INTAKE_LIMIT_WORKDAYS)
    with _files_removed_on_failure() as saved, transaction.atomic():
        rows_insert([case])
        materials = _store_materials(case, checked, round_no=0, actor=actor, saved=saved)
        uses = certificate_uses_record(case, certificate_uses) if certificate_uses else []
        event = _event(case, A.SUBMIT, "", actor, data=event_data)
        _notify_applicant(case, A.SUBMIT)
        if case.handling_node != settings.NODE_CODE:
            # The files and certificate uses just written are at hand: not read back.
            federation.send_transfer(
                case,
                id_number=id_number,
                phone=phone,
                materials=[
                    (row, inspected.file) for row, (_, inspected) in zip(materials, checked, strict=True)
                ],
                certificate_uses=uses,
            )
        elif case.joint_partner_node:
            federation.request_joint_part(case)
        audit.record(actor=actor, action="case.submit", target=case, data={"item": item.implementation_code})
    _remember_relations(
        case, events=[event], materials=materials, correction_notices=[], certificate_uses=list(uses)
    )
    return case


# --- submission -----------------------------------------------------------------------------------


def case_submit(
    *,
    applicant: User,
    item: ServiceItem,
    form_data: dict,
    files: Iterable[Upload] = (),
    mode: str | None = None,
    client_token: str = "",
    partner_city: str = "",
    certificates: Iterable[CertificateChoice] = (),
    number: str = "",
    token_is_new: bool = False,
) -> Case:
    """An applicant applies online (一表登记). Returns the new case, or the earlier one for a repeat token.

    For 多地联办 (``mode="multi_site"``) ``partner_city`` names the city that handles the other part.
    ``certificates``: the applicant's electronic certificates chosen, with consent, in place of
    materials (免提交); each is verified now and recorded with the case. ``number``: a case number
    already taken (``numbering.allocate``), for a caller whose own transaction is still open (a
    bundle), so the day's counter row is not held locked until that transaction ends.
    ``token_is_new``: the caller made ``client_token`` from something just created (a bundle's step),
    so no earlier case can hold it and it is not looked up."""
    if client_token and not token_is_new:
        earlier = Case.objects.filter(client_token=client_token).first()
        if earlier is not None:
            if earlier.applicant_id != applicant.pk:
                raise Conflict(error_codes.DUPLICATE_SUBMISSION, "该提交标识已被使用。")
            return earlier
    if applicant.kind not in (UserKind.CITIZEN, UserKind.ENTERPRISE):
        raise InvalidInput(
            error_codes.SUBJECT_TYPE_NOT_ALLOWED, "工作人员账户不能以申请人身份申请，请使用窗口代收。"
        )
    if not item.is_published:
        from tongban.catalogue import error_codes as catalogue_codes

        raise Conflict(catalogue_codes.ITEM_WITHDRAWN, "该事项已撤销，不再受理申请。")
    subject = SubjectType.ENTERPRISE if applicant.kind == UserKind.ENTERPRISE else SubjectType.PERSON
    _check_subject(item, subject)
    chosen_mode = _resolve_mode(item, channel=Channel.ONLINE, mode=mode)
    partner_city = _check_joint(item, chosen_mode, partner_city)
    form_data = validate_form(item.form_schema, form_data)
    checked = _check_uploads(item, files)
    uses = certificate_uses_prepare(applicant=applicant, item=item, choices=certificates)
    _check_required_materials(item, checked, frozenset(u.material.code for u in uses))
    if applicant.kind == UserKind.ENTERPRISE:
        ent = applicant.enterprise
        name, id_type, id_number = ent.name, IdType.USCC, ent.uscc
    else:
        name, id_type, id_number = applicant.real_name, IdType.RIC, applicant.id_number
    try:
        return _create_case(
            item=item,
            channel=Channel.ONLINE,
            mode=chosen_mode,
            applicant=applicant,
            applicant_name=name,
            id_type=id_type,
            id_number=id_number,
            phone=applicant.phone,
            form_data=form_data,
            checked=checked,
            actor=applicant,
            client_token=client_token,
            origin_statement=federation.online_statement(applicant),
            partner_city=partner_city,
            certificate_uses=uses,
            number=number,
        )
    except IntegrityError:
        # Two tabs raced with the same token: the other one won; hand back its case.
        earlier = (
            Case.objects.filter(client_token=client_token, applicant=applicant).first()
            if client_token
            else None
        )
        if earlier is None:
            raise
        return earlier


def case_intake(
    *,
    clerk: User,
    item: ServiceItem,
    applicant_name: str,
    applicant_id_number: str,
    applicant_phone: str,
    identity_checked: bool,
    form_data: dict,
    files: Iterable[Upload] = (),
    client_token: str = "",
) -> Case:
    """代收: a window clerk takes in an application for a walk-in applicant after checking identity.

    The clerk must confirm having checked the original identity document; the name and number also
    pass real-name verification. The case is linked to the applicant's account if one exists.
    """
    access.check_can_take_in(clerk)
    if client_token:
        earlier = Case.objects.filter(client_token=client_token).first()
        if earlier is not None:
            if earlier.intake_clerk_id != clerk.pk:
                raise Conflict(error_codes.DUPLICATE_SUBMISSION, "该提交标识已被使用。")
            return earlier
    if not identity_checked:
        raise InvalidInput(
            error_codes.IDENTITY_NOT_CHECKED,
            "请先核验申请人身份证件原件，并勾选“已核验身份”。",
            errors=[FieldError("identity_checked", "请核验身份证件原件。", error_codes.IDENTITY_NOT_CHECKED)],
        )
    if not item.is_published:
        from tongban.catalogue import error_codes as catalogue_codes

        raise Conflict(catalogue_codes.ITEM_WITHDRAWN, "该事项已撤销，不再受理申请。")
    _check_subject(item, SubjectType.PERSON)
    id_number = verified_id_number(name=applicant_name, id_number=applicant_id_number)
    phone = valid_phone(applicant_phone) if applicant_phone else ""
    mode = _resolve_mode(item, channel=Channel.WINDOW, mode=None)
    form_data = validate_form(item.form_schema, form_data)
    checked = _check_uploads(item, files)
    _check_required_materials(item, checked)
    account = User.objects.filter(
        kind=UserKind.CITIZEN, id_number_hash=pii.lookup_hash(id_number, purpose="id_number")
    ).first()
    return _create_case(
        item=item,
        channel=Channel.WINDOW,
        mode=mode,
        applicant=account,
        applicant_name=applicant_name.strip(),
        id_type=IdType.RIC,
        id_number=id_number,
        phone=phone,
        form_data=form_data,
        checked=checked,
        actor=clerk,
        intake_org=clerk.organisation,
        client_token=client_token,
        event_data={"identity_checked": True, "window": clerk.organisation.name},
        origin_statement=federation.window_statement(clerk),
    )


# --- transitions ----------------------------------------------------------------------------------


def _locked_case(actor: User | None, number: str, remote: RemoteActor | None) -> Case:
    if remote is None:
        return access.case_for(actor, number, for_update=True)
    # A verified envelope from the case's receiving node speaks for its applicant.
    return access.case_received_from(remote.node, number, for_update=True)


def _transition(
    *,
    actor: User | None,
    number: str,
    action: str,
    reason: str = "",
    data: dict | None = None,
    extra=None,
    remote: RemoteActor | None = None,
) -> Case:
    """Locks the case, checks the action is allowed now and by this actor, then applies it.

    ``extra(case)`` runs inside the same transaction for action-specific writes (notices, files).
    On a transferred case the handling node decides: the receiving node forwards the applicant's own
    actions there, and the handling node reports every change back (see ``cases.federation``).
    """
    reason = (reason or "").strip()
    if action in REASON_REQUIRED and not reason:
        raise InvalidInput(
            error_codes.REASON_REQUIRED,
            f"“{CaseAction(action).label}”必须写明理由。",
            errors=[FieldError("reason", "请写明理由。", error_codes.REASON_REQUIRED)],
        )
    with transaction.atomic():
        case = _locked_case(actor, number, remote)
        if remote is None:
            access.check_can_act(actor, case, action)
        elif action not in APPLICANT_ACTIONS:
            raise Forbidden(error_codes.ROLE_REQUIRED, "受理地节点只能转达申请人本人的操作。")
        from_status = case.status
        allowed = TRANSITIONS[action]
        if from_status not in allowed:
            raise Conflict(
                error_codes.TRANSITION_NOT_ALLOWED,
                f"办件当前状态为“{CaseStatus(from_status).label}”，不能“{CaseAction(action).label}”。",
                details={"status": from_status, "action": action},
            )
        if case.handling_node != settings.NODE_CODE:
            # Not ours to decide: record the request and forward it to the handling node.
            if extra is not None:
                extra(case)
            case.save()
            _event(case, action, from_status, actor, reason=reason, data={**(data or {}), "forwarded": True})
            federation.send_command(case, action=action, reason=reason, data=data)
            audit.record(
                actor=actor, action=f"case.{action}.forward", target=case, data={"to": case.handling_node}
            )
            return case
        if action == A.APPROVE and case.joint_partner_node:
            part = case.joint_parts.first()
            if part is None or part.status not in (S.APPROVED, S.ISSUED):
                raise Conflict(
                    error_codes.JOINT_PART_PENDING,
                    f"多地联办：{federation.node_label(case.joint_partner_node)}的办理部分尚未准予，暂不能准予许可。",
                )
        to_status = allowed[from_status] or case.status_before_pause
        _apply_clock(case, from_status, to_status, action)
        case.status = to_status
        if action in (A.REJECT_INTAKE, A.DENY, A.APPROVE):
            case.decision_reason = reason
        if extra is not None:
            extra(case)
        case.save()
        event_data = data
        if action == A.APPROVE:
            # 准予: the handling node issues the certificate the item produces, in the same transaction.
            cert = certificate_issue_for_case(case, actor=actor)
            if cert is not None:
                event_data = {**(data or {}), "certificate": cert.identifier}
        event = _event(
            case,
            action,
            from_status,
            actor,
            reason=reason,
            data=event_data,
            label=remote.label if remote else "",
        )
        if case.receiving_node != settings.NODE_CODE:
            federation.send_status(case, event)
        else:
            _notify_applicant(case, action, reason)
        if action in (A.WITHDRAW, A.DENY, A.REJECT_INTAKE) and case.joint_partner_node:
            for part in case.joint_parts.exclude(status__in=list(FINAL_STATUSES)):
                federation.send_command(
                    part, action=A.WITHDRAW, reason=f"主办件{CaseAction(action).label}", data=None
                )
        audit.record(
            actor=actor, action=f"case.{action}", target=case, data={"from": from_status, "to": to_status}
        )
        bundle_case_changed(case)  # a step of a 一件事 hands over right after this commit
    return case


def _apply_clock(case: Case, from_status: str, to_status: str, action: str) -> None:
    """Deadlines in working days: intake within 5, decision within the promised limit after acceptance,
    and no counting while the case waits for the applicant (补正) or a special procedure."""
    today = _today()
    now = timezone.now()
    if to_status in PAUSED_STATUSES:
        case.paused_since = today
        case.status_before_pause = from_status
    elif from_status in PAUSED_STATUSES:
        if to_status == S.SUBMITTED:
            # Complete materials restart the intake period (一次性告知后补齐材料，重新计算受理期限).
            _set_due(case, today, INTAKE_LIMIT_WORKDAYS)
        elif to_status in (S.ACCEPTED, S.UNDER_REVIEW) and case.paused_since:
            case.paused_workdays += workdays.workdays_between(case.paused_since, today)
            _set_due(
                case,
                timezone.localtime(case.accepted_at).date(),
                case.item.promised_limit_days + case.paused_workdays,
            )
        case.paused_since = None
        case.status_before_pause = ""
    if action == A.ACCEPT:
        case.accepted_at = now
        case.paused_workdays = 0
        _set_due(case, today, case.item.promised_limit_days)
    if to_status in FINAL_STATUSES or to_status == S.APPROVED:
        case.decided_at = case.decided_at or now


def case_accept(*, actor: User, number: str, note: str = "") -> Case:
    return _transition(actor=actor, number=number, action=A.ACCEPT, reason=note)


def case_reject_intake(*, actor: User, number: str, reason: str) -> Case:
    return _transition(actor=actor, number=number, action=A.REJECT_INTAKE, reason=reason)


def case_start_review(*, actor: User, number: str) -> Case:
    return _transition(actor=actor, number=number, action=A.START_REVIEW)


def case_start_special(*, actor: User, number: str, reason: str) -> Case:
    """特别程序 (听证, 检验检测, 专家评审…): the clock stops until it ends."""
    return _transition(actor=actor, number=number, action=A.START_SPECIAL, reason=reason)


def case_end_special(*, actor: User, number: str, note: str = "") -> Case:
    return _transition(actor=actor, number=number, action=A.END_SPECIAL, reason=note)


def case_decide(*, actor: User, number: str, approve: bool, reason: str) -> Case:
    """办结: 准予许可 or 不予许可, with reasons (a refusal must give them)."""
    return _transition(actor=actor, number=number, action=A.APPROVE if approve else A.DENY, reason=reason)


def case_issue(*, actor: User, number: str, note: str = "") -> Case:
    return _transition(actor=actor, number=number, action=A.ISSUE, reason=note)


def case_withdraw(
    *, actor: User | None, number: str, reason: str = "", remote: RemoteActor | None = None
) -> Case:
    return _transition(actor=actor, number=number, action=A.WITHDRAW, reason=reason, remote=remote)


def case_request_correction(*, actor: User, number: str, items: list[dict], note: str = "") -> Case:
    """一次性告知: one notice listing everything missing or wrong. Each item: material code (or free
    name) and the reason. The applicant is told once and completely; the clock stops."""
    cleaned = []
    for entry in items or []:
        name = (entry.get("name") or "").strip()
        code = (entry.get("material") or "").strip()
        reason = (entry.get("reason") or "").strip()
        if not (name or code) or not reason:
            continue
        cleaned.append({"material": code, "name": name, "reason": reason})
    if not cleaned:
        raise InvalidInput(
            error_codes.CORRECTION_ITEMS_REQUIRED,
            "补正告知必须逐项列明需要补充或更正的材料及原因。",
            errors=[
                FieldError(
                    "items", "请至少列出一项需要补正的材料及原因。", error_codes.CORRECTION_ITEMS_REQUIRED
                )
            ],
        )

    # Name each listed material as the catalogue names it, before anything is written.
    by_code = {m.code: m for m in access.case_for(actor, number).item.materials.all()}
    for entry in cleaned:
        if entry["material"]:
            material = by_code.get(entry["material"])
            if material is None:
                raise InvalidInput(
                    error_codes.MATERIAL_UNKNOWN, f"事项没有编码为“{entry['material']}”的材料。"
                )
            entry["name"] = entry["name"] or material.name

    def write_notice(case: Case) -> None:
        round_no = case.correction_notices.count() + 1
        CorrectionNotice.objects.create(
            case=case,
            round=round_no,
            items=cleaned,
            note=note,
            issued_by=actor,
            issued_by_label=actor.real_name or actor.username,
        )

    summary = "；".join(f"{e['name']}：{e['reason']}" for e in cleaned)
    return _transition(
        actor=actor,
        number=number,
        action=A.REQUEST_CORRECTION,
        reason=(note + "\n" if note else "") + summary,
        data={"items": cleaned},
        extra=write_notice,
    )


def case_resubmit(
    *,
    actor: User | None,
    number: str,
    files: Iterable[Upload] = (),
    form_data: dict | None = None,
    note: str = "",
    remote: RemoteActor | None = None,
) -> Case:
    """The applicant answers the 补正 notice with the listed materials (and, if asked, a corrected form)."""
    files = list(files)
    # Validate what can be validated outside the lock (content and size of each file).
    case_ro = access.case_received_from(remote.node, number) if remote else access.case_for(actor, number)
    checked = _check_uploads(case_ro.item, files)
    if form_data is not None:
        form_data = validate_form(case_ro.item.form_schema, form_data)

    with _files_removed_on_failure() as saved:

        def write(case: Case) -> None:
            notice = case.correction_notices.filter(resolved_at__isnull=True).order_by("-round").first()
            if notice is not None:
                given = {m.code for m, _ in checked}
                wanted = [e for e in notice.items if e["material"] and e["material"] not in given]
                if wanted:
                    names = "、".join(e["name"] for e in wanted)
                    raise InvalidInput(
                        error_codes.MATERIAL_MISSING,
                        f"补正告知要求的材料尚未提交：{names}。",
                        errors=[
                            FieldError(
                                f"material:{e['material']}",
                                f"请上传“{e['name']}”。",
                                error_codes.MATERIAL_MISSING,
                            )
                            for e in wanted
                        ],
                    )
                notice.resolved_at = timezone.now()
                notice.save(update_fields=["resolved_at"])
            _store_materials(case, checked, round_no=notice.round if notice else 0, actor=actor, saved=saved)
            if form_data is not None:
                case.form_data = form_data

        return _transition(
            actor=actor,
            number=number,
            action=A.RESUBMIT,
            reason=note,
            data={"materials": [m.code for m, _ in checked], "form_changed": form_data is not None},
            extra=write,
            remote=remote,
        )
