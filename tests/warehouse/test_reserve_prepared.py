"""The prepared statement of the PostgreSQL fast path of ``stock_reserve``: prepared once per
session (in the round trip of the first call), reused after rollbacks and inside outer atomic
blocks, prepared again on a new connection, and recovered when the session lost it or holds
it unknown to us. Results must stay those of the ORM path."""

from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from warehouse.models import Reservation, StockLevel
from warehouse.services import InsufficientStock, StockLine, stock_receive, stock_reserve
from warehouse.services import stock as stock_module

pytestmark = [pytest.mark.postgres]

STATEMENT = stock_module._FAST_STATEMENT


class _Abort(Exception):
    """Raised inside an outer atomic block to roll it back."""


def _reserve(warehouse, sku, quantity, reference):
    """Reserve; return the result and the statements of the fast path that were sent."""
    with CaptureQueriesContext(connection) as ctx:
        result = stock_reserve(
            warehouse=warehouse, lines=[StockLine(sku, quantity)], reference=reference
        )
    return result, [q["sql"] for q in ctx.captured_queries if STATEMENT in q["sql"]]


def _session_holds_statement() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [STATEMENT])
        return cursor.fetchone()[0] == 1


def _new_session_state() -> None:
    """The session without the statement, as on a new connection."""
    if _session_holds_statement():
        with connection.cursor() as cursor:
            cursor.execute(f"DEALLOCATE {STATEMENT}")
    stock_module._fast_prepared_on.discard(connection.connection)


def _state(sku):
    levels = StockLevel.objects.filter(sku=sku).order_by("location__pick_sequence")
    return [(lv.on_hand, lv.reserved) for lv in levels]


@pytest.mark.django_db
def test_prepares_in_the_first_round_trip_then_only_executes(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=5, unit_cost=Decimal("1"))
    stock_receive(sku=sku, location=bins[1], quantity=5, unit_cost=Decimal("1"))
    _new_session_state()

    result, sqls = _reserve(warehouse, sku, 2, "order_line:1")
    assert len(sqls) == 1 and "PREPARE" in sqls[0] and "EXECUTE" in sqls[0]
    assert [(r.stock_level.location.pk, r.quantity) for r in result.reservations] == [
        (bins[0].pk, 2)
    ]
    assert _session_holds_statement()

    for n in range(2, 5):  # same session: EXECUTE only, one round trip each
        result, sqls = _reserve(warehouse, sku, 1, f"order_line:{n}")
        assert len(sqls) == 1 and "PREPARE" not in sqls[0]
        assert sqls[0].startswith(f"SAVEPOINT {STATEMENT}; EXECUTE {STATEMENT} (")
    assert _state(sku) == [(5, 5), (5, 0)]

    # the first bin is full and the next cannot take 6: the prepared statement finds no row,
    # the general statement splits; then the fast path works again on the same session
    with pytest.raises(InsufficientStock):
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 6)], reference="order_line:5")
    result, sqls = _reserve(warehouse, sku, 4, "order_line:6")
    assert [(r.stock_level.location.pk, r.quantity) for r in result.reservations] == [
        (bins[1].pk, 4)
    ]
    assert (result.reservations[0].stock_level.on_hand, result.reservations[0].reference) == (
        5,
        "order_line:6",
    )
    assert _state(sku) == [(5, 5), (5, 4)]


@pytest.mark.django_db
def test_inside_an_outer_atomic_block(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=5, unit_cost=Decimal("1"))

    with transaction.atomic():
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 3)], reference="order_line:1")
        # short: nothing of it is reserved, and the outer block's work stays
        with pytest.raises(InsufficientStock):
            stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 9)], reference="ol:2")
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="order_line:3")
    assert _state(sku) == [(5, 4)]
    assert sorted(Reservation.objects.values_list("reference", "quantity")) == [
        ("order_line:1", 3),
        ("order_line:3", 1),
    ]

    # an outer block that rolls back takes the reservation with it, not the statement
    with pytest.raises(_Abort), transaction.atomic():
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="order_line:4")
        raise _Abort
    assert _state(sku) == [(5, 4)]
    result, sqls = _reserve(warehouse, sku, 1, "order_line:5")
    assert len(sqls) == 1 and "PREPARE" not in sqls[0]
    assert [r.quantity for r in result.reservations] == [1]
    assert _state(sku) == [(5, 5)]


@pytest.mark.django_db(transaction=True)
def test_survives_a_rollback_and_prepares_again_on_a_new_connection(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=10, unit_cost=Decimal("1"))
    _new_session_state()

    # prepared inside a transaction that then rolls back: PREPARE is not transactional
    with pytest.raises(_Abort), transaction.atomic():
        _result, sqls = _reserve(warehouse, sku, 1, "order_line:1")
        assert "PREPARE" in sqls[0]
        raise _Abort
    assert not Reservation.objects.exists()
    assert _session_holds_statement()
    _result, sqls = _reserve(warehouse, sku, 1, "order_line:2")
    assert len(sqls) == 1 and "PREPARE" not in sqls[0]

    # a new connection (CONN_MAX_AGE expired, a reconnect) is a new session: prepare again
    connection.close()
    _result, sqls = _reserve(warehouse, sku, 2, "order_line:3")
    assert len(sqls) == 1 and "PREPARE" in sqls[0]
    _result, sqls = _reserve(warehouse, sku, 3, "order_line:4")
    assert len(sqls) == 1 and "PREPARE" not in sqls[0]
    assert _state(sku) == [(10, 6)]


@pytest.mark.django_db
def test_recovers_when_the_session_lost_the_statement(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=5, unit_cost=Decimal("1"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="order_line:1")
    with connection.cursor() as cursor:  # DEALLOCATE ALL / DISCARD ALL behind our back
        cursor.execute(f"DEALLOCATE {STATEMENT}")

    result, sqls = _reserve(warehouse, sku, 2, "order_line:2")

    assert any("PREPARE" in sql for sql in sqls)
    assert [(r.stock_level.location.pk, r.quantity) for r in result.reservations] == [
        (bins[0].pk, 2)
    ]
    assert _state(sku) == [(5, 3)]
    assert _session_holds_statement()
    _result, sqls = _reserve(warehouse, sku, 1, "order_line:3")
    assert len(sqls) == 1 and "PREPARE" not in sqls[0]


@pytest.mark.django_db
def test_recovers_when_the_session_holds_a_statement_it_did_not_know_of(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=5, unit_cost=Decimal("1"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference="order_line:1")
    # e.g. a pooler handing this session to another connection object
    stock_module._fast_prepared_on.discard(connection.connection)

    result, sqls = _reserve(warehouse, sku, 2, "order_line:2")

    assert any(sql.endswith(f"DEALLOCATE {STATEMENT}") for sql in sqls)
    assert [r.quantity for r in result.reservations] == [2]
    assert _state(sku) == [(5, 3)]
    assert Reservation.objects.count() == 2
    _result, sqls = _reserve(warehouse, sku, 1, "order_line:3")
    assert len(sqls) == 1 and "PREPARE" not in sqls[0]


@pytest.mark.django_db
def test_values_the_columns_cannot_hold_fail_the_same_before_and_after_the_generic_plan(
    sku, bins, warehouse
):
    """The unprepared statement failed when planned (its literals folded into the integer and
    varchar(100) columns); the prepared one must fail the same way whether PostgreSQL runs a
    custom plan (its first five executions) or the generic plan (then on), not find no row
    and fall back to the general statement in one case only."""
    stock_receive(sku=sku, location=bins[0], quantity=50, unit_cost=Decimal("1"))
    _new_session_state()
    too_many, too_long = StockLine(sku, 3_000_000_000), "x" * 101

    for n in range(8):  # a fresh statement, then past the switch to the generic plan
        with pytest.raises(DataError):
            stock_reserve(warehouse=warehouse, lines=[too_many], reference=f"order_line:{n}")
        with pytest.raises(DataError):
            stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference=too_long)
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 1)], reference=f"ok:{n}")

    assert _state(sku) == [(50, 8)]
    assert not Reservation.objects.exclude(reference__startswith="ok:").exists()
