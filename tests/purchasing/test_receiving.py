"""Purchase orders from draft to received: tier prices, landed cost with freight and fees in
the base currency, the moving-average cost, QC rejections, the over-receipt tolerance."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from erp.models import ExchangeRate
from erp.money import MissingRate
from purchasing.models import (
    CostBasis,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
    SupplierReturn,
)
from purchasing.services import (
    DraftLine,
    PurchaseError,
    ReceiveLine,
    po_cancel,
    po_create,
    po_mark_paid,
    po_place_offline,
    po_receive,
    po_set_lines,
)
from tests.factories import LocationFactory, SkuFactory, WarehouseFactory
from warehouse.models import Location, StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    warehouse = WarehouseFactory(code="SZ")
    supplier = Supplier.objects.create(code="YIWU", name="Yiwu Mugs Factory", currency="CNY")
    mug = SkuFactory(code="MUG", name="Mug")
    lid = SkuFactory(code="LID", name="Lid")
    SupplierProduct.objects.create(
        supplier=supplier,
        sku=mug,
        offer_id="610947572360",
        price_tiers=[[1, "10.00"], [100, "8.50"], [500, "7.80"]],
        moq=50,
        is_preferred=True,
    )
    return {
        "warehouse": warehouse,
        "bin": LocationFactory(warehouse=warehouse, code="A-01"),
        "supplier": supplier,
        "mug": mug,
        "lid": lid,
    }


def ordered(world, lines, **kwargs):
    po = po_create(supplier=world["supplier"], warehouse=world["warehouse"], lines=lines, **kwargs)
    return po_place_offline(po=po)


def test_a_draft_takes_the_tier_price_and_merges_repeated_skus(world):
    po = po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[DraftLine(world["mug"], 60), DraftLine(world["mug"], 60)],
    )
    line = po.lines.get()
    assert (line.quantity, line.unit_price) == (120, Decimal("8.50"))
    assert po.number.startswith("PO") and po.status == PurchaseOrderStatus.DRAFT
    with pytest.raises(PurchaseError, match="LID: no price"):
        po_set_lines(po=po, lines=[DraftLine(world["lid"], 5)])
    po_set_lines(po=po, lines=[DraftLine(world["lid"], 5, Decimal("1.20"))])
    assert [(ln.sku.code, ln.unit_price) for ln in po.lines.all()] == [("LID", Decimal("1.20"))]


def test_landed_cost_spreads_freight_and_fees_by_value(world):
    # 100 mugs at 8.50 (850) + 100 lids at 1.50 (150) = 1,000; freight 80 + fees 20 = 100
    po = ordered(
        world,
        [DraftLine(world["mug"], 100), DraftLine(world["lid"], 100, Decimal("1.50"))],
        freight=Decimal("80"),
        other_fees=Decimal("20"),
    )
    mug_line, lid_line = po.lines.order_by("pk")
    receipt = po_receive(
        po=po,
        lines=[
            ReceiveLine(mug_line, accepted=40, location=world["bin"]),
            ReceiveLine(lid_line, accepted=100, location=world["bin"]),
        ],
    )
    costs = {line.po_line.sku.code: line.landed_unit_cost for line in receipt.lines.all()}
    # mugs carry 85 % of the 100: 0.85 each; lids 15 %: 0.15 each
    assert costs == {"MUG": Decimal("9.3500"), "LID": Decimal("1.6500")}
    move = StockMove.objects.get(sku=world["mug"])
    assert (move.quantity, move.unit_cost, move.reference) == (
        40,
        Decimal("9.35"),
        f"po:{po.number}",
    )
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    # the rest of the mugs later: same landed cost per unit
    second = po_receive(po=po, lines=[ReceiveLine(mug_line, accepted=60, location=world["bin"])])
    assert second.lines.get().landed_unit_cost == Decimal("9.3500")
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED


def test_landed_cost_by_quantity_in_a_foreign_currency_updates_the_average(world):
    world["supplier"].currency = "USD"
    world["supplier"].save()
    ExchangeRate.objects.create(date=date(2026, 11, 1), currency="USD", rate_to_base=Decimal("7.2"))
    ExchangeRate.objects.create(
        date=date(2026, 11, 20), currency="USD", rate_to_base=Decimal("7.1")
    )
    from warehouse.services import stock_receive

    stock_receive(sku=world["mug"], location=world["bin"], quantity=10, unit_cost=Decimal("60"))
    po = ordered(
        world,
        [DraftLine(world["mug"], 30, Decimal("8")), DraftLine(world["lid"], 10, Decimal("1"))],
        freight=Decimal("20"),
    )
    po.cost_basis = CostBasis.QUANTITY
    po.save()
    mug_line = po.lines.get(sku=world["mug"])
    when = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    receipt = po_receive(
        po=po, lines=[ReceiveLine(mug_line, accepted=30, location=world["bin"])], received_at=when
    )
    # (8 + 20/40) USD × 7.1 (the rate of the 21st is the one of the 20th)
    assert receipt.exchange_rate == Decimal("7.1")
    assert receipt.lines.get().landed_unit_cost == Decimal("60.3500")
    world["mug"].refresh_from_db()
    # (10 × 60 + 30 × 60.35) / 40
    assert world["mug"].avg_cost == Decimal("60.2625")


def test_a_missing_rate_refuses_and_writes_nothing(world):
    world["supplier"].currency = "EUR"
    world["supplier"].save()
    po = ordered(world, [DraftLine(world["mug"], 10, Decimal("1"))])
    with pytest.raises(MissingRate, match="EUR"):
        po_receive(po=po, lines=[ReceiveLine(po.lines.get(), accepted=10, location=world["bin"])])
    assert not StockMove.objects.exists()


def test_rejections_become_a_supplier_return_and_tolerance_is_enforced(world):
    po = ordered(world, [DraftLine(world["mug"], 100)])
    line = po.lines.get()
    po_receive(
        po=po,
        lines=[
            ReceiveLine(
                line, accepted=90, rejected=8, location=world["bin"], reject_reason="Cracked"
            )
        ],
    )
    returned = SupplierReturn.objects.get()
    assert returned.amount == Decimal("68.00")  # 8 × 8.50
    # 98 checked in; 5 % tolerance allows 105 in all
    with pytest.raises(PurchaseError, match="MUG: 108 would be checked in against 100 ordered"):
        po_receive(po=po, lines=[ReceiveLine(line, accepted=10, location=world["bin"])])
    po_receive(po=po, lines=[ReceiveLine(line, accepted=7, location=world["bin"])])
    line.refresh_from_db()
    assert (line.received_qty, line.rejected_qty) == (97, 8)
    assert StockLevel.objects.get(sku=world["mug"]).on_hand == 97


def test_refusals_name_the_problem(world):
    po = po_create(
        supplier=world["supplier"], warehouse=world["warehouse"], lines=[DraftLine(world["mug"], 5)]
    )
    with pytest.raises(PurchaseError, match="draft"):
        po_receive(po=po, lines=[ReceiveLine(po.lines.get(), accepted=1, location=world["bin"])])
    po = po_place_offline(po=po)
    line = po.lines.get()
    other = LocationFactory(warehouse=WarehouseFactory(code="LA"), code="B-1")
    with pytest.raises(PurchaseError, match="MUG: bin B-1"):
        po_receive(po=po, lines=[ReceiveLine(line, accepted=1, location=other)])
    with pytest.raises(PurchaseError, match="MUG: choose the bin"):
        po_receive(po=po, lines=[ReceiveLine(line, accepted=1)])
    with pytest.raises(PurchaseError, match="at least one line"):
        po_receive(po=po, lines=[ReceiveLine(line, accepted=0)])
    assert not Location.objects.filter(stock_levels__on_hand__gt=0).exists()


def test_cancel_only_before_goods_arrive(world):
    po = ordered(world, [DraftLine(world["mug"], 5)])
    po_mark_paid(po=po)
    po_receive(po=po, lines=[ReceiveLine(po.lines.get(), accepted=2, location=world["bin"])])
    with pytest.raises(PurchaseError, match="no longer be cancelled"):
        po_cancel(po=po)
