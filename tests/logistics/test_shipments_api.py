"""The shipments, labels, number-pool and manifest endpoints: roles, scopes, bulk answers."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from erp.models import Role
from logistics.models import Shipment, ShipmentStatus, TrackingNumber
from orders.models import OrderStatus
from tests.factories import StoreFactory, UserFactory, WarehouseFactory
from tests.logistics.test_shipments import allocated, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ops(world):  # noqa: F811
    return UserFactory(roles=[Role.OPERATIONS], all_stores=True, all_warehouses=True)


def test_create_print_and_hand_over_through_the_api(world, ops):  # noqa: F811
    orders = [allocated(world["store"], f"A{i}") for i in range(3)]
    api = client_for(ops)
    response = api.post(
        "/api/v1/shipments/",
        {"orders": [o.pk for o in orders] + [999999], "channel": world["channel"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()["created"]
    assert [s["status"] for s in created] == ["labelled"] * 3
    assert response.json()["failed"] == {"999999": "No such order."}
    ids = ",".join(str(s["id"]) for s in created)

    pdf = api.get(f"/api/v1/shipments/labels/?ids={ids}")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages) == 3
    zpl = api.get(f"/api/v1/shipments/labels/?ids={ids}&output=zpl")
    assert zpl.content.decode().count("^XA") == 3

    warehouse_user = UserFactory(roles=[Role.WAREHOUSE], warehouses=[world["warehouse"]])
    floor = client_for(warehouse_user)
    manifest = floor.post(
        "/api/v1/manifests/",
        {"carrier": world["carrier"].pk, "warehouse": world["warehouse"].pk},
        format="json",
    )
    assert manifest.status_code == 201, manifest.content
    manifest_id = manifest.json()["id"]
    for shipment in created:
        scan = floor.post(
            f"/api/v1/manifests/{manifest_id}/scan/",
            {"code": shipment["tracking_number"]},
            format="json",
        )
        assert scan.status_code == 200, scan.content
    wrong = floor.post(f"/api/v1/manifests/{manifest_id}/scan/", {"code": "NOPE"}, format="json")
    assert wrong.status_code == 400
    assert "NOPE" in str(wrong.json())
    listed = floor.get("/api/v1/manifests/").json()["results"][0]
    assert (listed["parcels"], listed["weight_g"]) == (3, 3 * 350)
    closed = floor.post(f"/api/v1/manifests/{manifest_id}/close/")
    assert closed.status_code == 200
    assert len(closed.json()["done"]) == 3
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED


def test_roles_and_scopes(world, ops):  # noqa: F811
    order = allocated(world["store"], "B1")
    finance = client_for(UserFactory(roles=[Role.FINANCE], all_stores=True, all_warehouses=True))
    denied = finance.post("/api/v1/shipments/", {"orders": [order.pk]}, format="json")
    assert denied.status_code == 403
    assert (
        client_for(ops)
        .post(
            "/api/v1/shipments/",
            {"orders": [order.pk], "channel": world["channel"].pk},
            format="json",
        )
        .status_code
        == 201
    )
    shipment = Shipment.objects.get()
    assert finance.get(f"/api/v1/shipments/{shipment.pk}/").status_code == 200
    # a user of another warehouse and store sees nothing of it
    outsider = client_for(
        UserFactory(
            roles=[Role.OPERATIONS],
            warehouses=[WarehouseFactory(code="LA")],
            stores=[StoreFactory(code="other")],
        )
    )
    assert outsider.get(f"/api/v1/shipments/{shipment.pk}/").status_code == 404
    assert outsider.get("/api/v1/shipments/").json()["count"] == 0
    labels = outsider.get(f"/api/v1/shipments/labels/?ids={shipment.pk}")
    assert labels.status_code == 400
    voided = outsider.post("/api/v1/shipments/void/", {"ids": [shipment.pk]}, format="json")
    assert voided.json()["failed"] == {str(shipment.pk): "No such shipment."}
    assert APIClient().get("/api/v1/shipments/").status_code in (401, 403)


def test_void_and_pool_load(world, ops):  # noqa: F811
    order = allocated(world["store"], "C1")
    api = client_for(ops)
    api.post(
        "/api/v1/shipments/", {"orders": [order.pk], "channel": world["channel"].pk}, format="json"
    )
    shipment = Shipment.objects.get()
    result = api.post(
        "/api/v1/shipments/void/", {"ids": [shipment.pk], "reason": "Re-weigh"}, format="json"
    ).json()
    assert result == {"done": [shipment.pk], "failed": {}}
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.VOIDED
    loaded = api.post(
        "/api/v1/tracking-numbers/load/",
        {"channel": world["channel"].pk, "numbers": ["RR000000001CN", "RR000000777CN"]},
        format="json",
    ).json()
    assert loaded == {"added": 1, "already_there": 1}
    assert TrackingNumber.objects.filter(number="RR000000777CN").exists()


def test_labels_come_as_the_channel_prints_them(world, ops):  # noqa: F811
    from logistics.models import LabelFormat

    orders = [allocated(world["store"], f"Z{i}") for i in range(2)]
    api = client_for(ops)
    api.post(
        "/api/v1/shipments/",
        {"orders": [o.pk for o in orders], "channel": world["channel"].pk},
        format="json",
    )
    ids = ",".join(str(pk) for pk in Shipment.objects.values_list("pk", flat=True))
    assert api.get(f"/api/v1/shipments/labels/?ids={ids}")["Content-Type"] == "application/pdf"
    world["channel"].label_format = LabelFormat.ZPL
    world["channel"].save()
    thermal = api.get(f"/api/v1/shipments/labels/?ids={ids}")
    assert thermal["Content-Type"].startswith("text/plain")
    assert thermal.content.decode().count("^XA") == 2
    # asked for by name, PDF still comes
    pdf = api.get(f"/api/v1/shipments/labels/?ids={ids}&output=pdf")
    assert pdf["Content-Type"] == "application/pdf"
