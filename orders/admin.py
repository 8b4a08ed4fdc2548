from django import forms
from django.contrib import admin
from django.db import models

from orders.models import Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    """Credentials are left out: they are set through the store form or API, which check the
    platform's required keys, and are never shown again once stored."""

    list_display = ("code", "name", "platform", "site", "currency", "sync_enabled", "is_active")
    list_filter = ("platform", "sync_enabled", "is_active")
    search_fields = ("code", "name", "site")
    exclude = ("credentials", "sync_cursor")
    readonly_fields = ("last_synced_at", "last_error")
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"},
    }
