"""Who may do what in proposal handling: the chokepoints every view, API operation and service uses.

- The office (role ``proposal_office``, or an administrator) registers, hands over, approves returns
  and extensions, records feedback and publishes; it sees everything.
- A handling unit's staff (``proposal_handler``) accept or ask to return, write co-handling opinions
  and draft replies for their own organisation; its leader (``proposal_signer``) signs off.
- Supervisors (``supervisor``) see everything and the statistics, change nothing.
"""

from __future__ import annotations

from tongban.accounts.constants import Role


def _staff(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and hasattr(user, "has_role"))


def can_manage_proposals(user) -> bool:
    return _staff(user) and (user.has_role(Role.PROPOSAL_OFFICE) or user.has_role(Role.ADMIN))


def can_view_all_proposals(user) -> bool:
    return can_manage_proposals(user) or (_staff(user) and user.has_role(Role.SUPERVISOR))


def can_handle_for(user, organisation_id: int | None) -> bool:
    return (
        _staff(user)
        and organisation_id is not None
        and user.has_role(Role.PROPOSAL_HANDLER)
        and user.organisation_id == organisation_id
    )


def can_sign_off_for(user, organisation_id: int | None) -> bool:
    return (
        _staff(user)
        and organisation_id is not None
        and user.has_role(Role.PROPOSAL_SIGNER)
        and user.organisation_id == organisation_id
    )
