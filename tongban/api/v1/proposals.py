"""API v1: proposal handling (建议提案办理).

Every operation calls one service or selector: registering (JSON; attachments are added on the
page), handing over, the units' acceptance or return request, co-handling opinions, the reply's
draft → review → sign-off → sending, feedback, extensions, the letter files, similar cases,
publication review, statistics (JSON and .xlsx) and the public list of published replies (no login).
Proposals are addressed by their ``id`` (UUID).
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from tongban.api.v1.auth import AUTH
from tongban.api.v1.pagination import paginate
from tongban.api.v1.schemas import Problem
from tongban.proposals import presenters, selectors, services, statistics
from tongban.proposals.constants import ProposalStatus

router = Router(tags=["建议提案"])
PROBLEM = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 503: Problem}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LETTER_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


# --- schemas ----------------------------------------------------------------------------------------


class ProposalCoSignerIn(Schema):
    name: str
    phone: str = ""


class ProposalRegisterIn(Schema):
    kind: str = Field(description="npc_suggestion（人大代表建议）或 cppcc_proposal（政协提案）")
    session: str = Field(description="届次，如“区政协五届一次会议”")
    serial: int = Field(description="编号，第2号填 2")
    title: str
    text: str
    proposer_name: str
    proposer_phone: str = Field("", description="加密保存，只以掩码显示")
    proposer_address: str = Field("", description="加密保存；公开答复时自动隐去")
    proposer_unit: str = ""
    co_signers: list[ProposalCoSignerIn] = []
    jurisdiction: str = Field("", description="办理规则标识；空为默认规则")


class ProposalDeadlineOut(Schema):
    date: date | None
    provisional: bool = Field(description="该年度节假日安排尚未公布，期限为暂定")
    workdays_left: int | None
    mark: str = Field(description="due_soon（临近）、overdue（已超期）或空")


class ProposalSummaryOut(Schema):
    id: str
    reference: str = Field(description="如“区政协五届一次会议第2号”")
    kind: str
    title: str
    proposer: str
    status: str
    status_label: str
    lead_unit: str
    deadline: ProposalDeadlineOut
    reply_class: str
    satisfaction: str


class ProposalAssignmentOut(Schema):
    unit: str
    unit_id: int
    role: str
    status: str
    window_ends: date
    return_reason: str


class ProposalReplyOut(Schema):
    id: str
    purpose: str
    status: str
    version: int
    reply_class: str
    body: str
    contact_unit: str
    contact_phone: str
    copy_to: list[str]
    promise_due: date | None
    document_number: str
    signed_on: date | None
    sent_at: datetime | None
    on_time: bool | None


class ProposalEventOut(Schema):
    at: datetime
    action: str
    label: str
    actor: str
    unit: str
    note: str
    detail: str


class ProposalDetailOut(ProposalSummaryOut):
    session: str
    serial: int
    text: str
    proposer_phone: str = Field(description="掩码")
    co_signers: list[str]
    round: int
    handed_over_on: date | None
    promise_due: date | None
    assignments: list[ProposalAssignmentOut]
    replies: list[ProposalReplyOut]
    events: list[ProposalEventOut]


class ProposalHandOverIn(Schema):
    lead_unit_id: int | None = Field(None, description="主办单位（必填）")
    co_unit_ids: list[int] = []
    note: str = ""
    on: date | None = Field(None, description="交办日期，默认今天")


class ProposalReasonIn(Schema):
    reason: str = ""
    suggested_unit: str = ""


class ProposalDecisionIn(Schema):
    approve: bool
    note: str = ""


class ProposalReturnDecisionIn(ProposalDecisionIn):
    organisation_id: int


class ProposalTextIn(Schema):
    text: str = ""


class ProposalDraftIn(Schema):
    body: str = ""
    reply_class: str = Field("", description="办复类别，须在办理规则的类别表中（默认 A/B/C/D）")
    contact_unit: str = ""
    contact_phone: str = ""
    copy_to: list[str] = []
    promise_due: date | None = Field(None, description="B 类等须跟踪落实的类别：承诺解决时限")


class ProposalReviewIn(Schema):
    approve: bool
    comment: str = ""


class ProposalSignOffIn(ProposalReviewIn):
    signed_on: date | None = Field(None, description="成文日期，默认今天")


class ProposalFeedbackIn(Schema):
    satisfaction: str = Field(description="satisfied / basically_satisfied / unsatisfied")
    comments: str = ""
    received_on: date | None = None


class ProposalExtensionIn(Schema):
    months: int
    reason: str = ""


class ProposalExtensionOut(Schema):
    id: int
    months: int
    status: str
    new_due_date: date | None


class ProposalSimilarOut(Schema):
    id: str
    reference: str
    title: str
    score: float
    reply_class: str
    document_number: str
    excerpt: str


class ProposalTallyOut(Schema):
    label: str
    total: int
    timeliness: dict[str, int]
    classes: dict[str, int]
    satisfaction: dict[str, int]
    on_time_rate: float | None
    satisfied_rate: float | None


class ProposalStatisticsOut(Schema):
    by_unit: list[ProposalTallyOut]
    by_kind: list[ProposalTallyOut]
    overall: ProposalTallyOut


class ProposalPublicationOut(Schema):
    id: int
    title: str
    addressee: str
    unit: str
    document_number: str
    body: str
    publish_after: date
    status: str
    redactions: list[dict]


class ProposalPage(Schema):
    items: list[ProposalSummaryOut]
    has_more: bool


# --- shaping ---------------------------------------------------------------------------------------


def _deadline(p) -> dict:
    d = presenters.deadline_of(p)
    return {"date": d.date, "provisional": d.provisional, "workdays_left": d.workdays_left, "mark": d.mark}


def _summary(p) -> dict:
    return {
        "id": str(p.public_id),
        "reference": p.reference,
        "kind": p.kind,
        "title": p.title,
        "proposer": p.proposer_name,
        "status": p.status,
        "status_label": str(ProposalStatus(p.status).label),
        "lead_unit": p.lead_unit.name if p.lead_unit else "",
        "deadline": _deadline(p),
        "reply_class": p.reply_class,
        "satisfaction": p.satisfaction,
    }


def _reply(r) -> dict:
    return {
        "id": str(r.public_id),
        "purpose": r.purpose,
        "status": r.status,
        "version": r.version,
        "reply_class": r.reply_class,
        "body": r.body,
        "contact_unit": r.contact_unit,
        "contact_phone": r.contact_phone,
        "copy_to": list(r.copy_to or []),
        "promise_due": r.promise_due,
        "document_number": r.document_number,
        "signed_on": r.signed_on,
        "sent_at": r.sent_at,
        "on_time": r.on_time,
    }


def _detail(p) -> dict:
    return {
        **_summary(p),
        "session": p.session,
        "serial": p.serial,
        "text": p.text,
        "proposer_phone": p.proposer_phone_masked,
        "co_signers": [c.name for c in p.co_signers.all()],
        "round": p.round,
        "handed_over_on": p.handed_over_on,
        "promise_due": p.promise_due,
        "assignments": [
            {
                "unit": a.organisation.name,
                "unit_id": a.organisation_id,
                "role": a.role,
                "status": a.status,
                "window_ends": a.hand_over.window_ends,
                "return_reason": a.return_reason,
            }
            for a in selectors.active_assignments(p)
        ],
        "replies": [_reply(r) for r in selectors.replies_of(p)],
        "events": [e.__dict__ for e in presenters.timeline(p)],
    }


def _tally(t: statistics.Tally) -> dict:
    return {
        "label": t.label,
        "total": t.total,
        "timeliness": dict(t.timeliness),
        "classes": dict(t.classes),
        "satisfaction": dict(t.satisfaction),
        "on_time_rate": t.on_time_rate,
        "satisfied_rate": t.satisfied_rate,
    }


def _publication(pub) -> dict:
    return {
        "id": pub.pk,
        "title": pub.title,
        "addressee": pub.addressee,
        "unit": pub.reply.issuer_name or pub.reply.organisation.name,
        "document_number": pub.reply.document_number,
        "body": pub.body,
        "publish_after": pub.publish_after,
        "status": pub.status,
        "redactions": pub.redactions,
    }


def _fresh(request, proposal_id):
    return _detail(selectors.proposal_for(request.auth, proposal_id))


# --- fixed paths first ------------------------------------------------------------------------------


@router.get(
    "/published", response={200: list[ProposalPublicationOut], **PROBLEM}, summary="公开的答复（无需登录）"
)
def published(request: HttpRequest, q: str = ""):
    return [_publication(p) for p in selectors.publications_public(query=q)[:100]]


@router.get(
    "/published/{pk}", response={200: ProposalPublicationOut, **PROBLEM}, summary="一件公开的答复（无需登录）"
)
def published_one(request: HttpRequest, pk: int):
    return _publication(selectors.publication_public(pk))


@router.get(
    "/statistics", response={200: ProposalStatisticsOut, **PROBLEM}, auth=AUTH, summary="按单位、类型统计"
)
def stats(request: HttpRequest, year: int | None = None, kind: str | None = None):
    rep = statistics.report(request.auth, year=year, kind=kind or None)
    return {
        "by_unit": [_tally(t) for t in rep.by_unit],
        "by_kind": [_tally(t) for t in rep.by_kind],
        "overall": _tally(rep.overall),
    }


@router.get("/statistics.xlsx", response={200: None, **PROBLEM}, auth=AUTH, summary="统计表（Excel）")
def stats_xlsx(request: HttpRequest, year: int | None = None, kind: str | None = None):
    rep = statistics.report(request.auth, year=year, kind=kind or None)
    response = HttpResponse(statistics.export_xlsx(rep), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="proposal-statistics.xlsx"'
    return response


@router.get(
    "/search", response={200: list[ProposalSimilarOut], **PROBLEM}, auth=AUTH, summary="类案检索（按文本）"
)
def search(request: HttpRequest, q: str, k: int = 10):
    return [_similar(r) for r in selectors.similar_search(request.auth, q, k=max(1, min(k, 50)))]


@router.post(
    "/extensions/{ext_id}/decision",
    response={200: ProposalExtensionOut, **PROBLEM},
    auth=AUTH,
    summary="审批延期申请",
)
def extension_decision(request: HttpRequest, ext_id: int, payload: ProposalDecisionIn):
    ext = services.extension_decide(
        actor=request.auth, extension_id=ext_id, approve=payload.approve, note=payload.note
    )
    return {"id": ext.pk, "months": ext.months, "status": ext.status, "new_due_date": ext.new_due_date}


@router.post(
    "/publications/{pk}/redact",
    response={200: ProposalPublicationOut, **PROBLEM},
    auth=AUTH,
    summary="公开前再隐去内容",
)
def publication_redact(request: HttpRequest, pk: int, payload: ProposalTextIn):
    terms = [t for t in payload.text.splitlines() if t.strip()]
    return _publication(services.publication_redact_more(actor=request.auth, publication_id=pk, terms=terms))


@router.post(
    "/publications/{pk}/decision",
    response={200: ProposalPublicationOut, **PROBLEM},
    auth=AUTH,
    summary="审核公开（同意或不予公开）",
)
def publication_decision(request: HttpRequest, pk: int, payload: ProposalDecisionIn):
    return _publication(
        services.publication_decide(
            actor=request.auth, publication_id=pk, approve=payload.approve, note=payload.note
        )
    )


# --- proposals --------------------------------------------------------------------------------------


@router.get("", response={200: ProposalPage, **PROBLEM}, auth=AUTH, summary="可见的建议提案")
def proposals(
    request: HttpRequest, status: str = "", kind: str = "", q: str = "", page: int = 1, page_size: int = 20
):
    qs = selectors.proposals_list(request.auth, status=status or None, kind=kind or None, query=q)
    rows, more = paginate(qs, page=page, page_size=page_size)
    return {"items": [_summary(p) for p in rows], "has_more": more}


@router.post("", response={201: ProposalDetailOut, **PROBLEM}, auth=AUTH, summary="登记建议提案")
def register(request: HttpRequest, payload: ProposalRegisterIn):
    p = services.proposal_register(
        actor=request.auth,
        kind=payload.kind,
        session=payload.session,
        serial=payload.serial,
        title=payload.title,
        text=payload.text,
        proposer_name=payload.proposer_name,
        proposer_phone=payload.proposer_phone,
        proposer_address=payload.proposer_address,
        proposer_unit=payload.proposer_unit,
        co_signers=[services.ProposalCoSignerIn(name=c.name, phone=c.phone) for c in payload.co_signers],
        jurisdiction=payload.jurisdiction or None,
    )
    return Status(201, _fresh(request, p.public_id))


@router.get(
    "/{proposal_id}",
    response={200: ProposalDetailOut, **PROBLEM},
    auth=AUTH,
    summary="建议提案详情与办理记录",
)
def detail(request: HttpRequest, proposal_id: str):
    return _fresh(request, proposal_id)


@router.post(
    "/{proposal_id}/hand-over", response={200: ProposalDetailOut, **PROBLEM}, auth=AUTH, summary="交办"
)
def hand_over(request: HttpRequest, proposal_id: str, payload: ProposalHandOverIn):
    services.proposal_hand_over(
        actor=request.auth,
        proposal_id=proposal_id,
        lead_unit_id=payload.lead_unit_id,
        co_unit_ids=payload.co_unit_ids,
        note=payload.note,
        on=payload.on,
    )
    return _fresh(request, proposal_id)


@router.post("/{proposal_id}/accept", response={200: ProposalDetailOut, **PROBLEM}, auth=AUTH, summary="签收")
def accept(request: HttpRequest, proposal_id: str):
    services.assignment_accept(actor=request.auth, proposal_id=proposal_id)
    return _fresh(request, proposal_id)


@router.post(
    "/{proposal_id}/return-request",
    response={200: ProposalDetailOut, **PROBLEM},
    auth=AUTH,
    summary="申请退回",
)
def return_request(request: HttpRequest, proposal_id: str, payload: ProposalReasonIn):
    services.assignment_request_return(
        actor=request.auth,
        proposal_id=proposal_id,
        reason=payload.reason,
        suggested_unit=payload.suggested_unit,
    )
    return _fresh(request, proposal_id)


@router.post(
    "/{proposal_id}/return-decision",
    response={200: ProposalDetailOut, **PROBLEM},
    auth=AUTH,
    summary="处理退回申请",
)
def return_decision(request: HttpRequest, proposal_id: str, payload: ProposalReturnDecisionIn):
    services.assignment_return_decide(
        actor=request.auth,
        proposal_id=proposal_id,
        organisation_id=payload.organisation_id,
        approve=payload.approve,
        note=payload.note,
    )
    return _fresh(request, proposal_id)


@router.post(
    "/{proposal_id}/co-opinions",
    response={200: ProposalDetailOut, **PROBLEM},
    auth=AUTH,
    summary="提交协办意见",
)
def co_opinion(request: HttpRequest, proposal_id: str, payload: ProposalTextIn):
    services.co_opinion_submit(actor=request.auth, proposal_id=proposal_id, text=payload.text)
    return _fresh(request, proposal_id)


@router.put(
    "/{proposal_id}/draft",
    response={200: ProposalReplyOut, **PROBLEM},
    auth=AUTH,
    summary="保存答复稿（新稿次）",
)
def save_draft(request: HttpRequest, proposal_id: str, payload: ProposalDraftIn):
    reply = services.reply_save_draft(
        actor=request.auth,
        proposal_id=proposal_id,
        body=payload.body,
        reply_class=payload.reply_class,
        contact_unit=payload.contact_unit,
        contact_phone=payload.contact_phone,
        copy_to=payload.copy_to,
        promise_due=payload.promise_due,
    )
    return _reply(reply)


@router.post(
    "/{proposal_id}/submit-review", response={200: ProposalReplyOut, **PROBLEM}, auth=AUTH, summary="提交核稿"
)
def submit_review(request: HttpRequest, proposal_id: str):
    return _reply(services.reply_submit_for_review(actor=request.auth, proposal_id=proposal_id))


@router.post("/{proposal_id}/review", response={200: ProposalReplyOut, **PROBLEM}, auth=AUTH, summary="核稿")
def review(request: HttpRequest, proposal_id: str, payload: ProposalReviewIn):
    return _reply(
        services.reply_review(
            actor=request.auth, proposal_id=proposal_id, approve=payload.approve, comment=payload.comment
        )
    )


@router.post(
    "/{proposal_id}/sign-off",
    response={200: ProposalReplyOut, **PROBLEM},
    auth=AUTH,
    summary="签发（取得发文字号）",
)
def sign_off(request: HttpRequest, proposal_id: str, payload: ProposalSignOffIn):
    return _reply(
        services.reply_sign_off(
            actor=request.auth,
            proposal_id=proposal_id,
            approve=payload.approve,
            comment=payload.comment,
            signed_on=payload.signed_on,
        )
    )


@router.post(
    "/{proposal_id}/send", response={200: ProposalReplyOut, **PROBLEM}, auth=AUTH, summary="送达答复"
)
def send(request: HttpRequest, proposal_id: str):
    return _reply(services.reply_send(actor=request.auth, proposal_id=proposal_id))


@router.post(
    "/{proposal_id}/feedback", response={200: ProposalDetailOut, **PROBLEM}, auth=AUTH, summary="登记征询意见"
)
def feedback(request: HttpRequest, proposal_id: str, payload: ProposalFeedbackIn):
    services.feedback_record(
        actor=request.auth,
        proposal_id=proposal_id,
        satisfaction=payload.satisfaction,
        comments=payload.comments,
        received_on=payload.received_on,
    )
    return _fresh(request, proposal_id)


@router.post(
    "/{proposal_id}/extensions",
    response={201: ProposalExtensionOut, **PROBLEM},
    auth=AUTH,
    summary="申请延期",
)
def extension(request: HttpRequest, proposal_id: str, payload: ProposalExtensionIn):
    ext = services.extension_request(
        actor=request.auth, proposal_id=proposal_id, months=payload.months, reason=payload.reason
    )
    return Status(
        201, {"id": ext.pk, "months": ext.months, "status": ext.status, "new_due_date": ext.new_due_date}
    )


@router.get(
    "/{proposal_id}/similar",
    response={200: list[ProposalSimilarOut], **PROBLEM},
    auth=AUTH,
    summary="类案参考",
)
def similar_cases(request: HttpRequest, proposal_id: str, k: int = 5):
    p = selectors.proposal_for(request.auth, proposal_id)
    return [_similar(r) for r in selectors.similar_cases(request.auth, p, k=max(1, min(k, 50)))]


class ProposalLetterQuery(Schema):
    format: str = Field("docx", description="docx 或 pdf")


@router.get(
    "/{proposal_id}/letter", response={200: None, **PROBLEM}, auth=AUTH, summary="答复函（.docx 或 .pdf）"
)
def letter(request: HttpRequest, proposal_id: str, query: Query[ProposalLetterQuery]):
    p = selectors.proposal_for(request.auth, proposal_id)
    reply = selectors.latest_signed_reply(p) or selectors.open_reply(p)
    if reply is None:
        from tongban.core.errors import Conflict
        from tongban.proposals import error_codes

        raise Conflict(error_codes.NOT_SIGNED_OFF, "答复尚未签发，不能生成答复函。")
    data = services.reply_letter(reply=reply, fmt=query.format)
    response = HttpResponse(data, content_type=LETTER_TYPES[query.format])
    response["Content-Disposition"] = f'attachment; filename="letter.{query.format}"'
    return response


def _similar(row: dict) -> dict:
    p, r = row["proposal"], row["reply"]
    return {
        "id": str(p.public_id),
        "reference": p.reference,
        "title": p.title,
        "score": row["score"],
        "reply_class": r.reply_class if r else "",
        "document_number": r.document_number if r else "",
        "excerpt": row["excerpt"],
    }
