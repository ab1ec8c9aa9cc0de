import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.regions.constants import OrganisationKind, RegionLevel

MUNICIPALITIES = ("110000", "120000", "310000", "500000")


class Region(models.Model):
    """A GB/T 2260 division (行政区划)."""

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_city(self) -> bool:
        """A city of the federation: a prefecture-level city or a municipality such as 上海."""
        return self.level == RegionLevel.CITY or self.code in MUNICIPALITIES


class Organisation(models.Model):
    """An authority, service window or unit (部门/单位), identified by its 统一社会信用代码."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=128)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=OrganisationKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations")
    address = models.CharField(_("地址"), max_length=255, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=32, blank=True)
    office_hours = models.CharField(_("办公时间"), max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name
