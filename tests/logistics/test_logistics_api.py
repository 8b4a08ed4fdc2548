"""The logistics API: authentication, role permissions, store scope on an order's freight,
credentials never answered, rate-row import/export and channel rules."""

import io
from decimal import Decimal

import pytest

from erp.models import Role
from logistics.models import Carrier, OrderChannel, RateCardRow
from tests.factories import SkuFactory, StoreFactory, UserFactory
from tests.logistics.factories import (
    CarrierFactory,
    ChannelRuleFactory,
    RateCardRowFactory,
    ShippingChannelFactory,
    make_order,
    urlpatterns_with_logistics,
)

urlpatterns = urlpatterns_with_logistics()
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
D = Decimal


@pytest.fixture
def store():
    return StoreFactory(code="shop")


@pytest.fixture
def ops(store):
    return UserFactory(roles=[Role.OPERATIONS], stores=[store])


@pytest.fixture
def finance():
    return UserFactory(roles=[Role.FINANCE])


@pytest.fixture
def channel():
    channel = ShippingChannelFactory(code="YT-EXP", countries="US DE")
    RateCardRowFactory(channel=channel, country="US", first_price=D("30"), additional_price=D(0))
    return channel


@pytest.fixture
def order(store):
    return make_order(store, [(SkuFactory(weight_g=300), 1)], country="US")


def test_anonymous_gets_401(api_client):
    for url in (
        "/api/v1/carriers/",
        "/api/v1/channels/",
        "/api/v1/rate-rows/",
        "/api/v1/channel-rules/",
        "/api/v1/orders/1/freight-quotes/",
    ):
        assert api_client.get(url).status_code == 401


def test_finance_may_view_but_not_change(client_as, finance, channel):
    client = client_as(finance)
    assert client.get("/api/v1/channels/").status_code == 200
    assert client.get("/api/v1/rate-rows/").status_code == 200
    assert client.patch(f"/api/v1/channels/{channel.pk}/", {"name": "x"}).status_code == 403
    assert client.post("/api/v1/carriers/", {"code": "X", "name": "X"}).status_code == 403
    assert client.post("/api/v1/channel-rules/", {"name": "r"}).status_code == 403


def test_purchasing_may_not_even_view(client_as):
    client = client_as(UserFactory(roles=[Role.PURCHASING]))
    assert client.get("/api/v1/channels/").status_code == 403


def test_credentials_are_write_only(client_as, admin_user):
    client = client_as(admin_user)
    response = client.post(
        "/api/v1/carriers/",
        {
            "code": "4PX",
            "name": "4PX",
            "connector": "4px",
            "credentials": {"app_key": "key-123", "app_secret": "secret-456"},
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["has_credentials"] is True
    assert response.json()["credential_keys"] == ["app_key", "app_secret"]
    carrier = Carrier.objects.get(code="4PX")
    assert carrier.get_credentials() == {"app_key": "key-123", "app_secret": "secret-456"}
    for body in (
        response.content,
        client.get("/api/v1/carriers/").content,
        client.get(f"/api/v1/carriers/{carrier.pk}/").content,
        client.patch(f"/api/v1/carriers/{carrier.pk}/", {"name": "4PX Express"}).content,
    ):
        assert b"key-123" not in body
        assert b"secret-456" not in body
    carrier.refresh_from_db()
    assert carrier.get_credentials()["app_secret"] == "secret-456"  # kept when not sent


def test_channel_filters(client_as, admin_user, channel):
    other_carrier = CarrierFactory(code="OTHER")
    priced_anywhere = ShippingChannelFactory(code="ANY", carrier=other_carrier, countries="")
    RateCardRowFactory(channel=priced_anywhere, country="*")
    ShippingChannelFactory(code="OFF", is_active=False, countries="FR")
    client = client_as(admin_user)

    def codes(query):
        results = client.get(f"/api/v1/channels/?{query}").json()["results"]
        return sorted(c["code"] for c in results)

    assert codes("country=de") == ["ANY", "YT-EXP"]
    assert codes("country=FR") == ["ANY", "OFF"]
    assert codes(f"carrier={other_carrier.pk}") == ["ANY"]
    assert codes("is_active=false") == ["OFF"]
    listed = client.get("/api/v1/channels/?country=US").json()["results"]
    assert {c["code"]: c["rate_rows"] for c in listed} == {"ANY": 1, "YT-EXP": 1}


def test_channel_create_normalises_countries(client_as, admin_user):
    carrier = CarrierFactory()
    response = client_as(admin_user).post(
        "/api/v1/channels/",
        {
            "carrier": carrier.pk,
            "code": "NEW",
            "service_code": "PX",
            "name": "New",
            "countries": "us, de",
            "max_weight_g": 2000,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["countries"] == "US DE"


def test_rate_rows_filter_and_refuse_overlaps(client_as, admin_user, channel):
    client = client_as(admin_user)
    rows = client.get(f"/api/v1/rate-rows/?channel={channel.pk}&country=us").json()["results"]
    assert [(r["country"], r["weight_to_g"], r["channel_code"]) for r in rows] == [
        ("US", 2000, "YT-EXP")
    ]
    response = client.post(
        "/api/v1/rate-rows/",
        {"channel": channel.pk, "country": "US", "weight_from_g": 1000, "weight_to_g": 3000},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "rate_card_invalid"


def test_rate_rows_import_and_export(client_as, admin_user, channel):
    client = client_as(admin_user)
    upload = io.BytesIO(b"channel,country,weight_from_g,weight_to_g\r\nYT-EXP,DE,0,900\r\n")
    upload.name = "rates.csv"
    response = client.post("/api/v1/rate-rows/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 1

    bad = io.BytesIO(b"channel,country,weight_from_g,weight_to_g\r\nNOPE,DE,0,900\r\n")
    bad.name = "rates.csv"
    response = client.post("/api/v1/rate-rows/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "column": "channel", "message": "Unknown channel “NOPE”."}
    ]

    export = client.get(f"/api/v1/rate-rows/export/?format=csv&channel={channel.pk}")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert export.content.decode("utf-8-sig").count("\r\n") == 3  # header and two rows
    assert client.get("/api/v1/rate-rows/export/?format=xlsx").status_code == 200


def test_import_with_replace_needs_the_delete_permission(client_as, finance, channel):
    # finance cannot import at all
    upload = io.BytesIO(b"channel,country,weight_to_g\r\nYT-EXP,DE,900\r\n")
    upload.name = "rates.csv"
    response = client_as(finance).post(
        "/api/v1/rate-rows/import/", {"file": upload, "replace": True}, format="multipart"
    )
    assert response.status_code == 403
    assert RateCardRow.objects.count() == 1


def test_channel_rules_crud_in_priority_order(client_as, admin_user, channel):
    ChannelRuleFactory(name="later", priority=50)
    client = client_as(admin_user)
    response = client.post(
        "/api/v1/channel-rules/",
        {
            "name": "US parcels",
            "priority": 10,
            "countries": "us",
            "action": "channel",
            "channel": channel.pk,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["countries"] == "US"
    names = [r["name"] for r in client.get("/api/v1/channel-rules/").json()["results"]]
    assert names == ["US parcels", "later"]
    refused = client.post("/api/v1/channel-rules/", {"name": "no channel", "action": "channel"})
    assert refused.status_code == 400


def test_freight_quotes_of_an_order(client_as, ops, channel, order):
    ShippingChannelFactory(code="NOWHERE", countries="FR")
    response = client_as(ops).get(f"/api/v1/orders/{order.pk}/freight-quotes/")

    assert response.status_code == 200
    body = response.json()
    assert body["order"] == order.pk
    assert body["parcel"]["weight_g"] == 300
    assert body["chosen"] is None
    assert [
        (q["channel_code"], q["eligible"], q["cost"], q["currency"], q["reasons"])
        for q in body["quotes"]
    ] == [
        ("YT-EXP", True, "30.00", "CNY", []),
        ("NOWHERE", False, None, "CNY", ["Does not ship to US"]),
    ]
    assert body["quotes"][0]["chargeable_weight_g"] == 300


def test_freight_quotes_outside_the_users_stores_are_404(client_as, channel):
    other = make_order(StoreFactory(code="other"), [(SkuFactory(), 1)])
    scoped = UserFactory(roles=[Role.OPERATIONS], stores=[StoreFactory(code="mine")])
    client = client_as(scoped)
    assert client.get(f"/api/v1/orders/{other.pk}/freight-quotes/").status_code == 404
    response = client.post(f"/api/v1/orders/{other.pk}/channel/", {"channel": channel.pk})
    assert response.status_code == 404


def test_set_channel_refuses_an_ineligible_one_with_reasons(client_as, ops, order):
    express = ShippingChannelFactory(code="FR-ONLY", countries="FR")
    client = client_as(ops)

    response = client.post(f"/api/v1/orders/{order.pk}/channel/", {"channel": express.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "channel_not_eligible"
    assert response.json()["reasons"] == ["Does not ship to US"]

    response = client.post(
        f"/api/v1/orders/{order.pk}/channel/", {"channel": express.pk, "allow_ineligible": True}
    )
    assert response.status_code == 200
    assert response.json()["channel_code"] == "FR-ONLY"
    assert OrderChannel.objects.get(order=order).chosen_by == ops


def test_set_channel_needs_the_permission(client_as, finance, channel, order):
    response = client_as(finance).post(
        f"/api/v1/orders/{order.pk}/channel/", {"channel": channel.pk}
    )
    assert response.status_code == 403
    assert client_as(finance).get(f"/api/v1/orders/{order.pk}/freight-quotes/").status_code == 200


def test_list_query_counts(client_as, admin_user, django_assert_max_num_queries):
    for i in range(5):
        channel = ShippingChannelFactory(code=f"C{i}")
        RateCardRowFactory(channel=channel)
        ChannelRuleFactory(action="channel", channel=channel)
    client = client_as(admin_user)
    for url in (
        "/api/v1/channels/",
        "/api/v1/rate-rows/",
        "/api/v1/channel-rules/",
        "/api/v1/carriers/",
    ):
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200
