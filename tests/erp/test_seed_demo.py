import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import F

from erp.demo_data import USERS
from erp.models import Company, Role, User
from erp.scopes import scope_stores, scope_warehouses
from orders.models import Order, OrderEvent, OrderLine, ReviewRule, SkuMapping, Store
from tests.factories import ensure_roles
from warehouse.models import (
    BundleItem,
    Location,
    Reservation,
    Sku,
    StockLevel,
    StockMove,
    Warehouse,
)

pytestmark = pytest.mark.django_db

MODELS = [
    Company,
    User,
    Warehouse,
    Location,
    Sku,
    BundleItem,
    StockLevel,
    StockMove,
    Store,
    SkuMapping,
    ReviewRule,
    Order,
    OrderLine,
    OrderEvent,
    Reservation,
]


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ensure_roles()  # a transactional test elsewhere may have flushed the role groups


def seed(capsys) -> str:
    call_command("seed_demo", "--force")  # tests run with DEBUG off
    return capsys.readouterr().out


def snapshot() -> dict:
    return {
        "counts": {m.__name__: m.objects.count() for m in MODELS},
        "skus": list(Sku.objects.order_by("code").values_list("code", "updated_at", "avg_cost")),
        "levels": list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        "groups": list(User.groups.through.objects.order_by("pk").values_list("pk", flat=True)),
        "users": list(User.objects.order_by("username").values_list("username", "password")),
    }


def ean13_is_valid(code: str) -> bool:
    """Check digit from the right: weights 3, 1, 3, … on the 12 data digits."""
    if len(code) != 13 or not code.isdigit():
        return False
    data = [int(d) for d in reversed(code[:12])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(data))
    return (total + int(code[12])) % 10 == 0


def test_seed_demo_twice_creates_everything_once(capsys):
    """Given an empty database; when seed_demo runs twice; then the second run writes nothing
    and says so, and both print the logins."""
    first = seed(capsys)
    after_first = snapshot()
    second = seed(capsys)

    assert snapshot() == after_first
    assert "Demo data seeded." in first
    assert "nothing changed" in second
    for out in (first, second):
        assert "caravan-warehouse" in out
    counts = after_first["counts"]
    assert counts["Company"] == 1
    assert counts["User"] == 5
    assert counts["Warehouse"] == 2
    assert Sku.objects.filter(is_bundle=False).count() >= 60
    assert Sku.objects.filter(is_bundle=True).count() == 4


def test_seed_demo_puts_back_what_was_changed_and_keeps_stock(capsys):
    seed(capsys)
    moves = StockMove.objects.count()
    Sku.objects.filter(code="PB-10K-WH").update(has_battery=False)
    Location.objects.filter(warehouse__code="SZ", code="A-01-01").update(pick_sequence=5)
    User.objects.get(username="warehouse").warehouses.clear()

    out = seed(capsys)

    assert "Corrected: " in out
    assert Sku.objects.get(code="PB-10K-WH").has_battery is True
    assert Location.objects.get(warehouse__code="SZ", code="A-01-01").pick_sequence == 10
    assert list(User.objects.get(username="warehouse").warehouses.values_list("code")) == [("SZ",)]
    assert StockMove.objects.count() == moves  # opening stock is received once only


def test_every_role_has_its_login_and_the_warehouse_user_is_scoped(capsys):
    seed(capsys)

    for demo in USERS:
        user = User.objects.get(username=demo.username)
        assert list(user.groups.values_list("name", flat=True)) == [demo.role]
        assert user.is_superuser is (demo.role == Role.ADMIN)
    assert authenticate(username="admin", password="caravan-admin").is_superuser
    keeper = authenticate(username="warehouse", password="caravan-warehouse")
    assert keeper is not None
    assert keeper.all_warehouses is False
    assert list(scope_warehouses(Warehouse.objects.all(), keeper).values_list("code")) == [("SZ",)]
    ops = User.objects.get(username="ops")
    assert scope_stores(Store.objects.all(), ops).count() == Store.objects.count() == 3
    assert list(scope_warehouses(Warehouse.objects.order_by("code"), ops).values_list("code")) == [
        ("SZ",),
        ("US-LA",),
    ]


def test_demo_stock_matches_the_ledger_and_gives_the_filters_something_to_show(capsys):
    seed(capsys)

    call_command("check_stock")  # SystemExit(1) on drift
    assert "match the ledger" in capsys.readouterr().out
    sz, us = Warehouse.objects.get(code="SZ"), Warehouse.objects.get(code="US-LA")
    assert (sz.kind, sz.country, us.kind, us.country) == ("own", "CN", "overseas", "US")
    assert {loc.kind for loc in sz.locations.all()} == {"storage", "receiving", "quarantine"}
    stocked = StockLevel.objects.filter(on_hand__gt=0)
    assert stocked.filter(location__warehouse=sz).exists()
    assert stocked.filter(location__warehouse=us).exists()
    assert (
        Sku.objects.filter(is_bundle=False)
        .exclude(stock_levels__location__warehouse=sz, stock_levels__on_hand__gt=0)
        .exists()
    ), "some SKUs are out of stock in Shenzhen"
    low = stocked.filter(on_hand__lte=F("reserved") + F("sku__low_stock_threshold"))
    assert low.exists()
    # every SKU that was received has a positive moving-average cost (CNY)
    assert not Sku.objects.filter(stock_moves__isnull=False, avg_cost__lte=0).exists()


def test_demo_catalog_is_realistic(capsys):
    seed(capsys)

    plain = Sku.objects.filter(is_bundle=False)
    barcodes = list(plain.values_list("barcode", flat=True))
    assert all(ean13_is_valid(b) for b in barcodes), barcodes
    assert len(set(barcodes)) == len(barcodes)
    assert plain.filter(has_battery=True, code__startswith="PB-").count() == 3
    assert plain.filter(is_liquid=True).exists()
    assert plain.filter(is_magnetic=True).exists()
    assert not plain.filter(name_zh="").exists()
    assert not plain.filter(hs_code="").exists()
    assert not plain.filter(declared_value_usd__lte=0).exists()
    assert not plain.filter(weight_g=0).exists()
    kit = Sku.objects.get(code="KIT-IP15-PROTECT")
    assert sorted(kit.bundle_items.values_list("component__code", "quantity")) == [
        ("PC-IP15-BK", 1),
        ("SP-IP15", 1),
    ]


def test_show_logins_only_prints_them(capsys):
    call_command("seed_demo", "--show-logins")

    out = capsys.readouterr().out
    for demo in USERS:
        assert demo.username in out
        assert demo.password in out
    assert Sku.objects.count() == 0


def test_seed_demo_refuses_with_debug_off_unless_forced():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert User.objects.count() == 0


def test_seed_demo_orders_come_in_realistic_shapes(capsys):
    seed(capsys)
    orders = Order.objects.all()
    assert orders.count() == 300
    assert set(Store.objects.values_list("platform", flat=True)) == {"amazon", "shopify", "shopee"}
    assert orders.values("ship_country").distinct().count() >= 8
    statuses = set(orders.values_list("status", flat=True))
    assert {"new", "on_hold", "approved", "allocated", "platform", "cancelled"} <= statuses
    holds = set(orders.exclude(hold_reason="").values_list("hold_reason", flat=True))
    assert {"unpaired_sku", "incomplete_address", "buyer_note"} <= holds
    assert OrderLine.objects.filter(order__in=orders).count() > 300  # multi-line orders
    call_command("check_stock")  # allocations kept the ledger clean
