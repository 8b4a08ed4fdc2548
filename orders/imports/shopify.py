"""Shopify's orders export (Admin → Orders → Export, "CSV for Excel" or plain CSV).

The shape (``/work/shared/formats`` §2, the header three independent fixtures agree on): one
row per line item; the rows of an order share ``Name`` (``#1001``) and the order's own fields
(status, money, dates, addresses, notes) are filled on its first row only, so they are read
from there. Columns are found by name.

What the rows mean here:

- The order id is ``Id`` (the numeric id the Admin API uses, so an order imported from a file
  and later synced is one order) when the file has it, else ``Name``.
- ``Lineitem price`` is a unit price; the line total is unit × quantity.
- ``Created at`` and the other times look like ``2024-05-01 10:00:00 +0000``; one without an
  offset is refused. The export has no "updated at": the latest of created, paid, fulfilled
  and cancelled stands in for it.
- ``Financial Status`` pending → awaiting payment; a ``Cancelled at`` → cancelled;
  ``Fulfillment Status`` fulfilled → shipped.
- Excel-minded exports write ``'02134`` so a postcode keeps its leading zero; the ``'`` goes.
- The ship-to country is a code (``US``); a name is translated (``countries``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from orders.imports.common import (
    NOTE_LIMIT,
    Column,
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

LABEL = "Shopify"
ORDER_KEY = "Name"
REQUIRED = (ORDER_KEY, "Created at", "Lineitem quantity", "Lineitem price", "Lineitem sku")


def matches(header: list[str]) -> bool:
    """Whether a header row is this export's (its order name and line item columns)."""
    return {"name", "lineitemquantity", "lineitemsku"} <= keys_of(header)


def map_status(financial: str, fulfillment: str, cancelled: bool) -> PlatformStatus:
    """Shopify's financial and fulfilment status (and cancellation) as the workflow flags."""
    financial, fulfillment = financial.strip().casefold(), fulfillment.strip().casefold()
    parts = ["cancelled"] if cancelled else []
    parts += [financial or "unknown", fulfillment or "unfulfilled"]
    return PlatformStatus(
        raw="/".join(parts)[: text_limit("platform_status")],
        cancelled=cancelled,
        shipped=fulfillment == "fulfilled",
        awaiting_payment=financial == "pending",
    )


def parse(sheet: Sheet, *, store: Store) -> ParseResult:
    """The orders of a Shopify orders export; see the module docstring."""
    cols = Columns(sheet.header)
    cols.require(REQUIRED, label=LABEL)
    key = cols[ORDER_KEY]
    groups = group_rows(sheet.rows, key.get)

    def build(name: str, rows: list[Row], errors: list[RowError]) -> NormalizedOrder | None:
        return _order(name, rows, errors, cols=cols, store=store, strip=sheet.strip_controls)

    return build_orders(groups, build, key_column=key)


def _unquoted(row: RowReader, column: Column, limit: int) -> str:
    """A postcode or phone that Excel-minded exports prefix with ``'``."""
    return row.text(column, limit + 1).removeprefix("'").strip()[:limit]


def _order(
    name: str,
    rows: list[Row],
    errors: list[RowError],
    *,
    cols: Columns,
    store: Store,
    strip: bool,
) -> NormalizedOrder | None:
    number, first = rows[0]
    head = RowReader(number, first, errors, strip=strip)
    order_id = head.identifier(cols["Id"], text_limit("external_id"), required=False)
    external_id = order_id or head.identifier(cols[ORDER_KEY], text_limit("external_id"))
    purchased_at = head.moment(cols["Created at"])
    moments = [
        head.moment(cols[c], required=False) for c in ("Paid at", "Fulfilled at", "Cancelled at")
    ]
    cancelled = bool(head.raw(cols["Cancelled at"]))
    status = map_status(
        head.raw(cols["Financial Status"]), head.raw(cols["Fulfillment Status"]), cancelled
    )
    currency = head.currency(cols["Currency"], store.currency)
    money = {c: head.amount(cols[c]) for c in ("Subtotal", "Shipping", "Taxes", "Discount Amount")}
    total_given = bool(head.raw(cols["Total"]))
    total = head.amount(cols["Total"])
    address = NormalizedAddress(
        name=head.text(cols["Shipping Name"], text_limit("ship_name")),
        company=head.text(cols["Shipping Company"], text_limit("ship_company")),
        phone=_unquoted(head, cols["Shipping Phone"], text_limit("ship_phone"))
        or _unquoted(head, cols["Phone"], text_limit("ship_phone")),
        address1=head.text(cols["Shipping Address1"], text_limit("ship_address1"))
        or head.text(cols["Shipping Street"], text_limit("ship_address1")),
        address2=head.text(cols["Shipping Address2"], text_limit("ship_address2")),
        city=head.text(cols["Shipping City"], text_limit("ship_city")),
        state=head.text(cols["Shipping Province"], text_limit("ship_state")),
        postcode=_unquoted(head, cols["Shipping Zip"], text_limit("ship_postcode")),
        country=head.country(cols["Shipping Country"]),
    )
    lines: list[NormalizedLine] = []
    line_ids = LineIds()
    for number, cells in rows:
        row = RowReader(number, cells, errors, strip=strip)
        sku = row.identifier(cols["Lineitem sku"], line_text_limit("platform_sku"))
        quantity = row.quantity(cols["Lineitem quantity"])
        price = row.amount(cols["Lineitem price"], required=True)
        if not sku or quantity is None or price is None:
            continue
        lines.append(
            NormalizedLine(
                external_line_id=line_ids.next(sku),
                platform_sku=sku,
                quantity=quantity,
                unit_price=price,
                line_total=cents(price * quantity),
                title=row.text(cols["Lineitem name"], line_text_limit("title")),
            )
        )
    if errors or purchased_at is None or not external_id:
        return None
    subtotal = money["Subtotal"] or sum((line.line_total for line in lines), Decimal("0"))
    shipping, tax, discount = money["Shipping"], money["Taxes"], money["Discount Amount"]
    if not total_given:
        total = subtotal + shipping + tax - discount
    known: list[datetime] = [purchased_at, *(m for m in moments if m is not None)]
    return NormalizedOrder(
        external_id=external_id,
        # with an Id column the id is Shopify's number and the Name (#1001) the reference
        reference=head.text(cols[ORDER_KEY], text_limit("platform_reference")) if order_id else "",
        purchased_at=purchased_at,
        updated_at=max(known),
        status=status,
        currency=currency,
        lines=lines,
        address=address,
        buyer_name=head.text(cols["Billing Name"], text_limit("buyer_name")) or address.name,
        buyer_email=head.text(cols["Email"], text_limit("buyer_email")),
        buyer_note=head.text(cols["Notes"], NOTE_LIMIT),
        subtotal=cents(subtotal),
        shipping=cents(shipping),
        tax=cents(tax),
        discount=cents(discount),
        total=cents(total),
        ship_service=head.text(cols["Shipping Method"], text_limit("ship_service")),
    )
