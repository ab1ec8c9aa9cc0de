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
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks", db_index=False)
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

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="imports", db_index=False)
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

    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="assignments", db_index=False)
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


# --- Tracking: reporting, indicators, assessment (推进督办 parts 3–8) ------------------------------
# Services: tongban.plans.reporting, .indicators, .assessment, .ledger; reads: .lights, .dashboard.


class PlanSchedule(models.Model):
    """When a plan's reports are due: ``due_workdays`` working days after each period ends, with
    reminders ``remind_workdays`` working days before that. A plan without a row uses the defaults."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="schedule")
    due_workdays = models.PositiveSmallIntegerField(_("报送期限（期末后工作日）"), default=5)
    remind_workdays = models.PositiveSmallIntegerField(_("提前提醒（工作日）"), default=2)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("报送安排")
        verbose_name_plural = _("报送安排")

    def __str__(self) -> str:
        return f"{self.plan_id}: +{self.due_workdays}"


class ReportingPeriod(models.Model):
    """One reporting period of a plan (a month or a quarter), with its due date in working days."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="periods", db_index=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    seq = models.PositiveSmallIntegerField(_("期次"))  # month 1–12 or quarter 1–4
    key = models.CharField(_("期次编码"), max_length=8)  # "2024-03" or "2024-Q1"
    label = models.CharField(_("报送期"), max_length=32)  # "2024年3月", "2024年第1季度"
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    due_on = models.DateField(_("报送截止日期"), db_index=True)
    due_provisional = models.BooleanField(_("截止日期为暂定"), default=False)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    overdue_marked_at = models.DateTimeField(_("已标记逾期"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "starts_on"]
        verbose_name = _("报送期")
        verbose_name_plural = _("报送期")
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "seq"], name="plan_period_unique"),
            models.UniqueConstraint(fields=["plan", "key"], name="plan_period_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class TaskReport(models.Model):
    """A unit's report on one task for one period: what it says, and where the review stands.
    Every change is a ``TaskReportEvent`` with a snapshot; the row holds the current version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task = models.ForeignKey(PlanTask, on_delete=models.PROTECT, related_name="reports", db_index=False)
    organisation = models.ForeignKey(
        "regions.Organisation", on_delete=models.PROTECT, related_name="plan_reports", db_index=False
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="reports", db_index=False
    )
    status = models.CharField(_("推进状态"), max_length=16)  # constants.TaskStatus
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    narrative = models.TextField(_("进展情况"), blank=True)
    state = models.CharField(_("报送状态"), max_length=16, default="draft")  # constants.ReportState
    version = models.PositiveIntegerField(_("版本"), default=0)  # +1 on every submission
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Whether the first submission came by the period's due date (set once; a resubmission after a
    # return keeps it: the return is counted against quality, not timeliness).
    on_time = models.BooleanField(_("按时报送"), null=True, blank=True)
    times_returned = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_id", "task_id", "organisation_id"]
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        constraints = [
            models.UniqueConstraint(fields=["task", "organisation", "period"], name="plan_report_unique"),
        ]
        indexes = [
            models.Index(fields=["period", "state"], name="plan_report_period_state"),
            models.Index(fields=["organisation", "period"], name="plan_report_org_period"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}/{self.organisation_id}/{self.period_id}"

    @property
    def status_label(self) -> str:
        from tongban.plans.constants import TaskStatus

        return str(TaskStatus(self.status).label) if self.status in TaskStatus.values else self.status

    @property
    def state_label(self) -> str:
        from tongban.plans.constants import ReportState

        return str(ReportState(self.state).label)


class TaskReportEvent(models.Model):
    """History of a report, one row per change: who, when, what it said at that moment."""

    report = models.ForeignKey(TaskReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16)  # constants.ReportAction
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    version = models.PositiveIntegerField(_("版本"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(_("操作人"), max_length=150)
    note = models.TextField(_("说明"), blank=True)
    snapshot = models.JSONField(_("报送内容"), default=dict)
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("报送记录")
        verbose_name_plural = _("报送记录")

    def __str__(self) -> str:
        return f"{self.report_id} {self.action}"

    @property
    def action_label(self) -> str:
        from tongban.plans.constants import ReportAction

        return str(ReportAction(self.action).label) if self.action in ReportAction.values else self.action


def attachment_upload_path(instance: ReportAttachment, filename: str) -> str:
    # Never the uploader's file name on disk: a random name with the extension of the detected type.
    from tongban.plans.constants import ATTACHMENT_MIME

    ext = ATTACHMENT_MIME.get(instance.content_type, ".bin")
    return f"plans/{instance.report.public_id}/{uuid.uuid4().hex}{ext}"


class ReportAttachment(models.Model):
    """An evidence file (佐证材料) of a report, kept with the submission it came with."""

    report = models.ForeignKey(TaskReport, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    version = models.PositiveIntegerField(_("随第几次报送"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.original_name


class IndicatorObservation(models.Model):
    """One value of an indicator, as of a date, with where it comes from and who recorded it."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="observations", db_index=False
    )
    value = models.DecimalField(_("数值"), max_digits=20, decimal_places=6)
    observed_on = models.DateField(_("统计日期"))
    source = models.CharField(_("数据来源"), max_length=255)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["indicator_id", "observed_on", "id"]
        verbose_name = _("指标数据")
        verbose_name_plural = _("指标数据")
        indexes = [models.Index(fields=["indicator", "observed_on"], name="plan_obs_indicator_date")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.observed_on}: {self.value}"


class _Immutable(models.Model):
    """Rows written once: a change is a new row (a new run), never an update."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError(f"{type(self).__name__} rows are immutable")
        super().save(*args, **kwargs)


class AssessmentRun(_Immutable):
    """One computation of a year's assessment of units, with the weights and rule it used."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="assessment_runs")
    year = models.PositiveSmallIntegerField(_("考核年度"))
    as_of = models.DateField(_("统计截止日期"))
    weights = models.JSONField(_("权重"))
    light_rule = models.JSONField(_("亮灯规则"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("考核批次")
        verbose_name_plural = _("考核批次")

    def __str__(self) -> str:
        return f"{self.plan_id} {self.year}"


class AssessmentScore(_Immutable):
    """A unit's score in a run, with each component's numbers and the formula in words."""

    run = models.ForeignKey(AssessmentRun, on_delete=models.PROTECT, related_name="scores", db_index=False)
    organisation = models.ForeignKey("regions.Organisation", on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(_("名次"))
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2)
    timeliness = models.DecimalField(_("按时报送得分"), max_digits=6, decimal_places=2, null=True)
    quality = models.DecimalField(_("报送质量得分"), max_digits=6, decimal_places=2, null=True)
    completion = models.DecimalField(_("任务完成得分"), max_digits=6, decimal_places=2, null=True)
    # {"timeliness": {"numerator": 18, "denominator": 20, ...}, ..., "weights_used": {...}}
    details = models.JSONField(_("计算明细"))
    explanation = models.TextField(_("计算说明"))

    class Meta:
        ordering = ["run_id", "rank"]
        verbose_name = _("考核得分")
        verbose_name_plural = _("考核得分")
        constraints = [
            models.UniqueConstraint(fields=["run", "organisation"], name="plan_score_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.score}"
