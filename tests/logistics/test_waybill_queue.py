"""Carrier-API waybills bought in the background: creating shipments (page and API) queues
one purchase task per pending shipment instead of calling the carrier inside the request;
the shipment list of the new shipments reloads itself until their numbers are in; a broker
that cannot be reached falls back to buying them in the request, as before."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from logistics import tasks
from logistics.models import (
    OrderChannel,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
)
from logistics.services import shipments as shipment_service
from orders.models import Order, OrderStatus
from tests.logistics.factories_ops import fpx_channel, make_world, mock_carrier

pytestmark = pytest.mark.django_db

FPX = Path("tests/fixtures/carriers/4px")
LABEL_PDF = Path("tests/fixtures/carriers/label_100x100.pdf")


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def fpx(world) -> ShippingChannel:
    return fpx_channel()


def carrier_4px(request: httpx.Request) -> httpx.Response:
    """4PX answering in its documented shapes; each parcel gets a number of its own, and the
    order with "REFUSE" in its reference is refused for its postcode."""
    if request.url.host == "fpx-label.example.test":
        return httpx.Response(200, content=LABEL_PDF.read_bytes())
    method = request.url.params["method"]
    if method == "ds.xms.order.create":
        reference = json.loads(request.content)["ref_no"]
        if "REFUSE" in reference:
            return httpx.Response(200, content=(FPX / "create_invalid_postcode.json").read_bytes())
        body = json.loads((FPX / "create_ok.json").read_text(encoding="utf-8"))
        number = f"4PX{abs(hash(reference)) % 10**12:012d}CN"
        body["data"].update({"4px_tracking_no": number, "label_barcode": number})
        body["data"]["ref_no"] = reference
        return httpx.Response(200, json=body)
    if method == "ds.xms.label.get":
        return httpx.Response(200, content=(FPX / "label_get.json").read_bytes())
    raise AssertionError(method)


@pytest.fixture
def carrier_api(monkeypatch):
    """Every carrier connector talks to ``carrier_4px`` (no network)."""
    mock_carrier(monkeypatch, carrier_4px)


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Celery with real workers: ``delay`` only records what would be sent."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.buy_waybill_task, "delay", lambda *args: sent.append(args))
    return sent


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def create_page(client, orders, channel):
    return client.post(
        reverse("logistics:shipment-create"),
        {"create": "1", "order": [o.pk for o in orders], "channel": channel.pk},
    )


def test_the_create_page_queues_the_purchases_and_answers_at_once(
    client, world, fpx, queued, carrier_api
):
    orders = world.allocated(3, channel=fpx)
    client.force_login(world.ops)

    response = create_page(client, orders, fpx)

    shipments = list(Shipment.objects.order_by("pk"))
    assert [s.status for s in shipments] == [ShipmentStatus.PENDING] * 3
    assert queued == [(s.pk, world.ops.pk) for s in shipments]  # no carrier call in the request
    assert texts(response) == [
        "3 shipments created.",
        "3 shipments are waiting for their tracking numbers from the carrier; the list below "
        "shows them as they arrive.",
    ]
    listing = client.get(response["Location"])
    assert listing.context["waiting"] is True
    assert 'hx-trigger="every 3s"' in listing.content.decode()

    for shipment in shipments:  # the worker
        assert tasks.buy_waybill_task(shipment.pk, world.ops.pk) == ShipmentStatus.LABELLED

    listing = client.get(response["Location"], headers={"HX-Request": "true"})
    assert listing.context["waiting"] is False
    assert "every 3s" not in listing.content.decode()  # the polling stops
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.LABELLED}
    assert len({s.tracking_number for s in Shipment.objects.all()}) == 3


def test_a_refused_purchase_stops_the_polling_and_shows_why(
    client, world, fpx, queued, carrier_api
):
    orders = world.allocated(2, channel=fpx)
    client.force_login(world.ops)
    response = create_page(client, orders, fpx)
    good, refused = Shipment.objects.order_by("pk")
    Shipment.objects.filter(pk=refused.pk).update(reference=f"{refused.reference}-REFUSE")

    tasks.buy_waybill_task(good.pk, world.ops.pk)
    assert "refused" in tasks.buy_waybill_task(refused.pk, world.ops.pk)

    listing = client.get(response["Location"])
    refused.refresh_from_db()
    assert refused.status == ShipmentStatus.PENDING and refused.last_error
    assert listing.context["waiting"] is False
    assert refused.last_error[:40] in listing.content.decode()


def test_a_stalled_purchase_stops_the_polling_after_a_while(client, world, fpx, queued):
    from datetime import timedelta

    from django.utils import timezone

    from logistics.views.shipments import WAIT_FOR_NUMBERS

    orders = world.allocated(1, channel=fpx)
    client.force_login(world.ops)
    response = create_page(client, orders, fpx)
    assert client.get(response["Location"]).context["waiting"] is True

    Shipment.objects.update(created_at=timezone.now() - WAIT_FOR_NUMBERS - timedelta(seconds=1))

    assert client.get(response["Location"]).context["waiting"] is False
    assert client.get(reverse("logistics:shipment-list")).context["waiting"] is False


def test_without_a_broker_the_purchases_run_in_the_request(
    client, world, fpx, carrier_api, monkeypatch
):
    def unreachable(*args):
        raise BrokerError("Connection refused")

    monkeypatch.setattr(tasks.buy_waybill_task, "delay", unreachable)
    orders = world.allocated(2, channel=fpx)
    client.force_login(world.ops)

    response = create_page(client, orders, fpx)

    assert [s.status for s in Shipment.objects.all()] == [ShipmentStatus.LABELLED] * 2
    assert texts(response) == ["2 shipments created."]


def test_in_the_embedded_mode_the_labels_are_bought_before_the_page_answers(
    client, world, fpx, carrier_api
):
    orders = world.allocated(2, channel=fpx)
    client.force_login(world.ops)

    response = create_page(client, orders, fpx)  # eager Celery: the tasks run here

    assert [s.status for s in Shipment.objects.all()] == [ShipmentStatus.LABELLED] * 2
    assert texts(response) == ["2 shipments created."]
    assert client.get(response["Location"]).context["waiting"] is False


def test_the_api_queues_the_purchases_too(client_as, world, fpx, queued):
    orders = world.allocated(2, channel=fpx)
    OrderChannel.objects.filter(order__in=orders).update(channel=fpx)
    api = client_as(world.ops)

    response = api.post("/api/v1/shipments/", {"orders": [o.pk for o in orders]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [s["status"] for s in body["created"]] == ["pending", "pending"]
    assert sorted(pk for pk, _user in queued) == sorted(s["id"] for s in body["created"])


def test_a_queued_purchase_for_an_order_deallocated_meanwhile_buys_nothing(
    client, world, fpx, queued, monkeypatch
):
    from orders.services import orders_deallocate

    orders = world.allocated(1, channel=fpx)
    client.force_login(world.ops)
    create_page(client, orders, fpx)
    shipment = Shipment.objects.get()
    assert orders_deallocate(order_ids=[orders[0].pk]).done == [orders[0].pk]
    monkeypatch.setattr(
        shipment_service,
        "carrier_connector",
        lambda *a, **k: pytest.fail("the carrier was called for a deallocated order"),
    )

    outcome = tasks.buy_waybill_task(shipment.pk, world.ops.pk)  # the worker, later

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PENDING
    assert "approved now: no waybill bought" in outcome
    assert shipment.last_error == outcome
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.APPROVED
