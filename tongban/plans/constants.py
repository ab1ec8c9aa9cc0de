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
