"""Freight quotes: parcels of orders, eligibility with reasons, cheapest first, and a constant
number of queries whatever the number of orders."""

from datetime import date
from decimal import Decimal

import pytest

from erp.models import Company, ExchangeRate
from logistics.services import parcel_for_order, quote_order, quote_orders, quote_parcel
from logistics.services.quotes import Parcel, channel_queryset
from tests.factories import BundleItemFactory, SkuFactory, StoreFactory, WarehouseFactory
from tests.logistics.factories import (
    RateCardRowFactory,
    ShippingChannelFactory,
    make_order,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def store():
    return StoreFactory(platform="shopify")


@pytest.fixture
def sz():
    return WarehouseFactory(code="SZ")


@pytest.fixture
def mug():
    return SkuFactory(
        code="MUG",
        weight_g=350,
        length_mm=120,
        width_mm=90,
        height_mm=100,
        declared_value_usd=D("4.50"),
    )


def priced(channel, country="US", **fields):
    return RateCardRowFactory(channel=channel, country=country, **fields)


def parcel(**fields) -> Parcel:
    base = {
        "weight_g": 500,
        "length_mm": 100,
        "width_mm": 100,
        "height_mm": 100,
        "country": "US",
        "value_usd": D("10"),
        "flags": frozenset(),
    }
    return Parcel(**{**base, **fields})


# --- parcels --------------------------------------------------------------------------------


def test_parcel_sums_weights_and_values_and_stacks_heights(store, sz, mug):
    lamp = SkuFactory(
        weight_g=800,
        length_mm=200,
        width_mm=60,
        height_mm=50,
        declared_value_usd=D("12"),
        has_battery=True,
    )
    order = make_order(store, [(mug, 2), (lamp, 1)], warehouse=sz, country="de")

    got = parcel_for_order(order)

    assert (got.weight_g, got.length_mm, got.width_mm, got.height_mm) == (1500, 200, 90, 250)
    assert got.value_usd == D("21.00")
    assert got.flags == frozenset({"battery"})
    assert (got.country, got.warehouse_id, got.warehouse_code) == ("DE", sz.pk, "SZ")
    assert (got.store_id, got.platform, got.ship_service) == (store.pk, "shopify", "Standard")


def test_parcel_expands_bundles_into_their_parts(store, mug):
    magnet = SkuFactory(weight_g=100, height_mm=10, declared_value_usd=D("1"), is_magnetic=True)
    bundle = SkuFactory(is_bundle=True, weight_g=9999)
    BundleItemFactory(bundle=bundle, component=mug, quantity=2)
    BundleItemFactory(bundle=bundle, component=magnet, quantity=3)
    order = make_order(store, [(bundle, 2)])

    got = parcel_for_order(order)

    assert got.weight_g == 2 * (2 * 350 + 3 * 100)
    assert got.height_mm == 2 * (2 * 100 + 3 * 10)
    assert got.value_usd == D("24.00")  # 2 × (2 × 4.50 + 3 × 1)
    assert got.flags == frozenset({"magnetic"})


def test_sku_quantity_of_the_pairing_multiplies(store, mug):
    order = make_order(store, [(mug, 2)])
    order.lines.update(sku_quantity=3)
    assert parcel_for_order(order).weight_g == 6 * 350


def test_order_value_in_base_currency(store, mug):
    ExchangeRate.objects.create(date=date(2020, 1, 1), currency="USD", rate_to_base=D("7.0"))
    ExchangeRate.objects.create(date=date(2021, 1, 1), currency="USD", rate_to_base=D("7.2"))
    order = make_order(store, [(mug, 1)], total="10.00", currency="USD")
    assert parcel_for_order(order).order_value_base == D("72.00")  # the latest rate


def test_order_value_unknown_without_a_rate(store, mug):
    order = make_order(store, [(mug, 1)], total="10.00", currency="EUR")
    assert parcel_for_order(order).order_value_base is None


def test_base_currency_comes_from_the_company(store, mug):
    Company.objects.create(name="Acme", base_currency="USD")
    order = make_order(store, [(mug, 1)], total="10.00", currency="USD")
    assert parcel_for_order(order).order_value_base == D("10.00")


# --- eligibility ---------------------------------------------------------------------------


def test_every_reason_a_channel_cannot_take_the_parcel(sz):
    other = WarehouseFactory(code="HK")
    channel = ShippingChannelFactory(
        countries="US DE", max_weight_g=2000, max_value=D("50"), max_side_mm=400, warehouses=[other]
    )
    priced(channel, country="BR")

    (quote,) = quote_parcel(
        parcel(
            country="BR",
            weight_g=2340,
            value_usd=D("120"),
            length_mm=450,
            flags=frozenset({"battery", "liquid", "magnetic"}),
            warehouse_id=sz.pk,
            warehouse_code="SZ",
        ),
        [channel],
    )

    assert quote.eligible is False
    assert quote.reasons == [
        "Does not ship to BR",
        "Weight 2,340 g is over the 2,000 g limit",
        "Declared value 120.00 USD is over the 50.00 USD limit",
        "Longest side 450 mm is over the 400 mm limit",
        "Does not take batteries",
        "Does not take liquids",
        "Does not take magnets",
        "Not from warehouse SZ",
    ]


def test_no_rate_for_the_chargeable_weight():
    channel = ShippingChannelFactory(max_weight_g=5000, volumetric_divisor=5000)
    priced(channel, weight_to_g=2000)
    # 300 × 200 × 195 mm / 5000 = 2,340 g chargeable
    (quote,) = quote_parcel(
        parcel(country="US", weight_g=900, length_mm=300, width_mm=200, height_mm=195), [channel]
    )
    assert quote.reasons == ["No rate for US at 2,340 g"]
    assert quote.chargeable_weight_g == 2340
    assert quote.cost is None


def test_channel_without_country_list_ships_where_the_card_prices():
    channel = ShippingChannelFactory(countries="")
    priced(channel, country="US")
    (us,) = quote_parcel(parcel(country="US"), [channel])
    (br,) = quote_parcel(parcel(country="BR"), [channel])
    assert us.eligible is True
    assert br.reasons == ["No rate for BR at 500 g"]


def test_allowed_goods_and_warehouses_pass(sz):
    channel = ShippingChannelFactory(allows_battery=True, warehouses=[sz])
    priced(channel)
    (quote,) = quote_parcel(parcel(flags=frozenset({"battery"}), warehouse_id=sz.pk), [channel])
    assert (quote.eligible, quote.reasons) == (True, [])


def test_under_the_minimum_weight():
    channel = ShippingChannelFactory(min_weight_g=600)
    priced(channel)
    (quote,) = quote_parcel(parcel(weight_g=500), [channel])
    assert quote.reasons == ["Weight 500 g is under the 600 g minimum"]


def test_ineligible_channel_still_shows_its_cost():
    channel = ShippingChannelFactory(allows_battery=False)
    priced(channel, first_price=D("10"), additional_unit_g=100, additional_price=D("5"))
    (quote,) = quote_parcel(parcel(weight_g=500, flags=frozenset({"battery"})), [channel])
    assert (quote.eligible, quote.cost, quote.currency) == (False, D("35.00"), "CNY")


# --- ordering and money ------------------------------------------------------------------------


def test_eligible_cheapest_first_in_base_currency_then_ineligible():
    ExchangeRate.objects.create(date=date(2026, 1, 1), currency="USD", rate_to_base=D("7"))
    cheap_usd = ShippingChannelFactory(code="A-USD", currency="USD")
    priced(cheap_usd, first_price=D("5"), additional_price=D("0"))  # 35 CNY
    pricey = ShippingChannelFactory(code="B-CNY")
    priced(pricey, first_price=D("40"), additional_price=D("0"))
    cheapest = ShippingChannelFactory(code="C-CNY")
    priced(cheapest, first_price=D("30"), additional_price=D("0"))
    refused = ShippingChannelFactory(code="D-BAT")
    priced(refused, first_price=D("1"), additional_price=D("0"))
    no_rate = ShippingChannelFactory(code="E-EUR", currency="EUR")
    priced(no_rate, first_price=D("1"), additional_price=D("0"))

    quotes = quote_parcel(parcel(flags=frozenset({"battery"})), channel_queryset())
    refused_codes = {"A-USD", "B-CNY", "C-CNY", "D-BAT", "E-EUR"}  # none takes batteries
    assert {q.channel.code for q in quotes} == refused_codes

    for channel in (cheap_usd, pricey, cheapest, no_rate):
        channel.allows_battery = True
        channel.save()
    quotes = quote_parcel(parcel(flags=frozenset({"battery"})), channel_queryset())

    assert [(q.channel.code, q.eligible, q.cost, q.cost_base) for q in quotes] == [
        ("C-CNY", True, D("30.00"), D("30.00")),
        ("A-USD", True, D("5.00"), D("35.00")),
        ("B-CNY", True, D("40.00"), D("40.00")),
        ("E-EUR", True, D("1.00"), None),  # no rate to compare: after those with one
        ("D-BAT", False, D("1.00"), D("1.00")),
    ]


def test_quote_order_uses_active_channels_only(store, mug):
    active = ShippingChannelFactory(code="ON")
    priced(active)
    off = ShippingChannelFactory(code="OFF", is_active=False)
    priced(off)
    order = make_order(store, [(mug, 1)])
    assert [q.channel.code for q in quote_order(order)] == ["ON"]


def test_quote_orders_leaves_out_missing_ids(store, mug):
    channel = ShippingChannelFactory()
    priced(channel)
    order = make_order(store, [(mug, 1)])
    result = quote_orders([order.pk, 999_999])
    assert list(result) == [order.pk]
    assert result[order.pk][0].cost == D("10.00") + 4 * D("5")  # 350 g: 4 started 100 g units


# --- queries ---------------------------------------------------------------------------------


def _orders(store, skus, count):
    bundle = SkuFactory(is_bundle=True)
    BundleItemFactory(bundle=bundle, component=skus[0], quantity=2)
    countries = ["US", "DE", "BR", "FR"]
    return [
        make_order(
            store,
            [(skus[i % len(skus)], 1 + i % 3), (bundle, 1)],
            country=countries[i % len(countries)],
        )
        for i in range(count)
    ]


def test_query_count_is_the_same_for_one_and_fifty_orders(store, sz, django_assert_max_num_queries):
    skus = [SkuFactory(weight_g=100 + i) for i in range(5)]
    for i in range(4):
        channel = ShippingChannelFactory(warehouses=[sz] if i % 2 else [])
        priced(channel, country="US")
        priced(channel, country="*", weight_to_g=5000)
    one = _orders(store, skus, 1)
    many = _orders(store, skus, 50)

    # orders, lines + SKUs, bundle parts, channels, their warehouses, rate rows, company
    with django_assert_max_num_queries(7):
        single = quote_orders([o.pk for o in one])
    with django_assert_max_num_queries(7):
        result = quote_orders([o.pk for o in many])

    assert len(single) == 1
    assert len(result) == 50
    assert all(len(quotes) == 4 for quotes in result.values())
