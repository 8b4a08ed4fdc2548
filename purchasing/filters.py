"""FilterSets of the purchasing lists, shared by the pages and the API, and the scoped
querysets they filter.

A purchase order is seen by the people of its warehouse (``erp.scopes``); suppliers, their
products and payments are seen by everyone with the view permission. Pass ``request`` to
``PurchaseOrderFilter``: its warehouse choices are the user's own.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.scopes import scope_warehouses
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)
from warehouse.models import Warehouse
from warehouse.selectors import warehouse_queryset

# A search stops at this many matches: it is for finding an order, not a report.
SEARCH_LIMIT = 1000


def scope_purchase_orders(queryset: QuerySet, user) -> QuerySet:
    return scope_warehouses(queryset, user, "warehouse")


def po_list_queryset(*, user) -> QuerySet[PurchaseOrder]:
    """The user's purchase orders with what a list row shows, in one query."""
    return scope_purchase_orders(
        PurchaseOrder.objects.select_related("supplier", "warehouse").order_by(
            "-created_at", "-id"
        ),
        user,
    )


def po_detail_queryset(*, user) -> QuerySet[PurchaseOrder]:
    """One order with its lines (and their SKUs and offers), receipts and payments."""
    return scope_purchase_orders(
        PurchaseOrder.objects.select_related(
            "supplier__account", "warehouse", "created_by"
        ).prefetch_related(
            Prefetch(
                "lines",
                PurchaseOrderLine.objects.select_related("sku", "supplier_product").order_by("pk"),
            ),
            Prefetch(
                "receipts",
                Receipt.objects.select_related("received_by").prefetch_related(
                    "lines__po_line__sku", "lines__location"
                ),
            ),
            Prefetch("payments", SupplierPayment.objects.order_by("paid_on", "pk")),
        ),
        user,
    )


def _user_warehouses(request):
    user = getattr(request, "user", None)
    return warehouse_queryset(user=user) if user is not None else Warehouse.objects.none()


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class CreatedFilter(django_filters.DateFilter):
    """``created_after`` / ``created_before``: whole days, local time."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if self.lookup_expr == "lt":
            return qs.filter(created_at__lt=_day_start(value + timedelta(days=1)))
        return qs.filter(created_at__gte=_day_start(value))


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key last, so equal values never shuffle rows between pages."""

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        if ordered is qs or not ordered.query.order_by:
            return ordered
        last = ordered.query.order_by[-1]
        return ordered.order_by(*ordered.query.order_by, "-pk" if last.startswith("-") else "pk")


class PurchaseOrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=PurchaseOrderStatus.choices, label=_("Status")
    )
    supplier = django_filters.ModelChoiceFilter(
        queryset=Supplier.objects.order_by("code"), label=_("Supplier")
    )
    warehouse = django_filters.ModelChoiceFilter(queryset=_user_warehouses, label=_("Warehouse"))
    created_after = CreatedFilter(lookup_expr="gte", label=_("Created from"))
    created_before = CreatedFilter(lookup_expr="lt", label=_("Created until"))
    on_1688 = django_filters.BooleanFilter(method="filter_on_1688", label=_("Placed on 1688"))
    has_error = django_filters.BooleanFilter(method="filter_has_error", label=_("Has a 1688 error"))
    ordering = StableOrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("number", "number"),
            ("status", "status"),
            ("expected_date", "expected_date"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "q",
            "status",
            "supplier",
            "warehouse",
            "created_after",
            "created_before",
            "on_1688",
            "has_error",
        ]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and hasattr(data, "getlist") and "" in data.getlist("status"):
            data = data.copy()  # a page's "Any" status sends an empty value
            data.setlist("status", [value for value in data.getlist("status") if value])
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        """PO number, 1688 order id or tracking number, starting with the term (as typed or
        in capitals)."""
        value = value.strip()
        if not value:
            return queryset
        match = Q()
        for form in {value, value.upper()}:
            match |= (
                Q(number__startswith=form)
                | Q(platform_order_id__startswith=form)
                | (Q(tracking_number__startswith=form) & ~Q(tracking_number=""))
            )
        ids = list(queryset.filter(match).values_list("pk", flat=True)[:SEARCH_LIMIT])
        return queryset.filter(pk__in=ids)

    def filter_on_1688(self, queryset, name, value):
        placed = ~Q(platform_order_id="")
        return queryset.filter(placed) if value else queryset.exclude(placed)

    def filter_has_error(self, queryset, name, value):
        error = ~Q(platform_error="")
        return queryset.filter(error) if value else queryset.exclude(error)


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Supplier.Kind.choices, label=_("Kind"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Supplier
        fields = ["q", "kind", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name__icontains=value)
            | Q(login_id__icontains=value)
            | Q(member_id=value)
        )


class SupplierProductFilter(django_filters.FilterSet):
    supplier = django_filters.ModelChoiceFilter(
        queryset=Supplier.objects.order_by("code"), label=_("Supplier")
    )
    sku = django_filters.CharFilter(field_name="sku__code", label=_("SKU code"))
    offer_id = django_filters.CharFilter(label=_("1688 offer id"))
    is_preferred = django_filters.BooleanFilter(label=_("Preferred"))

    class Meta:
        model = SupplierProduct
        fields = ["supplier", "sku", "offer_id", "is_preferred"]


class PaymentFilter(django_filters.FilterSet):
    supplier = django_filters.ModelChoiceFilter(
        queryset=Supplier.objects.order_by("code"), label=_("Supplier")
    )
    paid_after = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="gte", label=_("Paid from")
    )
    paid_before = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="lte", label=_("Paid until")
    )
    is_prepayment = django_filters.BooleanFilter(label=_("Prepayment"))

    class Meta:
        model = SupplierPayment
        fields = ["supplier", "paid_after", "paid_before", "is_prepayment"]
