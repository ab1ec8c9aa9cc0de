"""Who may do what in plan supervision: the chokepoints every view, API operation and service uses.

- The integration office (推进办: role ``plan_office``, or an administrator) imports plans, assigns
  units, reviews reports, records indicator values and runs the assessment; it sees everything.
- A responsible unit's reporter (role ``plan_reporter``) reports on the tasks assigned to their own
  organisation and sees those tasks; supervisors (``supervisor``) see everything, change nothing.
"""

from __future__ import annotations

from tongban.accounts.constants import Role


def _staff(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and hasattr(user, "has_role"))


def can_manage_plans(user) -> bool:
    return _staff(user) and (user.has_role(Role.PLAN_OFFICE) or user.has_role(Role.ADMIN))


def can_view_all_plans(user) -> bool:
    return can_manage_plans(user) or (_staff(user) and user.has_role(Role.SUPERVISOR))


def can_report_for(user, organisation_id: int | None) -> bool:
    """Reports for ``organisation_id``'s tasks: its own reporters (the office reviews, it does not report)."""
    return (
        _staff(user)
        and organisation_id is not None
        and user.has_role(Role.PLAN_REPORTER)
        and user.organisation_id == organisation_id
    )
