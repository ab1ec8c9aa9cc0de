import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.accounts.constants import Role, UserKind
from tongban.core import pii


class User(AbstractUser):
    """Every person who signs in: citizens, enterprises (through their agent) and staff.

    ID and phone numbers are never stored in clear: ``*_enc`` holds AES-GCM ciphertext and
    ``*_hash`` a keyed hash for look-ups (see ``tongban.core.pii``).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("账户类型"), max_length=16, choices=UserKind.choices, default=UserKind.CITIZEN)
    real_name = models.CharField(_("姓名"), max_length=64, blank=True)
    id_number_enc = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_enc = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    realname_verified_at = models.DateTimeField(_("实名认证时间"), null=True, blank=True)
    organisation = models.ForeignKey(
        "regions.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    roles = models.JSONField(_("角色"), default=list, blank=True)
    failed_logins = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    large_text = models.BooleanField(_("大字模式"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=models.Q(kind="citizen") & ~models.Q(id_number_hash=""),
                name="unique_citizen_id_number",
            )
        ]

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def id_number(self) -> str:
        return pii.decrypt(self.id_number_enc, purpose="id_number")

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_enc, purpose="phone")

    @property
    def id_number_masked(self) -> str:
        return pii.mask_id_number(self.id_number) if self.id_number_enc else ""

    @property
    def phone_masked(self) -> str:
        return pii.mask_phone(self.phone) if self.phone_enc else ""

    def has_role(self, role: str) -> bool:
        return self.kind == UserKind.STAFF and role in (self.roles or [])

    @property
    def is_applicant(self) -> bool:
        return self.kind in (UserKind.CITIZEN, UserKind.ENTERPRISE)

    @property
    def display_roles(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles or [] if r in Role.values]


class Enterprise(models.Model):
    """The enterprise an enterprise account acts for (法人), with its legal representative."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="enterprise")
    name = models.CharField(_("企业名称"), max_length=128)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    legal_rep_name = models.CharField(_("法定代表人"), max_length=64)
    legal_rep_id_enc = models.TextField(editable=False)
    legal_rep_id_hash = models.CharField(max_length=64, db_index=True, editable=False)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name

    @property
    def legal_rep_id_masked(self) -> str:
        return pii.mask_id_number(pii.decrypt(self.legal_rep_id_enc, purpose="id_number"))


class ApiToken(models.Model):
    """A bearer token for programs. Only a SHA-256 of the token is kept; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
