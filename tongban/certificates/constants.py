from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.certificates.status_list import REVOKED, SUSPENDED, VALID


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", pgettext_lazy("certificate status", "暂停使用")
    REVOKED = "revoked", pgettext_lazy("certificate status", "已撤销")


# The two bits each status is published as in the status list.
STATUS_BITS = {
    CertificateStatus.VALID: VALID,
    CertificateStatus.SUSPENDED: SUSPENDED,
    CertificateStatus.REVOKED: REVOKED,
}


class HolderIdType(models.TextChoices):
    RESIDENT_ID = "ric", _("居民身份证")
    USCC = "uscc", _("统一社会信用代码")


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人")


class NumberRule(models.TextChoices):
    """How a certificate's own number (证照编号) is made when it is issued."""

    HOLDER_ID = "holder_id", _("持证人证件号码")  # 驾驶证: the number is the holder's ID number
    NEW_USCC = "new_uscc", _("新赋统一社会信用代码")  # 营业执照 of a new enterprise
    SERIAL = "serial", _("颁证单位流水号")


class Origin(models.TextChoices):
    ISSUED = "issued", _("本节点签发")
    RECEIVED = "received", _("其他节点签发")


class StatusAction(models.TextChoices):
    ISSUE = "issue", _("签发")
    SUSPEND = "suspend", pgettext_lazy("certificate action", "暂停使用")
    REVOKE = "revoke", _("撤销")
    REINSTATE = "reinstate", _("恢复有效")


# action → (statuses it may start from, status it leads to)
STATUS_TRANSITIONS = {
    StatusAction.SUSPEND: ({CertificateStatus.VALID}, CertificateStatus.SUSPENDED),
    StatusAction.REVOKE: ({CertificateStatus.VALID, CertificateStatus.SUSPENDED}, CertificateStatus.REVOKED),
    StatusAction.REINSTATE: ({CertificateStatus.SUSPENDED}, CertificateStatus.VALID),
}
