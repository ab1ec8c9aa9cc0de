from django.db import models
from django.utils.translation import gettext_lazy as _


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    STAFF = "staff", _("工作人员")


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("窗口人员")
    REVIEWER = "reviewer", _("审批人员")
    SUPERVISOR = "supervisor", _("督查人员")
    ADMIN = "admin", _("管理员")
    # Plan supervision (推进督办): the integration office, and each responsible unit's reporter.
    PLAN_OFFICE = "plan_office", _("推进办工作人员")
    PLAN_REPORTER = "plan_reporter", _("责任单位填报人员")
    # Proposal handling (建议提案办理): the office that registers and hands over, the handling
    # unit's staff who draft, and the unit's leader who signs off (签发).
    PROPOSAL_OFFICE = "proposal_office", _("建议提案交办人员")
    PROPOSAL_HANDLER = "proposal_handler", _("承办人员")
    PROPOSAL_SIGNER = "proposal_signer", _("签发领导")


class IdType(models.TextChoices):
    RIC = "ric", _("居民身份证")
    USCC = "uscc", _("统一社会信用代码")
