from django.contrib import admin

from tongban.regions.models import Organisation, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "kind", "region")
    list_filter = ("kind",)
    search_fields = ("name", "uscc")
    autocomplete_fields = ("region",)
