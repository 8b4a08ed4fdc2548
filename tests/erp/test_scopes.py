"""Warehouse scopes through the API: a user scoped to warehouse A never sees warehouse B's
rows (lists and details are filtered in SQL, so B's rows are simply not found) and cannot
change stock in B's bins (403, code ``out_of_scope``)."""

from decimal import Decimal

import pytest

from erp.models import Role
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse.models import Location, StockLevel, StockMove
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_warehouses(db):
    """Warehouse A (SZ) and B (LA), one bin each plus a second bin in B, one SKU in both."""
    a, b = WarehouseFactory(code="SZ"), WarehouseFactory(code="LA")
    bin_a = LocationFactory(warehouse=a, code="A-01")
    bin_b = LocationFactory(warehouse=b, code="B-01")
    bin_b2 = LocationFactory(warehouse=b, code="B-02")
    sku = SkuFactory(code="MUG-RED")
    for location, quantity in [(bin_a, 3), (bin_b, 8)]:
        stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal("1"))
    return a, b, bin_a, bin_b, bin_b2, sku


@pytest.fixture
def scoped_to_a(client_as, two_warehouses):
    a = two_warehouses[0]
    return client_as(UserFactory(roles=[Role.WAREHOUSE], warehouses=[a]))


def _codes(client, url, key):
    response = client.get(url)
    assert response.status_code == 200
    return [row[key] for row in response.json()["results"]]


def test_lists_show_only_the_users_warehouses(scoped_to_a, two_warehouses):
    a, b, *_ = two_warehouses

    assert _codes(scoped_to_a, "/api/v1/warehouses/", "code") == ["SZ"]
    assert _codes(scoped_to_a, "/api/v1/locations/", "code") == ["A-01"]
    assert _codes(scoped_to_a, "/api/v1/stock-levels/", "location_code") == ["A-01"]
    assert _codes(scoped_to_a, "/api/v1/stock-moves/", "location_code") == ["A-01"]


def test_filtering_by_another_warehouse_finds_nothing(scoped_to_a, two_warehouses):
    a, b, *_ = two_warehouses

    assert _codes(scoped_to_a, f"/api/v1/locations/?warehouse={b.pk}", "code") == []
    assert _codes(scoped_to_a, f"/api/v1/stock-levels/?warehouse={b.pk}", "location_code") == []
    assert _codes(scoped_to_a, f"/api/v1/stock-moves/?warehouse={b.pk}", "location_code") == []


def test_details_in_another_warehouse_are_not_found(scoped_to_a, two_warehouses):
    a, b, bin_a, bin_b, bin_b2, sku = two_warehouses
    level_b = StockLevel.objects.get(location=bin_b)
    move_b = StockMove.objects.get(location=bin_b)

    assert {
        url: scoped_to_a.get(url).status_code
        for url in [
            f"/api/v1/warehouses/{b.pk}/",
            f"/api/v1/locations/{bin_b.pk}/",
            f"/api/v1/stock-levels/{level_b.pk}/",
            f"/api/v1/stock-moves/{move_b.pk}/",
        ]
    } == {
        f"/api/v1/warehouses/{b.pk}/": 404,
        f"/api/v1/locations/{bin_b.pk}/": 404,
        f"/api/v1/stock-levels/{level_b.pk}/": 404,
        f"/api/v1/stock-moves/{move_b.pk}/": 404,
    }


def test_sku_stock_counts_only_the_users_warehouses(scoped_to_a, two_warehouses):
    sku = two_warehouses[-1]

    rows = scoped_to_a.get(f"/api/v1/skus/{sku.pk}/stock/").json()["results"]

    assert [(r["warehouse_code"], r["on_hand"]) for r in rows] == [("SZ", 3)]


def test_cannot_adjust_a_bin_of_another_warehouse(scoped_to_a, two_warehouses):
    *_, bin_b, _bin_b2, sku = two_warehouses

    response = scoped_to_a.post(
        "/api/v1/stock-adjustments/",
        {"sku": sku.pk, "location": bin_b.pk, "quantity": -8, "reason": "gone"},
    )

    assert response.status_code == 403
    assert response.json() == {
        "code": "out_of_scope",
        "detail": "You may not change stock in a warehouse outside your scope.",
    }
    assert StockLevel.objects.get(location=bin_b).on_hand == 8
    assert StockMove.objects.count() == 2


def test_cannot_move_stock_between_bins_of_another_warehouse(scoped_to_a, two_warehouses):
    *_, bin_b, bin_b2, sku = two_warehouses

    response = scoped_to_a.post(
        "/api/v1/stock-relocations/",
        {"sku": sku.pk, "from_location": bin_b.pk, "to_location": bin_b2.pk, "quantity": 1},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    assert StockMove.objects.count() == 2


def test_cannot_create_or_change_bins_of_another_warehouse(scoped_to_a, two_warehouses):
    a, b, bin_a, bin_b, *_ = two_warehouses

    created = scoped_to_a.post("/api/v1/locations/", {"warehouse": b.pk, "code": "B-99"})
    changed = scoped_to_a.patch(f"/api/v1/locations/{bin_b.pk}/", {"pick_sequence": 1})

    assert created.status_code == 400
    assert created.json() == {"warehouse": [f'Invalid pk "{b.pk}" - object does not exist.']}
    assert changed.status_code == 404
    assert list(Location.objects.filter(warehouse=b).values_list("code", flat=True)) == [
        "B-01",
        "B-02",
    ]


def test_a_user_with_no_warehouses_sees_no_stock(client_as, two_warehouses):
    client = client_as(UserFactory(roles=[Role.WAREHOUSE], warehouses=[]))

    assert _codes(client, "/api/v1/warehouses/", "code") == []
    assert _codes(client, "/api/v1/stock-levels/", "location_code") == []
    assert _codes(client, "/api/v1/stock-moves/", "location_code") == []


def test_all_warehouses_and_admins_see_every_warehouse(client_as, two_warehouses):
    everywhere = client_as(UserFactory(roles=[Role.WAREHOUSE]))  # all_warehouses=True
    admin = client_as(UserFactory(roles=[Role.ADMIN], warehouses=[two_warehouses[0]]))

    assert _codes(everywhere, "/api/v1/warehouses/", "code") == ["LA", "SZ"]
    assert _codes(admin, "/api/v1/stock-levels/", "location_code") == ["B-01", "A-01"]
