"""Restock suggestions: what to buy (or send from the domestic warehouse) for each SKU in each
warehouse, with every number explained.

The arithmetic, per (SKU, warehouse):

1. **Sales** come from the stock ledger, not from orders (purchasing never imports orders):
   shipment moves (``StockMove.Kind.SHIPMENT``, negative) are exactly the units that left for
   customers, bundles already as their components. Units sold on a local day (``TIME_ZONE``)
   = −Σ quantity of that day's shipment moves in the warehouse. The windows are the last 7, 14
   and 30 *complete* days before ``as_of`` (today is still selling and is left out).
2. **Out-of-stock days** are left out of each window: a day is out of stock when the SKU's
   on-hand in the warehouse's sellable bins (``RESERVABLE_LEVELS``: active storage bins) was 0
   at the end of the day *and* it sold nothing that day. End-of-day on-hand is rebuilt from the
   ledger backwards: on-hand at the end of day d = on-hand now − Σ sellable-bin moves after d.
   That uses only the ledger's invariant (on-hand = Σ moves), so it is right whatever order the
   moves were written in.
3. **Rate** of a window = units sold ÷ in-stock days of the window. **Velocity** = 0.5 × rate 7
   + 0.3 × rate 14 + 0.2 × rate 30 (the warehouse's ``RestockPolicy`` weights); a window with no
   day in stock has no rate and its weight is shared out among the others. Rounded to 0.01/day,
   and the rounded figure is what the rest uses.
4. **Have** = available (on-hand − reserved in sellable bins) + in transit to the warehouse
   (shipped − received of transfers on the way) + on order (quantity − accepted − rejected of
   purchase-order lines in ``OPEN_PO_STATES``). Draft purchase orders are intentions: shown, not
   counted.
5. **Days to cover** = supplier lead (the offer's, else the supplier's) + QC days + transit days
   to the warehouse + safety days + purchase-cycle days. **Target** = ⌈velocity × days to
   cover⌉; **short** = max(0, target − have).
6. **Overseas and FBA warehouses** are sent what the domestic warehouse (own, in China) can
   spare first: it keeps ⌈its velocity × (lead + QC + transit + safety)⌉ of its available units
   and the rest may go, to the most urgent warehouse first. What is proposed to go out counts
   against the domestic warehouse's own *have*.
7. **Buy** = what is still short, raised to the offer's MOQ, then up to whole packs; if a cheaper
   price tier starts within ``tier_reach_pct`` (10 %) above that, up to the tier (rounded to
   packs), saying what it saves.

Everything is read in seven set-based queries whatever the number of SKUs (the ledger in one
GROUP BY with window functions, the rest in GROUP BYs: ``restock_data``) and computed here in
Python over dicts; ``restock_explain`` puts each step into a sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from erp.permissions import require_warehouse_scope
from purchasing.models import PurchaseOrder, RestockPolicy, Supplier, SupplierProduct
from purchasing.services.orders import DraftLine, po_create
from purchasing.services.restock_data import (
    CENT,
    NEVER_IN_STOCK,
    NO_SALES,
    WINDOWS,
    day_starts,
    in_transit_quantities,
    ledger_sales,
    purchase_quantities,
    stock_levels,
    velocity_of,
)
from purchasing.services.restock_explain import explain, price_text
from warehouse.models import Sku, Warehouse

TENTH = Decimal("0.1")
DOMESTIC_COUNTRY = "CN"
TRANSFER_KINDS = (Warehouse.Kind.OVERSEAS, Warehouse.Kind.FBA)
DEFAULT_SUPPLIER_LEAD_DAYS = Supplier._meta.get_field("lead_days").default


class RestockError(ServiceError):
    code = "restock_invalid"


# --- Policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    qc_days: int
    transit_days: int
    safety_days: int
    cycle_days: int
    weights: tuple[Decimal, Decimal, Decimal]  # of the 7-, 14- and 30-day rates
    tier_reach_pct: int
    is_default: bool  # the warehouse has no RestockPolicy row


def default_policy(warehouse: Warehouse) -> Policy:
    """The policy of a warehouse without one: QC 1 day, safety 7, cycle 14, weights 0.5 / 0.3
    / 0.2; transit 0 days for an own warehouse in China, 25 days for any other."""
    domestic = warehouse.kind == Warehouse.Kind.OWN and warehouse.country == DOMESTIC_COUNTRY
    return Policy(
        qc_days=1,
        transit_days=0 if domestic else 25,
        safety_days=7,
        cycle_days=14,
        weights=(Decimal("0.50"), Decimal("0.30"), Decimal("0.20")),
        tier_reach_pct=10,
        is_default=True,
    )


def warehouse_policy(warehouse: Warehouse) -> Policy | None:
    """The warehouse's policy (None: inactive, no suggestions for it)."""
    try:
        row: RestockPolicy = warehouse.restock_policy
    except RestockPolicy.DoesNotExist:
        return default_policy(warehouse)
    if not row.is_active:
        return None
    return Policy(
        qc_days=row.qc_days,
        transit_days=row.transit_days,
        safety_days=row.safety_days,
        cycle_days=row.cycle_days,
        weights=(row.weight_7, row.weight_14, row.weight_30),
        tier_reach_pct=row.tier_reach_pct,
        is_default=False,
    )


# --- Supplier offers ------------------------------------------------------------------------


@dataclass(slots=True)
class Offer:
    id: int
    supplier_id: int
    supplier_code: str
    supplier_name: str
    currency: str
    lead_days: int
    moq: int
    pack_qty: int
    tiers: tuple[tuple[int, Decimal], ...]  # (from quantity, unit price), ascending
    is_preferred: bool

    def price(self, quantity: int) -> Decimal | None:
        """The price of the highest tier ``quantity`` reaches (below the first: the first's),
        as ``SupplierProduct.unit_price`` says."""
        if not self.tiers:
            return None
        price = self.tiers[0][1]
        for start, tier_price in self.tiers:
            if quantity >= start:
                price = tier_price
        return price


def _tiers(raw) -> tuple[tuple[int, Decimal], ...]:
    tiers = []
    for item in raw or ():
        try:
            tiers.append((int(item[0]), Decimal(str(item[1]))))
        except (TypeError, ValueError, ArithmeticError, IndexError):
            continue  # a malformed tier is ignored, as if the offer had no such tier
    return tuple(sorted(tiers))


def _offer_rank(offer: Offer) -> tuple:
    first = offer.tiers[0][1] if offer.tiers else Decimal("Infinity")
    return (not offer.is_preferred, first, offer.supplier_code)


def _offers(sku_filter) -> dict[int, Offer]:
    """The offer each SKU is bought from: the preferred one, else the cheapest first tier."""
    rows = SupplierProduct.objects.filter(supplier__is_active=True).values_list(
        "id",
        "sku_id",
        "supplier_id",
        "supplier__code",
        "supplier__name",
        "supplier__currency",
        "lead_days",
        "supplier__lead_days",
        "moq",
        "pack_qty",
        "price_tiers",
        "is_preferred",
    )
    if sku_filter is not None:
        rows = rows.filter(sku_id__in=sku_filter)
    best: dict[int, Offer] = {}
    for pk, sku_id, sup, code, name, cur, lead, sup_lead, moq, pack, tiers, pref in rows:
        offer = Offer(
            id=pk,
            supplier_id=sup,
            supplier_code=code,
            supplier_name=name,
            currency=cur,
            lead_days=lead if lead is not None else sup_lead,
            moq=max(moq, 1),
            pack_qty=max(pack, 1),
            tiers=_tiers(tiers),
            is_preferred=pref,
        )
        if sku_id not in best or _offer_rank(offer) < _offer_rank(best[sku_id]):
            best[sku_id] = offer
    return best


# --- The suggestion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierBump:
    added: int  # units added to reach the tier
    start: int  # the tier's first quantity
    price: Decimal  # the tier's unit price
    saved: Decimal  # (price before − tier price) × the new quantity


@dataclass(slots=True)
class Suggestion:
    """One SKU in one warehouse: every component of the suggestion, and ``explanation``."""

    sku_id: int
    sku_code: str
    sku_name: str
    sku_name_zh: str
    warehouse_id: int
    warehouse_code: str
    warehouse_name: str
    warehouse_kind: str
    # sales over the last 7 / 14 / 30 complete days
    sold: tuple[int, int, int]
    out_of_stock_days: tuple[int, int, int]
    rates: tuple[Decimal | None, Decimal | None, Decimal | None]  # None: no day in stock
    weights: tuple[Decimal, Decimal, Decimal]  # as used (shared out when a rate is None)
    velocity: Decimal  # units a day, rounded to 0.01
    # what the warehouse has and expects
    available: int
    in_transit: int
    on_order: int
    in_drafts: int  # not counted
    transfer_out: int  # proposed to go to overseas warehouses (domestic warehouse only)
    have: int  # available + in transit + on order − transfer out
    # days to cover
    supplier_lead_days: int
    supplier_lead_assumed: bool  # no offer: the default supplier lead time
    qc_days: int
    transit_days: int
    safety_days: int
    cycle_days: int
    target: int  # ⌈velocity × days to cover⌉
    short: int  # max(0, target − have)
    # from the domestic warehouse (overseas and FBA warehouses)
    transfer_from_id: int | None = None
    transfer_from_code: str = ""
    transfer_qty: int = 0
    domestic_available: int = 0
    domestic_keep: int = 0
    domestic_keep_days: int = 0
    domestic_velocity: Decimal = Decimal(0)
    spare_taken: int = 0  # of the domestic spare, already proposed to more urgent warehouses
    # what to buy
    to_buy: int = 0  # short − transfer, before rounding
    quantity: int = 0  # the suggested purchase quantity
    moq: int = 1
    pack_qty: int = 1
    raised_to_moq: bool = False
    rounded_to_pack: bool = False
    tier_bump: TierBump | None = None
    tier_reach_pct: int = 10
    offer: Offer | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    policy_is_default: bool = True
    transfers_to: list[tuple[str, int]] = field(default_factory=list)  # domestic: (code, qty)

    @property
    def key(self) -> str:
        return f"{self.sku_id}-{self.warehouse_id}"

    @property
    def lead_days(self) -> int:
        """Supplier lead + QC + transit: days until a purchase placed today is sellable."""
        return self.supplier_lead_days + self.qc_days + self.transit_days

    @property
    def cover_target_days(self) -> int:
        return self.lead_days + self.safety_days + self.cycle_days

    @property
    def cover_days(self) -> Decimal | None:
        """Days what the warehouse has and expects lasts at the velocity (None: no sales)."""
        if not self.velocity:
            return None
        return (Decimal(self.have) / self.velocity).quantize(TENTH, ROUND_HALF_UP)

    @property
    def days_left(self) -> Decimal | None:
        """Days the available units last at the velocity (None: no sales)."""
        if not self.velocity:
            return None
        return (Decimal(self.available) / self.velocity).quantize(TENTH, ROUND_HALF_UP)

    @property
    def needed(self) -> bool:
        return bool(self.quantity or self.transfer_qty)

    @property
    def window_rows(self) -> list[dict]:
        """The three windows for a table: days, sold, out-of-stock days, rate, weight used."""
        return [
            {
                "days": days,
                "sold": sold,
                "out_of_stock": oos,
                "in_stock": days - oos,
                "rate": rate,
                "weight": weight,
            }
            for days, sold, oos, rate, weight in zip(
                WINDOWS, self.sold, self.out_of_stock_days, self.rates, self.weights, strict=True
            )
        ]

    @property
    def unit_price_text(self) -> str:
        return price_text(self.unit_price) if self.unit_price is not None else ""

    @property
    def tier_price_text(self) -> str:
        return price_text(self.tier_bump.price) if self.tier_bump else ""

    @property
    def supplier_code(self) -> str:
        return self.offer.supplier_code if self.offer else ""

    @property
    def explanation(self) -> list[str]:
        """Each step of the arithmetic in a sentence, in the active language."""
        return explain(self)


# --- Putting it together ------------------------------------------------------------------


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_CEILING))


def _round_up(quantity: int, step: int) -> int:
    return -(-quantity // step) * step


def _sku_filter(sku_ids):
    if sku_ids is None or isinstance(sku_ids, QuerySet):
        return sku_ids
    return list(sku_ids)


def restock_suggestions(
    *,
    warehouse_ids: Iterable[int] | None = None,
    sku_ids: Iterable[int] | QuerySet | None = None,
    as_of: datetime | None = None,
    only_needed: bool = True,
) -> list[Suggestion]:
    """Suggestions per (SKU, warehouse), most urgent first (fewest days of cover, then SKU code
    and warehouse code). ``only_needed``: only those that buy or transfer something.

    A (SKU, warehouse) is considered when the warehouse holds, held (moves in the last 30
    days), expects (transfers, purchase orders) the SKU; active plain SKUs only (a bundle's
    sales are its components' moves), active non-virtual warehouses with an active policy.
    """
    as_of = as_of or timezone.now()
    warehouses = {
        w.pk: w
        for w in Warehouse.objects.filter(is_active=True)
        .exclude(kind=Warehouse.Kind.VIRTUAL)
        .select_related("restock_policy")
        .order_by("code")
    }
    policies = {pk: warehouse_policy(w) for pk, w in warehouses.items()}
    wanted = {pk for pk, policy in policies.items() if policy is not None}
    if warehouse_ids is not None:
        wanted &= set(warehouse_ids)
    domestic = next(
        (
            w
            for w in warehouses.values()
            if w.kind == Warehouse.Kind.OWN and w.country == DOMESTIC_COUNTRY
        ),
        None,
    )
    computed = set(wanted)
    if domestic is not None and any(warehouses[pk].kind in TRANSFER_KINDS for pk in wanted):
        computed.add(domestic.pk)  # its spare stock is read even when it is not listed
    if not wanted:
        return []
    sku_filter = _sku_filter(sku_ids)
    starts = day_starts(as_of)

    sales = ledger_sales(starts=starts, warehouse_ids=computed, sku_filter=sku_filter)
    levels = stock_levels(warehouse_ids=computed, sku_filter=sku_filter)
    transit = in_transit_quantities(warehouse_ids=computed, sku_filter=sku_filter)
    purchases = purchase_quantities(warehouse_ids=computed, sku_filter=sku_filter)
    keys = {*sales, *levels, *transit, *purchases}
    skus = Sku.objects.filter(is_active=True, is_bundle=False).values_list(
        "id", "code", "name", "name_zh"
    )
    if sku_filter is not None:
        skus = skus.filter(pk__in=sku_filter)
    sku_rows = {row[0]: row for row in skus}
    offers = _offers(sku_filter)

    by_sku: dict[int, dict[int, Suggestion]] = defaultdict(dict)
    for sku_id, warehouse_id in keys:
        if sku_id not in sku_rows:
            continue
        policy = policies.get(warehouse_id) or default_policy(warehouses[warehouse_id])
        by_sku[sku_id][warehouse_id] = _base(
            sku=sku_rows[sku_id],
            warehouse=warehouses[warehouse_id],
            policy=policy,
            sales=sales.get((sku_id, warehouse_id)),
            level=levels.get((sku_id, warehouse_id), (0, 0)),
            transit=transit.get((sku_id, warehouse_id), 0),
            purchases=purchases.get((sku_id, warehouse_id), (0, 0)),
            offer=offers.get(sku_id),
        )

    result = []
    for per_warehouse in by_sku.values():
        home = per_warehouse.get(domestic.pk) if domestic is not None else None
        _propose_transfers(home, per_warehouse, domestic)
        for warehouse_id, suggestion in per_warehouse.items():
            if warehouse_id not in wanted:
                continue
            _finish(suggestion)
            if not only_needed or suggestion.needed:
                result.append(suggestion)
    result.sort(key=_urgency)
    return result


def _urgency(s: Suggestion) -> tuple:
    cover = s.cover_days
    return (cover is None, cover if cover is not None else 0, s.sku_code, s.warehouse_code)


def _base(*, sku, warehouse, policy, sales, level, transit, purchases, offer) -> Suggestion:
    sku_id, code, name, name_zh = sku
    available, sellable = level
    if sales is None:  # no move in 30 days: in stock throughout, or out of it throughout
        sales = NEVER_IN_STOCK if sellable <= 0 else NO_SALES
    sold, oos = sales
    rates, weights, velocity = velocity_of(sold, oos, policy.weights)
    on_order, drafts = purchases
    lead = offer.lead_days if offer else DEFAULT_SUPPLIER_LEAD_DAYS
    total_days = lead + policy.qc_days + policy.transit_days + policy.safety_days
    total_days += policy.cycle_days
    have = available + transit + on_order
    target = _ceil(velocity * total_days)
    return Suggestion(
        sku_id=sku_id,
        sku_code=code,
        sku_name=name,
        sku_name_zh=name_zh,
        warehouse_id=warehouse.pk,
        warehouse_code=warehouse.code,
        warehouse_name=warehouse.name,
        warehouse_kind=warehouse.kind,
        sold=sold,
        out_of_stock_days=oos,
        rates=rates,
        weights=weights,
        velocity=velocity,
        available=available,
        in_transit=transit,
        on_order=on_order,
        in_drafts=drafts,
        transfer_out=0,
        have=have,
        supplier_lead_days=lead,
        supplier_lead_assumed=offer is None,
        qc_days=policy.qc_days,
        transit_days=policy.transit_days,
        safety_days=policy.safety_days,
        cycle_days=policy.cycle_days,
        target=target,
        short=max(0, target - have),
        tier_reach_pct=policy.tier_reach_pct,
        offer=offer,
        moq=offer.moq if offer else 1,
        pack_qty=offer.pack_qty if offer else 1,
        policy_is_default=policy.is_default,
    )


def _propose_transfers(
    home: Suggestion | None, per_warehouse: dict[int, Suggestion], domestic: Warehouse | None
) -> None:
    """Share the domestic warehouse's spare units among the SKU's overseas and FBA warehouses
    that are short, most urgent first; the domestic warehouse's *have* drops by what goes."""
    if domestic is None:
        return
    overseas = sorted(
        (s for s in per_warehouse.values() if s.warehouse_kind in TRANSFER_KINDS and s.short > 0),
        key=_urgency,
    )
    if not overseas:
        return
    if home is None:  # the domestic warehouse never had it
        available, keep, keep_days, velocity = 0, 0, 0, Decimal(0)
    else:
        keep_days = home.lead_days + home.safety_days
        available, velocity = home.available, home.velocity
        keep = _ceil(velocity * keep_days)
    spare = max(available - keep, 0)
    taken = 0
    for s in overseas:
        s.transfer_from_id = domestic.pk
        s.transfer_from_code = domestic.code
        s.domestic_available = available
        s.domestic_keep = keep
        s.domestic_keep_days = keep_days
        s.domestic_velocity = velocity
        s.spare_taken = taken
        s.transfer_qty = min(s.short, spare - taken)
        taken += s.transfer_qty
        if s.transfer_qty and home is not None:
            home.transfers_to.append((s.warehouse_code, s.transfer_qty))
    if home is not None and taken:
        home.transfer_out = taken
        home.have -= taken
        home.short = max(0, home.target - home.have)


def _finish(s: Suggestion) -> None:
    """What to buy: the rest of the shortfall, to MOQ, packs and maybe a cheaper tier."""
    s.to_buy = max(0, s.short - s.transfer_qty)
    if not s.to_buy:
        return
    quantity = s.to_buy
    if quantity < s.moq:
        quantity, s.raised_to_moq = s.moq, True
    if quantity % s.pack_qty:
        quantity, s.rounded_to_pack = _round_up(quantity, s.pack_qty), True
    offer = s.offer
    price = offer.price(quantity) if offer else None
    if price is not None:
        limit = Decimal(quantity) * (100 + s.tier_reach_pct) / 100
        reachable = [
            (start, tier_price)
            for start, tier_price in offer.tiers
            if quantity < start <= limit and tier_price < price
        ]
        if reachable:
            start, tier_price = max(reachable)
            bumped = _round_up(start, s.pack_qty)
            s.tier_bump = TierBump(
                added=bumped - quantity,
                start=start,
                price=tier_price,
                saved=((price - tier_price) * bumped).quantize(CENT, ROUND_HALF_UP),
            )
            quantity, price = bumped, offer.price(bumped)
    s.quantity = quantity
    s.unit_price = price
    s.amount = (price * quantity).quantize(CENT, ROUND_HALF_UP) if price is not None else None


# --- Drafts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedLine:
    sku_code: str
    warehouse_code: str
    reason: str


@dataclass(frozen=True)
class RestockDrafts:
    """What ``restock_create_drafts`` did: the drafts, and the lines it could not place."""

    orders: list[PurchaseOrder]
    skipped: list[SkippedLine]


def restock_create_drafts(
    *, lines: Sequence[tuple[int, int, int]], user: User | None
) -> RestockDrafts:
    """Draft purchase orders for ``(sku_id, warehouse_id, quantity)`` lines, one per (supplier,
    warehouse), each SKU from the supplier restock suggests (its preferred offer, else the
    cheapest first tier) at the offer's tier price. Lines of SKUs no supplier offers are
    skipped and named; all drafts are written in one transaction, or none."""
    if not lines:
        raise RestockError(_("Tick at least one line."))
    for _sku, _warehouse, quantity in lines:
        if int(quantity) < 1:
            raise RestockError(_("Each quantity must be at least 1."))
    sku_ids = {int(sku) for sku, _w, _q in lines}
    warehouse_ids = {int(w) for _s, w, _q in lines}
    if user is not None:
        require_warehouse_scope(user, warehouse_ids)
    skus = Sku.objects.in_bulk(sku_ids)
    warehouses = Warehouse.objects.in_bulk(warehouse_ids)
    missing = sku_ids - set(skus)
    if missing or warehouse_ids - set(warehouses):
        raise RestockError(_("A line names a SKU or warehouse that does not exist."))
    offers = _offers(list(sku_ids))
    groups: dict[tuple[int, int], list[DraftLine]] = defaultdict(list)
    skipped = []
    for sku_id, warehouse_id, quantity in lines:
        sku, warehouse = skus[int(sku_id)], warehouses[int(warehouse_id)]
        offer = offers.get(sku.pk)
        if sku.is_bundle:
            skipped.append(SkippedLine(sku.code, warehouse.code, _("a bundle is not bought")))
            continue
        if offer is None:
            skipped.append(SkippedLine(sku.code, warehouse.code, _("no supplier offers it")))
            continue
        groups[(offer.supplier_id, warehouse.pk)].append(
            DraftLine(sku=sku, quantity=int(quantity), note=_("Restock suggestion"))
        )
    suppliers = Supplier.objects.in_bulk({supplier_id for supplier_id, _w in groups})
    orders = []
    with transaction.atomic():
        for (supplier_id, warehouse_id), draft_lines in sorted(
            groups.items(), key=lambda item: (suppliers[item[0][0]].code, item[0][1])
        ):
            orders.append(
                po_create(
                    supplier=suppliers[supplier_id],
                    warehouse=warehouses[warehouse_id],
                    lines=draft_lines,
                    user=user,
                    notes=_("Drafted from restock suggestions."),
                )
            )
    return RestockDrafts(orders=orders, skipped=skipped)


def as_of_day(as_of: datetime | None = None) -> date:
    """The day suggestions are made for (their windows end the day before)."""
    return timezone.localdate(as_of or timezone.now())
