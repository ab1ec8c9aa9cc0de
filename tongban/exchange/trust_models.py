"""Where a node keeps its last good trust list (one row, ``id = 1``).

Imported by ``tongban/exchange/models.py`` so that Django registers it in the ``exchange`` app.
"""

from __future__ import annotations

from django.db import models

SINGLETON_ID = 1


class TrustListState(models.Model):
    """The trust list this node works with, and how the last attempt to refresh it went.

    ``version`` 0 and no ``document``: none installed yet (the row may exist to record a failed
    refresh). ``document`` is the signed document exactly as the anchor published it; it is verified
    again whenever a process loads it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    version = models.BigIntegerField("版本", default=0)
    document = models.JSONField("已签名的信任列表", null=True, blank=True)
    digest = models.CharField("摘要（SHA-256，规范化 JSON）", max_length=64, blank=True, default="")
    installed_at = models.DateTimeField("安装时间", null=True, blank=True)
    fetched_at = models.DateTimeField("最近一次成功获取", null=True, blank=True)
    last_error = models.TextField("最近一次获取失败的原因", blank=True, default="")
    last_error_at = models.DateTimeField("最近一次获取失败的时间", null=True, blank=True)

    class Meta:
        app_label = "exchange"
        verbose_name = "信任列表状态"
        verbose_name_plural = "信任列表状态"

    def __str__(self) -> str:
        return f"信任列表 v{self.version}"
