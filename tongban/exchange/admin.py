"""Admin for the exchange: read-only lists of the outbox, the inbox and refused envelopes, with the
operators' actions (re-send parked messages, retry a failed inbox message now) going through
``exchange.services`` like the CLI does. Nothing here edits or deletes a message."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import TongbanError
from tongban.exchange import services
from tongban.exchange.models import (
    InboxMessage,
    InboxState,
    OutboxMessage,
    OutboxState,
    PeerBackoff,
    RejectedEnvelope,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # counting a large log on every page is slow

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "recipient",
        "type",
        "ordering_key",
        "seq",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error_code",
        "delivered_at",
    )
    list_filter = ("state", "recipient", "type", "last_error_code")
    search_fields = ("=id", "=ordering_key")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("resend",)
    exclude = ("claim",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The payload (a case with its materials) can be large: only the detail page loads it.
        return (
            queryset
            if request.resolver_match and "object_id" in request.resolver_match.kwargs
            else queryset.defer("payload")
        )

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm(services.RESEND_PERMISSION)

    @admin.action(description=_("重新发送所选的已搁置消息"), permissions=["resend"])
    def resend(self, request, queryset):
        done = 0
        for message_id in queryset.filter(state=OutboxState.PARKED).values_list("pk", flat=True):
            try:
                services.outbox_resend(message_id=message_id, actor=request.user)
                done += 1
            except TongbanError as exc:
                self.message_user(request, f"{message_id}: {exc.message}", messages.ERROR)
        skipped = queryset.exclude(state=OutboxState.PARKED).count()
        self.message_user(request, gettext("已重新发送 %(n)d 条消息。") % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request, gettext("%(n)d 条消息未搁置，无需重新发送。") % {"n": skipped}, messages.WARNING
            )


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "sender",
        "type",
        "ordering_key",
        "seq",
        "state",
        "attempts",
        "error_code",
        "applied_at",
    )
    list_filter = ("state", "sender", "type", "error_code")
    search_fields = ("=id", "=ordering_key")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    actions = ("retry_now",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return (
            queryset
            if request.resolver_match and "object_id" in request.resolver_match.kwargs
            else queryset.defer("envelope")
        )

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm(services.RETRY_PERMISSION)

    @admin.action(description=_("立即重试所选的处理失败消息"), permissions=["retry"])
    def retry_now(self, request, queryset):
        done = 0
        for message_id in queryset.filter(state=InboxState.FAILED).values_list("pk", flat=True):
            try:
                services.inbox_retry(message_id=message_id, actor=request.user)
                done += 1
            except TongbanError as exc:
                self.message_user(request, f"{message_id}: {exc.message}", messages.ERROR)
        self.message_user(request, gettext("已安排重试 %(n)d 条消息。") % {"n": done}, messages.SUCCESS)


@admin.register(RejectedEnvelope)
class RejectedEnvelopeAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "code",
        "claimed_sender",
        "envelope_id",
        "type",
        "ordering_key",
        "remote_addr",
    )
    list_filter = ("code", "claimed_sender")
    search_fields = ("=envelope_id", "=ordering_key", "=remote_addr")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)


@admin.register(PeerBackoff)
class PeerBackoffAdmin(ReadOnlyAdmin):
    """Nodes the relay cannot reach at the moment, and until when it leaves them alone."""

    list_display = ("recipient", "failures", "blocked_until", "last_error_code", "updated_at")
    ordering = ("recipient",)
