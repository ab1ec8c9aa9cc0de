from django.db import models
from django.utils.translation import gettext_lazy as _


class BundleStatus(models.TextChoices):
    RUNNING = "running", _("办理中")
    PAUSED = "paused", _("已暂停")
    COMPLETED = "completed", _("已办结")
    FAILED = "failed", _("未能办结")
    WITHDRAWN = "withdrawn", _("已撤回")


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("等待前序环节")
    QUEUED = "queued", _("待发起")  # ready; an outside party is called by the worker
    IN_PROGRESS = "in_progress", _("办理中")
    RETRYING = "retrying", _("重试中")  # an outside party failed; tried again later
    COMPLETED = "completed", _("已完成")
    REJECTED = "rejected", _("未获准予")
    FAILED = "failed", _("失败")
    BLOCKED = "blocked", _("无法开始")  # a step it depends on was refused
    CANCELLED = "cancelled", _("已取消")


class StepKind(models.TextChoices):
    ITEM = "item", _("政务服务事项")
    EXTERNAL = "external", _("外部机构")


class OnFailure(models.TextChoices):
    CONTINUE = "continue", _("其他环节继续办理")
    PAUSE = "pause", _("全部暂停")


OPEN_STEP_STATUSES = frozenset(
    {StepStatus.WAITING, StepStatus.QUEUED, StepStatus.IN_PROGRESS, StepStatus.RETRYING}
)
FINAL_BUNDLE_STATUSES = frozenset({BundleStatus.COMPLETED, BundleStatus.FAILED, BundleStatus.WITHDRAWN})
