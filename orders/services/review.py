"""Pairing platform SKUs and reviewing orders on arrival, as pure work over preloaded data.

The upsert reviews thousands of orders per call, so everything a decision needs (pairings,
SKU codes and barcodes, rules, blocklist) is loaded once into ``ReviewContext`` and each order
is decided in memory, with no query per order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from orders.models import (
    SYSTEM_HOLDS,
    BlockedBuyer,
    HoldReason,
    Order,
    OrderStatus,
    ReviewRule,
    SkuMapping,
    Store,
    Tag,
)
from warehouse.models import Sku

# Fields without which a parcel cannot be labelled. Postcodes are not required: Hong Kong,
# the UAE and others have none.
REQUIRED_ADDRESS_FIELDS = ("ship_name", "ship_address1", "ship_city", "ship_country")


@dataclass(frozen=True)
class Pairing:
    sku_id: int
    quantity: int


class PairingIndex:
    """Platform SKU → our SKU for one store: the store's pairing, else a global one, else a
    SKU whose code or barcode equals the platform SKU (paired one to one)."""

    def __init__(self, store: Store, platform_skus: Iterable[str]):
        wanted = {s for s in platform_skus if s}
        self.pairs: dict[str, Pairing] = {}
        if not wanted:
            return
        mappings = SkuMapping.objects.filter(
            Q(store=store) | Q(store__isnull=True), platform_sku__in=wanted
        ).values_list("platform_sku", "store_id", "sku_id", "quantity")
        for platform_sku, _store_id, sku_id, quantity in sorted(
            mappings,
            key=lambda m: m[1] is not None,  # store pairings override global ones
        ):
            self.pairs[platform_sku] = Pairing(sku_id, quantity)
        rest = wanted - set(self.pairs)
        if rest:
            for sku_id, code, barcode in Sku.objects.filter(
                Q(code__in=rest) | Q(barcode__in=rest), is_active=True
            ).values_list("pk", "code", "barcode"):
                for key in (barcode, code):  # the code wins when both match different SKUs
                    if key in rest:
                        self.pairs[key] = Pairing(sku_id, 1)

    def get(self, platform_sku: str) -> Pairing | None:
        return self.pairs.get(platform_sku)


@dataclass
class Decision:
    status: str
    hold_reason: str = ""
    hold_note: str = ""
    warehouse_id: int | None = None
    tag_ids: list[int] = field(default_factory=list)
    message: str = ""


@dataclass
class LineFacts:
    """What review needs of a line."""

    sku_id: int | None
    units: int


class ReviewContext:
    """Rules and blocklist of one store, loaded once per batch."""

    def __init__(self, store: Store):
        self.store = store
        self.rules: list[ReviewRule] = list(
            ReviewRule.objects.filter(is_active=True)
            .filter(Q(store__isnull=True) | Q(store=store))
            .filter(Q(platform="") | Q(platform=store.platform))
            .order_by("priority", "id")
        )
        self.blocked: set[str] = {
            b.lower()
            for b in BlockedBuyer.objects.filter(
                Q(platform="") | Q(platform=store.platform)
            ).values_list("buyer", flat=True)
        }

    def is_blocked(self, order: Order) -> bool:
        return any(
            value and value.strip().lower() in self.blocked
            for value in (order.buyer_email, order.buyer_name)
        )


def address_incomplete(order: Order) -> bool:
    return any(not getattr(order, name).strip() for name in REQUIRED_ADDRESS_FIELDS)


def _rule_matches(
    rule: ReviewRule, order: Order, lines: Sequence[LineFacts], context: ReviewContext
) -> bool:
    if rule.countries:
        countries = {c.strip().upper() for c in rule.countries.split(",") if c.strip()}
        if order.ship_country.upper() not in countries:
            return False
    total = Decimal(order.total)
    if rule.min_total is not None and total < rule.min_total:
        return False
    if rule.max_total is not None and total > rule.max_total:
        return False
    if rule.sku_id is not None and all(line.sku_id != rule.sku_id for line in lines):
        return False
    if rule.has_buyer_note is not None and bool(order.buyer_note.strip()) != rule.has_buyer_note:
        return False
    if rule.address_incomplete is not None and address_incomplete(order) != rule.address_incomplete:
        return False
    return rule.buyer_blocklisted is None or context.is_blocked(order) == rule.buyer_blocklisted


def review(
    order: Order,
    lines: Sequence[LineFacts],
    context: ReviewContext,
    *,
    awaiting_payment: bool = False,
) -> Decision:
    """Decide a new (or system-held) order: built-in holds first, then the seller's rules in
    priority order. Without a deciding rule the order waits in ``new`` for a person."""
    decision = Decision(status=OrderStatus.NEW, warehouse_id=order.warehouse_id)
    builtin: tuple[str, str] | None = None
    if awaiting_payment:
        builtin = (HoldReason.AWAITING_PAYMENT, _("The platform has not confirmed payment yet."))
    elif any(line.sku_id is None for line in lines):
        builtin = (HoldReason.UNPAIRED_SKU, _("A platform SKU is not paired to one of ours."))
    elif address_incomplete(order):
        builtin = (
            HoldReason.INCOMPLETE_ADDRESS,
            _("The address lacks a name, street, city or country."),
        )
    elif context.is_blocked(order):
        builtin = (HoldReason.BLOCKLISTED_BUYER, _("The buyer is on the blocklist."))
    for rule in context.rules:
        if not _rule_matches(rule, order, lines, context):
            continue
        if rule.action == ReviewRule.Action.SET_WAREHOUSE:
            decision.warehouse_id = rule.warehouse_id
        elif rule.action == ReviewRule.Action.TAG:
            if rule.tag_id not in decision.tag_ids:
                decision.tag_ids.append(rule.tag_id)
        elif builtin is None:
            if rule.action == ReviewRule.Action.HOLD:
                decision.status = OrderStatus.ON_HOLD
                decision.hold_reason = rule.hold_reason
                decision.hold_note = _("Rule “%(rule)s”") % {"rule": rule.name}
            else:
                decision.status = OrderStatus.APPROVED
            decision.message = _("Review rule “%(rule)s”") % {"rule": rule.name}
            break
        else:
            break
    if builtin is not None:
        decision.status = OrderStatus.ON_HOLD
        decision.hold_reason, decision.hold_note = builtin
        decision.message = builtin[1]
    return decision


def is_system_held(order: Order) -> bool:
    return order.status == OrderStatus.ON_HOLD and order.hold_reason in SYSTEM_HOLDS


def tags_by_id(ids: Iterable[int]) -> dict[int, Tag]:
    return Tag.objects.in_bulk(list(ids))
