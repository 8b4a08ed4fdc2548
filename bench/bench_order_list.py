"""The order list with 1,000,000 orders in the table: API and page, 50 per page.

Generates the orders (2 lines each, statuses as in a real store's history: mostly shipped)
with one INSERT ... SELECT from generate_series, then requests the list in-process through
Django's test client, as a signed-in user who sees every store (the widest query): the first
page of each status tab, later pages, a country filter, searches by order id and by platform
SKU. Prints the median and p99 latency and the queries per request of the API list, the page,
the page's tab counts (a request of its own) and the API counts. Goal: p99 ≤ 100 ms with a
constant query count.

Rows belong to a per-run store and are deleted at the end. ``python bench/run.py list``.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time

ORDERS = int(os.environ.get("BENCH_LIST_ORDERS", 1_000_000))
ROUNDS = 3  # each request list is run this many times; the first round warms the caches
GOAL_MS = 100

# status, share of all orders (a store's history: most orders are long shipped)
STATUS_MIX = [
    ("shipped", 0.86),
    ("cancelled", 0.04),
    ("platform", 0.03),
    ("new", 0.02),
    ("on_hold", 0.01),
    ("approved", 0.01),
    ("allocated", 0.02),
    ("out_of_stock", 0.01),
]


def _status_sql() -> str:
    """A CASE over (i % 100) giving each status its share."""
    cases, start = [], 0
    for status, share in STATUS_MIX:
        end = start + round(share * 100)
        cases.append(f"WHEN i % 100 < {end} THEN '{status}'")
        start = end
    return "CASE " + " ".join(cases) + " ELSE 'shipped' END"


def generate(store_id: int, sku_ids: list[int]) -> None:
    from django.db import connection

    from orders.models import Order, OrderLine

    expressions = {
        "store_id": "%(store)s",
        "external_id": "'L' || lpad(i::text, 8, '0')",
        "status": _status_sql(),
        "hold_reason": f"CASE WHEN ({_status_sql()}) = 'on_hold' THEN 'unpaired_sku' ELSE '' END",
        "source": "'file'",
        "platform_status": "'Shipped'",
        "purchased_at": "now() - (i || ' minutes')::interval",
        "platform_updated_at": "now() - (i || ' minutes')::interval",
        "buyer_name": "'Buyer ' || (i % 50000)",
        "buyer_email": "'buyer' || (i % 50000) || '@example.com'",
        "ship_name": "'Buyer ' || (i % 50000)",
        "ship_address1": "(i % 999) || ' Main St'",
        "ship_city": "'Springfield'",
        "ship_postcode": "'62701'",
        "ship_country": "(ARRAY['US','DE','GB','FR','JP','AU','CA','ES'])[1 + i % 8]",
        "currency": "'USD'",
        "subtotal": "(i % 90) + 9.99",
        "total": "(i % 90) + 14.98",
        "created_at": "now()",
        "updated_at": "now()",
    }
    columns, values, params = [], [], {"store": store_id}
    for field in Order._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in expressions:
            expression = expressions[field.attname]
            # a literal % is written %% beside the %(name)s parameters
            values.append(expression if "%(" in expression else expression.replace("%", "%%"))
        else:
            params[field.attname] = field.get_default()
            values.append(f"%({field.attname})s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO orders_order ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM generate_series(1, {ORDERS}) AS i",
            params,
        )
        line_values = {
            "order_id": "o.id",
            "external_line_id": "n::text",
            "platform_sku": "'PSKU-' || ((o.id + n) %% %(skus)s)",
            "platform_item_id": "''",
            "title": "'Stainless steel mug'",
            "quantity": "1 + n",
            "unit_price": "9.99",
            "line_total": "9.99 * (1 + n)",
            "sku_id": "(%(sku_ids)s::bigint[])[1 + (o.id + n) %% %(skus)s]",
            "sku_quantity": "1",
            "origin_order_id": "NULL",
        }
        line_columns = [f.column for f in OrderLine._meta.concrete_fields if not f.primary_key]
        cursor.execute(
            f"INSERT INTO orders_orderline ({', '.join(line_columns)}) "
            f"SELECT {', '.join(line_values[c] for c in line_columns)} "
            f"FROM orders_order o CROSS JOIN generate_series(0, 1) AS n "
            f"WHERE o.store_id = %(store)s",
            {"store": store_id, "skus": len(sku_ids), "sku_ids": sku_ids},
        )
        # what autovacuum does after a bulk insert (visibility map for index-only counts)
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")


def measure(client, urls: list[str]) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries, slowest = [], [], {}
    for round_ in range(ROUNDS):
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if round_:  # the first round warms PostgreSQL's and Django's caches
                timings.append(elapsed)
                queries.append(len(captured))
                slowest[url] = max(slowest.get(url, 0), elapsed)
    worst = sorted(slowest.items(), key=lambda item: -item[1])[:2]
    print("      slowest: " + ", ".join(f"{url} {ms:.0f} ms" for url, ms in worst))
    return timings, queries


def report(label: str, timings: list[float], queries: list[int]) -> None:
    timings = sorted(timings)
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    verdict = "met" if p99 <= GOAL_MS else "NOT met"
    print(
        f"   {label}: median {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms "
        f"(goal ≤ {GOAL_MS} ms: {verdict}); queries per request {min(queries)}-{max(queries)}"
    )


def main() -> None:
    import django

    if not django.apps.apps.ready:
        django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from erp.models import User
    from orders.models import Order, OrderEvent, OrderLine, Store
    from warehouse.models import Sku

    if connection.vendor != "postgresql":
        print("bench_order_list: needs PostgreSQL (DATABASE_URL)")
        return
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    prefix = "L" + secrets.token_hex(3).upper()
    store = Store.objects.create(
        platform="amazon", code=prefix.lower(), name=prefix, currency="USD"
    )
    skus = Sku.objects.bulk_create(
        [Sku(code=f"{prefix}-{i:03d}", name=f"Bench mug {i}") for i in range(200)]
    )
    user = User.objects.create_superuser(f"{prefix.lower()}-admin", password=secrets.token_hex(8))
    try:
        started = time.perf_counter()
        generate(store.pk, [s.pk for s in skus])
        total = Order.objects.count()
        print(
            f"   generated {ORDERS:,} orders ({total:,} in the table) in "
            f"{time.perf_counter() - started:.0f} s"
        )
        client = Client()
        client.force_login(user)
        some_id = f"L{ORDERS // 2:08d}"
        cases = [
            "",
            "?status=new",
            "?status=on_hold",
            "?status=allocated",
            "?status=shipped",
            "?status=shipped&page=20",
            "?page=100",
            "?country=DE",
            f"?q={some_id}",
            "?q=PSKU-7",  # a platform SKU prefix: matches on lines
            "?status=new&ordering=purchased_at",
        ]  # (sorting the whole history by total or store is not index-served: not measured)
        for label, base in (
            ("API /api/v1/orders/", "/api/v1/orders/"),
            ("page /orders/", "/orders/"),
            # the page's tab counts, which it loads right after it is shown
            ("page's tab counts /orders/tab-counts/", "/orders/tab-counts/"),
            ("API /api/v1/orders/counts/", "/api/v1/orders/counts/"),
        ):
            timings, queries = measure(client, [base + c for c in cases])
            report(label, timings, queries)
    finally:
        with connection.cursor() as cursor:
            for model, where in (
                (OrderEvent, "order_id IN (SELECT id FROM orders_order WHERE store_id = %s)"),
                (OrderLine, "order_id IN (SELECT id FROM orders_order WHERE store_id = %s)"),
                (Order, "store_id = %s"),
            ):
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {where}", [store.pk])
        Sku.objects.filter(pk__in=[s.pk for s in skus]).delete()
        user.delete()
        store.delete()
        with connection.cursor() as cursor:
            for table in ("orders_order", "orders_orderline"):
                cursor.execute(f"VACUUM ANALYZE {table}")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    main()
