"""Race tests of stocktakes and transfers on real PostgreSQL (skipped on SQLite), with the
thread harness of ``test_races``: each worker has its own connection, a barrier starts them."""

import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from tests.factories import LocationFactory, SkuFactory, WarehouseFactory
from tests.warehouse.test_races import assert_no_database_errors, assert_stock_clean, race
from warehouse.models import Reservation, StockLevel, StockMove, Stocktake, Warehouse
from warehouse.services import (
    InsufficientStock,
    StockLine,
    StocktakeRefused,
    TransferItem,
    stock_receive,
    stock_reserve,
    stocktake_count,
    stocktake_create,
    stocktake_post,
    transfer_create,
    transfer_ship,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    warehouse = WarehouseFactory(code="SZ", name="Shenzhen")
    location = LocationFactory(warehouse=warehouse, code="A-01", pick_sequence=10)
    return warehouse, location


def test_posting_a_stocktake_while_orders_reserve_never_leaves_reserved_above_on_hand(world):
    """Given 20 SKUs with 10 units each, counted 5 each (−5); when one worker posts while
    seven reserve single units of random SKUs; then no deadlock or CHECK failure, reserved
    never exceeds on_hand, the ledger matches, and the posting either took every line
    (on_hand 5) or none (refused, naming the lines that were over-reserved)."""
    warehouse, location = world
    skus = [SkuFactory() for _ in range(20)]
    for sku in skus:
        stock_receive(sku=sku, location=location, quantity=10, unit_cost=Decimal("1"))
    stocktake = stocktake_create(warehouse=warehouse, locations=[location])
    for sku in skus:
        stocktake_count(stocktake=stocktake, sku=sku, location=location, quantity=5)

    def work(i: int):
        if i == 0:
            return stocktake_post(stocktake=stocktake, user=None, reason="Race count")
        rnd = random.Random(i)
        outcomes = []
        for n in range(6):
            try:
                stock_reserve(
                    warehouse=warehouse,
                    lines=[StockLine(rnd.choice(skus), 1)],
                    reference=f"order_line:{i}:{n}",
                )
                outcomes.append("reserved")
            except InsufficientStock:
                outcomes.append("short")
        return outcomes

    results = race(8, work)

    assert_no_database_errors(results)
    assert_stock_clean()
    posted = results[0]
    levels = list(StockLevel.objects.filter(location=location))
    reserved_units = Reservation.objects.aggregate(total=Sum("quantity"))["total"] or 0
    assert sum(level.reserved for level in levels) == reserved_units
    assert Counter(o for r in results[1:] for o in r)["reserved"] == reserved_units
    if isinstance(posted, StocktakeRefused):
        assert {level.on_hand for level in levels} == {10}
        assert all(p.problem == "below_reserved" for p in posted.problems)
        assert Stocktake.objects.get(pk=stocktake.pk).status == Stocktake.Status.COUNTING
    else:
        assert posted.moves == 20
        assert {level.on_hand for level in levels} == {5}
        assert StockMove.objects.filter(kind=StockMove.Kind.STOCKTAKE).count() == 20


def test_two_stocktakes_posting_the_same_bin_at_once_correct_it_once(world):
    """Both counts found 8 of 10. Posted at the same moment, one takes the −2 and the other is
    refused (count again): the bin ends at 8, not 6."""
    warehouse, location = world
    sku = SkuFactory()
    stock_receive(sku=sku, location=location, quantity=10, unit_cost=Decimal("1"))
    counts = [stocktake_create(warehouse=warehouse, locations=[location]) for _ in range(2)]
    for stocktake in counts:
        stocktake_count(stocktake=stocktake, sku=sku, location=location, quantity=8)

    results = race(2, lambda i: stocktake_post(stocktake=counts[i], user=None, reason="Race"))

    assert_no_database_errors(results)
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["StocktakePosted", "StocktakeRefused"]
    refused = next(r for r in results if isinstance(r, StocktakeRefused))
    assert [p.problem for p in refused.problems] == ["recount"]
    assert StockLevel.objects.get(sku=sku, location=location).on_hand == 8
    assert_stock_clean()


def test_shipping_a_transfer_while_orders_reserve_never_oversells(world):
    """10 units; a transfer of 6 ships while eight workers each reserve 1: the units that
    leave plus the units reserved never exceed 10."""
    warehouse, location = world
    destination = WarehouseFactory(code="US", kind=Warehouse.Kind.OVERSEAS)
    sku = SkuFactory()
    stock_receive(sku=sku, location=location, quantity=10, unit_cost=Decimal("1"))
    transfer = transfer_create(
        source=warehouse, destination=destination, items=[TransferItem(sku, 6, location)]
    )

    def work(i: int):
        if i == 0:
            return transfer_ship(transfer=transfer)
        return stock_reserve(
            warehouse=warehouse, lines=[StockLine(sku, 1)], reference=f"order_line:{i}"
        )

    results = race(9, work)

    assert_no_database_errors(results)
    shipped = 0 if isinstance(results[0], InsufficientStock) else 6
    reserved = sum(1 for r in results[1:] if not isinstance(r, InsufficientStock))
    assert shipped + reserved <= 10
    assert reserved == (4 if shipped else 8)
    level = StockLevel.objects.get(sku=sku, location=location)
    assert (level.on_hand, level.reserved) == (10 - shipped, reserved)
    assert_stock_clean()
