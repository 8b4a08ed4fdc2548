"""The warehouse REST API under /api/v1/: catalog, bins, stock lists and stock actions."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from erp.models import Role, User
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
    WarehouseFactory,
)
from warehouse.models import BundleItem, Location, Sku, StockLevel, StockMove, Warehouse
from warehouse.services import stock_adjust, stock_receive

pytestmark = pytest.mark.django_db


def receive(sku, location, quantity, unit_cost="2"):
    return stock_receive(
        sku=sku, location=location, quantity=quantity, unit_cost=Decimal(unit_cost)
    )


@pytest.fixture
def ops(client_as):
    return client_as(UserFactory(roles=[Role.OPERATIONS]))


@pytest.fixture
def worker_user(db):
    return UserFactory(username="picker", roles=[Role.WAREHOUSE])


@pytest.fixture
def worker(client_as, worker_user):
    return client_as(worker_user)


@pytest.fixture
def admin(client_as, admin_user):
    return client_as(admin_user)


# --- SKUs ---------------------------------------------------------------------------------------


def test_sku_list_shows_bundle_parts_and_plain_skus(ops):
    mug = SkuFactory(code="MUG-RED", name="Red mug")
    lid = SkuFactory(code="LID-01", name="Lid")
    gift = SkuFactory(code="GIFT-SET", name="Gift set", is_bundle=True)
    BundleItemFactory(bundle=gift, component=mug, quantity=2)
    BundleItemFactory(bundle=gift, component=lid, quantity=1)

    response = ops.get("/api/v1/skus/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(r["code"], r["is_bundle"], r["bundle_items"]) for r in body["results"]] == [
        (
            "GIFT-SET",
            True,
            [{"component": "LID-01", "quantity": 1}, {"component": "MUG-RED", "quantity": 2}],
        ),
        ("LID-01", False, []),
        ("MUG-RED", False, []),
    ]


def test_sku_detail_shows_every_field(ops):
    sku = SkuFactory(code="MUG-RED", name="Red mug", name_zh="红杯", barcode="6901234567890")

    body = ops.get(f"/api/v1/skus/{sku.pk}/").json()

    assert body == {
        "id": sku.pk,
        "code": "MUG-RED",
        "name": "Red mug",
        "name_zh": "红杯",
        "barcode": "6901234567890",
        "weight_g": 350,
        "length_mm": 0,
        "width_mm": 0,
        "height_mm": 0,
        "declared_name_en": "Mug",
        "declared_name_zh": "杯子",
        "hs_code": "7323930000",
        "declared_value_usd": "4.50",
        "has_battery": False,
        "is_liquid": False,
        "is_magnetic": False,
        "is_bundle": False,
        "low_stock_threshold": 0,
        "avg_cost": "0.0000",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "bundle_items": [],
    }


def test_sku_search_by_code_barcode_and_chinese_name_and_filters(ops):
    SkuFactory(code="MUG-RED", name="Red mug", name_zh="红色杯子", barcode="111")
    SkuFactory(code="MUG-BLUE", name="Blue mug", name_zh="蓝色杯子", barcode="222")
    SkuFactory(code="CABLE", name="USB cable", name_zh="数据线", has_battery=True)

    def codes(query):
        response = ops.get(f"/api/v1/skus/{query}")
        assert response.status_code == 200
        return [r["code"] for r in response.json()["results"]]

    assert codes("?q=mug") == ["MUG-BLUE", "MUG-RED"]
    assert codes("?q=222") == ["MUG-BLUE"]
    assert codes("?q=红色") == ["MUG-RED"]
    assert codes("?has_battery=true") == ["CABLE"]
    assert codes("?ordering=-code") == ["MUG-RED", "MUG-BLUE", "CABLE"]
    assert codes("?page_size=2&page=2") == ["MUG-RED"]


def test_operations_create_a_sku(ops):
    response = ops.post(
        "/api/v1/skus/",
        {"code": "MUG-RED", "name": "Red mug", "name_zh": "红杯", "weight_g": 420},
    )

    assert response.status_code == 201
    sku = Sku.objects.get(code="MUG-RED")
    assert response.json()["id"] == sku.pk
    assert (sku.name, sku.name_zh, sku.weight_g, sku.is_active) == ("Red mug", "红杯", 420, True)


def test_create_a_bundle_with_its_parts(ops):
    SkuFactory(code="MUG-RED")
    SkuFactory(code="LID-01")

    response = ops.post(
        "/api/v1/skus/",
        {
            "code": "GIFT-SET",
            "name": "Gift set",
            "is_bundle": True,
            "bundle_items": [
                {"component": "MUG-RED", "quantity": 2},
                {"component": "LID-01", "quantity": 1},
            ],
        },
    )

    assert response.status_code == 201
    assert response.json()["bundle_items"] == [
        {"component": "LID-01", "quantity": 1},
        {"component": "MUG-RED", "quantity": 2},
    ]
    assert sorted(
        BundleItem.objects.filter(bundle__code="GIFT-SET").values_list(
            "component__code", "quantity"
        )
    ) == [("LID-01", 1), ("MUG-RED", 2)]


def test_sku_create_refuses_a_taken_code_and_a_taken_barcode(ops):
    SkuFactory(code="MUG-RED", barcode="690123")

    taken_code = ops.post("/api/v1/skus/", {"code": "MUG-RED", "name": "Again"})
    taken_barcode = ops.post("/api/v1/skus/", {"code": "NEW", "name": "New", "barcode": "690123"})
    two_without_barcode = [
        ops.post("/api/v1/skus/", {"code": f"NB-{i}", "name": "No barcode"}).status_code
        for i in range(2)
    ]

    assert taken_code.status_code == 400
    assert taken_code.json() == {"code": ["SKU with this SKU code already exists."]}
    assert taken_barcode.status_code == 400
    assert taken_barcode.json() == {"barcode": ["SKU with this barcode already exists."]}
    assert two_without_barcode == [201, 201]
    assert Sku.objects.count() == 3


def test_bundle_rules_are_400_with_a_message_and_nothing_written(ops):
    SkuFactory(code="MUG-RED")
    inner = SkuFactory(code="SET-A", is_bundle=True)
    BundleItemFactory(bundle=inner)

    def post(body):
        response = ops.post("/api/v1/skus/", {"name": "X", **body})
        return response.status_code, response.json()

    part = [{"component": "MUG-RED", "quantity": 1}]
    assert post({"code": "P1", "bundle_items": part}) == (
        400,
        {"code": "sku_invalid", "detail": "P1 is not a bundle: only a bundle has parts."},
    )
    assert post({"code": "B1", "is_bundle": True}) == (
        400,
        {"code": "sku_invalid", "detail": "Bundle B1 needs at least one part."},
    )
    assert post(
        {"code": "B2", "is_bundle": True, "bundle_items": [{"component": "SET-A", "quantity": 1}]}
    ) == (
        400,
        {
            "code": "sku_invalid",
            "detail": "SET-A is a bundle; the parts of a bundle are plain SKUs.",
        },
    )
    assert post({"code": "B3", "is_bundle": True, "bundle_items": part + part}) == (
        400,
        {"code": "sku_invalid", "detail": "MUG-RED is listed twice in bundle B3."},
    )
    assert post(
        {"code": "B4", "is_bundle": True, "bundle_items": [{"component": "NOPE", "quantity": 1}]}
    ) == (400, {"bundle_items": {"0": {"component": ["Object with code=NOPE does not exist."]}}})
    assert not Sku.objects.filter(code__in=["P1", "B1", "B2", "B3", "B4"]).exists()


def test_integers_are_bounded_as_postgresql_stores_them_on_every_database(ops):
    response = ops.post("/api/v1/skus/", {"code": "BIG", "name": "Big", "weight_g": 2**31})

    assert response.status_code == 400
    assert response.json() == {
        "weight_g": ["Ensure this value is less than or equal to 2147483647."]
    }


def test_patch_changes_only_the_given_fields_and_never_the_average_cost(ops, bins):
    sku = SkuFactory(code="MUG-RED", name="Red mug", weight_g=350)
    receive(sku, bins[0], 4, unit_cost="3.5")

    response = ops.patch(
        f"/api/v1/skus/{sku.pk}/", {"name": "Red mug 2", "avg_cost": "99", "is_active": False}
    )

    assert response.status_code == 200
    sku.refresh_from_db()
    assert (sku.name, sku.weight_g, sku.avg_cost, sku.is_active) == (
        "Red mug 2",
        350,
        Decimal("3.5000"),
        False,
    )
    assert response.json()["avg_cost"] == "3.5000"


def test_put_needs_code_and_name(ops):
    sku = SkuFactory(code="MUG-RED")

    missing = ops.put(f"/api/v1/skus/{sku.pk}/", {"weight_g": 1})
    full = ops.put(f"/api/v1/skus/{sku.pk}/", {"code": "MUG-RED", "name": "Renamed"})

    assert missing.status_code == 400
    assert missing.json() == {
        "code": ["This field is required."],
        "name": ["This field is required."],
    }
    assert full.status_code == 200
    assert full.json()["name"] == "Renamed"


def test_patch_replaces_the_parts_of_a_bundle_and_unbundling_drops_them(ops):
    mug, lid = SkuFactory(code="MUG-RED"), SkuFactory(code="LID-01")
    gift = SkuFactory(code="GIFT-SET", is_bundle=True)
    BundleItemFactory(bundle=gift, component=mug, quantity=2)

    replaced = ops.patch(
        f"/api/v1/skus/{gift.pk}/", {"bundle_items": [{"component": "LID-01", "quantity": 3}]}
    )
    unbundled = ops.patch(f"/api/v1/skus/{gift.pk}/", {"is_bundle": False})

    assert replaced.status_code == 200
    assert replaced.json()["bundle_items"] == [{"component": "LID-01", "quantity": 3}]
    assert unbundled.status_code == 200
    assert unbundled.json()["bundle_items"] == []
    assert BundleItem.objects.filter(bundle=gift).count() == 0
    assert lid.used_in_bundles.count() == 0


def test_a_sku_holding_stock_cannot_become_a_bundle(ops, bins):
    sku = SkuFactory(code="MUG-RED")
    part = SkuFactory(code="LID-01")
    receive(sku, bins[0], 1)

    response = ops.patch(
        f"/api/v1/skus/{sku.pk}/",
        {"is_bundle": True, "bundle_items": [{"component": "LID-01", "quantity": 1}]},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "sku_invalid",
        "detail": "MUG-RED holds stock, and a bundle holds none: move its stock out first.",
    }
    sku.refresh_from_db()
    assert sku.is_bundle is False
    assert part.used_in_bundles.count() == 0


def test_skus_are_never_deleted(ops, admin):
    sku = SkuFactory()

    assert ops.delete(f"/api/v1/skus/{sku.pk}/").status_code == 403  # no delete_sku permission
    assert admin.delete(f"/api/v1/skus/{sku.pk}/").status_code == 405
    assert Sku.objects.filter(pk=sku.pk).exists()


def test_sku_stock_lists_its_levels_in_the_users_warehouses(client_as, warehouse, bins):
    other = WarehouseFactory(code="LA", name="Los Angeles")
    other_bin = LocationFactory(warehouse=other, code="L-01")
    sku = SkuFactory(code="MUG-RED", name="Red mug", name_zh="红杯")
    receive(sku, bins[0], 5)
    receive(sku, bins[1], 2)
    receive(sku, other_bin, 7)
    receive(SkuFactory(), bins[0], 9)  # another SKU
    scoped = client_as(UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse]))

    response = scoped.get(f"/api/v1/skus/{sku.pk}/stock/")

    assert response.status_code == 200
    assert [
        (r["warehouse_code"], r["location_code"], r["on_hand"], r["reserved"], r["available"])
        for r in response.json()["results"]
    ] == [("SZ", "A-01", 5, 0, 5), ("SZ", "A-02", 2, 0, 2)]


# --- Warehouses and bins -----------------------------------------------------------------------


def test_warehouses_list_filter_and_admin_create(admin, worker, warehouse):
    WarehouseFactory(code="FBA-US", name="FBA US", kind=Warehouse.Kind.FBA)

    listed = worker.get("/api/v1/warehouses/?kind=fba")
    refused = worker.post("/api/v1/warehouses/", {"code": "X", "name": "X"})
    created = admin.post(
        "/api/v1/warehouses/", {"code": "DE", "name": "Berlin 3PL", "kind": "overseas"}
    )

    assert listed.status_code == 200
    assert [w["code"] for w in listed.json()["results"]] == ["FBA-US"]
    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json() == {
        "id": Warehouse.objects.get(code="DE").pk,
        "code": "DE",
        "name": "Berlin 3PL",
        "kind": "overseas",
        "country": "CN",
        "address": "",
        "is_active": True,
    }


def test_a_warehouse_with_bins_cannot_be_deleted(admin, bins, warehouse):
    response = admin.delete(f"/api/v1/warehouses/{warehouse.pk}/")

    assert response.status_code == 409
    assert response.json() == {
        "code": "protected",
        "detail": "This record is still used by other records, so it cannot be deleted; "
        "deactivate it instead.",
    }
    assert Warehouse.objects.filter(pk=warehouse.pk).exists()


def test_locations_list_and_filter(worker, warehouse, bins):
    LocationFactory(
        warehouse=warehouse, code="Q-01", kind=Location.Kind.QUARANTINE, pick_sequence=99
    )

    all_bins = worker.get(f"/api/v1/locations/?warehouse={warehouse.pk}")
    quarantine = worker.get("/api/v1/locations/?kind=quarantine")
    by_code = worker.get("/api/v1/locations/?code=a-0")

    assert [b["code"] for b in all_bins.json()["results"]] == ["A-01", "A-02", "A-03", "Q-01"]
    assert quarantine.json()["results"] == [
        {
            "id": Location.objects.get(code="Q-01").pk,
            "warehouse": warehouse.pk,
            "warehouse_code": "SZ",
            "code": "Q-01",
            "kind": "quarantine",
            "pick_sequence": 99,
            "is_active": True,
        }
    ]
    assert [b["code"] for b in by_code.json()["results"]] == ["A-01", "A-02", "A-03"]


def test_warehouse_staff_create_and_edit_bins_but_a_bin_stays_in_its_warehouse(
    worker, warehouse, bins
):
    other = WarehouseFactory(code="LA")

    created = worker.post(
        "/api/v1/locations/", {"warehouse": warehouse.pk, "code": "B-01", "pick_sequence": 40}
    )
    duplicate = worker.post("/api/v1/locations/", {"warehouse": warehouse.pk, "code": "B-01"})
    moved = worker.patch(f"/api/v1/locations/{bins[0].pk}/", {"warehouse": other.pk})
    renamed = worker.patch(f"/api/v1/locations/{bins[0].pk}/", {"pick_sequence": 5})

    assert created.status_code == 201
    assert created.json()["warehouse_code"] == "SZ"
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "non_field_errors": ["The fields warehouse, code must make a unique set."]
    }
    assert moved.status_code == 400
    assert moved.json() == {
        "warehouse": ["A bin stays in its warehouse; create a new bin in the other warehouse."]
    }
    assert renamed.status_code == 200
    bins[0].refresh_from_db()
    assert (bins[0].warehouse_id, bins[0].pick_sequence) == (warehouse.pk, 5)


def test_a_bin_that_held_stock_cannot_be_deleted_an_empty_one_can(admin, worker, bins, sku):
    receive(sku, bins[0], 1)

    assert worker.delete(f"/api/v1/locations/{bins[1].pk}/").status_code == 403
    used = admin.delete(f"/api/v1/locations/{bins[0].pk}/")
    empty = admin.delete(f"/api/v1/locations/{bins[1].pk}/")

    assert used.status_code == 409
    assert used.json()["code"] == "protected"
    assert empty.status_code == 204
    assert list(Location.objects.order_by("code").values_list("code", flat=True)) == [
        "A-01",
        "A-03",
    ]


# --- Stock levels and moves ----------------------------------------------------------------------


def test_stock_levels_show_sku_bin_and_counts(worker, warehouse, bins):
    sku = SkuFactory(code="MUG-RED", name="Red mug", name_zh="红杯")
    receive(sku, bins[0], 5)
    level = StockLevel.objects.get(sku=sku, location=bins[0])
    StockLevel.objects.filter(pk=level.pk).update(reserved=2)

    response = worker.get("/api/v1/stock-levels/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": level.pk,
            "sku": sku.pk,
            "sku_code": "MUG-RED",
            "sku_name": "Red mug",
            "sku_name_zh": "红杯",
            "warehouse": warehouse.pk,
            "warehouse_code": "SZ",
            "location": bins[0].pk,
            "location_code": "A-01",
            "on_hand": 5,
            "reserved": 2,
            "available": 3,
        }
    ]
    assert worker.get(f"/api/v1/stock-levels/{level.pk}/").json() == response.json()["results"][0]


def test_stock_level_filters(worker, warehouse, bins):
    mug = SkuFactory(code="MUG-RED", low_stock_threshold=5)
    lid = SkuFactory(code="LID-01", low_stock_threshold=5)
    receive(mug, bins[0], 3)  # at or below the threshold
    receive(lid, bins[0], 20)
    receive(lid, bins[1], 1)
    stock_adjust(sku=lid, location=bins[1], quantity=-1, reason="broken")  # now empty
    other = LocationFactory(warehouse=WarehouseFactory(code="LA"), code="L-01")
    receive(mug, other, 50)

    def rows(query):
        response = worker.get(f"/api/v1/stock-levels/{query}")
        assert response.status_code == 200
        return [(r["sku_code"], r["location_code"]) for r in response.json()["results"]]

    assert rows(f"?sku={mug.pk}") == [("MUG-RED", "L-01"), ("MUG-RED", "A-01")]  # LA, SZ
    assert rows("?sku_code=LID-01") == [("LID-01", "A-01"), ("LID-01", "A-02")]
    assert rows(f"?warehouse={warehouse.pk}") == [
        ("LID-01", "A-01"),
        ("LID-01", "A-02"),
        ("MUG-RED", "A-01"),
    ]
    assert rows("?low_stock=true") == [("LID-01", "A-02"), ("MUG-RED", "A-01")]
    assert rows("?in_stock=false") == [("LID-01", "A-02")]
    assert rows(f"?location={bins[0].pk}&ordering=-on_hand") == [
        ("LID-01", "A-01"),
        ("MUG-RED", "A-01"),
    ]


def test_stock_moves_newest_first_with_filters(worker, worker_user, bins, sku):
    receive(sku, bins[0], 10)
    stock_adjust(
        sku=sku,
        location=bins[0],
        quantity=-2,
        reason="damaged",
        reference="CNT-1",
        user=worker_user,
    )

    everything = worker.get("/api/v1/stock-moves/")
    adjustments = worker.get("/api/v1/stock-moves/?kind=adjustment")
    by_reference = worker.get("/api/v1/stock-moves/?reference=CNT-1")
    oldest_first = worker.get("/api/v1/stock-moves/?ordering=at")

    assert [(m["kind"], m["quantity"]) for m in everything.json()["results"]] == [
        ("adjustment", -2),
        ("receipt", 10),
    ]
    move = StockMove.objects.get(kind="adjustment")
    assert adjustments.json()["results"] == [
        {
            "id": move.pk,
            "sku": sku.pk,
            "sku_code": sku.code,
            "warehouse": bins[0].warehouse_id,
            "warehouse_code": "SZ",
            "location": bins[0].pk,
            "location_code": "A-01",
            "quantity": -2,
            "balance_after": 8,
            "kind": "adjustment",
            "unit_cost": "2.0000",
            "reference": "CNT-1",
            "note": "damaged",
            "user": worker_user.pk,
            "user_name": "picker",
            "at": adjustments.json()["results"][0]["at"],
        }
    ]
    assert [m["id"] for m in by_reference.json()["results"]] == [move.pk]
    assert [m["quantity"] for m in oldest_first.json()["results"]] == [10, -2]
    assert everything.json()["results"][1]["user_name"] is None  # received by no one


def test_stock_levels_and_moves_are_read_only(admin, bins, sku):
    receive(sku, bins[0], 1)
    level = StockLevel.objects.get()
    move = StockMove.objects.get()

    assert admin.post("/api/v1/stock-levels/", {}).status_code == 405
    assert admin.patch(f"/api/v1/stock-levels/{level.pk}/", {"on_hand": 9}).status_code == 405
    assert admin.delete(f"/api/v1/stock-moves/{move.pk}/").status_code == 405
    assert StockLevel.objects.get().on_hand == 1


# --- Stock actions ------------------------------------------------------------------------------


def test_adjustment_writes_one_move_and_answers_201_with_it(worker, worker_user, bins, sku):
    receive(sku, bins[0], 10)

    response = worker.post(
        "/api/v1/stock-adjustments/",
        {
            "sku": sku.pk,
            "location": bins[0].pk,
            "quantity": -3,
            "reason": "broken in the bin",
            "reference": "CNT-7",
        },
    )

    assert response.status_code == 201
    move = StockMove.objects.get(kind=StockMove.Kind.ADJUSTMENT)
    body = response.json()
    assert (body["id"], body["quantity"], body["balance_after"], body["note"]) == (
        move.pk,
        -3,
        7,
        "broken in the bin",
    )
    assert (body["reference"], body["user"], body["location_code"]) == (
        "CNT-7",
        worker_user.pk,
        "A-01",
    )
    assert (move.user_id, move.reference) == (worker_user.pk, "CNT-7")
    assert StockLevel.objects.get(sku=sku, location=bins[0]).on_hand == 7


def test_adjustment_up_into_an_empty_bin_creates_the_level(worker, bins, sku):
    response = worker.post(
        "/api/v1/stock-adjustments/",
        {"sku": sku.pk, "location": bins[2].pk, "quantity": 4, "reason": "found"},
    )

    assert response.status_code == 201
    assert response.json()["reference"] == ""
    assert StockLevel.objects.get(sku=sku, location=bins[2]).on_hand == 4


def test_adjustment_errors_are_json_and_write_nothing(worker, warehouse, bins, sku):
    receive(sku, bins[0], 5)
    StockLevel.objects.filter(sku=sku).update(reserved=4)
    bundle = SkuFactory(code="SET-1", is_bundle=True)

    def post(**body):
        data = {"sku": sku.pk, "location": bins[0].pk, "quantity": 1, "reason": "count", **body}
        response = worker.post("/api/v1/stock-adjustments/", data)
        return response.status_code, response.json()

    assert post(quantity=-2) == (
        409,
        {
            "code": "insufficient_stock",
            "detail": f"Insufficient stock: {sku.code} at A-01: requested 2, available 1",
            "shortages": [{"sku": sku.code, "where": "A-01", "requested": 2, "available": 1}],
        },
    )
    assert post(quantity=0) == (
        400,
        {"code": "stock_error", "detail": "Quantity must not be zero."},
    )
    assert post(sku=bundle.pk) == (
        400,
        {
            "code": "stock_error",
            "detail": "SET-1 is a bundle: it holds no stock of its own; use its parts.",
        },
    )
    assert post(reason="  ") == (400, {"reason": ["This field may not be blank."]})
    assert post(location=999999) == (
        400,
        {"location": ['Invalid pk "999999" - object does not exist.']},
    )
    assert post(quantity=10**7) == (
        400,
        {"quantity": ["Ensure this value is less than or equal to 1000000."]},
    )
    assert StockMove.objects.count() == 1
    assert StockLevel.objects.get(sku=sku, location=bins[0]).on_hand == 5


def test_relocation_answers_201_with_both_moves(worker, worker_user, bins, sku):
    receive(sku, bins[0], 10)

    response = worker.post(
        "/api/v1/stock-relocations/",
        {
            "sku": sku.pk,
            "from_location": bins[0].pk,
            "to_location": bins[1].pk,
            "quantity": 4,
            "note": "replenish pick face",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert [
        (m["location_code"], m["quantity"], m["balance_after"], m["kind"], m["note"], m["user"])
        for m in (body["source"], body["destination"])
    ] == [
        ("A-01", -4, 6, "relocation", "replenish pick face", worker_user.pk),
        ("A-02", 4, 4, "relocation", "replenish pick face", worker_user.pk),
    ]
    assert dict(StockLevel.objects.filter(sku=sku).values_list("location__code", "on_hand")) == {
        "A-01": 6,
        "A-02": 4,
    }


def test_relocation_errors(worker, bins, sku):
    receive(sku, bins[0], 3)
    other_warehouse_bin = LocationFactory(warehouse=WarehouseFactory(code="LA"), code="L-01")

    def post(**body):
        data = {
            "sku": sku.pk,
            "from_location": bins[0].pk,
            "to_location": bins[1].pk,
            "quantity": 1,
            **body,
        }
        response = worker.post("/api/v1/stock-relocations/", data)
        return response.status_code, response.json()

    assert post(quantity=5) == (
        409,
        {
            "code": "insufficient_stock",
            "detail": f"Insufficient stock: {sku.code} at A-01: requested 5, available 3",
            "shortages": [{"sku": sku.code, "where": "A-01", "requested": 5, "available": 3}],
        },
    )
    assert post(to_location=bins[0].pk) == (
        400,
        {"code": "stock_error", "detail": "The source and destination bins are the same."},
    )
    assert post(to_location=other_warehouse_bin.pk) == (
        400,
        {
            "code": "stock_error",
            "detail": "Bins A-01 and L-01 are in different warehouses; use a transfer.",
        },
    )
    assert post(quantity=-1) == (
        400,
        {"quantity": ["Ensure this value is greater than or equal to 1."]},
    )
    assert StockMove.objects.count() == 1


def test_stock_actions_answer_get_with_405_to_permitted_users(worker):
    assert worker.get("/api/v1/stock-adjustments/").status_code == 405
    assert worker.get("/api/v1/stock-relocations/").status_code == 405


# --- Query budgets: as many queries for 10 rows as for a full page ---------------------------


def _scoped_worker(warehouse):
    user = UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])
    return user.pk


def _client_for(user_pk):
    # A fresh user object per request, so no permission cache carries over between requests.
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user_pk))
    return client


def _make_rows(n, warehouse):
    for i in range(n):
        location = LocationFactory(warehouse=warehouse)
        sku = SkuFactory()
        if i % 2:
            bundle = SkuFactory(is_bundle=True)
            BundleItem.objects.create(bundle=bundle, component=sku, quantity=2)
        receive(sku, location, 3)
        stock_adjust(sku=sku, location=location, quantity=-1, reason="count")


# Queries per request of a user scoped to one warehouse: 2 load its permissions; its role
# names are read once per request (User.role_names); then the count and the page. SKUs are
# not scoped but prefetch their bundle parts in 1 more query.
LIST_QUERIES = {
    "/api/v1/skus/": 2 + 1 + 1 + 1,
    "/api/v1/stock-levels/": 2 + 1 + 1 + 1,
    "/api/v1/stock-moves/": 2 + 1 + 1 + 1,
    "/api/v1/locations/": 2 + 1 + 1 + 1,
    "/api/v1/warehouses/": 2 + 1 + 1 + 1,
}
DETAIL_QUERIES = {
    "/api/v1/skus/{sku}/": 2 + 1 + 1,  # permissions, the SKU, its parts
    "/api/v1/skus/{sku}/stock/": 2 + 1 + 1 + 1 + 1,  # permissions, SKU, scope, count, page
    "/api/v1/stock-levels/{level}/": 2 + 1 + 1,  # permissions, roles, the level
}


@pytest.mark.parametrize("url", sorted(LIST_QUERIES))
def test_list_query_count_does_not_grow_with_rows(url, warehouse, django_assert_num_queries):
    user_pk = _scoped_worker(warehouse)

    _make_rows(10, warehouse)
    client = _client_for(user_pk)
    with django_assert_num_queries(LIST_QUERIES[url]):
        small = client.get(url)
    _make_rows(60, warehouse)
    client = _client_for(user_pk)
    with django_assert_num_queries(LIST_QUERIES[url]):
        full = client.get(url)

    assert small.status_code == 200
    assert full.status_code == 200
    assert len(full.json()["results"]) == (1 if url == "/api/v1/warehouses/" else 50)


@pytest.mark.parametrize("url", sorted(DETAIL_QUERIES))
def test_detail_query_count(url, warehouse, django_assert_num_queries):
    user_pk = _scoped_worker(warehouse)
    _make_rows(3, warehouse)
    level = StockLevel.objects.first()
    client = _client_for(user_pk)

    with django_assert_num_queries(DETAIL_QUERIES[url]):
        response = client.get(url.format(sku=level.sku_id, level=level.pk))

    assert response.status_code == 200


# --- Token authentication -------------------------------------------------------------------------


def test_token_authentication(warehouse):
    user = UserFactory(roles=[Role.FINANCE])
    token = Token.objects.create(user=user)
    SkuFactory(code="MUG-RED")
    client = APIClient()

    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    good = client.get("/api/v1/skus/")
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    bad = client.get("/api/v1/skus/")

    assert good.status_code == 200
    assert [r["code"] for r in good.json()["results"]] == ["MUG-RED"]
    assert bad.status_code == 401
    assert bad.headers["WWW-Authenticate"] == "Token"
    assert bad.json() == {"detail": "Invalid token."}


def test_session_authentication(warehouse):
    user = UserFactory(roles=[Role.FINANCE])
    client = APIClient()
    client.force_login(user)

    assert client.get("/api/v1/warehouses/").json()["count"] == 1


# --- SKU import and export ------------------------------------------------------------------------


def _upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_import_creates_and_updates_skus_from_a_csv(ops):
    SkuFactory(code="MUG-RED", name="Old name", weight_g=100)
    csv = b"code,name,weight_g\r\nMUG-RED,Red mug,420\r\nLID-01,Lid,30\r\n"

    response = ops.post(
        "/api/v1/skus/import/", {"file": _upload("skus.csv", csv)}, format="multipart"
    )

    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "failed": 0,
        "errors": [],
    }
    assert sorted(Sku.objects.values_list("code", "name", "weight_g")) == [
        ("LID-01", "Lid", 30),
        ("MUG-RED", "Red mug", 420),
    ]


def test_import_with_row_errors_is_400_lists_them_and_writes_nothing(ops):
    csv = b"code,name,weight_g\nMUG-RED,Red mug,heavy\n,No code,1\n"

    response = ops.post(
        "/api/v1/skus/import/", {"file": _upload("skus.csv", csv)}, format="multipart"
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == (
        "sku_import_invalid",
        "2 rows have errors; nothing was imported.",
    )
    assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (0, 0, 0, 2)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "weight_g"), (3, "code")]
    assert Sku.objects.count() == 0


def test_import_refuses_an_unreadable_file_and_a_missing_one(ops):
    pdf = ops.post(
        "/api/v1/skus/import/", {"file": _upload("skus.pdf", b"%PDF-1.4")}, format="multipart"
    )
    missing = ops.post("/api/v1/skus/import/", {}, format="multipart")

    assert pdf.status_code == 400
    assert pdf.json() == {
        "code": "sku_import_error",
        "detail": "Files of type “.pdf” cannot be imported; save the sheet as .xlsx or .csv.",
    }
    assert missing.status_code == 400
    assert missing.json() == {"file": ["No file was submitted."]}


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
def test_import_refuses_files_over_the_upload_limit_with_413(ops, settings, size):
    # Just over the limit: caught on the file's size; far over: on the request's length,
    # before the body is read.
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    content = b"code,name\n" + b"X" * (size - 10)

    response = ops.post(
        "/api/v1/skus/import/", {"file": _upload("big.csv", content)}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json() == {
        "code": "file_too_large",
        "detail": "The file is too large: the limit is 1.0 MB. Split it into smaller files.",
    }
    assert Sku.objects.count() == 0


def test_import_needs_the_import_permission(client_as):
    csv = _upload("skus.csv", b"code,name\nMUG-RED,Red mug\n")
    for role in (Role.FINANCE, Role.WAREHOUSE):
        client = client_as(UserFactory(roles=[role]))
        response = client.post("/api/v1/skus/import/", {"file": csv}, format="multipart")
        assert response.status_code == 403
    assert Sku.objects.count() == 0


def test_export_csv_with_the_list_filters(client_as):
    SkuFactory(code="MUG-RED", name="Red mug")
    SkuFactory(code="LID-01", name="Lid")
    finance = client_as(UserFactory(roles=[Role.FINANCE]))

    response = finance.get("/api/v1/skus/export/?format=csv&q=MUG")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="skus-')
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["code", "name", "name_zh"]
    assert [line.split(",")[0] for line in lines[1:]] == ["MUG-RED"]


def test_export_xlsx_by_query_and_by_suffix_and_an_unknown_format(ops):
    SkuFactory(code="MUG-RED")

    by_query = ops.get("/api/v1/skus/export/?format=xlsx")
    by_suffix = ops.get("/api/v1/skus/export.xlsx")
    unknown = ops.get("/api/v1/skus/export/?format=pdf")

    sheet = openpyxl.load_workbook(io.BytesIO(by_query.content)).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["code", "MUG-RED"]
    assert by_query["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert by_suffix.status_code == 200
    assert by_suffix.content[:2] == b"PK"  # a zip: the xlsx container
    assert unknown.status_code == 400
    assert unknown.json() == {
        "code": "sku_export_error",
        "detail": "Unknown export format “pdf”; use csv or xlsx.",
    }


def test_an_export_imports_back_unchanged(ops):
    SkuFactory(code="MUG-RED", name="Red mug", name_zh="红杯", barcode="6901234567890")
    SkuFactory(code="=SUM(A1)", name="+formula")
    exported = ops.get("/api/v1/skus/export/?format=csv").content

    response = ops.post(
        "/api/v1/skus/import/", {"file": _upload("skus.csv", exported)}, format="multipart"
    )

    assert response.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "failed": 0,
        "errors": [],
    }


def test_export_without_permission_is_refused_in_json(client_as):
    response = client_as(UserFactory()).get("/api/v1/skus/export/?format=csv")

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
