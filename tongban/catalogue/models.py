import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalogue.constants import ItemStatus, ItemType, MaterialForm


class ServiceItem(models.Model):
    """A catalogue entry (政务服务事项): one version of one item as one authority implements it.

    A change to a published item is a new version; cases keep pointing at the version they used.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    basic_code = models.CharField(_("基本编码"), max_length=32, db_index=True)
    implementation_code = models.CharField(_("实施编码"), max_length=64, db_index=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    status = models.CharField(
        _("状态"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.PUBLISHED
    )
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=32, choices=ItemType.choices)
    authority = models.ForeignKey(
        "regions.Organisation", on_delete=models.PROTECT, related_name="items", verbose_name=_("实施主体")
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="items", verbose_name=_("行政区划")
    )
    # The city whose node handles the item (its division code); the region may be a district below it.
    city_code = models.CharField(_("所属城市"), max_length=6, db_index=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    legal_limit_days = models.PositiveIntegerField(_("法定办结时限（工作日）"))
    promised_limit_days = models.PositiveIntegerField(_("承诺办结时限（工作日）"))
    fee = models.CharField(_("收费"), max_length=255, default="不收费")
    conditions = models.TextField(_("受理条件"), blank=True)
    process = models.JSONField(_("办理流程"), default=list, blank=True)
    location = models.CharField(_("办理地点"), max_length=255, blank=True)
    office_hours = models.CharField(_("办理时间"), max_length=128, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=64, blank=True)
    subject_types = models.JSONField(_("服务对象"), default=list)
    modes = models.JSONField(_("跨省通办方式"), default=list, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    form_schema = models.JSONField(_("申请表（JSON Schema）"), default=dict)
    # The certificate type (电子证照类型 key) issued when a case of this item is decided 准予.
    issues_certificate = models.CharField(_("准予后签发的电子证照"), max_length=32, blank=True)
    # Name, keywords, full pinyin and pinyin initials, lower-cased: what catalogue search matches.
    search_text = models.TextField(editable=False, default="")
    # The name's full pinyin and initials, for "starts with" ranking served by prefix indexes.
    name_pinyin = models.CharField(max_length=1000, editable=False, default="")
    name_initials = models.CharField(max_length=200, editable=False, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city_code", "basic_code"]
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        constraints = [
            models.UniqueConstraint(fields=["implementation_code", "version"], name="unique_item_version"),
        ]
        indexes = [
            models.Index(fields=["status", "city_code"]),
            # Search: prefix look-ups (LIKE 'q%') on the name and its pinyin, and results in name
            # order, so PostgreSQL can stop after one page instead of sorting every match.
            models.Index(fields=["name"], name="item_name_prefix_idx", opclasses=["text_pattern_ops"]),
            models.Index(
                fields=["name_pinyin"], name="item_pinyin_prefix_idx", opclasses=["text_pattern_ops"]
            ),
            models.Index(
                fields=["name_initials"], name="item_initials_prefix_idx", opclasses=["text_pattern_ops"]
            ),
            models.Index(fields=["name", "city_code", "implementation_code"], name="item_name_order_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from tongban.catalogue.search import name_keys

        self.name_pinyin, self.name_initials = name_keys(self.name)
        fields = kwargs.get("update_fields")
        if fields is not None and "name" in fields:
            kwargs["update_fields"] = {*fields, "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == ItemStatus.PUBLISHED


class Material(models.Model):
    """One thing an item needs (申请材料), told once and completely (一次告知)."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials", db_index=False)
    code = models.CharField(_("材料编码"), max_length=32)
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("是否必需"), default=True)
    form = models.CharField(
        _("材料形式"), max_length=24, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveIntegerField(_("份数"), default=1)
    note = models.CharField(_("填报说明"), max_length=500, blank=True)
    # A certificate type (电子证照) that satisfies this material instead of an upload (免提交).
    certificate_type = models.CharField(_("可用电子证照类型"), max_length=32, blank=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["item_id", "sort", "id"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="unique_material_code")]

    def __str__(self) -> str:
        return self.name
