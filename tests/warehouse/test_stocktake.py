"""Stocktakes: counting while stock moves, variances, posting (set-based), refusals.

The arithmetic under test: a line keeps the bin's on_hand at the moment it was counted
(``expected_at_count``); posting changes the bin by counted − expected_at_count, so moves made
after the count stay.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.models import Role
from tests.factories import BundleItemFactory, LocationFactory, SkuFactory, UserFactory
from warehouse.models import StockLevel, StockMove, Stocktake, StocktakeLine
from warehouse.selectors import stocktake_summary
from warehouse.services import (
    CountEntry,
    StockLine,
    StocktakeError,
    StocktakeRefused,
    stock_adjust,
    stock_consume,
    stock_receive,
    stock_reserve,
    stocktake_cancel,
    stocktake_count,
    stocktake_count_many,
    stocktake_create,
    stocktake_post,
)

pytestmark = pytest.mark.django_db


def receive(sku, location, quantity, cost="2"):
    return stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal(cost))


def on_hand(sku, location) -> int:
    level = StockLevel.objects.filter(sku=sku, location=location).first()
    return level.on_hand if level else 0


def assert_ledger_clean():
    call_command("check_stock")  # SystemExit(1) on drift


@pytest.fixture
def user(db):
    return UserFactory(roles=[Role.WAREHOUSE])


@pytest.fixture
def stocked(warehouse, bins, sku):
    """``sku`` with 10 units in A-01 (avg cost 2)."""
    receive(sku, bins[0], 10)
    return sku


def line_of(stocktake, sku, location) -> StocktakeLine:
    return StocktakeLine.objects.get(stocktake=stocktake, sku=sku, location=location)


# --- creating ---------------------------------------------------------------------------------


def test_a_count_of_bins_has_one_uncounted_line_per_level_in_those_bins(warehouse, bins, user):
    a, b, c = SkuFactory(code="A"), SkuFactory(code="B"), SkuFactory(code="C")
    receive(a, bins[0], 5)
    receive(b, bins[0], 3)
    receive(c, bins[1], 7)  # not in scope

    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]], user=user)

    assert stocktake.status == Stocktake.Status.DRAFT
    assert stocktake.number.startswith("ST") and stocktake.number.endswith("-SZ-001")
    assert stocktake.scope == "Bin A-01"
    lines = stocktake.lines.order_by("sku__code")
    assert [(ln.sku.code, ln.location.code, ln.counted, ln.expected_at_count) for ln in lines] == [
        ("A", "A-01", None, None),
        ("B", "A-01", None, None),
    ]
    assert list(stocktake.locations.all()) == [bins[0]]


def test_a_count_of_skus_covers_every_bin_of_those_skus_in_the_warehouse(warehouse, bins):
    a, b = SkuFactory(code="A"), SkuFactory(code="B")
    receive(a, bins[0], 5)
    receive(a, bins[2], 1)
    receive(b, bins[1], 3)
    elsewhere = LocationFactory(code="US-1")  # another warehouse
    receive(a, elsewhere, 9)

    stocktake = stocktake_create(warehouse=warehouse, skus=[a])

    assert sorted(stocktake.lines.values_list("location__code", flat=True)) == ["A-01", "A-03"]
    assert stocktake.scope == "SKU A"


def test_create_refuses_bins_of_another_warehouse_and_bundles(warehouse, bins):
    with pytest.raises(StocktakeError, match="Bins US-1 are not in warehouse SZ"):
        stocktake_create(warehouse=warehouse, locations=[LocationFactory(code="US-1")])
    kit = BundleItemFactory(bundle__code="KIT").bundle
    with pytest.raises(StocktakeError, match="KIT: bundles hold no stock"):
        stocktake_create(warehouse=warehouse, skus=[kit])
    assert Stocktake.objects.count() == 0


# --- counting while stock moves ---------------------------------------------------------------


def test_count_takes_the_expected_quantity_at_the_moment_of_counting(stocked, bins, user):
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    receive(stocked, bins[0], 2)  # before the count: part of what is expected

    line = stocktake_count(
        stocktake=stocktake, sku=stocked, location=bins[0], quantity=11, user=user
    )

    assert (line.expected_at_count, line.counted, line.variance) == (12, 11, -1)
    assert line.counted_by == user
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.COUNTING


def test_a_receipt_after_the_count_is_not_undone_by_posting(stocked, bins, user):
    """Given 10 on hand, counted 8 (2 missing); when 5 are received into the bin after the
    count and the stocktake is posted; then the bin holds 13 (10 − 2 + 5), not 8."""
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=8, user=user)
    receive(stocked, bins[0], 5)

    result = stocktake_post(stocktake=stocktake, user=user, reason="Annual count")

    assert on_hand(stocked, bins[0]) == 13
    assert (result.moves, result.units_added, result.units_removed) == (1, 0, 2)
    assert result.value == Decimal("-4")  # 2 units at the average cost of 2
    move = StockMove.objects.get(kind=StockMove.Kind.STOCKTAKE)
    assert (move.quantity, move.balance_after, move.reference, move.note, move.user) == (
        -2,
        13,
        stocktake.number,
        "Annual count",
        user,
    )
    assert move.unit_cost == Decimal("2")
    stocktake.refresh_from_db()
    assert (stocktake.status, stocktake.reason, stocktake.posted_by) == (
        "posted",
        "Annual count",
        user,
    )
    assert stocktake.posted_at is not None
    assert_ledger_clean()


def test_a_shipment_after_the_count_is_not_undone_by_posting(stocked, bins, user):
    """Counted 12 of 10 (2 found), then 3 are shipped: posting leaves 9 (10 + 2 − 3)."""
    warehouse = bins[0].warehouse
    stocktake = stocktake_create(warehouse=warehouse, skus=[stocked])
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=12, user=user)
    stock_reserve(warehouse=warehouse, lines=[StockLine(stocked, 3)], reference="order_line:1")
    stock_consume(reference="order_line:1")

    stocktake_post(stocktake=stocktake, user=user, reason="Cycle count")

    assert on_hand(stocked, bins[0]) == 9
    assert_ledger_clean()


def test_a_recount_takes_the_expected_quantity_again(stocked, bins, user):
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=8, user=user)
    receive(stocked, bins[0], 5)

    line = stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=14)

    assert (line.expected_at_count, line.counted, line.variance) == (15, 14, -1)
    stocktake_post(stocktake=stocktake, user=user, reason="Recounted")
    assert on_hand(stocked, bins[0]) == 14


def test_scans_add_up_and_a_scan_can_be_taken_back(stocked, bins):
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    for _ in range(3):
        stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=1, add=True)
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=5, add=True)
    line = stocktake_count(
        stocktake=stocktake, sku=stocked, location=bins[0], quantity=-1, add=True
    )
    assert line.counted == 7

    with pytest.raises(StocktakeError, match="only 7 counted so far; cannot take back 8"):
        stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=-8, add=True)
    assert line_of(stocktake, stocked, bins[0]).counted == 7


def test_stock_found_in_a_bin_of_the_scope_gets_a_line_and_a_level(warehouse, bins, stocked):
    other = SkuFactory(code="FOUND")
    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]])

    line = stocktake_count(stocktake=stocktake, sku=other, location=bins[0], quantity=4)
    assert (line.expected_at_count, line.counted) == (0, 4)
    stocktake_post(stocktake=stocktake, user=None, reason="Found")

    assert on_hand(other, bins[0]) == 4
    assert on_hand(stocked, bins[0]) == 10  # never counted: left alone
    assert_ledger_clean()


def test_counts_outside_the_scope_are_refused(warehouse, bins, stocked):
    by_bin = stocktake_create(warehouse=warehouse, locations=[bins[0]])
    with pytest.raises(StocktakeError, match="Bin A-02 is not part of this count"):
        stocktake_count(stocktake=by_bin, sku=stocked, location=bins[1], quantity=1)
    by_sku = stocktake_create(warehouse=warehouse, skus=[stocked])
    with pytest.raises(StocktakeError, match="SKU OTHER is not part of this count"):
        stocktake_count(
            stocktake=by_sku, sku=SkuFactory(code="OTHER"), location=bins[0], quantity=1
        )
    with pytest.raises(StocktakeError, match="Bin US-1 is not in warehouse SZ"):
        stocktake_count(
            stocktake=by_sku, sku=stocked, location=LocationFactory(code="US-1"), quantity=1
        )
    with pytest.raises(StocktakeError, match="between 0 and"):
        stocktake_count(stocktake=by_sku, sku=stocked, location=bins[0], quantity=-1)


def test_bulk_counts_set_lines_and_repeated_rows_add_up(warehouse, bins, stocked, user):
    other = SkuFactory(code="B")
    receive(other, bins[1], 4)
    stocktake = stocktake_create(warehouse=warehouse)
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=1, add=True)

    written = stocktake_count_many(
        stocktake=stocktake,
        entries=[
            CountEntry(stocked, bins[0], 6),
            CountEntry(stocked, bins[0], 3),  # the same bin again: adds up
            CountEntry(other, bins[1], 4),
        ],
        user=user,
    )

    assert written == 2
    a = line_of(stocktake, stocked, bins[0])
    b = line_of(stocktake, other, bins[1])
    assert (a.expected_at_count, a.counted, a.counted_by) == (10, 9, user)
    assert (b.expected_at_count, b.counted) == (4, 4)


def test_bulk_counts_are_all_or_nothing_naming_every_bad_row(warehouse, bins, stocked):
    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]])
    us = LocationFactory(code="US-1")
    with pytest.raises(StocktakeError) as caught:
        stocktake_count_many(
            stocktake=stocktake,
            entries=[
                CountEntry(stocked, bins[0], 6),
                CountEntry(stocked, bins[1], 1),
                CountEntry(stocked, us, 1),
            ],
        )
    message = str(caught.value)
    assert "bin A-02 is not part of this count" in message
    assert "bin US-1 is not in warehouse SZ" in message
    assert StocktakeLine.objects.filter(stocktake=stocktake, counted__isnull=False).count() == 0


# --- posting: refusals ------------------------------------------------------------------------


def test_posting_twice_is_refused_and_changes_nothing(stocked, bins, user):
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=7)
    stocktake_post(stocktake=stocktake, user=user, reason="Count")

    with pytest.raises(StocktakeError, match=r"was posted on .*; it takes no more counts"):
        stocktake_post(stocktake=Stocktake.objects.get(pk=stocktake.pk), user=user, reason="x")
    with pytest.raises(StocktakeError, match="was posted"):
        stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=1)

    assert on_hand(stocked, bins[0]) == 7
    assert StockMove.objects.filter(kind=StockMove.Kind.STOCKTAKE).count() == 1


def test_posting_needs_a_reason_and_an_open_stocktake(stocked, bins):
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    with pytest.raises(StocktakeError, match="needs a reason"):
        stocktake_post(stocktake=stocktake, user=None, reason="  ")
    stocktake_cancel(stocktake=stocktake)
    with pytest.raises(StocktakeError, match="is cancelled"):
        stocktake_post(stocktake=stocktake, user=None, reason="Count")


def test_posting_never_leaves_fewer_units_than_reserved_and_names_the_lines(
    warehouse, bins, stocked, user
):
    """Given 10 on hand with 6 reserved, counted 4; then posting (−6 → 4 < 6 reserved) is
    refused naming the line, and nothing is written, not even the good lines."""
    good = SkuFactory(code="GOOD")
    receive(good, bins[1], 5)
    stock_reserve(warehouse=warehouse, lines=[StockLine(stocked, 6)], reference="order_line:1")
    stocktake = stocktake_create(warehouse=warehouse)
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=4)
    stocktake_count(stocktake=stocktake, sku=good, location=bins[1], quantity=6)

    with pytest.raises(StocktakeRefused) as caught:
        stocktake_post(stocktake=stocktake, user=user, reason="Count")

    refused = caught.value
    assert [
        (p.sku_code, p.location_code, p.variance, p.on_hand, p.reserved, p.problem)
        for p in refused.problems
    ] == [(stocked.code, "A-01", -6, 10, 6, "below_reserved")]
    assert f"{stocked.code} in A-01: -6 would leave 4 on hand, but 6 are reserved" in str(refused)
    assert refused.as_dict()["problems"][0]["reserved"] == 6
    assert on_hand(stocked, bins[0]) == 10
    assert on_hand(good, bins[1]) == 5
    assert StockMove.objects.filter(kind=StockMove.Kind.STOCKTAKE).count() == 0
    assert Stocktake.objects.get(pk=stocktake.pk).status == Stocktake.Status.COUNTING
    summary = stocktake_summary(stocktake)
    assert summary.problems == 1


def test_posting_never_makes_a_bin_negative(stocked, bins, user):
    """Counted 2 of 10 (−8), then 9 leave the bin: 1 − 8 would be −7, so posting refuses."""
    stocktake = stocktake_create(warehouse=bins[0].warehouse, locations=[bins[0]])
    stocktake_count(stocktake=stocktake, sku=stocked, location=bins[0], quantity=2)
    stock_adjust(sku=stocked, location=bins[0], quantity=-9, reason="Damaged")

    with pytest.raises(StocktakeRefused, match="-8 would leave -7 on hand, but 0 are reserved"):
        stocktake_post(stocktake=stocktake, user=user, reason="Count")
    assert on_hand(stocked, bins[0]) == 1


def test_a_line_counted_before_another_stocktake_corrected_its_bin_must_be_recounted(
    warehouse, bins, stocked, user
):
    """Two counts of the same bin both find 8 of 10; the first posts (−2 → 8). Posting the
    second as it is would take 2 more; it is refused until the line is counted again."""
    first = stocktake_create(warehouse=warehouse, locations=[bins[0]])
    second = stocktake_create(warehouse=warehouse, skus=[stocked])
    stocktake_count(stocktake=first, sku=stocked, location=bins[0], quantity=8)
    stocktake_count(stocktake=second, sku=stocked, location=bins[0], quantity=8)
    stocktake_post(stocktake=first, user=user, reason="First")

    with pytest.raises(StocktakeRefused, match="another stocktake corrected this bin"):
        stocktake_post(stocktake=second, user=user, reason="Second")
    assert on_hand(stocked, bins[0]) == 8

    stocktake_count(stocktake=second, sku=stocked, location=bins[0], quantity=8)
    result = stocktake_post(stocktake=second, user=user, reason="Second")
    assert result.moves == 0
    assert on_hand(stocked, bins[0]) == 8
    assert_ledger_clean()


def test_summary_of_the_variance_review(warehouse, bins, user):
    a, b, c = (SkuFactory(code=code) for code in ("A", "B", "C"))
    for sku in (a, b, c):
        receive(sku, bins[0], 10, cost="3")
    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]])
    stocktake_count(stocktake=stocktake, sku=a, location=bins[0], quantity=12)
    stocktake_count(stocktake=stocktake, sku=b, location=bins[0], quantity=9)

    summary = stocktake_summary(stocktake)

    assert (summary.lines, summary.counted, summary.uncounted, summary.with_variance) == (
        3,
        2,
        1,
        2,
    )
    assert (summary.units_added, summary.units_removed, summary.problems) == (2, 1, 0)
    assert (summary.value_added, summary.value_removed, summary.value) == (
        Decimal("6"),
        Decimal("3"),
        Decimal("3"),
    )


# --- property: posting adds the variance on top of whatever happened since -------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("count"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("receive"), st.integers(0, 2), st.integers(1, 9)),
        st.tuples(st.just("take"), st.integers(0, 2), st.integers(1, 9)),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25)
@given(steps=steps)
def test_posted_on_hand_is_the_count_plus_every_move_after_it(warehouse, bins, steps):
    """For any interleaving of counts, receipts and adjustments on three bins: after posting,
    each counted bin holds (its last count) + (the net of the moves after that count), and
    every uncounted bin is unchanged; the ledger matches the levels."""
    with transaction.atomic():
        sku = SkuFactory()
        for location in bins:
            receive(sku, location, 10)
        stocktake = stocktake_create(warehouse=warehouse, skus=[sku])
        model = {location.pk: 10 for location in bins}
        last_count: dict[int, int] = {}  # bin -> count + moves since
        for kind, index, quantity in steps:
            location = bins[index]
            if kind == "count":
                stocktake_count(stocktake=stocktake, sku=sku, location=location, quantity=quantity)
                last_count[location.pk] = quantity
                continue
            delta = quantity if kind == "receive" else -min(quantity, model[location.pk])
            if delta == 0:
                continue
            if kind == "receive":
                receive(sku, location, delta)
            else:
                stock_adjust(sku=sku, location=location, quantity=delta, reason="Damaged")
            model[location.pk] += delta
            if location.pk in last_count:
                last_count[location.pk] += delta

        if any(value < 0 for value in last_count.values()):
            with pytest.raises(StocktakeRefused):
                stocktake_post(stocktake=stocktake, user=None, reason="Property")
            assert {loc.pk: on_hand(sku, loc) for loc in bins} == model
        else:
            stocktake_post(stocktake=stocktake, user=None, reason="Property")
            expected = {pk: last_count.get(pk, value) for pk, value in model.items()}
            assert {loc.pk: on_hand(sku, loc) for loc in bins} == expected
        assert_ledger_clean()
        transaction.set_rollback(True)
