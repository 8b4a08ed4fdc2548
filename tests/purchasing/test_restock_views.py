"""The restock page and API: explanations shown, drafts created from ticked lines (grouped by
supplier), roles (purchasing works, finance reads, warehouse gets 403), scopes, filters and
query budgets."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.models import Role
from purchasing.models import PurchaseOrder, RestockPolicy, Supplier, SupplierProduct
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse.models import StockLevel, StockMove, Warehouse

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def ago(days: int) -> datetime:
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today - timedelta(days=days), time(12)))


def history(sku, location, *, per_day: int, left: int) -> None:
    """Received 35 days ago, ``per_day`` shipped on each of the last 30 days, ``left`` left."""
    level = StockLevel.objects.create(sku=sku, location=location, on_hand=per_day * 30 + left)
    moves = [
        StockMove(
            sku=sku,
            location=location,
            quantity=level.on_hand,
            balance_after=level.on_hand,
            kind=StockMove.Kind.RECEIPT,
            at=ago(35),
        )
    ]
    for n in range(30, 0, -1):
        moves.append(
            StockMove(
                sku=sku,
                location=location,
                quantity=-per_day,
                balance_after=left + per_day * (n - 1),
                kind=StockMove.Kind.SHIPMENT,
                at=ago(n),
            )
        )
    StockMove.objects.bulk_create(moves)
    level.on_hand = left
    level.save(update_fields=["on_hand"])


@pytest.fixture
def world(db):
    sz = WarehouseFactory(code="SZ", name="Shenzhen", kind=Warehouse.Kind.OWN, country="CN")
    us = WarehouseFactory(code="US-LA", kind=Warehouse.Kind.OVERSEAS, country="US")
    sz_bin = LocationFactory(warehouse=sz, code="A-01")
    us_bin = LocationFactory(warehouse=us, code="U-01")
    yiwu = Supplier.objects.create(code="YIWU", name="Yiwu Mugs", lead_days=3)
    other = Supplier.objects.create(code="NINGBO", name="Ningbo Cables", lead_days=3)
    mug = SkuFactory(code="MUG-01", name="Mug", name_zh="马克杯")
    cable = SkuFactory(code="CABLE-01", name="Cable", name_zh="数据线")
    plenty = SkuFactory(code="PLENTY-01", name="Plenty")
    orphan = SkuFactory(code="ORPHAN-01", name="No supplier")
    SupplierProduct.objects.create(
        supplier=yiwu,
        sku=mug,
        price_tiers=[[1, "10.00"], [100, "8.50"]],
        moq=50,
        lead_days=5,
        is_preferred=True,
    )
    SupplierProduct.objects.create(supplier=other, sku=cable, price_tiers=[[1, "3.20"]])
    history(mug, sz_bin, per_day=2, left=10)
    history(mug, us_bin, per_day=2, left=10)
    history(cable, sz_bin, per_day=3, left=0)
    history(plenty, sz_bin, per_day=1, left=500)
    history(orphan, sz_bin, per_day=1, left=0)
    return {
        "sz": sz,
        "us": us,
        "mug": mug,
        "cable": cable,
        "plenty": plenty,
        "orphan": orphan,
        "yiwu": yiwu,
    }


@pytest.fixture
def buyer(world):
    return UserFactory(roles=[Role.PURCHASING])


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("purchasing:restock"), params)


def test_the_page_lists_what_to_restock_with_every_number_explained(client, buyer, world):
    response = page(client, buyer)

    assert response.status_code == 200
    body = response.content.decode()
    for code in ("MUG-01", "CABLE-01", "ORPHAN-01"):
        assert code in body
    assert "PLENTY-01" not in body  # 500 left at 1/day: nothing to do
    assert "马克杯" in body
    assert "Velocity = 0.50 × 2.00 + 0.30 × 2.00 + 0.20 × 2.00 = 2.00/day." in body
    assert "Days to cover = supplier lead 5 + QC 1 + transit 0 + safety 7 + purchase cycle 14" in (
        body
    )
    assert "Create draft purchase orders" in body
    assert 'name="qty-{}-{}" value="50"'.format(world["mug"].pk, world["sz"].pk) in body
    # the overseas row is sent what Shenzhen spares: none (keeps 2 × 13 = 26 of 10)
    assert "No transfer: SZ keeps 26 of its 10 available" in body
    assert "How the suggestions are worked out" in body


def test_the_page_in_chinese(client, buyer, world):
    client.force_login(buyer)
    response = client.get(reverse("purchasing:restock"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert "MUG-01" in response.content.decode()


def test_filters_narrow_the_rows(client, buyer, world):
    def codes(**params):
        body = page(client, buyer, **params).content.decode()
        return [c for c in ("MUG-01", "CABLE-01", "PLENTY-01", "ORPHAN-01") if c in body]

    assert codes(q="cable") == ["CABLE-01"]
    assert codes(q="马克") == ["MUG-01"]
    assert codes(supplier=world["yiwu"].pk) == ["MUG-01"]
    assert codes(only_needed="false") == ["MUG-01", "CABLE-01", "PLENTY-01", "ORPHAN-01"]
    body = page(client, buyer, warehouse=world["us"].pk).content.decode()
    assert f'value="{world["mug"].pk}-{world["us"].pk}"' in body
    assert f'value="{world["mug"].pk}-{world["sz"].pk}"' not in body


def test_htmx_gets_only_the_results(client, buyer, world):
    client.force_login(buyer)
    response = client.get(reverse("purchasing:restock"), {"q": "mug"}, **HTMX)

    body = response.content.decode()
    assert body.startswith('<div id="restock-results"')
    assert "MUG-01" in body


def test_the_warehouse_role_may_not_see_it_and_finance_only_reads(client, world):
    keeper = UserFactory(roles=[Role.WAREHOUSE])
    finance = UserFactory(roles=[Role.FINANCE])

    assert page(client, keeper).status_code == 403
    response = page(client, finance)
    assert response.status_code == 200
    assert "Create draft purchase orders" not in response.content.decode()
    response = client.post(reverse("purchasing:restock-create"), {"line": "1-1"})
    assert response.status_code == 403


def test_a_scoped_buyer_sees_only_their_warehouses(client, world):
    scoped = UserFactory(roles=[Role.PURCHASING], warehouses=[world["us"]])

    body = page(client, scoped).content.decode()

    assert f'value="{world["mug"].pk}-{world["us"].pk}"' in body
    assert f'value="{world["mug"].pk}-{world["sz"].pk}"' not in body
    assert "CABLE-01" not in body


def test_ticked_lines_become_drafts_grouped_by_supplier(client, buyer, world):
    mug, cable, orphan = world["mug"], world["cable"], world["orphan"]
    sz, us = world["sz"], world["us"]
    client.force_login(buyer)
    lines = [
        f"{mug.pk}-{sz.pk}",
        f"{mug.pk}-{us.pk}",
        f"{cable.pk}-{sz.pk}",
        f"{orphan.pk}-{sz.pk}",
    ]
    data = {"line": lines, "next": reverse("purchasing:restock") + "?q=01"}
    data.update({f"qty-{key}": "60" for key in lines})
    data[f"qty-{cable.pk}-{sz.pk}"] = "75"  # edited on the page

    response = client.post(reverse("purchasing:restock-create"), data, follow=True)

    assert response.redirect_chain[-1][0] == reverse("purchasing:restock") + "?q=01"
    orders = list(PurchaseOrder.objects.order_by("supplier__code", "warehouse__code"))
    assert [
        (po.supplier.code, po.warehouse.code, [(ln.sku.code, ln.quantity) for ln in po.lines.all()])
        for po in orders
    ] == [
        ("NINGBO", "SZ", [("CABLE-01", 75)]),
        ("YIWU", "SZ", [("MUG-01", 60)]),
        ("YIWU", "US-LA", [("MUG-01", 60)]),
    ]
    assert all(po.status == "draft" and po.created_by == buyer for po in orders)
    body = response.content.decode()
    assert "Created 3 draft purchase orders:" in body
    for po in orders:
        assert po.number in body
    assert "Not drafted: ORPHAN-01 → SZ (no supplier offers it)." in body


def test_a_bad_quantity_creates_nothing_and_says_why(client, buyer, world):
    client.force_login(buyer)
    key = f"{world['mug'].pk}-{world['sz'].pk}"

    response = client.post(
        reverse("purchasing:restock-create"), {"line": [key], f"qty-{key}": "0"}, follow=True
    )

    assert PurchaseOrder.objects.count() == 0
    assert "at least 1" in response.content.decode()
    response = client.post(reverse("purchasing:restock-create"), {}, follow=True)
    assert "Tick at least one line." in response.content.decode()


def test_the_page_reads_in_a_fixed_number_of_queries(
    client, buyer, world, django_assert_max_num_queries
):
    client.force_login(buyer)
    client.get(reverse("purchasing:restock"))  # sessions, permissions and content types warm
    sz_bin = world["sz"].locations.get()
    for i in range(20):
        sku = SkuFactory(code=f"MORE-{i:02d}")
        history(sku, sz_bin, per_day=1, left=0)

    with django_assert_max_num_queries(15):
        response = client.get(reverse("purchasing:restock"))
    assert response.content.decode().count('name="line"') == 24


# --- The policy -------------------------------------------------------------------------------


def test_an_admin_edits_a_warehouse_policy_and_weights_must_add_up(client, world):
    admin = UserFactory(roles=[Role.ADMIN])
    client.force_login(admin)
    url = reverse("purchasing:restock-policy", args=[world["us"].pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="transit_days" value="25"' in form.content.decode()  # the overseas default

    values = {
        "qc_days": 2,
        "transit_days": 30,
        "safety_days": 10,
        "cycle_days": 20,
        "weight_7": "0.5",
        "weight_14": "0.5",
        "weight_30": "0.5",
        "tier_reach_pct": 10,
        "is_active": "on",
    }
    refused = client.post(url, values)
    assert refused.status_code == 200
    assert "add up to 1" in refused.content.decode()
    assert not RestockPolicy.objects.exists()

    client.post(url, {**values, "weight_14": "0.3", "weight_30": "0.2"})
    policy = RestockPolicy.objects.get(warehouse=world["us"])
    assert (policy.transit_days, policy.weight_7) == (30, Decimal("0.50"))


def test_only_buyers_edit_the_policy(client, buyer, world):
    url = reverse("purchasing:restock-policy", args=[world["sz"].pk])
    client.force_login(buyer)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(roles=[Role.FINANCE], all_warehouses=True))
    assert client.get(url).status_code == 403


# --- API ----------------------------------------------------------------------------------------


def test_the_api_lists_suggestions_with_their_components(client_as, buyer, world):
    response = client_as(buyer).get("/api/v1/restock-suggestions/", {"q": "MUG"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["count_capped"] is False
    row = next(r for r in body["results"] if r["warehouse"]["code"] == "SZ")
    assert row["sku"] == {
        "id": world["mug"].pk,
        "code": "MUG-01",
        "name": "Mug",
        "name_zh": "马克杯",
    }
    assert row["windows"][0] == {
        "days": 7,
        "sold": 14,
        "out_of_stock": 0,
        "in_stock": 7,
        "rate": "2.00",
        "weight": "0.50",
    }
    assert (row["velocity"], row["target"], row["have"], row["short"]) == ("2.00", 54, 10, 44)
    assert (row["to_buy"], row["quantity"], row["raised_to_moq"]) == (44, 50, True)
    assert row["offer"]["supplier_code"] == "YIWU"
    assert (row["unit_price"], row["amount"]) == ("10.0000", "500.00")
    assert row["explanation"][-1] == "50 × 10.00 = 500.00 CNY from YIWU."


def test_the_api_reads_in_a_fixed_number_of_queries(
    client_as, buyer, world, django_assert_max_num_queries
):
    client = client_as(buyer)
    client.get("/api/v1/restock-suggestions/")
    sz_bin = world["sz"].locations.get()
    for i in range(20):
        history(SkuFactory(code=f"MORE-{i:02d}"), sz_bin, per_day=1, left=0)

    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/restock-suggestions/")
    assert response.json()["count"] == 24


def test_the_api_refuses_a_warehouse_outside_the_scope_and_the_warehouse_role(client_as, world):
    scoped = UserFactory(roles=[Role.PURCHASING], warehouses=[world["us"]])
    keeper = UserFactory(roles=[Role.WAREHOUSE])

    response = client_as(scoped).get("/api/v1/restock-suggestions/", {"warehouse": world["sz"].pk})
    assert response.status_code == 400
    assert "warehouse" in response.json()
    assert client_as(keeper).get("/api/v1/restock-suggestions/").status_code == 403


def test_the_api_drafts_purchase_orders(client_as, buyer, world):
    mug, orphan, sz = world["mug"], world["orphan"], world["sz"]

    response = client_as(buyer).post(
        "/api/v1/restock-suggestions/drafts/",
        {
            "lines": [
                {"sku": mug.pk, "warehouse": sz.pk, "quantity": 120},
                {"sku": orphan.pk, "warehouse": sz.pk, "quantity": 5},
            ]
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert [(o["supplier"], o["warehouse"], o["status"]) for o in body["orders"]] == [
        ("YIWU", "SZ", "draft")
    ]
    assert body["orders"][0]["lines"] == [
        {"sku": "MUG-01", "quantity": 120, "unit_price": "8.5000"}
    ]
    assert body["skipped"] == [
        {"sku": "ORPHAN-01", "warehouse": "SZ", "reason": "no supplier offers it"}
    ]
    bad = client_as(buyer).post("/api/v1/restock-suggestions/drafts/", {"lines": []}, format="json")
    assert bad.status_code == 400
    finance = UserFactory(roles=[Role.FINANCE])
    denied = client_as(finance).post(
        "/api/v1/restock-suggestions/drafts/",
        {"lines": [{"sku": mug.pk, "warehouse": sz.pk, "quantity": 1}]},
        format="json",
    )
    assert denied.status_code == 403
    assert PurchaseOrder.objects.count() == 1
