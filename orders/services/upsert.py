"""The one idempotent upsert every order source goes through (API sync, webhook, file, manual).

Keyed on (store, external_id). Set-based: one locked read of the existing orders per chunk,
``bulk_create`` for new orders, lines and events, ``bulk_update`` for changed ones, so a
100,000-order report is not 100,000 round trips. An identical resend (same fingerprint) or a
stale one (older platform update time) changes nothing. A platform update never moves an order
backwards in our workflow: a cancellation after labelling or shipping becomes an ``exception``
for a person instead of a silent change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.bulk import build, copy_insert
from erp.models import User
from orders.models import (
    OPEN_STATES,
    RESERVED_STATES,
    SHIPPING_STATES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Store,
)
from orders.normalized import NormalizedOrder, clean_text
from orders.services.events import make_event
from orders.services.review import LineFacts, PairingIndex, ReviewContext, is_system_held, review

CHUNK = 5000
# Fields a platform update may rewrite on an existing order (the address only until a person
# edits it; status fields through the workflow rules below).
HEADER_FIELDS = (
    "platform_reference",
    "platform_status",
    "fulfillment_channel",
    "purchased_at",
    "platform_updated_at",
    "latest_ship_at",
    "ship_service",
    "buyer_name",
    "buyer_email",
    "buyer_note",
    "currency",
    "subtotal",
    "shipping",
    "tax",
    "discount",
    "total",
    "platform_fee",
    "source_hash",
    "lines_hash",
)
ADDRESS_FIELDS = (
    "ship_name",
    "ship_company",
    "ship_phone",
    "ship_address1",
    "ship_address2",
    "ship_city",
    "ship_state",
    "ship_postcode",
    "ship_country",
)
WORKFLOW_FIELDS = ("status", "hold_reason", "hold_note", "exception", "warehouse_id")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    order_ids: list[int] = field(default_factory=list)

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.order_ids + other.order_ids,
        )


def _header(n: NormalizedOrder, hashes: tuple[str, str]) -> dict:
    return {
        "platform_reference": clean_text(n.reference, 64),
        "platform_status": clean_text(n.status.raw, 40),
        "fulfillment_channel": clean_text(n.fulfillment_channel, 20),
        "purchased_at": n.purchased_at,
        "platform_updated_at": n.updated_at,
        "latest_ship_at": n.latest_ship_at,
        "ship_service": clean_text(n.ship_service, 100),
        "buyer_name": clean_text(n.buyer_name, 200),
        "buyer_email": clean_text(n.buyer_email, 254),
        "buyer_note": clean_text(n.buyer_note, 5000),
        "currency": clean_text(n.currency, 3).upper(),
        "subtotal": n.subtotal,
        "shipping": n.shipping,
        "tax": n.tax,
        "discount": n.discount,
        "total": n.total,
        "platform_fee": n.platform_fee,
        "source_hash": hashes[0],
        "lines_hash": hashes[1],
    }


def _address(n: NormalizedOrder) -> dict:
    a = n.address
    return {
        "ship_name": clean_text(a.name, 200),
        "ship_company": clean_text(a.company, 200),
        "ship_phone": clean_text(a.phone, 50),
        "ship_address1": clean_text(a.address1, 300),
        "ship_address2": clean_text(a.address2, 300),
        "ship_city": clean_text(a.city, 100),
        "ship_state": clean_text(a.state, 100),
        "ship_postcode": clean_text(a.postcode, 20),
        "ship_country": clean_text(a.country, 2).upper(),
    }


def _lines(n: NormalizedOrder, pairing: PairingIndex) -> list[OrderLine]:
    lines = []
    for line in n.lines:
        platform_sku = clean_text(line.platform_sku, 100)
        pair = pairing.get(platform_sku)
        lines.append(
            build(
                OrderLine,
                {
                    "external_line_id": clean_text(line.external_line_id, 64),
                    "platform_sku": platform_sku,
                    "platform_item_id": clean_text(line.platform_item_id, 64),
                    "title": clean_text(line.title, 500),
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "line_total": line.line_total,
                    "sku_id": pair.sku_id if pair else None,
                    "sku_quantity": pair.quantity if pair else 1,
                },
            )
        )
    return lines


def facts(lines: Sequence[OrderLine]) -> list[LineFacts]:
    return [
        LineFacts(sku_id=line.sku_id, units=line.quantity * line.sku_quantity) for line in lines
    ]


def _dedupe(orders: Sequence[NormalizedOrder]) -> dict[str, NormalizedOrder]:
    """One entry per external id: the latest platform update wins (the last one on a tie)."""
    latest: dict[str, NormalizedOrder] = {}
    for n in orders:
        if not n.external_id or not n.external_id.strip():
            raise ValueError("A normalised order needs an external_id.")
        previous = latest.get(n.external_id)
        if previous is None or n.updated_at >= previous.updated_at:
            latest[n.external_id] = n
    return latest


def orders_upsert(
    *,
    store: Store,
    orders: Sequence[NormalizedOrder],
    source: str,
    user: User | None = None,
) -> UpsertResult:
    """Create or update ``orders`` of ``store`` in one transaction; returns the counts and the
    order ids in input order (each external id once).

    Two writers racing on the same new order (a webhook and a sync) meet the unique
    constraint: the loser retries, and the order is then an update for it.
    """
    latest = _dedupe(orders)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _upsert(store=store, latest=latest, source=source, user=user)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _upsert(
    *, store: Store, latest: dict[str, NormalizedOrder], source: str, user: User | None
) -> UpsertResult:
    keys = list(latest)
    existing: dict[str, Order] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        # "= ANY(array)": one parameter instead of thousands, which psycopg would split
        # and quote one by one (measured: ~15 % of an import of new orders)
        candidates = Order.objects.select_for_update().filter(store=store)
        if connection.vendor == "postgresql":
            candidates = candidates.extra(  # noqa: S610 - a model table name; values are params
                where=[f"{Order._meta.db_table}.external_id = ANY(%s)"], params=[chunk]
            )
        else:
            candidates = candidates.filter(external_id__in=chunk)
        for order in candidates.order_by("pk"):
            existing[order.external_id] = order
    hashes = {key: n.fingerprints() for key, n in latest.items()}
    pairing = PairingIndex(store, {ln.platform_sku for n in latest.values() for ln in n.lines})
    context = ReviewContext(store)
    now = timezone.now()
    result = UpsertResult()

    new_orders: list[Order] = []
    new_lines: list[tuple[Order, list[OrderLine]]] = []
    events: list[OrderEvent] = []
    tag_links: list[tuple[Order, list[int]]] = []
    created_messages: list[str] = []
    for key, n in latest.items():
        if key in existing:
            continue
        order = build(
            Order,
            {
                "store_id": store.pk,
                "external_id": key,
                "source": source,
                **_header(n, hashes[key]),
                **_address(n),
            },
        )
        lines = _lines(n, pairing)
        message = ""
        if n.fulfilled_by_platform:
            order.status = OrderStatus.PLATFORM
            message = _("Fulfilled by the platform: kept for sales, never allocated.")
        elif n.status.cancelled:
            order.status = OrderStatus.CANCELLED
            message = _("Cancelled on the platform.")
        elif n.status.shipped:
            order.status = OrderStatus.SHIPPED
            message = _("Already shipped when it arrived.")
        else:
            decision = review(
                order, facts(lines), context, awaiting_payment=n.status.awaiting_payment
            )
            _apply_decision(order, decision)
            message = decision.message
            if decision.tag_ids:
                tag_links.append((order, decision.tag_ids))
        new_orders.append(order)
        new_lines.append((order, lines))
        created_messages.append(str(message))
    copy_insert(Order, new_orders)
    user_id = user.pk if user is not None and user.is_authenticated else None
    for order, message in zip(new_orders, created_messages, strict=True):
        events.append(
            build(
                OrderEvent,
                {
                    "order_id": order.pk,
                    "at": now,
                    "user_id": user_id,
                    "kind": OrderEvent.Kind.CREATED,
                    "to_status": order.status,
                    "message": message,
                    "data": {"source": source},
                },
            )
        )
    result.created = len(new_orders)

    changed: list[Order] = []
    replace_lines: dict[int, list[OrderLine]] = {}
    updates = [
        (existing[key], n)
        for key, n in latest.items()
        if key in existing and not _unchanged(existing[key], n, hashes[key][0])
    ]
    result.unchanged = len(latest) - len(new_orders) - len(updates)
    lines_of = _lines_of([order.pk for order, _n in updates]) if updates else {}
    for order, n in updates:
        lines = _update(
            order,
            n,
            hashes=hashes[order.external_id],
            pairing=pairing,
            context=context,
            current_lines=lines_of.get(order.pk, []),
            events=events,
            tag_links=tag_links,
            user=user,
            now=now,
        )
        if lines is not None:
            replace_lines[order.pk] = lines
        changed.append(order)
    if changed:
        fields = [*HEADER_FIELDS, *ADDRESS_FIELDS, "status", "hold_reason", "hold_note"]
        fields += ["exception", "warehouse", "updated_at"]
        for order in changed:
            order.updated_at = now
        Order.objects.bulk_update(changed, fields, batch_size=CHUNK)
        result.updated = len(changed)
    if replace_lines:
        OrderLine.objects.filter(order_id__in=list(replace_lines)).delete()
        for order_id, lines in replace_lines.items():
            for line in lines:
                line.order_id = order_id
        copy_insert(OrderLine, [line for lines in replace_lines.values() for line in lines])

    all_lines = []
    for order, lines in new_lines:
        for line in lines:
            line.order_id = order.pk
            all_lines.append(line)
    copy_insert(OrderLine, all_lines)
    copy_insert(OrderEvent, events)
    if tag_links:
        through = Order.tags.through
        through.objects.bulk_create(
            [through(order_id=o.pk, tag_id=t) for o, ids in tag_links for t in ids],
            ignore_conflicts=True,
        )
    by_key = {o.external_id: o.pk for o in new_orders} | {k: o.pk for k, o in existing.items()}
    result.order_ids = [by_key[key] for key in keys]
    return result


def _unchanged(order: Order, n: NormalizedOrder, fingerprint: str) -> bool:
    if n.updated_at < order.platform_updated_at:
        return True  # stale: an older version of what we already have
    return fingerprint == order.source_hash


def _apply_decision(order: Order, decision) -> None:
    order.status = decision.status
    order.hold_reason = decision.hold_reason
    order.hold_note = decision.hold_note[:300]
    order.warehouse_id = decision.warehouse_id


def _lines_of(order_ids: list[int]) -> dict[int, list[OrderLine]]:
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("pk"):
        by_order[line.order_id].append(line)
    return by_order


def _update(
    order: Order,
    n: NormalizedOrder,
    *,
    hashes: tuple[str, str],
    pairing: PairingIndex,
    context: ReviewContext,
    current_lines: list[OrderLine],
    events: list[OrderEvent],
    tag_links: list,
    user: User | None,
    now,
) -> list[OrderLine] | None:
    """Apply a newer platform version to ``order`` in memory; returns the lines that replace
    its current ones, or None to keep them."""
    from orders.services.allocation import release_order_stock

    old_status = order.status
    old_lines_hash = order.lines_hash
    header = _header(n, hashes)
    for name, value in header.items():
        setattr(order, name, value)
    if not order.address_edited:
        for name, value in _address(n).items():
            setattr(order, name, value)
    changes: list[str] = []
    new_lines: list[OrderLine] | None = None

    if header["lines_hash"] != old_lines_hash:
        touched = order.merged_orders.exists() or order.split_orders.exists()
        if order.status in OPEN_STATES and not touched:
            new_lines = _lines(n, pairing)
            changes.append(_("The platform changed the order's lines."))
        elif order.status not in (OrderStatus.CANCELLED, OrderStatus.PLATFORM):
            order.exception = _(
                "The platform changed the lines after the order was %(status)s."
            ) % {"status": OrderStatus(old_status).label.lower()}

    # (a platform-fulfilled order only takes the new figures above: the platform ships it)
    platform_ships = order.status == OrderStatus.PLATFORM
    if platform_ships:
        changes.append(_("Figures updated; the platform fulfils this order."))
    elif n.status.cancelled and order.status != OrderStatus.CANCELLED:
        if order.status in (*SHIPPING_STATES, OrderStatus.MERGED):
            order.exception = _(
                "Cancelled on the platform after it was %(status)s: stop or recall the parcel."
            ) % {"status": OrderStatus(order.status).label.lower()}
        else:
            if order.status in RESERVED_STATES:
                release_order_stock(order)
            order.status = OrderStatus.CANCELLED
            order.hold_reason = ""
            changes.append(_("Cancelled on the platform."))
    elif n.status.shipped and order.status not in (
        OrderStatus.SHIPPED,
        OrderStatus.CANCELLED,
        OrderStatus.MERGED,
    ):
        if order.status == OrderStatus.LABELLED:
            order.exception = _(
                "The platform says it was shipped, but it holds a Caravan label: void one of them."
            )
        else:
            if order.status in RESERVED_STATES:
                release_order_stock(order)
            order.status = OrderStatus.SHIPPED
            order.hold_reason = ""
            changes.append(_("Shipped outside Caravan (the platform says shipped)."))
    elif order.status == OrderStatus.NEW or is_system_held(order):
        lines = new_lines if new_lines is not None else current_lines
        if new_lines is None:
            # re-pair lines that were unpaired: a pairing may exist by now
            for line in lines:
                if line.sku_id is None and (pair := pairing.get(line.platform_sku)):
                    line.sku_id, line.sku_quantity = pair.sku_id, pair.quantity
                    new_lines = lines
        if new_lines is not None:
            new_lines = [_copy_line(line) for line in new_lines]
        decision = review(
            order,
            facts(new_lines if new_lines is not None else lines),
            context,
            awaiting_payment=n.status.awaiting_payment,
        )
        decision.warehouse_id = decision.warehouse_id or order.warehouse_id
        _apply_decision(order, decision)
        if decision.tag_ids:
            tag_links.append((order, decision.tag_ids))
        if order.status != old_status:
            changes.append(decision.message)
    events.append(
        make_event(
            order,
            OrderEvent.Kind.PLATFORM,
            user=user,
            from_status=old_status,
            to_status=order.status,
            message=" ".join(str(c) for c in changes if c)
            or _("Updated by the platform (%(status)s).") % {"status": n.status.raw},
            at=now,
        )
    )
    return new_lines


def _copy_line(line: OrderLine) -> OrderLine:
    """An unsaved copy, so replacing lines is always delete + insert."""
    return OrderLine(
        external_line_id=line.external_line_id,
        platform_sku=line.platform_sku,
        platform_item_id=line.platform_item_id,
        title=line.title,
        quantity=line.quantity,
        unit_price=line.unit_price,
        line_total=line.line_total,
        sku_id=line.sku_id,
        sku_quantity=line.sku_quantity,
        origin_order_id=line.origin_order_id,
    )
