"""Race tests of the stock services on real PostgreSQL (skipped on SQLite).

Each worker is a thread with its own database connection; a barrier starts them together.
Committed data (``transaction=True``) lets the workers see what the test set up.
"""

import random
import threading
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.db.models import Sum

from tests.factories import LocationFactory, SkuFactory, WarehouseFactory
from warehouse.models import Reservation, Sku, StockLevel, StockMove
from warehouse.services import (
    COST_QUANTUM,
    InsufficientStock,
    StockError,
    StockLine,
    stock_adjust,
    stock_consume,
    stock_move,
    stock_receive,
    stock_release,
    stock_reserve,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 120  # seconds; a hung worker fails the test instead of hanging the suite


def race(workers: int, work) -> list:
    """Run ``work(i)`` in ``workers`` threads that start together; return each one's result
    or the exception it raised, by worker index."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(i: int) -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                # wait for a lock at most this long: a lock-order bug fails, it does not hang
                cursor.execute("SET lock_timeout = '30s'")
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results


def assert_no_database_errors(results) -> None:
    """A deadlock, lock timeout or CHECK violation is a DatabaseError: never acceptable."""
    errors = [r for r in results if isinstance(r, DatabaseError | AssertionError)]
    assert errors == []


def assert_stock_clean() -> None:
    call_command("check_stock")  # raises SystemExit(1) on drift
    for level in StockLevel.objects.all():
        assert 0 <= level.reserved <= level.on_hand, level


@pytest.fixture
def world():
    warehouse = WarehouseFactory(code="SZ", name="Shenzhen")
    bins = [
        LocationFactory(warehouse=warehouse, code=f"A-0{i}", pick_sequence=i * 10)
        for i in range(1, 4)
    ]
    return warehouse, bins


def test_16_workers_reserve_the_last_10_units(world):
    """Given 10 units over two bins; when 16 workers each reserve 1 at the same moment; then
    exactly 10 succeed, 6 are refused, and nothing is oversold."""
    warehouse, bins = world
    sku = SkuFactory()
    stock_receive(sku=sku, location=bins[0], quantity=6, unit_cost=Decimal("3"))
    stock_receive(sku=sku, location=bins[1], quantity=4, unit_cost=Decimal("3"))

    results = race(
        16,
        lambda i: stock_reserve(
            warehouse=warehouse, lines=[StockLine(sku, 1)], reference=f"order_line:{i}"
        ),
    )

    assert_no_database_errors(results)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"ReservationResult": 10, "InsufficientStock": 6}
    for r in results:
        if isinstance(r, InsufficientStock):
            assert [(s.requested, s.available) for s in r.shortages] == [(1, 0)]
    levels = StockLevel.objects.filter(sku=sku).order_by("location__pick_sequence")
    assert [(lv.on_hand, lv.reserved) for lv in levels] == [(6, 6), (4, 4)]
    assert Reservation.objects.filter(stock_level__sku=sku).count() == 10
    assert Reservation.objects.aggregate(total=Sum("quantity"))["total"] == 10
    assert_stock_clean()


def test_reserving_two_skus_in_opposite_orders_never_deadlocks(world):
    """Given SKUs A and B in two bins each; when one worker reserves A then B and another B then
    A, 50 rounds each, releasing or shipping some rounds as they go; then no deadlock, and the
    counters add up."""
    warehouse, bins = world
    a, b = SkuFactory(), SkuFactory()
    for sku in (a, b):
        for location in bins[:2]:
            stock_receive(sku=sku, location=location, quantity=60, unit_cost=Decimal("2"))
    rounds = 50

    def work(i: int) -> int:
        first, second = (a, b) if i == 0 else (b, a)
        for n in range(rounds):
            reference = f"w{i}:{n}"
            stock_reserve(
                warehouse=warehouse,
                lines=[StockLine(first, 1), StockLine(second, 2)],
                reference=reference,
            )
            if n % 3 == 1:
                stock_release(reference=reference)
            elif n % 3 == 2:
                stock_consume(reference=reference)
        return rounds

    results = race(2, work)

    assert results == [rounds, rounds]
    held = len([n for n in range(rounds) if n % 3 == 0])  # rounds still reserved, per worker
    shipped = len([n for n in range(rounds) if n % 3 == 2])
    # each round asks 1 of its first SKU and 2 of its second: A gets 1 + 2 per pair of rounds
    for sku in (a, b):
        totals = StockLevel.objects.filter(sku=sku).aggregate(
            on_hand=Sum("on_hand"), reserved=Sum("reserved")
        )
        assert totals == {"on_hand": 120 - 3 * shipped, "reserved": 3 * held}
        assert Reservation.objects.filter(stock_level__sku=sku).aggregate(t=Sum("quantity")) == {
            "t": 3 * held
        }
    assert Reservation.objects.values("reference").distinct().count() == 2 * held
    assert_stock_clean()


def test_two_workers_ship_the_same_reservation_once(world):
    """Given a reservation over two bins; when two workers ship it at once (20 rounds); then
    one ships it and the other is told nothing is reserved."""
    warehouse, bins = world
    sku = SkuFactory()
    stock_receive(sku=sku, location=bins[0], quantity=40, unit_cost=Decimal("5"))
    stock_receive(sku=sku, location=bins[1], quantity=40, unit_cost=Decimal("5"))
    rounds = 20

    for n in range(rounds):
        reference = f"order_line:{n}"
        # 3 units: 2 from the first bin once it runs low, so some rounds span both bins
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 3)], reference=reference)
        results = race(2, lambda i, ref=reference: stock_consume(reference=ref))
        assert_no_database_errors(results)
        shipped = [r for r in results if isinstance(r, list)]
        refused = [r for r in results if isinstance(r, StockError)]
        assert (len(shipped), len(refused)) == (1, 1), results
        assert sum(-m.quantity for m in shipped[0]) == 3
        assert "Nothing is reserved" in str(refused[0])

    totals = StockLevel.objects.filter(sku=sku).aggregate(o=Sum("on_hand"), r=Sum("reserved"))
    assert totals == {"o": 80 - 3 * rounds, "r": 0}
    assert StockMove.objects.filter(sku=sku, kind=StockMove.Kind.SHIPMENT).aggregate(
        t=Sum("quantity")
    ) == {"t": -3 * rounds}
    assert Reservation.objects.count() == 0
    assert_stock_clean()


def test_release_and_ship_of_one_reservation_race_cleanly(world):
    """When one worker releases a reservation while another ships it, exactly one of them
    gets the units: either shipped (release finds nothing) or released (ship is refused)."""
    warehouse, bins = world
    sku = SkuFactory()
    stock_receive(sku=sku, location=bins[0], quantity=100, unit_cost=Decimal("5"))
    shipped_units = 0
    for n in range(20):
        reference = f"order_line:{n}"
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 2)], reference=reference)

        def work(i, ref=reference):
            return stock_consume(reference=ref) if i == 0 else stock_release(reference=ref)

        consumed, released = race(2, work)
        assert_no_database_errors([consumed, released])
        if isinstance(consumed, list):
            assert released == 0
            shipped_units += 2
        else:
            assert isinstance(consumed, StockError)
            assert released == 2

    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (100 - shipped_units, 0)
    assert_stock_clean()


def test_concurrent_receipts_keep_the_moving_average_exact(world):
    """When 8 workers receive the same SKU at different costs at once (some into bins that
    have no level yet); then on_hand is the sum and the average cost is exactly what the
    receipts give in the order they were serialised, and within rounding of the true mean."""
    _warehouse, bins = world
    sku = SkuFactory()
    receipts = [(5, "10.00"), (7, "12.35"), (3, "9.99"), (11, "15.10"), (2, "0"), (13, "11.11")]
    receipts += [(4, "20.00"), (9, "13.37")]

    def work(i):
        quantity, cost = receipts[i]
        return stock_receive(
            sku=sku, location=bins[i % 3], quantity=quantity, unit_cost=Decimal(cost)
        )

    results = race(len(receipts), work)

    assert_no_database_errors(results)
    assert all(isinstance(r, StockMove) for r in results), results
    total = sum(q for q, _c in receipts)
    assert StockLevel.objects.filter(sku=sku).aggregate(t=Sum("on_hand")) == {"t": total}
    # Replay the ledger in pk order (moves are written under the SKU lock, so pk order is the
    # order the receipts were serialised in) with the service's own formula.
    avg, on_hand = Decimal("0"), 0
    for move in StockMove.objects.filter(sku=sku).order_by("pk"):
        if on_hand == 0:
            avg = move.unit_cost
        else:
            avg = (on_hand * avg + move.quantity * move.unit_cost) / (on_hand + move.quantity)
        avg = avg.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
        on_hand += move.quantity
        assert move.balance_after > 0
    stored = Sku.objects.get(pk=sku.pk).avg_cost
    assert stored == avg
    exact = sum(q * Decimal(c) for q, c in receipts) / total
    assert abs(stored - exact) <= Decimal("0.0004")  # at most 8 roundings of half a unit
    assert_stock_clean()


def test_mixed_random_operations_keep_ledger_and_counters_consistent(world):
    """When 8 workers run 40 random stock operations each (receive, adjust, move, multi-line
    reserve in random order, release, ship) on 3 SKUs in 3 bins; then no deadlock or database
    error happens, every refusal is a StockError, and on_hand per SKU equals what the
    successful operations added and took."""
    warehouse, bins = world
    skus = [SkuFactory() for _ in range(3)]
    for sku in skus:
        stock_receive(sku=sku, location=bins[0], quantity=30, unit_cost=Decimal("4"))

    def work(i):
        rnd = random.Random(i)
        delta = Counter()  # sku pk -> on_hand change by this worker's successful operations
        outcomes = Counter()
        refs = [f"w{i}:{n}" for n in range(4)]
        for _ in range(40):
            sku = rnd.choice(skus)
            op = rnd.choice(["receive", "adjust", "move", "reserve", "release", "consume"])
            try:
                if op == "receive":
                    q = rnd.randint(1, 5)
                    cost = Decimal(rnd.randint(100, 900)) / 100
                    stock_receive(sku=sku, location=rnd.choice(bins), quantity=q, unit_cost=cost)
                    delta[sku.pk] += q
                elif op == "adjust":
                    q = rnd.choice([-3, -2, -1, 1, 2, 3])
                    stock_adjust(sku=sku, location=rnd.choice(bins), quantity=q, reason="count")
                    delta[sku.pk] += q
                elif op == "move":
                    src, dst = rnd.sample(bins, 2)
                    stock_move(sku=sku, from_location=src, to_location=dst, quantity=2)
                elif op == "reserve":
                    picked = rnd.sample(skus, rnd.randint(1, 3))
                    stock_reserve(
                        warehouse=warehouse,
                        lines=[StockLine(s, rnd.randint(1, 3)) for s in picked],
                        reference=rnd.choice(refs),
                    )
                elif op == "release":
                    stock_release(reference=rnd.choice(refs))
                else:
                    for move in stock_consume(reference=rnd.choice(refs)):
                        delta[move.sku_id] += move.quantity
                outcomes[op] += 1
            except StockError:
                outcomes[f"{op} refused"] += 1
        return delta, outcomes

    results = race(8, work)

    assert_no_database_errors(results)
    assert all(isinstance(r, tuple) for r in results), results
    expected = Counter({sku.pk: 30 for sku in skus})
    for delta, _outcomes in results:
        expected.update(delta)
    on_hand = dict(
        StockLevel.objects.values("sku_id").annotate(t=Sum("on_hand")).values_list("sku_id", "t")
    )
    assert on_hand == dict(expected)
    assert sum(sum(o.values()) for _d, o in results) == 8 * 40
    assert_stock_clean()
