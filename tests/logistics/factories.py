"""Factories of the logistics setup (carriers, channels, rate rows, channel rules) and a
helper that makes an order with lines of given SKUs, fast (no upsert, no review)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import factory

from logistics.models import Carrier, ChannelRule, RateCardRow, RuleAction, ShippingChannel
from orders.models import Order, OrderLine, OrderStatus


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"CAR{n}")
    name = factory.LazyAttribute(lambda o: f"Carrier {o.code}")


class ShippingChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingChannel
        skip_postgeneration_save = True

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"CH{n}")
    service_code = factory.LazyAttribute(lambda o: o.code)
    name = factory.LazyAttribute(lambda o: f"Channel {o.code}")
    max_weight_g = 2000
    currency = "CNY"

    @factory.post_generation
    def warehouses(self, create, extracted, **kwargs):
        if create and extracted:
            self.warehouses.set(extracted)


class RateCardRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCardRow

    channel = factory.SubFactory(ShippingChannelFactory)
    country = "US"
    weight_from_g = 0
    weight_to_g = 2000
    first_weight_g = 0
    first_price = Decimal("10.00")
    additional_unit_g = 100
    additional_price = Decimal("5.0000")


class ChannelRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: (n + 1) * 10)
    action = RuleAction.CHEAPEST


_order_numbers = itertools.count(1)


def make_order(
    store,
    lines=(),
    *,
    country: str = "US",
    status: str = OrderStatus.ALLOCATED,
    warehouse=None,
    total: str = "20.00",
    currency: str = "CNY",
    ship_service: str = "Standard",
    external_id: str | None = None,
) -> Order:
    """An order of ``store`` with ``lines`` = [(sku, quantity), ...] (sku None: unpaired)."""
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    order = Order.objects.create(
        store=store,
        external_id=external_id or f"O-{next(_order_numbers)}",
        status=status,
        source="manual",
        purchased_at=now,
        platform_updated_at=now,
        ship_country=country,
        ship_service=ship_service,
        currency=currency,
        total=Decimal(total),
        warehouse=warehouse,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            external_line_id=str(i + 1),
            platform_sku=sku.code if sku else f"UNPAIRED-{i}",
            quantity=quantity,
            sku=sku,
        )
        for i, (sku, quantity) in enumerate(lines)
    )
    return order


def urlpatterns_with_logistics() -> list:
    """The project's URLs plus the logistics pages and API, for tests to run before
    ``erp.urls`` / ``erp.api_urls`` include them (and unchanged once they do)."""
    from django.urls import include, path

    from erp import api_urls, urls

    patterns = list(urls.urlpatterns)
    if not any(getattr(p, "namespace", None) == "logistics" for p in patterns):
        patterns.insert(0, path("logistics/", include("logistics.urls")))
    names = {getattr(p, "name", None) for p in api_urls.urlpatterns}
    if "order-freight-quotes" not in names:
        patterns.insert(0, path("api/v1/", include("logistics.api_urls")))
    return patterns
