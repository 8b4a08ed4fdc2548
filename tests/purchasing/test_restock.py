"""Restock arithmetic on hand-built ledgers: velocity over 7/14/30 days with weights and
out-of-stock days left out, what is in transit and on order, lead-time components, MOQ and
pack rounding, the price-tier reach, transfers from the domestic warehouse, drafts grouped
by supplier, and a query count that does not grow with the number of SKUs.

Every history is written as ledger rows with chosen times (``Ledger``), keeping each stock
level equal to the sum of its moves, as the services would."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    RestockPolicy,
    Supplier,
    SupplierProduct,
)
from purchasing.services import restock_create_drafts, restock_suggestions
from purchasing.services.restock import RestockError
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse.models import Location, StockLevel, StockMove, Transfer, TransferLine, Warehouse

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 3, 31).date()
AS_OF = timezone.make_aware(datetime.combine(TODAY, time(15, 0)))
SHIP, RECEIVE = StockMove.Kind.SHIPMENT, StockMove.Kind.RECEIPT


def ago(days: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(TODAY - timedelta(days=days), time(hour)))


def move(sku, location, quantity, when, kind=None):
    """One ledger row at ``when``; the level follows, as the services keep it."""
    kind = kind or (SHIP if quantity < 0 else RECEIVE)
    level, _ = StockLevel.objects.get_or_create(sku=sku, location=location)
    level.on_hand += quantity
    assert level.on_hand >= 0
    level.save(update_fields=["on_hand"])
    StockMove.objects.create(
        sku=sku,
        location=location,
        quantity=quantity,
        balance_after=level.on_hand,
        kind=kind,
        at=when,
    )


def steady(sku, location, *, per_day: int, left: int, days: int = 30):
    """Received 35 days ago; ``per_day`` sold on each of the last ``days`` days; ``left``
    remains."""
    move(sku, location, per_day * days + left, ago(35))
    for n in range(days, 0, -1):
        move(sku, location, -per_day, ago(n))


def only(suggestions, sku, warehouse):
    found = [s for s in suggestions if s.sku_id == sku.pk and s.warehouse_id == warehouse.pk]
    assert len(found) == 1, found
    return found[0]


def suggest(**kwargs):
    return restock_suggestions(as_of=AS_OF, only_needed=False, **kwargs)


@pytest.fixture
def sz(db):
    return WarehouseFactory(code="SZ", name="Shenzhen", kind=Warehouse.Kind.OWN, country="CN")


@pytest.fixture
def sz_bin(sz):
    return LocationFactory(warehouse=sz, code="A-01")


@pytest.fixture
def us(db):
    return WarehouseFactory(
        code="US-LA", name="Los Angeles", kind=Warehouse.Kind.OVERSEAS, country="US"
    )


@pytest.fixture
def us_bin(us):
    return LocationFactory(warehouse=us, code="U-01")


@pytest.fixture
def supplier(db):
    return Supplier.objects.create(code="YIWU", name="Yiwu Mugs", lead_days=3)


def offer(supplier, sku, **kwargs):
    values = {"price_tiers": [[1, "10.00"], [100, "8.50"]], "lead_days": 5, **kwargs}
    return SupplierProduct.objects.create(supplier=supplier, sku=sku, **values)


# --- Velocity ---------------------------------------------------------------------------------


def stocked_out_history(sku, location):
    """3/day on days 30…11 ago (60 units, then none left); out of stock 10…6 days ago; 20
    received 5 days ago and 4/day sold over the last 5 days (the last ones yesterday)."""
    move(sku, location, 60, ago(35))
    for n in range(30, 10, -1):
        move(sku, location, -3, ago(n))
    move(sku, location, 20, ago(5, hour=9))
    for n in range(5, 0, -1):
        move(sku, location, -4, ago(n))


def test_velocity_weighs_the_three_windows_and_leaves_out_of_stock_days_out(sz, sz_bin, sku):
    """Given 5 days out of stock; then each window's rate divides by its in-stock days and the
    velocity is 0.5 × 4.00 + 0.3 × 3.56 + 0.2 × 3.20 = 3.71/day."""
    stocked_out_history(sku, sz_bin)

    s = only(suggest(), sku, sz)

    assert s.sold == (20, 32, 80)
    assert s.out_of_stock_days == (2, 5, 5)
    assert s.rates == (Decimal("4.00"), Decimal("3.56"), Decimal("3.20"))
    assert s.velocity == Decimal("3.71")
    # yesterday ended at 0 but sold 4: a day that sells is a day in stock
    assert s.available == 0
    text = " ".join(s.explanation)
    assert "7 days: 20 sold in 5 days in stock = 4.00/day" in text
    assert "Velocity = 0.50 × 4.00 + 0.30 × 3.56 + 0.20 × 3.20 = 3.71/day." in text


def test_the_policy_weights_change_the_velocity(sz, sz_bin, sku):
    stocked_out_history(sku, sz_bin)
    RestockPolicy.objects.create(
        warehouse=sz,
        weight_7=Decimal("0.20"),
        weight_14=Decimal("0.30"),
        weight_30=Decimal("0.50"),
    )

    s = only(suggest(), sku, sz)

    assert s.velocity == Decimal("3.47")  # 0.2 × 4.00 + 0.3 × 3.56 + 0.5 × 3.20 = 3.468


def test_days_before_the_first_receipt_are_out_of_stock(sz, sz_bin, sku):
    """A SKU first received 10 days ago that sold 3/day since: 3/day in every window."""
    move(sku, sz_bin, 30, ago(10, hour=9))
    for n in range(10, 0, -1):
        move(sku, sz_bin, -3, ago(n))

    s = only(suggest(), sku, sz)

    assert s.out_of_stock_days == (0, 4, 20)
    assert s.rates == (Decimal("3.00"),) * 3
    assert s.velocity == Decimal("3.00")


def test_a_window_without_a_day_in_stock_gives_its_weight_to_the_others(sz, sz_bin, sku):
    """2/day for 23 days, then out of stock for the last 7 days."""
    move(sku, sz_bin, 46, ago(35))
    for n in range(30, 7, -1):
        move(sku, sz_bin, -2, ago(n))

    s = only(suggest(), sku, sz)

    assert s.out_of_stock_days == (7, 7, 7)
    assert s.rates == (None, Decimal("2.00"), Decimal("2.00"))
    assert s.weights == (Decimal("0"), Decimal("0.60"), Decimal("0.40"))
    assert s.velocity == Decimal("2.00")
    assert any("its weight went to the others" in line for line in s.explanation)


def test_end_of_day_stock_comes_from_the_ledger_sums_not_from_the_order_rows_were_written(
    sz, sz_bin, sku
):
    """Stock received today is written first, a backdated history after it: the history's
    own balance_after includes today's receipt, the reconstruction does not."""
    move(sku, sz_bin, 50, ago(0, hour=10))
    move(sku, sz_bin, 10, ago(35))
    move(sku, sz_bin, -10, ago(25))  # sold out 25 days ago, nothing since

    s = only(suggest(), sku, sz)

    assert s.sold == (0, 0, 10)
    assert s.out_of_stock_days == (7, 14, 24)  # 24 … 1 days ago
    assert s.available == 50


def test_other_move_kinds_are_not_sales_and_today_is_left_out(sz, sz_bin, sku):
    move(sku, sz_bin, 40, ago(20))
    move(sku, sz_bin, -5, ago(3), kind=StockMove.Kind.ADJUSTMENT)  # damaged, not sold
    move(sku, sz_bin, -7, ago(2))
    move(sku, sz_bin, -9, ago(0, hour=9))  # today: not a complete day yet

    s = only(suggest(), sku, sz)

    assert s.sold == (7, 7, 7)
    assert s.out_of_stock_days == (0, 0, 10)  # before the receipt 20 days ago


def test_stock_in_a_quarantine_bin_does_not_keep_a_sku_in_stock(sz, sz_bin, sku):
    quarantine = LocationFactory(warehouse=sz, code="QC", kind=Location.Kind.QUARANTINE)
    move(sku, quarantine, 5, ago(40))
    move(sku, sz_bin, 6, ago(40))
    for n in (30, 29, 28):
        move(sku, sz_bin, -2, ago(n))

    s = only(suggest(), sku, sz)

    assert s.out_of_stock_days == (7, 14, 27)
    assert s.available == 0


# --- Have, days to cover, short -------------------------------------------------------------


def test_in_transit_and_on_order_are_subtracted_and_drafts_are_not(sz, sz_bin, us, supplier):
    """Lead 5 (the offer's) + QC 1 + transit 0 + safety 7 + cycle 14 = 27 days at 2/day."""
    sku = SkuFactory(code="MUG")
    offer(supplier, sku)
    steady(sku, sz_bin, per_day=2, left=10)
    source = LocationFactory(warehouse=us, code="U-09")
    transfer = Transfer.objects.create(
        number="TR-1", source=us, destination=sz, status=Transfer.Status.SHIPPED
    )
    TransferLine.objects.create(
        transfer=transfer,
        sku=sku,
        source_location=source,
        quantity=8,
        shipped_quantity=8,
        received_quantity=3,
    )
    for status, qty, received, rejected in (
        (PurchaseOrderStatus.ORDERED, 20, 5, 2),  # 13 still coming
        (PurchaseOrderStatus.DRAFT, 7, 0, 0),
        (PurchaseOrderStatus.CANCELLED, 50, 0, 0),
        (PurchaseOrderStatus.PARTIALLY_RECEIVED, 10, 11, 0),  # over-received: 0, not −1
    ):
        po = PurchaseOrder.objects.create(
            number=f"PO-{status}", supplier=supplier, warehouse=sz, status=status
        )
        PurchaseOrderLine.objects.create(
            purchase_order=po,
            sku=sku,
            quantity=qty,
            received_qty=received,
            rejected_qty=rejected,
            unit_price=Decimal("10"),
        )

    s = only(suggest(), sku, sz)

    assert (s.available, s.in_transit, s.on_order, s.in_drafts) == (10, 5, 13, 7)
    assert s.have == 28
    assert (s.supplier_lead_days, s.qc_days, s.transit_days, s.safety_days, s.cycle_days) == (
        5,
        1,
        0,
        7,
        14,
    )
    assert (s.lead_days, s.cover_target_days) == (6, 27)
    assert (s.velocity, s.target, s.short) == (Decimal("2.00"), 54, 26)
    assert s.cover_days == Decimal("14.0")
    text = "\n".join(s.explanation)
    assert "Days to cover = supplier lead 5 + QC 1 + transit 0 + safety 7 + purchase cycle 14" in (
        text
    )
    assert "Target = 2.00/day × 27 days = 54 → 54." in text
    assert "Have 28 = available 10 + in transit 5 + on order 13" in text
    assert "7 more in draft purchase orders, not counted until placed" in text


def test_lead_time_components_come_from_the_offer_supplier_and_policy(sz, sz_bin, supplier):
    RestockPolicy.objects.create(
        warehouse=sz, qc_days=2, transit_days=3, safety_days=5, cycle_days=10
    )
    with_offer_lead, supplier_lead, no_offer = (SkuFactory(code=c) for c in ("A", "B", "C"))
    offer(supplier, with_offer_lead, lead_days=9)
    offer(supplier, supplier_lead, lead_days=None)
    for sku in (with_offer_lead, supplier_lead, no_offer):
        steady(sku, sz_bin, per_day=1, left=0)

    rows = suggest()

    a, b, c = (only(rows, sku, sz) for sku in (with_offer_lead, supplier_lead, no_offer))
    assert (a.supplier_lead_days, a.cover_target_days, a.target) == (9, 29, 29)
    assert (b.supplier_lead_days, b.cover_target_days) == (3, 23)
    assert (c.supplier_lead_days, c.supplier_lead_assumed) == (3, True)
    assert "supplier lead 3 (no offer: assumed)" in " ".join(c.explanation)
    assert c.offer is None and c.quantity == 23 and c.unit_price is None


# --- MOQ, packs and price tiers ----------------------------------------------------------------


def test_the_quantity_is_raised_to_the_moq_then_to_whole_packs(sz, sz_bin, supplier):
    sku = SkuFactory(code="MUG")
    offer(supplier, sku, moq=50, pack_qty=12)
    steady(sku, sz_bin, per_day=2, left=28)  # target 54, short 26

    s = only(suggest(), sku, sz)

    assert (s.short, s.to_buy, s.quantity) == (26, 26, 60)
    assert (s.raised_to_moq, s.rounded_to_pack, s.tier_bump) == (True, True, None)
    assert (s.unit_price, s.amount) == (Decimal("10.00"), Decimal("600.00"))
    assert (
        "Buy 26 → raised to the minimum order 50 → rounded up to whole packs of 12 = 60."
        in s.explanation
    )
    assert "60 × 10.00 = 600.00 CNY from YIWU." in s.explanation


def test_a_cheaper_tier_within_ten_percent_is_reached(sz, sz_bin, supplier):
    sku = SkuFactory(code="MUG")
    offer(supplier, sku)
    steady(sku, sz_bin, per_day=4, left=16)  # target 4 × 27 = 108, short 92; 100 ≤ 101.2

    s = only(suggest(), sku, sz)

    assert (s.to_buy, s.quantity, s.unit_price, s.amount) == (
        92,
        100,
        Decimal("8.50"),
        Decimal("850.00"),
    )
    assert (s.tier_bump.added, s.tier_bump.start, s.tier_bump.saved) == (8, 100, Decimal("150.00"))
    assert "Buy 92 → +8 to reach the 100-unit price 8.50 (saves 150.00) = 100." in s.explanation


def test_a_tier_further_than_ten_percent_away_is_not_reached(sz, sz_bin, supplier):
    sku = SkuFactory(code="MUG")
    offer(supplier, sku)
    steady(sku, sz_bin, per_day=4, left=18)  # short 90: 100 > 99

    s = only(suggest(), sku, sz)

    assert (s.quantity, s.tier_bump, s.unit_price) == (90, None, Decimal("10.00"))


def test_the_reach_is_the_policys(sz, sz_bin, supplier):
    RestockPolicy.objects.create(warehouse=sz, tier_reach_pct=15)
    sku = SkuFactory(code="MUG")
    offer(supplier, sku, pack_qty=6)
    steady(sku, sz_bin, per_day=4, left=18)  # short 90 → packs of 6: 90; 100 ≤ 103.5 → 102

    s = only(suggest(), sku, sz)

    assert (s.quantity, s.tier_bump.added, s.tier_bump.start) == (102, 12, 100)


def test_the_preferred_offer_wins_else_the_cheapest_first_tier(sz, sz_bin, supplier):
    other = Supplier.objects.create(code="CHEAP", name="Cheap", lead_days=2)
    third = Supplier.objects.create(code="DEAR", name="Dear", lead_days=2)
    preferred, cheapest = SkuFactory(code="P"), SkuFactory(code="Q")
    offer(supplier, preferred, is_preferred=True, price_tiers=[[1, "9"]])
    offer(other, preferred, price_tiers=[[1, "5"]])
    offer(third, cheapest, price_tiers=[[1, "7"]])
    offer(other, cheapest, price_tiers=[[1, "6"], [10, "5.5"]])
    for sku in (preferred, cheapest):
        steady(sku, sz_bin, per_day=1, left=0)

    rows = suggest()

    assert only(rows, preferred, sz).supplier_code == "YIWU"
    assert only(rows, cheapest, sz).supplier_code == "CHEAP"


# --- Transfers from the domestic warehouse -------------------------------------------------------


def test_an_overseas_warehouse_is_sent_the_domestic_spare_before_buying(
    sz, sz_bin, us, us_bin, supplier
):
    """US: 2/day, lead 5 + QC 1 + transit 25 + safety 7 + cycle 14 = 52 days → 104, has 10:
    short 94. SZ: 1/day, keeps 1 × (5 + 1 + 0 + 7) = 13 of its 50: 37 go, 57 are bought."""
    sku = SkuFactory(code="MUG")
    offer(supplier, sku, moq=20)
    steady(sku, us_bin, per_day=2, left=10)
    steady(sku, sz_bin, per_day=1, left=50)

    rows = suggest()

    us_row, sz_row = only(rows, sku, us), only(rows, sku, sz)
    assert (us_row.target, us_row.have, us_row.short) == (104, 10, 94)
    assert (us_row.transfer_from_code, us_row.domestic_keep, us_row.transfer_qty) == ("SZ", 13, 37)
    assert (us_row.to_buy, us_row.quantity) == (57, 57)
    assert "Transfer 37 from SZ first: SZ keeps 13 of its 50 available" in " ".join(
        us_row.explanation
    )
    # SZ's own suggestion counts what leaves: 50 − 37 = 13 against 1 × 27
    assert (sz_row.transfer_out, sz_row.have, sz_row.short, sz_row.quantity) == (37, 13, 14, 20)
    assert "proposed transfers out 37 (US-LA 37)" in " ".join(sz_row.explanation)


def test_a_large_domestic_spare_covers_the_whole_shortfall(sz, sz_bin, us, us_bin, supplier):
    sku = SkuFactory(code="MUG")
    offer(supplier, sku)
    steady(sku, us_bin, per_day=2, left=10)
    steady(sku, sz_bin, per_day=1, left=200)

    us_row = only(suggest(), sku, us)

    assert (us_row.transfer_qty, us_row.to_buy, us_row.quantity) == (94, 0, 0)
    assert us_row.needed
    assert "Nothing to buy: the transfer covers it." in us_row.explanation


def test_the_most_urgent_overseas_warehouse_gets_the_spare_first(sz, sz_bin, us, us_bin):
    fba = WarehouseFactory(code="FBA-US", kind=Warehouse.Kind.FBA, country="US")
    fba_bin = LocationFactory(warehouse=fba, code="F-01")
    sku = SkuFactory(code="MUG")
    steady(sku, us_bin, per_day=1, left=20)  # target 50 (lead 3 assumed), short 30
    steady(sku, fba_bin, per_day=1, left=0)  # short 50, the more urgent
    steady(sku, sz_bin, per_day=1, left=71)  # keeps 11: spare 60

    rows = suggest()

    fba_row, us_row = only(rows, sku, fba), only(rows, sku, us)
    assert (fba_row.transfer_qty, fba_row.spare_taken) == (50, 0)
    assert (us_row.transfer_qty, us_row.spare_taken, us_row.to_buy) == (10, 50, 20)
    assert rows.index(fba_row) < rows.index(us_row)
    assert only(rows, sku, sz).transfers_to == [("FBA-US", 50), ("US-LA", 10)]


def test_overseas_suggestions_read_the_domestic_stock_even_when_listed_alone(
    sz, sz_bin, us, us_bin
):
    sku = SkuFactory(code="MUG")
    steady(sku, us_bin, per_day=2, left=10)
    steady(sku, sz_bin, per_day=1, left=200)

    rows = restock_suggestions(warehouse_ids=[us.pk], as_of=AS_OF)

    # no offer: lead 3 assumed, 2 × 50 days = 100, has 10
    assert [(s.warehouse_code, s.transfer_qty) for s in rows] == [("US-LA", 90)]


def test_no_transfer_when_the_domestic_warehouse_has_nothing_to_spare(sz, sz_bin, us, us_bin):
    sku = SkuFactory(code="MUG")
    steady(sku, us_bin, per_day=2, left=10)
    steady(sku, sz_bin, per_day=1, left=5)  # keeps 11

    us_row = only(suggest(), sku, us)

    assert (us_row.transfer_qty, us_row.to_buy) == (0, 90)
    assert "No transfer: SZ keeps 11 of its 5 available" in " ".join(us_row.explanation)


# --- Listing ----------------------------------------------------------------------------------


def test_only_needed_rows_by_default_most_urgent_first(sz, sz_bin, supplier):
    low, lower, fine = SkuFactory(code="LOW"), SkuFactory(code="LOWER"), SkuFactory(code="FINE")
    steady(low, sz_bin, per_day=2, left=20)  # 10 days of cover
    steady(lower, sz_bin, per_day=2, left=4)  # 2 days
    steady(fine, sz_bin, per_day=1, left=100)  # 100 days: nothing to do
    RestockPolicy.objects.create(warehouse=sz, is_active=True)

    rows = restock_suggestions(as_of=AS_OF)

    assert [(s.sku_code, s.cover_days) for s in rows] == [
        ("LOWER", Decimal("2.0")),
        ("LOW", Decimal("10.0")),
    ]
    assert len(suggest()) == 3


def test_an_inactive_policy_bundles_and_inactive_skus_are_left_out(sz, sz_bin, us, us_bin):
    RestockPolicy.objects.create(warehouse=us, is_active=False)
    sku, retired = SkuFactory(code="MUG"), SkuFactory(code="OLD", is_active=False)
    for s in (sku, retired):
        steady(s, sz_bin, per_day=1, left=0)
        steady(s, us_bin, per_day=1, left=0)

    rows = suggest()

    assert [(s.sku_code, s.warehouse_code) for s in rows] == [("MUG", "SZ")]


def test_the_query_count_does_not_grow_with_the_skus(sz, sz_bin, us, us_bin, supplier):
    def world(n, prefix):
        for i in range(n):
            sku = SkuFactory(code=f"{prefix}{i:02d}")
            offer(supplier, sku)
            move(sku, sz_bin, 30, ago(20))
            move(sku, sz_bin, -3, ago(2))
            move(sku, us_bin, 10, ago(20))
            move(sku, us_bin, -2, ago(1))

    world(5, "A")
    with CaptureQueriesContext(connection) as few:
        assert len(suggest()) == 10
    world(45, "B")
    with CaptureQueriesContext(connection) as many:
        assert len(suggest()) == 100

    assert len(few) == len(many) == 7


# --- Drafts -----------------------------------------------------------------------------------


def test_drafts_are_grouped_by_supplier_and_warehouse(sz, us, supplier):
    other = Supplier.objects.create(code="CHEAP", name="Cheap")
    a, b, c, d = (SkuFactory(code=code) for code in "ABCD")
    offer(supplier, a, is_preferred=True)
    offer(other, a, price_tiers=[[1, "1.00"]])
    offer(supplier, b, price_tiers=[[1, "3.00"], [20, "2.50"]])
    offer(other, c, price_tiers=[[1, "4.00"]])
    user = UserFactory()

    result = restock_create_drafts(
        lines=[
            (a.pk, sz.pk, 10),
            (b.pk, sz.pk, 20),
            (c.pk, sz.pk, 5),
            (a.pk, us.pk, 7),
            (d.pk, sz.pk, 3),
        ],
        user=user,
    )

    summary = [
        (
            po.supplier.code,
            po.warehouse.code,
            po.status,
            sorted((ln.sku.code, ln.quantity, ln.unit_price) for ln in po.lines.all()),
        )
        for po in result.orders
    ]
    assert summary == [
        ("CHEAP", "SZ", "draft", [("C", 5, Decimal("4.0000"))]),
        ("YIWU", "SZ", "draft", [("A", 10, Decimal("10.0000")), ("B", 20, Decimal("2.5000"))]),
        ("YIWU", "US-LA", "draft", [("A", 7, Decimal("10.0000"))]),
    ]
    assert [(s.sku_code, s.warehouse_code) for s in result.skipped] == [("D", "SZ")]
    assert all(po.created_by == user for po in result.orders)


def test_drafts_refuse_bad_lines_and_write_nothing(sz, supplier):
    sku = SkuFactory(code="A")
    offer(supplier, sku)

    with pytest.raises(RestockError, match="at least 1"):
        restock_create_drafts(lines=[(sku.pk, sz.pk, 2), (sku.pk, sz.pk, 0)], user=None)
    with pytest.raises(RestockError, match="does not exist"):
        restock_create_drafts(lines=[(sku.pk, 999_999, 2)], user=None)
    assert PurchaseOrder.objects.count() == 0


def test_drafts_only_in_the_users_warehouses(sz, us, supplier):
    from erp.permissions import OutOfScope

    sku = SkuFactory(code="A")
    offer(supplier, sku)
    clerk = UserFactory(warehouses=[sz])

    with pytest.raises(OutOfScope):
        restock_create_drafts(lines=[(sku.pk, us.pk, 2)], user=clerk)
    assert PurchaseOrder.objects.count() == 0


def test_policy_weights_must_add_up_to_one(sz):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    policy = RestockPolicy(warehouse=sz, weight_7=Decimal("0.5"), weight_14=Decimal("0.5"))
    with pytest.raises(ValidationError, match="add up to 1"):
        policy.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        policy.save()


def test_the_demo_gives_the_restock_page_something_to_explain(capsys):
    from django.core.management import call_command

    from tests.factories import ensure_roles

    ensure_roles()
    call_command("seed_demo", "--force")
    capsys.readouterr()

    rows = restock_suggestions()

    assert Supplier.objects.count() == 5
    assert {s.warehouse_code for s in rows} == {"SZ", "US-LA"}
    assert all(s.offer is not None for s in rows)  # every demo SKU is offered on 1688
    assert any(s.transfer_qty for s in rows)  # Los Angeles is sent Shenzhen's spare
    assert any(s.quantity for s in rows)
    assert any(max(s.out_of_stock_days) for s in rows)
    assert StockMove.objects.filter(reference__startswith="demo-sale:").exists()
