"""Order pages: list with tabs, filters and bulk actions; the order page and its forms; pairing,
review rules and the blocklist. Status, content, store scope, permissions, query budgets."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp.models import Role
from orders.models import (
    BlockedBuyer,
    HoldReason,
    Order,
    OrderEvent,
    OrderStatus,
    ReviewRule,
    SkuMapping,
    Tag,
)
from orders.normalized import NormalizedAddress
from orders.services import orders_upsert
from tests.factories import (
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)
from warehouse.services import stock_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(platform="amazon", code="amz-us")


@pytest.fixture
def other_store():
    return StoreFactory(platform="shopify", code="shop-eu", currency="EUR")


@pytest.fixture
def mug():
    return SkuFactory(code="MUG-BLK", name="Black mug")


@pytest.fixture
def ops(db):
    """An operator who sees every store."""
    return UserFactory(roles=[Role.OPERATIONS])


@pytest.fixture
def scoped(store):
    """An operator who sees only ``store``."""
    return UserFactory(roles=[Role.OPERATIONS], stores=[store])


def make(store, external_id, lines=(("MUG-BLK", 1, "10"),), **kwargs) -> Order:
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines), **kwargs)], source="manual"
    )
    return Order.objects.get(pk=result.order_ids[0])


def login(client, user):
    client.force_login(user)
    return client


def rows(response) -> list[str]:
    return [order.external_id for order in response.context["page"].object_list]


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def counts(response) -> dict[str, int]:
    """The tab counts for the list ``response``'s filters: the page loads them with a request
    of its own (orders:order-tab-counts), as the browser does."""
    tabs_response = response.client.get(
        reverse("orders:order-tab-counts"), response.wsgi_request.GET
    )
    assert tabs_response.status_code == 200
    tabs = {tab["key"]: tab["count"] for tab in tabs_response.context["tabs"]}
    exceptions = tabs_response.context["exceptions"]
    return {key: n for key, n in tabs.items() if n} | {"exceptions": exceptions}


# --- Permissions ------------------------------------------------------------------------------


def _pages(order, rule):
    return [
        reverse("orders:order-list"),
        reverse("orders:order-detail", args=[order.pk]),
        reverse("orders:order-address", args=[order.pk]),
        reverse("orders:order-split", args=[order.pk]),
        reverse("orders:pairing"),
        reverse("orders:mapping-list"),
        reverse("orders:rule-list"),
        reverse("orders:rule-create"),
        reverse("orders:rule-edit", args=[rule.pk]),
        reverse("orders:blocklist"),
    ]


def test_every_page_opens_for_an_operator(client, ops, store, mug):
    order = make(store, "111-1", [("MUG-BLK", 2, "10")])
    rule = ReviewRule.objects.create(name="Approve small", action="approve", max_total=50)
    login(client, ops)

    pages = _pages(order, rule)
    assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, 200)


def test_every_page_is_refused_without_the_permissions(client, store, mug):
    order = make(store, "111-1", [("MUG-BLK", 2, "10")])
    rule = ReviewRule.objects.create(name="Approve small", action="approve", max_total=50)
    login(client, UserFactory())

    pages = _pages(order, rule)
    assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, 403)
    assert client.post(reverse("orders:order-bulk"), {"action": "approve"}).status_code == 403


def test_warehouse_staff_see_orders_but_change_nothing(client, store, mug):
    order = make(store, "111-1")
    login(client, UserFactory(roles=[Role.WAREHOUSE]))

    listed = client.get(reverse("orders:order-list"))
    approve = client.post(reverse("orders:order-bulk"), {"action": "approve", "order": order.pk})

    assert listed.status_code == 200
    assert listed.context["actions"] == []
    assert 'name="order"' not in listed.content.decode()  # no checkboxes, no bulk bar
    assert approve.status_code == 403
    assert client.get(reverse("orders:pairing")).status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_the_menu_leads_to_the_order_list(client, ops):
    html = login(client, ops).get(reverse("dashboard")).content.decode()

    assert f'href="{reverse("orders:order-list")}"' in html


# --- Scope -----------------------------------------------------------------------------------


def test_a_scoped_user_sees_only_their_stores_orders(client, scoped, store, other_store, mug):
    make(store, "A-1")
    theirs = make(other_store, "B-1", currency="EUR")
    make(other_store, "B-2", [("UNKNOWN", 1, "5")], currency="EUR")
    login(client, scoped)

    listed = client.get(reverse("orders:order-list"))
    by_store = client.get(reverse("orders:order-list"), {"store": other_store.pk})

    assert rows(listed) == ["A-1"]
    assert counts(listed) == {"new": 1, "exceptions": 0}
    assert "B-1" not in listed.content.decode()
    assert "shop-eu" not in listed.content.decode()  # not even as a store choice
    # another store's id is not a valid choice: ignored, never widening the scope
    assert rows(by_store) == ["A-1"]
    assert client.get(reverse("orders:order-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("orders:order-address", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("orders:order-split", args=[theirs.pk])).status_code == 404


def test_a_scoped_user_cannot_act_on_another_stores_order(client, scoped, other_store, mug):
    theirs = make(other_store, "B-1", currency="EUR")

    response = login(client, scoped).post(
        reverse("orders:order-bulk"), {"action": "approve", "order": theirs.pk}, follow=True
    )

    assert texts(response) == [f"order #{theirs.pk}: No such order."]
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.NEW


# --- List: tabs, filters, search ---------------------------------------------------------------


@pytest.fixture
def mixed(store, mug):
    """Two new orders, one held for an unpaired SKU, one approved, one with an exception."""
    make(store, "N-1", purchased_at=datetime(2026, 3, 1, 8, tzinfo=UTC))
    make(store, "N-2", [("MUG-BLK", 3, "10")], purchased_at=datetime(2026, 3, 2, 8, tzinfo=UTC))
    make(store, "H-1", [("CASE-RED", 1, "5")], purchased_at=datetime(2026, 3, 3, 8, tzinfo=UTC))
    approved = make(store, "A-1", purchased_at=datetime(2026, 3, 4, 8, tzinfo=UTC))
    Order.objects.filter(pk=approved.pk).update(status=OrderStatus.APPROVED)
    Order.objects.filter(external_id="N-2").update(exception="Cancelled by the buyer")


def test_tabs_count_each_status_and_the_exceptions(client, ops, mixed):
    response = login(client, ops).get(reverse("orders:order-list"))

    assert counts(response) == {"new": 2, "on_hold": 1, "approved": 1, "exceptions": 1}
    assert rows(response) == ["A-1", "H-1", "N-2", "N-1"]  # newest first
    assert 'hx-trigger="load"' in response.content.decode()  # the page asks for the counts
    html = client.get(reverse("orders:order-tab-counts")).content.decode()
    assert re.search(r'class="tab-on_hold"[^>]*>On hold <span class="count">1</span>', html)
    assert 'hx-trigger="load"' not in html


def test_a_tab_lists_its_orders_and_the_counts_stay(client, ops, mixed):
    login(client, ops)

    held = client.get(reverse("orders:order-list"), {"status": "on_hold"})
    exceptions = client.get(reverse("orders:order-list"), {"has_exception": "true"})

    assert rows(held) == ["H-1"]
    assert held.context["tab"] == "on_hold"
    assert counts(held) == {"new": 2, "on_hold": 1, "approved": 1, "exceptions": 1}
    assert rows(exceptions) == ["N-2"]
    assert exceptions.context["tab"] == "exceptions"


def test_the_counts_follow_the_other_filters(client, ops, mixed):
    response = login(client, ops).get(reverse("orders:order-list"), {"status": "new", "q": "N-"})

    assert rows(response) == ["N-2", "N-1"]
    assert counts(response) == {"new": 2, "exceptions": 1}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "h-1"}, ["H-1"]),  # platform order id, typed in lower case
        ({"q": "CASE-RED"}, ["H-1"]),  # a line's platform SKU
        ({"q": "mug-blk"}, ["A-1", "N-2", "N-1"]),  # our SKU code on a line
        ({"q": "ann@example"}, ["A-1", "H-1", "N-2", "N-1"]),  # buyer e-mail
        ({"sku": "MUG-BLK"}, ["A-1", "N-2", "N-1"]),
        ({"platform_sku": "CASE-RED"}, ["H-1"]),
        ({"hold_reason": "unpaired_sku"}, ["H-1"]),
        ({"purchased_after": "2026-03-02", "purchased_before": "2026-03-03"}, ["H-1", "N-2"]),
        # equal totals: the older row (lower id) first, and the reverse when descending
        ({"ordering": "total"}, ["H-1", "N-1", "A-1", "N-2"]),
        ({"ordering": "-total"}, ["N-2", "A-1", "N-1", "H-1"]),
        ({"country": "us"}, ["A-1", "H-1", "N-2", "N-1"]),
        ({"country": "DE"}, []),
    ],
)
def test_filters_search_and_ordering(client, ops, mixed, params, expected):
    response = login(client, ops).get(reverse("orders:order-list"), params)

    assert rows(response) == expected


def test_a_search_matching_several_lines_lists_the_order_once(client, ops, store, mug):
    SkuFactory(code="MUG-WHT")
    make(store, "M-1", [("MUG-BLK", 1, "10"), ("MUG-WHT", 1, "10"), ("MUG-RED", 1, "10")])

    response = login(client, ops).get(reverse("orders:order-list"), {"q": "MUG"})

    assert rows(response) == ["M-1"]
    assert response.context["page"].paginator.count == 1


def test_the_list_row_shows_lines_total_status_and_hold_reason(client, ops, store, mug):
    make(store, "R-1", [("MUG-BLK", 2, "10"), ("CASE-RED", 1, "5.5")])

    html = login(client, ops).get(reverse("orders:order-list")).content.decode()

    assert "MUG-BLK</span> × 2" in html
    assert 'title="Not paired to one of our SKUs">CASE-RED</span> × 1' in html
    assert '25.50 <span class="muted">USD</span>' in html
    assert '<span class="badge status status-on_hold">On hold</span>' in html
    assert "Unpaired SKU" in html


def test_htmx_swaps_the_results_and_the_tabs_only(client, ops, mixed):
    response = login(client, ops).get(
        reverse("orders:order-list"), {"status": "new"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.startswith('<div id="order-results"')
    assert '<nav class="status-tabs" id="order-tabs"' in html and 'hx-swap-oob="true"' in html
    assert '<input type="hidden" name="status" value="new">' in html
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_paging_50_a_page(client, ops, store, mug):
    orders = [normalized_order(f"P-{i:03d}") for i in range(53)]
    orders_upsert(store=store, orders=orders, source="manual")
    login(client, ops)

    first = client.get(reverse("orders:order-list"))
    second = client.get(reverse("orders:order-list"), {"page": 2})

    assert len(rows(first)) == 50
    assert len(rows(second)) == 3
    assert set(rows(first)).isdisjoint(rows(second))  # stable order when purchase times tie


@pytest.mark.parametrize("n", [5, 30])
def test_list_query_count_does_not_grow_with_rows(client, ops, store, mug, n, settings):
    tag = Tag.objects.create(name="VIP")
    result = orders_upsert(
        store=store,
        orders=[
            normalized_order(f"Q-{i}", [("MUG-BLK", 1, "9"), ("X-1", 2, "3")]) for i in range(n)
        ],
        source="manual",
    )
    for order in Order.objects.filter(pk__in=result.order_ids):
        order.tags.add(tag)
    login(client, ops)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orders:order-list"))

    assert len(rows(response)) == n
    # session, user, user perms, group perms, stores (filter), tags (filter), warehouses
    # (filter), page count, page, lines, tags (the tab counts come in a request of their own)
    assert len(queries) == 11, [q["sql"] for q in queries]


def test_list_query_count_is_the_same_for_5_and_30_orders(
    client, ops, store, mug, django_assert_max_num_queries
):
    login(client, ops)
    budgets = []
    for n in (5, 30):
        orders_upsert(
            store=store,
            orders=[normalized_order(f"{n}-{i}", [("MUG-BLK", 1, "9")]) for i in range(n)],
            source="manual",
        )
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("orders:order-list"))
        budgets.append(len(queries))
    with django_assert_max_num_queries(12):
        client.get(reverse("orders:order-list"))

    assert budgets[0] == budgets[1]


# --- Bulk actions ------------------------------------------------------------------------------


def bulk(client, action, *orders, follow=True, **extra):
    return client.post(
        reverse("orders:order-bulk"),
        {"action": action, "order": [o.pk for o in orders], **extra},
        follow=follow,
    )


def test_bulk_approve_names_the_order_that_failed_and_why(client, ops, store, mug):
    fine = make(store, "111-1")
    held = make(store, "111-2", [("CASE-RED", 1, "5")])

    response = bulk(login(client, ops), "approve", fine, held)

    assert response.status_code == 200
    assert texts(response) == ["1 order approved.", "amz-us/111-2: Pair its SKUs first."]
    assert Order.objects.get(pk=fine.pk).status == OrderStatus.APPROVED
    assert Order.objects.get(pk=held.pk).status == OrderStatus.ON_HOLD
    event = OrderEvent.objects.filter(order=fine, kind="status").get()
    assert (event.user, event.from_status, event.to_status) == (ops, "new", "approved")


def test_bulk_returns_to_the_list_with_its_filters(client, ops, store, mug):
    order = make(store, "111-1")
    back = reverse("orders:order-list") + "?status=new&q=111"

    response = bulk(login(client, ops), "approve", order, follow=False, next=back)
    elsewhere = bulk(client, "approve", order, follow=False, next="https://evil.example/")

    assert response.headers["Location"] == back
    assert elsewhere.headers["Location"] == reverse("orders:order-list")


def test_bulk_hold_needs_a_note_and_release_brings_it_back(client, ops, store, mug):
    order = make(store, "111-1")
    login(client, ops)

    refused = bulk(client, "hold", order)
    held = bulk(client, "hold", order, note="Buyer asked to wait")
    after_hold = Order.objects.get(pk=order.pk)
    released = bulk(client, "release", order)

    assert texts(refused) == ["Say why the orders are held."]
    assert texts(held) == ["1 order held."]
    assert (after_hold.status, after_hold.hold_reason, after_hold.hold_note) == (
        OrderStatus.ON_HOLD,
        HoldReason.MANUAL,
        "Buyer asked to wait",
    )
    assert texts(released) == ["1 order released from hold."]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_bulk_cancel_needs_a_reason_and_keeps_it(client, ops, store, mug):
    order = make(store, "111-1")
    login(client, ops)

    refused = bulk(client, "cancel", order)
    cancelled = bulk(client, "cancel", order, reason="Buyer cancelled by e-mail")

    assert texts(refused) == ["Say why the orders are cancelled."]
    assert texts(cancelled) == ["1 order cancelled."]
    event = OrderEvent.objects.filter(order=order, to_status="cancelled").get()
    assert event.message == "Buyer cancelled by e-mail"


def test_bulk_without_ticked_orders_says_so(client, ops):
    response = login(client, ops).post(
        reverse("orders:order-bulk"), {"action": "approve"}, follow=True
    )

    assert texts(response) == ["Tick at least one order first."]


def test_bulk_merge_of_one_buyers_orders(client, ops, store, mug):
    first = make(store, "111-1", purchased_at=datetime(2026, 3, 1, tzinfo=UTC))
    second = make(store, "111-2", purchased_at=datetime(2026, 3, 2, tzinfo=UTC))

    response = bulk(login(client, ops), "merge", first, second)

    assert texts(response) == ["2 orders merged into amz-us/111-1."]
    assert Order.objects.get(pk=second.pk).status == OrderStatus.MERGED
    assert Order.objects.get(pk=first.pk).lines.count() == 2


def test_bulk_merge_refused_says_why(client, ops, store, mug):
    first = make(store, "111-1")
    other = make(
        store,
        "111-2",
        address=NormalizedAddress(name="Bo", address1="2 Elm", city="X", country="US"),
    )

    response = bulk(login(client, ops), "merge", first, other)

    assert texts(response) == ["Only orders of the same buyer and address can be merged."]


def test_allocate_reserves_stock_shown_on_the_order_page(client, ops, store, mug):
    location = LocationFactory(warehouse=WarehouseFactory(code="SZ"), code="A-01")
    stock_receive(sku=mug, location=location, quantity=5, unit_cost=Decimal("2"))
    order = make(store, "111-1", [("MUG-BLK", 2, "10")])
    short = make(store, "111-2", [("MUG-BLK", 9, "10")])
    login(client, ops)
    bulk(client, "approve", order, short)

    response = bulk(client, "allocate", order, short)
    page = client.get(reverse("orders:order-detail", args=[order.pk]))

    assert texts(response)[0] == "1 order allocated."
    assert texts(response)[1].startswith("amz-us/111-2: ")
    assert Order.objects.get(pk=short.pk).status == OrderStatus.OUT_OF_STOCK
    assert [(r.stock_level.location.code, r.quantity) for r in page.context["reservations"]] == [
        ("A-01", 2)
    ]
    assert page.context["actions"] == ["hold", "deallocate", "cancel"]


def test_allocating_needs_the_allocate_permission(client, store, mug):
    order = make(store, "111-1")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.APPROVED)
    user = UserFactory(roles=[Role.OPERATIONS])
    user.user_permissions.clear()
    user.groups.first().permissions.remove(
        *user.groups.first().permissions.filter(codename="allocate_order")
    )
    login(client, user)

    listed = client.get(reverse("orders:order-list"))
    response = bulk(client, "allocate", order, follow=False)

    assert "allocate" not in listed.context["actions"]
    assert response.status_code == 403


# --- Order page --------------------------------------------------------------------------------


def test_order_page_shows_header_lines_timeline_and_the_actions_for_its_status(
    client, ops, store, mug
):
    order = make(store, "111-9", [("MUG-BLK", 1, "10"), ("CASE-RED", 2, "5")])
    Order.objects.filter(pk=order.pk).update(exception="Address changed after labelling")

    response = login(client, ops).get(reverse("orders:order-detail", args=[order.pk]))

    html = response.content.decode()
    assert response.context["actions"] == ["approve", "release", "cancel"]
    assert "Address changed after labelling" in html
    assert "Unpaired SKU" in html
    assert f'href="{reverse("orders:pairing")}?q=CASE-RED"' in html
    assert [e.to_status for e in response.context["events"]] == ["on_hold"]
    assert response.context["can_split"] is True


def test_order_page_query_count_does_not_grow_with_lines_and_events(client, ops, store, mug):
    location = LocationFactory()
    login(client, ops)
    budgets = []
    for n in (1, 6):
        skus = [SkuFactory(code=f"S{n}-{i}") for i in range(n)]
        for sku in skus:
            stock_receive(sku=sku, location=location, quantity=5, unit_cost=Decimal("1"))
        order = make(store, f"D-{n}", [(sku.code, 1, "3") for sku in skus])
        bulk(client, "approve", order)
        bulk(client, "allocate", order)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("orders:order-detail", args=[order.pk]))
        assert len(response.context["reservations"]) == n
        budgets.append(len(queries))

    # session, user, user perms, group perms, order, lines, events, merged, split off, tags,
    # shipments with their channels (the logistics panel), reservations
    assert budgets == [12, 12]


def test_order_page_actions_follow_the_status(client, ops, store, mug):
    order = make(store, "111-1")
    login(client, ops)

    new = client.get(reverse("orders:order-detail", args=[order.pk])).context["actions"]
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    shipped = client.get(reverse("orders:order-detail", args=[order.pk]))

    assert new == ["approve", "hold", "cancel"]
    assert shipped.context["actions"] == []
    assert shipped.context["can_edit_address"] is False


def test_address_edit_writes_an_event_and_marks_the_address(client, ops, store, mug):
    order = make(store, "111-1")
    login(client, ops)
    data = {
        "ship_name": "Ann Example",
        "ship_company": "",
        "ship_phone": "555-0100",
        "ship_address1": "9 New Road",
        "ship_address2": "",
        "ship_city": "Springfield",
        "ship_state": "IL",
        "ship_postcode": "62704",
        "ship_country": "us",
    }

    response = client.post(reverse("orders:order-address", args=[order.pk]), data, follow=True)

    order.refresh_from_db()
    assert texts(response) == ["Address saved."]
    assert (order.ship_address1, order.ship_country, order.address_edited) == (
        "9 New Road",
        "US",
        True,
    )
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.ADDRESS)
    assert event.user == ops
    assert event.data["ship_address1"] == {"from": "1 Main St", "to": "9 New Road"}
    html = response.content.decode()
    assert "edited</span>" in html
    assert "<del>1 Main St</del> → <ins>9 New Road</ins>" in html


def test_address_edit_refuses_a_bad_country_in_the_form(client, ops, store, mug):
    order = make(store, "111-1")

    response = login(client, ops).post(
        reverse("orders:order-address", args=[order.pk]),
        {"ship_name": "Ann", "ship_address1": "1 Main St", "ship_city": "X", "ship_country": "U1"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "ship_country": ["The country is a two-letter ISO code, such as US or DE."]
    }
    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.ADDRESS).exists()


def test_split_moves_units_to_a_new_order(client, ops, store, mug):
    SkuFactory(code="CUP")
    order = make(store, "111-1", [("MUG-BLK", 3, "10"), ("CUP", 1, "4")])
    mug_line = order.lines.get(platform_sku="MUG-BLK")
    cup_line = order.lines.get(platform_sku="CUP")
    login(client, ops)

    response = client.post(
        reverse("orders:order-split", args=[order.pk]),
        {f"line_{mug_line.pk}": 1, f"line_{cup_line.pk}": 0},
        follow=True,
    )

    child = Order.objects.get(split_from=order)
    assert texts(response) == ["Split off 111-1-2 from 111-1."]
    assert response.context["order"] == child
    assert [(line.platform_sku, line.quantity) for line in child.lines.all()] == [("MUG-BLK", 1)]
    assert order.lines.get(pk=mug_line.pk).quantity == 2


def test_split_form_errors(client, ops, store, mug):
    order = make(store, "111-1", [("MUG-BLK", 2, "10")])
    line = order.lines.get()
    login(client, ops)

    nothing = client.post(reverse("orders:order-split", args=[order.pk]), {f"line_{line.pk}": 0})
    everything = client.post(reverse("orders:order-split", args=[order.pk]), {f"line_{line.pk}": 2})
    too_many = client.post(reverse("orders:order-split", args=[order.pk]), {f"line_{line.pk}": 3})

    assert nothing.context["form"].non_field_errors() == [
        "Choose how many units of which lines to split off."
    ]
    assert everything.context["form"].non_field_errors() == [
        "Leave at least one unit in the original order."
    ]
    assert list(too_many.context["form"].errors) == [f"line_{line.pk}"]
    assert Order.objects.count() == 1


# --- Pairing ------------------------------------------------------------------------------------


def test_pairing_lists_unpaired_skus_and_pairing_releases_held_orders(client, ops, store, mug):
    held = [make(store, f"H-{i}", [("AMZ-MUG-1", 2, "10")]) for i in range(2)]
    login(client, ops)

    page = client.get(reverse("orders:pairing"))
    response = client.post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": store.pk,
            "sku": "MUG-BLK",
            "quantity": 2,
            "scope": "store",
        },
        follow=True,
    )

    assert [
        (r["platform_sku"], r["order__store__code"], r["orders"]) for r in page.context["page"]
    ] == [("AMZ-MUG-1", "amz-us", 2)]
    assert texts(response) == ["AMZ-MUG-1 paired to MUG-BLK × 2 (amz-us). 2 held orders released."]
    assert list(response.context["page"]) == []
    assert {Order.objects.get(pk=o.pk).status for o in held} == {OrderStatus.NEW}
    mapping = SkuMapping.objects.get()
    assert (mapping.store, mapping.sku, mapping.quantity, mapping.created_by) == (
        store,
        mug,
        2,
        ops,
    )


def test_pairing_says_when_an_order_stays_held_for_another_reason(client, ops, store, mug):
    make(
        store,
        "H-1",
        [("AMZ-MUG-1", 1, "10")],
        address=NormalizedAddress(name="Ann", address1="", city="X", country="US"),
    )

    response = login(client, ops).post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": store.pk,
            "sku": "MUG-BLK",
            "quantity": 1,
            "scope": "store",
        },
        follow=True,
    )

    assert texts(response) == [
        "AMZ-MUG-1 paired to MUG-BLK × 1 (amz-us). 0 held orders released.",
        "1 order is still on hold for another reason.",
    ]
    assert Order.objects.get().hold_reason == HoldReason.INCOMPLETE_ADDRESS


def test_pairing_with_an_unknown_sku_shows_the_error_on_its_row(client, ops, store, mug):
    make(store, "H-1", [("AMZ-MUG-1", 1, "10")])

    response = login(client, ops).post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": store.pk,
            "sku": "NOPE",
            "quantity": 1,
            "scope": "store",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"sku": ["No SKU has the code or barcode “NOPE”."]}
    assert '<tr class="has-error">' in response.content.decode()
    assert SkuMapping.objects.count() == 0


def test_a_scoped_user_pairs_for_their_stores_only(client, scoped, store, other_store, mug):
    make(other_store, "B-1", [("AMZ-MUG-1", 1, "10")], currency="EUR")
    login(client, scoped)

    global_pair = client.post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": store.pk,
            "sku": "MUG-BLK",
            "quantity": 1,
            "scope": "all",
        },
    )
    foreign = client.post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": other_store.pk,
            "sku": "MUG-BLK",
            "quantity": 1,
            "scope": "store",
        },
    )
    page = client.get(reverse("orders:pairing"))

    assert global_pair.context["form"].errors == {
        "scope": ["Only people who see every store may pair for all stores."]
    }
    assert "store" in foreign.context["form"].errors
    assert SkuMapping.objects.count() == 0
    assert list(page.context["page"]) == []  # the other store's unpaired SKU is not shown


def test_sku_options_for_the_pair_forms(client, ops, mug):
    SkuFactory(code="CUP-1", name="Cup")

    response = login(client, ops).get(reverse("orders:pairing-sku-options"), {"sku": "mug"})

    assert response.content.decode().strip() == '<option value="MUG-BLK">Black mug</option>'


def test_removing_a_pairing_keeps_paired_lines(client, ops, store, mug):
    make(store, "H-1", [("AMZ-MUG-1", 1, "10")])
    login(client, ops)
    client.post(
        reverse("orders:pairing"),
        {
            "platform_sku": "AMZ-MUG-1",
            "store": store.pk,
            "sku": "MUG-BLK",
            "quantity": 1,
            "scope": "store",
        },
    )
    mapping = SkuMapping.objects.get()

    listed = client.get(reverse("orders:mapping-list"))
    response = client.post(reverse("orders:mapping-delete", args=[mapping.pk]), follow=True)

    assert [m.platform_sku for m in listed.context["page"]] == ["AMZ-MUG-1"]
    assert SkuMapping.objects.count() == 0
    assert Order.objects.get().lines.get().sku == mug
    assert texts(response) == [
        "Pairing of AMZ-MUG-1 removed. Order lines already paired keep their SKU."
    ]


# --- Review rules ------------------------------------------------------------------------------


RULE = {
    "name": "Hold big orders",
    "priority": 10,
    "is_active": "on",
    "store": "",
    "platform": "",
    "countries": "",
    "min_total": "",
    "max_total": "",
    "sku": "",
    "has_buyer_note": "unknown",
    "address_incomplete": "unknown",
    "buyer_blocklisted": "unknown",
    "action": "hold",
    "hold_reason": "",
    "warehouse": "",
    "tag": "",
    "new_tag": "",
}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"action": "hold"}, {"hold_reason": ["A hold needs its reason."]}),
        ({"action": "set_warehouse"}, {"warehouse": ["Choose the warehouse to set."]}),
        ({"action": "tag"}, {"tag": ["Choose a tag, or name a new one."]}),
        (
            {"action": "approve", "min_total": "100", "max_total": "50"},
            {"max_total": ["The upper limit is below the lower one."]},
        ),
        (
            {"action": "approve", "countries": "US, usa, D1"},
            {"countries": ["Not two-letter country codes: USA, D1"]},
        ),
        (
            {"action": "approve", "sku": "NOPE"},
            {"sku": ["No SKU has the code or barcode “NOPE”."]},
        ),
    ],
)
def test_rule_form_errors_instead_of_integrity_errors(client, ops, changes, errors):
    response = login(client, ops).post(reverse("orders:rule-create"), {**RULE, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert ReviewRule.objects.count() == 0


def test_rule_create_with_conditions_and_a_new_tag(client, ops, store, mug):
    response = login(client, ops).post(
        reverse("orders:rule-create"),
        {
            **RULE,
            "name": "Tag German mugs",
            "store": store.pk,
            "countries": "de, at",
            "sku": "MUG-BLK",
            "has_buyer_note": "true",
            "action": "tag",
            "hold_reason": "rule",  # left over from another action: cleared
            "new_tag": "DACH",
        },
        follow=True,
    )

    rule = ReviewRule.objects.get()
    assert texts(response) == ["Rule “Tag German mugs” created."]
    assert (rule.store, rule.countries, rule.sku, rule.has_buyer_note) == (
        store,
        "DE,AT",
        mug,
        True,
    )
    assert (rule.action, rule.tag.name, rule.hold_reason) == ("tag", "DACH", "")


def test_rule_edit_and_toggle(client, ops):
    rule = ReviewRule.objects.create(name="Approve all", action="approve", priority=50)
    login(client, ops)

    form = client.get(reverse("orders:rule-edit", args=[rule.pk]))
    client.post(
        reverse("orders:rule-edit", args=[rule.pk]),
        {**RULE, "name": "Hold all", "action": "hold", "hold_reason": "rule"},
    )
    client.post(reverse("orders:rule-toggle", args=[rule.pk]))

    rule.refresh_from_db()
    assert form.status_code == 200
    assert (rule.name, rule.action, rule.hold_reason, rule.is_active) == (
        "Hold all",
        "hold",
        "rule",
        False,
    )


def test_rules_are_listed_in_priority_order_within_scope(client, scoped, store, other_store):
    ReviewRule.objects.create(name="Second", action="approve", priority=20, store=store)
    ReviewRule.objects.create(name="First", action="approve", priority=10)
    hidden = ReviewRule.objects.create(
        name="Other store", action="approve", priority=5, store=other_store
    )
    login(client, scoped)

    listed = client.get(reverse("orders:rule-list"))
    global_form = client.post(reverse("orders:rule-create"), {**RULE, "action": "approve"})

    assert [r.name for r in listed.context["rules"]] == ["First", "Second"]
    assert client.get(reverse("orders:rule-edit", args=[hidden.pk])).status_code == 404
    first = ReviewRule.objects.get(name="First")
    assert client.get(reverse("orders:rule-edit", args=[first.pk])).status_code == 403
    assert "store" in global_form.context["form"].errors


# --- Blocklist ----------------------------------------------------------------------------------


def test_blocklist_add_refuses_a_duplicate_and_removes(client, ops):
    login(client, ops)

    added = client.post(
        reverse("orders:blocklist"),
        {"buyer": " bad@example.com ", "platform": "", "reason": "x"},
        follow=True,
    )
    duplicate = client.post(
        reverse("orders:blocklist"), {"buyer": "BAD@example.com", "platform": "", "reason": ""}
    )
    blocked = BlockedBuyer.objects.get()
    removed = client.post(reverse("orders:blocklist-remove", args=[blocked.pk]), follow=True)

    assert texts(added) == ["bad@example.com is on the blocklist."]
    assert duplicate.context["form"].errors == {
        "buyer": ["This buyer is already on the blocklist."]
    }
    assert texts(removed) == ["bad@example.com is off the blocklist."]
    assert BlockedBuyer.objects.count() == 0


def test_a_filter_that_cannot_be_read_is_named_and_left_out(client, ops, mixed):
    response = login(client, ops).get(
        reverse("orders:order-list"), {"purchased_after": "someday", "status": "new"}
    )

    assert rows(response) == ["N-2", "N-1"]
    html = response.content.decode()
    assert "Purchased from: Enter a date such as 2026-03-01" in html
    assert "These filters were left out." in html


def test_sync_now_runs_the_sync_and_says_what_came(client, ops, store, monkeypatch):
    from orders import tasks
    from orders.sync import SyncResult

    calls = []

    def fake_sync(synced_store):
        calls.append(synced_store.code)
        return SyncResult(created=3, updated=1, unchanged=7, pages=2)

    monkeypatch.setattr(tasks, "sync_store", fake_sync)  # the platform itself: tests/orders
    page = login(client, ops).get(reverse("orders:store-list")).content.decode()
    assert reverse("orders:store-sync", args=[store.pk]) in page

    response = client.post(reverse("orders:store-sync", args=[store.pk]), follow=True)

    assert calls == ["amz-us"]
    assert "amz-us synced: 3 new, 1 updated, 7 unchanged." in response.content.decode()


def test_sync_now_is_refused_for_stores_without_a_connector_and_for_readers(client, ops):
    manual = StoreFactory(platform="manual", code="offline")
    response = login(client, ops).post(reverse("orders:store-sync", args=[manual.pk]), follow=True)
    assert "no API connector" in response.content.decode()
    reader = UserFactory(roles=[Role.FINANCE])
    assert (
        login(client, reader).post(reverse("orders:store-sync", args=[manual.pk])).status_code
        == 403
    )
