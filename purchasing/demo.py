"""Demo purchasing for ``seed_demo``: five 1688 shops, an offer with price tiers for every demo
SKU (some from two shops), and 45 days of sales history so restock suggestions mean something.

Idempotent like the rest of the demo (``erp.demo_data``): suppliers by code and offers by
(supplier, SKU) are created or corrected; the history is written once, when the ledger has no
``demo-sale:`` move yet.

The history goes through the stock services, as real sales would: for each warehouse and day,
restock receipts in the morning (``stock_receive``, reference ``demo-restock:…``) and the day's
sales reserved and shipped in the afternoon (``stock_reserve`` + ``stock_consume``, reference
``demo-sale:<warehouse>:<day>``), with the services' clock set to that day. Each SKU sells in
runs: a run starts with a receipt of exactly what the run will sell and ends at 0, and
between runs the SKU is out of stock for a few days. So every SKU's history nets to zero:
today's stock is the opening stock, and the restock page has sales, out-of-stock days and
velocities to explain.
"""

from __future__ import annotations

import hashlib
import random
import zlib
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock

from django.utils import timezone

from purchasing.models import PaymentTerms, Supplier, SupplierProduct
from warehouse.models import Location, Sku, StockMove, Warehouse

SEED = 20240619
HISTORY_DAYS = 45
CENT = Decimal("0.01")

SUPPLIERS = {
    "HQB-ACC": {
        "name": "深圳华强北炫酷数码配件厂",
        "login_id": "xuankushuma",
        "member_id": "b2b-2208816600a3f1",
        "contact_name": "陈经理",
        "phone": "+86 138 2651 0931",
        "wechat": "xuanku_shuma",
        "lead_days": 2,
        "payment_terms": PaymentTerms.CASH_ON_ORDER,
        "rating": 5,
    },
    "DG-POWER": {
        "name": "东莞市能量派电子科技有限公司",
        "login_id": "nengliangpai",
        "member_id": "b2b-2201537704b8c2",
        "contact_name": "刘小姐",
        "phone": "+86 769 8533 2170",
        "wechat": "nlp_dg",
        "lead_days": 5,
        "payment_terms": PaymentTerms.PREPAY,
        "prepay_pct": 30,
        "rating": 4,
    },
    "YW-HOME": {
        "name": "义乌市佳宜家居日用品商行",
        "login_id": "jiayijiaju",
        "member_id": "b2b-2209944130c7d5",
        "contact_name": "王老板",
        "phone": "+86 579 8520 4416",
        "wechat": "jiayi_yw",
        "lead_days": 3,
        "payment_terms": PaymentTerms.MONTHLY,
        "credit_days": 30,
        "rating": 4,
    },
    "NB-SPORT": {
        "name": "宁波市动力运动用品有限公司",
        "login_id": "donglisport",
        "member_id": "b2b-2207720561d9e0",
        "contact_name": "周先生",
        "phone": "+86 574 8766 1028",
        "wechat": "dongli_nb",
        "lead_days": 4,
        "payment_terms": PaymentTerms.CASH_ON_ORDER,
        "rating": 4,
    },
    "GZ-AROMA": {
        "name": "广州市芳源日化有限公司",
        "login_id": "fangyuanrihua",
        "member_id": "b2b-2205318892e4a7",
        "contact_name": "黄小姐",
        "phone": "+86 20 3628 7745",
        "wechat": "fangyuan_gz",
        "lead_days": 6,
        "payment_terms": PaymentTerms.PREPAY,
        "prepay_pct": 50,
        "rating": 5,
    },
}

# Which shop sells which products (by the demo product code's prefix); the second shop, when
# there is one, offers the same goods a little dearer (not preferred).
SHOPS = {
    "PC-": ("HQB-ACC", None),
    "SP-": ("HQB-ACC", None),
    "CB-": ("HQB-ACC", "DG-POWER"),
    "CH-": ("DG-POWER", "HQB-ACC"),
    "PB-": ("DG-POWER", None),
    "MM-": ("HQB-ACC", None),
    "MW-": ("HQB-ACC", None),
    "LS-": ("DG-POWER", None),
    "NL-": ("DG-POWER", None),
    "KT-": ("YW-HOME", None),
    "PT-": ("YW-HOME", None),
    "YG-": ("NB-SPORT", None),
    "EO-": ("GZ-AROMA", None),
    "AD-": ("GZ-AROMA", "DG-POWER"),
    "EB-": ("DG-POWER", None),
    "FN-": ("DG-POWER", None),
    "WB-": ("NB-SPORT", "HQB-ACC"),
    "LP-": ("NB-SPORT", None),
    "MB-": ("YW-HOME", None),
    "HC-": ("YW-HOME", None),
    "WP-": ("HQB-ACC", None),
    "BB-": ("YW-HOME", None),
    "CO-": ("HQB-ACC", None),
    "BK-": ("NB-SPORT", "HQB-ACC"),
    "AT-": ("HQB-ACC", None),
    "BL-": ("DG-POWER", None),
    "CS-": ("YW-HOME", None),
}


def _upsert(model, lookup: dict, values: dict, report, kind: str):
    from erp.demo_data import _upsert as upsert

    obj, created, updated = upsert(model, lookup, values)
    report.count(kind, created=created, updated=updated)
    return obj


def seed_purchasing(report) -> None:
    suppliers = {
        code: _upsert(
            Supplier,
            {"code": code},
            {"kind": Supplier.Kind.SHOP_1688, "shop_url": f"https://{v['login_id']}.1688.com", **v},
            report,
            "supplier",
        )
        for code, v in SUPPLIERS.items()
    }
    skus = list(Sku.objects.filter(is_bundle=False, code__in=_demo_codes()).order_by("code"))
    _seed_offers(report, suppliers, skus)
    _seed_history(report, skus)


def _demo_codes() -> list[str]:
    from erp.demo_data import sku_rows

    return [row["code"] for row in sku_rows()]


def _shops(code: str) -> tuple[str, str | None]:
    for prefix, shops in SHOPS.items():
        if code.startswith(prefix):
            return shops
    return ("YW-HOME", None)


def _digits(text: str, length: int) -> str:
    return str(zlib.crc32(text.encode()) * 7919 + 10**15)[:length]


def _offer_values(sku: Sku, cost: Decimal, *, second: bool) -> dict:
    """A 1688 offer: buying price ≈ 85 % of the landed cost (10 % dearer at the second shop),
    MOQ and packs by price, cheaper tiers from 2× and 10× the MOQ."""
    price = cost * Decimal("0.85") * (Decimal("1.10") if second else 1)
    if price < 5:
        moq, pack = 50, 10
    elif price < 20:
        moq, pack = 20, 5
    else:
        moq, pack = 10, 1
    tiers = [
        [moq, str(price.quantize(CENT, ROUND_HALF_UP))],
        [moq * 2, str((price * Decimal("0.95")).quantize(CENT, ROUND_HALF_UP))],
        [moq * 10, str((price * Decimal("0.88")).quantize(CENT, ROUND_HALF_UP))],
    ]
    offer_id = "6" + _digits(f"{sku.code}:{second}", 11)
    return {
        "offer_id": offer_id,
        "spec_id": hashlib.md5(sku.code.encode(), usedforsecurity=False).hexdigest(),
        "sku_id_1688": "5" + _digits(f"sku:{sku.code}:{second}", 12),
        "spec_name": sku.name_zh[:200],
        "url": f"https://detail.1688.com/offer/{offer_id}.html",
        "price_tiers": tiers,
        "moq": moq,
        "pack_qty": pack,
        "lead_days": None,
        "is_preferred": not second,
    }


def _seed_offers(report, suppliers: dict[str, Supplier], skus: list[Sku]) -> None:
    from erp.demo_data import sku_rows

    costs = {row["code"]: row["_cost"] for row in sku_rows()}
    for sku in skus:
        first, second = _shops(sku.code)
        for code, is_second in ((first, False), (second, True)):
            if code is None:
                continue
            _upsert(
                SupplierProduct,
                {"supplier": suppliers[code], "sku": sku},
                _offer_values(sku, costs[sku.code], second=is_second),
                report,
                "supplier offer",
            )


# --- Sales history --------------------------------------------------------------------------


class _Clock:
    """``django.utils.timezone`` whose ``now()`` is a chosen instant."""

    def __init__(self, at: datetime):
        self._at = at

    def now(self) -> datetime:
        return self._at

    def __getattr__(self, name):
        return getattr(timezone, name)


@contextmanager
def _services_clock(at: datetime):
    """The stock services stamp moves with ``timezone.now()``: set it to ``at``."""
    from warehouse.services import stock

    with mock.patch.object(stock, "timezone", _Clock(at)):
        yield


def _plan(rnd: random.Random, *, rates: tuple[float, ...]) -> list[int]:
    """Units sold on each of the 45 days (0 on out-of-stock days, marked -1)."""
    rate = rnd.choice(rates)
    demand = [max(0, int(rate * rnd.uniform(0.4, 1.6) + rnd.random())) for _ in range(45)]
    if rnd.random() < 0.5:  # a stock-out in the middle
        start, length = rnd.randint(10, 35), rnd.randint(3, 8)
        for day in range(start, min(start + length, HISTORY_DAYS)):
            demand[day] = -1
    if rnd.random() < 0.15:  # out of stock for the last days
        for day in range(HISTORY_DAYS - rnd.randint(2, 5), HISTORY_DAYS):
            demand[day] = -1
    return demand


def _seed_history(report, skus: list[Sku]) -> None:
    if StockMove.objects.filter(reference__startswith="demo-sale:").exists():
        return
    from erp.demo_data import sku_rows
    from warehouse.services import StockLine, stock_consume, stock_receive, stock_reserve

    warehouses = {w.code: w for w in Warehouse.objects.filter(code__in=["SZ", "US-LA"])}
    if len(warehouses) < 2 or not skus:
        return
    bins = {
        code: Location.objects.filter(warehouse=wh, kind=Location.Kind.STORAGE, is_active=True)
        .order_by("pick_sequence", "code")
        .first()
        for code, wh in warehouses.items()
    }
    costs = {row["code"]: row["_cost"] for row in sku_rows()}
    rnd = random.Random(SEED)
    plans: dict[str, dict[Sku, list[int]]] = {"SZ": {}, "US-LA": {}}
    for i, sku in enumerate(skus):
        # a quarter of the SKUs sell from Shenzhen, an eighth from Los Angeles too (each one
        # a ledger move a day: the whole catalogue would make seeding slow)
        sz_plan = _plan(rnd, rates=(0.5, 1, 2, 3, 5, 8))
        us_plan = _plan(rnd, rates=(0.5, 1, 2, 4))
        if i % 4 == 0:
            plans["SZ"][sku] = sz_plan
        if i % 8 == 0:
            plans["US-LA"][sku] = us_plan
    # receipts: at the start of each run, what the run sells
    receipts: dict[tuple[str, int], list[tuple[Sku, int]]] = defaultdict(list)
    for code, per_sku in plans.items():
        for sku, demand in per_sku.items():
            day = 0
            while day < HISTORY_DAYS:
                if demand[day] < 0:
                    day += 1
                    continue
                end = day
                while end < HISTORY_DAYS and demand[end] >= 0:
                    end += 1
                units = sum(demand[day:end])
                if units:
                    receipts[(code, day)].append((sku, units))
                day = end
    first_day = timezone.localdate() - timedelta(days=HISTORY_DAYS)
    for day in range(HISTORY_DAYS):
        date = first_day + timedelta(days=day)
        morning = timezone.make_aware(datetime.combine(date, time(9, 30)))
        afternoon = timezone.make_aware(datetime.combine(date, time(16, 0)))
        for code, warehouse in warehouses.items():
            arriving = receipts.get((code, day), [])
            with _services_clock(morning):
                for sku, units in arriving:
                    stock_receive(
                        sku=sku,
                        location=bins[code],
                        quantity=units,
                        unit_cost=costs[sku.code] + (Decimal(3) if code != "SZ" else 0),
                        reference=f"demo-restock:{code}:{date:%Y%m%d}",
                        note="Demo restock",
                    )
            lines = [
                StockLine(sku=sku, quantity=demand[day])
                for sku, demand in plans[code].items()
                if demand[day] > 0
            ]
            if not lines:
                continue
            reference = f"demo-sale:{code}:{date:%Y%m%d}"
            with _services_clock(afternoon):
                stock_reserve(warehouse=warehouse, lines=lines, reference=reference)
                stock_consume(reference=reference, note="Demo sales")
            report.count("sales day", created=True)
