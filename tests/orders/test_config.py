"""Writes of a seller's order settings: review rules, blocklist, pairings removed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from erp.models import Role
from orders.models import BlockedBuyer, ReviewRule, SkuMapping, Tag
from orders.services import OrderError
from orders.services.config import (
    blocked_buyer_add,
    blocked_buyer_remove,
    review_rule_save,
    review_rule_toggle,
    sku_mapping_delete,
)
from tests.factories import SkuFactory, SkuMappingFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory()


@pytest.fixture
def scoped(store):
    return UserFactory(roles=[Role.OPERATIONS], stores=[store])


@pytest.fixture
def everyone():
    return UserFactory(roles=[Role.OPERATIONS])


def test_a_tagging_rule_may_create_its_tag(everyone):
    rule = review_rule_save(
        fields={"name": "VIP over 100", "priority": 5, "action": "tag", "tag": None},
        new_tag="VIP",
        user=everyone,
    )
    assert rule.pk and rule.tag == Tag.objects.get(name="VIP")


def test_a_rule_breaking_the_models_rules_is_refused_and_nothing_is_written(everyone):
    with pytest.raises(ValidationError):
        review_rule_save(fields={"name": "hold", "action": "hold"}, user=everyone)
    assert not ReviewRule.objects.exists()


def test_only_people_who_see_every_store_write_global_rules(store, scoped, everyone):
    with pytest.raises(PermissionDenied):
        review_rule_save(fields={"name": "all", "action": "approve"}, user=scoped)
    mine = review_rule_save(
        fields={"name": "mine", "action": "approve", "store": store}, user=scoped
    )
    assert mine.store == store
    shared = review_rule_save(fields={"name": "all", "action": "approve"}, user=everyone)
    with pytest.raises(PermissionDenied):
        review_rule_toggle(rule=shared, user=scoped)
    with pytest.raises(PermissionDenied):  # nor turn a global rule into their own
        review_rule_save(fields={"store": store}, rule=shared, user=scoped)
    assert review_rule_toggle(rule=shared, user=everyone).is_active is False


def test_blocklist_adds_once_and_removes(everyone):
    blocked = blocked_buyer_add(buyer="  Bad@Example.com ", reason="chargebacks")
    assert blocked.buyer == "Bad@Example.com"
    with pytest.raises(OrderError):
        blocked_buyer_add(buyer="bad@example.com")
    blocked_buyer_remove(blocked=blocked)
    assert not BlockedBuyer.objects.exists()


def test_removing_a_global_pairing_needs_every_store(store, scoped, everyone):
    mapping = SkuMappingFactory(store=None, platform_sku="P-1", sku=SkuFactory())
    with pytest.raises(PermissionDenied):
        sku_mapping_delete(mapping=mapping, user=scoped)
    sku_mapping_delete(mapping=mapping, user=everyone)
    assert not SkuMapping.objects.exists()
