"""Demo carriers, channels with rate cards, channel rules and number pools, so that a fresh
``make run`` can take an allocated order to a printed label and a manifest.

Prices are made up but in the shape consolidators publish (CNY, first weight + per 100 g or
per kg, registration, fuel surcharge). Like the rest of the demo, a second run changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from logistics.models import (
    Carrier,
    ChannelRule,
    ConnectorKind,
    RateCardRow,
    RuleAction,
    ShippingChannel,
    SkuFlag,
    TrackingNumber,
    TrackingSource,
)
from warehouse.models import Warehouse

CARRIERS = [
    {
        "code": "CNPOST",
        "name": "China Post",
        "connector": ConnectorKind.MANUAL,
        "platform_name": "China Post",
        "tracking_url": "https://www.17track.net/en/track?nums={number}",
    },
    {
        "code": "YUN",
        "name": "YunExpress",
        "connector": ConnectorKind.YUNEXPRESS,
        "platform_name": "Yun Express",
        "tracking_url": "https://www.yuntrack.com/parcelTracking?id={number}",
    },
    {
        "code": "4PX",
        "name": "4PX Express",
        "connector": ConnectorKind.FOURPX,
        "platform_name": "4PX",
        "tracking_url": "https://track.4px.com/#/result/0/{number}",
    },
    {
        "code": "USPS",
        "name": "USPS",
        "connector": ConnectorKind.MANUAL,
        "platform_name": "USPS",
        "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    },
]

# Destination → (per-100 g price, registration) of the postal line; others scale from it.
COUNTRIES = {
    "US": ("9.0", "16"),
    "GB": ("7.5", "14"),
    "DE": ("7.8", "15"),
    "FR": ("8.0", "15"),
    "IT": ("8.2", "16"),
    "ES": ("8.1", "15"),
    "NL": ("7.6", "15"),
    "CA": ("9.5", "17"),
    "AU": ("8.8", "18"),
    "JP": ("5.5", "12"),
    "SG": ("4.5", "10"),
    "MY": ("4.8", "10"),
    "TH": ("5.0", "11"),
    "BR": ("12.0", "22"),
    "RU": ("8.5", "14"),
    "SA": ("10.5", "20"),
}

CHANNELS = [
    {
        "code": "CNPOST-REG",
        "carrier": "CNPOST",
        "service_code": "REG",
        "name": "China Post Registered Air Mail",
        "max_weight_g": 2000,
        "is_postal": True,
        "tracking_source": TrackingSource.POOL,
        "label_size": "100x100",
        "warehouses": ["SZ"],
        "factor": Decimal("1.0"),
        "fuel": Decimal("0"),
        "pool_prefix": "RR",
    },
    {
        "code": "YUN-THPHR",
        "carrier": "YUN",
        "service_code": "THPHR",
        "name": "YunExpress Global Direct line (ordinary)",
        "max_weight_g": 3000,
        "allows_battery": True,
        "tracking_source": TrackingSource.POOL,
        "label_size": "100x150",
        "warehouses": ["SZ"],
        "factor": Decimal("0.85"),
        "fuel": Decimal("0"),
        "pool_prefix": "YT",
    },
    {
        "code": "4PX-SPG",
        "carrier": "4PX",
        "service_code": "PX",
        "name": "4PX Singpost registered",
        "max_weight_g": 2000,
        "is_postal": True,
        "allows_battery": True,
        "tracking_source": TrackingSource.CARRIER,
        "label_size": "100x100",
        "warehouses": ["SZ"],
        "factor": Decimal("0.95"),
        "fuel": Decimal("12.5"),
        "volumetric_divisor": 8000,
    },
    {
        "code": "USPS-GA",
        "carrier": "USPS",
        "service_code": "GROUND_ADVANTAGE",
        "name": "USPS Ground Advantage",
        "countries": "US",
        "max_weight_g": 9000,
        "allows_battery": True,
        "allows_liquid": True,
        "tracking_source": TrackingSource.POOL,
        "label_size": "100x150",
        "warehouses": ["US-LA"],
        "currency": "USD",
        "pool_prefix": "9400",
    },
]

RULES = [
    {
        "name": "Overseas warehouse US: USPS",
        "priority": 10,
        "warehouse": "US-LA",
        "action": RuleAction.CHANNEL,
        "channel": "USPS-GA",
    },
    {
        "name": "Batteries from Shenzhen: YunExpress",
        "priority": 20,
        "warehouse": "SZ",
        "sku_flag": SkuFlag.BATTERY,
        "action": RuleAction.CHANNEL,
        "channel": "YUN-THPHR",
    },
    {
        "name": "Light parcels to Europe: China Post",
        "priority": 30,
        "countries": "GB DE FR IT ES NL",
        "max_weight_g": 500,
        "action": RuleAction.CHANNEL,
        "channel": "CNPOST-REG",
    },
    {"name": "Everything else: cheapest", "priority": 100, "action": RuleAction.CHEAPEST},
]

POOL_SIZE = 200


def _upsert(model, lookup: dict, values: dict, report, kind: str):
    from erp.demo_data import _upsert as upsert

    obj, created, updated = upsert(model, lookup, values)
    report.count(kind, created=created, updated=updated)
    return obj


def seed_logistics(report) -> None:
    warehouses = {w.code: w for w in Warehouse.objects.all()}
    carriers = {
        spec["code"]: _upsert(
            Carrier,
            {"code": spec["code"]},
            {k: v for k, v in spec.items() if k != "code"},
            report,
            "carrier",
        )
        for spec in CARRIERS
    }
    channels = {}
    for spec in CHANNELS:
        values = {
            k: v
            for k, v in spec.items()
            if k not in {"code", "carrier", "warehouses", "factor", "fuel", "pool_prefix"}
        }
        channel = _upsert(
            ShippingChannel,
            {"code": spec["code"]},
            {"carrier": carriers[spec["carrier"]], **values},
            report,
            "channel",
        )
        wanted = [warehouses[c] for c in spec["warehouses"] if c in warehouses]
        if set(channel.warehouses.all()) != set(wanted):
            channel.warehouses.set(wanted)
        channels[spec["code"]] = channel
        _seed_rates(channel, spec, report)
        if spec.get("pool_prefix"):
            _seed_pool(channel, spec["pool_prefix"], report)
    for spec in RULES:
        values = {k: v for k, v in spec.items() if k not in {"name", "warehouse", "channel"}}
        values["warehouse"] = warehouses.get(spec.get("warehouse", ""))
        values["channel"] = channels.get(spec.get("channel", ""))
        _upsert(ChannelRule, {"name": spec["name"]}, values, report, "channel rule")


def _seed_rates(channel: ShippingChannel, spec: dict, report) -> None:
    if spec["code"] == "USPS-GA":
        bands = [(0, 113, "4.75"), (113, 227, "5.40"), (227, 454, "6.55"), (454, 9000, "9.80")]
        for start, end, price in bands:
            _upsert(
                RateCardRow,
                {"channel": channel, "country": "US", "weight_from_g": start},
                {
                    "weight_to_g": end,
                    "first_weight_g": end,
                    "first_price": Decimal(price),
                    "additional_unit_g": 1,
                },
                report,
                "rate row",
            )
        return
    factor, fuel = spec["factor"], spec["fuel"]
    limit = spec["max_weight_g"]
    for country, (per_100g, registration) in COUNTRIES.items():
        per_100g_price = (Decimal(per_100g) * factor).quantize(Decimal("0.01"))
        # two bands: light parcels per 100 g, heavier ones a little cheaper per 100 g
        heavier = (per_100g_price * Decimal("0.9")).quantize(Decimal("0.01"))
        bands = [(0, 500, per_100g_price), (500, limit, heavier)]
        for start, end, price in bands:
            _upsert(
                RateCardRow,
                {"channel": channel, "country": country, "weight_from_g": start},
                {
                    "weight_to_g": end,
                    "first_weight_g": 100,
                    "first_price": price,
                    "additional_unit_g": 100,
                    "additional_price": price,
                    "registration_fee": Decimal(registration),
                    "fuel_surcharge_pct": fuel,
                    "minimum_charge": Decimal("0"),
                },
                report,
                "rate row",
            )


def _seed_pool(channel: ShippingChannel, prefix: str, report) -> None:
    if TrackingNumber.objects.filter(channel=channel).exists():
        return
    if prefix == "9400":
        numbers = [f"9400{channel.pk:04d}{n:014d}" for n in range(1, POOL_SIZE + 1)]
    else:
        numbers = [f"{prefix}{channel.pk:02d}{n:07d}CN" for n in range(1, POOL_SIZE + 1)]
    TrackingNumber.objects.bulk_create(TrackingNumber(channel=channel, number=n) for n in numbers)
    for _ in numbers:
        report.count("pool tracking number", created=True)
