"""Dashboard, navigation, login, logout and the language switch."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from erp.models import Role
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse.services import StockLine, stock_adjust, stock_receive, stock_reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(warehouse, bins):
    """SZ: mug 10 (3 reserved, threshold 8 → low), lamp 20. LAX: mug 7777 in bin LX-99."""
    mug = SkuFactory(code="MUG", low_stock_threshold=8)
    lamp = SkuFactory(code="LAMP")
    other = LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="LX-99")
    stock_receive(sku=mug, location=bins[0], quantity=10, unit_cost=Decimal("2"))
    stock_receive(sku=lamp, location=bins[1], quantity=20, unit_cost=Decimal("5"))
    stock_receive(sku=mug, location=other, quantity=7777, unit_cost=Decimal("2"))
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 3)], reference="order_line:1")
    stock_adjust(sku=lamp, location=bins[1], quantity=-1, reason="broken")
    return {"mug": mug, "lamp": lamp, "other": other}


def test_dashboard_figures_are_scoped_to_the_users_warehouses(client, warehouse, stock):
    clerk = UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])
    client.force_login(clerk)

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary["on_hand"], summary["reserved"], summary["available"]) == (29, 3, 26)
    assert summary["stock_value"] == Decimal("115")  # 10 × 2 + 19 × 5
    assert (summary["warehouses"], summary["low_stock"], summary["skus"]) == (1, 1, 2)
    [row] = summary["by_warehouse"]
    assert (row["warehouse"].code, row["skus"], row["on_hand"], row["low_stock"]) == (
        "SZ",
        2,
        29,
        1,
    )
    assert [m.location.code for m in summary["recent_moves"]] == ["A-02", "A-02", "A-01"]
    html = response.content.decode()
    assert "LX-99" not in html and "7,777" not in html and "LAX" not in html
    assert f'href="/warehouse/stock/?warehouse={warehouse.pk}&amp;low_stock=true"' in html
    assert reverse("warehouse:sku-ledger", args=[stock["lamp"].pk]) in html


def test_dashboard_for_admin_counts_every_warehouse(client, admin_user, stock):
    client.force_login(admin_user)

    summary = client.get(reverse("dashboard")).context["summary"]

    assert summary["on_hand"] == 29 + 7777
    assert [row["warehouse"].code for row in summary["by_warehouse"]] == ["LAX", "SZ"]


@pytest.mark.parametrize("rows", [1, 30])
def test_dashboard_query_count_is_fixed(client, warehouse, bins, django_assert_num_queries, rows):
    clerk = UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])
    for sku in SkuFactory.create_batch(rows):
        stock_receive(sku=sku, location=bins[0], quantity=1, unit_cost=Decimal("1"))
    client.force_login(clerk)

    # session, user, role names (once), totals, warehouses, latest moves, per-warehouse
    # figures, SKU counts, permissions for the buttons (user + group)
    with django_assert_num_queries(10):
        client.get(reverse("dashboard"))


def test_navigation_has_no_dead_links(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("dashboard")).content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    links = re.findall(r'href="([^"]+)"', nav)

    assert len(links) == 6
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize("section", ["orders", "purchasing", "logistics", "reports"])
def test_pending_modules_say_so_honestly(client, admin_user, section):
    client.force_login(admin_user)

    response = client.get(reverse("module-pending", args=[section]))

    assert response.status_code == 200
    assert "is not installed in this version of Caravan yet" in response.content.decode()
    assert 'class="active" aria-current="page"' in response.content.decode()


def test_unknown_module_is_404(client, admin_user):
    client.force_login(admin_user)

    assert client.get(reverse("module-pending", args=["crm"])).status_code == 404


def test_login_page_has_the_language_switch_and_it_works_without_login(client, db):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'action="/i18n/setlang/"' in page.content.decode()

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("login")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html


def test_login_and_logout(client, db):
    UserFactory(username="mei", display_name="Mei", roles=[Role.WAREHOUSE])

    response = client.post(reverse("login"), {"username": "mei", "password": "pass-Word-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    html = client.get(reverse("dashboard")).content.decode()
    assert 'class="usermenu"' in html and "Mei" in html
    assert re.search(r'<form action="/accounts/logout/" method="post">', html)

    assert client.get(reverse("logout")).status_code == 405  # logout is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_wrong_password_shows_an_error(client, db):
    UserFactory(username="mei")

    response = client.post(reverse("login"), {"username": "mei", "password": "nope"})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_dashboard_in_chinese(client, admin_user, stock):
    client.force_login(admin_user)
    client.cookies["django_language"] = "zh-hans"

    html = client.get(reverse("dashboard")).content.decode()

    for text in ("仪表盘", "订单", "仓库", "采购", "物流", "报表", "在库", "可用", "退出登录"):
        assert text in html, text
