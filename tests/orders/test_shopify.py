"""Shopify Admin REST connector against fixtures in the documented shapes, served through
``httpx.MockTransport``: Link-header paging, 429 Retry-After, error bodies, fulfilment orders."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.utils import translation

from orders.models import Platform
from orders.normalized import NormalizedAddress, NormalizedLine, PlatformStatus
from orders.platforms import AuthError, PlatformError, RateLimited, connector_for
from orders.platforms.shopify import API_VERSION, normalize_order, shop_domain
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
BASE = f"https://shop.test/admin/api/{API_VERSION}"
SINCE = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def link(request: httpx.Request, **rels: str) -> str:
    """A Link header in Shopify's form: the same URL with only limit and page_info."""
    url = f"{request.url.scheme}://{request.url.host}{request.url.path}"
    return ", ".join(
        f'<{url}?limit=250&page_info={info}>; rel="{rel}"' for rel, info in rels.items()
    )


class ShopifySandbox:
    """orders.json over three pages chained by Link headers, fulfilment orders and
    fulfilments; records every request and plays scripted answers first."""

    PAGES = {
        None: ("orders_page1.json", {"next": "eyJwYWdlIjoy"}),
        "eyJwYWdlIjoy": (
            "orders_page2.json",
            {"previous": "eyJwYWdlIjoxfQ", "next": "eyJwYWdlIjozfQ"},
        ),
        "eyJwYWdlIjozfQ": ("orders_page3.json", {"previous": "eyJwYWdlIjoyfQ"}),
    }

    def __init__(self, fulfillment_orders: dict | None = None):
        self.requests: list[httpx.Request] = []
        self.scripted: list[tuple[str, httpx.Response]] = []
        self.fulfillment_orders = fulfillment_orders or load("fulfillment_orders.json")

    def then(self, path_pattern: str, response: httpx.Response) -> "ShopifySandbox":
        self.scripted.append((path_pattern, response))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for index, (pattern, response) in enumerate(self.scripted):
            if re.fullmatch(pattern, path):
                del self.scripted[index]
                return response
        if path.endswith("/orders.json"):
            name, rels = self.PAGES[request.url.params.get("page_info")]
            headers = {"Link": link(request, **rels)} if rels else {}
            return httpx.Response(200, json=load(name), headers=headers)
        if re.fullmatch(r".*/orders/\d+/fulfillment_orders\.json", path):
            return httpx.Response(200, json=self.fulfillment_orders)
        if path.endswith("/fulfillments.json"):
            return httpx.Response(201, json=load("fulfillment_created.json"))
        return httpx.Response(404, json={"errors": "Not Found"})

    def of(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(suffix)]


def shopify_store(**fields):
    values = {
        "platform": Platform.SHOPIFY,
        "code": "shop-us",
        "site": "caravan-test.myshopify.com",
        "currency": "USD",
        "api_base_url": "https://shop.test",
        "credentials": {"access_token": "shpat_test_token"},
    }
    return StoreFactory(**(values | fields))


def connect(store, sandbox, sleeps=None):
    return connector_for(
        store,
        transport=httpx.MockTransport(sandbox),
        sleep=(sleeps if sleeps is not None else []).append,
    )


# ------------------------------------------------------------------------------ request shape
def test_pages_follow_the_link_header_with_only_limit_and_page_info():
    sandbox = ShopifySandbox()
    connector = connect(shopify_store(), sandbox)

    pages = [connector.fetch_orders(SINCE, None)]
    while pages[-1].next_cursor:
        pages.append(connector.fetch_orders(SINCE, pages[-1].next_cursor))

    assert [str(r.url).split("?")[0] for r in sandbox.requests] == [f"{BASE}/orders.json"] * 3
    assert [dict(r.url.params) for r in sandbox.requests] == [
        {
            "status": "any",
            "updated_at_min": "2025-03-01T14:58:00Z",  # the watermark minus the overlap
            "limit": "250",
            "order": "updated_at asc",
        },
        {"limit": "250", "page_info": "eyJwYWdlIjoy"},
        {"limit": "250", "page_info": "eyJwYWdlIjozfQ"},
    ]
    assert {r.headers["X-Shopify-Access-Token"] for r in sandbox.requests} == {"shpat_test_token"}
    assert [p.next_cursor for p in pages] == ["eyJwYWdlIjoy", "eyJwYWdlIjozfQ", None]
    assert [[o.external_id for o in p.orders] for p in pages] == [
        ["5550000000001", "5550000000002"],
        ["5550000000003", "5550000000004"],
        ["5550000000005"],
    ]
    assert [p.high_watermark for p in pages] == [
        datetime(2025, 3, 1, 16, 20, tzinfo=UTC),
        datetime(2025, 3, 1, 18, 10, tzinfo=UTC),
        datetime(2025, 3, 1, 19, 0, tzinfo=UTC),
    ]


def test_the_shop_domain_is_the_host_without_a_base_url():
    sandbox = ShopifySandbox()

    connect(shopify_store(site="caravan-test", api_base_url=""), sandbox).fetch_orders(SINCE, None)

    assert str(sandbox.requests[0].url).startswith(
        f"https://caravan-test.myshopify.com/admin/api/{API_VERSION}/orders.json?"
    )


@pytest.mark.parametrize(
    ("site", "domain"),
    [
        ("caravan-test", "caravan-test.myshopify.com"),
        ("Caravan-Test.myshopify.com", "caravan-test.myshopify.com"),
        ("https://caravan-test.myshopify.com/admin", "caravan-test.myshopify.com"),
        ("", ""),
    ],
)
def test_shop_domain_from_what_a_person_typed(site, domain):
    assert shop_domain(site) == domain


# ------------------------------------------------------------------------------ normalisation
def test_a_multi_line_order_is_normalised():
    order = normalize_order(load("orders_page1.json")["orders"][0])

    assert order.external_id == "5550000000001"
    assert order.status == PlatformStatus(raw="paid/unfulfilled")
    assert (order.purchased_at, order.updated_at) == (
        datetime(2025, 3, 1, 15, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 15, 5, tzinfo=UTC),
    )
    assert order.lines == [
        NormalizedLine(
            external_line_id="14000000001",
            platform_sku="TEE-BLK-S",
            quantity=2,
            unit_price=Decimal("19.99"),
            line_total=Decimal("39.98"),
            title="Crew Tee - Black / S",
            platform_item_id="44000000001",
        ),
        NormalizedLine(
            external_line_id="14000000002",
            platform_sku="MUG-WHT",
            quantity=1,
            unit_price=Decimal("12.50"),
            line_total=Decimal("12.50"),
            title="Enamel Mug",
            platform_item_id="44000000002",
        ),
    ]
    assert (order.currency, order.subtotal, order.shipping, order.tax) == (
        "USD",
        Decimal("52.48"),
        Decimal("5.00"),
        Decimal("4.38"),
    )
    assert (order.discount, order.total) == (Decimal("3.00"), Decimal("58.86"))
    assert order.address == NormalizedAddress(
        name="Ann Example",
        company="Example Trading LLC",
        phone="555-0100",
        address1="1 Main St",
        address2="Suite 200",
        city="Springfield",
        state="IL",
        postcode="62701",
        country="US",
    )
    assert (order.buyer_name, order.buyer_email) == ("Ann Example", "ann@example.com")
    assert order.buyer_note == "Please gift wrap 请包装"
    assert (order.ship_service, order.fulfilled_by_platform) == ("Standard", False)


def test_cjk_address_and_a_line_without_sku_paired_by_variant():
    order = normalize_order(load("orders_page1.json")["orders"][1])

    assert order.address == NormalizedAddress(
        name="陈美玲",
        phone="+886 2 8101 2000",
        address1="信義路五段7號",
        address2="89樓",
        city="台北市",
        postcode="110",
        country="TW",
    )
    assert order.buyer_name == "美玲 陈"  # the customer record: first name, then last
    assert [(ln.platform_sku, ln.title, ln.quantity) for ln in order.lines] == [
        ("variant-44000000009", "Gift Card Sleeve - Red", 3)
    ]
    assert order.ship_service == "International Economy"


def test_cancelled_pending_and_fulfilled_statuses():
    cancelled, pending = load("orders_page2.json")["orders"]
    (fulfilled,) = load("orders_page3.json")["orders"]

    cancelled = normalize_order(cancelled)
    assert cancelled.status == PlatformStatus(raw="refunded/unfulfilled/cancelled", cancelled=True)
    # current_quantity is 0 after the cancellation; the record keeps what was ordered
    assert [(ln.platform_sku, ln.quantity) for ln in cancelled.lines] == [("TEE-BLK-M", 1)]
    assert normalize_order(pending).status == PlatformStatus(
        raw="pending/unfulfilled", awaiting_payment=True
    )
    assert normalize_order(fulfilled).status == PlatformStatus(raw="paid/fulfilled", shipped=True)


def test_a_line_removed_by_an_order_edit_is_left_out():
    raw = load("orders_page1.json")["orders"][0]
    raw["line_items"][1]["current_quantity"] = 0
    raw["line_items"][0]["current_quantity"] = 1

    order = normalize_order(raw)

    assert [(ln.platform_sku, ln.quantity, ln.line_total) for ln in order.lines] == [
        ("TEE-BLK-S", 1, Decimal("19.99"))
    ]


def test_an_unreadable_order_is_rejected_and_the_page_kept():
    page = load("orders_page1.json")
    page["orders"][0]["total_price"] = "lots"
    sandbox = ShopifySandbox().then(r".*/orders\.json", httpx.Response(200, json=page))

    result = connect(shopify_store(), sandbox).fetch_orders(SINCE, None)

    assert [o.external_id for o in result.orders] == ["5550000000002"]
    assert result.rejected == [("5550000000001", "total_price: is not an amount: 'lots'")]
    assert result.next_cursor is None  # the scripted answer had no Link header


# ------------------------------------------------------------------------------ limits, errors
def test_429_waits_for_the_float_retry_after_then_succeeds():
    sandbox = ShopifySandbox().then(
        r".*/orders\.json",
        httpx.Response(429, json=load("errors_429.json"), headers={"Retry-After": "2.0"}),
    )
    sleeps: list[float] = []

    page = connect(shopify_store(), sandbox, sleeps).fetch_orders(SINCE, None)

    assert sleeps == [2.0]
    assert len(page.orders) == 2
    assert sandbox.requests[0].url.params == sandbox.requests[1].url.params


def test_a_retry_after_longer_than_the_cap_gives_up_at_once():
    sandbox = ShopifySandbox().then(
        r".*/orders\.json",
        httpx.Response(429, json=load("errors_429.json"), headers={"Retry-After": "120"}),
    )
    sleeps: list[float] = []

    with pytest.raises(RateLimited) as caught:
        connect(shopify_store(), sandbox, sleeps).fetch_orders(SINCE, None)

    assert (sleeps, caught.value.retry_after, len(sandbox.requests)) == ([], 120.0, 1)


def test_a_network_error_on_a_get_is_retried_but_not_on_a_post():
    sandbox = ShopifySandbox()
    failures = {"orders.json": 1, "fulfillments.json": 1}

    def flaky(request):
        name = request.url.path.rsplit("/", 1)[-1]
        if failures.get(name):
            failures[name] -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return sandbox(request)

    sleeps: list[float] = []
    connector = connector_for(
        shopify_store(), transport=httpx.MockTransport(flaky), sleep=sleeps.append
    )

    assert len(connector.fetch_orders(SINCE, None).orders) == 2
    assert sleeps == [1.0]
    with pytest.raises(PlatformError, match="Shopify could not be reached: connection refused"):
        connector.confirm_shipment(
            external_id="5550000000001", carrier_code="USPS", tracking_number="1"
        )
    assert sleeps == [1.0]


def test_invalid_token_is_an_auth_error_with_shopifys_words():
    sandbox = ShopifySandbox().then(
        r".*/orders\.json", httpx.Response(401, json=load("errors_401.json"))
    )

    with pytest.raises(AuthError) as caught:
        connect(shopify_store(), sandbox).fetch_orders(SINCE, None)

    assert caught.value.status == 401
    assert str(caught.value) == (
        "Shopify answered HTTP 401: [API] Invalid API key or access token "
        "(unrecognized login or wrong password)"
    )


def test_missing_access_token_fails_before_any_request():
    sandbox = ShopifySandbox()

    with pytest.raises(AuthError, match="access_token"):
        connect(shopify_store(credentials={"client_secret": "x"}), sandbox).fetch_orders(
            SINCE, None
        )
    assert sandbox.requests == []


# ------------------------------------------------------------------------------ fulfilment
def test_confirm_shipment_fulfils_the_open_fulfilment_orders_with_tracking():
    sandbox = ShopifySandbox()

    connect(shopify_store(), sandbox).confirm_shipment(
        external_id="5550000000001",
        carrier_code="DHL Express",
        tracking_number="JD014600003412345678",
        tracking_url="https://www.dhl.com/track?id=JD014600003412345678",
        ship_date=datetime(2025, 3, 2, tzinfo=UTC),
    )

    get, post = sandbox.requests
    assert (get.method, str(get.url)) == (
        "GET",
        f"{BASE}/orders/5550000000001/fulfillment_orders.json",
    )
    assert (post.method, str(post.url)) == ("POST", f"{BASE}/fulfillments.json")
    assert post.headers["X-Shopify-Access-Token"] == "shpat_test_token"
    assert json.loads(post.content) == {
        "fulfillment": {
            # the closed fulfilment order 9900000002 is left alone
            "line_items_by_fulfillment_order": [{"fulfillment_order_id": 9900000001}],
            "tracking_info": {
                "number": "JD014600003412345678",
                "company": "DHL Express",
                "url": "https://www.dhl.com/track?id=JD014600003412345678",
            },
            "notify_customer": True,
        }
    }


def test_confirm_shipment_of_some_lines_names_their_fulfilment_order_lines():
    sandbox = ShopifySandbox()

    connect(shopify_store(), sandbox).confirm_shipment(
        external_id="5550000000001",
        carrier_code="USPS",
        tracking_number="9400111899223100000001",
        items=[("14000000001", 1)],
        notify_customer=False,
    )

    body = json.loads(sandbox.of("/fulfillments.json")[0].content)
    assert body == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": 9900000001,
                    "fulfillment_order_line_items": [{"id": 9910000001, "quantity": 1}],
                }
            ],
            "tracking_info": {"number": "9400111899223100000001", "company": "USPS"},
            "notify_customer": False,
        }
    }


def test_confirm_shipment_of_more_than_is_open_is_refused_before_posting():
    sandbox = ShopifySandbox()

    with pytest.raises(PlatformError, match="no open quantity left for: 14000000002 × 1"):
        connect(shopify_store(), sandbox).confirm_shipment(
            external_id="5550000000001",
            carrier_code="USPS",
            tracking_number="1",
            items=[("14000000001", 2), ("14000000002", 2)],
        )
    assert sandbox.of("/fulfillments.json") == []


def test_confirm_shipment_with_nothing_open_is_refused():
    closed = load("fulfillment_orders.json")
    for fo in closed["fulfillment_orders"]:
        fo["status"] = "closed"
    sandbox = ShopifySandbox(fulfillment_orders=closed)

    with pytest.raises(PlatformError, match="no open fulfilment order"):
        connect(shopify_store(), sandbox).confirm_shipment(
            external_id="5550000000001", carrier_code="USPS", tracking_number="1"
        )
    assert sandbox.of("/fulfillments.json") == []


def test_confirm_shipment_posts_once_per_assigned_location():
    two_locations = load("fulfillment_orders.json")
    second = two_locations["fulfillment_orders"][1]
    second.update(status="open", assigned_location_id=3300000002)
    second["supported_actions"] = ["create_fulfillment"]
    sandbox = ShopifySandbox(fulfillment_orders=two_locations)

    connect(shopify_store(), sandbox).confirm_shipment(
        external_id="5550000000001", carrier_code="USPS", tracking_number="1"
    )

    groups = [
        json.loads(r.content)["fulfillment"]["line_items_by_fulfillment_order"]
        for r in sandbox.of("/fulfillments.json")
    ]
    assert groups == [
        [{"fulfillment_order_id": 9900000001}],
        [{"fulfillment_order_id": 9900000002}],
    ]


def test_a_refused_fulfilment_is_a_platform_error_with_the_field_errors():
    sandbox = ShopifySandbox().then(
        r".*/fulfillments\.json", httpx.Response(422, json=load("errors_422.json"))
    )

    with pytest.raises(PlatformError) as caught:
        connect(shopify_store(), sandbox).confirm_shipment(
            external_id="5550000000001", carrier_code="USPS", tracking_number="1"
        )

    assert not isinstance(caught.value, AuthError)
    assert str(caught.value) == (
        "Shopify answered HTTP 422: fulfillment: Fulfillment order 9900000001 has an "
        "unfulfillable status= closed."
    )


def test_updated_at_min_moves_with_the_watermark():
    sandbox = ShopifySandbox()

    connect(shopify_store(), sandbox).fetch_orders(SINCE + timedelta(days=1), None)

    assert sandbox.requests[0].url.params["updated_at_min"] == "2025-03-02T14:58:00Z"


def test_the_order_name_is_kept_as_the_platform_number():
    raw = load("orders_page1.json")["orders"][0]
    order = normalize_order(raw)
    assert (order.external_id, order.reference) == (str(raw["id"]), raw["name"])
    assert order.reference.startswith("#")
