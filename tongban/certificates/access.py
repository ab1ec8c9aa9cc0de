"""Who may do what with certificates: decided here and only here."""

from __future__ import annotations

from tongban.accounts.constants import Role, UserKind
from tongban.certificates import error_codes as codes
from tongban.core import pii
from tongban.core.errors import Forbidden

STATUS_ROLES = (Role.REVIEWER, Role.ADMIN)


def holder_hashes(user) -> set[str]:
    """The look-up hashes of the ids a signed-in person holds certificates under: their own ID
    number, and their enterprise's code for an enterprise account."""
    hashes = set()
    if getattr(user, "id_number_hash", ""):
        hashes.add(user.id_number_hash)
    enterprise = getattr(user, "enterprise", None) if user.kind == UserKind.ENTERPRISE else None
    if enterprise is not None:
        hashes.add(pii.lookup_hash(enterprise.uscc, purpose="id_number"))
    return hashes


def can_hold(user, cert) -> bool:
    """A certificate is the user's when it is issued to them, or from a case they applied for."""
    if not user.is_authenticated:
        return False
    mine = holder_hashes(user)
    return cert.holder_id_hash in mine or (bool(cert.applicant_id_hash) and cert.applicant_id_hash in mine)


def check_holder(user, cert) -> None:
    if not can_hold(user, cert):
        raise Forbidden(codes.NOT_HOLDER, "这不是您的证照。")


def can_change_status(user, cert) -> bool:
    org = getattr(user, "organisation", None)
    return (
        user.is_authenticated
        and user.kind == UserKind.STAFF
        and org is not None
        and org.uscc == cert.issuer_code
        and any(user.has_role(r) for r in STATUS_ROLES)
    )


def check_can_change_status(user, cert) -> None:
    if user is None:
        return  # the operator's command line acts as the node itself
    if not can_change_status(user, cert):
        if not can_hold(user, cert):
            from tongban.core.errors import NotFound

            raise NotFound(codes.NOT_FOUND, f"找不到证照 {cert.identifier}。")
        raise Forbidden(codes.NOT_ISSUER, "只有颁证单位的审批人员或管理员才能变更证照状态。")


def check_can_issue(user) -> None:
    """An authority's reviewers and administrators issue in its name (its own systems use their token)."""
    org = getattr(user, "organisation", None)
    if not (
        user.is_authenticated
        and user.kind == UserKind.STAFF
        and org is not None
        and org.kind == "authority"
        and any(user.has_role(r) for r in STATUS_ROLES)
    ):
        raise Forbidden(codes.NOT_ISSUER, "只有审批部门的审批人员或管理员才能签发电子证照。")
