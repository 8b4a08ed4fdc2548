"""Creating shipments for ticked allocated orders: check the channel of each (or one for all),
type the numbers a manual channel needs, create, and land on the new shipments."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from erp.scopes import scope_warehouses
from logistics.models import (
    ACTIVE_SHIPMENT_STATES,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
    TrackingSource,
)
from logistics.services.shipments import queue_waybill_purchases, shipments_create
from logistics.views.shipments import back_url, parse_ids, report_failures
from orders.models import Order, OrderStatus
from orders.selectors import order_queryset

# One page of orders at most: more are created from the list in several goes.
MAX_ORDERS = 500


def _wanted_ids(data) -> list[int]:
    """The ticked orders: ``order`` repeated (the order list's boxes) or ``orders=1,2,3``."""
    ids = [int(v) for v in data.getlist("order") if str(v).isdigit()]
    ids += parse_ids(data.get("orders", ""))
    return list(dict.fromkeys(ids))[:MAX_ORDERS]


def _orders(request: HttpRequest, ids: list[int]) -> list[Order]:
    active = Shipment.objects.filter(order_id=OuterRef("pk"), status__in=ACTIVE_SHIPMENT_STATES)
    queryset = scope_warehouses(
        order_queryset(user=request.user)
        .filter(pk__in=ids)
        .select_related("shipping_choice__channel__carrier")
        .annotate(has_shipment=Exists(active)),
        request.user,
        "warehouse",
    )
    return list(queryset.order_by("pk"))


def _channels() -> list[ShippingChannel]:
    from logistics.services.quotes import quoting_channels

    return quoting_channels()


def _choice(order: Order):
    try:
        return order.shipping_choice
    except Order.shipping_choice.RelatedObjectDoesNotExist:
        return None


def _rows(orders: list[Order], override: ShippingChannel | None) -> list[dict]:
    """Each order's channel (its own, or the override for all) and its cost; with the
    override, its price and eligibility from the rate card, for every order in one go."""
    from logistics.services.quotes import quote_orders

    quotes = quote_orders([o.pk for o in orders], channels=[override]) if override else {}
    rows = []
    for order in orders:
        choice = _choice(order)
        channel = override or (choice.channel if choice else None)
        row = {
            "order": order,
            "channel": channel,
            "cost": None,
            "currency": "",
            "problem": "",
            "manual": bool(channel and channel.tracking_source == TrackingSource.MANUAL),
        }
        if override is not None:
            quote = quotes.get(order.pk, [None])[0]
            if quote is not None:
                row["cost"], row["currency"] = quote.cost, quote.currency
                if not quote.eligible:
                    row["problem"] = "; ".join(str(r) for r in quote.reasons)
        elif choice is not None:
            row["cost"], row["currency"] = choice.estimated_cost, choice.currency
        else:
            row["problem"] = _("No channel chosen: choose one for all above.")
        rows.append(row)
    return rows


@require_http_methods(["GET", "POST"])
@permission_required("logistics.add_shipment", raise_exception=True)
def shipment_create(request: HttpRequest) -> HttpResponse:
    """GET ``?orders=1,2,3``: the ticked allocated orders with their channels; POST with
    ``create``: create their shipments. A POST without it comes from the order list's bulk
    form and only carries the ticked boxes: it becomes the GET page."""
    data = request.POST if request.method == "POST" else request.GET
    back = back_url(request, reverse("orders:order-list") + "?status=allocated")
    ids = _wanted_ids(data)
    if request.method == "POST" and "create" not in request.POST:
        query = {"orders": ",".join(str(pk) for pk in ids), "next": back}
        return redirect(f"{reverse('logistics:shipment-create')}?{urlencode(query)}")

    channels = _channels()
    by_pk = {str(c.pk): c for c in channels}
    override = by_pk.get(data.get("channel", ""))
    orders = _orders(request, ids)
    ready = [o for o in orders if o.status == OrderStatus.ALLOCATED and not o.has_shipment]
    skipped = [o for o in orders if o not in ready]
    unknown = len(ids) - len(orders)

    if request.method == "POST":
        if not ready:
            messages.error(request, _("None of these orders can get a shipment."))
            return redirect(back)
        numbers = {
            o.pk: request.POST.get(f"tracking_{o.pk}", "").strip()[:60]
            for o in ready
            if request.POST.get(f"tracking_{o.pk}", "").strip()
        }
        result = shipments_create(
            order_ids=[o.pk for o in ready],
            channel=override,
            tracking_numbers=numbers,
            user=request.user,
            buy=False,
        )
        result.created = queue_waybill_purchases(result.created, user=request.user)
        names = {o.pk: f"{o.store.code}/{o.external_id}" for o in ready}
        created, failed = len(result.created), len(result.failed)
        summary = ngettext("%(count)d shipment created", "%(count)d shipments created", created) % {
            "count": created
        }
        if failed:
            failures = ngettext("%(count)d failed", "%(count)d failed", failed) % {"count": failed}
            messages.warning(
                request, _("%(created)s; %(failed)s:") % {"created": summary, "failed": failures}
            )
        else:
            messages.success(request, _("%(created)s.") % {"created": summary})
        report_failures(request, result.failed, names)
        pending = [s for s in result.created if s.status == ShipmentStatus.PENDING]
        for shipment in pending:
            if shipment.last_error:
                messages.warning(
                    request,
                    _("%(order)s is waiting for its tracking number: %(error)s")
                    % {
                        "order": names.get(shipment.order_id, shipment.reference),
                        "error": shipment.last_error,
                    },
                )
        waiting = sum(1 for s in pending if not s.last_error)
        if waiting:
            messages.info(
                request,
                ngettext(
                    "%(count)d shipment is waiting for its tracking number from the carrier; "
                    "the list below shows it when it arrives.",
                    "%(count)d shipments are waiting for their tracking numbers from the "
                    "carrier; the list below shows them as they arrive.",
                    waiting,
                )
                % {"count": waiting},
            )
        if not result.created:
            query = {"orders": ",".join(str(o.pk) for o in ready), "next": back}
            if override:
                query["channel"] = override.pk
            return redirect(f"{reverse('logistics:shipment-create')}?{urlencode(query)}")
        new_ids = ",".join(str(s.pk) for s in result.created)
        return redirect(f"{reverse('logistics:shipment-list')}?ids={new_ids}")

    rows = _rows(ready, override)
    currencies = {row["currency"] for row in rows if row["cost"] is not None}
    priced = [row["cost"] for row in rows if row["cost"] is not None]
    return render(
        request,
        "logistics/shipment_create.html",
        {
            "nav": "shipments",
            "rows": rows,
            "skipped": skipped,
            "unknown": unknown,
            "channels": channels,
            "override": override,
            "order_ids": ",".join(str(o.pk) for o in orders),
            "back": back,
            "any_manual": any(row["manual"] for row in rows),
            "no_channel": sum(1 for row in rows if row["channel"] is None),
            # a total only when every cost is known and in one currency
            "cost_total": sum(priced)
            if len(priced) == len(rows) and len(currencies) == 1
            else None,
            "cost_currency": next(iter(currencies), ""),
        },
    )
