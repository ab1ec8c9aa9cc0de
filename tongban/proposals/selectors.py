"""Reads of proposal handling. Who sees what is decided here and in ``access``, nowhere else."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.core.errors import NotFound
from tongban.proposals import access, error_codes, similar
from tongban.proposals.constants import (
    AssignmentStatus,
    ExtensionStatus,
    ProposalStatus,
    PublicationStatus,
    ReplyStatus,
)
from tongban.proposals.models import (
    Assignment,
    ExtensionRequest,
    Proposal,
    Publication,
    Reply,
)


def _unit_of(user) -> int | None:
    return getattr(user, "organisation_id", None)


def is_unit_staff(user) -> bool:
    org = _unit_of(user)
    return access.can_handle_for(user, org) or access.can_sign_off_for(user, org)


def proposals_visible_to(user) -> QuerySet[Proposal]:
    """Everything for the office and supervisors; for a unit's staff, what was handed over to it."""
    qs = Proposal.objects.select_related("jurisdiction", "lead_unit")
    if access.can_view_all_proposals(user):
        return qs
    if is_unit_staff(user):
        org = _unit_of(user)
        return qs.filter(Q(lead_unit_id=org) | Q(assignments__organisation_id=org)).distinct()
    return qs.none()


def proposal_for(user, public_id) -> Proposal:
    try:
        return proposals_visible_to(user).get(public_id=public_id)
    except (Proposal.DoesNotExist, ValidationError, ValueError):
        raise NotFound(error_codes.NOT_FOUND, "未找到该建议提案。") from None


def proposals_list(
    user, *, status: str | None = None, kind: str | None = None, query: str = ""
) -> QuerySet[Proposal]:
    qs = proposals_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        qs = qs.filter(
            Q(title__icontains=query) | Q(session__icontains=query) | Q(proposer_name__icontains=query)
        )
    return qs.order_by("-registered_at", "-id")


def unit_queue(user) -> dict[str, list]:
    """A unit's work: hand-overs to respond to, proposals it leads that are open, co-handling ones."""
    org = _unit_of(user)
    pending = list(
        Assignment.objects.filter(
            organisation_id=org, hand_over__active=True, status=AssignmentStatus.PENDING
        )
        .select_related("proposal", "hand_over")
        .order_by("hand_over__window_ends")
    )
    leading = list(
        Proposal.objects.filter(
            lead_unit_id=org,
            status__in=[
                ProposalStatus.HANDLING,
                ProposalStatus.REHANDLING,
                ProposalStatus.FOLLOW_UP,
                ProposalStatus.REPLIED,
            ],
        ).order_by("due_date", "id")
    )
    co = list(
        Assignment.objects.filter(
            organisation_id=org,
            hand_over__active=True,
            role="co",
            status=AssignmentStatus.ACCEPTED,
            proposal__status__in=[
                ProposalStatus.HANDED_OVER,
                ProposalStatus.HANDLING,
                ProposalStatus.REHANDLING,
            ],
        ).select_related("proposal")
    )
    return {"pending": pending, "leading": leading, "co": co}


def active_assignments(proposal: Proposal) -> list[Assignment]:
    return list(
        Assignment.objects.filter(proposal=proposal, hand_over__active=True)
        .select_related("organisation", "hand_over", "responded_by")
        .order_by("role", "id")
    )


def my_assignment(user, proposal: Proposal) -> Assignment | None:
    return next((a for a in active_assignments(proposal) if a.organisation_id == _unit_of(user)), None)


def open_reply(proposal: Proposal) -> Reply | None:
    return Reply.objects.filter(proposal=proposal).exclude(status=ReplyStatus.SENT).first()


def replies_of(proposal: Proposal) -> list[Reply]:
    return list(Reply.objects.filter(proposal=proposal).select_related("organisation").order_by("id"))


def reply_for(user, public_id) -> Reply:
    try:
        reply = Reply.objects.select_related("proposal__jurisdiction", "organisation").get(
            public_id=public_id
        )
    except (Reply.DoesNotExist, ValidationError, ValueError):
        raise NotFound(error_codes.NOT_FOUND, "未找到该答复。") from None
    proposal_for(user, reply.proposal.public_id)  # raises when the user may not see it
    return reply


def latest_signed_reply(proposal: Proposal) -> Reply | None:
    return (
        Reply.objects.filter(proposal=proposal, status__in=[ReplyStatus.SIGNED_OFF, ReplyStatus.SENT])
        .select_related("proposal__jurisdiction", "organisation")
        .order_by("-id")
        .first()
    )


def pending_extensions(user) -> QuerySet[ExtensionRequest]:
    if not access.can_view_all_proposals(user):
        return ExtensionRequest.objects.none()
    return ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).select_related(
        "proposal", "organisation"
    )


def pending_returns(user) -> QuerySet[Assignment]:
    if not access.can_view_all_proposals(user):
        return Assignment.objects.none()
    return Assignment.objects.filter(
        status=AssignmentStatus.RETURN_REQUESTED, hand_over__active=True
    ).select_related("proposal", "organisation")


def publications_to_review(user) -> QuerySet[Publication]:
    if not access.can_manage_proposals(user):
        return Publication.objects.none()
    return Publication.objects.filter(status=PublicationStatus.PENDING_REVIEW).select_related("proposal")


def publication_for_review(user, pk: int) -> Publication:
    pub = publications_to_review(user).model.objects.filter(pk=pk).select_related("proposal", "reply").first()
    if pub is None or not access.can_manage_proposals(user):
        raise NotFound(error_codes.PUBLICATION_NOT_FOUND, "未找到该公开答复。")
    return pub


def publications_public(*, today: dt.date | None = None, query: str = "") -> QuerySet[Publication]:
    """What anyone may read: approved replies whose publication date has come."""
    today = today or timezone.localdate()
    qs = Publication.objects.filter(
        status=PublicationStatus.APPROVED, publish_after__lte=today
    ).select_related("proposal", "reply__organisation")
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(proposal__title__icontains=query))
    return qs.order_by("-publish_after", "-id")


def publication_public(pk: int, *, today: dt.date | None = None) -> Publication:
    pub = publications_public(today=today).filter(pk=pk).first()
    if pub is None:
        raise NotFound(error_codes.PUBLICATION_NOT_FOUND, "未找到该公开答复。")
    return pub


# --- similar cases ---------------------------------------------------------------------------------------


def similar_cases(user, proposal: Proposal, *, k: int = 5) -> list[dict]:
    """Past proposals and their replies that speak of the same thing as ``proposal`` (best first).
    Open to the staff who can see ``proposal``; past replies are official documents of the node."""
    hits = similar.search(proposal.text, title=proposal.title, k=k, exclude=proposal.pk)
    return similar_rows(hits)


def similar_search(user, text: str, *, k: int = 10) -> list[dict]:
    if not (access.can_view_all_proposals(user) or is_unit_staff(user)):
        return []
    return similar_rows(similar.search(text, k=k))


def similar_rows(hits) -> list[dict]:
    if not hits:
        return []
    ids = [h.proposal_id for h in hits]
    proposals = Proposal.objects.in_bulk(ids)
    replies: dict[int, Reply] = {}
    for reply in (
        Reply.objects.filter(proposal_id__in=ids, status=ReplyStatus.SENT)
        .select_related("organisation")
        .order_by("id")
    ):
        replies[reply.proposal_id] = reply  # the latest sent one
    rows = []
    for hit in hits:
        p = proposals.get(hit.proposal_id)
        if p is None:
            continue
        r = replies.get(p.pk)
        rows.append(
            {
                "proposal": p,
                "score": hit.score,
                "reply": r,
                "excerpt": (r.body if r else p.text)[:160],
            }
        )
    return rows
