from decimal import Decimal

import pytest

from tests.factories import SkuFactory
from warehouse.models import BundleItem, Sku
from warehouse.services import BundlePart, SkuError, sku_create, sku_update, stock_receive

pytestmark = pytest.mark.django_db


def test_create_bundle_with_its_parts():
    case, film = SkuFactory(code="CASE"), SkuFactory(code="FILM")

    bundle = sku_create(
        fields={"code": "SET-1", "name": "Case + film", "is_bundle": True},
        bundle_items=[BundlePart(case, 1), BundlePart(film, 2)],
    )

    parts = BundleItem.objects.filter(bundle=bundle).order_by("component__code")
    assert [(p.component.code, p.quantity) for p in parts] == [("CASE", 1), ("FILM", 2)]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "Bundle SET-1 needs at least one part."),
        ("twice", "CASE is listed twice in bundle SET-1."),
        ("nested", "INNER is a bundle; the parts of a bundle are plain SKUs."),
    ],
)
def test_bundle_parts_are_checked_and_nothing_is_written(parts, message):
    case = SkuFactory(code="CASE")
    if parts == "twice":
        parts = [BundlePart(case, 1), BundlePart(case, 1)]
    elif parts == "nested":
        inner = SkuFactory(code="INNER", is_bundle=True)
        BundleItem.objects.create(bundle=inner, component=case, quantity=1)
        parts = [BundlePart(inner, 1)]
    before = Sku.objects.count()

    with pytest.raises(SkuError) as exc:
        sku_create(fields={"code": "SET-1", "name": "Set", "is_bundle": True}, bundle_items=parts)

    assert str(exc.value) == message
    assert Sku.objects.count() == before


def test_plain_sku_cannot_have_parts():
    with pytest.raises(SkuError, match="MUG is not a bundle: only a bundle has parts."):
        sku_create(
            fields={"code": "MUG", "name": "Mug"}, bundle_items=[BundlePart(SkuFactory(), 1)]
        )


def test_a_sku_with_stock_or_in_a_bundle_cannot_become_a_bundle(bins):
    stocked, part = SkuFactory(code="STOCKED"), SkuFactory(code="PART")
    stock_receive(sku=stocked, location=bins[0], quantity=1, unit_cost=Decimal("1"))
    sku_create(
        fields={"code": "SET", "name": "Set", "is_bundle": True}, bundle_items=[BundlePart(part, 1)]
    )

    with pytest.raises(SkuError, match="STOCKED holds stock, and a bundle holds none"):
        sku_update(sku=stocked, fields={"is_bundle": True}, bundle_items=[BundlePart(part, 1)])
    with pytest.raises(SkuError, match="PART is a part of another bundle"):
        sku_update(sku=part, fields={"is_bundle": True}, bundle_items=[BundlePart(stocked, 1)])
    assert list(Sku.objects.filter(is_bundle=True).values_list("code", flat=True)) == ["SET"]


def test_update_changes_only_the_given_fields_and_never_cost(bins):
    sku = SkuFactory(code="MUG", name="Mug", weight_g=300)
    stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("7.5"))

    sku_update(sku=sku, fields={"name": "Travel mug", "weight_g": 320})

    sku.refresh_from_db()
    assert (sku.name, sku.weight_g, sku.avg_cost) == ("Travel mug", 320, Decimal("7.5000"))
    with pytest.raises(ValueError, match="avg_cost"):
        sku_update(sku=sku, fields={"avg_cost": Decimal("1")})


def test_a_bundle_that_stops_being_one_loses_its_parts():
    part = SkuFactory()
    bundle = sku_create(
        fields={"code": "SET", "name": "Set", "is_bundle": True}, bundle_items=[BundlePart(part, 3)]
    )

    sku_update(sku=bundle, fields={"is_bundle": False})

    assert BundleItem.objects.filter(bundle=bundle).count() == 0
