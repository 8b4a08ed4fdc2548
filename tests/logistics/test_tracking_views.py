"""The tracking page: parcels on their way with no movement for N days, filtered by tracking
status and carrier, in the user's scope; "Poll now" asks the carriers about exactly those."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from erp.models import Role
from logistics.models import Shipment, ShipmentStatus
from tests.factories import StoreFactory, UserFactory
from tests.logistics.factories_ops import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def shipped(world, count, *, days_ago, last_event_days_ago=None, status="", prefix="S", store=None):
    shipments = world.labelled(count, prefix=prefix, store=store)
    now = timezone.now()
    Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(
        status=ShipmentStatus.SHIPPED,
        shipped_at=now - timedelta(days=days_ago),
        last_event_at=None
        if last_event_days_ago is None
        else now - timedelta(days=last_event_days_ago),
        tracking_status=status,
    )
    return shipments


def numbers(response) -> set[str]:
    return {s.tracking_number for s in response.context["page"].object_list}


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_parcels_without_movement_for_n_days(client, world):
    silent = shipped(world, 1, days_ago=9, prefix="A")
    stuck = shipped(world, 1, days_ago=20, last_event_days_ago=8, status="in_transit", prefix="B")
    moving = shipped(world, 1, days_ago=20, last_event_days_ago=0, status="in_transit", prefix="C")
    delivered = shipped(
        world, 1, days_ago=30, last_event_days_ago=25, status="delivered", prefix="D"
    )
    fresh = shipped(world, 1, days_ago=2, prefix="E")
    world.labelled(1, prefix="F")  # not handed over yet
    client.force_login(world.ops)

    default = client.get(reverse("logistics:tracking"))
    longer = client.get(reverse("logistics:tracking"), {"days": "15"})
    shorter = client.get(reverse("logistics:tracking"), {"days": "1"})
    in_transit = client.get(reverse("logistics:tracking"), {"tracking_status": "in_transit"})
    no_event = client.get(reverse("logistics:tracking"), {"tracking_status": "none"})
    nonsense = client.get(reverse("logistics:tracking"), {"days": "soon"})

    assert default.status_code == 200
    assert numbers(default) == {silent[0].tracking_number, stuck[0].tracking_number}
    assert numbers(longer) == set()
    assert numbers(shorter) == {
        silent[0].tracking_number,
        stuck[0].tracking_number,
        fresh[0].tracking_number,
    }
    assert moving[0].tracking_number not in numbers(shorter)
    assert delivered[0].tracking_number not in numbers(shorter)
    assert numbers(in_transit) == {stuck[0].tracking_number}
    assert numbers(no_event) == {silent[0].tracking_number}
    assert nonsense.context["days"] == 7
    html = default.content.decode()
    assert "Poll now" in html
    # the oldest silence first
    assert [s.tracking_number for s in default.context["page"]] == [
        silent[0].tracking_number,
        stuck[0].tracking_number,
    ]


def test_the_page_is_scoped_and_its_query_count_is_flat(client, world):
    other_store = StoreFactory(code="other", default_warehouse=world.warehouse)
    mine = shipped(world, 2, days_ago=10, prefix="M")
    theirs = shipped(world, 1, days_ago=10, prefix="T", store=other_store)
    scoped = UserFactory(roles=[Role.OPERATIONS], stores=[world.store])
    client.force_login(scoped)

    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("logistics:tracking"))
    shipped(world, 10, days_ago=10, prefix="N")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("logistics:tracking"))

    assert theirs[0].tracking_number not in numbers(response)
    assert numbers(response) == {s.tracking_number for s in mine}
    assert len(few) == len(many)


def test_poll_now_asks_the_carriers_about_the_listed_parcels(client, world, monkeypatch):
    stale = shipped(world, 2, days_ago=10, prefix="A")
    shipped(world, 1, days_ago=1, prefix="B")
    asked = []

    def fake_track(*, shipment_ids, **kwargs):
        asked.append(sorted(shipment_ids))
        return {"polled": 2, "events": 5, "errors": 1}

    monkeypatch.setattr("logistics.views.tracking.track_shipments", fake_track)
    client.force_login(world.ops)

    response = client.post(
        reverse("logistics:tracking"), {"days": "7", "next": "/logistics/tracking/?days=7"}
    )

    assert asked == [sorted(s.pk for s in stale)]
    assert response["Location"] == "/logistics/tracking/?days=7"
    assert texts(response) == [
        "Polled 2 parcels: 5 new tracking events.",
        "1 carrier could not be reached; try again later.",
    ]


def test_poll_now_needs_the_right_to_change_shipments(client, world, monkeypatch):
    shipped(world, 1, days_ago=10)
    monkeypatch.setattr(
        "logistics.views.tracking.track_shipments",
        lambda **kwargs: pytest.fail("polled without the permission"),
    )
    finance = UserFactory(roles=[Role.FINANCE])
    client.force_login(finance)

    page = client.get(reverse("logistics:tracking"))
    response = client.post(reverse("logistics:tracking"), {"days": "7"})

    assert "Poll now" not in page.content.decode()
    assert texts(response) == ["You may not poll the carriers."]
