"""The warehouse pages in a real Chromium: log in, switch to Chinese, find a SKU with the htmx
filter, adjust its stock from the keyboard as a scanner would, read the ledger.

Screenshots of every page, in both languages, go to /tmp/caravan-shots/ for a person to look at.
"""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from erp.models import Role
from tests.factories import (
    LocationFactory,
    SkuFactory,
    UserFactory,
    WarehouseFactory,
    ensure_roles,
)
from warehouse.models import StockMove
from warehouse.services import StockLine, stock_receive, stock_reserve

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path("/tmp/caravan-shots")
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
    """The role groups come from a data migration, and a flush by an earlier transactional
    test removes them (serialized_rollback restores them only when the database was
    serialized for this session). Recreate what post_migrate and that migration make."""
    ensure_roles()


@pytest.fixture
def world(db):
    """A clerk scoped to Shenzhen, a flagged SKU with stock, and some neighbours for the lists."""
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main")
    bins = [LocationFactory(warehouse=shenzhen, code=f"A-0{i}", pick_sequence=i) for i in (1, 2, 3)]
    la = LocationFactory(warehouse=WarehouseFactory(code="LAX", name="Los Angeles 3PL"), code="L1")
    sku = SkuFactory(
        code="PB-10000",
        name="Power bank 10000 mAh",
        name_zh="充电宝 10000毫安",
        barcode="6901234567892",
        has_battery=True,
        is_magnetic=True,
        weight_g=230,
        low_stock_threshold=20,
    )
    stock_receive(
        sku=sku, location=bins[0], quantity=10, unit_cost=Decimal("35.5"), reference="PO-1"
    )
    stock_receive(sku=sku, location=la, quantity=500, unit_cost=Decimal("35.5"))
    stock_reserve(warehouse=shenzhen, lines=[StockLine(sku, 2)], reference="order_line:9")
    for i, (name, name_zh) in enumerate(
        [
            ("Silicone phone case", "硅胶手机壳"),
            ("Stainless steel mug 500 ml", "不锈钢保温杯 500毫升"),
            ("Essential oil diffuser", "香薰加湿器"),
            ("Neodymium fridge magnets (12 pcs)", "强力冰箱贴 12个装"),
        ]
    ):
        other = SkuFactory(
            code=f"SK-{i + 1:03d}",
            name=name,
            name_zh=name_zh,
            barcode=f"69000000000{i + 1:02d}",
            is_liquid=i == 2,
            is_magnetic=i == 3,
        )
        stock_receive(sku=other, location=bins[i % 3], quantity=40 + i, unit_cost=Decimal("8.2"))
    clerk = UserFactory(
        username="mei", display_name="Mei Lin", roles=[Role.WAREHOUSE], warehouses=[shenzhen]
    )
    clerk.set_password(PASSWORD)
    clerk.save()
    return {"sku": sku, "bin": bins[0], "clerk": clerk}


def test_login_switch_to_chinese_find_sku_adjust_by_keyboard_and_read_ledger(
    live_server, page: Page, world, shot
):
    sku = world["sku"]
    page.goto(f"{live_server.url}/accounts/login/")
    shot("01-login-en")

    # Log in from the keyboard.
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    shot("02-dashboard-en")

    # The language switch in the top bar.
    page.locator("select[name=language]").select_option("zh-hans")
    expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shot("03-dashboard-zh")

    # The SKU list, in Chinese.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="仓库").click()
    expect(page.get_by_role("heading", name="SKU", exact=True)).to_be_visible()
    for text in ("搜索", "中文名称", "在库", "可用", "带电", "充电宝 10000毫安"):
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    shot("04-sku-list-zh")

    # Filter with htmx: the results change, the page does not reload, the URL follows.
    page.evaluate("window.__noReload = true")
    search = page.get_by_placeholder("编码、条码或名称")
    search.fill("6901234567892")  # scanned barcode
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"q=6901234567892"))
    rows = page.locator("#sku-results tbody tr")
    expect(rows).to_have_count(1)
    assert page.evaluate("window.__noReload") is True
    # the scoped total: 10 in Shenzhen, never the 500 in Los Angeles
    expect(rows.first.locator("td.num").nth(2)).to_have_text("10")
    shot("05-sku-list-filtered-zh")

    # Open the SKU.
    rows.first.get_by_role("link", name=sku.code).click()
    expect(page.get_by_role("heading", name=re.compile(sku.code))).to_be_visible()
    expect(page.get_by_text("各库位库存")).to_be_visible()
    expect(page.get_by_text("LAX")).to_have_count(0)
    shot("06-sku-detail-zh")

    # Adjust from the bin row: bin and SKU come prefilled, the quantity has the focus.
    page.locator("td.row-actions").get_by_role("link", name="调整").click()
    expect(page.get_by_role("heading", name="库存调整")).to_be_visible()
    expect(page.locator("input[name=quantity]")).to_be_focused()
    # Scan the SKU again as a keyboard-wedge scanner does: digits, then Enter.
    page.keyboard.press("Shift+Tab")
    expect(page.locator("input[name=sku]")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("6901234567892")
    page.keyboard.press("Enter")  # moves on to the quantity instead of submitting
    expect(page.locator("input[name=quantity]")).to_be_focused()
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator("input[name=reason]")).to_be_focused()
    page.keyboard.type("盘点多出")
    shot("07-adjust-filled-zh")
    page.keyboard.press("Enter")

    # The ledger, newest first, with the new bin balance and a success message.
    expect(page).to_have_url(re.compile(rf"/warehouse/skus/{sku.pk}/ledger/$"))
    expect(page.get_by_role("status")).to_have_text(
        f"已将 SZ / A-01 的 {sku.code} 调整 +5；该库位现有 15。"
    )
    first = page.locator("#ledger-results tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("调整")
    expect(first.locator("td").nth(3)).to_have_text("+5")
    expect(first.locator("td").nth(4)).to_have_text("15")
    expect(first.locator("td").nth(7)).to_have_text("盘点多出")
    expect(first.locator("td").nth(8)).to_have_text("Mei Lin")
    shot("08-ledger-zh")
    move = StockMove.objects.latest("pk")
    assert (move.quantity, move.balance_after, move.note, move.user) == (
        5,
        15,
        "盘点多出",
        world["clerk"],
    )

    # A refused adjustment keeps the form, says why, and writes nothing.
    moves_before = StockMove.objects.count()
    page.goto(
        f"{live_server.url}/warehouse/stock/adjust/?sku={sku.code}&location={world['bin'].pk}"
    )
    page.keyboard.type("-100")
    page.keyboard.press("Enter")
    page.keyboard.type("破损")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("库存不足")
    shot("09-adjust-error-zh")
    assert StockMove.objects.count() == moves_before

    # The stock overview in Chinese, then everything once more in English.
    page.goto(f"{live_server.url}/warehouse/stock/")
    expect(page.get_by_role("columnheader", name="已预占")).to_be_visible()
    shot("10-stock-zh")
    page.locator("select[name=language]").select_option("en")
    expect(page.get_by_role("columnheader", name="Reserved")).to_be_visible()
    shot("11-stock-en")
    page.goto(f"{live_server.url}/warehouse/skus/")
    shot("12-sku-list-en")
    page.goto(f"{live_server.url}/warehouse/skus/{sku.pk}/")
    shot("13-sku-detail-en")
    page.goto(f"{live_server.url}/warehouse/skus/{sku.pk}/ledger/")
    expect(page.locator("#ledger-results tbody tr").first.locator("td").nth(4)).to_have_text("15")
    shot("14-ledger-en")
    page.goto(f"{live_server.url}/warehouse/stock/adjust/")
    # the bin of the last adjustment is remembered, so the SKU field waits for the next scan
    expect(page.locator("select[name=location]")).to_have_value(str(world["bin"].pk))
    expect(page.locator("input[name=sku]")).to_be_focused()
    shot("15-adjust-en")
    page.goto(f"{live_server.url}/modules/orders/")
    shot("16-orders-pending-en")

    # Log out is a POST from the user menu.
    page.locator("details.usermenu summary").click()
    shot("17-user-menu-en")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Caravan")).to_be_visible()


def test_catalog_pages_for_an_operator_form_errors_import_and_paging(
    live_server, page: Page, shot, tmp_path
):
    operator = UserFactory(username="li", display_name="Li Wei", roles=[Role.ADMIN])
    operator.set_password(PASSWORD)
    operator.save()
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen main")
    bin_ = LocationFactory(warehouse=shenzhen, code="B-01")
    for i in range(62):
        sku = SkuFactory(code=f"CASE-{i:03d}", has_battery=i % 7 == 0, is_liquid=i % 11 == 0)
        stock_receive(sku=sku, location=bin_, quantity=1000 + i, unit_cost=Decimal("1234.5"))

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("select[name=language]").select_option("zh-hans")  # before logging in
    expect(page.get_by_role("heading", name="登录 Caravan")).to_be_visible()
    shot("20-login-zh")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()

    # 62 SKUs: two pages; the pager keeps the filter.
    page.goto(f"{live_server.url}/warehouse/skus/")
    expect(page.locator("#sku-results tbody tr")).to_have_count(50)
    expect(page.get_by_text("共 62 行 · 第 1 / 2 页")).to_be_visible()
    expect(page.locator("#sku-results tbody tr").first.locator("td.num").nth(2)).to_have_text(
        "1,000"
    )
    shot("21-sku-list-paged-zh")
    page.mouse.wheel(0, 900)  # the header row stays in view while scrolling
    expect(page.get_by_role("columnheader", name="可用")).to_be_in_viewport()
    shot("21b-sku-list-scrolled-zh", full_page=False)
    page.mouse.wheel(0, -2000)
    page.get_by_role("combobox", name="带电").select_option("true")  # htmx on change
    expect(page).to_have_url(re.compile(r"has_battery=true"))
    expect(page.locator("#sku-results tbody tr")).to_have_count(9)
    page.get_by_role("link", name="SKU 编码").click()  # sort by code, descending
    expect(page.locator("#sku-results tbody tr").first.locator("td").first).to_have_text("CASE-056")
    expect(page).to_have_url(re.compile(r"has_battery=true.*ordering=-code"))

    # New SKU: errors are shown at their fields.
    page.goto(f"{live_server.url}/warehouse/skus/new/")
    page.get_by_label("SKU 编码").fill("CASE-001")
    page.get_by_role("button", name="创建 SKU").click()
    expect(page.get_by_role("alert")).to_contain_text("请修改下面标出的字段")
    shot("22-sku-form-errors-zh")
    page.get_by_label("SKU 编码").fill("LAMP-1")
    page.get_by_label("名称", exact=True).fill("Desk lamp")
    page.get_by_label("中文名称", exact=True).fill("台灯")
    page.get_by_label("带电").check()
    page.get_by_role("button", name="创建 SKU").click()
    expect(page.get_by_role("status")).to_have_text("SKU LAMP-1 已创建。")
    shot("23-sku-created-zh")

    # Import: a file with a bad row is refused with the row, column and reason.
    bad = tmp_path / "skus.csv"
    bad.write_text("SKU编码,名称,重量(g)\nNEW-1,Fan,120\nNEW-2,Cup,heavy\n", encoding="utf-8")
    page.goto(f"{live_server.url}/warehouse/skus/import/")
    page.get_by_label("文件").set_input_files(str(bad))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("alert")).to_contain_text("未导入任何数据")
    expect(page.locator("#import-result tbody tr")).to_have_count(1)
    shot("24-import-errors-zh")
    bad.write_text("SKU编码,名称,重量(g)\nNEW-1,Fan,120\nNEW-2,Cup,80\n", encoding="utf-8")
    page.get_by_label("文件").set_input_files(str(bad))
    page.get_by_role("button", name="导入").click()
    expect(page.locator(".result-figures")).to_contain_text("新建")
    shot("25-import-done-zh")
    page.locator("select[name=language]").select_option("en")
    shot("26-import-en")
    page.goto(f"{live_server.url}/warehouse/skus/new/")
    shot("27-sku-form-en")
