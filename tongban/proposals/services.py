"""Every change in proposal handling. Pages, API, CLI, tasks and the demo call these and nothing else.

Each service checks who may act (``tongban.proposals.access``), validates everything before it
writes, and then makes the whole change in one transaction: the rows, one :class:`ProposalEvent`
(who, for which unit, when, what), the audit entry and the notifications. A refused request leaves
nothing behind; attachment files written for a registration that then fails are removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone, translation

from tongban.accounts.constants import Role
from tongban.accounts.models import User
from tongban.cases import uploads
from tongban.core import audit, pii, workdays
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, TongbanError
from tongban.notifications.services import notify
from tongban.proposals import access, deadlines, error_codes, publication, similar
from tongban.proposals.constants import (
    DRAFTING_STATUSES,
    OPEN_STATUSES,
    AssignmentStatus,
    ExtensionStatus,
    ProposalAction,
    ProposalKind,
    ProposalStatus,
    PublicationStatus,
    ReplyPurpose,
    ReplyStatus,
    Satisfaction,
    UnitRole,
)
from tongban.proposals.letter_build import addressee, format_document_number, reply_title
from tongban.proposals.models import (
    Assignment,
    CoOpinion,
    CoSigner,
    DocumentNumberCounter,
    ExtensionRequest,
    Feedback,
    HandOver,
    Jurisdiction,
    Proposal,
    ProposalAttachment,
    ProposalEvent,
    ProposalReminder,
    Publication,
    Reply,
    ReplyVersion,
    UnitProfile,
)
from tongban.regions.models import Organisation, Region

A, S = ProposalAction, ProposalStatus
_PHONE_RE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$")
MAX_TEXT = 50_000
MAX_CO_SIGNERS = 50


# --- helpers --------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _label(actor) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "real_name", "") or actor.get_username()


def _required(value, field: str, message: str, code: str = error_codes.INVALID) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else value
    if not text:
        raise InvalidInput(code, message, errors=[FieldError(field, message, code)])
    return text


def _invalid(field: str, message: str, code: str = error_codes.INVALID) -> InvalidInput:
    return InvalidInput(code, message, errors=[FieldError(field, message, code)])


def _event(
    proposal: Proposal,
    action: str,
    actor,
    *,
    from_status: str = "",
    organisation: Organisation | None = None,
    note: str = "",
    data: dict | None = None,
) -> ProposalEvent:
    return ProposalEvent.objects.create(
        proposal=proposal,
        action=action,
        from_status=from_status,
        to_status=proposal.status,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_label(actor)[:128],
        organisation=organisation,
        note=note,
        data=data or {},
    )


def _audit(actor, action: str, target, data: dict | None = None) -> None:
    audit.record(actor=actor, action=f"proposal.{action}", target=target, data=data or {})


def _locked(public_id) -> Proposal:
    """The proposal, locked for the rest of the transaction (steps on one proposal queue up)."""
    try:
        return (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("jurisdiction", "lead_unit")
            .get(public_id=public_id)
        )
    except (Proposal.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(error_codes.NOT_FOUND, "未找到该建议提案。") from None


def _conflict(message: str, code: str = error_codes.STATE_CONFLICT) -> Conflict:
    return Conflict(code, message)


def _status_label(status: str) -> str:
    return str(ProposalStatus(status).label)


def _require_status(proposal: Proposal, allowed: Iterable[str], doing: str) -> None:
    if proposal.status not in set(allowed):
        raise _conflict(f"该建议提案当前状态为“{_status_label(proposal.status)}”，不能{doing}。")


def _unit_users(organisation_id: int | None, roles: Iterable[str]) -> list[User]:
    if organisation_id is None:
        return []
    wanted = set(roles)
    return [
        u
        for u in User.objects.filter(organisation_id=organisation_id, is_active=True)
        if wanted & set(u.roles or [])
    ]


def _office_users() -> list[User]:
    return [
        u
        for u in User.objects.filter(is_active=True, kind="staff")
        if Role.PROPOSAL_OFFICE in (u.roles or [])
    ]


def _notify_all(users: Iterable[User], title: str, body: str) -> None:
    # Stored text, read later in any language: written in the node's language.
    with translation.override(settings.LANGUAGE_CODE):
        for user in users:
            notify(user=user, title=title, body=body)


def _check_manage(actor) -> None:
    if actor is not None and not access.can_manage_proposals(actor):
        raise Forbidden(error_codes.FORBIDDEN, "仅建议提案交办人员可以进行此操作。")


def _set_deadline(proposal: Proposal, start: dt.date, months: int) -> deadlines.Deadline:
    d = deadlines.deadline_after(start, months)
    proposal.due_start, proposal.due_base = start, d.base
    proposal.due_date, proposal.due_provisional = d.date, d.provisional
    proposal.overdue_marked_at = None
    return d


def _due_text(proposal: Proposal) -> str:
    if not proposal.due_date:
        return ""
    return f"{proposal.due_date:%Y-%m-%d}" + (
        "（暂定：该年度节假日安排尚未公布）" if proposal.due_provisional else ""
    )


# --- jurisdictions and units ------------------------------------------------------------------------


def _check_rules(
    *,
    deadline_months: dict,
    transfer_window_workdays: int,
    extension_max_months: int,
    reminder_workdays: list,
    publication_delay_days: int,
    rehandle_months: int,
    max_rehandlings: int,
    class_table: list,
) -> None:
    errors: list[FieldError] = []

    def bad(field: str, message: str) -> None:
        errors.append(FieldError(field, message, error_codes.RULES_INVALID))

    def small_int(value, lo, hi) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi

    if not isinstance(deadline_months, dict) or set(deadline_months) - set(ProposalKind.values):
        bad("deadline_months", "答复期限应按类型（npc_suggestion、cppcc_proposal）填写月数。")
    else:
        for kind, months in deadline_months.items():
            if not small_int(months, 1, 12):
                bad(f"deadline_months.{kind}", "答复期限应为 1 至 12 个月。")
    if not small_int(transfer_window_workdays, 1, 30):
        bad("transfer_window_workdays", "签收或申请退回期限应为 1 至 30 个工作日。")
    longest = max([m for m in (deadline_months or {}).values() if isinstance(m, int)] or [0])
    if not small_int(extension_max_months, 1, 24) or extension_max_months < longest:
        bad("extension_max_months", "延期后最长办理期限应为 1 至 24 个月，且不短于答复期限。")
    if not isinstance(reminder_workdays, list) or not all(small_int(d, 1, 60) for d in reminder_workdays):
        bad("reminder_workdays", "到期前提醒应为 1 至 60 之间的工作日数列表。")
    if not small_int(publication_delay_days, 0, 365):
        bad("publication_delay_days", "公开延迟应为 0 至 365 天。")
    if not small_int(rehandle_months, 1, 12):
        bad("rehandle_months", "重新办理期限应为 1 至 12 个月。")
    if not small_int(max_rehandlings, 0, 5):
        bad("max_rehandlings", "最多重新办理次数应为 0 至 5。")
    codes = []
    if not isinstance(class_table, list) or not class_table:
        bad("class_table", "办复类别表不能为空。")
    else:
        for i, entry in enumerate(class_table):
            code = entry.get("code") if isinstance(entry, dict) else None
            if not isinstance(code, str) or not code.strip() or len(code) > 8:
                bad(f"class_table[{i}].code", "每个办复类别须有不超过 8 个字符的代码（如 A、甲）。")
            elif code in codes:
                bad(f"class_table[{i}].code", f"办复类别“{code}”重复。")
            else:
                codes.append(code)
            if isinstance(entry, dict) and not isinstance(entry.get("follow_up", False), bool):
                bad(f"class_table[{i}].follow_up", "follow_up 应为 true 或 false。")
    if errors:
        raise InvalidInput(error_codes.RULES_INVALID, f"办理规则有误：{errors[0].message}", errors=errors)


def jurisdiction_configure(
    *,
    actor,
    code: str,
    name: str,
    region_code: str | None = None,
    deadline_months: dict | None = None,
    transfer_window_workdays: int | None = None,
    extension_max_months: int | None = None,
    reminder_workdays: list | None = None,
    publication_delay_days: int | None = None,
    rehandle_months: int | None = None,
    max_rehandlings: int | None = None,
    class_table: list | None = None,
) -> Jurisdiction:
    """Creates a jurisdiction's rules or changes them; what is not given keeps its value (or the
    default). Deadlines already set are not moved by a change of rules."""
    _check_manage(actor)
    code = _required(code, "code", "请填写规则标识。")
    name = _required(name, "name", "请填写规则名称。")
    existing = Jurisdiction.objects.filter(code=code).first()
    j = existing or Jurisdiction(code=code)
    j.name = name
    if region_code:
        if not Region.objects.filter(code=region_code).exists():
            raise _invalid(
                "region_code", f"未知的行政区划代码“{region_code}”。", error_codes.UNKNOWN_JURISDICTION
            )
        j.region_id = region_code
    for field, value in (
        ("deadline_months", deadline_months),
        ("transfer_window_workdays", transfer_window_workdays),
        ("extension_max_months", extension_max_months),
        ("reminder_workdays", reminder_workdays),
        ("publication_delay_days", publication_delay_days),
        ("rehandle_months", rehandle_months),
        ("max_rehandlings", max_rehandlings),
        ("class_table", class_table),
    ):
        if value is not None:
            setattr(j, field, value)
    if isinstance(j.deadline_months, dict):
        j.deadline_months = {**{k: 3 for k in ProposalKind.values}, **j.deadline_months}
    _check_rules(
        deadline_months=j.deadline_months,
        transfer_window_workdays=j.transfer_window_workdays,
        extension_max_months=j.extension_max_months,
        reminder_workdays=j.reminder_workdays,
        publication_delay_days=j.publication_delay_days,
        rehandle_months=j.rehandle_months,
        max_rehandlings=j.max_rehandlings,
        class_table=j.class_table,
    )
    with transaction.atomic():
        j.save()
        _audit(actor, "rules_configure", j, {"code": code, "created": existing is None})
    return j


def jurisdiction_for(code: str | None) -> Jurisdiction:
    if code:
        j = Jurisdiction.objects.filter(code=code).first()
        if j is None:
            raise _invalid("jurisdiction", f"未知的办理规则“{code}”。", error_codes.UNKNOWN_JURISDICTION)
        return j
    j = Jurisdiction.objects.order_by("id").first()
    if j is None:
        j, _ = Jurisdiction.objects.get_or_create(code="default", defaults={"name": "默认规则"})
    return j


def unit_profile_set(
    *, actor, organisation_id: int, issuer_name: str, number_prefix: str, contact_phone: str = ""
) -> UnitProfile:
    """What a unit prints on its reply letters: the issuer's name and the 发文字号 prefix (瑶发改案)."""
    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        raise _invalid("organisation", "未知的承办单位。", error_codes.UNIT_UNKNOWN)
    if actor is not None and not (
        access.can_manage_proposals(actor) or access.can_sign_off_for(actor, organisation_id)
    ):
        raise Forbidden(error_codes.FORBIDDEN, "仅交办人员或本单位签发领导可以设置发文字号。")
    issuer_name = _required(issuer_name, "issuer_name", "请填写发文机关名称。")
    prefix = _required(number_prefix, "number_prefix", "请填写发文字号代字（如“瑶发改案”）。")
    if re.search(r"[〔〕\[\]0-9号]", prefix) or len(prefix) > 32:
        raise _invalid("number_prefix", "发文字号代字只写机关代字，不含年份、序号和“号”。")
    with transaction.atomic():
        profile, _created = UnitProfile.objects.update_or_create(
            organisation=org,
            defaults={
                "issuer_name": issuer_name,
                "number_prefix": prefix,
                "contact_phone": contact_phone.strip(),
            },
        )
        _audit(actor, "unit_profile_set", org, {"prefix": prefix})
    return profile


# --- registration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoSignerIn:
    name: str
    phone: str = ""


@contextlib.contextmanager
def _files_removed_on_failure() -> Iterator[list]:
    saved: list = []
    try:
        yield saved
    except BaseException:
        for storage, name in saved:
            with contextlib.suppress(OSError):
                storage.delete(name)
        raise


def _phone(value: str, field: str) -> str:
    p = (value or "").strip().replace(" ", "")
    if p and not _PHONE_RE.match(p):
        raise _invalid(field, "电话号码应为 11 位手机号码或带区号的固定电话。")
    return p


def proposal_register(
    *,
    actor,
    kind: str,
    session: str,
    serial: int,
    title: str,
    text: str,
    proposer_name: str,
    proposer_phone: str = "",
    proposer_address: str = "",
    proposer_unit: str = "",
    co_signers: Iterable[CoSignerIn] = (),
    attachments: Iterable = (),
    jurisdiction: str | None = None,
) -> Proposal:
    """登记: the office registers a suggestion or proposal; it waits to be handed over."""
    _check_manage(actor)
    if kind not in ProposalKind.values:
        raise _invalid(
            "kind", f"未知的建议提案类型“{kind}”，应为人大代表建议或政协提案。", error_codes.UNKNOWN_KIND
        )
    session = _required(session, "session", "请填写届次（如“区政协五届一次会议”）。")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 1:
        raise _invalid("serial", "编号应为正整数（如第 2 号填 2）。")
    title = _required(title, "title", "请填写标题。")
    text = _required(text, "text", "请填写建议提案内容。")
    proposer_name = _required(proposer_name, "proposer_name", "请填写领衔人姓名。")
    if len(title) > 200 or len(text) > MAX_TEXT or len(session) > 64 or len(proposer_name) > 64:
        raise _invalid("text", "标题、届次、姓名或内容超过长度限制。")
    phone = _phone(proposer_phone, "proposer_phone")
    signers = list(co_signers)
    if len(signers) > MAX_CO_SIGNERS:
        raise _invalid("co_signers", f"联名人不能超过 {MAX_CO_SIGNERS} 人。")
    for i, s in enumerate(signers):
        _required(s.name, f"co_signers[{i}].name", "请填写联名人姓名。")
        _phone(s.phone, f"co_signers[{i}].phone")
    j = jurisdiction_for(jurisdiction)
    checked = [uploads.inspect(f, field=f"attachments[{i}]") for i, f in enumerate(attachments)]
    if Proposal.objects.filter(jurisdiction=j, kind=kind, session=session, serial=serial).exists():
        raise _invalid("serial", f"{session}第{serial}号已经登记。", error_codes.DUPLICATE_NUMBER)
    with _files_removed_on_failure() as saved, transaction.atomic():
        proposal = Proposal(
            jurisdiction=j,
            kind=kind,
            session=session,
            serial=serial,
            title=title,
            text=text,
            proposer_name=proposer_name,
            proposer_unit=(proposer_unit or "").strip()[:128],
            proposer_phone_enc=pii.encrypt(phone, purpose="phone") if phone else "",
            proposer_address_enc=(
                pii.encrypt(proposer_address.strip(), purpose="address")
                if (proposer_address or "").strip()
                else ""
            ),
            status=S.REGISTERED,
            registered_by=actor if getattr(actor, "pk", None) else None,
            registered_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                proposal.save()
        except IntegrityError:
            raise _invalid(
                "serial", f"{session}第{serial}号已经登记。", error_codes.DUPLICATE_NUMBER
            ) from None
        CoSigner.objects.bulk_create(
            CoSigner(
                proposal=proposal,
                name=s.name.strip(),
                phone_enc=pii.encrypt(s.phone.strip(), purpose="phone") if s.phone.strip() else "",
                sort=i,
            )
            for i, s in enumerate(signers)
        )
        for inspected in checked:
            row = ProposalAttachment(
                proposal=proposal,
                name=(inspected.file.name or "附件")[:200],
                content_type=inspected.content_type,
                size=inspected.size,
                sha256=inspected.sha256,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            row.file.save("attachment", inspected.file, save=False)
            saved.append((row.file.storage, row.file.name))
            row.save()
        _event(proposal, A.REGISTER, actor, data={"co_signers": len(signers), "attachments": len(checked)})
        _audit(actor, "register", proposal, {"kind": kind, "reference": proposal.reference})
        similar.document_write(proposal)
    return proposal


# --- hand-over and the units' responses -------------------------------------------------------------------


def proposal_hand_over(
    *,
    actor,
    proposal_id,
    lead_unit_id: int | None,
    co_unit_ids: Iterable[int] = (),
    note: str = "",
    on: dt.date | None = None,
) -> HandOver:
    """交办: to a lead unit and co-handling units. The reply deadline is counted from ``on`` (the
    hand-over date, today by default), the transfer window in working days from it."""
    _check_manage(actor)
    if not lead_unit_id:
        raise _invalid("lead_unit", "交办须指定主办单位。", error_codes.LEAD_UNIT_REQUIRED)
    co_ids = [int(i) for i in co_unit_ids if i]
    if lead_unit_id in co_ids or len(set(co_ids)) != len(co_ids):
        raise _invalid("co_units", "协办单位不能重复，也不能与主办单位相同。", error_codes.UNIT_DUPLICATE)
    units = Organisation.objects.in_bulk([lead_unit_id, *co_ids])
    missing = [i for i in [lead_unit_id, *co_ids] if i not in units]
    if missing:
        raise _invalid(
            "lead_unit" if lead_unit_id in missing else "co_units",
            "未知的承办单位。",
            error_codes.UNIT_UNKNOWN,
        )
    on = on or _today()
    if on > _today():
        raise _invalid("on", "交办日期不能晚于今天。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _require_status(proposal, [S.REGISTERED], "交办")
        j = proposal.jurisdiction
        window = deadlines.window_end(on, j.transfer_window_workdays)
        hand_over = HandOver.objects.create(
            proposal=proposal,
            handed_over_on=on,
            window_ends=window.date,
            note=(note or "").strip(),
            handed_over_by=actor if getattr(actor, "pk", None) else None,
        )
        Assignment.objects.bulk_create(
            [
                Assignment(
                    hand_over=hand_over, proposal=proposal, organisation_id=lead_unit_id, role=UnitRole.LEAD
                )
            ]
            + [
                Assignment(hand_over=hand_over, proposal=proposal, organisation_id=i, role=UnitRole.CO)
                for i in co_ids
            ]
        )
        before = proposal.status
        proposal.status = S.HANDED_OVER
        proposal.lead_unit_id = lead_unit_id
        proposal.handed_over_on = on
        proposal.extended_months = 0
        d = _set_deadline(proposal, on, j.months_for(proposal.kind))
        proposal.save()
        _event(
            proposal,
            A.HAND_OVER,
            actor,
            from_status=before,
            organisation=units[lead_unit_id],
            note=proposal.lead_unit.name if proposal.lead_unit else "",
            data={
                "lead": lead_unit_id,
                "co": co_ids,
                "due_date": d.date.isoformat(),
                "due_provisional": d.provisional,
                "window_ends": window.date.isoformat(),
            },
        )
        _audit(
            actor, "hand_over", proposal, {"lead": lead_unit_id, "co": co_ids, "due_date": d.date.isoformat()}
        )
        body = (
            f"{proposal.reference}“{proposal.title}”已交办贵单位（{{role}}）。"
            f"请于 {window.date:%Y-%m-%d} 前签收或申请退回；答复期限：{_due_text(proposal)}。"
        )
        for org_id in [lead_unit_id, *co_ids]:
            role = "主办" if org_id == lead_unit_id else "协办"
            _notify_all(
                _unit_users(org_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER]),
                f"新交办{proposal.reference}",
                body.format(role=role),
            )
    return hand_over


def _active_assignment(proposal: Proposal, organisation_id: int | None) -> Assignment | None:
    return (
        Assignment.objects.select_for_update(of=("self",))
        .filter(proposal=proposal, hand_over__active=True, organisation_id=organisation_id)
        .select_related("hand_over", "organisation")
        .first()
    )


def _respond_checks(actor, proposal: Proposal, doing: str) -> Assignment:
    org_id = getattr(actor, "organisation_id", None)
    if not access.can_handle_for(actor, org_id) and not access.can_sign_off_for(actor, org_id):
        raise Forbidden(error_codes.FORBIDDEN, "仅承办单位的承办人员或签发领导可以签收或申请退回。")
    assignment = _active_assignment(proposal, org_id)
    if assignment is None:
        raise Forbidden(error_codes.FORBIDDEN, "该建议提案未交办贵单位。")
    if assignment.status != AssignmentStatus.PENDING:
        raise _conflict(f"贵单位已{AssignmentStatus(assignment.status).label}，不能再{doing}。")
    if _today() > assignment.hand_over.window_ends:
        raise _conflict(
            f"签收期限已于 {assignment.hand_over.window_ends:%Y-%m-%d} 届满，不能再{doing}；如有异议请联系交办部门。",
            error_codes.TRANSFER_WINDOW_CLOSED,
        )
    return assignment


def _lead_accepted(proposal: Proposal, actor, action: str, assignment: Assignment) -> str | None:
    """A lead unit's acceptance starts the handling; returns the status before, if it changed."""
    if assignment.role == UnitRole.LEAD and proposal.status == S.HANDED_OVER:
        before = proposal.status
        proposal.status = S.HANDLING
        proposal.save(update_fields=["status", "updated_at"])
        return before
    return None


def assignment_accept(*, actor, proposal_id) -> Assignment:
    """签收: the unit takes the proposal on, within the transfer window."""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        assignment = _respond_checks(actor, proposal, "签收")
        assignment.status = AssignmentStatus.ACCEPTED
        assignment.responded_at, assignment.responded_by = timezone.now(), actor
        assignment.save(update_fields=["status", "responded_at", "responded_by"])
        before = _lead_accepted(proposal, actor, A.ACCEPT, assignment) or proposal.status
        _event(
            proposal,
            A.ACCEPT,
            actor,
            from_status=before,
            organisation=assignment.organisation,
            data={"role": assignment.role},
        )
        _audit(
            actor, "accept", proposal, {"organisation": assignment.organisation_id, "role": assignment.role}
        )
    return assignment


def assignment_request_return(*, actor, proposal_id, reason: str, suggested_unit: str = "") -> Assignment:
    """申请退回: the unit says the proposal is not theirs (within the window), with a reason."""
    reason = _required(reason, "reason", "申请退回须说明理由。", error_codes.REASON_REQUIRED)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        assignment = _respond_checks(actor, proposal, "申请退回")
        assignment.status = AssignmentStatus.RETURN_REQUESTED
        assignment.responded_at, assignment.responded_by = timezone.now(), actor
        assignment.return_reason = reason
        assignment.suggested_unit = (suggested_unit or "").strip()[:128]
        assignment.save()
        _event(
            proposal,
            A.REQUEST_RETURN,
            actor,
            from_status=proposal.status,
            organisation=assignment.organisation,
            note=reason,
            data={"role": assignment.role},
        )
        _audit(actor, "request_return", proposal, {"organisation": assignment.organisation_id})
        _notify_all(
            _office_users(),
            f"{proposal.reference}申请退回",
            f"{assignment.organisation.name}申请退回{proposal.reference}“{proposal.title}”。理由：{reason}",
        )
    return assignment


def assignment_return_decide(
    *, actor, proposal_id, organisation_id: int, approve: bool, note: str = ""
) -> Assignment:
    """The office agrees to a return (the unit leaves; a lead unit's return sends the proposal back to
    be handed over again) or refuses it (the unit handles it: it counts as accepted)."""
    _check_manage(actor)
    if not approve:
        note = _required(note, "note", "不同意退回须说明理由。", error_codes.REASON_REQUIRED)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        assignment = _active_assignment(proposal, organisation_id)
        if assignment is None or assignment.status != AssignmentStatus.RETURN_REQUESTED:
            raise _conflict("该单位没有待处理的退回申请。")
        assignment.decided_at, assignment.decided_by, assignment.decision_note = (
            timezone.now(),
            actor,
            note or "",
        )
        before = proposal.status
        if approve:
            assignment.status = AssignmentStatus.RETURNED
            assignment.save()
            if assignment.role == UnitRole.LEAD:
                HandOver.objects.filter(pk=assignment.hand_over_id).update(active=False)
                proposal.status = S.REGISTERED
                proposal.lead_unit = None
                proposal.due_date = proposal.due_base = proposal.due_start = None
                proposal.due_provisional = False
                proposal.save()
            action = A.APPROVE_RETURN
        else:
            assignment.status = AssignmentStatus.ACCEPTED
            assignment.save()
            _lead_accepted(proposal, actor, A.REFUSE_RETURN, assignment)
            action = A.REFUSE_RETURN
        _event(
            proposal,
            action,
            actor,
            from_status=before,
            organisation=assignment.organisation,
            note=note or "",
            data={"role": assignment.role},
        )
        _audit(actor, action, proposal, {"organisation": organisation_id, "role": assignment.role})
        _notify_all(
            _unit_users(organisation_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER]),
            f"{proposal.reference}退回申请{'已同意' if approve else '未同意'}",
            f"交办部门{'同意' if approve else '不同意'}贵单位退回{proposal.reference}。{note or ''}",
        )
    return assignment


def assignments_deem_accepted(*, today: dt.date | None = None) -> int:
    """Pending assignments whose transfer window has passed count as accepted (逾期视为签收)."""
    today = today or _today()
    done = 0
    due = (
        Assignment.objects.filter(
            status=AssignmentStatus.PENDING, hand_over__active=True, hand_over__window_ends__lt=today
        )
        .values_list("proposal__public_id", "organisation_id")
        .distinct()
    )
    for public_id, org_id in list(due):
        with transaction.atomic():
            proposal = _locked(public_id)
            assignment = _active_assignment(proposal, org_id)
            if assignment is None or assignment.status != AssignmentStatus.PENDING:
                continue
            assignment.status = AssignmentStatus.ACCEPTED
            assignment.responded_at = timezone.now()
            assignment.save(update_fields=["status", "responded_at"])
            before = _lead_accepted(proposal, None, A.DEEMED_ACCEPTED, assignment) or proposal.status
            _event(
                proposal,
                A.DEEMED_ACCEPTED,
                None,
                from_status=before,
                organisation=assignment.organisation,
                data={"role": assignment.role, "window_ends": assignment.hand_over.window_ends.isoformat()},
            )
            _audit(None, "deemed_accepted", proposal, {"organisation": org_id})
            done += 1
    return done


# --- co-handling and the reply --------------------------------------------------------------------------


def co_opinion_submit(*, actor, proposal_id, text: str) -> CoOpinion:
    """协办意见: a co-handling unit that accepted sends its opinion to the lead unit."""
    text = _required(text, "text", "请填写协办意见。")
    org_id = getattr(actor, "organisation_id", None)
    if not (access.can_handle_for(actor, org_id) or access.can_sign_off_for(actor, org_id)):
        raise Forbidden(error_codes.FORBIDDEN, "仅协办单位的承办人员可以提交协办意见。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        assignment = _active_assignment(proposal, org_id)
        if assignment is None or assignment.role != UnitRole.CO:
            raise Forbidden(error_codes.FORBIDDEN, "贵单位不是该建议提案的协办单位。")
        if assignment.status != AssignmentStatus.ACCEPTED:
            raise _conflict("请先签收，再提交协办意见。")
        _require_status(proposal, [S.HANDED_OVER, S.HANDLING, S.REHANDLING], "提交协办意见")
        opinion = CoOpinion.objects.create(
            proposal=proposal,
            assignment=assignment,
            organisation_id=org_id,
            round=proposal.round,
            text=text,
            author=actor,
        )
        _event(
            proposal, A.CO_OPINION, actor, from_status=proposal.status, organisation=assignment.organisation
        )
        _audit(actor, "co_opinion", proposal, {"organisation": org_id})
        _notify_all(
            _unit_users(proposal.lead_unit_id, [Role.PROPOSAL_HANDLER]),
            f"{proposal.reference}收到协办意见",
            f"{assignment.organisation.name}提交了{proposal.reference}的协办意见。",
        )
    return opinion


def _check_lead(actor, proposal: Proposal, *, sign: bool = False, doing: str) -> None:
    org_id = proposal.lead_unit_id
    allowed = (
        access.can_sign_off_for(actor, org_id)
        if sign
        else (access.can_handle_for(actor, org_id) or access.can_sign_off_for(actor, org_id))
    )
    if not allowed:
        who = "主办单位的签发领导" if sign else "主办单位的承办人员"
        raise Forbidden(error_codes.FORBIDDEN, f"仅{who}可以{doing}。")


def _purpose_for(proposal: Proposal) -> str:
    return {
        S.HANDLING: ReplyPurpose.FIRST,
        S.REHANDLING: ReplyPurpose.SECOND,
        S.FOLLOW_UP: ReplyPurpose.FOLLOW_UP,
    }[proposal.status]


def _open_reply(proposal: Proposal) -> Reply | None:
    return (
        Reply.objects.select_for_update().filter(proposal=proposal).exclude(status=ReplyStatus.SENT).first()
    )


def _check_class(proposal: Proposal, reply_class: str, *, required: bool) -> str:
    code = (reply_class or "").strip()
    if not code:
        if required:
            raise _invalid("reply_class", "答复须选择办复类别。", error_codes.CLASS_REQUIRED)
        return ""
    if proposal.jurisdiction.class_entry(code) is None:
        known = "、".join(c["code"] for c in proposal.jurisdiction.class_table)
        raise _invalid("reply_class", f"未知的办复类别“{code}”，应为{known}之一。", error_codes.UNKNOWN_CLASS)
    return code


def reply_save_draft(
    *,
    actor,
    proposal_id,
    body: str,
    reply_class: str = "",
    contact_unit: str = "",
    contact_phone: str = "",
    copy_to: Iterable[str] = (),
    promise_due: dt.date | None = None,
) -> Reply:
    """拟稿: the lead unit saves a version of its reply (the first, the second after 不满意, or the
    follow-up one of a B-class promise). Every save is a new :class:`ReplyVersion`."""
    body = _required(body, "body", "请填写答复正文。", error_codes.BODY_REQUIRED)
    if len(body) > MAX_TEXT:
        raise _invalid("body", "答复正文过长。")
    copies = [c.strip() for c in copy_to if c and c.strip()]
    phone = (contact_phone or "").strip()
    if phone and not re.fullmatch(r"[0-9\-（）() ]{7,20}", phone):
        raise _invalid("contact_phone", "联系电话只能包含数字、括号和连字符。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _check_lead(actor, proposal, doing="拟写答复")
        if proposal.status == S.HANDED_OVER:
            raise _conflict("主办单位签收后才能拟写答复。")
        _require_status(proposal, DRAFTING_STATUSES, "拟写答复")
        code = _check_class(proposal, reply_class, required=False)
        reply = _open_reply(proposal)
        if reply is None:
            profile = UnitProfile.objects.filter(organisation_id=proposal.lead_unit_id).first()
            reply = Reply(
                proposal=proposal,
                organisation_id=proposal.lead_unit_id,
                round=proposal.round,
                purpose=_purpose_for(proposal),
                contact_unit=profile.issuer_name if profile else proposal.lead_unit.name,
                contact_phone=(profile.contact_phone if profile else "") or proposal.lead_unit.phone,
            )
        elif reply.status != ReplyStatus.DRAFT:
            raise _conflict(f"答复稿{ReplyStatus(reply.status).label}，退回修改前不能改动。")
        reply.reply_class = code
        reply.body = body
        reply.contact_unit = (contact_unit or "").strip()[:128] or reply.contact_unit
        reply.contact_phone = phone or reply.contact_phone
        reply.copy_to = copies
        reply.promise_due = promise_due
        reply.drafted_by = actor
        reply.version += 1
        reply.save()
        ReplyVersion.objects.create(
            reply=reply,
            version=reply.version,
            reply_class=code,
            body=body,
            contact_unit=reply.contact_unit,
            contact_phone=reply.contact_phone,
            copy_to=copies,
            saved_by=actor,
        )
        _event(
            proposal,
            A.DRAFT,
            actor,
            from_status=proposal.status,
            organisation=proposal.lead_unit,
            data={"version": reply.version, "class": code, "purpose": reply.purpose},
        )
        _audit(actor, "draft", proposal, {"version": reply.version, "class": code})
    return reply


def _reply_in(proposal: Proposal, status: str, doing: str) -> Reply:
    reply = _open_reply(proposal)
    if reply is None:
        raise _conflict(f"还没有答复稿，不能{doing}。")
    if reply.status != status:
        raise _conflict(f"答复稿当前为“{ReplyStatus(reply.status).label}”，不能{doing}。")
    return reply


def reply_submit_for_review(*, actor, proposal_id) -> Reply:
    """送核: the draft is complete (class, body, contact; for a class whose promise is followed up,
    the promised date) and goes to review."""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _check_lead(actor, proposal, doing="提交核稿")
        reply = _reply_in(proposal, ReplyStatus.DRAFT, "提交核稿")
        code = _check_class(proposal, reply.reply_class, required=True)
        entry = proposal.jurisdiction.class_entry(code) or {}
        if entry.get("follow_up") and reply.purpose != ReplyPurpose.FOLLOW_UP and not reply.promise_due:
            raise _invalid(
                "promise_due",
                f"{entry.get('label', code)}答复须填写承诺解决时限，以便跟踪落实。",
                error_codes.PROMISE_DATE_REQUIRED,
            )
        if not reply.contact_phone:
            raise _invalid("contact_phone", "请填写联系电话。")
        reply.status = ReplyStatus.IN_REVIEW
        reply.save(update_fields=["status", "updated_at"])
        _event(
            proposal,
            A.SUBMIT_REVIEW,
            actor,
            from_status=proposal.status,
            organisation=proposal.lead_unit,
            data={"version": reply.version},
        )
        _audit(actor, "submit_review", proposal, {"version": reply.version})
    return reply


def reply_review(*, actor, proposal_id, approve: bool, comment: str = "") -> Reply:
    """核稿: a handler or the signer of the lead unit passes the draft on to sign-off, or sends it
    back with a comment."""
    if not approve:
        comment = _required(comment, "comment", "退回修改须填写意见。", error_codes.REASON_REQUIRED)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _check_lead(actor, proposal, doing="核稿")
        reply = _reply_in(proposal, ReplyStatus.IN_REVIEW, "核稿")
        if approve and reply.drafted_by_id == actor.pk:
            # Four eyes: whoever drafted the reply does not pass it on; they may still take it back.
            raise Forbidden(
                error_codes.REVIEW_OWN_DRAFT, "拟稿人不能核稿通过自己起草的答复，请由本单位其他人员核稿。"
            )
        reply.status = ReplyStatus.AWAITING_SIGN_OFF if approve else ReplyStatus.DRAFT
        reply.reviewer, reply.reviewed_at = actor, timezone.now()
        reply.save(update_fields=["status", "reviewer", "reviewed_at", "updated_at"])
        action = A.REVIEW_PASS if approve else A.REVIEW_RETURN
        _event(
            proposal,
            action,
            actor,
            from_status=proposal.status,
            organisation=proposal.lead_unit,
            note=comment or "",
            data={"version": reply.version},
        )
        _audit(actor, action, proposal, {"version": reply.version})
        if approve:
            _notify_all(
                _unit_users(proposal.lead_unit_id, [Role.PROPOSAL_SIGNER]),
                f"{proposal.reference}答复待签发",
                f"{proposal.reference}的答复稿已核稿，请签发。",
            )
    return reply


def _next_document_seq(organisation_id: int, year: int) -> int:
    """The unit's next number of ``year``, taken inside the caller's transaction: the counter row stays
    locked until it commits, and a rollback gives the number back (no gaps)."""
    table = DocumentNumberCounter._meta.db_table
    sql = (
        f"INSERT INTO {table} (organisation_id, year, last) VALUES (%s, %s, 1) "
        f"ON CONFLICT (organisation_id, year) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )
    with connections[router.db_for_write(DocumentNumberCounter)].cursor() as cursor:
        cursor.execute(sql, [organisation_id, year])
        return cursor.fetchone()[0]


def reply_sign_off(
    *, actor, proposal_id, approve: bool = True, comment: str = "", signed_on: dt.date | None = None
) -> Reply:
    """签发: the lead unit's leader signs the reply off; it gets its 发文字号 (the unit's prefix, the
    year of the 成文日期 and the next number of that year). Or sends it back with a comment."""
    if not approve:
        comment = _required(comment, "comment", "退回修改须填写意见。", error_codes.REASON_REQUIRED)
    signed_on = signed_on or _today()
    if signed_on > _today():
        raise _invalid("signed_on", "成文日期不能晚于今天。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _check_lead(actor, proposal, sign=True, doing="签发")
        reply = _reply_in(proposal, ReplyStatus.AWAITING_SIGN_OFF, "签发")
        if not approve:
            reply.status = ReplyStatus.DRAFT
            reply.save(update_fields=["status", "updated_at"])
            _event(
                proposal,
                A.SIGN_OFF_RETURN,
                actor,
                from_status=proposal.status,
                organisation=proposal.lead_unit,
                note=comment,
            )
            _audit(actor, "sign_off_return", proposal, {"version": reply.version})
            return reply
        profile = UnitProfile.objects.filter(organisation_id=proposal.lead_unit_id).first()
        if profile is None:
            raise _conflict(
                f"{proposal.lead_unit.name}尚未设置发文机关和发文字号代字，请先设置。",
                error_codes.UNIT_PROFILE_MISSING,
            )
        seq = _next_document_seq(proposal.lead_unit_id, signed_on.year)
        reply.status = ReplyStatus.SIGNED_OFF
        reply.signer, reply.signer_name = actor, _label(actor)
        reply.signed_at, reply.signed_on = timezone.now(), signed_on
        reply.issuer_name = profile.issuer_name
        reply.doc_year, reply.doc_seq = signed_on.year, seq
        reply.document_number = format_document_number(profile.number_prefix, signed_on.year, seq)
        reply.save()
        _event(
            proposal,
            A.SIGN_OFF,
            actor,
            from_status=proposal.status,
            organisation=proposal.lead_unit,
            data={
                "document_number": reply.document_number,
                "class": reply.reply_class,
                "version": reply.version,
            },
        )
        _audit(actor, "sign_off", proposal, {"document_number": reply.document_number})
    return reply


def reply_send(*, actor, proposal_id, sent_on: dt.date | None = None) -> Reply:
    """送达: the signed-off reply goes to the proposer. Timeliness is judged against the deadline in
    force; the reply is prepared for publication (pending the reviewer) and indexed for similar cases."""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if not access.can_manage_proposals(actor):
            _check_lead(actor, proposal, doing="送达答复")
        reply = _open_reply(proposal)
        if reply is None or reply.status != ReplyStatus.SIGNED_OFF:
            raise _conflict("答复尚未签发，不能送达。", error_codes.NOT_SIGNED_OFF)
        now = timezone.now()
        sent_day = sent_on or timezone.localdate(now)
        reply.status = ReplyStatus.SENT
        reply.sent_at, reply.sent_by = now, actor
        reply.due_date_at_send = (
            proposal.promise_due if reply.purpose == ReplyPurpose.FOLLOW_UP else proposal.due_date
        )
        reply.on_time = reply.due_date_at_send is None or sent_day <= reply.due_date_at_send
        reply.save()
        before = proposal.status
        if reply.purpose == ReplyPurpose.FOLLOW_UP:
            proposal.status = S.CLOSED
            proposal.closed_at = now
        else:
            proposal.status = S.REPLIED
            proposal.reply_class = reply.reply_class
            proposal.promise_due = reply.promise_due
        proposal.save()
        _event(
            proposal,
            A.SEND,
            actor,
            from_status=before,
            organisation=proposal.lead_unit,
            data={
                "document_number": reply.document_number,
                "on_time": reply.on_time,
                "purpose": reply.purpose,
            },
        )
        if proposal.status == S.CLOSED:
            _event(proposal, A.CLOSE, actor, from_status=S.FOLLOW_UP, note="跟踪答复已送达，承诺事项已落实。")
        _audit(actor, "send", proposal, {"document_number": reply.document_number, "on_time": reply.on_time})
        publication_prepare(reply, sent_on=sent_day)
        similar.document_write(proposal)
        _notify_all(
            _office_users(),
            f"{proposal.reference}已答复",
            f"{proposal.lead_unit.name}已送达{proposal.reference}的答复（{reply.document_number}），请征询意见。",
        )
    return reply


# --- feedback, re-handling and follow-up -----------------------------------------------------------------


def feedback_record(
    *, actor, proposal_id, satisfaction: str, comments: str = "", received_on: dt.date | None = None
) -> Feedback:
    """征询意见: the proposer's answer. 不满意 re-opens the proposal with a new deadline for a second
    reply (as often as the jurisdiction allows); otherwise a class whose promise is followed up (B)
    stays tracked, anything else is closed."""
    _check_manage(actor)
    if satisfaction not in Satisfaction.values:
        raise _invalid("satisfaction", "满意度应为满意、基本满意或不满意。", error_codes.UNKNOWN_SATISFACTION)
    received_on = received_on or _today()
    if received_on > _today():
        raise _invalid("received_on", "反馈日期不能晚于今天。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.status != S.REPLIED:
            raise _conflict(
                f"该建议提案当前状态为“{_status_label(proposal.status)}”，尚未答复，不能登记征询意见。",
                error_codes.NOT_ANSWERED,
            )
        reply = (
            Reply.objects.filter(proposal=proposal, status=ReplyStatus.SENT)
            .exclude(purpose=ReplyPurpose.FOLLOW_UP)
            .order_by("-id")
            .first()
        )
        feedback = Feedback.objects.create(
            proposal=proposal,
            reply=reply,
            satisfaction=satisfaction,
            comments=(comments or "").strip(),
            received_on=received_on,
            recorded_by=actor,
        )
        proposal.satisfaction = satisfaction
        j = proposal.jurisdiction
        entry = j.class_entry(proposal.reply_class) or {}
        before = proposal.status
        _event(
            proposal,
            A.FEEDBACK,
            actor,
            from_status=before,
            note=feedback.comments,
            data={"satisfaction": satisfaction, "reply": str(reply.public_id)},
        )
        if satisfaction == Satisfaction.UNSATISFIED and proposal.rehandlings < j.max_rehandlings:
            proposal.status = S.REHANDLING
            proposal.round += 1
            proposal.rehandlings += 1
            proposal.extended_months = 0
            d = _set_deadline(proposal, received_on, j.rehandle_months)
            proposal.save()
            _event(
                proposal,
                A.REOPEN,
                actor,
                from_status=before,
                organisation=proposal.lead_unit,
                data={
                    "round": proposal.round,
                    "due_date": d.date.isoformat(),
                    "due_provisional": d.provisional,
                },
            )
            _notify_all(
                _unit_users(proposal.lead_unit_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER]),
                f"{proposal.reference}须重新办理",
                f"领衔人对{proposal.reference}的答复不满意，请重新办理并再次答复。答复期限：{_due_text(proposal)}。"
                + (f"\n意见：{feedback.comments}" if feedback.comments else ""),
            )
        elif entry.get("follow_up") and proposal.promise_due is not None:
            proposal.status = S.FOLLOW_UP
            proposal.save()
            _event(
                proposal,
                A.FOLLOW_UP,
                actor,
                from_status=before,
                organisation=proposal.lead_unit,
                data={"promise_due": proposal.promise_due.isoformat()},
            )
        else:
            proposal.status = S.CLOSED
            proposal.closed_at = timezone.now()
            proposal.save()
            _event(proposal, A.CLOSE, actor, from_status=before)
        _audit(actor, "feedback", proposal, {"satisfaction": satisfaction, "status": proposal.status})
    return feedback


# --- extensions -------------------------------------------------------------------------------------------


def extension_request(*, actor, proposal_id, months: int, reason: str) -> ExtensionRequest:
    """延期申请: the lead unit asks for more time; the whole time from the start may not exceed the
    jurisdiction's maximum (6 months by default)."""
    reason = _required(reason, "reason", "申请延期须说明理由。", error_codes.REASON_REQUIRED)
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise _invalid("months", "延期月数应为正整数。")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        _check_lead(actor, proposal, doing="申请延期")
        _require_status(proposal, [S.HANDED_OVER, S.HANDLING, S.REHANDLING], "申请延期")
        if ExtensionRequest.objects.filter(proposal=proposal, status=ExtensionStatus.PENDING).exists():
            raise _conflict("已有待审批的延期申请。", error_codes.EXTENSION_PENDING)
        j = proposal.jurisdiction
        base = j.rehandle_months if proposal.status == S.REHANDLING else j.months_for(proposal.kind)
        total = base + proposal.extended_months + months
        if total > j.extension_max_months:
            room = j.extension_max_months - base - proposal.extended_months
            raise _invalid(
                "months",
                f"延期后办理期限共 {total} 个月，超过最长 {j.extension_max_months} 个月；最多还可延期 {max(room, 0)} 个月。",
                error_codes.EXTENSION_TOO_LONG,
            )
        ext = ExtensionRequest.objects.create(
            proposal=proposal,
            organisation_id=proposal.lead_unit_id,
            months=months,
            reason=reason,
            requested_by=actor,
        )
        _event(
            proposal,
            A.REQUEST_EXTENSION,
            actor,
            from_status=proposal.status,
            organisation=proposal.lead_unit,
            note=reason,
            data={"months": months},
        )
        _audit(actor, "request_extension", proposal, {"months": months})
        _notify_all(
            _office_users(),
            f"{proposal.reference}申请延期",
            f"{proposal.lead_unit.name}申请将{proposal.reference}的答复期限延长 {months} 个月。理由：{reason}",
        )
    return ext


def extension_decide(*, actor, extension_id: int, approve: bool, note: str = "") -> ExtensionRequest:
    _check_manage(actor)
    if not approve:
        note = _required(note, "note", "不予延期须说明理由。", error_codes.REASON_REQUIRED)
    ext = ExtensionRequest.objects.filter(pk=extension_id).select_related("proposal").first()
    if ext is None:
        raise NotFound(error_codes.NOT_FOUND, "未找到该延期申请。")
    with transaction.atomic():
        proposal = _locked(ext.proposal.public_id)
        ext = ExtensionRequest.objects.select_for_update().get(pk=extension_id)
        if ext.status != ExtensionStatus.PENDING:
            raise _conflict("该延期申请已处理。")
        before = proposal.status
        ext.decided_by, ext.decided_at, ext.decision_note = actor, timezone.now(), note or ""
        if approve:
            _require_status(proposal, [S.HANDED_OVER, S.HANDLING, S.REHANDLING], "延期")
            j = proposal.jurisdiction
            base = j.rehandle_months if proposal.status == S.REHANDLING else j.months_for(proposal.kind)
            proposal.extended_months += ext.months
            d = _set_deadline(proposal, proposal.due_start, base + proposal.extended_months)
            proposal.save()
            ext.status, ext.new_due_date = ExtensionStatus.APPROVED, d.date
            action = A.APPROVE_EXTENSION
            data = {"months": ext.months, "due_date": d.date.isoformat(), "due_provisional": d.provisional}
        else:
            ext.status = ExtensionStatus.REFUSED
            action = A.REFUSE_EXTENSION
            data = {"months": ext.months}
        ext.save()
        _event(
            proposal,
            action,
            actor,
            from_status=before,
            organisation=proposal.lead_unit,
            note=note or "",
            data=data,
        )
        _audit(actor, action, proposal, data)
        _notify_all(
            _unit_users(proposal.lead_unit_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER]),
            f"{proposal.reference}延期申请{'已批准' if approve else '未批准'}",
            f"答复期限：{_due_text(proposal)}。{note or ''}",
        )
    return ext


# --- deadlines: reminders, overdue marks, provisional ones confirmed -------------------------------------


def _active_due(proposal: Proposal) -> dt.date | None:
    if proposal.status == S.FOLLOW_UP:
        return proposal.promise_due
    if proposal.status in OPEN_STATUSES:
        return proposal.due_date
    return None


def reminders_send(*, today: dt.date | None = None) -> dict:
    """到期提醒 and 超期标记: reminders a number of working days before a deadline (the jurisdiction's
    list; each sent once per deadline) to the lead unit; overdue marks the day after it. Safe to re-run."""
    today = today or _today()
    reminded = overdue = 0
    candidates = Proposal.objects.filter(status__in=[*OPEN_STATUSES, S.FOLLOW_UP]).select_related(
        "jurisdiction", "lead_unit"
    )
    for proposal in candidates.iterator(chunk_size=500):
        due = _active_due(proposal)
        if due is None:
            continue
        if due < today:
            if proposal.overdue_marked_at is None:
                with transaction.atomic():
                    p = _locked(proposal.public_id)
                    if p.overdue_marked_at is not None:
                        continue
                    p.overdue_marked_at = timezone.now()
                    p.save(update_fields=["overdue_marked_at", "updated_at"])
                    what = "承诺解决时限" if p.status == S.FOLLOW_UP else "答复期限"
                    _event(
                        p,
                        A.OVERDUE,
                        None,
                        from_status=p.status,
                        organisation=p.lead_unit,
                        data={"due": due.isoformat()},
                    )
                    _audit(None, "overdue", p, {"due": due.isoformat()})
                    _notify_all(
                        _unit_users(p.lead_unit_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER])
                        + _office_users(),
                        f"{p.reference}已超期",
                        f"{p.reference}“{p.title}”的{what}（{due:%Y-%m-%d}）已过，尚未答复。",
                    )
                    overdue += 1
            continue
        left = workdays.workdays_between(today, due)
        due_now = [n for n in proposal.jurisdiction.reminder_workdays if left <= n]
        if not due_now:
            continue
        with transaction.atomic():
            p = _locked(proposal.public_id)
            sent = set(
                ProposalReminder.objects.filter(proposal=p, due_date=due).values_list(
                    "workdays_before", flat=True
                )
            )
            new = [n for n in due_now if n not in sent]
            if not new:
                continue
            ProposalReminder.objects.bulk_create(
                ProposalReminder(proposal=p, due_date=due, workdays_before=n) for n in new
            )
            _event(
                p,
                A.REMIND,
                None,
                from_status=p.status,
                organisation=p.lead_unit,
                data={"due": due.isoformat(), "workdays_left": left},
            )
            what = "承诺解决时限" if p.status == S.FOLLOW_UP else "答复期限"
            _notify_all(
                _unit_users(p.lead_unit_id, [Role.PROPOSAL_HANDLER, Role.PROPOSAL_SIGNER]),
                f"{p.reference}即将到期",
                f"{p.reference}“{p.title}”的{what}为 {due:%Y-%m-%d}"
                + ("（暂定）" if p.due_provisional and p.status != S.FOLLOW_UP else "")
                + f"，还剩 {left} 个工作日。",
            )
            reminded += 1
    return {"reminded": reminded, "overdue": overdue}


def deadlines_refresh() -> int:
    """Provisional deadlines whose year's schedule is now known: recomputed from their calendar date
    and confirmed (an event says so, with the new date if a holiday moved it). Returns how many."""
    confirmed = 0
    ids = list(
        Proposal.objects.filter(due_provisional=True, due_base__isnull=False).values_list(
            "public_id", flat=True
        )
    )
    for public_id in ids:
        with transaction.atomic():
            p = _locked(public_id)
            if not p.due_provisional or p.due_base is None:
                continue
            landed = deadlines.on_or_after_workday(p.due_base)
            if landed.provisional:
                continue
            old = p.due_date
            p.due_date, p.due_provisional = landed.date, False
            p.save(update_fields=["due_date", "due_provisional", "updated_at"])
            _event(
                p,
                A.DEADLINE_CONFIRMED,
                None,
                from_status=p.status,
                organisation=p.lead_unit,
                data={"from": old.isoformat() if old else None, "to": landed.date.isoformat()},
            )
            _audit(None, "deadline_confirmed", p, {"to": landed.date.isoformat()})
            confirmed += 1
    return confirmed


# --- publication ----------------------------------------------------------------------------------------


def _public_phones(reply: Reply) -> list[str]:
    phones = [reply.contact_phone, reply.organisation.phone]
    profile = UnitProfile.objects.filter(organisation_id=reply.organisation_id).first()
    if profile:
        phones.append(profile.contact_phone)
    return [p for p in phones if p]


def _redacted(reply: Reply, extra_terms: Iterable[str] = (), text: str | None = None) -> publication.Redacted:
    proposal = reply.proposal
    known_phones = [proposal.proposer_phone] + [
        pii.decrypt(c.phone_enc, purpose="phone") for c in proposal.co_signers.all() if c.phone_enc
    ]
    return publication.redact(
        reply.body if text is None else text,
        keep_phones=_public_phones(reply),
        known_phones=[p for p in known_phones if p],
        known_addresses=[proposal.proposer_address] if proposal.proposer_address else [],
        extra_terms=list(extra_terms),
    )


def publication_prepare(reply: Reply, *, sent_on: dt.date) -> Publication:
    """The public version of a just-sent reply, personal data removed, waiting for the reviewer."""
    proposal = reply.proposal
    red = _redacted(reply)
    return Publication.objects.create(
        reply=reply,
        proposal=proposal,
        title=reply_title(proposal) + ("（跟踪答复）" if reply.purpose == ReplyPurpose.FOLLOW_UP else ""),
        addressee=pii.mask_name(proposal.proposer_name) + addressee(proposal)[len(proposal.proposer_name) :],
        body=red.text,
        redactions=red.spans,
        publish_after=sent_on + dt.timedelta(days=proposal.jurisdiction.publication_delay_days),
    )


def publication_redact_more(*, actor, publication_id: int, terms: Iterable[str]) -> Publication:
    """The reviewer removes more (a name, a place): every occurrence of each term is replaced. The
    terms themselves are not stored."""
    _check_manage(actor)
    terms = [t.strip() for t in terms if t and t.strip()]
    if not terms:
        raise _invalid("terms", "请填写要隐去的内容。")
    with transaction.atomic():
        pub = (
            Publication.objects.select_for_update(of=("self",))
            .select_related("reply__proposal", "reply__organisation")
            .filter(pk=publication_id)
            .first()
        )
        if pub is None:
            raise NotFound(error_codes.PUBLICATION_NOT_FOUND, "未找到该公开答复。")
        if pub.status != PublicationStatus.PENDING_REVIEW:
            raise _conflict("该答复已审核，不能再修改。")
        red = _redacted(pub.reply, terms, text=pub.body)
        pub.body, pub.redactions = red.text, red.spans
        pub.extra_terms_count += len(terms)
        pub.save()
        _audit(actor, "publication_redact", pub.proposal, {"publication": pub.pk, "terms": len(terms)})
    return pub


def publication_decide(*, actor, publication_id: int, approve: bool, note: str = "") -> Publication:
    """The reviewer approves the redacted reply for the public page (shown from ``publish_after``) or
    withholds it."""
    _check_manage(actor)
    if not approve:
        note = _required(note, "note", "不予公开须说明理由。", error_codes.REASON_REQUIRED)
    with transaction.atomic():
        pub = Publication.objects.select_for_update().filter(pk=publication_id).first()
        if pub is None:
            raise NotFound(error_codes.PUBLICATION_NOT_FOUND, "未找到该公开答复。")
        if pub.status != PublicationStatus.PENDING_REVIEW:
            raise _conflict("该答复已审核。")
        proposal = _locked(pub.proposal.public_id)
        pub.status = PublicationStatus.APPROVED if approve else PublicationStatus.WITHHELD
        pub.reviewed_by, pub.reviewed_at = actor, timezone.now()
        pub.save()
        action = A.PUBLICATION_APPROVE if approve else A.PUBLICATION_WITHHOLD
        _event(
            proposal,
            action,
            actor,
            from_status=proposal.status,
            note=note or "",
            data={"publication": pub.pk, "publish_after": pub.publish_after.isoformat()},
        )
        _audit(actor, action, proposal, {"publication": pub.pk})
    return pub


# --- the letter -----------------------------------------------------------------------------------------

FORMATS = ("docx", "pdf")


def reply_letter(*, reply: Reply, fmt: str) -> bytes:
    """The reply letter (答复函) as .docx or .pdf: only for a reply that has been signed off."""
    from tongban.proposals.letter_build import build_letter

    if fmt not in FORMATS:
        raise _invalid("format", f"未知的格式“{fmt}”，应为 docx 或 pdf。", error_codes.UNKNOWN_FORMAT)
    if reply.status not in (ReplyStatus.SIGNED_OFF, ReplyStatus.SENT) or not reply.document_number:
        raise _conflict("答复尚未签发，不能生成答复函。", error_codes.NOT_SIGNED_OFF)
    letter = build_letter(reply)
    try:
        from tongban.proposals.letters.render import render_docx, render_pdf
    except ImportError:  # pragma: no cover - the module is part of the package
        raise TongbanError(error_codes.LETTER_UNAVAILABLE, "答复函生成组件不可用。", status=503) from None
    try:
        return render_docx(letter) if fmt == "docx" else render_pdf(letter)
    except ImportError:
        raise TongbanError(
            error_codes.LETTER_UNAVAILABLE, "答复函生成组件尚未安装，暂不能生成答复函。", status=503
        ) from None


def document_sequence_start(
    *, actor, organisation_id: int, year: int, last_used: int
) -> DocumentNumberCounter:
    """A unit that starts using the system mid-year continues its paper register: the next 发文字号 of
    ``year`` will be ``last_used + 1``. It never goes backwards (numbers must stay unique)."""
    if actor is not None and not (
        access.can_manage_proposals(actor) or access.can_sign_off_for(actor, organisation_id)
    ):
        raise Forbidden(error_codes.FORBIDDEN, "仅交办人员或本单位签发领导可以设置发文字号起始号。")
    if isinstance(last_used, bool) or not isinstance(last_used, int) or last_used < 0:
        raise _invalid("last_used", "已用号应为非负整数。")
    if not Organisation.objects.filter(pk=organisation_id).exists():
        raise _invalid("organisation", "未知的承办单位。", error_codes.UNIT_UNKNOWN)
    with transaction.atomic():
        counter, _created = DocumentNumberCounter.objects.select_for_update().get_or_create(
            organisation_id=organisation_id, year=year, defaults={"last": 0}
        )
        if last_used < counter.last:
            raise _invalid("last_used", f"{year} 年已用到第 {counter.last} 号，不能改小。")
        counter.last = last_used
        counter.save(update_fields=["last"])
        _audit(
            actor,
            "document_sequence_start",
            None,
            {"organisation": organisation_id, "year": year, "last": last_used},
        )
    return counter
