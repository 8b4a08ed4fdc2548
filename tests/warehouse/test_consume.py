"""``stock_consume``: its moves (every reserved bin, in level pk order, at the SKU's average
cost), its refusals (nothing written), ``savepoint=False``, and on PostgreSQL its two-statement
path (``_consume_in_sql``) held to the ORM path (``_consume_with_orm``) and raced against the
other stock services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from erp.prepared import Prepared
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from tests.warehouse.test_races import assert_no_database_errors, race
from warehouse.models import Reservation, StockLevel, StockMove
from warehouse.services import (
    StockError,
    StockLine,
    stock_adjust,
    stock_consume,
    stock_receive,
    stock_reserve,
)
from warehouse.services import stock as stock_module


def levels_of(*skus) -> dict:
    return {
        (lv.sku_id, lv.location_id): (lv.on_hand, lv.reserved)
        for lv in StockLevel.objects.filter(sku__in=skus)
    }


def snapshot(*skus) -> tuple:
    """Everything consuming may write, to show that a refusal wrote nothing."""
    return (
        levels_of(*skus),
        sorted(Reservation.objects.values_list("reference", "stock_level_id", "quantity")),
        StockMove.objects.count(),
    )


def two_bin_reservation(warehouse, bins, reference: str, *, first_cost="4", second_cost="7"):
    """A SKU received at two costs, then ``reference`` reserving 4 units: 2 from the first
    bin (all it has) and 2 from the second; plus 1 unit of a second SKU."""
    sku, other = SkuFactory(), SkuFactory()
    stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal(first_cost))
    stock_receive(sku=sku, location=bins[1], quantity=6, unit_cost=Decimal(second_cost))
    stock_receive(sku=other, location=bins[2], quantity=3, unit_cost=Decimal("1.25"))
    stock_reserve(
        warehouse=warehouse, lines=[StockLine(sku, 4), StockLine(other, 1)], reference=reference
    )
    return sku, other


@pytest.mark.django_db
def test_every_reserved_bin_ships_in_level_order_at_the_average_cost(warehouse, bins):
    sku, other = two_bin_reservation(warehouse, bins, "order:7")
    user = UserFactory()
    sku.refresh_from_db()

    moves = stock_consume(reference="order:7", user=user, note="Packed")

    level_ids = [StockLevel.objects.get(sku=m.sku_id, location=m.location_id).pk for m in moves]
    assert level_ids == sorted(level_ids)  # the order the levels were locked in
    assert sorted(
        (m.sku_id, m.location_id, m.quantity, m.balance_after, m.unit_cost) for m in moves
    ) == sorted(
        [
            (sku.pk, bins[0].pk, -2, 0, sku.avg_cost),
            (sku.pk, bins[1].pk, -2, 4, sku.avg_cost),
            (other.pk, bins[2].pk, -1, 2, Decimal("1.2500")),
        ]
    )
    assert sku.avg_cost == Decimal("6.2500")  # (2 × 4 + 6 × 7) / 8
    for move in moves:
        assert (move.kind, move.reference, move.note, move.user_id) == (
            StockMove.Kind.SHIPMENT,
            "order:7",
            "Packed",
            user.pk,
        )
        assert move.pk is not None and move.at is not None
    stored = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).order_by("pk")
    assert [(m.pk, m.quantity, m.unit_cost) for m in stored] == [
        (m.pk, m.quantity, m.unit_cost) for m in moves
    ]
    assert levels_of(sku, other) == {
        (sku.pk, bins[0].pk): (0, 0),
        (sku.pk, bins[1].pk): (4, 0),
        (other.pk, bins[2].pk): (2, 0),
    }
    assert not Reservation.objects.exists()
    call_command("check_stock")


@pytest.mark.django_db
def test_nothing_reserved_is_refused_and_nothing_written(warehouse, bins):
    sku, other = two_bin_reservation(warehouse, bins, "order:1")
    before = snapshot(sku, other)

    with pytest.raises(StockError, match="Nothing is reserved for order:2"):
        stock_consume(reference="order:2")

    assert snapshot(sku, other) == before


@pytest.mark.django_db
def test_without_a_savepoint_a_refusal_leaves_the_rollback_to_the_caller(warehouse, bins):
    with transaction.atomic():
        with pytest.raises(StockError):
            stock_consume(reference="order:404")
        assert not transaction.get_rollback()  # its own savepoint was rolled back
    with transaction.atomic():
        with pytest.raises(StockError):
            stock_consume(reference="order:404", savepoint=False)
        assert transaction.get_rollback()  # the caller's transaction must roll back


@pytest.mark.django_db
def test_without_a_savepoint_it_ships_in_the_callers_transaction(warehouse, bins):
    sku, _other = two_bin_reservation(warehouse, bins, "order:3")
    with transaction.atomic():
        moves = stock_consume(reference="order:3", savepoint=False)
    assert len(moves) == 3
    assert StockLevel.objects.get(sku=sku, location=bins[1]).on_hand == 4
    call_command("check_stock")


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_sql_path_writes_what_the_orm_path_writes():
    """Two identical worlds (SKUs, bins, costs, reservations): one shipped by the ORM path,
    one by the statement; the moves and levels match column for column."""
    assert connection.vendor == "postgresql"
    user = UserFactory()
    worlds = []
    for reference in ("order:1", "order:2"):
        place = WarehouseFactory()
        here = [LocationFactory(warehouse=place, code=f"A-0{i}", pick_sequence=i) for i in range(3)]
        skus = two_bin_reservation(place, here, reference, first_cost="3.3333")
        worlds.append((reference, here, skus))

    with transaction.atomic():
        by_orm = stock_module._consume_with_orm(reference="order:1", user=user, note="n" * 200)
    by_sql = stock_consume(reference="order:2", user=user, note="n" * 200)

    def shape(moves, here, skus):
        bin_index = {b.pk: i for i, b in enumerate(here)}
        sku_index = {s.pk: i for i, s in enumerate(skus)}
        return [
            (
                sku_index[m.sku_id],
                bin_index[m.location_id],
                m.quantity,
                m.balance_after,
                m.kind,
                m.unit_cost,
                m.note,
                m.user_id,
            )
            for m in moves
        ]

    assert shape(by_sql, *worlds[1][1:]) == shape(by_orm, *worlds[0][1:])
    assert [m.reference for m in by_sql] == ["order:2"] * 3
    # the moves returned are the rows stored, field for field
    stored = {m.pk: m for m in StockMove.objects.filter(reference="order:2")}
    fields = [f.attname for f in StockMove._meta.concrete_fields]
    assert [[getattr(m, f) for f in fields] for m in by_sql] == [
        [getattr(stored[m.pk], f) for f in fields] for m in by_sql
    ]
    assert sorted(levels_of(*worlds[0][2]).values()) == sorted(levels_of(*worlds[1][2]).values())
    call_command("check_stock")


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_reservation_on_a_level_not_locked_ships_nothing(warehouse, bins, monkeypatch):
    """When the reservations read again under the locks name a level that was not locked
    (a concurrent reserve moved them), nothing ships: simulated by locking only the first."""
    sku, other = two_bin_reservation(warehouse, bins, "order:5")
    before = snapshot(sku, other)
    lock_sql = stock_module._consume_lock_sql()
    assert lock_sql.rstrip().endswith("FOR UPDATE OF sl")
    monkeypatch.setattr(
        stock_module,
        "_consume_lock_sql",
        lambda: lock_sql.rstrip().replace("FOR UPDATE OF sl", "LIMIT 1 FOR UPDATE OF sl"),
    )
    # the prepared statement is built once per process: a new one, from the patched text
    monkeypatch.setattr(
        stock_module,
        "_CONSUME_LOCK",
        Prepared("consume_lock", stock_module._consume_lock_prepared),
    )

    with pytest.raises(StockError, match="changed while shipping"):
        stock_consume(reference="order:5")

    assert snapshot(sku, other) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shipping_races_receipts_and_adjustments_of_the_same_skus(warehouse, bins):
    """Workers ship references spanning two SKUs (listed in either order) while others
    receive and adjust those SKUs: no deadlock, each reference ships once, at the average
    cost of its moment, and the ledger stays equal to the balances."""
    a, b = SkuFactory(), SkuFactory()
    for sku in (a, b):
        for location in bins:
            stock_receive(sku=sku, location=location, quantity=50, unit_cost=Decimal("2"))
    references = [f"order:{n}" for n in range(24)]
    for n, reference in enumerate(references):
        first, second = (a, b) if n % 2 else (b, a)
        stock_reserve(
            warehouse=warehouse,
            lines=[StockLine(first, 1 + n % 3), StockLine(second, 1)],
            reference=reference,
        )

    def work(worker: int):
        if worker < 2:
            shipped = []
            for reference in references[worker::2]:
                shipped.extend(stock_consume(reference=reference))
            return shipped
        for n in range(12):
            sku = (a, b)[(n + worker) % 2]
            if n % 3:
                stock_receive(
                    sku=sku, location=bins[n % 3], quantity=5, unit_cost=Decimal(3 + n % 4)
                )
            else:
                stock_adjust(sku=sku, location=bins[n % 3], quantity=1, reason="found")
        return None

    results = race(4, work)

    assert_no_database_errors(results)
    assert not [r for r in results if isinstance(r, Exception)], results
    moves = results[0] + results[1]
    assert sorted({m.reference for m in moves}) == sorted(references)
    assert sum(-m.quantity for m in moves) == sum(1 + n % 3 + 1 for n in range(24))
    assert all(m.unit_cost > 0 for m in moves)
    assert not Reservation.objects.exists()
    call_command("check_stock")
