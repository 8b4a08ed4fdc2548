"""Admin of purchasing, for support work: everyday changes go through the pages and the API
(their services keep the invariants). 1688 credentials are left out: they are typed into the
1688 account form and never shown again once stored; purchase orders are read-only here."""

from django import forms
from django.contrib import admin
from django.db import models

from purchasing.models import (
    Account1688,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)

URL_FIELDS = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}


@admin.register(Account1688)
class Account1688Admin(admin.ModelAdmin):
    list_display = ("name", "app_key", "member_id", "token_expires_at", "is_active")
    exclude = ("credentials",)
    formfield_overrides = URL_FIELDS


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "payment_terms", "currency", "lead_days", "is_active")
    list_filter = ("kind", "payment_terms", "is_active")
    search_fields = ("code", "name", "login_id", "member_id")
    formfield_overrides = URL_FIELDS


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "supplier", "offer_id", "spec_name", "moq", "is_preferred", "synced_at")
    list_select_related = ("sku", "supplier")
    list_filter = ("is_preferred", "supplier")
    search_fields = ("sku__code", "offer_id", "spec_id")
    raw_id_fields = ("sku",)
    formfield_overrides = URL_FIELDS


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    raw_id_fields = ("sku", "supplier_product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "supplier", "warehouse", "status", "platform_order_id", "created_at")
    list_select_related = ("supplier", "warehouse")
    list_filter = ("status", "warehouse")
    search_fields = ("number", "platform_order_id", "tracking_number")
    inlines = [PurchaseOrderLineInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ("number", "purchase_order", "received_at", "received_by")
    list_select_related = ("purchase_order", "received_by")
    search_fields = ("number", "purchase_order__number")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupplierPayment)
class SupplierPaymentAdmin(admin.ModelAdmin):
    list_display = ("supplier", "amount", "currency", "paid_on", "purchase_order", "is_prepayment")
    list_select_related = ("supplier", "purchase_order")
    list_filter = ("is_prepayment", "supplier")
    raw_id_fields = ("purchase_order",)
