"""Admin for holiday schedules and the audit log.

Schedules are loaded by uploading the published notice as a JSON file, which goes through
``workdays.schedule_load`` like ``tongban workdays load``: the same validation and the same audit
entry whichever way it is loaded. Rows are never edited one by one; a corrected file replaces the
year. The audit log is view-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.core import workdays
from tongban.core.errors import TongbanError
from tongban.core.models import AuditEntry, HolidayDay, HolidayYear

MAX_SCHEDULE_FILE_BYTES = 256 * 1024


class ScheduleUploadForm(forms.ModelForm):
    schedule_file = forms.FileField(
        label=_("节假日安排文件（JSON）"),
        help_text=_("按国务院办公厅通知编写；再次上传同一年度的文件将整体替换该年度的安排。"),
    )

    class Meta:
        model = HolidayYear
        fields = ()

    def clean_schedule_file(self):
        upload = self.cleaned_data["schedule_file"]
        if upload.size > MAX_SCHEDULE_FILE_BYTES:
            raise forms.ValidationError(gettext("文件过大：节假日安排文件不应超过256KB。"))
        try:
            parsed = workdays.schedule_parse(upload.read())
            workdays.schedule_check(year=parsed.year, days=parsed.days, source=parsed.source)
        except TongbanError as exc:
            details = [f"{e.field}：{e.message}" for e in exc.errors[:20]]
            raise forms.ValidationError([exc.message, *details]) from None
        self.parsed = parsed
        return upload


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    form = ScheduleUploadForm
    list_display = ("year", "source", "loaded_at", "day_count")
    ordering = ("-year",)

    def get_queryset(self, request):
        days = (
            HolidayDay.objects.filter(year=OuterRef("year"))
            .values("year")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_day_count=Subquery(days, output_field=IntegerField()))

    @admin.display(description=_("天数"), ordering="_day_count")
    def day_count(self, obj) -> int:
        return obj._day_count or 0

    def get_fields(self, request, obj=None):
        return ("schedule_file",) if obj is None else ("year", "source", "loaded_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a corrected schedule is uploaded again, never edited row by row

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # unloading would silently change deadlines already computed

    def save_model(self, request, obj, form, change):
        parsed = form.parsed
        workdays.schedule_load(year=parsed.year, days=parsed.days, source=parsed.source, actor=request.user)
        loaded = HolidayYear.objects.get(year=parsed.year)
        # Hand the admin the row the service wrote, so its log entry and redirect point at it.
        obj.pk, obj.year, obj.source, obj.loaded_at = loaded.pk, loaded.year, loaded.source, loaded.loaded_at
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # nothing related to save: the service wrote the days


@admin.register(HolidayDay)
class HolidayDayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "is_workday", "year", "source")
    list_filter = ("year", "is_workday")
    search_fields = ("name",)
    ordering = ("date",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "seq",
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "channel",
        "address",
    )
    list_filter = ("channel", "target_type")
    search_fields = ("=action", "=target_id", "=actor_label")
    ordering = ("-seq",)
    show_full_result_count = False  # counting a large log on every page is slow

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
