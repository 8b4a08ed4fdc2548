from datetime import UTC, datetime
from decimal import Decimal

import factory
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes

from erp.models import User
from erp.roles import roles_sync
from orders.models import Platform, SkuMapping, Store
from orders.normalized import (
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PlatformStatus,
)
from warehouse.models import BundleItem, Location, Sku, Warehouse


def ensure_roles() -> None:
    """Recreate permissions and role groups. A migration made them, but a transactional test
    (live server, races) flushes every table when it ends, so later tests may find none."""
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    roles_sync(group_model=Group, permission_model=Permission)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-Word-123")
    all_warehouses = True
    all_stores = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            groups = list(Group.objects.filter(name__in=extracted))
            if len(groups) != len(set(extracted)):
                ensure_roles()
                groups = list(Group.objects.filter(name__in=extracted))
            self.groups.set(groups)

    @factory.post_generation
    def warehouses(self, create, extracted, **kwargs):
        if create and extracted is not None:
            self.all_warehouses = False
            self.save(update_fields=["all_warehouses"])
            self.warehouses.set(extracted)

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        if create and extracted is not None:
            self.all_stores = False
            self.save(update_fields=["all_stores"])
            self.stores.set(extracted)


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    kind = Warehouse.Kind.OWN
    country = "CN"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"B-{n:04d}")
    pick_sequence = factory.Sequence(lambda n: n)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Stainless mug {n}")
    name_zh = factory.Sequence(lambda n: f"不锈钢杯 {n}")
    weight_g = 350
    declared_name_en = "Mug"
    declared_name_zh = "杯子"
    hs_code = "7323930000"
    declared_value_usd = Decimal("4.50")


class BundleItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BundleItem

    bundle = factory.SubFactory(SkuFactory, is_bundle=True)
    component = factory.SubFactory(SkuFactory)
    quantity = 1


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    platform = Platform.MANUAL
    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.LazyAttribute(lambda o: f"Store {o.code}")
    currency = "USD"

    @factory.post_generation
    def credentials(self, create, extracted, **kwargs):
        if create and extracted is not None:
            self.set_credentials(extracted)
            self.save(update_fields=["credentials"])


def normalized_order(
    external_id: str,
    lines: list[tuple[str, int, str]] = (("MUG-BLK", 1, "9.99"),),
    *,
    updated_at: datetime | None = None,
    purchased_at: datetime | None = None,
    status: PlatformStatus | None = None,
    currency: str = "USD",
    address: NormalizedAddress | None = None,
    **fields,
) -> NormalizedOrder:
    """A normalised order as any source produces it: ``lines`` are (platform SKU, quantity,
    unit price)."""
    purchased_at = purchased_at or datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    built = [
        NormalizedLine(
            external_line_id=str(i + 1),
            platform_sku=sku,
            quantity=qty,
            unit_price=Decimal(price),
            line_total=Decimal(price) * qty,
            title=f"Item {sku}",
        )
        for i, (sku, qty, price) in enumerate(lines)
    ]
    subtotal = sum((line.line_total for line in built), Decimal("0"))
    return NormalizedOrder(
        external_id=external_id,
        purchased_at=purchased_at,
        updated_at=updated_at or purchased_at,
        status=status or PlatformStatus("Unshipped"),
        currency=currency,
        lines=built,
        address=address
        or NormalizedAddress(
            name="Ann Example",
            address1="1 Main St",
            city="Springfield",
            state="IL",
            postcode="62701",
            country="US",
        ),
        buyer_name="Ann Example",
        buyer_email="ann@example.com",
        subtotal=subtotal,
        total=fields.pop("total", subtotal),
        **fields,
    )


class SkuMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuMapping

    store = factory.SubFactory(StoreFactory)
    platform_sku = factory.Sequence(lambda n: f"PLAT-{n}")
    sku = factory.SubFactory(SkuFactory)
    quantity = 1
