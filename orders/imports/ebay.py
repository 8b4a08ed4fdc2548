"""eBay's orders report: Seller Hub → Orders → Download report ("Orders" CSV).

Sources for the shape (no official column reference is published): the header is the one
listed by public tools that read the file (``randomecho/shifted-sales-report`` README, ~80
columns from "Sales Record Number", "Order Number", "Buyer Username" ... "Custom Label",
"Quantity", "Sold For", "Shipping And Handling" ... "Total Price", "Sale Date", "Paid On Date",
"Shipped On Date" ... "Transaction ID" ... "Tax Country"), and two independent readers agree
on the framing: a first line that is blank or bare commas (or a title), the header, an
all-empty padding row, one row per sold item, then footer lines
``N,record(s) downloaded,from ... to ...`` and ``Seller ID : ...``. Columns are found by
name, wherever the header row is; blank and footer rows are skipped, never counted.

What the rows mean here:

- Rows of one order share ``Order Number`` (a row without one takes it from another row with
  the same ``Sales Record Number``). A multi-item order may start with a summary row whose
  item cells (Item Number, Item Title, Custom Label) are empty: it holds the buyer, the
  address and the order's money, and is never a line. Without a summary row the order's
  shipping, tax and total are the sums of its item rows.
- ``Sold For`` is the unit price of the item row (the readers above multiply it by
  ``Quantity``); the summary's is the sum of its items.
- Money reads ``$12.99``, ``US $12.99``, ``£5.00``, ``EUR 5,00``: the symbol or prefix gives
  the currency (``$`` alone does not say which dollar: the store's currency); a decimal comma
  is read when it is followed by exactly two digits and there is no point.
- Dates read ``Mar-01-25``, ``Mar-01-25 10:15:00``, ``Mar 01, 2025`` (optionally with a zone
  such as PDT). **Without a zone they are in the store's time zone**: Seller Hub writes times
  in the account's time zone and the file does not say which, so the seller's own zone
  (``settings.TIME_ZONE``, where Caravan's people work and set their eBay account) is the
  least surprising reading; a date alone is midnight there.
- No status column: no Paid On Date → awaiting payment; a Shipped On Date on every item (or
  on the summary) → shipped. Cancelled orders are not in the report. The file has no "updated
  at": the latest of sale, paid and shipped dates stands in for it.
- The line id is eBay's legacy order line id ``ItemNumber-TransactionID`` when both are
  given, else the item number (or SKU) with ``#2`` for a repeat.
- ``eBay Fulfillment Program`` Yes marks an order eBay fulfils (never allocated).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

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
)
from orders.models import Store
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PlatformStatus,
)

LABEL = "eBay"
ORDER_KEY = "Order Number"
REQUIRED = (ORDER_KEY, "Custom Label", "Quantity", "Sold For", "Sale Date")
ITEM_COLUMNS = ("Item Number", "Item Title", "Custom Label")

_FOOTER_RE = re.compile(r"record\(s\)\s+downloaded|^seller\s+id\s*:", re.IGNORECASE)
_MONEY_RE = re.compile(
    r"^(?P<prefix>[A-Za-z]{0,3}\s?[$£€¥]|[A-Za-z]{3})?\s*(?P<number>[-+]?[\d.,]+)"
    r"\s*(?P<suffix>[$£€¥]|[A-Za-z]{3})?$"
)
_SYMBOLS = {
    "us$": "USD",
    "usd": "USD",
    "au$": "AUD",
    "a$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "hk$": "HKD",
    "nz$": "NZD",
    "s$": "SGD",
    "sg$": "SGD",
    "£": "GBP",
    "€": "EUR",
}
_AMBIGUOUS = {"$", "¥"}  # the store's currency
_YES = {"yes", "y", "true", "1"}


def matches(header: list[str]) -> bool:
    """Whether a header row is this report's (its record number, or order number and price)."""
    keys = keys_of(header)
    return "salesrecordnumber" in keys or {"ordernumber", "soldfor"} <= keys


def split_money(text: str) -> tuple[str, str | None] | None:
    """``US $1,234.50`` → ("1234.50", "USD"); ``$5`` → ("5", None); unreadable → None."""
    match = _MONEY_RE.match(text.strip())
    if match is None:
        return None
    sign = match["prefix"] or match["suffix"] or ""
    key = sign.replace(" ", "").casefold()
    if not sign or sign in _AMBIGUOUS:
        currency = None
    elif key in _SYMBOLS:
        currency = _SYMBOLS[key]
    elif re.fullmatch(r"[A-Za-z]{3}", sign):
        currency = sign.upper()
    else:
        return None
    number = match["number"]
    if "," in number and "." not in number and re.search(r",\d{2}$", number):
        number = number.replace(",", ".")  # 12,99 (a decimal comma)
    elif "," in number and "." in number and number.rfind(",") > number.rfind("."):
        number = number.replace(".", "").replace(",", ".")  # 1.234,50
    return number.replace(",", ""), currency


def parse(sheet: Sheet, *, store: Store) -> ParseResult:
    """The orders of an eBay orders report; see the module docstring."""
    cols = Columns(sheet.header)
    cols.require(REQUIRED, label=LABEL)
    rows = [(n, cells) for n, cells in sheet.rows if not _is_footer(cells)]
    key = cols[ORDER_KEY]
    record = cols["Sales Record Number"]
    order_of_record = {
        record.get(cells): key.get(cells)
        for _n, cells in rows
        if key.get(cells) and record.get(cells)
    }

    def order_key(cells: list[str]) -> str:
        return key.get(cells) or order_of_record.get(record.get(cells), "")

    groups = group_rows(rows, order_key)
    local = timezone.get_default_timezone()

    def build(order_id: str, group: list[Row], errors: list[RowError]) -> NormalizedOrder | None:
        readers = [RowReader(n, c, errors, strip=sheet.strip_controls) for n, c in group]
        return _Order(order_id, readers, cols=cols, store=store, local=local).build()

    return build_orders(groups, build, key_column=key)


def _is_footer(cells: list[str]) -> bool:
    present = [cell.strip() for cell in cells if cell.strip()]
    return bool(present) and len(present) <= 3 and any(_FOOTER_RE.search(c) for c in present)


class _Order:
    """One order's rows: summary rows first, then item rows."""

    def __init__(
        self,
        order_id: str,
        readers: list[RowReader],
        *,
        cols: Columns,
        store: Store,
        local: tzinfo,
    ):
        self.order_id, self.cols, self.store, self.local = order_id, cols, store, local
        items = [cols[c] for c in ITEM_COLUMNS]
        self.summaries = [r for r in readers if not any(r.raw(c) for c in items)]
        self.items = [r for r in readers if any(r.raw(c) for c in items)]
        self.ordered = [*self.summaries, *self.items]
        self.currency: str | None = None  # the first one an amount names

    def first(self, name: str) -> RowReader:
        """The first row (summaries first) with a value in the column, else the first row."""
        column = self.cols[name]
        return next((r for r in self.ordered if r.raw(column)), self.ordered[0])

    def text(self, name: str, limit: int) -> str:
        return self.first(name).text(self.cols[name], limit)

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        return self.first(name).moment(self.cols[name], required=required, local=self.local)

    def money(self, row: RowReader, name: str) -> Decimal | None:
        column = self.cols[name]
        value = row.raw(column)
        if not value:
            return Decimal("0")
        split = split_money(value)
        if split is None:
            row.error(column, _("“%(value)s” is not an amount.") % {"value": value})
            return None
        number, currency = split
        if currency and self.currency and currency != self.currency:
            row.error(
                column,
                _("The order's amounts are in %(a)s and %(b)s; one order has one currency.")
                % {"a": self.currency, "b": currency},
            )
            return None
        self.currency = self.currency or currency
        return row.amount(column, text=number)

    def order_money(self, name: str) -> Decimal | None:
        """The summary's amount, else the sum over the item rows."""
        rows = self.summaries[:1] if self.summaries else self.items
        amounts = [self.money(row, name) for row in rows]
        if any(a is None for a in amounts):
            return None
        return sum(amounts, Decimal("0"))

    def build(self) -> NormalizedOrder | None:
        cols, head = self.cols, self.ordered[0]
        errors = head.errors
        if not self.items:
            head.error(cols["Item Number"], _("The order has no item rows."))
            return None
        external_id = self.first(ORDER_KEY).identifier(cols[ORDER_KEY], text_limit("external_id"))
        purchased_at = self.moment("Sale Date", required=True)
        paid_at = self.moment("Paid On Date")
        shipped = [
            r.moment(cols["Shipped On Date"], required=False, local=self.local)
            for r in self.ordered
        ]
        latest_ship_at = self.moment("Ship By Date")
        lines = self._lines()
        shipping = self.order_money("Shipping And Handling")
        taxes = [self.order_money(c) for c in ("eBay Collected Tax", "Seller Collected Tax")]
        total = self.order_money("Total Price")
        address = NormalizedAddress(
            name=self.text("Ship To Name", text_limit("ship_name")),
            phone=self.text("Ship To Phone", text_limit("ship_phone")),
            address1=self.text("Ship To Address 1", text_limit("ship_address1")),
            address2=self.text("Ship To Address 2", text_limit("ship_address2")),
            city=self.text("Ship To City", text_limit("ship_city")),
            state=self.text("Ship To State", text_limit("ship_state")),
            postcode=self.text("Ship To Zip", text_limit("ship_postcode")),
            country=self.first("Ship To Country").country(cols["Ship To Country"]),
        )
        if errors or purchased_at is None or shipping is None or total is None or None in taxes:
            return None
        tax = sum(taxes, Decimal("0"))
        subtotal = sum((line.line_total for line in lines), Decimal("0"))
        if not any(r.raw(cols["Total Price"]) for r in self.ordered):
            total = subtotal + shipping + tax
        summary_shipped = any(r.raw(cols["Shipped On Date"]) for r in self.summaries)
        items_shipped = all(r.raw(cols["Shipped On Date"]) for r in self.items)
        is_shipped = summary_shipped or items_shipped
        status = PlatformStatus(
            raw="shipped" if is_shipped else ("paid" if paid_at else "unpaid"),
            shipped=is_shipped,
            awaiting_payment=paid_at is None,
        )
        moments = [purchased_at, paid_at, *shipped]
        by_ebay = self.first("eBay Fulfillment Program").raw(cols["eBay Fulfillment Program"])
        return NormalizedOrder(
            external_id=external_id,
            reference=self.text("Sales Record Number", text_limit("platform_reference")),
            purchased_at=purchased_at,
            updated_at=max(m for m in moments if m is not None),
            status=status,
            currency=self.currency or self.store.currency,
            lines=lines,
            address=address,
            buyer_name=self.text("Buyer Name", text_limit("buyer_name"))
            or self.text("Buyer Username", text_limit("buyer_name")),
            buyer_email=self.text("Buyer Email", text_limit("buyer_email")),
            buyer_note=self.text("Buyer Note", NOTE_LIMIT),
            subtotal=cents(subtotal),
            shipping=cents(shipping),
            tax=cents(tax),
            total=cents(total),
            fulfilled_by_platform=by_ebay.casefold() in _YES,
            ship_service=self.text("Shipping Service", text_limit("ship_service")),
            latest_ship_at=latest_ship_at,
        )

    def _lines(self) -> list[NormalizedLine]:
        cols, line_ids = self.cols, LineIds()
        lines = []
        for row in self.items:
            sku = row.identifier(cols["Custom Label"], line_text_limit("platform_sku"))
            quantity = row.quantity(cols["Quantity"])
            price = self.money(row, "Sold For")
            if price is not None and not row.raw(cols["Sold For"]):
                row.error(cols["Sold For"], _("This cell is required."))
                price = None
            item_number = row.identifier(
                cols["Item Number"], line_text_limit("platform_item_id"), required=False
            )
            transaction = row.raw(cols["Transaction ID"])
            if not sku or quantity is None or price is None:
                continue
            line_id = f"{item_number}-{transaction}" if item_number and transaction else ""
            if len(line_id) > line_text_limit("external_line_id") or not line_id:
                line_id = line_ids.next(item_number or sku)
            lines.append(
                NormalizedLine(
                    external_line_id=line_id,
                    platform_sku=sku,
                    quantity=quantity,
                    unit_price=price,
                    line_total=cents(price * quantity),
                    title=row.text(cols["Item Title"], line_text_limit("title")),
                    platform_item_id=item_number,
                )
            )
        return lines
