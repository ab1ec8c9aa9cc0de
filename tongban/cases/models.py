import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.constants import IdType
from tongban.cases.constants import CaseAction, CaseStatus, Channel
from tongban.catalogue.constants import ServiceMode
from tongban.core import pii


class Case(models.Model):
    """One application (办件). Its status changes only through ``tongban.cases.services``."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("办件编号"), max_length=32, unique=True)
    item = models.ForeignKey("catalogue.ServiceItem", on_delete=models.PROTECT, related_name="cases")
    handling_org = models.ForeignKey(
        "regions.Organisation",
        on_delete=models.PROTECT,
        related_name="handled_cases",
        verbose_name=_("办理单位"),
        db_index=False,
    )
    # Where the applicant applied and follows the case; where the authority decides it.
    receiving_node = models.CharField(_("受理地节点"), max_length=6)
    handling_node = models.CharField(_("办理地节点"), max_length=6)
    mode = models.CharField(_("办理方式"), max_length=16, choices=ServiceMode.choices)
    channel = models.CharField(_("申请渠道"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED
    )

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    applicant_name = models.CharField(_("申请人"), max_length=128)
    applicant_id_type = models.CharField(max_length=8, choices=IdType.choices)
    applicant_id_enc = models.TextField(editable=False)
    # Not indexed: no look-up goes from an ID number to its cases (certificates keep their own).
    applicant_id_hash = models.CharField(max_length=64, editable=False)
    applicant_phone_enc = models.TextField(blank=True, editable=False)
    # For 代收: the window clerk who checked identity and took the papers in, and their window.
    intake_clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="intake_cases"
    )
    intake_org = models.ForeignKey(
        "regions.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="intake_cases"
    )
    form_data = models.JSONField(_("申请表"), default=dict)
    # How the receiving node vouched for the applicant (一地认证) or what its window checked (代收):
    # travels with a transferred case so the handling node does not authenticate the applicant again.
    origin_statement = models.JSONField(_("受理地声明"), default=dict, blank=True)
    # 多地联办: the partner city that handles the other part, and, on that part's own case, the main
    # case it belongs to (the part's number is the main number with "-2").
    joint_partner_node = models.CharField(_("联办城市"), max_length=6, blank=True)
    joint_parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="joint_parts"
    )

    submitted_at = models.DateTimeField(_("提交时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The deadline that applies now: intake (5 working days) before acceptance, the promised limit after.
    due_date = models.DateField(_("办理期限"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(_("期限为暂定"), default=False)
    # Working days the clock stood still (补正, 特别程序) since acceptance; extends the deadline.
    paused_workdays = models.PositiveIntegerField(default=0)
    paused_since = models.DateField(null=True, blank=True)
    status_before_pause = models.CharField(max_length=24, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    client_token = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        indexes = [
            models.Index(fields=["handling_org", "status", "due_date"], name="case_queue_idx"),
            # The default queue: open cases by deadline, read in index order a page at a time.
            models.Index(
                fields=["handling_org", "due_date", "submitted_at"],
                name="case_open_queue_idx",
                condition=models.Q(
                    status__in=[
                        "submitted",
                        "accepted",
                        "under_review",
                        "special_procedure",
                        "approved",
                        "correction",
                    ]
                ),
            ),
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant_idx"),
        ]
        constraints = [
            # A retried or double-clicked submission carries the same token: one case, not two.
            models.UniqueConstraint(
                fields=["client_token"],
                condition=~models.Q(client_token=""),
                name="unique_case_client_token",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def applicant_id_masked(self) -> str:
        return pii.mask_id_number(pii.decrypt(self.applicant_id_enc, purpose="id_number"))

    @property
    def applicant_phone_masked(self) -> str:
        if not self.applicant_phone_enc:
            return ""
        return pii.mask_phone(pii.decrypt(self.applicant_phone_enc, purpose="phone"))


class CaseNumberCounter(models.Model):
    """Per node and day, the last sequence used in a case number."""

    node_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node_code", "day"], name="unique_counter_day")]

    def __str__(self) -> str:
        return f"{self.node_code} {self.day}: {self.last}"


class CaseEvent(models.Model):
    """One row per transition or action on a case (办件记录): who, when, what, why. Never changed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24, choices=CaseAction.choices)
    from_status = models.CharField(max_length=24, blank=True, choices=CaseStatus.choices)
    to_status = models.CharField(max_length=24, choices=CaseStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(_("操作人"), max_length=128)
    reason = models.TextField(_("理由"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


def material_upload_path(instance: "CaseMaterial", filename: str) -> str:
    # Never the uploader's file name on disk: only a random name with the extension of the detected type.
    return f"cases/{instance.case.public_id}/{uuid.uuid4().hex}{instance.extension}"


class CaseMaterial(models.Model):
    """A material handed in for a case: an upload, or (for 代收) a scan made at the window."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey("catalogue.Material", null=True, blank=True, on_delete=models.PROTECT)
    name = models.CharField(_("材料名称"), max_length=200)
    file = models.FileField(upload_to=material_upload_path, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # 0 for the application itself, n for the answer to the n-th 补正 notice.
    round = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "id"]
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
            self.content_type, ".bin"
        )


class CorrectionNotice(models.Model):
    """一次性告知: one notice that lists everything the applicant must add or fix."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="correction_notices", db_index=False
    )
    round = models.PositiveIntegerField()
    # [{"material": "<code or ''>", "name": "…", "reason": "…"}]
    items = models.JSONField()
    note = models.TextField(blank=True)
    # Null when the notice came from the handling node of a transferred case (then only the label).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by_label = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="unique_notice_round")]

    def __str__(self) -> str:
        return f"{self.case_id} 补正 {self.round}"


class CaseRating(models.Model):
    """政务服务“好差评”: the applicant's rating of a finished case, once. Kept at the receiving node
    (the applicant's) and forwarded to the handling node, whose supervisors follow up 差评."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("评价"))
    reasons = models.JSONField(_("评价理由"), default=list, blank=True)
    comment = models.TextField(_("意见建议"), blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    rated_at = models.DateTimeField(_("评价时间"))
    # Stored for the statistics, so they need no join through the case.
    item = models.ForeignKey("catalogue.ServiceItem", on_delete=models.PROTECT, related_name="ratings")
    handling_org = models.ForeignKey(
        "regions.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="ratings"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("好差评")
        verbose_name_plural = _("好差评")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="case_rating_score_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"

    def get_score_label(self) -> str:
        from tongban.cases.constants import RATING_SCORES

        return str(RATING_SCORES.get(self.score, ""))

    @property
    def reason_labels(self) -> list[str]:
        from tongban.cases.constants import RATING_REASONS

        return [str(RATING_REASONS.get(r, r)) for r in self.reasons or []]

    @property
    def is_bad(self) -> bool:
        from tongban.cases.constants import BAD_RATING_MAX

        return self.score <= BAD_RATING_MAX
