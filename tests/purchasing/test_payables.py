"""Payables: dues by payment terms, payments settling the oldest first, aging."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from purchasing.models import PaymentTerms, PurchaseOrder, Supplier
from purchasing.services import (
    DraftLine,
    PurchaseError,
    payables,
    po_create,
    po_place_offline,
    supplier_payment_record,
)
from tests.factories import SkuFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def order(supplier, amount: str, ordered: datetime, received: datetime | None = None):
    po = po_create(
        supplier=supplier,
        warehouse=WarehouseFactory(),
        lines=[DraftLine(SkuFactory(), 1, Decimal(amount))],
    )
    po = po_place_offline(po=po)
    PurchaseOrder.objects.filter(pk=po.pk).update(ordered_at=ordered, received_at=received)
    po.refresh_from_db()
    return po


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=4, tzinfo=UTC)


def test_cash_on_order_dues_age_and_payments_settle_the_oldest():
    supplier = Supplier.objects.create(code="A", name="A", payment_terms=PaymentTerms.CASH_ON_ORDER)
    order(supplier, "100", at("2026-07-01"))  # 144 days late on 2026-11-22
    order(supplier, "200", at("2026-10-10"))  # 43 days
    order(supplier, "300", at("2026-11-20"))  # 2 days
    supplier_payment_record(supplier=supplier, amount=Decimal("150"), paid_on=date(2026, 11, 1))
    [balance] = payables(as_of=date(2026, 11, 22))
    assert (balance.owed, balance.paid, balance.balance) == (
        Decimal(600),
        Decimal(150),
        Decimal(450),
    )
    assert balance.buckets == {
        "current": Decimal(0),
        "1_30": Decimal(300),
        "31_60": Decimal(150),  # 200 less the 50 left after the oldest 100
        "61_90": Decimal(0),
        "over_90": Decimal(0),
    }


def test_monthly_settlement_falls_due_after_the_month_and_prepay_splits():
    monthly = Supplier.objects.create(
        code="M", name="M", payment_terms=PaymentTerms.MONTHLY, credit_days=15
    )
    order(monthly, "500", at("2026-10-03"), received=at("2026-10-20"))  # due 2026-11-15
    prepay = Supplier.objects.create(
        code="P", name="P", payment_terms=PaymentTerms.PREPAY, prepay_pct=30
    )
    po = order(prepay, "1000", at("2026-11-01"))  # 300 due now, 700 when received
    supplier_payment_record(
        supplier=prepay,
        amount=Decimal("300"),
        paid_on=date(2026, 11, 1),
        purchase_order=po,
        is_prepayment=True,
    )
    balances = {b.supplier.code: b for b in payables(as_of=date(2026, 11, 22))}
    assert balances["M"].buckets["1_30"] == Decimal(500)
    assert [(d.due_on, d.amount, d.open) for d in balances["P"].dues] == [
        (date(2026, 11, 1), Decimal("300.00"), Decimal(0)),
        (date(2026, 11, 1), Decimal("700.00"), Decimal("700.00")),
    ]


def test_a_payment_must_be_positive_and_of_the_suppliers_order():
    a = Supplier.objects.create(code="A", name="A")
    b = Supplier.objects.create(code="B", name="B")
    po = order(a, "10", at("2026-11-01"))
    with pytest.raises(PurchaseError, match="positive"):
        supplier_payment_record(supplier=a, amount=Decimal(0), paid_on=date(2026, 11, 2))
    with pytest.raises(PurchaseError, match="not an order of B"):
        supplier_payment_record(
            supplier=b, amount=Decimal(5), paid_on=date(2026, 11, 2), purchase_order=po
        )
