"""Admin of the shipping setup. Carrier credentials are left out: they are set through the
carrier form or API and never shown again once stored."""

from django import forms
from django.contrib import admin
from django.db import models

from logistics.models import Carrier, ChannelRule, OrderChannel, RateCardRow, ShippingChannel


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "connector", "is_active")
    list_filter = ("connector", "is_active")
    search_fields = ("code", "name")
    exclude = ("credentials",)
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"},
    }


class RateCardRowInline(admin.TabularInline):
    model = RateCardRow
    extra = 0
    ordering = ("country", "weight_from_g")


@admin.register(ShippingChannel)
class ShippingChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "carrier", "currency", "max_weight_g", "is_active")
    list_filter = ("carrier", "is_active", "tracking_source")
    search_fields = ("code", "name", "service_code")
    filter_horizontal = ("warehouses",)
    inlines = [RateCardRowInline]


@admin.register(ChannelRule)
class ChannelRuleAdmin(admin.ModelAdmin):
    list_display = ("priority", "name", "action", "channel", "is_active")
    list_filter = ("action", "is_active")
    ordering = ("priority", "id")


@admin.register(OrderChannel)
class OrderChannelAdmin(admin.ModelAdmin):
    list_display = ("order", "channel", "rule", "chosen_by", "estimated_cost", "currency")
    list_select_related = ("order__store", "channel", "rule", "chosen_by")
    raw_id_fields = ("order",)
    list_filter = ("channel",)
