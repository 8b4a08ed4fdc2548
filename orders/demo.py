"""Demo orders for ``seed_demo``: an Amazon US, a Shopify EU and a Shopee SG store with a few
hundred orders in the shapes real ones come in (many countries, multi-line orders, unpaired
platform SKUs, buyer notes, incomplete addresses, FBA orders, cancellations), some approved and
allocated.

Deterministic and idempotent: a seeded random generator and a fixed anchor date, so a second
run sends the same normalised orders and the upsert finds every one unchanged; orders are
approved and allocated only while they are still new.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orders.models import (
    BlockedBuyer,
    HoldReason,
    Order,
    OrderSource,
    OrderStatus,
    Platform,
    ReviewRule,
    SkuMapping,
    Store,
    Tag,
)
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PlatformStatus,
)
from orders.services import orders_allocate, orders_approve, orders_upsert
from warehouse.models import Sku, Warehouse

SEED = 20261122
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)  # orders fall in the 21 days after this

STORES = [
    {
        "code": "amz-us",
        "platform": Platform.AMAZON,
        "name": "Amazon US · Caravan Gadgets",
        "site": "ATVPDKIKX0DER",
        "currency": "USD",
        "warehouse": "US-LA",
        "orders": 140,
    },
    {
        "code": "shopify-eu",
        "platform": Platform.SHOPIFY,
        "name": "Shopify · caravan-gadgets.eu",
        "site": "caravan-gadgets.myshopify.com",
        "currency": "EUR",
        "warehouse": "SZ",
        "orders": 90,
    },
    {
        "code": "shopee-sg",
        "platform": Platform.SHOPEE,
        "name": "Shopee SG · Caravan Official",
        "site": "SG",
        "currency": "SGD",
        "warehouse": "SZ",
        "orders": 70,
    },
]

# (name, street, city, state, postcode, country, phone) — made up, in each country's shape
ADDRESSES = {
    Platform.AMAZON: [
        ("Emily Johnson", "1200 Pine St Apt 4B", "Seattle", "WA", "98101", "US", "2065550142"),
        ("Carlos Hernández", "455 Ocean Ave", "Miami Beach", "FL", "33139", "US", "3055550190"),
        ("Kevin O'Brien", "78 Elm Street", "Springfield", "IL", "62701", "US", "2175550111"),
        ("陈美玲 Meiling Chen", "39-12 Main St Fl 2", "Flushing", "NY", "11354", "US", ""),
        ("Aisha Khan", "2210 W Devon Ave", "Chicago", "IL", "60659", "US", "7735550155"),
        ("Jordan Lee", "9 Harbor Way", "Portland", "ME", "04101", "US", "2075550123"),
    ],
    Platform.SHOPIFY: [
        ("Lena Müller", "Friedrichstraße 123", "Berlin", "", "10117", "DE", "+49 30 1234567"),
        ("Élodie Dubois", "12 Rue de Rivoli", "Paris", "", "75001", "FR", "+33 1 23456789"),
        ("Marta García", "Calle de Alcalá 50", "Madrid", "Madrid", "28014", "ES", ""),
        ("Oliver Smith", "221B Baker Street", "London", "", "NW1 6XE", "GB", "+44 20 7946 0958"),
        ("Ivan Petrov / Иван Петров", "ul. Tverskaya 7", "Moscow", "", "125009", "RU", ""),
        ("Sofia Rossi", "Via del Corso 18", "Roma", "RM", "00186", "IT", "+39 06 1234567"),
        ("Jan de Vries", "Damrak 1", "Amsterdam", "", "1012 LG", "NL", ""),
    ],
    Platform.SHOPEE: [
        ("Tan Wei Ming", "1 Raffles Place #20-01", "Singapore", "", "048616", "SG", "6591234567"),
        ("Nur Aisyah", "Blk 123 Ang Mo Kio Ave 3 #05-12", "Singapore", "", "560123", "SG", ""),
        ("林志强", "10 Bayfront Ave #03-01", "Singapore", "", "018956", "SG", "6598765432"),
        ("Priya Raj", "50 Jurong Gateway Rd", "Singapore", "", "608549", "SG", "6581112222"),
    ],
}
NOTES = ["Please leave at the door", "Gift — no invoice please", "请尽快发货，谢谢", "Call before"]
STATUSES = {  # platform status word for a normal, a pending, a cancelled and a shipped order
    Platform.AMAZON: ("Unshipped", "Pending", "Canceled", "Shipped"),
    Platform.SHOPIFY: ("paid", "pending", "cancelled", "fulfilled"),
    Platform.SHOPEE: ("READY_TO_SHIP", "UNPAID", "CANCELLED", "SHIPPED"),
}
# Platform SKUs that are not our codes: paired (store-specific) for some, left unpaired for
# others, so the pairing page has work on it.
PAIRED = {"amz-us": {"AMZ-CB-CC-2M": ("CB-CC-BK", 1), "AMZ-SP-IP15-2PK": ("SP-IP15", 1)}}
UNPAIRED = {
    "amz-us": ["AMZ-MUG-350-BLK", "B0CX12YZ9Q"],
    "shopify-eu": ["CASE-IP15-PINK-EU", "LAMP-DESK-EU-PLUG"],
    "shopee-sg": ["SG-CABLE-1M-WHITE"],
}


def seed_orders(report) -> None:
    """Create or correct the demo stores, pairings and rules, send the demo orders through the
    one upsert, then approve and allocate a third of those still new."""
    warehouses = {w.code: w for w in Warehouse.objects.all()}
    skus = list(Sku.objects.filter(is_active=True, is_bundle=False).order_by("code"))
    if not skus:
        return
    stores = _seed_stores(report, warehouses)
    _seed_rules(report)
    rnd = random.Random(SEED)
    for store, spec in zip(stores, STORES, strict=True):
        for code, (sku_code, quantity) in PAIRED.get(store.code, {}).items():
            sku = Sku.objects.filter(code=sku_code).first() or skus[0]
            _, created = SkuMapping.objects.get_or_create(
                store=store, platform_sku=code, defaults={"sku": sku, "quantity": quantity}
            )
            report.count("pairing", created=created)
        orders = [_order(rnd, store, spec, i, skus) for i in range(spec["orders"])]
        result = orders_upsert(store=store, orders=orders, source=OrderSource.API)
        for _ in range(result.created):
            report.count("order", created=True)
        for _ in range(result.updated):
            report.count("order", updated=True)
        # a third of the new orders, chosen by their id: once approved they are no longer
        # new, so a second run finds none to choose
        chosen = [
            (pk, external_id)
            for pk, external_id in Order.objects.filter(
                pk__in=result.order_ids, status=OrderStatus.NEW
            ).values_list("pk", "external_id")
            if zlib.crc32(external_id.encode()) % 3 == 0
        ]
        if chosen:
            approved = set(orders_approve(order_ids=[pk for pk, _ in chosen]).done)
            orders_allocate(
                order_ids=[
                    pk
                    for pk, external_id in chosen
                    if pk in approved and zlib.crc32(external_id.encode()) % 9 != 0
                ]
            )


def _seed_stores(report, warehouses: dict[str, Warehouse]) -> list[Store]:
    stores = []
    for spec in STORES:
        values = {
            "platform": spec["platform"],
            "name": spec["name"],
            "site": spec["site"],
            "currency": spec["currency"],
            "default_warehouse": warehouses.get(spec["warehouse"]),
        }
        store = Store.objects.filter(code=spec["code"]).first()
        if store is None:
            store = Store.objects.create(code=spec["code"], **values)
            report.count("store", created=True)
        else:
            changed = [k for k, v in values.items() if getattr(store, k) != v]
            for k in changed:
                setattr(store, k, values[k])
            if changed:
                store.save(update_fields=changed)
                report.count("store", updated=True)
        stores.append(store)
    return stores


def _seed_rules(report) -> None:
    vip, _ = Tag.objects.get_or_create(name="VIP", defaults={"color": "#b45309"})
    rules = [
        {"name": "买家留言先看 Buyer notes: hold", "priority": 10, "has_buyer_note": True,
         "action": ReviewRule.Action.HOLD, "hold_reason": HoldReason.BUYER_NOTE},
        {"name": "高货值 Over 300: hold", "priority": 20, "min_total": Decimal("300"),
         "action": ReviewRule.Action.HOLD, "hold_reason": HoldReason.VALUE_OVER_LIMIT},
        {"name": "大单 Over 80: tag VIP", "priority": 30, "min_total": Decimal("80"),
         "action": ReviewRule.Action.TAG, "tag": vip},
    ]  # fmt: skip
    for rule in rules:
        _, created = ReviewRule.objects.get_or_create(name=rule["name"], defaults=rule)
        report.count("review rule", created=created)
    _, created = BlockedBuyer.objects.get_or_create(
        buyer="chargeback.king@example.com", defaults={"reason": "Three chargebacks in 2025"}
    )
    report.count("blocked buyer", created=created)


def _order(rnd: random.Random, store: Store, spec: dict, i: int, skus: list[Sku]):
    platform = spec["platform"]
    purchased = ANCHOR + timedelta(minutes=rnd.randint(0, 21 * 24 * 60))
    normal, pending, cancelled, shipped = STATUSES[platform]
    roll = rnd.random()
    status = PlatformStatus(normal)
    if roll < 0.05:
        status = PlatformStatus(pending, awaiting_payment=True)
    elif roll < 0.09:
        status = PlatformStatus(cancelled, cancelled=True)
    elif roll < 0.14:
        status = PlatformStatus(shipped, shipped=True)
    afn = platform == Platform.AMAZON and rnd.random() < 0.15
    name, street, city, state, postcode, country, phone = rnd.choice(ADDRESSES[platform])
    if rnd.random() < 0.04:
        street = ""  # an incomplete address the built-in hold catches
    lines = []
    for n in range(rnd.choice([1, 1, 1, 2, 2, 3])):
        if rnd.random() < 0.07 and UNPAIRED.get(store.code):
            platform_sku = rnd.choice(UNPAIRED[store.code])
        elif rnd.random() < 0.1 and PAIRED.get(store.code):
            platform_sku = rnd.choice(sorted(PAIRED[store.code]))
        else:
            platform_sku = rnd.choice(skus).code
        quantity = rnd.choice([1, 1, 1, 2, 3])
        unit = Decimal(rnd.randint(599, 4999)) / 100
        lines.append(
            NormalizedLine(
                external_line_id=f"{i}{n}{rnd.randint(10**9, 10**10 - 1)}",
                platform_sku=platform_sku,
                quantity=quantity,
                unit_price=unit,
                line_total=unit * quantity,
                title=platform_sku.replace("-", " ").title(),
            )
        )
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    shipping = Decimal("0") if subtotal > 35 else Decimal("4.99")
    tax = (subtotal * Decimal("0.08")).quantize(Decimal("0.01")) if country == "US" else 0
    email = (
        "chargeback.king@example.com"
        if rnd.random() < 0.02
        else f"{name.split()[0].lower()}.{i}@example.com"
    )
    return NormalizedOrder(
        external_id=_external_id(platform, i, rnd),
        reference=f"#{1001 + i}" if platform == Platform.SHOPIFY else "",
        purchased_at=purchased,
        updated_at=purchased + timedelta(minutes=5),
        status=status,
        currency=spec["currency"],
        lines=lines,
        address=NormalizedAddress(
            name=name,
            phone=phone,
            address1=street,
            city=city,
            state=state,
            postcode=postcode,
            country=country,
        ),
        buyer_name=name,
        buyer_email=email,
        buyer_note=rnd.choice(NOTES) if rnd.random() < 0.06 else "",
        subtotal=subtotal,
        shipping=shipping,
        tax=Decimal(tax),
        total=subtotal + shipping + Decimal(tax),
        fulfilled_by_platform=afn,
        fulfillment_channel="AFN" if afn else ("MFN" if platform == Platform.AMAZON else ""),
        ship_service="Standard",
        latest_ship_at=purchased + timedelta(days=2),
    )


def _external_id(platform: str, i: int, rnd: random.Random) -> str:
    if platform == Platform.AMAZON:
        return (
            f"11{rnd.randint(1, 4)}-{rnd.randint(10**6, 10**7 - 1)}-{rnd.randint(10**6, 10**7 - 1)}"
        )
    if platform == Platform.SHOPIFY:
        return str(5_600_000_000_000 + i * 7919)
    return f"2611{i:02d}{rnd.randint(10**7, 10**8 - 1):X}"
