"""Units in receiving or quarantine bins are on hand but not available: orders cannot reserve
them, so no total calls them available and no low-stock flag counts them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp.models import Role
from erp.selectors import dashboard_summary
from tests.factories import LocationFactory, UserFactory
from warehouse.models import Location, StockLevel
from warehouse.selectors import LOW_STOCK_LEVELS, sku_stock_queryset
from warehouse.services import InsufficientStock, StockLine, stock_receive, stock_reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_stock(sku, warehouse, bins):
    """``sku``: 5 units in storage bin A-01 (1 reserved), 7 in quarantine, 2 in a closed bin."""
    sku.low_stock_threshold = 3
    sku.save()
    quarantine = LocationFactory(warehouse=warehouse, code="QC", kind=Location.Kind.QUARANTINE)
    closed = LocationFactory(warehouse=warehouse, code="OLD", is_active=False)
    for location, quantity in ((bins[0], 5), (quarantine, 7), (closed, 2)):
        stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal("1"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="ol:1")
    return quarantine


def test_reservation_and_totals_agree_on_what_is_available(sku, warehouse, split_stock):
    user = UserFactory(roles=[Role.OPERATIONS])

    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 5)], reference="ol:2")
    assert exc.value.shortages[0].available == 4

    row = sku_stock_queryset(user=user).get(pk=sku.pk)
    assert (row.on_hand_total, row.available_total) == (14, 4)
    summary = dashboard_summary(user=user)
    assert (summary["on_hand"], summary["reserved"], summary["available"]) == (14, 1, 4)
    assert summary["by_warehouse"][0]["available"] == 4


def test_low_stock_counts_only_bins_orders_draw_from(sku, bins, split_stock):
    # 4 available > threshold 3 → not low; quarantine and closed bins never count
    assert StockLevel.objects.filter(LOW_STOCK_LEVELS).count() == 0
    stock_reserve(warehouse=bins[0].warehouse, lines=[StockLine(sku, 1)], reference="ol:3")
    assert list(StockLevel.objects.filter(LOW_STOCK_LEVELS).values_list("location__code")) == [
        ("A-01",)
    ]


def test_pages_show_reservable_available(client, sku, split_stock):
    client.force_login(UserFactory(roles=[Role.WAREHOUSE]))

    detail = client.get(reverse("warehouse:sku-detail", args=[sku.pk]))
    stock = client.get(reverse("warehouse:stock-overview"))

    assert detail.context["totals"] == {"on_hand": 14, "reserved": 1, "available": 4}
    assert stock.context["totals"] == {"on_hand": 14, "reserved": 1, "available": 4}
