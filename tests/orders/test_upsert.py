"""The one idempotent upsert: created / updated / unchanged, stale resends, review on arrival,
and platform updates that must not move an order backwards."""

from datetime import timedelta
from decimal import Decimal

import pytest

from orders.models import (
    BlockedBuyer,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
    OrderSource,
    OrderStatus,
    ReviewRule,
    Tag,
)
from orders.normalized import NormalizedAddress, PlatformStatus
from orders.services import orders_allocate, orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    SkuMappingFactory,
    StoreFactory,
    WarehouseFactory,
    normalized_order,
)
from warehouse.models import Reservation
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(platform="amazon", code="amz-us")


@pytest.fixture
def mug():
    return SkuFactory(code="MUG-BLK", barcode="6901234567892")


def upsert(store, *orders, source=OrderSource.API):
    return orders_upsert(store=store, orders=list(orders), source=source)


def test_new_order_is_created_with_lines_paired_by_sku_code(store, mug):
    result = upsert(store, normalized_order("111-1", [("MUG-BLK", 2, "9.99")]))
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    order = Order.objects.get(pk=result.order_ids[0])
    assert order.status == OrderStatus.NEW
    assert order.source == OrderSource.API
    assert order.total == Decimal("19.98")
    line = order.lines.get()
    assert (line.sku, line.quantity, line.unit_price) == (mug, 2, Decimal("9.9900"))
    event = order.events.get()
    assert (event.kind, event.to_status) == (OrderEvent.Kind.CREATED, OrderStatus.NEW)


def test_barcode_pairs_too_and_a_mapping_wins_over_both(store, mug):
    other = SkuFactory(code="MUG-RED")
    SkuMappingFactory(store=store, platform_sku="MUG-BLK", sku=other, quantity=2)
    result = upsert(
        store,
        normalized_order("111-2", [("MUG-BLK", 1, "5.00"), ("6901234567892", 1, "5.00")]),
    )
    lines = list(OrderLine.objects.filter(order_id=result.order_ids[0]).order_by("pk"))
    assert [(line.sku, line.sku_quantity) for line in lines] == [(other, 2), (mug, 1)]


def test_store_mapping_overrides_a_global_one(store, mug):
    global_sku = SkuFactory(code="G")
    store_sku = SkuFactory(code="S")
    SkuMappingFactory(store=None, platform_sku="P-1", sku=global_sku)
    SkuMappingFactory(store=store, platform_sku="P-1", sku=store_sku)
    result = upsert(store, normalized_order("111-3", [("P-1", 1, "5.00")]))
    assert OrderLine.objects.get(order_id=result.order_ids[0]).sku == store_sku


def test_identical_resend_and_stale_update_change_nothing(store, mug):
    first = normalized_order("111-4", updated_at=None)
    upsert(store, first)
    again = upsert(store, normalized_order("111-4"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    newer = normalized_order(
        "111-4", updated_at=first.updated_at + timedelta(hours=1), buyer_note="Leave at door"
    )
    assert upsert(store, newer).updated == 1
    stale = normalized_order(
        "111-4", updated_at=first.updated_at + timedelta(minutes=5), buyer_note="old"
    )
    result = upsert(store, stale)
    assert result.unchanged == 1
    assert Order.objects.get().buyer_note == "Leave at door"
    assert Order.objects.count() == 1


def test_duplicates_within_one_call_keep_the_latest(store, mug):
    base = normalized_order("111-5")
    later = normalized_order("111-5", updated_at=base.updated_at + timedelta(hours=2), tax=1)
    result = upsert(store, later, base)
    assert (result.created, len(result.order_ids)) == (1, 1)
    assert Order.objects.get().tax == Decimal("1")


def test_same_external_id_in_two_stores_is_two_orders(store, mug):
    other = StoreFactory(platform="shopify")
    upsert(store, normalized_order("1001"))
    upsert(other, normalized_order("1001"))
    assert Order.objects.count() == 2


def test_unpaired_sku_and_incomplete_address_hold_on_arrival(store, mug):
    unpaired = upsert(store, normalized_order("111-6", [("NOPE", 1, "1.00")]))
    no_street = upsert(
        store,
        normalized_order("111-7", address=NormalizedAddress(name="X", city="Y", country="US")),
    )
    assert Order.objects.get(pk=unpaired.order_ids[0]).hold_reason == HoldReason.UNPAIRED_SKU
    order = Order.objects.get(pk=no_street.order_ids[0])
    assert (order.status, order.hold_reason) == (
        OrderStatus.ON_HOLD,
        HoldReason.INCOMPLETE_ADDRESS,
    )


def test_pending_payment_is_held_then_reviewed_when_paid(store, mug):
    pending = normalized_order("111-8", status=PlatformStatus("Pending", awaiting_payment=True))
    upsert(store, pending)
    assert Order.objects.get().hold_reason == HoldReason.AWAITING_PAYMENT
    paid = normalized_order("111-8", updated_at=pending.updated_at + timedelta(hours=1))
    assert upsert(store, paid).updated == 1
    order = Order.objects.get()
    assert (order.status, order.hold_reason) == (OrderStatus.NEW, "")


def test_review_rules_in_priority_order(store, mug):
    warehouse = WarehouseFactory(code="US-LA")
    tag = Tag.objects.create(name="VIP")
    ReviewRule.objects.create(
        name="US goes to LA",
        priority=1,
        countries="us, ca",
        action="set_warehouse",
        warehouse=warehouse,
    )
    ReviewRule.objects.create(name="tag big", priority=2, min_total=50, action="tag", tag=tag)
    ReviewRule.objects.create(
        name="hold huge", priority=3, min_total=500, action="hold", hold_reason="value_over_limit"
    )
    ReviewRule.objects.create(name="approve rest", priority=4, action="approve")
    small = upsert(store, normalized_order("R-1", [("MUG-BLK", 1, "10")]))
    big = upsert(store, normalized_order("R-2", [("MUG-BLK", 10, "10")]))
    huge = upsert(store, normalized_order("R-3", [("MUG-BLK", 100, "10")]))
    small_o, big_o, huge_o = (Order.objects.get(pk=r.order_ids[0]) for r in (small, big, huge))
    assert (small_o.status, small_o.warehouse) == (OrderStatus.APPROVED, warehouse)
    assert list(small_o.tags.all()) == []
    assert big_o.status == OrderStatus.APPROVED and list(big_o.tags.all()) == [tag]
    assert (huge_o.status, huge_o.hold_reason) == (OrderStatus.ON_HOLD, "value_over_limit")
    assert "hold huge" in huge_o.hold_note


def test_rule_conditions_store_platform_sku_note(store, mug):
    other_store = StoreFactory(platform="shopify")
    ReviewRule.objects.create(
        name="notes", priority=1, has_buyer_note=True, action="hold", hold_reason="buyer_note"
    )
    ReviewRule.objects.create(name="mugs", priority=2, sku=mug, action="approve")
    ReviewRule.objects.create(name="shopify", priority=3, platform="shopify", action="approve")
    noted = upsert(store, normalized_order("C-1", buyer_note="Gift wrap please"))
    plain = upsert(store, normalized_order("C-2"))
    elsewhere = upsert(other_store, normalized_order("C-3", [("NOT-OURS", 1, "1")]))
    assert Order.objects.get(pk=noted.order_ids[0]).hold_reason == "buyer_note"
    assert Order.objects.get(pk=plain.order_ids[0]).status == OrderStatus.APPROVED
    # built-in holds come before the seller's rules
    assert Order.objects.get(pk=elsewhere.order_ids[0]).hold_reason == HoldReason.UNPAIRED_SKU


def test_blocklisted_buyer_is_held(store, mug):
    BlockedBuyer.objects.create(buyer="ANN@example.com")
    result = upsert(store, normalized_order("B-1"))
    assert Order.objects.get(pk=result.order_ids[0]).hold_reason == HoldReason.BLOCKLISTED_BUYER


def test_afn_orders_are_kept_but_never_reviewed_or_allocated(store, mug):
    result = upsert(store, normalized_order("A-1", fulfilled_by_platform=True))
    order = Order.objects.get(pk=result.order_ids[0])
    assert order.status == OrderStatus.PLATFORM
    assert orders_allocate(order_ids=[order.pk]).failed


def test_platform_cancel_cancels_an_allocated_order_and_releases_stock(store, mug):
    location = LocationFactory()
    stock_receive(sku=mug, location=location, quantity=5, unit_cost=Decimal("3"))
    first = normalized_order("X-1", [("MUG-BLK", 2, "9.99")])
    order_id = upsert(store, first).order_ids[0]
    Order.objects.filter(pk=order_id).update(status=OrderStatus.APPROVED)
    assert orders_allocate(order_ids=[order_id]).done == [order_id]
    assert Reservation.objects.filter(reference=f"order:{order_id}").exists()
    cancelled = normalized_order(
        "X-1",
        [("MUG-BLK", 2, "9.99")],
        updated_at=first.updated_at + timedelta(hours=1),
        status=PlatformStatus("Canceled", cancelled=True),
    )
    upsert(store, cancelled)
    order = Order.objects.get(pk=order_id)
    assert order.status == OrderStatus.CANCELLED
    assert not Reservation.objects.exists()


def test_platform_cancel_after_shipping_is_an_exception_not_a_change(store, mug):
    first = normalized_order("X-2")
    order_id = upsert(store, first).order_ids[0]
    Order.objects.filter(pk=order_id).update(status=OrderStatus.SHIPPED)
    upsert(
        store,
        normalized_order(
            "X-2",
            updated_at=first.updated_at + timedelta(hours=1),
            status=PlatformStatus("Canceled", cancelled=True),
        ),
    )
    order = Order.objects.get(pk=order_id)
    assert order.status == OrderStatus.SHIPPED
    assert "Cancelled on the platform" in order.exception


def test_platform_never_moves_an_order_backwards(store, mug):
    first = normalized_order("X-3")
    order_id = upsert(store, first).order_ids[0]
    Order.objects.filter(pk=order_id).update(status=OrderStatus.APPROVED)
    # the platform re-sends "Unshipped" with a newer time: still approved, fields updated
    upsert(store, normalized_order("X-3", updated_at=first.updated_at + timedelta(1), tax=2))
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.tax) == (OrderStatus.APPROVED, Decimal("2"))


def test_line_change_after_allocation_is_an_exception(store, mug):
    location = LocationFactory()
    stock_receive(sku=mug, location=location, quantity=5, unit_cost=Decimal("3"))
    first = normalized_order("X-4", [("MUG-BLK", 1, "9.99")])
    order_id = upsert(store, first).order_ids[0]
    Order.objects.filter(pk=order_id).update(status=OrderStatus.APPROVED)
    orders_allocate(order_ids=[order_id])
    upsert(
        store,
        normalized_order(
            "X-4", [("MUG-BLK", 3, "9.99")], updated_at=first.updated_at + timedelta(1)
        ),
    )
    order = Order.objects.get(pk=order_id)
    assert order.status == OrderStatus.ALLOCATED
    assert order.lines.get().quantity == 1
    assert "changed the lines" in order.exception


def test_line_change_before_allocation_replaces_lines(store, mug):
    first = normalized_order("X-5", [("MUG-BLK", 1, "9.99")])
    order_id = upsert(store, first).order_ids[0]
    upsert(
        store,
        normalized_order(
            "X-5",
            [("MUG-BLK", 1, "9.99"), ("NEW-ONE", 1, "1")],
            updated_at=first.updated_at + timedelta(1),
        ),
    )
    order = Order.objects.get(pk=order_id)
    assert order.lines.count() == 2
    assert order.hold_reason == HoldReason.UNPAIRED_SKU


def test_edited_address_is_not_overwritten(store, mug):
    from orders.services import order_edit_address

    first = normalized_order("X-6")
    order_id = upsert(store, first).order_ids[0]
    order_edit_address(order=Order.objects.get(pk=order_id), fields={"ship_city": "Chicago"})
    upsert(store, normalized_order("X-6", updated_at=first.updated_at + timedelta(1), tax=3))
    assert Order.objects.get(pk=order_id).ship_city == "Chicago"


def test_order_ids_follow_input_order(store, mug):
    upsert(store, normalized_order("O-2"))
    result = upsert(store, normalized_order("O-1"), normalized_order("O-2"))
    assert [Order.objects.get(pk=pk).external_id for pk in result.order_ids] == ["O-1", "O-2"]
