from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("地级")
    DISTRICT = "district", _("县级")


class OrganisationKind(models.TextChoices):
    AUTHORITY = "authority", _("审批部门")
    WINDOW = "window", _("综合服务窗口")
    UNIT = "unit", _("承办单位")


# The four provincial-level members of the Yangtze River Delta: 上海, 江苏, 浙江, 安徽 (41 cities).
YRD_PROVINCES = ("31", "32", "33", "34")
