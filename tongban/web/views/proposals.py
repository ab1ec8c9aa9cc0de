"""建议提案办理 pages for staff: the list and each unit's queue, registration, the proposal's page with
the step each user may take next, the draft with similar past cases beside it, the letter files,
statistics with the Excel export, and the review of replies before publication.

Every write is one call of ``tongban.proposals.services``; reads go through its selectors; who may
see a proposal is ``selectors.proposal_for`` and who may act is checked by the services.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.errors import NotFound, TongbanError
from tongban.proposals import access, presenters, publication, selectors, services, statistics
from tongban.proposals.constants import (
    AssignmentStatus,
    ProposalKind,
    ProposalStatus,
    ReplyStatus,
    UnitRole,
)
from tongban.web.views.common import forbidden, handles_errors, paginate
from tongban.web.views.proposals_forms import (
    DecisionForm,
    DraftForm,
    ExtensionForm,
    FeedbackForm,
    HandOverForm,
    ReasonForm,
    RedactForm,
    RegisterForm,
    ReviewForm,
    TextForm,
)

LETTER_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def proposal_staff_required(view):
    """The office, supervisors and the units' handlers and signers; others get the 403 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (access.can_view_all_proposals(request.user) or selectors.is_unit_staff(request.user)):
            return forbidden(request, _("建议提案办理仅供交办人员、承办单位和督查人员使用。"))
        return view(request, *args, **kwargs)

    return wrapper


# --- list and registration --------------------------------------------------------------------------


@proposal_staff_required
def proposal_list(request):
    status = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    q = (request.GET.get("q") or "").strip()
    if status not in ProposalStatus.values:
        status = None
    if kind not in ProposalKind.values:
        kind = None
    page = paginate(request, selectors.proposals_list(request.user, status=status, kind=kind, query=q))
    rows = [(p, presenters.deadline_of(p)) for p in page.object_list]
    user = request.user
    context = {
        "page": page,
        "rows": rows,
        "q": q,
        "status": status or "",
        "kind": kind or "",
        "statuses": ProposalStatus.choices,
        "kinds": ProposalKind.choices,
        "can_manage": access.can_manage_proposals(user),
        "can_view_all": access.can_view_all_proposals(user),
        "queue": selectors.unit_queue(user) if selectors.is_unit_staff(user) else None,
        "returns": list(selectors.pending_returns(user)),
        "extensions": list(selectors.pending_extensions(user)),
        "to_review": selectors.publications_to_review(user).count(),
    }
    return render(request, "web/proposals/list.html", context)


@proposal_staff_required
def proposal_register(request):
    if not access.can_manage_proposals(request.user):
        return forbidden(request, _("仅建议提案交办人员可以登记。"))
    error = None
    if request.method == "POST":
        form = RegisterForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            try:
                p = services.proposal_register(
                    actor=request.user,
                    kind=d["kind"],
                    session=d["session"],
                    serial=d["serial"],
                    title=d["title"],
                    text=d["text"],
                    proposer_name=d["proposer_name"],
                    proposer_unit=d["proposer_unit"],
                    proposer_phone=d["proposer_phone"],
                    proposer_address=d["proposer_address"],
                    co_signers=form.co_signer_list(),
                    attachments=request.FILES.getlist("attachments"),
                    jurisdiction=d["jurisdiction"] or None,
                )
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                messages.success(request, _("已登记%(ref)s，请交办。") % {"ref": p.reference})
                return redirect("web:proposal", public_id=p.public_id)
    else:
        form = RegisterForm()
    status = error.status if error else (422 if form.is_bound else 200)
    return render(request, "web/proposals/register.html", {"form": form, "error": error}, status=status)


# --- one proposal -----------------------------------------------------------------------------------


def _detail_context(request, p) -> dict:
    user = request.user
    assignments = selectors.active_assignments(p)
    mine = next((a for a in assignments if a.organisation_id == user.organisation_id), None)
    lead_staff = access.can_handle_for(user, p.lead_unit_id) or access.can_sign_off_for(user, p.lead_unit_id)
    manage = access.can_manage_proposals(user)
    reply = selectors.open_reply(p)
    in_window = mine is not None and mine.status == AssignmentStatus.PENDING
    can = {
        "hand_over": manage and p.status == ProposalStatus.REGISTERED,
        "respond": in_window,
        "co_opinion": mine is not None
        and mine.role == UnitRole.CO
        and mine.status == AssignmentStatus.ACCEPTED
        and p.status in (ProposalStatus.HANDED_OVER, ProposalStatus.HANDLING, ProposalStatus.REHANDLING),
        "draft": lead_staff
        and p.status in (ProposalStatus.HANDLING, ProposalStatus.REHANDLING, ProposalStatus.FOLLOW_UP)
        and (reply is None or reply.status == ReplyStatus.DRAFT),
        "submit_review": lead_staff and reply is not None and reply.status == ReplyStatus.DRAFT,
        "review": lead_staff and reply is not None and reply.status == ReplyStatus.IN_REVIEW,
        "sign_off": access.can_sign_off_for(user, p.lead_unit_id)
        and reply is not None
        and reply.status == ReplyStatus.AWAITING_SIGN_OFF,
        "send": (lead_staff or manage) and reply is not None and reply.status == ReplyStatus.SIGNED_OFF,
        "feedback": manage and p.status == ProposalStatus.REPLIED,
        "extension": lead_staff
        and p.status in (ProposalStatus.HANDED_OVER, ProposalStatus.HANDLING, ProposalStatus.REHANDLING),
    }
    return {
        "p": p,
        "deadline": presenters.deadline_of(p),
        "assignments": assignments,
        "units": presenters.units_text(assignments),
        "returns": [a for a in assignments if a.status == AssignmentStatus.RETURN_REQUESTED]
        if manage
        else [],
        "extensions": list(p.extensions.filter(status="pending")) if manage else [],
        "replies": selectors.replies_of(p),
        "reply": reply,
        "signed": selectors.latest_signed_reply(p),
        "opinions": list(p.co_opinions.select_related("organisation").all()),
        "co_signers": list(p.co_signers.all()),
        "attachments": list(p.attachments.all()),
        "feedback": list(p.feedback.all()),
        "timeline": presenters.timeline(p),
        "kind_label": presenters.kind_label(p.kind),
        "can": can,
        "manage": manage,
        "forms": {
            "hand_over": HandOverForm(),
            "reason": ReasonForm(),
            "decision": DecisionForm(),
            "text": TextForm(),
            "review": ReviewForm(),
            "feedback": FeedbackForm(),
            "extension": ExtensionForm(),
        },
    }


@proposal_staff_required
@handles_errors
def proposal_page(request, public_id):
    p = selectors.proposal_for(request.user, public_id)
    return render(request, "web/proposals/detail.html", _detail_context(request, p))


def _hand_over(request, p):
    form = HandOverForm(request.POST)
    form.is_valid()
    d = form.cleaned_data
    lead = d.get("lead_unit")
    services.proposal_hand_over(
        actor=request.user,
        proposal_id=p.public_id,
        lead_unit_id=lead.pk if lead else None,
        co_unit_ids=[u.pk for u in d.get("co_units") or []],
        note=d.get("note") or "",
        on=d.get("on"),
    )
    return _("已交办。")


def _decision(request) -> tuple[bool, str]:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        from tongban.core.errors import InvalidInput

        raise InvalidInput("PROPOSAL_INVALID", _("请选择同意或不同意。"))
    return form.cleaned_data["approve"], form.cleaned_data.get("note") or ""


def _review(request) -> tuple[bool, str]:
    form = ReviewForm(request.POST)
    if not form.is_valid():
        from tongban.core.errors import InvalidInput

        raise InvalidInput("PROPOSAL_INVALID", _("请选择同意或退回修改。"))
    return form.cleaned_data["approve"], form.cleaned_data.get("comment") or ""


def _act(request, p, action: str) -> str:
    user, pid, post = request.user, p.public_id, request.POST
    if action == "hand_over":
        return _hand_over(request, p)
    if action == "accept":
        services.assignment_accept(actor=user, proposal_id=pid)
        return _("已签收。")
    if action == "request_return":
        services.assignment_request_return(
            actor=user,
            proposal_id=pid,
            reason=post.get("reason", ""),
            suggested_unit=post.get("suggested_unit", ""),
        )
        return _("已申请退回，等待交办部门处理。")
    if action == "decide_return":
        approve, note = _decision(request)
        services.assignment_return_decide(
            actor=user,
            proposal_id=pid,
            organisation_id=int(post.get("organisation_id") or 0),
            approve=approve,
            note=note,
        )
        return _("已处理退回申请。")
    if action == "co_opinion":
        services.co_opinion_submit(actor=user, proposal_id=pid, text=post.get("text", ""))
        return _("协办意见已送主办单位。")
    if action == "submit_review":
        services.reply_submit_for_review(actor=user, proposal_id=pid)
        return _("已提交核稿。")
    if action == "review":
        approve, comment = _review(request)
        services.reply_review(actor=user, proposal_id=pid, approve=approve, comment=comment)
        return _("核稿完成。")
    if action == "sign_off":
        approve, comment = _review(request)
        reply = services.reply_sign_off(actor=user, proposal_id=pid, approve=approve, comment=comment)
        return _("已签发，发文字号 %(n)s。") % {"n": reply.document_number} if approve else _("已退回修改。")
    if action == "send":
        services.reply_send(actor=user, proposal_id=pid)
        return _("答复已送达。")
    if action == "feedback":
        form = FeedbackForm(post)
        form.is_valid()
        services.feedback_record(
            actor=user,
            proposal_id=pid,
            satisfaction=post.get("satisfaction", ""),
            comments=post.get("comments", ""),
            received_on=form.cleaned_data.get("received_on"),
        )
        return _("已登记征询意见。")
    if action == "request_extension":
        form = ExtensionForm(post)
        months = form.cleaned_data["months"] if form.is_valid() else 0
        services.extension_request(actor=user, proposal_id=pid, months=months, reason=post.get("reason", ""))
        return _("已申请延期。")
    if action == "decide_extension":
        approve, note = _decision(request)
        services.extension_decide(
            actor=user, extension_id=int(post.get("extension_id") or 0), approve=approve, note=note
        )
        return _("已处理延期申请。")
    raise NotFound("PROPOSAL_NOT_FOUND", _("未知的操作。"))


@require_POST
@proposal_staff_required
@handles_errors
def proposal_action(request, public_id, action: str):
    """One step on a proposal (签收, 核稿, 签发, 送达…): the service decides; a refusal comes back as
    a message at the top of the proposal's page, with its code."""
    p = selectors.proposal_for(request.user, public_id)
    try:
        done = _act(request, p, action)
    except NotFound:
        raise
    except TongbanError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        messages.success(request, done)
    return redirect("web:proposal", public_id=p.public_id)


@proposal_staff_required
@handles_errors
def proposal_draft(request, public_id):
    """拟稿: the reply form, with the co-handlers' opinions and the similar past cases beside it."""
    p = selectors.proposal_for(request.user, public_id)
    reply = selectors.open_reply(p)
    classes = presenters.class_options(p.jurisdiction)
    error = None
    if request.method == "POST":
        form = DraftForm(request.POST, classes=classes)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.reply_save_draft(
                    actor=request.user,
                    proposal_id=p.public_id,
                    body=d["body"],
                    reply_class=d["reply_class"],
                    contact_unit=d["contact_unit"],
                    contact_phone=d["contact_phone"],
                    copy_to=form.copy_list(),
                    promise_due=d["promise_due"],
                )
            except NotFound:
                raise
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                messages.success(request, _("答复稿已保存。"))
                return redirect("web:proposal", public_id=p.public_id)
    else:
        initial = {}
        if reply is not None:
            initial = {
                "reply_class": reply.reply_class,
                "body": reply.body,
                "promise_due": reply.promise_due,
                "contact_unit": reply.contact_unit,
                "contact_phone": reply.contact_phone,
                "copy_to": "、".join(reply.copy_to or []),
            }
        form = DraftForm(initial=initial, classes=classes)
    context = {
        "p": p,
        "form": form,
        "error": error,
        "reply": reply,
        "opinions": list(p.co_opinions.select_related("organisation").all()),
        "similar": selectors.similar_cases(request.user, p, k=5),
        "deadline": presenters.deadline_of(p),
    }
    status = error.status if error else (422 if form.is_bound else 200)
    return render(request, "web/proposals/draft.html", context, status=status)


@proposal_staff_required
@handles_errors
def proposal_letter(request, public_id, fmt: str):
    p = selectors.proposal_for(request.user, public_id)
    reply = selectors.latest_signed_reply(p) or selectors.open_reply(p)
    if reply is None:
        from tongban.core.errors import Conflict

        raise Conflict("PROPOSAL_NOT_SIGNED_OFF", _("答复尚未签发，不能生成答复函。"))
    data = services.reply_letter(reply=reply, fmt=fmt)
    response = HttpResponse(data, content_type=LETTER_TYPES.get(fmt, "application/octet-stream"))
    response["Content-Disposition"] = f'attachment; filename="reply-{p.serial}.{fmt}"'
    return response


# --- statistics ----------------------------------------------------------------------------------------


def _stats_args(request) -> dict:
    year = request.GET.get("year") or ""
    kind = request.GET.get("kind") or ""
    return {
        "year": int(year) if year.isdigit() else None,
        "kind": kind if kind in ProposalKind.values else None,
    }


@proposal_staff_required
@handles_errors
def proposal_statistics(request):
    args = _stats_args(request)
    rep = statistics.report(request.user, **args)
    chart = {
        "units": [t.label for t in rep.by_unit],
        "on_time": [t.timeliness["on_time"] for t in rep.by_unit],
        "late": [t.timeliness["late"] for t in rep.by_unit],
        "open": [t.timeliness["open"] + t.timeliness["overdue"] for t in rep.by_unit],
    }
    context = {
        "rep": rep,
        "chart": chart,
        "args": args,
        "kinds": ProposalKind.choices,
        "query": request.GET.urlencode(),
    }
    return render(request, "web/proposals/statistics.html", context)


@proposal_staff_required
@handles_errors
def proposal_statistics_xlsx(request):
    rep = statistics.report(request.user, **_stats_args(request))
    response = HttpResponse(
        statistics.export_xlsx(rep),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="proposal-statistics.xlsx"'
    return response


# --- publication review ------------------------------------------------------------------------------------


@proposal_staff_required
def publications_review(request):
    if not access.can_manage_proposals(request.user):
        return forbidden(request, _("仅建议提案交办人员可以审核公开。"))
    rows = list(selectors.publications_to_review(request.user).order_by("publish_after", "id"))
    return render(request, "web/proposals/publications.html", {"rows": rows})


@proposal_staff_required
@handles_errors
def publication_review(request, pk: int):
    """The redacted reply with each removal highlighted; the reviewer removes more, approves or withholds."""
    if not access.can_manage_proposals(request.user):
        return forbidden(request, _("仅建议提案交办人员可以审核公开。"))
    pub = selectors.publication_for_review(request.user, pk)
    form = RedactForm()
    if request.method == "POST":
        try:
            if request.POST.get("do") == "redact":
                form = RedactForm(request.POST)
                terms = (request.POST.get("terms") or "").splitlines()
                services.publication_redact_more(actor=request.user, publication_id=pub.pk, terms=terms)
                messages.success(request, _("已隐去所填内容，请再核对。"))
                return redirect("web:proposal_publication", pk=pub.pk)
            approve = request.POST.get("do") == "approve"
            services.publication_decide(
                actor=request.user, publication_id=pub.pk, approve=approve, note=request.POST.get("note", "")
            )
            messages.success(request, _("已审核，按期公开。") if approve else _("已决定不予公开。"))
            return redirect("web:proposal_publications")
        except NotFound:
            raise
        except TongbanError as exc:
            messages.error(request, f"{exc.message}（{exc.code}）")
            return redirect("web:proposal_publication", pk=pub.pk)
    context = {
        "pub": pub,
        "segments": publication.highlighted_segments(pub.body),
        "labels": publication.LABELS,
        "form": form,
        "pending": pub.status == "pending_review",
    }
    return render(request, "web/proposals/publication_review.html", context)
