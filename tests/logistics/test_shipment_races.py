"""Shipments under contention on real PostgreSQL (skipped on SQLite): parallel label runs
never hand out the same pool number twice, never give an order two live shipments, and a
manifest closed twice at once ships its orders once."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from logistics.models import (
    Carrier,
    RateCardRow,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
    TrackingNumber,
    TrackingSource,
)
from logistics.services.handover import manifest_close, manifest_create, manifest_scan
from logistics.services.pool import pool_load
from logistics.services.shipments import shipments_create
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
from warehouse.models import StockMove
from warehouse.services import stock_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles():
    yield
    ensure_roles()


@pytest.fixture
def setup():
    warehouse = WarehouseFactory(code="SZ")
    mug = SkuFactory(code="MUG", weight_g=300)
    stock_receive(
        sku=mug, location=LocationFactory(warehouse=warehouse), quantity=100, unit_cost=Decimal(2)
    )
    carrier = Carrier.objects.create(code="CNPOST", name="China Post")
    channel = ShippingChannel.objects.create(
        carrier=carrier,
        code="REG",
        service_code="REG",
        name="Registered",
        tracking_source=TrackingSource.POOL,
    )
    RateCardRow.objects.create(channel=channel, country="*", weight_to_g=2000, first_price=9)
    pool_load(channel=channel, numbers=[f"RR{n:09d}CN" for n in range(30)])
    store = StoreFactory(default_warehouse=warehouse)
    result = orders_upsert(
        store=store,
        orders=[normalized_order(f"P-{i:02d}", [("MUG", 1, "9")]) for i in range(24)],
        source="manual",
    )
    orders_approve(order_ids=result.order_ids)
    assert len(orders_allocate(order_ids=result.order_ids).done) == 24
    return {"warehouse": warehouse, "carrier": carrier, "channel": channel, "ids": result.order_ids}


def test_parallel_label_runs_take_distinct_numbers_and_one_shipment_per_order(setup):
    ids, channel = setup["ids"], setup["channel"]

    def work(worker: int):
        # every worker labels every order, each starting at a different place
        mine = ids[worker * 3 :] + ids[: worker * 3]
        return shipments_create(order_ids=mine, channel=channel)

    results = race(6, work)
    assert_no_database_errors(results)
    assert sum(len(r.created) for r in results) == 24
    live = Shipment.objects.exclude(status=ShipmentStatus.VOIDED)
    assert live.count() == 24
    assert live.values("order").distinct().count() == 24
    numbers = list(live.values_list("tracking_number", flat=True))
    assert len(set(numbers)) == 24
    assert TrackingNumber.objects.filter(used_at__isnull=False).count() == 24
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.LABELLED}


def test_a_manifest_closed_twice_at_once_ships_once(setup):
    created = shipments_create(order_ids=setup["ids"][:6], channel=setup["channel"]).created
    manifest = manifest_create(carrier=setup["carrier"], warehouse=setup["warehouse"])
    for shipment in created:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)

    def work(worker: int):
        return manifest_close(manifest=manifest)

    results = race(4, work)
    closed = [r for r in results if not isinstance(r, Exception)]
    assert len(closed) == 1
    assert len(closed[0].shipped) == 6
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 6
    call_command("check_stock")
