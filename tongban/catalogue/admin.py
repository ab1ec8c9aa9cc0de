from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tongban.catalogue import services
from tongban.catalogue.constants import ItemStatus
from tongban.catalogue.models import Material, ServiceItem
from tongban.core.errors import TongbanError
from tongban.regions import divisions


class MaterialInline(admin.TabularInline):
    model = Material
    extra = 0
    fields = ("sort", "code", "name", "required", "form", "copies", "certificate_type", "note")


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ("name", "implementation_code", "version", "city_code", "authority", "item_type", "status")
    list_filter = ("city_code", "item_type", "status")
    # search_text holds the pinyin and initials, so "yyzz" finds 营业执照 items here too.
    search_fields = ("name", "implementation_code", "basic_code", "search_text")
    list_select_related = ("authority", "region")
    autocomplete_fields = ("authority", "region")
    readonly_fields = (
        "public_id",
        "status",
        "city_code",
        "published_at",
        "search_text",
        "created_at",
        "updated_at",
    )
    inlines = [MaterialInline]
    actions = ["publish_selected", "withdraw_selected"]

    def save_model(self, request, obj, form, change):
        if not change:
            # A new item starts as a draft; the publish action (an audited service call) publishes it.
            obj.status = ItemStatus.DRAFT
        # The same functions the loader uses: the city follows the region, search follows name and keywords.
        obj.city_code = divisions.city_of(obj.region_id)
        services.item_search_text_refresh(obj)
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, action, done: str):
        ok = 0
        for item in queryset:
            try:
                action(item=item, actor=request.user)
                ok += 1
            except TongbanError as exc:
                self.message_user(request, f"{item.name}：{exc.message}", messages.WARNING)
        if ok:
            self.message_user(request, f"已{done} {ok} 项事项。", messages.SUCCESS)

    @admin.action(description=_("发布所选事项"))
    def publish_selected(self, request, queryset):
        self._each(request, queryset, services.item_publish, "发布")

    @admin.action(description=_("撤销所选事项"))
    def withdraw_selected(self, request, queryset):
        self._each(request, queryset, services.item_withdraw, "撤销")
