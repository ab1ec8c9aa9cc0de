"""Tables of the exchange between nodes: the outbox (what this node sends), the inbox (what it
received), their sequence counters, and the envelopes it refused.

Together they are the node's message log (``selectors.message_log``): every envelope that left or
reached this node, or was refused at the door, is a row. What is kept and for how long is the
retention policy of ``retention.py`` (docs/exchange.md, "Retention").

- ``OutboxMessage`` is written by ``outbox.enqueue`` inside the business transaction, so it exists
  if and only if the change committed; ``relay.deliver_due`` signs and sends it.
- ``OutboxSequence`` hands out ``seq`` per (recipient, ordering key), inside that same transaction.
- ``InboxMessage`` is keyed by the envelope id: a second delivery of the same id is recognised as a
  replay (acknowledged, never applied twice).
- ``InboxCursor`` is the last applied ``seq`` per (sender, ordering key): ``inbox.apply_pending``
  applies ``seq`` n only after n-1.
- ``RejectedEnvelope`` is one refusal at the receiving endpoint, with its stable code.
- ``PeerBackoff`` is a recipient the relay could not reach, and until when it leaves it alone.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.exchange.ids import uuid7
from tongban.exchange.trust_models import TrustListState  # noqa: F401

CODE_MAX = 12  # a GB/T 2260 division code is 6 digits; room for province-level or test codes
TYPE_MAX = 64
KEY_MAX = 200  # envelope.ORDERING_KEY_MAX
ID_MAX = 36


class OutboxState(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    PARKED = "parked", _("已搁置")


class InboxState(models.TextChoices):
    RECEIVED = "received", _("已接收")
    APPLIED = "applied", _("已处理")
    FAILED = "failed", _("处理失败")


class OutboxMessage(models.Model):
    """One message to another node. Its id is the envelope id of every delivery attempt, so the
    recipient recognises a retry as a replay of the same message."""

    id = models.CharField(_("消息标识"), primary_key=True, max_length=ID_MAX, default=uuid7, editable=False)
    recipient = models.CharField(_("收件节点"), max_length=CODE_MAX)
    type = models.CharField(_("消息类型"), max_length=TYPE_MAX)
    ordering_key = models.CharField(_("顺序键"), max_length=KEY_MAX, blank=True, default="")
    seq = models.PositiveBigIntegerField(_("序号"), default=0)
    payload = models.JSONField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    state = models.CharField(
        _("状态"), max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("最近发送时间"), null=True, blank=True)
    last_error_code = models.CharField(_("最近错误码"), max_length=64, blank=True, default="")
    last_error = models.TextField(_("最近错误"), blank=True, default="")
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    parked_at = models.DateTimeField(_("搁置时间"), null=True, blank=True)
    # Set while a relay holds the message (see relay.deliver_due): only that relay records the outcome.
    claim = models.CharField(max_length=ID_MAX, blank=True, default="", editable=False)
    # When the payload was dropped by the retention policy (the row stays as the message log).
    pruned_at = models.DateTimeField(_("内容清理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("发件箱消息")
        verbose_name_plural = _("发件箱消息")
        indexes = [
            # The relay's query: pending and due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="outbox_due_idx",
            ),
            models.Index(fields=["state", "recipient"], name="outbox_state_idx"),
            models.Index(fields=["ordering_key", "created_at"], name="outbox_key_idx"),
            models.Index(fields=["created_at"], name="outbox_created_idx"),
            # The retention policy's query: delivered, oldest first.
            models.Index(
                fields=["delivered_at"], condition=Q(state="delivered"), name="outbox_delivered_idx"
            ),
        ]
        constraints = [
            # One message per place in a sequence; also the index of "is an earlier seq undelivered".
            models.UniqueConstraint(
                fields=["recipient", "ordering_key", "seq"],
                condition=Q(seq__gt=0),
                name="outbox_unique_seq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.recipient} ({self.id})"


class OutboxSequence(models.Model):
    """Last ``seq`` handed out for (recipient, ordering key). Updated inside the business transaction,
    so a rolled-back change gives its number back."""

    recipient = models.CharField(max_length=CODE_MAX)
    ordering_key = models.CharField(max_length=KEY_MAX)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "ordering_key"], name="outbox_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}/{self.ordering_key}: {self.last_seq}"


class InboxMessage(models.Model):
    """One envelope received and verified. The primary key is the envelope id: replay detection."""

    id = models.CharField(_("消息标识"), primary_key=True, max_length=ID_MAX)
    sender = models.CharField(_("发件节点"), max_length=CODE_MAX)
    type = models.CharField(_("消息类型"), max_length=TYPE_MAX)
    ordering_key = models.CharField(_("顺序键"), max_length=KEY_MAX, blank=True, default="")
    seq = models.PositiveBigIntegerField(_("序号"), default=0)
    # The envelope exactly as received, signature included: proof of what the sender said.
    envelope = models.JSONField(_("信封"))
    created_at = models.DateTimeField(_("签发时间"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True, default="")
    state = models.CharField(
        _("状态"), max_length=16, choices=InboxState.choices, default=InboxState.RECEIVED
    )
    attempts = models.PositiveIntegerField(_("处理次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次处理时间"), default=timezone.now)
    applied_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    error_code = models.CharField(_("错误码"), max_length=64, blank=True, default="")
    error = models.TextField(_("错误"), blank=True, default="")
    # When the envelope was dropped by the retention policy (the row stays as the message log).
    pruned_at = models.DateTimeField(_("内容清理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("收件箱消息")
        verbose_name_plural = _("收件箱消息")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state__in=["received", "failed"]),
                name="inbox_due_idx",
            ),
            models.Index(fields=["sender", "ordering_key", "seq"], name="inbox_sequence_idx"),
            models.Index(fields=["ordering_key", "received_at"], name="inbox_key_idx"),
            models.Index(fields=["received_at"], name="inbox_received_idx"),
            models.Index(fields=["state", "sender"], name="inbox_state_idx"),
            # The retention policy's query: applied, oldest first.
            models.Index(fields=["applied_at"], condition=Q(state="applied"), name="inbox_applied_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} ← {self.sender} ({self.id})"


class InboxCursor(models.Model):
    """Last ``seq`` applied for (sender, ordering key)."""

    sender = models.CharField(max_length=CODE_MAX)
    ordering_key = models.CharField(max_length=KEY_MAX)
    last_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "ordering_key"], name="inbox_unique_cursor"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}/{self.ordering_key}: {self.last_seq}"


class RejectedEnvelope(models.Model):
    """An envelope (or a whole request) the endpoint refused. What the caller claimed is kept as
    claimed: none of it was verified."""

    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    claimed_sender = models.CharField(_("声称的发件节点"), max_length=CODE_MAX, blank=True, default="")
    envelope_id = models.CharField(_("信封标识"), max_length=ID_MAX, blank=True, default="")
    type = models.CharField(_("消息类型"), max_length=TYPE_MAX, blank=True, default="")
    ordering_key = models.CharField(_("顺序键"), max_length=KEY_MAX, blank=True, default="")
    code = models.CharField(_("错误码"), max_length=64)
    reason = models.TextField(_("原因"), blank=True, default="")
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True, default="")
    # The envelope's header fields as received (never the payload), for investigating a refusal.
    headers = models.JSONField(_("信封头"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("拒收记录")
        verbose_name_plural = _("拒收记录")
        indexes = [
            models.Index(fields=["received_at"], name="rejected_received_idx"),
            models.Index(fields=["claimed_sender", "received_at"], name="rejected_sender_idx"),
            models.Index(fields=["code"], name="rejected_code_idx"),
            models.Index(fields=["ordering_key"], name="rejected_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ← {self.claimed_sender or '?'}"


class PeerBackoff(models.Model):
    """A recipient whose last delivery request failed as a whole (no connection, timed out, an HTTP
    error): the relays leave it alone until ``blocked_until``, so requests that would hang again do
    not take a relay thread each time. Deleted when the recipient answers again."""

    recipient = models.CharField(_("收件节点"), max_length=CODE_MAX, primary_key=True)
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    blocked_until = models.DateTimeField(_("暂停发送至"))
    last_error_code = models.CharField(_("最近错误码"), max_length=64, blank=True, default="")
    last_error = models.TextField(_("最近错误"), blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("暂停发送的节点")
        verbose_name_plural = _("暂停发送的节点")

    def __str__(self) -> str:
        return f"{self.recipient} until {self.blocked_until}"
