from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    REJECTED_INTAKE = "rejected_intake", _("不予受理")
    CORRECTION = "correction", _("补正")
    UNDER_REVIEW = "under_review", _("审查中")
    SPECIAL_PROCEDURE = "special_procedure", _("特别程序")
    APPROVED = "approved", _("准予许可")
    DENIED = "denied", _("不予许可")
    ISSUED = "issued", _("已发证")
    WITHDRAWN = "withdrawn", _("已撤回")


class CaseAction(models.TextChoices):
    """Every transition is one of these; each becomes a CaseEvent row."""

    SUBMIT = "submit", _("提交申请")
    ACCEPT = "accept", _("受理")
    REJECT_INTAKE = "reject_intake", _("不予受理")
    REQUEST_CORRECTION = "request_correction", _("一次性告知补正")
    RESUBMIT = "resubmit", _("补正材料")
    START_REVIEW = "start_review", _("开始审查")
    START_SPECIAL = "start_special", _("进入特别程序")
    END_SPECIAL = "end_special", _("特别程序结束")
    APPROVE = "approve", _("准予许可")
    DENY = "deny", _("不予许可")
    ISSUE = "issue", _("发证")
    WITHDRAW = "withdraw", _("撤回申请")
    JOINT_UPDATE = "joint_update", _("联办进展")
    RATE = "rate", _("好差评")  # the applicant's rating of a finished case; the status stays


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    WINDOW = "window", _("窗口代收")


S, A = CaseStatus, CaseAction

# The whole workflow: (action, from status) → to status. Anything not listed is refused.
# RESUBMIT and END_SPECIAL return to the status the case paused from (see workflow.next_status).
TRANSITIONS: dict[str, dict[str, str | None]] = {
    A.ACCEPT: {S.SUBMITTED: S.ACCEPTED},
    A.REJECT_INTAKE: {S.SUBMITTED: S.REJECTED_INTAKE},
    A.REQUEST_CORRECTION: {S.SUBMITTED: S.CORRECTION, S.ACCEPTED: S.CORRECTION, S.UNDER_REVIEW: S.CORRECTION},
    A.RESUBMIT: {S.CORRECTION: None},
    A.START_REVIEW: {S.ACCEPTED: S.UNDER_REVIEW},
    A.START_SPECIAL: {S.ACCEPTED: S.SPECIAL_PROCEDURE, S.UNDER_REVIEW: S.SPECIAL_PROCEDURE},
    A.END_SPECIAL: {S.SPECIAL_PROCEDURE: None},
    A.APPROVE: {S.ACCEPTED: S.APPROVED, S.UNDER_REVIEW: S.APPROVED},
    A.DENY: {S.ACCEPTED: S.DENIED, S.UNDER_REVIEW: S.DENIED},
    A.ISSUE: {S.APPROVED: S.ISSUED},
    A.WITHDRAW: {
        S.SUBMITTED: S.WITHDRAWN,
        S.ACCEPTED: S.WITHDRAWN,
        S.CORRECTION: S.WITHDRAWN,
        S.UNDER_REVIEW: S.WITHDRAWN,
        S.SPECIAL_PROCEDURE: S.WITHDRAWN,
    },
}

# Actions taken by the applicant; all others are the authority's.
APPLICANT_ACTIONS = frozenset({A.RESUBMIT, A.WITHDRAW})
# Statuses during which the decision clock stands still.
PAUSED_STATUSES = frozenset({S.CORRECTION, S.SPECIAL_PROCEDURE})
FINAL_STATUSES = frozenset({S.REJECTED_INTAKE, S.DENIED, S.ISSUED, S.WITHDRAWN})
# 政务服务“好差评” (GB/T 39735-2020): 5 非常满意 … 1 非常不满意; a rating of 2 or less is a 差评 and
# needs at least one reason, and the handling authority must follow it up.
RATING_SCORES = {
    5: _("非常满意"),
    4: _("满意"),
    3: _("基本满意"),
    2: _("不满意"),
    1: _("非常不满意"),
}
BAD_RATING_MAX = 2
RATING_REASONS = {
    # good
    "told_once": _("一次告知清楚"),
    "easy": _("办事方便"),
    "fast": _("办理速度快"),
    "friendly": _("服务态度好"),
    "few_materials": _("材料精简"),
    # bad
    "not_told_once": _("未一次告知"),
    "guide_wrong": _("办事指南不准确"),
    "many_trips": _("多次跑动"),
    "slow": _("办理时间长"),
    "unfriendly": _("服务态度不好"),
    "materials_repeated": _("材料重复提交"),
    "fees_unclear": _("收费不合理"),
    "other": _("其他"),
}
GOOD_REASONS = ("told_once", "easy", "fast", "friendly", "few_materials", "other")
BAD_REASONS = (
    "not_told_once",
    "guide_wrong",
    "many_trips",
    "slow",
    "unfriendly",
    "materials_repeated",
    "fees_unclear",
    "other",
)

# Actions that require a written reason (shown to the applicant).
REASON_REQUIRED = frozenset({A.REJECT_INTAKE, A.DENY, A.START_SPECIAL})

# 《行政许可法》第三十二条: decide on intake within five working days of receiving the application.
INTAKE_LIMIT_WORKDAYS = 5


class DueMark(models.TextChoices):
    ON_TIME = "on_time", _("正常")
    DUE_SOON = "due_soon", _("临近到期")
    OVERDUE = "overdue", _("已超期")
    PAUSED = "paused", _("计时暂停")
    DONE = "done", _("已办结")
