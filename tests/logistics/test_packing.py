"""The pack station's services: scanning an order in, its items (wrong SKU, one too many,
partial, complete), confirming with the weight (stock consumed with its cost, order and
shipment shipped, platform told), labels, resuming and packers in each other's way, and
single-item quick packing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from erp.models import Role
from logistics.models import PackLine, PackSession, PickWave, Shipment, ShipmentStatus
from logistics.services.packing import (
    STALE_AFTER,
    ExtraUnit,
    PackBusy,
    PackError,
    PackIncomplete,
    PackNotFound,
    WrongItem,
    find_order,
    pack_confirm,
    pack_label_pdf,
    pack_quick,
    pack_scan,
    pack_set_aside,
    pack_start,
)
from logistics.services.picking import wave_create
from orders.models import Order, OrderEvent, OrderStatus
from tests.factories import UserFactory
from tests.logistics.test_picking import Floor, make_floor
from warehouse.models import Reservation, StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor() -> Floor:
    return make_floor()


def scanned(session) -> dict[str, tuple[int, int]]:
    return {
        line.sku.code: (line.scanned, line.expected)
        for line in PackLine.objects.filter(session=session).select_related("sku")
    }


# ---------------------------------------------------------------------------- start


def test_an_order_is_found_by_its_tracking_number_order_id_or_reference(floor):
    order = floor.order([("MUG", 1)], labelled=True)
    shipment = Shipment.objects.get(order=order)
    Order.objects.filter(pk=order.pk).update(platform_reference="#1001")
    for code in (
        shipment.tracking_number,
        shipment.reference,
        order.external_id,
        "#1001",
        f"order:{order.pk}",
        f"  {order.external_id}  ",
    ):
        assert find_order(code=code, user=floor.worker).pk == order.pk, code


def test_scanning_an_order_in_lists_its_units_to_scan(floor):
    order = floor.order([("MUG", 2), ("CASE", 1)], labelled=True)

    session = pack_start(code=order.external_id, user=floor.worker)

    assert session.status == PackSession.Status.OPEN
    assert session.packer == floor.worker
    assert session.warehouse == floor.warehouse
    assert scanned(session) == {"MUG": (0, 2), "CASE": (0, 1)}


def test_unknown_shipped_and_foreign_orders_are_refused_by_name(floor):
    with pytest.raises(PackNotFound, match="No order or parcel has the number NOPE-1"):
        pack_start(code="NOPE-1", user=floor.worker)
    with pytest.raises(PackError, match="Scan an order number"):
        pack_start(code="  ", user=floor.worker)
    cancelled = floor.order([("MUG", 1)])
    from orders.services import orders_cancel

    orders_cancel(order_ids=[cancelled.pk])
    with pytest.raises(PackError, match=rf"Order {cancelled.external_id} is cancelled"):
        pack_start(code=cancelled.external_id, user=floor.worker)
    # an order of a store outside the packer's scope is simply not found
    other = floor.order([("MUG", 1)], store=floor.other_store)
    narrow = UserFactory(roles=[Role.WAREHOUSE], stores=[floor.store])
    with pytest.raises(PackNotFound):
        pack_start(code=other.external_id, user=narrow)


def test_an_order_without_channel_or_label_cannot_be_packed(floor):
    order = floor.order([("MUG", 1)], channel=False)
    with pytest.raises(PackError, match="has no shipping channel"):
        pack_start(code=order.external_id, user=floor.worker)


# ---------------------------------------------------------------------------- scan


def test_a_wrong_sku_is_refused_and_counted(floor):
    order = floor.order([("MUG", 1)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)

    with pytest.raises(
        WrongItem, match=rf"Wrong item: CASE 手机壳 is not in order {order.external_id}"
    ):
        pack_scan(session=session, code=floor.skus["CASE"].barcode, user=floor.worker)
    with pytest.raises(WrongItem, match="Unknown barcode 12345: no SKU has it"):
        pack_scan(session=session, code="12345", user=floor.worker)

    assert scanned(session) == {"MUG": (0, 1)}
    assert PackSession.objects.get(pk=session.pk).mistakes == 2


def test_an_extra_unit_is_refused(floor):
    order = floor.order([("MUG", 2)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code=floor.skus["MUG"].barcode, user=floor.worker)
    result = pack_scan(session=session, code="mug", user=floor.worker)  # the SKU code works too
    assert result.complete is True

    with pytest.raises(ExtraUnit, match=rf"One too many: order {order.external_id} needs 2 × MUG"):
        pack_scan(session=session, code=floor.skus["MUG"].barcode, user=floor.worker)

    assert scanned(session) == {"MUG": (2, 2)}


def test_a_partial_parcel_cannot_be_confirmed(floor):
    order = floor.order([("MUG", 2), ("CASE", 1), ("CABLE", 1)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    first = pack_scan(session=session, code=floor.skus["MUG"].barcode, user=floor.worker)
    second = pack_scan(session=session, code="CABLE", user=floor.worker)
    assert (first.complete, second.complete) == (False, False)

    with pytest.raises(PackIncomplete, match=r"still missing: 1 × MUG 保温杯, 1 × CASE 手机壳"):
        pack_confirm(session=session, user=floor.worker, weight_g=500)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.LABELLED
    assert not StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).exists()


def test_a_reload_resumes_the_scans_and_another_packer_is_refused(floor):
    order = floor.order([("MUG", 2)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code="MUG", user=floor.worker)

    again = pack_start(code=order.external_id, user=floor.worker)
    assert again.pk == session.pk
    assert scanned(again) == {"MUG": (1, 2)}

    other = UserFactory(username="li", display_name="Li Na", roles=[Role.WAREHOUSE])
    with pytest.raises(PackBusy, match=rf"Order {order.external_id} is being packed by"):
        pack_start(code=order.external_id, user=other)
    with pytest.raises(PackBusy):
        pack_scan(session=session, code="MUG", user=other)

    # once the first packer has been quiet a while, the other takes the parcel over
    PackSession.objects.filter(pk=session.pk).update(
        updated_at=timezone.now() - STALE_AFTER - timedelta(seconds=1)
    )
    taken = pack_start(code=order.external_id, user=other)
    assert taken.pk == session.pk and taken.packer == other
    assert scanned(taken) == {"MUG": (1, 2)}


def test_a_parcel_set_aside_starts_over(floor):
    order = floor.order([("MUG", 1)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code="MUG", user=floor.worker)

    pack_set_aside(session=session, user=floor.worker)

    fresh = pack_start(code=order.external_id, user=floor.worker)
    assert fresh.pk != session.pk
    assert scanned(fresh) == {"MUG": (0, 1)}


# ---------------------------------------------------------------------------- confirm


def test_a_complete_parcel_ships_with_its_weight_and_cost(
    floor, django_capture_on_commit_callbacks
):
    order = floor.order([("MUG", 2), ("CASE", 1)], labelled=True)
    shipment = Shipment.objects.get(order=order)
    session = pack_start(code=shipment.tracking_number, user=floor.worker)
    for code in ("MUG", floor.skus["CASE"].barcode, floor.skus["MUG"].barcode):
        pack_scan(session=session, code=code, user=floor.worker)

    with django_capture_on_commit_callbacks(execute=True):
        result = pack_confirm(session=session, user=floor.worker, weight_g=812)

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.weight_g == 812
    assert shipment.shipped_at is not None
    # the platform confirmation ran (eager Celery): a manual store is confirmed by hand
    assert shipment.platform_attempts == 1
    assert "by hand" in shipment.platform_error
    assert result.session.status == PackSession.Status.CONFIRMED
    assert result.session.weight_g == 812
    assert result.label_needed is True
    moves = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT, reference=order.reference)
    assert sorted((m.sku.code, m.quantity, m.unit_cost) for m in moves) == [
        ("CASE", -1, Decimal("5.0000")),
        ("MUG", -2, Decimal("5.0000")),
    ]
    assert not Reservation.objects.filter(reference=order.reference).exists()
    mug = StockLevel.objects.get(sku=floor.skus["MUG"], location=floor.bins["B-01"])
    assert (mug.on_hand, mug.reserved) == (38, 0)
    event = OrderEvent.objects.filter(order=order, to_status=OrderStatus.SHIPPED).get()
    assert "Packed at the pack station (812 g)" in event.message
    call_command("check_stock")

    with pytest.raises(PackBusy, match="was packed and shipped"):
        pack_confirm(session=session, user=floor.worker)
    with pytest.raises(PackBusy, match="has shipped already"):
        pack_start(code=order.external_id, user=floor.worker)


def test_confirming_an_allocated_order_creates_its_label_first(floor):
    order = floor.order([("LAMP", 1)])
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code="LAMP", user=floor.worker)

    result = pack_confirm(session=session, user=floor.worker)

    shipment = Shipment.objects.get(order=order)
    assert result.shipment == shipment
    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.tracking_number.startswith("RR")  # from the channel's number pool
    assert shipment.weight_g == 600  # the estimate, when no weight was entered
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_a_bad_weight_is_refused(floor):
    order = floor.order([("MUG", 1)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code="MUG", user=floor.worker)
    for weight in (0, -5, 100_001):
        with pytest.raises(PackError, match="Enter the weight in grams"):
            pack_confirm(session=session, user=floor.worker, weight_g=weight)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.LABELLED


def test_the_label_is_printed_once(floor):
    order = floor.order([("MUG", 1)], labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    pack_scan(session=session, code="MUG", user=floor.worker)
    result = pack_confirm(session=session, user=floor.worker)
    assert result.label_needed is True

    content = pack_label_pdf(session=result.session)

    assert content.startswith(b"%PDF")
    assert PackSession.objects.get(pk=session.pk).label_printed_at is not None


def test_labels_printed_with_the_wave_are_not_printed_again(
    floor, django_capture_on_commit_callbacks
):
    order = floor.order([("MUG", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    PickWave.objects.filter(pk=wave.pk).update(labels_printed_at=timezone.now())
    session = pack_start(code=order.external_id, user=floor.worker)
    assert session.wave_id == wave.pk
    pack_scan(session=session, code="MUG", user=floor.worker)

    with django_capture_on_commit_callbacks(execute=True):
        result = pack_confirm(session=session, user=floor.worker)

    assert result.label_needed is False
    # the wave's last parcel shipped: the wave closed
    wave.refresh_from_db()
    assert wave.status == PickWave.Status.CLOSED


# ---------------------------------------------------------------------------- single items


def test_quick_mode_packs_the_oldest_single_item_order_needing_that_sku(floor):
    from datetime import UTC, datetime

    newer = floor.order([("MUG", 1)], labelled=True, purchased_at=datetime(2026, 3, 2, tzinfo=UTC))
    older = floor.order([("MUG", 1)], labelled=True, purchased_at=datetime(2026, 3, 1, tzinfo=UTC))
    floor.order([("MUG", 2)], labelled=True)  # two units: not single
    floor.order([("CASE", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, items="single")
    assert wave.kind == PickWave.Kind.SINGLE and wave.order_count == 3

    first = pack_quick(code=floor.skus["MUG"].barcode, user=floor.worker, wave=wave, weight_g=330)
    second = pack_quick(code="MUG", user=floor.worker, wave=wave)

    assert [first.session.order_id, second.session.order_id] == [older.pk, newer.pk]
    assert first.shipment.weight_g == 330
    assert Order.objects.get(pk=older.pk).status == OrderStatus.SHIPPED
    with pytest.raises(
        PackNotFound, match=rf"No single-item order in wave {wave.number} is waiting for MUG"
    ):
        pack_quick(code="MUG", user=floor.worker, wave=wave)
    # without a wave: the warehouse's labelled one-unit orders
    lamp = floor.order([("LAMP", 1)], labelled=True)
    done = pack_quick(code="LAMP", user=floor.worker, warehouse=floor.warehouse)
    assert done.session.order_id == lamp.pk
    call_command("check_stock")
