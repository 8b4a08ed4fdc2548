"""Order imports from report files: each format parsed into the normalised shape, bad rows
named by row and column, good orders kept and bad ones rejected whole, files refused whole,
re-imports unchanged. The command, API and page: ``test_import_endpoints.py``."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation

from orders.imports import (
    OrderImportError,
    OrderImportResult,
    RowError,
    detect_format,
    order_import,
    parse_order_file,
)
from orders.imports.template import COLUMNS, order_template_file, template_header
from orders.models import Order, OrderSource, Platform
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PlatformStatus,
)
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orders"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier page test left active
    (the locale middleware activates it for the thread and nothing resets it)."""
    with translation.override("en"):
        yield


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, store, fmt: str | None = None):
    found, parsed = parse_order_file(store=store, data=fixture(name), filename=name, format=fmt)
    return found, parsed, {order.external_id: order for order in parsed.orders}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def amazon(db):
    return StoreFactory(code="amz-us", platform=Platform.AMAZON, currency="USD")


@pytest.fixture
def shopify(db):
    return StoreFactory(code="shop", platform=Platform.SHOPIFY, currency="USD")


@pytest.fixture
def ebay(db):
    return StoreFactory(code="ebay-us", platform=Platform.EBAY, currency="USD")


@pytest.fixture
def manual(db):
    return StoreFactory(code="manual", platform=Platform.MANUAL, currency="CNY")


@pytest.fixture(autouse=True)
def shanghai(settings):
    """eBay and template times without a zone are read in the company's zone."""
    settings.TIME_ZONE = "Asia/Shanghai"


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("name", "index", "expected"),
    [
        ("amazon_all_orders.tsv", 0, "amazon"),
        ("amazon_all_orders_extra_columns.tsv", 0, "amazon"),
        ("shopify_orders_bom.csv", 0, "shopify"),
        ("ebay_orders.csv", 1, "ebay"),
        ("template_gb18030.csv", 0, "template"),
        ("template_bad_rows.csv", 0, "template"),
    ],
)
def test_detect_format_from_the_header_row(name, index, expected):
    from erp.tabular import read_table

    header = read_table(fixture(name), name, max_rows=100).rows[index][1]

    assert detect_format(header) == expected


def test_detect_format_refuses_an_unknown_header():
    with pytest.raises(OrderImportError, match="are not those of an Amazon All Orders report"):
        detect_format(["order", "item", "qty"])


# ------------------------------------------------------------------------------ Amazon


def test_amazon_report_rows_become_orders_with_line_totals_split_into_unit_prices(amazon):
    found, parsed, orders = parse("amazon_all_orders.tsv", amazon)

    assert (found, parsed.errors, parsed.failed) == ("amazon", [], 0)
    assert list(orders) == [
        "111-0000001-0000001",
        "111-0000002-0000002",
        "111-0000003-0000003",
        "111-0000004-0000004",
    ]
    assert orders["111-0000001-0000001"] == NormalizedOrder(
        external_id="111-0000001-0000001",
        purchased_at=utc(2025, 3, 1, 8, 15),
        updated_at=utc(2025, 3, 1, 9, 0),
        status=PlatformStatus(raw="Unshipped"),
        currency="USD",
        lines=[
            NormalizedLine(
                external_line_id="MUG-BLK",
                platform_sku="MUG-BLK",
                quantity=2,
                unit_price=Decimal("9.99"),
                line_total=Decimal("19.98"),
                title="Stainless mug, black",
                platform_item_id="B000TEST01",
            ),
            NormalizedLine(
                external_line_id="TEE-WHT-M",
                platform_sku="TEE-WHT-M",
                quantity=1,
                unit_price=Decimal("12.50"),
                line_total=Decimal("12.50"),
                title="Crew tee, white, M",
                platform_item_id="B000TEST02",
            ),
        ],
        address=NormalizedAddress(city="SEATTLE", state="WA", postcode="98101", country="US"),
        subtotal=Decimal("32.48"),
        shipping=Decimal("4.99"),
        tax=Decimal("3.25"),
        discount=Decimal("1.00"),
        total=Decimal("39.72"),
        fulfillment_channel="MFN",
        ship_service="Standard",
    )


def test_amazon_statuses_times_and_empty_prices(amazon):
    _found, _parsed, orders = parse("amazon_all_orders.tsv", amazon)

    pending = orders["111-0000002-0000002"]
    assert pending.status == PlatformStatus(raw="Pending", awaiting_payment=True)
    assert pending.currency == "USD"  # no currency while pending: the store's
    assert [(ln.quantity, ln.unit_price, ln.line_total) for ln in pending.lines] == [
        (1, Decimal("0"), Decimal("0"))
    ]
    cancelled = orders["111-0000003-0000003"]
    assert cancelled.status == PlatformStatus(raw="Cancelled", cancelled=True)
    assert cancelled.lines == []  # quantity 0: nothing to allocate
    shipped = orders["111-0000004-0000004"]
    assert shipped.status == PlatformStatus(raw="Shipped", shipped=True)
    assert (shipped.purchased_at, shipped.updated_at) == (
        utc(2025, 3, 3, 7, 30),
        utc(2025, 3, 4, 9, 0),
    )
    assert [(ln.unit_price, ln.line_total) for ln in shipped.lines] == [
        (Decimal("9.99"), Decimal("29.97"))
    ]
    assert (shipped.shipping, shipped.tax, shipped.discount, shipped.total) == (
        Decimal("7.99"),
        Decimal("3.42"),
        Decimal("7.99"),
        Decimal("33.39"),
    )


def test_amazon_report_with_extra_and_reordered_columns_and_an_afn_order(amazon):
    _found, parsed, orders = parse("amazon_all_orders_extra_columns.tsv", amazon)

    assert parsed.errors == []
    afn = orders["305-0000005-0000005"]
    assert (afn.fulfilled_by_platform, afn.fulfillment_channel, afn.currency) == (
        True,
        "AFN",
        "EUR",
    )
    assert afn.status.shipped is True
    assert afn.lines[0].platform_sku == "MUG-BLK-DE"
    assert afn.lines[0].title == "Edelstahlbecher schwarz"
    mfn = orders["305-0000006-0000006"]
    assert (mfn.fulfilled_by_platform, mfn.fulfillment_channel) == (False, "MFN")
    assert mfn.purchased_at == utc(2025, 3, 5, 12, 45, 10)
    assert [(ln.quantity, ln.unit_price, ln.line_total) for ln in mfn.lines] == [
        (2, Decimal("15.50"), Decimal("31.00"))
    ]
    # gift wrap is charged like shipping; promotions come negative and count as discounts
    assert (mfn.subtotal, mfn.shipping, mfn.tax, mfn.discount, mfn.total) == (
        Decimal("31.00"),
        Decimal("5.90"),
        Decimal("5.95"),
        Decimal("3.10"),
        Decimal("39.75"),
    )
    assert mfn.address == NormalizedAddress(
        city="Berlin", state="Berlin", postcode="10115", country="DE"
    )


def test_amazon_order_item_id_column_is_the_line_id_when_present(amazon):
    text = fixture("amazon_all_orders.tsv").decode().splitlines()
    rows = [line + ("\torder-item-id" if i == 0 else f"\t7000{i}") for i, line in enumerate(text)]

    _found, _parsed, orders = parse_named("\n".join(rows).encode(), "report.txt", amazon)

    assert [ln.external_line_id for ln in orders["111-0000001-0000001"].lines] == [
        "70001",
        "70002",
    ]


def parse_named(data: bytes, filename: str, store, fmt: str | None = None):
    found, parsed = parse_order_file(store=store, data=data, filename=filename, format=fmt)
    return found, parsed, {order.external_id: order for order in parsed.orders}


def test_bad_rows_are_named_by_row_column_and_reason(amazon):
    _found, parsed, orders = parse("amazon_bad_rows.tsv", amazon)

    assert parsed.errors == [
        RowError(4, "quantity", "“two” is not a whole number from 1 to 1,000,000."),
        RowError(
            5,
            "purchase-date",
            "“yesterday” is not a date and time we can read; write it as 2025-03-01 10:00.",
        ),
        RowError(6, "sku", "This cell is required."),
        RowError(7, "item-price", "“12.x” is not an amount."),
    ]
    assert parsed.failed == 4
    assert list(orders) == ["111-0000010-0000010", "111-0000015-0000015"]


def test_good_orders_are_kept_and_an_order_with_a_bad_row_is_rejected_whole(amazon):
    result = order_import(store=amazon, data=fixture("amazon_bad_rows.tsv"), filename="r.tsv")

    assert (result.created, result.updated, result.unchanged, result.failed) == (2, 0, 0, 4)
    assert result.summary() == "created=2 updated=0 unchanged=0 failed=4"
    assert sorted(Order.objects.values_list("external_id", flat=True)) == [
        "111-0000010-0000010",
        "111-0000015-0000015",
    ]
    # 111-0000011 had a good row 3 and a bad row 4: neither is imported
    assert not Order.objects.filter(external_id="111-0000011-0000011").exists()
    assert sorted(result.order_ids) == sorted(Order.objects.values_list("pk", flat=True))
    assert set(Order.objects.values_list("source", flat=True)) == {OrderSource.FILE}


# ----------------------------------------------------------------------------- Shopify


def test_shopify_export_with_bom_unicode_names_and_a_note_over_two_lines(shopify):
    found, parsed, orders = parse("shopify_orders_bom.csv", shopify)

    assert (found, parsed.errors) == ("shopify", [])
    assert list(orders) == ["5550000000001", "5550000000002", "5550000000003", "5550000000004"]
    first = orders["5550000000001"]
    assert first == NormalizedOrder(
        external_id="5550000000001",
        reference="#1001",
        purchased_at=utc(2024, 5, 1, 10, 0),
        updated_at=utc(2024, 5, 1, 10, 5),
        status=PlatformStatus(raw="paid/unfulfilled"),
        currency="USD",
        lines=[
            NormalizedLine(
                external_line_id="TEE-BLK-S",
                platform_sku="TEE-BLK-S",
                quantity=2,
                unit_price=Decimal("19.99"),
                line_total=Decimal("39.98"),
                title="Crew Tee - Black / S",
            ),
            NormalizedLine(
                external_line_id="MUG-BLK",
                platform_sku="MUG-BLK",
                quantity=1,
                unit_price=Decimal("5.00"),
                line_total=Decimal("5.00"),
                title="Enamel Mug",
            ),
        ],
        address=NormalizedAddress(
            name="Zoë Ångström",
            phone="+1 555 0100",
            address1="1 Main St",
            address2="Apt 2",
            city="Boston",
            state="MA",
            postcode="02134",
            country="US",
        ),
        buyer_name="Zoë Ångström",
        buyer_email="zoe@example.com",
        buyer_note="Leave at the door.\nRing twice, please.",
        subtotal=Decimal("44.98"),
        shipping=Decimal("5.00"),
        tax=Decimal("3.20"),
        discount=Decimal("5.00"),
        total=Decimal("48.18"),
        ship_service="Standard",
    )
    pending = orders["5550000000002"]
    assert (pending.buyer_name, pending.address.city, pending.address.country) == (
        "王小明",
        "台北市",
        "TW",
    )
    assert pending.status == PlatformStatus(raw="pending/unfulfilled", awaiting_payment=True)
    assert pending.purchased_at == utc(2024, 5, 2, 0, 30)  # +0800 in the file
    fulfilled = orders["5550000000003"]
    assert (fulfilled.buyer_name, fulfilled.currency) == ("Иван Петров", "EUR")
    assert fulfilled.status == PlatformStatus(raw="paid/fulfilled", shipped=True)
    assert fulfilled.updated_at == utc(2024, 5, 4, 12, 0)  # the latest time the file gives
    cancelled = orders["5550000000004"]
    assert cancelled.status == PlatformStatus(raw="cancelled/refunded/unfulfilled", cancelled=True)


def test_row_numbers_count_the_lines_a_quoted_newline_spans(shopify):
    # #1001's first row spans lines 2-3 (its note has a line break): #1002 is on line 5.
    data = fixture("shopify_orders_bom.csv").replace(
        b"1,Phone Case iPhone 15,12.00", b"x,Phone Case iPhone 15,12.00"
    )

    _found, parsed, orders = parse_named(data, "orders.csv", shopify)

    assert parsed.errors == [
        RowError(5, "Lineitem quantity", "“x” is not a whole number from 1 to 1,000,000.")
    ]
    assert "5550000000002" not in orders
    assert len(orders) == 3


def test_shopify_without_id_column_uses_the_order_name(shopify):
    csv = (
        b"Name,Created at,Lineitem quantity,Lineitem price,Lineitem sku,Currency\n"
        b"#2001,2024-06-01 12:00:00 -0400,1,3.50,MUG-BLK,CAD\n"
    )

    _found, _parsed, orders = parse_named(csv, "orders_export.csv", shopify)

    order = orders["#2001"]
    assert (order.purchased_at, order.currency, order.total) == (
        utc(2024, 6, 1, 16, 0),
        "CAD",
        Decimal("3.50"),
    )


# -------------------------------------------------------------------------------- eBay


def test_ebay_report_with_title_line_padding_row_summary_row_and_footer(ebay):
    found, parsed, orders = parse("ebay_orders.csv", ebay)

    assert (found, parsed.errors, parsed.failed) == ("ebay", [], 0)
    assert list(orders) == ["01-00001-00001", "02-00002-00002", "03-00003-00003"]
    single = orders["01-00001-00001"]
    assert single == NormalizedOrder(
        external_id="01-00001-00001",
        reference="1001",
        purchased_at=utc(2025, 2, 28, 16, 0),  # Mar-01-25, midnight in Shanghai
        updated_at=utc(2025, 2, 28, 16, 0),
        status=PlatformStatus(raw="paid"),
        currency="USD",  # "$": the store's dollars
        lines=[
            NormalizedLine(
                external_line_id="110000000001-2000000001",
                platform_sku="MUG-BLK",
                quantity=2,
                unit_price=Decimal("9.99"),
                line_total=Decimal("19.98"),
                title="Stainless mug 350 ml",
                platform_item_id="110000000001",
            )
        ],
        address=NormalizedAddress(
            name="Ann Buyer",
            phone="+1 512 555 0101",
            address1="1 Elm St",
            city="Austin",
            state="TX",
            postcode="73301",
            country="US",
        ),
        buyer_name="Ann Buyer",
        buyer_email="ann.buyer@example.com",
        buyer_note="Gift, no invoice please",
        subtotal=Decimal("19.98"),
        shipping=Decimal("5.00"),
        tax=Decimal("1.60"),
        total=Decimal("26.58"),
        ship_service="Economy Shipping from outside US",
        latest_ship_at=utc(2025, 3, 3, 16, 0),
    )


def test_ebay_multi_item_order_takes_money_from_its_summary_row(ebay):
    _found, _parsed, orders = parse("ebay_orders.csv", ebay)

    order = orders["02-00002-00002"]
    assert order.currency == "GBP"  # from "£"
    assert [(ln.platform_sku, ln.quantity, ln.unit_price, ln.line_total) for ln in order.lines] == [
        ("CASE-IP15", 1, Decimal("10.00"), Decimal("10.00")),
        ("GLASS-IP15", 2, Decimal("10.00"), Decimal("20.00")),
    ]
    assert (order.subtotal, order.shipping, order.total) == (
        Decimal("30.00"),
        Decimal("4.50"),
        Decimal("34.50"),
    )
    assert order.status == PlatformStatus(raw="shipped", shipped=True)
    assert (order.address.name, order.address.country) == ("Oliver Smith", "GB")
    assert order.purchased_at == utc(2025, 3, 1, 16, 0)  # "Mar 02, 2025" in Shanghai
    assert order.updated_at == utc(2025, 3, 2, 16, 0)  # the shipped date
    unpaid = orders["03-00003-00003"]
    assert unpaid.status == PlatformStatus(raw="unpaid", awaiting_payment=True)
    assert (unpaid.currency, unpaid.purchased_at) == ("USD", utc(2025, 3, 3, 10, 45))
    assert unpaid.address.country == "CA"


def test_ebay_dates_follow_the_company_time_zone(ebay, settings):
    settings.TIME_ZONE = "America/Los_Angeles"

    _found, _parsed, orders = parse("ebay_orders.csv", ebay)

    assert orders["01-00001-00001"].purchased_at == utc(2025, 3, 1, 8, 0)


def test_ebay_money_with_currency_prefixes_and_decimal_commas(ebay):
    header = '"Order Number","Custom Label","Quantity","Sold For","Total Price","Sale Date"'
    csv = "\n".join(
        [
            header,
            '"E-1","A","1","EUR 12,99","EUR 12,99","Mar-01-25 10:00:00 PDT"',
            '"E-2","A","1","AU $1,234.50","AU $1,234.50","Mar 01, 2025"',
            '"E-3","A","1","¥99","¥99","2025-03-01"',
        ]
    ).encode()

    _found, parsed, orders = parse_named(csv, "ebay.csv", ebay)

    assert parsed.errors == []
    assert [(o.currency, o.total) for o in orders.values()] == [
        ("EUR", Decimal("12.99")),
        ("AUD", Decimal("1234.50")),
        ("USD", Decimal("99.00")),
    ]
    assert orders["E-1"].purchased_at == utc(2025, 3, 1, 17, 0)  # PDT is UTC-7


def test_ebay_bad_amount_and_mixed_currencies_reject_the_order(ebay):
    header = '"Order Number","Item Number","Custom Label","Quantity","Sold For","Sale Date"'
    csv = "\n".join(
        [
            header,
            '"E-1","1","A","1","$abc","Mar-01-25"',
            '"E-2","2","A","1","£1.00","Mar-01-25"',
            '"E-2","3","B","1","€1.00","Mar-01-25"',
            '"E-3","4","A","1","$5.00","Mar-01-25"',
        ]
    ).encode()

    _found, parsed, orders = parse_named(csv, "ebay.csv", ebay)

    assert parsed.errors == [
        RowError(2, "Sold For", "“$abc” is not an amount."),
        RowError(
            4, "Sold For", "The order's amounts are in GBP and EUR; one order has one currency."
        ),
    ]
    assert (list(orders), parsed.failed) == (["E-3"], 2)


# ---------------------------------------------------------------------------- template


def test_template_in_gb18030_with_chinese_headers(manual):
    found, parsed, orders = parse("template_gb18030.csv", manual)

    assert (found, parsed.errors) == ("template", [])
    first = orders["T-0001"]
    assert first == NormalizedOrder(
        external_id="T-0001",
        purchased_at=utc(2025, 3, 1, 2, 0),  # 10:00 in Shanghai
        updated_at=utc(2025, 3, 1, 2, 0),
        status=PlatformStatus(raw=""),
        currency="USD",
        lines=[
            NormalizedLine(
                external_line_id="MUG-BLK",
                platform_sku="MUG-BLK",
                quantity=2,
                unit_price=Decimal("9.99"),
                line_total=Decimal("19.98"),
                title="不锈钢保温杯",
            ),
            NormalizedLine(
                external_line_id="CASE-IP15",
                platform_sku="CASE-IP15",
                quantity=1,
                unit_price=Decimal("3.50"),
                line_total=Decimal("3.50"),
                title="手机壳",
            ),
        ],
        address=NormalizedAddress(
            name="李雷",
            phone="13800000000",
            address1="1 Main St",
            city="Los Angeles",
            state="CA",
            postcode="90001",
            country="US",
        ),
        buyer_name="李雷",
        buyer_email="lilei@example.com",
        buyer_note="请尽快发货",
        subtotal=Decimal("23.48"),
        shipping=Decimal("5.00"),
        total=Decimal("28.48"),
    )
    second = orders["T-0002"]
    assert (second.currency, second.address.country, second.purchased_at) == (
        "CNY",
        "CN",
        utc(2025, 3, 2, 1, 30),
    )
    # order fields repeated on every row are fine; the SKU twice gives two line ids
    assert [(ln.external_line_id, ln.quantity) for ln in second.lines] == [
        ("TEE-WHT-M", 1),
        ("TEE-WHT-M#2", 2),
    ]
    assert second.total == Decimal("177.00")


def test_template_order_field_repeated_with_another_value_is_an_error(manual):
    csv = (
        b"order_id,purchased_at,ship_city,platform_sku,quantity,unit_price\r\n"
        b"A-1,2025-03-01 10:00,Paris,X,1,1\r\n"
        b"A-1,2025-03-01 10:00,Lyon,Y,1,1\r\n"
    )

    _found, parsed, orders = parse_named(csv, "orders.csv", manual)

    assert parsed.errors == [
        RowError(3, "ship_city", "“Lyon” differs from “Paris” in row 2 of the same order.")
    ]
    assert (orders, parsed.failed) == ({}, 1)


def test_template_xlsx_with_typed_cells(manual):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["订单号", "下单时间", "国家", "平台SKU", "数量", "单价", "运费", "状态"])
    sheet.append([1001, datetime(2025, 3, 1, 9, 30), "Germany", "MUG-BLK", 3, 2.5, 4, "待付款"])
    sheet.append([])
    sheet.append([1002, "2025-03-02T09:30:00+00:00", "DE", "MUG-BLK", 1, 2.5, None, "已发货"])
    sheet.append([1003, "2025-03-02", "Atlantis", "MUG-BLK", 1, 2.5, None, ""])
    buffer = io.BytesIO()
    workbook.save(buffer)

    _found, parsed, orders = parse_named(buffer.getvalue(), "orders.xlsx", manual)

    assert parsed.errors == [
        RowError(
            5, "国家", "“Atlantis” is not a country we know; use its two-letter ISO code (US, GB)."
        )
    ]
    first = orders["1001"]
    assert (first.purchased_at, first.currency, first.address.country) == (
        utc(2025, 3, 1, 1, 30),
        "CNY",  # the store's
        "DE",
    )
    assert [(ln.quantity, ln.unit_price, ln.line_total) for ln in first.lines] == [
        (3, Decimal("2.5"), Decimal("7.50"))
    ]
    assert (first.shipping, first.total, first.status.awaiting_payment) == (
        Decimal("4.00"),
        Decimal("11.50"),
        True,
    )
    assert orders["1002"].status == PlatformStatus(raw="已发货", shipped=True)
    assert orders["1002"].purchased_at == utc(2025, 3, 2, 9, 30)


@pytest.mark.parametrize(("fmt", "chinese"), [("csv", False), ("csv", True), ("xlsx", False)])
def test_downloaded_template_imports_its_example_order(manual, fmt, chinese):
    data = order_template_file(fmt, chinese=chinese)

    result = order_import(store=manual, data=data, filename=f"template.{fmt}")

    assert (result.format, result.created, result.failed, result.errors) == ("template", 1, 0, [])
    order = Order.objects.get()
    assert (order.external_id, order.ship_phone, order.ship_country, order.total) == (
        "EXAMPLE-1001",
        "+1 555 0100",  # written as '+1 ... against formulas, read back without the quote
        "US",
        Decimal("24.98"),
    )


def test_template_header_lists_every_column_in_both_languages():
    assert template_header()[:3] == ["order_id", "purchased_at", "updated_at"]
    assert template_header(chinese=True)[:3] == ["订单号", "下单时间", "更新时间"]
    assert len(template_header()) == len(COLUMNS)


# ----------------------------------------------------------------- the import as a whole


@pytest.mark.parametrize(
    ("name", "platform", "count"),
    [
        ("amazon_all_orders.tsv", Platform.AMAZON, 4),
        ("amazon_all_orders_extra_columns.tsv", Platform.AMAZON, 2),
        ("shopify_orders_bom.csv", Platform.SHOPIFY, 4),
        ("ebay_orders.csv", Platform.EBAY, 3),
        ("template_gb18030.csv", Platform.MANUAL, 2),
    ],
)
def test_reimporting_the_same_file_changes_nothing(name, platform, count):
    store = StoreFactory(platform=platform)
    first = order_import(store=store, data=fixture(name), filename=name)
    before = list(Order.objects.order_by("pk").values_list("pk", "updated_at", "source_hash"))

    again = order_import(store=store, data=fixture(name), filename=name)

    assert (first.created, first.failed) == (count, 0)
    assert again.summary() == f"created=0 updated=0 unchanged={count} failed=0"
    assert again.order_ids == first.order_ids
    assert list(Order.objects.order_by("pk").values_list("pk", "updated_at", "source_hash")) == (
        before
    )


def test_a_corrected_file_updates_the_order(manual):
    order_import(store=manual, data=fixture("template_gb18030.csv"), filename="t.csv")
    corrected = (
        fixture("template_gb18030.csv").decode("gb18030").replace("Los Angeles", "San Diego")
    )

    result = order_import(store=manual, data=corrected.encode("gb18030"), filename="t.csv")

    assert result.summary() == "created=0 updated=1 unchanged=1 failed=0"
    assert Order.objects.get(external_id="T-0001").ship_city == "San Diego"


def test_template_fits_any_store(amazon):
    result = order_import(store=amazon, data=fixture("template_gb18030.csv"), filename="t.csv")

    assert result.created == 2


@pytest.mark.parametrize(
    ("data", "filename", "fmt", "message"),
    [
        (b"", "a.csv", None, "The file is empty."),
        (b"a,b\r\n1,2\r\n", "a.pdf", None, "Files of type “.pdf” cannot be imported"),
        (b"foo,bar\r\n1,2\r\n", "a.csv", None, "The file's columns are not those of an Amazon"),
        (b"order_id,platform_sku\r\n", "a.csv", None, "The file has a header but no data rows."),
        (b"a,b\r\n1,2\r\n", "a.csv", "csv", "Unknown format “csv”; use one of amazon, shopify"),
        (
            b"order_id,platform_sku,quantity\r\nA,B,1\r\n",
            "a.csv",
            None,
            "The Caravan template file has no column “purchased_at”, “unit_price”; nothing",
        ),
    ],
)
def test_file_level_problems_refuse_the_file_and_write_nothing(
    manual, data, filename, fmt, message
):
    with pytest.raises(OrderImportError) as exc:
        order_import(store=manual, data=data, filename=filename, format=fmt)

    assert str(exc.value).startswith(message)
    assert Order.objects.count() == 0


def test_a_missing_required_column_is_named(amazon, shopify):
    data = fixture("amazon_all_orders.tsv").replace(b"\tquantity\t", b"\tqty\t", 1)

    with pytest.raises(OrderImportError, match="^The Amazon file has no column “quantity”;"):
        order_import(store=amazon, data=data, filename="report.tsv")
    with pytest.raises(OrderImportError, match="^The Shopify file has no column “Name”, “Cr"):
        order_import(store=shopify, data=b"foo,bar\r\n1,2\r\n", filename="a.csv", format="shopify")
    assert Order.objects.count() == 0


def test_a_platform_report_into_another_platforms_store_is_refused(shopify):
    with pytest.raises(OrderImportError) as exc:
        order_import(store=shopify, data=fixture("amazon_all_orders.tsv"), filename="r.tsv")

    assert str(exc.value) == (
        "The file is from Amazon, but store shop is on Shopify; choose the store the file came "
        "from, or use the Caravan order template."
    )
    assert Order.objects.count() == 0


def test_the_upload_and_row_limits_refuse_the_file(amazon, settings):
    settings.ORDER_IMPORT_MAX_ROWS = 3
    with pytest.raises(OrderImportError, match="^The file has more than 3 rows; split it"):
        order_import(store=amazon, data=fixture("amazon_all_orders.tsv"), filename="r.tsv")

    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(OrderImportError, match=r"^The file is 0\.0 MB; the limit is 0\.0 MB\.$"):
        order_import(store=amazon, data=fixture("amazon_all_orders.tsv"), filename="r.tsv")
    assert Order.objects.count() == 0


def test_result_summary_is_the_four_counts():
    assert OrderImportResult(created=1, updated=2, unchanged=3, failed=4).summary() == (
        "created=1 updated=2 unchanged=3 failed=4"
    )
