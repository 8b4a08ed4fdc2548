"""``stock_reserve_many`` gives exactly what ``stock_reserve`` one demand at a time gives."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import BundleItemFactory, LocationFactory, SkuFactory, WarehouseFactory
from warehouse.models import Reservation, StockLevel
from warehouse.services import (
    InsufficientStock,
    ReserveRequest,
    StockError,
    StockLine,
    stock_receive,
    stock_reserve,
    stock_reserve_many,
)

pytestmark = pytest.mark.django_db


def state() -> tuple:
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        sorted(Reservation.objects.values_list("reference", "stock_level_id", "quantity")),
    )


def one_by_one(requests):
    """The reference behaviour: each request through stock_reserve, warehouses in order."""
    chosen = []
    for request in requests:
        for warehouse in request.warehouses:
            try:
                stock_reserve(warehouse=warehouse, lines=request.lines, reference=request.reference)
            except InsufficientStock:
                continue
            chosen.append(warehouse.code)
            break
        else:
            chosen.append(None)
    return chosen


@pytest.fixture
def world():
    warehouses = [WarehouseFactory(code="A"), WarehouseFactory(code="B")]
    skus = [SkuFactory(code=f"S{i}") for i in range(3)]
    bundle = SkuFactory(code="SET", is_bundle=True)
    BundleItemFactory(bundle=bundle, component=skus[0], quantity=2)
    BundleItemFactory(bundle=bundle, component=skus[1], quantity=1)
    bins = {
        w.code: [
            LocationFactory(warehouse=w, code=f"{w.code}-{c}", pick_sequence=p)
            for c, p in (("02", 5), ("01", 5), ("03", 1))
        ]
        for w in warehouses
    }
    return warehouses, [*skus, bundle], bins


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_same_result_as_one_by_one(world, data):
    warehouses, skus, bins = world
    with transaction.atomic():
        for code, locations in bins.items():
            for location in locations:
                for sku in skus[:3]:
                    qty = data.draw(st.integers(0, 4))
                    if qty:
                        stock_receive(sku=sku, location=location, quantity=qty, unit_cost=1)
        requests = [
            ReserveRequest(
                reference=f"order:{i}",
                lines=[
                    StockLine(sku=skus[s], quantity=q)
                    for s, q in data.draw(
                        st.lists(
                            st.tuples(st.integers(0, 3), st.integers(1, 4)),
                            min_size=1,
                            max_size=3,
                            unique_by=lambda t: t[0],
                        )
                    )
                ],
                warehouses=data.draw(st.permutations(warehouses)),
            )
            for i in range(data.draw(st.integers(1, 6)))
        ]
        sid = transaction.savepoint()
        outcomes = stock_reserve_many(requests=requests)
        batched = state()
        transaction.savepoint_rollback(sid)
        expected = one_by_one(requests)
        assert [o.warehouse.code if o.warehouse else None for o in outcomes] == expected
        assert batched == state()
        transaction.set_rollback(True)


def test_short_requests_name_their_shortages_in_the_first_warehouse(world):
    warehouses, skus, bins = world
    stock_receive(sku=skus[0], location=bins["B"][0], quantity=5, unit_cost=Decimal("1"))
    [outcome] = stock_reserve_many(
        requests=[ReserveRequest("order:1", [StockLine(skus[0], 6)], warehouses)]
    )
    assert not outcome.reserved
    assert [(s.sku_code, s.requested, s.available, s.where) for s in outcome.shortages] == [
        ("S0", 6, 0, "A")
    ]
    assert state()[1] == []


def test_earlier_requests_are_served_first(world):
    warehouses, skus, bins = world
    stock_receive(sku=skus[0], location=bins["A"][0], quantity=3, unit_cost=Decimal("1"))
    outcomes = stock_reserve_many(
        requests=[
            ReserveRequest(f"order:{i}", [StockLine(skus[0], 2)], warehouses[:1]) for i in range(3)
        ]
    )
    assert [o.reserved for o in outcomes] == [True, False, False]
    assert StockLevel.objects.get(sku=skus[0]).reserved == 2


def test_a_request_without_reference_is_refused(world):
    warehouses, skus, _bins = world
    with pytest.raises(StockError):
        stock_reserve_many(requests=[ReserveRequest("", [StockLine(skus[0], 1)], warehouses)])
