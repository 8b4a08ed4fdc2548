"""Manifest pages: the list with counts and weights, a new manifest, the scan box (added, wrong
carrier, unknown number, twice, out of scope), removing a parcel, handing over (the orders ship
and their stock is consumed), and the PDF and XLSX for the driver."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from erp.models import Role
from logistics.models import Carrier, Manifest, Shipment, ShipmentStatus
from logistics.services.handover import manifest_create, manifest_scan
from orders.models import Order, OrderStatus
from tests.factories import StoreFactory, UserFactory, WarehouseFactory
from tests.logistics.factories_ops import make_world, pool_channel
from warehouse.models import StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def packer(world):
    """A warehouse worker: scans and hands over, sees the shipments."""
    return UserFactory(username="wang", roles=[Role.WAREHOUSE])


@pytest.fixture
def manifest(world, packer):
    return manifest_create(carrier=world.carrier, warehouse=world.warehouse, user=packer)


def login(client, user):
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def scan(client, manifest, code, *, htmx=True):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("logistics:manifest-scan", args=[manifest.pk]), {"code": code}, **extra
    )


# ---------------------------------------------------------------------------- list and new


def test_the_list_shows_each_manifests_parcels_and_weight(client, world, packer, manifest):
    shipments = world.labelled(3)
    for shipment in shipments[:2]:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    yun = Carrier.objects.create(code="YUN", name="YunExpress")
    empty = manifest_create(carrier=yun, warehouse=world.warehouse)
    login(client, packer)

    response = client.get(reverse("logistics:manifest-list"))
    by_carrier = client.get(reverse("logistics:manifest-list"), {"carrier": yun.pk})
    closed = client.get(reverse("logistics:manifest-list"), {"status": "closed"})

    rows = {m.number: (m.parcel_count, str(m.weight_kg)) for m in response.context["page"]}
    assert rows == {manifest.number: (2, "0.700"), empty.number: (0, "0.000")}
    assert [m.number for m in by_carrier.context["page"]] == [empty.number]
    assert list(closed.context["page"]) == []
    assert "New manifest" in response.content.decode()


def test_the_list_query_count_does_not_grow_with_manifests(client, world, packer):
    login(client, packer)
    budgets = []
    for n in (2, 8):
        while Manifest.objects.count() < n:
            manifest_create(carrier=world.carrier, warehouse=world.warehouse)
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("logistics:manifest-list"))
        budgets.append(len(queries))
    assert budgets[0] == budgets[1]


def test_the_scan_page_query_count_does_not_grow_with_parcels(client, world, packer, manifest):
    login(client, packer)
    budgets = []
    for n in (1, 6):
        for shipment in world.labelled(n, prefix=f"P{n}-"):
            manifest_scan(manifest=manifest, code=shipment.tracking_number)
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("logistics:manifest-detail", args=[manifest.pk]))
        budgets.append(len(queries))
    assert budgets[0] == budgets[1]


def test_a_new_manifest_for_a_carrier_and_one_of_the_users_warehouses(client, world):
    elsewhere = WarehouseFactory(code="LA")
    scoped = UserFactory(roles=[Role.WAREHOUSE], warehouses=[world.warehouse])
    login(client, scoped)

    page = client.get(reverse("logistics:manifest-create"))
    refused = client.post(
        reverse("logistics:manifest-create"),
        {"carrier": world.carrier.pk, "warehouse": elsewhere.pk},
    )
    created = client.post(
        reverse("logistics:manifest-create"),
        {"carrier": world.carrier.pk, "warehouse": world.warehouse.pk},
    )

    assert list(page.context["form"].fields["warehouse"].queryset) == [world.warehouse]
    assert refused.status_code == 400
    manifest = Manifest.objects.get()
    assert (manifest.carrier, manifest.warehouse, manifest.created_by) == (
        world.carrier,
        world.warehouse,
        scoped,
    )
    assert created["Location"] == reverse("logistics:manifest-detail", args=[manifest.pk])


def test_operations_staff_may_look_but_not_scan_or_hand_over(client, world, manifest):
    shipment = world.labelled(1)[0]
    login(client, world.ops)

    page = client.get(reverse("logistics:manifest-detail", args=[manifest.pk]))

    assert page.status_code == 200
    assert 'id="scan-code"' not in page.content.decode()
    assert scan(client, manifest, shipment.tracking_number).status_code == 403
    assert client.post(reverse("logistics:manifest-close", args=[manifest.pk])).status_code == 403
    assert client.get(reverse("logistics:manifest-create")).status_code == 403


def test_a_manifest_of_another_warehouse_is_not_found(client, world, manifest):
    scoped = UserFactory(roles=[Role.WAREHOUSE], warehouses=[WarehouseFactory(code="LA")])
    login(client, scoped)

    assert client.get(reverse("logistics:manifest-detail", args=[manifest.pk])).status_code == 404
    assert client.get(reverse("logistics:manifest-pdf", args=[manifest.pk])).status_code == 404
    assert scan(client, manifest, "X").status_code == 404


# ---------------------------------------------------------------------------- scanning


def test_a_scan_adds_the_parcel_and_says_so(client, world, packer, manifest):
    shipments = world.labelled(2)
    login(client, packer)

    page = client.get(reverse("logistics:manifest-detail", args=[manifest.pk]))
    first = scan(client, manifest, shipments[0].tracking_number)
    second = scan(client, manifest, f"  {shipments[1].tracking_number}\n")

    assert 'id="scan-code"' in page.content.decode()
    assert "autofocus" in page.content.decode()
    html = second.content.decode()
    assert html.startswith('<section id="manifest-parcels"')
    assert (
        f'<div id="scan-result" hx-swap-oob="innerHTML"><div class="scan-message ok">✓ '
        f"{shipments[1].tracking_number} added (2 parcels, 0.700 kg)</div></div>"
    ) in html
    assert f"{shipments[0].tracking_number} added (1 parcel, 0.350 kg)" in first.content.decode()
    assert set(Shipment.objects.filter(manifest=manifest).values_list("pk", flat=True)) == {
        s.pk for s in shipments
    }
    assert "Hand over 2 parcels" in html


def test_a_scan_refuses_with_the_reason(client, world, packer, manifest):
    shipment = world.labelled(1)[0]
    yun = Carrier.objects.create(code="YUN", name="YunExpress")
    other = world.allocated(
        1, prefix="Y", channel=pool_channel(code="YUN-STD", carrier=yun, prefix="YT")
    )
    from logistics.services.shipments import shipments_create

    yun_shipment = shipments_create(order_ids=[other[0].pk]).created[0]
    login(client, packer)

    scan(client, manifest, shipment.tracking_number)
    twice = scan(client, manifest, shipment.tracking_number)
    wrong_carrier = scan(client, manifest, yun_shipment.tracking_number)
    unknown = scan(client, manifest, "LX999999999CN")
    empty = scan(client, manifest, "")

    def said(response) -> str:
        html = response.content.decode()
        assert '<div class="scan-message bad">✗ ' in html
        return html.split('<div class="scan-message bad">✗ ')[1].split("</div>")[0]

    assert said(twice) == f"{shipment.tracking_number} is already on this manifest."
    assert said(wrong_carrier) == (
        f"{yun_shipment.tracking_number} goes with YunExpress, not China Post."
    )
    assert said(unknown) == "No live shipment has the number LX999999999CN."
    assert said(empty) == "Scan a tracking number."
    assert Shipment.objects.filter(manifest=manifest).count() == 1


def test_a_parcel_of_a_store_outside_the_users_scope_is_unknown(client, world, manifest):
    other_store = StoreFactory(code="other", default_warehouse=world.warehouse)
    theirs = world.labelled(1, prefix="T", store=other_store)[0]
    scoped = UserFactory(roles=[Role.WAREHOUSE], stores=[world.store])
    login(client, scoped)

    response = scan(client, manifest, theirs.tracking_number)

    assert f"No live shipment has the number {theirs.tracking_number}." in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.manifest_id is None


def test_without_script_a_scan_comes_back_to_the_page_with_a_message(
    client, world, packer, manifest
):
    shipment = world.labelled(1)[0]
    login(client, packer)

    response = scan(client, manifest, shipment.tracking_number, htmx=False)

    assert response["Location"] == reverse("logistics:manifest-detail", args=[manifest.pk])
    assert texts(response) == [f"{shipment.tracking_number} added (1 parcel, 0.350 kg)"]


def test_a_parcel_can_be_taken_off_an_open_manifest(client, world, packer, manifest):
    shipments = world.labelled(2)
    for shipment in shipments:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    login(client, packer)

    response = client.post(
        reverse("logistics:manifest-remove", args=[manifest.pk]),
        {"shipment": shipments[0].pk},
        HTTP_HX_REQUEST="true",
    )

    assert f"{shipments[0].tracking_number} taken off the manifest." in response.content.decode()
    assert list(Shipment.objects.filter(manifest=manifest)) == [shipments[1]]


# ---------------------------------------------------------------------------- hand-over


def test_handing_over_ships_the_orders_and_consumes_their_stock(client, world, packer, manifest):
    shipments = world.labelled(3)
    level = StockLevel.objects.get(sku=world.sku)
    assert (level.on_hand, level.reserved) == (500, 3)
    login(client, packer)
    for shipment in shipments:
        scan(client, manifest, shipment.tracking_number)

    page = client.get(reverse("logistics:manifest-detail", args=[manifest.pk]))
    response = client.post(reverse("logistics:manifest-close", args=[manifest.pk]))

    assert "Hand 3 parcels (1.050 kg) to the China Post driver?" in page.content.decode()
    assert texts(response) == [f"Manifest {manifest.number} handed over: 3 parcels shipped."]
    manifest.refresh_from_db()
    assert manifest.status == Manifest.Status.CLOSED
    assert set(Shipment.objects.values_list("status", flat=True)) == {ShipmentStatus.SHIPPED}
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SHIPPED}
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (497, 0)
    assert StockMove.objects.filter(sku=world.sku, quantity=-1).count() == 3
    # a handed-over manifest takes no more scans
    after = client.get(reverse("logistics:manifest-detail", args=[manifest.pk]))
    assert 'id="scan-code"' not in after.content.decode()
    assert "Remove" not in after.content.decode()


def test_handing_over_an_empty_manifest_is_refused(client, packer, manifest):
    login(client, packer)

    response = client.post(reverse("logistics:manifest-close", args=[manifest.pk]))

    assert texts(response) == ["Scan at least one parcel before handing over."]
    manifest.refresh_from_db()
    assert manifest.status == Manifest.Status.OPEN


# ---------------------------------------------------------------------------- documents


def test_the_pdf_lists_the_parcels_with_a_barcode_of_the_number(
    client, world, packer, manifest, tmp_path
):
    shipments = world.labelled(3)
    for shipment in shipments:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    login(client, packer)

    response = client.get(reverse("logistics:manifest-pdf", args=[manifest.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{manifest.number}.pdf"'
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    path = tmp_path / "manifest.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for shipment in shipments:
        assert shipment.tracking_number in text
        assert Order.objects.get(pk=shipment.order_id).external_id in text
    assert manifest.number in text
    assert "China Post" in text
    assert "Received by (driver)" in text
    assert "1.050" in text
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "page")],
            check=True,
        )
        found = subprocess.run(
            ["zbarimg", "--raw", "-q", "--nodbus", str(tmp_path / "page.png")],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert manifest.number in found


def test_the_xlsx_has_a_row_per_parcel_and_escapes_formulas(client, world, packer, manifest):
    shipments = world.labelled(2)
    Order.objects.filter(pk=shipments[1].order_id).update(external_id='=HYPERLINK("http://x")')
    for shipment in shipments:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    login(client, packer)

    response = client.get(reverse("logistics:manifest-xlsx", args=[manifest.pk]))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    rows = [
        row[: max((i + 1 for i, c in enumerate(row) if c is not None), default=0)] for row in rows
    ]
    assert rows[0] == ("Manifest", manifest.number)
    assert rows[2] == ("Carrier", "China Post")
    header = rows.index(("#", "Tracking number", "Order", "Destination country", "Weight (kg)"))
    first = Order.objects.get(pk=shipments[0].order_id)
    assert rows[header + 1] == (1, shipments[0].tracking_number, first.external_id, "US", 0.35)
    assert rows[header + 2] == (
        2,
        shipments[1].tracking_number,
        '\'=HYPERLINK("http://x")',
        "US",
        0.35,
    )
    assert rows[header + 3] == ("Total", "2 parcels", None, None, 0.7)
    assert len(rows) == header + 4
