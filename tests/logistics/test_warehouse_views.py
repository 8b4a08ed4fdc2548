"""The warehouse floor pages and API: waves (list, new with its live count, detail, picklist,
labels, picked, close), the pack station driven through its htmx posts, the floor dashboard;
scopes, permissions and query budgets."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from erp.models import Role
from logistics.models import PackSession, PickWave, Shipment, ShipmentStatus
from logistics.services.picking import wave_create
from orders.models import Order, OrderStatus
from tests.factories import UserFactory
from tests.logistics.test_picking import Floor, make_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor() -> Floor:
    return make_floor()


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(floor):
    client = Client()
    client.force_login(floor.worker)
    return client


def make_waves(floor, count: int) -> list[PickWave]:
    waves = []
    for _ in range(count):
        floor.order([("MUG", 1), ("CASE", 1)], labelled=True)
        floor.order([("LAMP", 1)])
        waves.append(wave_create(warehouse=floor.warehouse, user=floor.worker))
    return waves


# ---------------------------------------------------------------------------- waves


def test_the_wave_list_reads_a_constant_number_of_queries(
    client, floor, django_assert_max_num_queries
):
    make_waves(floor, 2)
    with django_assert_max_num_queries(8):
        few = client.get(reverse("logistics:wave-list"))
    make_waves(floor, 6)
    with django_assert_max_num_queries(8):
        many = client.get(reverse("logistics:wave-list"))
    assert few.status_code == many.status_code == 200
    assert many.content.decode().count('class="code" href="/logistics/waves/') == 8
    partial = client.get(reverse("logistics:wave-list"), {"status": "open"}, **HTMX)
    assert b'id="wave-results"' in partial.content and b"<html" not in partial.content


def test_a_new_wave_from_the_form(client, floor):
    floor.order([("MUG", 1)])
    floor.order([("MUG", 2)])
    floor.order([("CASE", 1)], store=floor.other_store)

    page = client.get(reverse("logistics:wave-create"))
    assert page.status_code == 200
    assert "3</b> orders go in the wave" in page.content.decode()
    preview = client.get(
        reverse("logistics:wave-preview"),
        {
            "warehouse": floor.warehouse.pk,
            "items": "single",
            "limit": 300,
            "statuses": ["allocated", "labelled"],
        },
        **HTMX,
    )
    assert "2</b> orders go in the wave" in preview.content.decode()

    response = client.post(
        reverse("logistics:wave-create"),
        {
            "warehouse": floor.warehouse.pk,
            "items": "single",
            "store": floor.store.pk,
            "statuses": ["allocated"],
            "limit": 10,
        },
    )

    wave = PickWave.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("logistics:wave-detail", args=[wave.pk])
    assert (wave.kind, wave.order_count) == (PickWave.Kind.SINGLE, 1)
    assert wave.filters["items"] == "single" and wave.filters["store"] == "shop"
    again = client.post(
        reverse("logistics:wave-create"),
        {
            "warehouse": floor.warehouse.pk,
            "items": "single",
            "store": floor.store.pk,
            "statuses": ["allocated"],
            "limit": 10,
        },
    )
    assert again.status_code == 400
    assert "No orders of SZ match these filters" in again.content.decode()


def test_the_wave_page_prints_and_is_marked_picked(
    client, floor, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    short = floor.order([("MUG", 2)])
    keep = floor.order([("MUG", 1), ("CASE", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("logistics:wave-detail", args=[wave.pk]))
    html = page.content.decode()
    assert "保温杯" in html and "Print picklist" in html and "Print 1 label" in html

    picklist = client.get(reverse("logistics:wave-picklist", args=[wave.pk]))
    assert picklist["Content-Type"] == "application/pdf"
    assert picklist["Content-Disposition"].startswith("inline;")
    labels = client.post(reverse("logistics:wave-labels", args=[wave.pk]))
    assert labels["Content-Type"] == "application/pdf"
    wave.refresh_from_db()
    assert wave.labels_printed_at is not None

    mug_line = wave.lines.get(sku=floor.skus["MUG"])
    case_line = wave.lines.get(sku=floor.skus["CASE"])
    bad = client.post(
        reverse("logistics:wave-picked", args=[wave.pk]), {f"missing-{mug_line.pk}": "9"}
    )
    assert bad.status_code == 302
    assert PickWave.objects.get(pk=wave.pk).status == PickWave.Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("logistics:wave-picked", args=[wave.pk]),
            {f"missing-{mug_line.pk}": "1", f"missing-{case_line.pk}": "0"},
            follow=True,
        )
    html = response.content.decode()
    # slot 2 (the latest) is the two-mug order: it gives one mug up, the other goes back
    assert f"1 order was short and went back to out of stock: {short.external_id}" in html
    assert "Put back: 1 × MUG → B-01" in html
    assert Order.objects.get(pk=short.pk).status == OrderStatus.OUT_OF_STOCK
    assert Order.objects.get(pk=keep.pk).status == OrderStatus.LABELLED
    assert "short at picking" in html

    closed = client.post(reverse("logistics:wave-close", args=[wave.pk]), follow=True)
    assert "closed; its unpacked orders can go in another wave" in closed.content.decode()


def test_waves_of_other_warehouses_are_not_found(floor):
    floor.order([("MUG", 1)])
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker)
    outsider = UserFactory(roles=[Role.WAREHOUSE], warehouses=[floor.other_warehouse])
    client = Client()
    client.force_login(outsider)
    assert client.get(reverse("logistics:wave-detail", args=[wave.pk])).status_code == 404
    assert client.get(reverse("logistics:wave-picklist", args=[wave.pk])).status_code == 404
    listing = client.get(reverse("logistics:wave-list"))
    assert wave.number not in listing.content.decode()


def test_operations_staff_see_waves_but_cannot_pack(floor):
    ops = UserFactory(roles=[Role.OPERATIONS])
    client = Client()
    client.force_login(ops)
    assert client.get(reverse("logistics:wave-list")).status_code == 200
    assert client.get(reverse("logistics:pack-station")).status_code == 403
    assert client.post(reverse("logistics:pack-scan"), {"code": "x"}).status_code == 403
    assert client.post(reverse("logistics:wave-picked", args=[1])).status_code == 403


# ---------------------------------------------------------------------------- pack station


def scan(client, code: str):
    return client.post(reverse("logistics:pack-scan"), {"code": code}, **HTMX).content.decode()


def test_the_pack_station_by_its_htmx_posts(client, floor, django_capture_on_commit_callbacks):
    order = floor.order([("MUG", 2), ("CASE", 1)], labelled=True)
    page = client.get(reverse("logistics:pack-station"))
    assert page.status_code == 200
    assert 'id="pack-code"' in page.content.decode()

    html = scan(client, order.external_id)
    assert 'data-pack-outcome="ok"' in html
    assert f"Order {order.external_id}: scan its 3 units." in html
    assert "保温杯" in html and "0</b> / 3" in html

    html = scan(client, floor.skus["LAMP"].barcode)
    assert 'data-pack-outcome="bad"' in html
    assert "Wrong item: LAMP 台灯 is not in order" in html

    scan(client, floor.skus["MUG"].barcode)
    scan(client, floor.skus["MUG"].barcode)
    html = scan(client, floor.skus["MUG"].barcode)
    assert "One too many" in html
    other = floor.order([("LAMP", 1)], labelled=True)
    html = scan(client, other.external_id)
    assert f"Order {order.external_id} is not finished" in html
    html = scan(client, "CASE")
    assert "All units are in: weigh the parcel" in html
    assert 'id="pack-weight"' in html and "data-pack-focus" in html

    # a reload shows the same parcel, scans and all
    assert "3</b> / 3" in client.get(reverse("logistics:pack-station")).content.decode()

    session = PackSession.objects.get(status=PackSession.Status.OPEN)
    bad_weight = client.post(
        reverse("logistics:pack-confirm", args=[session.pk]), {"weight_g": "abc"}, **HTMX
    )
    assert "Enter the weight in grams" in bad_weight.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("logistics:pack-confirm", args=[session.pk]), {"weight_g": "705"}, **HTMX
        ).content.decode()
    assert 'data-pack-outcome="done"' in done
    label_url = reverse("logistics:pack-label", args=[session.pk])
    assert f'src="{label_url}"' in done  # printed, since the wave did not print it
    shipment = Shipment.objects.get(order=order)
    assert (shipment.status, shipment.weight_g) == (ShipmentStatus.SHIPPED, 705)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    label = client.get(label_url)
    assert label["Content-Type"] == "application/pdf"

    # Escape: set the next parcel aside
    scan(client, other.external_id)
    aside = PackSession.objects.get(status=PackSession.Status.OPEN)
    html = client.post(reverse("logistics:pack-aside", args=[aside.pk]), **HTMX).content.decode()
    assert "set aside" in html
    assert not PackSession.objects.filter(status=PackSession.Status.OPEN).exists()


def test_scanning_a_single_item_wave_packs_by_item(
    client, floor, django_capture_on_commit_callbacks
):
    first = floor.order([("MUG", 1)], labelled=True)
    floor.order([("MUG", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, items="single")

    html = scan(client, floor.skus["MUG"].barcode)
    assert "MUG is an item: scan its order or label first" in html
    html = scan(client, wave.number.lower())
    assert f"Wave {wave.number}: scan an item, its order ships" in html
    with django_capture_on_commit_callbacks(execute=True):
        html = scan(client, floor.skus["MUG"].barcode)
    assert 'data-pack-outcome="done"' in html
    assert f"Order {first.external_id} shipped" in html
    assert Order.objects.get(pk=first.pk).status == OrderStatus.SHIPPED

    left = client.post(reverse("logistics:pack-mode"), {"mode": ""}, **HTMX).content.decode()
    assert "Scan an order number or a parcel label." in left
    quick = client.post(
        reverse("logistics:pack-mode"), {"mode": "quick", "warehouse": floor.warehouse.pk}, **HTMX
    ).content.decode()
    assert "Single items of SZ" in quick
    html = scan(client, "MUG")
    assert 'data-pack-outcome="done"' in html


def test_the_pack_station_keeps_its_queries_constant(client, floor, django_assert_max_num_queries):
    small = floor.order([("MUG", 1)], labelled=True)
    big = floor.order([("MUG", 2), ("CASE", 3), ("CABLE", 1), ("LAMP", 1)], labelled=True)
    for order in (small, big):
        scan(client, order.external_id)
        with django_assert_max_num_queries(10):
            response = client.get(reverse("logistics:pack-station"))
        assert response.status_code == 200
        PackSession.objects.filter(status=PackSession.Status.OPEN).update(
            status=PackSession.Status.ABANDONED
        )
    with django_assert_max_num_queries(24):
        scan(client, big.external_id)
    with django_assert_max_num_queries(18):
        scan(client, "CASE")


# ---------------------------------------------------------------------------- dashboard


def test_the_floor_dashboard(
    client, floor, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    floor.order([("MUG", 1)], ship_by=timezone.now() - timedelta(hours=2))  # late
    floor.order([("MUG", 1)])  # no ship-by: due
    floor.order([("CASE", 1)], ship_by=timezone.now() + timedelta(days=5))  # not today
    packed = floor.order([("LAMP", 1)], labelled=True)
    wave = wave_create(warehouse=floor.warehouse, user=floor.worker, limit=1)
    scan(client, packed.external_id)
    scan(client, "LAMP")
    session = PackSession.objects.get(status=PackSession.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("logistics:pack-confirm", args=[session.pk]), {"weight_g": "600"})

    with django_assert_max_num_queries(10):
        response = client.get(reverse("logistics:warehouse-dashboard"))

    summary = response.context["summary"]
    assert summary["to_pick"] == 2
    assert summary["not_waved"] == 1
    assert summary["late"] == 1
    assert [w.number for w in summary["open_waves"]] == [wave.number]
    assert summary["packed"] == 1
    assert summary["packers"][0]["parcels"] == 1
    assert "Warehouse floor" in response.content.decode()


# ---------------------------------------------------------------------------- API


def test_the_wave_api(floor, client_as, django_capture_on_commit_callbacks):
    api = client_as(floor.worker)
    floor.order([("MUG", 2)])
    floor.order([("MUG", 1), ("CASE", 1)])

    made = api.post(
        "/api/v1/waves/", {"warehouse": floor.warehouse.pk, "items": "multi"}, format="json"
    )
    assert made.status_code == 201, made.content
    wave_id = made.json()["id"]
    assert made.json()["kind"] == "multi" and made.json()["order_count"] == 2
    listing = api.get("/api/v1/waves/", {"status": "open"}).json()
    assert [w["id"] for w in listing["results"]] == [wave_id]
    detail = api.get(f"/api/v1/waves/{wave_id}/").json()
    assert [(line["bin"], line["sku_code"], line["quantity"]) for line in detail["lines"]] == [
        ("A-01", "CASE", 1),
        ("B-01", "MUG", 3),
    ]
    assert [o["slot"] for o in detail["orders"]] == [1, 2]
    pdf = api.get(f"/api/v1/waves/{wave_id}/picklist/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    empty = api.post("/api/v1/waves/", {"warehouse": floor.warehouse.pk}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "wave_invalid"

    mug, b01 = floor.skus["MUG"].pk, floor.bins["B-01"].pk
    with django_capture_on_commit_callbacks(execute=True):
        picked = api.post(
            f"/api/v1/waves/{wave_id}/picked/",
            {"shorts": [{"sku": mug, "location": b01, "missing": 1}]},
            format="json",
        )
    assert picked.status_code == 200, picked.content
    body = picked.json()
    assert body["wave"]["status"] == "picked"
    assert len(body["short_orders"]) == 1
    assert body["shorts"][0]["missing"] == 1
    again = api.post(f"/api/v1/waves/{wave_id}/picked/", {}, format="json")
    assert again.status_code == 400 and "picked already" in again.json()["detail"]
    closed = api.post(f"/api/v1/waves/{wave_id}/close/")
    assert closed.json()["status"] == "closed"


def test_the_pack_api(floor, client_as, django_capture_on_commit_callbacks):
    api = client_as(floor.worker)
    order = floor.order([("MUG", 1), ("CASE", 1)], labelled=True)

    started = api.post("/api/v1/pack/start/", {"code": order.external_id}, format="json")
    assert started.status_code == 201, started.content
    session = started.json()
    assert session["complete"] is False
    assert {line["sku_code"]: line["expected"] for line in session["lines"]} == {
        "MUG": 1,
        "CASE": 1,
    }
    url = f"/api/v1/pack/{session['id']}"
    wrong = api.post(f"{url}/scan/", {"code": floor.skus["LAMP"].barcode}, format="json")
    assert wrong.status_code == 409 and wrong.json()["code"] == "pack_wrong_item"
    api.post(f"{url}/scan/", {"code": "MUG"}, format="json")
    extra = api.post(f"{url}/scan/", {"code": "MUG"}, format="json")
    assert extra.status_code == 409 and extra.json()["code"] == "pack_extra_unit"
    early = api.post(f"{url}/confirm/", {}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "pack_incomplete"
    last = api.post(f"{url}/scan/", {"code": floor.skus["CASE"].barcode}, format="json")
    assert last.json()["complete"] is True
    with django_capture_on_commit_callbacks(execute=True):
        done = api.post(f"{url}/confirm/", {"weight_g": 380}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["shipment"]["status"] == "shipped"
    assert done.json()["shipment"]["weight_g"] == 380
    assert done.json()["label_url"] == f"{url}/label/"
    assert api.get(f"{url}/label/")["Content-Type"] == "application/pdf"
    twice = api.post(f"{url}/confirm/", {}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "pack_busy"
    missing = api.post("/api/v1/pack/start/", {"code": "NOPE"}, format="json")
    assert missing.status_code == 404

    single = floor.order([("LAMP", 1)], labelled=True)
    with django_capture_on_commit_callbacks(execute=True):
        quick = api.post(
            "/api/v1/pack/quick/",
            {"code": "LAMP", "warehouse": floor.warehouse.pk},
            format="json",
        )
    assert quick.status_code == 200, quick.content
    assert quick.json()["session"]["order"] == single.pk
    nowhere = api.post("/api/v1/pack/quick/", {"code": "LAMP"}, format="json")
    assert nowhere.status_code == 400

    ops = client_as(UserFactory(roles=[Role.OPERATIONS]))
    assert ops.post("/api/v1/pack/start/", {"code": "x"}, format="json").status_code == 403
