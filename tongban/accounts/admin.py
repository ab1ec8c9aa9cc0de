from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import ApiToken, Enterprise, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff accounts and roles are managed here; personal data is shown masked and never edited."""

    list_display = ("username", "real_name", "kind", "organisation", "roles", "is_active", "locked_until")
    list_filter = ("kind", "is_active", "organisation__region")
    search_fields = ("username", "real_name")
    autocomplete_fields = ("organisation",)
    readonly_fields = (
        "id_number_masked",
        "phone_masked",
        "realname_verified_at",
        "failed_logins",
        "locked_until",
    )
    fieldsets = (
        (None, {"fields": ("username", "password", "kind", "is_active")}),
        (
            _("实名信息"),
            {"fields": ("real_name", "id_number_masked", "phone_masked", "email", "realname_verified_at")},
        ),
        (_("单位与角色"), {"fields": ("organisation", "roles", "is_staff", "is_superuser")}),
        (_("登录保护"), {"fields": ("failed_logins", "locked_until", "last_login")}),
    )

    @admin.display(description=_("身份证号码"))
    def id_number_masked(self, obj):
        return obj.id_number_masked

    @admin.display(description=_("手机号码"))
    def phone_masked(self, obj):
        return obj.phone_masked


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "legal_rep_name")
    search_fields = ("name", "uscc")
    readonly_fields = ("user", "uscc", "legal_rep_id_masked")
    exclude = ("legal_rep_id_enc", "legal_rep_id_hash")

    @admin.display(description=_("法定代表人身份证号码"))
    def legal_rep_id_masked(self, obj):
        return obj.legal_rep_id_masked


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request):
        return False  # tokens are issued through the API, where the holder sees the token once
