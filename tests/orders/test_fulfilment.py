"""Shipping orders: ``order_ship_one`` (one order in the caller's transaction, the pack
station's path) writes what ``orders_ship`` writes for the same order, and refuses the same
orders with the same reasons, leaving the rollback to its caller."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from orders.models import Order, OrderEvent, OrderStatus
from orders.services import OrderError, order_ship_one, orders_ship
from tests.logistics.test_picking import Floor, make_floor
from warehouse.models import Reservation, StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor() -> Floor:
    return make_floor()


def written(order: Order) -> dict:
    """What shipping wrote for ``order``, without ids and times."""
    order.refresh_from_db()
    events = OrderEvent.objects.filter(order=order, to_status=OrderStatus.SHIPPED)
    moves = StockMove.objects.filter(reference=order.reference, kind=StockMove.Kind.SHIPMENT)
    return {
        "status": order.status,
        "events": [
            (e.kind, e.from_status, e.to_status, e.message, e.user_id, e.data) for e in events
        ],
        "moves": sorted(
            (m.sku_id, m.location_id, m.quantity, m.unit_cost, m.note, m.user_id) for m in moves
        ),
        "reserved": Reservation.objects.filter(reference=order.reference).count(),
    }


def test_one_order_ships_as_orders_ship_ships_it(floor):
    by_bulk = floor.order([("MUG", 2), ("CASE", 1)], labelled=True)
    by_one = floor.order([("MUG", 2), ("CASE", 1)], labelled=True)
    message = "Packed at the pack station (812 g), " + "x" * 250  # the note keeps 200
    before = Order.objects.get(pk=by_one.pk).updated_at

    result = orders_ship(order_ids=[by_bulk.pk], user=floor.worker, message=message)
    order_ship_one(order_id=by_one.pk, user=floor.worker, message=message)

    assert result.done == [by_bulk.pk]
    expected = written(by_bulk)
    assert written(by_one) == expected
    assert expected["status"] == OrderStatus.SHIPPED
    assert expected["events"] == [
        (OrderEvent.Kind.STATUS, "labelled", "shipped", message, floor.worker.pk, {})
    ]
    assert {note for *_rest, note, _user in expected["moves"]} == {message[:200]}
    assert expected["reserved"] == 0
    shipped = Order.objects.get(pk=by_one.pk)
    assert shipped.updated_at > before
    event = OrderEvent.objects.get(order=by_one, to_status=OrderStatus.SHIPPED)
    assert event.at == shipped.updated_at
    mug = StockLevel.objects.get(sku=floor.skus["MUG"], location=floor.bins["B-01"])
    assert (mug.on_hand, mug.reserved) == (36, 0)
    call_command("check_stock")


def test_without_a_message_the_event_says_shipped(floor):
    order = floor.order([("LAMP", 1)], labelled=True)
    order_ship_one(order_id=order.pk)
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.SHIPPED)
    assert (event.message, event.user_id) == ("Shipped.", None)
    assert StockMove.objects.get(reference=order.reference, kind="shipment").note == ""


def test_refusals_name_the_reason_of_orders_ship_and_leave_the_rollback_to_the_caller(floor):
    allocated = floor.order([("MUG", 1)])
    unreserved = floor.order([("CASE", 1)], labelled=True)
    Reservation.objects.filter(reference=unreserved.reference).delete()
    cases = [
        (0, "No such order."),
        (allocated.pk, "A allocated order cannot be shipped."),
        (unreserved.pk, f"Nothing is reserved for {unreserved.reference}."),
    ]
    for order_id, reason in cases:
        if order_id:  # orders_ship gives the same reason
            assert orders_ship(order_ids=[order_id]).failed == {order_id: reason}
        moves = StockMove.objects.count()
        with transaction.atomic():
            with pytest.raises(OrderError) as refused:
                order_ship_one(order_id=order_id, user=floor.worker)
            assert str(refused.value) == reason
            assert transaction.get_rollback()  # no savepoint: the caller rolls back
        assert StockMove.objects.count() == moves
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[allocated.pk] == OrderStatus.ALLOCATED
    assert statuses[unreserved.pk] == OrderStatus.LABELLED
    assert not OrderEvent.objects.filter(to_status=OrderStatus.SHIPPED).exists()
