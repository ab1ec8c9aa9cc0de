"""The structure of an action plan (推进方案): parts, sections, numbered key tasks, 专栏 columns, its
indicators with their targets, and the units responsible for each task.

A re-import of an amended plan updates tasks by their number; a task the new text no longer has is
marked ``removed_at`` (never deleted), so its reports and history stay.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.plans.constants import AssignmentRole, Comparator, ReportingFrequency, SectionLevel


class Plan(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("方案编码"), max_length=64, unique=True)
    title = models.CharField(_("方案名称"), max_length=255)
    issuer = models.CharField(_("印发机关"), max_length=255, blank=True)
    frequency = models.CharField(
        _("报送周期"), max_length=16, choices=ReportingFrequency.choices, default=ReportingFrequency.QUARTERLY
    )
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    end_year = models.PositiveSmallIntegerField(_("目标年度"))
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    source_text = models.TextField(_("方案全文"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)  # +1 on every re-import
    # What the last import reported (gaps, duplicates, garbled passages, trailing text): [{kind, …}].
    import_problems = models.JSONField(_("导入问题"), default=list, blank=True)
    # The light rule and assessment weights in force (shown next to every light and score).
    light_rule = models.JSONField(_("亮灯规则"), default=dict, blank=True)
    assessment_weights = models.JSONField(_("考核权重"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("推进方案")
        verbose_name_plural = _("推进方案")

    def __str__(self) -> str:
        return self.title


class PlanSection(models.Model):
    """A part (一、) or a section ((一)) of the plan, in document order."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=SectionLevel.choices)
    number = models.PositiveSmallIntegerField(_("序号"))  # 一 → 1, （三） → 3
    label = models.CharField(_("编号"), max_length=16)  # as printed: "一、", "（三）"
    title = models.CharField(_("标题"), max_length=255)
    body = models.TextField(_("正文"), blank=True)  # the text that is not a numbered task
    position = models.PositiveIntegerField(_("顺序"))
    # A section the amended plan no longer has, kept because removed tasks still point at it.
    removed_at = models.DateTimeField(_("移出方案时间"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "position"]
        verbose_name = _("方案章节")
        verbose_name_plural = _("方案章节")

    def __str__(self) -> str:
        return f"{self.label}{self.title}"


class PlanTask(models.Model):
    """A numbered key task (重点任务), e.g. (15); where a plan has no (1) tasks, its （一） items."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    part = models.ForeignKey(PlanSection, on_delete=models.PROTECT, related_name="part_tasks")
    section = models.ForeignKey(
        PlanSection, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    number = models.PositiveIntegerField(_("任务序号"))
    label = models.CharField(_("编号"), max_length=16, blank=True)  # as printed: "(15)", "（三）", "2."
    text = models.TextField(_("任务内容"))
    deadline = models.DateField(_("完成时限"), null=True, blank=True)  # from 2019年底前, 到2020年…
    deadline_text = models.CharField(_("时限原文"), max_length=64, blank=True)
    position = models.PositiveIntegerField(_("顺序"))
    removed_at = models.DateTimeField(_("移出方案时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan_id", "position"]
        verbose_name = _("重点任务")
        verbose_name_plural = _("重点任务")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_task_number_unique")]

    def __str__(self) -> str:
        return f"({self.number}) {self.text[:40]}"


class PlanColumn(models.Model):
    """A 专栏: a boxed list of projects inside a part."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="columns")
    part = models.ForeignKey(PlanSection, on_delete=models.PROTECT, related_name="columns")
    number = models.PositiveIntegerField(_("专栏序号"))
    title = models.CharField(_("专栏标题"), max_length=255)
    body = models.TextField(_("专栏内容"), blank=True)
    position = models.PositiveIntegerField(_("顺序"))

    class Meta:
        ordering = ["plan_id", "position"]
        verbose_name = _("专栏")
        verbose_name_plural = _("专栏")

    def __str__(self) -> str:
        return f"专栏{self.number} {self.title}"


class Indicator(models.Model):
    """A development goal's target: quantitative (indicator, comparator, value, unit, year) or, when the
    text gives no figure, qualitative (kept as text, comparator ``qualitative``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    section = models.ForeignKey(
        PlanSection, null=True, blank=True, on_delete=models.SET_NULL, related_name="indicators"
    )
    name = models.CharField(_("指标"), max_length=255)
    comparator = models.CharField(_("比较方式"), max_length=16, choices=Comparator.choices)
    value = models.DecimalField(_("目标值"), max_digits=20, decimal_places=6, null=True, blank=True)
    tolerance = models.DecimalField(_("容差"), max_digits=20, decimal_places=6, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=32, blank=True)
    year = models.PositiveSmallIntegerField(_("目标年度"), null=True, blank=True)
    source_text = models.TextField(_("原文"), blank=True)
    position = models.PositiveIntegerField(_("顺序"))
    # An indicator the amended plan no longer states (kept: its observations stay).
    removed_at = models.DateTimeField(_("移出方案时间"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "position"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")

    def __str__(self) -> str:
        return self.name


class PlanImport(models.Model):
    """One import of a plan's document (history as rows): version 1 is the first, each re-import of an
    amended text adds one with what changed."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="imports")
    version = models.PositiveIntegerField(_("版本"))
    source_name = models.CharField(_("来源文件"), max_length=255, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    # Counts (parts, tasks, columns, indicators), what changed (created, updated, removed, restored
    # task numbers) and the problems reported by the preview.
    summary = models.JSONField(_("导入结果"), default=dict, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan_id", "version"]
        verbose_name = _("方案导入记录")
        verbose_name_plural = _("方案导入记录")
        constraints = [models.UniqueConstraint(fields=["plan", "version"], name="plan_import_version_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.version}"


class TaskAssignment(models.Model):
    """A unit responsible for a task: one lead unit (牵头) and any number of co-responsible ones."""

    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="assignments")
    organisation = models.ForeignKey(
        "regions.Organisation", on_delete=models.PROTECT, related_name="plan_assignments"
    )
    role = models.CharField(_("责任"), max_length=8, choices=AssignmentRole.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("责任分工")
        verbose_name_plural = _("责任分工")
        constraints = [
            models.UniqueConstraint(fields=["task", "organisation"], name="plan_assignment_unique"),
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(role="lead"), name="plan_assignment_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.organisation_id} ({self.role})"


class AssignmentEvent(models.Model):
    """One change of a task's responsible units (history as rows): a unit assigned or removed, or the
    lead unit changed (with the previous lead)."""

    class Action(models.TextChoices):
        ASSIGNED = "assigned", _("分配")
        REMOVED = "removed", _("取消")
        LEAD_CHANGED = "lead_changed", _("更换牵头单位")

    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="assignment_events")
    organisation = models.ForeignKey(
        "regions.Organisation", on_delete=models.PROTECT, related_name="plan_assignment_events"
    )
    previous_organisation = models.ForeignKey(
        "regions.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("责任"), max_length=8, choices=AssignmentRole.choices)
    action = models.CharField(_("变更"), max_length=16, choices=Action.choices)
    source = models.CharField(_("方式"), max_length=16, blank=True)  # task / part / excel
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task_id", "id"]
        verbose_name = _("责任分工变更")
        verbose_name_plural = _("责任分工变更")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.action} {self.organisation_id}"
