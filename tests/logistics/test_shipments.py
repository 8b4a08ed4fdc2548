"""Shipments from allocated orders: tracking numbers from a pool or typed in, customs lines,
void and re-create, manifests that ship the orders, platform confirmation with backoff, and
tracking events stored once."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from pypdf import PdfReader

from logistics.models import (
    Carrier,
    ConnectorKind,
    CustomsLine,
    Manifest,
    OrderChannel,
    RateCardRow,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
    TrackingEvent,
    TrackingNumber,
    TrackingSource,
)
from logistics.services.handover import (
    CONFIRM_BACKOFF_MINUTES,
    ManifestError,
    confirm_due,
    manifest_close,
    manifest_create,
    manifest_scan,
    stale_shipments,
)
from logistics.services.labels import write_labels_pdf
from logistics.services.pool import pool_free_count, pool_load
from logistics.services.shipments import (
    ShipmentError,
    shipment_set_tracking,
    shipments_create,
    shipments_void,
)
from logistics.types import TrackingStatus
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import orders_allocate, orders_approve, orders_cancel, orders_upsert
from tests.factories import (
    BundleItemFactory,
    LocationFactory,
    SkuFactory,
    StoreFactory,
    UserFactory,
    WarehouseFactory,
    normalized_order,
)
from tests.logistics.factories_ops import fpx_channel
from warehouse.models import StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    warehouse = WarehouseFactory(code="SZ", name="Shenzhen", address="Bao'an District\nShenzhen")
    near = LocationFactory(warehouse=warehouse, code="A-01", pick_sequence=1)
    far = LocationFactory(warehouse=warehouse, code="Z-99", pick_sequence=99)
    mug = SkuFactory(
        code="MUG",
        name="Mug",
        name_zh="马克杯",
        weight_g=350,
        declared_name_en="Ceramic mug",
        declared_name_zh="陶瓷杯",
        hs_code="691200",
        declared_value_usd=Decimal("4.50"),
    )
    lamp = SkuFactory(code="LAMP", name="Lamp", weight_g=500, declared_value_usd=Decimal("0"))
    from warehouse.services import stock_receive

    stock_receive(sku=mug, location=near, quantity=50, unit_cost=Decimal("3"))
    stock_receive(sku=lamp, location=far, quantity=50, unit_cost=Decimal("8"))
    carrier = Carrier.objects.create(
        code="CNPOST", name="China Post", tracking_url="https://t.example/{number}"
    )
    channel = ShippingChannel.objects.create(
        carrier=carrier,
        code="CNPOST-REG",
        service_code="REG",
        name="China Post registered",
        tracking_source=TrackingSource.POOL,
        is_postal=True,
        max_weight_g=2000,
    )
    RateCardRow.objects.create(
        channel=channel,
        country="*",
        weight_from_g=0,
        weight_to_g=2000,
        first_weight_g=100,
        first_price=Decimal("10"),
        additional_unit_g=100,
        additional_price=Decimal("2"),
        registration_fee=Decimal("8"),
    )
    pool_load(channel=channel, numbers=[f"RR{n:09d}CN" for n in range(1, 6)])
    store = StoreFactory(platform="manual", code="shop", default_warehouse=warehouse)
    return {
        "warehouse": warehouse,
        "mug": mug,
        "lamp": lamp,
        "carrier": carrier,
        "channel": channel,
        "store": store,
        "user": UserFactory(),
    }


def allocated(store, external_id: str, lines=(("MUG", 1, "10"),)) -> Order:
    result = orders_upsert(
        store=store, orders=[normalized_order(external_id, list(lines))], source="manual"
    )
    pk = result.order_ids[0]
    orders_approve(order_ids=[pk])
    assert orders_allocate(order_ids=[pk]).done == [pk]
    return Order.objects.get(pk=pk)


def test_a_pool_channel_labels_the_order_and_declares_customs(world):
    order = allocated(world["store"], "1001", [("MUG", 2, "10"), ("LAMP", 1, "20")])
    result = shipments_create(order_ids=[order.pk], channel=world["channel"], user=world["user"])
    assert result.failed == {}
    shipment = result.created[0]
    assert shipment.status == ShipmentStatus.LABELLED
    assert shipment.tracking_number == "RR000000001CN"
    assert shipment.weight_g == 2 * 350 + 500
    # 1,200 g: 10 for the first 100 g, 11 more units of 100 g at 2, registration 8
    assert shipment.estimated_cost == Decimal("40.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.LABELLED
    lines = {line.sku.code: line for line in CustomsLine.objects.filter(shipment=shipment)}
    assert (lines["MUG"].name_en, lines["MUG"].name_zh) == ("Ceramic mug", "陶瓷杯")
    assert (lines["MUG"].quantity, lines["MUG"].hs_code) == (2, "691200")
    # a zero declared value is never declared: customs refuse it
    assert lines["LAMP"].unit_value == Decimal("1.00")
    assert pool_free_count(world["channel"]) == 4


def test_bundles_are_declared_as_their_parts(world):
    kit = SkuFactory(code="KIT", is_bundle=True)
    BundleItemFactory(bundle=kit, component=world["mug"], quantity=2)
    BundleItemFactory(bundle=kit, component=world["lamp"], quantity=1)
    order = allocated(world["store"], "1002", [("KIT", 1, "30")])
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    declared = dict(shipment.customs_lines.values_list("sku__code", "quantity"))
    assert declared == {"MUG": 2, "LAMP": 1}


def test_the_channel_chosen_for_the_order_is_used_when_none_is_given(world):
    order = allocated(world["store"], "1003")
    # a rule (or a person) chose it when the order was allocated
    OrderChannel.objects.update_or_create(order=order, defaults={"channel": world["channel"]})
    shipment = shipments_create(order_ids=[order.pk]).created[0]
    assert shipment.channel == world["channel"]


def test_an_empty_pool_refuses_and_writes_nothing(world):
    TrackingNumber.objects.all().delete()
    order = allocated(world["store"], "1004")
    result = shipments_create(order_ids=[order.pk], channel=world["channel"])
    assert "pool" in result.failed[order.pk]
    assert not Shipment.objects.exists()
    assert not CustomsLine.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_only_allocated_orders_without_a_live_shipment(world):
    order = allocated(world["store"], "1005")
    shipments_create(order_ids=[order.pk], channel=world["channel"])
    again = shipments_create(order_ids=[order.pk, 987654], channel=world["channel"])
    assert again.created == []
    assert "labelled" in again.failed[order.pk]
    assert again.failed[987654] == "No such order."


def test_an_ineligible_channel_is_refused_with_its_reasons(world):
    world["channel"].max_weight_g = 300
    world["channel"].save()
    order = allocated(world["store"], "1006")  # 350 g
    result = shipments_create(order_ids=[order.pk], channel=world["channel"])
    assert "CNPOST-REG" in result.failed[order.pk]
    assert "300" in result.failed[order.pk]


def test_a_manual_channel_takes_a_typed_number(world):
    channel = ShippingChannel.objects.create(
        carrier=world["carrier"],
        code="EMS",
        service_code="EMS",
        name="EMS",
        tracking_source=TrackingSource.MANUAL,
    )
    RateCardRow.objects.create(channel=channel, country="*", weight_to_g=2000, first_price=5)
    first = allocated(world["store"], "1007")
    second = allocated(world["store"], "1008")
    result = shipments_create(
        order_ids=[first.pk, second.pk],
        channel=channel,
        tracking_numbers={first.pk: " EE123456789CN "},
    )
    assert [s.tracking_number for s in result.created] == ["EE123456789CN"]
    assert "Type the tracking number" in result.failed[second.pk]


def test_void_sends_the_order_back_and_a_new_shipment_gets_a_new_reference(world):
    order = allocated(world["store"], "1009")
    first = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    result = shipments_void(shipment_ids=[first.pk], reason="Wrong channel")
    assert result.voided == [first.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    first.refresh_from_db()
    assert (first.status, first.void_reason) == (ShipmentStatus.VOIDED, "Wrong channel")
    # the used number is not handed out again: carriers don't reuse them
    assert TrackingNumber.objects.get(number=first.tracking_number).used_at is not None
    second = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    assert second.reference != first.reference
    assert second.tracking_number != first.tracking_number
    assert shipments_void(shipment_ids=[first.pk]).failed[first.pk].startswith("A voided")


def test_cancelling_an_order_voids_its_label(world, django_capture_on_commit_callbacks):
    order = allocated(world["store"], "1010")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    with django_capture_on_commit_callbacks(execute=True):
        orders_cancel(order_ids=[order.pk], reason="Buyer cancelled")
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.VOIDED
    assert order.status == OrderStatus.CANCELLED
    assert not StockLevel.objects.filter(reserved__gt=0).exists()


def test_typing_the_number_of_a_pending_shipment(world):
    order = allocated(world["store"], "1011")
    world["channel"].tracking_source = TrackingSource.CARRIER
    world["channel"].save()
    world["carrier"].connector = ConnectorKind.MANUAL
    world["carrier"].save()
    result = shipments_create(order_ids=[order.pk], channel=world["channel"])
    shipment = result.created[0]
    assert shipment.status == ShipmentStatus.PENDING
    with pytest.raises(ShipmentError):
        shipment_set_tracking(shipment=shipment, tracking_number=" ", user=None)
    shipment = shipment_set_tracking(shipment=shipment, tracking_number="LX1CN", user=None)
    assert shipment.status == ShipmentStatus.LABELLED
    order.refresh_from_db()
    assert order.status == OrderStatus.LABELLED


def test_pool_load_is_idempotent_and_names_a_bad_line(world):
    again = pool_load(channel=world["channel"], numbers=["RR000000001CN", "RR000000099CN", ""])
    assert (again.added, again.duplicates) == (1, 1)
    with pytest.raises(ShipmentError, match="Line 2"):
        pool_load(channel=world["channel"], numbers=["RR000000100CN", "bad number!"])
    assert not TrackingNumber.objects.filter(number="RR000000100CN").exists()


# ------------------------------------------------------------------ manifests


def test_a_manifest_ships_its_orders_and_consumes_their_stock(world):
    orders = [allocated(world["store"], f"20{i}") for i in range(3)]
    created = shipments_create(order_ids=[o.pk for o in orders], channel=world["channel"]).created
    manifest = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    assert manifest.number.startswith("M") and manifest.number.endswith("-SZ-001")
    for shipment in created[:2]:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    with pytest.raises(ManifestError, match="already on this manifest"):
        manifest_scan(manifest=manifest, code=created[0].tracking_number)
    with pytest.raises(ManifestError, match="No live shipment"):
        manifest_scan(manifest=manifest, code="NOPE")
    other = Carrier.objects.create(code="YUN", name="YunExpress")
    other_manifest = manifest_create(carrier=other, warehouse=world["warehouse"])
    with pytest.raises(ManifestError, match="goes with China Post"):
        manifest_scan(manifest=other_manifest, code=created[2].tracking_number)

    result = manifest_close(manifest=manifest, user=world["user"])
    assert sorted(result.shipped) == sorted(s.pk for s in created[:2])
    manifest.refresh_from_db()
    assert manifest.status == Manifest.Status.CLOSED
    for order in orders[:2]:
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED
    orders[2].refresh_from_db()
    assert orders[2].status == OrderStatus.LABELLED
    shipped_moves = StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT)
    assert shipped_moves.count() == 2
    assert {m.unit_cost for m in shipped_moves} == {Decimal("3")}
    level = StockLevel.objects.get(sku=world["mug"])
    assert (level.on_hand, level.reserved) == (48, 1)
    with pytest.raises(ManifestError, match="already handed over"):
        manifest_scan(manifest=manifest, code=created[2].tracking_number)
    # a shipped parcel cannot be voided
    assert shipments_void(shipment_ids=[created[0].pk]).failed


def test_an_empty_manifest_cannot_be_handed_over(world):
    manifest = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    with pytest.raises(ManifestError, match="at least one"):
        manifest_close(manifest=manifest)


# ------------------------------------------------------------------ platform confirmation


def shopify_store(world, **kwargs):
    return StoreFactory(
        platform="shopify",
        code="shopify-eu",
        site="caravan-demo.myshopify.com",
        default_warehouse=world["warehouse"],
        credentials={"access_token": "shpat_test"},
        **kwargs,
    )


def test_virtual_ship_confirms_at_label_and_retries_with_backoff(world):
    store = shopify_store(world, virtual_ship=True)
    order = allocated(store, "5001")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    assert shipment.platform_next_attempt_at is not None

    calls = []

    def refusing(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})

    now = timezone.now()
    counts = confirm_due(now=now, transport=httpx.MockTransport(refusing), sleep=lambda s: None)
    assert counts["failed"] == 1
    shipment.refresh_from_db()
    assert shipment.platform_attempts == 1
    assert "Invalid API key" in shipment.platform_error
    assert shipment.platform_next_attempt_at == now + timedelta(minutes=CONFIRM_BACKOFF_MINUTES[0])
    assert OrderEvent.objects.filter(order=order, message__contains="refused").exists()
    # not due yet: nothing is sent
    assert confirm_due(now=now, transport=httpx.MockTransport(refusing))["failed"] == 0

    def accepting(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/fulfillment_orders.json"):
            return httpx.Response(
                200,
                json={
                    "fulfillment_orders": [
                        {
                            "id": 1046000778,
                            "status": "open",
                            "line_items": [{"id": 1, "fulfillable_quantity": 1}],
                        }
                    ]
                },
            )
        body = json.loads(request.content)
        assert body["fulfillment"]["tracking_info"]["number"] == shipment.tracking_number
        return httpx.Response(201, json={"fulfillment": {"id": 255858046, "status": "success"}})

    later = now + timedelta(minutes=2)
    assert confirm_due(now=later, transport=httpx.MockTransport(accepting))["confirmed"] == 1
    shipment.refresh_from_db()
    assert shipment.platform_confirmed_at == later
    assert shipment.platform_error == ""
    assert shipment.platform_next_attempt_at is None


def test_overlapping_confirmation_runs_tell_the_platform_once(world, monkeypatch):
    """Beat and a pack-station nudge may run at once: the second run finds the shipment
    claimed by the first (which is still waiting for the platform) and leaves it alone."""
    from logistics.services import handover

    store = shopify_store(world, virtual_ship=True)
    order = allocated(store, "5003")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    told, nested = [], []

    def platform(order, **kwargs):
        told.append(order.pk)
        nested.append(confirm_due())  # another worker's run, while this one waits
        return True

    monkeypatch.setattr(handover, "order_confirm_on_platform", platform)
    counts = confirm_due()
    assert told == [order.pk]
    assert counts["confirmed"] == 1
    assert nested == [{"confirmed": 0, "failed": 0, "skipped": 0, "taken": 0}]
    shipment.refresh_from_db()
    assert shipment.platform_confirmed_at is not None
    assert shipment.platform_next_attempt_at is None


def test_a_claim_of_a_run_that_died_expires(world, monkeypatch):
    from logistics.services import handover

    store = shopify_store(world, virtual_ship=True)
    order = allocated(store, "5004")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]

    def dies(order, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(handover, "order_confirm_on_platform", dies)
    now = timezone.now()
    with pytest.raises(RuntimeError):
        confirm_due(now=now)
    monkeypatch.setattr(handover, "order_confirm_on_platform", lambda order, **kw: True)
    assert confirm_due(now=now + timedelta(minutes=1))["confirmed"] == 0  # still claimed
    assert confirm_due(now=now + handover.CONFIRM_LEASE)["confirmed"] == 1
    shipment.refresh_from_db()
    assert shipment.platform_confirmed_at is not None


def test_a_manual_store_has_nothing_to_confirm(world):
    order = allocated(world["store"], "5002")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    manifest = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    manifest_scan(manifest=manifest, code=shipment.tracking_number)
    manifest_close(manifest=manifest)
    counts = confirm_due()
    assert counts["skipped"] == 1
    shipment.refresh_from_db()
    assert shipment.platform_confirmed_at is None
    assert shipment.platform_next_attempt_at is None
    assert "by hand" in shipment.platform_error


# ------------------------------------------------------------------ tracking


def test_stale_parcels_are_those_without_movement(world):
    orders = [allocated(world["store"], f"60{i}") for i in range(2)]
    created = shipments_create(order_ids=[o.pk for o in orders], channel=world["channel"]).created
    manifest = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    for shipment in created:
        manifest_scan(manifest=manifest, code=shipment.tracking_number)
    manifest_close(manifest=manifest)
    old = timezone.now() - timedelta(days=10)
    Shipment.objects.filter(pk=created[0].pk).update(shipped_at=old)
    Shipment.objects.filter(pk=created[1].pk).update(shipped_at=old, last_event_at=timezone.now())
    TrackingEvent.objects.create(
        shipment=created[1],
        at=datetime(2026, 11, 1, tzinfo=UTC),
        status=TrackingStatus.IN_TRANSIT,
        description="Departed",
    )
    assert list(stale_shipments(days=7)) == [created[0]]
    Shipment.objects.filter(pk=created[0].pk).update(tracking_status=TrackingStatus.DELIVERED)
    assert list(stale_shipments(days=7)) == []


# ------------------------------------------------------------------ labels


def test_labels_come_in_pick_order_as_one_pdf(world):
    far_first = allocated(world["store"], "7001", [("LAMP", 1, "20")])  # bin Z-99
    near_second = allocated(world["store"], "7002", [("MUG", 1, "10")])  # bin A-01
    created = shipments_create(
        order_ids=[far_first.pk, near_second.pk], channel=world["channel"]
    ).created
    out = io.BytesIO()
    count = write_labels_pdf([s.pk for s in created], out)
    assert count == 2
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 2
    first_page = reader.pages[0].extract_text()
    by_order = {s.order_id: s.tracking_number for s in created}
    assert by_order[near_second.pk] in first_page


# ------------------------------------------------------------------ carrier purchase

FPX = Path("tests/fixtures/carriers/4px")


def test_a_retried_purchase_never_buys_twice_and_keeps_the_label_as_it_came(world):
    channel = fpx_channel()
    label_pdf = Path("tests/fixtures/carriers/label_100x100.pdf").read_bytes()
    seen = {"create": 0, "orders_at_carrier": 0}

    def carrier(request: httpx.Request) -> httpx.Response:
        if request.url.host == "fpx-label.example.test":
            return httpx.Response(200, content=label_pdf)
        method = request.url.params["method"]
        if method == "ds.xms.order.create":
            seen["create"] += 1
            if seen["create"] == 1:
                # the carrier created the order, but the answer never arrived
                seen["orders_at_carrier"] += 1
                raise httpx.ReadTimeout("timed out", request=request)
            return httpx.Response(200, content=(FPX / "create_duplicate.json").read_bytes())
        if method == "ds.xms.order.get":
            # the order the first, lost call created: under our reference
            asked = json.loads(request.content)["request_no"]
            body = (FPX / "order_get.json").read_text(encoding="utf-8")
            return httpx.Response(200, text=body.replace("SHP-2025-0001", asked))
        if method == "ds.xms.label.get":
            return httpx.Response(200, content=(FPX / "label_get.json").read_bytes())
        raise AssertionError(method)

    order = allocated(world["store"], "8001")
    from logistics.services.shipments import shipment_buy_waybill

    result = shipments_create(order_ids=[order.pk], channel=channel, buy=False)
    shipment = result.created[0]
    assert shipment.status == ShipmentStatus.PENDING
    transport = httpx.MockTransport(carrier)
    shipment = shipment_buy_waybill(shipment.pk, transport=transport, sleep=lambda s: None)
    assert seen["orders_at_carrier"] == 1
    assert shipment.status == ShipmentStatus.LABELLED
    assert shipment.tracking_number == "4PX3001289946250CN"
    assert shipment.carrier_reference == "OC91260503000001"
    with shipment.label_file.open("rb") as handle:
        assert handle.read() == label_pdf
    order.refresh_from_db()
    assert order.status == OrderStatus.LABELLED
    # asking again does not call the carrier at all
    calls_before = seen["create"]
    shipment_buy_waybill(shipment.pk, transport=transport)
    assert seen["create"] == calls_before
    # a carrier label prints as it came, merged into the batch
    out = io.BytesIO()
    write_labels_pdf([shipment.pk], out)
    assert out.getvalue().startswith(b"%PDF")


def test_a_carrier_refusal_is_kept_on_the_pending_shipment(world):
    channel = fpx_channel()

    def refusing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=(FPX / "create_invalid_postcode.json").read_bytes())

    order = allocated(world["store"], "8002")
    shipment = shipments_create(order_ids=[order.pk], channel=channel, buy=False).created[0]
    from logistics.services.shipments import shipment_buy_waybill

    with pytest.raises(ShipmentError, match="4PX refused"):
        shipment_buy_waybill(shipment.pk, transport=httpx.MockTransport(refusing))
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PENDING
    assert shipment.last_error
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_the_order_page_shows_a_platform_refusal(world, client):
    from erp.models import Role

    store = shopify_store(world, virtual_ship=True)
    order = allocated(store, "5003")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]

    def refusing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})

    confirm_due(transport=httpx.MockTransport(refusing), sleep=lambda s: None)
    client.force_login(UserFactory(roles=[Role.OPERATIONS], all_stores=True, all_warehouses=True))
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert shipment.tracking_number in page
    assert "Platform refused (1 try)" in page
    assert "Invalid API key" in page


def test_a_parcel_shipped_at_the_pack_station_goes_on_a_manifest_once(world):
    order = allocated(world["store"], "9001")
    shipment = shipments_create(order_ids=[order.pk], channel=world["channel"]).created[0]
    from orders.services import orders_ship

    # the pack station ships it (stock consumed) before the driver comes
    orders_ship(order_ids=[order.pk])
    Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.SHIPPED)
    manifest = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    manifest_scan(manifest=manifest, code=shipment.tracking_number)
    result = manifest_close(manifest=manifest)
    assert result.shipped == [shipment.pk]
    # consumed once, at packing
    assert StockMove.objects.filter(kind=StockMove.Kind.SHIPMENT).count() == 1
    other = manifest_create(carrier=world["carrier"], warehouse=world["warehouse"])
    with pytest.raises(ManifestError, match="not waiting for handover"):
        manifest_scan(manifest=other, code=shipment.tracking_number)
