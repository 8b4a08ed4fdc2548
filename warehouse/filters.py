"""FilterSets shared by the API and the HTML pages: one per list, every field explicit."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warehouse.models import Location, Sku, StockLevel, StockMove, Warehouse
from warehouse.selectors import LOW_STOCK_LEVELS


class SkuFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    is_bundle = django_filters.BooleanFilter(label=_("Bundle"))
    has_battery = django_filters.BooleanFilter(label=_("Contains battery"))
    is_liquid = django_filters.BooleanFilter(label=_("Liquid"))
    is_magnetic = django_filters.BooleanFilter(label=_("Magnetic"))
    ordering = django_filters.OrderingFilter(
        fields=(("code", "code"), ("name", "name"), ("updated_at", "updated_at")),
        label=_("Sort"),
    )

    class Meta:
        model = Sku
        fields = ["q", "is_active", "is_bundle", "has_battery", "is_liquid", "is_magnetic"]

    def search(self, queryset, name, value):
        """Code, barcode, English or Chinese name: what a person types or a scanner sends."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(barcode=value)
            | Q(name__icontains=value)
            | Q(name_zh__icontains=value)
        )


class WarehouseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Warehouse.Kind.choices, label=_("Kind"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Warehouse
        fields = ["kind", "is_active"]


class LocationFilter(django_filters.FilterSet):
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    kind = django_filters.ChoiceFilter(choices=Location.Kind.choices, label=_("Kind"))
    code = django_filters.CharFilter(lookup_expr="istartswith", label=_("Code"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Location
        fields = ["warehouse", "kind", "code", "is_active"]


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.ModelChoiceFilter(queryset=Sku.objects.all(), label=_("SKU"))
    sku_code = django_filters.CharFilter(field_name="sku__code", label=_("SKU code"))
    warehouse = django_filters.ModelChoiceFilter(
        field_name="location__warehouse", queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), label=_("Location")
    )
    low_stock = django_filters.BooleanFilter(method="filter_low_stock", label=_("Low stock"))
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label=_("In stock"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("sku__code", "sku"),
            ("location__pick_sequence", "location"),
            ("on_hand", "on_hand"),
            ("reserved", "reserved"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = StockLevel
        fields = ["sku", "sku_code", "warehouse", "location", "low_stock", "in_stock"]

    def filter_low_stock(self, queryset, name, value):
        """Available at or below the SKU's low-stock threshold (per reservable bin row)."""
        return queryset.filter(LOW_STOCK_LEVELS) if value else queryset.exclude(LOW_STOCK_LEVELS)

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(on_hand__gt=0) if value else queryset.filter(on_hand=0)


class StockMoveFilter(django_filters.FilterSet):
    sku = django_filters.ModelChoiceFilter(queryset=Sku.objects.all(), label=_("SKU"))
    sku_code = django_filters.CharFilter(field_name="sku__code", label=_("SKU code"))
    warehouse = django_filters.ModelChoiceFilter(
        field_name="location__warehouse", queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), label=_("Location")
    )
    kind = django_filters.ChoiceFilter(choices=StockMove.Kind.choices, label=_("Kind"))
    reference = django_filters.CharFilter(label=_("Reference"))
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label=_("From"))
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label=_("To"))

    class Meta:
        model = StockMove
        fields = ["sku", "sku_code", "warehouse", "location", "kind", "reference"]
