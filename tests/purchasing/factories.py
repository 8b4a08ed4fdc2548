"""Factories of purchasing rows, and a 1688 account wired to a ``FakeGateway``."""

from __future__ import annotations

from decimal import Decimal

import factory

from purchasing.models import Account1688, Supplier, SupplierProduct
from tests.factories import SkuFactory
from tests.purchasing.fake_gateway import FakeGateway

OFFER = "612000000001"
BLACK_SPEC = "c0ffee00c0ffee00c0ffee00c0ffee00"
WHITE_SPEC = "c0ffee11c0ffee11c0ffee11c0ffee11"
# How a delivery warehouse's address is written for 1688 (purchasing.services.platform).
SZ_ADDRESS = "王芳 13800000000\n广东省 深圳市 宝安区 西乡街道 18 号 仓库 A\n518000"


class Account1688Factory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account1688
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"buyer-{n}")
    app_key = "7654321"
    api_base_url = "https://gw.test/openapi"

    @factory.post_generation
    def credentials(self, create, extracted, **kwargs):
        if create:
            self.set_credentials(
                extracted
                or {
                    "app_secret": "caravan-test-secret",
                    "access_token": "tok-7a1c0e2f",
                    "refresh_token": "rt-5d0c91",
                }
            )
            self.save(update_fields=["credentials"])


def account_for(gateway: FakeGateway, **fields) -> Account1688:
    """An account holding the gateway's app key, secret and tokens."""
    return Account1688Factory(
        app_key=gateway.app_key,
        credentials={
            "app_secret": gateway.app_secret,
            "access_token": gateway.access_token,
            "refresh_token": gateway.refresh_token,
        },
        **fields,
    )


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"SUP{n}")
    name = factory.LazyAttribute(lambda o: f"Supplier {o.code}")
    kind = Supplier.Kind.SHOP_1688
    currency = "CNY"


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    sku = factory.SubFactory(SkuFactory)
    offer_id = OFFER
    price_tiers = factory.LazyFunction(lambda: [[1, "10.00"], [100, "8.50"]])
    moq = 1


def black_cup_offer(supplier: Supplier, **fields) -> SupplierProduct:
    """The fixture offer's black spec as our SKU CUP-BLK, with 1688's tiers."""
    sku = fields.pop("sku", None) or SkuFactory(
        code="CUP-BLK", name="Vacuum cup 500ml black", name_zh="保温杯 黑色 500ml"
    )
    return SupplierProduct.objects.create(
        supplier=supplier,
        sku=sku,
        offer_id=OFFER,
        spec_id=fields.pop("spec_id", BLACK_SPEC),
        price_tiers=fields.pop("price_tiers", [[2, "18.50"], [10, "16.80"], [100, "15.20"]]),
        moq=fields.pop("moq", 2),
        is_preferred=fields.pop("is_preferred", True),
        **fields,
    )


def money(value: str) -> Decimal:
    return Decimal(value)


def supplier_world(gateway: FakeGateway) -> dict:
    """The Shenzhen warehouse with a bin, and the black-cup supplier whose 1688 account talks
    to ``gateway``: what the 1688 ordering tests start from."""
    from tests.factories import LocationFactory, WarehouseFactory

    warehouse = WarehouseFactory(code="SZ", name="Shenzhen", address=SZ_ADDRESS)
    supplier = SupplierFactory(code="YK-CUPS", account=account_for(gateway))
    return {
        "warehouse": warehouse,
        "supplier": supplier,
        "offer": black_cup_offer(supplier),
        "bin": LocationFactory(warehouse=warehouse, code="A-01"),
    }
