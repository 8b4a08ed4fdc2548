"""Caravan's own order file: a CSV or XLSX any seller can fill in, for orders from a platform
Caravan has no report reader for (or from no platform at all), in any store.

One row per order line. The order's own fields (time, buyer, address, shipping ...) are given
on the order's first row or repeated on every row; a repeat that differs from the first is an
error, because two different orders sharing an id is the usual cause. Headers are English
field names or their Chinese names (``COLUMNS``), compared as the SKU import compares them
(case, spaces and full-width punctuation ignored).

- Required: ``order_id``, ``purchased_at``, ``platform_sku``, ``quantity``, ``unit_price``
  (per unit). ``currency`` defaults to the store's.
- Times: ISO (``2025-03-01 10:00``, with or without an offset), ``2025/03/01 10:00``, or a
  date cell of the sheet. **Without an offset they are in the store's time zone**
  (``settings.TIME_ZONE``), the one the person filling in the sheet works in.
- ``updated_at`` (optional) is the order's last change; empty, the purchase time. A row whose
  ``updated_at`` is older than the order's stored one is a stale resend and changes nothing;
  a corrected file with the same time is applied.
- ``status`` (optional): empty/paid, pending/unpaid (awaiting payment), cancelled, shipped,
  in English or Chinese.
- ``line_id`` (optional) identifies a line within its order; empty: the SKU (``SKU#2`` for
  its second row in the same order).
- Text that Caravan wrote with a leading ``'`` against spreadsheet formulas is read without it.
"""

from __future__ import annotations

import codecs
import csv
import io
from decimal import Decimal
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.tabular import formula_escape, formula_unescape, header_key
from orders.imports.common import (
    NOTE_LIMIT,
    Columns,
    LineIds,
    ParseResult,
    Row,
    RowError,
    RowReader,
    Sheet,
    build_orders,
    cents,
    group_rows,
    keys_of,
    line_text_limit,
    text_limit,
    unit_places,
)
from orders.models import Store
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PlatformStatus,
)

LABEL = gettext_lazy("Caravan template")

# Every column in the template's order: English name -> Chinese name (the first is what the
# Chinese template writes; all are read).
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号"),
    "purchased_at": ("下单时间", "下单日期"),
    "updated_at": ("更新时间",),
    "status": ("状态", "订单状态"),
    "currency": ("币种", "货币"),
    "buyer_name": ("买家", "买家姓名"),
    "buyer_email": ("买家邮箱", "邮箱"),
    "buyer_note": ("买家留言", "留言"),
    "ship_name": ("收件人", "收货人"),
    "ship_company": ("公司",),
    "ship_phone": ("电话", "收件人电话"),
    "ship_address1": ("地址1", "地址"),
    "ship_address2": ("地址2",),
    "ship_city": ("城市",),
    "ship_state": ("州省", "州/省"),
    "ship_postcode": ("邮编",),
    "ship_country": ("国家", "国家代码"),
    "platform_sku": ("平台SKU",),
    "title": ("商品名称", "标题"),
    "quantity": ("数量",),
    "unit_price": ("单价",),
    "shipping": ("运费",),
    "tax": ("税费",),
    "discount": ("折扣",),
    "line_id": ("行号",),
}
REQUIRED = ("order_id", "purchased_at", "platform_sku", "quantity", "unit_price")
LINE_FIELDS = frozenset({"platform_sku", "title", "quantity", "unit_price", "line_id"})
ORDER_FIELDS = tuple(name for name in COLUMNS if name not in LINE_FIELDS)
EXAMPLE: dict[str, object] = {
    "order_id": "EXAMPLE-1001",
    "purchased_at": "2025-03-01 10:00",
    "currency": "USD",
    "buyer_name": "Ann Example",
    "buyer_email": "ann@example.com",
    "ship_name": "Ann Example",
    "ship_phone": "+1 555 0100",
    "ship_address1": "1 Main St",
    "ship_city": "Springfield",
    "ship_state": "IL",
    "ship_postcode": "62701",
    "ship_country": "US",
    "platform_sku": "MUG-BLK",
    "title": "Stainless mug 350 ml",
    "quantity": 2,
    "unit_price": "9.99",
    "shipping": "5.00",
}
_STATUSES: dict[str, dict[str, bool]] = {
    **dict.fromkeys(("", "paid", "new", "已付款", "已支付", "待发货"), {}),
    **dict.fromkeys(
        ("pending", "unpaid", "awaiting_payment", "待付款", "未付款"), {"awaiting_payment": True}
    ),
    **dict.fromkeys(("cancelled", "canceled", "已取消", "取消"), {"cancelled": True}),
    **dict.fromkeys(("shipped", "已发货"), {"shipped": True}),
}


def matches(header: list[str]) -> bool:
    """Whether a header row is the template's (an order id and a platform SKU column, in
    English or Chinese)."""
    keys = keys_of(header)
    ids = {header_key(n) for n in ("order_id", *COLUMNS["order_id"])}
    skus = {header_key(n) for n in ("platform_sku", *COLUMNS["platform_sku"])}
    return bool(keys & ids) and bool(keys & skus)


def parse(sheet: Sheet, *, store: Store) -> ParseResult:
    """The orders of a filled-in template; see the module docstring."""
    cols = Columns(sheet.header, COLUMNS)
    cols.require(REQUIRED, label=LABEL)
    rows = [(n, [formula_unescape(c) for c in cells]) for n, cells in sheet.rows]
    key = cols["order_id"]
    groups = group_rows(rows, key.get)
    local = timezone.get_default_timezone()

    def build(order_id: str, group: list[Row], errors: list[RowError]) -> NormalizedOrder | None:
        readers = [RowReader(n, c, errors, strip=sheet.strip_controls) for n, c in group]
        return _order(readers, cols=cols, store=store, local=local)

    return build_orders(groups, build, key_column=key)


def _order_fields(readers: list[RowReader], cols: Columns) -> dict[str, RowReader]:
    """For each order field, the row that gives it (the first with a value); a later row
    with another value is an error."""
    givers: dict[str, RowReader] = {}
    for name in ORDER_FIELDS:
        column = cols[name]
        for row in readers:
            value = row.raw(column)
            if not value:
                continue
            giver = givers.setdefault(name, row)
            first = giver.raw(column)
            if value != first:
                row.error(
                    column,
                    _("“%(value)s” differs from “%(first)s” in row %(row)d of the same order.")
                    % {"value": value, "first": first, "row": giver.number},
                )
    return givers


def _order(
    readers: list[RowReader], *, cols: Columns, store: Store, local
) -> NormalizedOrder | None:
    head = readers[0]
    givers = _order_fields(readers, cols)

    def at(name: str) -> RowReader:
        return givers.get(name, head)

    external_id = head.identifier(cols["order_id"], text_limit("external_id"))
    purchased_at = at("purchased_at").moment(cols["purchased_at"], local=local)
    updated_at = at("updated_at").moment(cols["updated_at"], required=False, local=local)
    status_text = at("status").raw(cols["status"])
    flags = _STATUSES.get(status_text.casefold())
    if flags is None:
        at("status").error(
            cols["status"],
            _("“%(value)s” is not a status; use paid, pending, cancelled or shipped.")
            % {"value": status_text},
        )
        flags = {}
    money = {name: at(name).amount(cols[name]) for name in ("shipping", "tax", "discount")}
    address = NormalizedAddress(
        name=at("ship_name").text(cols["ship_name"], text_limit("ship_name")),
        company=at("ship_company").text(cols["ship_company"], text_limit("ship_company")),
        phone=at("ship_phone").text(cols["ship_phone"], text_limit("ship_phone")),
        address1=at("ship_address1").text(cols["ship_address1"], text_limit("ship_address1")),
        address2=at("ship_address2").text(cols["ship_address2"], text_limit("ship_address2")),
        city=at("ship_city").text(cols["ship_city"], text_limit("ship_city")),
        state=at("ship_state").text(cols["ship_state"], text_limit("ship_state")),
        postcode=at("ship_postcode").text(cols["ship_postcode"], text_limit("ship_postcode")),
        country=at("ship_country").country(cols["ship_country"]),
    )
    currency = at("currency").currency(cols["currency"], store.currency)
    lines = _lines(readers, cols)
    if head.errors or purchased_at is None or not external_id or None in money.values():
        return None
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    shipping, tax, discount = money["shipping"], money["tax"], money["discount"]
    return NormalizedOrder(
        external_id=external_id,
        purchased_at=purchased_at,
        updated_at=updated_at or purchased_at,
        status=PlatformStatus(raw=status_text[: text_limit("platform_status")], **flags),
        currency=currency,
        lines=lines,
        address=address,
        buyer_name=at("buyer_name").text(cols["buyer_name"], text_limit("buyer_name")),
        buyer_email=at("buyer_email").text(cols["buyer_email"], text_limit("buyer_email")),
        buyer_note=at("buyer_note").text(cols["buyer_note"], NOTE_LIMIT),
        subtotal=cents(subtotal),
        shipping=cents(shipping),
        tax=cents(tax),
        discount=cents(discount),
        total=cents(subtotal + shipping + tax - discount),
    )


def _lines(readers: list[RowReader], cols: Columns) -> list[NormalizedLine]:
    line_ids = LineIds()
    lines: list[NormalizedLine] = []
    seen: dict[str, int] = {}
    for row in readers:
        sku = row.identifier(cols["platform_sku"], line_text_limit("platform_sku"))
        quantity = row.quantity(cols["quantity"])
        price = row.amount(cols["unit_price"], required=True)
        line_id = row.identifier(
            cols["line_id"], line_text_limit("external_line_id"), required=False
        )
        if line_id and line_id in seen:
            row.error(
                cols["line_id"],
                _("Line %(line)s is also given in row %(row)d of the same order.")
                % {"line": line_id, "row": seen[line_id]},
            )
            continue
        if not sku or quantity is None or price is None:
            continue
        unit_price = unit_places(price)
        line_id = line_id or line_ids.next(sku)
        seen[line_id] = row.number
        lines.append(
            NormalizedLine(
                external_line_id=line_id,
                platform_sku=sku,
                quantity=quantity,
                unit_price=unit_price,
                line_total=cents(unit_price * quantity),
                title=row.text(cols["title"], line_text_limit("title")),
            )
        )
    return lines


# ------------------------------------------------------------------------ the download

TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def template_header(*, chinese: bool = False) -> list[str]:
    return [names[0] if chinese else name for name, names in COLUMNS.items()]


def order_template_file(fmt: Literal["csv", "xlsx"], *, chinese: bool = False) -> bytes:
    """The template to download: the header (English or Chinese names) and one example order.

    CSV is UTF-8 with a BOM and CRLF line ends (Excel reads Chinese text from a CSV only with
    the BOM); text that a spreadsheet would run as a formula (the example phone ``+1 ...``)
    gets a leading ``'``, which the import removes again.
    """
    header = template_header(chinese=chinese)
    example = [EXAMPLE.get(name, "") for name in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerow([formula_escape(str(v)) for v in example])
        return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("订单" if chinese else "Orders")
        sheet.append(header)
        sheet.append([v if isinstance(v, int) else formula_escape(str(v)) for v in example])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown template format {fmt!r}")
