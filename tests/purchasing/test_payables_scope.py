"""Payables of a user limited to some warehouses: only the dues of their warehouses' purchase
orders, with what was applied to them (the settlement is worked out over every order of the
supplier), on the page, in the exports and in the API; a user who sees every warehouse (finance,
normally) sees everything."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from erp.models import Role
from purchasing.models import PaymentTerms, PurchaseOrder
from purchasing.services import (
    DraftLine,
    payables,
    po_create,
    po_place_offline,
    supplier_payment_record,
)
from tests.factories import SkuFactory, UserFactory, WarehouseFactory
from tests.purchasing.factories import SupplierFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 22)


def order(supplier, warehouse, amount: str, ordered: str) -> PurchaseOrder:
    po = po_place_offline(
        po=po_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[DraftLine(SkuFactory(), 1, Decimal(amount))],
        )
    )
    at = datetime.fromisoformat(ordered).replace(hour=4, tzinfo=UTC)
    PurchaseOrder.objects.filter(pk=po.pk).update(ordered_at=at)
    po.refresh_from_db()
    return po


@pytest.fixture
def world():
    """Cups (pay on order) deliver to Shenzhen and to Yiwu; boxes only to Yiwu.

    Cups were paid 60 on the Yiwu order, and 130 on account (no order): the lump sum settles
    the oldest due first — Shenzhen's 100 — and 30 of Yiwu's 200 (after the 60)."""
    sz, yw = WarehouseFactory(code="SZ"), WarehouseFactory(code="YW")
    cups = SupplierFactory(code="CUPS", payment_terms=PaymentTerms.CASH_ON_ORDER)
    boxes = SupplierFactory(code="BOXES", payment_terms=PaymentTerms.CASH_ON_ORDER)
    sz_cups = order(cups, sz, "100", "2026-10-01")
    yw_cups = order(cups, yw, "200", "2026-11-01")
    yw_boxes = order(boxes, yw, "50", "2026-11-10")
    tied = supplier_payment_record(
        supplier=cups,
        amount=Decimal("60"),
        paid_on=date(2026, 11, 2),
        purchase_order=yw_cups,
        reference="TIED-YW",
    )
    on_account = supplier_payment_record(
        supplier=cups,
        amount=Decimal("130"),
        paid_on=date(2026, 11, 5),
        reference="ON-ACCOUNT",
        is_prepayment=True,
    )
    return {
        "sz": sz,
        "yw": yw,
        "orders": (sz_cups, yw_cups, yw_boxes),
        "payments": (tied, on_account),
    }


def summary(balances) -> dict:
    return {
        b.supplier.code: (
            b.owed,
            b.paid,
            b.balance,
            b.unapplied,
            [(d.purchase_order.number, d.amount, d.paid) for d in b.dues],
        )
        for b in balances
    }


def test_a_scoped_user_sees_their_warehouses_dues_with_what_settled_them(world):
    sz_cups, yw_cups, yw_boxes = world["orders"]
    shenzhen = UserFactory(roles=[Role.PURCHASING], warehouses=[world["sz"]])
    yiwu = UserFactory(roles=[Role.PURCHASING], warehouses=[world["yw"]])

    assert summary(payables(as_of=AS_OF, user=shenzhen)) == {
        "CUPS": (Decimal(100), Decimal(100), Decimal(0), Decimal(0), [(sz_cups.number, 100, 100)])
    }
    assert summary(payables(as_of=AS_OF, user=yiwu)) == {
        "CUPS": (Decimal(200), Decimal(90), Decimal(110), Decimal(0), [(yw_cups.number, 200, 90)]),
        "BOXES": (Decimal(50), Decimal(0), Decimal(50), Decimal(0), [(yw_boxes.number, 50, 0)]),
    }


def test_a_user_of_every_warehouse_and_no_user_see_everything(world):
    sz_cups, yw_cups, yw_boxes = world["orders"]
    finance = UserFactory(roles=[Role.FINANCE])  # all_warehouses

    everything = {
        "CUPS": (
            Decimal(300),
            Decimal(190),
            Decimal(110),
            Decimal(0),
            [(sz_cups.number, 100, 100), (yw_cups.number, 200, 90)],
        ),
        "BOXES": (Decimal(50), Decimal(0), Decimal(50), Decimal(0), [(yw_boxes.number, 50, 0)]),
    }
    assert summary(payables(as_of=AS_OF, user=finance)) == everything
    assert summary(payables(as_of=AS_OF)) == everything


def test_money_paid_ahead_shows_only_to_users_of_every_warehouse(world):
    cups = world["orders"][0].supplier
    supplier_payment_record(supplier=cups, amount=Decimal("500"), paid_on=date(2026, 11, 20))
    shenzhen = UserFactory(roles=[Role.FINANCE], warehouses=[world["sz"]])

    [everything] = [b for b in payables(as_of=AS_OF) if b.supplier.code == "CUPS"]
    [scoped] = payables(as_of=AS_OF, user=shenzhen)
    assert (everything.paid, everything.balance, everything.unapplied) == (
        Decimal(690),
        Decimal(-390),
        Decimal(390),
    )
    assert (scoped.paid, scoped.balance, scoped.unapplied) == (Decimal(100), 0, 0)


def test_the_page_lists_only_the_users_dues_and_payments(client, world):
    sz_cups, yw_cups, _boxes = world["orders"]
    mine = supplier_payment_record(
        supplier=sz_cups.supplier,
        amount=Decimal("1"),
        paid_on=date(2026, 11, 21),
        purchase_order=sz_cups,
        reference="TIED-SZ",
    )
    client.force_login(UserFactory(roles=[Role.FINANCE], warehouses=[world["sz"]]))

    page = client.get(reverse("purchasing:payables"), {"as_of": AS_OF.isoformat()})

    assert summary(page.context["balances"]) == {
        "CUPS": (Decimal(100), Decimal(100), Decimal(0), Decimal(0), [(sz_cups.number, 100, 100)])
    }
    assert list(page.context["payments"]) == [mine]
    html = page.content.decode()
    table = html.split('<table class="data payables">')[1].split("</table>")[0]
    assert "CUPS" in table
    assert "BOXES" not in table  # suppliers stay in the payment form's choices: reference data
    assert yw_cups.number not in html
    assert "TIED-SZ" in html
    assert "ON-ACCOUNT" not in html
    assert "You see the purchase orders of your warehouses only" in html


def test_the_exports_list_only_the_users_dues(client, world):
    client.force_login(UserFactory(roles=[Role.FINANCE], warehouses=[world["yw"]]))
    url = reverse("purchasing:payables-export")

    as_csv = client.get(url, {"format": "csv", "as_of": AS_OF.isoformat()})
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row[:6] + row[-1:] for row in rows[1:]] == [
        ["CUPS", "Supplier CUPS", "CNY", "200.00", "90.00", "110.00", "0.00"],
        ["BOXES", "Supplier BOXES", "CNY", "50.00", "0.00", "50.00", "0.00"],
    ]

    as_xlsx = client.get(url, {"format": "xlsx", "as_of": AS_OF.isoformat()})
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [[c.value for c in row[:6]] for row in sheet.iter_rows(min_row=4)] == [
        ["CUPS", "Supplier CUPS", "CNY", 200, 90, 110],
        ["BOXES", "Supplier BOXES", "CNY", 50, 0, 50],
    ]


def test_an_unscoped_finance_user_exports_everything(client, world):
    client.force_login(UserFactory(roles=[Role.FINANCE]))

    as_csv = client.get(
        reverse("purchasing:payables-export"), {"format": "csv", "as_of": AS_OF.isoformat()}
    )

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row[:6] for row in rows[1:]] == [
        ["CUPS", "Supplier CUPS", "CNY", "300.00", "190.00", "110.00"],
        ["BOXES", "Supplier BOXES", "CNY", "50.00", "0.00", "50.00"],
    ]


def test_the_api_is_scoped_too(client_as, world):
    sz_cups, yw_cups, _boxes = world["orders"]
    tied, on_account = world["payments"]
    shenzhen = client_as(UserFactory(roles=[Role.FINANCE], warehouses=[world["sz"]]))
    finance = client_as(UserFactory(roles=[Role.FINANCE]))

    [balance] = shenzhen.get("/api/v1/payables/", {"as_of": AS_OF.isoformat()}).data
    assert (balance["supplier_code"], balance["owed"], balance["paid"], balance["balance"]) == (
        "CUPS",
        "100.00",
        "100.00",
        "0.00",
    )
    assert balance["unapplied"] == "0.00"
    assert balance["dues"] == []  # nothing open
    assert shenzhen.get("/api/v1/supplier-payments/").data["count"] == 0
    yiwu = client_as(UserFactory(roles=[Role.FINANCE], warehouses=[world["yw"]]))
    listed = yiwu.get("/api/v1/supplier-payments/").data["results"]
    assert [p["id"] for p in listed] == [tied.pk]  # not the one on account

    everything = finance.get("/api/v1/payables/", {"as_of": AS_OF.isoformat()}).data
    assert [(b["supplier_code"], b["owed"], b["paid"]) for b in everything] == [
        ("CUPS", "300.00", "190.00"),
        ("BOXES", "50.00", "0.00"),
    ]
    assert {p["id"] for p in finance.get("/api/v1/supplier-payments/").data["results"]} == {
        tied.pk,
        on_account.pk,
    }


def test_payables_page_query_budget(client, world, django_assert_num_queries):
    client.force_login(UserFactory(roles=[Role.FINANCE], warehouses=[world["yw"]]))
    url = reverse("purchasing:payables")
    with django_assert_num_queries(11) as few:
        client.get(url)
    cups = world["orders"][0].supplier
    for day in range(1, 9):
        order(cups, world["yw"], "10", f"2026-09-{day:02d}")
        order(SupplierFactory(), world["sz"], "10", f"2026-09-{day:02d}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)
