"""Buying from 1688 in a real Chromium: a purchaser ticks a restock suggestion, creates the
draft purchase order, places it on 1688 — a local stand-in of the gateway (the FakeGateway
behind a real HTTP server on 127.0.0.1, the account's API base URL pointing at it) — and
syncs it when the supplier ships; a warehouse worker scans the carton's tracking number on
the receiving page, scans a bin, types the quantities, and the stock is on hand.

Screenshots go to /tmp/shots/ for a person to look at.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from erp.models import Company, Role
from purchasing.models import PurchaseOrder, PurchaseOrderStatus
from tests.factories import LocationFactory, UserFactory, WarehouseFactory, ensure_roles
from tests.purchasing.factories import SZ_ADDRESS, SupplierFactory, account_for, black_cup_offer
from tests.purchasing.fake_gateway import FakeGateway
from warehouse.models import StockLevel, StockMove

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path("/tmp/shots")
PASSWORD = "pass-Word-123"


class GatewayStandIn:
    """The FakeGateway served over real HTTP on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, gateway: FakeGateway):
        self.gateway = gateway
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = httpx.Request(
                    "POST",
                    f"http://127.0.0.1:{stand_in.port}{self.path}",
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                    content=body,
                )
                with stand_in.lock:
                    response = stand_in.gateway(request)
                content = response.read()
                self.send_response(response.status_code)
                self.send_header("Content-Type", response.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                """Quiet: the test output is not the place for request lines."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openapi"

    def __enter__(self) -> GatewayStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def shot(page: Page):
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    return take


@pytest.fixture(autouse=True)
def roles(transactional_db):
    ensure_roles()


@pytest.fixture
def stand_in():
    with GatewayStandIn(FakeGateway.seeded(now=timezone.now())) as running:
        yield running


def ago(days: int) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=days), time(12))
    )


def sold_every_day(sku, location, *, per_day: int, left: int) -> None:
    """Received 35 days ago, ``per_day`` shipped on each of the last 30 days, ``left`` left."""
    level = StockLevel.objects.create(sku=sku, location=location, on_hand=per_day * 30 + left)
    moves = [
        StockMove(
            sku=sku,
            location=location,
            quantity=level.on_hand,
            balance_after=level.on_hand,
            kind=StockMove.Kind.RECEIPT,
            unit_cost=Decimal("16.80"),
            at=ago(35),
        )
    ]
    for n in range(30, 0, -1):
        moves.append(
            StockMove(
                sku=sku,
                location=location,
                quantity=-per_day,
                balance_after=left + per_day * (n - 1),
                kind=StockMove.Kind.SHIPMENT,
                at=ago(n),
            )
        )
    StockMove.objects.bulk_create(moves)
    level.on_hand = left
    level.save(update_fields=["on_hand"])


@pytest.fixture
def world(stand_in):
    Company.objects.create(
        name="深圳驼队电商有限公司", name_en="Caravan Trading Ltd.", phone="0755-2660 0000"
    )
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main", address=SZ_ADDRESS)
    pick = LocationFactory(warehouse=shenzhen, code="A-01", pick_sequence=10)
    LocationFactory(warehouse=shenzhen, code="R-01", pick_sequence=1)
    account = account_for(stand_in.gateway, name="Caravan buyer", api_base_url=stand_in.base_url)
    supplier = SupplierFactory(
        code="YK-CUPS",
        name="永康杯业工厂店",
        login_id="永康杯业工厂店",
        contact_name="李经理",
        phone="13900000000",
        account=account,
        lead_days=3,
    )
    offer = black_cup_offer(supplier, spec_name="黑色 / 500ml")
    sold_every_day(offer.sku, pick, per_day=4, left=6)
    for username, name, role in (
        ("chen", "Chen Buyer", Role.PURCHASING),
        ("wang", "Wang Li", Role.WAREHOUSE),
    ):
        user = UserFactory(username=username, display_name=name, roles=[role])
        user.set_password(PASSWORD)
        user.save()
    return {"cup": offer.sku, "supplier": supplier}


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def log_out(page: Page) -> None:
    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="Log out").click()


def test_from_a_suggestion_to_stock_on_hand(live_server, page: Page, world, stand_in, shot):
    gateway = stand_in.gateway
    log_in(page, live_server, "chen")

    # Purchasing → Restock: the cup sells 4 a day and 6 are left.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Purchasing").click()
    expect(page.get_by_role("heading", name="Purchase orders")).to_be_visible()
    page.get_by_role("navigation", name="Purchasing").get_by_role("link", name="Restock").click()
    row = page.locator("#restock-results tbody tr").filter(has_text="CUP-BLK")
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    shot("purchasing-01-restock-ticked")
    page.get_by_role("button", name="Create draft purchase orders").click()

    # The draft, from the link in the message.
    expect(page.get_by_role("status").first).to_contain_text("Created 1 draft purchase order")
    po = PurchaseOrder.objects.get()
    page.get_by_role("status").first.get_by_role("link", name=po.number).click()
    expect(page.get_by_role("heading", name=re.compile(po.number))).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    quantity = po.lines.get().quantity
    shot("purchasing-02-draft")

    # Place it on 1688: the stand-in previews, then creates one order named by the PO number.
    page.get_by_role("button", name="Place on 1688").click()
    expect(page.locator("h1 .badge")).to_have_text("Ordered")
    po.refresh_from_db()
    assert [t["baseInfo"]["outOrderId"] for t in gateway.orders.values()] == [po.number]
    assert po.platform_order_id == "3000000000000000001"
    expect(page.get_by_role("status").first).to_contain_text(
        f"{po.number} placed on 1688: order {po.platform_order_id}"
    )
    expect(page.locator("section.panel").filter(has_text="1688 order id")).to_contain_text(
        "waitbuyerpay"
    )
    shot("purchasing-03-placed-on-1688")

    # We pay on 1688 and the factory ships; "Sync with 1688 now" reads it back.
    gateway.pay(po.platform_order_id)
    gateway.ship(po.platform_order_id, company="中通快递", bill_no="ZT7700112233", steps=[])
    page.get_by_role("button", name="Sync with 1688 now").click()
    expect(page.locator("h1 .badge")).to_have_text("Shipped by supplier")
    expect(page.get_by_text("ZT7700112233")).to_be_visible()
    shot("purchasing-04-synced-shipped")

    # The list finds it by its tracking number; the supplier's page lists its offers.
    page.get_by_role("navigation", name="Purchasing").get_by_role(
        "link", name="Purchase orders"
    ).click()
    page.get_by_label("Search").fill("ZT7700")
    page.get_by_label("Search").press("Enter")
    expect(page.locator("#po-results tbody tr")).to_have_count(1)
    expect(page.locator("#po-results tbody tr")).to_contain_text(po.number)
    shot("purchasing-04b-po-list")
    page.get_by_role("navigation", name="Purchasing").get_by_role("link", name="Suppliers").click()
    page.get_by_role("link", name="YK-CUPS").click()
    expect(page.locator("main")).to_contain_text("黑色 / 500ml")
    shot("purchasing-04c-supplier")

    # A second order by hand: the tier price shows as the quantity is typed.
    page.get_by_role("link", name="New purchase order").click()
    page.locator("#sku-new-1").fill("CUP-BLK")
    page.locator("#qty-new-1").fill("10")
    page.locator("#qty-new-1").press("Tab")
    expect(page.locator("tbody tr").first.locator(".tier")).to_contain_text("16.80")
    shot("purchasing-04d-new-po-form")
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator("h1 .badge")).to_have_text("Draft")
    pdf = page.request.get(page.url + "po.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    (SHOTS / "purchasing-po.pdf").write_bytes(pdf.body())
    log_out(page)

    # The carton arrives: the warehouse scans its tracking number, then a bin.
    log_in(page, live_server, "wang")
    page.goto(f"{live_server.url}/purchasing/receive/")
    search = page.get_by_label(re.compile("Scan or type the PO number"))
    expect(search).to_be_focused()
    search.type("ZT7700112233")
    search.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(po.number))).to_be_visible()
    bin_box = page.get_by_label(re.compile("Bin for every line"))
    expect(bin_box).to_be_focused()
    bin_box.type("A-01")
    bin_box.press("Enter")
    line = po.lines.get()
    accepted = page.get_by_label(f"Accepted {world['cup'].code}")
    expect(accepted).to_be_focused()
    expect(page.get_by_label(f"Bin {world['cup'].code}")).to_have_value("A-01")
    accepted.type(str(quantity - 2))
    accepted.press("Enter")  # on to the line's bin
    expect(page.get_by_label(f"Bin {world['cup'].code}")).to_be_focused()
    page.locator("details.qc summary").click()
    page.get_by_label(f"Rejected {world['cup'].code}").fill("2")
    page.get_by_label(f"Reject reason {world['cup'].code}").fill("盖子划伤 lid scratched")
    shot("purchasing-05-receiving")
    page.get_by_role("button", name="Receive into stock").click()

    # Received: the order is complete, the stock is on hand in A-01.
    expect(page.locator("h1 .badge")).to_have_text("Received")
    expect(page.get_by_role("status").first).to_contain_text(
        f"{quantity - 2} units into stock, 2 rejected"
    )
    shot("purchasing-06-received")
    level = StockLevel.objects.get(sku=world["cup"], location__code="A-01")
    assert level.on_hand == 6 + quantity - 2
    assert po.lines.get().rejected_qty == 2
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.RECEIVED

    page.get_by_role("link", name=world["cup"].code).first.click()
    expect(page.get_by_role("heading", name=re.compile(world["cup"].code))).to_be_visible()
    expect(page.locator("main")).to_contain_text("A-01")
    expect(page.locator("main")).to_contain_text(str(6 + quantity - 2))
    shot("purchasing-07-stock-on-hand")
    assert line.pk  # the one line was received

    # What is owed to the factory: the goods accepted and the freight.
    log_out(page)
    log_in(page, live_server, "chen")
    page.goto(f"{live_server.url}/purchasing/payables/")
    owed = page.locator("table.payables tbody tr").filter(has_text="YK-CUPS")
    expect(owed).to_contain_text(f"{(quantity - 2) * Decimal(po.lines.get().unit_price) + 18:,.2f}")
    shot("purchasing-08-payables")
