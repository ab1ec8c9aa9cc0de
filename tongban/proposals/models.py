"""Proposal handling (建议提案办理): the rules of a jurisdiction, each suggestion or proposal with its
proposer and co-signers, its hand-over to a lead unit and co-handling units, the units' responses and
opinions, the reply drafts with their versions, sign-off and sending, the proposer's feedback, the
extensions, and one event row per step.

Every change goes through ``tongban.proposals.services``. Phone numbers and addresses of proposers
are stored encrypted (``tongban.core.pii``); pages show them masked.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core import pii
from tongban.proposals.constants import (
    DEFAULT_CLASS_TABLE,
    DEFAULT_DEADLINE_MONTHS,
    DEFAULT_EXTENSION_MAX_MONTHS,
    DEFAULT_MAX_REHANDLINGS,
    DEFAULT_PUBLICATION_DELAY_DAYS,
    DEFAULT_REHANDLE_MONTHS,
    DEFAULT_REMINDER_WORKDAYS,
    DEFAULT_TRANSFER_WINDOW_WORKDAYS,
    AssignmentStatus,
    ExtensionStatus,
    ProposalAction,
    ProposalKind,
    ProposalStatus,
    PublicationStatus,
    ReplyPurpose,
    ReplyStatus,
    Satisfaction,
    UnitRole,
)


def _default_deadline_months() -> dict:
    return dict(DEFAULT_DEADLINE_MONTHS)


def _default_reminders() -> list:
    return list(DEFAULT_REMINDER_WORKDAYS)


def _default_classes() -> list:
    return [dict(c) for c in DEFAULT_CLASS_TABLE]


class Jurisdiction(models.Model):
    """Whose rules apply (a people's congress and CPPCC of one district or city): deadlines per kind,
    the transfer window, extensions, reminders, publication delay and the reply classes."""

    code = models.SlugField(_("标识"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # {"npc_suggestion": 3, "cppcc_proposal": 5}: months from the hand-over.
    deadline_months = models.JSONField(_("答复期限（月）"), default=_default_deadline_months)
    transfer_window_workdays = models.PositiveSmallIntegerField(
        _("签收或申请退回期限（工作日）"), default=DEFAULT_TRANSFER_WINDOW_WORKDAYS
    )
    extension_max_months = models.PositiveSmallIntegerField(
        _("延期后最长办理期限（月）"), default=DEFAULT_EXTENSION_MAX_MONTHS
    )
    reminder_workdays = models.JSONField(_("到期前提醒（工作日）"), default=_default_reminders)
    publication_delay_days = models.PositiveSmallIntegerField(
        _("答复公开延迟（天）"), default=DEFAULT_PUBLICATION_DELAY_DAYS
    )
    rehandle_months = models.PositiveSmallIntegerField(
        _("重新办理期限（月）"), default=DEFAULT_REHANDLE_MONTHS
    )
    max_rehandlings = models.PositiveSmallIntegerField(_("最多重新办理次数"), default=DEFAULT_MAX_REHANDLINGS)
    # [{"code": "A", "label": "A类", "description": "…", "follow_up": false}, …]
    class_table = models.JSONField(_("办复类别"), default=_default_classes)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("办理规则")
        verbose_name_plural = _("办理规则")

    def __str__(self) -> str:
        return self.name

    def class_entry(self, code: str) -> dict | None:
        return next((c for c in self.class_table if c.get("code") == code), None)

    def months_for(self, kind: str) -> int:
        return int(self.deadline_months.get(kind) or DEFAULT_DEADLINE_MONTHS.get(kind, 3))


class UnitProfile(models.Model):
    """What a handling unit prints on its letters: the issuer's full name and the 发文字号 prefix."""

    organisation = models.OneToOneField(
        "regions.Organisation", on_delete=models.CASCADE, related_name="proposal_profile"
    )
    issuer_name = models.CharField(_("发文机关"), max_length=128)  # 合肥市瑶海区发展和改革委员会
    number_prefix = models.CharField(_("发文字号代字"), max_length=32)  # 瑶发改案
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("承办单位发文设置")
        verbose_name_plural = _("承办单位发文设置")

    def __str__(self) -> str:
        return self.issuer_name


class DocumentNumberCounter(models.Model):
    """Per unit and year, the last sequence used in a 发文字号. Taken inside the sign-off's transaction,
    so a sign-off that fails gives its number back: the sequence has no gaps."""

    organisation = models.ForeignKey(
        "regions.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="proposal_docno_year")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.year}: {self.last}"


class Proposal(models.Model):
    """One suggestion (人大代表建议) or proposal (政协提案), e.g. 区政协五届一次会议第2号."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="proposals", db_index=False
    )
    kind = models.CharField(_("类型"), max_length=24, choices=ProposalKind.choices)
    session = models.CharField(_("届次"), max_length=64)  # 区政协五届一次会议
    serial = models.PositiveIntegerField(_("编号"))  # 2 → 第2号
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("内容"))
    proposer_name = models.CharField(_("领衔人"), max_length=64)
    proposer_unit = models.CharField(_("工作单位"), max_length=128, blank=True)
    proposer_phone_enc = models.TextField(blank=True, editable=False)
    proposer_address_enc = models.TextField(blank=True, editable=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.REGISTERED
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    lead_unit = models.ForeignKey(
        "regions.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_proposals",
        verbose_name=_("主办单位"),
        db_index=False,
    )
    handed_over_on = models.DateField(_("交办日期"), null=True, blank=True)
    # The deadline in force: ``due_base`` is the calendar date (months after the start), ``due_date``
    # the working day it lands on; provisional while that year's holidays are not published.
    due_base = models.DateField(null=True, blank=True)
    due_date = models.DateField(_("答复期限"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(_("期限为暂定"), default=False)
    due_start = models.DateField(null=True, blank=True)  # from which the months are counted
    extended_months = models.PositiveSmallIntegerField(_("已延期（月）"), default=0)
    overdue_marked_at = models.DateTimeField(null=True, blank=True)
    reply_class = models.CharField(_("办复类别"), max_length=8, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=24, choices=Satisfaction.choices, blank=True)
    promise_due = models.DateField(_("承诺解决时限"), null=True, blank=True)  # B class
    rehandlings = models.PositiveSmallIntegerField(default=0)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("建议提案")
        verbose_name_plural = _("建议提案")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "session", "serial"], name="proposal_unique_number"
            )
        ]
        indexes = [
            models.Index(fields=["lead_unit", "status", "due_date"], name="proposal_queue_idx"),
            models.Index(fields=["status", "due_date"], name="proposal_due_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """区政协五届一次会议第2号"""
        return f"{self.session}第{self.serial}号"

    @property
    def proposer_phone(self) -> str:
        return pii.decrypt(self.proposer_phone_enc, purpose="phone") if self.proposer_phone_enc else ""

    @property
    def proposer_phone_masked(self) -> str:
        return pii.mask_phone(self.proposer_phone) if self.proposer_phone_enc else ""

    @property
    def proposer_address(self) -> str:
        return pii.decrypt(self.proposer_address_enc, purpose="address") if self.proposer_address_enc else ""

    @property
    def proposer_address_masked(self) -> str:
        address = self.proposer_address
        return (address[:6] + "****") if address else ""


class CoSigner(models.Model):
    """附议人 / 联名人: a co-signer of the proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="co_signers")
    name = models.CharField(_("姓名"), max_length=64)
    phone_enc = models.TextField(blank=True, editable=False)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["proposal_id", "sort"]
        verbose_name = _("联名人")
        verbose_name_plural = _("联名人")

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return pii.mask_phone(pii.decrypt(self.phone_enc, purpose="phone")) if self.phone_enc else ""


def attachment_upload_path(instance: ProposalAttachment, filename: str) -> str:
    return f"proposals/{instance.proposal.public_id}/{uuid.uuid4().hex}{instance.extension}"


class ProposalAttachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("附件名称"), max_length=200)
    file = models.FileField(upload_to=attachment_upload_path, max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
            self.content_type, ".bin"
        )


class HandOver(models.Model):
    """One hand-over (交办) to a lead unit and co-handling units. A return the office agrees to ends
    it (``active`` False) and the proposal is handed over again: a new row."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="hand_overs")
    handed_over_on = models.DateField(_("交办日期"))
    window_ends = models.DateField(_("签收期限"))
    active = models.BooleanField(default=True)
    note = models.TextField(_("交办意见"), blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal_id", "id"]
        verbose_name = _("交办")
        verbose_name_plural = _("交办")

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.handed_over_on}"


class Assignment(models.Model):
    """A unit's part in a hand-over: lead or co-handler, and its response (签收 or 申请退回)."""

    hand_over = models.ForeignKey(
        HandOver, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assignments")
    organisation = models.ForeignKey(
        "regions.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    role = models.CharField(_("角色"), max_length=8, choices=UnitRole.choices)
    status = models.CharField(
        _("签收状态"), max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.TextField(_("退回理由"), blank=True)
    suggested_unit = models.CharField(_("建议承办单位"), max_length=128, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["hand_over_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["hand_over", "organisation"], name="proposal_assignment_unit")
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="proposal_assignment_idx")]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.organisation_id} {self.role}"


class CoOpinion(models.Model):
    """协办意见: what a co-handling unit sends the lead unit."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="co_opinions")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="opinions")
    organisation = models.ForeignKey("regions.Organisation", on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(default=1)
    text = models.TextField(_("协办意见"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.organisation_id}"


class Reply(models.Model):
    """One reply (答复) of the lead unit: drafted, reviewed (核稿), signed off (签发) with its 发文字号,
    then sent. The first reply, a second one after 不满意, and a follow-up one for B class."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="replies")
    organisation = models.ForeignKey("regions.Organisation", on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(default=1)
    purpose = models.CharField(_("答复类型"), max_length=16, choices=ReplyPurpose.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("稿次"), default=0)
    reply_class = models.CharField(_("办复类别"), max_length=8, blank=True)
    body = models.TextField(_("正文"), blank=True)
    contact_unit = models.CharField(_("联系单位"), max_length=128, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    copy_to = models.JSONField(_("抄送"), default=list, blank=True)
    promise_due = models.DateField(_("承诺解决时限"), null=True, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(_("签发人"), max_length=64, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_on = models.DateField(_("成文日期"), null=True, blank=True)
    issuer_name = models.CharField(_("发文机关"), max_length=128, blank=True)
    document_number = models.CharField(_("发文字号"), max_length=64, blank=True)
    doc_year = models.PositiveSmallIntegerField(null=True, blank=True)
    doc_seq = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The deadline in force when it was sent, and whether it was met (timeliness statistics).
    due_date_at_send = models.DateField(null=True, blank=True)
    on_time = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["proposal_id", "id"]
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        constraints = [
            # At most one reply in the making per proposal.
            models.UniqueConstraint(
                fields=["proposal"], condition=~models.Q(status="sent"), name="proposal_one_open_reply"
            ),
            models.UniqueConstraint(
                fields=["organisation", "doc_year", "doc_seq"],
                condition=models.Q(doc_seq__isnull=False),
                name="proposal_reply_docno",
            ),
        ]

    def __str__(self) -> str:
        return self.document_number or f"{self.proposal_id} 答复稿"


class ReplyVersion(models.Model):
    """Every saved draft of a reply, never changed: what the drafter wrote and what review said."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    reply_class = models.CharField(max_length=8, blank=True)
    body = models.TextField()
    contact_unit = models.CharField(max_length=128, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    copy_to = models.JSONField(default=list, blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reply_id", "version"]
        constraints = [models.UniqueConstraint(fields=["reply", "version"], name="proposal_reply_version")]

    def __str__(self) -> str:
        return f"{self.reply_id} v{self.version}"


class Feedback(models.Model):
    """征询意见: the proposer's answer to a reply."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="feedback")
    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="feedback")
    satisfaction = models.CharField(_("满意度"), max_length=24, choices=Satisfaction.choices)
    comments = models.TextField(_("意见"), blank=True)
    received_on = models.DateField(_("反馈日期"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["reply"], name="proposal_one_feedback_per_reply")]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.satisfaction}"


class ExtensionRequest(models.Model):
    """延期申请: the lead unit asks for more months; the office approves or refuses."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="extensions")
    organisation = models.ForeignKey("regions.Organisation", on_delete=models.PROTECT, related_name="+")
    months = models.PositiveSmallIntegerField(_("延期（月）"))
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    new_due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.proposal_id} +{self.months}"


class ProposalEvent(models.Model):
    """One row per step (办理记录): who, for which unit, when, what. Never changed."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24, choices=ProposalAction.choices)
    from_status = models.CharField(max_length=16, blank=True, choices=ProposalStatus.choices)
    to_status = models.CharField(max_length=16, blank=True, choices=ProposalStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(_("操作人"), max_length=128)
    organisation = models.ForeignKey(
        "regions.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.action}"


class ProposalReminder(models.Model):
    """A reminder already sent: one per proposal, deadline and lead time, so re-runs send nothing."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    due_date = models.DateField()
    workdays_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "due_date", "workdays_before"], name="proposal_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.due_date} -{self.workdays_before}"


class Publication(models.Model):
    """A sent reply as the public sees it: personal data removed, checked by a reviewer."""

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="publication")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="publications")
    title = models.CharField(_("标题"), max_length=255)
    addressee = models.CharField(_("主送"), max_length=64)
    body = models.TextField(_("公开正文"))
    # [{"start": 12, "end": 20, "kind": "phone", "label": "电话号码"}]: spans in ``body`` to highlight.
    redactions = models.JSONField(default=list, blank=True)
    extra_terms_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.PENDING_REVIEW
    )
    publish_after = models.DateField(_("公开日期"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-publish_after", "-id"]
        indexes = [models.Index(fields=["status", "publish_after"], name="proposal_publication_idx")]

    def __str__(self) -> str:
        return self.title


class SearchDocument(models.Model):
    """The similar-case index, one row per indexed version of a proposal (its text and its sent
    replies, segmented). Rows are appended, never rewritten: a process catches up by reading the rows
    after the last id it has seen (ADR 0007); ``superseded`` rows are compacted away."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+", db_index=False)
    terms = models.JSONField()  # {"长三角": 5, "一体化": 3, …}
    length = models.PositiveIntegerField()
    superseded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["proposal", "superseded"], name="proposal_searchdoc_idx")]

    def __str__(self) -> str:
        return f"{self.proposal_id} #{self.pk}"


__all__ = [
    "Assignment",
    "CoOpinion",
    "CoSigner",
    "DocumentNumberCounter",
    "ExtensionRequest",
    "Feedback",
    "HandOver",
    "Jurisdiction",
    "Proposal",
    "ProposalAction",
    "ProposalAttachment",
    "ProposalEvent",
    "ProposalReminder",
    "Publication",
    "Reply",
    "ReplyVersion",
    "SearchDocument",
    "UnitProfile",
]
