"""Channel rules: which channel an order gets, when allocated or chosen by a person."""

from datetime import date
from decimal import Decimal

import pytest

from erp.models import ExchangeRate
from logistics.models import OrderChannel, RuleAction
from logistics.services import (
    ChannelLocked,
    ChannelNotEligible,
    choose_channel,
    order_set_channel,
    orders_assign_channels,
    quote_parcel,
)
from logistics.services.quotes import Parcel, channel_queryset
from orders.models import OrderEvent, OrderStatus
from orders.services import orders_allocate
from tests.factories import LocationFactory, SkuFactory, StoreFactory, UserFactory, WarehouseFactory
from tests.logistics.factories import (
    ChannelRuleFactory,
    RateCardRowFactory,
    ShippingChannelFactory,
    make_order,
)
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def store():
    return StoreFactory(platform="amazon")


@pytest.fixture
def sz():
    return WarehouseFactory(code="SZ")


@pytest.fixture
def mug():
    return SkuFactory(code="MUG", weight_g=350)


@pytest.fixture
def channels():
    """A cheap one without batteries, a dearer one taking them, an express one for the US."""
    cheap = ShippingChannelFactory(code="CHEAP")
    RateCardRowFactory(channel=cheap, country="*", first_price=D("10"), additional_price=D("0"))
    battery = ShippingChannelFactory(code="BATTERY", allows_battery=True)
    RateCardRowFactory(channel=battery, country="*", first_price=D("20"), additional_price=D("0"))
    express = ShippingChannelFactory(code="EXPRESS", countries="US")
    RateCardRowFactory(channel=express, country="US", first_price=D("50"), additional_price=D(0))
    return {"cheap": cheap, "battery": battery, "express": express}


def parcel(**fields) -> Parcel:
    base = {
        "weight_g": 500,
        "length_mm": 0,
        "width_mm": 0,
        "height_mm": 0,
        "country": "US",
        "value_usd": D("10"),
        "flags": frozenset(),
        "platform": "amazon",
        "order_value_base": D("100"),
        "ship_service": "Standard",
    }
    return Parcel(**{**base, **fields})


def choose(p: Parcel, rules):
    return choose_channel(p, quote_parcel(p, channel_queryset()), rules)


# --- choosing ------------------------------------------------------------------------------


def test_rules_run_by_priority_and_the_first_match_wins(channels):
    late = ChannelRuleFactory(priority=20, action=RuleAction.CHANNEL, channel=channels["battery"])
    early = ChannelRuleFactory(priority=10, action=RuleAction.CHANNEL, channel=channels["express"])
    choice = choose(parcel(), [late, early])
    assert (choice.channel.code, choice.rule) == ("EXPRESS", early)


def test_equal_priorities_run_by_id(channels):
    first = ChannelRuleFactory(priority=10, action=RuleAction.CHANNEL, channel=channels["express"])
    second = ChannelRuleFactory(priority=10, action=RuleAction.CHANNEL, channel=channels["cheap"])
    assert choose(parcel(), [second, first]).rule == first


def test_a_rule_whose_channel_is_ineligible_falls_through(channels):
    express = ChannelRuleFactory(
        priority=10, action=RuleAction.CHANNEL, channel=channels["express"]
    )
    cheapest = ChannelRuleFactory(priority=20, action=RuleAction.CHEAPEST)
    choice = choose(parcel(country="DE"), [express, cheapest])  # express ships to the US only
    assert (choice.channel.code, choice.rule) == ("CHEAP", cheapest)


def test_cheapest_takes_the_cheapest_eligible_channel(channels):
    rule = ChannelRuleFactory(action=RuleAction.CHEAPEST)
    assert choose(parcel(), [rule]).channel.code == "CHEAP"
    assert choose(parcel(flags=frozenset({"battery"})), [rule]).channel.code == "BATTERY"


def test_inactive_rules_are_skipped(channels):
    off = ChannelRuleFactory(
        priority=1, is_active=False, action=RuleAction.CHANNEL, channel=channels["express"]
    )
    on = ChannelRuleFactory(priority=2, action=RuleAction.CHEAPEST)
    assert choose(parcel(), [off, on]).rule == on


def test_no_rule_matches():
    rule = ChannelRuleFactory(countries="FR")
    assert choose(parcel(country="US"), [rule]) is None


@pytest.mark.parametrize(
    ("conditions", "parcel_fields", "matches"),
    [
        ({"platform": "amazon"}, {}, True),
        ({"platform": "ebay"}, {}, False),
        ({"countries": "DE US"}, {}, True),
        ({"countries": "DE FR"}, {}, False),
        ({"min_weight_g": 500, "max_weight_g": 500}, {}, True),  # both ends included
        ({"min_weight_g": 501}, {}, False),
        ({"max_weight_g": 499}, {}, False),
        ({"min_value": D("100"), "max_value": D("100")}, {}, True),
        ({"min_value": D("100.01")}, {}, False),
        ({"max_value": D("50")}, {"order_value_base": None}, False),  # no rate: no value
        ({"sku_flag": "battery"}, {"flags": frozenset({"battery"})}, True),
        ({"sku_flag": "battery"}, {}, False),
        ({"sku_flag": "plain"}, {}, True),
        ({"sku_flag": "plain"}, {"flags": frozenset({"liquid"})}, False),
        ({"ship_service": "expedited"}, {"ship_service": "Expedited Intl"}, True),
        ({"ship_service": "expedited"}, {}, False),
    ],
)
def test_conditions(channels, conditions, parcel_fields, matches):
    rule = ChannelRuleFactory(action=RuleAction.CHEAPEST, **conditions)
    assert (choose(parcel(**parcel_fields), [rule]) is not None) is matches


def test_store_and_warehouse_conditions(channels, store, sz):
    other = WarehouseFactory(code="HK")
    rule = ChannelRuleFactory(store=store, warehouse=sz)
    assert choose(parcel(store_id=store.pk, warehouse_id=sz.pk), [rule]) is not None
    assert choose(parcel(store_id=store.pk, warehouse_id=other.pk), [rule]) is None
    assert choose(parcel(store_id=None, warehouse_id=sz.pk), [rule]) is None


def test_weight_condition_is_on_actual_weight(channels):
    # 400 × 300 × 200 mm is 4,800 g volumetric at 5,000, but the parcel weighs 500 g
    rule = ChannelRuleFactory(max_weight_g=1000)
    assert choose(parcel(length_mm=400, width_mm=300, height_mm=200), [rule]) is not None


# --- assigning --------------------------------------------------------------------------------


def test_assign_writes_the_channel_rule_and_estimated_cost(store, mug, channels):
    rule = ChannelRuleFactory(action=RuleAction.CHEAPEST)
    order = make_order(store, [(mug, 1)], country="DE")

    result = orders_assign_channels(order_ids=[order.pk])

    assert result.assigned == {order.pk: channels["cheap"].pk}
    choice = OrderChannel.objects.get(order=order)
    assert (choice.channel, choice.rule, choice.chosen_by) == (channels["cheap"], rule, None)
    assert (choice.estimated_cost, choice.currency) == (D("10.00"), "CNY")
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.NOTE)
    assert event.data == {"channel": "CHEAP", "rule": rule.pk}


def test_assign_says_why_an_order_got_none(store, mug, channels):
    order = make_order(store, [(mug, 1)], country="DE")
    assert orders_assign_channels(order_ids=[order.pk]).unassigned == {
        order.pk: "No channel rules are set up; choose the channel by hand."
    }
    ChannelRuleFactory(countries="FR")
    assert orders_assign_channels(order_ids=[order.pk]).unassigned == {
        order.pk: "No channel rule matches this order."
    }
    ChannelRuleFactory(action=RuleAction.CHANNEL, channel=channels["express"])
    assert orders_assign_channels(order_ids=[order.pk]).unassigned == {
        order.pk: "The matching rules found no eligible channel."
    }
    assert not OrderChannel.objects.exists()


def test_a_persons_choice_is_not_overwritten(store, mug, channels):
    ChannelRuleFactory(action=RuleAction.CHEAPEST)
    person = UserFactory()
    order = make_order(store, [(mug, 1)])
    order_set_channel(order=order, channel=channels["battery"], user=person)

    result = orders_assign_channels(order_ids=[order.pk])

    assert result.kept == [order.pk]
    assert OrderChannel.objects.get(order=order).channel == channels["battery"]
    orders_assign_channels(order_ids=[order.pk], overwrite=True)
    choice = OrderChannel.objects.get(order=order)
    assert (choice.channel, choice.chosen_by) == (channels["cheap"], None)


def test_a_rules_choice_is_updated_when_rules_run_again(store, mug, channels):
    rule = ChannelRuleFactory(action=RuleAction.CHANNEL, channel=channels["express"])
    order = make_order(store, [(mug, 1)], country="US")
    orders_assign_channels(order_ids=[order.pk])
    rule.channel = channels["battery"]
    rule.save()

    orders_assign_channels(order_ids=[order.pk])

    assert OrderChannel.objects.get(order=order).channel == channels["battery"]


def test_labelled_orders_keep_their_channel(store, mug, channels):
    ChannelRuleFactory()
    order = make_order(store, [(mug, 1)], status=OrderStatus.LABELLED)
    result = orders_assign_channels(order_ids=[order.pk])
    assert result.unassigned == {
        order.pk: "The order is Labelled; its channel can no longer change."
    }


# --- a person's choice -----------------------------------------------------------------------


def test_person_refused_an_ineligible_channel_with_the_reasons(store, mug, channels):
    order = make_order(store, [(mug, 1)], country="DE")
    with pytest.raises(ChannelNotEligible) as refused:
        order_set_channel(order=order, channel=channels["express"], user=UserFactory())
    assert refused.value.reasons == ["Does not ship to DE"]
    assert refused.value.as_dict()["code"] == "channel_not_eligible"
    assert not OrderChannel.objects.exists()


def test_person_may_insist_on_an_ineligible_channel(store, mug, channels):
    person = UserFactory()
    order = make_order(store, [(mug, 1)], country="DE")
    choice = order_set_channel(
        order=order, channel=channels["express"], user=person, allow_ineligible=True
    )
    assert (choice.channel, choice.chosen_by, choice.estimated_cost) == (
        channels["express"],
        person,
        None,
    )


def test_person_cannot_change_a_shipped_orders_channel(store, mug, channels):
    order = make_order(store, [(mug, 1)], status=OrderStatus.SHIPPED)
    with pytest.raises(ChannelLocked):
        order_set_channel(order=order, channel=channels["cheap"], user=UserFactory())


# --- allocation ---------------------------------------------------------------------------


def test_allocation_assigns_the_channel(
    store, sz, mug, channels, django_capture_on_commit_callbacks
):
    ChannelRuleFactory(action=RuleAction.CHEAPEST)
    location = LocationFactory(warehouse=sz, code="A-01")
    stock_receive(sku=mug, location=location, quantity=5, unit_cost=D("2"))
    ExchangeRate.objects.create(date=date(2026, 1, 1), currency="USD", rate_to_base=D("7"))
    order = make_order(store, [(mug, 2)], status=OrderStatus.APPROVED, country="DE", currency="USD")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = orders_allocate(order_ids=[order.pk])

    assert result.done == [order.pk]
    assert len(callbacks) == 1
    choice = OrderChannel.objects.get(order=order)
    assert (choice.channel, choice.estimated_cost) == (channels["cheap"], D("10.00"))
