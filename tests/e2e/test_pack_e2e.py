"""The pack station in a real Chromium, driven by the keyboard alone (a keyboard-wedge scanner
types each barcode and Enter): a warehouse worker logs in, scans a parcel's label, scans its
items (one wrong: refused in red), accepts the weight with Enter, and the order is shipped;
then a single-item wave is packed by scanning its picklist barcode and the item; Escape sets a
parcel aside. The wave pages and the floor dashboard are looked at too.

Screenshots go to /tmp/shots/ (pack-*) for a person to look at.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from erp.models import Company, Role
from logistics.models import OrderChannel, PackSession, Shipment, ShipmentStatus
from logistics.services.picking import wave_create
from logistics.services.shipments import shipments_create
from orders.models import Order, OrderStatus
from orders.services import orders_allocate, orders_approve, orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    ensure_roles,
    normalized_order,
)
from tests.logistics.factories_ops import pool_channel
from warehouse.models import StockLevel, StockMove
from warehouse.services import stock_receive

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots")
PASSWORD = "pass-Word-123"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 860}}


@pytest.fixture
def shot(page: Page):
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    return take


@pytest.fixture(autouse=True)
def roles(transactional_db):
    ensure_roles()  # a flush by an earlier transactional test removes the role groups


@pytest.fixture
def world(db):
    Company.objects.create(name="深圳驼队电商", name_en="Caravan Trading Ltd.")
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main", address="1 Bao'an Rd\nShenzhen")
    bins = {
        code: LocationFactory(warehouse=shenzhen, code=code, pick_sequence=seq)
        for code, seq in (("A-01-02", 10), ("B-03-01", 20), ("C-07-04", 30))
    }
    skus = {
        "MUG": SkuFactory(
            code="MUG-VAC-500",
            name="Vacuum mug 500 ml",
            name_zh="不锈钢保温杯",
            barcode="6901234567892",
            weight_g=320,
        ),
        "CASE": SkuFactory(
            code="CASE-IP15-BLK",
            name="Phone case, black",
            name_zh="手机壳 黑色",
            barcode="6901234567809",
            weight_g=40,
        ),
        "CABLE": SkuFactory(
            code="CABLE-USBC-1M",
            name="USB-C cable 1 m",
            name_zh="数据线",
            barcode="6901234567816",
            weight_g=30,
        ),
    }
    for key, bin_code in (("CASE", "A-01-02"), ("MUG", "B-03-01"), ("CABLE", "C-07-04")):
        stock_receive(sku=skus[key], location=bins[bin_code], quantity=20, unit_cost=Decimal("4"))
    store = StoreFactory(
        platform="manual", code="shop-us", name="Shop US", default_warehouse=shenzhen
    )
    channel = pool_channel(numbers=20)
    specs = [
        ("SO-7001", [("MUG-VAC-500", 2), ("CASE-IP15-BLK", 1)]),  # the multi-item parcel
        ("SO-7002", [("CABLE-USBC-1M", 1)]),  # single items
        ("SO-7003", [("CABLE-USBC-1M", 1)]),
        ("SO-7004", [("CASE-IP15-BLK", 1)]),  # set aside with Escape
    ]
    result = orders_upsert(
        store=store,
        orders=[
            normalized_order(number, [(c, q, "19.90") for c, q in lines]) for number, lines in specs
        ],
        source="manual",
    )
    ids = list(result.order_ids)
    orders_approve(order_ids=ids)
    assert sorted(orders_allocate(order_ids=ids).done) == sorted(ids)
    for pk in ids:
        OrderChannel.objects.update_or_create(order_id=pk, defaults={"channel": channel})
    assert shipments_create(order_ids=ids).failed == {}
    worker = UserFactory(username="wang", display_name="Wang Li", roles=[Role.WAREHOUSE])
    worker.set_password(PASSWORD)
    worker.save()
    orders = {o.external_id: o for o in Order.objects.all()}
    return {"orders": orders, "skus": skus, "warehouse": shenzhen, "worker": worker}


def wait_for(condition, timeout: float = 15) -> None:
    """Poll the database until ``condition()`` holds (what the page loads on its own, such as
    the label it prints, arrives a moment later)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def scan(page: Page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_pack_a_parcel_with_the_keyboard_alone(live_server, page: Page, world, shot):
    orders, skus = world["orders"], world["skus"]
    parcel = orders["SO-7001"]
    tracking = Shipment.objects.get(order=parcel).tracking_number

    # Log in: the username field has the focus; Tab to the password; Enter.
    page.goto(f"{live_server.url}/accounts/login/?next=/logistics/pack/")
    page.keyboard.type("wang")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    field = page.locator("#pack-code")
    expect(page.get_by_label(re.compile("^Scan"))).to_be_focused()
    expect(page.locator(".pack-prompt")).to_have_text("Scan an order number or a parcel label.")
    shot("pack-01-station-idle")

    # Scan the parcel's label: the order's units appear, nothing scanned yet.
    scan(page, tracking)
    outcome = page.locator(".pack-outcome")
    expect(outcome).to_have_text("Order SO-7001: scan its 3 units.")
    expect(page.locator(".pack-order-number")).to_have_text("SO-7001")
    lines = page.locator("table.pack-lines tbody tr")
    expect(lines).to_have_count(2)
    expect(page.locator(".pack-count-figure")).to_have_text("0 / 3")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    shot("pack-02-order-scanned")

    # One mug, then a cable that is not in this order: refused, in red, nothing counted.
    scan(page, skus["MUG"].barcode)
    expect(outcome).to_have_text("✓ MUG-VAC-500 不锈钢保温杯: 1 of 2")
    expect(outcome).to_have_attribute("data-pack-outcome", "ok")
    scan(page, skus["CABLE"].barcode)
    expect(outcome).to_have_attribute("data-pack-outcome", "bad")
    expect(outcome).to_have_text(
        "Wrong item: CABLE-USBC-1M 数据线 is not in order SO-7001. Put it back."
    )
    expect(page.locator(".pack-count-figure")).to_have_text("1 / 3")
    expect(field).to_be_focused()
    shot("pack-03-wrong-item")

    # The rest; the last unit brings up the weight, estimated and selected: Enter ships.
    scan(page, skus["MUG"].barcode)
    scan(page, skus["CASE"].barcode)
    expect(outcome).to_contain_text("All units are in: weigh the parcel and press Enter to ship.")
    weight = page.get_by_label("Weight")
    expect(weight).to_be_focused()
    expect(weight).to_have_value("680")  # the shipment's estimate: 2 × 320 + 40
    expect(lines.filter(has_text="MUG-VAC-500")).to_have_class(re.compile("line-done"))
    shot("pack-04-all-scanned")
    page.keyboard.type("712")  # the scale said 712 g: typing replaces the selected estimate
    page.keyboard.press("Enter")

    expect(outcome).to_have_attribute("data-pack-outcome", "done")
    expect(outcome).to_have_text(f"✓ Order SO-7001 shipped: {tracking}, 712 g.")
    expect(page.locator(".pack-last")).to_contain_text("Its label is printing.")
    expect(field).to_be_focused()
    wait_for(lambda: PackSession.objects.filter(label_printed_at__isnull=False).exists())
    shot("pack-05-shipped")
    parcel.refresh_from_db()
    assert parcel.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=parcel)
    assert (shipment.status, shipment.weight_g) == (ShipmentStatus.SHIPPED, 712)
    moves = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT, reference=parcel.reference)
    assert sorted((m.quantity, m.unit_cost) for m in moves) == [
        (-2, Decimal("4.0000")),
        (-1, Decimal("4.0000")),
    ]
    mug = StockLevel.objects.get(sku=skus["MUG"])
    assert (mug.on_hand, mug.reserved) == (18, 0)

    # Another parcel, set aside with Escape: its scans are dropped.
    scan(page, "SO-7004")
    expect(outcome).to_have_text("Order SO-7004: scan its 1 unit.")
    page.keyboard.press("Escape")
    expect(outcome).to_have_text("Order SO-7004 set aside: its scans are dropped.")
    expect(page.locator(".pack-order")).to_have_count(0)
    assert not PackSession.objects.filter(status=PackSession.Status.OPEN).exists()

    # A single-item wave: scan its picklist barcode, then each item ships its order.
    wave = wave_create(warehouse=world["warehouse"], user=world["worker"], items="single")
    assert wave.order_count == 3
    scan(page, wave.number)
    expect(outcome).to_have_text(
        f"Wave {wave.number}: scan an item, its order ships and its label prints."
    )
    expect(page.locator(".pack-prompt")).to_have_text(
        "Scan an item: its order ships and its label prints."
    )
    shot("pack-06-single-item-wave")
    scan(page, skus["CABLE"].barcode)
    expect(outcome).to_have_text(re.compile(r"^✓ Order SO-7002 shipped: RR\d+CN, 30 g\.$"))
    scan(page, skus["CABLE"].barcode)
    expect(outcome).to_have_text(re.compile(r"^✓ Order SO-7003 shipped"))
    scan(page, skus["CABLE"].barcode)
    expect(outcome).to_have_attribute("data-pack-outcome", "bad")
    expect(outcome).to_contain_text(
        f"No single-item order in wave {wave.number} is waiting for CABLE-USBC-1M"
    )
    shot("pack-07-single-item-none-left")
    assert Order.objects.get(external_id="SO-7002").status == OrderStatus.SHIPPED

    # The floor dashboard and the wave's page.
    page.goto(f"{live_server.url}/logistics/floor/")
    expect(page.get_by_role("heading", name=re.compile("Warehouse floor"))).to_be_visible()
    expect(page.locator(".kpi").filter(has_text="Parcels packed today")).to_contain_text("3")
    shot("pack-08-floor-dashboard")
    page.goto(f"{live_server.url}/logistics/waves/{wave.pk}/")
    expect(page.locator("table.wave-orders tbody tr")).to_have_count(3)
    shot("pack-09-wave-detail")

    # The station in Chinese.
    page.goto(f"{live_server.url}/logistics/pack/")
    page.locator("select[name=language]").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("#pack-code").focus()
    scan(page, "SO-7004")
    expect(page.locator(".pack-order-number")).to_have_text("SO-7004")
    shot("pack-10-station-zh")
    page.locator("select[name=language]").select_option("en")


def test_make_a_wave_and_mark_it_picked_short(live_server, page: Page, world, shot):
    page.goto(f"{live_server.url}/accounts/login/?next=/logistics/waves/new/")
    page.keyboard.type("wang")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New wave")).to_be_visible()
    expect(page.locator("#wave-preview")).to_contain_text("4 orders go in the wave")
    page.get_by_label("Multi-item orders").check()
    expect(page.locator("#wave-preview")).to_contain_text("1 order goes in the wave")
    shot("pack-11-wave-form")
    page.get_by_role("button", name="Make the wave").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "made: 1 order, 3 units on 2 picklist lines"
    )
    shot("pack-12-wave-made")
    page.get_by_label("Missing MUG-VAC-500 in B-03-01").fill("1")
    page.get_by_role("button", name="Mark the wave picked").click()
    expect(page.locator(".messages")).to_contain_text(
        "1 order was short and went back to out of stock: SO-7001"
    )
    expect(page.locator(".messages")).to_contain_text(
        "Put back: 1 × CASE-IP15-BLK → A-01-02, 1 × MUG-VAC-500 → B-03-01"
    )
    shot("pack-13-wave-picked-short")
    assert Order.objects.get(external_id="SO-7001").status == OrderStatus.OUT_OF_STOCK
