"""Transfers between warehouses: shipping (available stock only), in-transit accounting,
partial receipts, landed cost with freight, closing short."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from erp.models import Role
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
    WarehouseFactory,
)
from warehouse import selectors
from warehouse.models import StockLevel, StockMove, Transfer, Warehouse
from warehouse.selectors import in_transit_by_destination, sku_availability
from warehouse.services import (
    InsufficientStock,
    StockLine,
    TransferError,
    TransferItem,
    TransferReceipt,
    allocate_freight,
    stock_receive,
    stock_reserve,
    transfer_cancel,
    transfer_close,
    transfer_create,
    transfer_receive,
    transfer_ship,
    transfer_update,
)

pytestmark = pytest.mark.django_db


def receive(sku, location, quantity, cost="2"):
    return stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal(cost))


def on_hand(sku, location) -> int:
    level = StockLevel.objects.filter(sku=sku, location=location).first()
    return level.on_hand if level else 0


@pytest.fixture
def us(db):
    return WarehouseFactory(code="US", name="Los Angeles 3PL", kind=Warehouse.Kind.OVERSEAS)


@pytest.fixture
def us_bins(us):
    return [LocationFactory(warehouse=us, code=f"U-0{i}", pick_sequence=i) for i in (1, 2)]


@pytest.fixture
def user(db):
    return UserFactory(roles=[Role.WAREHOUSE])


@pytest.fixture
def mug(bins):
    sku = SkuFactory(code="MUG", weight_g=100)
    receive(sku, bins[0], 50, cost="4")
    return sku


@pytest.fixture
def lamp(bins):
    sku = SkuFactory(code="LAMP", weight_g=300)
    receive(sku, bins[1], 20, cost="10")
    return sku


def transit(sku, warehouse) -> int:
    return in_transit_by_destination(sku_ids=[sku.pk]).get((sku.pk, warehouse.pk), 0)


# --- creating ---------------------------------------------------------------------------------


def test_create_a_draft_merging_repeated_lines(warehouse, us, bins, mug, user):
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(mug, 5, bins[0])],
        freight_cost=Decimal("12.345"),
        carrier="Matson",
        user=user,
    )

    assert transfer.status == Transfer.Status.DRAFT
    assert transfer.number.startswith("TR") and transfer.number.endswith("-SZ-001")
    assert transfer.freight_cost == Decimal("12.35")
    assert [(ln.sku.code, ln.quantity, ln.shipped_quantity) for ln in transfer.lines.all()] == [
        ("MUG", 15, 0)
    ]
    assert on_hand(mug, bins[0]) == 50  # a draft moves nothing
    assert transit(mug, us) == 0


def test_create_refuses_bad_lines_naming_each(warehouse, us, bins, us_bins, mug):
    kit = BundleItemFactory(bundle__code="KIT").bundle
    with pytest.raises(TransferError) as caught:
        transfer_create(
            source=warehouse,
            destination=us,
            items=[
                TransferItem(mug, 0, bins[0]),
                TransferItem(kit, 1, bins[0]),
                TransferItem(mug, 1, us_bins[0]),
            ],
        )
    message = str(caught.value)
    assert "MUG: the quantity must be a whole number from 1" in message
    assert "KIT is a bundle" in message
    assert "MUG: bin U-01 is not in SZ" in message
    with pytest.raises(TransferError, match="goes to another warehouse"):
        transfer_create(source=warehouse, destination=warehouse, items=[])
    with pytest.raises(TransferError, match="at least one line"):
        transfer_create(source=warehouse, destination=us, items=[])
    assert Transfer.objects.count() == 0


# --- shipping ---------------------------------------------------------------------------------


def test_shipping_takes_stock_out_of_the_source_and_puts_it_in_transit(
    warehouse, us, bins, mug, lamp, user
):
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 20, bins[0]), TransferItem(lamp, 5, bins[1])],
    )

    transfer_ship(transfer=transfer, user=user, tracking="MATU123")

    transfer.refresh_from_db()
    assert (transfer.status, transfer.tracking) == (Transfer.Status.SHIPPED, "MATU123")
    assert transfer.shipped_at is not None
    assert (on_hand(mug, bins[0]), on_hand(lamp, bins[1])) == (30, 15)
    assert (transit(mug, us), transit(lamp, us)) == (20, 5)
    moves = StockMove.objects.filter(kind=StockMove.Kind.TRANSFER_OUT).order_by("sku__code")
    assert [(m.sku.code, m.quantity, m.unit_cost, m.reference) for m in moves] == [
        ("LAMP", -5, Decimal("10"), transfer.number),
        ("MUG", -20, Decimal("4"), transfer.number),
    ]
    lines = {ln.sku.code: ln for ln in transfer.lines.all()}
    assert (lines["MUG"].shipped_quantity, lines["MUG"].unit_cost) == (20, Decimal("4"))
    call_command("check_stock")


def test_shipping_refuses_reserved_stock_naming_every_short_line(warehouse, us, bins, mug, lamp):
    """50 mugs with 45 reserved: 10 cannot go. 20 lamps all free, but 25 asked. Both named,
    nothing moves, the transfer stays a draft."""
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 45)], reference="order_line:1")
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(lamp, 25, bins[1])],
    )

    with pytest.raises(InsufficientStock) as caught:
        transfer_ship(transfer=transfer)

    assert [(s.sku_code, s.where, s.requested, s.available) for s in caught.value.shortages] == [
        ("MUG", "SZ/A-01", 10, 5),
        ("LAMP", "SZ/A-02", 25, 20),
    ]
    assert (on_hand(mug, bins[0]), on_hand(lamp, bins[1])) == (50, 20)
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.DRAFT
    assert StockMove.objects.filter(kind=StockMove.Kind.TRANSFER_OUT).count() == 0


def test_lines_and_freight_are_fixed_once_shipped(warehouse, us, bins, mug):
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 1, bins[0])]
    )
    transfer_update(transfer=transfer, items=[TransferItem(mug, 3, bins[0])], freight_cost=5)
    assert list(transfer.lines.values_list("quantity", flat=True)) == [3]
    transfer_ship(transfer=transfer)

    with pytest.raises(TransferError, match="its lines and freight are fixed"):
        transfer_update(transfer=transfer, freight_cost=9)
    transfer_update(transfer=transfer, tracking="LATE-TRACKING")
    assert Transfer.objects.get(pk=transfer.pk).tracking == "LATE-TRACKING"
    with pytest.raises(TransferError, match="is shipped: this cannot be done now"):
        transfer_ship(transfer=transfer)
    with pytest.raises(TransferError, match="is shipped"):
        transfer_cancel(transfer=transfer)


# --- freight and landed cost ------------------------------------------------------------------


def test_freight_is_shared_by_weight_when_every_sku_has_one(warehouse, us, bins, mug, lamp):
    """10 mugs × 100 g and 10 lamps × 300 g share 40 of freight as 10 and 30: 1 and 3 a unit."""
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(lamp, 10, bins[1])],
        freight_cost=Decimal("40"),
    )
    transfer_ship(transfer=transfer)

    lines = {ln.sku.code: ln for ln in transfer.lines.all()}
    assert (lines["MUG"].unit_freight, lines["LAMP"].unit_freight) == (Decimal("1"), Decimal("3"))
    assert lines["LAMP"].landed_unit_cost == Decimal("13")


def test_freight_is_shared_by_quantity_when_a_sku_has_no_weight(warehouse, us, bins, mug):
    light = SkuFactory(code="STICKER", weight_g=0)
    receive(light, bins[2], 30)
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(light, 30, bins[2])],
        freight_cost=Decimal("10"),
    )
    transfer_ship(transfer=transfer)

    assert {ln.sku.code: ln.unit_freight for ln in transfer.lines.all()} == {
        "MUG": Decimal("0.25"),
        "STICKER": Decimal("0.25"),
    }
    assert allocate_freight(Decimal("0"), list(transfer.lines.all())) == {
        ln.pk: Decimal("0") for ln in transfer.lines.all()
    }


def test_received_units_enter_the_moving_average_at_landed_cost(
    warehouse, us, bins, us_bins, mug, user
):
    """50 mugs at 4. Send 10 with 20 of freight (2 a unit) and receive them: the 10 come in at
    6, so the average becomes (40 × 4 + 10 × 6) / 50 = 4.4."""
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0])],
        freight_cost=Decimal("20"),
    )
    transfer_ship(transfer=transfer)

    transfer_receive(
        transfer=transfer,
        receipts=[TransferReceipt(transfer.lines.get(), 10, us_bins[0])],
        user=user,
    )

    move = StockMove.objects.get(kind=StockMove.Kind.TRANSFER_IN)
    assert (move.quantity, move.unit_cost, move.reference, move.user) == (
        10,
        Decimal("6"),
        transfer.number,
        user,
    )
    mug.refresh_from_db()
    assert mug.avg_cost == Decimal("4.4")
    assert on_hand(mug, us_bins[0]) == 10
    call_command("check_stock")


# --- receiving --------------------------------------------------------------------------------


def test_partial_receipts_keep_the_rest_in_transit(warehouse, us, bins, us_bins, mug, lamp):
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(lamp, 4, bins[1])],
    )
    transfer_ship(transfer=transfer)
    lines = {ln.sku.code: ln for ln in transfer.lines.all()}

    transfer_receive(
        transfer=transfer,
        receipts=[
            TransferReceipt(lines["MUG"], 6, us_bins[0], note="4 still on the truck"),
            TransferReceipt(lines["LAMP"], 0, us_bins[0]),  # nothing yet: skipped
        ],
    )

    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.PARTIALLY_RECEIVED
    assert (transit(mug, us), transit(lamp, us)) == (4, 4)
    assert on_hand(mug, us_bins[0]) == 6

    transfer_receive(
        transfer=transfer,
        receipts=[
            TransferReceipt(lines["MUG"], 3, us_bins[0]),
            TransferReceipt(lines["MUG"], 1, us_bins[1]),
            TransferReceipt(lines["LAMP"], 4, us_bins[1]),
        ],
    )

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    assert transfer.received_at is not None
    assert (transit(mug, us), transit(lamp, us)) == (0, 0)
    assert (on_hand(mug, us_bins[0]), on_hand(mug, us_bins[1])) == (9, 1)
    mug_line = transfer.lines.get(sku=mug)
    assert (mug_line.received_quantity, mug_line.discrepancy_note) == (10, "4 still on the truck")
    call_command("check_stock")


def test_receiving_more_than_is_due_or_into_another_warehouse_is_refused(
    warehouse, us, bins, us_bins, mug
):
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 5, bins[0])]
    )
    with pytest.raises(TransferError, match="is draft: this cannot be done now"):
        transfer_receive(
            transfer=transfer, receipts=[TransferReceipt(transfer.lines.get(), 1, us_bins[0])]
        )
    transfer_ship(transfer=transfer)
    line = transfer.lines.get()
    transfer_receive(transfer=transfer, receipts=[TransferReceipt(line, 3, us_bins[0])])
    line.refresh_from_db()

    with pytest.raises(TransferError, match="MUG: 3 received, but only 2 of 5 are still due"):
        transfer_receive(transfer=transfer, receipts=[TransferReceipt(line, 3, us_bins[0])])
    with pytest.raises(TransferError, match="MUG: bin A-01 is not in US"):
        transfer_receive(transfer=transfer, receipts=[TransferReceipt(line, 1, bins[0])])
    with pytest.raises(TransferError, match="at least one line"):
        transfer_receive(transfer=transfer, receipts=[TransferReceipt(line, 0, us_bins[0])])
    assert transit(mug, us) == 2


def test_closing_short_records_the_discrepancy_and_ends_the_transit(
    warehouse, us, bins, us_bins, mug, lamp
):
    transfer = transfer_create(
        source=warehouse,
        destination=us,
        items=[TransferItem(mug, 10, bins[0]), TransferItem(lamp, 2, bins[1])],
    )
    transfer_ship(transfer=transfer)
    lines = {ln.sku.code: ln for ln in transfer.lines.all()}
    transfer_receive(
        transfer=transfer,
        receipts=[
            TransferReceipt(lines["MUG"], 7, us_bins[0]),
            TransferReceipt(lines["LAMP"], 2, us_bins[0]),
        ],
    )

    transfer_close(transfer=transfer, note="Carrier lost a carton")

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    assert "Carrier lost a carton" in transfer.note
    mug_line = transfer.lines.get(sku=mug)
    assert (mug_line.shipped_quantity, mug_line.received_quantity, mug_line.outstanding) == (
        10,
        7,
        3,
    )
    assert mug_line.discrepancy_note == "Not received when the transfer was closed"
    assert transfer.lines.get(sku=lamp).discrepancy_note == ""
    assert transit(mug, us) == 0
    # 50 − 10 shipped at the source, 7 arrived: the 3 lost are in no bin.
    assert (on_hand(mug, bins[0]), on_hand(mug, us_bins[0])) == (40, 7)
    with pytest.raises(TransferError, match="is received"):
        transfer_receive(transfer=transfer, receipts=[TransferReceipt(mug_line, 1, us_bins[0])])
    call_command("check_stock")


def test_cancel_a_draft(warehouse, us, bins, mug):
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 5, bins[0])]
    )
    transfer_cancel(transfer=transfer)
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.CANCELLED
    with pytest.raises(TransferError, match="is cancelled"):
        transfer_ship(transfer=transfer)


# --- in transit across transfers --------------------------------------------------------------


def test_in_transit_sums_every_open_transfer_per_destination(
    warehouse, us, bins, us_bins, mug, user, monkeypatch
):
    monkeypatch.setattr(selectors, "_INCOMING_PROVIDERS", [])  # purchasing may register one
    fba = WarehouseFactory(code="FBA-ONT8", kind=Warehouse.Kind.FBA)
    LocationFactory(warehouse=fba, code="FBA")
    to_us_1 = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 5, bins[0])]
    )
    to_us_2 = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 7, bins[0])]
    )
    to_fba = transfer_create(
        source=warehouse, destination=fba, items=[TransferItem(mug, 3, bins[0])]
    )
    draft = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 11, bins[0])]
    )
    for transfer in (to_us_1, to_us_2, to_fba):
        transfer_ship(transfer=transfer)
    transfer_receive(
        transfer=to_us_2, receipts=[TransferReceipt(to_us_2.lines.get(), 2, us_bins[0])]
    )
    transfer_close(transfer=to_fba)

    assert transit(mug, us) == 5 + 5  # the draft is not on its way
    assert transit(mug, fba) == 0
    assert draft.status == Transfer.Status.DRAFT

    rows = {row.warehouse.code: row for row in sku_availability(user=user, sku=mug)}
    assert sorted(rows) == ["SZ", "US"]  # FBA: nothing there, nothing coming
    sz, us_row = rows["SZ"], rows["US"]
    assert (sz.on_hand, sz.reserved, sz.available, sz.in_transit) == (35, 0, 35, 0)
    assert (us_row.on_hand, us_row.available, us_row.in_transit) == (2, 2, 10)
    assert us_row.incoming is None  # no purchasing provider yet
