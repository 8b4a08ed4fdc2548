"""A person's moves: approve, hold, release, cancel, deallocate, address edit, merge, split,
pairing; and allocation with its warehouse choice and automatic retry."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.models import HoldReason, Order, OrderEvent, OrderLine, OrderStatus, SkuMapping
from orders.normalized import NormalizedAddress
from orders.services import (
    OrderError,
    order_edit_address,
    order_split,
    orders_allocate,
    orders_approve,
    orders_cancel,
    orders_deallocate,
    orders_hold,
    orders_merge,
    orders_release_hold,
    orders_upsert,
    pair_platform_sku,
)
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)
from warehouse.models import Reservation, StockLevel
from warehouse.services import stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(platform="shopify", code="shop")


@pytest.fixture
def mug():
    return SkuFactory(code="MUG")


@pytest.fixture
def user():
    return UserFactory()


def make(store, external_id, lines=(("MUG", 1, "10"),), **kwargs) -> Order:
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines), **kwargs)], source="manual"
    )
    return Order.objects.get(pk=result.order_ids[0])


def stock(sku, quantity, warehouse=None, code=None):
    location = LocationFactory(
        warehouse=warehouse or WarehouseFactory(code="SZ"), code=code or f"B-{sku.code}"
    )
    stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal("2"))
    return location


def approved(store, external_id, lines=(("MUG", 1, "10"),), **kwargs) -> Order:
    order = make(store, external_id, lines, **kwargs)
    orders_approve(order_ids=[order.pk])
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    return order


def test_approve_writes_an_event_with_who_and_why(store, mug, user):
    order = make(store, "1")
    result = orders_approve(order_ids=[order.pk], user=user)
    assert result.done == [order.pk]
    event = order.events.filter(kind=OrderEvent.Kind.STATUS).get()
    assert (event.user, event.from_status, event.to_status) == (user, "new", "approved")


def test_approve_refuses_a_system_hold_whose_cause_remains(store, mug):
    order = make(store, "2", [("NOPE", 1, "1")])
    result = orders_approve(order_ids=[order.pk, 999999])
    assert result.done == []
    assert "Pair its SKUs first" in result.failed[order.pk]
    assert result.failed[999999] == "No such order."


def test_hold_needs_a_note_and_release_reviews_again(store, mug, user):
    order = make(store, "3")
    with pytest.raises(OrderError):
        orders_hold(order_ids=[order.pk], note=" ")
    orders_hold(order_ids=[order.pk], note="Buyer asked to wait", user=user)
    order.refresh_from_db()
    assert (order.status, order.hold_reason, order.hold_note) == (
        "on_hold",
        HoldReason.MANUAL,
        "Buyer asked to wait",
    )
    orders_release_hold(order_ids=[order.pk], user=user)
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.NEW, "")


def test_holding_an_allocated_order_gives_its_stock_back(store, mug):
    stock(mug, 5)
    order = approved(store, "4")
    orders_allocate(order_ids=[order.pk])
    orders_hold(order_ids=[order.pk], note="check address")
    assert StockLevel.objects.get().reserved == 0
    assert not Reservation.objects.exists()


def test_allocate_reserves_and_cancel_releases(store, mug, user):
    stock(mug, 5)
    order = approved(store, "5", [("MUG", 3, "10")])
    result = orders_allocate(order_ids=[order.pk], user=user)
    assert result.done == [order.pk]
    order.refresh_from_db()
    assert (order.status, order.warehouse.code) == (OrderStatus.ALLOCATED, "SZ")
    assert StockLevel.objects.get().reserved == 3
    orders_cancel(order_ids=[order.pk], reason="buyer changed mind", user=user)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert StockLevel.objects.get().reserved == 0
    assert order.events.filter(to_status="cancelled", message="buyer changed mind").exists()


def test_cancel_refuses_shipped_orders(store, mug):
    order = make(store, "6")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    result = orders_cancel(order_ids=[order.pk])
    assert "cannot be cancelled" in result.failed[order.pk]


def test_deallocate_puts_the_order_back_to_approved(store, mug):
    stock(mug, 5)
    order = approved(store, "7")
    orders_allocate(order_ids=[order.pk])
    orders_deallocate(order_ids=[order.pk])
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert StockLevel.objects.get().reserved == 0


def test_short_order_goes_out_of_stock_and_is_retried_oldest_first_when_stock_arrives(
    store, mug, django_capture_on_commit_callbacks
):
    from datetime import UTC, datetime

    location = stock(mug, 1)
    first = approved(store, "8a", purchased_at=datetime(2026, 1, 1, tzinfo=UTC))
    second = approved(store, "8b", purchased_at=datetime(2026, 1, 2, tzinfo=UTC))
    third = approved(store, "8c", purchased_at=datetime(2026, 1, 3, tzinfo=UTC))
    result = orders_allocate(order_ids=[third.pk, second.pk, first.pk])
    assert result.done == [first.pk]  # the oldest took the only unit
    assert "MUG" in result.failed[second.pk]
    assert Order.objects.get(pk=second.pk).status == OrderStatus.OUT_OF_STOCK
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(sku=mug, location=location, quantity=1, reason="found one")
    assert Order.objects.get(pk=second.pk).status == OrderStatus.ALLOCATED
    assert Order.objects.get(pk=third.pk).status == OrderStatus.OUT_OF_STOCK


def test_allocation_prefers_the_store_default_then_any_warehouse_that_fills_the_whole_order(
    mug,
):
    cup = SkuFactory(code="CUP")
    near = WarehouseFactory(code="A-NEAR")
    far = WarehouseFactory(code="B-FAR")
    store = StoreFactory(default_warehouse=far)
    stock(mug, 5, near, "N-1")
    stock(mug, 5, far, "F-1")
    stock(cup, 5, near, "N-2")
    only_mug = approved(store, "9a", [("MUG", 1, "1")])
    both = approved(store, "9b", [("MUG", 1, "1"), ("CUP", 1, "1")])
    orders_allocate(order_ids=[only_mug.pk, both.pk])
    assert Order.objects.get(pk=only_mug.pk).warehouse == far  # the default can fill it
    assert Order.objects.get(pk=both.pk).warehouse == near  # only near has both


def test_a_warehouse_set_by_a_rule_is_binding(store, mug):
    near = WarehouseFactory(code="A-NEAR")
    bound = WarehouseFactory(code="Z-BOUND")
    stock(mug, 5, near, "N-1")
    order = approved(store, "10")
    Order.objects.filter(pk=order.pk).update(warehouse=bound)
    result = orders_allocate(order_ids=[order.pk])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OUT_OF_STOCK
    assert "Z-BOUND" in result.failed[order.pk]


def test_bundle_lines_reserve_their_components(store):
    part = SkuFactory(code="PART")
    BundleItemFactory(bundle=SkuFactory(code="SET", is_bundle=True), component=part, quantity=3)
    stock(part, 10)
    order = approved(store, "11", [("SET", 2, "30")])
    orders_allocate(order_ids=[order.pk])
    assert StockLevel.objects.get(sku=part).reserved == 6


def test_fba_warehouses_are_not_allocated_from(store, mug):
    fba = WarehouseFactory(code="FBA-US", kind="fba")
    stock(mug, 5, fba, "FBA")
    order = approved(store, "12")
    assert orders_allocate(order_ids=[order.pk]).failed


def test_address_edit_keeps_history_and_releases_an_address_hold(store, mug, user):
    order = make(store, "13", address=NormalizedAddress(name="Li Lei", city="Berlin", country="DE"))
    assert order.hold_reason == HoldReason.INCOMPLETE_ADDRESS
    order = order_edit_address(
        order=order, fields={"ship_address1": "Unter den Linden 1", "ship_country": "de"}, user=user
    )
    assert (order.status, order.ship_country, order.address_edited) == ("new", "DE", True)
    event = order.events.get(kind=OrderEvent.Kind.ADDRESS)
    assert event.data["ship_address1"] == {"from": "", "to": "Unter den Linden 1"}
    with pytest.raises(OrderError):
        order_edit_address(order=order, fields={"ship_country": "Germany"})


def test_merge_same_buyer_keeps_each_platform_id(store, mug, user):
    a = make(store, "14a", [("MUG", 1, "10")])
    b = make(store, "14b", [("MUG", 2, "10")])
    b_line = b.lines.get()
    master = orders_merge(order_ids=[b.pk, a.pk], user=user)
    assert master.pk == a.pk
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == (OrderStatus.MERGED, a.pk)
    assert master.lines.count() == 2
    assert OrderLine.objects.get(pk=b_line.pk).origin_order_id == b.pk
    assert master.total == Decimal("30")


def test_merge_refuses_different_buyers_or_states(store, mug):
    a = make(store, "15a")
    other_address = NormalizedAddress(
        name="Bob", address1="2 High St", city="Leeds", postcode="LS1", country="GB"
    )
    b = make(store, "15b", address=other_address)
    with pytest.raises(OrderError, match="same buyer"):
        orders_merge(order_ids=[a.pk, b.pk])
    c = make(store, "15c")
    Order.objects.filter(pk=c.pk).update(status=OrderStatus.SHIPPED)
    with pytest.raises(OrderError, match="past review"):
        orders_merge(order_ids=[a.pk, c.pk])


def test_merge_ignores_case_and_accents_in_the_address(store, mug):
    a = make(
        store,
        "16a",
        address=NormalizedAddress(name="José", address1="1 Rue", city="Paris", country="FR"),
    )
    b = make(
        store,
        "16b",
        address=NormalizedAddress(name="JOSE", address1="1 rue.", city="paris", country="fr"),
    )
    assert orders_merge(order_ids=[a.pk, b.pk]).pk == a.pk


def test_split_by_quantity_and_by_line(store, mug):
    cup = SkuFactory(code="CUP")
    order = make(store, "17", [("MUG", 3, "10"), ("CUP", 1, "5")])
    mug_line, cup_line = order.lines.order_by("pk")
    child = order_split(order=order, quantities={mug_line.pk: 1, cup_line.pk: 1})
    assert child.external_id == "17-2" and child.split_from_id == order.pk
    assert sorted((line.platform_sku, line.quantity) for line in child.lines.all()) == [
        ("CUP", 1),
        ("MUG", 1),
    ]
    assert order.lines.get().quantity == 2
    assert all(line.origin_order_id == order.pk for line in child.lines.all())
    order.refresh_from_db()
    assert (order.total, child.total) == (Decimal("20"), Decimal("15"))
    assert cup  # the CUP line moved whole
    with pytest.raises(OrderError, match="at least one unit"):
        order_split(order=order, quantities={mug_line.pk: 2})


def test_pairing_applies_to_waiting_lines_and_releases_their_holds(store, user):
    ours = SkuFactory(code="OURS")
    held = make(store, "18a", [("THEIRS", 2, "5")])
    other_store = StoreFactory()
    elsewhere = make(other_store, "18b", [("THEIRS", 1, "5")])
    mapping, released = pair_platform_sku(
        platform_sku="THEIRS", sku=ours, quantity=2, store=store, user=user
    )
    assert released.done == [held.pk]
    held.refresh_from_db()
    assert held.status == OrderStatus.NEW
    line = held.lines.get()
    assert (line.sku, line.sku_quantity, line.quantity * line.sku_quantity) == (ours, 2, 4)
    assert held.events.filter(kind=OrderEvent.Kind.PAIRED).exists()
    assert Order.objects.get(pk=elsewhere.pk).hold_reason == HoldReason.UNPAIRED_SKU
    # pairing again updates the one pairing instead of adding another
    pair_platform_sku(platform_sku="THEIRS", sku=ours, quantity=1, store=store)
    assert SkuMapping.objects.get(store=store).quantity == 1


def test_check_stock_stays_clean_through_the_order_life(store, mug):
    stock(mug, 10)
    orders = [approved(store, f"19-{i}", [("MUG", 2, "1")]) for i in range(4)]
    orders_allocate(order_ids=[o.pk for o in orders])
    orders_cancel(order_ids=[orders[0].pk])
    orders_hold(order_ids=[orders[1].pk], note="x")
    assert StockLevel.objects.get().reserved == 4
    call_command("check_stock")  # exits 1 (SystemExit) on drift
