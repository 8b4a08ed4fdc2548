"""FilterSets shared by the API and the HTML pages: one per list, every field explicit."""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from orders.models import (
    HoldReason,
    Order,
    OrderLine,
    OrderReturn,
    OrderReturnLine,
    OrderStatus,
    Platform,
    ReturnDisposition,
    ReturnReason,
    Store,
    Tag,
)
from orders.selectors import store_queryset
from warehouse.models import Sku, Warehouse
from warehouse.selectors import warehouse_queryset


class StoreFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices, label=_("Platform"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    sync_enabled = django_filters.BooleanFilter(label=_("Sync enabled"))

    class Meta:
        model = Store
        fields = ["platform", "is_active", "sync_enabled"]


# --- Orders ----------------------------------------------------------------------------------


class DayOrMomentField(forms.Field):
    """An ISO date (``2026-03-01``, what a date input sends) or an ISO date-time
    (``2026-03-01T08:00:00Z``, what an API client sends). Naive date-times are local time."""

    default_error_messages = {
        "invalid": _(
            "Enter a date such as 2026-03-01, or a date and time such as 2026-03-01T08:00Z."
        )
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            # a bare date first: parse_datetime would read it as midnight
            day = parse_date(text)
            moment = None if day else parse_datetime(text)
        except ValueError:
            moment = day = None
        if moment is not None:
            return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        if day is not None:
            return day
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class PurchasedFilter(django_filters.DateTimeFilter):
    """``purchased_after`` / ``purchased_before``: a date takes in that whole day (local time),
    a date-time is exact (after: at or after it; before: strictly before it)."""

    field_class = DayOrMomentField
    column = "purchased_at"

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not isinstance(value, datetime):  # a whole day
            value = _day_start(value + timedelta(days=1) if self.lookup_expr == "lt" else value)
        return qs.filter(**{f"{self.column}__{self.lookup_expr}": value})


class ReceivedFilter(PurchasedFilter):
    """``received_after`` / ``received_before`` of returns, read the same way."""

    column = "received_at"


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key last, so equal values never shuffle rows between pages."""

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        if ordered is qs or not ordered.query.order_by:
            return ordered
        last = ordered.query.order_by[-1]
        return ordered.order_by(*ordered.query.order_by, "-pk" if last.startswith("-") else "pk")


def _user_stores(request):
    """Only the requesting user's stores are valid choices (none without a request)."""
    user = getattr(request, "user", None)
    return store_queryset(user=user) if user is not None else Store.objects.none()


def _user_warehouses(request):
    user = getattr(request, "user", None)
    return warehouse_queryset(user=user) if user is not None else Warehouse.objects.none()


def _lines_where(condition: Q) -> Exists:
    """Orders with at least one line matching ``condition``: an ``EXISTS`` subquery, so a
    search on lines never multiplies rows (no join, no DISTINCT over a million orders)."""
    return Exists(OrderLine.objects.filter(condition, order_id=OuterRef("pk")))


# Each kind of search match stops here: a search is for finding an order, not a report.
SEARCH_LIMIT = 1000


class OrderFilter(django_filters.FilterSet):
    """The order list's filters, for the pages and the API. Pass ``request``: the store and
    warehouse choices are the user's own. Scope the queryset itself with ``order_queryset``.

    The search ``q`` looks in the platform order id, the lines' platform SKUs and our SKU
    codes, then buyer name and e-mail and recipient (see ``search``). Tracking numbers join it
    when logistics lands.
    """

    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    store = django_filters.ModelChoiceFilter(queryset=_user_stores, label=_("Store"))
    platform = django_filters.ChoiceFilter(
        field_name="store__platform", choices=Platform.choices, label=_("Platform")
    )
    country = django_filters.CharFilter(method="filter_country", label=_("Country"))
    sku = django_filters.CharFilter(method="filter_sku", label=_("SKU code"))
    platform_sku = django_filters.CharFilter(method="filter_platform_sku", label=_("Platform SKU"))
    purchased_after = PurchasedFilter(lookup_expr="gte", label=_("Purchased from"))
    purchased_before = PurchasedFilter(lookup_expr="lt", label=_("Purchased until"))
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", queryset=Tag.objects.order_by("name"), label=_("Tag")
    )
    hold_reason = django_filters.ChoiceFilter(choices=HoldReason.choices, label=_("Hold reason"))
    has_exception = django_filters.BooleanFilter(
        method="filter_has_exception", label=_("Has an exception")
    )
    warehouse = django_filters.ModelChoiceFilter(queryset=_user_warehouses, label=_("Warehouse"))
    ordering = StableOrderingFilter(
        fields=(
            ("purchased_at", "purchased_at"),
            ("total", "total"),
            ("status", "status"),
            ("store__code", "store"),
        ),
        label=_("Sort"),
    )

    class Meta:
        model = Order
        fields = [
            "q",
            "status",
            "store",
            "platform",
            "country",
            "sku",
            "platform_sku",
            "purchased_after",
            "purchased_before",
            "tag",
            "hold_reason",
            "has_exception",
            "warehouse",
        ]

    def search(self, queryset, name, value):
        """Order id, platform SKU or our SKU code starting with the term (as typed or in
        capitals), else buyer or recipient name or e-mail containing it.

        The first three are index lookups collected as ids first: one OR of them in SQL
        made PostgreSQL scan all million orders (7 s). Only a term that matches no order
        id or SKU searches names, which is a scan of the orders in scope (~0.5 s at a
        million); each kind stops at SEARCH_LIMIT matches, newest first.
        """
        value = value.strip()
        if not value:
            return queryset
        forms = {value, value.upper()}
        starts = Q()
        for form in forms:
            starts |= Q(external_id__startswith=form)
            # (the "<> ''" lets PostgreSQL use the partial index of order numbers)
            starts |= Q(platform_reference__startswith=form) & ~Q(platform_reference="")
        ids = set(
            queryset.filter(starts)
            .order_by("-purchased_at")
            .values_list("pk", flat=True)[:SEARCH_LIMIT]
        )
        sku_ids = list(
            Sku.objects.filter(code__istartswith=value).values_list("pk", flat=True)[:200]
        )
        line_match = Q(sku_id__in=sku_ids)
        for form in forms:
            line_match |= Q(platform_sku__startswith=form)
        ids.update(
            OrderLine.objects.filter(line_match, order__in=queryset)
            .order_by("-order_id")
            .values_list("order_id", flat=True)[:SEARCH_LIMIT]
        )
        if ids:
            return queryset.filter(pk__in=ids)
        return queryset.filter(
            Q(buyer_name__icontains=value)
            | Q(buyer_email__icontains=value)
            | Q(ship_name__icontains=value)
        )

    def filter_country(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(ship_country=value) if value else queryset

    def filter_sku(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(_lines_where(Q(sku__code=value))) if value else queryset

    def filter_platform_sku(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(_lines_where(Q(platform_sku=value))) if value else queryset

    def filter_has_exception(self, queryset, name, value):
        return queryset.exclude(exception="") if value else queryset.filter(exception="")


# --- Returns ---------------------------------------------------------------------------------


class OrderReturnFilter(django_filters.FilterSet):
    """The returns list's filters, for the page and the API. Pass ``request`` (the store
    choices are the user's own); scope the queryset with ``order_return_queryset``."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    store = django_filters.ModelChoiceFilter(
        field_name="order__store", queryset=_user_stores, label=_("Store")
    )
    order = django_filters.NumberFilter(field_name="order", label=_("Order id"))
    received_after = ReceivedFilter(lookup_expr="gte", label=_("Received from"))
    received_before = ReceivedFilter(lookup_expr="lt", label=_("Received until"))
    disposition = django_filters.ChoiceFilter(
        choices=ReturnDisposition.choices, method="filter_disposition", label=_("Disposition")
    )
    reason = django_filters.ChoiceFilter(choices=ReturnReason.choices, label=_("Reason"))
    sku = django_filters.CharFilter(method="filter_sku", label=_("SKU code"))

    class Meta:
        model = OrderReturn
        fields = [
            "q",
            "store",
            "order",
            "received_after",
            "received_before",
            "disposition",
            "reason",
            "sku",
        ]

    def search(self, queryset, name, value):
        """The return number or the platform order id, as typed or in capitals, starting with
        the term."""
        value = value.strip()
        if not value:
            return queryset
        match = Q()
        for form in {value, value.upper()}:
            match |= Q(number__startswith=form) | Q(order__external_id__startswith=form)
        return queryset.filter(match)

    def filter_disposition(self, queryset, name, value):
        """Returns with at least one line of this disposition."""
        lines = OrderReturnLine.objects.filter(order_return_id=OuterRef("pk"), disposition=value)
        return queryset.filter(Exists(lines)) if value else queryset

    def filter_sku(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        lines = OrderReturnLine.objects.filter(order_return_id=OuterRef("pk"), sku__code=value)
        return queryset.filter(Exists(lines))
