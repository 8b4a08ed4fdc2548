"""The reads behind restock suggestions, each one set-based statement whatever the number of
SKUs: the ledger aggregate (units sold and out-of-stock days per window, ``ledger_query``), the
stock levels, what is in transit and on order. See ``purchasing.services.restock`` for the
arithmetic they feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from purchasing.models import OPEN_PO_STATES, PurchaseOrderLine, PurchaseOrderStatus
from warehouse.models import RESERVABLE_LEVELS, StockLevel, StockMove

WINDOWS = (7, 14, 30)
HISTORY_DAYS = max(WINDOWS)
CENT = Decimal("0.01")


def day_starts(as_of: datetime) -> list[datetime]:
    """The starts of the 30 local days before ``as_of``'s day, and of that day (31 instants)."""
    today = timezone.localdate(as_of)
    return [
        timezone.make_aware(datetime.combine(today - timedelta(days=HISTORY_DAYS - k), time.min))
        for k in range(HISTORY_DAYS + 1)
    ]


def _window_low(days: int) -> int:
    return HISTORY_DAYS - days  # the first day index of a window (days are 0 … 29, today 30)


def _oos_sql(low: int) -> str:
    """Out-of-stock days a day row adds to the window starting at day ``low``: the row's own
    day (on-hand 0 at its end and nothing sold) and the days without moves after it, up to the
    next day with moves (their on-hand is the row's end-of-day on-hand)."""
    return (
        f"(CASE WHEN sold = 0 AND d >= {low} THEN 1 ELSE 0 END)"
        f" + (CASE WHEN d + 1 >= {low} THEN nxt - d - 1"
        f" WHEN nxt > {low} THEN nxt - {low} ELSE 0 END)"
    )


def _day_index(starts: Sequence[datetime]):
    """The local day of a move as 0 … 29 (the 30 days before ``as_of``'s day), 30 for that day
    and later. PostgreSQL converts to the local date (DST-proof) and subtracts; elsewhere a
    CASE over the day starts does it."""
    if connection.vendor == "postgresql":
        first = timezone.localtime(starts[0]).date()
        local_day = '("warehouse_stockmove"."at" AT TIME ZONE %s)::date - %s::date'
        return RawSQL(  # noqa: S611 (constant SQL; the time zone and day are parameters)
            f"LEAST({local_day}, {HISTORY_DAYS})",
            [timezone.get_current_timezone_name(), first],
            output_field=IntegerField(),
        )
    return Case(
        *[When(at__gte=starts[k], then=Value(k)) for k in range(HISTORY_DAYS, 0, -1)],
        default=Value(0),
        output_field=IntegerField(),
    )


def ledger_query(*, starts: Sequence[datetime], warehouse_ids, sku_filter) -> tuple[str, list]:
    """One statement: per (SKU, warehouse) with moves since ``starts[0]``, units sold and
    out-of-stock days in each window, sellable on-hand now, the sum of sellable moves since
    ``starts[0]`` and the first day with moves (for the days before it).

    ``daily`` sums the moves per day; over each (SKU, warehouse) in day order, the end-of-day
    sellable on-hand is on-hand now − Σ net + the running Σ net (every move after the day
    taken back out), and ``nxt`` is the next day with moves: the days in between had that
    same on-hand and no sale."""
    moves = StockMove.objects.filter(
        at__gte=starts[0], location__warehouse_id__in=list(warehouse_ids)
    )
    levels = StockLevel.objects.filter(RESERVABLE_LEVELS).filter(
        location__warehouse_id__in=list(warehouse_ids)
    )
    if sku_filter is not None:
        moves = moves.filter(sku_id__in=sku_filter)
        levels = levels.filter(sku_id__in=sku_filter)
    daily = (
        moves.order_by()
        .annotate(s=F("sku_id"), w=F("location__warehouse_id"), d=_day_index(starts))
        .values("s", "w", "d")
        .annotate(
            net=Coalesce(Sum("quantity", filter=RESERVABLE_LEVELS), 0),
            sold=Coalesce(Sum(-F("quantity"), filter=Q(kind=StockMove.Kind.SHIPMENT)), 0),
        )
    )
    on_hand = (
        levels.order_by()
        .annotate(s=F("sku_id"), w=F("location__warehouse_id"))
        .values("s", "w")
        .annotate(units=Sum("on_hand"))
    )
    daily_sql, daily_params = daily.query.sql_with_params()
    level_sql, level_params = on_hand.query.sql_with_params()
    pair = "PARTITION BY daily.s, daily.w"
    columns = []
    for days in WINDOWS:
        low = _window_low(days)
        columns.append(
            f"CAST(SUM(CASE WHEN d >= {low} AND d < {HISTORY_DAYS} THEN sold ELSE 0 END)"
            f" AS INTEGER) AS sold_{days}"
        )
        columns.append(
            f"CAST(SUM(CASE WHEN d < {HISTORY_DAYS} AND eod <= 0 THEN {_oos_sql(low)} ELSE 0"
            f" END) AS INTEGER) AS oos_{days}"
        )
    sql = f"""
WITH daily AS ({daily_sql}),
lv AS ({level_sql}),
x AS (
  SELECT daily.s AS s, daily.w AS w, daily.d AS d, daily.net AS net, daily.sold AS sold,
         COALESCE(lv.units, 0) AS on_hand,
         COALESCE(lv.units, 0) - SUM(daily.net) OVER ({pair})
           + SUM(daily.net) OVER ({pair} ORDER BY daily.d) AS eod,
         COALESCE(LEAD(daily.d) OVER ({pair} ORDER BY daily.d), {HISTORY_DAYS}) AS nxt
  FROM daily LEFT JOIN lv ON lv.s = daily.s AND lv.w = daily.w
)
SELECT s, w, CAST(MIN(on_hand) - SUM(net) AS INTEGER) AS start_balance, MIN(d) AS first_d,
       {", ".join(columns)}
FROM x GROUP BY s, w"""  # noqa: S608 (only integers and the ORM's own SQL are interpolated)
    return sql, [*daily_params, *level_params]


NO_SALES = ((0, 0, 0), (0, 0, 0))
NEVER_IN_STOCK = ((0, 0, 0), WINDOWS)


def ledger_sales(
    *, starts, warehouse_ids, sku_filter
) -> dict[tuple[int, int], tuple[tuple, tuple]]:
    """{(SKU, warehouse): ((sold 7, 14, 30), (out-of-stock days 7, 14, 30))}."""
    sql, params = ledger_query(starts=starts, warehouse_ids=warehouse_ids, sku_filter=sku_filter)
    lows = [_window_low(days) for days in WINDOWS]
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for s, w, start_balance, first_d, s7, o7, s14, o14, s30, o30 in cursor.fetchall():
            if start_balance <= 0 and first_d:  # out of stock from the window's start on
                o7 += max(0, first_d - lows[0])
                o14 += max(0, first_d - lows[1])
                o30 += max(0, first_d - lows[2])
            out[(s, w)] = ((s7, s14, s30), (o7, o14, o30))
    return out


@lru_cache(maxsize=8192)
def _rate(sold: int, in_stock: int) -> Decimal | None:
    if in_stock <= 0:
        return None
    return (Decimal(sold) / in_stock).quantize(CENT, ROUND_HALF_UP)


def velocity_of(sold: tuple, oos: tuple, weights: tuple):
    """(rates, weights used, velocity) from the rounded rates the page shows."""
    rates = (
        _rate(sold[0], WINDOWS[0] - oos[0]),
        _rate(sold[1], WINDOWS[1] - oos[1]),
        _rate(sold[2], WINDOWS[2] - oos[2]),
    )
    if None not in rates:
        used = weights
    else:  # a window had no day in stock: its weight is shared out among the others
        kept = [w if r is not None else Decimal(0) for w, r in zip(weights, rates, strict=True)]
        total = sum(kept)
        if not total:
            return rates, (Decimal(0),) * 3, Decimal(0)
        used = tuple((w / total).quantize(CENT, ROUND_HALF_UP) for w in kept)
    raw = sum((w * r for w, r in zip(used, rates, strict=True) if r is not None), Decimal(0))
    return rates, used, raw.quantize(CENT, ROUND_HALF_UP)


# --- The other figures ----------------------------------------------------------------------


def stock_levels(*, warehouse_ids, sku_filter) -> dict[tuple[int, int], tuple[int, int]]:
    """{(SKU, warehouse): (available, sellable on-hand)}."""
    rows = StockLevel.objects.filter(location__warehouse_id__in=list(warehouse_ids))
    if sku_filter is not None:
        rows = rows.filter(sku_id__in=sku_filter)
    rows = (
        rows.order_by()
        .values_list("sku_id", "location__warehouse_id")
        .annotate(
            available=Coalesce(Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS), 0),
            sellable=Coalesce(Sum("on_hand", filter=RESERVABLE_LEVELS), 0),
        )
    )
    return {(s, w): (available, sellable) for s, w, available, sellable in rows}


def in_transit_quantities(*, warehouse_ids, sku_filter) -> dict[tuple[int, int], int]:
    """{(SKU, destination warehouse): shipped − received of transfers on the way}."""
    from warehouse.selectors import in_transit_lines

    lines = in_transit_lines().filter(transfer__destination_id__in=list(warehouse_ids))
    if sku_filter is not None:
        lines = lines.filter(sku_id__in=sku_filter)
    rows = (
        lines.order_by()
        .values_list("sku_id", "transfer__destination_id")
        .annotate(units=Sum(F("shipped_quantity") - F("received_quantity")))
    )
    return {(s, w): units for s, w, units in rows if units}


def purchase_quantities(*, warehouse_ids, sku_filter) -> dict[tuple[int, int], tuple[int, int]]:
    """{(SKU, warehouse): (on order, in drafts)}: on order = quantity − accepted − rejected of
    lines of purchase orders in ``OPEN_PO_STATES``; drafts are their lines' quantities."""
    open_qty = F("quantity") - F("received_qty") - F("rejected_qty")
    lines = PurchaseOrderLine.objects.filter(
        purchase_order__status__in=[*OPEN_PO_STATES, PurchaseOrderStatus.DRAFT],
        purchase_order__warehouse_id__in=list(warehouse_ids),
    )
    if sku_filter is not None:
        lines = lines.filter(sku_id__in=sku_filter)
    rows = (
        lines.order_by()
        .values_list("sku_id", "purchase_order__warehouse_id")
        .annotate(
            on_order=Coalesce(
                Sum(
                    Case(When(quantity__gt=F("received_qty") + F("rejected_qty"), then=open_qty)),
                    filter=Q(purchase_order__status__in=OPEN_PO_STATES),
                ),
                0,
            ),
            drafts=Coalesce(
                Sum("quantity", filter=Q(purchase_order__status=PurchaseOrderStatus.DRAFT)), 0
            ),
        )
    )
    return {(s, w): (on_order, drafts) for s, w, on_order, drafts in rows}


def open_po_quantities(*, sku_ids, warehouse_ids) -> dict[tuple[int, int], int]:
    """Units on order per (SKU, warehouse): the shape of ``warehouse.selectors``'s incoming
    providers (``register_incoming_provider(open_po_quantities)``)."""
    rows = purchase_quantities(warehouse_ids=warehouse_ids, sku_filter=list(sku_ids))
    return {key: on_order for key, (on_order, _drafts) in rows.items() if on_order}
