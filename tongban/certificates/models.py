"""Electronic certificates (电子证照): their types, the certificates, their status history, status lists
and the record of which certificate satisfied which material of a case (once-only, 免提交)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.certificates.constants import (
    CertificateStatus,
    HolderIdType,
    HolderKind,
    NumberRule,
    Origin,
    StatusAction,
)
from tongban.core import pii


class CertificateType(models.Model):
    """A kind of certificate (证照类型): who defines it, who issues it, what it says, how long it lasts."""

    # The short name catalogue materials use to say which type satisfies them (``yyzz``, ``sbk``…).
    key = models.SlugField(_("类型简称"), max_length=32, unique=True)
    # 证照类型代码: the defining authority's 统一社会信用代码 followed by a three-digit serial.
    code = models.CharField(_("证照类型代码"), max_length=32, unique=True)
    name = models.CharField(_("证照名称"), max_length=100)
    defining_authority = models.CharField(_("证照定义机构"), max_length=100)
    defining_authority_code = models.CharField(_("定义机构代码"), max_length=18)
    issuing_authority = models.CharField(_("颁证单位"), max_length=200)
    holder_kind = models.CharField(_("持证主体"), max_length=16, choices=HolderKind.choices)
    # JSON Schema of ``Certificate.data`` (titles in Chinese, ``x-order`` for display).
    field_schema = models.JSONField(_("照面信息结构"), default=dict)
    # {"years": n} or {"months": n}; {} for 长期有效.
    validity = models.JSONField(_("有效期规则"), default=dict, blank=True)
    number_rule = models.CharField(_("证照编号规则"), max_length=16, choices=NumberRule.choices)
    # For certificates issued from a case: data field → where its value comes from
    # ("form.<field>", "applicant.name", "case.number", "item.name", "const:<text>").
    from_case = models.JSONField(_("办件取值规则"), default=dict, blank=True)
    # The fields an item usually needs to see when this certificate stands in for a material.
    default_disclosure = models.JSONField(_("默认披露字段"), default=list, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    """One version of one certificate. Never edited once issued: a change is a new version (a new
    row that ``supersedes`` this one); only the status moves, and every move is a status event row.

    Both the certificates this node issued and those other nodes issued to people of this node live
    here (``origin``). ``status`` is authoritative for the ones issued here; for the others the
    issuer's status list is (see ``tongban.certificates.selectors``)."""

    identifier = models.CharField(_("证照标识"), max_length=96, unique=True)
    type = models.ForeignKey(CertificateType, on_delete=models.PROTECT, related_name="certificates")
    type_code = models.CharField(_("证照类型代码"), max_length=32)
    type_name = models.CharField(_("证照名称"), max_length=100)
    serial = models.PositiveBigIntegerField(_("顺序号"))
    version = models.PositiveIntegerField(_("版本号"), default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    number = models.CharField(_("证照编号"), max_length=64)
    holder_name = models.CharField(_("持证主体"), max_length=128)
    holder_id_type = models.CharField(_("持证主体证件类型"), max_length=8, choices=HolderIdType.choices)
    holder_id_enc = models.TextField(editable=False)
    holder_id_hash = models.CharField(max_length=64, db_index=True, editable=False)
    # Who applied for it (may differ from the holder: a citizen sets up an enterprise), so it shows
    # among their certificates too.
    applicant_id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    issuer_name = models.CharField(_("颁证单位"), max_length=200)
    issuer_code = models.CharField(_("颁证单位代码"), max_length=18)
    issuer_node = models.CharField(_("签发节点"), max_length=6)
    issue_date = models.DateField(_("颁证日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"), null=True, blank=True)
    jurisdiction_code = models.CharField(_("管辖区划"), max_length=6)
    data = models.JSONField(_("照面信息"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    # Set right after the row is written (it is the row id for this node's own certificates).
    status_index = models.PositiveBigIntegerField(_("状态列表序号"), null=True)
    credential = models.TextField(_("电子证照凭证"), editable=False)
    alg = models.CharField(max_length=16)
    kid = models.CharField(max_length=128)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.ISSUED)
    source_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    issued_at = models.DateTimeField(_("签发时间"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        constraints = [
            models.UniqueConstraint(fields=["issuer_node", "status_index"], name="cert_status_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type_name} {self.identifier}"

    @property
    def holder_id(self) -> str:
        return pii.decrypt(self.holder_id_enc, purpose="certificate_holder_id")

    @property
    def holder_id_masked(self) -> str:
        return pii.mask_id_number(self.holder_id)


class CertificateStatusEvent(models.Model):
    """History of a certificate's status, one row per change (and one for its issue)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="status_events")
    action = models.CharField(_("操作"), max_length=16, choices=StatusAction.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=CertificateStatus.choices)
    reason = models.TextField(_("理由"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class StatusListRecord(models.Model):
    """The newest status list token of each issuing node this node knows, its own included."""

    issuer_node = models.CharField(max_length=6, unique=True)
    token = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    size = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField()
    # For this node's own list: the ``issued_at`` of the list last sent to the other nodes.
    broadcast_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("状态列表")
        verbose_name_plural = _("状态列表")

    def __str__(self) -> str:
        return f"{self.issuer_node} {self.issued_at:%Y-%m-%d %H:%M:%S}"


class CertificateUse(models.Model):
    """A certificate used in place of a material (免提交): which one (identifier and version), what
    the applicant agreed to show, and what verification found at the moment it was checked."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="certificate_uses")
    material = models.ForeignKey("catalogue.Material", null=True, blank=True, on_delete=models.PROTECT)
    material_code = models.CharField(max_length=32)
    material_name = models.CharField(_("材料名称"), max_length=200)
    identifier = models.CharField(_("证照标识"), max_length=96)
    version = models.PositiveIntegerField(_("版本号"))
    type_code = models.CharField(max_length=32)
    type_name = models.CharField(_("证照名称"), max_length=100)
    # The presentation: the SD-JWT with only the disclosures the applicant consented to.
    presentation = models.TextField(editable=False)
    disclosed = models.JSONField(_("披露字段"), default=list)
    consented_at = models.DateTimeField(_("授权时间"))
    verified_at = models.DateTimeField(_("核验时间"))
    verified_by_node = models.CharField(_("核验节点"), max_length=6)
    valid = models.BooleanField(_("核验结果"))
    verdict_code = models.CharField(max_length=48)
    verdict_reason = models.CharField(_("核验说明"), max_length=300)

    class Meta:
        ordering = ["id"]
        verbose_name = _("证照免提交记录")
        verbose_name_plural = _("证照免提交记录")

    def __str__(self) -> str:
        return f"{self.material_name}: {self.identifier}"
