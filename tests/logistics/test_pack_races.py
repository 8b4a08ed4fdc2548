"""Waves and the pack station under contention on real PostgreSQL (skipped on SQLite): two
packers confirming the same parcel ship it once, packers scanning the same item in a
single-item wave take different orders, waves made at once never share an order, marking a
wave picked short while its parcels are being packed neither deadlocks nor drifts the ledger,
and stations confirming parcels of the same SKUs while stock is received never deadlock."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from erp.models import Role
from logistics.models import PackSession, PickWaveOrder, Shipment, ShipmentStatus
from logistics.services.packing import (
    PackBusy,
    PackError,
    PackNotFound,
    pack_confirm,
    pack_quick,
    pack_scan,
    pack_start,
)
from logistics.services.picking import WaveError, wave_create, wave_mark_picked
from orders.models import Order, OrderStatus
from tests.factories import UserFactory, ensure_roles
from tests.logistics.test_picking import make_floor
from tests.warehouse.test_races import assert_no_database_errors, race
from warehouse.models import StockMove
from warehouse.services import stock_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles():
    yield
    ensure_roles()


@pytest.fixture
def floor():
    return make_floor()


def packed_session(floor, order):
    session = pack_start(code=order.external_id, user=floor.worker)
    for line in session.lines.select_related("sku"):
        for _ in range(line.expected):
            pack_scan(session=session, code=line.sku.code, user=floor.worker)
    return session


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "label-at-confirm"])
def test_two_packers_confirming_the_same_parcel_ship_it_once(floor, labelled):
    order = floor.order([("MUG", 2), ("CASE", 1)], labelled=labelled)
    session = packed_session(floor, order)

    def work(worker: int):
        # the same parcel confirmed from two stations (one login) at the same moment
        return pack_confirm(session=session, user=floor.worker, weight_g=500 + worker)

    results = race(4, work)

    assert_no_database_errors(results)
    shipped = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(shipped) == 1
    assert all(isinstance(r, PackBusy) for r in refused), refused
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    live = Shipment.objects.exclude(status=ShipmentStatus.VOIDED).filter(order=order)
    assert live.count() == 1 and live.get().status == ShipmentStatus.SHIPPED
    moves = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT, reference=order.reference)
    assert sorted(moves.values_list("quantity", flat=True)) == [-2, -1]
    assert PackSession.objects.filter(status=PackSession.Status.CONFIRMED).count() == 1
    call_command("check_stock")


def test_two_packers_scanning_the_same_order_in_one_packs_it(floor):
    order = floor.order([("MUG", 1), ("LAMP", 1)], labelled=True)
    packers = [floor.worker] + [
        UserFactory(username=f"packer{i}", roles=[Role.WAREHOUSE]) for i in range(3)
    ]

    def work(worker: int):
        user = packers[worker]
        session = pack_start(code=order.external_id, user=user)
        for code in ("MUG", "LAMP"):
            pack_scan(session=session, code=code, user=user)
        return pack_confirm(session=session, user=user)

    results = race(4, work)

    assert_no_database_errors(results)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, PackError) for r in results if isinstance(r, Exception))
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 2
    assert PackSession.objects.filter(status=PackSession.Status.OPEN).count() == 0
    call_command("check_stock")


def test_packers_scanning_the_same_item_take_different_orders(floor):
    orders = [floor.order([("MUG", 1)], labelled=True) for _ in range(6)]
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, items="single")
    packers = [UserFactory(username=f"quick{i}", roles=[Role.WAREHOUSE]) for i in range(4)]

    def work(worker: int):
        done = []
        for _ in range(3):
            try:
                done.append(pack_quick(code="MUG", user=packers[worker], wave=wave))
            except PackNotFound:  # the rest were taken (or being taken) by the others
                break
        return done

    results = race(4, work)

    assert_no_database_errors(results)
    shipped = [result.session.order_id for done in results for result in done]
    assert len(shipped) == len(set(shipped))  # never the same order twice
    assert set(shipped) == {o.pk for o in orders}
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 6
    assert PackSession.objects.filter(status=PackSession.Status.CONFIRMED).count() == 6
    call_command("check_stock")


def test_scanning_an_order_while_its_parcel_is_confirmed_answers_at_once(floor):
    """Confirming locks the session and then the order; opening a parcel locks the order and
    then looks at its session. Waiting there for the session would deadlock (CI saw it)."""
    order = floor.order([("MUG", 1)], labelled=True)
    session = packed_session(floor, order)
    other = UserFactory(username="second", roles=[Role.WAREHOUSE])
    locked, release = threading.Event(), threading.Event()

    def confirming():  # holds the session's row as ``_ship`` does while it works
        try:
            with transaction.atomic():
                PackSession.objects.select_for_update().get(pk=session.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=confirming, daemon=True)
    holder.start()
    assert locked.wait(30)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a wait fails as an OperationalError
        with pytest.raises(PackBusy, match="being confirmed at another station"):
            pack_start(code=order.external_id, user=other)
        with pytest.raises(PackBusy, match="being confirmed at another station"):
            pack_start(code=order.external_id, user=floor.worker)  # the packer's own, too
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert PackSession.objects.get(pk=session.pk).status == PackSession.Status.OPEN
    assert pack_start(code=order.external_id, user=floor.worker).pk == session.pk


def test_waves_made_at_once_never_share_an_order(floor):
    for _ in range(20):
        floor.order([("MUG", 1)])

    def work(worker: int):
        return wave_create(warehouse=floor.warehouse, user=floor.worker, limit=8)

    results = race(4, work)

    assert_no_database_errors(results)
    assert all(isinstance(r, WaveError) for r in results if isinstance(r, Exception))
    waves = [r for r in results if not isinstance(r, Exception)]
    assert len(waves) >= 2
    assert all(w.order_count <= 8 for w in waves)
    # whatever the waves left (orders skipped while another wave held them) goes in one more
    with contextlib.suppress(WaveError):
        wave_create(warehouse=floor.warehouse, user=floor.worker)
    taken = list(PickWaveOrder.objects.values_list("order_id", flat=True))
    assert len(taken) == len(set(taken)) == 20


def test_marking_a_wave_short_while_its_parcels_are_packed(floor):
    orders = [floor.order([("MUG", 1), ("CASE", 1)], labelled=True) for _ in range(6)]
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    sessions = [packed_session(floor, order) for order in orders[:3]]
    mug, b01 = floor.skus["MUG"].pk, floor.bins["B-01"].pk

    def work(worker: int):
        if worker == 0:
            return wave_mark_picked(wave=wave, user=floor.worker, shorts={(mug, b01): 2})
        return pack_confirm(session=sessions[worker - 1], user=floor.worker)

    results = race(4, work)

    assert_no_database_errors(results)
    picked = results[0]
    assert len(picked.short_orders) == 2
    statuses = dict(Order.objects.values_list("pk", "status"))
    for pk in picked.short_orders:
        assert statuses[pk] == OrderStatus.OUT_OF_STOCK
    shipped = [o.pk for o in orders if statuses[o.pk] == OrderStatus.SHIPPED]
    assert not set(shipped) & set(picked.short_orders)
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 2 * len(shipped)
    call_command("check_stock")


def test_stations_confirming_parcels_of_the_same_skus_while_stock_arrives(floor):
    """Three stations confirm parcels sharing SKUs (listed in either order, so their stock
    is locked in pk order, not line order) while a receiver books stock of those SKUs (it
    locks SKU, then level, too): every parcel ships once, none deadlocks, the ledger holds."""
    specs = [[("MUG", 1), ("CASE", 2)], [("CASE", 1), ("MUG", 1)], [("LAMP", 1), ("MUG", 2)]]
    sessions = [packed_session(floor, floor.order(specs[n % 3], labelled=True)) for n in range(9)]

    def work(worker: int):
        if worker == 3:
            for n in range(12):
                code = ("MUG", "CASE", "LAMP")[n % 3]
                stock_receive(
                    sku=floor.skus[code],
                    location=floor.bins[{"MUG": "B-01", "CASE": "A-01", "LAMP": "C-05"}[code]],
                    quantity=2,
                    unit_cost=Decimal(6 + n % 3),
                )
            return None
        return [
            pack_confirm(session=session, user=floor.worker, weight_g=300).session.order_id
            for session in sessions[worker::3]
        ]

    results = race(4, work)

    assert_no_database_errors(results)
    assert not [r for r in results if isinstance(r, Exception)], results
    shipped = sorted(pk for done in results[:3] for pk in done)
    assert shipped == sorted(s.order_id for s in sessions)
    assert set(Order.objects.filter(pk__in=shipped).values_list("status", flat=True)) == {
        OrderStatus.SHIPPED
    }
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 18
    assert PackSession.objects.filter(status=PackSession.Status.CONFIRMED).count() == 9
    call_command("check_stock")
