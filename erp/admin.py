from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from erp.models import Company, ExchangeRate, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Scope"),
            {"fields": ("display_name", "all_warehouses", "warehouses", "all_stores", "stores")},
        ),
    )
    filter_horizontal = ("groups", "user_permissions", "warehouses", "stores")
    list_display = (
        "username",
        "display_name",
        "email",
        "is_active",
        "all_warehouses",
        "all_stores",
    )


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "base_currency", "timezone")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("date", "currency", "rate_to_base")
    list_filter = ("currency",)
    date_hierarchy = "date"
