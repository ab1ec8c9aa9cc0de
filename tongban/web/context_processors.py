from django.conf import settings

from tongban.cases.access import can_see_queue
from tongban.plans.access import can_view_all_plans
from tongban.proposals.access import can_view_all_proposals


def node(request):
    """The node's name, the large-text (适老化) mode, and what the page header needs about the user."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    choice = getattr(request, "large_text_choice", None)
    large = choice if choice is not None else bool(signed_in and user.large_text)
    context = {
        "node_code": settings.NODE_CODE,
        "node_name": settings.NODE_NAME,
        "large_text": large,
        "is_workbench_user": signed_in and can_see_queue(user),
        # 推进督办: the office, supervisors and every responsible unit's reporter.
        "can_see_plans": signed_in
        and (can_view_all_plans(user) or (hasattr(user, "has_role") and user.has_role("plan_reporter"))),
        # 建议提案办理: the office, supervisors, handling units' staff and signers.
        "can_see_proposals": signed_in
        and (
            can_view_all_proposals(user)
            or (
                hasattr(user, "has_role")
                and any(user.has_role(r) for r in ("proposal_handler", "proposal_signer"))
            )
        ),
        "unread_count": 0,
    }
    if signed_in:
        from tongban.notifications.models import Notification

        context["unread_count"] = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return context
