"""Pick waves: which orders a wave takes, its picklist (lines per SKU and bin in walking order,
the sort sheet, the wave's barcode), marking it picked, and the short-pick arithmetic.

``floor`` is the small warehouse the pack station and page tests use too."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from erp.errors import ServiceError
from erp.models import Role
from logistics.models import (
    OrderChannel,
    PickWave,
    PickWaveOrder,
    Shipment,
    ShipmentStatus,
)
from logistics.services.picking import (
    WaveError,
    choose_short_orders,
    picklist_pdf,
    wave_candidates,
    wave_close,
    wave_create,
    wave_mark_picked,
)
from logistics.services.shipments import shipments_create
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import orders_allocate, orders_approve, orders_cancel, orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)
from tests.logistics.factories_ops import pool_channel
from warehouse.models import Reservation, StockLevel, StockMove
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@dataclass
class Floor:
    """One warehouse (SZ) with four bins walked A-01 → A-02 → B-01 → C-05, four SKUs with
    Chinese names and barcodes, a second warehouse (GZ), two stores, a pool channel, and a
    warehouse worker who sees everything."""

    warehouse: object
    other_warehouse: object
    bins: dict
    skus: dict
    store: object
    other_store: object
    channel: object
    worker: object
    orders: list = field(default_factory=list)

    def order(
        self,
        lines,
        *,
        store=None,
        labelled: bool = False,
        ship_by: datetime | None = None,
        purchased_at: datetime | None = None,
        external_id: str | None = None,
        channel: bool = True,
    ) -> Order:
        """An allocated order of ``lines`` [(SKU code, quantity), ...], its channel chosen;
        ``labelled`` buys its label (a number from the pool) too."""
        store = store or self.store
        number = external_id or f"SO-{next(_numbers):04d}"
        result = orders_upsert(
            store=store,
            orders=[
                normalized_order(
                    number,
                    [(code, qty, "9.90") for code, qty in lines],
                    latest_ship_at=ship_by,
                    purchased_at=purchased_at
                    or datetime(2026, 3, 1, 8, next(_numbers) % 60, tzinfo=UTC),
                )
            ],
            source="manual",
        )
        (pk,) = result.order_ids
        orders_approve(order_ids=[pk])
        allocated = orders_allocate(order_ids=[pk])
        assert allocated.done == [pk], allocated.failed
        if channel:
            OrderChannel.objects.update_or_create(order_id=pk, defaults={"channel": self.channel})
        if labelled:
            created = shipments_create(order_ids=[pk], user=self.worker)
            assert created.failed == {}, created.failed
        order = Order.objects.get(pk=pk)
        self.orders.append(order)
        return order


def make_floor() -> Floor:
    warehouse = WarehouseFactory(code="SZ", name="Shenzhen main", address="1 Bao'an Rd\nShenzhen")
    other = WarehouseFactory(code="GZ", name="Guangzhou")
    bins = {
        code: LocationFactory(warehouse=warehouse, code=code, pick_sequence=seq)
        for code, seq in (("C-05", 50), ("A-02", 20), ("B-01", 30), ("A-01", 10))
    }
    skus = {
        "MUG": SkuFactory(
            code="MUG",
            name="Vacuum mug 500 ml",
            name_zh="保温杯",
            barcode="6901234567892",
            weight_g=320,
        ),
        "CASE": SkuFactory(
            code="CASE",
            name="Phone case black",
            name_zh="手机壳",
            barcode="6901234567809",
            weight_g=40,
        ),
        "CABLE": SkuFactory(
            code="CABLE", name="USB-C cable 1 m", name_zh="数据线", barcode="", weight_g=30
        ),
        "LAMP": SkuFactory(
            code="LAMP", name="Desk lamp", name_zh="台灯", barcode="6901234567816", weight_g=600
        ),
    }
    # LAMP in C-05 (walked last), MUG in B-01, CASE in A-01, CABLE in A-02.
    for code, bin_code in (("LAMP", "C-05"), ("MUG", "B-01"), ("CASE", "A-01"), ("CABLE", "A-02")):
        stock_receive(sku=skus[code], location=bins[bin_code], quantity=40, unit_cost=Decimal("5"))
    stock_receive(
        sku=skus["MUG"],
        location=LocationFactory(warehouse=other, code="G-01", pick_sequence=1),
        quantity=40,
        unit_cost=Decimal("5"),
    )
    store = StoreFactory(
        platform="manual", code="shop", name="Shop US", default_warehouse=warehouse
    )
    other_store = StoreFactory(
        platform="manual", code="shop-de", name="Shop DE", default_warehouse=warehouse
    )
    channel = pool_channel(numbers=200)
    worker = UserFactory(username="wang", display_name="Wang Li", roles=[Role.WAREHOUSE])
    return Floor(warehouse, other, bins, skus, store, other_store, channel, worker)


@pytest.fixture
def floor() -> Floor:
    return make_floor()


def pdf_text(content: bytes) -> str:
    """``pdftotext -layout`` of a PDF, as a person would read it."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()


# ---------------------------------------------------------------------------- create


def test_a_wave_takes_the_orders_of_its_warehouse_with_lines_per_sku_and_bin_in_walking_order(
    floor,
):
    first = floor.order([("LAMP", 1), ("MUG", 2)])
    second = floor.order([("MUG", 1), ("CASE", 3)], labelled=True)
    third = floor.order([("CABLE", 1)])

    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)

    assert wave.number.startswith("W") and wave.number.endswith("-SZ-001")
    assert wave.status == PickWave.Status.OPEN
    assert wave.kind == PickWave.Kind.MULTI
    assert (wave.order_count, wave.unit_count, wave.line_count) == (3, 8, 4)
    lines = [
        (line.position, line.location.code, line.sku.code, line.quantity)
        for line in wave.lines.select_related("location", "sku")
    ]
    assert lines == [
        (1, "A-01", "CASE", 3),
        (2, "A-02", "CABLE", 1),
        (3, "B-01", "MUG", 3),
        (4, "C-05", "LAMP", 1),
    ]
    # slots follow the labels' print order: each order's first bin in walking order
    slots = dict(wave.wave_orders.values_list("order_id", "slot"))
    assert slots == {second.pk: 1, third.pk: 2, first.pk: 3}


SHOTS = Path("/tmp/shots")


def test_the_picklist_holds_the_chinese_names_in_walking_order_and_a_sort_sheet(floor):
    orders = [
        floor.order([("LAMP", 1), ("MUG", 2)]),
        floor.order([("MUG", 1), ("CASE", 3)], labelled=True),
        floor.order([("CABLE", 1), ("CASE", 1)]),
    ]
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)

    content = picklist_pdf(wave)

    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "picklist-multi.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    assert len(reader.pages) == 2  # the picklist, then the sort sheet on its own page
    text = pdf_text(content)
    names = [text.index(name) for name in ("手机壳", "数据线", "保温杯", "台灯")]
    assert names == sorted(names)  # B-01, C-05: the walking order
    picklist, sort_sheet = text.split("Sort sheet")
    for line in ("A-01", "CASE", "4"), ("B-01", "MUG", "3"):
        assert any(all(part in row for part in line) for row in picklist.splitlines())
    assert wave.number in picklist
    assert "Vacuum mug 500 ml" in picklist
    # the sort sheet: slot → order, with the label's tracking number where there is one
    tracking = Shipment.objects.get(order=orders[1]).tracking_number
    rows = [row for row in sort_sheet.splitlines() if row.strip()[:1].isdigit()]
    assert [row.split()[:2] for row in rows] == [
        ["1", orders[1].external_id],
        ["2", orders[2].external_id],
        ["3", orders[0].external_id],
    ]
    assert tracking in rows[0]
    assert "CASE×3" in rows[0]
    fonts = subprocess.run(["pdffonts", "-"], input=content, capture_output=True).stdout.decode()
    assert "WenQuanYi" in fonts  # real Chinese glyphs, not boxes


def test_picklist_lines_in_blocks_keep_every_line_in_walking_order(floor, monkeypatch):
    """The lines go to WeasyPrint in blocks (a long text costs it quadratic time): across
    block and page boundaries no line is lost or moved."""
    from logistics.services import picking

    assert picking.PDF_BLOCK_LINES % 2 == 0  # the stripes run on from block to block
    assert picking._blocks(list(range(45))) == [
        list(range(0, 20)),
        list(range(20, 40)),
        list(range(40, 45)),
    ]
    monkeypatch.setattr(picking, "PDF_BLOCK_LINES", 2)
    floor.order([("LAMP", 1), ("MUG", 2)])
    floor.order([("CABLE", 1), ("CASE", 1)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)

    picklist, sort_sheet = pdf_text(picklist_pdf(wave)).split("Sort sheet")

    rows = [row.split() for row in picklist.splitlines() if row.strip()[:1].isdigit()]
    assert [row[:3] for row in rows if len(row) > 3 and row[1][:1] in "ABC"] == [
        ["1", "A-01", "CASE"],
        ["2", "A-02", "CABLE"],
        ["3", "B-01", "MUG"],
        ["4", "C-05", "LAMP"],
    ]
    assert len([row for row in sort_sheet.splitlines() if row.strip()[:1].isdigit()]) == 2


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbar-tools not installed")
def test_the_wave_barcode_on_the_picklist_scans(floor, tmp_path):
    floor.order([("MUG", 1)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, items="single")
    pdf = tmp_path / "picklist.pdf"
    pdf.write_bytes(picklist_pdf(wave))
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "picklist-single.pdf").write_bytes(pdf.read_bytes())
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", "-f", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--raw", "-q", "--nodbus", str(tmp_path / "p.png")], capture_output=True
    )
    assert decoded.stdout.decode().split() == [wave.number]
    assert "Sort sheet" not in pdf_text(pdf.read_bytes())  # single-item waves need none


def test_filters_choose_the_orders_and_a_wave_never_shares_an_order(floor):
    from logistics.models import ShippingChannel

    today = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    single = floor.order([("MUG", 1)], ship_by=today)
    multi = floor.order([("MUG", 1), ("CASE", 1)], ship_by=today)
    later = floor.order([("CASE", 1)], ship_by=datetime(2026, 3, 20, tzinfo=UTC))
    other_store = floor.order([("MUG", 1)], store=floor.other_store)
    other_channel = floor.order([("CASE", 2)])
    express = ShippingChannel.objects.create(
        carrier=floor.channel.carrier, code="EXP", service_code="EXP", name="Express"
    )
    OrderChannel.objects.filter(order=other_channel).update(channel=express)

    def chosen(**filters):
        qs = wave_candidates(user=floor.worker, warehouse=floor.warehouse, **filters)
        return set(qs.values_list("pk", flat=True))

    assert chosen() == {single.pk, multi.pk, later.pk, other_store.pk, other_channel.pk}
    assert chosen(items="single") == {single.pk, later.pk, other_store.pk}
    assert chosen(items="multi") == {multi.pk, other_channel.pk}
    assert chosen(store=floor.other_store) == {other_store.pk}
    assert chosen(channel=express) == {other_channel.pk}
    # due by 10 March: those due that day and those without a ship-by date
    assert chosen(ship_by=date(2026, 3, 10)) == {
        single.pk,
        multi.pk,
        other_store.pk,
        other_channel.pk,
    }
    assert chosen(statuses=[OrderStatus.LABELLED]) == set()
    assert set(wave_candidates(user=floor.worker, warehouse=floor.other_warehouse)) == set()
    # a worker of the first store only
    narrow = UserFactory(roles=[Role.WAREHOUSE], stores=[floor.store])
    assert floor.store.pk in set(
        wave_candidates(user=narrow, warehouse=floor.warehouse).values_list("store_id", flat=True)
    )
    assert other_store.pk not in set(
        wave_candidates(user=narrow, warehouse=floor.warehouse).values_list("pk", flat=True)
    )

    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, items="single", limit=2)
    # the most urgent first: due on the 10th, then the 20th, then none (purchase order)
    assert list(
        wave.wave_orders.order_by("order__latest_ship_at").values_list("order_id", flat=True)
    ) == [
        single.pk,
        later.pk,
    ]
    assert wave.kind == PickWave.Kind.SINGLE
    assert chosen() == {multi.pk, other_store.pk, other_channel.pk}
    second = wave_create(warehouse=floor.warehouse, user=floor.worker)
    assert set(second.wave_orders.values_list("order_id", flat=True)) == {
        multi.pk,
        other_store.pk,
        other_channel.pk,
    }
    with pytest.raises(WaveError, match="No orders of SZ match these filters"):
        wave_create(warehouse=floor.warehouse, user=floor.worker)
    # the database refuses an order in two waves that are not closed
    with pytest.raises(IntegrityError), transaction.atomic():
        PickWaveOrder.objects.create(wave=second, order=single, slot=99)
    # closed, its orders are free again
    wave_close(wave=wave, user=floor.worker)
    assert chosen() == {single.pk, later.pk}


def test_a_user_cannot_make_a_wave_in_a_warehouse_outside_their_scope(floor):
    floor.order([("MUG", 1)])
    outsider = UserFactory(roles=[Role.WAREHOUSE], warehouses=[floor.other_warehouse])
    with pytest.raises(ServiceError, match="outside your scope"):
        wave_create(warehouse=floor.warehouse, user=outsider)
    assert not PickWave.objects.exists()


# ---------------------------------------------------------------------------- picked


def test_choosing_short_orders_takes_the_latest_slots_first():
    mug, case = (1, 10), (2, 20)  # (sku, bin)
    holders = {mug: {101: 2, 102: 1, 103: 1}, case: {101: 1, 104: 3}}
    slots = {101: 1, 102: 2, 103: 3, 104: 4}

    assert choose_short_orders([(mug, 1)], holders, slots) == [103]
    assert choose_short_orders([(mug, 2)], holders, slots) == [103, 102]
    assert choose_short_orders([(mug, 3)], holders, slots) == [103, 102, 101]
    assert choose_short_orders([(case, 1)], holders, slots) == [104]
    # 101 gives everything up for the MUG line, so its CASE covers the CASE line too
    assert choose_short_orders([(mug, 4), (case, 1)], holders, slots) == [103, 102, 101]
    assert choose_short_orders([], holders, slots) == []


def test_marking_a_wave_picked_with_nothing_short(floor):
    floor.order([("MUG", 2)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)

    result = wave_mark_picked(wave=wave, user=floor.worker)

    wave.refresh_from_db()
    assert wave.status == PickWave.Status.PICKED
    assert wave.picked_by == floor.worker
    assert list(wave.lines.values_list("quantity", "picked_quantity")) == [(2, 2)]
    assert (result.short_orders, result.shorts, result.put_back) == ([], [], [])
    with pytest.raises(WaveError, match="is picked already"):
        wave_mark_picked(wave=wave, user=floor.worker)


def test_a_short_pick_sends_the_latest_slots_back_to_out_of_stock(
    floor, django_capture_on_commit_callbacks
):
    # MUG lives in B-01 (40 units). Four orders want 2 + 1 + 3 + 1 of them; the last one
    # also holds a CASE from A-01 and is labelled.
    first = floor.order([("MUG", 2)])
    second = floor.order([("MUG", 1)])
    third = floor.order([("MUG", 3)])
    fourth = floor.order([("CASE", 1), ("MUG", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    slots = dict(wave.wave_orders.values_list("order_id", "slot"))
    # the CASE order walks A-01 first: slot 1; the others by purchase, all in B-01
    assert [o.pk for o in sorted((first, second, third, fourth), key=lambda o: slots[o.pk])] == [
        fourth.pk,
        first.pk,
        second.pk,
        third.pk,
    ]
    mug_line = wave.lines.get(sku=floor.skus["MUG"])
    assert mug_line.quantity == 7
    mug_level = StockLevel.objects.get(sku=floor.skus["MUG"], location=floor.bins["B-01"])
    assert (mug_level.on_hand, mug_level.reserved) == (40, 7)

    # The picker found only 3 of the 7 mugs: 4 are missing.
    with django_capture_on_commit_callbacks(execute=True):
        result = wave_mark_picked(
            wave=wave,
            user=floor.worker,
            shorts={(floor.skus["MUG"].pk, floor.bins["B-01"].pk): 4},
        )

    # Latest slots first: slot 4 (3 mugs) covers 3, slot 3 (1 mug) the fourth.
    assert result.short_orders == sorted([third.pk, second.pk])
    # the picker emptied B-01: it holds the 3 found, the other 37 the ledger showed are gone
    assert [(s.sku_code, s.bin, s.missing, s.written_off) for s in result.shorts] == [
        ("MUG", "B-01", 4, 37)
    ]
    assert result.put_back == []  # exactly the missing four were freed
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[second.pk] == statuses[third.pk] == OrderStatus.OUT_OF_STOCK
    assert statuses[first.pk] == OrderStatus.ALLOCATED
    assert statuses[fourth.pk] == OrderStatus.LABELLED
    mug_level.refresh_from_db()
    # the 3 found stay reserved for slots 1 and 2; nothing is left to allocate the short ones
    assert (mug_level.on_hand, mug_level.reserved) == (3, 3)
    assert not Reservation.objects.filter(
        reference__in=[second.reference, third.reference]
    ).exists()
    write_off = StockMove.objects.get(
        kind=StockMove.Kind.ADJUSTMENT, reference=f"wave:{wave.number}"
    )
    assert write_off.quantity == -37
    assert "4 of 7 not found in B-01; the bin holds 3" in write_off.note
    event = OrderEvent.objects.filter(order=third, to_status=OrderStatus.OUT_OF_STOCK).get()
    assert wave.number in event.message
    short_rows = set(wave.wave_orders.filter(short=True).values_list("order_id", flat=True))
    assert short_rows == {second.pk, third.pk}
    assert not PickWaveOrder.objects.filter(order__in=[second, third], active=True).exists()
    assert list(wave.lines.order_by("position").values_list("quantity", "picked_quantity")) == [
        (1, 1),
        (7, 3),
    ]
    call_command("check_stock")


def test_a_short_pick_voids_the_labels_and_reports_what_goes_back(
    floor, django_capture_on_commit_callbacks
):
    keep = floor.order([("MUG", 1)], labelled=True)
    short = floor.order([("MUG", 2), ("CASE", 2)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    assert dict(wave.wave_orders.values_list("order_id", "slot")) == {short.pk: 1, keep.pk: 2}

    # 1 of 3 mugs missing: the latest slot (keep, 1 mug) covers it; nothing goes back
    with django_capture_on_commit_callbacks(execute=True):
        result = wave_mark_picked(
            wave=wave, user=floor.worker, shorts={(floor.skus["MUG"].pk, floor.bins["B-01"].pk): 1}
        )
    assert result.short_orders == [keep.pk]
    assert result.put_back == []
    shipment = Shipment.objects.get(order=keep)
    assert shipment.status == ShipmentStatus.VOIDED
    assert "Short at picking" in shipment.void_reason
    assert Order.objects.get(pk=keep.pk).status == OrderStatus.OUT_OF_STOCK
    assert Order.objects.get(pk=short.pk).status == OrderStatus.LABELLED
    call_command("check_stock")


def test_short_orders_give_back_what_was_picked_for_them(floor, django_capture_on_commit_callbacks):
    big = floor.order([("MUG", 3), ("CASE", 2)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    case_level = StockLevel.objects.get(sku=floor.skus["CASE"], location=floor.bins["A-01"])

    with django_capture_on_commit_callbacks(execute=True):
        result = wave_mark_picked(
            wave=wave, user=floor.worker, shorts={(floor.skus["MUG"].pk, floor.bins["B-01"].pk): 1}
        )

    assert result.short_orders == [big.pk]
    # 2 mugs were found for it and both cases: they go back to their bins
    assert [(p.sku_code, p.bin, p.quantity) for p in result.put_back] == [
        ("CASE", "A-01", 2),
        ("MUG", "B-01", 2),
    ]
    case_level.refresh_from_db()
    assert (case_level.on_hand, case_level.reserved) == (40, 0)
    # B-01 holds the two mugs that go back, nothing more
    mug_level = StockLevel.objects.get(sku=floor.skus["MUG"], location=floor.bins["B-01"])
    assert (mug_level.on_hand, mug_level.reserved) == (2, 0)
    assert [(s.missing, s.written_off) for s in result.shorts] == [(1, 38)]
    # other stock of MUG (in GZ) is not this order's warehouse: it stays out of stock
    assert Order.objects.get(pk=big.pk).status == OrderStatus.OUT_OF_STOCK
    # its only order left it: the wave is closed
    assert result.wave.status == PickWave.Status.CLOSED


def test_bad_shorts_are_refused_and_nothing_changes(floor):
    floor.order([("MUG", 2)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    mug, b01 = floor.skus["MUG"].pk, floor.bins["B-01"].pk
    with pytest.raises(WaveError, match="MUG in B-01: between 0 and 2 can be missing"):
        wave_mark_picked(wave=wave, user=floor.worker, shorts={(mug, b01): 3})
    with pytest.raises(WaveError, match="SKU LAMP in that bin is not on the picklist"):
        wave_mark_picked(wave=wave, user=floor.worker, shorts={(floor.skus["LAMP"].pk, b01): 1})
    wave.refresh_from_db()
    assert wave.status == PickWave.Status.OPEN
    assert list(wave.lines.values_list("picked_quantity", flat=True)) == [None]


def test_a_wave_closes_when_its_orders_are_gone_or_by_hand(floor):
    order = floor.order([("MUG", 1)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    orders_cancel(order_ids=[order.pk])
    from logistics.services.picking import wave_close_if_done

    assert wave_close_if_done(wave.pk) is True
    wave.refresh_from_db()
    assert wave.status == PickWave.Status.CLOSED and wave.closed_at is not None
    with pytest.raises(WaveError, match="is closed already"):
        wave_close(wave=wave, user=floor.worker)
