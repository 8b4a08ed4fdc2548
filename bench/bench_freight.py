"""Freight quotes at scale, on PostgreSQL, beside the raw read of the same rows.

``logistics.services.quote_orders`` for 10,000 allocated orders (1-3 lines each, some of them
bundles) against 20 channels of 3 carriers with rate cards for 12 countries and ``*`` (5
weight bands each), some limited by country, origin warehouse, goods or size. Goal (the
issue's): ≥ 2,000 orders/s. Timed as one call over all orders and as calls of 1,000 (how
allocation's chunks call it).

The anchor is what the database alone costs: the same order, line, SKU and rate rows read
with plain psycopg SELECTs (no ORM, no arithmetic), so the gap between the two is the price
of Django and Python.

Every row written belongs to a store, SKUs, a warehouse and carriers with a per-run prefix and
is deleted at the end. Run ``python bench/run.py freight``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

ORDERS = int(os.environ.get("BENCH_FREIGHT_ORDERS", 10_000))
CHANNELS = 20
CHUNK = 1_000
GOAL = 2_000
RUNS = 3
COUNTRIES = ["US", "GB", "DE", "FR", "IT", "ES", "CA", "AU", "JP", "BR", "MX", "NL", "SE"]
BANDS = [(0, 500), (500, 1000), (1000, 2000), (2000, 5000), (5000, 30000)]


def _setup(prefix: str):
    from erp.bulk import build, copy_insert
    from logistics.models import Carrier, RateCardRow, ShippingChannel
    from orders.models import Order, OrderLine, Store
    from warehouse.models import BundleItem, Sku, Warehouse

    rnd = random.Random(11)
    store = Store.objects.create(
        platform="amazon", code=prefix.lower(), name=prefix, currency="USD"
    )
    warehouses = [
        Warehouse.objects.create(code=f"{prefix}-{i}", name=f"{prefix} {i}", kind="own")
        for i in range(2)
    ]
    skus = Sku.objects.bulk_create(
        Sku(
            code=f"{prefix}-{i:04d}",
            name=f"Bench item {i}",
            weight_g=rnd.randint(50, 1500),
            length_mm=rnd.randint(50, 400),
            width_mm=rnd.randint(30, 300),
            height_mm=rnd.randint(10, 200),
            declared_value_usd=Decimal(rnd.randint(100, 5000)) / 100,
            has_battery=i % 17 == 0,
            is_liquid=i % 23 == 0,
            is_magnetic=i % 29 == 0,
        )
        for i in range(1000)
    )
    bundles = Sku.objects.bulk_create(
        Sku(code=f"{prefix}-B{i:03d}", name=f"Bench bundle {i}", is_bundle=True) for i in range(50)
    )
    BundleItem.objects.bulk_create(
        BundleItem(bundle=bundle, component=skus[(i * 7 + n) % len(skus)], quantity=1 + n)
        for i, bundle in enumerate(bundles)
        for n in range(2)
    )
    carriers = [
        Carrier.objects.create(code=f"{prefix}-C{i}", name=f"Bench carrier {i}") for i in range(3)
    ]
    channels = []
    rows = []
    for i in range(CHANNELS):
        channel = ShippingChannel.objects.create(
            carrier=carriers[i % 3],
            code=f"{prefix}-CH{i:02d}",
            service_code=f"S{i}",
            name=f"Bench channel {i}",
            countries="" if i % 4 == 0 else " ".join(rnd.sample(COUNTRIES, 8)),
            max_weight_g=[2000, 5000, 30000][i % 3],
            max_value=Decimal(rnd.choice([50, 100, 400])) if i % 5 == 0 else None,
            max_side_mm=600 if i % 6 == 0 else None,
            allows_battery=i % 2 == 0,
            allows_liquid=i % 3 == 0,
            allows_magnetic=i % 4 != 1,
            volumetric_divisor=[0, 6000, 8000][i % 3],
            currency="CNY" if i % 5 else "USD",
        )
        if i % 7 == 3:
            channel.warehouses.set([warehouses[0]])
        channels.append(channel)
        for country in [*COUNTRIES, "*"]:
            for low, high in BANDS:
                rows.append(
                    RateCardRow(
                        channel=channel,
                        country=country,
                        weight_from_g=low,
                        weight_to_g=high,
                        first_weight_g=min(100, high),
                        first_price=Decimal(rnd.randint(1000, 9000)) / 100,
                        additional_unit_g=rnd.choice([1, 10, 50, 100]),
                        additional_price=Decimal(rnd.randint(1, 900)) / 10000,
                        registration_fee=Decimal(rnd.randint(0, 2500)) / 100,
                        fuel_surcharge_pct=Decimal(rnd.choice([0, 5, 12.5, 18])),
                        minimum_charge=Decimal(rnd.choice([0, 0, 15, 30])),
                    )
                )
    RateCardRow.objects.bulk_create(rows, batch_size=2000)

    now = datetime(2026, 10, 1, tzinfo=UTC)
    orders = [
        build(
            Order,
            {
                "store_id": store.pk,
                "external_id": f"{prefix}-{i:06d}",
                "status": "allocated",
                "source": "file",
                "purchased_at": now,
                "platform_updated_at": now,
                "ship_country": COUNTRIES[i % len(COUNTRIES)] if i % 50 else "ZA",
                "ship_service": "Expedited" if i % 9 == 0 else "Standard",
                "currency": "USD",
                "total": Decimal(rnd.randint(500, 20000)) / 100,
                "warehouse_id": warehouses[i % 2].pk,
            },
        )
        for i in range(ORDERS)
    ]
    copy_insert(Order, orders)
    lines = []
    for order in orders:
        for n in range(rnd.choice((1, 1, 2, 3))):
            sku = bundles[rnd.randrange(len(bundles))] if rnd.random() < 0.05 else rnd.choice(skus)
            lines.append(
                build(
                    OrderLine,
                    {
                        "order_id": order.pk,
                        "external_line_id": str(n + 1),
                        "platform_sku": sku.code,
                        "quantity": rnd.choice((1, 1, 2)),
                        "sku_id": sku.pk,
                        "sku_quantity": 1,
                    },
                )
            )
    copy_insert(OrderLine, lines)
    return store, [o.pk for o in orders], len(lines), channels


def _raw_read_seconds(order_ids: list[int], channel_ids: list[int]) -> float:
    """The same rows quote_orders reads, through plain psycopg: the database's floor."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor itself
        cursor.execute(
            "SELECT o.id, o.ship_country, o.total, o.currency, o.store_id, s.platform, "
            "o.warehouse_id, w.code, o.ship_service FROM orders_order o "
            "JOIN orders_store s ON s.id = o.store_id "
            "LEFT JOIN warehouse_warehouse w ON w.id = o.warehouse_id WHERE o.id = ANY(%s)",
            [order_ids],
        )
        cursor.fetchall()
        cursor.execute(
            "SELECT l.order_id, l.quantity, l.sku_quantity, l.sku_id, k.is_bundle, k.weight_g, "
            "k.length_mm, k.width_mm, k.height_mm, k.declared_value_usd, k.has_battery, "
            "k.is_liquid, k.is_magnetic FROM orders_orderline l "
            "JOIN warehouse_sku k ON k.id = l.sku_id WHERE l.order_id = ANY(%s)",
            [order_ids],
        )
        cursor.fetchall()
        cursor.execute(
            "SELECT * FROM logistics_ratecardrow WHERE channel_id = ANY(%s)", [channel_ids]
        )
        cursor.fetchall()
    return time.perf_counter() - started


def _cleanup(prefix: str, store) -> None:
    from django.db import connection

    from logistics.models import Carrier, RateCardRow, ShippingChannel
    from orders.models import Order, OrderLine
    from warehouse.models import BundleItem, Sku, Warehouse

    if store is not None:
        OrderLine.objects.filter(order__store=store)._raw_delete(OrderLine.objects.db)
        Order.objects.filter(store=store)._raw_delete(Order.objects.db)
        store.delete()
    RateCardRow.objects.filter(channel__code__startswith=f"{prefix}-").delete()
    ShippingChannel.objects.filter(code__startswith=f"{prefix}-").delete()
    Carrier.objects.filter(code__startswith=f"{prefix}-").delete()
    BundleItem.objects.filter(bundle__code__startswith=f"{prefix}-").delete()
    Sku.objects.filter(code__startswith=f"{prefix}-").delete()
    Warehouse.objects.filter(code__startswith=f"{prefix}-").delete()
    with connection.cursor() as cursor:
        for table in ("orders_order", "orders_orderline", "logistics_ratecardrow"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    import django
    from django.db import connection

    if not django.apps.apps.ready:
        django.setup()
    from logistics.services import quote_orders
    from logistics.services.quotes import channel_queryset

    if connection.vendor != "postgresql":
        print("bench_freight: needs PostgreSQL (DATABASE_URL)")
        return
    prefix = "F" + secrets.token_hex(3).upper()
    store = None
    try:
        store, ids, line_count, channels = _setup(prefix)
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE orders_order, orders_orderline, warehouse_sku, logistics_ratecardrow"
            )
        print(
            f"   {ORDERS:,} orders, {line_count:,} lines, {CHANNELS} channels, "
            f"{len(COUNTRIES)} countries + * × {len(BANDS)} bands"
        )
        channel_ids = [c.pk for c in channels]
        raw = min(_raw_read_seconds(ids, channel_ids) for _ in range(RUNS))
        print(f"   raw psycopg SELECT of the same rows: {ORDERS / raw:,.0f} orders/s ({raw:.3f} s)")

        def bench_channels():
            return list(channel_queryset().filter(pk__in=channel_ids).order_by("code"))

        whole, chunked = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            result = quote_orders(ids, channels=bench_channels())
            whole.append(time.perf_counter() - started)
            assert len(result) == ORDERS
            started = time.perf_counter()
            for start in range(0, len(ids), CHUNK):
                quote_orders(ids[start : start + CHUNK], channels=bench_channels())
            chunked.append(time.perf_counter() - started)
        quotes = [q for qs in result.values() for q in qs]
        eligible = sum(q.eligible for q in quotes)
        per_order = statistics.mean(sum(q.eligible for q in qs) for qs in result.values())
        print(
            f"   {len(quotes):,} quotes, {eligible:,} eligible ({eligible / len(quotes):.0%}); "
            f"{per_order:.1f} eligible channels per order"
        )
        for label, seconds in (("one call", min(whole)), (f"calls of {CHUNK:,}", min(chunked))):
            rate = ORDERS / seconds
            verdict = "met" if rate >= GOAL else "NOT met"
            print(
                f"   quote_orders, {label}: {rate:,.0f} orders/s ({seconds:.2f} s, "
                f"{seconds / raw:.1f}× the raw read) (goal ≥ {GOAL:,}: {verdict})"
            )
    finally:
        _cleanup(prefix, store)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    main()
