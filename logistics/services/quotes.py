"""Freight quotes: what each shipping channel would charge for an order's parcel, or why it
cannot take it.

Reads only. ``quote_orders`` is set-based: per chunk of orders one query for the orders (with
store and warehouse), one for their lines with the SKUs' weights, sizes, values and flags,
and one for the parts of any bundles among them; once per call the channels, their origin
warehouses, every rate row, the base currency and the exchange rates. So quoting 10,000
orders costs the same dozen queries as quoting one, and the rest is arithmetic on plain
values (``logistics.rates``): ``bench/bench_freight.py`` measures it.

Money: a channel's rates are in its ``currency``; ``Quote.cost_base`` is the cost in the base
currency (``Company.base_currency``, else ``settings.BASE_CURRENCY``) at the latest stored
rate (``erp.ExchangeRate``) on or before today, so channels priced in different currencies
compare. Without a rate, ``cost_base`` is None and the channel sorts after those with one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.timezone import localdate as today
from django.utils.translation import gettext as _

from erp.models import Company, ExchangeRate
from logistics.models import RateCardRow, ShippingChannel
from logistics.rates import CENT, RateRow, RateTable, chargeable_weight_g
from orders.models import Order, OrderLine
from warehouse.models import BundleItem, Warehouse

BATTERY, LIQUID, MAGNETIC = "battery", "liquid", "magnetic"
_ZERO = Decimal(0)
_SKU_FIELDS = (
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "declared_value_usd",
    "has_battery",
    "is_liquid",
    "is_magnetic",
)
_RATE_FIELDS = (
    "id",
    "channel_id",
    "country",
    "weight_from_g",
    "weight_to_g",
    "first_weight_g",
    "first_price",
    "additional_unit_g",
    "additional_price",
    "registration_fee",
    "fuel_surcharge_pct",
    "minimum_charge",
)


@dataclass(slots=True)
class Parcel:
    """What quoting and channel rules need to know about one order's parcel.

    ``weight_g`` is the actual weight (channels' weight limits and rules' weight ranges use
    it; each channel's price uses its own chargeable weight). ``order_value_base`` is the
    order total in the base currency, None when no exchange rate is stored for its currency.
    """

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    country: str
    value_usd: Decimal
    flags: frozenset[str]
    warehouse_id: int | None = None
    store_id: int | None = None
    platform: str = ""
    order_value_base: Decimal | None = None
    ship_service: str = ""
    warehouse_code: str = ""
    order_id: int | None = None

    @property
    def longest_side_mm(self) -> int:
        return max(self.length_mm, self.width_mm, self.height_mm)


@dataclass(slots=True)
class Quote:
    """One channel's answer for one parcel. ``cost`` is in ``currency`` (the channel's) and is
    given whenever the rate card prices the parcel, even when another reason makes the channel
    ineligible (a person may still choose it); ``reasons`` say why it is not eligible."""

    channel: ShippingChannel
    eligible: bool
    cost: Decimal | None
    currency: str
    cost_base: Decimal | None
    chargeable_weight_g: int
    reasons: list[str] = field(default_factory=list)


# --- Money ---------------------------------------------------------------------------------


class Money:
    """Converts amounts to the base currency at the latest stored rate of each currency."""

    __slots__ = ("base", "rates")

    def __init__(self, base: str, rates: dict[str, Decimal]):
        self.base = base
        self.rates = {**rates, base: Decimal(1)}

    @classmethod
    def load(cls, currencies: Iterable[str]) -> Money:
        """The base currency and the latest rates of ``currencies``, in two queries."""
        base = (
            Company.objects.order_by("pk").values_list("base_currency", flat=True).first()
            or settings.BASE_CURRENCY
        ).upper()
        wanted = {c.upper() for c in currencies if c} - {base}
        rates: dict[str, Decimal] = {}
        if wanted:
            latest_day = (
                ExchangeRate.objects.filter(currency=OuterRef("currency"), date__lte=today())
                .order_by("-date")
                .values("date")[:1]
            )
            rates = dict(
                ExchangeRate.objects.filter(
                    currency__in=sorted(wanted), date=Subquery(latest_day)
                ).values_list("currency", "rate_to_base")
            )
        return cls(base, rates)

    def to_base(self, amount: Decimal | None, currency: str) -> Decimal | None:
        if amount is None:
            return None
        rate = self.rates.get(currency.upper())
        if rate is None:
            return None
        if rate == 1:
            return amount
        return (amount * rate).quantize(CENT)


# --- Parcels -------------------------------------------------------------------------------


def _chunk_size() -> int:
    return min(connection.features.max_query_params or 5000, 5000) - 10


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _flags(battery: bool, liquid: bool, magnetic: bool) -> frozenset[str]:
    return frozenset(
        name for name, on in ((BATTERY, battery), (LIQUID, liquid), (MAGNETIC, magnetic)) if on
    )


_BOOLS = (False, True)
_FLAG_SETS = {(b, li, m): _flags(b, li, m) for b in _BOOLS for li in _BOOLS for m in _BOOLS}


class _Box:
    """Adds units up into one parcel: weights and declared values summed, the longest length
    and the longest width, heights stacked (summed over every unit)."""

    __slots__ = ("flags", "height", "length", "value", "weight", "width")

    def __init__(self):
        self.weight = self.length = self.width = self.height = 0
        self.value = _ZERO
        self.flags: frozenset[str] = frozenset()

    def add(self, sku: tuple, units: int) -> None:
        weight, length, width, height, value, battery, liquid, magnetic = sku
        self.weight += weight * units
        if length > self.length:
            self.length = length
        if width > self.width:
            self.width = width
        self.height += height * units
        if value:
            self.value += value * units
        if battery or liquid or magnetic:
            self.flags = self.flags | _FLAG_SETS[(battery, liquid, magnetic)]


def _parcels_of_chunk(ids: Sequence[int], money_currencies: set[str]) -> dict[int, tuple]:
    """Order id -> (order row, box) for one chunk, in two or three queries."""
    orders = Order.objects.filter(pk__in=ids).values_list(
        "id",
        "ship_country",
        "total",
        "currency",
        "store_id",
        "store__platform",
        "warehouse_id",
        "warehouse__code",
        "ship_service",
    )
    rows = {row[0]: row for row in orders}
    boxes = {pk: _Box() for pk in rows}
    lines = OrderLine.objects.filter(order_id__in=ids, sku__isnull=False).values_list(
        "order_id",
        "quantity",
        "sku_quantity",
        "sku_id",
        "sku__is_bundle",
        *(f"sku__{name}" for name in _SKU_FIELDS),
    )
    bundle_lines = []
    for order_id, quantity, per_unit, sku_id, is_bundle, *sku in lines:
        if is_bundle:
            bundle_lines.append((order_id, quantity * per_unit, sku_id, tuple(sku)))
        else:
            boxes[order_id].add(tuple(sku), quantity * per_unit)
    if bundle_lines:
        parts: dict[int, list[tuple[int, tuple]]] = defaultdict(list)
        bundle_ids = sorted({sku_id for _o, _q, sku_id, _s in bundle_lines})
        for chunk in _chunks(bundle_ids, _chunk_size()):
            items = BundleItem.objects.filter(bundle_id__in=chunk).order_by("pk")
            for bundle_id, quantity, *sku in items.values_list(
                "bundle_id", "quantity", *(f"component__{name}" for name in _SKU_FIELDS)
            ):
                parts[bundle_id].append((quantity, tuple(sku)))
        for order_id, units, sku_id, sku in bundle_lines:
            box = boxes[order_id]
            if parts.get(sku_id):
                for quantity, component in parts[sku_id]:
                    box.add(component, quantity * units)
            else:  # a bundle without parts: its own figures are all there is
                box.add(sku, units)
    for row in rows.values():
        money_currencies.add(row[3])
    return {pk: (rows[pk], boxes[pk]) for pk in rows}


def _parcel(row: tuple, box: _Box, money: Money) -> Parcel:
    (
        pk,
        country,
        total,
        currency,
        store_id,
        platform,
        warehouse_id,
        warehouse_code,
        ship_service,
    ) = row
    return Parcel(
        weight_g=box.weight,
        length_mm=box.length,
        width_mm=box.width,
        height_mm=box.height,
        country=(country or "").upper(),
        value_usd=box.value,
        flags=box.flags,
        warehouse_id=warehouse_id,
        store_id=store_id,
        platform=platform or "",
        order_value_base=money.to_base(total, currency or ""),
        ship_service=ship_service or "",
        warehouse_code=warehouse_code or "",
        order_id=pk,
    )


def parcel_for_order(order: Order) -> Parcel:
    """The parcel of one order: its paired lines with bundles replaced by their parts.

    Weight and declared value (``declared_value_usd``) are summed over every unit. The size is
    an estimate of the units packed in one stack: the longest length of any SKU, the longest
    width, and the heights of all units summed. Unpaired lines are left out (they have no SKU
    to weigh); allocated orders have none.
    """
    return parcels_for_orders([order.pk])[order.pk]


def parcels_for_orders(order_ids: Iterable[int], *, money: Money | None = None) -> dict:
    """Order id -> Parcel for the orders that exist, set-based (see the module docstring)."""
    ids = sorted(set(order_ids))
    loaded: dict[int, tuple] = {}
    currencies: set[str] = set()
    for chunk in _chunks(ids, _chunk_size()):
        loaded.update(_parcels_of_chunk(chunk, currencies))
    money = money or Money.load(currencies)
    return {pk: _parcel(row, box, money) for pk, (row, box) in loaded.items()}


# --- Channels --------------------------------------------------------------------------------


def _country_set(text: str) -> frozenset[str]:
    return frozenset(c.upper() for c in re.split(r"[,\s]+", text or "") if c)


class _Reasons:
    """The reasons' texts, translated once per quoting call (in the active language) rather
    than once per quote: looking a translation up took half the time of quoting."""

    __slots__ = (
        "battery",
        "carrier_off",
        "channel_off",
        "country",
        "liquid",
        "magnet",
        "no_country",
        "no_rate",
        "over_weight",
        "side",
        "under_weight",
        "value",
        "warehouse",
    )

    def __init__(self):
        self.channel_off = _("The channel is switched off.")
        self.carrier_off = _("The carrier is switched off.")
        self.no_country = _("The order has no destination country.")
        self.country = _("Does not ship to %(country)s")
        self.over_weight = _("Weight %(weight)s g is over the %(limit)s g limit")
        self.under_weight = _("Weight %(weight)s g is under the %(limit)s g minimum")
        self.value = _("Declared value %(value)s USD is over the %(limit)s USD limit")
        self.side = _("Longest side %(side)s mm is over the %(limit)s mm limit")
        self.battery = _("Does not take batteries")
        self.liquid = _("Does not take liquids")
        self.magnet = _("Does not take magnets")
        self.warehouse = _("Not from warehouse %(warehouse)s")
        self.no_rate = _("No rate for %(country)s at %(weight)s g")


class _Channel:
    """A channel's limits as plain values, with its rate table, checked for every parcel."""

    __slots__ = (
        "channel",
        "countries",
        "currency",
        "divisor",
        "max_side",
        "max_value",
        "max_weight",
        "min_weight",
        "off",
        "rate",
        "refused",
        "table",
        "texts",
        "warehouse_ids",
    )

    def __init__(self, channel: ShippingChannel, rows: list[RateRow], money: Money, texts):
        self.channel = channel
        self.texts = texts
        if not channel.is_active:
            self.off = texts.channel_off
        elif not channel.carrier.is_active:
            self.off = texts.carrier_off
        else:
            self.off = ""
        self.countries = _country_set(channel.countries)
        self.min_weight = channel.min_weight_g
        self.max_weight = channel.max_weight_g
        self.max_value = channel.max_value
        self.max_side = channel.max_side_mm
        self.refused = frozenset(
            name
            for name, allowed in (
                (BATTERY, channel.allows_battery),
                (LIQUID, channel.allows_liquid),
                (MAGNETIC, channel.allows_magnetic),
            )
            if not allowed
        )
        self.divisor = channel.volumetric_divisor
        self.currency = channel.currency.upper()
        self.rate = money.rates.get(self.currency)
        self.warehouse_ids = frozenset(w.pk for w in channel.warehouses.all())
        self.table = RateTable(rows)

    def quote(self, parcel: Parcel) -> Quote:
        texts = self.texts
        reasons: list[str] = [self.off] if self.off else []
        country = parcel.country
        chargeable = chargeable_weight_g(
            parcel.weight_g, parcel.length_mm, parcel.width_mm, parcel.height_mm, self.divisor
        )
        ships_there = True
        if not country:
            reasons.append(texts.no_country)
            ships_there = False
        elif self.countries and country not in self.countries:
            reasons.append(texts.country % {"country": country})
            ships_there = False
        weight = parcel.weight_g
        if weight > self.max_weight:
            reasons.append(
                texts.over_weight % {"weight": f"{weight:,}", "limit": f"{self.max_weight:,}"}
            )
        elif weight < self.min_weight:
            reasons.append(
                texts.under_weight % {"weight": f"{weight:,}", "limit": f"{self.min_weight:,}"}
            )
        if self.max_value is not None and parcel.value_usd > self.max_value:
            reasons.append(
                texts.value
                % {"value": f"{parcel.value_usd:,.2f}", "limit": f"{self.max_value:,.2f}"}
            )
        if self.max_side:
            side = parcel.longest_side_mm
            if side > self.max_side:
                reasons.append(texts.side % {"side": f"{side:,}", "limit": f"{self.max_side:,}"})
        if parcel.flags:
            refused = parcel.flags & self.refused
            if BATTERY in refused:
                reasons.append(texts.battery)
            if LIQUID in refused:
                reasons.append(texts.liquid)
            if MAGNETIC in refused:
                reasons.append(texts.magnet)
        if (
            self.warehouse_ids
            and parcel.warehouse_id is not None
            and parcel.warehouse_id not in self.warehouse_ids
        ):
            reasons.append(
                texts.warehouse % {"warehouse": parcel.warehouse_code or parcel.warehouse_id}
            )
        cost = self.table.price(country, chargeable) if country else None
        if cost is None and ships_there:
            reasons.append(texts.no_rate % {"country": country, "weight": f"{chargeable:,}"})
        if cost is None or self.rate is None:
            cost_base = None
        elif self.rate == 1:
            cost_base = cost
        else:
            cost_base = (cost * self.rate).quantize(CENT)
        return Quote(self.channel, not reasons, cost, self.currency, cost_base, chargeable, reasons)


def channel_queryset():
    """Channels with what quoting reads of them: carrier and origin warehouses."""
    return ShippingChannel.objects.select_related("carrier").prefetch_related(
        Prefetch("warehouses", Warehouse.objects.only("id", "code"))
    )


def quoting_channels() -> list[ShippingChannel]:
    """Every channel that can take parcels now: switched on, with its carrier switched on."""
    return list(
        channel_queryset()
        .filter(is_active=True, carrier__is_active=True)
        .order_by("carrier__code", "code")
    )


def _rate_rows(channel_ids: Iterable[int]) -> dict[int, list[RateRow]]:
    rows: dict[int, list[RateRow]] = defaultdict(list)
    ids = list(channel_ids)
    if not ids:
        return rows
    for values in RateCardRow.objects.filter(channel_id__in=ids).values_list(*_RATE_FIELDS):
        (
            pk,
            channel_id,
            country,
            low,
            high,
            first_g,
            first_price,
            unit,
            extra,
            registration,
            fuel,
            minimum,
        ) = values
        rows[channel_id].append(
            RateRow(
                country=country.upper(),
                weight_from_g=low,
                weight_to_g=high,
                first_weight_g=first_g,
                first_price=first_price,
                additional_unit_g=unit,
                additional_price=extra,
                registration_fee=registration,
                fuel_surcharge_pct=fuel,
                minimum_charge=minimum,
                id=pk,
            )
        )
    return rows


class Quoter:
    """Quotes parcels against a fixed set of channels; each channel's rate table is built
    once, when the quoter is made (one query for every rate row)."""

    def __init__(self, channels: Iterable[ShippingChannel], money: Money):
        channels = list(channels)
        rows = _rate_rows(c.pk for c in channels)
        self.money = money
        texts = _Reasons()
        self._channels = [_Channel(c, rows.get(c.pk, []), money, texts) for c in channels]

    def quote(self, parcel: Parcel) -> list[Quote]:
        return _sorted([c.quote(parcel) for c in self._channels])


def _sort_key(quote: Quote):
    return (
        not quote.eligible,
        quote.cost_base is None,
        quote.cost_base or _ZERO,
        quote.channel.code,
    )


def _sorted(quotes: list[Quote]) -> list[Quote]:
    quotes.sort(key=_sort_key)
    return quotes


def quote_parcel(parcel: Parcel, channels: Iterable[ShippingChannel]) -> list[Quote]:
    """Every channel of ``channels`` for ``parcel``: the eligible ones first, cheapest (in the
    base currency) first, then the ineligible ones with their reasons. Pass channels from
    ``channel_queryset()`` to spare a query per channel for its warehouses and carrier."""
    channels = list(channels)
    return Quoter(channels, Money.load(c.currency for c in channels)).quote(parcel)


def quote_order(order: Order) -> list[Quote]:
    """Every active channel's quote for one order (see ``quote_parcel``)."""
    return quote_orders([order.pk]).get(order.pk, [])


def quote_orders(
    order_ids: Iterable[int], *, channels: Iterable[ShippingChannel] | None = None
) -> dict[int, list[Quote]]:
    """Order id -> quotes (as ``quote_parcel``) for every order of ``order_ids`` that exists,
    against ``channels`` (default: ``quoting_channels()``). A constant number of queries per
    chunk of orders (see the module docstring); ids that are no order are left out."""
    return {
        pk: quotes
        for pk, (_parcel, quotes) in quote_orders_with_parcels(order_ids, channels=channels).items()
    }


def quote_orders_with_parcels(
    order_ids: Iterable[int],
    *,
    channels: Iterable[ShippingChannel] | None = None,
    money: Money | None = None,
) -> dict[int, tuple[Parcel, list[Quote]]]:
    """As ``quote_orders``, with each order's parcel beside its quotes (channel rules need
    both). ``money``: rates already loaded (they must cover the orders' and channels'
    currencies)."""
    channels = quoting_channels() if channels is None else list(channels)
    ids = sorted(set(order_ids))
    loaded: dict[int, tuple] = {}
    currencies = {c.currency for c in channels}
    for chunk in _chunks(ids, _chunk_size()):
        loaded.update(_parcels_of_chunk(chunk, currencies))
    money = money or Money.load(currencies)
    quoter = Quoter(channels, money)
    result = {}
    for pk, (row, box) in loaded.items():
        parcel = _parcel(row, box, money)
        result[pk] = (parcel, quoter.quote(parcel))
    return result


@dataclass(slots=True)
class OrderFreight:
    """What an order's freight comparison shows: its parcel, every active channel's quote and
    the base currency the quotes compare in."""

    parcel: Parcel
    quotes: list[Quote]
    base_currency: str


def order_freight(order: Order) -> OrderFreight:
    """The freight comparison of one order (page and API)."""
    channels = quoting_channels()
    money = Money.load([order.currency, *(c.currency for c in channels)])
    parcel, quotes = quote_orders_with_parcels([order.pk], channels=channels, money=money)[order.pk]
    return OrderFreight(parcel, quotes, money.base)
