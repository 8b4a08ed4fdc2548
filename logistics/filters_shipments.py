"""FilterSets of the shipment and manifest lists, shared by the pages and the API, and the
scoped querysets they filter.

Every shipment a person sees is in one of their warehouses AND of one of their stores (through
its order); a manifest is in one of their warehouses. Pass ``request`` to the FilterSets: the
warehouse and store choices are the user's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from erp.scopes import scope_stores, scope_warehouses, sees_all_stores, sees_all_warehouses
from logistics.models import Carrier, Manifest, Shipment, ShipmentStatus, ShippingChannel
from logistics.types import TrackingStatus
from orders.filters import DayOrMomentField, StableOrderingFilter, _day_start
from orders.models import Store
from orders.selectors import store_queryset
from warehouse.models import Warehouse
from warehouse.selectors import warehouse_queryset

# Store columns a shipment row never shows: each would be read (and decrypted) per row.
_STORE_DEFERRED = (
    "order__store__credentials",
    "order__store__sync_cursor",
    "order__store__last_error",
)

TRACKING_STATUS_LABELS = {
    TrackingStatus.INFO_RECEIVED: _("Info received"),
    TrackingStatus.IN_TRANSIT: _("In transit"),
    TrackingStatus.OUT_FOR_DELIVERY: _("Out for delivery"),
    TrackingStatus.DELIVERED: _("Delivered"),
    TrackingStatus.EXCEPTION: _("Exception"),
    TrackingStatus.RETURNED: _("Returned"),
}
TRACKING_STATUS_CHOICES = [(s.value, label) for s, label in TRACKING_STATUS_LABELS.items()]


def scope_shipments(queryset: QuerySet, user) -> QuerySet:
    """``queryset`` (of shipments) limited to the user's warehouses and stores."""
    queryset = scope_warehouses(queryset, user, "warehouse")
    return scope_stores(queryset, user, "order__store")


def shipment_queryset(*, user) -> QuerySet[Shipment]:
    """The user's shipments with what a list row shows, in one query."""
    return scope_shipments(
        Shipment.objects.select_related("order__store", "channel__carrier", "warehouse", "manifest")
        .defer(*_STORE_DEFERRED)
        .order_by("-created_at", "-id"),
        user,
    )


def sees_everything(user) -> bool:
    return sees_all_warehouses(user) and sees_all_stores(user)


def manifest_queryset(*, user) -> QuerySet[Manifest]:
    return scope_warehouses(
        Manifest.objects.select_related("carrier", "warehouse", "created_by").order_by(
            "-created_at", "-id"
        ),
        user,
        "warehouse",
    )


def _user_stores(request):
    user = getattr(request, "user", None)
    return store_queryset(user=user) if user is not None else Store.objects.none()


def _user_warehouses(request):
    user = getattr(request, "user", None)
    return warehouse_queryset(user=user) if user is not None else Warehouse.objects.none()


class CreatedFilter(django_filters.DateTimeFilter):
    """``created_after`` / ``created_before``: a date takes in that whole day (local time), a
    date-time is exact (after: at or after it; before: strictly before it)."""

    field_class = DayOrMomentField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not isinstance(value, datetime):
            value = _day_start(value + timedelta(days=1) if self.lookup_expr == "lt" else value)
        return qs.filter(**{f"created_at__{self.lookup_expr}": value})


class IdListField(forms.CharField):
    """``1,2,3``: the shipments a step just made (at most 1,000)."""

    default_error_messages = {"invalid": _("Give shipment numbers separated by commas.")}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return []
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return ids[:1000]


class IdListFilter(django_filters.Filter):
    field_class = IdListField

    def filter(self, qs, value):
        return qs.filter(pk__in=value) if value else qs


# A search stops at this many matches: it is for finding a parcel, not a report.
SEARCH_LIMIT = 1000


class ShipmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices, label=_("Status"))
    carrier = django_filters.ModelChoiceFilter(
        field_name="channel__carrier",
        queryset=Carrier.objects.order_by("code"),
        label=_("Carrier"),
    )
    channel = django_filters.ModelChoiceFilter(
        queryset=ShippingChannel.objects.select_related("carrier").order_by(
            "carrier__code", "code"
        ),
        label=_("Channel"),
    )
    warehouse = django_filters.ModelChoiceFilter(queryset=_user_warehouses, label=_("Warehouse"))
    store = django_filters.ModelChoiceFilter(
        field_name="order__store", queryset=_user_stores, label=_("Store")
    )
    tracking_status = django_filters.ChoiceFilter(
        choices=TRACKING_STATUS_CHOICES, label=_("Tracking status")
    )
    created_after = CreatedFilter(lookup_expr="gte", label=_("Created from"))
    created_before = CreatedFilter(lookup_expr="lt", label=_("Created until"))
    has_error = django_filters.BooleanFilter(method="filter_has_error", label=_("Has an error"))
    ids = IdListFilter(field_name="id", label=_("Shipments"))
    ordering = StableOrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("tracking_number", "tracking_number"),
            ("status", "status"),
            ("weight_g", "weight"),
            ("estimated_cost", "cost"),
            ("shipped_at", "shipped_at"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = Shipment
        fields = [
            "q",
            "status",
            "carrier",
            "channel",
            "warehouse",
            "store",
            "tracking_status",
            "created_after",
            "created_before",
            "has_error",
            "ids",
        ]

    def search(self, queryset, name, value):
        """Tracking number, our reference, the carrier's waybill or the order's platform id or
        number, starting with the term (as typed or in capitals)."""
        value = value.strip()
        if not value:
            return queryset
        match = Q()
        for form in {value, value.upper()}:
            match |= (
                Q(tracking_number__startswith=form)
                | Q(reference__startswith=form)
                | Q(carrier_reference__startswith=form)
                | Q(order__external_id__startswith=form)
                | (Q(order__platform_reference__startswith=form) & ~Q(order__platform_reference=""))
            )
        if value.isdigit():
            match |= Q(order_id=int(value))
        ids = list(queryset.filter(match).values_list("pk", flat=True)[:SEARCH_LIMIT])
        return queryset.filter(pk__in=ids)

    def filter_has_error(self, queryset, name, value):
        errors = ~Q(last_error="") | ~Q(platform_error="")
        return queryset.filter(errors) if value else queryset.exclude(errors)


class ManifestFilter(django_filters.FilterSet):
    carrier = django_filters.ModelChoiceFilter(
        queryset=Carrier.objects.order_by("code"), label=_("Carrier")
    )
    warehouse = django_filters.ModelChoiceFilter(queryset=_user_warehouses, label=_("Warehouse"))
    status = django_filters.ChoiceFilter(choices=Manifest.Status.choices, label=_("Status"))

    class Meta:
        model = Manifest
        fields = ["carrier", "warehouse", "status"]
