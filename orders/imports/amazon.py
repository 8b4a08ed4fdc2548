"""Amazon's "All Orders" report (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` and
its ``_BY_ORDER_DATE_`` twin), as a seller downloads it from Seller Central or the Reports API.

The shape (``/work/shared/formats`` §1, from the SP-API report documentation): tab separated,
UTF-8, one row per order item, the rows of an order share ``amazon-order-id``. Columns are
found by header name because real files differ: older ones add ``url``, newer ones
``is-iba``, ``number-of-items``, ``tax-collection-*``, ``address-type``; the order-date
variant adds ``cpf``; some are reordered.

What the rows mean here:

- ``item-price`` is the line total (unit × quantity; empty while an order is Pending), so the
  unit price is derived. Shipping, taxes, gift wrap and promotion discounts are per item and
  summed into the order; promotion discounts come negative and count as discounts.
- ``fulfillment-channel`` ``Amazon`` is FBA (AFN): imported for sales and profit, never
  allocated (``fulfilled_by_platform``).
- ``order-status``: Pending (and PendingAvailability) → awaiting payment, Cancelled →
  cancelled, Shipped / Complete → shipped; others (Unshipped, PartiallyShipped, Shipping)
  carry no flag.
- Dates carry an offset (``2017-06-17T08:04:21+00:00``); a time without one is refused.
- No buyer name or street in this report: the city, state, postcode and country are kept;
  the name and street columns of other Amazon order reports are read when present.
- The line id is ``order-item-id`` when the file has it, else the SKU (``SKU#2`` for its
  second row in the same order): the report's core columns have no item id.
- A cancelled item with quantity 0 (how Amazon lists items cancelled before shipping) is no
  line: there is nothing to allocate, price or ship.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from orders.imports.common import (
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
    unit_price_of,
)

LABEL = "Amazon"
ORDER_ID = "amazon-order-id"
REQUIRED = (
    ORDER_ID,
    "purchase-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
    "currency",
    "item-price",
)


def matches(header: list[str]) -> bool:
    """Whether a header row is this report's (its order id and SKU columns)."""
    keys = keys_of(header)
    return {"amazon-order-id", "sku"} <= keys


def map_status(raw: str) -> PlatformStatus:
    """Amazon's order status, as the report writes it, mapped to the workflow flags."""
    status = raw.strip().casefold()
    return PlatformStatus(
        raw=raw.strip()[: text_limit("platform_status")],
        awaiting_payment=status.startswith("pending"),
        cancelled=status.startswith(("cancel", "canceled")),
        shipped=status.startswith(("shipped", "complete", "delivered")),
    )


def parse(sheet: Sheet, *, store: Store) -> ParseResult:
    """The orders of an All Orders report; see the module docstring."""
    cols = Columns(sheet.header)
    cols.require(REQUIRED, label=LABEL)
    key = cols[ORDER_ID]
    groups = group_rows(sheet.rows, key.get)

    def build(order_id: str, rows: list[Row], errors: list[RowError]) -> NormalizedOrder | None:
        return _order(order_id, rows, errors, cols=cols, store=store, strip=sheet.strip_controls)

    return build_orders(groups, build, key_column=key)


def _order(
    order_id: str,
    rows: list[Row],
    errors: list[RowError],
    *,
    cols: Columns,
    store: Store,
    strip: bool,
) -> NormalizedOrder | None:
    number, first = rows[0]
    head = RowReader(number, first, errors, strip=strip)
    external_id = head.identifier(cols[ORDER_ID], text_limit("external_id"))
    purchased_at = head.moment(cols["purchase-date"])
    updated_at = head.moment(cols["last-updated-date"], required=False) or purchased_at
    status = map_status(head.raw(cols["order-status"]))
    afn = head.raw(cols["fulfillment-channel"]).casefold() in {"amazon", "afn"}
    address = NormalizedAddress(
        name=head.text(cols["recipient-name"], text_limit("ship_name")),
        phone=head.text(cols["ship-phone-number"], text_limit("ship_phone")),
        address1=head.text(cols["ship-address-1"], text_limit("ship_address1")),
        address2=head.text(cols["ship-address-2"], text_limit("ship_address2")),
        city=head.text(cols["ship-city"], text_limit("ship_city")),
        state=head.text(cols["ship-state"], text_limit("ship_state")),
        postcode=head.text(cols["ship-postal-code"], text_limit("ship_postcode")),
        country=head.country(cols["ship-country"]),
    )
    currency = ""
    lines: list[NormalizedLine] = []
    line_ids = LineIds()
    totals = dict.fromkeys(("subtotal", "shipping", "tax", "gift", "discount"), Decimal("0"))
    for number, cells in rows:
        row = RowReader(number, cells, errors, strip=strip)
        row_currency = row.currency(cols["currency"], "")
        if row_currency and currency and row_currency != currency:
            row.error(
                cols["currency"],
                _("The order's rows are in %(a)s and %(b)s; one order has one currency.")
                % {"a": currency, "b": row_currency},
            )
        currency = currency or row_currency
        cancelled_item = status.cancelled or row.raw(cols["item-status"]).casefold().startswith(
            "cancel"
        )
        if cancelled_item and row.raw(cols["quantity"]) == "0":
            continue
        sku = row.identifier(cols["sku"], line_text_limit("platform_sku"))
        quantity = row.quantity(cols["quantity"])
        price = row.amount(cols["item-price"])
        shipping = row.amount(cols["shipping-price"])
        taxes = [row.amount(cols[c]) for c in ("item-tax", "shipping-tax", "gift-wrap-tax")]
        gift = row.amount(cols["gift-wrap-price"])
        discounts = [
            row.amount(cols[c], signed=True)
            for c in ("item-promotion-discount", "ship-promotion-discount")
        ]
        values = [price, shipping, gift, *taxes, *discounts]
        if not sku or quantity is None or any(v is None for v in values):
            continue
        item_id = row.identifier(
            cols["order-item-id"], line_text_limit("external_line_id"), required=False
        )
        lines.append(
            NormalizedLine(
                external_line_id=item_id or line_ids.next(sku),
                platform_sku=sku,
                quantity=quantity,
                unit_price=unit_price_of(price, quantity),
                line_total=cents(price),
                title=row.text(cols["product-name"], line_text_limit("title")),
                platform_item_id=row.text(cols["asin"], line_text_limit("platform_item_id")),
            )
        )
        totals["subtotal"] += price
        totals["shipping"] += shipping
        totals["tax"] += sum(taxes, Decimal("0"))
        totals["gift"] += gift
        totals["discount"] += sum((abs(d) for d in discounts), Decimal("0"))
    if errors or purchased_at is None or updated_at is None or not external_id:
        return None
    charges = totals["subtotal"] + totals["shipping"] + totals["gift"] + totals["tax"]
    merchant_order_id = head.text(cols["merchant-order-id"], text_limit("platform_reference"))
    return NormalizedOrder(
        external_id=external_id,
        reference="" if merchant_order_id == external_id else merchant_order_id,
        purchased_at=purchased_at,
        updated_at=updated_at,
        status=status,
        currency=currency or store.currency,
        lines=lines,
        address=address,
        buyer_name=head.text(cols["buyer-name"], text_limit("buyer_name")),
        buyer_email=head.text(cols["buyer-email"], text_limit("buyer_email")),
        subtotal=cents(totals["subtotal"]),
        # Gift wrap is a charge for the buyer like shipping; the order has no column of its own.
        shipping=cents(totals["shipping"] + totals["gift"]),
        tax=cents(totals["tax"]),
        discount=cents(totals["discount"]),
        total=cents(charges - totals["discount"]),
        fulfilled_by_platform=afn,
        fulfillment_channel="AFN" if afn else "MFN",
        ship_service=head.text(cols["ship-service-level"], text_limit("ship_service")),
    )
