"""The 1688 services against the FakeGateway: an offer's spec and tiers filled from the
product API, a draft placed exactly once (also across timeouts and a person's retry), 1688's
refusals kept in its own words, statuses and tracking synced back, refreshed tokens stored
encrypted."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from purchasing.models import Account1688, PurchaseOrder, PurchaseOrderStatus, Supplier
from purchasing.services import (
    DraftLine,
    PurchaseError,
    ReceiveLine,
    delivery_address,
    platform,
    po_create,
    po_place_on_1688,
    po_receive,
    po_sync,
    supplier_product_fill,
    sync_open_orders,
)
from tests.factories import SkuFactory, WarehouseFactory
from tests.purchasing.factories import (
    BLACK_SPEC,
    OFFER,
    WHITE_SPEC,
    SupplierFactory,
    account_for,
    supplier_world,
)
from tests.purchasing.fake_gateway import FakeGateway, fixture, processed_then_timeout, timeout

pytestmark = pytest.mark.django_db

CREATE = "alibaba.trade.fastCreateOrder"
PREVIEW = "alibaba.createOrder.preview"
ORDER_LIST = "alibaba.trade.getBuyerOrderList"
FIRST_ORDER = "3000000000000000001"


@pytest.fixture
def world(gateway):
    return supplier_world(gateway)


def draft(world, quantity: int = 10, **kwargs) -> PurchaseOrder:
    return po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[DraftLine(world["offer"].sku, quantity)],
        **kwargs,
    )


# ---------------------------------------------------------------------------- offers


def test_fill_picks_the_spec_matching_our_sku_and_stores_1688_tiers(gateway):
    supplier = SupplierFactory(account=account_for(gateway))
    sku = SkuFactory(code="CUP-WHT", name="Vacuum cup white", name_zh="保温杯 白色 500ml")
    product = supplier.products.create(sku=sku, offer_id=OFFER)

    filled = supplier_product_fill(product=product)

    filled.refresh_from_db()
    assert (filled.spec_id, filled.sku_id_1688) == (WHITE_SPEC, "4300000000002")
    assert filled.spec_name == "白色 / 500ml"
    assert filled.price_tiers == [[2, "18.5"], [10, "16.8"], [100, "15.2"]]
    assert filled.moq == 2
    assert filled.url == f"https://detail.1688.com/offer/{OFFER}.html"
    assert filled.synced_at is not None
    assert filled.unit_price(10) == Decimal("16.8")


def test_fill_keeps_a_spec_chosen_by_a_person(gateway):
    supplier = SupplierFactory(account=account_for(gateway))
    product = supplier.products.create(
        sku=SkuFactory(name="Cup"), offer_id=OFFER, spec_id=BLACK_SPEC
    )

    supplier_product_fill(product=product)

    product.refresh_from_db()
    assert (product.spec_id, product.spec_name) == (BLACK_SPEC, "黑色 / 500ml")


def test_fill_refuses_an_unclear_spec_and_lists_the_choices(gateway):
    supplier = SupplierFactory(account=account_for(gateway))
    product = supplier.products.create(
        sku=SkuFactory(code="CUP", name="Cup", name_zh="杯"), offer_id=OFFER
    )

    with pytest.raises(PurchaseError) as caught:
        supplier_product_fill(product=product)

    assert str(caught.value) == (
        f"Offer {OFFER} has 2 specs and none clearly matches CUP: enter the spec id, one of "
        f"黑色 / 500ml ({BLACK_SPEC}); 白色 / 500ml ({WHITE_SPEC})."
    )
    product.refresh_from_db()
    assert (product.spec_id, product.price_tiers, product.synced_at) == ("", [], None)


def test_fill_pushes_the_offer_when_1688_asks_for_a_distribution_relation(monkeypatch):
    gateway = FakeGateway(require_push=True)
    gateway.products[OFFER] = fixture("product_info.json")["productInfo"]  # not pushed yet
    monkeypatch.setattr(platform, "TRANSPORT", gateway.transport())
    supplier = SupplierFactory(account=account_for(gateway))
    product = supplier.products.create(sku=SkuFactory(name="保温杯 黑色 500ml"), offer_id=OFFER)

    supplier_product_fill(product=product)

    assert [name for name, _form in gateway.calls] == [
        "alibaba.cross.productInfo",
        "alibaba.cross.syncProductListPushed",
        "alibaba.cross.productInfo",
    ]
    product.refresh_from_db()
    assert product.spec_id == BLACK_SPEC


def test_fill_says_1688s_words_for_an_unknown_offer(gateway):
    supplier = SupplierFactory(account=account_for(gateway))
    product = supplier.products.create(sku=SkuFactory(), offer_id="699999999999")

    with pytest.raises(PurchaseError) as caught:
        supplier_product_fill(product=product)

    assert str(caught.value) == "1688 did not give offer 699999999999: 商品[699999999999]不存在"


def test_fill_needs_a_1688_account():
    product = SupplierFactory(kind=Supplier.Kind.OFFLINE).products.create(
        sku=SkuFactory(), offer_id=OFFER
    )
    with pytest.raises(PurchaseError, match="No 1688 account is set for this supplier."):
        supplier_product_fill(product=product)


# ---------------------------------------------------------------------------- placing


def test_place_creates_one_1688_order_named_by_the_po_number(world, gateway):
    po = draft(world, 10, notes="请用纸箱包装")

    placed = po_place_on_1688(po=po)

    assert [t["baseInfo"]["idOfStr"] for t in gateway.orders_for(po.number)] == [FIRST_ORDER]
    assert len(gateway.orders) == 1
    assert placed.status == PurchaseOrderStatus.ORDERED
    assert placed.platform_order_id == FIRST_ORDER
    assert placed.platform_total == Decimal("186.00")  # 10 × 16.80 + 18.00 freight
    assert placed.freight == Decimal("18.00")
    assert (placed.platform_status, placed.platform_error) == ("waitbuyerpay", "")
    assert placed.ordered_at is not None
    [form] = gateway.of(CREATE)
    assert form["outOrderId"] == po.number
    assert form["message"] == "请用纸箱包装"
    assert json.loads(form["cargoParamList"]) == [
        {"offerId": int(OFFER), "specId": BLACK_SPEC, "quantity": 10}
    ]
    assert json.loads(form["addressParam"]) == {
        "fullName": "王芳",
        "mobile": "13800000000",
        "phone": "",
        "postCode": "518000",
        "provinceText": "广东省",
        "cityText": "深圳市",
        "areaText": "宝安区",
        "townText": "",
        "address": "西乡街道 18 号 仓库 A",
    }
    assert len(gateway.of(PREVIEW)) == 1


def test_a_create_answered_by_a_timeout_buys_once(world, gateway):
    gateway.then(CREATE, processed_then_timeout(gateway))
    po = draft(world)

    placed = po_place_on_1688(po=po)

    assert len(gateway.orders) == 1
    assert len(gateway.of(CREATE)) == 1
    assert placed.platform_order_id == FIRST_ORDER
    assert placed.status == PurchaseOrderStatus.ORDERED


def test_a_person_retrying_after_a_timeout_still_buys_once(world, gateway):
    # 1688 creates the order, its answer is lost, and so are the lookups that follow.
    gateway.then(CREATE, processed_then_timeout(gateway))
    gateway.then(ORDER_LIST, timeout, timeout, timeout, timeout)
    po = draft(world)

    with pytest.raises(PurchaseError) as caught:
        po_place_on_1688(po=po)

    assert str(caught.value).startswith(f"1688 refused {po.number}: 1688 did not answer in time")
    po.refresh_from_db()
    assert (po.status, po.platform_order_id, po.platform_status) == ("draft", "", "")
    assert po.platform_error.startswith("1688 did not answer in time")
    assert len(gateway.orders) == 1

    again = po_place_on_1688(po=po)  # the person clicks "Place on 1688" once more

    assert len(gateway.orders) == 1
    assert len(gateway.of(CREATE)) == 1
    assert (again.status, again.platform_order_id, again.platform_error) == (
        "ordered",
        FIRST_ORDER,
        "",
    )


def test_moq_refusal_keeps_1688s_words_and_the_draft(world, gateway):
    po = draft(world, 1)  # the offer's minimum is 2

    with pytest.raises(PurchaseError) as caught:
        po_place_on_1688(po=po)

    assert (
        str(caught.value) == f"1688 refused {po.number}: 商品[{OFFER}]的购买数量不满足起批量限制。"
    )
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert po.platform_error == f"商品[{OFFER}]的购买数量不满足起批量限制。"
    assert gateway.of(CREATE) == []
    assert gateway.orders == {}


def test_place_refuses_lines_without_a_1688_spec(world, gateway):
    loose = SkuFactory(code="LID-9")
    po = po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[DraftLine(world["offer"].sku, 10), DraftLine(loose, 5, Decimal("2.00"))],
    )
    with pytest.raises(PurchaseError) as caught:
        po_place_on_1688(po=po)
    assert str(caught.value).startswith("LID-9: no 1688 offer and spec for this supplier.")
    assert gateway.calls == []


def test_an_offline_supplier_is_placed_offline(world, gateway):
    offline = SupplierFactory(kind=Supplier.Kind.OFFLINE)
    po = po_create(
        supplier=offline,
        warehouse=world["warehouse"],
        lines=[DraftLine(world["offer"].sku, 10, Decimal("16"))],
    )
    with pytest.raises(PurchaseError, match="is an offline supplier: place the order offline."):
        po_place_on_1688(po=po)


def test_a_draft_being_placed_is_not_placed_twice(world, gateway):
    po = draft(world)
    PurchaseOrder.objects.filter(pk=po.pk).update(
        platform_status=platform.PLACING, platform_synced_at=timezone.now()
    )
    with pytest.raises(PurchaseError, match="is being placed on 1688 right now"):
        po_place_on_1688(po=po)
    assert gateway.calls == []

    # a claim left by a crashed worker is taken over, looking for its order first
    PurchaseOrder.objects.filter(pk=po.pk).update(
        platform_synced_at=timezone.now() - timedelta(minutes=10)
    )
    placed = po_place_on_1688(po=po)
    assert [name for name, _ in gateway.calls] == [ORDER_LIST, PREVIEW, CREATE]
    assert placed.status == PurchaseOrderStatus.ORDERED


def test_a_warehouse_address_1688_cannot_read_is_explained(world, gateway):
    world["warehouse"].address = "Somewhere 1"
    world["warehouse"].save()
    with pytest.raises(PurchaseError, match="The address of warehouse SZ cannot be read for 1688"):
        po_place_on_1688(po=draft(world))
    assert gateway.calls == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "收货人：李雷 13912345678\n上海市 浦东新区 张江路 88 号",
            ("李雷", "13912345678", "上海市", "上海市", "浦东新区", "张江路 88 号", ""),
        ),
        (
            "张三,13700000000\n浙江省金华市义乌市福田街道 1 号 201 室 322000",
            ("张三", "13700000000", "浙江省", "金华市", "义乌市", "福田街道 1 号 201 室", "322000"),
        ),
    ],
)
def test_delivery_address_variants(text, expected):
    address = delivery_address(WarehouseFactory(code="X", address=text))
    assert (
        address.full_name,
        address.mobile,
        address.province,
        address.city,
        address.area,
        address.address,
        address.post_code,
    ) == expected


# ---------------------------------------------------------------------------- syncing


def test_sync_follows_payment_and_shipping_with_tracking(world, gateway):
    po = po_place_on_1688(po=draft(world))
    order_id = po.platform_order_id

    assert po_sync(po=po).status == PurchaseOrderStatus.ORDERED

    gateway.pay(order_id)
    paid = po_sync(po=po)
    assert (paid.status, paid.platform_status) == ("paid", "waitsellersend")
    assert paid.paid_at is not None

    gateway.ship(order_id, company="中通快递", bill_no="ZT7700112233", steps=[])
    shipped = po_sync(po=po)
    assert (shipped.status, shipped.platform_status) == ("shipped", "waitbuyerreceive")
    assert (shipped.tracking_company, shipped.tracking_number) == ("中通快递", "ZT7700112233")
    assert shipped.shipped_at is not None
    assert shipped.platform_total == Decimal("186.00")
    assert shipped.platform_synced_at is not None

    gateway.orders[order_id]["baseInfo"]["status"] = "success"
    done = po_sync(po=po)
    assert (done.status, done.platform_status) == ("shipped", "success")  # receiving is ours


def test_sync_skips_states_it_never_saw(world, gateway):
    po = po_place_on_1688(po=draft(world))
    gateway.ship(po.platform_order_id, company="韵达快递", bill_no="YD1", steps=[])

    shipped = po_sync(po=po)

    assert shipped.status == PurchaseOrderStatus.SHIPPED
    assert shipped.paid_at is not None
    assert shipped.tracking_number == "YD1"


def test_sync_cancels_an_order_cancelled_on_1688_unless_goods_came(world, gateway):
    po = po_place_on_1688(po=draft(world))
    gateway.orders[po.platform_order_id]["baseInfo"]["status"] = "cancel"

    assert po_sync(po=po).status == PurchaseOrderStatus.CANCELLED

    other = po_place_on_1688(po=draft(world))
    line = other.lines.get()
    po_receive(po=other, lines=[ReceiveLine(line, 4, location=world["bin"])])
    gateway.orders[other.platform_order_id]["baseInfo"]["status"] = "cancel"

    kept = po_sync(po=other)

    assert kept.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert kept.platform_status == "cancel"
    assert kept.platform_error.startswith(
        "1688 says the order is cancelled, but goods were received"
    )


def test_a_refreshed_token_is_stored_encrypted(world, gateway):
    po = po_place_on_1688(po=draft(world))
    gateway.expire_token()

    po_sync(po=po)

    account = Account1688.objects.get()
    assert account.get_credentials()["access_token"] == "tok-refreshed-0001"
    assert account.get_credentials()["refresh_token"] == gateway.refresh_token
    assert account.token_expires_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM purchasing_account1688")
        [(stored,)] = cursor.fetchall()
    assert "tok-refreshed" not in stored
    assert "caravan-test-secret" not in stored


def test_sync_failure_is_stored_on_the_po(world, gateway):
    po = po_place_on_1688(po=draft(world))
    PurchaseOrder.objects.filter(pk=po.pk).update(platform_order_id="3999999999999999999")

    with pytest.raises(PurchaseError) as caught:
        po_sync(po=po)

    assert str(caught.value) == (
        f"1688 did not give order 3999999999999999999 of {po.number}: "
        "你没有权限获取该订单详情(买家端)"
    )
    po.refresh_from_db()
    assert po.platform_error == "你没有权限获取该订单详情(买家端)"


def test_sync_open_orders_and_the_command(world, gateway, capsys):
    first = po_place_on_1688(po=draft(world))
    second = po_place_on_1688(po=draft(world))
    gateway.pay(first.platform_order_id)
    PurchaseOrder.objects.filter(pk=second.pk).update(platform_order_id="3999999999999999999")
    draft(world)  # drafts are not synced

    result = sync_open_orders()

    assert result["synced"] == 1
    assert list(result["failed"]) == [second.number]
    first.refresh_from_db()
    assert first.status == PurchaseOrderStatus.PAID

    with pytest.raises(SystemExit) as exited:
        call_command("sync_1688")
    assert exited.value.code == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "synced=1 failed=1"

    call_command("sync_1688", first.number)
    assert capsys.readouterr().out.splitlines() == ["synced=1 failed=0"]


def test_sync_task_runs_the_service(world, gateway):
    from purchasing.tasks import sync_1688_orders

    po = po_place_on_1688(po=draft(world))
    gateway.pay(po.platform_order_id)

    assert sync_1688_orders.delay().get() == {"synced": 1, "failed": {}}
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PAID
