"""The purchasing API: suppliers and their products (fill from 1688), purchase orders from a
draft through placing on 1688 to receiving into a bin, payments and payables; role
permissions, warehouse scope and query budgets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erp.models import Role
from purchasing.models import PurchaseOrder, PurchaseOrderStatus, SupplierProduct
from purchasing.services import DraftLine, po_create, po_place_offline
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from tests.purchasing.factories import (
    BLACK_SPEC,
    OFFER,
    SZ_ADDRESS,
    SupplierFactory,
    account_for,
    black_cup_offer,
)
from warehouse.models import StockLevel

pytestmark = pytest.mark.django_db

POS = "/api/v1/purchase-orders/"


@pytest.fixture
def world(gateway):
    shenzhen = WarehouseFactory(code="SZ", address=SZ_ADDRESS)
    supplier = SupplierFactory(code="YK-CUPS", account=account_for(gateway))
    offer = black_cup_offer(supplier)
    return {
        "sz": shenzhen,
        "yiwu": WarehouseFactory(code="YW"),
        "bin": LocationFactory(warehouse=shenzhen, code="A-01"),
        "supplier": supplier,
        "offer": offer,
        "cup": offer.sku,
    }


def as_role(client_as, role, **kwargs):
    return client_as(UserFactory(roles=[role], **kwargs))


def test_a_purchase_from_draft_to_stock(client_as, world, gateway):
    api = as_role(client_as, Role.PURCHASING)

    created = api.post(
        POS,
        {
            "supplier": world["supplier"].pk,
            "warehouse": world["sz"].pk,
            "lines": [{"sku": world["cup"].pk, "quantity": 10}],
            "notes": "纸箱包装",
            "receive_tolerance_pct": 0,
        },
    )
    assert created.status_code == 201, created.data
    po_id = created.data["id"]
    assert created.data["status"] == "draft"
    assert created.data["receive_tolerance_pct"] == 0
    assert [
        (line["sku_code"], line["quantity"], line["unit_price"]) for line in created.data["lines"]
    ] == [("CUP-BLK", 10, "16.8000")]
    assert created.data["total"] == "168.00"

    placed = api.post(f"{POS}{po_id}/place/", {"via": "1688"})
    assert placed.status_code == 200, placed.data
    assert placed.data["status"] == "ordered"
    assert placed.data["platform_order_id"] == "3000000000000000001"
    assert placed.data["platform_total"] == "186.00"
    assert gateway.orders_for(created.data["number"]) != []

    gateway.pay(placed.data["platform_order_id"])
    synced = api.post(f"{POS}{po_id}/sync/")
    assert synced.data["status"] == "paid"

    line_id = created.data["lines"][0]["id"]
    received = api.post(
        f"{POS}{po_id}/receive/",
        {
            "lines": [
                {
                    "po_line": line_id,
                    "accepted": 9,
                    "rejected": 1,
                    "location": world["bin"].pk,
                    "reject_reason": "dented",
                }
            ]
        },
    )
    assert received.status_code == 201, received.data
    assert received.data["number"] == f"{created.data['number']}-R1"
    assert received.data["lines"][0]["location_code"] == "A-01"
    assert StockLevel.objects.get(sku=world["cup"]).on_hand == 9
    assert PurchaseOrder.objects.get(pk=po_id).status == PurchaseOrderStatus.RECEIVED

    closed = api.post(f"{POS}{po_id}/close/")
    assert closed.data["status"] == "closed"


def test_place_refusal_is_1688s_words(client_as, world, gateway):
    po = po_create(
        supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 1)]
    )
    api = as_role(client_as, Role.PURCHASING)

    refused = api.post(f"{POS}{po.pk}/place/", {"via": "1688"})

    assert refused.status_code == 400
    assert refused.data == {
        "code": "purchase_invalid",
        "detail": f"1688 refused {po.number}: 商品[{OFFER}]的购买数量不满足起批量限制。",
    }


def test_edit_lines_only_while_draft(client_as, world):
    po = po_create(
        supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
    )
    lid = SkuFactory(code="LID")
    api = as_role(client_as, Role.PURCHASING)

    changed = api.patch(
        f"{POS}{po.pk}/",
        {
            "lines": [
                {"sku": world["cup"].pk, "quantity": 100},
                {"sku": lid.pk, "quantity": 5, "unit_price": "0.50"},
            ],
            "freight": "20.00",
        },
    )
    assert changed.status_code == 200, changed.data
    assert [(li["sku_code"], li["quantity"], li["unit_price"]) for li in changed.data["lines"]] == [
        ("CUP-BLK", 100, "15.2000"),
        ("LID", 5, "0.5000"),
    ]
    assert changed.data["freight"] == "20.00"

    api.post(f"{POS}{po.pk}/place/", {"via": "offline"})
    refused = api.patch(f"{POS}{po.pk}/", {"lines": [{"sku": lid.pk, "quantity": 1}]})
    assert refused.status_code == 400
    assert refused.data["detail"] == f"{po.number} is ordered: only drafts change."
    freight = api.patch(f"{POS}{po.pk}/", {"freight": "25.00"})
    assert freight.data["freight"] == "25.00"


def test_roles(client_as, world):
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
        )
    )
    draft = po_create(
        supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
    )
    line = po.lines.get()
    finance = as_role(client_as, Role.FINANCE)
    worker = as_role(client_as, Role.WAREHOUSE)

    assert finance.get(f"{POS}{po.pk}/").status_code == 200
    assert finance.post(f"{POS}{draft.pk}/place/", {"via": "offline"}).status_code == 403
    assert finance.post(f"{POS}{po.pk}/receive/", {"lines": []}).status_code == 403
    assert worker.post(f"{POS}{draft.pk}/place/", {"via": "offline"}).status_code == 403
    assert worker.post(POS, {}).status_code == 403
    received = worker.post(
        f"{POS}{po.pk}/receive/",
        {"lines": [{"po_line": line.pk, "accepted": 2, "location": world["bin"].pk}]},
    )
    assert received.status_code == 201
    assert finance.get("/api/v1/payables/").status_code == 200
    assert worker.get("/api/v1/payables/").status_code == 403


def test_scope_hides_other_warehouses(client_as, world):
    po = po_create(
        supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
    )
    outsider = as_role(client_as, Role.PURCHASING, warehouses=[world["yiwu"]])

    assert outsider.get(f"{POS}{po.pk}/").status_code == 404
    assert outsider.post(f"{POS}{po.pk}/place/", {"via": "offline"}).status_code == 404
    assert outsider.get(POS).data["count"] == 0
    refused = outsider.post(
        POS,
        {
            "supplier": world["supplier"].pk,
            "warehouse": world["sz"].pk,
            "lines": [{"sku": world["cup"].pk, "quantity": 1}],
        },
    )
    assert refused.status_code == 400
    assert "warehouse" in refused.data


def test_receive_names_the_sku_and_writes_nothing(client_as, world):
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
        )
    )
    line = po.lines.get()
    other_bin = LocationFactory(warehouse=world["yiwu"], code="Y-1")
    api = as_role(client_as, Role.PURCHASING)

    wrong_bin = api.post(
        f"{POS}{po.pk}/receive/",
        {"lines": [{"po_line": line.pk, "accepted": 2, "location": other_bin.pk}]},
    )
    assert wrong_bin.status_code == 400
    assert wrong_bin.data["detail"] == (
        "CUP-BLK: bin Y-1 is not an active bin of the order's warehouse."
    )
    no_bin = api.post(f"{POS}{po.pk}/receive/", {"lines": [{"po_line": line.pk, "accepted": 2}]})
    assert no_bin.data["detail"] == "CUP-BLK: choose the bin."
    foreign = api.post(f"{POS}{po.pk}/receive/", {"lines": [{"po_line": 999999, "accepted": 2}]})
    assert foreign.status_code == 400
    assert foreign.data == {"lines": {"0": f"Line 999999 is not a line of {po.number}."}}
    assert StockLevel.objects.count() == 0


def test_a_scoped_worker_cannot_receive_into_another_warehouses_bin(client_as, world):
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
        )
    )
    other_bin = LocationFactory(warehouse=world["yiwu"], code="Y-1")
    worker = as_role(client_as, Role.WAREHOUSE, warehouses=[world["sz"]])
    refused = worker.post(
        f"{POS}{po.pk}/receive/",
        {"lines": [{"po_line": po.lines.get().pk, "accepted": 2, "location": other_bin.pk}]},
    )
    assert refused.status_code == 403
    assert refused.data["code"] == "out_of_scope"


def test_supplier_products_fill_and_prefer(client_as, world, gateway):
    api = as_role(client_as, Role.PURCHASING)
    white = SkuFactory(code="CUP-WHT", name="cup", name_zh="保温杯 白色")
    created = api.post(
        "/api/v1/supplier-products/",
        {"supplier": world["supplier"].pk, "sku": white.pk, "offer_id": OFFER},
    )
    assert created.status_code == 201, created.data
    assert created.data["is_preferred"] is True

    filled = api.post(f"/api/v1/supplier-products/{created.data['id']}/fill/")
    assert filled.status_code == 200, filled.data
    assert filled.data["spec_name"] == "白色 / 500ml"
    assert filled.data["price_tiers"] == [[2, "18.5"], [10, "16.8"], [100, "15.2"]]
    assert filled.data["moq"] == 2

    other = SupplierFactory(code="OTHER", kind="offline")
    second = api.post(
        "/api/v1/supplier-products/",
        {"supplier": other.pk, "sku": white.pk, "price_tiers": [[1, "17.00"]]},
    )
    assert second.data["is_preferred"] is False
    api.post(f"/api/v1/supplier-products/{second.data['id']}/prefer/")
    assert list(
        SupplierProduct.objects.filter(sku=white, is_preferred=True).values_list(
            "supplier__code", flat=True
        )
    ) == ["OTHER"]
    bad = api.post(
        "/api/v1/supplier-products/",
        {"supplier": other.pk, "sku": world["cup"].pk, "price_tiers": [["x", "1"]]},
    )
    assert bad.status_code == 400
    listed = api.get("/api/v1/supplier-products/", {"sku": "CUP-BLK"})
    assert [p["spec_id"] for p in listed.data["results"]] == [BLACK_SPEC]


def test_suppliers_crud(client_as, world):
    api = as_role(client_as, Role.PURCHASING)
    created = api.post(
        "/api/v1/suppliers/",
        {
            "code": "BOX",
            "name": "纸箱厂",
            "kind": "offline",
            "payment_terms": "monthly",
            "credit_days": 30,
        },
    )
    assert created.status_code == 201, created.data
    changed = api.patch(f"/api/v1/suppliers/{created.data['id']}/", {"lead_days": 7})
    assert changed.data["lead_days"] == 7
    duplicate = api.post("/api/v1/suppliers/", {"code": "BOX", "name": "x"})
    assert duplicate.status_code == 400


def test_payments_and_payables(client_as, world):
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 10)]
        )
    )
    api = as_role(client_as, Role.FINANCE)

    paid = api.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": world["supplier"].pk,
            "purchase_order": po.pk,
            "amount": "60.00",
            "paid_on": "2026-01-05",
        },
    )
    assert paid.status_code == 201, paid.data
    assert paid.data["currency"] == "CNY"
    [balance] = api.get("/api/v1/payables/").data
    assert (balance["supplier_code"], balance["owed"], balance["paid"], balance["balance"]) == (
        "YK-CUPS",
        "168.00",
        "60.00",
        "108.00",
    )
    assert set(balance["buckets"]) == {
        "current",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "over_90",
    }
    assert [due["number"] for due in balance["dues"]] == [po.number]
    negative = api.post(
        "/api/v1/supplier-payments/",
        {"supplier": world["supplier"].pk, "amount": "-1", "paid_on": "2026-01-05"},
    )
    assert negative.status_code == 400


def test_query_budgets(client_as, world, django_assert_num_queries):
    api = as_role(client_as, Role.PURCHASING)
    for _ in range(3):
        po_create(
            supplier=world["supplier"], warehouse=world["sz"], lines=[DraftLine(world["cup"], 3)]
        )
    api.get(POS)  # the user's permissions are read once, then cached on the user
    with django_assert_num_queries(2):  # count, page
        api.get(POS)
    for _ in range(10):
        po_create(
            supplier=world["supplier"],
            warehouse=world["sz"],
            lines=[DraftLine(SkuFactory(), 3, Decimal(1)) for _ in range(3)],
        )
    with django_assert_num_queries(2):
        api.get(POS)
    po = PurchaseOrder.objects.order_by("-pk").first()
    with django_assert_num_queries(3):  # order, lines, receipts (none yet)
        api.get(f"{POS}{po.pk}/")


def test_receiving_many_lines_keeps_the_ledger_and_announces_the_stock(
    client_as, world, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    from warehouse.models import StockMove
    from warehouse.services import stock_receive
    from warehouse.signals import stock_available

    skus = [SkuFactory(code=f"PART-{n}") for n in range(4)]
    bins = [world["bin"], LocationFactory(warehouse=world["sz"], code="A-02")]
    stock_receive(sku=skus[0], location=bins[1], quantity=10, unit_cost=Decimal("2"))
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"],
            warehouse=world["sz"],
            lines=[DraftLine(sku, 10, Decimal("4")) for sku in skus],
            freight=Decimal("40"),
        )
    )
    lines = list(po.lines.order_by("pk"))
    heard = []

    def listen(sender, sku_ids, **kwargs):
        heard.append(set(sku_ids))

    stock_available.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            received = as_role(client_as, Role.WAREHOUSE).post(
                f"{POS}{po.pk}/receive/",
                {
                    "lines": [
                        {"po_line": line.pk, "accepted": 10, "location": bins[n % 2].pk}
                        for n, line in enumerate(lines)
                    ]
                },
            )
    finally:
        stock_available.disconnect(listen)

    assert received.status_code == 201, received.data
    assert heard == [{sku.pk for sku in skus}]
    # landed 4 + 40/40 = 5; the first SKU averages its 10 at 2 with 10 at 5
    assert [
        (m.sku.code, m.location.code, m.quantity, m.balance_after, m.unit_cost)
        for m in StockMove.objects.filter(reference=f"po:{po.number}").order_by("sku__code")
    ] == [
        ("PART-0", "A-01", 10, 10, Decimal("5.0000")),
        ("PART-1", "A-02", 10, 10, Decimal("5.0000")),
        ("PART-2", "A-01", 10, 10, Decimal("5.0000")),
        ("PART-3", "A-02", 10, 10, Decimal("5.0000")),
    ]
    skus[0].refresh_from_db()
    assert skus[0].avg_cost == Decimal("3.5000")
    assert [line.received_qty for line in po.lines.order_by("pk")] == [10, 10, 10, 10]
    call_command("check_stock")
