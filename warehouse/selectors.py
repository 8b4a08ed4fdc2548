"""Reads shared by pages, the API, reports and commands."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from erp.scopes import scope_warehouses, sees_all_warehouses
from warehouse.models import (
    IN_TRANSIT_STATES,
    RESERVABLE_LEVELS,
    BundleItem,
    Location,
    Reservation,
    Sku,
    StockLevel,
    StockMove,
    Stocktake,
    StocktakeLine,
    Transfer,
    TransferLine,
    Warehouse,
)

# A bin row at or below its SKU's low-stock threshold: only bins that orders draw from, so a
# few units in quarantine do not raise an alarm. The stock page's filter and the dashboard
# share it, so their figures agree.
LOW_STOCK_LEVELS = RESERVABLE_LEVELS & Q(on_hand__lte=F("reserved") + F("sku__low_stock_threshold"))


@dataclass(frozen=True)
class Drift:
    sku_code: str
    location: str
    field: str
    stored: int
    derived: int


def stock_drift() -> list[Drift]:
    """Every stock level whose on_hand differs from the sum of its ledger moves or whose
    reserved differs from the sum of its reservations, and every ledger (sku, bin) that has no
    level row at all. A fixed number of queries, whatever the size of the ledger."""
    moves_sum = (
        StockMove.objects.filter(sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id"))
        .order_by()
        .values("sku_id", "location_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    reserved_sum = (
        Reservation.objects.filter(stock_level_id=OuterRef("pk"))
        .order_by()
        .values("stock_level_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    levels = (
        StockLevel.objects.annotate(
            ledger=Coalesce(Subquery(moves_sum), Value(0)),
            held=Coalesce(Subquery(reserved_sum), Value(0)),
        )
        .filter(~Q(on_hand=F("ledger")) | ~Q(reserved=F("held")))
        .select_related("sku", "location__warehouse")
        .order_by("sku__code", "location__code")
    )
    drift: list[Drift] = []
    for level in levels:
        where = f"{level.location.warehouse.code}/{level.location.code}"
        if level.on_hand != level.ledger:
            drift.append(Drift(level.sku.code, where, "on_hand", level.on_hand, level.ledger))
        if level.reserved != level.held:
            drift.append(Drift(level.sku.code, where, "reserved", level.reserved, level.held))

    orphans = (
        StockMove.objects.order_by()
        .values("sku_id", "location_id")
        .annotate(total=Sum("quantity"))
        .filter(
            ~Exists(
                StockLevel.objects.filter(
                    sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id")
                )
            )
        )
    )
    orphans = list(orphans)
    if orphans:
        skus = Sku.objects.in_bulk({o["sku_id"] for o in orphans})
        locations = Location.objects.select_related("warehouse").in_bulk(
            {o["location_id"] for o in orphans}
        )
        for o in orphans:
            loc = locations[o["location_id"]]
            where = f"{loc.warehouse.code}/{loc.code}"
            drift.append(Drift(skus[o["sku_id"]].code, where, "on_hand", 0, o["total"]))
    return drift


# Querysets for lists and details: each declares its joins once, so pages and API share them
# and neither runs a query per row.


def sku_queryset():
    return Sku.objects.order_by("code")


def sku_with_parts_queryset():
    """SKUs with their bundle parts (each with its component) prefetched: two queries for a
    page of SKUs, bundles or not."""
    return sku_queryset().prefetch_related(
        Prefetch(
            "bundle_items",
            queryset=BundleItem.objects.select_related("component").order_by("component__code"),
        )
    )


def warehouse_queryset(*, user):
    return scope_warehouses(Warehouse.objects.order_by("code"), user)


def location_queryset(*, user):
    return scope_warehouses(
        Location.objects.select_related("warehouse").order_by(
            "warehouse__code", "pick_sequence", "code"
        ),
        user,
        "warehouse",
    )


def stock_level_queryset(*, user):
    return scope_warehouses(
        StockLevel.objects.select_related("sku", "location", "location__warehouse").order_by(
            "sku__code", "location__warehouse__code", "location__pick_sequence"
        ),
        user,
        "location__warehouse",
    )


def stock_move_queryset(*, user):
    return scope_warehouses(
        StockMove.objects.select_related("sku", "location", "location__warehouse", "user"),
        user,
        "location__warehouse",
    )


def sku_stock_queryset(*, user):
    """SKUs with ``on_hand_total`` and ``available_total`` summed over the user's warehouses,
    as correlated subqueries: one query for a page of SKUs, and the page count stays cheap.
    Available counts reservable bins only (``RESERVABLE_LEVELS``)."""
    levels = (
        scope_warehouses(
            StockLevel.objects.filter(sku_id=OuterRef("pk")), user, "location__warehouse"
        )
        .order_by()
        .values("sku_id")
    )
    on_hand = levels.annotate(total=Sum("on_hand")).values("total")
    available = (
        levels.filter(RESERVABLE_LEVELS)
        .annotate(total=Sum(F("on_hand") - F("reserved")))
        .values("total")
    )
    return sku_queryset().annotate(
        on_hand_total=Coalesce(Subquery(on_hand), Value(0)),
        available_total=Coalesce(Subquery(available), Value(0)),
    )


# --- Warehouse operations: stocktakes, transfers, stock across warehouses ----------------------


def stocktake_queryset(*, user):
    """Stocktakes of the user's warehouses, with ``line_count`` and ``counted_count``."""
    return scope_warehouses(
        Stocktake.objects.select_related("warehouse", "created_by", "posted_by").annotate(
            line_count=Count("lines"),
            counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
        ),
        user,
        "warehouse",
    ).order_by("-created_at", "-pk")


def stocktake_line_queryset(stocktake: Stocktake):
    """The lines of a stocktake in walking order (bin pick sequence, bin, SKU), each with the
    bin's ``on_hand_now`` and ``reserved_now`` (0 when the bin has no level for the SKU)."""
    level = StockLevel.objects.filter(
        sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id")
    )
    return (
        StocktakeLine.objects.filter(stocktake=stocktake)
        .select_related("sku", "location", "counted_by")
        .annotate(
            on_hand_now=Coalesce(Subquery(level.values("on_hand")[:1]), Value(0)),
            reserved_now=Coalesce(Subquery(level.values("reserved")[:1]), Value(0)),
        )
        .order_by("location__pick_sequence", "location__code", "sku__code")
    )


# What the variance review shows (``stocktake_lines_view``): lines with a variance, those that
# posting would refuse, lines not counted yet, or all.
STOCKTAKE_LINE_VIEWS = ("variance", "problems", "uncounted", "all")


def stocktake_lines_view(stocktake: Stocktake, view: str):
    lines = stocktake_line_queryset(stocktake)
    counted = Q(counted__isnull=False)
    if view == "variance":
        return lines.filter(counted).exclude(counted=F("expected_at_count"))
    if view == "problems":
        # after posting (on hand now + variance) below what is reserved
        return lines.filter(counted).filter(
            on_hand_now__lt=F("reserved_now") - F("counted") + F("expected_at_count")
        )
    if view == "uncounted":
        return lines.filter(counted__isnull=True)
    return lines


@dataclass(frozen=True)
class StocktakeSummary:
    lines: int
    counted: int
    with_variance: int
    units_added: int
    units_removed: int
    value_added: Decimal
    value_removed: Decimal
    problems: int  # lines whose correction would leave fewer units than reserved

    @property
    def uncounted(self) -> int:
        return self.lines - self.counted

    @property
    def value(self) -> Decimal:
        return self.value_added - self.value_removed


def stocktake_summary(stocktake: Stocktake) -> StocktakeSummary:
    """Totals of the variance review, from one query over the lines (values at today's
    average cost; the moves take the average cost of the moment of posting)."""
    rows = stocktake_line_queryset(stocktake).values_list(
        "counted", "expected_at_count", "on_hand_now", "reserved_now", "sku__avg_cost"
    )
    lines = counted = varied = added = removed = problems = 0
    value_added = value_removed = Decimal("0")
    for count, expected, on_hand, reserved, avg_cost in rows:
        lines += 1
        if count is None:
            continue
        counted += 1
        variance = count - expected
        if variance == 0:
            continue
        varied += 1
        if variance > 0:
            added += variance
            value_added += variance * avg_cost
        else:
            removed -= variance
            value_removed -= variance * avg_cost
        if on_hand + variance < reserved:
            problems += 1
    return StocktakeSummary(
        lines, counted, varied, added, removed, value_added, value_removed, problems
    )


def scan_lookup(*, warehouse: Warehouse, code: str) -> Location | Sku | None:
    """What a scanned or typed code names on a count page: a bin of ``warehouse`` (bins win,
    so a bin label always starts a bin), else a SKU by code, else by barcode."""
    code = code.strip()
    if not code:
        return None
    location = Location.objects.filter(warehouse=warehouse, code=code).first()
    if location is not None:
        return location
    return Sku.objects.filter(code=code).first() or Sku.objects.filter(barcode=code).first()


def scope_transfers(queryset, user):
    """Transfers from or to one of the user's warehouses."""
    if not user.is_authenticated:
        return queryset.none()
    if sees_all_warehouses(user):
        return queryset
    mine = user.warehouses.values("pk")
    return queryset.filter(Q(source__in=mine) | Q(destination__in=mine))


def transfer_queryset(*, user):
    """Transfers the user may see, with ``line_count``, ``unit_count`` (units asked for) and
    ``transit_count`` (shipped − received; only meaningful while in transit)."""
    return scope_transfers(
        Transfer.objects.select_related("source", "destination", "created_by").annotate(
            line_count=Count("lines"),
            unit_count=Coalesce(Sum("lines__quantity"), Value(0)),
            transit_count=Coalesce(
                Sum(F("lines__shipped_quantity") - F("lines__received_quantity")), Value(0)
            ),
        ),
        user,
    ).order_by("-created_at", "-pk")


def transfer_line_queryset(transfer: Transfer):
    return transfer.lines.select_related("sku", "source_location").order_by("pk")


def in_transit_lines():
    """Transfer lines whose shipped − received units are on the way."""
    return TransferLine.objects.filter(transfer__status__in=IN_TRANSIT_STATES)


def in_transit_by_destination(*, sku_ids, warehouse_ids=None) -> dict[tuple[int, int], int]:
    """{(SKU id, destination warehouse id): units in transit} for these SKUs."""
    lines = in_transit_lines().filter(sku_id__in=list(sku_ids))
    if warehouse_ids is not None:
        lines = lines.filter(transfer__destination_id__in=list(warehouse_ids))
    rows = (
        lines.order_by()
        .values("sku_id", "transfer__destination_id")
        .annotate(units=Sum(F("shipped_quantity") - F("received_quantity")))
    )
    return {
        (row["sku_id"], row["transfer__destination_id"]): row["units"]
        for row in rows
        if row["units"]
    }


# Incoming stock from purchase orders. Purchasing has no orders yet, so nothing provides it
# and pages leave the column out. When it does, ``purchasing`` registers a provider from its
# AppConfig.ready(): ``register_incoming_provider(fn)`` with ``fn(*, sku_ids, warehouse_ids)
# -> {(sku_id, warehouse_id): units ordered and not received}``. (A registry, not an import:
# warehouse never imports purchasing; DESIGN.md.)
_INCOMING_PROVIDERS: list[Callable[..., dict[tuple[int, int], int]]] = []


def register_incoming_provider(provider: Callable[..., dict[tuple[int, int], int]]) -> None:
    if provider not in _INCOMING_PROVIDERS:
        _INCOMING_PROVIDERS.append(provider)


def incoming_enabled() -> bool:
    return bool(_INCOMING_PROVIDERS)


def incoming_quantities(*, sku_ids, warehouse_ids) -> dict[tuple[int, int], int]:
    """Units on order per (SKU, warehouse): {} while no provider is registered."""
    total: dict[tuple[int, int], int] = {}
    sku_ids, warehouse_ids = list(sku_ids), list(warehouse_ids)
    for provider in _INCOMING_PROVIDERS:
        for key, units in provider(sku_ids=sku_ids, warehouse_ids=warehouse_ids).items():
            total[key] = total.get(key, 0) + units
    return total


@dataclass(frozen=True)
class WarehouseAvailability:
    """One SKU in one warehouse: available counts reservable bins (``RESERVABLE_LEVELS``)."""

    warehouse: Warehouse
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    incoming: int | None  # None: no provider (purchasing not installed)


def sku_availability(*, user, sku: Sku) -> list[WarehouseAvailability]:
    """The SKU in each of the user's warehouses that holds, expects or held it: on hand,
    reserved, available, in transit to it, and on order (when a provider exists). Three
    queries (four with incoming)."""
    levels = {
        row["location__warehouse_id"]: row
        for row in scope_warehouses(StockLevel.objects.filter(sku=sku), user, "location__warehouse")
        .order_by()
        .values("location__warehouse_id")
        .annotate(
            total_on_hand=Sum("on_hand"),
            total_reserved=Sum("reserved"),
            total_available=Coalesce(
                Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS), Value(0)
            ),
        )
    }
    transit = {
        warehouse_id: units
        for (_sku, warehouse_id), units in in_transit_by_destination(sku_ids=[sku.pk]).items()
    }
    warehouses = list(warehouse_queryset(user=user).filter(pk__in={*levels, *transit}))
    incoming = (
        incoming_quantities(sku_ids=[sku.pk], warehouse_ids=[w.pk for w in warehouses])
        if incoming_enabled()
        else None
    )
    rows = []
    for warehouse in warehouses:
        level = levels.get(warehouse.pk, {})
        rows.append(
            WarehouseAvailability(
                warehouse=warehouse,
                on_hand=level.get("total_on_hand", 0),
                reserved=level.get("total_reserved", 0),
                available=level.get("total_available", 0),
                in_transit=transit.get(warehouse.pk, 0),
                incoming=None if incoming is None else incoming.get((sku.pk, warehouse.pk), 0),
            )
        )
    return rows


def sku_warehouse_stock_queryset(*, user):
    """One row (a dict) per SKU and warehouse where the SKU has a bin row, in the user's
    warehouses: ``total_on_hand``, ``total_reserved``, ``total_available`` (reservable bins)
    and ``in_transit`` (to that warehouse). The low-stock list and the availability API read
    it through ``SkuAvailabilityFilter``. One query per page."""
    transit = (
        in_transit_lines()
        .filter(
            sku_id=OuterRef("sku_id"), transfer__destination_id=OuterRef("location__warehouse_id")
        )
        .order_by()
        .values("sku_id")
        .annotate(units=Sum(F("shipped_quantity") - F("received_quantity")))
        .values("units")
    )
    return (
        scope_warehouses(StockLevel.objects.all(), user, "location__warehouse")
        .values(
            "sku_id",
            "sku__code",
            "sku__name",
            "sku__name_zh",
            "sku__low_stock_threshold",
            "location__warehouse_id",
            "location__warehouse__code",
        )
        .annotate(
            total_on_hand=Sum("on_hand"),
            total_reserved=Sum("reserved"),
            total_available=Coalesce(
                Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS), Value(0)
            ),
            in_transit=Coalesce(Subquery(transit), Value(0)),
        )
        .order_by("sku__code", "location__warehouse__code")
    )


# A SKU is low in a warehouse when its available units there (reservable bins) are at or below
# its threshold: the comparison of ``LOW_STOCK_LEVELS`` (per bin, on the stock page), summed
# over the warehouse's bins.
LOW_STOCK_ROWS = Q(total_available__lte=F("sku__low_stock_threshold"))
