"""Shipping in a real Chromium: a staff user ticks three allocated orders on the order list,
creates their shipments by the channel the rules chose (tracking numbers from the carrier's
number pool), prints the three labels as one PDF; then a warehouse worker opens a manifest for
that carrier, scans the three parcels in, hands them over, and the orders are shipped. And on a
carrier-API channel: the list of the new shipments fills in the numbers the background
purchases bring, without a reload.

Screenshots go to /tmp/shots/ for a person to look at.
"""

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from erp.models import Company, Role
from logistics.models import ChannelRule, Manifest, OrderChannel, RuleAction, Shipment
from logistics.services import labels as label_service
from orders.models import Order, OrderStatus
from orders.normalized import NormalizedAddress
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
from warehouse.models import StockLevel
from warehouse.services import stock_receive

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots")
PASSWORD = "pass-Word-123"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1440, "height": 900},
        "accept_downloads": True,
    }


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
    """Three allocated orders whose channel the rules chose: China Post registered, numbers
    from a pool; a staff user and a warehouse worker."""
    Company.objects.create(name="深圳驼队电商", name_en="Caravan Trading Ltd.")
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main", address="1 Bao'an Rd\nShenzhen")
    store = StoreFactory(
        platform="manual", code="shop-us", name="Shop US", default_warehouse=shenzhen
    )
    mug = SkuFactory(code="MUG-BLK", name="Black mug 350 ml", weight_g=350)
    stock_receive(
        sku=mug,
        location=LocationFactory(warehouse=shenzhen, code="A-01"),
        quantity=20,
        unit_cost=Decimal("3.2"),
    )
    channel = pool_channel(numbers=10)
    ChannelRule.objects.create(name="Cheapest", action=RuleAction.CHEAPEST, priority=10)
    buyers = [("Ann Example", "US"), ("Bruno Weiss", "DE"), ("Chloé Martin", "FR")]
    result = orders_upsert(
        store=store,
        orders=[
            normalized_order(
                f"SO-{5001 + i}",
                [("MUG-BLK", 1 + i, "12.99")],
                address=NormalizedAddress(
                    name=name,
                    address1=f"{i + 1} Market St",
                    city="Town",
                    postcode="10001",
                    country=country,
                ),
            )
            for i, (name, country) in enumerate(buyers)
        ],
        source="manual",
    )
    ids = list(result.order_ids)
    orders_approve(order_ids=ids)
    assert sorted(orders_allocate(order_ids=ids).done) == sorted(ids)
    # the channel rules ran when the allocation committed
    assert set(OrderChannel.objects.values_list("channel_id", flat=True)) == {channel.pk}
    for username, name, role in (
        ("lin", "Lin Ops", Role.OPERATIONS),
        ("wang", "Wang Li", Role.WAREHOUSE),
    ):
        user = UserFactory(username=username, display_name=name, roles=[role])
        user.set_password(PASSWORD)
        user.save()
    return {"orders": list(Order.objects.filter(pk__in=ids).order_by("pk")), "mug": mug}


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Order status").get_by_role(
        "link", name=re.compile(rf"^{name}\b")
    )


def open_tab(page: Page, name: str) -> None:
    """Click a status tab and wait until its results replaced the old ones (a box ticked
    before the swap would be lost)."""
    tab(page, name).click()
    expect(tab(page, name)).to_have_attribute("aria-current", "page")
    expect(page.locator("#order-results")).not_to_have_class(re.compile(r"htmx-request"))


def test_create_print_scan_and_hand_over(live_server, page: Page, world, shot, monkeypatch):
    orders = world["orders"]
    log_in(page, live_server, "lin")

    # Orders → Allocated: tick the three orders, "Create shipments".
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    open_tab(page, "Allocated")
    rows = page.locator("#order-results tbody tr")
    expect(rows).to_have_count(3)
    for order in orders:
        rows.filter(has_text=order.external_id).get_by_role("checkbox").check()
    shot("logistics-01-orders-allocated-ticked")
    page.get_by_role("button", name="Create shipments").click()

    # The confirmation: each order with the channel the rules chose and its cost.
    expect(page.get_by_role("heading", name=re.compile("Create shipments"))).to_be_visible()
    table = page.locator("form.create-shipments tbody tr")
    expect(table).to_have_count(3)
    for order in orders:
        expect(table.filter(has_text=order.external_id)).to_contain_text("CNPOST-REG")
    expect(table.first).to_contain_text("CNY")
    expect(table.first).to_contain_text("from the number pool")
    shot("logistics-02-create-shipments")
    page.get_by_role("button", name="Create 3 shipments").click()

    # The new shipments, labelled with numbers from the pool.
    expect(page.get_by_role("heading", name="Shipments", exact=True)).to_be_visible()
    expect(page.get_by_role("status").first).to_have_text("3 shipments created.")
    results = page.locator("#shipment-results tbody tr")
    expect(results).to_have_count(3)
    for row in results.all():
        expect(row).to_contain_text("Labelled")
    shipments = list(Shipment.objects.order_by("pk"))
    assert [s.tracking_number[:2] for s in shipments] == ["RR"] * 3
    shot("logistics-03-shipments-created")

    # Tick them all and print: one PDF, a page per label.
    page.get_by_label("Select every shipment on this page").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Print labels (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    content = Path(download.path()).read_bytes()
    assert len(PdfReader(io.BytesIO(content)).pages) == 3
    (SHOTS / "logistics-labels.pdf").write_bytes(content)
    shot("logistics-04-shipments-printed")

    # More labels than print at once render in the background, with a progress box.
    monkeypatch.setattr(label_service, "INLINE_LIMIT", 2)
    page.get_by_label("Select every shipment on this page").check()
    page.get_by_role("button", name="Print labels (PDF)").click()
    expect(page.get_by_role("heading", name="Printing 3 labels")).to_be_visible()
    expect(page.locator("#label-batch")).to_contain_text("3 labels are ready.")
    shot("logistics-04b-label-batch")
    with page.expect_download() as batch_info:
        page.get_by_role("link", name="Download the labels (PDF)").click()
    batch_pdf = Path(batch_info.value.path()).read_bytes()
    assert len(PdfReader(io.BytesIO(batch_pdf)).pages) == 3
    page.get_by_role("link", name="Back to the shipments").click()
    expect(page.locator("#shipment-results tbody tr")).to_have_count(3)

    # The shipment page: its order, tracking number, customs lines.
    results.filter(has_text=shipments[0].tracking_number).get_by_role(
        "link", name=shipments[0].tracking_number
    ).click()
    expect(
        page.get_by_role("heading", name=re.compile(shipments[0].tracking_number))
    ).to_be_visible()
    expect(page.get_by_role("link", name="Carrier's tracking page ↗")).to_have_attribute(
        "href", f"https://track.example/{shipments[0].tracking_number}"
    )
    shot("logistics-05-shipment-detail")

    # A warehouse worker opens a manifest for China Post and scans the parcels.
    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "wang")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Logistics").click()
    page.get_by_role("navigation", name="Logistics").get_by_role("link", name="Manifests").click()
    page.get_by_role("link", name="New manifest").click()
    expect(page.get_by_label("Carrier")).to_be_focused()
    page.get_by_label("Carrier").select_option(label="CNPOST – China Post")
    page.get_by_label("Warehouse").select_option(label="SZ Shenzhen main")
    shot("logistics-06-manifest-new")
    page.get_by_role("button", name="Open manifest").click()

    box = page.get_by_label("Scan a China Post parcel's label")
    expect(box).to_be_focused()
    result = page.locator("#scan-result")
    expect(result).to_have_attribute("role", "status")
    weights = ["0.350", "1.050", "2.100"]  # 1, 2 and 3 mugs of 350 g
    for n, (shipment, kg) in enumerate(zip(shipments, weights, strict=True), start=1):
        box.type(shipment.tracking_number)
        box.press("Enter")
        parcels = "parcel" if n == 1 else "parcels"
        expect(result).to_have_text(f"✓ {shipment.tracking_number} added ({n} {parcels}, {kg} kg)")
        expect(box).to_have_value("")
        expect(box).to_be_focused()
        expect(page.locator("#manifest-parcels tbody tr")).to_have_count(n)
    # a wrong scan says why, in red, and adds nothing
    box.type(shipments[0].tracking_number)
    box.press("Enter")
    expect(result.locator(".scan-message.bad")).to_have_text(
        f"✗ {shipments[0].tracking_number} is already on this manifest."
    )
    expect(page.locator("#manifest-parcels tbody tr")).to_have_count(3)
    shot("logistics-07-manifest-scanned")

    # Hand over, after a confirmation that says what will happen.
    page.get_by_text("Hand over…").click()
    expect(page.locator(".handover .dropdown-panel")).to_contain_text(
        "Hand 3 parcels (2.100 kg) to the China Post driver?"
    )
    shot("logistics-08-manifest-hand-over", full_page=False)
    page.get_by_role("button", name="Hand over 3 parcels").click()
    manifest = Manifest.objects.get()
    expect(page.get_by_role("status").first).to_have_text(
        f"Manifest {manifest.number} handed over: 3 parcels shipped."
    )
    expect(page.locator("h1 .badge")).to_have_text("Handed over")
    expect(page.get_by_label("Scan a China Post parcel's label")).to_have_count(0)
    shot("logistics-09-manifest-handed-over")
    with page.expect_download() as pdf_info:
        page.get_by_role("link", name="Manifest (PDF)").click()
    (SHOTS / "logistics-manifest.pdf").write_bytes(Path(pdf_info.value.path()).read_bytes())

    # The orders are shipped and their stock has left.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    open_tab(page, "Shipped")
    expect(page.locator("#order-results tbody tr")).to_have_count(3)
    for order in orders:
        expect(
            page.locator("#order-results tbody tr").filter(has_text=order.external_id)
        ).to_contain_text("Shipped")
    shot("logistics-10-orders-shipped")
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SHIPPED}
    level = StockLevel.objects.get(sku=world["mug"])
    assert (level.on_hand, level.reserved) == (14, 0)

    # The order page shows its shipment.
    page.goto(f"{live_server.url}/orders/{orders[0].pk}/")
    panel = page.locator("section.order-shipping")
    expect(panel).to_contain_text(shipments[0].tracking_number)
    expect(panel).to_contain_text("Shipped")
    expect(page.locator("#freight-quotes")).to_contain_text("CNPOST-REG")  # loaded by htmx
    shot("logistics-11-order-detail-shipping")

    # Ten days later without a tracking event, the parcels are on the tracking page.
    Shipment.objects.update(shipped_at=timezone.now() - timedelta(days=10))
    page.goto(f"{live_server.url}/logistics/tracking/")
    expect(page.locator("#tracking-results tbody tr")).to_have_count(3)
    expect(page.locator("#tracking-results")).to_contain_text("none yet")
    shot("logistics-11b-tracking")

    # The scan page in Chinese.
    page.goto(f"{live_server.url}/logistics/manifests/{manifest.pk}/")
    page.locator("select[name=language]").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shot("logistics-12-manifest-zh")
    page.locator("select[name=language]").select_option("en")


def test_carrier_numbers_appear_on_the_list_as_the_background_purchases_finish(
    live_server, page: Page, world, shot, monkeypatch
):
    """A carrier-API channel: creating the shipments queues the waybill purchases (a worker
    buys them); the list of the new shipments fills in their numbers by itself."""
    from logistics import tasks
    from logistics.models import ShipmentStatus
    from tests.logistics.factories_ops import fpx_channel, mock_carrier
    from tests.logistics.test_waybill_queue import carrier_4px

    fpx = fpx_channel(max_weight_g=5000)
    orders = world["orders"]
    OrderChannel.objects.filter(order__in=orders).update(channel=fpx)
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.buy_waybill_task, "delay", lambda *args: queued.append(args))
    mock_carrier(monkeypatch, carrier_4px)
    log_in(page, live_server, "lin")

    ids = ",".join(str(o.pk) for o in orders)
    page.goto(f"{live_server.url}/logistics/shipments/new/?orders={ids}")
    expect(page.locator("form.create-shipments tbody tr").first).to_contain_text("4PX-SPG")
    page.get_by_role("button", name="Create 3 shipments").click()

    # The page answered before any carrier call: the numbers are being bought.
    expect(page.get_by_text("Buying tracking numbers from the carrier")).to_be_visible()
    rows = page.locator("#shipment-results tbody tr")
    expect(rows).to_have_count(3)
    for row in rows.all():
        expect(row).to_contain_text("Awaiting tracking number")
    assert len(queued) == 3
    shot("logistics-13-carrier-numbers-pending")

    for shipment_id, user_id in queued:  # the worker
        assert tasks.buy_waybill_task(shipment_id, user_id) == ShipmentStatus.LABELLED

    # No reload: the list polls and shows the numbers, then stops polling.
    for row in rows.all():
        expect(row).to_contain_text("Labelled")
        expect(row).to_contain_text(re.compile(r"4PX\d{12}CN"))
    expect(page.get_by_text("Buying tracking numbers from the carrier")).to_have_count(0)
    assert "ids=" in page.url  # still the list of the new shipments
    shot("logistics-14-carrier-numbers-in")
