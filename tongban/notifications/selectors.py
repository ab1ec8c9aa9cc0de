from django.db.models import QuerySet

from tongban.notifications.models import Notification


def notifications_of(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("case")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
