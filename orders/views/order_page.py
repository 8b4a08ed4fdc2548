"""The order page: lines, address edit, reservations, timeline, split."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from erp.errors import ServiceError
from orders import services
from orders.forms import (
    AddressForm,
    BulkAction,
    SplitForm,
)
from orders.models import (
    OPEN_STATES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.selectors import (
    order_queryset,
)
from orders.views.common import _status_label
from orders.views.order_list import ACTION_STATES, _allowed_actions
from warehouse.models import Reservation


def _order_or_404(request: HttpRequest, pk: int, queryset=None) -> Order:
    """An order of the user's stores; any other is simply not found."""
    if queryset is None:
        queryset = order_queryset(user=request.user)
    return get_object_or_404(queryset, pk=pk)


def _timeline(events) -> list[OrderEvent]:
    """Events with their status labels and, for address edits, the changed fields."""
    labels = {
        f.name: f.verbose_name for f in Order._meta.get_fields() if hasattr(f, "verbose_name")
    }
    for event in events:
        event.from_label = _status_label(event.from_status) if event.from_status else ""
        event.to_label = _status_label(event.to_status) if event.to_status else ""
        event.changes = (
            [
                (labels.get(name, name), change.get("from", ""), change.get("to", ""))
                for name, change in event.data.items()
                if isinstance(change, dict)
            ]
            if event.kind == OrderEvent.Kind.ADDRESS
            else []
        )
    return events


@require_GET
@permission_required("orders.view_order", raise_exception=True)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(
        request,
        pk,
        order_queryset(user=request.user)
        .select_related("merged_into", "split_from")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("sku", "origin_order").order_by("id"),
            ),
            Prefetch(
                "events", queryset=OrderEvent.objects.select_related("user").order_by("at", "id")
            ),
            Prefetch("merged_orders", queryset=Order.objects.order_by("purchased_at", "id")),
            Prefetch("split_orders", queryset=Order.objects.order_by("id")),
            "tags",
            # the shipping panel logistics adds to this page (a template include: orders
            # imports nothing of logistics)
            "shipments__channel",
        ),
    )
    reservations = list(
        Reservation.objects.filter(reference=order.reference)
        .select_related("stock_level__sku", "stock_level__location__warehouse")
        .order_by("stock_level__location__pick_sequence", "stock_level__sku__code")
    )
    lines = list(order.lines.all())
    status = order.status
    actions = [
        a
        for a in _allowed_actions(request, list(BulkAction))
        if a != BulkAction.MERGE and status in ACTION_STATES[BulkAction(a)]
    ]
    can_change = request.user.has_perm("orders.change_order")
    return render(
        request,
        "orders/order_detail.html",
        {
            "nav": "orders",
            "order": order,
            "lines": lines,
            "reservations": reservations,
            "events": _timeline(order.events.all()),
            "actions": actions,
            "can_edit_address": can_change and status in (*OPEN_STATES, OrderStatus.ALLOCATED),
            "can_split": can_change
            and status in OPEN_STATES
            and sum(line.quantity for line in lines) > 1,
            "can_pair": request.user.has_perm("orders.add_skumapping"),
        },
    )


@permission_required("orders.change_order", raise_exception=True)
def order_address(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(request, pk)
    # The form works on its own copy, so a refused edit never shows the input as stored.
    form = AddressForm(request.POST or None, instance=Order.objects.get(pk=order.pk))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.order_edit_address(order=order, fields=fields, user=request.user)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Address saved."))
            return redirect("orders:order-detail", pk=order.pk)
    return render(
        request, "orders/order_address.html", {"nav": "orders", "order": order, "form": form}
    )


@permission_required("orders.change_order", raise_exception=True)
def order_split(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(request, pk)
    lines = list(order.lines.select_related("sku").order_by("id"))
    form = SplitForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.order_split(
                order=order, quantities=form.quantities(), user=request.user
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Split off %(order)s from %(parent)s.")
                % {"order": child.external_id, "parent": order.external_id},
            )
            return redirect("orders:order-detail", pk=child.pk)
    return render(
        request, "orders/order_split.html", {"nav": "orders", "order": order, "form": form}
    )
