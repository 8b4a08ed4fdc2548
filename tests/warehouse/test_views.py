"""Warehouse pages: status, content, scopes, permissions, query budgets, htmx partials."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from erp.models import Role
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
    WarehouseFactory,
)
from warehouse.models import Sku, StockLevel, StockMove
from warehouse.services import StockLine, stock_adjust, stock_receive, stock_reserve

pytestmark = pytest.mark.django_db

SECRET_QTY = 7777  # only ever in the other warehouse: must never show for a scoped user


@pytest.fixture
def other_bin(db):
    """A bin in a warehouse the scoped users do not see."""
    return LocationFactory(warehouse=WarehouseFactory(code="LAX", name="Los Angeles"), code="LX-99")


@pytest.fixture
def clerk(warehouse):
    """A warehouse worker who sees only the Shenzhen warehouse."""
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])


@pytest.fixture
def stocked(sku, bins, other_bin):
    """``sku`` with 10 units in SZ/A-01 (3 reserved) and SECRET_QTY in the other warehouse."""
    stock_receive(sku=sku, location=bins[0], quantity=10, unit_cost=Decimal("2.5"), reference="PO1")
    stock_receive(sku=sku, location=other_bin, quantity=SECRET_QTY, unit_cost=Decimal("2.5"))
    stock_reserve(warehouse=bins[0].warehouse, lines=[StockLine(sku, 3)], reference="order_line:1")
    return sku


def login(client, user):
    client.force_login(user)
    return client


def no_secret(response):
    html = response.content.decode()
    assert "LX-99" not in html
    assert "LAX" not in html
    assert "7777" not in html and "7,777" not in html


# SKU list


def test_sku_list_totals_are_summed_over_the_users_warehouses_only(client, clerk, stocked):
    response = login(client, clerk).get(reverse("warehouse:sku-list"))

    assert response.status_code == 200
    row = response.context["page"].object_list[0]
    assert (row.code, row.on_hand_total, row.available_total) == (stocked.code, 10, 7)
    no_secret(response)


def test_sku_list_admin_sees_totals_over_every_warehouse(client, admin_user, stocked):
    response = login(client, admin_user).get(reverse("warehouse:sku-list"))

    row = response.context["page"].object_list[0]
    assert (row.on_hand_total, row.available_total) == (10 + SECRET_QTY, 7 + SECRET_QTY)


def test_sku_list_columns_badges_and_numbers(client, admin_user):
    SkuFactory(
        code="PB-1",
        name="Power bank",
        name_zh="充电宝",
        barcode="6901234567892",
        weight_g=1250,
        has_battery=True,
        is_magnetic=True,
        avg_cost=Decimal("12.3456"),
    )

    html = login(client, admin_user).get(reverse("warehouse:sku-list")).content.decode()

    assert "PB-1" in html and "Power bank" in html and "充电宝" in html and "6901234567892" in html
    assert '<td class="num">1,250</td>' in html
    assert '<td class="num">12.35</td>' in html
    assert 'class="badge battery"' in html and 'class="badge magnet"' in html
    assert 'class="badge liquid"' not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "mug-a"}, ["MUG-A"]),
        ({"q": "6900000000011"}, ["MUG-B"]),  # barcode, exact
        ({"q": "保温"}, ["MUG-A"]),  # Chinese name
        ({"q": "travel"}, ["MUG-B"]),  # English name
        ({"has_battery": "true"}, ["BAT-1"]),
        ({"has_battery": "false", "is_active": "true"}, ["MUG-A", "MUG-B"]),
        ({"is_active": "false"}, ["OLD-1"]),
        ({"is_liquid": "true"}, []),
        ({"is_bundle": "true"}, []),
        ({"is_magnetic": "unknown"}, ["BAT-1", "MUG-A", "MUG-B", "OLD-1"]),
        ({"ordering": "-code"}, ["OLD-1", "MUG-B", "MUG-A", "BAT-1"]),
        ({"ordering": "name"}, ["BAT-1", "OLD-1", "MUG-A", "MUG-B"]),
    ],
)
def test_sku_list_search_filters_and_sorting(client, admin_user, query, expected):
    SkuFactory(code="MUG-A", name="Thermos mug", name_zh="保温杯", barcode="6900000000010")
    SkuFactory(code="MUG-B", name="Travel mug", name_zh="旅行杯", barcode="6900000000011")
    SkuFactory(code="BAT-1", name="Battery fan", name_zh="风扇", has_battery=True)
    SkuFactory(code="OLD-1", name="Discontinued", name_zh="停产", is_active=False)

    response = login(client, admin_user).get(reverse("warehouse:sku-list"), query)

    assert [s.code for s in response.context["page"].object_list] == expected


def test_sku_list_pages_by_50_and_paging_links_keep_the_filters(client, admin_user):
    SkuFactory.create_batch(60, has_battery=True)
    SkuFactory.create_batch(3)

    response = login(client, admin_user).get(reverse("warehouse:sku-list"), {"has_battery": "true"})

    page = response.context["page"]
    assert (len(page.object_list), page.paginator.count, page.paginator.num_pages) == (50, 60, 2)
    html = response.content.decode()
    assert 'href="?has_battery=true&amp;page=2"' in html
    second = client.get(reverse("warehouse:sku-list"), {"has_battery": "true", "page": "2"})
    assert len(second.context["page"].object_list) == 10


def test_sku_list_htmx_request_gets_only_the_results(client, admin_user, sku):
    response = login(client, admin_user).get(
        reverse("warehouse:sku-list"), {"q": sku.code}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="sku-results"')
    assert "<html" not in html and 'class="filterbar"' not in html
    assert sku.code in html
    assert 'hx-swap-oob="true"' in html  # the sort select follows header-link sorting
    assert "HX-Request" in response["Vary"]


def test_sku_list_page_wires_htmx_and_still_works_as_a_plain_form(client, admin_user):
    html = login(client, admin_user).get(reverse("warehouse:sku-list")).content.decode()

    assert 'method="get" action="/warehouse/skus/"' in html
    assert 'hx-get="/warehouse/skus/" hx-target="#sku-results"' in html
    assert 'hx-push-url="true"' in html
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[A-Za-z0-9]{64}"\}\'>', html)
    assert "js/htmx.min.js" in html


def test_sku_list_history_restore_gets_the_whole_page(client, admin_user):
    response = login(client, admin_user).get(
        reverse("warehouse:sku-list"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    assert "<html" in response.content.decode()


@pytest.mark.parametrize("rows", [5, 60])
def test_sku_list_query_count_does_not_grow_with_rows(
    client, clerk, bins, django_assert_num_queries, rows
):
    for sku in SkuFactory.create_batch(rows):
        stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("1"))
    login(client, clerk)

    # session, user, user perms, group perms, role check for the scope, count, page
    with django_assert_num_queries(7):
        response = client.get(reverse("warehouse:sku-list"))

    assert len(response.context["page"].object_list) == min(rows, 50)


def test_sku_list_needs_view_permission(client, db):
    nobody = UserFactory()

    assert login(client, nobody).get(reverse("warehouse:sku-list")).status_code == 403


def test_pages_need_login(client, sku):
    response = client.get(reverse("warehouse:sku-detail", args=[sku.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# SKU detail and form


def test_sku_detail_shows_fields_and_only_the_users_stock(client, clerk, stocked, bins):
    response = login(client, clerk).get(reverse("warehouse:sku-detail", args=[stocked.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for text in (stocked.code, stocked.name, stocked.name_zh, "7323930000", "4.50", "2.5000"):
        assert text in html
    assert [level.location.code for level in response.context["levels"]] == ["A-01"]
    assert response.context["totals"] == {"on_hand": 10, "reserved": 3, "available": 7}
    assert reverse("warehouse:sku-ledger", args=[stocked.pk]) in html
    no_secret(response)


def test_sku_detail_of_a_bundle_lists_its_parts(client, admin_user):
    item = BundleItemFactory(quantity=2, component__code="PART-1")

    response = login(client, admin_user).get(reverse("warehouse:sku-detail", args=[item.bundle_id]))

    html = response.content.decode()
    assert "PART-1" in html and ">2</td>" in html
    assert "Bundle parts" in html
    part_page = client.get(reverse("warehouse:sku-detail", args=[item.component_id]))
    assert item.bundle.code in part_page.content.decode()  # "part of bundles"


def test_sku_detail_shows_edit_button_only_with_change_permission(client, clerk, sku, db):
    edit_url = reverse("warehouse:sku-edit", args=[sku.pk])
    detail_url = reverse("warehouse:sku-detail", args=[sku.pk])

    assert edit_url not in login(client, clerk).get(detail_url).content.decode()
    operator = UserFactory(roles=[Role.OPERATIONS])
    assert edit_url in login(client, operator).get(detail_url).content.decode()


NO_PARTS = {"parts-TOTAL_FORMS": "3", "parts-INITIAL_FORMS": "0"}


def test_sku_create_saves_and_redirects_to_the_detail(client, db):
    operator = UserFactory(roles=[Role.OPERATIONS])
    data = {
        "code": " NEW-1 ",
        "name": "Desk lamp",
        "name_zh": "台灯",
        "barcode": "6900000000099",
        "weight_g": "800",
        "length_mm": "300",
        "width_mm": "150",
        "height_mm": "100",
        "declared_name_en": "Lamp",
        "declared_name_zh": "灯",
        "hs_code": "9405",
        "declared_value_usd": "8.00",
        "has_battery": "on",
        "low_stock_threshold": "5",
        "is_active": "on",
        "avg_cost": "99",  # not a form field: ignored
        **NO_PARTS,
    }

    response = login(client, operator).post(reverse("warehouse:sku-create"), data)

    sku = Sku.objects.get(code="NEW-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("warehouse:sku-detail", args=[sku.pk])
    assert (sku.name_zh, sku.weight_g, sku.has_battery, sku.is_liquid) == ("台灯", 800, True, False)
    assert sku.avg_cost == Decimal("0")


def test_sku_form_has_no_avg_cost_field_and_shows_field_errors(client, db):
    operator = UserFactory(roles=[Role.OPERATIONS])
    SkuFactory(code="TAKEN", barcode="6900000000001")
    login(client, operator)

    page = client.get(reverse("warehouse:sku-create")).content.decode()
    assert 'name="avg_cost"' not in page
    response = client.post(
        reverse("warehouse:sku-create"),
        {"code": "TAKEN", "name": "", "barcode": "6900000000001", "weight_g": "-3", **NO_PARTS},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"code", "name", "barcode", "weight_g"}
    html = response.content.decode()
    assert "Another SKU already has this code." in html
    assert "6900000000001 is already the barcode or code of SKU TAKEN." in html
    assert Sku.objects.count() == 1


def test_sku_edit_cannot_turn_a_stocked_sku_into_a_bundle(client, stocked):
    operator = UserFactory(roles=[Role.OPERATIONS])
    url = reverse("warehouse:sku-edit", args=[stocked.pk])
    data = {
        f: getattr(stocked, f)
        for f in ("code", "name", "name_zh", "weight_g", "length_mm", "width_mm", "height_mm")
    }
    data.update(declared_value_usd="4.50", low_stock_threshold="0", is_active="on")

    response = login(client, operator).post(url, {**data, **NO_PARTS, "is_bundle": "on"})
    assert response.context["form"].non_field_errors() == [
        f"{stocked.code} holds stock, and a bundle holds none: move its stock out first."
    ]
    assert 'value="Mug' not in response.content.decode()  # the page still shows what is stored
    response = client.post(url, {**data, **NO_PARTS, "name": "Renamed mug"})
    assert response.status_code == 302
    stocked.refresh_from_db()
    assert (stocked.name, stocked.is_bundle, stocked.avg_cost) == (
        "Renamed mug",
        False,
        Decimal("2.5000"),
    )


def test_bundle_is_created_with_its_parts_and_edited(client, db):
    operator = UserFactory(roles=[Role.OPERATIONS])
    mug = SkuFactory(code="MUG", barcode="6900000000050")
    lid = SkuFactory(code="LID")
    base = {"code": "SET-1", "name": "Mug set", "weight_g": "0", "length_mm": "0"}
    base.update(width_mm="0", height_mm="0", declared_value_usd="0", low_stock_threshold="0")
    login(client, operator)

    response = client.post(
        reverse("warehouse:sku-create"),
        {
            **base,
            "is_bundle": "on",
            **NO_PARTS,
            "parts-0-component": "6900000000050",  # scanned barcode
            "parts-0-quantity": "2",
            "parts-1-component": "LID",  # no quantity: one
        },
    )

    bundle = Sku.objects.get(code="SET-1")
    assert response.status_code == 302
    items = sorted((i.component.code, i.quantity) for i in bundle.bundle_items.all())
    assert items == [("LID", 1), ("MUG", 2)]
    edit = client.get(reverse("warehouse:sku-edit", args=[bundle.pk])).content.decode()
    assert 'value="LID"' in edit and 'value="MUG"' in edit
    response = client.post(
        reverse("warehouse:sku-edit", args=[bundle.pk]),
        {
            **base,
            "is_bundle": "on",
            "parts-TOTAL_FORMS": "2",
            "parts-INITIAL_FORMS": "2",
            "parts-0-component": "LID",
            "parts-0-quantity": "1",
            "parts-0-DELETE": "on",
            "parts-1-component": "MUG",
            "parts-1-quantity": "4",
        },
    )
    assert response.status_code == 302
    assert [(i.component, i.quantity) for i in bundle.bundle_items.all()] == [(mug, 4)]
    assert lid.used_in_bundles.count() == 0


def test_bundle_without_parts_or_with_an_unknown_part_is_refused(client, db):
    operator = UserFactory(roles=[Role.OPERATIONS])
    base = {"code": "SET-2", "name": "Set", "weight_g": "0", "length_mm": "0", "width_mm": "0"}
    base.update(height_mm="0", declared_value_usd="0", low_stock_threshold="0", is_bundle="on")
    login(client, operator)

    response = client.post(reverse("warehouse:sku-create"), {**base, **NO_PARTS})
    assert "Bundle SET-2 needs at least one part." in response.content.decode()
    response = client.post(
        reverse("warehouse:sku-create"),
        {**base, **NO_PARTS, "parts-0-component": "GHOST", "parts-0-quantity": "1"},
    )
    assert response.context["parts"].forms[0].errors["component"] == [
        "No SKU has the code or barcode “GHOST”."
    ]
    assert not Sku.objects.filter(code="SET-2").exists()


def test_sku_create_and_edit_need_their_permissions(client, clerk, sku):
    login(client, clerk)

    assert client.get(reverse("warehouse:sku-create")).status_code == 403
    assert client.post(reverse("warehouse:sku-create"), {"code": "X"}).status_code == 403
    assert client.get(reverse("warehouse:sku-edit", args=[sku.pk])).status_code == 403
    assert Sku.objects.count() == 1


# Stock overview


def test_stock_overview_shows_rows_of_the_chosen_scoped_warehouse(
    client, clerk, stocked, bins, warehouse
):
    response = login(client, clerk).get(reverse("warehouse:stock-overview"))

    assert response.status_code == 200
    assert response.context["selected"] == warehouse
    assert [w.code for w in response.context["warehouses"]] == ["SZ"]
    rows = [(lv.location.code, lv.on_hand, lv.reserved) for lv in response.context["page"]]
    assert rows == [("A-01", 10, 3)]
    assert response.context["totals"] == {"on_hand": 10, "reserved": 3, "available": 7}
    no_secret(response)


def test_stock_overview_refuses_a_warehouse_outside_the_scope(client, clerk, other_bin):
    response = login(client, clerk).get(
        reverse("warehouse:stock-overview"), {"warehouse": other_bin.warehouse_id}
    )

    assert response.status_code == 404


def test_stock_overview_filters_and_totals(client, admin_user, warehouse, bins):
    low = SkuFactory(code="LOW", low_stock_threshold=5)
    plenty = SkuFactory(code="PLENTY", low_stock_threshold=5)
    stock_receive(sku=low, location=bins[0], quantity=4, unit_cost=Decimal("1"))
    stock_receive(sku=plenty, location=bins[0], quantity=50, unit_cost=Decimal("1"))
    stock_receive(sku=plenty, location=bins[1], quantity=1, unit_cost=Decimal("1"))
    stock_adjust(sku=plenty, location=bins[1], quantity=-1, reason="broken")
    login(client, admin_user)
    url = reverse("warehouse:stock-overview")

    def rows(**query):
        response = client.get(url, {"warehouse": warehouse.pk, **query})
        return [(lv.sku.code, lv.location.code) for lv in response.context["page"]], response

    assert rows()[0] == [("LOW", "A-01"), ("PLENTY", "A-01"), ("PLENTY", "A-02")]
    assert rows(sku_code="PLENTY")[0] == [("PLENTY", "A-01"), ("PLENTY", "A-02")]
    assert rows(low_stock="true")[0] == [("LOW", "A-01"), ("PLENTY", "A-02")]
    assert rows(in_stock="false")[0] == [("PLENTY", "A-02")]
    found, response = rows(in_stock="true")
    assert found == [("LOW", "A-01"), ("PLENTY", "A-01")]
    assert response.context["totals"] == {"on_hand": 54, "reserved": 0, "available": 54}
    assert rows(ordering="-on_hand")[0][0] == ("PLENTY", "A-01")


def test_stock_overview_htmx_partial_and_paging(client, admin_user, warehouse, bins):
    for sku in SkuFactory.create_batch(55):
        stock_receive(sku=sku, location=bins[0], quantity=1, unit_cost=Decimal("1"))

    response = login(client, admin_user).get(
        reverse("warehouse:stock-overview"),
        {"warehouse": warehouse.pk, "in_stock": "true", "page": "2"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="stock-results"')
    assert len(response.context["page"].object_list) == 5
    assert f"?warehouse={warehouse.pk}&amp;in_stock=true&amp;page=1" in html
    assert response.context["totals"]["on_hand"] == 55


@pytest.mark.parametrize("rows", [5, 60])
def test_stock_overview_query_count_does_not_grow_with_rows(
    client, clerk, warehouse, bins, django_assert_num_queries, rows
):
    for sku in SkuFactory.create_batch(rows):
        stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("1"))
    login(client, clerk)

    # session, user, user perms, group perms, role names (once), warehouses, totals, count, page
    with django_assert_num_queries(9):
        response = client.get(reverse("warehouse:stock-overview"))

    assert len(response.context["page"].object_list) == min(rows, 50)


def test_stock_overview_without_any_warehouse_says_so(client, db):
    lonely = UserFactory(roles=[Role.WAREHOUSE], warehouses=[])

    response = login(client, lonely).get(reverse("warehouse:stock-overview"))

    assert response.status_code == 200
    assert "You have no warehouses yet." in response.content.decode()


# Ledger


def test_ledger_lists_the_users_moves_newest_first(client, clerk, stocked, bins):
    stock_adjust(sku=stocked, location=bins[0], quantity=-2, reason="damaged", user=clerk)

    response = login(client, clerk).get(reverse("warehouse:sku-ledger", args=[stocked.pk]))

    assert response.status_code == 200
    moves = [(m.kind, m.quantity, m.balance_after) for m in response.context["page"]]
    assert moves == [("adjustment", -2, 8), ("receipt", 10, 10)]
    html = response.content.decode()
    assert "damaged" in html and str(clerk) in html and "PO1" in html
    assert '<td class="num neg">-2</td>' in html and '<td class="num pos">+10</td>' in html
    no_secret(response)


def test_ledger_filters_by_kind_warehouse_and_dates(client, admin_user, stocked, bins, other_bin):
    old = StockMove.objects.get(reference="PO1")
    StockMove.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    stock_adjust(sku=stocked, location=bins[0], quantity=1, reason="found")
    login(client, admin_user)
    url = reverse("warehouse:sku-ledger", args=[stocked.pk])

    def kinds(**query):
        return [(m.kind, m.location.code) for m in client.get(url, query).context["page"]]

    today = timezone.localdate()
    assert kinds(kind="adjustment") == [("adjustment", "A-01")]
    assert kinds(warehouse=other_bin.warehouse_id) == [("receipt", "LX-99")]
    assert kinds(**{"from": today.isoformat()}) == [("adjustment", "A-01"), ("receipt", "LX-99")]
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert kinds(to=ten_days_ago) == [("receipt", "A-01")]
    assert kinds(**{"from": "not-a-date"}) == kinds()


def test_ledger_ignores_a_warehouse_filter_outside_the_scope(client, clerk, stocked, other_bin):
    response = login(client, clerk).get(
        reverse("warehouse:sku-ledger", args=[stocked.pk]),
        {"warehouse": other_bin.warehouse_id},
    )

    assert [m.location.code for m in response.context["page"]] == ["A-01"]
    no_secret(response)


# Adjustment


def adjust_data(sku, location, /, **extra):
    return {
        "location": location.pk,
        "sku": sku.code,
        "quantity": "5",
        "reason": "cycle count",
        "reference": "CC-1",
        **extra,
    }


def test_adjustment_writes_one_move_and_redirects_to_the_ledger(client, clerk, stocked, bins):
    before = StockMove.objects.count()

    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(stocked, bins[0])
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("warehouse:sku-ledger", args=[stocked.pk])
    assert StockMove.objects.count() == before + 1
    move = StockMove.objects.latest("pk")
    assert (move.quantity, move.balance_after, move.note, move.reference, move.user) == (
        5,
        15,
        "cycle count",
        "CC-1",
        clerk,
    )
    ledger = client.get(response["Location"]).content.decode()
    assert f"Adjusted {stocked.code} in SZ / A-01 by +5; the bin now holds 15." in ledger


def test_adjustment_accepts_a_scanned_barcode(client, clerk, bins):
    sku = SkuFactory(barcode="6901234000017")

    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(sku, bins[1], sku="6901234000017")
    )

    assert response.status_code == 302
    assert StockLevel.objects.get(sku=sku, location=bins[1]).on_hand == 5


def test_adjustment_error_shows_the_message_and_writes_nothing(client, clerk, stocked, bins):
    before = (StockMove.objects.count(), StockLevel.objects.count())

    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(stocked, bins[0], quantity="-8")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Insufficient stock: {stocked.code} at A-01: requested 8, available 7" in html
    assert 'role="alert"' in html
    assert (StockMove.objects.count(), StockLevel.objects.count()) == before
    assert StockLevel.objects.get(sku=stocked, location=bins[0]).on_hand == 10


def test_adjustment_service_error_in_a_new_bin_leaves_no_level_behind(client, clerk, bins):
    bundle = SkuFactory(is_bundle=True, code="BUNDLE-1")

    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(bundle, bins[2])
    )

    assert "BUNDLE-1 is a bundle" in response.content.decode()
    assert StockLevel.objects.count() == 0 and StockMove.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sku", "NOPE-404", "No SKU has the code or barcode “NOPE-404”."),
        ("quantity", "0", "Quantity must not be zero."),
        ("quantity", "1.5", "Enter a whole number."),
        ("reason", "", "This field is required."),
    ],
)
def test_adjustment_field_errors(client, clerk, sku, bins, field, value, message):
    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(sku, bins[0], **{field: value})
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert f'name="{field}"' in response.content.decode()
    assert StockMove.objects.count() == 0


def test_adjustment_refuses_a_bin_outside_the_scope(client, clerk, sku, other_bin):
    response = login(client, clerk).post(
        reverse("warehouse:stock-adjust"), adjust_data(sku, other_bin)
    )

    assert "location" in response.context["form"].errors
    assert StockMove.objects.count() == 0
    assert "LX-99" not in client.get(reverse("warehouse:stock-adjust")).content.decode()


def test_finance_gets_403_on_the_adjustment_form(client, sku, bins):
    accountant = UserFactory(roles=[Role.FINANCE])
    login(client, accountant)

    assert client.get(reverse("warehouse:stock-adjust")).status_code == 403
    response = client.post(reverse("warehouse:stock-adjust"), adjust_data(sku, bins[0]))

    assert response.status_code == 403
    assert StockMove.objects.count() == 0


def test_adjustment_form_prefills_and_focuses_the_next_field(client, clerk, sku, bins):
    login(client, clerk)
    url = reverse("warehouse:stock-adjust")

    first = client.get(url).content.decode()
    assert re.search(r'<select name="location"[^>]*autofocus', first)
    prefilled = client.get(url, {"sku": sku.code, "location": bins[1].pk}).content.decode()
    assert re.search(r'<input type="number" name="quantity"[^>]*autofocus', prefilled)
    assert f'value="{sku.code}"' in prefilled
    assert f'<option value="{bins[1].pk}" selected>SZ / A-02</option>' in prefilled
    assert 'data-enter-next=""' in prefilled  # Enter after a scan moves on, see caravan.js

    client.post(url, adjust_data(sku, bins[2]))
    again = client.get(url).content.decode()  # the last bin is remembered for the next scan
    assert f'<option value="{bins[2].pk}" selected>' in again
    assert re.search(r'<input type="text" name="sku"[^>]*autofocus', again)


# Bin move


def test_bin_move_writes_two_moves_and_redirects(client, clerk, stocked, bins):
    response = login(client, clerk).post(
        reverse("warehouse:stock-move"),
        {
            "sku": stocked.code,
            "from_location": bins[0].pk,
            "to_location": bins[1].pk,
            "quantity": "4",
            "reference": "MV-1",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("warehouse:sku-ledger", args=[stocked.pk])
    moves = StockMove.objects.filter(reference="MV-1").order_by("pk")
    assert [(m.location.code, m.quantity) for m in moves] == [("A-01", -4), ("A-02", 4)]


def test_bin_move_error_shows_the_message_and_writes_nothing(client, clerk, stocked, bins):
    before = StockMove.objects.count()

    response = login(client, clerk).post(
        reverse("warehouse:stock-move"),
        {
            "sku": stocked.code,
            "from_location": bins[0].pk,
            "to_location": bins[0].pk,
            "quantity": 1,
        },
    )

    assert "The source and destination bins are the same." in response.content.decode()
    assert StockMove.objects.count() == before


def test_bin_move_needs_move_permission(client, stocked, bins):
    operator = UserFactory(roles=[Role.OPERATIONS])

    response = login(client, operator).post(reverse("warehouse:stock-move"), {})

    assert response.status_code == 403


# Import and export


def purchaser(client):
    return login(client, UserFactory(roles=[Role.PURCHASING]))


def upload(name, content: bytes):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_import_creates_and_updates_and_shows_the_counts(client, db):
    SkuFactory(code="OLD-1", name="Old name")
    csv = "code,name,name_zh,weight_g\nOLD-1,New name,,\nNEW-1,Fresh,新品,120\n".encode()

    response = purchaser(client).post(
        reverse("warehouse:sku-import"), {"file": upload("skus.csv", csv)}
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged, result.errors) == (1, 1, 0, [])
    html = response.content.decode()
    assert "The file was imported." in html and "skus.csv" in html
    assert Sku.objects.get(code="NEW-1").name_zh == "新品"


def test_import_errors_are_listed_by_row_and_column_and_nothing_is_written(client, db):
    csv = b"code,name,weight_g\nA-1,Fine,10\nA-2,Bad,heavy\n,No code,1\n"

    response = purchaser(client).post(
        reverse("warehouse:sku-import"), {"file": upload("skus.csv", csv)}
    )

    result = response.context["result"]
    assert {(e.row, e.column) for e in result.errors} >= {(3, "weight_g")}
    html = response.content.decode()
    assert "Nothing was imported" in html
    for error in result.errors:
        assert f'<td class="num">{error.row}</td>' in html
    assert Sku.objects.count() == 0


def test_import_file_level_problem_is_shown_on_the_field(client, db):
    response = purchaser(client).post(
        reverse("warehouse:sku-import"), {"file": upload("skus.pdf", b"%PDF-1.4")}
    )

    assert response.context["result"] is None
    assert "file" in response.context["form"].errors


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100)
def test_import_refuses_files_over_the_limit(client, db):
    response = purchaser(client).post(
        reverse("warehouse:sku-import"), {"file": upload("big.csv", b"code,name\n" + b"x" * 200)}
    )

    errors = response.context["form"].errors["file"]
    assert errors == ["The file is 210\xa0bytes; files up to 100\xa0bytes can be imported."]
    assert Sku.objects.count() == 0


def test_import_needs_import_permission(client, clerk):
    login(client, clerk)

    assert client.get(reverse("warehouse:sku-import")).status_code == 403
    assert client.get(reverse("warehouse:sku-import-template")).status_code == 403


def test_export_downloads_the_filtered_skus(client, clerk):
    SkuFactory(code="BAT-1", has_battery=True)
    SkuFactory(code="MUG-1")

    response = login(client, clerk).get(
        reverse("warehouse:sku-export"), {"format": "csv", "has_battery": "true"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="skus-\d{8}\.csv"', response["Content-Disposition"])
    body = response.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("code,name,name_zh,barcode")
    assert [line.split(",")[0] for line in body.splitlines()[1:]] == ["BAT-1"]
    xlsx = client.get(reverse("warehouse:sku-export"), {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert client.get(reverse("warehouse:sku-export"), {"format": "pdf"}).status_code == 404


def test_import_template_has_only_the_header(client, db):
    response = purchaser(client).get(reverse("warehouse:sku-import-template"), {"format": "csv"})

    assert response["Content-Disposition"] == 'attachment; filename="sku-template.csv"'
    assert response.content.decode("utf-8-sig").splitlines()[0].startswith("code,name,")
    assert len(response.content.decode("utf-8-sig").splitlines()) == 1


# Every page, as a scoped user: nothing of the other warehouse, ever.


def test_no_page_shows_another_warehouses_stock(client, clerk, stocked, bins, other_bin):
    stock_adjust(sku=stocked, location=other_bin, quantity=-1, reason="other side")
    login(client, clerk)
    urls = [
        reverse("dashboard"),
        reverse("warehouse:sku-list"),
        reverse("warehouse:sku-list") + f"?q={stocked.code}",
        reverse("warehouse:sku-detail", args=[stocked.pk]),
        reverse("warehouse:sku-ledger", args=[stocked.pk]),
        reverse("warehouse:stock-overview"),
        reverse("warehouse:stock-overview") + "?low_stock=false",
        reverse("warehouse:stock-adjust"),
        reverse("warehouse:stock-move"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        no_secret(response)
        assert "other side" not in response.content.decode(), url


# Chinese


def test_chinese_pages_render_in_chinese(client, clerk, stocked):
    login(client, clerk)
    client.cookies["django_language"] = "zh-hans"

    html = client.get(reverse("warehouse:sku-list")).content.decode()

    assert '<html lang="zh-hans">' in html
    assert "库存" in html and "可用" in html and "搜索" in html
    overview = client.get(reverse("warehouse:stock-overview")).content.decode()
    assert "已预占" in overview and "库位" in overview


def test_accept_language_picks_chinese(client, clerk, stocked):
    response = login(client, clerk).get(
        reverse("warehouse:sku-ledger", args=[stocked.pk]), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )

    html = response.content.decode()
    assert "库存流水" in html and "入库" in html
