"""Core tables: the holiday schedules loaded by administrators, and the audit log.

Holiday schedules beyond what the ``chinesecalendar`` package knows are loaded as rows so a node
keeps counting time limits correctly after the State Council publishes a new year's schedule,
without waiting for a package release (see ``tongban.core.workdays``).

The audit log is append-only and hash-chained (see ``tongban.core.audit``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.core import error_codes
from tongban.core.errors import Conflict


class HolidayYear(models.Model):
    """One row per year whose schedule was loaded: makes "this year is known" explicit, even for a
    year whose schedule happened to contain no entries."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=200, help_text=_("发布文件，如“国办发明电〔2026〕X号”"))
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now)

    class Meta:
        ordering = ["year"]
        verbose_name = _("节假日安排年度")
        verbose_name_plural = _("节假日安排年度")

    def __str__(self) -> str:
        return f"{self.year}"


class HolidayDay(models.Model):
    """A date whose status differs from the plain Monday–Friday rule, or that belongs to a holiday.

    ``is_workday`` is True for a make-up workday (调休上班) on a weekend and False for a day off;
    weekend days inside a holiday period are stored too (False), so the holiday's name is known for
    every day of it.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否上班"))
    name = models.CharField(_("名称"), max_length=64, blank=True)
    year = models.PositiveSmallIntegerField(_("年份"), db_index=True)
    source = models.CharField(_("来源"), max_length=200)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日安排日期")
        verbose_name_plural = _("节假日安排日期")

    def __str__(self) -> str:
        kind = gettext("上班") if self.is_workday else gettext("休息")
        return f"{self.date.isoformat()} {self.name} {kind}"


class AuditEntry(models.Model):
    """One change of state. Immutable: once sealed, each row carries the hash of the previous one,
    so editing or deleting a row anywhere breaks the chain and ``audit.verify()`` names where.

    ``id`` is the insert order; ``seq`` (the place in the chain), ``prev_hash`` and ``entry_hash``
    are set once by ``audit.seal()`` moments after the change commits, and are empty until then.

    ``actor_id`` is a plain integer, not a foreign key: the record must outlive the account and a
    user deletion must never cascade into the log.
    """

    seq = models.BigIntegerField(_("序号"), unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    target_id = models.CharField(_("对象标识"), max_length=64, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    channel = models.CharField(_("渠道"), max_length=16)
    address = models.CharField(_("地址"), max_length=64, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    entry_hash = models.CharField(_("本条哈希"), max_length=64, blank=True)

    class Meta:
        # Insert order: the same on every database, sealed or not (``seq`` is NULL until sealed).
        ordering = ["id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="core_audit_target_idx"),
            # What the sealer looks for: a handful of rows among millions.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="core_audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        # Only the first insert is allowed; ``audit.record`` is the one writer (``audit.seal`` sets
        # the chain fields with a queryset update, once).
        if not self._state.adding:
            raise Conflict(error_codes.AUDIT_ENTRY_IMMUTABLE, gettext("审计记录不可修改。"))
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict(error_codes.AUDIT_ENTRY_IMMUTABLE, gettext("审计记录不可删除。"))


class AuditHead(models.Model):
    """The single row (pk=1) holding the chain's tip. Only the sealer locks it, once per batch."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="core_audithead_single_row")]

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
