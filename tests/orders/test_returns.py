"""Returns: units of a shipped order restocked to a storage bin or kept damaged in quarantine;
never more than shipped; bundles as parts; the timeline; the stock-available retry; the return
page, the returns list and the API with their permissions and scopes."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp.models import Role
from erp.permissions import OutOfScope
from orders.models import (
    Order,
    OrderEvent,
    OrderReturn,
    OrderReturnLine,
    OrderStatus,
    SkuMapping,
)
from orders.services import (
    ReturnError,
    order_return_create,
    orders_allocate,
    orders_approve,
    orders_mark_labelled,
    orders_ship,
    orders_upsert,
    returnable_units,
)
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    ensure_roles,
    normalized_order,
)
from tests.warehouse.test_races import assert_no_database_errors, race
from warehouse.models import Location, Sku, StockLevel, StockMove
from warehouse.selectors import stock_drift
from warehouse.services import stock_receive
from warehouse.signals import stock_available

pytestmark = pytest.mark.django_db

RESTOCK, DAMAGED = "restock", "damaged"


@pytest.fixture
def wh(db):
    return WarehouseFactory(code="SZ", name="Shenzhen")


@pytest.fixture
def shelf(wh):
    return LocationFactory(warehouse=wh, code="A-01", pick_sequence=10)


@pytest.fixture
def shelf2(wh):
    return LocationFactory(warehouse=wh, code="A-02", pick_sequence=20)


@pytest.fixture
def quarantine(wh):
    return LocationFactory(warehouse=wh, code="Q-01", kind=Location.Kind.QUARANTINE)


@pytest.fixture
def store(wh):
    return StoreFactory(code="amz-us", platform="amazon", default_warehouse=wh)


@pytest.fixture
def mug(shelf):
    sku = SkuFactory(code="MUG-BLK", name="Black mug")
    stock_receive(sku=sku, location=shelf, quantity=10, unit_cost=Decimal("2.50"))
    return sku


@pytest.fixture
def worker(wh, store):
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[wh], stores=[store])


def level(sku: Sku, location: Location) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=location)


def ship(store, external_id: str, lines) -> Order:
    """An order through the whole life: approved, allocated, labelled, shipped."""
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines))], source="manual"
    )
    ids = result.order_ids
    orders_approve(order_ids=ids)
    assert orders_allocate(order_ids=ids).done == ids
    orders_mark_labelled(order_ids=ids)
    assert orders_ship(order_ids=ids).done == ids
    return Order.objects.get(pk=ids[0])


def line_of(order: Order, platform_sku: str):
    return order.lines.select_related("sku").get(platform_sku=platform_sku)


@pytest.fixture
def shipped(store, mug):
    """Order 111-1: 3 × MUG-BLK shipped from SZ/A-01 (7 units left there)."""
    return ship(store, "111-1", [("MUG-BLK", 3, "9.90")])


# --- the service -------------------------------------------------------------------------------


def test_restocked_units_are_available_again_damaged_ones_stay_in_quarantine(
    shipped, mug, shelf, quarantine, worker
):
    line = line_of(shipped, "MUG-BLK")

    order_return = order_return_create(
        order=shipped,
        lines=[(line, 2, RESTOCK, shelf), (line, 1, DAMAGED, quarantine)],
        reason="damaged_in_transit",
        note="RMA 12345",
        user=worker,
    )

    assert order_return.number == "111-1-R1"
    assert (order_return.status, order_return.created_by) == ("received", worker)
    assert (level(mug, shelf).on_hand, level(mug, shelf).available) == (9, 9)
    damaged = level(mug, quarantine)
    assert (damaged.on_hand, damaged.reserved, damaged.is_reservable) == (1, 0, False)
    rows = sorted(
        OrderReturnLine.objects.filter(order_return=order_return).values_list(
            "sku__code", "quantity", "disposition", "location__code"
        )
    )
    assert rows == [("MUG-BLK", 1, DAMAGED, "Q-01"), ("MUG-BLK", 2, RESTOCK, "A-01")]
    moves = StockMove.objects.filter(kind=StockMove.Kind.RETURN).order_by("location__code")
    assert [(m.location.code, m.quantity, m.reference, m.unit_cost) for m in moves] == [
        ("A-01", 2, f"order:{shipped.pk}", Decimal("2.5000")),
        ("Q-01", 1, f"order:{shipped.pk}", Decimal("2.5000")),
    ]
    assert {line.stock_move_id for line in order_return.lines.all()} == {m.pk for m in moves}
    mug.refresh_from_db()
    assert mug.avg_cost == Decimal("2.5000")  # returns come back at the average cost
    assert stock_drift() == []


def test_the_timeline_says_what_came_back_and_where(shipped, shelf, quarantine, worker):
    line = line_of(shipped, "MUG-BLK")

    order_return_create(
        order=shipped,
        lines=[(line, 2, RESTOCK, shelf), (line, 1, DAMAGED, quarantine)],
        reason="defective",
        user=worker,
    )

    event = shipped.events.get(kind=OrderEvent.Kind.RETURN)
    assert event.message == (
        "Returned 2 × MUG-BLK to SZ/A-01; 1 × MUG-BLK damaged → SZ/Q-01 (111-1-R1, defective)."
    )
    assert event.user == worker
    assert event.data["number"] == "111-1-R1"
    assert event.data["units"] == {RESTOCK: 2, DAMAGED: 1}
    # the order stays shipped
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.SHIPPED


def test_never_more_than_shipped_less_returned_and_nothing_half_written(shipped, shelf, quarantine):
    line = line_of(shipped, "MUG-BLK")
    order_return_create(order=shipped, lines=[(line, 2, RESTOCK, shelf)], reason="other")
    moves_before = StockMove.objects.count()

    with pytest.raises(ReturnError) as error:
        order_return_create(
            order=shipped,
            lines=[(line, 1, RESTOCK, shelf), (line, 1, DAMAGED, quarantine)],
            reason="other",
        )

    assert str(error.value) == (
        "Cannot return 2 × MUG-BLK of line MUG-BLK: 3 shipped, 2 already returned."
    )
    assert StockMove.objects.count() == moves_before
    assert OrderReturn.objects.count() == 1
    assert returnable_units(shipped) == {line.pk: 1}
    order_return_create(order=shipped, lines=[(line, 1, DAMAGED, quarantine)], reason="other")
    assert returnable_units(shipped) == {line.pk: 0}
    assert list(OrderReturn.objects.values_list("number", flat=True).order_by("id")) == [
        "111-1-R1",
        "111-1-R2",
    ]


def test_a_paired_multipack_returns_its_units(store, mug, shelf):
    SkuMapping.objects.create(platform_sku="MUG-2PACK", sku=mug, quantity=2)
    order = ship(store, "222-1", [("MUG-2PACK", 1, "15")])
    line = line_of(order, "MUG-2PACK")

    assert returnable_units(order) == {line.pk: 2}
    with pytest.raises(ReturnError, match="3 × MUG-BLK of line MUG-2PACK: 2 shipped"):
        order_return_create(order=order, lines=[(line, 3, RESTOCK, shelf)], reason="other")


def test_bundles_come_back_as_their_parts(store, wh, shelf, quarantine):
    cup, lid = SkuFactory(code="CUP"), SkuFactory(code="LID")
    for part in (cup, lid):
        stock_receive(sku=part, location=shelf, quantity=10, unit_cost=Decimal("1"))
    kit = SkuFactory(code="KIT", is_bundle=True)
    BundleItemFactory(bundle=kit, component=cup, quantity=1)
    BundleItemFactory(bundle=kit, component=lid, quantity=2)
    order = ship(store, "333-1", [("KIT", 2, "20")])
    line = line_of(order, "KIT")
    assert (level(cup, shelf).on_hand, level(lid, shelf).on_hand) == (8, 6)

    order_return_create(order=order, lines=[(line, 1, RESTOCK, shelf)], reason="other")

    assert (level(cup, shelf).on_hand, level(lid, shelf).on_hand) == (9, 8)
    rows = sorted(OrderReturnLine.objects.values_list("sku__code", "quantity", "order_line"))
    assert rows == [("CUP", 1, line.pk), ("LID", 2, line.pk)]
    assert returnable_units(order) == {line.pk: 1}
    event = order.events.get(kind=OrderEvent.Kind.RETURN)
    assert event.message.startswith("Returned 1 × KIT (1 × CUP, 2 × LID) to SZ/A-01")
    with pytest.raises(ReturnError, match=r"4 × LID \(in KIT\) of line KIT: 4 shipped, 2 already"):
        order_return_create(order=order, lines=[(line, 2, DAMAGED, quarantine)], reason="other")


def test_only_shipped_orders_take_returns(store, mug, shelf):
    result = orders_upsert(
        store=store, orders=[normalized_order("444-1", [("MUG-BLK", 1, "9")])], source="manual"
    )
    order = Order.objects.get(pk=result.order_ids[0])
    orders_approve(order_ids=[order.pk])
    orders_allocate(order_ids=[order.pk])
    order.refresh_from_db()

    with pytest.raises(ReturnError, match="Only shipped orders take returns; this order is"):
        order_return_create(
            order=order, lines=[(line_of(order, "MUG-BLK"), 1, RESTOCK, shelf)], reason="other"
        )
    assert returnable_units(order) == {line_of(order, "MUG-BLK").pk: 0}


def test_each_disposition_goes_to_its_kind_of_bin(shipped, shelf, quarantine, wh):
    line = line_of(shipped, "MUG-BLK")
    closed = LocationFactory(warehouse=wh, code="A-99", is_active=False)

    with pytest.raises(ReturnError) as error:
        order_return_create(
            order=shipped,
            lines=[
                (line, 1, RESTOCK, quarantine),
                (line, 1, DAMAGED, shelf),
                (line, 1, RESTOCK, closed),
            ],
            reason="other",
        )

    message = str(error.value)
    assert "Bin Q-01 is not an active storage bin" in message
    assert "Bin A-01 is not an active quarantine bin" in message
    assert "Bin A-99 is not an active storage bin" in message
    assert not OrderReturn.objects.exists()


def test_bad_input_is_refused_by_name(shipped, shelf, store):
    line = line_of(shipped, "MUG-BLK")
    other = ship(store, "555-1", [("MUG-BLK", 1, "9")])

    for lines, reason, expected in [
        ([], "other", "Say which units came back."),
        ([(line, 1, RESTOCK, shelf)], "bored", "Unknown return reason bored."),
        ([(line, 0, RESTOCK, shelf)], "other", "more than zero, of MUG-BLK"),
        ([(line, 1, "lost", shelf)], "other", "Unknown disposition lost."),
        ([(line_of(other, "MUG-BLK"), 1, RESTOCK, shelf)], "other", "is not in this order"),
    ]:
        with pytest.raises(ReturnError, match=expected):
            order_return_create(order=shipped, lines=lines, reason=reason)


def test_a_bin_outside_the_users_warehouses_is_out_of_scope(shipped, worker):
    lax = LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="L-01")

    with pytest.raises(OutOfScope):
        order_return_create(
            order=shipped,
            lines=[(line_of(shipped, "MUG-BLK"), 1, RESTOCK, lax)],
            reason="other",
            user=worker,
        )


def test_restock_frees_units_for_waiting_orders_damaged_does_not(
    store, mug, shelf, quarantine, django_capture_on_commit_callbacks
):
    # all 10 units go out: 9 shipped, and a new order for 2 finds 1 and waits
    shipped = ship(store, "666-1", [("MUG-BLK", 9, "9")])
    waiting = orders_upsert(
        store=store, orders=[normalized_order("666-2", [("MUG-BLK", 2, "9")])], source="manual"
    ).order_ids[0]
    orders_approve(order_ids=[waiting])
    orders_allocate(order_ids=[waiting])
    assert Order.objects.get(pk=waiting).status == OrderStatus.OUT_OF_STOCK
    line = line_of(shipped, "MUG-BLK")

    with django_capture_on_commit_callbacks(execute=True):
        order_return_create(order=shipped, lines=[(line, 3, DAMAGED, quarantine)], reason="other")
    assert Order.objects.get(pk=waiting).status == OrderStatus.OUT_OF_STOCK

    with django_capture_on_commit_callbacks(execute=True):
        order_return_create(order=shipped, lines=[(line, 1, RESTOCK, shelf)], reason="other")
    assert Order.objects.get(pk=waiting).status == OrderStatus.ALLOCATED


def _announced(callback) -> list[frozenset]:
    seen: list[frozenset] = []

    def listener(sender, sku_ids, **kwargs):
        seen.append(sku_ids)

    stock_available.connect(listener, dispatch_uid="test_returns")
    try:
        callback()
    finally:
        stock_available.disconnect(dispatch_uid="test_returns")
    return seen


def test_restock_announces_available_stock(shipped, mug, shelf, django_capture_on_commit_callbacks):
    line = line_of(shipped, "MUG-BLK")

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            order_return_create(order=shipped, lines=[(line, 1, RESTOCK, shelf)], reason="other")

    assert _announced(run) == [frozenset({mug.pk})]


def test_damaged_units_announce_nothing(shipped, quarantine, django_capture_on_commit_callbacks):
    line = line_of(shipped, "MUG-BLK")

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            order_return_create(
                order=shipped, lines=[(line, 1, DAMAGED, quarantine)], reason="other"
            )

    assert _announced(run) == []


# --- the return page ---------------------------------------------------------------------------


def test_order_page_shows_the_return_button_and_the_returns(client, shipped, shelf, worker):
    client.force_login(worker)
    url = reverse("orders:order-detail", args=[shipped.pk])

    before = client.get(url).content.decode()
    order_return_create(
        order=shipped, lines=[(line_of(shipped, "MUG-BLK"), 1, RESTOCK, shelf)], reason="other"
    )
    after = client.get(url).content.decode()

    assert reverse("orders:order-return", args=[shipped.pk]) in before
    assert "Nothing came back yet." in before
    assert "111-1-R1" in after
    assert "Returned 1 × MUG-BLK to SZ/A-01" in after


def test_the_form_offers_the_orders_bins_by_kind(
    client, shipped, shelf, shelf2, quarantine, worker
):
    LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="L-01")
    client.force_login(worker)

    response = client.get(reverse("orders:order-return", args=[shipped.pk]))

    assert response.status_code == 200
    form = response.context["form"]
    line = line_of(shipped, "MUG-BLK")
    restock_bins = [label for _value, label in form.fields[f"restock_{line.pk}_bin"].choices]
    damaged_bins = [label for _value, label in form.fields[f"damaged_{line.pk}_bin"].choices]
    assert restock_bins == ["—", "SZ / A-01", "SZ / A-02"]
    assert damaged_bins == ["—", "SZ / Q-01"]
    # the bin that already holds the SKU is the first choice; the first field has the focus
    assert form.fields[f"restock_{line.pk}_bin"].initial == shelf.pk
    assert "autofocus" in form.fields[f"restock_{line.pk}"].widget.attrs
    assert "L-01" not in response.content.decode()


def test_posting_the_form_puts_away_and_goes_back_to_the_order(
    client, shipped, mug, shelf, quarantine, worker
):
    client.force_login(worker)
    line = line_of(shipped, "MUG-BLK")

    response = client.post(
        reverse("orders:order-return", args=[shipped.pk]),
        {
            f"restock_{line.pk}": "2",
            f"restock_{line.pk}_bin": shelf.pk,
            f"damaged_{line.pk}": "1",
            f"damaged_{line.pk}_bin": quarantine.pk,
            "reason": "not_as_described",
            "note": "box crushed",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("orders:order-detail", args=[shipped.pk]), 302)]
    assert "Return 111-1-R1 recorded." in response.content.decode()
    assert (level(mug, shelf).on_hand, level(mug, quarantine).on_hand) == (9, 1)
    assert OrderReturn.objects.get().note == "box crushed"


def test_the_form_refuses_too_many_units_and_a_missing_bin(client, shipped, shelf, worker):
    client.force_login(worker)
    line = line_of(shipped, "MUG-BLK")
    url = reverse("orders:order-return", args=[shipped.pk])

    too_many = client.post(
        url,
        {
            f"restock_{line.pk}": "2",
            f"restock_{line.pk}_bin": shelf.pk,
            f"damaged_{line.pk}": "2",
            "reason": "other",
        },  # fmt: skip
    )
    nothing = client.post(url, {"reason": "other", f"restock_{line.pk}_bin": shelf.pk})

    errors = too_many.context["form"].errors
    assert errors[f"restock_{line.pk}"] == ["At most 3 units of MUG-BLK can come back."]
    assert errors[f"damaged_{line.pk}_bin"] == ["Choose the bin."]
    assert nothing.context["form"].non_field_errors() == ["Enter how many units came back."]
    assert not OrderReturn.objects.exists()


def test_a_bin_of_another_warehouse_cannot_be_posted(client, shipped, worker):
    lax = LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="L-01")
    client.force_login(worker)
    line = line_of(shipped, "MUG-BLK")

    response = client.post(
        reverse("orders:order-return", args=[shipped.pk]),
        {f"restock_{line.pk}": "1", f"restock_{line.pk}_bin": lax.pk, "reason": "other"},
    )

    assert response.status_code == 200
    assert f"restock_{line.pk}_bin" in response.context["form"].errors
    assert not OrderReturn.objects.exists()


def test_an_unshipped_order_shows_why_it_takes_no_return(client, store, mug, worker):
    result = orders_upsert(
        store=store, orders=[normalized_order("777-1", [("MUG-BLK", 1, "9")])], source="manual"
    )
    client.force_login(worker)

    response = client.get(reverse("orders:order-return", args=[result.order_ids[0]]))

    assert "Only shipped orders take returns" in response.content.decode()


def test_the_page_needs_the_permission_and_the_store(client, shipped, wh):
    finance = UserFactory(roles=[Role.FINANCE])
    elsewhere = UserFactory(roles=[Role.WAREHOUSE], stores=[StoreFactory(code="other")])
    url = reverse("orders:order-return", args=[shipped.pk])

    client.force_login(finance)
    assert client.get(url).status_code == 403
    client.force_login(elsewhere)
    assert client.get(url).status_code == 404


# --- the returns list --------------------------------------------------------------------------


@pytest.fixture
def some_returns(store, shelf, quarantine, mug):
    """Two returns in amz-us (one restock, one damaged) and one in another store."""
    a = ship(store, "A-1", [("MUG-BLK", 1, "9")])
    b = ship(store, "B-1", [("MUG-BLK", 1, "9")])
    other = StoreFactory(code="ebay-de", platform="ebay")
    c = ship(other, "C-1", [("MUG-BLK", 1, "9")])
    order_return_create(order=a, lines=[(line_of(a, "MUG-BLK"), 1, RESTOCK, shelf)], reason="other")
    order_return_create(
        order=b, lines=[(line_of(b, "MUG-BLK"), 1, DAMAGED, quarantine)], reason="defective"
    )
    order_return_create(order=c, lines=[(line_of(c, "MUG-BLK"), 1, RESTOCK, shelf)], reason="other")
    return other


def numbers(response) -> list[str]:
    return sorted(r.number for r in response.context["page"].object_list)


def test_the_list_filters_by_store_disposition_and_date(client, some_returns, store):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))
    url = reverse("orders:return-list")

    assert numbers(client.get(url)) == ["A-1-R1", "B-1-R1", "C-1-R1"]
    assert numbers(client.get(url, {"store": store.pk})) == ["A-1-R1", "B-1-R1"]
    assert numbers(client.get(url, {"disposition": DAMAGED})) == ["B-1-R1"]
    assert numbers(client.get(url, {"received_before": "2000-01-01"})) == []
    assert numbers(client.get(url, {"q": "c-1"})) == ["C-1-R1"]
    assert numbers(client.get(url, {"sku": "MUG-BLK", "reason": "defective"})) == ["B-1-R1"]


def test_the_list_shows_only_the_users_stores(client, some_returns, worker):
    client.force_login(worker)

    response = client.get(reverse("orders:return-list"))

    assert numbers(response) == ["A-1-R1", "B-1-R1"]
    assert "C-1" not in response.content.decode()


def test_the_list_needs_the_view_permission_and_is_in_the_nav(client, some_returns):
    client.force_login(UserFactory())
    assert client.get(reverse("orders:return-list")).status_code == 403

    client.force_login(UserFactory(roles=[Role.FINANCE]))
    response = client.get(reverse("orders:return-list"))
    assert response.status_code == 200
    assert 'aria-current="page">Returns</a>' in response.content.decode()


def test_the_list_query_count_does_not_grow(client, some_returns, store, shelf):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))
    url = reverse("orders:return-list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(5):
        order = ship(store, f"D-{i}", [("MUG-BLK", 1, "9")])
        order_return_create(
            order=order, lines=[(line_of(order, "MUG-BLK"), 1, RESTOCK, shelf)], reason="other"
        )
    with CaptureQueriesContext(connection) as more:
        client.get(url)

    assert len(more) == len(few)


# --- API ---------------------------------------------------------------------------------------


def post_return(api, order, lines, reason="other", **extra):
    return api.post(
        f"/api/v1/orders/{order.pk}/returns/", {"reason": reason, "lines": lines, **extra}
    )


def test_api_records_a_return(client_as, shipped, mug, shelf, quarantine, worker):
    line = line_of(shipped, "MUG-BLK")

    response = post_return(
        client_as(worker),
        shipped,
        [
            {"line": line.pk, "quantity": 2, "disposition": RESTOCK, "location": shelf.pk},
            {"line": line.pk, "quantity": 1, "disposition": DAMAGED, "location": quarantine.pk},
        ],
        note="RMA-9",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["order"], body["store_code"]) == ("111-1-R1", shipped.pk, "amz-us")
    assert (body["note"], body["status"], body["created_by_name"]) == (
        "RMA-9",
        "received",
        worker.username,
    )
    rows = [
        (x["sku_code"], x["quantity"], x["disposition"], x["location_code"]) for x in body["lines"]
    ]
    assert sorted(rows) == [
        ("MUG-BLK", 1, DAMAGED, "Q-01"),
        ("MUG-BLK", 2, RESTOCK, "A-01"),
    ]
    assert level(mug, shelf).on_hand == 9


def test_api_refusals(client_as, shipped, shelf, store, worker):
    line = line_of(shipped, "MUG-BLK")
    api = client_as(worker)
    lax = LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="L-01")
    other_store_order = ship(StoreFactory(code="other"), "888-1", [("MUG-BLK", 1, "9")])

    def one(location, quantity=1, line_id=line.pk):
        return [
            {"line": line_id, "quantity": quantity, "disposition": RESTOCK, "location": location}
        ]

    too_many = post_return(api, shipped, one(shelf.pk, 4))
    out_of_scope = post_return(api, shipped, one(lax.pk))
    foreign = post_return(api, other_store_order, one(shelf.pk))
    unknown_line = post_return(api, shipped, one(shelf.pk, line_id=999999))
    empty = post_return(api, shipped, [])

    assert too_many.status_code == 400
    assert too_many.json() == {
        "code": "return_invalid",
        "detail": "Cannot return 4 × MUG-BLK of line MUG-BLK: 3 shipped, 0 already returned.",
    }
    assert (out_of_scope.status_code, out_of_scope.json()["code"]) == (403, "out_of_scope")
    assert foreign.status_code == 404
    assert unknown_line.status_code == 400 and "999999" in str(unknown_line.json()["lines"])
    assert empty.status_code == 400
    assert not OrderReturn.objects.exists()


def test_api_permissions(client_as, shipped, shelf, some_returns):
    finance = client_as(UserFactory(roles=[Role.FINANCE]))
    nobody = client_as(UserFactory())
    lines = [{"line": line_of(shipped, "MUG-BLK").pk, "quantity": 1, "disposition": RESTOCK,
              "location": shelf.pk}]  # fmt: skip

    assert post_return(finance, shipped, lines).status_code == 403
    assert finance.get("/api/v1/returns/").status_code == 200
    assert nobody.get("/api/v1/returns/").status_code == 403


def test_api_list_is_scoped_filtered_and_paged(client_as, some_returns, store, worker):
    api = client_as(worker)

    everything = api.get("/api/v1/returns/").json()
    damaged = api.get("/api/v1/returns/", {"disposition": DAMAGED}).json()
    first = everything["results"][0]

    assert everything["count"] == 2
    assert sorted(r["number"] for r in everything["results"]) == ["A-1-R1", "B-1-R1"]
    assert [r["number"] for r in damaged["results"]] == ["B-1-R1"]
    assert api.get(f"/api/v1/returns/{first['id']}/").json()["number"] == first["number"]
    other = OrderReturn.objects.get(order__store=some_returns)
    assert api.get(f"/api/v1/returns/{other.pk}/").status_code == 404


def test_api_list_query_count_is_constant(client_as, some_returns, django_assert_max_num_queries):
    api = client_as(UserFactory(roles=[Role.OPERATIONS]))

    # user, roles (x2), count, page, lines (with SKU and bin)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/returns/")
    assert response.json()["count"] == 3


# --- races (PostgreSQL) ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_returns_of_the_last_units_at_once_only_one_wins():
    wh = WarehouseFactory(code="SZ")
    shelf = LocationFactory(warehouse=wh, code="A-01")
    mug = SkuFactory(code="MUG-BLK")
    stock_receive(sku=mug, location=shelf, quantity=5, unit_cost=Decimal("1"))
    order = ship(StoreFactory(default_warehouse=wh), "999-1", [("MUG-BLK", 2, "9")])
    line = line_of(order, "MUG-BLK")

    def work(_worker: int):
        return order_return_create(order=order, lines=[(line, 2, RESTOCK, shelf)], reason="other")

    try:
        results = race(6, work)
        assert_no_database_errors(results)
        assert sum(isinstance(r, OrderReturn) for r in results) == 1
        assert sum(isinstance(r, ReturnError) for r in results) == 5
        assert level(mug, shelf).on_hand == 5
        call_command("check_stock")
    finally:
        ensure_roles()
