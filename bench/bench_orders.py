"""Orders at scale, on PostgreSQL, beside the raw limits of the same machine.

1. Import an Amazon "All Orders" TSV of 100,000 orders (≈2 lines each) with ``order_import``
   (parse, normalise, pair, review, upsert), against PostgreSQL ``COPY`` of the same order and
   line rows into the same tables. Goal: ≥ 15 % of the COPY rate. Then the same file again
   (every order unchanged).
2. Allocate 10,000 approved orders (1-3 lines, 1,000 SKUs with stock in 2 bins each) with
   ``orders_allocate``. Goal: ≥ 2,000 orders/s.

``bench_order_list.py`` measures the list with 1,000,000 orders.

Every row written belongs to stores and SKUs with a per-run prefix and is deleted at the end,
so a shared development database is safe (no TRUNCATE). Run ``python bench/run.py orders``.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ORDERS = int(os.environ.get("BENCH_ORDERS", 100_000))
ALLOCATE = 10_000
IMPORT_GOAL = 0.15
ALLOCATE_GOAL = 2_000

# the official column list, in order
COLUMNS = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
]
CITIES = [
    ("SEATTLE", "WA", "98101", "US"),
    ("Austin", "TX", "73301", "US"),
    ("Springfield", "IL", "62701", "US"),
    ("Toronto", "ON", "M5H 2N2", "CA"),
]


def amazon_tsv(prefix: str, skus: list[str], orders: int) -> bytes:
    """An All Orders report: one row per item, 1-3 items per order (≈2 on average)."""
    rnd = random.Random(7)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    out = ["\t".join(COLUMNS)]
    for i in range(orders):
        bought = start + timedelta(seconds=i * 7)
        updated = bought + timedelta(minutes=30)
        city, state, postcode, country = CITIES[i % len(CITIES)]
        for n in range(rnd.choice((1, 2, 3))):
            qty = rnd.choice((1, 1, 2, 3))
            price = Decimal(rnd.randint(500, 5000)) / 100 * qty
            row = {
                "amazon-order-id": f"{prefix}-{i:07d}",
                "purchase-date": bought.isoformat(),
                "last-updated-date": updated.isoformat(),
                "order-status": "Unshipped",
                "fulfillment-channel": "Merchant",
                "sales-channel": "Amazon.com",
                "ship-service-level": "Standard",
                "product-name": f"Stainless steel mug {n}",
                "sku": skus[(i + n) % len(skus)],
                "asin": f"B0{i % 99999:08d}",
                "item-status": "Unshipped",
                "quantity": str(qty),
                "currency": "USD",
                "item-price": f"{price:.2f}",
                "item-tax": f"{price * Decimal('0.08'):.2f}",
                "shipping-price": "4.99" if n == 0 else "0.00",
                "shipping-tax": "0.00",
                "ship-city": city,
                "ship-state": state,
                "ship-postal-code": postcode,
                "ship-country": country,
                "is-business-order": "false",
            }
            out.append("\t".join(row.get(c, "") for c in COLUMNS))
    return ("\n".join(out) + "\n").encode()


def _copy_rows(store, parsed_orders, pairing):
    """The order and line rows the import writes, as plain tuples for COPY."""
    from orders.services.upsert import _address, _header, _lines

    order_rows, line_rows = [], []
    for n in parsed_orders:
        values = {**_header(n, n.fingerprints()), **_address(n)}
        order_rows.append(values)
        line_rows.append([line.__dict__ for line in _lines(n, pairing)])
    return order_rows, line_rows


def copy_baseline(store, parsed_orders) -> float:
    """Seconds PostgreSQL COPY takes to write the same orders and lines (committed)."""
    from django.db import connection, transaction

    from erp.bulk import assign_pks
    from orders.models import Order, OrderLine
    from orders.services.review import PairingIndex

    pairing = PairingIndex(store, {ln.platform_sku for n in parsed_orders for ln in n.lines})
    orders, lines = _copy_rows(store, parsed_orders, pairing)
    now = datetime.now(UTC)
    order_fields = list(Order._meta.concrete_fields)
    line_fields = list(OrderLine._meta.concrete_fields)
    order_tuples, line_tuples = [], []
    dummies = [Order() for _ in orders]
    assign_pks(Order, dummies)  # ids drawn outside the timing, as COPY needs them given
    for dummy, values, order_lines in zip(dummies, orders, lines, strict=True):
        values = {
            **values,
            "id": dummy.pk,
            "store_id": store.pk,
            "external_id": f"copy-{dummy.pk}",
            "status": "new",
            "source": "file",
            "created_at": now,
            "updated_at": now,
        }
        order_tuples.append([values.get(f.attname, _default(f)) for f in order_fields])
        for line in order_lines:
            line = {**line, "order_id": dummy.pk}
            line_tuples.append([line.get(f.attname, _default(f)) for f in line_fields])
    dummy_lines = [OrderLine() for _ in line_tuples]
    assign_pks(OrderLine, dummy_lines)
    for row, dummy in zip(line_tuples, dummy_lines, strict=True):
        row[0] = dummy.pk
    qn = connection.ops.quote_name
    tables = (
        (Order, order_fields, order_tuples, "store_id = %s"),
        (OrderLine, line_fields, line_tuples, "order_id IN (SELECT id FROM orders_order "
         "WHERE store_id = %s)"),
    )  # fmt: skip
    # First write the rows once and read them back in COPY's own text format, so the timed
    # COPY below only streams ready bytes: the database's raw limit, not Python formatting.
    dumps = []
    with transaction.atomic(), connection.cursor() as cursor:
        for model, fields, rows, _where in tables:
            columns = ", ".join(qn(f.column) for f in fields)
            sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as cp:
                for row in rows:
                    cp.write_row(row)
        for model, fields, _rows, where in tables:
            columns = ", ".join(qn(f.column) for f in fields)
            table = qn(model._meta.db_table)
            query = f"COPY (SELECT {columns} FROM {table} WHERE {where}) TO STDOUT"
            with cursor.cursor.copy(query, [store.pk]) as cp:
                dumps.append(b"".join(bytes(chunk) for chunk in cp))
        for model, _fields, _rows, where in reversed(tables):
            cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {where}", [store.pk])
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for (model, fields, _rows, _where), data in zip(tables, dumps, strict=True):
            columns = ", ".join(qn(f.column) for f in fields)
            with cursor.cursor.copy(
                f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
            ) as cp:
                cp.write(data)
    return time.perf_counter() - started


def _default(field):
    value = field.get_default()
    return value


def main() -> None:
    import django
    from django.db import connection

    if not django.apps.apps.ready:
        django.setup()
    from orders.imports import order_import, parse_order_file
    from orders.models import Order, OrderEvent, OrderLine, Store
    from orders.services import orders_allocate
    from warehouse.models import Location, Reservation, Sku, StockLevel, StockMove, Warehouse

    if connection.vendor != "postgresql":
        print("bench_orders: needs PostgreSQL (DATABASE_URL)")
        return
    prefix = "B" + secrets.token_hex(3).upper()
    store = Store.objects.create(
        platform="amazon", code=prefix.lower(), name=prefix, currency="USD"
    )
    skus = Sku.objects.bulk_create(
        [Sku(code=f"{prefix}-{i:04d}", name=f"Bench mug {i}") for i in range(1000)]
    )
    try:
        data = amazon_tsv(prefix, [s.code for s in skus], ORDERS)
        _found, parsed = parse_order_file(store=store, data=data, filename="orders.tsv")
        copy_seconds = min(copy_baseline(store, parsed.orders) for _ in range(1))
        _delete_orders(Order, OrderLine, OrderEvent, store)
        copy_rate = ORDERS / copy_seconds
        started = time.perf_counter()
        result = order_import(store=store, data=data, filename="orders.tsv")
        import_seconds = time.perf_counter() - started
        assert result.created == ORDERS and result.failed == 0, result.summary()
        started = time.perf_counter()
        again = order_import(store=store, data=data, filename="orders.tsv")
        again_seconds = time.perf_counter() - started
        assert again.unchanged == ORDERS, again.summary()
        lines = OrderLine.objects.filter(order__store=store).count()
        print(f"   {ORDERS:,} orders, {lines:,} lines, TSV {len(data) / 1e6:.1f} MB")
        print(f"   PostgreSQL COPY of the same rows: {copy_rate:,.0f} orders/s")
        _report("import (create)", ORDERS / import_seconds, copy_rate)
        _report("re-import (unchanged)", ORDERS / again_seconds, copy_rate)

        # --- allocation -------------------------------------------------------------------
        # Autovacuum analyses a table after a large insert, within a minute; without fresh
        # statistics the planner takes the 200,000 new lines for a handful and scans them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order, orders_orderline")
        warehouse = Warehouse.objects.create(code=prefix, name=prefix, kind="own", country="CN")
        bins = Location.objects.bulk_create(
            [Location(warehouse=warehouse, code=f"A-{i}", pick_sequence=i) for i in range(2)]
        )
        StockLevel.objects.bulk_create(
            [StockLevel(sku=s, location=b, on_hand=10_000) for s in skus for b in bins]
        )
        StockMove.objects.bulk_create(
            [
                StockMove(
                    sku=s,
                    location=b,
                    quantity=10_000,
                    balance_after=10_000,
                    kind="receipt",
                    unit_cost=Decimal("1"),
                    reference=prefix,
                    at=datetime.now(UTC),
                )
                for s in skus
                for b in bins
            ]
        )
        ids = list(
            Order.objects.filter(store=store).order_by("pk").values_list("pk", flat=True)[:ALLOCATE]
        )
        # The report has no street or buyer name, so review holds every order for an
        # incomplete address; count them as reviewed and approved by a person.
        Order.objects.filter(pk__in=ids).update(status="approved", hold_reason="", hold_note="")
        started = time.perf_counter()
        allocated = orders_allocate(order_ids=ids)
        seconds = time.perf_counter() - started
        assert len(allocated.done) == ALLOCATE, list(allocated.failed.items())[:3]
        rate = ALLOCATE / seconds
        print(
            f"   allocate {ALLOCATE:,} approved orders: {rate:,.0f} orders/s "
            f"(goal ≥ {ALLOCATE_GOAL:,}: {'met' if rate >= ALLOCATE_GOAL else 'NOT met'})"
        )
    finally:
        refs = [
            f"order:{pk}" for pk in Order.objects.filter(store=store).values_list("pk", flat=True)
        ]
        Reservation.objects.filter(reference__in=refs).delete()
        _delete_orders(Order, OrderLine, OrderEvent, store)
        StockMove.objects.filter(sku__in=skus).delete()
        StockLevel.objects.filter(sku__in=skus).delete()
        Location.objects.filter(warehouse__code=prefix).delete()
        Warehouse.objects.filter(code=prefix).delete()
        Sku.objects.filter(code__startswith=f"{prefix}-").delete()
        store.delete()
        with connection.cursor() as cursor:
            for table in ("orders_order", "orders_orderline", "orders_orderevent"):
                cursor.execute(f"VACUUM ANALYZE {table}")


def _delete_orders(Order, OrderLine, OrderEvent, store) -> None:
    OrderEvent.objects.filter(order__store=store)._raw_delete(OrderEvent.objects.db)
    OrderLine.objects.filter(order__store=store)._raw_delete(OrderLine.objects.db)
    Order.tags.through.objects.filter(order__store=store).delete()
    Order.objects.filter(store=store)._raw_delete(Order.objects.db)


def _report(label: str, rate: float, copy_rate: float) -> None:
    share = rate / copy_rate
    verdict = "met" if share >= IMPORT_GOAL else "NOT met"
    print(
        f"   {label}: {rate:,.0f} orders/s = {share:.1%} of COPY "
        f"(goal ≥ {IMPORT_GOAL:.0%}: {verdict})"
    )


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    main()
