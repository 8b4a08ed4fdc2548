"""FilterSets of the warehouse operations lists (stocktakes, transfers, stock per warehouse),
shared by the API and the pages: one per list, every field explicit."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warehouse.models import IN_TRANSIT_STATES, Sku, StockLevel, Stocktake, Transfer, Warehouse
from warehouse.selectors import LOW_STOCK_ROWS


class StocktakeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Stocktake.Status.choices, label=_("Status"))
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    q = django_filters.CharFilter(method="search", label=_("Number or note"))

    class Meta:
        model = Stocktake
        fields = ["status", "warehouse", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(note__icontains=value))


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Transfer.Status.choices, label=_("Status"))
    source = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("From warehouse")
    )
    destination = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("To warehouse")
    )
    in_transit = django_filters.BooleanFilter(method="filter_in_transit", label=_("In transit"))
    q = django_filters.CharFilter(method="search", label=_("Number or tracking"))

    class Meta:
        model = Transfer
        fields = ["status", "source", "destination", "in_transit", "q"]

    def filter_in_transit(self, queryset, name, value):
        in_transit = Q(status__in=IN_TRANSIT_STATES)
        return queryset.filter(in_transit) if value else queryset.exclude(in_transit)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(tracking__icontains=value))


class SkuAvailabilityFilter(django_filters.FilterSet):
    """Over ``sku_warehouse_stock_queryset`` (one row per SKU and warehouse)."""

    warehouse = django_filters.ModelChoiceFilter(
        field_name="location__warehouse", queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    sku = django_filters.ModelChoiceFilter(queryset=Sku.objects.all(), label=_("SKU"))
    q = django_filters.CharFilter(method="search", label=_("SKU code or name"))
    low_stock = django_filters.BooleanFilter(method="filter_low_stock", label=_("Low stock"))
    active = django_filters.BooleanFilter(field_name="sku__is_active", label=_("Active SKUs"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("sku__code", "sku"),
            ("location__warehouse__code", "warehouse"),
            ("total_available", "available"),
            ("total_on_hand", "on_hand"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = StockLevel  # the rows are dicts grouped per SKU and warehouse
        fields = ["warehouse", "sku", "q", "low_stock", "active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(sku__code__icontains=value)
            | Q(sku__barcode=value)
            | Q(sku__name__icontains=value)
            | Q(sku__name_zh__icontains=value)
        )

    def filter_low_stock(self, queryset, name, value):
        """Available in the warehouse at or below the SKU's threshold (``LOW_STOCK_ROWS``)."""
        return queryset.filter(LOW_STOCK_ROWS) if value else queryset.exclude(LOW_STOCK_ROWS)
