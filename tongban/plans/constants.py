from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportingFrequency(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    QUARTERLY = "quarterly", _("按季度")


class SectionLevel(models.IntegerChoices):
    PART = 1, _("部分")  # 一、
    SECTION = 2, _("条")  # （一）


class Comparator(models.TextChoices):
    AT_LEAST = "at_least", _("不低于")  # 以上、达到…以上
    AT_MOST = "at_most", _("不高于")  # 以内、以下、控制在
    ABOUT = "about", _("左右")  # 左右: within a tolerance
    EQUAL = "equal", _("达到")  # a plain 达到 X
    QUALITATIVE = "qualitative", _("定性")  # kept as text


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")
    CO = "co", _("配合单位")


# --- Tracking: reporting, lights, indicators, assessment (推进督办 parts 3–8) ---------------------


class TaskStatus(models.TextChoices):
    """What a unit says of its task in a period's report (the ledger's 状态 list, in this order)."""

    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    BEHIND = "behind", _("滞后")
    PAUSED = "paused", _("暂缓")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已审核")


# A report the office has received (counts as reported for timeliness and lights).
REPORTED_STATES = (ReportState.SUBMITTED, ReportState.ACCEPTED)
# A report its unit may still change.
EDITABLE_STATES = (ReportState.DRAFT, ReportState.RETURNED)


class ReportAction(models.TextChoices):
    """Every change of a report is one of these and becomes a TaskReportEvent row."""

    SAVE = "save", _("保存草稿")
    SUBMIT = "submit", _("报送")
    RESUBMIT = "resubmit", _("退回后重新报送")
    RETURN = "return", _("退回")
    ACCEPT = "accept", _("审核通过")


class Light(models.TextChoices):
    RED = "red", _("红灯")
    YELLOW = "yellow", _("黄灯")
    GREEN = "green", _("绿灯")
    GREY = "grey", _("未分工")  # a task no unit is responsible for yet


LIGHT_ORDER = {Light.GREY: 0, Light.GREEN: 1, Light.YELLOW: 2, Light.RED: 3}


class IndicatorProgress(models.TextChoices):
    """Progress of an indicator towards its target (the Open SDG method; docs/plans-supervision.md)."""

    ACHIEVED = "achieved", _("已达成")
    ON_TRACK = "on_track", _("基本正常")
    SLOW = "slow", _("进展缓慢")
    OFF_TRACK = "off_track", _("偏离目标")
    NO_DATA = "no_data", _("数据不足")


class AssessmentComponent(models.TextChoices):
    TIMELINESS = "timeliness", _("按时报送")
    QUALITY = "quality", _("报送质量")
    COMPLETION = "completion", _("任务完成")


# The light rule in force when a plan sets none (Plan.light_rule overrides any key). Working days.
DEFAULT_LIGHT_RULE = {
    "overdue_red_workdays": 5,  # a due report still missing this many working days after its due date → red
    "due_soon_workdays": 3,  # the open period's report due within this many working days and not sent → yellow
    "behind_yellow_points": 10,  # progress behind the linear schedule by more than this → yellow
    "behind_red_points": 30,  # … by more than this → red
    "late_is_yellow": True,  # the last due report arrived after its due date → yellow
    "aggregate_red_share": 0.2,  # an area or unit is red when this share of its tasks is red
    "aggregate_yellow_share": 0.3,  # … yellow when any task is red or this share is red or yellow
}

# Assessment weights when a plan sets none (Plan.assessment_weights overrides; they are normalised).
DEFAULT_ASSESSMENT_WEIGHTS = {"timeliness": 0.3, "quality": 0.3, "completion": 0.4}

# Open SDG thresholds on the ratio of actual to expected progress.
PROGRESS_ON_TRACK_RATIO = 0.95
PROGRESS_SLOW_RATIO = 0.5
# An "about" target without a tolerance of its own is met within this share of the target value.
DEFAULT_ABOUT_TOLERANCE_SHARE = 0.05

# Working days after a period ends by which its report is due, and when reminders go out.
DEFAULT_DUE_WORKDAYS = 5
DEFAULT_REMIND_WORKDAYS = 2

# Evidence files (佐证材料): what a report may carry.
ATTACHMENT_MIME = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
