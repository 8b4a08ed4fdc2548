"""Cancelling a purchase order placed on 1688, on 1688 itself (``alibaba.trade.cancel``): the
signed request (``tradeID`` above 2^53 as its exact digits), 1688's refusal in its words, an
unanswered cancel resolved by reading the order back rather than by resending or guessing, and
the service, API and page that cancel a 1688 order there first while an offline order stays a
local cancel."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from django.urls import reverse
from django.utils import translation

from erp.models import Role
from purchasing.alibaba1688 import (
    Alibaba1688AuthError,
    Alibaba1688Error,
    Alibaba1688Timeout,
    CancelledOrder,
    CargoLine,
    Client,
    DeliveryAddress,
)
from purchasing.models import PurchaseOrder, PurchaseOrderStatus, Supplier
from purchasing.services import (
    DraftLine,
    PurchaseError,
    ReceiveLine,
    po_cancel,
    po_cancel_on_1688,
    po_create,
    po_mark_paid,
    po_place_offline,
    po_place_on_1688,
    po_receive,
    po_sync,
)
from tests.factories import UserFactory
from tests.purchasing.factories import (
    SupplierFactory,
    supplier_world,
)
from tests.purchasing.fake_gateway import (
    BASE,
    KEY,
    TOKEN,
    FakeGateway,
    Recorder,
    client_for,
    fixture,
    form_of,
    processed_then_timeout,
    timeout,
)

FIXTURES_CANCEL_REFUSAL = "当前订单状态不支持取消，已付款的订单请申请退款"
LONG_ID = "3000000000000000001"  # > 2^53: float64 reads it as 3000000000000000000
CANCEL = "alibaba.trade.cancel"
DETAIL = "alibaba.trade.get.buyerView"
CANCEL_PATH = f"param2/1/com.alibaba.trade/alibaba.trade.cancel/{KEY}"
# openssl dgst -sha1 -hmac caravan-test-secret over CANCEL_PATH + "_aop_timestamp1740823200000"
#   + "access_tokentok-7a1c0e2f" + "cancelReasonbuyerCancel" + "remark供应商缺货，下周才有"
#   + "tradeID3000000000000000001" + "webSite1688" (key+value strings in ASCII order), upper-cased
CANCEL_SIGNATURE = "E292269FF82FF70FB971074CDFFC38F4C6A57C46"
ADDRESS = DeliveryAddress(
    full_name="王芳",
    mobile="13800000000",
    province="广东省",
    city="深圳市",
    area="宝安区",
    address="西乡街道 18 号",
)
CARGO = [CargoLine("612000000001", "c0ffee00c0ffee00c0ffee00c0ffee00", 10)]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def fixture_response(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=fixture(name))


def placed(client: Client) -> str:
    """An order on the gateway, waiting for payment; its id."""
    return client.create_order(out_order_id="PO-2025-0042", address=ADDRESS, cargo=CARGO).order_id


# ------------------------------------------------------------------------------ client
def test_cancel_posts_the_signed_form_with_the_exact_long_trade_id():
    recorder = Recorder(fixture_response("cancel_order.json"))

    cancelled = client_for(recorder).cancel_order(LONG_ID, "buyerCancel", " 供应商缺货，下周才有 ")

    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/{CANCEL_PATH}")
    assert form_of(request) == [
        ("webSite", "1688"),
        ("tradeID", LONG_ID),  # the digits as sent by 1688, never through a float
        ("cancelReason", "buyerCancel"),
        ("remark", "供应商缺货，下周才有"),
        ("access_token", TOKEN),
        ("_aop_timestamp", "1740823200000"),
        ("_aop_signature", CANCEL_SIGNATURE),
    ]
    assert cancelled == CancelledOrder(order_id=LONG_ID, status="cancel")


def test_cancel_without_a_remark_sends_none():
    recorder = Recorder(fixture_response("cancel_order.json"))

    client_for(recorder).cancel_order(LONG_ID, "other")

    assert [key for key, _ in form_of(recorder.requests[0])] == [
        "webSite",
        "tradeID",
        "cancelReason",
        "access_token",
        "_aop_timestamp",
        "_aop_signature",
    ]


def test_a_refused_cancel_raises_1688s_words_and_looks_nothing_up():
    recorder = Recorder(fixture_response("cancel_order_refused.json"))
    sleeps: list[float] = []

    with pytest.raises(Alibaba1688Error) as caught:
        client_for(recorder, sleeps).cancel_order(LONG_ID, "buyerCancel")

    error = caught.value
    assert (error.code, error.message) == (
        "ORDER_STATUS_NOT_SUPPORT_CANCEL",
        FIXTURES_CANCEL_REFUSAL,
    )
    assert (error.retryable, error.maybe_processed, error.api) == (False, False, CANCEL)
    assert len(recorder.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("order_id", "reason", "words"),
    [
        pytest.param("30000000000000000O1", "buyerCancel", "is not a 1688 order id", id="bad-id"),
        pytest.param(LONG_ID, "changedMyMind", "1688 takes one of these reasons", id="bad-reason"),
    ],
)
def test_a_bad_id_or_reason_is_refused_before_sending(order_id, reason, words):
    recorder = Recorder()

    with pytest.raises(Alibaba1688Error) as caught:
        client_for(recorder).cancel_order(order_id, reason)

    assert caught.value.code == "invalid_request"
    assert words in caught.value.message
    assert recorder.requests == []


def test_a_cancel_is_retried_on_429_since_1688_did_not_take_it():
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "2"}), fixture_response("cancel_order.json")
    )
    sleeps: list[float] = []

    cancelled = client_for(recorder, sleeps).cancel_order(LONG_ID, "buyerCancel")

    assert cancelled.status == "cancel"
    assert len(recorder.requests) == 2
    assert sleeps == [2.0]


def test_an_expired_token_is_refreshed_and_the_cancel_sent_once_more():
    gateway = FakeGateway.seeded()
    client = client_for(gateway)
    order_id = placed(client)
    gateway.expire_token()

    client.cancel_order(order_id, "buyerCancel")

    assert [name for name, _ in gateway.calls][1:] == [CANCEL, "getToken", CANCEL]
    assert gateway.orders[order_id]["baseInfo"]["status"] == "cancel"


def test_the_gateway_checks_the_cancels_signature():
    gateway = FakeGateway.seeded()
    order_id = placed(client_for(gateway))

    with pytest.raises(Alibaba1688AuthError) as caught:
        client_for(gateway, app_secret="another-secret").cancel_order(order_id, "buyerCancel")

    assert caught.value.message == "Signature is invalid"
    assert gateway.orders[order_id]["baseInfo"]["status"] == "waitbuyerpay"


def test_timeout_then_the_detail_shows_it_cancelled_is_a_cancel():
    gateway = FakeGateway.seeded()
    sleeps: list[float] = []
    client = client_for(gateway, sleeps)
    order_id = placed(client)
    gateway.then(CANCEL, processed_then_timeout(gateway))  # 1688 cancels; its answer is lost

    cancelled = client.cancel_order(order_id, "sellerGoodsLack")

    assert cancelled == CancelledOrder(order_id=order_id, status="cancel", recovered=True)
    assert [name for name, _ in gateway.calls][1:] == [CANCEL, DETAIL]  # never resent
    assert gateway.of(DETAIL)[0]["orderId"] == LONG_ID
    assert sleeps == [1.0]  # one pause before looking


def test_timeout_and_the_detail_shows_it_open_is_a_clear_error():
    gateway = FakeGateway.seeded()
    client = client_for(gateway)
    order_id = placed(client)
    gateway.then(CANCEL, timeout)  # the cancel never reached 1688

    with pytest.raises(Alibaba1688Timeout) as caught:
        client.cancel_order(order_id, "buyerCancel")

    assert caught.value.message == (
        f"Order {LONG_ID} is not cancelled: 1688 did not confirm the cancel (1688 did not "
        "answer in time (The read operation timed out)) and still shows the order as "
        "waitbuyerpay. Try again."
    )
    assert (caught.value.maybe_processed, caught.value.retryable) == (False, True)
    assert len(gateway.of(CANCEL)) == 1  # not resent blindly
    assert gateway.orders[order_id]["baseInfo"]["status"] == "waitbuyerpay"


def test_timeout_and_a_failed_lookup_reports_the_unanswered_cancel():
    gateway = FakeGateway.seeded()
    client = client_for(gateway, max_attempts=2)
    order_id = placed(client)
    gateway.then(CANCEL, processed_then_timeout(gateway)).then(DETAIL, timeout, timeout)

    with pytest.raises(Alibaba1688Timeout) as caught:
        client.cancel_order(order_id, "buyerCancel")

    assert caught.value.maybe_processed is True  # it may be cancelled: nobody knows yet
    assert caught.value.api == CANCEL
    assert len(gateway.of(CANCEL)) == 1


def test_the_gateway_refuses_to_cancel_a_paid_order_in_1688s_shape():
    gateway = FakeGateway.seeded()
    client = client_for(gateway)
    order_id = placed(client)
    gateway.pay(order_id)

    with pytest.raises(Alibaba1688Error) as caught:
        client.cancel_order(order_id, "buyerCancel")

    assert caught.value.message == FIXTURES_CANCEL_REFUSAL
    assert gateway.orders[order_id]["baseInfo"]["status"] == "waitsellersend"


# ------------------------------------------------------------------------------ service
@pytest.fixture
def world(db, gateway):
    buyer = UserFactory(username="chen", display_name="Chen Buyer", roles=[Role.PURCHASING])
    return {**supplier_world(gateway), "buyer": buyer}


def draft(world, quantity: int = 10, supplier: Supplier | None = None) -> PurchaseOrder:
    return po_create(
        supplier=supplier or world["supplier"],
        warehouse=world["warehouse"],
        lines=[DraftLine(world["offer"].sku, quantity, Decimal("16.80"))],
        notes="纸箱包装",
    )


def on_1688(world) -> PurchaseOrder:
    return po_place_on_1688(po=draft(world))


def unchanged(po: PurchaseOrder) -> tuple:
    fresh = PurchaseOrder.objects.get(pk=po.pk)
    return (
        fresh.status,
        fresh.closed_at,
        fresh.platform_status,
        fresh.platform_error,
        fresh.notes,
    )


def test_an_unpaid_1688_order_is_cancelled_on_1688_then_here(world, gateway):
    po = on_1688(world)

    cancelled = po_cancel(po=po, reason="sellerGoodsLack", remark="缺货", user=world["buyer"])

    (form,) = gateway.of(CANCEL)
    assert (form["tradeID"], form["cancelReason"], form["remark"]) == (
        LONG_ID,
        "sellerGoodsLack",
        "缺货",
    )
    assert gateway.orders[LONG_ID]["baseInfo"]["status"] == "cancel"
    assert (cancelled.status, cancelled.platform_status, cancelled.platform_error) == (
        PurchaseOrderStatus.CANCELLED,
        "cancel",
        "",
    )
    assert cancelled.closed_at is not None
    first, note = cancelled.notes.splitlines()
    assert first == "纸箱包装"  # what was there stays
    assert note.endswith(
        f": cancelled on 1688 (order {LONG_ID}) by Chen Buyer: "
        "The supplier is out of stock (sellerGoodsLack). 缺货"
    )
    assert unchanged(po) == (
        "cancelled",
        cancelled.closed_at,
        "cancel",
        "",
        cancelled.notes,
    )


def test_po_cancel_on_1688_defaults_to_the_buyers_reason(world, gateway):
    po = on_1688(world)

    po_cancel(po=po)

    assert gateway.of(CANCEL)[0]["cancelReason"] == "buyerCancel"
    assert "remark" not in gateway.of(CANCEL)[0]


def test_a_paid_1688_order_is_refused_in_1688s_words_and_nothing_changes(world, gateway):
    po = on_1688(world)
    gateway.pay(po.platform_order_id)  # paid on 1688; not synced yet
    before = unchanged(po)

    with pytest.raises(PurchaseError) as caught:
        po_cancel(po=po, reason="buyerCancel", remark="不要了", user=world["buyer"])

    assert str(caught.value) == (
        f"1688 refused to cancel {po.number} (order {LONG_ID}): {FIXTURES_CANCEL_REFUSAL} "
        "1688 shows the order as waitsellersend: a paid 1688 order is not cancelled but "
        "refunded. Ask the supplier for a refund on 1688; the sync follows it."
    )
    assert unchanged(po) == before
    assert before[:3] == ("ordered", None, "waitbuyerpay")
    assert [name for name, _ in gateway.calls][-2:] == [CANCEL, DETAIL]


def test_a_paid_order_known_from_the_sync_is_refused_too(world, gateway):
    po = on_1688(world)
    gateway.pay(po.platform_order_id)
    po = po_sync(po=po)
    assert po.status == PurchaseOrderStatus.PAID

    with pytest.raises(PurchaseError, match="a paid 1688 order is not cancelled but refunded"):
        po_cancel(po=po)

    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.PAID


def test_an_order_already_closed_on_1688_is_cancelled_here(world, gateway):
    po = on_1688(world)
    gateway.orders[LONG_ID]["baseInfo"]["status"] = "cancel"  # the seller closed it

    cancelled = po_cancel_on_1688(po=po, user=world["buyer"])

    assert cancelled.status == PurchaseOrderStatus.CANCELLED
    assert cancelled.notes.splitlines()[-1].endswith(
        f": 1688 order {LONG_ID} was already closed on 1688 (Chen Buyer)."
    )


def test_an_unanswered_cancel_that_1688_made_cancels_the_po(world, gateway):
    po = on_1688(world)
    gateway.then(CANCEL, processed_then_timeout(gateway))

    cancelled = po_cancel(po=po, user=world["buyer"])

    assert (cancelled.status, cancelled.platform_status) == ("cancelled", "cancel")
    assert len(gateway.of(CANCEL)) == 1


def test_an_unanswered_cancel_that_cannot_be_checked_changes_nothing(world, gateway):
    po = on_1688(world)
    gateway.then(CANCEL, processed_then_timeout(gateway))
    gateway.then(DETAIL, timeout, timeout, timeout, timeout)
    before = unchanged(po)

    with pytest.raises(PurchaseError) as caught:
        po_cancel(po=po)

    assert str(caught.value) == (
        f"1688 did not say whether it cancelled {po.number} (order {LONG_ID}): 1688 did not "
        "answer in time (The read operation timed out). Sync with 1688 to see whether it is "
        "cancelled."
    )
    assert unchanged(po) == before
    assert po_sync(po=po).status == PurchaseOrderStatus.CANCELLED  # the sync finds out


def test_a_cancel_1688_never_got_is_not_cancelled_here(world, gateway):
    po = on_1688(world)
    gateway.then(CANCEL, timeout)

    with pytest.raises(PurchaseError) as caught:
        po_cancel(po=po)

    assert str(caught.value).startswith(
        f"{po.number} was not cancelled on 1688 (order {LONG_ID}): Order {LONG_ID} is not cancelled"
    )
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.ORDERED


def test_an_offline_order_is_cancelled_here_as_before(world, gateway):
    offline = SupplierFactory(code="LOCAL", kind=Supplier.Kind.OFFLINE)
    po = po_mark_paid(po=po_place_offline(po=draft(world, supplier=offline)))

    cancelled = po_cancel(po=po, reason="other", remark="电话取消", user=world["buyer"])

    assert cancelled.status == PurchaseOrderStatus.CANCELLED
    assert cancelled.closed_at is not None
    assert cancelled.notes.splitlines()[-1].endswith(": cancelled by Chen Buyer: 电话取消")
    assert gateway.calls == []
    assert po_cancel(po=draft(world)).status == PurchaseOrderStatus.CANCELLED  # a draft too
    assert gateway.calls == []


def test_received_goods_stop_a_cancel_before_1688_is_asked(world, gateway):
    po = on_1688(world)
    po_receive(po=po, lines=[ReceiveLine(po.lines.get(), 4, location=world["bin"])])

    with pytest.raises(PurchaseError, match="partially received: it can no longer be cancelled"):
        po_cancel(po=po)

    assert gateway.of(CANCEL) == []


def test_an_unknown_reason_is_refused_before_1688_is_asked(world, gateway):
    po = on_1688(world)

    with pytest.raises(PurchaseError, match="Choose why the order is cancelled"):
        po_cancel(po=po, reason="changedMyMind")

    assert gateway.of(CANCEL) == []


# ------------------------------------------------------------------------------ API
POS = "/api/v1/purchase-orders/"


def test_api_cancels_a_1688_order_with_reason_and_remark(client_as, world, gateway):
    po = on_1688(world)
    api = client_as(world["buyer"])

    response = api.post(
        f"{POS}{po.pk}/cancel/", {"reason": "other", "remark": "客户取消"}, format="json"
    )

    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["platform_status"]) == ("cancelled", "cancel")
    (form,) = gateway.of(CANCEL)
    assert (form["cancelReason"], form["remark"]) == ("other", "客户取消")


def test_api_returns_1688s_refusal_and_keeps_the_order(client_as, world, gateway):
    po = on_1688(world)
    gateway.pay(po.platform_order_id)
    api = client_as(world["buyer"])

    response = api.post(f"{POS}{po.pk}/cancel/", {}, format="json")

    assert response.status_code == 400
    assert response.data["code"] == "purchase_invalid"
    assert response.data["detail"].startswith(
        f"1688 refused to cancel {po.number} (order {LONG_ID}): {FIXTURES_CANCEL_REFUSAL}"
    )
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.ORDERED


def test_api_refuses_an_unknown_reason(client_as, world, gateway):
    po = on_1688(world)

    response = client_as(world["buyer"]).post(
        f"{POS}{po.pk}/cancel/", {"reason": "changedMyMind"}, format="json"
    )

    assert response.status_code == 400
    assert response.data == {"reason": ['"changedMyMind" is not a valid choice.']}
    assert gateway.of(CANCEL) == []


def test_api_cancels_an_offline_order_with_an_empty_body(client_as, world, gateway):
    po = po_place_offline(po=draft(world, supplier=SupplierFactory(kind=Supplier.Kind.OFFLINE)))

    response = client_as(world["buyer"]).post(f"{POS}{po.pk}/cancel/")

    assert (response.status_code, response.data["status"]) == (200, "cancelled")
    assert gateway.calls == []


# ------------------------------------------------------------------------------ page
def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_page_offers_1688s_reasons_for_a_1688_order_only(client, world, gateway):
    po = on_1688(world)
    offline = po_place_offline(
        po=draft(world, supplier=SupplierFactory(kind=Supplier.Kind.OFFLINE))
    )
    client.force_login(world["buyer"])

    page = client.get(reverse("purchasing:po-detail", args=[po.pk])).content.decode()
    assert '<select id="id_cancel_reason" name="reason">' in page
    assert '<option value="buyerCancel">We no longer need it</option>' in page
    assert '<option value="sellerGoodsLack">The supplier is out of stock</option>' in page
    assert '<option value="other">Other reason</option>' in page
    assert "Cancel on 1688" in page

    page = client.get(reverse("purchasing:po-detail", args=[offline.pk])).content.decode()
    assert 'name="reason"' not in page
    assert "Cancel order" in page


def test_the_page_cancels_a_1688_order_on_1688(client, world, gateway):
    po = on_1688(world)
    client.force_login(world["buyer"])

    response = client.post(
        reverse("purchasing:po-action", args=[po.pk, "cancel"]),
        {"reason": "sellerGoodsLack", "remark": "缺货"},
        follow=True,
    )

    assert messages_of(response) == [f"{po.number} cancelled on 1688 (order {LONG_ID})."]
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.CANCELLED
    assert gateway.of(CANCEL)[0]["cancelReason"] == "sellerGoodsLack"
    assert "缺货" in response.content.decode()  # the note on the page


def test_the_page_shows_1688s_refusal_of_a_paid_order(client, world, gateway):
    po = on_1688(world)
    gateway.pay(po.platform_order_id)
    client.force_login(world["buyer"])

    response = client.post(
        reverse("purchasing:po-action", args=[po.pk, "cancel"]),
        {"reason": "buyerCancel"},
        follow=True,
    )

    (message,) = messages_of(response)
    assert message.startswith(f"1688 refused to cancel {po.number} (order {LONG_ID}): ")
    assert FIXTURES_CANCEL_REFUSAL in message
    assert "Ask the supplier for a refund on 1688" in message
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.ORDERED


def test_the_page_refuses_an_unknown_reason(client, world, gateway):
    po = on_1688(world)
    client.force_login(world["buyer"])

    response = client.post(
        reverse("purchasing:po-action", args=[po.pk, "cancel"]), {"reason": "x"}, follow=True
    )

    assert messages_of(response) == ["Choose why the order is cancelled."]
    assert gateway.of(CANCEL) == []


def test_the_page_cancels_an_offline_order_as_before(client, world, gateway):
    po = po_place_offline(po=draft(world, supplier=SupplierFactory(kind=Supplier.Kind.OFFLINE)))
    client.force_login(world["buyer"])

    response = client.post(reverse("purchasing:po-action", args=[po.pk, "cancel"]), follow=True)

    assert messages_of(response) == [f"{po.number} cancelled."]
    assert PurchaseOrder.objects.get(pk=po.pk).status == PurchaseOrderStatus.CANCELLED
    assert gateway.calls == []
