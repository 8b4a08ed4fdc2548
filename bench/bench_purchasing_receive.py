"""Receiving a 500-line purchase order with ``po_receive``, against the raw statements any
receipt must run.

Goal (from the issue): receiving a 500-line purchase order takes ≤ 2 s.

The world: one warehouse with 20 bins, 500 SKUs (half of them already in stock, so the
moving-average cost is recalculated from existing stock for those), one supplier in USD (the
receipt converts at the day's rate) and, per run, a 500-line purchase order placed offline
with freight and fees spread over the lines. Each run receives every line in one call
(accepted quantity into a bin; every tenth line with a few rejected), committed.

Raw anchor: psycopg, in one transaction: lock the 500 SKUs and their levels ``FOR UPDATE`` in
pk order, ``COPY`` the same 500 stock moves, one ``UPDATE … FROM unnest`` of the levels, then
ROLLBACK: the minimum a receipt writes, with none of the per-line checks, costing, receipt
lines or order counters.

Needs ``DATABASE_URL`` pointing at PostgreSQL. Everything written is under a per-run prefix
and deleted at the end. Run ``python bench/run.py purchasing_receive`` or call ``main()``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from decimal import Decimal

from benchkit import raw_connection, setup_django

LINES = 500
BINS = 20
REPEATS = 3
GOAL_SECONDS = 2.0


def _create_world(prefix: str):
    from django.db import transaction
    from django.utils import timezone

    from erp.models import ExchangeRate
    from purchasing.models import Supplier
    from warehouse.models import Location, Sku, StockLevel, StockMove, Warehouse

    with transaction.atomic():
        warehouse = Warehouse.objects.create(code=prefix, name=f"Bench {prefix}")
        bins = Location.objects.bulk_create(
            Location(warehouse=warehouse, code=f"R-{i:02d}", pick_sequence=i) for i in range(BINS)
        )
        skus = Sku.objects.bulk_create(
            [
                Sku(code=f"{prefix}-{i:04d}", name=f"Bench SKU {i}", avg_cost=Decimal("4"))
                for i in range(LINES)
            ]
        )
        stocked = skus[::2]
        StockLevel.objects.bulk_create(
            StockLevel(sku=sku, location=bins[i % BINS], on_hand=50)
            for i, sku in enumerate(stocked)
        )
        StockMove.objects.bulk_create(
            StockMove(
                sku=sku,
                location=bins[i % BINS],
                quantity=50,
                balance_after=50,
                kind=StockMove.Kind.RECEIPT,
                unit_cost=Decimal("4"),
                reference=prefix,
                at=timezone.now(),
            )
            for i, sku in enumerate(stocked)
        )
        supplier = Supplier.objects.create(
            code=prefix, name=f"Bench supplier {prefix}", kind=Supplier.Kind.OFFLINE, currency="USD"
        )
        ExchangeRate.objects.get_or_create(
            date=timezone.localdate(), currency="USD", defaults={"rate_to_base": Decimal("7.1")}
        )
    return warehouse, bins, skus, supplier


def _purchase_order(warehouse, skus, supplier, seed: int):
    from purchasing.services import DraftLine, po_create, po_place_offline

    rnd = random.Random(seed)
    po = po_create(
        supplier=supplier,
        warehouse=warehouse,
        lines=[
            DraftLine(sku, rnd.randint(10, 200), Decimal(rnd.randint(100, 2000)) / 100)
            for sku in skus
        ],
        freight=Decimal("480.00"),
        other_fees=Decimal("35.50"),
    )
    return po_place_offline(po=po)


def _run(warehouse, bins, skus, supplier, seed: int) -> dict:
    from purchasing.models import PurchaseOrderLine
    from purchasing.services import ReceiveLine, po_receive

    po = _purchase_order(warehouse, skus, supplier, seed)
    rnd = random.Random(seed)
    lines = []
    for n, line in enumerate(PurchaseOrderLine.objects.filter(purchase_order=po).order_by("pk")):
        rejected = 2 if n % 10 == 0 else 0
        lines.append(
            ReceiveLine(
                po_line=line,
                accepted=line.quantity - rejected,
                rejected=rejected,
                location=rnd.choice(bins),
                reject_reason="bench" if rejected else "",
            )
        )
    start = time.perf_counter()
    receipt = po_receive(po=po, lines=lines)
    elapsed = time.perf_counter() - start
    po.refresh_from_db(fields=["status"])
    assert po.status == "received", po.status
    return {"seconds": elapsed, "lines": len(lines), "receipt": receipt.number}


def _raw(warehouse, skus) -> float:
    """Lock the SKUs and their levels in pk order, COPY one move per SKU, UPDATE the levels,
    in one transaction, rolled back; seconds until the last statement answered."""
    from django.utils import timezone

    ids = [sku.pk for sku in skus]
    conn = raw_connection()
    try:
        with conn.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(
                "SELECT id FROM warehouse_sku WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids]
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT sl.id, sl.sku_id, sl.location_id, sl.on_hand FROM warehouse_stocklevel sl "
                "WHERE sl.sku_id = ANY(%s) ORDER BY sl.id FOR UPDATE",
                [ids],
            )
            rows = cursor.fetchall()
            by_sku = {row[1]: row for row in rows}
            now = timezone.now()
            with cursor.copy(
                "COPY warehouse_stockmove (sku_id, location_id, quantity, balance_after, kind, "
                "unit_cost, reference, note, user_id, at) FROM STDIN"
            ) as copy:
                for sku_id in ids:
                    row = by_sku.get(sku_id)
                    location_id = row[2] if row else by_sku[next(iter(by_sku))][2]
                    on_hand = row[3] if row else 0
                    copy.write_row(
                        (
                            sku_id,
                            location_id,
                            10,
                            on_hand + 10,
                            "receipt",
                            "5.1",
                            "raw",
                            "raw",
                            None,
                            now,
                        )
                    )
            cursor.execute(
                "UPDATE warehouse_stocklevel sl SET on_hand = v.on_hand "
                "FROM unnest(%s::bigint[], %s::integer[]) AS v (id, on_hand) WHERE sl.id = v.id",
                [[r[0] for r in rows], [r[3] + 10 for r in rows]],
            )
            elapsed = time.perf_counter() - start
        conn.rollback()
    finally:
        conn.close()
    return elapsed


def _check_ledger(warehouse) -> None:
    from django.db.models import Sum

    from warehouse.models import StockLevel, StockMove

    for level in StockLevel.objects.filter(location__warehouse=warehouse):
        total = StockMove.objects.filter(sku_id=level.sku_id, location_id=level.location_id)
        assert total.aggregate(t=Sum("quantity"))["t"] == level.on_hand, level


def _cleanup(prefix: str) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM warehouse_warehouse WHERE code = %s", [prefix])
        warehouse = cursor.fetchone()
        cursor.execute("SELECT id FROM purchasing_supplier WHERE code = %s", [prefix])
        supplier = cursor.fetchone()
        if supplier:
            pos = "SELECT id FROM purchasing_purchaseorder WHERE supplier_id = %s"
            receipts = f"SELECT id FROM purchasing_receipt WHERE purchase_order_id IN ({pos})"
            cursor.execute(
                f"DELETE FROM purchasing_supplierreturn WHERE receipt_id IN ({receipts})", supplier
            )
            cursor.execute(
                f"DELETE FROM purchasing_receiptline WHERE receipt_id IN ({receipts})", supplier
            )
            cursor.execute(
                f"DELETE FROM purchasing_receipt WHERE purchase_order_id IN ({pos})", supplier
            )
            cursor.execute(
                f"DELETE FROM purchasing_purchaseorderline WHERE purchase_order_id IN ({pos})",
                supplier,
            )
            cursor.execute("DELETE FROM purchasing_purchaseorder WHERE supplier_id = %s", supplier)
            cursor.execute("DELETE FROM purchasing_supplier WHERE id = %s", supplier)
        if warehouse:
            locations = "SELECT id FROM warehouse_location WHERE warehouse_id = %s"
            # the ledger is append-only for the application; the bench removes its own moves
            cursor.execute(
                f"DELETE FROM warehouse_stockmove WHERE location_id IN ({locations})", warehouse
            )
            cursor.execute(
                f"DELETE FROM warehouse_stocklevel WHERE location_id IN ({locations})", warehouse
            )
            cursor.execute("DELETE FROM warehouse_location WHERE warehouse_id = %s", warehouse)
            cursor.execute("DELETE FROM warehouse_warehouse WHERE id = %s", warehouse)
        cursor.execute("DELETE FROM warehouse_sku WHERE code LIKE %s", [f"{prefix}-%"])


def main() -> None:
    if not setup_django("bench_purchasing_receive"):
        return
    from django.conf import settings

    debug, settings.DEBUG = settings.DEBUG, False  # no query log, as in production
    try:
        _main()
    finally:
        settings.DEBUG = debug


def _main() -> None:
    from django.db import connection

    prefix = f"BENCHPO{secrets.token_hex(3).upper()}"
    try:
        warehouse, bins, skus, supplier = _create_world(prefix)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE warehouse_stocklevel, warehouse_stockmove, warehouse_sku")
        runs = [_run(warehouse, bins, skus, supplier, seed=n) for n in range(REPEATS)]
        raws = [_raw(warehouse, skus) for _ in range(REPEATS)]
        _check_ledger(warehouse)
    finally:
        _cleanup(prefix)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    best = min(r["seconds"] for r in runs)
    median = statistics.median(r["seconds"] for r in runs)
    raw = min(raws)
    print(
        f"Receiving a {LINES}-line purchase order (po_receive, one call, committed); "
        f"PostgreSQL {version}, {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'lines':>6} {'best s':>7} {'median s':>9} {'raw s':>6} {'/raw':>6}  goal     met")
    met = "yes" if best <= GOAL_SECONDS else "no"
    print(
        f"  {LINES:>6} {best:>7.3f} {median:>9.3f} {raw:>6.3f} {best / raw:>5.1f}×  "
        f"≤ {GOAL_SECONDS:g} s   {met}"
    )
    print(
        "  best/median of runs, each a fresh order (half the SKUs already stocked, 1 line in 10 "
        "with rejects, USD at the day's rate). raw: lock SKUs + levels, COPY the moves, one "
        "UPDATE, rolled back (psycopg)."
    )


if __name__ == "__main__":
    main()
