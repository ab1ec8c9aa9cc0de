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


class IdType(models.TextChoices):
    RIC = "ric", _("居民身份证")
    USCC = "uscc", _("统一社会信用代码")
