"""Who may see and do what with a case. Every view, API operation and service goes through here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tongban.accounts.constants import Role, UserKind
from tongban.accounts.models import User
from tongban.cases import error_codes
from tongban.cases.constants import APPLICANT_ACTIONS, CaseAction
from tongban.cases.models import Case
from tongban.core.errors import Forbidden, NotFound

# Which staff role performs which authority action.
_ACTION_ROLE = {
    CaseAction.ACCEPT: Role.REVIEWER,
    CaseAction.REJECT_INTAKE: Role.REVIEWER,
    CaseAction.REQUEST_CORRECTION: Role.REVIEWER,
    CaseAction.START_REVIEW: Role.REVIEWER,
    CaseAction.START_SPECIAL: Role.REVIEWER,
    CaseAction.END_SPECIAL: Role.REVIEWER,
    CaseAction.APPROVE: Role.REVIEWER,
    CaseAction.DENY: Role.REVIEWER,
    CaseAction.ISSUE: Role.REVIEWER,
}


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Applicants see their own cases; staff the cases of their organisation (handled or taken in);
    supervisors and administrators every case of the node."""
    qs = Case.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.kind in (UserKind.CITIZEN, UserKind.ENTERPRISE):
        return qs.filter(applicant=user)
    if user.has_role(Role.ADMIN) or user.has_role(Role.SUPERVISOR):
        return qs
    if user.kind == UserKind.STAFF and user.organisation_id:
        # Reviewers work the cases their organisation handles, window clerks the ones their window
        # took in. One condition per role (not an OR of both) so the queue index serves it.
        org = user.organisation_id
        handled, taken_in = Q(handling_org_id=org), Q(intake_org_id=org)
        if user.has_role(Role.REVIEWER) and user.has_role(Role.WINDOW_CLERK):
            return qs.filter(handled | taken_in)
        if user.has_role(Role.WINDOW_CLERK):
            return qs.filter(taken_in)
        return qs.filter(handled)
    return qs.none()


def case_for(user: User, number: str, *, for_update: bool = False) -> Case:
    """The case with this number if the user may see it. Unknown and not-yours look the same (404)."""
    qs = cases_visible_to(user).select_related("item", "handling_org", "applicant")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(number=number)
    except Case.DoesNotExist:
        raise NotFound(error_codes.CASE_NOT_FOUND, f"未找到办件“{number}”，或您无权查看。") from None


def _case_between(number: str, *, for_update: bool, **nodes: str) -> Case:
    qs = Case.objects.select_related("item", "handling_org", "applicant").filter(**nodes)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(number=number)
    except Case.DoesNotExist:
        raise NotFound(error_codes.CASE_NOT_FOUND, f"未找到办件“{number}”。") from None


def case_received_from(node: str, number: str, *, for_update: bool = False) -> Case:
    """A case this node handles for the receiving node ``node``: what that node may act on."""
    return _case_between(number, for_update=for_update, receiving_node=node)


def case_handled_by(node: str, number: str, *, for_update: bool = False) -> Case:
    """A case this node received and ``node`` handles: what that node may report status on."""
    return _case_between(number, for_update=for_update, handling_node=node)


def check_can_act(user: User, case: Case, action: str) -> None:
    if action in APPLICANT_ACTIONS:
        if case.applicant_id != user.pk:
            raise Forbidden(error_codes.NOT_YOUR_CASE, "只有申请人本人可以进行此操作。")
        return
    role = _ACTION_ROLE[action]
    if not user.has_role(role) or user.organisation_id != case.handling_org_id:
        raise Forbidden(
            error_codes.ROLE_REQUIRED,
            f"此操作需要{Role(role).label}身份，且须属于办理单位“{case.handling_org.name}”。",
        )


def check_can_take_in(user: User) -> None:
    if not user.has_role(Role.WINDOW_CLERK) or not user.organisation_id:
        raise Forbidden(error_codes.ROLE_REQUIRED, "窗口代收需要窗口人员身份。")


def can_see_queue(user: User) -> bool:
    return user.is_authenticated and user.kind == UserKind.STAFF
