"""A person's moves in the order life: approve, hold, release, cancel, un-allocate, edit the
address, merge and split. Each writes an ``OrderEvent`` (who, when, from, to, why).

The bulk moves lock their orders in pk order, skip (and name) each order in a state the move
does not apply to, and change the rest in one transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from orders.models import (
    OPEN_STATES,
    RESERVED_STATES,
    SYSTEM_HOLDS,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from orders.services.allocation import BulkResult, release_order_stock
from orders.services.events import make_event, status_event
from orders.services.review import ReviewContext, address_incomplete, review
from orders.services.upsert import ADDRESS_FIELDS, facts

# Sent after the commit that cancelled orders, so logistics can void their labels without
# orders importing logistics. ``order_ids``: list of Order pks.
orders_cancelled = Signal()


class OrderError(ServiceError):
    code = "order_invalid"


def _locked(order_ids: Iterable[int]) -> list[Order]:
    return list(
        Order.objects.select_for_update(of=("self",))
        .select_related("store")
        .filter(pk__in=set(order_ids))
        .order_by("pk")
    )


def _bulk_move(
    order_ids: Iterable[int],
    *,
    user: User | None,
    allowed: tuple[str, ...],
    not_allowed: str,
    apply: Callable[[Order], str],
    fields: tuple[str, ...] = ("status", "hold_reason", "hold_note"),
) -> BulkResult:
    """Run ``apply`` on every order in an ``allowed`` state; it changes the order in memory and
    returns the event's message, or raises ``OrderError`` to skip that order."""
    ids = set(order_ids)
    result = BulkResult()
    orders = _locked(ids)
    for pk in sorted(ids - {o.pk for o in orders}):
        result.failed[pk] = _("No such order.")
    changed, events = [], []
    now = timezone.now()
    for order in orders:
        if order.status not in allowed:
            result.failed[order.pk] = not_allowed % {
                "status": OrderStatus(order.status).label.lower()
            }
            continue
        old = order.status
        try:
            with transaction.atomic():
                message = apply(order)
        except ServiceError as exc:
            result.failed[order.pk] = str(exc)
            continue
        order.updated_at = now
        changed.append(order)
        events.append(status_event(order, old, user=user, message=message, at=now))
        result.done.append(order.pk)
    Order.objects.bulk_update(changed, [*fields, "updated_at"])
    OrderEvent.objects.bulk_create(events)
    return result


@transaction.atomic
def orders_approve(*, order_ids: Iterable[int], user: User | None = None) -> BulkResult:
    """Approve new or held orders after a person looked at them. System holds whose cause is
    still there (an unpaired SKU, an incomplete address, no payment) cannot be approved away."""

    def apply(order: Order) -> str:
        if order.status == OrderStatus.ON_HOLD and order.hold_reason in SYSTEM_HOLDS:
            lines = list(order.lines.all())
            if order.hold_reason == HoldReason.AWAITING_PAYMENT:
                raise OrderError(_("The platform has not confirmed payment yet."))
            if any(line.sku_id is None for line in lines):
                raise OrderError(_("Pair its SKUs first."))
            if address_incomplete(order):
                raise OrderError(_("Complete the address first."))
        order.status = OrderStatus.APPROVED
        order.hold_reason = order.hold_note = ""
        return _("Approved.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.NEW, OrderStatus.ON_HOLD),
        not_allowed=_("A %(status)s order cannot be approved."),
        apply=apply,
    )


@transaction.atomic
def orders_hold(
    *,
    order_ids: Iterable[int],
    reason: str = HoldReason.MANUAL,
    note: str = "",
    user: User | None = None,
) -> BulkResult:
    """Hold orders until a person releases them; allocated orders give their stock back."""
    if reason not in HoldReason.values:
        raise OrderError(_("Unknown hold reason: %(reason)s") % {"reason": reason})
    if reason == HoldReason.MANUAL and not note.strip():
        raise OrderError(_("Say why the order is held."))

    def apply(order: Order) -> str:
        if order.status in RESERVED_STATES:
            release_order_stock(order)
        order.status = OrderStatus.ON_HOLD
        order.hold_reason = reason
        order.hold_note = note.strip()[:300]
        return note.strip() or HoldReason(reason).label

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(
            OrderStatus.NEW,
            OrderStatus.APPROVED,
            OrderStatus.OUT_OF_STOCK,
            OrderStatus.ALLOCATED,
        ),
        not_allowed=_("A %(status)s order cannot be held."),
        apply=apply,
    )


@transaction.atomic
def orders_release_hold(*, order_ids: Iterable[int], user: User | None = None) -> BulkResult:
    """Lift holds and review the orders again: built-in holds come back when their cause is
    still there; otherwise the seller's rules decide, else the order waits in ``new``."""
    contexts: dict[int, ReviewContext] = {}

    def apply(order: Order) -> str:
        context = contexts.get(order.store_id) or contexts.setdefault(
            order.store_id, ReviewContext(order.store)
        )
        decision = review(order, facts(list(order.lines.all())), context)
        decision.warehouse_id = decision.warehouse_id or order.warehouse_id
        if decision.hold_reason == order.hold_reason:
            raise OrderError(decision.message)
        order.status = decision.status
        order.hold_reason = decision.hold_reason
        order.hold_note = decision.hold_note[:300]
        order.warehouse_id = decision.warehouse_id
        return _("Hold released.") + (f" {decision.message}" if decision.message else "")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.ON_HOLD,),
        not_allowed=_("A %(status)s order is not on hold."),
        apply=apply,
        fields=("status", "hold_reason", "hold_note", "warehouse"),
    )


@transaction.atomic
def orders_cancel(
    *, order_ids: Iterable[int], reason: str = "", user: User | None = None
) -> BulkResult:
    """Cancel orders before they ship: their reservations are released, and logistics voids
    their labels on the ``orders_cancelled`` signal."""

    def apply(order: Order) -> str:
        if order.status in RESERVED_STATES:
            release_order_stock(order)
        order.status = OrderStatus.CANCELLED
        order.hold_reason = order.hold_note = ""
        return reason.strip() or _("Cancelled.")

    result = _bulk_move(
        order_ids,
        user=user,
        allowed=(*OPEN_STATES, *RESERVED_STATES),
        not_allowed=_("A %(status)s order cannot be cancelled."),
        apply=apply,
    )
    if result.done:
        done = list(result.done)
        transaction.on_commit(lambda: orders_cancelled.send(sender=Order, order_ids=done))
    return result


@transaction.atomic
def orders_deallocate(*, order_ids: Iterable[int], user: User | None = None) -> BulkResult:
    """Undo an allocation: the stock goes back and the order is approved again."""

    def apply(order: Order) -> str:
        release_order_stock(order)
        order.status = OrderStatus.APPROVED
        return _("Allocation undone; stock released.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.ALLOCATED,),
        not_allowed=_("A %(status)s order is not allocated."),
        apply=apply,
    )


@transaction.atomic
def order_edit_address(
    *, order: Order, fields: Mapping[str, str], user: User | None = None
) -> Order:
    """Correct the ship-to address. The old and new values go into the timeline, and platform
    updates stop overwriting it. An order held for an incomplete address is reviewed again."""
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"Not address fields: {sorted(unknown)}")
    order = _locked([order.pk])[0]
    if order.status not in (*OPEN_STATES, OrderStatus.ALLOCATED):
        raise OrderError(
            _("The address of a %(status)s order cannot change.")
            % {"status": OrderStatus(order.status).label.lower()}
        )
    changes = {}
    for name, value in fields.items():
        value = (value or "").strip()
        if name == "ship_country":
            value = value.upper()
            if value and not re.fullmatch(r"[A-Z]{2}", value):
                raise OrderError(_("The country is a two-letter ISO code, such as US or DE."))
        limit = Order._meta.get_field(name).max_length
        if len(value) > limit:
            raise OrderError(
                _("%(field)s is longer than %(limit)d characters.")
                % {"field": Order._meta.get_field(name).verbose_name, "limit": limit}
            )
        if getattr(order, name) != value:
            changes[name] = {"from": getattr(order, name), "to": value}
            setattr(order, name, value)
    if not changes:
        return order
    order.address_edited = True
    events = [
        make_event(
            order,
            OrderEvent.Kind.ADDRESS,
            user=user,
            message=", ".join(str(Order._meta.get_field(n).verbose_name) for n in changes),
            data=changes,
        )
    ]
    old = order.status
    if order.status == OrderStatus.ON_HOLD and order.hold_reason == HoldReason.INCOMPLETE_ADDRESS:
        decision = review(order, facts(list(order.lines.all())), ReviewContext(order.store))
        order.status, order.hold_reason = decision.status, decision.hold_reason
        order.hold_note = decision.hold_note[:300]
        if order.status != old:
            events.append(status_event(order, old, user=user, message=decision.message))
    order.save()
    OrderEvent.objects.bulk_create(events)
    return order


def buyer_key(order: Order) -> tuple[str, ...]:
    """Who and where, normalised: case, accents, spaces and punctuation do not matter."""

    def norm(value: str) -> str:
        value = unicodedata.normalize("NFKD", value or "")
        value = "".join(c for c in value if not unicodedata.combining(c))
        return re.sub(r"[\W_]+", "", value.casefold())

    return (
        norm(order.buyer_email or order.buyer_name),
        norm(order.ship_name),
        norm(order.ship_address1),
        norm(order.ship_address2),
        norm(order.ship_city),
        norm(order.ship_postcode),
        order.ship_country.upper(),
    )


@transaction.atomic
def orders_merge(*, order_ids: Iterable[int], user: User | None = None) -> Order:
    """Merge orders of one buyer into one parcel: the oldest order takes every line; the others
    become ``merged`` and keep their platform ids (each line remembers its platform order, so
    every platform order is confirmed as shipped with its own id)."""
    orders = _locked(order_ids)
    if len(orders) < 2:
        raise OrderError(_("Choose at least two orders to merge."))
    if len({o.store_id for o in orders}) > 1:
        raise OrderError(_("Only orders of the same store can be merged."))
    not_open = [o for o in orders if o.status not in OPEN_STATES]
    if not_open:
        raise OrderError(
            _("These orders are past review and cannot be merged: %(ids)s")
            % {"ids": ", ".join(o.external_id for o in not_open)}
        )
    if len({buyer_key(o) for o in orders}) > 1:
        raise OrderError(_("Only orders of the same buyer and address can be merged."))
    if len({o.currency for o in orders}) > 1:
        raise OrderError(_("Only orders in the same currency can be merged."))
    master = min(orders, key=lambda o: (o.purchased_at, o.pk))
    others = [o for o in orders if o.pk != master.pk]
    now = timezone.now()
    for other in others:
        OrderLine.objects.filter(order=other, origin_order__isnull=True).update(
            order=master, origin_order=other
        )
        OrderLine.objects.filter(order=other).update(order=master)
    events = []
    for other in others:
        old = other.status
        other.status = OrderStatus.MERGED
        other.hold_reason = other.hold_note = ""
        other.merged_into = master
        other.updated_at = now
        events.append(
            status_event(
                other,
                old,
                user=user,
                message=_("Merged into %(order)s.") % {"order": master.external_id},
                at=now,
            )
        )
    Order.objects.bulk_update(
        others, ["status", "hold_reason", "hold_note", "merged_into", "updated_at"]
    )
    for name in ("subtotal", "shipping", "tax", "discount", "total"):
        setattr(master, name, sum((getattr(o, name) for o in orders), Decimal("0")))
    events.append(
        make_event(
            master,
            OrderEvent.Kind.MERGED,
            user=user,
            message=_("Merged with %(orders)s.")
            % {"orders": ", ".join(o.external_id for o in others)},
            data={"merged": [o.pk for o in others]},
            at=now,
        )
    )
    master.save()
    OrderEvent.objects.bulk_create(events)
    return master


@transaction.atomic
def order_split(*, order: Order, quantities: Mapping[int, int], user: User | None = None) -> Order:
    """Move ``quantities`` ({line id: units}) into a new order of the same platform order, to
    ship separately. The new order is reviewed like the original was (status copied)."""
    order = _locked([order.pk])[0]
    if order.status not in OPEN_STATES:
        raise OrderError(
            _("A %(status)s order cannot be split.")
            % {"status": OrderStatus(order.status).label.lower()}
        )
    lines = {line.pk: line for line in order.lines.all()}
    if not quantities or any(q <= 0 for q in quantities.values()):
        raise OrderError(_("Choose the lines and quantities to split off."))
    unknown = set(quantities) - set(lines)
    if unknown:
        raise OrderError(_("These lines are not in the order: %(ids)s") % {"ids": sorted(unknown)})
    for pk, qty in quantities.items():
        if qty > lines[pk].quantity:
            raise OrderError(
                _("Line %(sku)s has %(has)d, cannot split off %(qty)d.")
                % {"sku": lines[pk].platform_sku, "has": lines[pk].quantity, "qty": qty}
            )
    if all(quantities.get(pk, 0) == line.quantity for pk, line in lines.items()):
        raise OrderError(_("Leave at least one unit in the original order."))
    number = Order.objects.filter(split_from=order).count() + 2
    while Order.objects.filter(
        store=order.store, external_id=f"{order.external_id}-{number}"
    ).exists():
        number += 1
    child = Order.objects.get(pk=order.pk)
    child.pk = None
    child.external_id = f"{order.external_id}-{number}"
    child.split_from = order
    for name in ("subtotal", "shipping", "tax", "discount", "total"):
        setattr(child, name, Decimal("0"))
    child.platform_fee = None
    child.source_hash = child.lines_hash = ""
    child.save()
    moved = Decimal("0")
    for pk, qty in quantities.items():
        line = lines[pk]
        share = (line.line_total * qty / line.quantity).quantize(Decimal("0.01"))
        moved += share
        origin = line.origin_order_id or order.pk
        if qty == line.quantity:
            OrderLine.objects.filter(pk=pk).update(order=child, origin_order_id=origin)
        else:
            OrderLine.objects.create(
                order=child,
                origin_order_id=origin,
                external_line_id=line.external_line_id,
                platform_sku=line.platform_sku,
                platform_item_id=line.platform_item_id,
                title=line.title,
                quantity=qty,
                unit_price=line.unit_price,
                line_total=share,
                sku_id=line.sku_id,
                sku_quantity=line.sku_quantity,
            )
            OrderLine.objects.filter(pk=pk).update(
                quantity=line.quantity - qty, line_total=line.line_total - share
            )
    child.subtotal = moved
    child.total = moved
    child.save(update_fields=["subtotal", "total"])
    order.subtotal -= moved
    order.total -= moved
    order.save(update_fields=["subtotal", "total", "updated_at"])
    OrderEvent.objects.bulk_create(
        [
            make_event(
                order,
                OrderEvent.Kind.SPLIT,
                user=user,
                message=_("Split off %(order)s.") % {"order": child.external_id},
                data={"child": child.pk, "quantities": {str(k): v for k, v in quantities.items()}},
            ),
            make_event(
                child,
                OrderEvent.Kind.CREATED,
                user=user,
                to_status=child.status,
                message=_("Split from %(order)s.") % {"order": order.external_id},
            ),
        ]
    )
    return child


@transaction.atomic
def pair_platform_sku(
    *,
    platform_sku: str,
    sku,
    quantity: int = 1,
    store=None,
    user: User | None = None,
) -> tuple[object, BulkResult]:
    """Pair a platform SKU (for one store, or for every store) and apply it to every open
    order line waiting on it; orders held only for unpaired SKUs are reviewed again.

    Returns the pairing and which held orders it released."""
    from orders.models import SkuMapping

    platform_sku = (platform_sku or "").strip()
    if not platform_sku:
        raise OrderError(_("Name the platform SKU to pair."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise OrderError(_("The quantity is a whole number of at least 1."))
    if not sku.is_active:
        raise OrderError(_("%(sku)s is not active.") % {"sku": sku.code})
    mapping, _created = SkuMapping.objects.update_or_create(
        store=store,
        platform_sku=platform_sku,
        defaults={"sku": sku, "quantity": quantity, "created_by": user},
    )
    lines = OrderLine.objects.filter(platform_sku=platform_sku, order__status__in=OPEN_STATES)
    if store is not None:
        lines = lines.filter(order__store=store)
    else:  # a store's own pairing still wins over this global one
        lines = lines.exclude(
            order__store__sku_mappings__platform_sku=platform_sku,
        )
    order_ids = set(lines.values_list("order_id", flat=True))
    lines.update(sku=sku, sku_quantity=quantity)
    held = list(
        Order.objects.filter(
            pk__in=order_ids, status=OrderStatus.ON_HOLD, hold_reason=HoldReason.UNPAIRED_SKU
        ).values_list("pk", flat=True)
    )
    released = orders_release_hold(order_ids=held, user=user) if held else BulkResult()
    now = timezone.now()
    OrderEvent.objects.bulk_create(
        [
            make_event(
                Order(pk=pk),
                OrderEvent.Kind.PAIRED,
                user=user,
                message=_("%(platform_sku)s paired to %(sku)s × %(qty)d.")
                % {"platform_sku": platform_sku, "sku": sku.code, "qty": quantity},
                at=now,
            )
            for pk in sorted(order_ids)
        ]
    )
    return mapping, released
