"""The purchasing pages: who may do what (roles and warehouse scope), the draft form with tier
prices, placing from the order's page, the receiving page and its errors, payables with
payments and exports, 1688 accounts whose secrets never show, and query budgets."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from erp.models import Role
from purchasing.models import (
    Account1688,
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)
from purchasing.services import (
    DraftLine,
    po_create,
    po_mark_paid,
    po_place_offline,
    po_place_on_1688,
    supplier_payment_record,
)
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


@pytest.fixture
def world(gateway):
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen", address=SZ_ADDRESS)
    supplier = SupplierFactory(code="YK-CUPS", name="永康杯业", account=account_for(gateway))
    offer = black_cup_offer(supplier)
    lid = SkuFactory(code="LID-1", name="Lid")
    return {
        "sz": shenzhen,
        "yiwu": WarehouseFactory(code="YW", name="Yiwu", address=SZ_ADDRESS),
        "bins": [LocationFactory(warehouse=shenzhen, code=f"A-0{i}") for i in (1, 2)],
        "supplier": supplier,
        "offer": offer,
        "cup": offer.sku,
        "lid": lid,
    }


def user(role, **kwargs):
    return UserFactory(roles=[role], **kwargs)


def draft(world, quantity=10, warehouse=None) -> PurchaseOrder:
    return po_create(
        supplier=world["supplier"],
        warehouse=warehouse or world["sz"],
        lines=[DraftLine(world["cup"], quantity)],
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------------------- roles, scope


def test_finance_sees_orders_but_cannot_place(client, world):
    po = draft(world)
    client.force_login(user(Role.FINANCE))

    assert client.get(reverse("purchasing:po-list")).status_code == 200
    page = client.get(reverse("purchasing:po-detail", args=[po.pk]))
    assert page.status_code == 200
    assert b"Place on 1688" not in page.content
    refused = client.post(reverse("purchasing:po-action", args=[po.pk, "place"]), {"via": "1688"})
    assert refused.status_code == 403
    assert client.get(reverse("purchasing:receive")).status_code == 403
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT


def test_warehouse_worker_receives_but_cannot_place(client, world):
    po = po_place_offline(po=draft(world))
    client.force_login(user(Role.WAREHOUSE, warehouses=[world["sz"]]))

    assert client.get(reverse("purchasing:receive"), {"po": po.number}).status_code == 200
    refused = client.post(reverse("purchasing:po-action", args=[po.pk, "place"]), {"via": "1688"})
    assert refused.status_code == 403
    assert client.get(reverse("purchasing:po-create")).status_code == 403


def test_a_user_of_another_warehouse_does_not_find_the_order(client, world):
    po = po_place_offline(po=draft(world))
    client.force_login(user(Role.PURCHASING, warehouses=[world["yiwu"]]))

    assert client.get(reverse("purchasing:po-detail", args=[po.pk])).status_code == 404
    assert client.get(reverse("purchasing:po-pdf", args=[po.pk])).status_code == 404
    assert client.post(reverse("purchasing:po-action", args=[po.pk, "cancel"])).status_code == 404
    listed = client.get(reverse("purchasing:po-list"))
    assert po.number not in listed.content.decode()


def test_the_purchasing_link_opens_the_order_list(client, world):
    client.force_login(user(Role.PURCHASING))
    page = client.get(reverse("dashboard"))
    assert f'href="{reverse("purchasing:po-list")}"' in page.content.decode()


# ---------------------------------------------------------------------------- orders


def test_create_a_draft_with_tier_prices(client, world):
    client.force_login(user(Role.PURCHASING))
    response = client.post(
        reverse("purchasing:po-create"),
        {
            "supplier": world["supplier"].pk,
            "warehouse": world["sz"].pk,
            "freight": "12.00",
            "other_fees": "0",
            "cost_basis": "value",
            "receive_tolerance_pct": "5",
            "notes": "",
            "sku": ["CUP-BLK", "LID-1", ""],
            "quantity": ["120", "50", ""],
            "unit_price": ["", "0.80", ""],
            "note": ["", "", ""],
        },
    )
    po = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("purchasing:po-detail", args=[po.pk])
    assert [(li.sku.code, li.quantity, li.unit_price) for li in po.lines.order_by("pk")] == [
        ("CUP-BLK", 120, Decimal("15.2000")),  # the 100+ tier
        ("LID-1", 50, Decimal("0.8000")),
    ]
    assert (po.status, po.freight) == ("draft", Decimal("12.00"))


def test_draft_form_names_the_bad_line(client, world):
    client.force_login(user(Role.PURCHASING))
    response = client.post(
        reverse("purchasing:po-create"),
        {
            "supplier": world["supplier"].pk,
            "warehouse": world["sz"].pk,
            "freight": "0",
            "other_fees": "0",
            "cost_basis": "value",
            "receive_tolerance_pct": "5",
            "sku": ["CUP-BLK", "NOPE-9"],
            "quantity": ["10", "5"],
            "unit_price": ["", ""],
            "note": ["", ""],
        },
    )
    assert response.status_code == 400
    assert "No active SKU has the code NOPE-9." in response.content.decode()
    assert PurchaseOrder.objects.count() == 0


def test_line_price_shows_the_tier_for_the_quantity(client, world):
    client.force_login(user(Role.PURCHASING))
    response = client.get(
        reverse("purchasing:line-price"),
        {"supplier": world["supplier"].pk, "sku": "CUP-BLK", "quantity": "10"},
    )
    assert "16.80" in response.content.decode()
    assert "MOQ 2" in response.content.decode()


def test_place_on_1688_from_the_order_page(client, world, gateway):
    po = draft(world)
    client.force_login(user(Role.PURCHASING))

    response = client.post(
        reverse("purchasing:po-action", args=[po.pk, "place"]), {"via": "1688"}, follow=True
    )

    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.ORDERED
    assert messages_of(response) == [
        f"{po.number} placed on 1688: order {po.platform_order_id}, 186.00 CNY."
    ]
    page = response.content.decode()
    assert po.platform_order_id in page
    assert "waitbuyerpay" in page


def test_a_1688_refusal_is_shown_in_its_words(client, world, gateway):
    po = draft(world, quantity=1)
    client.force_login(user(Role.PURCHASING))

    response = client.post(
        reverse("purchasing:po-action", args=[po.pk, "place"]), {"via": "1688"}, follow=True
    )

    assert messages_of(response) == [
        f"1688 refused {po.number}: 商品[{OFFER}]的购买数量不满足起批量限制。"
    ]
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT


def test_mark_shipped_with_tracking_and_sync(client, world, gateway):
    po = po_place_on_1688(po=draft(world))
    client.force_login(user(Role.PURCHASING))
    gateway.pay(po.platform_order_id)

    client.post(reverse("purchasing:po-action", args=[po.pk, "sync"]))
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PAID

    client.post(
        reverse("purchasing:po-action", args=[po.pk, "shipped"]),
        {"tracking_company": "顺丰", "tracking_number": "SF123"},
    )
    po.refresh_from_db()
    assert (po.status, po.tracking_company, po.tracking_number) == ("shipped", "顺丰", "SF123")


def test_po_pdf(client, world):
    po = draft(world)
    client.force_login(user(Role.PURCHASING))
    response = client.get(reverse("purchasing:po-pdf", args=[po.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_list_filters_and_search(client, world):
    first = po_place_on_1688(po=draft(world))
    second = po_place_offline(po=draft(world, warehouse=world["yiwu"]))
    client.force_login(user(Role.PURCHASING))

    by_id = client.get(reverse("purchasing:po-list"), {"q": first.platform_order_id})
    assert [po.pk for po in by_id.context["page"]] == [first.pk]
    by_warehouse = client.get(reverse("purchasing:po-list"), {"warehouse": world["yiwu"].pk})
    assert [po.pk for po in by_warehouse.context["page"]] == [second.pk]
    by_status = client.get(reverse("purchasing:po-list"), {"status": "ordered"})
    assert {po.pk for po in by_status.context["page"]} == {first.pk, second.pk}


def test_list_and_detail_query_budgets(client, world, django_assert_num_queries):
    client.force_login(user(Role.PURCHASING))
    for _ in range(3):
        po_place_offline(po=draft(world))
    with django_assert_num_queries(8) as few:
        client.get(reverse("purchasing:po-list"))
    for _ in range(12):
        po_place_offline(po=draft(world))
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("purchasing:po-list"))

    po = PurchaseOrder.objects.first()
    with django_assert_num_queries(8) as detail:
        client.get(reverse("purchasing:po-detail", args=[po.pk]))
    po_create(
        supplier=world["supplier"],
        warehouse=world["sz"],
        lines=[DraftLine(SkuFactory(), 3, Decimal(1)) for _ in range(6)],
    )
    bigger = PurchaseOrder.objects.order_by("-pk").first()
    with django_assert_num_queries(len(detail.captured_queries)):
        client.get(reverse("purchasing:po-detail", args=[bigger.pk]))


# ---------------------------------------------------------------------------- receiving


def receiving_post(client, po, **fields):
    return client.post(reverse("purchasing:receive"), {"po": po.number, **fields})


def test_receive_into_a_bin(client, world):
    po = po_place_offline(po=draft(world))
    line = po.lines.get()
    client.force_login(user(Role.WAREHOUSE, warehouses=[world["sz"]]))

    found = client.get(reverse("purchasing:receive"), {"po": po.number.lower(), "bin": "a-02"})
    assert found.context["po"] == po
    assert [row.bin for row in found.context["rows"]] == ["A-02"]

    response = receiving_post(
        client,
        po,
        **{
            f"accepted-{line.pk}": "8",
            f"bin-{line.pk}": "A-02",
            f"rejected-{line.pk}": "2",
            f"reason-{line.pk}": "scratched",
        },
    )

    receipt = po.receipts.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("purchasing:receipt-detail", args=[receipt.pk])
    level = StockLevel.objects.get(sku=world["cup"])
    assert (level.location.code, level.on_hand) == ("A-02", 8)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED


def test_receive_finds_an_order_by_its_tracking_number(client, world):
    po = po_place_offline(po=draft(world))
    PurchaseOrder.objects.filter(pk=po.pk).update(tracking_number="YT889900")
    client.force_login(user(Role.WAREHOUSE))
    response = client.get(reverse("purchasing:receive"), {"po": "YT889900"})
    assert response.context["po"] == po


def test_receive_errors_name_the_sku_and_nothing_is_written(client, world):
    po = po_create(
        supplier=world["supplier"],
        warehouse=world["sz"],
        lines=[DraftLine(world["cup"], 10), DraftLine(world["lid"], 5, Decimal("1"))],
    )
    po = po_place_offline(po=po)
    cup, lid = po.lines.order_by("pk")
    client.force_login(user(Role.WAREHOUSE))

    response = receiving_post(
        client,
        po,
        **{
            f"accepted-{cup.pk}": "4",
            f"bin-{cup.pk}": "Z-99",
            f"accepted-{lid.pk}": "2",
            f"rejected-{lid.pk}": "1",
        },
    )

    assert response.status_code == 400
    errors = [e for row in response.context["rows"] for e in row.errors]
    assert errors == [
        "CUP-BLK: SZ has no active bin Z-99.",
        "LID-1: scan or type the bin it goes into.",
        "LID-1: say why 1 were rejected.",
    ]
    assert StockLevel.objects.count() == 0

    too_many = receiving_post(client, po, **{f"accepted-{cup.pk}": "11", f"bin-{cup.pk}": "A-01"})
    assert too_many.status_code == 400
    assert too_many.context["error"] == (
        "Nothing was received: CUP-BLK: 11 would be checked in against 10 ordered "
        "(at most 10 with the 5% tolerance)."
    )
    assert too_many.context["rows"][0].errors == [
        "CUP-BLK: 11 would be checked in against 10 ordered (at most 10 with the 5% tolerance)."
    ]
    assert StockLevel.objects.count() == 0


def test_receive_explains_unknown_and_closed_orders(client, world):
    client.force_login(user(Role.WAREHOUSE))
    unknown = client.get(reverse("purchasing:receive"), {"po": "PO-NOPE"})
    assert unknown.context["error"] == (
        "No purchase order PO-NOPE in your warehouses: check the number, the 1688 order id "
        "or the tracking number."
    )
    po = draft(world)
    still_draft = client.get(reverse("purchasing:receive"), {"po": po.number})
    assert still_draft.context["error"] == f"{po.number} is draft: it cannot be received."


def test_receiving_page_query_budget(client, world, django_assert_max_num_queries):
    po = po_create(
        supplier=world["supplier"],
        warehouse=world["sz"],
        lines=[DraftLine(SkuFactory(), 3, Decimal(1)) for _ in range(30)],
    )
    po = po_place_offline(po=po)
    client.force_login(user(Role.WAREHOUSE))
    with django_assert_max_num_queries(12):
        client.get(reverse("purchasing:receive"), {"po": po.number, "bin": "A-01"})


# ---------------------------------------------------------------------------- payables


def test_payables_record_a_partial_payment(client, world):
    po = po_mark_paid(po=po_place_offline(po=draft(world)))
    client.force_login(user(Role.FINANCE))

    response = client.post(
        reverse("purchasing:payment-create"),
        {
            "supplier": world["supplier"].pk,
            "amount": "100.00",
            "paid_on": "2026-03-02",
            "po_number": po.number,
            "method": "alipay",
            "reference": "AP-1",
        },
        follow=True,
    )

    assert messages_of(response) == ["Payment of 100.00 CNY to YK-CUPS recorded."]
    payment = SupplierPayment.objects.get()
    assert (payment.purchase_order, payment.amount) == (po, Decimal("100.00"))
    [balance] = response.context["balances"]
    assert (balance.owed, balance.paid, balance.balance) == (
        Decimal("168.00"),
        Decimal("100.00"),
        Decimal("68.00"),
    )


def test_payables_exports_escape_formulas(client, world):
    evil = SupplierFactory(code="EVIL", name='=HYPERLINK("http://x","pay")', kind="offline")
    po = po_create(
        supplier=evil, warehouse=world["sz"], lines=[DraftLine(world["lid"], 10, Decimal("2"))]
    )
    po_place_offline(po=po)
    supplier_payment_record(supplier=evil, amount=Decimal("5"), paid_on=date(2026, 1, 1))
    client.force_login(user(Role.FINANCE))

    as_csv = client.get(reverse("purchasing:payables-export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Supplier code", "Supplier", "Currency", "Owed", "Paid", "Balance"]
    assert rows[1][:6] == [
        "EVIL",
        '\'=HYPERLINK("http://x","pay")',
        "CNY",
        "20.00",
        "5.00",
        "15.00",
    ]

    as_xlsx = client.get(reverse("purchasing:payables-export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet["B4"].value == '\'=HYPERLINK("http://x","pay")'
    assert sheet["B4"].data_type == "s"
    assert sheet["F4"].value == 15


def test_warehouse_workers_do_not_see_payables(client, world):
    client.force_login(user(Role.WAREHOUSE))
    assert client.get(reverse("purchasing:payables")).status_code == 403


# ---------------------------------------------------------------------------- suppliers


def test_add_an_offer_and_fill_it_from_1688(client, world, gateway):
    mug = SkuFactory(code="CUP-WHT", name="Cup white", name_zh="保温杯 白色")
    client.force_login(user(Role.PURCHASING))

    response = client.post(
        reverse("purchasing:product-create") + f"?supplier={world['supplier'].pk}",
        {
            "sku_code": "CUP-WHT",
            "offer_id": f"https://detail.1688.com/offer/{OFFER}.html",
            "moq": "1",
            "pack_qty": "1",
            "fill": "1",
        },
        follow=True,
    )

    product = SupplierProduct.objects.get(sku=mug)
    assert product.offer_id == OFFER
    assert product.spec_name == "白色 / 500ml"
    assert product.price_tiers == [[2, "18.5"], [10, "16.8"], [100, "15.2"]]
    assert product.is_preferred  # the SKU's first offer
    assert "CUP-WHT: read from 1688 — spec 白色 / 500ml, MOQ 2." in messages_of(response)


def test_prefer_another_supplier(client, world):
    other = SupplierFactory(code="OTHER", kind="offline")
    second = SupplierProduct.objects.create(
        supplier=other, sku=world["cup"], price_tiers=[[1, "9"]]
    )
    client.force_login(user(Role.PURCHASING))

    client.post(reverse("purchasing:product-prefer", args=[second.pk]))

    assert list(
        SupplierProduct.objects.filter(sku=world["cup"], is_preferred=True).values_list(
            "supplier__code", flat=True
        )
    ) == ["OTHER"]


def test_supplier_form(client, world):
    client.force_login(user(Role.PURCHASING))
    response = client.post(
        reverse("purchasing:supplier-create"),
        {
            "code": "JH-BOX",
            "name": "金华纸箱厂",
            "kind": "offline",
            "payment_terms": "monthly",
            "prepay_pct": "0",
            "credit_days": "30",
            "currency": "cny",
            "lead_days": "5",
            "phone": "0579-88888888",
            "wechat": "jhbox",
            "is_active": "on",
        },
    )
    supplier = Supplier.objects.get(code="JH-BOX")
    assert response["Location"] == reverse("purchasing:supplier-detail", args=[supplier.pk])
    assert (supplier.currency, supplier.payment_terms, supplier.credit_days) == (
        "CNY",
        "monthly",
        30,
    )


def test_account_secrets_are_stored_encrypted_and_never_shown(client, world):
    admin = user(Role.ADMIN)
    client.force_login(admin)
    client.post(
        reverse("purchasing:account-create"),
        {
            "name": "main buyer",
            "app_key": "9988776",
            "app_secret": "s3cret-app",
            "access_token": "tok-live-1",
            "refresh_token": "rt-live-1",
            "is_active": "on",
        },
    )
    account = Account1688.objects.get(name="main buyer")
    assert account.get_credentials() == {
        "access_token": "tok-live-1",
        "app_secret": "s3cret-app",
        "refresh_token": "rt-live-1",
    }
    edit = client.get(reverse("purchasing:account-edit", args=[account.pk])).content.decode()
    listing = client.get(reverse("purchasing:account-list")).content.decode()
    for secret in ("s3cret-app", "tok-live-1", "rt-live-1"):
        assert secret not in edit
        assert secret not in listing

    # a field left empty keeps what is stored
    client.post(
        reverse("purchasing:account-edit", args=[account.pk]),
        {
            "name": "main buyer",
            "app_key": "9988776",
            "access_token": "tok-live-2",
            "is_active": "on",
        },
    )
    account.refresh_from_db()
    assert account.get_credentials()["app_secret"] == "s3cret-app"
    assert account.get_credentials()["access_token"] == "tok-live-2"


def test_purchasers_cannot_edit_1688_accounts(client, world):
    client.force_login(user(Role.PURCHASING))
    assert client.get(reverse("purchasing:account-list")).status_code == 200
    assert client.get(reverse("purchasing:account-create")).status_code == 403


def test_supplier_pages_render(client, world):
    client.force_login(user(Role.PURCHASING))
    supplier = world["supplier"]
    for url in (
        reverse("purchasing:supplier-list"),
        reverse("purchasing:supplier-detail", args=[supplier.pk]),
        reverse("purchasing:supplier-edit", args=[supplier.pk]),
        reverse("purchasing:product-list") + "?sku=CUP-BLK",
        reverse("purchasing:product-edit", args=[world["offer"].pk]),
    ):
        assert client.get(url).status_code == 200, url
    offers = client.get(reverse("purchasing:product-list"), {"sku": "CUP-BLK"})
    assert [p.spec_id for p in offers.context["page"]] == [BLACK_SPEC]
