"""The bins page: the user's bins only, filters, units on hand, paging, the label bulk bar,
permission and a query budget that does not grow with the rows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp.models import Role
from tests.factories import LocationFactory, UserFactory, WarehouseFactory
from warehouse.models import Location
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(warehouse):
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])


@pytest.fixture
def other_bin(db):
    return LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="LX-99")


def codes(response) -> list[str]:
    return [location.code for location in response.context["page"].object_list]


def test_lists_the_users_bins_in_pick_order_with_units_on_hand(client, clerk, bins, sku, other_bin):
    stock_receive(sku=sku, location=bins[1], quantity=4, unit_cost=Decimal("1"))
    stock_receive(sku=sku, location=other_bin, quantity=9, unit_cost=Decimal("1"))
    client.force_login(clerk)

    response = client.get(reverse("warehouse:bin-list"))

    assert response.status_code == 200
    assert codes(response) == ["A-01", "A-02", "A-03"]
    assert [b.on_hand for b in response.context["page"].object_list] == [0, 4, 0]
    html = response.content.decode()
    assert "LX-99" not in html and "LAX" not in html
    assert 'action="{}"'.format(reverse("warehouse:bin-labels")) in html
    assert f'name="location" value="{bins[0].pk}"' in html


def test_filters_by_kind_code_and_warehouse(client, admin_user, warehouse, bins, other_bin):
    LocationFactory(warehouse=warehouse, code="Q-01", kind=Location.Kind.QUARANTINE)
    client.force_login(admin_user)
    url = reverse("warehouse:bin-list")

    assert codes(client.get(url, {"kind": "quarantine"})) == ["Q-01"]
    assert codes(client.get(url, {"code": "a-0"})) == ["A-01", "A-02", "A-03"]
    assert codes(client.get(url, {"warehouse": other_bin.warehouse_id})) == ["LX-99"]


def test_another_warehouse_is_not_a_filter_choice(client, clerk, bins, other_bin):
    client.force_login(clerk)

    response = client.get(reverse("warehouse:bin-list"), {"warehouse": other_bin.warehouse_id})

    assert "LX-99" not in codes(response)
    assert "These filters were left out." in response.content.decode()


def test_htmx_gets_the_results_only(client, clerk, bins):
    client.force_login(clerk)

    response = client.get(reverse("warehouse:bin-list"), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.startswith('<div id="bin-results"')
    assert "<html" not in html


def test_pages_of_fifty(client, clerk, warehouse):
    for i in range(60):
        LocationFactory(warehouse=warehouse, code=f"B-{i:03d}", pick_sequence=i)
    client.force_login(clerk)

    first = client.get(reverse("warehouse:bin-list"))
    second = client.get(reverse("warehouse:bin-list"), {"page": 2})

    assert len(codes(first)) == 50
    assert codes(second)[0] == "B-050"
    assert len(codes(second)) == 10


def test_needs_the_view_permission(client):
    client.force_login(UserFactory())

    assert client.get(reverse("warehouse:bin-list")).status_code == 403


def test_query_count_does_not_grow_with_rows(
    client, clerk, warehouse, sku, django_assert_num_queries
):
    client.force_login(clerk)
    url = reverse("warehouse:bin-list")
    client.get(url)  # warm the session
    counts = []
    for n in (3, 30):
        for i in range(n):
            location = LocationFactory(warehouse=warehouse)
            stock_receive(sku=sku, location=location, quantity=1, unit_cost=Decimal("1"))
        # session, user, user and group permissions, roles, count, warehouses (filter), page
        with django_assert_num_queries(8) as captured:
            client.get(url)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_stock_page_links_to_the_bins(client, clerk, bins):
    client.force_login(clerk)

    html = client.get(reverse("warehouse:stock-overview")).content.decode()

    assert reverse("warehouse:bin-list") in html
