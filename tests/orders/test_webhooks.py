"""Shopify order webhooks: the HMAC is the only authentication, a delivery is acted on once
(also when two copies arrive at the same moment, on PostgreSQL), and a refused request stores
nothing.

The view is routed here by this module's own URL conf until ``erp/urls.py`` routes it; the
session, CSRF and login middleware still run, as in production.
"""

import base64
import hashlib
import hmac
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from orders.models import Order, OrderSource, OrderStatus, WebhookDelivery
from orders.webhooks import MAX_BODY_BYTES
from tests.orders.test_amazon import amazon_store
from tests.orders.test_shopify import shopify_store

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
SECRET = "whsec-test-2f1c9a"
SHOP = "caravan-test.myshopify.com"
URL = "/webhooks/shopify/shop-us/"
BODY = (FIXTURES / "webhook_orders_create.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers(body: bytes = BODY, **overrides) -> dict:
    values = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2024-10",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Triggered-At": "2025-03-02T00:00:05.123Z",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(body: bytes = BODY, url: str = URL, client: Client | None = None, **overrides):
    client = client or Client(enforce_csrf_checks=True)
    return client.post(
        url, data=body, content_type="application/json", headers=headers(body, **overrides)
    )


@pytest.fixture
def store():
    return shopify_store(
        site=SHOP, credentials={"access_token": "shpat_test_token", "webhook_secret": SECRET}
    )


def nothing_stored() -> bool:
    return (Order.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


# ------------------------------------------------------------------------------ accepted
def test_a_signed_order_webhook_creates_the_order_without_a_session(store):
    response = post()

    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = Order.objects.get()
    assert (order.store, order.external_id, order.source) == (
        store,
        "5550000000006",
        OrderSource.WEBHOOK,
    )
    assert (order.ship_name, order.total, order.lines.count()) == (
        "Zoë Ångström",
        Decimal("49.99"),
        2,
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.store, delivery.delivery_id, delivery.topic) == (
        store,
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "orders/create",
    )


def test_the_same_delivery_five_times_acts_once(store):
    answers = [post().json()["status"] for _ in range(5)]

    assert answers == ["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert (Order.objects.count(), WebhookDelivery.objects.count()) == (1, 1)


def test_a_new_delivery_of_the_same_order_is_taken_and_changes_nothing(store):
    post()
    before = Order.objects.get()

    response = post(
        **{"X-Shopify-Webhook-Id": "another-delivery", "X-Shopify-Topic": "orders/paid"}
    )

    assert response.json() == {"status": "accepted"}
    after = Order.objects.get()
    assert (after.updated_at, after.status) == (before.updated_at, before.status)
    assert WebhookDelivery.objects.count() == 2


def test_orders_cancelled_cancels_the_order(store):
    post()
    cancelled = json.loads(BODY)
    cancelled.update(
        cancelled_at="2025-03-02T09:00:00+08:00",
        updated_at="2025-03-02T09:00:00+08:00",
        financial_status="voided",
    )
    body = json.dumps(cancelled).encode()

    response = post(
        body, **{"X-Shopify-Topic": "orders/cancelled", "X-Shopify-Webhook-Id": "cancel-1"}
    )

    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.status, order.platform_status) == (
        OrderStatus.CANCELLED,
        "voided/unfulfilled/cancelled",
    )


def test_the_client_secret_signs_when_there_is_no_webhook_secret():
    shopify_store(site=SHOP, credentials={"access_token": "t", "client_secret": "app-secret"})

    response = post(**{"X-Shopify-Hmac-Sha256": sign(BODY, "app-secret")})

    assert response.status_code == 200
    assert Order.objects.count() == 1


def test_other_topics_are_acknowledged_and_ignored(store):
    body = b'{"id": 8800000001, "title": "Crew Tee"}'

    response = post(body, **{"X-Shopify-Topic": "products/update"})

    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert nothing_stored()


# ------------------------------------------------------------------------------ refused
@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        sign(BODY, "a-guessed-secret"),
        sign(BODY + b" "),
        hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),  # hex, not base64
        "签名",
    ],
    ids=["missing", "empty", "wrong-secret", "other-body", "hex", "not-ascii"],
)
def test_a_bad_signature_is_401_and_stores_nothing(store, signature):
    response = post(**{"X-Shopify-Hmac-Sha256": signature})

    assert (response.status_code, response.json()) == (401, {"status": "unauthorized"})
    assert nothing_stored()


def test_the_client_secret_does_not_sign_when_a_webhook_secret_is_set():
    shopify_store(
        site=SHOP,
        credentials={"access_token": "t", "webhook_secret": SECRET, "client_secret": "app"},
    )

    assert post(**{"X-Shopify-Hmac-Sha256": sign(BODY, "app")}).status_code == 401
    assert nothing_stored()


def test_an_unknown_store_is_401(store):
    assert post(url="/webhooks/shopify/no-such-store/").status_code == 401
    assert nothing_stored()


def test_a_store_of_another_platform_is_401_even_when_signed_with_its_secret():
    amazon_store(code="amz-us", credentials={"webhook_secret": SECRET, "client_secret": SECRET})

    assert post(url="/webhooks/shopify/amz-us/").status_code == 401
    assert nothing_stored()


def test_an_inactive_store_is_401():
    shopify_store(site=SHOP, is_active=False, credentials={"webhook_secret": SECRET})

    assert post().status_code == 401
    assert nothing_stored()


def test_a_store_without_a_secret_is_401():
    shopify_store(site=SHOP, credentials={"access_token": "t"})

    assert post(**{"X-Shopify-Hmac-Sha256": sign(BODY, "")}).status_code == 401
    assert nothing_stored()


def test_a_body_from_another_shop_signed_with_the_shared_app_secret_is_401(store):
    response = post(**{"X-Shopify-Shop-Domain": "someone-else.myshopify.com"})

    assert response.status_code == 401
    assert nothing_stored()


def test_a_body_over_the_limit_is_413_before_it_is_read(store):
    body = b'{"id": 1, "note": "' + b"x" * MAX_BODY_BYTES + b'"}'

    response = post(body)

    assert (response.status_code, response.json()) == (413, {"status": "too_large"})
    assert nothing_stored()


def test_a_signed_body_that_is_not_an_order_is_400_and_can_be_resent(store):
    broken = b'{"id": 5550000000006, "currency": "USD", "created_at": "yesterday"}'

    response = post(broken)

    assert (response.status_code, response.json()) == (400, {"status": "unreadable"})
    assert nothing_stored()  # the delivery is not taken: a corrected resend goes through
    assert post().json() == {"status": "accepted"}


def test_only_post_is_allowed(store):
    response = Client().get(URL, headers=headers())

    assert response.status_code == 405
    assert nothing_stored()


# ------------------------------------------------------------------------------ races
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_five_times_two_of_them_at_once_acts_once():
    shopify_store(
        site=SHOP, credentials={"access_token": "shpat_test_token", "webhook_secret": SECRET}
    )
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def deliver(i):
        try:
            barrier.wait(timeout=20)
            answers[i] = post(client=Client()).json()["status"]
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            answers[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    answers += [post().json()["status"] for _ in range(3)]

    assert sorted(answers[:2]) == ["accepted", "duplicate"], answers
    assert answers[2:] == ["duplicate"] * 3
    assert (Order.objects.count(), WebhookDelivery.objects.count()) == (1, 1)
