"""The PostgreSQL fast path of ``stock_reserve`` (one line, all of it from the first free bin)
and its fallback to the general statement; the results must be those of the ORM path."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from warehouse.models import Reservation, StockLevel
from warehouse.services import InsufficientStock, StockLine, stock_receive, stock_reserve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _reserve(warehouse, sku, quantity, reference):
    with CaptureQueriesContext(connection) as ctx:
        result = stock_reserve(
            warehouse=warehouse, lines=[StockLine(sku, quantity)], reference=reference
        )
    # without the savepoints of the test's own transaction (Django quotes their names)
    django_savepoint = ('SAVEPOINT "', 'RELEASE SAVEPOINT "', 'ROLLBACK TO SAVEPOINT "')
    sqls = [q["sql"] for q in ctx.captured_queries]
    return result, [sql for sql in sqls if not sql.startswith(django_savepoint)]


def _state(sku):
    levels = StockLevel.objects.filter(sku=sku).order_by("location__pick_sequence")
    return [(lv.on_hand, lv.reserved) for lv in levels]


def test_fast_path_takes_all_from_the_first_free_bin_in_one_statement(sku, bins, warehouse):
    for b in bins[:2]:
        stock_receive(sku=sku, location=b, quantity=5, unit_cost=Decimal("1"))

    result, sqls = _reserve(warehouse, sku, 5, "order_line:1")

    assert len(sqls) == 1 and "SAVEPOINT" in sqls[0]
    [r] = result.reservations
    assert (r.quantity, r.reference) == (5, "order_line:1")
    with CaptureQueriesContext(connection) as ctx:
        assert r.stock_level.location.pk == bins[0].pk
        assert (r.stock_level.on_hand, r.stock_level.reserved) == (5, 5)
    assert len(ctx.captured_queries) == 0
    assert _state(sku) == [(5, 5), (5, 0)]

    # the first bin is now full: the fast path moves on to the next bin with free units
    result, sqls = _reserve(warehouse, sku, 2, "order_line:2")
    assert len(sqls) == 1
    assert [(r.stock_level.location.pk, r.quantity) for r in result.reservations] == [
        (bins[1].pk, 2)
    ]
    # the same reference again tops its reservation up
    result, sqls = _reserve(warehouse, sku, 1, "order_line:2")
    assert len(sqls) == 1
    assert [r.quantity for r in result.reservations] == [3]
    assert _state(sku) == [(5, 5), (5, 3)]
    assert Reservation.objects.filter(reference="order_line:2").get().quantity == 3


def test_falls_back_to_the_general_statement_to_split_across_bins(sku, bins, warehouse):
    for b in bins:
        stock_receive(sku=sku, location=b, quantity=3, unit_cost=Decimal("1"))

    result, sqls = _reserve(warehouse, sku, 7, "order_line:1")

    assert len(sqls) > 1  # fast path, rollback to its savepoint, general statement
    assert [(r.stock_level.location.pk, r.quantity) for r in result.reservations] == [
        (bins[0].pk, 3),
        (bins[1].pk, 3),
        (bins[2].pk, 1),
    ]
    assert _state(sku) == [(3, 3), (3, 3), (3, 1)]


def test_short_single_line_reserves_nothing(sku, bins, warehouse):
    stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("1"))
    stock_receive(sku=sku, location=bins[1], quantity=1, unit_cost=Decimal("1"))

    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(warehouse=warehouse, lines=[StockLine(sku, 4)], reference="order_line:1")

    assert [(s.requested, s.available) for s in exc.value.shortages] == [(4, 3)]
    assert _state(sku) == [(2, 0), (1, 0)]
    assert not Reservation.objects.exists()
