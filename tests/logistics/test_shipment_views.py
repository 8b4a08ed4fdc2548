"""Shipment pages: the list (filters, query budget, scope), bulk printing (inline PDF, a
background batch past the limit, ZPL), void and retries, the shipment page and its tracking
number form, and creating shipments from ticked orders."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from erp.models import Role
from logistics.models import (
    Carrier,
    CustomsLine,
    LabelBatch,
    OrderChannel,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from logistics.services import labels as label_service
from orders.models import Order, OrderStatus
from tests.factories import StoreFactory, UserFactory, WarehouseFactory
from tests.logistics.factories_ops import make_world, manual_channel, pool_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def login(client, user):
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def listed(response) -> list[str]:
    return [s.tracking_number for s in response.context["page"].object_list]


def bulk(client, action, shipments, **extra):
    return client.post(
        reverse("logistics:shipment-bulk"),
        {"action": action, "shipment": [s.pk for s in shipments], **extra},
    )


def pages(response) -> int:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return len(PdfReader(io.BytesIO(content)).pages)


# ---------------------------------------------------------------------------- the list


def test_list_shows_the_shipments_and_filters_them(client, world):
    labelled = world.labelled(3)
    yun = Carrier.objects.create(code="YUN", name="YunExpress")
    other = world.allocated(
        1, prefix="Y", channel=pool_channel(code="YUN-STD", carrier=yun, prefix="YT")
    )
    from logistics.services.shipments import shipments_create

    yun_shipment = shipments_create(order_ids=[other[0].pk], user=world.ops).created[0]
    Shipment.objects.filter(pk=labelled[0].pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    login(client, world.ops)

    everything = client.get(reverse("logistics:shipment-list"))
    by_carrier = client.get(reverse("logistics:shipment-list"), {"carrier": yun.pk})
    by_number = client.get(
        reverse("logistics:shipment-list"), {"q": labelled[1].tracking_number.lower()}
    )
    by_order = client.get(reverse("logistics:shipment-list"), {"q": other[0].external_id})
    recent = client.get(
        reverse("logistics:shipment-list"),
        {"created_after": (timezone.localdate() - timedelta(days=1)).isoformat()},
    )
    voided = client.get(reverse("logistics:shipment-list"), {"status": "voided"})
    fresh = client.get(reverse("logistics:shipment-list"), {"ids": f"{labelled[2].pk}"})

    assert everything.status_code == 200
    assert len(listed(everything)) == 4
    assert listed(by_carrier) == [yun_shipment.tracking_number]
    assert listed(by_number) == [labelled[1].tracking_number]
    assert listed(by_order) == [yun_shipment.tracking_number]
    assert labelled[0].tracking_number not in listed(recent)
    assert len(listed(recent)) == 3
    assert listed(voided) == []
    assert listed(fresh) == [labelled[2].tracking_number]
    assert "Showing the shipment just created." in fresh.content.decode()
    html = everything.content.decode()
    assert "Print labels (PDF)" in html
    assert "Void…" in html


def test_list_sorts_and_answers_htmx_with_the_results_only(client, world):
    shipments = world.labelled(3)
    Shipment.objects.filter(pk=shipments[0].pk).update(weight_g=2000)
    login(client, world.ops)

    response = client.get(
        reverse("logistics:shipment-list"), {"ordering": "-weight"}, HTTP_HX_REQUEST="true"
    )

    assert listed(response)[0] == shipments[0].tracking_number
    html = response.content.decode()
    assert html.startswith('<div id="shipment-results"')
    assert 'name="ordering" value="-weight"' in html  # the filter form keeps the sort


def test_list_query_count_is_the_same_for_5_and_30_shipments(
    client, world, django_assert_max_num_queries
):
    login(client, world.ops)
    budgets = []
    for n in (5, 25):
        world.labelled(n, prefix=f"Q{n}-")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("logistics:shipment-list"))
        assert response.status_code == 200
        budgets.append(len(queries))
    assert len(listed(response)) == 30
    assert budgets[0] == budgets[1]
    with django_assert_max_num_queries(budgets[1]):
        client.get(reverse("logistics:shipment-list"))


def test_shipments_outside_the_users_scope_are_not_found(client, world):
    mine = world.labelled(1)[0]
    other_store = StoreFactory(code="other", default_warehouse=world.warehouse)
    theirs = world.labelled(1, prefix="T", store=other_store)[0]
    store_scoped = UserFactory(roles=[Role.OPERATIONS], stores=[world.store])
    warehouse_scoped = UserFactory(
        roles=[Role.OPERATIONS], warehouses=[WarehouseFactory(code="LA")]
    )

    login(client, store_scoped)
    listing = client.get(reverse("logistics:shipment-list"))
    theirs_page = client.get(reverse("logistics:shipment-detail", args=[theirs.pk]))
    mine_page = client.get(reverse("logistics:shipment-detail", args=[mine.pk]))
    label = client.get(reverse("logistics:shipment-labels"), {"ids": str(theirs.pk)})
    void = bulk(client, "void", [theirs])
    login(client, warehouse_scoped)
    other_warehouse = client.get(reverse("logistics:shipment-detail", args=[mine.pk]))

    assert listed(listing) == [mine.tracking_number]
    assert (theirs_page.status_code, mine_page.status_code) == (404, 200)
    assert label.status_code == 404
    assert f"shipment #{theirs.pk}: No such shipment." in texts(void)
    theirs.refresh_from_db()
    assert theirs.status == ShipmentStatus.LABELLED
    assert other_warehouse.status_code == 404


def test_a_viewer_may_look_but_not_print_or_void(client, world):
    shipment = world.labelled(1)[0]
    finance = UserFactory(roles=[Role.FINANCE])
    login(client, finance)

    page = client.get(reverse("logistics:shipment-list"))

    assert page.status_code == 200
    assert "Print labels (PDF)" not in page.content.decode()
    assert bulk(client, "print", [shipment]).status_code == 403
    assert bulk(client, "void", [shipment]).status_code == 403
    assert client.get(reverse("logistics:shipment-create")).status_code == 403


# ---------------------------------------------------------------------------- printing


def test_printing_ticked_shipments_downloads_one_pdf_page_each(client, world):
    shipments = world.labelled(3)
    login(client, world.ops)

    response = bulk(client, "print", shipments)
    a4 = bulk(client, "print_a4", shipments)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="labels-')
    assert pages(response) == 3
    assert a4["Content-Type"] == "application/pdf"
    assert pages(a4) == 1  # several labels on an A4 sheet
    assert LabelBatch.objects.count() == 0


def test_more_labels_than_the_inline_limit_render_as_a_batch_with_progress(
    client, world, monkeypatch
):
    monkeypatch.setattr(label_service, "INLINE_LIMIT", 2)
    shipments = world.labelled(3)
    login(client, world.ops)

    response = bulk(client, "print", shipments, next="/logistics/shipments/?status=labelled")

    batch = LabelBatch.objects.get()
    assert (batch.total, batch.created_by) == (3, world.ops)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("logistics:label-batch", args=[batch.pk]))
    # Celery runs eagerly here: the batch is done by the time the page shows
    page = client.get(response["Location"])
    progress = client.get(reverse("logistics:label-batch", args=[batch.pk]), HTTP_HX_REQUEST="true")
    download = client.get(reverse("logistics:label-batch-file", args=[batch.pk]))
    assert "3 labels are ready." in page.content.decode()
    assert 'href="/logistics/shipments/?status=labelled"' in page.content.decode()
    assert progress.content.decode().startswith('<div id="label-batch"')
    assert "every 1s" not in progress.content.decode()
    assert download["Content-Type"] == "application/pdf"
    assert pages(download) == 3
    # a large A4 print is a batch too, on A4 sheets: 100x100 labels four to a page
    a4 = bulk(client, "print_a4", shipments)
    a4_batch = LabelBatch.objects.exclude(pk=batch.pk).get()
    assert a4_batch.sheet == "a4"
    assert a4["Location"].startswith(reverse("logistics:label-batch", args=[a4_batch.pk]))
    sheets = client.get(reverse("logistics:label-batch-file", args=[a4_batch.pk]))
    assert pages(sheets) == 1
    # someone else's batch is not found
    login(client, UserFactory(roles=[Role.OPERATIONS]))
    assert client.get(reverse("logistics:label-batch", args=[batch.pk])).status_code == 404


def test_a_running_batch_polls_every_second_and_shows_its_progress(client, world):
    shipment = world.labelled(1)[0]
    batch = LabelBatch.objects.create(
        shipment_ids=[shipment.pk],
        total=120,
        done_count=40,
        created_by=world.ops,
        status=LabelBatch.Status.RUNNING,
    )
    login(client, world.ops)

    response = client.get(reverse("logistics:label-batch", args=[batch.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "Rendering labels: 40 of 120…" in html
    assert client.get(reverse("logistics:label-batch-file", args=[batch.pk])).status_code == 404


def test_zpl_downloads_the_labels_as_text(client, world):
    shipments = world.labelled(2)
    login(client, world.ops)

    response = bulk(client, "zpl", shipments)
    single = client.get(reverse("logistics:shipment-zpl"), {"ids": str(shipments[0].pk)})

    assert response["Content-Disposition"].endswith('.zpl"')
    text = response.content.decode()
    assert text.count("^XA") == 2
    assert all(s.tracking_number in text for s in shipments)
    assert single.content.decode().count("^XA") == 1


def test_printing_refuses_shipments_without_a_label_and_names_them(client, world):
    shipments = world.labelled(2)
    Shipment.objects.filter(pk=shipments[1].pk).update(status=ShipmentStatus.VOIDED)
    login(client, world.ops)

    response = bulk(client, "print", shipments)

    assert response.status_code == 302
    assert texts(response) == [
        "Nothing printed: 1 ticked shipment has no label.",
        f"{shipments[1].tracking_number}: it is voided.",
    ]


def test_one_label_link_of_the_shipment_page(client, world):
    shipment = world.labelled(1)[0]
    login(client, world.ops)

    response = client.get(reverse("logistics:shipment-labels"), {"ids": str(shipment.pk)})

    assert response["Content-Type"] == "application/pdf"
    assert pages(response) == 1


# ---------------------------------------------------------------------------- void, retries


def test_void_sends_the_order_back_to_allocated(client, world):
    shipments = world.labelled(2)
    login(client, world.ops)

    response = bulk(client, "void", shipments, reason="Wrong address")

    assert texts(response) == ["2 shipments voided; their orders are back to allocated."]
    for shipment in shipments:
        shipment.refresh_from_db()
        assert (shipment.status, shipment.void_reason) == (ShipmentStatus.VOIDED, "Wrong address")
        assert Order.objects.get(pk=shipment.order_id).status == OrderStatus.ALLOCATED
    client.get(reverse("logistics:shipment-list"))  # shows (and so clears) the messages
    again = bulk(client, "void", shipments[:1])
    assert texts(again) == [f"{shipments[0].tracking_number}: A voided shipment cannot be voided."]


def test_retry_purchase_names_what_cannot_be_bought(client, world):
    labelled = world.labelled(1)[0]
    order = world.allocated(1, prefix="P")[0]
    pending = Shipment.objects.create(
        order=order,
        channel=manual_channel(carrier=world.carrier),
        warehouse=world.warehouse,
        reference="CRV-P-1",
    )
    login(client, world.ops)

    response = bulk(client, "retry_purchase", [labelled, pending])

    assert sorted(texts(response)) == sorted(
        [
            f"{labelled.tracking_number}: it already has its tracking number.",
            "CRV-P-1: its carrier has no API: type the tracking number on its page.",
        ]
    )


def test_retry_platform_confirmation_queues_it_again(
    client, world, django_capture_on_commit_callbacks
):
    shipment = world.labelled(1)[0]
    Shipment.objects.filter(pk=shipment.pk).update(
        status=ShipmentStatus.SHIPPED,
        shipped_at=timezone.now(),
        platform_error="401 Unauthorized",
        platform_attempts=6,
    )
    login(client, world.ops)

    with (
        pytest.MonkeyPatch.context() as patch,
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = []
        patch.setattr("logistics.tasks.confirm_due_shipments.delay", lambda: sent.append(1))
        response = bulk(client, "retry_confirmation", [shipment])

    shipment.refresh_from_db()
    assert texts(response) == ["1 confirmation queued: the platform is told within a minute."]
    assert shipment.platform_next_attempt_at is not None
    assert sent == [1]


# ---------------------------------------------------------------------------- one shipment


def test_the_shipment_page_shows_its_order_tracking_customs_and_events(client, world):
    shipment = world.labelled(1)[0]
    TrackingEvent.objects.create(
        shipment=shipment,
        at=timezone.now(),
        status="in_transit",
        description="Departed Shenzhen sorting centre",
        location="Shenzhen",
    )
    Shipment.objects.filter(pk=shipment.pk).update(
        platform_error="Store credentials expired",
        platform_attempts=2,
        platform_next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    login(client, world.ops)

    response = client.get(reverse("logistics:shipment-detail", args=[shipment.pk]))

    html = response.content.decode()
    assert f"https://track.example/{shipment.tracking_number}" in html
    assert reverse("orders:order-detail", args=[shipment.order_id]) in html
    assert CustomsLine.objects.get(shipment=shipment).name_en in html
    assert "Departed Shenzhen sorting centre" in html
    assert "Store credentials expired" in html
    assert f"{reverse('logistics:shipment-labels')}?ids={shipment.pk}" in html
    assert "Void…" in html


def test_the_shipment_page_query_count_does_not_grow_with_events(client, world):
    shipments = world.labelled(2)
    for n in range(6):
        TrackingEvent.objects.create(
            shipment=shipments[1],
            at=timezone.now() - timedelta(hours=n),
            status="in_transit",
            description=f"Event {n}",
        )
    login(client, world.ops)
    budgets = []
    for shipment in shipments:
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("logistics:shipment-detail", args=[shipment.pk]))
        budgets.append(len(queries))
    assert budgets[0] == budgets[1]


def test_typing_the_number_of_a_pending_manual_shipment_labels_it(client, world):
    order = world.allocated(1, prefix="M")[0]
    pending = Shipment.objects.create(
        order=order,
        channel=manual_channel(carrier=world.carrier),
        warehouse=world.warehouse,
        reference="CRV-M-1",
    )
    login(client, world.ops)
    url = reverse("logistics:shipment-tracking-number", args=[pending.pk])

    page = client.get(reverse("logistics:shipment-detail", args=[pending.pk]))
    empty = client.post(url, {"tracking_number": "  "})
    saved = client.post(url, {"tracking_number": "EX123456789CN"})

    assert "Type the tracking number" in page.content.decode()
    assert empty.status_code == 400
    assert saved.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.tracking_number) == (ShipmentStatus.LABELLED, "EX123456789CN")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.LABELLED
    assert texts(saved) == ["Tracking number EX123456789CN saved: the order is labelled."]


# ---------------------------------------------------------------------------- creating


def test_the_create_page_shows_the_ticked_allocated_orders_with_their_channels(client, world):
    orders = world.allocated(2)
    new = world.allocated(1, prefix="N")[0]
    Order.objects.filter(pk=new.pk).update(status=OrderStatus.NEW)
    login(client, world.ops)

    response = client.get(
        reverse("logistics:shipment-create"),
        {"orders": ",".join(str(o.pk) for o in [*orders, new]) + ",999999"},
    )

    html = response.content.decode()
    assert [row["order"].pk for row in response.context["rows"]] == [o.pk for o in orders]
    assert [row["cost"] for row in response.context["rows"]] == [Decimal("16.00")] * 2
    assert "CNPOST-REG" in html
    assert "1 ticked order is left out" in html
    assert "1 ticked order was not found." in html
    assert "Create 2 shipments" in html


def test_the_order_lists_bulk_form_leads_to_the_create_page(client, world):
    orders = world.allocated(2)
    login(client, world.ops)

    response = client.post(
        reverse("logistics:shipment-create"),
        {"order": [o.pk for o in orders], "next": "/orders/?status=allocated", "note": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("logistics:shipment-create")
        + f"?orders={orders[0].pk}%2C{orders[1].pk}&next=%2Forders%2F%3Fstatus%3Dallocated"
    )
    assert Shipment.objects.count() == 0
    order_list = client.get(reverse("orders:order-list"), {"status": "allocated"})
    assert "Create shipments" in order_list.content.decode()


def test_creating_shipments_for_a_number_pool_channel(client, world):
    orders = world.allocated(3)
    login(client, world.ops)

    response = client.post(
        reverse("logistics:shipment-create"),
        {"create": "1", "order": [o.pk for o in orders], "channel": ""},
    )

    shipments = list(Shipment.objects.order_by("pk"))
    assert [s.status for s in shipments] == [ShipmentStatus.LABELLED] * 3
    assert [s.channel_id for s in shipments] == [world.channel.pk] * 3
    assert response["Location"] == (
        reverse("logistics:shipment-list") + "?ids=" + ",".join(str(s.pk) for s in shipments)
    )
    assert texts(response) == ["3 shipments created."]
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.LABELLED}


def test_creating_names_each_order_that_failed(client, world):
    orders = world.allocated(3)
    OrderChannel.objects.filter(order=orders[1]).delete()
    login(client, world.ops)

    response = client.post(
        reverse("logistics:shipment-create"),
        {"create": "1", "order": [o.pk for o in orders]},
    )

    assert texts(response) == [
        "2 shipments created; 1 failed:",
        f"shop/{orders[1].external_id}: Choose a shipping channel first.",
    ]
    assert Shipment.objects.count() == 2


def test_a_manual_channel_for_all_asks_for_each_tracking_number(client, world):
    orders = world.allocated(2)
    channel = manual_channel(carrier=world.carrier)
    login(client, world.ops)

    page = client.get(
        reverse("logistics:shipment-create"),
        {"orders": f"{orders[0].pk},{orders[1].pk}", "channel": channel.pk},
    )
    response = client.post(
        reverse("logistics:shipment-create"),
        {
            "create": "1",
            "order": [o.pk for o in orders],
            "channel": channel.pk,
            f"tracking_{orders[0].pk}": "EX000000001CN",
            f"tracking_{orders[1].pk}": "",
        },
    )

    html = page.content.decode()
    assert f'name="tracking_{orders[0].pk}"' in html
    assert [row["cost"] for row in page.context["rows"]] == [Decimal("30.00")] * 2
    shipment = Shipment.objects.get()
    assert (shipment.tracking_number, shipment.channel) == ("EX000000001CN", channel)
    assert texts(response) == [
        "1 shipment created; 1 failed:",
        f"shop/{orders[1].external_id}: Type the tracking number: this channel has no carrier API.",
    ]


def test_the_order_page_lists_its_shipments_and_loads_the_freight_quotes(client, world):
    shipment = world.labelled(1)[0]
    login(client, world.ops)

    response = client.get(reverse("orders:order-detail", args=[shipment.order_id]))

    html = response.content.decode()
    assert reverse("logistics:shipment-detail", args=[shipment.pk]) in html
    assert shipment.tracking_number in html
    assert f'hx-get="{reverse("logistics:order-freight", args=[shipment.order_id])}"' in html
