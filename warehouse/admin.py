"""Admin for reference data. Stock levels and moves are read-only here: stock changes only
through the services, so the ledger and the balances never part."""

from django.contrib import admin

from warehouse.models import (
    BundleItem,
    Location,
    Reservation,
    Sku,
    StockLevel,
    StockMove,
    Warehouse,
)


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    fk_name = "bundle"
    autocomplete_fields = ["component"]
    extra = 0


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "barcode", "weight_g", "avg_cost", "is_active")
    list_filter = ("is_active", "is_bundle", "has_battery", "is_liquid", "is_magnetic")
    search_fields = ("code", "name", "name_zh", "barcode")
    readonly_fields = ("avg_cost", "created_at", "updated_at")
    inlines = [BundleItemInline]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "country", "is_active")
    list_filter = ("kind", "is_active")
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "warehouse", "kind", "pick_sequence", "is_active")
    list_filter = ("warehouse", "kind")
    search_fields = ("code",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("sku", "location", "on_hand", "reserved")
    list_select_related = ("sku", "location")
    search_fields = ("sku__code",)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ("at", "sku", "location", "kind", "quantity", "balance_after", "unit_cost")
    list_select_related = ("sku", "location")
    list_filter = ("kind",)
    search_fields = ("sku__code", "reference")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("reference", "stock_level", "quantity", "created_at")
    search_fields = ("reference",)
