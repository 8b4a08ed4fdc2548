"""Shipments: create them for allocated orders, get their tracking numbers (carrier API, a
number pool, or typed in), void and re-create, and the customs lines they declare.

The order follows the shipment through the orders app's services: a tracking number makes it
labelled, a void sends it back to allocated. A carrier purchase happens outside the database
transaction (a slow HTTP call must not hold row locks), keyed by the shipment's ``reference``
so that a retry never buys a second waybill.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import Company, User
from logistics.carriers import CarrierError, connector_for
from logistics.models import (
    ACTIVE_SHIPMENT_STATES,
    ConnectorKind,
    CustomsLine,
    OrderChannel,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
    TrackingNumber,
    TrackingSource,
)
from logistics.types import Address, CustomsItem, ParcelRequest, Waybill
from orders.models import Order, OrderLine, OrderStatus
from orders.services import orders_mark_labelled, orders_unlabel
from warehouse.models import BundleItem, Sku

log = logging.getLogger(__name__)

# A customs value line is never declared at zero: customs refuse it.
MIN_DECLARED_VALUE = Decimal("1.00")


class ShipmentError(ServiceError):
    code = "shipment_invalid"


@dataclass
class ShipmentResult:
    created: list[Shipment] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # order pk → reason


@dataclass
class VoidResult:
    voided: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # shipment pk → reason


# ---------------------------------------------------------------------------- customs


def _customs_lines(order: Order, lines: Sequence[OrderLine]) -> list[CustomsLine]:
    """One declared line per SKU shipped (bundles declared as their parts), from the SKU's
    customs names, HS code and declared value."""
    quantities: dict[int, int] = defaultdict(int)
    bundle_ids = {line.sku_id for line in lines if line.sku_id and line.sku.is_bundle}
    parts: dict[int, list[BundleItem]] = defaultdict(list)
    for item in BundleItem.objects.filter(bundle_id__in=bundle_ids).order_by("pk"):
        parts[item.bundle_id].append(item)
    for line in lines:
        if not line.sku_id:
            continue
        units = line.quantity * (line.sku_quantity or 1)
        if line.sku_id in parts:
            for item in parts[line.sku_id]:
                quantities[item.component_id] += units * item.quantity
        else:
            quantities[line.sku_id] += units
    skus = Sku.objects.in_bulk(quantities)
    result = []
    for sku_id, quantity in quantities.items():
        sku = skus[sku_id]
        result.append(
            CustomsLine(
                sku=sku,
                name_en=sku.declared_name_en or sku.name,
                name_zh=sku.declared_name_zh or sku.name_zh,
                hs_code=sku.hs_code,
                quantity=quantity,
                unit_value=max(sku.declared_value_usd or Decimal(0), MIN_DECLARED_VALUE),
                unit_weight_g=sku.weight_g,
            )
        )
    return result


def customs_items(shipment: Shipment) -> tuple[CustomsItem, ...]:
    return tuple(
        CustomsItem(
            description_en=line.name_en,
            description_zh=line.name_zh,
            quantity=line.quantity,
            unit_value=line.unit_value,
            currency="USD",
            unit_weight_g=line.unit_weight_g,
            hs_code=line.hs_code,
            origin_country=line.origin_country,
            sku_code=line.sku.code if line.sku_id else "",
        )
        for line in shipment.customs_lines.all()
    )


# ---------------------------------------------------------------------------- addresses


def sender_address(shipment: Shipment) -> Address:
    """The warehouse the parcel leaves from, under the seller's company name."""
    company = Company.objects.order_by("pk").first()
    warehouse = shipment.warehouse
    lines = tuple(line.strip() for line in (warehouse.address or "").splitlines() if line.strip())
    return Address(
        name=(company.name_en or company.name) if company else warehouse.name,
        company=warehouse.name,
        lines=lines,
        country=warehouse.country,
        phone=company.phone if company else "",
    )


def return_address() -> Address | None:
    company = Company.objects.order_by("pk").first()
    if not company or not company.return_address.strip():
        return None
    lines = [line.strip() for line in company.return_address.splitlines() if line.strip()]
    return Address(name=company.name_en or company.name, lines=tuple(lines))


def recipient_address(order: Order) -> Address:
    lines = tuple(line for line in (order.ship_address1, order.ship_address2) if line)
    return Address(
        name=order.ship_name or order.buyer_name,
        company=order.ship_company,
        lines=lines,
        city=order.ship_city,
        state=order.ship_state,
        postcode=order.ship_postcode,
        country=order.ship_country,
        phone=order.ship_phone,
        email=order.buyer_email,
    )


# ---------------------------------------------------------------------------- create


def _next_reference(order: Order) -> str:
    """Stable and unique: the order and how many shipments it has had. A void and re-create
    gets a new reference, so the carrier sees a new parcel."""
    count = Shipment.objects.filter(order=order).count()
    return f"CRV{order.pk}-{count + 1}"


def _channel_for(order: Order, channel: ShippingChannel | None) -> ShippingChannel:
    if channel is not None:
        return channel
    choice = OrderChannel.objects.filter(order=order).select_related("channel").first()
    if choice is None:
        raise ShipmentError(_("Choose a shipping channel first."))
    return choice.channel


def _take_pool_number(channel: ShippingChannel, shipment: Shipment) -> str:
    """The oldest free number of the channel's pool. SKIP LOCKED lets parallel label runs take
    different numbers instead of queueing on the same row."""
    number = (
        TrackingNumber.objects.select_for_update(skip_locked=True)
        .filter(channel=channel, used_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if number is None:
        raise ShipmentError(
            _("The tracking number pool of %(channel)s is empty: load more numbers.")
            % {"channel": channel.code}
        )
    number.shipment = shipment
    number.used_at = timezone.now()
    number.save(update_fields=["shipment", "used_at"])
    return number.number


def _label(shipment: Shipment, tracking_number: str, user: User | None) -> None:
    """The shipment got its tracking number: it and its order are labelled."""
    shipment.tracking_number = tracking_number
    shipment.status = ShipmentStatus.LABELLED
    shipment.labelled_at = timezone.now()
    shipment.last_error = ""
    result = orders_mark_labelled(
        order_ids=[shipment.order_id],
        user=user,
        message=_("Labelled: %(channel)s %(number)s")
        % {"channel": shipment.channel.code, "number": tracking_number},
    )
    if result.failed:
        raise ShipmentError(result.failed[shipment.order_id])
    if shipment.order.store.virtual_ship:
        shipment.platform_next_attempt_at = timezone.now()


@transaction.atomic
def _create_one(
    order_id: int,
    *,
    channel: ShippingChannel | None,
    tracking_number: str,
    weight_g: int | None,
    user: User | None,
) -> Shipment:
    from logistics.services.quotes import parcel_for_order, quote_parcel

    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("store", "warehouse")
        .get(pk=order_id)
    )
    if order.status != OrderStatus.ALLOCATED:
        raise ShipmentError(
            _("Only allocated orders get shipments; this one is %(status)s.")
            % {"status": OrderStatus(order.status).label.lower()}
        )
    if Shipment.objects.filter(order=order, status__in=ACTIVE_SHIPMENT_STATES).exists():
        raise ShipmentError(_("The order already has a shipment: void it first."))
    channel = _channel_for(order, channel)
    if not channel.is_active:
        raise ShipmentError(_("Channel %(channel)s is not active.") % {"channel": channel.code})
    parcel = parcel_for_order(order)
    quote = quote_parcel(parcel, [channel])[0]
    if not quote.eligible:
        raise ShipmentError(
            _("%(channel)s cannot take this parcel: %(reasons)s")
            % {"channel": channel.code, "reasons": "; ".join(quote.reasons)}
        )
    lines = list(order.lines.select_related("sku"))
    shipment = Shipment.objects.create(
        order=order,
        channel=channel,
        warehouse=order.warehouse,
        reference=_next_reference(order),
        weight_g=weight_g or parcel.weight_g,
        length_mm=parcel.length_mm,
        width_mm=parcel.width_mm,
        height_mm=parcel.height_mm,
        estimated_cost=quote.cost,
        currency=quote.currency,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    customs = _customs_lines(order, lines)
    for line in customs:
        line.shipment = shipment
    CustomsLine.objects.bulk_create(customs)
    tracking_number = tracking_number.strip()
    if tracking_number:
        _label(shipment, tracking_number, user)
    elif channel.tracking_source == TrackingSource.POOL:
        _label(shipment, _take_pool_number(channel, shipment), user)
    elif channel.tracking_source == TrackingSource.MANUAL:
        raise ShipmentError(_("Type the tracking number: this channel has no carrier API."))
    shipment.save()
    return shipment


def shipments_create(
    *,
    order_ids: Iterable[int],
    channel: ShippingChannel | None = None,
    tracking_numbers: dict[int, str] | None = None,
    weights: dict[int, int] | None = None,
    user: User | None = None,
    buy: bool = True,
) -> ShipmentResult:
    """A shipment per order, each in its own transaction so one bad order doesn't stop the
    rest (its reason is named). Carrier-API channels buy their waybills after the shipments
    are committed; ``buy=False`` leaves them pending (the create page and the API then queue
    the purchases: ``queue_waybill_purchases``)."""
    tracking_numbers = tracking_numbers or {}
    weights = weights or {}
    result = ShipmentResult()
    for order_id in sorted(set(order_ids)):
        try:
            shipment = _create_one(
                order_id,
                channel=channel,
                tracking_number=tracking_numbers.get(order_id, ""),
                weight_g=weights.get(order_id),
                user=user,
            )
        except Order.DoesNotExist:
            result.failed[order_id] = _("No such order.")
            continue
        except ServiceError as exc:
            result.failed[order_id] = str(exc)
            continue
        result.created.append(shipment)
    if buy:
        for shipment in result.created:
            if shipment.status == ShipmentStatus.PENDING:
                try:
                    shipment_buy_waybill(shipment.pk, user=user)
                except ShipmentError as exc:
                    log.info("waybill purchase for %s failed: %s", shipment.reference, exc)
                shipment.refresh_from_db()
    return result


def queue_waybill_purchases(
    shipments: Sequence[Shipment], *, user: User | None = None
) -> list[Shipment]:
    """Buy the waybills of the pending ``shipments`` in the background, one Celery task each,
    so that a page creating hundreds of carrier-API shipments answers at once rather than
    after one carrier call per parcel; the shipment list polls until their numbers are in.
    In the embedded mode (eager Celery) the tasks run here, one after another. When the
    broker cannot be reached, the rest are bought here too. Returns the shipments as they are
    now, in the same order."""
    from kombu.exceptions import OperationalError as BrokerError

    from logistics.tasks import buy_waybill_task

    pending = [s.pk for s in shipments if s.status == ShipmentStatus.PENDING]
    for position, pk in enumerate(pending):
        try:
            buy_waybill_task.delay(pk, user.pk if user is not None else None)
        except BrokerError:
            log.exception("Broker unreachable: buying %d waybills inline", len(pending) - position)
            for rest in pending[position:]:
                try:
                    shipment_buy_waybill(rest, user=user)
                except ShipmentError as exc:
                    log.info("waybill purchase for shipment %s failed: %s", rest, exc)
            break
    related = Shipment.objects.select_related("channel__carrier", "order__store", "warehouse")
    fresh = related.in_bulk([s.pk for s in shipments])
    return [fresh[s.pk] for s in shipments]


# ---------------------------------------------------------------------------- carrier


def parcel_request(shipment: Shipment) -> ParcelRequest:
    order = shipment.order
    return ParcelRequest(
        reference=shipment.reference,
        service_code=shipment.channel.service_code,
        sender=sender_address(shipment),
        recipient=recipient_address(order),
        weight_g=shipment.weight_g,
        items=customs_items(shipment),
        length_mm=shipment.length_mm,
        width_mm=shipment.width_mm,
        height_mm=shipment.height_mm,
    )


def carrier_connector(carrier, **kwargs):
    """The carrier's API client; ``kwargs`` (transport, sleep) are for tests."""
    return connector_for(
        carrier.connector,
        credentials=carrier.get_credentials(),
        base_url=carrier.api_base_url,
        **kwargs,
    )


def shipment_buy_waybill(
    shipment_id: int, *, user: User | None = None, **connector_kwargs
) -> Shipment:
    """Buy the waybill of a pending shipment from its carrier and store the label PDF as it
    came. Safe to call again after any failure: the carrier de-duplicates on the reference and
    a shipment that has its number returns at once."""
    shipment = Shipment.objects.select_related("channel__carrier", "order__store", "warehouse").get(
        pk=shipment_id
    )
    if shipment.status != ShipmentStatus.PENDING:
        return shipment
    order = shipment.order
    if order.status != OrderStatus.ALLOCATED:
        # Deallocated, held or cancelled since the purchase was queued: a waybill bought now
        # could not label the order (and the carrier may charge for it).
        message = _("Order %(order)s is %(status)s now: no waybill bought.") % {
            "order": order.external_id,
            "status": OrderStatus(order.status).label.lower(),
        }
        Shipment.objects.filter(pk=shipment.pk, status=ShipmentStatus.PENDING).update(
            last_error=message[:500]
        )
        raise ShipmentError(message)
    carrier = shipment.channel.carrier
    if carrier.connector == ConnectorKind.MANUAL:
        raise ShipmentError(_("%(carrier)s has no API: type the number.") % {"carrier": carrier})
    request = parcel_request(shipment)
    try:
        with carrier_connector(carrier, **connector_kwargs) as connector:
            waybill = connector.create_waybill(request)
            label_pdf = waybill.label_pdf or connector.fetch_label(waybill)
    except CarrierError as exc:
        Shipment.objects.filter(pk=shipment.pk, status=ShipmentStatus.PENDING).update(
            last_error=str(exc)[:500]
        )
        raise ShipmentError(
            _("%(carrier)s refused: %(error)s") % {"carrier": carrier.name, "error": exc}
        ) from exc
    return _store_waybill(shipment.pk, waybill, label_pdf, user)


@transaction.atomic
def _store_waybill(
    shipment_id: int, waybill: Waybill, label_pdf: bytes, user: User | None
) -> Shipment:
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("channel", "order__store")
        .get(pk=shipment_id)
    )
    if shipment.status != ShipmentStatus.PENDING:  # a parallel retry stored it first
        return shipment
    shipment.carrier_reference = waybill.carrier_reference
    shipment.label_file.save(f"{shipment.reference}.pdf", ContentFile(label_pdf), save=False)
    _label(shipment, waybill.tracking_number, user)
    shipment.save()
    return shipment


@transaction.atomic
def shipment_set_tracking(
    *, shipment: Shipment, tracking_number: str, user: User | None
) -> Shipment:
    """A person types the number of a pending shipment (manual channels, or a carrier that
    answered on its website)."""
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    if shipment.status != ShipmentStatus.PENDING:
        raise ShipmentError(_("The shipment already has its tracking number."))
    number = tracking_number.strip()
    if not number:
        raise ShipmentError(_("Type the tracking number."))
    _label(shipment, number, user)
    shipment.save()
    return shipment


# ---------------------------------------------------------------------------- void


def shipments_void(
    *,
    shipment_ids: Iterable[int],
    user: User | None = None,
    reason: str = "",
    order_cancelled: bool = False,
    **connector_kwargs,
) -> VoidResult:
    """Void labels that have not shipped: the carrier cancels its waybill first (a refusal
    keeps the shipment and names the carrier's reason), then the order goes back to allocated
    so it can be re-created, unless it was cancelled."""
    result = VoidResult()
    shipments = Shipment.objects.select_related("channel__carrier").filter(pk__in=set(shipment_ids))
    found = {s.pk: s for s in shipments}
    for pk in sorted(set(shipment_ids)):
        shipment = found.get(pk)
        if shipment is None:
            result.failed[pk] = _("No such shipment.")
            continue
        if shipment.status in (ShipmentStatus.SHIPPED, ShipmentStatus.VOIDED):
            result.failed[pk] = _("A %(status)s shipment cannot be voided.") % {
                "status": ShipmentStatus(shipment.status).label.lower()
            }
            continue
        carrier = shipment.channel.carrier
        if shipment.carrier_reference and carrier.connector != ConnectorKind.MANUAL:
            try:
                with carrier_connector(carrier, **connector_kwargs) as connector:
                    connector.cancel(
                        Waybill(
                            reference=shipment.reference,
                            tracking_number=shipment.tracking_number,
                            carrier_reference=shipment.carrier_reference,
                        )
                    )
            except CarrierError as exc:
                result.failed[pk] = _("%(carrier)s refused to cancel: %(error)s") % {
                    "carrier": carrier.name,
                    "error": exc,
                }
                continue
        try:
            _void_one(pk, user=user, reason=reason, order_cancelled=order_cancelled)
        except ShipmentError as exc:
            result.failed[pk] = str(exc)
            continue
        result.voided.append(pk)
    return result


@transaction.atomic
def _void_one(pk: int, *, user: User | None, reason: str, order_cancelled: bool) -> None:
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=pk)
    if shipment.status in (ShipmentStatus.SHIPPED, ShipmentStatus.VOIDED):
        raise ShipmentError(_("The shipment shipped or was voided meanwhile."))
    was_labelled = shipment.status == ShipmentStatus.LABELLED
    shipment.status = ShipmentStatus.VOIDED
    shipment.voided_at = timezone.now()
    shipment.void_reason = reason[:200]
    shipment.manifest = None
    shipment.platform_next_attempt_at = None
    shipment.save()
    if was_labelled and not order_cancelled:
        orders_unlabel(
            order_ids=[shipment.order_id],
            user=user,
            reason=reason or _("Label %(number)s voided.") % {"number": shipment.tracking_number},
        )


def void_for_cancelled_orders(order_ids: Sequence[int]) -> VoidResult:
    """The ``orders_cancelled`` receiver's work: labels of cancelled orders are voided."""
    ids = list(
        Shipment.objects.filter(
            order_id__in=order_ids,
            status__in=(ShipmentStatus.PENDING, ShipmentStatus.LABELLED),
        ).values_list("pk", flat=True)
    )
    return shipments_void(shipment_ids=ids, reason=_("Order cancelled."), order_cancelled=True)
