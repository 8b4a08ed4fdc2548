"""Shipping setup pages and the order's freight fragment: rendering, permissions, forms,
the rate import with its error list, and a person's channel choice."""

import html
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from erp.models import Role
from logistics.models import Carrier, ChannelRule, OrderChannel, RateCardRow, ShippingChannel
from tests.factories import SkuFactory, StoreFactory, UserFactory, WarehouseFactory
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
def ops(client, store):
    user = UserFactory(roles=[Role.OPERATIONS], stores=[store])
    client.force_login(user)
    return user


@pytest.fixture
def channel():
    channel = ShippingChannelFactory(code="YT-EXP", countries="US DE")
    RateCardRowFactory(channel=channel, country="US", first_price=D("30"), additional_price=D(0))
    RateCardRowFactory(channel=channel, country="*", first_price=D("50"), additional_price=D(0))
    return channel


@pytest.mark.parametrize(
    "name",
    [
        "carrier-list",
        "carrier-create",
        "channel-list",
        "channel-create",
        "rule-list",
        "rule-create",
    ],
)
def test_pages_render_for_operations(client, ops, channel, name):
    ChannelRuleFactory(action="channel", channel=channel)
    response = client.get(reverse(f"logistics:{name}"))
    assert response.status_code == 200
    assert b'class="subnav"' in response.content


def test_object_pages_render(client, ops, channel):
    rule = ChannelRuleFactory()
    for url in (
        reverse("logistics:carrier-edit", args=[channel.carrier.pk]),
        reverse("logistics:channel-edit", args=[channel.pk]),
        reverse("logistics:channel-rates", args=[channel.pk]),
        reverse("logistics:rule-edit", args=[rule.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_a_role_without_logistics_gets_403(client, channel):
    client.force_login(UserFactory(roles=[Role.PURCHASING]))
    for name in ("carrier-list", "channel-list", "rule-list"):
        assert client.get(reverse(f"logistics:{name}")).status_code == 403
    assert client.get(reverse("logistics:channel-rates", args=[channel.pk])).status_code == 403


def test_finance_sees_but_cannot_edit(client, channel):
    client.force_login(UserFactory(roles=[Role.FINANCE]))
    assert client.get(reverse("logistics:channel-list")).status_code == 200
    assert client.get(reverse("logistics:channel-create")).status_code == 403
    upload = SimpleUploadedFile("r.csv", b"country,weight_to_g\r\nFR,500\r\n")
    response = client.post(reverse("logistics:channel-rates", args=[channel.pk]), {"file": upload})
    assert response.status_code == 403


def test_channel_list_filters_and_columns(client, ops, channel):
    ShippingChannelFactory(code="OFF", is_active=False)
    response = client.get(reverse("logistics:channel-list"), {"is_active": "true"})
    codes = [c.code for c in response.context["page"]]
    assert codes == ["YT-EXP"]
    assert response.context["page"][0].rate_rows == 2


def test_carrier_form_stores_credentials_encrypted_and_never_shows_them(client, ops):
    response = client.post(
        reverse("logistics:carrier-create"),
        {
            "code": "YUN",
            "name": "YunExpress",
            "connector": "yunexpress",
            "is_active": "on",
            "credential_customer_code": "C-778",
            "credential_api_secret": "s3cret-value",
        },
    )
    assert response.status_code == 302
    carrier = Carrier.objects.get(code="YUN")
    assert carrier.get_credentials() == {"customer_code": "C-778", "api_secret": "s3cret-value"}

    page = client.get(reverse("logistics:carrier-edit", args=[carrier.pk]))
    assert b"s3cret-value" not in page.content
    assert b"C-778" not in page.content
    assert b"API keys: set" in page.content
    assert b'type="password"' in page.content
    listing = client.get(reverse("logistics:carrier-list"))
    assert b"s3cret-value" not in listing.content

    # saving without typing keys keeps them
    client.post(
        reverse("logistics:carrier-edit", args=[carrier.pk]),
        {"code": "YUN", "name": "Yun", "connector": "yunexpress", "is_active": "on"},
    )
    carrier.refresh_from_db()
    assert (carrier.name, carrier.get_credentials()["api_secret"]) == ("Yun", "s3cret-value")


def test_channel_form_saves(client, ops):
    carrier = CarrierFactory()
    sz = WarehouseFactory(code="SZ")
    response = client.post(
        reverse("logistics:channel-create"),
        {
            "carrier": carrier.pk,
            "code": "NEW",
            "service_code": "PX",
            "name": "New channel",
            "countries": "us gb",
            "min_weight_g": 0,
            "max_weight_g": 2000,
            "volumetric_divisor": 0,
            "currency": "usd",
            "label_size": "100x100",
            "label_format": "pdf",
            "tracking_source": "carrier",
            "is_active": "on",
            "warehouses": [sz.pk],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    channel = ShippingChannel.objects.get(code="NEW")
    assert (channel.countries, channel.currency) == ("US GB", "USD")
    assert list(channel.warehouses.all()) == [sz]
    assert channel.label_layout == {}


def test_a_label_layout_is_checked_and_previewed(client, ops, channel):
    def post(layout: str):
        return client.post(
            reverse("logistics:channel-edit", args=[channel.pk]),
            {
                "carrier": channel.carrier_id,
                "code": channel.code,
                "service_code": channel.service_code,
                "name": channel.name,
                "min_weight_g": 0,
                "max_weight_g": 2000,
                "volumetric_divisor": 0,
                "currency": "CNY",
                "label_size": "100x150",
                "label_format": "pdf",
                "tracking_source": "pool",
                "is_active": "on",
                "label_layout": layout,
            },
        )

    refused = post('{"blocks": {"pick": {"w": -5}}}')
    assert refused.status_code == 200
    assert html.escape("Label layout: block 'pick'") in refused.content.decode()
    assert post("not json").status_code == 200

    layout = (
        '{"blocks": {"customs": null, "note": {"kind": "text", "text": "FRAGILE GLASS", '
        '"x": 52, "y": 120, "w": 46, "h": 20, "font_size": 14}}}'
    )
    assert post(layout).status_code == 302
    channel.refresh_from_db()
    assert channel.label_layout["blocks"]["note"]["text"] == "FRAGILE GLASS"
    preview = client.get(reverse("logistics:channel-label-preview", args=[channel.pk]))
    assert preview["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(preview.content))
    assert [round(float(v)) for v in reader.pages[0].mediabox.upper_right] == [283, 425]
    assert "FRAGILE GLASS" in reader.pages[0].extract_text()


def test_rule_form_saves_and_moves(client, ops, channel):
    first = ChannelRuleFactory(name="first", priority=10)
    response = client.post(
        reverse("logistics:rule-create"),
        {
            "name": "US",
            "priority": 20,
            "is_active": "on",
            "countries": "us",
            "action": "channel",
            "channel": channel.pk,
            "sku_flag": "plain",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    rule = ChannelRule.objects.get(name="US")
    assert (rule.countries, rule.channel, rule.sku_flag) == ("US", channel, "plain")

    client.post(reverse("logistics:rule-move", args=[rule.pk]), {"direction": "up"})
    assert list(ChannelRule.objects.order_by("priority").values_list("name", "priority")) == [
        ("US", 10),
        ("first", 20),
    ]
    first.refresh_from_db()
    assert first.priority == 20


def test_rule_form_needs_the_channel_of_a_channel_rule(client, ops):
    response = client.post(
        reverse("logistics:rule-create"), {"name": "x", "priority": 1, "action": "channel"}
    )
    assert response.status_code == 200
    assert "channel" in response.context["form"].errors


def test_rate_import_shows_the_error_list(client, ops, channel):
    upload = SimpleUploadedFile(
        "rates.csv", b"country,weight_from_g,weight_to_g\r\nFR,0,500\r\nXYZ,0,500\r\n"
    )
    response = client.post(reverse("logistics:channel-rates", args=[channel.pk]), {"file": upload})

    assert response.status_code == 200
    errors = response.context["result"].errors
    assert [(e.row, e.column) for e in errors] == [(3, "country")]
    assert "Nothing was imported" in response.content.decode()
    assert not RateCardRow.objects.filter(country="FR").exists()


def test_rate_import_and_export_from_the_channel_page(client, ops, channel):
    upload = SimpleUploadedFile("rates.csv", "国家,截止重量(g)\r\nFR,500\r\n".encode("gb18030"))
    response = client.post(reverse("logistics:channel-rates", args=[channel.pk]), {"file": upload})
    assert response.context["result"].created == 1
    page = client.get(reverse("logistics:channel-rates", args=[channel.pk]))
    assert [country for country, _rows in page.context["groups"]] == ["FR", "US", "*"]

    export = client.get(
        reverse("logistics:channel-rates-export", args=[channel.pk]), {"format": "csv"}
    )
    assert export.status_code == 200
    assert export.content.decode("utf-8-sig").count("\r\n") == 4


def test_freight_fragment_and_choosing_a_channel(client, ops, store, channel):
    order = make_order(store, [(SkuFactory(weight_g=300), 1)], country="US")

    response = client.get(reverse("logistics:order-freight", args=[order.pk]))
    assert response.status_code == 200
    assert [q.channel.code for q in response.context["quotes"]] == ["YT-EXP"]
    assert b"Use this channel" in response.content

    response = client.post(
        reverse("logistics:order-channel", args=[order.pk]),
        {"channel": channel.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"The order ships by YT-EXP." in response.content
    assert OrderChannel.objects.get(order=order).chosen_by == ops


def test_freight_fragment_refusal_and_scope(client, ops, store):
    fr_only = ShippingChannelFactory(code="FR-ONLY", countries="FR")
    order = make_order(store, [(SkuFactory(), 1)], country="US")
    response = client.post(
        reverse("logistics:order-channel", args=[order.pk]), {"channel": fr_only.pk}
    )
    assert response.status_code == 302  # back to the order page, with the refusal
    assert not OrderChannel.objects.exists()

    other = make_order(StoreFactory(code="other"), [(SkuFactory(), 1)])
    assert client.get(reverse("logistics:order-freight", args=[other.pk])).status_code == 404


def test_pages_query_budget(client, ops, django_assert_max_num_queries):
    for i in range(10):
        channel = ShippingChannelFactory(code=f"C{i}")
        RateCardRowFactory(channel=channel)
        ChannelRuleFactory(action="channel", channel=channel)
    for name in ("channel-list", "rule-list", "carrier-list"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"logistics:{name}")).status_code == 200
