"""Amazon Selling Partner API, Orders v0: order sync and shipment confirmation.

Credentials (``store.get_credentials()``):

- ``lwa_client_id``, ``lwa_client_secret``, ``refresh_token`` (required): Login with Amazon
  credentials of the app and the seller's authorisation; exchanged for an access token that
  lasts an hour and is reused until shortly before it expires.
- ``restricted_data`` (optional, "true"): the app holds the Direct-to-Consumer Shipping role, so
  ``getOrders`` is called with a Restricted Data Token and returns the buyer's name and street
  address. Without it Amazon sends only city, region, postcode and country, and merchant-
  fulfilled orders arrive with an incomplete address (held for a person to look at).

``store.site`` is the marketplace id (``ATVPDKIKX0DER``); it also picks the regional host.
``store.api_base_url`` replaces the host for a sandbox or a test server, and then the token
URL is ``{api_base_url}/auth/o2/token`` too, so one local server can play both parts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from orders.models import Platform
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    NormalizeError,
    PlatformStatus,
    clean_text,
    money,
    parse_timestamp,
    to_quantity,
    unit_price_of,
)
from orders.platforms.base import (
    AuthError,
    Connector,
    OrderPage,
    PlatformError,
    RateLimited,
    body_of,
    iso_z,
)

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REGION_HOSTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
# Marketplace id -> SP-API region (Amazon's published marketplace table).
MARKETPLACE_REGIONS = {
    # North America
    "ATVPDKIKX0DER": "na",  # US
    "A2EUQ1WTGCTBG2": "na",  # CA
    "A1AM78C64UM0Y8": "na",  # MX
    "A2Q3Y263D00KWC": "na",  # BR
    # Europe, Middle East, India, Africa
    "A28R8C7NBKEWEA": "eu",  # IE
    "A1RKKUPIHCS9HS": "eu",  # ES
    "A1F83G8C2ARO7P": "eu",  # UK
    "A13V1IB3VIYZZH": "eu",  # FR
    "AMEN7PMS3EDWL": "eu",  # BE
    "A1805IZSGTT6HS": "eu",  # NL
    "A1PA6795UKMFR9": "eu",  # DE
    "APJ6JRA9NG5V4": "eu",  # IT
    "A2NODRKZP88ZB9": "eu",  # SE
    "AE08WJ6YKNBMC": "eu",  # ZA
    "A1C3SOZRARQ6R3": "eu",  # PL
    "ARBP9OOSHTCHU": "eu",  # EG
    "A33AVAJ2PDY3EV": "eu",  # TR
    "A17E79C6D8DWNP": "eu",  # SA
    "A2VIGQ35RCS4UG": "eu",  # AE
    "A21TJRUUN4KGV": "eu",  # IN
    # Far East
    "A19VAU5U5O7RUS": "fe",  # SG
    "A39IBJ37TRP1C6": "fe",  # AU
    "A1VC38T7YXB528": "fe",  # JP
}

ORDERS_PATH = "/orders/v0/orders"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
PAGE_SIZE = 100  # MaxResultsPerPage: 1-100
# Amazon indexes updates a couple of minutes late: start each listing this far back. Refetched
# orders are harmless (the upsert is idempotent), missed ones are not.
OVERLAP = timedelta(minutes=5)
# LastUpdatedAfter must lie at least two minutes in the past.
MIN_AGE = timedelta(minutes=2)
# Refresh a token this long before Amazon says it expires, so no request carries a dead one.
TOKEN_MARGIN = 120.0

AWAITING_PAYMENT = {"Pending", "PendingAvailability"}
SHIPPED = {"Shipped", "InvoiceUnconfirmed"}
CANCELLED = {"Canceled"}

MONEY_ZERO = Decimal("0")


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _amount(item: Mapping[str, Any], name: str, currency: str) -> Decimal:
    """An Amazon Money object (``{"CurrencyCode": "EUR", "Amount": "19.98"}``) as a Decimal in
    the order's currency; absent means zero (Pending orders carry no prices)."""
    value = item.get(name)
    if not value:
        return MONEY_ZERO
    if not isinstance(value, Mapping):
        raise NormalizeError(name, f"is not a money object: {value!r}")
    code = value.get("CurrencyCode")
    if code and currency and code != currency:
        raise NormalizeError(name, f"is in {code}, the order is in {currency}")
    return money(value.get("Amount"), f"{name}.Amount")


def order_status(raw: str) -> PlatformStatus:
    """Amazon's OrderStatus in workflow terms. Unshipped and PartiallyShipped are ours to ship;
    Unfulfillable only happens to Amazon-fulfilled (multi-channel) orders."""
    return PlatformStatus(
        raw=raw,
        cancelled=raw in CANCELLED,
        shipped=raw in SHIPPED,
        awaiting_payment=raw in AWAITING_PAYMENT,
    )


def normalize_order(
    order: Mapping[str, Any], items: Sequence[Mapping[str, Any]], *, default_currency: str
) -> NormalizedOrder:
    """One getOrders ``Order`` and its getOrderItems ``OrderItems`` as a ``NormalizedOrder``.

    ``ItemPrice`` is unit × quantity, so the unit price is divided out. Shipping, taxes and
    discounts are summed over the items; ``OrderTotal`` is what the buyer paid and is missing
    while an order is Pending, when the sum of the parts stands in for it.
    """
    external_id = clean_text(order.get("AmazonOrderId"), 64)
    if not external_id:
        raise NormalizeError("AmazonOrderId", "is required")
    status_raw = clean_text(order.get("OrderStatus"), 40)
    if not status_raw:
        raise NormalizeError("OrderStatus", "is required")
    order_total = order.get("OrderTotal") or {}
    currency = str(order_total.get("CurrencyCode") or "")
    if not currency:
        currency = next(
            (
                str(item[name]["CurrencyCode"])
                for item in items
                for name in ("ItemPrice", "ItemTax", "ShippingPrice")
                if isinstance(item.get(name), Mapping) and item[name].get("CurrencyCode")
            ),
            default_currency,
        )

    lines: list[NormalizedLine] = []
    subtotal = shipping = tax = discount = MONEY_ZERO
    for index, item in enumerate(items):
        line_id = clean_text(item.get("OrderItemId"), 64)
        if not line_id:
            raise NormalizeError(f"OrderItems[{index}].OrderItemId", "is required")
        shipping += _amount(item, "ShippingPrice", currency)
        tax += _amount(item, "ItemTax", currency) + _amount(item, "ShippingTax", currency)
        # Discounts arrive as positive amounts; abs() keeps a signed one from adding up.
        discount += abs(_amount(item, "PromotionDiscount", currency))
        discount += abs(_amount(item, "ShippingDiscount", currency))
        line_total = _amount(item, "ItemPrice", currency)
        subtotal += line_total
        # A cancelled item keeps its line with QuantityOrdered 0: nothing to ship or reserve.
        if item.get("QuantityOrdered") in (0, "0"):
            continue
        quantity = to_quantity(item.get("QuantityOrdered"), f"{line_id}.QuantityOrdered")
        asin = clean_text(item.get("ASIN"), 64)
        lines.append(
            NormalizedLine(
                external_line_id=line_id,
                platform_sku=clean_text(item.get("SellerSKU"), 100) or asin,
                quantity=quantity,
                unit_price=unit_price_of(line_total, quantity),
                line_total=line_total,
                title=clean_text(item.get("Title"), 500),
                platform_item_id=asin,
            )
        )
    if order_total.get("Amount") not in (None, ""):
        total = money(order_total.get("Amount"), "OrderTotal.Amount")
    else:
        total = subtotal + shipping + tax - discount

    address = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    line2 = " ".join(
        part for part in (clean_text(address.get(k), 300) for k in ("AddressLine2", "AddressLine3"))
    )
    latest_ship = order.get("LatestShipDate")
    channel = clean_text(order.get("FulfillmentChannel"), 20)
    seller_order_id = clean_text(order.get("SellerOrderId"), 64)
    return NormalizedOrder(
        external_id=external_id,
        reference="" if seller_order_id == external_id else seller_order_id,
        purchased_at=parse_timestamp(order.get("PurchaseDate"), "PurchaseDate"),
        updated_at=parse_timestamp(order.get("LastUpdateDate"), "LastUpdateDate"),
        status=order_status(status_raw),
        currency=currency,
        lines=lines,
        address=NormalizedAddress(
            name=clean_text(address.get("Name"), 200),
            company=clean_text(address.get("CompanyName"), 200),
            phone=clean_text(address.get("Phone"), 50),
            address1=clean_text(address.get("AddressLine1"), 300),
            address2=line2.strip()[:300],
            city=clean_text(address.get("City") or address.get("District"), 100),
            state=clean_text(address.get("StateOrRegion") or address.get("County"), 100),
            postcode=clean_text(address.get("PostalCode"), 20),
            country=clean_text(address.get("CountryCode"), 2).upper(),
        ),
        buyer_name=clean_text(buyer.get("BuyerName") or address.get("Name"), 200),
        buyer_email=clean_text(buyer.get("BuyerEmail"), 254),
        subtotal=subtotal,
        shipping=shipping,
        tax=tax,
        discount=discount,
        total=total,
        fulfilled_by_platform=channel == "AFN",
        fulfillment_channel=channel,
        ship_service=clean_text(
            order.get("ShipServiceLevel") or order.get("ShipmentServiceLevelCategory"), 100
        ),
        latest_ship_at=parse_timestamp(latest_ship, "LatestShipDate") if latest_ship else None,
    )


class AmazonConnector(Connector):
    """Orders v0 for one seller in one marketplace (``store.site``)."""

    platform = Platform.AMAZON
    platform_label = "Amazon"
    overlap = OVERLAP

    def __init__(
        self,
        store: Any,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: Any,
    ):
        super().__init__(store, **kwargs)
        self.clock = clock
        self.now = now
        self.marketplace_id = (store.site or "").strip()
        if store.api_base_url:
            self.base_url = store.api_base_url.rstrip("/")
            self.token_url = f"{self.base_url}/auth/o2/token"
        else:
            region = MARKETPLACE_REGIONS.get(self.marketplace_id)
            if region is None:
                raise PlatformError(
                    _("Unknown Amazon marketplace id %(site)r: set the store's site.")
                    % {"site": self.marketplace_id}
                )
            self.base_url = REGION_HOSTS[region]
            self.token_url = LWA_TOKEN_URL
        self.use_rdt = _truthy(self.credentials.get("restricted_data", ""))
        self._token: str | None = None
        self._token_expires = 0.0
        self._rdt: str | None = None
        self._rdt_expires = 0.0
        self.token_refreshes = 0  # how many LWA exchanges this connector made (for the log)

    # ---------------------------------------------------------------------- auth
    def _access_token(self) -> str:
        if self._token and self.clock() < self._token_expires - TOKEN_MARGIN:
            return self._token
        missing = [
            key
            for key in ("lwa_client_id", "lwa_client_secret", "refresh_token")
            if not self.credentials.get(key)
        ]
        if missing:
            raise AuthError(
                _("The Amazon store lacks these credentials: %(keys)s.")
                % {"keys": ", ".join(missing)}
            )
        started = self.clock()
        try:
            response = self.request(
                "POST",
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials["refresh_token"],
                    "client_id": self.credentials["lwa_client_id"],
                    "client_secret": self.credentials["lwa_client_secret"],
                },
                authenticated=False,
            )
        except PlatformError as exc:
            if exc.status in (400, 401, 403):  # invalid_grant, invalid_client, ...
                raise AuthError(
                    exc.message, status=exc.status, body=exc.body, code=exc.code
                ) from exc
            raise
        body = self.read_json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError(_("Amazon sent no access token."), status=response.status_code)
        self._token = str(token)
        self._token_expires = started + float(body.get("expires_in") or 3600)
        self.token_refreshes += 1
        return self._token

    def _restricted_token(self) -> str:
        """A Restricted Data Token for getOrders with buyer info and shipping address."""
        if self._rdt and self.clock() < self._rdt_expires - TOKEN_MARGIN:
            return self._rdt
        started = self.clock()
        response = self._call(
            "POST",
            RDT_PATH,
            json={
                "restrictedResources": [
                    {
                        "method": "GET",
                        "path": ORDERS_PATH,
                        "dataElements": ["buyerInfo", "shippingAddress"],
                    }
                ]
            },
        )
        body = self.read_json(response)
        token = body.get("restrictedDataToken") if isinstance(body, dict) else None
        if not token:
            raise AuthError(_("Amazon sent no restricted data token."))
        self._rdt = str(token)
        self._rdt_expires = started + float(body.get("expiresIn") or 3600)
        return self._rdt

    def default_headers(self) -> dict[str, str]:
        return {"x-amz-access-token": self._access_token(), "Accept": "application/json"}

    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        """Amazon often omits Retry-After on 429 but says its refill rate in
        ``x-amzn-RateLimit-Limit`` (requests per second): wait at least for one token."""
        delay = super().retry_delay(response, attempt)
        if response is not None and "Retry-After" not in response.headers:
            try:
                rate = float(response.headers.get("x-amzn-RateLimit-Limit", ""))
            except ValueError:
                rate = 0.0
            if rate > 0:
                delay = min(self.backoff_cap, max(delay, 1.0 / rate))
        return delay

    def _call(
        self, method: str, path: str, *, restricted: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """An SP-API request, with the Restricted Data Token instead of the access token when
        ``restricted``. A 403 with a token this connector had already used is retried once
        with fresh tokens: Amazon revokes tokens early now and then."""

        def send() -> httpx.Response:
            headers = {"x-amz-access-token": self._restricted_token()} if restricted else None
            return self.request(method, self.base_url + path, headers=headers, **kwargs)

        refreshes = self.token_refreshes
        try:
            return send()
        except AuthError:
            if self.token_refreshes != refreshes or self._token is None:
                raise
            self._token = self._rdt = None
            return send()

    def error_from(self, response: httpx.Response) -> PlatformError:
        """``{"errors": [{"code", "message", "details"}]}`` (SP-API) or ``{"error",
        "error_description"}`` (Login with Amazon)."""
        body = body_of(response)
        parts: list[str] = []
        codes: list[str] = []
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                if not isinstance(error, dict):
                    continue
                code = str(error.get("code") or "")
                codes.append(code)
                text = ": ".join(p for p in (code, str(error.get("message") or "")) if p)
                if error.get("details"):
                    text += f" ({error['details']})"
                parts.append(text)
            if body.get("error"):
                codes.append(str(body["error"]))
                parts.append(
                    ": ".join(str(p) for p in (body["error"], body.get("error_description")) if p)
                )
        detail = "; ".join(parts) or response.reason_phrase or ""
        message = _("Amazon answered HTTP %(status)s: %(detail)s") % {
            "status": response.status_code,
            "detail": detail,
        }
        cls = AuthError if response.status_code in (401, 403) else PlatformError
        return cls(message, status=response.status_code, body=body, code=codes[0] if codes else "")

    # ---------------------------------------------------------------------- orders
    def fetch_orders(self, updated_since: datetime, cursor: str | None) -> OrderPage:
        """One getOrders page with each order's items. With ``cursor`` (a NextToken) only
        MarketplaceIds and NextToken are sent: Amazon ties every other filter to the token."""
        params: dict[str, Any] = {"MarketplaceIds": self.marketplace_id}
        if cursor:
            params["NextToken"] = cursor
        else:
            after = min(updated_since - self.overlap, self.now() - MIN_AGE)
            params["LastUpdatedAfter"] = iso_z(after)
            params["MaxResultsPerPage"] = PAGE_SIZE
        payload = self._payload(
            self._call("GET", ORDERS_PATH, params=params, restricted=self.use_rdt)
        )
        orders: list[NormalizedOrder] = []
        rejected: list[tuple[str, str]] = []
        for raw in payload.get("Orders") or []:
            order_id = str(raw.get("AmazonOrderId") or "")
            try:
                items = self.order_items(order_id) if order_id else []
                orders.append(normalize_order(raw, items, default_currency=self.store.currency))
            except NormalizeError as exc:
                rejected.append((order_id, str(exc)))
            except PlatformError as exc:
                # Amazon refusing one order's items (400, 404) would fail this page on every
                # run; set it aside like an unreadable order. Credentials, rate limits and
                # outages stop the page: the whole run has to wait for them.
                if isinstance(exc, AuthError | RateLimited) or (exc.status or 500) >= 500:
                    raise
                rejected.append((order_id, str(exc)))
        marks = [o.updated_at for o in orders]
        if payload.get("LastUpdatedBefore"):
            with contextlib.suppress(NormalizeError):  # a hint only; the orders still count
                marks.append(parse_timestamp(payload["LastUpdatedBefore"], "LastUpdatedBefore"))
        return OrderPage(
            orders=orders,
            next_cursor=payload.get("NextToken") or None,
            high_watermark=min(max(marks), self.now()) if marks else None,
            rejected=rejected,
        )

    def order_items(self, order_id: str) -> list[dict]:
        """Every OrderItem of one order, following getOrderItems' own NextToken."""
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/orderItems"
        items: list[dict] = []
        token: str | None = None
        while True:
            params = {"NextToken": token} if token else None
            payload = self._payload(self._call("GET", path, params=params))
            items.extend(payload.get("OrderItems") or [])
            token = payload.get("NextToken") or None
            if not token:
                return items

    def _payload(self, response: httpx.Response) -> dict:
        body = self.read_json(response)
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise PlatformError(
                _("Amazon sent a response without a payload."),
                status=response.status_code,
                body=body,
            )
        return payload

    # ---------------------------------------------------------------------- shipping
    def confirm_shipment(
        self,
        *,
        external_id: str,
        carrier_code: str,
        tracking_number: str,
        ship_date: datetime | None = None,
        items: Sequence[tuple[str, int]] = (),
        marketplace_id: str | None = None,
        package_reference_id: str = "1",
        carrier_name: str = "",
        shipping_method: str = "",
    ) -> None:
        """confirmShipment for one package. ``items`` are ``(OrderItemId, quantity)``; empty
        means every item still unshipped (read from getOrderItems). Amazon answers 204."""
        if not items:
            items = []
            for item in self.order_items(external_id):
                ordered = int(item.get("QuantityOrdered") or 0)
                left = ordered - int(item.get("QuantityShipped") or 0)
                if left > 0:
                    items.append((str(item["OrderItemId"]), left))
            if not items:
                raise PlatformError(
                    _("Amazon order %(id)s has nothing left to ship.") % {"id": external_id}
                )
        package: dict[str, Any] = {
            "packageReferenceId": package_reference_id,
            "carrierCode": carrier_code,
            "trackingNumber": tracking_number,
            "shipDate": iso_z(ship_date or self.now()),
            "orderItems": [{"orderItemId": line, "quantity": int(qty)} for line, qty in items],
        }
        if carrier_name:
            package["carrierName"] = carrier_name
        if shipping_method:
            package["shippingMethod"] = shipping_method
        self._call(
            "POST",
            f"{ORDERS_PATH}/{quote(external_id, safe='')}/shipmentConfirmation",
            json={
                "marketplaceId": marketplace_id or self.marketplace_id,
                "packageDetail": package,
            },
            expect=(204,),
        )
