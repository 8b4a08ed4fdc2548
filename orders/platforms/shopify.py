"""Shopify Admin REST API: order sync, fulfilment with tracking, and the order mapping that the
webhooks share (webhook bodies are the REST order JSON).

Credentials (``store.get_credentials()``):

- ``access_token`` (required): the Admin API access token of the shop's app
  (``X-Shopify-Access-Token``), with ``read_orders`` and, to confirm shipments,
  ``write_merchant_managed_fulfillment_orders``.
- ``webhook_secret`` (optional): the secret webhooks are signed with; ``client_secret`` (the
  app's API secret key) is used when it is absent, which is what Shopify signs with for apps.

``store.site`` is the shop domain (``my-shop.myshopify.com``; a bare ``my-shop`` is completed).
``store.api_base_url`` replaces ``https://{shop}`` for a test server; the path
``/admin/api/{API_VERSION}`` is appended either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from django.utils.translation import gettext as _

from orders.models import Platform
from orders.normalized import (
    CENT,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    NormalizeError,
    PlatformStatus,
    clean_text,
    money,
    parse_timestamp,
    to_quantity,
)
from orders.platforms.base import (
    AuthError,
    Connector,
    OrderPage,
    PlatformError,
    body_of,
    iso_z,
)

API_VERSION = "2024-10"
PAGE_SIZE = 250  # the REST maximum
# Shopify's order index is near real time; a short overlap covers clock skew and late writes.
OVERLAP = timedelta(minutes=2)
# Fulfilment orders a merchant-managed fulfilment may be created for.
FULFILLABLE_STATES = {"open", "in_progress"}
BUYER_NOTE_LIMIT = 5000


def shop_domain(site: str) -> str:
    """``my-shop.myshopify.com`` from what a person typed into the store's site field."""
    text = (site or "").strip().lower()
    if "//" in text:
        text = urlsplit(text).netloc
    text = text.split("/", 1)[0]
    if text and "." not in text:
        text = f"{text}.myshopify.com"
    return text


def _name(address: Mapping[str, Any]) -> str:
    name = address.get("name")
    if not name:
        name = " ".join(str(p) for p in (address.get("first_name"), address.get("last_name")) if p)
    return clean_text(name, 200)


def order_status(order: Mapping[str, Any]) -> PlatformStatus:
    """Shopify has no single order status: payment, fulfilment and cancellation are separate
    fields. ``raw`` keeps all three (``paid/unfulfilled``, ``refunded/unfulfilled/cancelled``)."""
    financial = str(order.get("financial_status") or "")
    fulfillment = str(order.get("fulfillment_status") or "unfulfilled")
    cancelled = bool(order.get("cancelled_at"))
    raw = "/".join(p for p in (financial, fulfillment, "cancelled" if cancelled else "") if p)
    return PlatformStatus(
        raw=raw[:40],
        cancelled=cancelled,
        shipped=fulfillment == "fulfilled",
        awaiting_payment=financial == "pending",
    )


def normalize_order(order: Mapping[str, Any]) -> NormalizedOrder:
    """A REST (or webhook) order as a ``NormalizedOrder``.

    Line ``price`` is already a unit price. Lines use ``current_quantity`` (what is left after
    order edits) when Shopify sends it, except on a cancelled order, which keeps what was
    ordered for the record. A line without a SKU is paired by its variant id.
    """
    if order.get("id") in (None, ""):
        raise NormalizeError("id", "is required")
    external_id = clean_text(order["id"], 64)
    currency = clean_text(order.get("currency"), 3).upper()
    if len(currency) != 3:
        raise NormalizeError("currency", f"is not a currency code: {order.get('currency')!r}")
    status = order_status(order)

    lines: list[NormalizedLine] = []
    for index, item in enumerate(order.get("line_items") or []):
        field = f"line_items[{index}]"
        if item.get("id") in (None, ""):
            raise NormalizeError(f"{field}.id", "is required")
        key = "current_quantity" if "current_quantity" in item and not status.cancelled else None
        raw_quantity = item.get(key or "quantity")
        if raw_quantity in (0, "0"):  # removed by an order edit
            continue
        quantity = to_quantity(raw_quantity, f"{field}.{key or 'quantity'}")
        unit_price = money(item.get("price"), f"{field}.price")
        variant = item.get("variant_id") or item.get("product_id")
        title = item.get("name") or " - ".join(
            str(p) for p in (item.get("title"), item.get("variant_title")) if p
        )
        lines.append(
            NormalizedLine(
                external_line_id=clean_text(item["id"], 64),
                platform_sku=clean_text(item.get("sku"), 100)
                or (f"variant-{variant}" if variant else f"line-{item['id']}"),
                quantity=quantity,
                unit_price=unit_price,
                line_total=(unit_price * quantity).quantize(CENT),
                title=clean_text(title, 500),
                platform_item_id=clean_text(variant, 64),
            )
        )

    shipping_lines = order.get("shipping_lines") or []
    shipping = sum(
        (money(s.get("price"), f"shipping_lines[{i}].price") for i, s in enumerate(shipping_lines)),
        Decimal("0"),
    )
    if order.get("total_line_items_price") not in (None, ""):
        subtotal = money(order["total_line_items_price"], "total_line_items_price")
    else:
        subtotal = sum((line.line_total for line in lines), Decimal("0"))
    address = order.get("shipping_address") or {}
    billing = order.get("billing_address") or {}
    customer = order.get("customer") or {}
    buyer_name = _name(customer) or _name(billing) or _name(address)
    return NormalizedOrder(
        external_id=external_id,
        reference=clean_text(order.get("name"), 64),
        purchased_at=parse_timestamp(order.get("created_at"), "created_at"),
        updated_at=parse_timestamp(
            order.get("updated_at") or order.get("created_at"), "updated_at"
        ),
        status=status,
        currency=currency,
        lines=lines,
        address=NormalizedAddress(
            name=_name(address),
            company=clean_text(address.get("company"), 200),
            phone=clean_text(address.get("phone"), 50),
            address1=clean_text(address.get("address1"), 300),
            address2=clean_text(address.get("address2"), 300),
            city=clean_text(address.get("city"), 100),
            state=clean_text(address.get("province_code") or address.get("province"), 100),
            postcode=clean_text(address.get("zip"), 20),
            country=clean_text(address.get("country_code"), 2).upper(),
        ),
        buyer_name=buyer_name,
        buyer_email=clean_text(
            order.get("email") or order.get("contact_email") or customer.get("email"), 254
        ),
        buyer_note=clean_text(order.get("note"), BUYER_NOTE_LIMIT),
        subtotal=subtotal,
        shipping=shipping,
        tax=money(order.get("total_tax"), "total_tax"),
        discount=money(order.get("total_discounts"), "total_discounts"),
        total=money(order.get("total_price"), "total_price"),
        ship_service=clean_text(shipping_lines[0].get("title") if shipping_lines else "", 100),
    )


class ShopifyConnector(Connector):
    """The Admin REST API of one shop."""

    platform = Platform.SHOPIFY
    platform_label = "Shopify"
    overlap = OVERLAP

    def __init__(self, store: Any, **kwargs: Any):
        super().__init__(store, **kwargs)
        root = store.api_base_url.rstrip("/") if store.api_base_url else ""
        if not root:
            domain = shop_domain(store.site)
            if not domain:
                raise PlatformError(_("Set the Shopify store's site to its shop domain."))
            root = f"https://{domain}"
        self.base_url = f"{root}/admin/api/{API_VERSION}"

    def default_headers(self) -> dict[str, str]:
        token = self.credentials.get("access_token")
        if not token:
            raise AuthError(_("The Shopify store lacks its access_token credential."))
        return {"X-Shopify-Access-Token": str(token), "Accept": "application/json"}

    def error_from(self, response: httpx.Response) -> PlatformError:
        """``{"errors": "text"}``, ``{"errors": {"field": ["message"]}}``, ``{"errors":
        ["message"]}`` or ``{"error": "text"}``."""
        body = body_of(response)
        errors: Any = None
        if isinstance(body, dict):
            errors = body.get("errors", body.get("error"))
        if isinstance(errors, dict):
            detail = "; ".join(
                f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                for key, value in errors.items()
            )
        elif isinstance(errors, list):
            detail = "; ".join(map(str, errors))
        elif errors:
            detail = str(errors)
        else:
            detail = response.reason_phrase or ""
        message = _("Shopify answered HTTP %(status)s: %(detail)s") % {
            "status": response.status_code,
            "detail": detail,
        }
        cls = AuthError if response.status_code in (401, 403) else PlatformError
        return cls(message, status=response.status_code, body=body)

    # ---------------------------------------------------------------------- orders
    def fetch_orders(self, updated_since: datetime, cursor: str | None) -> OrderPage:
        """orders.json oldest update first. A ``cursor`` is the ``page_info`` of the previous
        page's ``Link: <...>; rel="next"``; with it Shopify allows only ``limit``."""
        if cursor:
            params: dict[str, Any] = {"limit": PAGE_SIZE, "page_info": cursor}
        else:
            params = {
                "status": "any",
                "updated_at_min": iso_z(updated_since - self.overlap),
                "limit": PAGE_SIZE,
                "order": "updated_at asc",
            }
        response = self.request("GET", f"{self.base_url}/orders.json", params=params)
        body = self.read_json(response)
        raw_orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(raw_orders, list):
            raise PlatformError(
                _("Shopify sent a response without orders."),
                status=response.status_code,
                body=body,
            )
        orders: list[NormalizedOrder] = []
        rejected: list[tuple[str, str]] = []
        for raw in raw_orders:
            try:
                orders.append(normalize_order(raw))
            except NormalizeError as exc:
                rejected.append((str(raw.get("id") or ""), str(exc)))
        return OrderPage(
            orders=orders,
            next_cursor=next_page_info(response),
            high_watermark=max((o.updated_at for o in orders), default=None),
            rejected=rejected,
        )

    # ---------------------------------------------------------------------- shipping
    def confirm_shipment(
        self,
        *,
        external_id: str,
        carrier_code: str,
        tracking_number: str,
        ship_date: datetime | None = None,
        items: Sequence[tuple[str, int]] = (),
        tracking_url: str = "",
        notify_customer: bool = True,
    ) -> None:
        """Create the fulfilment through the order's fulfilment orders (the only way since
        2023-01): read them, then POST one fulfilment per assigned location with the tracking.

        ``items`` are ``(line_item id, quantity)``; empty means everything still open.
        ``carrier_code`` goes to ``tracking_info.company`` (a Shopify-known name such as
        "DHL Express" gets a tracking link for free). Shopify dates the fulfilment itself, so
        ``ship_date`` is not sent.
        """
        response = self.request(
            "GET",
            f"{self.base_url}/orders/{quote(str(external_id), safe='')}/fulfillment_orders.json",
        )
        body = self.read_json(response)
        fulfillment_orders = [
            fo
            for fo in (body.get("fulfillment_orders") or [] if isinstance(body, dict) else [])
            if fo.get("status") in FULFILLABLE_STATES
            and "create_fulfillment" in fo.get("supported_actions", ["create_fulfillment"])
        ]
        if not fulfillment_orders:
            raise PlatformError(
                _("Shopify order %(id)s has no open fulfilment order to ship.")
                % {"id": external_id}
            )
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        if items:
            wanted = {str(line): int(qty) for line, qty in items}
            for fo in fulfillment_orders:
                picked = []
                for line in fo.get("line_items") or []:
                    key = str(line.get("line_item_id"))
                    take = min(wanted.get(key, 0), int(line.get("fulfillable_quantity") or 0))
                    if take > 0:
                        picked.append({"id": line["id"], "quantity": take})
                        wanted[key] -= take
                if picked:
                    groups[fo.get("assigned_location_id")].append(
                        {"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": picked}
                    )
            short = sorted(f"{key} × {qty}" for key, qty in wanted.items() if qty > 0)
            if short:
                raise PlatformError(
                    _("Shopify order %(id)s has no open quantity left for: %(lines)s.")
                    % {"id": external_id, "lines": ", ".join(short)}
                )
        else:
            for fo in fulfillment_orders:
                groups[fo.get("assigned_location_id")].append({"fulfillment_order_id": fo["id"]})

        tracking: dict[str, str] = {"number": tracking_number, "company": carrier_code}
        if tracking_url:
            tracking["url"] = tracking_url
        for group in groups.values():
            self.request(
                "POST",
                f"{self.base_url}/fulfillments.json",
                json={
                    "fulfillment": {
                        "line_items_by_fulfillment_order": group,
                        "tracking_info": tracking,
                        "notify_customer": notify_customer,
                    }
                },
                expect=(201,),
            )


def next_page_info(response: httpx.Response) -> str | None:
    """``page_info`` from ``Link: <...&page_info=XYZ>; rel="next"``, or None on the last page."""
    url = response.links.get("next", {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page_info")
    return values[0] if values else None
