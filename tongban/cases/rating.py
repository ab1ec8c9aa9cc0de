"""政务服务“好差评”: the applicant rates a finished case once (1–5 with reasons and a comment).

The rating is kept where the applicant is (the receiving node) and, for a case another node
handled, forwarded there as the applicant's own action (``case.command`` ``rate``), so both nodes'
supervisors see it and the handling authority can follow up a 差评.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts.models import User
from tongban.cases import access, error_codes, federation
from tongban.cases.constants import (
    BAD_RATING_MAX,
    BAD_REASONS,
    FINAL_STATUSES,
    GOOD_REASONS,
    RATING_REASONS,
    RATING_SCORES,
    CaseAction,
    CaseStatus,
)
from tongban.cases.models import Case, CaseEvent, CaseRating
from tongban.core import audit
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput

# Rated once decided (准予 counts: the applicant has the decision, issuing is the authority's
# follow-up); withdrawn cases are not rated, nothing was handled.
RATEABLE_STATUSES = (FINAL_STATUSES | {CaseStatus.APPROVED}) - {CaseStatus.WITHDRAWN}
COMMENT_MAX = 500


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(
        error_codes.RATING_INVALID, message, errors=[FieldError(field, message, error_codes.RATING_INVALID)]
    )


def rating_check(*, score, reasons, comment: str) -> tuple[int, list[str], str]:
    """The rating as it will be stored, or the first thing wrong with it (Chinese, per field)."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in RATING_SCORES:
        raise _invalid("score", "请选择 1 到 5 星的评价。")
    reasons = list(dict.fromkeys(reasons or []))
    allowed = BAD_REASONS if score <= BAD_RATING_MAX else GOOD_REASONS
    unknown = [r for r in reasons if r not in RATING_REASONS or r not in allowed]
    if unknown:
        raise _invalid("reasons", f"评价理由“{'、'.join(unknown)}”不适用于该评价等级。")
    comment = (comment or "").strip()
    if score <= BAD_RATING_MAX and not reasons:
        raise _invalid("reasons", "差评请至少选择一项理由，以便办理部门整改。")
    if "other" in reasons and not comment:
        raise _invalid("comment", "选择“其他”时请写明意见。")
    if len(comment) > COMMENT_MAX:
        raise _invalid("comment", f"意见建议不能超过 {COMMENT_MAX} 字。")
    return score, reasons, comment


def _store(case: Case, *, score: int, reasons: list[str], comment: str, actor, label: str, at) -> CaseRating:
    if CaseRating.objects.filter(case=case).exists():
        raise Conflict(error_codes.RATING_ALREADY_GIVEN, "该办件已评价，每件只能评价一次。")
    try:
        with transaction.atomic():
            rating = CaseRating.objects.create(
                case=case,
                score=score,
                reasons=reasons,
                comment=comment,
                rated_by=actor,
                rated_at=at,
                item_id=case.item_id,
                handling_org_id=case.handling_org_id,
            )
    except IntegrityError:
        raise Conflict(error_codes.RATING_ALREADY_GIVEN, "该办件已评价，每件只能评价一次。") from None
    CaseEvent.objects.create(
        case=case,
        action=CaseAction.RATE,
        from_status=case.status,
        to_status=case.status,
        actor=actor,
        actor_label=label,
        reason=comment,
        data={"score": score, "reasons": reasons},
    )
    return rating


def case_rate(*, actor: User, number: str, score, reasons=(), comment: str = "") -> CaseRating:
    """The applicant's 好差评 of their finished case; refused before the case is finished or twice."""
    score, reasons, comment = rating_check(score=score, reasons=reasons, comment=comment)
    with transaction.atomic():
        case = access.case_for(actor, number, for_update=True)
        if case.applicant_id != actor.pk:
            raise Forbidden(error_codes.NOT_YOUR_CASE, "只有申请人本人可以评价。")
        if case.status not in RATEABLE_STATUSES:
            raise Conflict(
                error_codes.RATING_NOT_FINISHED,
                f"办件当前状态为“{CaseStatus(case.status).label}”，办结后才能评价。",
            )
        rating = _store(
            case,
            score=score,
            reasons=reasons,
            comment=comment,
            actor=actor,
            label=actor.real_name or actor.username,
            at=timezone.now(),
        )
        if case.handling_node != settings.NODE_CODE:
            federation.send_rating(case, rating)
        audit.record(actor=actor, action="case.rate", target=case, data={"score": score})
    return rating


def case_rating_received(*, node: str, payload: dict) -> CaseRating | None:
    """At the handling node: the rating the applicant gave at their receiving node ``node``."""
    from datetime import datetime

    score, reasons, comment = rating_check(
        score=payload.get("score"), reasons=payload.get("reasons"), comment=payload.get("comment", "")
    )
    with transaction.atomic():
        case = access.case_received_from(node, payload["number"], for_update=True)
        if CaseRating.objects.filter(case=case).exists():
            return None  # a repeated envelope: already here
        rating = _store(
            case,
            score=score,
            reasons=reasons,
            comment=comment,
            actor=None,
            label=f"申请人（经{federation.node_label(node)}转达）",
            at=datetime.fromisoformat(payload["at"]),
        )
        audit.record(
            actor=None, action="case.rate.received", target=case, data={"from": node, "score": score}
        )
    return rating
