"""Reservations per second through ``stock_reserve`` against the raw SQL limit.

Goal (from the issue): the service reaches ≥ 50 % of the raw rate, for one hot SKU and for
1,000 SKUs spread.

Both sides run in 8 worker *processes* (multiprocessing, fork), each with its own database
connection, started together by a barrier and stopped after ``BENCH_SECONDS`` (5 s). Threads
would share one GIL and serialise the workers' Python, a limit real deployments (several
worker processes) do not have. Django runs with DEBUG off (no query log), as in production.
Each reservation is one transaction of 1 unit with its own reference:

- service: ``stock_reserve(warehouse=…, lines=[StockLine(sku, 1)], reference=…)``;
- raw: psycopg, ``UPDATE warehouse_stocklevel SET reserved = reserved + 1 WHERE id = %s AND
  on_hand - reserved >= 1`` then ``INSERT INTO warehouse_reservation …``, then ``COMMIT``.

Besides the rates it prints the CPU each side spends per reservation, in the client process
and in its PostgreSQL backend (read from ``/proc`` when the server is local): on a 2-CPU
machine the spread case is CPU-bound, so the ratio follows these costs.

Needs ``DATABASE_URL`` pointing at PostgreSQL. The bench writes its own warehouse, bin and SKUs
(codes start with a per-run prefix), receives their stock through ``stock_receive`` so the
ledger stays consistent, clears its reservations between runs, and deletes everything it wrote
at the end (then vacuums the tables), so a shared development database is left as it was.
Run ``python bench/run.py reserve`` or call ``main()``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import secrets
import time
from decimal import Decimal

from benchkit import raw_connection, setup_django

WORKERS = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
SPREAD_SKUS = 1000
GOAL = 0.50
STOCK = 10_000_000  # units per level: no run can exhaust it
# CPU per reservation in µs: the client process, the PostgreSQL backend (None when the server
# is not on this machine, so /proc cannot tell)
Cpu = tuple[float, float | None]

RAW_UPDATE = (
    "UPDATE warehouse_stocklevel SET reserved = reserved + 1 "
    "WHERE id = %s AND on_hand - reserved >= 1"
)
RAW_INSERT = (
    "INSERT INTO warehouse_reservation (stock_level_id, reference, quantity, created_at) "
    "VALUES (%s, %s, 1, now())"
)


def _worker(mode, wid, run_id, sku_ids, level_ids, warehouse_id, barrier, results):
    """One process: reserve 1 unit per transaction until the time is up; report the count."""
    from django.db import connection

    from warehouse.models import Sku, Warehouse
    from warehouse.services import StockLine, stock_reserve

    rnd = random.Random(wid)
    count = 0
    if mode == "service":
        skus = list(Sku.objects.filter(pk__in=sku_ids).order_by("pk"))
        warehouse = Warehouse.objects.get(pk=warehouse_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        barrier.wait(timeout=60)
        cpu = (time.process_time(), _backend_cpu(backend))
        end = time.perf_counter() + SECONDS
        while time.perf_counter() < end:
            stock_reserve(
                warehouse=warehouse,
                lines=[StockLine(rnd.choice(skus), 1)],
                reference=f"{run_id}:{wid}:{count}",
            )
            count += 1
        cpu = _cpu_spent(cpu, backend)
        connection.close()
    else:
        conn = raw_connection()
        cursor = conn.cursor()
        backend = conn.info.backend_pid
        barrier.wait(timeout=60)
        cpu = (time.process_time(), _backend_cpu(backend))
        end = time.perf_counter() + SECONDS
        while time.perf_counter() < end:
            level_id = rnd.choice(level_ids)
            cursor.execute(RAW_UPDATE, (level_id,))
            if cursor.rowcount != 1:
                raise RuntimeError(f"level {level_id} ran out of stock")
            cursor.execute(RAW_INSERT, (level_id, f"{run_id}:{wid}:{count}"))
            conn.commit()
            count += 1
        cpu = _cpu_spent(cpu, backend)
        conn.close()
    results.put((count, *cpu))


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of a PostgreSQL backend, when the server runs on this
    machine (``/proc/<pid>/stat``); None otherwise."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_spent(start: tuple[float, float | None], backend: int) -> tuple[float, float | None]:
    """Client and backend CPU seconds since ``start``; on the 2-CPU bench machine the
    spread case is CPU-bound, so these say where a reservation's cost is."""
    server = _backend_cpu(backend)
    return (
        time.process_time() - start[0],
        None if server is None or start[1] is None else server - start[1],
    )


def _measure(mode, run_id, sku_ids, level_ids, warehouse_id) -> tuple[float, Cpu]:
    """Reservations per second, and CPU per reservation (client, server; µs)."""
    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    args = (run_id, sku_ids, level_ids, warehouse_id, barrier, results)
    procs = [ctx.Process(target=_worker, args=(mode, w, *args)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=SECONDS + 120) for _ in procs]
    counts = [count for count, _client, _server in reports]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a {mode} worker failed (exit code {p.exitcode})")
    _check_and_reset(level_ids, expected=sum(counts))
    total = sum(counts) or 1
    server = [s for _c, _cl, s in reports]
    cpu = (
        1e6 * sum(client for _c, client, _s in reports) / total,
        None if None in server else 1e6 * sum(server) / total,
    )
    return sum(counts) / SECONDS, cpu


def _check_and_reset(level_ids, *, expected: int) -> None:
    """The run reserved exactly what the workers counted; then give it all back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(quantity), 0) FROM warehouse_reservation "
            "WHERE stock_level_id = ANY(%s)",
            [level_ids],
        )
        rows, units = cursor.fetchone()
        cursor.execute(
            "SELECT coalesce(sum(reserved), 0) FROM warehouse_stocklevel WHERE id = ANY(%s)",
            [level_ids],
        )
        reserved = cursor.fetchone()[0]
        if not rows == units == reserved == expected:
            raise RuntimeError(
                f"counted {expected} reservations, found {rows} rows / {units} units / "
                f"{reserved} reserved"
            )
        cursor.execute(
            "DELETE FROM warehouse_reservation WHERE stock_level_id = ANY(%s)", [level_ids]
        )
        cursor.execute(
            "UPDATE warehouse_stocklevel SET reserved = 0 WHERE id = ANY(%s)", [level_ids]
        )
    _vacuum()


def _vacuum() -> None:
    """Autovacuum may be off (it is on the project's machines): without this, each run would
    leave dead rows that slow the next one down."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) warehouse_reservation, warehouse_stocklevel")


def _create_world(prefix: str):
    from warehouse.models import Location, Sku, StockLevel, Warehouse
    from warehouse.services import stock_receive

    warehouse = Warehouse.objects.create(code=prefix, name=f"Bench {prefix}")
    location = Location.objects.create(warehouse=warehouse, code="BENCH-01", pick_sequence=1)
    skus = Sku.objects.bulk_create(
        [Sku(code=f"{prefix}-HOT", name="Bench hot SKU")]
        + [Sku(code=f"{prefix}-{i:04d}", name=f"Bench SKU {i}") for i in range(SPREAD_SKUS)]
    )
    for sku in skus:
        stock_receive(
            sku=sku, location=location, quantity=STOCK, unit_cost=Decimal("1"), reference=prefix
        )
    level_of = dict(StockLevel.objects.filter(location=location).values_list("sku_id", "pk"))
    hot, spread = skus[0], skus[1:]
    return (
        warehouse,
        ([hot.pk], [level_of[hot.pk]]),
        ([s.pk for s in spread], [level_of[s.pk] for s in spread]),
    )


def _cleanup(prefix: str) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM warehouse_warehouse WHERE code = %s", [prefix])
        row = cursor.fetchone()
        if row:
            locations = "SELECT id FROM warehouse_location WHERE warehouse_id = %s"
            levels = f"SELECT id FROM warehouse_stocklevel WHERE location_id IN ({locations})"
            cursor.execute(
                f"DELETE FROM warehouse_reservation WHERE stock_level_id IN ({levels})", row
            )
            # the ledger is append-only for the application; the bench removes its own moves
            cursor.execute(
                f"DELETE FROM warehouse_stockmove WHERE location_id IN ({locations})", row
            )
            cursor.execute(
                f"DELETE FROM warehouse_stocklevel WHERE location_id IN ({locations})", row
            )
            cursor.execute("DELETE FROM warehouse_location WHERE warehouse_id = %s", row)
            cursor.execute("DELETE FROM warehouse_warehouse WHERE id = %s", row)
        cursor.execute("DELETE FROM warehouse_sku WHERE code LIKE %s", [f"{prefix}-%"])
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) warehouse_reservation, warehouse_stocklevel, warehouse_stockmove, "
            "warehouse_sku"
        )


def _queries_per_call(warehouse, sku_id, level_ids) -> list[str]:
    """The statements one stock_reserve call sends, BEGIN and COMMIT included: the second
    call on the connection, as the workers' calls are (the first one also prepares)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from warehouse.models import Sku
    from warehouse.services import StockLine, stock_reserve

    sku = Sku.objects.get(pk=sku_id)
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="bench:q0")
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="bench:q")
    _check_and_reset(level_ids, expected=2)
    return [q["sql"] for q in ctx.captured_queries]


def _cpu_text(cpu: Cpu) -> str:
    client, server = cpu
    if server is None:
        return f"{client:,.0f} + ?"
    return f"{client:,.0f} + {server:,.0f} = {client + server:,.0f}"


def main() -> None:
    if not setup_django("bench_reserve"):
        return
    from django.conf import settings

    debug, settings.DEBUG = settings.DEBUG, False  # no query log, as in production
    try:
        _main()
    finally:
        settings.DEBUG = debug


def _main() -> None:
    from django.db import connection

    prefix = f"BENCHRES{secrets.token_hex(3).upper()}"
    rows = []
    try:
        warehouse, hot, spread = _create_world(prefix)
        _vacuum()
        queries = _queries_per_call(warehouse, hot[0][0], hot[1])
        for label, (sku_ids, level_ids) in (
            ("one hot SKU", hot),
            (f"{SPREAD_SKUS:,} SKUs spread", spread),
        ):
            rates, cpus = {}, {}
            for mode in ("service", "raw"):
                run_id = f"bench:{prefix}:{mode}"
                rates[mode], cpus[mode] = _measure(mode, run_id, sku_ids, level_ids, warehouse.pk)
            rows.append((label, rates["service"], rates["raw"], cpus["service"], cpus["raw"]))
    finally:
        _cleanup(prefix)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"Reservations per second: {WORKERS} worker processes, {SECONDS:g} s per run, 1 unit per "
        f"transaction; PostgreSQL {version}, {os.cpu_count()} CPUs "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'scenario':<20} {'service res/s':>14} {'raw res/s':>10} {'ratio':>7}  goal   met")
    for label, service, raw, _service_cpu, _raw_cpu in rows:
        ratio = service / raw
        met = "yes" if ratio >= GOAL else "no"
        print(f"  {label:<20} {service:>14,.0f} {raw:>10,.0f} {ratio:>7.1%}  ≥ {GOAL:.0%}  {met}")
    print("  CPU per reservation, µs (client process + PostgreSQL backend):")
    for label, _service, _raw, service_cpu, raw_cpu in rows:
        print(f"    {label:<20} service {_cpu_text(service_cpu)}   raw {_cpu_text(raw_cpu)}")
    print(
        f"  stock_reserve: {len(queries)} round trips per call (after the first call on a "
        "connection), BEGIN and COMMIT included (raw: 4)"
    )
    for sql in queries:
        print(f"    {sql[:110]}")


if __name__ == "__main__":
    main()
