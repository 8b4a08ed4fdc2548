"""A small shipping world for the shipment, manifest and tracking page tests: a warehouse with
stock, a store, a carrier with a number-pool channel priced for every country, allocated orders
with their channel chosen, and labelled shipments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from erp.models import Role
from logistics.models import (
    Carrier,
    ConnectorKind,
    OrderChannel,
    RateCardRow,
    Shipment,
    ShippingChannel,
    TrackingSource,
)
from logistics.services.pool import pool_load
from logistics.services.shipments import shipments_create
from orders.models import Order
from orders.services import orders_allocate, orders_approve, orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)
from warehouse.services import stock_receive

_numbers = itertools.count(1)


def fpx_channel(*, max_weight_g: int = 2000) -> ShippingChannel:
    """A 4PX channel bought through the carrier's API (test credentials), priced everywhere."""
    carrier = Carrier.objects.create(code="4PX", name="4PX", connector=ConnectorKind.FOURPX)
    carrier.set_credentials({"app_key": "fpx-test-key", "app_secret": "fpx-test-secret"})
    carrier.save()
    channel = ShippingChannel.objects.create(
        carrier=carrier,
        code="4PX-SPG",
        service_code="F3",
        name="4PX Singpost",
        tracking_source=TrackingSource.CARRIER,
    )
    RateCardRow.objects.create(
        channel=channel, country="*", weight_to_g=max_weight_g, first_price=20
    )
    return channel


def mock_carrier(monkeypatch, handler) -> None:
    """Every carrier connector the shipment services open talks to ``handler`` (an
    ``httpx.MockTransport`` handler) instead of the network, without waiting between retries."""
    import httpx

    from logistics.services import shipments as shipment_service

    real = shipment_service.carrier_connector
    monkeypatch.setattr(
        shipment_service,
        "carrier_connector",
        lambda carrier, **kwargs: real(
            carrier, transport=httpx.MockTransport(handler), sleep=lambda s: None, **kwargs
        ),
    )


def pool_channel(
    *, code: str = "CNPOST-REG", carrier: Carrier | None = None, numbers: int = 60, prefix="RR"
) -> ShippingChannel:
    """A channel whose tracking numbers come from a pool of ``numbers`` numbers, priced for
    every destination up to 2 kg."""
    carrier = carrier or Carrier.objects.create(
        code="CNPOST", name="China Post", tracking_url="https://track.example/{number}"
    )
    channel = ShippingChannel.objects.create(
        carrier=carrier,
        code=code,
        service_code="REG",
        name=f"{carrier.name} registered",
        tracking_source=TrackingSource.POOL,
        max_weight_g=2000,
    )
    RateCardRow.objects.create(
        channel=channel,
        country="*",
        weight_from_g=0,
        weight_to_g=2000,
        first_weight_g=100,
        first_price=Decimal("10"),
        additional_unit_g=100,
        additional_price=Decimal("2"),
    )
    start = next(_numbers) * 1000
    pool_load(channel=channel, numbers=[f"{prefix}{start + n:09d}CN" for n in range(numbers)])
    return channel


def manual_channel(*, carrier: Carrier, code: str = "MANUAL-EXP") -> ShippingChannel:
    channel = ShippingChannel.objects.create(
        carrier=carrier,
        code=code,
        service_code="EXP",
        name="Typed-in express",
        tracking_source=TrackingSource.MANUAL,
        max_weight_g=2000,
    )
    RateCardRow.objects.create(
        channel=channel, country="*", weight_from_g=0, weight_to_g=2000, first_price=Decimal("30")
    )
    return channel


@dataclass
class World:
    warehouse: object
    store: object
    sku: object
    channel: ShippingChannel
    carrier: Carrier
    ops: object

    def allocated(self, count: int, *, prefix: str = "A", store=None, channel=None) -> list[Order]:
        return allocated_orders(
            store or self.store, count, prefix=prefix, channel=channel or self.channel
        )

    def labelled(self, count: int, *, prefix: str = "L", store=None) -> list[Shipment]:
        orders = self.allocated(count, prefix=prefix, store=store)
        result = shipments_create(order_ids=[o.pk for o in orders], user=self.ops)
        assert result.failed == {}
        return sorted(result.created, key=lambda s: s.pk)


def make_world(*, stock: int = 500) -> World:
    warehouse = WarehouseFactory(code="SZ", name="Shenzhen main", address="1 Bao'an Rd\nShenzhen")
    location = LocationFactory(warehouse=warehouse, code="A-01", pick_sequence=1)
    sku = SkuFactory(code="MUG-BLK", name="Black mug", weight_g=350)
    stock_receive(sku=sku, location=location, quantity=stock, unit_cost=Decimal("3.20"))
    store = StoreFactory(platform="manual", code="shop", default_warehouse=warehouse)
    channel = pool_channel()
    ops = UserFactory(username="ops-lin", roles=[Role.OPERATIONS])
    return World(warehouse, store, sku, channel, channel.carrier, ops)


def allocated_orders(store, count: int, *, prefix: str = "A", channel=None) -> list[Order]:
    """``count`` orders of one MUG-BLK each, approved and allocated, with ``channel`` chosen."""
    base = next(_numbers)
    result = orders_upsert(
        store=store,
        orders=[
            normalized_order(f"{prefix}{base}-{i:03d}", [("MUG-BLK", 1, "12.99")])
            for i in range(count)
        ],
        source="manual",
    )
    ids = list(result.order_ids)
    orders_approve(order_ids=ids)
    allocated = orders_allocate(order_ids=ids)
    assert sorted(allocated.done) == sorted(ids), allocated.failed
    if channel is not None:
        for pk in ids:
            OrderChannel.objects.update_or_create(
                order_id=pk,
                defaults={
                    "channel": channel,
                    "estimated_cost": Decimal("16.00"),
                    "currency": "CNY",
                },
            )
    return list(Order.objects.filter(pk__in=ids).order_by("pk"))
