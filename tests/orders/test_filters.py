"""OrderFilter, the one FilterSet of the order list (pages and API): every field, the scope of
its choices, and line searches that never multiply rows."""

from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from erp.models import Role
from orders.filters import OrderFilter
from orders.models import Order, OrderStatus, Tag
from orders.selectors import order_queryset
from orders.services import orders_upsert
from tests.factories import (
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(platform="amazon", code="amz-us")


@pytest.fixture
def other_store():
    return StoreFactory(platform="ebay", code="ebay-uk", currency="GBP")


@pytest.fixture
def user(store):
    return UserFactory(roles=[Role.OPERATIONS], stores=[store])


def request_for(user):
    request = RequestFactory().get("/orders/")
    request.user = user
    return request


def make(store, external_id, lines=(("MUG-BLK", 1, "10"),), **kwargs) -> Order:
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines), **kwargs)], source="manual"
    )
    return Order.objects.get(pk=result.order_ids[0])


def ids(user, **params) -> list[str]:
    filterset = OrderFilter(params, queryset=order_queryset(user=user), request=request_for(user))
    assert filterset.is_valid(), filterset.errors
    return [o.external_id for o in filterset.qs]


def test_store_choices_are_the_users_stores_only(user, store, other_store):
    filterset = OrderFilter({"store": other_store.pk}, request=request_for(user))

    assert list(filterset.form.fields["store"].queryset) == [store]
    assert filterset.errors["store"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_without_a_request_no_store_is_a_valid_choice(store):
    filterset = OrderFilter({"store": store.pk})

    assert not filterset.is_valid()
    assert list(filterset.form.fields["store"].queryset) == []


def test_warehouse_choices_follow_the_users_warehouses(store):
    mine, theirs = WarehouseFactory(code="SZ"), WarehouseFactory(code="LAX")
    clerk = UserFactory(roles=[Role.OPERATIONS], warehouses=[mine])

    filterset = OrderFilter({"warehouse": theirs.pk}, request=request_for(clerk))

    assert list(filterset.form.fields["warehouse"].queryset) == [mine]
    assert "warehouse" in filterset.errors


def test_line_filters_are_exists_subqueries_without_distinct(user, store):
    SkuFactory(code="MUG-BLK")
    make(store, "1", [("MUG-BLK", 1, "10"), ("MUG-BLK-2", 1, "10"), ("MUG-RED", 2, "3")])

    filterset = OrderFilter(
        {"q": "MUG", "sku": "MUG-BLK", "platform_sku": "MUG-RED"},
        queryset=order_queryset(user=user),
        request=request_for(user),
    )
    sql = str(filterset.qs.query).upper()

    assert [o.external_id for o in filterset.qs] == ["1"]
    assert sql.count("EXISTS") == 2  # the search ``q`` collects ids first (see search)
    assert "DISTINCT" not in sql
    assert 'JOIN "ORDERS_ORDERLINE"' not in sql.split("EXISTS")[0]


def test_each_field(user, store):
    SkuFactory(code="MUG-BLK")
    warehouse = WarehouseFactory(code="SZ")
    tag = Tag.objects.create(name="VIP")
    first = make(
        store,
        "A-1",
        purchased_at=datetime(2026, 3, 1, 1, tzinfo=UTC),
        buyer_note="gift wrap",
    )
    second = make(
        store, "A-2", [("UNPAIRED", 1, "99")], purchased_at=datetime(2026, 3, 5, tzinfo=UTC)
    )
    Order.objects.filter(pk=first.pk).update(
        warehouse=warehouse, exception="Changed after shipping", ship_country="DE"
    )
    first.tags.add(tag)

    assert ids(user, status="new") == ["A-1"]
    assert ids(user, status="on_hold") == ["A-2"]
    assert ids(user, platform="amazon") == ["A-2", "A-1"]
    assert ids(user, platform="ebay") == []
    assert ids(user, store=store.pk) == ["A-2", "A-1"]
    assert ids(user, country="de") == ["A-1"]
    assert ids(user, sku="MUG-BLK") == ["A-1"]
    assert ids(user, platform_sku="UNPAIRED") == ["A-2"]
    assert ids(user, tag=tag.pk) == ["A-1"]
    assert ids(user, hold_reason="unpaired_sku") == ["A-2"]
    assert ids(user, has_exception="true") == ["A-1"]
    assert ids(user, has_exception="false") == ["A-2"]
    assert ids(user, warehouse=warehouse.pk) == ["A-1"]
    assert ids(user, q="a-2") == ["A-2"]
    assert ids(user, q="Ann Example") == ["A-2", "A-1"]  # buyer and recipient
    assert ids(user, ordering="purchased_at") == ["A-1", "A-2"]
    assert ids(user, ordering="-store") == ["A-2", "A-1"]  # equal stores: newest id first
    assert second.status == OrderStatus.ON_HOLD


def test_dates_take_whole_local_days_and_datetimes_are_exact(user, store, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    SkuFactory(code="MUG-BLK")
    # 2026-03-01 23:30 in Shanghai, 2026-03-02 00:30 in Shanghai
    make(store, "late", purchased_at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    make(store, "early", purchased_at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC))

    assert ids(user, purchased_before="2026-03-01") == ["late"]
    assert ids(user, purchased_after="2026-03-02") == ["early"]
    assert ids(user, purchased_after="2026-03-01", purchased_before="2026-03-02") == [
        "early",
        "late",
    ]
    assert ids(user, purchased_after="2026-03-01T16:00:00Z") == ["early"]
    assert ids(user, purchased_before="2026-03-01T16:30:00Z") == ["late"]  # strictly before


def test_a_bad_date_is_a_field_error(user):
    filterset = OrderFilter({"purchased_after": "yesterday"}, request=request_for(user))

    assert filterset.errors == {
        "purchased_after": [
            "Enter a date such as 2026-03-01, or a date and time such as 2026-03-01T08:00Z."
        ]
    }
