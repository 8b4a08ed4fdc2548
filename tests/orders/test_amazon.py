"""Amazon SP-API Orders v0 connector against fixtures in the documented shapes, served through
``httpx.MockTransport`` (no network, no sleeping)."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from django.utils import translation

from orders.models import Platform
from orders.normalized import NormalizedAddress, NormalizedLine, PlatformStatus
from orders.platforms import AuthError, PlatformError, RateLimited, connector_for
from orders.platforms.amazon import AmazonConnector
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amazon"
DE = "A1PA6795UKMFR9"
BR = "A2Q3Y263D00KWC"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CREDENTIALS = {
    "lwa_client_id": "amzn1.application-oa2-client.test",
    "lwa_client_secret": "lwa-secret",
    "refresh_token": "Atzr|test-refresh-token",
}
PAGE2_TOKEN = "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4-page2"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class AmazonSandbox:
    """LWA + SP-API Orders v0 as a MockTransport handler: serves the fixtures by path and
    NextToken, records every request, and plays scripted answers first when told to."""

    ITEMS = {
        "302-1234567-1000001": {
            None: "order_items_1000001_page1.json",
            "items-1000001-tok2": "order_items_1000001_page2.json",
        },
        "302-1234567-1000002": {None: "order_items_1000002.json"},
        "302-1234567-1000003": {None: "order_items_1000003.json"},
        "302-1234567-1000004": {None: "order_items_1000004.json"},
        "302-1234567-1000005": {None: "order_items_1000005.json"},
        "701-0000001-0000001": {None: "order_items_br.json"},
    }

    def __init__(self, pages: dict | None = None):
        self.pages = pages or {None: "orders_page1.json", PAGE2_TOKEN: "orders_page2.json"}
        self.requests: list[httpx.Request] = []
        self.scripted: list[tuple[str, httpx.Response]] = []
        self.token_counter = 0

    def then(self, path_pattern: str, response: httpx.Response) -> "AmazonSandbox":
        """Answer the next request whose path matches ``path_pattern`` with ``response``."""
        self.scripted.append((path_pattern, response))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for index, (pattern, response) in enumerate(self.scripted):
            if re.fullmatch(pattern, path):
                del self.scripted[index]
                return response
        if path == "/auth/o2/token":
            self.token_counter += 1
            body = load("lwa_token.json")
            body["access_token"] = f"Atza|test-access-token-{self.token_counter}"
            return httpx.Response(200, json=body)
        if path == "/tokens/2021-03-01/restrictedDataToken":
            return httpx.Response(200, json=load("rdt.json"))
        token = request.url.params.get("NextToken")
        if path == "/orders/v0/orders":
            return httpx.Response(200, json=load(self.pages[token]))
        match = re.fullmatch(r"/orders/v0/orders/([^/]+)/orderItems", path)
        if match:
            return httpx.Response(200, json=load(self.ITEMS[match[1]][token]))
        if re.fullmatch(r"/orders/v0/orders/[^/]+/shipmentConfirmation", path):
            return httpx.Response(204)
        return httpx.Response(404, json={"errors": [{"code": "NotFound", "message": path}]})

    def of(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def amazon_store(**fields):
    values = {
        "platform": Platform.AMAZON,
        "code": "amz-de",
        "site": DE,
        "currency": "EUR",
        "api_base_url": "https://sp.test",
        "credentials": CREDENTIALS,
    }
    return StoreFactory(**(values | fields))


def connect(store, sandbox, **kwargs) -> AmazonConnector:
    sleeps = kwargs.pop("sleeps", [])
    return connector_for(
        store,
        transport=httpx.MockTransport(sandbox),
        sleep=sleeps.append,
        now=lambda: NOW,
        **kwargs,
    )


def quota_exceeded(**headers) -> httpx.Response:
    return httpx.Response(429, json=load("error_429_quota.json"), headers=headers)


# ------------------------------------------------------------------------------ request shape
def test_first_page_asks_from_the_watermark_minus_the_overlap_with_one_token():
    sandbox = AmazonSandbox()
    connector = connect(amazon_store(), sandbox)

    page = connector.fetch_orders(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), None)

    token_request, orders_request = sandbox.requests[0], sandbox.requests[1]
    assert (token_request.method, str(token_request.url)) == (
        "POST",
        "https://sp.test/auth/o2/token",
    )
    assert dict(parse_qsl(token_request.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|test-refresh-token",
        "client_id": "amzn1.application-oa2-client.test",
        "client_secret": "lwa-secret",
    }
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "x-amz-access-token" not in token_request.headers
    assert (orders_request.method, orders_request.url.path) == ("GET", "/orders/v0/orders")
    assert dict(orders_request.url.params) == {
        "MarketplaceIds": DE,
        "LastUpdatedAfter": "2025-03-01T08:55:00Z",
        "MaxResultsPerPage": "100",
    }
    sp_requests = sandbox.requests[1:]
    assert {r.headers["x-amz-access-token"] for r in sp_requests} == {"Atza|test-access-token-1"}
    assert len(sandbox.of("/auth/o2/token")) == 1
    # one getOrderItems per order, the first one over two pages of its own
    items_calls = [(r.url.path.split("/")[4], dict(r.url.params)) for r in sp_requests[1:]]
    assert items_calls == [
        ("302-1234567-1000001", {}),
        ("302-1234567-1000001", {"NextToken": "items-1000001-tok2"}),
        ("302-1234567-1000002", {}),
        ("302-1234567-1000003", {}),
    ]
    assert page.next_cursor == PAGE2_TOKEN
    # LastUpdatedBefore proves the listing complete up to 11:58, later than any order in it
    assert page.high_watermark == datetime(2025, 3, 1, 11, 58, tzinfo=UTC)
    assert [o.external_id for o in page.orders] == [
        "302-1234567-1000001",
        "302-1234567-1000002",
        "302-1234567-1000003",
    ]
    assert page.rejected == []


def test_next_page_echoes_next_token_with_marketplace_ids_only_and_reuses_the_token():
    sandbox = AmazonSandbox()
    connector = connect(amazon_store(), sandbox)
    since = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    first = connector.fetch_orders(since, None)

    second = connector.fetch_orders(since, first.next_cursor)

    orders_requests = sandbox.of("/orders/v0/orders")
    assert dict(orders_requests[1].url.params) == {"MarketplaceIds": DE, "NextToken": PAGE2_TOKEN}
    assert len(sandbox.of("/auth/o2/token")) == 1
    assert second.next_cursor is None
    assert second.high_watermark == datetime(2025, 3, 1, 11, 20, tzinfo=UTC)
    assert [o.external_id for o in second.orders] == [
        "302-1234567-1000004",
        "302-1234567-1000005",
    ]


def test_last_updated_after_is_never_later_than_two_minutes_ago():
    sandbox = AmazonSandbox()
    connect(amazon_store(), sandbox).fetch_orders(NOW + timedelta(hours=1), None)

    assert sandbox.of("/orders/v0/orders")[0].url.params["LastUpdatedAfter"] == (
        "2025-03-01T11:58:00Z"
    )


def test_regional_host_and_amazon_token_url_without_a_base_url():
    sandbox = AmazonSandbox(pages={None: "orders_br.json"})
    store = amazon_store(code="amz-br", site=BR, currency="BRL", api_base_url="")

    connect(store, sandbox).fetch_orders(NOW - timedelta(days=1), None)

    assert [str(r.url).split("?")[0] for r in sandbox.requests] == [
        "https://api.amazon.com/auth/o2/token",
        "https://sellingpartnerapi-na.amazon.com/orders/v0/orders",
        "https://sellingpartnerapi-na.amazon.com/orders/v0/orders/701-0000001-0000001/orderItems",
    ]


def test_unknown_marketplace_without_a_base_url_is_refused_before_any_request():
    with pytest.raises(PlatformError, match="Unknown Amazon marketplace id 'XX-NOT-A-MARKET'"):
        connect(amazon_store(site="XX-NOT-A-MARKET", api_base_url=""), AmazonSandbox())


def test_token_is_refreshed_once_it_is_about_to_expire():
    sandbox = AmazonSandbox()
    clock = [1000.0]
    connector = connect(amazon_store(), sandbox, clock=lambda: clock[0])
    connector.order_items("302-1234567-1000002")
    clock[0] += 3000  # 10 minutes left: still good
    connector.order_items("302-1234567-1000002")
    clock[0] += 500  # 100 seconds left: inside the margin
    connector.order_items("302-1234567-1000002")

    tokens = [
        r.headers["x-amz-access-token"]
        for r in sandbox.of("/orders/v0/orders/302-1234567-1000002/orderItems")
    ]
    assert tokens == [
        "Atza|test-access-token-1",
        "Atza|test-access-token-1",
        "Atza|test-access-token-2",
    ]
    assert connector.token_refreshes == 2


def test_restricted_data_token_for_get_orders_when_the_store_has_pii_access():
    sandbox = AmazonSandbox()
    store = amazon_store(credentials={**CREDENTIALS, "restricted_data": "true"})

    connect(store, sandbox).fetch_orders(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), None)

    (rdt_request,) = sandbox.of("/tokens/2021-03-01/restrictedDataToken")
    assert rdt_request.method == "POST"
    assert rdt_request.headers["x-amz-access-token"] == "Atza|test-access-token-1"
    assert json.loads(rdt_request.content) == {
        "restrictedResources": [
            {
                "method": "GET",
                "path": "/orders/v0/orders",
                "dataElements": ["buyerInfo", "shippingAddress"],
            }
        ]
    }
    (orders_request,) = sandbox.of("/orders/v0/orders")
    assert orders_request.headers["x-amz-access-token"] == "Atz.sprdt|test-restricted-data-token"
    items_request = sandbox.of("/orders/v0/orders/302-1234567-1000002/orderItems")[0]
    assert items_request.headers["x-amz-access-token"] == "Atza|test-access-token-1"


# ------------------------------------------------------------------------------ normalisation
def test_orders_are_normalised_from_both_pages():
    sandbox = AmazonSandbox()
    connector = connect(amazon_store(), sandbox)
    first = connector.fetch_orders(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), None)
    second = connector.fetch_orders(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), first.next_cursor)
    orders = {o.external_id[-7:]: o for o in first.orders + second.orders}

    mfn = orders["1000001"]
    assert mfn.status == PlatformStatus(raw="Unshipped")
    assert (mfn.fulfilled_by_platform, mfn.fulfillment_channel) == (False, "MFN")
    assert mfn.currency == "EUR"
    assert mfn.purchased_at == datetime(2025, 3, 1, 8, 15, tzinfo=UTC)
    assert mfn.updated_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert mfn.latest_ship_at == datetime(2025, 3, 4, 22, 59, 59, tzinfo=UTC)
    assert mfn.ship_service == "Std DE Dom_1"
    assert mfn.lines == [
        NormalizedLine(
            external_line_id="61234567890101",
            platform_sku="MUG-BLK",
            quantity=2,
            unit_price=Decimal("12.9900"),
            line_total=Decimal("25.98"),
            title="Edelstahl-Becher, schwarz",
            platform_item_id="B0TESTMUG1",
        ),
        NormalizedLine(
            external_line_id="61234567890102",
            platform_sku="TEE-WHT-M",
            quantity=1,
            unit_price=Decimal("19.9000"),
            line_total=Decimal("19.90"),
            title="T-Shirt Été – Weiß, M",
            platform_item_id="B0TESTTEE1",
        ),
    ]
    assert (mfn.subtotal, mfn.shipping, mfn.tax, mfn.discount, mfn.total) == (
        Decimal("45.88"),
        Decimal("4.99"),
        Decimal("8.13"),  # ItemTax 4.15 + 3.18, ShippingTax 0.80
        Decimal("2.00"),
        Decimal("48.87"),
    )
    assert mfn.address == NormalizedAddress(
        name="Zoë Müller-Lüdenscheidt",
        phone="+49 30 1234567",
        address1="Schönhauser Allee 12",
        address2="Hinterhaus 3. OG",
        city="Berlin",
        state="Berlin",
        postcode="10119",
        country="DE",
    )
    assert (mfn.buyer_name, mfn.buyer_email) == ("Zoë Müller", "abc123xyz@marketplace.amazon.de")

    afn = orders["1000002"]
    assert afn.status == PlatformStatus(raw="Shipped", shipped=True)
    assert (afn.fulfilled_by_platform, afn.fulfillment_channel) == (True, "AFN")
    assert (afn.address.name, afn.address.city, afn.buyer_name) == ("王小明", "München", "王小明")
    assert [(ln.quantity, ln.unit_price, ln.title) for ln in afn.lines] == [
        (3, Decimal("14.9900"), "Tassen-Set 杯子 (3 Stück)")
    ]

    pending = orders["1000003"]
    assert pending.status == PlatformStatus(raw="Pending", awaiting_payment=True)
    assert pending.address == NormalizedAddress()
    assert [(ln.platform_sku, ln.quantity, ln.unit_price) for ln in pending.lines] == [
        ("MUG-BLK", 1, Decimal("0"))
    ]
    assert (pending.total, pending.buyer_email) == (Decimal("0"), "")

    cancelled = orders["1000004"]
    assert cancelled.status == PlatformStatus(raw="Canceled", cancelled=True)
    assert cancelled.lines == []  # QuantityOrdered 0: nothing left to ship

    partial = orders["1000005"]
    assert partial.status == PlatformStatus(raw="PartiallyShipped")
    assert (partial.address.name, partial.address.company, partial.address.country) == (
        "Анна Иванова",
        "ООО «Ромашка»",
        "DE",
    )
    assert [(ln.platform_sku, ln.quantity, ln.title) for ln in partial.lines] == [
        ("PEN-BLU", 1, "Kugelschreiber blau"),
        ("NOTEBOOK-A5", 2, "Notizbuch A5 Блокнот"),
    ]
    assert (partial.shipping, partial.tax, partial.total) == (
        Decimal("3.99"),
        Decimal("7.35"),
        Decimal("45.96"),
    )


def test_brazilian_order_in_brl_with_unit_prices_divided_out():
    sandbox = AmazonSandbox(pages={None: "orders_br.json"})
    store = amazon_store(code="amz-br", site=BR, currency="BRL")

    (order,) = connect(store, sandbox).fetch_orders(NOW - timedelta(days=1), None).orders

    assert order.currency == "BRL"
    assert [(ln.platform_sku, ln.quantity, ln.unit_price, ln.line_total) for ln in order.lines] == [
        ("GARRAFA-INOX", 3, Decimal("89.9000"), Decimal("269.70")),
        ("FONE-BT-PRO", 1, Decimal("1299.0000"), Decimal("1299.00")),
    ]
    assert (order.subtotal, order.shipping, order.total) == (
        Decimal("1568.70"),
        Decimal("25.50"),
        Decimal("1594.20"),
    )
    assert order.address == NormalizedAddress(
        name="João da Conceição",
        phone="+55 11 91234-5678",
        address1="Avenida Paulista, 1578",
        address2="Apto 42",
        city="São Paulo",
        state="SP",
        postcode="01310-100",
        country="BR",
    )


def test_an_unreadable_order_is_rejected_and_the_rest_of_the_page_kept():
    page = load("orders_page1.json")
    page["payload"]["Orders"][1]["OrderTotal"]["Amount"] = "forty-four"
    sandbox = AmazonSandbox().then(r"/orders/v0/orders", httpx.Response(200, json=page))

    result = connect(amazon_store(), sandbox).fetch_orders(NOW - timedelta(hours=3), None)

    assert [o.external_id for o in result.orders] == [
        "302-1234567-1000001",
        "302-1234567-1000003",
    ]
    assert result.rejected == [
        ("302-1234567-1000002", "OrderTotal.Amount: is not an amount: 'forty-four'")
    ]


def test_an_order_whose_items_amazon_refuses_is_set_aside_and_an_outage_is_not():
    not_found = httpx.Response(
        404, json={"errors": [{"code": "NotFound", "message": "Order not found"}]}
    )
    sandbox = AmazonSandbox().then(r"/orders/v0/orders/302-1234567-1000002/orderItems", not_found)

    page = connect(amazon_store(), sandbox).fetch_orders(NOW, None)

    assert [o.external_id[-7:] for o in page.orders] == ["1000001", "1000003"]
    assert page.rejected == [
        ("302-1234567-1000002", "Amazon answered HTTP 404: NotFound: Order not found")
    ]

    outage = AmazonSandbox()
    for _ in range(5):
        outage.then(r"/orders/v0/orders/[^/]+/orderItems", httpx.Response(503, text="down"))
    with pytest.raises(PlatformError, match="HTTP 503"):
        connect(amazon_store(code="amz-2"), outage).fetch_orders(NOW, None)


# ------------------------------------------------------------------------------ rate limits
def test_429_without_retry_after_waits_for_the_rate_limit_header_then_succeeds():
    items_path = r"/orders/v0/orders/302-1234567-1000002/orderItems"
    sandbox = AmazonSandbox()
    for _ in range(3):
        sandbox.then(items_path, quota_exceeded(**{"x-amzn-RateLimit-Limit": "0.5"}))
    sleeps: list[float] = []

    items = connect(amazon_store(), sandbox, sleeps=sleeps).order_items("302-1234567-1000002")

    # one token refills in 1/0.5 s; the exponential backoff (1, 2, 4 s) takes over above that
    assert sleeps == [2.0, 2.0, 4.0]
    assert [i["OrderItemId"] for i in items] == ["61234567890201"]
    assert len(sandbox.of(items_path)) == 4


def test_429_honours_retry_after_when_amazon_sends_it():
    sandbox = AmazonSandbox().then(r"/orders/v0/orders", quota_exceeded(**{"Retry-After": "3"}))
    sleeps: list[float] = []

    page = connect(amazon_store(), sandbox, sleeps=sleeps).fetch_orders(NOW, None)

    assert sleeps == [3.0]
    assert len(page.orders) == 3


def test_429_every_time_gives_up_with_rate_limited_after_max_attempts():
    sandbox = AmazonSandbox()
    for _ in range(5):
        sandbox.then(r"/orders/v0/orders", quota_exceeded())
    sleeps: list[float] = []

    with pytest.raises(RateLimited) as caught:
        connect(amazon_store(), sandbox, sleeps=sleeps).fetch_orders(NOW, None)

    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert (caught.value.status, caught.value.code) == (429, "QuotaExceeded")
    assert str(caught.value) == (
        "Amazon rate limit: Amazon answered HTTP 429: QuotaExceeded: "
        "You exceeded your quota for the requested resource."
    )


def test_a_503_on_a_get_is_retried():
    sandbox = AmazonSandbox().then(r"/orders/v0/orders", httpx.Response(503, text="busy"))
    sleeps: list[float] = []

    page = connect(amazon_store(), sandbox, sleeps=sleeps).fetch_orders(NOW, None)

    assert (sleeps, len(page.orders)) == ([1.0], 3)


# ------------------------------------------------------------------------------ errors
def test_invalid_input_is_a_platform_error_with_amazons_words():
    sandbox = AmazonSandbox().then(
        r"/orders/v0/orders", httpx.Response(400, json=load("error_400_invalid_input.json"))
    )

    with pytest.raises(PlatformError) as caught:
        connect(amazon_store(), sandbox).fetch_orders(NOW, None)

    assert not isinstance(caught.value, AuthError)
    assert (caught.value.status, caught.value.code) == (400, "InvalidInput")
    assert str(caught.value) == (
        "Amazon answered HTTP 400: InvalidInput: Invalid Input (LastUpdatedAfter must be at "
        "least two minutes before the request time.)"
    )
    assert caught.value.body == load("error_400_invalid_input.json")


def test_403_is_retried_once_with_a_fresh_token_then_is_an_auth_error():
    denied = load("error_403_unauthorized.json")
    sandbox = (
        AmazonSandbox()
        .then(r"/orders/v0/orders", httpx.Response(403, json=denied))
        .then(r"/orders/v0/orders", httpx.Response(403, json=denied))
    )
    connector = connect(amazon_store(), sandbox)
    connector.order_items("302-1234567-1000002")  # the token is in use

    with pytest.raises(AuthError) as caught:
        connector.fetch_orders(NOW, None)

    assert (caught.value.status, caught.value.code) == (403, "Unauthorized")
    assert [r.headers["x-amz-access-token"] for r in sandbox.of("/orders/v0/orders")] == [
        "Atza|test-access-token-1",
        "Atza|test-access-token-2",
    ]


def test_403_with_a_revoked_token_succeeds_after_one_refresh():
    sandbox = AmazonSandbox().then(
        r"/orders/v0/orders/302-1234567-1000002/orderItems",
        httpx.Response(403, json=load("error_403_unauthorized.json")),
    )
    connector = connect(amazon_store(), sandbox)
    connector.order_items("302-1234567-1000003")

    items = connector.order_items("302-1234567-1000002")

    assert [i["SellerSKU"] for i in items] == ["CUP-SET-3"]
    assert len(sandbox.of("/auth/o2/token")) == 2


def test_a_refused_refresh_token_is_an_auth_error():
    sandbox = AmazonSandbox().then(
        r"/auth/o2/token", httpx.Response(400, json=load("lwa_error_invalid_grant.json"))
    )

    with pytest.raises(AuthError) as caught:
        connect(amazon_store(), sandbox).fetch_orders(NOW, None)

    assert caught.value.code == "invalid_grant"
    assert str(caught.value) == (
        "Amazon answered HTTP 400: invalid_grant: The request has an invalid grant parameter "
        ": refresh_token"
    )
    assert len(sandbox.requests) == 1


def test_missing_credentials_fail_before_any_request():
    sandbox = AmazonSandbox()
    store = amazon_store(credentials={"lwa_client_id": "x"})

    with pytest.raises(AuthError, match="lwa_client_secret, refresh_token"):
        connect(store, sandbox).fetch_orders(NOW, None)
    assert sandbox.requests == []


# ------------------------------------------------------------------------------ shipping
def test_confirm_shipment_posts_the_package_and_expects_204():
    sandbox = AmazonSandbox()

    connect(amazon_store(), sandbox).confirm_shipment(
        external_id="302-1234567-1000001",
        carrier_code="DHL",
        tracking_number="JD014600003412345678",
        ship_date=datetime(2025, 3, 2, 9, 30, tzinfo=UTC),
        items=[("61234567890101", 2), ("61234567890102", 1)],
        package_reference_id="PKG-1",
    )

    (request,) = sandbox.of("/orders/v0/orders/302-1234567-1000001/shipmentConfirmation")
    assert request.method == "POST"
    assert request.headers["x-amz-access-token"] == "Atza|test-access-token-1"
    assert json.loads(request.content) == {
        "marketplaceId": DE,
        "packageDetail": {
            "packageReferenceId": "PKG-1",
            "carrierCode": "DHL",
            "trackingNumber": "JD014600003412345678",
            "shipDate": "2025-03-02T09:30:00Z",
            "orderItems": [
                {"orderItemId": "61234567890101", "quantity": 2},
                {"orderItemId": "61234567890102", "quantity": 1},
            ],
        },
    }


def test_confirm_shipment_without_items_ships_what_is_left_unshipped():
    sandbox = AmazonSandbox()

    connect(amazon_store(), sandbox).confirm_shipment(
        external_id="302-1234567-1000005",
        carrier_code="Other",
        carrier_name="Yun Express",
        shipping_method="YunExpress Global Direct",
        tracking_number="YT2500000000000001",
    )

    (request,) = sandbox.of("/orders/v0/orders/302-1234567-1000005/shipmentConfirmation")
    assert json.loads(request.content)["packageDetail"] == {
        "packageReferenceId": "1",
        "carrierCode": "Other",
        "carrierName": "Yun Express",
        "shippingMethod": "YunExpress Global Direct",
        "trackingNumber": "YT2500000000000001",
        "shipDate": "2025-03-01T12:00:00Z",
        # PEN-BLU was shipped already; the two notebooks were not
        "orderItems": [{"orderItemId": "61234567890502", "quantity": 2}],
    }


def test_confirm_shipment_refused_is_a_platform_error_and_a_post_is_not_retried_on_503():
    sandbox = AmazonSandbox().then(
        r"/orders/v0/orders/[^/]+/shipmentConfirmation", httpx.Response(503, text="busy")
    )
    sleeps: list[float] = []

    with pytest.raises(PlatformError, match="HTTP 503"):
        connect(amazon_store(), sandbox, sleeps=sleeps).confirm_shipment(
            external_id="302-1234567-1000001",
            carrier_code="DHL",
            tracking_number="1",
            items=[("61234567890101", 2)],
        )
    assert sleeps == []
