"""Allocation under contention on real PostgreSQL (skipped on SQLite): never more allocated
than there is, and the ledger stays clean."""

import pytest
from django.core.management import call_command

from orders.models import Order, OrderStatus
from orders.services import orders_allocate, orders_approve, orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    WarehouseFactory,
    ensure_roles,
    normalized_order,
)
from tests.warehouse.test_races import assert_no_database_errors, race
from warehouse.models import Reservation, StockLevel
from warehouse.services import stock_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles():
    yield
    ensure_roles()


def test_40_orders_for_25_units_from_8_workers():
    warehouse = WarehouseFactory(code="SZ")
    mug = SkuFactory(code="MUG")
    for i, qty in enumerate((10, 10, 5)):  # 25 units over three bins
        location = LocationFactory(warehouse=warehouse, code=f"A-{i}", pick_sequence=i)
        stock_receive(sku=mug, location=location, quantity=qty, unit_cost=1)
    store = StoreFactory()
    result = orders_upsert(
        store=store,
        orders=[normalized_order(f"R-{i:02d}", [("MUG", 1, "9")]) for i in range(40)],
        source="manual",
    )
    orders_approve(order_ids=result.order_ids)
    ids = result.order_ids

    def work(worker: int):
        # every worker tries every order, each starting at a different place
        mine = ids[worker * 5 :] + ids[: worker * 5]
        return orders_allocate(order_ids=mine)

    results = race(8, work)
    assert_no_database_errors(results)
    statuses = list(Order.objects.values_list("status", flat=True))
    assert statuses.count(OrderStatus.ALLOCATED) == 25
    assert statuses.count(OrderStatus.OUT_OF_STOCK) == 15
    assert sum(len(r.done) for r in results) == 25  # each order allocated exactly once
    assert sum(StockLevel.objects.values_list("reserved", flat=True)) == 25
    assert Reservation.objects.values("reference").distinct().count() == 25
    call_command("check_stock")
