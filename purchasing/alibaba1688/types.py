"""The 1688 client's value types: the APIs it calls, what it sends (delivery address,
cargo lines) and what it reads back (products, previews, placed orders, order details,
logistics), every amount a ``Decimal`` in yuan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple


class Api(NamedTuple):
    namespace: str
    name: str
    version: int = 1

    def path(self, app_key: str) -> str:
        """The url path that is both requested and signed: no leading slash."""
        return f"param2/{self.version}/{self.namespace}/{self.name}/{app_key}"


PRODUCT_INFO = Api("com.alibaba.product", "alibaba.cross.productInfo")
PRODUCT_PUSH = Api("com.alibaba.product.push", "alibaba.cross.syncProductListPushed")
ORDER_PREVIEW = Api("com.alibaba.trade", "alibaba.createOrder.preview")
ORDER_CREATE = Api("com.alibaba.trade", "alibaba.trade.fastCreateOrder")
ORDER_DETAIL = Api("com.alibaba.trade", "alibaba.trade.get.buyerView")
ORDER_LIST = Api("com.alibaba.trade", "alibaba.trade.getBuyerOrderList")
LOGISTICS_INFOS = Api("com.alibaba.logistics", "alibaba.trade.getLogisticsInfos.buyerView")
LOGISTICS_TRACE = Api("com.alibaba.logistics", "alibaba.trade.getLogisticsTraceInfo.buyerView")
ORDER_CANCEL = Api("com.alibaba.trade", "alibaba.trade.cancel")
GET_TOKEN = Api("system.oauth2", "getToken")

# buyerView ``baseInfo.status`` of an order that is closed: cancelled by either side, or
# closed by 1688 (unpaid for too long, refunded in full before shipping).
CANCELLED_STATUSES = frozenset({"cancel", "terminated"})


class CancelReason(StrEnum):
    """``cancelReason`` of ``alibaba.trade.cancel``: the three documented codes."""

    BUYER_CANCEL = "buyerCancel"  # 买家取消订单
    SELLER_GOODS_LACK = "sellerGoodsLack"  # 卖家库存不足
    OTHER = "other"  # 其它


# ------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class DeliveryAddress:
    """Where the supplier ships (our consolidation warehouse in China): ``addressParam``."""

    full_name: str
    mobile: str
    province: str
    city: str
    area: str
    address: str
    post_code: str = ""
    phone: str = ""
    town: str = ""
    district_code: str = ""

    def to_param(self) -> dict[str, str]:
        param = {
            "fullName": self.full_name,
            "mobile": self.mobile,
            "phone": self.phone,
            "postCode": self.post_code,
            "provinceText": self.province,
            "cityText": self.city,
            "areaText": self.area,
            "townText": self.town,
            "address": self.address,
        }
        if self.district_code:
            param["districtCode"] = self.district_code
        return param


@dataclass(frozen=True)
class CargoLine:
    """One spec of one offer to buy: an element of ``cargoParamList``."""

    offer_id: str
    spec_id: str
    quantity: int | Decimal

    def to_param(self) -> dict[str, Any]:
        # offerId is a Long (well below 2^53); a digits-only id is sent as a JSON number.
        return {"offerId": int(self.offer_id), "specId": self.spec_id, "quantity": self.quantity}


# ------------------------------------------------------------------------------- outputs
class PriceTier(NamedTuple):
    start_quantity: int
    price: Decimal  # yuan per unit from ``start_quantity`` up


def tier_price(tiers: Sequence[PriceTier], quantity: int | Decimal) -> Decimal | None:
    """The price of the highest tier ``quantity`` reaches (the first tier below the MOQ)."""
    chosen = None
    for tier in sorted(tiers):
        if chosen is None or quantity >= tier.start_quantity:
            chosen = tier.price
    return chosen


@dataclass(frozen=True)
class ProductSpec:
    spec_id: str  # what orders name (32 hex)
    sku_id: str
    attributes: dict[str, str]  # {"颜色": "黑色", "尺码": "M"}
    price: Decimal | None  # yuan
    retail_price: Decimal | None  # yuan
    stock: int
    cargo_number: str = ""
    image_url: str = ""
    price_tiers: tuple[PriceTier, ...] = ()  # quoteType 3: tiers per SKU


@dataclass(frozen=True)
class Product:
    offer_id: str
    subject: str
    min_order_quantity: int
    unit: str
    quote_type: int  # 0 tiers by quantity, 1 price per SKU, 2/3 SKU ranges
    price_tiers: tuple[PriceTier, ...]
    specs: tuple[ProductSpec, ...]
    status: str = ""
    supplier_login_id: str = ""
    images: tuple[str, ...] = ()
    unit_weight_kg: Decimal | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def spec(self, spec_id: str) -> ProductSpec | None:
        return next((spec for spec in self.specs if spec.spec_id == spec_id), None)

    def unit_price(self, spec_id: str, quantity: int | Decimal) -> Decimal | None:
        """The yuan unit price 1688 quotes for ``quantity`` of ``spec_id``."""
        spec = self.spec(spec_id)
        if spec is not None and self.quote_type == 3 and spec.price_tiers:
            return tier_price(spec.price_tiers, quantity)
        if spec is not None and self.quote_type == 1 and spec.price is not None:
            return spec.price
        if self.price_tiers:
            return tier_price(self.price_tiers, quantity)
        return spec.price if spec is not None else None


@dataclass(frozen=True)
class PreviewLine:
    offer_id: str
    spec_id: str
    sku_id: str
    amount: Decimal  # yuan
    unit_price: Decimal  # yuan


@dataclass(frozen=True)
class OrderPreview:
    """One order as 1688 would create it (it may split a cart into several)."""

    total: Decimal  # sumPayment, incl. freight
    freight: Decimal  # sumCarriage
    goods: Decimal  # sumPaymentNoCarriage
    discount: Decimal  # discountFee, positive = money off
    additional_fee: Decimal
    lines: tuple[PreviewLine, ...]
    trade_modes: tuple[str, ...]  # values ``create_order(trade_type=...)`` accepts
    flow: str = ""
    ok: bool = True
    message: str = ""


@dataclass(frozen=True)
class FailedOffer:
    offer_id: str
    spec_id: str
    code: str
    message: str


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    total: Decimal  # yuan, incl. freight
    freight: Decimal | None  # yuan; None when 1688 did not say
    out_order_id: str = ""
    other_order_ids: tuple[str, ...] = ()  # when 1688 split the order
    failed_offers: tuple[FailedOffer, ...] = ()
    recovered: bool = False  # found by ``outOrderId`` after an unanswered create


@dataclass(frozen=True)
class CancelledOrder:
    order_id: str
    status: str  # 1688's status now: "cancel" after a confirmed cancel
    recovered: bool = False  # the cancel went unanswered and buyerView showed the order closed


@dataclass(frozen=True)
class OrderLine:
    sub_item_id: str
    offer_id: str
    spec_id: str
    sku_id: str
    name: str
    quantity: Decimal
    unit: str
    price: Decimal  # yuan per unit
    amount: Decimal  # yuan paid for the line
    status: str = ""
    logistics_status: int = 0  # 1 not shipped, 2 shipped, 3 received, 4 returned, 5 partial
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LogisticsBill:
    company: str
    bill_no: str
    status: str
    logistics_id: str = ""
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class OrderDetail:
    order_id: str
    out_order_id: str
    status: str  # waitbuyerpay, waitsellersend, waitbuyerreceive, confirm_goods, success, ...
    trade_type: str
    business_type: str
    total: Decimal  # totalAmount = goods - discount + freight
    goods_total: Decimal  # sumProductPayment
    freight: Decimal  # shippingFee
    discount: Decimal  # money off, from baseInfo.discount (fen, negative = money off)
    refund: Decimal
    created_at: datetime | None
    modified_at: datetime | None
    paid_at: datetime | None
    seller_login_id: str
    lines: tuple[OrderLine, ...]
    logistics: tuple[LogisticsBill, ...]
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TraceStep:
    at: datetime | None
    remark: str


@dataclass(frozen=True)
class LogisticsTrace:
    logistics_id: str
    bill_no: str
    order_id: str
    steps: tuple[TraceStep, ...]
