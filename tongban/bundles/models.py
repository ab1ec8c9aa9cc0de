"""一件事 bundles: a definition (steps, dependencies, mappings) and each applicant's running bundle."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.bundles.constants import BundleStatus, OnFailure, StepKind, StepStatus


class BundleDefinition(models.Model):
    """What a bundle is: its one form, its steps and how data flows between them. Checked whole when
    saved (``definitions.definition_save``); a changed definition is a new version, so a running
    bundle keeps the one it started with."""

    key = models.SlugField(_("标识"), max_length=64)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    city_code = models.CharField(_("所属城市"), max_length=6)
    target_workdays = models.PositiveIntegerField(_("承诺办结时限（工作日）"))
    on_failure = models.CharField(_("某环节未获准予时"), max_length=16, choices=OnFailure.choices)
    form_schema = models.JSONField(_("申请表（JSON Schema）"))
    # [{"key", "name", "kind", "item" (基本编码) | "adapter", "city", "after": [...], "inputs": {...},
    #   "certificates": {material: "step.<key>.certificate"}, "outputs": [...]}]
    steps = models.JSONField(_("环节"))
    published = models.BooleanField(_("已发布"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="bundle_definition_version")]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return f"{self.name}（第 {self.version} 版）"


class Bundle(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("编号"), max_length=40, unique=True)
    definition = models.ForeignKey(BundleDefinition, on_delete=models.PROTECT, related_name="bundles")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bundles")
    status = models.CharField(
        _("状态"), max_length=16, choices=BundleStatus.choices, default=BundleStatus.RUNNING
    )
    form_data = models.JSONField(_("申请表"))
    # What the steps produced so far, by step: {"registration": {"uscc": …, "certificate": …}}.
    outputs = models.JSONField(default=dict)
    consented_at = models.DateTimeField(_("承诺签署时间"))
    submitted_at = models.DateTimeField(_("提交时间"))
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Set when a step changed and the bundle must look again; cleared by ``bundle_advance``.
    needs_advance = models.BooleanField(default=False, db_index=True)
    client_token = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("一件事办件")
        verbose_name_plural = _("一件事办件")
        indexes = [models.Index(fields=["status", "submitted_at"], name="bundle_status_idx")]
        constraints = [
            # A repeated submission (a second click, a client's retry) finds the first one by this.
            models.UniqueConstraint(
                fields=["applicant", "client_token"],
                condition=~models.Q(client_token=""),
                name="unique_bundle_client_token",
            )
        ]

    def __str__(self) -> str:
        return self.number


class BundleStep(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="steps", db_index=False)
    key = models.CharField(max_length=64)
    name = models.CharField(_("环节"), max_length=100)
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    sort = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=StepStatus.choices, default=StepStatus.WAITING
    )
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="bundle_step"
    )
    external_ref = models.CharField(max_length=128, blank=True)
    outputs = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bundle_id", "sort"]
        constraints = [models.UniqueConstraint(fields=["bundle", "key"], name="bundle_step_key")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="bundle_step_due_idx")]

    def __str__(self) -> str:
        return f"{self.bundle_id}:{self.key}"


class BundleEvent(models.Model):
    """The bundle's one timeline: each step started, finished, refused or retried."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="events")
    step_key = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.bundle_id} {self.action}"
