"""Restock suggestions at scale, beside the SQL aggregate alone.

The world: 20,000 SKUs in 3 warehouses (own in China, an overseas 3PL, FBA), 1,000,000
shipment moves over the last 30 days (about 17 per SKU and warehouse, on random days; a
quarter of the pairs sold out some days ago and stayed out), one receipt per pair before
them, stock levels equal to the ledger, an offer per SKU with price tiers, 2,000 open
purchase-order lines and 1,000 transfer lines in transit. Written with ``COPY`` straight
into the tables (not through the services: their per-move cost is not what is measured).

Measured: ``restock_suggestions`` over everything (only needed rows, and all rows), against
the one ledger statement it runs (``ledger_query``: the GROUP BY with the out-of-stock days)
executed and fetched alone. Goal (from the issue): ≤ 10 s.

Needs ``DATABASE_URL`` pointing at PostgreSQL. Everything is written under a per-run prefix
and deleted at the end (then vacuumed). ``python bench/run.py restock``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from benchkit import setup_django

SKUS = int(os.environ.get("BENCH_RESTOCK_SKUS", 20_000))
MOVES = int(os.environ.get("BENCH_RESTOCK_MOVES", 1_000_000))
BINS = 10
REPEATS = 3
GOAL_SECONDS = 10.0


def _copy(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _ids(table: str, where: str, params) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY id", params)
        return [row[0] for row in cursor.fetchall()]


def _create_world(prefix: str) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from purchasing.models import PurchaseOrder, Supplier
    from warehouse.models import Location, Transfer, Warehouse

    rnd = random.Random(11)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        warehouses = [
            Warehouse.objects.create(
                code=f"{prefix}-CN", name="Bench CN", kind="own", country="CN"
            ),
            Warehouse.objects.create(
                code=f"{prefix}-US", name="Bench US", kind="overseas", country="US"
            ),
            Warehouse.objects.create(
                code=f"{prefix}-FBA", name="Bench FBA", kind="fba", country="US"
            ),
        ]
        bins = {
            w.pk: Location.objects.bulk_create(
                Location(warehouse=w, code=f"B-{i:02d}", pick_sequence=i) for i in range(BINS)
            )
            for w in warehouses
        }
        supplier = Supplier.objects.create(code=prefix, name="Bench supplier", lead_days=4)
        _copy(
            "warehouse_sku",
            [
                "code", "name", "name_zh", "barcode", "weight_g", "length_mm", "width_mm",
                "height_mm", "declared_name_en", "declared_name_zh", "hs_code",
                "declared_value_usd", "has_battery", "is_liquid", "is_magnetic", "is_bundle",
                "low_stock_threshold", "avg_cost", "is_active", "created_at", "updated_at",
            ],
            (
                (f"{prefix}-{i:05d}", f"Bench SKU {i}", f"测试商品 {i}", "", 100, 0, 0, 0, "",
                 "", "", Decimal("1"), False, False, False, False, 0, Decimal("3.5"), True, now,
                 now)
                for i in range(SKUS)
            ),
        )  # fmt: skip
        sku_ids = _ids("warehouse_sku", "code LIKE %s", [f"{prefix}-%"])
        _copy(
            "purchasing_supplierproduct",
            ["supplier_id", "sku_id", "offer_id", "spec_id", "sku_id_1688", "spec_name", "url",
             "price_tiers", "moq", "pack_qty", "lead_days", "is_preferred"],
            (
                (supplier.pk, sku_id, "", "", "", "", "",
                 '[[1, "5.00"], [100, "4.60"], [500, "4.20"]]', 20, rnd.choice((1, 5, 10)),
                 None, True)
                for sku_id in sku_ids
            ),
        )  # fmt: skip

        # the ledger: per (SKU, warehouse) a receipt 31 days ago, then shipments on random days
        pairs = [(s, w.pk) for s in sku_ids for w in warehouses]
        per_pair = MOVES // len(pairs)
        extra = MOVES - per_pair * len(pairs)
        start = timezone.make_aware(datetime.combine(today - timedelta(days=30), clock(0)))
        receipt_at = start - timedelta(days=1)
        moves, levels = [], []
        for n, (sku_id, warehouse_id) in enumerate(pairs):
            count = per_pair + (1 if n < extra else 0)
            sold_out = rnd.random() < 0.25  # the last sale some days ago; out of stock since
            last_day = rnd.randint(15, 27) if sold_out else 29
            days = sorted(rnd.randint(0, last_day) for _ in range(count))
            quantities = [rnd.choice((1, 1, 1, 2, 3)) for _ in days]
            left = 0 if sold_out else rnd.randint(0, 60)
            location_id = bins[warehouse_id][sku_id % BINS].pk
            balance = sum(quantities) + left
            moves.append((sku_id, location_id, balance, balance, "receipt", receipt_at))
            for day, quantity in zip(days, quantities, strict=True):
                balance -= quantity
                at = start + timedelta(days=day, seconds=rnd.randint(28_800, 72_000))
                moves.append((sku_id, location_id, -quantity, balance, "shipment", at))
            levels.append((sku_id, location_id, left, 0))
        _copy(
            "warehouse_stockmove",
            ["sku_id", "location_id", "quantity", "balance_after", "kind", "at", "unit_cost",
             "reference", "note"],
            ((*m, Decimal("3.5"), prefix, "") for m in moves),
        )  # fmt: skip
        _copy("warehouse_stocklevel", ["sku_id", "location_id", "on_hand", "reserved"], levels)

        # what is on its way: open purchase orders to CN, transfers in transit to US
        po = PurchaseOrder.objects.create(
            number=f"{prefix}-PO", supplier=supplier, warehouse=warehouses[0], status="ordered"
        )
        _copy(
            "purchasing_purchaseorderline",
            ["purchase_order_id", "sku_id", "quantity", "unit_price", "received_qty",
             "rejected_qty", "note"],
            ((po.pk, sku_id, 100, Decimal("5"), 0, 0, "") for sku_id in sku_ids[:: SKUS // 2000]),
        )  # fmt: skip
        transfer = Transfer.objects.create(
            number=f"{prefix}-TR",
            source=warehouses[0],
            destination=warehouses[1],
            status="shipped",
        )
        source_bin = bins[warehouses[0].pk][0].pk
        _copy(
            "warehouse_transferline",
            ["transfer_id", "sku_id", "source_location_id", "quantity", "shipped_quantity",
             "received_quantity", "unit_cost", "unit_freight", "discrepancy_note"],
            (
                (transfer.pk, sku_ids[i], source_bin, 30, 30, 0, Decimal("3.5"), Decimal("1"), "")
                for i in range(0, SKUS, SKUS // 1000)
            ),
        )  # fmt: skip
    _vacuum()
    return {"warehouses": [w.pk for w in warehouses], "moves": len(moves), "pairs": len(pairs)}


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) warehouse_stockmove, warehouse_stocklevel, warehouse_sku, "
            "warehouse_location, purchasing_supplierproduct, purchasing_purchaseorderline, "
            "warehouse_transferline"
        )


def _sql_alone(warehouse_ids) -> tuple[float, int]:
    from django.db import connection
    from django.utils import timezone

    from purchasing.services.restock_data import day_starts, ledger_query

    started = time.perf_counter()
    sql, params = ledger_query(
        starts=day_starts(timezone.now()), warehouse_ids=warehouse_ids, sku_filter=None
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return time.perf_counter() - started, len(rows)


def _suggest(warehouse_ids, *, only_needed: bool) -> tuple[float, int, int]:
    from django.db import connection, reset_queries

    from purchasing.services.restock import restock_suggestions

    reset_queries()
    started = time.perf_counter()
    rows = restock_suggestions(warehouse_ids=warehouse_ids, only_needed=only_needed)
    seconds = time.perf_counter() - started
    queries = len(connection.queries)
    return seconds, len(rows), queries


def _cleanup(prefix: str) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        warehouses = "SELECT id FROM warehouse_warehouse WHERE code LIKE %s"
        locations = f"SELECT id FROM warehouse_location WHERE warehouse_id IN ({warehouses})"
        like = [f"{prefix}-%"]
        cursor.execute(
            "DELETE FROM warehouse_transferline WHERE transfer_id IN "
            "(SELECT id FROM warehouse_transfer WHERE number LIKE %s)",
            like,
        )
        cursor.execute("DELETE FROM warehouse_transfer WHERE number LIKE %s", like)
        cursor.execute(
            "DELETE FROM purchasing_purchaseorderline WHERE purchase_order_id IN "
            "(SELECT id FROM purchasing_purchaseorder WHERE number LIKE %s)",
            like,
        )
        cursor.execute("DELETE FROM purchasing_purchaseorder WHERE number LIKE %s", like)
        # the ledger is append-only for the application; the bench removes its own moves
        cursor.execute(f"DELETE FROM warehouse_stockmove WHERE location_id IN ({locations})", like)
        cursor.execute(f"DELETE FROM warehouse_stocklevel WHERE location_id IN ({locations})", like)
        cursor.execute(f"DELETE FROM warehouse_location WHERE warehouse_id IN ({warehouses})", like)
        cursor.execute("DELETE FROM warehouse_warehouse WHERE code LIKE %s", like)
        cursor.execute(
            "DELETE FROM purchasing_supplierproduct WHERE supplier_id IN "
            "(SELECT id FROM purchasing_supplier WHERE code = %s)",
            [prefix],
        )
        cursor.execute("DELETE FROM purchasing_supplier WHERE code = %s", [prefix])
        cursor.execute("DELETE FROM warehouse_sku WHERE code LIKE %s", like)
    _vacuum()


def main() -> None:
    if not setup_django("bench_restock"):
        return
    from django.conf import settings

    debug, settings.DEBUG = settings.DEBUG, True  # count the queries (the log is reset each run)
    try:
        _main()
    finally:
        settings.DEBUG = debug


def _main() -> None:
    from django.db import connection

    prefix = f"BRS{secrets.token_hex(3).upper()}"
    try:
        started = time.perf_counter()
        world = _create_world(prefix)
        built = time.perf_counter() - started
        warehouse_ids = world["warehouses"]
        _sql_alone(warehouse_ids)  # warm the caches once
        sql_runs = [_sql_alone(warehouse_ids) for _ in range(REPEATS)]
        needed_runs = [_suggest(warehouse_ids, only_needed=True) for _ in range(REPEATS)]
        all_runs = [_suggest(warehouse_ids, only_needed=False) for _ in range(REPEATS)]
    finally:
        _cleanup(prefix)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    sql = min(s for s, _ in sql_runs)
    print(
        f"Restock suggestions: {SKUS:,} SKUs × 3 warehouses, {world['moves']:,} ledger moves "
        f"({MOVES:,} shipments) over 30 days; PostgreSQL {version}, {os.cpu_count()} CPUs "
        f"(load {os.getloadavg()[0]:.1f}); world written in {built:.0f} s"
    )
    print(f"  {'run':<34} {'rows':>7} {'queries':>7} {'best s':>7} {'median s':>8}  goal     met")
    print(
        f"  {'SQL ledger aggregate alone':<34} {sql_runs[0][1]:>7,} {1:>7} {sql:>7.2f} "
        f"{statistics.median(s for s, _ in sql_runs):>8.2f}"
    )
    for label, runs in (("restock_suggestions (needed)", needed_runs), ("… (all rows)", all_runs)):
        best = min(s for s, _, _ in runs)
        met = "yes" if best <= GOAL_SECONDS else "no"
        print(
            f"  {label:<34} {runs[0][1]:>7,} {runs[0][2]:>7} {best:>7.2f} "
            f"{statistics.median(s for s, _, _ in runs):>8.2f}  ≤ {GOAL_SECONDS:g} s   {met}"
        )
    print(
        "  The rest of restock_suggestions over the aggregate: six GROUP BYs (levels, transit, "
        "orders, SKUs, offers, warehouses) and the arithmetic in Python."
    )


if __name__ == "__main__":
    main()
