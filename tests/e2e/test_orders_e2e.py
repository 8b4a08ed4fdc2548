"""The order pages in a real Chromium: an order held for an unpaired platform SKU is found on
the On hold tab, paired on the pairing page (it moves to New), approved and allocated with the
list's bulk actions, and shows its reservation on the order page.

Screenshots go to /tmp/shots/ for a person to look at.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from erp.models import Role
from orders.models import Order, OrderStatus, Tag
from orders.normalized import NormalizedAddress
from orders.services import orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    ensure_roles,
    normalized_order,
)
from warehouse.models import Reservation
from warehouse.services import stock_receive

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path("/tmp/shots")
PASSWORD = "pass-Word-123"


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
    ensure_roles()  # a flush by an earlier transactional test removes the role groups


@pytest.fixture
def world(db):
    """A store with a dozen orders in different states; one held for an unpaired SKU."""
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main")
    store = StoreFactory(
        platform="amazon", code="amz-us", name="Amazon US", default_warehouse=shenzhen
    )
    mug = SkuFactory(code="MUG-BLK", name="Black mug 350 ml")
    SkuFactory(code="MUG-WHT", name="White mug 350 ml")
    SkuFactory(code="LAMP-01", name="Desk lamp")
    stock_receive(
        sku=mug,
        location=LocationFactory(warehouse=shenzhen, code="A-01"),
        quantity=20,
        unit_cost=Decimal("3.2"),
    )
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    buyers = [
        ("Ann Example", "US", "Springfield"),
        ("Bruno Weiss", "DE", "Berlin"),
        ("Chloé Martin", "FR", "Lyon"),
        ("Dana Lee", "US", "Austin"),
        ("Erik Olsen", "GB", "Leeds"),
    ]
    orders = [
        normalized_order(
            f"114-{3000 + i}",
            [("MUG-BLK", 1 + i % 3, "12.99")] + ([("MUG-WHT", 1, "12.99")] if i % 2 else []),
            purchased_at=start + timedelta(hours=i * 5),
            address=NormalizedAddress(
                name=buyers[i % 5][0],
                address1=f"{i + 1} Market St",
                city=buyers[i % 5][2],
                postcode="10001",
                country=buyers[i % 5][1],
            ),
        )
        for i in range(9)
    ]
    orders.append(
        normalized_order(
            "114-9001",
            [("AMZ-MUG-BLACK", 2, "11.50")],
            purchased_at=start + timedelta(days=3),
        )
    )
    orders_upsert(store=store, orders=orders, source="api")
    for i in range(9):  # the factory's buyer is always Ann
        Order.objects.filter(external_id=f"114-{3000 + i}").update(
            buyer_name=buyers[i % 5][0], buyer_email=""
        )
    approved = list(Order.objects.filter(external_id__in=["114-3000", "114-3001"]))
    Order.objects.filter(pk__in=[o.pk for o in approved]).update(status=OrderStatus.APPROVED)
    Order.objects.filter(external_id="114-3002").update(
        exception="The buyer changed the address after the label was bought."
    )
    gift = Tag.objects.create(name="Gift", color="#d97706")
    Order.objects.get(external_id="114-3004").tags.add(gift)
    staff = UserFactory(username="lin", display_name="Lin Ops", roles=[Role.OPERATIONS])
    staff.set_password(PASSWORD)
    staff.save()
    return {"store": store, "mug": mug, "held": Order.objects.get(external_id="114-9001")}


def open_tab(page: Page, name: str) -> None:
    """Click a status tab and wait until its results have replaced the old ones: a row of the
    previous tab may be the same order, and a box ticked before the swap would be lost."""
    tab(page, name).click()
    expect(tab(page, name)).to_have_attribute("aria-current", "page")
    expect(page.locator("#order-results")).not_to_have_class(re.compile(r"htmx-request"))


def row(page: Page, external_id: str):
    return page.locator("#order-results tbody tr").filter(has_text=external_id)


def tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Order status").get_by_role(
        "link", name=re.compile(rf"^{name}\b")
    )


def test_pair_an_unpaired_sku_then_approve_and_allocate_from_the_list(
    live_server, page: Page, world, shot
):
    held = world["held"]
    assert (held.status, held.hold_reason) == (OrderStatus.ON_HOLD, "unpaired_sku")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # The main menu leads to the order list; the search box has the focus.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    expect(page.locator("input[name=q]")).to_be_focused()
    expect(tab(page, "On hold")).to_have_text(re.compile(r"^On hold\s+1$"))
    expect(tab(page, "New")).to_have_text(re.compile(r"^New\s+7$"))
    expect(tab(page, "Approved")).to_have_text(re.compile(r"^Approved\s+2$"))
    expect(tab(page, "Exceptions")).to_have_text(re.compile(r"^Exceptions\s+1$"))
    expect(page.locator("#order-results tbody tr")).to_have_count(10)
    shot("01-order-list")

    # The On hold tab (htmx): the held order with its reason, the URL follows.
    page.evaluate("window.__noReload = true")
    open_tab(page, "On hold")
    expect(page).to_have_url(re.compile(r"status=on_hold"))
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(row(page, "114-9001")).to_contain_text("Unpaired SKU")
    expect(row(page, "114-9001")).to_contain_text("AMZ-MUG-BLACK × 2")
    assert page.evaluate("window.__noReload") is True
    shot("02-order-list-on-hold")

    # The order page says why it waits and links to pairing.
    row(page, "114-9001").get_by_role("link", name="114-9001").click()
    expect(page.get_by_role("heading", name=re.compile("114-9001"))).to_be_visible()
    expect(page.locator(".alert.hold")).to_contain_text("Unpaired SKU")
    shot("03-order-detail-held")
    page.get_by_role("link", name="Pair", exact=True).click()

    # Pairing: type our SKU code and press Enter.
    expect(page.get_by_role("heading", name="Pair platform SKUs")).to_be_visible()
    pair_row = page.locator("#pairing-results tbody tr").filter(has_text="AMZ-MUG-BLACK")
    expect(pair_row).to_contain_text("amz-us")
    sku_input = pair_row.get_by_label("Our SKU for AMZ-MUG-BLACK")
    sku_input.fill("MUG-BLK")
    shot("04-pairing-filled")
    sku_input.press("Enter")
    expect(page.get_by_role("status").first).to_have_text(
        "AMZ-MUG-BLACK paired to MUG-BLK × 1 (amz-us). 1 held order released."
    )
    held.refresh_from_db()
    assert held.status == OrderStatus.NEW
    shot("05-pairing-done")

    # Back on the list, the order is in New; approve it with the bulk bar.
    page.get_by_role("navigation", name="Orders").get_by_role("link", name="Orders").click()
    open_tab(page, "New")
    expect(page).to_have_url(re.compile(r"status=new"))
    expect(tab(page, "On hold")).to_have_text(re.compile(r"^On hold\s+0$"))
    expect(tab(page, "New")).to_have_text(re.compile(r"^New\s+8$"))
    row(page, "114-9001").get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_have_text("1 order approved.")
    expect(page).to_have_url(re.compile(r"status=new"))  # back where the action was taken
    expect(row(page, "114-9001")).to_have_count(0)

    # The Approved tab; allocate it: 2 mugs are in stock.
    open_tab(page, "Approved")
    expect(row(page, "114-9001")).to_be_visible()
    row(page, "114-9001").get_by_role("checkbox").check()
    shot("06-order-list-approved-ticked")
    page.get_by_role("button", name="Allocate").click()
    expect(page.get_by_role("status").first).to_have_text("1 order allocated.")
    open_tab(page, "Allocated")
    expect(page).to_have_url(re.compile(r"status=allocated"))
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(row(page, "114-9001")).to_contain_text("Allocated")
    expect(row(page, "114-9001")).to_contain_text("SZ")
    shot("07-order-list-allocated")
    # Another filter keeps the open tab.
    page.locator("select[name=platform]").select_option("amazon")
    expect(page).to_have_url(re.compile(r"status=allocated.*platform=amazon"))
    expect(page.locator("#order-results tbody tr")).to_have_count(1)

    # The order page: the reservation and the timeline.
    row(page, "114-9001").get_by_role("link", name="114-9001").click()
    expect(
        page.locator("section").filter(has_text="Reserved stock").locator("tbody tr")
    ).to_have_text(re.compile(r"SZ\s*A-01\s*MUG-BLK\s*2"))
    expect(page.locator(".timeline .event")).to_have_count(5)
    expect(page.locator(".timeline")).to_contain_text("Lin Ops")
    shot("08-order-detail-allocated")
    reservation = Reservation.objects.get(reference=f"order:{held.pk}")
    assert reservation.quantity == 2

    # A hold from the keyboard: the note field's Enter holds (it never approves).
    page.locator("summary", has_text="Hold…").click()
    page.get_by_label("Why held").fill("Buyer asked to wait")
    shot("09-order-detail-hold-open", full_page=False)
    page.get_by_label("Why held").press("Enter")
    expect(page.get_by_role("status").first).to_have_text("1 order held.")
    held.refresh_from_db()
    assert (held.status, held.hold_note) == (OrderStatus.ON_HOLD, "Buyer asked to wait")
    assert not Reservation.objects.filter(reference=f"order:{held.pk}").exists()

    # Split one of the two units off, from the keyboard: the first quantity has the focus.
    page.get_by_role("link", name="Split").first.click()
    expect(page.get_by_role("heading", name="Split the order")).to_be_visible()
    page.keyboard.type("1")
    shot("10-order-split")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_have_text("Split off 114-9001-2 from 114-9001.")
    expect(page.get_by_role("heading", name=re.compile("114-9001-2"))).to_be_visible()

    # The address form: the edit goes into the timeline, marked as edited.
    page.get_by_role("link", name="Edit address").first.click()
    expect(page.get_by_label("Recipient")).to_be_focused()
    page.get_by_label("Address line 2").fill("Apt 4B")
    shot("11-order-address")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status").first).to_have_text("Address saved.")
    expect(page.locator(".badge.edited")).to_have_text("edited")
    expect(page.locator(".timeline .changes")).to_contain_text("Address line 2: — → Apt 4B")
    shot("12-order-detail-split-edited")

    page.goto(f"{live_server.url}/orders/pairing/done/")
    expect(page.locator("tbody tr")).to_have_count(1)
    shot("13-pairings")


def test_rules_blocklist_and_chinese_list(live_server, page: Page, world, shot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # A hold rule without its reason is a form error; the reason field shows for hold only.
    page.goto(f"{live_server.url}/orders/rules/new/")
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_label("Name").fill("Hold big orders")
    page.get_by_label("Order value at least").fill("200")
    page.get_by_label("Action").select_option("set_warehouse")
    expect(page.get_by_label("Hold reason")).to_be_hidden()
    expect(page.get_by_label("Warehouse")).to_be_visible()
    page.get_by_label("Action").select_option("hold")
    expect(page.get_by_label("Hold reason")).to_be_visible()
    expect(page.get_by_label("Warehouse")).to_be_hidden()
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("A hold needs its reason.")).to_be_visible()
    shot("20-rule-form-error")
    page.get_by_label("Hold reason").select_option("value_over_limit")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("status").first).to_have_text("Rule “Hold big orders” created.")
    shot("21-rule-list")

    page.goto(f"{live_server.url}/orders/blocklist/")
    page.get_by_label("Buyer e-mail or name").fill("fraud@example.com")
    page.get_by_label("Reason").fill("Chargebacks")
    page.get_by_role("button", name="Block buyer").click()
    expect(page.get_by_role("status").first).to_have_text("fraud@example.com is on the blocklist.")
    shot("22-blocklist")

    page.goto(f"{live_server.url}/orders/")
    page.locator("select[name=language]").select_option("zh-hans")
    expect(page.get_by_role("heading", name="订单", exact=True)).to_be_visible()
    shot("23-order-list-zh")
    page.goto(f"{live_server.url}/orders/{world['held'].pk}/")
    shot("24-order-detail-zh")
    page.goto(f"{live_server.url}/orders/pairing/")
    shot("25-pairing-zh")
    page.locator("select[name=language]").select_option("en")


def test_import_a_file_then_pair_approve_and_allocate(live_server, page: Page, db, shot, tmp_path):
    """The issue's path: a staff user imports a report file, pairs the SKU it names, approves
    and allocates the order, and sees it move from tab to tab."""
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main")
    StoreFactory(platform="shopify", code="shop-eu", name="Shop EU", default_warehouse=shenzhen)
    mug = SkuFactory(code="MUG-BLK", name="Black mug 350 ml")
    stock_receive(
        sku=mug,
        location=LocationFactory(warehouse=shenzhen, code="A-01"),
        quantity=5,
        unit_cost=Decimal("3.2"),
    )
    staff = UserFactory(username="mei", display_name="Mei Ops", roles=[Role.OPERATIONS])
    staff.set_password(PASSWORD)
    staff.save()
    report = tmp_path / "orders.csv"
    report.write_text(
        "order_id,purchased_at,currency,buyer_name,ship_name,ship_address1,ship_city,"
        "ship_postcode,ship_country,platform_sku,title,quantity,unit_price\n"
        "EU-5001,2026-11-02 09:30:00,EUR,Lena Müller,Lena Müller,Friedrichstraße 123,Berlin,"
        "10117,DE,SHOP-MUG-BLACK,Black mug,2,12.90\n",
        encoding="utf-8",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"{live_server.url}/orders/import/")
    page.get_by_label("Store").select_option("shop-eu")
    page.get_by_label("File").set_input_files(str(report))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-summary")).to_have_text("created=1 updated=0 unchanged=0 failed=0")
    shot("10-import-result")

    # The imported order waits on the On hold tab: its platform SKU is not paired yet.
    page.get_by_role("navigation", name="Orders").get_by_role("link", name="Orders").click()
    expect(tab(page, "On hold")).to_have_text(re.compile(r"^On hold\s+1$"))
    open_tab(page, "On hold")
    expect(row(page, "EU-5001")).to_contain_text("Unpaired SKU")

    # Pair it: the order is released to New.
    page.get_by_role("navigation", name="Orders").get_by_role("link", name="Pairing").click()
    pair_row = page.locator("#pairing-results tbody tr").filter(has_text="SHOP-MUG-BLACK")
    pair_row.get_by_label("Our SKU for SHOP-MUG-BLACK").fill("MUG-BLK")
    pair_row.get_by_label("Our SKU for SHOP-MUG-BLACK").press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("1 held order released.")

    # New → approve → Approved → allocate → Allocated.
    page.get_by_role("navigation", name="Orders").get_by_role("link", name="Orders").click()
    open_tab(page, "New")
    expect(tab(page, "New")).to_have_text(re.compile(r"^New\s+1$"))
    row(page, "EU-5001").get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_have_text("1 order approved.")
    expect(tab(page, "Approved")).to_have_text(re.compile(r"^Approved\s+1$"))
    open_tab(page, "Approved")
    row(page, "EU-5001").get_by_role("checkbox").check()
    page.get_by_role("button", name="Allocate").click()
    expect(page.get_by_role("status").first).to_have_text("1 order allocated.")
    expect(tab(page, "Allocated")).to_have_text(re.compile(r"^Allocated\s+1$"))
    expect(tab(page, "Approved")).to_have_text(re.compile(r"^Approved\s+0$"))
    open_tab(page, "Allocated")
    expect(row(page, "EU-5001")).to_contain_text("SZ")
    # the tabs swapped in with the results load their counts again
    expect(tab(page, "Allocated")).to_have_text(re.compile(r"^Allocated\s+1$"))
    expect(tab(page, "Shipped")).to_have_text(re.compile(r"^Shipped\s+0$"))
    shot("11-imported-order-allocated")
    order = Order.objects.get(external_id="EU-5001")
    assert order.status == OrderStatus.ALLOCATED
    assert Reservation.objects.get(reference=order.reference).quantity == 2
