from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tests.factories import BundleItemFactory, LocationFactory, SkuFactory, WarehouseFactory
from warehouse.models import Reservation, StockLevel, StockMove
from warehouse.services import (
    InsufficientStock,
    StockError,
    StockLine,
    stock_adjust,
    stock_consume,
    stock_move,
    stock_receive,
    stock_release,
    stock_reserve,
)

pytestmark = pytest.mark.django_db


def level(sku, location):
    return StockLevel.objects.get(sku=sku, location=location)


def test_receive_creates_level_move_and_average_cost(sku, bins):
    stock_receive(sku=sku, location=bins[0], quantity=10, unit_cost=Decimal("10"), reference="R1")
    stock_receive(sku=sku, location=bins[1], quantity=30, unit_cost=Decimal("14"), reference="R2")

    sku.refresh_from_db()
    assert sku.avg_cost == Decimal("13.0000")  # (10×10 + 30×14) / 40
    assert level(sku, bins[0]).on_hand == 10
    assert level(sku, bins[1]).on_hand == 30
    moves = list(StockMove.objects.filter(sku=sku).order_by("pk"))
    assert [(m.quantity, m.balance_after, m.unit_cost) for m in moves] == [
        (10, 10, Decimal("10.0000")),
        (30, 30, Decimal("14.0000")),
    ]


def test_receive_refuses_zero_negative_and_bundles(sku, bins):
    with pytest.raises(StockError, match="zero"):
        stock_receive(sku=sku, location=bins[0], quantity=0, unit_cost=Decimal("1"))
    with pytest.raises(StockError, match="greater than zero"):
        stock_receive(sku=sku, location=bins[0], quantity=-1, unit_cost=Decimal("1"))
    with pytest.raises(StockError, match="negative"):
        stock_receive(sku=sku, location=bins[0], quantity=1, unit_cost=Decimal("-1"))
    bundle = SkuFactory(is_bundle=True)
    with pytest.raises(StockError, match="bundle"):
        stock_receive(sku=bundle, location=bins[0], quantity=1, unit_cost=Decimal("1"))
    assert StockMove.objects.count() == 0


def test_adjust_down_cannot_take_reserved_units(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=5, unit_cost=Decimal("2"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 4)], reference="order_line:1")

    with pytest.raises(InsufficientStock) as exc:
        stock_adjust(sku=sku, location=bins[0], quantity=-2, reason="broken")
    assert [(s.sku_code, s.requested, s.available) for s in exc.value.shortages] == [
        (sku.code, 2, 1)
    ]
    move = stock_adjust(sku=sku, location=bins[0], quantity=-1, reason="broken")
    assert (move.quantity, move.balance_after, move.unit_cost) == (-1, 4, Decimal("2.0000"))
    assert move.kind == StockMove.Kind.ADJUSTMENT


def test_adjust_needs_a_reason(sku, bins):
    with pytest.raises(StockError, match="reason"):
        stock_adjust(sku=sku, location=bins[0], quantity=3, reason="  ")


def test_move_between_bins(sku, bins):
    stock_receive(sku=sku, location=bins[0], quantity=8, unit_cost=Decimal("3"))
    out, into = stock_move(sku=sku, from_location=bins[0], to_location=bins[2], quantity=5)
    assert (out.quantity, out.balance_after, into.quantity, into.balance_after) == (-5, 3, 5, 5)
    with pytest.raises(InsufficientStock):
        stock_move(sku=sku, from_location=bins[0], to_location=bins[2], quantity=4)
    other = LocationFactory(warehouse=WarehouseFactory(code="US"))
    with pytest.raises(StockError, match="different warehouses"):
        stock_move(sku=sku, from_location=bins[0], to_location=other, quantity=1)


def test_reserve_takes_bins_in_pick_sequence_and_lists_every_short_line(warehouse, bins):
    mug, cup = SkuFactory(), SkuFactory()
    stock_receive(sku=mug, location=bins[2], quantity=5, unit_cost=Decimal("1"))
    stock_receive(sku=mug, location=bins[0], quantity=3, unit_cost=Decimal("1"))
    stock_receive(sku=cup, location=bins[1], quantity=1, unit_cost=Decimal("1"))

    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(
            warehouse=warehouse,
            lines=[StockLine(mug, 9), StockLine(cup, 2)],
            reference="order_line:7",
        )
    assert [(s.sku_code, s.requested, s.available) for s in exc.value.shortages] == [
        (mug.code, 9, 8),
        (cup.code, 2, 1),
    ]
    assert Reservation.objects.count() == 0

    result = stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 4)], reference="ol:8")
    assert [(r.stock_level.location.code, r.quantity) for r in result.reservations] == [
        ("A-01", 3),
        ("A-03", 1),
    ]
    assert level(mug, bins[0]).reserved == 3
    assert level(mug, bins[2]).reserved == 1


def test_bundle_reserves_its_parts(warehouse, bins):
    part = BundleItemFactory(quantity=2)
    stock_receive(sku=part.component, location=bins[0], quantity=10, unit_cost=Decimal("1"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(part.bundle, 3)], reference="ol:1")
    assert level(part.component, bins[0]).reserved == 6


def test_release_partial_then_all(warehouse, bins, sku):
    stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("1"))
    stock_receive(sku=sku, location=bins[1], quantity=2, unit_cost=Decimal("1"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 4)], reference="ol:1")

    assert stock_release(reference="ol:1", sku=sku, quantity=1) == 1
    assert (level(sku, bins[0]).reserved, level(sku, bins[1]).reserved) == (2, 1)
    with pytest.raises(StockError, match="only 3 reserved"):
        stock_release(reference="ol:1", sku=sku, quantity=5)
    assert stock_release(reference="ol:1") == 3
    assert Reservation.objects.count() == 0
    assert (level(sku, bins[0]).reserved, level(sku, bins[1]).reserved) == (0, 0)


def test_consume_ships_reserved_units_at_average_cost(warehouse, bins, sku):
    stock_receive(sku=sku, location=bins[0], quantity=4, unit_cost=Decimal("5"))
    stock_receive(sku=sku, location=bins[0], quantity=4, unit_cost=Decimal("7"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 3)], reference="ol:1")

    moves = stock_consume(reference="ol:1")

    assert [(m.kind, m.quantity, m.balance_after, m.unit_cost) for m in moves] == [
        (StockMove.Kind.SHIPMENT, -3, 5, Decimal("6.0000"))
    ]
    lv = level(sku, bins[0])
    assert (lv.on_hand, lv.reserved) == (5, 0)
    with pytest.raises(StockError, match="Nothing is reserved"):
        stock_consume(reference="ol:1")


def test_database_refuses_reserved_above_on_hand(sku, bins):
    StockLevel.objects.create(sku=sku, location=bins[0], on_hand=1)
    with pytest.raises(IntegrityError):
        StockLevel.objects.filter(sku=sku).update(reserved=2)


def test_moves_are_append_only(sku, bins):
    move = stock_receive(sku=sku, location=bins[0], quantity=1, unit_cost=Decimal("1"))
    with pytest.raises(ValueError, match="append-only"):
        move.save()
    with pytest.raises(ValueError, match="append-only"):
        move.delete()


def test_check_stock_reports_drift_and_exits_1(sku, bins, capsys):
    stock_receive(sku=sku, location=bins[0], quantity=3, unit_cost=Decimal("1"))
    call_command("check_stock")
    assert "match the ledger" in capsys.readouterr().out

    StockLevel.objects.filter(sku=sku).update(on_hand=5)
    with pytest.raises(SystemExit) as exc:
        call_command("check_stock")
    assert exc.value.code == 1
    assert (
        f"DRIFT {sku.code} SZ/A-01 on_hand: stored=5 derived=3 diff=+2" in capsys.readouterr().out
    )


def test_database_refuses_duplicate_codes_and_non_empty_barcodes(db):
    SkuFactory(code="MUG-1", barcode="6901234567892")
    SkuFactory(barcode="")
    SkuFactory(barcode="")  # empty barcodes do not clash
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuFactory(code="MUG-1", barcode="")
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuFactory(barcode="6901234567892")
