"""The pack station's services: scanning an order in, its items (wrong SKU, one too many,
partial, complete), confirming with the weight (stock consumed with its cost, order and
shipment shipped, platform told), labels, resuming and packers in each other's way, and
single-item quick packing; the platform confirmations a burst of parcels queues, and the
locked parcel read by hand-written SQL against the ORM query it replaces."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from erp.models import Role
from logistics.models import PackLine, PackSession, PickWave, Shipment, ShipmentStatus
from logistics.services import handover, packing
from logistics.services.handover import confirm_due
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


# ---------------------------------------------------------------------------- lean confirm


def packed(floor, lines=(("MUG", 1),)):
    order = floor.order(list(lines), labelled=True)
    session = pack_start(code=order.external_id, user=floor.worker)
    for code, quantity in lines:
        for _ in range(quantity):
            pack_scan(session=session, code=code, user=floor.worker)
    return order, session


@pytest.fixture
def sent(monkeypatch):
    """The platform-confirmation tasks sent (none runs), with Celery as deployed (not eager)
    and the throttle's clock in the test's hands (``clock[0]``)."""
    from logistics.tasks import confirm_due_shipments

    calls: list[float] = []
    clock = [1000.0]
    monkeypatch.setattr(confirm_due_shipments, "delay", lambda: calls.append(clock[0]))
    monkeypatch.setattr(handover, "_confirmations_queued_at", None)
    monkeypatch.setattr(handover, "_clock", lambda: clock[0])
    conf = confirm_due_shipments.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    yield calls, clock
    conf.task_always_eager = eager


def test_a_burst_of_parcels_queues_one_confirmation_task_and_beat_confirms_them_all(
    floor, sent, django_capture_on_commit_callbacks
):
    calls, clock = sent
    parcels = [packed(floor) for _ in range(4)]

    for _order, session in parcels[:3]:
        with django_capture_on_commit_callbacks(execute=True):
            pack_confirm(session=session, user=floor.worker)
        clock[0] += 1
    assert calls == [1000.0]  # the first parcel's commit sent it; the next two did not
    clock[0] += handover.CONFIRM_QUEUE_EVERY_S
    with django_capture_on_commit_callbacks(execute=True):
        pack_confirm(session=parcels[3][1], user=floor.worker)
    assert len(calls) == 2  # the window passed: sent again

    # every parcel is due, sent for or not: the task (beat's, every minute) confirms them all
    shipments = Shipment.objects.filter(order__in=[order for order, _session in parcels])
    assert all(s.platform_next_attempt_at is not None for s in shipments)
    assert confirm_due()["skipped"] == 4  # manual stores are confirmed by hand
    assert all(s.platform_attempts == 1 for s in shipments.all())


def test_eager_celery_runs_the_confirmations_after_every_parcel(
    floor, sent, django_capture_on_commit_callbacks
):
    from logistics.tasks import confirm_due_shipments

    calls, _clock = sent
    confirm_due_shipments.app.conf.task_always_eager = True  # the fixture puts it back
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            pack_confirm(session=packed(floor)[1], user=floor.worker)
    assert len(calls) == 2


def loaded(obj) -> dict:
    deferred = obj.get_deferred_fields()
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in deferred
    }


def test_the_locked_parcel_is_what_the_orm_query_loads(floor, django_assert_num_queries):
    order, session = packed(floor, [("MUG", 2), ("CASE", 1)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    now = timezone.now()
    PickWave.objects.filter(pk=wave.pk).update(labels_printed_at=now)
    PackSession.objects.filter(pk=session.pk).update(wave=wave, label_printed_at=now)
    Shipment.objects.filter(order=order).update(platform_next_attempt_at=now)
    PackLine.objects.filter(session=session, sku=floor.skus["CASE"]).update(scanned=0)
    bare = packed(floor, [("LAMP", 1)])[1]  # no wave
    PackSession.objects.filter(pk=bare.pk).update(packer=None)  # and no packer
    paths = {
        "session": lambda s: s,
        "order": lambda s: s.order,
        "wave": lambda s: s.wave,
        "shipment": lambda s: s.shipment,
        "channel": lambda s: s.shipment.channel,
        "carrier": lambda s: s.shipment.channel.carrier,
        "packer": lambda s: s.packer,  # loaded when read (an error message): not asserted 0
    }

    for pk in (session.pk, bare.pk):
        with transaction.atomic():
            raw = packing._locked_parcel(pk)
            orm = (
                PackSession.objects.annotate(
                    incomplete=Exists(
                        PackLine.objects.filter(session=OuterRef("pk"), scanned__lt=F("expected"))
                    )
                )
                .select_related("order", "wave", "packer", "shipment__channel__carrier")
                .only(
                    *packing._SESSION_FIELDS,
                    *(f"shipment__{f}" for f in packing._SHIPMENT_FIELDS),
                )
                .get(pk=pk)
            )
        assert raw.incomplete == orm.incomplete
        for path, get in paths.items():
            theirs = get(orm)
            if path == "packer":
                ours = get(raw)
            else:
                with django_assert_num_queries(0):
                    ours = get(raw)
                    values = {name: getattr(ours, name) for name in loaded(theirs)} if ours else {}
            if theirs is None:
                assert ours is None, path
                continue
            assert {name: getattr(ours, name) for name in loaded(theirs)} == loaded(theirs), path
            if path != "packer":
                assert values == loaded(theirs), path
                for value in values.values():
                    if hasattr(value, "tzinfo"):
                        assert timezone.is_aware(value), path
    assert raw.packer is None and raw.wave is None
    with transaction.atomic():  # the first parcel is incomplete; its shipment labelled
        assert packing._locked_parcel(session.pk).incomplete is True
    Shipment.objects.filter(order=order).update(status=ShipmentStatus.PENDING)
    with transaction.atomic():  # not labelled: the ORM fallback takes it
        assert packing._locked_parcel(session.pk) is None


def test_an_order_that_cannot_ship_leaves_the_parcel_as_it_was(floor):
    moved, _session = packed(floor)
    unreserved, second = packed(floor)
    Order.objects.filter(pk=moved.pk).update(status=OrderStatus.ALLOCATED)
    Reservation.objects.filter(reference=unreserved.reference).delete()

    with pytest.raises(
        PackError, match=rf"Order {moved.external_id} could not ship: A allocated order cannot"
    ):
        pack_confirm(session=_session, user=floor.worker, weight_g=400)
    with pytest.raises(
        PackError,
        match=rf"Order {unreserved.external_id} could not ship: Nothing is reserved for "
        rf"{unreserved.reference}",
    ):
        pack_confirm(session=second, user=floor.worker, weight_g=400)

    assert not StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).exists()
    assert set(PackSession.objects.values_list("status", flat=True)) == {"open"}
    assert set(Shipment.objects.values_list("status", "weight_g", "shipped_at")) == {
        (ShipmentStatus.LABELLED, 320, None)
    }
    assert Order.objects.get(pk=unreserved.pk).status == OrderStatus.LABELLED


@pytest.mark.postgres
def test_a_parcel_confirms_after_the_session_lost_its_prepared_statements(floor):
    """A pooler or ``DISCARD ALL`` may drop the statements prepared for confirming: the
    confirmation fails on the first, rolls back whole, and goes through on a second try."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    parcels = []
    for _ in range(2):
        order = floor.order([("MUG", 1)], labelled=True)
        session = pack_start(code=order.external_id, user=floor.worker)
        pack_scan(session=session, code="MUG", user=floor.worker)
        parcels.append((order, session))
    pack_confirm(session=parcels[0][1], user=floor.worker, weight_g=300)  # prepares them
    with connection.cursor() as cursor:  # only these: the session's others stay prepared
        for statement in (packing._PARCEL, *packing._CONFIRMED):
            cursor.execute(f"DEALLOCATE {statement.name}")

    with CaptureQueriesContext(connection) as sent:
        result = pack_confirm(session=parcels[1][1], user=floor.worker, weight_g=310)

    assert any(q["sql"].startswith("PREPARE") for q in sent.captured_queries)  # the retry
    order = parcels[1][0]
    assert result.session.status == PackSession.Status.CONFIRMED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    moves = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT, reference=order.reference)
    assert list(moves.values_list("quantity", flat=True)) == [-1]  # written once
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.SHIPPED).count() == 1
    call_command("check_stock")
