"""The orders API: list with filters and counts, detail, the moves, bulk moves, pairing;
permissions and store scope."""

from decimal import Decimal

import pytest

from erp.models import Role
from orders.models import Order, OrderStatus, SkuMapping
from orders.services import orders_upsert
from tests.factories import LocationFactory, SkuFactory, StoreFactory, UserFactory, normalized_order
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(platform="amazon", code="amz")


@pytest.fixture
def other_store():
    return StoreFactory(platform="shopify", code="shop")


@pytest.fixture
def mug():
    return SkuFactory(code="MUG")


@pytest.fixture
def ops(store):
    return UserFactory(roles=[Role.OPERATIONS], stores=[store])


def make(store, external_id, lines=(("MUG", 1, "10"),), **kwargs) -> Order:
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines), **kwargs)], source="api"
    )
    return Order.objects.get(pk=result.order_ids[0])


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/orders/").status_code == 401


def test_list_is_scoped_to_the_users_stores(client_as, ops, store, other_store, mug):
    mine = make(store, "A-1")
    make(other_store, "B-1")
    response = client_as(ops).get("/api/v1/orders/")
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [mine.pk]
    row = response.json()["results"][0]
    assert row["store_code"] == "amz" and row["lines"][0]["sku_code"] == "MUG"
    assert row["total"] == "10.00"


def test_detail_outside_scope_is_404(client_as, ops, other_store, mug):
    theirs = make(other_store, "B-2")
    assert client_as(ops).get(f"/api/v1/orders/{theirs.pk}/").status_code == 404


def test_detail_has_events_and_reservations(client_as, ops, store, mug):
    stock_receive(sku=mug, location=LocationFactory(), quantity=3, unit_cost=Decimal("1"))
    order = make(store, "A-2")
    client = client_as(ops)
    assert client.post(f"/api/v1/orders/{order.pk}/approve/").status_code == 200
    response = client.post(f"/api/v1/orders/{order.pk}/allocate/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "allocated"
    assert body["reservations"][0]["quantity"] == 1
    assert [e["to_status"] for e in body["events"]] == ["new", "approved", "allocated"]


def test_moves_refused_with_409_and_a_reason(client_as, ops, store, mug):
    order = make(store, "A-3")
    response = client_as(ops).post(f"/api/v1/orders/{order.pk}/allocate/")
    assert response.status_code == 409
    assert "approved" in response.json()["detail"]


def test_filters_search_and_counts(client_as, ops, store, mug):
    make(store, "US-1")
    make(store, "DE-1", [("UNKNOWN", 1, "1")])
    client = client_as(ops)
    held = client.get("/api/v1/orders/", {"status": "on_hold"}).json()["results"]
    assert [o["external_id"] for o in held] == ["DE-1"]
    found = client.get("/api/v1/orders/", {"q": "UNKNOWN"}).json()["results"]
    assert [o["external_id"] for o in found] == ["DE-1"]
    counts = client.get("/api/v1/orders/counts/", {"status": "new"}).json()
    assert (counts["new"], counts["on_hold"], counts["exceptions"]) == (1, 1, 0)


def test_bulk_moves_name_each_failure(client_as, ops, store, other_store, mug):
    a = make(store, "A-4")
    held = make(store, "A-5", [("NOPE", 1, "1")])
    theirs = make(other_store, "B-3")
    response = client_as(ops).post(
        "/api/v1/orders/bulk/",
        {"action": "approve", "ids": [a.pk, held.pk, theirs.pk]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["done"] == [a.pk]
    failed = {f["id"]: f["detail"] for f in body["failed"]}
    assert set(failed) == {held.pk, theirs.pk}
    assert failed[theirs.pk] == "No such order."
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.NEW


def test_bulk_hold_needs_a_note(client_as, ops, store, mug):
    a = make(store, "A-6")
    response = client_as(ops).post(
        "/api/v1/orders/bulk/", {"action": "hold", "ids": [a.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "why" in response.json()["detail"]


def test_finance_may_read_but_not_move(client_as, store, mug):
    finance = UserFactory(roles=[Role.FINANCE])
    order = make(store, "A-7")
    client = client_as(finance)
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert client.post(f"/api/v1/orders/{order.pk}/approve/").status_code == 403
    response = client.post("/api/v1/orders/bulk/", {"action": "approve", "ids": [order.pk]})
    assert response.status_code == 403


def test_address_edit_and_split(client_as, ops, store, mug):
    order = make(store, "A-8", [("MUG", 3, "10")])
    client = client_as(ops)
    response = client.post(
        f"/api/v1/orders/{order.pk}/address/", {"ship_city": "Chicago"}, format="json"
    )
    assert response.status_code == 200 and response.json()["address_edited"] is True
    line = order.lines.get()
    response = client.post(
        f"/api/v1/orders/{order.pk}/split/",
        {"lines": [{"line": line.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["external_id"] == "A-8-2"
    response = client.post(
        f"/api/v1/orders/{order.pk}/split/",
        {"lines": [{"line": line.pk, "quantity": 5}]},
        format="json",
    )
    assert response.status_code == 400


def test_merge(client_as, ops, store, mug):
    a, b = make(store, "A-9"), make(store, "A-10")
    response = client_as(ops).post("/api/v1/orders/merge/", {"ids": [a.pk, b.pk]}, format="json")
    assert response.status_code == 200
    assert len(response.json()["lines"]) == 2


def test_pairing_releases_held_orders(client_as, ops, store, mug):
    held = make(store, "A-11", [("AMZ-MUG", 1, "10")])
    client = client_as(ops)
    unpaired = client.get("/api/v1/sku-mappings/unpaired/").json()["results"]
    assert unpaired == [
        {
            "platform_sku": "AMZ-MUG",
            "store": store.pk,
            "store_code": "amz",
            "orders": 1,
            "title": "Item AMZ-MUG",
            "oldest": unpaired[0]["oldest"],
        }
    ]
    response = client.post(
        "/api/v1/sku-mappings/",
        {"store": store.pk, "platform_sku": "AMZ-MUG", "sku": mug.pk, "quantity": 1},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["released"] == [held.pk]
    assert Order.objects.get(pk=held.pk).status == OrderStatus.NEW


def test_scoped_user_cannot_pair_globally_or_for_other_stores(client_as, ops, other_store, mug):
    client = client_as(ops)
    response = client.post(
        "/api/v1/sku-mappings/", {"platform_sku": "X", "sku": mug.pk}, format="json"
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/sku-mappings/",
        {"store": other_store.pk, "platform_sku": "X", "sku": mug.pk},
        format="json",
    )
    assert response.status_code == 400
    assert not SkuMapping.objects.exists()


def test_list_query_count_is_constant(client_as, ops, store, mug, django_assert_max_num_queries):
    for i in range(30):
        make(store, f"Q-{i}", [("MUG", 1, "1"), ("CUP", 2, "1")])
    with django_assert_max_num_queries(8):
        assert client_as(ops).get("/api/v1/orders/").status_code == 200


@pytest.mark.parametrize("small_set", [0, 2000])
def test_counts_are_the_same_whichever_way_they_are_counted(
    client_as, ops, store, mug, monkeypatch, small_set
):
    """Large lists are counted per status with a cap, small ones in one pass: same result."""
    from orders import selectors

    monkeypatch.setattr(selectors, "SMALL_SET", small_set)
    make(store, "C-1")
    make(store, "C-2", [("NOPE", 1, "1")])
    flagged = make(store, "C-3")
    Order.objects.filter(pk=flagged.pk).update(exception="cancelled after shipping")
    counts = client_as(ops).get("/api/v1/orders/counts/").json()
    assert (counts["new"], counts["on_hold"], counts["exceptions"], counts["shipped"]) == (
        2,
        1,
        1,
        0,
    )


def test_tab_counts_stop_at_the_cap(store, mug, monkeypatch):
    from orders import selectors

    monkeypatch.setattr(selectors, "SMALL_SET", 0)
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 2)
    for i in range(4):
        make(store, f"K-{i}")
    counts = selectors.status_counts(Order.objects.all())
    assert counts["new"] == 3  # cap + 1: "more than 2"


def test_counts_stop_sooner_when_filters_no_index_serves_narrow_the_list(client_as, ops, store):
    from orders.selectors import NARROWED_TAB_COUNT_CAP, TAB_COUNT_CAP

    client = client_as(ops)
    assert client.get("/api/v1/orders/counts/", {"store": store.pk}).json()["cap"] == TAB_COUNT_CAP
    narrowed = client.get("/api/v1/orders/counts/", {"country": "DE"}).json()
    assert narrowed["cap"] == NARROWED_TAB_COUNT_CAP


def test_search_finds_an_order_by_its_platform_number(client_as, ops, store, mug):
    make(store, "5550000000001", reference="#1001")
    make(store, "5550000000002", reference="#1002")
    found = client_as(ops).get("/api/v1/orders/", {"q": "#1001"}).json()["results"]
    assert [(o["external_id"], o["platform_reference"]) for o in found] == [
        ("5550000000001", "#1001")
    ]
