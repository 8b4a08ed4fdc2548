"""Shopify order webhooks: ``POST /webhooks/shopify/<store code>/``.

There is no session and no CSRF token: the HMAC is the authentication. Shopify signs the raw
body with the app's secret (``base64(HMAC-SHA256(secret, body))`` in
``X-Shopify-Hmac-Sha256``); the secret is the store's ``webhook_secret`` credential, else its
``client_secret``. Anything that fails the check, names no Shopify store, or comes from another
shop than the store's gets 401 and nothing is stored, and the answer does not say which.

Shopify delivers at least once and resends on any non-2xx or slow answer, so:

- a delivery is acted on once: its ``X-Shopify-Webhook-Id`` is inserted into
  ``WebhookDelivery`` in the same transaction as the upsert; a unique-key clash means another
  request already took it (or is taking it: PostgreSQL makes the second insert wait for the
  first transaction), and the answer is 200 without doing anything;
- the answer is fast: no request to Shopify, only the upsert of the one order in the body;
- topics other than the order ones are acknowledged (200) and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.models import OrderSource, Platform, Store, WebhookDelivery
from orders.normalized import NormalizeError
from orders.platforms.shopify import normalize_order, shop_domain
from orders.services import orders_upsert

logger = logging.getLogger(__name__)

# Order webhook bodies are a few kB; a big order with hundreds of lines stays far below this.
MAX_BODY_BYTES = 1024 * 1024
ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"}
)


def _answer(status: int, outcome: str) -> JsonResponse:
    return JsonResponse({"status": outcome}, status=status)


def _signature_ok(secret: str, body: bytes, header: str) -> bool:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, header.strip().encode())


def _verified_store(request: HttpRequest, store_code: str, body: bytes) -> Store | None:
    """The Shopify store this request is signed for, or None."""
    header = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not header or not header.isascii():
        return None
    store = Store.objects.filter(code=store_code, platform=Platform.SHOPIFY, is_active=True).first()
    if store is None:
        return None
    credentials = store.get_credentials()
    secret = credentials.get("webhook_secret") or credentials.get("client_secret")
    if not secret or not _signature_ok(str(secret), body, header):
        return None
    # One app secret may sign for many shops: a body from another shop is not this store's.
    sender = shop_domain(request.headers.get("X-Shopify-Shop-Domain", ""))
    if store.site and sender != shop_domain(store.site):
        return None
    return store


@csrf_exempt
@login_not_required
@require_POST
def shopify_webhook(request: HttpRequest, store_code: str) -> JsonResponse:
    """Take one Shopify order webhook for the store ``store_code``."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _answer(413, "too_large")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, "too_large")

    store = _verified_store(request, store_code, body)
    if store is None:
        logger.warning("shopify webhook for %r refused: signature or store", store_code)
        return _answer(401, "unauthorized")

    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in ORDER_TOPICS:
        return _answer(200, "ignored")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        order = normalize_order(payload)
    except (ValueError, NormalizeError) as exc:
        logger.warning("shopify webhook %s for %s unreadable: %s", topic, store.code, exc)
        return _answer(400, "unreadable")

    delivery_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()[:100]
    with transaction.atomic():
        if delivery_id:
            try:
                with transaction.atomic():
                    WebhookDelivery.objects.create(
                        store=store, delivery_id=delivery_id, topic=topic[:100]
                    )
            except IntegrityError:
                return _answer(200, "duplicate")
        # Without an id (Shopify always sends one) the upsert's idempotence is the guard.
        orders_upsert(store=store, orders=[order], source=OrderSource.WEBHOOK)
    return _answer(200, "accepted")
