"""A client for the 1688 Open Platform (buyer side): products, order preview and creation,
buyer-view order detail and logistics. Pure Python + httpx; it holds no database state.

Protocol
    Every call is ``POST {base}/param2/1/{namespace}/{api}/{appKey}`` with a form body: the
    API's parameters (objects and lists as JSON *strings*), ``access_token``, ``_aop_timestamp``
    (epoch ms) and ``_aop_signature`` = upper-case hex HMAC-SHA1(app secret, url path + every
    other parameter as ``key + value``, sorted), where the url path has no leading slash (see
    ``sign``). The base is ``https://gw.open.1688.com/openapi`` unless an account overrides it
    (``api_base_url``, for a stand-in).

Tokens
    The buyer's ``access_token`` lives 10 hours. ``refresh_access_token`` trades the
    ``refresh_token`` for a new one at ``{base}/param2/1/system.oauth2/getToken/{appKey}``
    (``grant_type=refresh_token``, unsigned) and reports it through ``on_token(access_token,
    expires_at)`` so the caller can store it. A call answered with the gateway's expired-token
    error (``error_code`` "401", "Request need user authorized") is refreshed and sent once more.

Money (everything leaves this module as ``Decimal`` yuan)
    - yuan (JSON numbers): productInfo ``priceRanges.price``, ``skuInfos.price``,
      ``retailPrice``; preview ``cargoList.amount`` and ``finalUnitPrice`` (the official sample
      has 36 and 18 beside ``sumPaymentNoCarriage`` 3600); buyerView and order list
      ``totalAmount``, ``sumProductPayment``, ``shippingFee``, ``refund``, item ``price`` and
      ``itemAmount``.
    - **fen** (integers, ÷100): preview ``sumPayment``, ``sumCarriage``,
      ``sumPaymentNoCarriage``, ``discountFee``, ``additionalFee``; fastCreateOrder
      ``totalSuccessAmount``, ``postFee``, ``orderList.orderAmmount`` (sic); buyerView
      ``baseInfo.discount``, where negative is money off (the list sample: 39.9 goods,
      discount -3989, total 0.01). ``OrderDetail.discount`` turns it round: positive = money
      off, like ``OrderPreview.discount``.

Ids
    Order ids pass 2^53 (``3000000000000000001``), so a JavaScript or float64 reader rounds them:
    the official buyerView sample itself shows ``id`` 58218860983545944 beside ``idOfStr``
    "58218860983545941". Every body is parsed with ``parse_int=str`` (and ``parse_float=Decimal``),
    so an id is the exact text 1688 sent; ``idOfStr`` wins over ``id``.

Buying once
    One order buys from one supplier (grouping lines by supplier is the caller's job; 1688
    refuses mixed sellers with 500_002). ``create_order`` sends our purchase order number as
    ``outOrderId``. A create that failed in a way that may have reached 1688 (a timeout after
    the request left, a 5xx, an unreadable answer) is never resent blindly: the order is first
    looked up by ``outOrderId`` in the buyer order list (``find_order``) and returned when
    found; only when it is not there is the same body, with the same ``outOrderId``, sent
    again. A "duplicate" refusal is resolved the same way.

APIs (confidence)
    - ``com.alibaba.product:alibaba.cross.productInfo`` (high: doc page + SDKs). Chosen over
      ``alibaba.product.get``, which reads the *seller's* own offers. It needs a distribution
      relation first (``push_products``, ``com.alibaba.product.push:alibaba.cross.
      syncProductListPushed``, medium), else 1688 answers "没有该商品的查询权限".
    - ``com.alibaba.trade:alibaba.createOrder.preview`` (high: doc page + official sample).
    - ``com.alibaba.trade:alibaba.trade.fastCreateOrder`` (medium: named by many integrations;
      parameters as on the preview and createCrossOrder doc pages; the response is known from
      SDKs and createCrossOrder's page only, no official sample).
    - ``com.alibaba.trade:alibaba.trade.get.buyerView`` and ``alibaba.trade.getBuyerOrderList``
      (high: doc pages + official samples; the list takes ``outOrderId``).
    - ``com.alibaba.logistics:alibaba.trade.getLogisticsInfos.buyerView`` and
      ``alibaba.trade.getLogisticsTraceInfo.buyerView`` (high: doc pages + official samples).
    - ``system.oauth2:getToken`` with a refresh token (medium: community docs; some use the
      ``openapi/http/1/...`` protocol path instead of ``param2``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import httpx
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://gw.open.1688.com/openapi"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")
IMAGE_BASE = "https://cbu01.alicdn.com/"
WEBSITE = "1688"
MAX_ERROR_BODY = 2000
# Refresh this long before the stored expiry rather than meet the gateway's refusal.
TOKEN_MARGIN = timedelta(minutes=5)
PUSH_BATCH = 20  # syncProductListPushed takes at most 20 ids
CENT = Decimal("0.01")


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
GET_TOKEN = Api("system.oauth2", "getToken")

# How 1688 words errors; matched case-insensitively against its code and message.
TOKEN_EXPIRED_CODES = frozenset({"401"})
TOKEN_EXPIRED_PATTERN = re.compile(
    r"need user authori[sz]ed|user authorization is required|invalid ?session"
    r"|access[_ ]?token.{0,20}(?:expired|invalid|过期|失效|无效)|令牌.{0,6}(?:过期|失效|无效)",
    re.IGNORECASE,
)
# The app itself is refused (no API permission, bad signature, unknown app key).
APP_REFUSED_PATTERN = re.compile(r"acl|appkey|signature", re.IGNORECASE)
RATE_LIMIT_PATTERN = re.compile(
    r"qps|rate.?limit|flow.?limit|too many|frequen|限流|频繁|超限", re.IGNORECASE
)
DUPLICATE_PATTERN = re.compile(r"duplicat|already exist|重复|已存在|已经存在", re.IGNORECASE)
OK_CODES = frozenset({"", "0", "0000", "200", "success", "ok"})
# Where 1688 puts an error's code and words: gateway, API, OAuth.
CODE_KEYS = ("error_code", "errorCode", "code", "error")
MESSAGE_KEYS = (
    "error_message",
    "errorMessage",
    "errorMsg",
    "message",
    "exception",
    "error_description",
)
# Failures that happened before the request left this machine.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# ------------------------------------------------------------------------------- errors
class Alibaba1688Error(Exception):
    """1688 refused or failed a request.

    ``message`` is 1688's own words when it gave any, ``code`` its error code, ``retryable``
    whether the same call may succeed later, ``maybe_processed`` whether 1688 may have acted on
    it anyway (the request left and no clear answer came back); ``status``/``body`` are for the
    log.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retryable: bool = False,
        maybe_processed: bool = False,
        status: int | None = None,
        body: Any = None,
        api: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.maybe_processed = maybe_processed
        self.status = status
        self.body = body
        self.api = api

    def __str__(self) -> str:
        return f"1688 {self.api}: {self.message}" if self.api else f"1688: {self.message}"


class Alibaba1688AuthError(Alibaba1688Error):
    """The app or the buyer's authorisation was refused: a person must fix the account."""


class Alibaba1688TokenExpired(Alibaba1688AuthError):
    """The access token expired; a refresh token turns it into a new one."""


class Alibaba1688Timeout(Alibaba1688Error):
    """No answer in time."""


# ------------------------------------------------------------------------------- signing
def sign(url_path: str, params: Mapping[str, str], secret: str) -> str:
    """``_aop_signature``: upper-case hex HMAC-SHA1 keyed with the app secret over
    ``url_path`` + the ``key + value`` strings of ``params`` (``_aop_signature`` itself left
    out), sorted and joined without separators or URL encoding.

    The official Java SDK (``SignatureUtil.hmacSha1``) sorts the joined ``key + value``
    strings, not the keys; both orders agree unless one key is a prefix of another and the
    shorter key's value sorts after the rest of the longer key (``a=z``, ``ab=0``). We follow
    the SDK, which is what the gateway checks.
    """
    pieces = sorted(f"{key}{value}" for key, value in params.items() if key != "_aop_signature")
    digest = hmac.new(
        secret.encode("utf-8"), (url_path + "".join(pieces)).encode("utf-8"), hashlib.sha1
    )
    return digest.hexdigest().upper()


def json_param(value: Any) -> str:
    """An object parameter as the JSON string that is both sent and signed."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_number)


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def form_value(value: Any) -> str:
    """A parameter value as the gateway takes it: text as is, objects and lists as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        return json_param(value)
    return str(value)


# ------------------------------------------------------------------------------- parsing
def loads(content: bytes | str) -> Any:
    """1688 JSON with every integer kept as its exact text and every fraction a Decimal."""
    return json.loads(content, parse_int=str, parse_float=Decimal)


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def number(value: Any) -> Decimal | None:
    """A Decimal from a JSON number or numeric text; None when absent or unreadable."""
    if value is None or isinstance(value, bool) or text(value) == "":
        return None
    try:
        return Decimal(text(value))
    except InvalidOperation:
        return None


def integer(value: Any, default: int = 0) -> int:
    amount = number(value)
    return int(amount) if amount is not None else default


def yuan(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A yuan amount as sent (1688 numbers in yuan need no scaling)."""
    amount = number(value)
    return amount if amount is not None else default


def fen(value: Any) -> Decimal:
    """A fen (分) integer as Decimal yuan, two places; absent counts as zero."""
    amount = number(value) or Decimal(0)
    return (amount / 100).quantize(CENT)


TIME_1688 = re.compile(r"(\d{14})(\d{3})?([+-]\d{4})?")


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from ``20170913231708000-0700`` (yyyyMMddHHmmssSSS±zzzz, orders) or
    ``2018-07-24 21:55:33`` (logistics, China time). None when absent or unreadable."""
    raw = text(value)
    if not raw:
        return None
    match = TIME_1688.fullmatch(raw)
    if match:
        digits, millis, offset = match.groups()
        try:
            moment = datetime.strptime(digits, "%Y%m%d%H%M%S")
        except ValueError:
            return None
        moment = moment.replace(microsecond=int(millis or 0) * 1000)
        tz = CHINA_TZ
        if offset:
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
            tz = timezone(-delta if offset[0] == "-" else delta)
        return moment.replace(tzinfo=tz)
    try:
        moment = datetime.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def image_url(path: Any) -> str:
    """productInfo gives image paths relative to the CDN."""
    raw = text(path)
    if not raw or raw.startswith(("http://", "https://", "//")):
        return raw
    return IMAGE_BASE + raw.lstrip("/")


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


# ------------------------------------------------------------------------------- readers
def product_from(info: Mapping[str, Any]) -> Product:
    sale = info.get("saleInfo") or {}
    specs = []
    for sku in info.get("skuInfos") or []:
        attributes: dict[str, str] = {}
        picture = ""
        for attr in sku.get("attributes") or []:
            name = text(attr.get("attributeDisplayName") or attr.get("attributeName"))
            attributes[name or text(attr.get("attributeID"))] = text(
                attr.get("attributeValue") or attr.get("customValueName")
            )
            picture = picture or image_url(attr.get("skuImageUrl"))
        specs.append(
            ProductSpec(
                spec_id=text(sku.get("specId")),
                sku_id=text(sku.get("skuId")),
                attributes=attributes,
                price=yuan(sku.get("price")),
                retail_price=yuan(sku.get("retailPrice")),
                stock=integer(sku.get("amountOnSale")),
                cargo_number=text(sku.get("cargoNumber")),
                image_url=picture,
                price_tiers=tiers_from(sku.get("priceRange")),
            )
        )
    image = info.get("image") or {}
    shipping = info.get("shippingInfo") or {}
    return Product(
        offer_id=text(info.get("productID")),
        subject=text(info.get("subject")),
        min_order_quantity=integer(sale.get("minOrderQuantity"), default=1) or 1,
        unit=text(sale.get("unit")),
        quote_type=integer(sale.get("quoteType")),
        price_tiers=tiers_from(sale.get("priceRanges")),
        specs=tuple(specs),
        status=text(info.get("status")),
        supplier_login_id=text(info.get("supplierLoginId") or info.get("sellerLoginId")),
        images=tuple(image_url(path) for path in image.get("images") or [] if text(path)),
        unit_weight_kg=yuan(shipping.get("unitWeight")),
        raw=dict(info),
    )


def tiers_from(ranges: Iterable[Mapping[str, Any]] | None) -> tuple[PriceTier, ...]:
    tiers = [
        PriceTier(integer(entry.get("startQuantity"), default=1), price)
        for entry in ranges or []
        if (price := yuan(entry.get("price"))) is not None
    ]
    return tuple(sorted(tiers))


def preview_from(entry: Mapping[str, Any]) -> OrderPreview:
    lines = tuple(
        PreviewLine(
            offer_id=text(cargo.get("offerId")),
            spec_id=text(cargo.get("specId")),
            sku_id=text(cargo.get("skuId")),
            amount=yuan(cargo.get("amount"), Decimal(0)),
            unit_price=yuan(cargo.get("finalUnitPrice"), Decimal(0)),
        )
        for cargo in entry.get("cargoList") or []
    )
    return OrderPreview(
        total=fen(entry.get("sumPayment")),
        freight=fen(entry.get("sumCarriage")),
        goods=fen(entry.get("sumPaymentNoCarriage")),
        discount=fen(entry.get("discountFee")),
        additional_fee=fen(entry.get("additionalFee")),
        lines=lines,
        trade_modes=tuple(text(mode) for mode in entry.get("tradeModeNameList") or []),
        flow=text(entry.get("flowFlag")),
        ok=entry.get("status") not in (False, "false"),
        message=text(entry.get("message")),
    )


def order_id_of(base: Mapping[str, Any]) -> str:
    """``idOfStr`` when sent (``id`` may have been rounded on 1688's side), else ``id``."""
    return text(base.get("idOfStr")) or text(base.get("id"))


def bill_from(item: Mapping[str, Any]) -> LogisticsBill:
    return LogisticsBill(
        company=text(item.get("logisticsCompanyName") or item.get("logisticsCompanyId")),
        bill_no=text(item.get("logisticsBillNo")),
        status=text(item.get("status")),
        logistics_id=text(item.get("logisticsId") or item.get("logisticsCode")),
        delivered_at=parse_time(item.get("deliveredTime")),
    )


def detail_from(trade: Mapping[str, Any]) -> OrderDetail:
    base = trade.get("baseInfo") or {}
    lines = tuple(
        OrderLine(
            sub_item_id=text(item.get("subItemIDString") or item.get("subItemID")),
            offer_id=text(item.get("productID")),
            spec_id=text(item.get("specId")),
            sku_id=text(item.get("skuID")),
            name=text(item.get("name")),
            quantity=number(item.get("quantity")) or Decimal(0),
            unit=text(item.get("unit")),
            price=yuan(item.get("price"), Decimal(0)),
            amount=yuan(item.get("itemAmount"), Decimal(0)),
            status=text(item.get("status")),
            logistics_status=integer(item.get("logisticsStatus")),
            attributes={
                text(i.get("name")): text(i.get("value")) for i in item.get("skuInfos") or []
            },
        )
        for item in trade.get("productItems") or []
    )
    native = trade.get("nativeLogistics") or {}
    return OrderDetail(
        order_id=order_id_of(base),
        out_order_id=text(base.get("outOrderId")),
        status=text(base.get("status")),
        trade_type=text(base.get("tradeTypeCode") or base.get("tradeType")),
        business_type=text(base.get("businessType")),
        total=yuan(base.get("totalAmount"), Decimal(0)),
        goods_total=yuan(base.get("sumProductPayment"), Decimal(0)),
        freight=yuan(base.get("shippingFee"), Decimal(0)),
        discount=fen(-(number(base.get("discount")) or Decimal(0))),
        refund=yuan(base.get("refund"), Decimal(0)),
        created_at=parse_time(base.get("createTime")),
        modified_at=parse_time(base.get("modifyTime")),
        paid_at=parse_time(base.get("payTime")),
        seller_login_id=text(base.get("sellerLoginId")),
        lines=lines,
        logistics=tuple(bill_from(item) for item in native.get("logisticsItems") or []),
        raw=dict(trade),
    )


def placed_from_create(body: Mapping[str, Any], out_order_id: str) -> PlacedOrder:
    """The fastCreateOrder answer. An order id means an order exists, whatever ``success``
    says (the documented sample of a good order carries ``success: false``)."""
    result = body.get("result") if isinstance(body.get("result"), Mapping) else body
    split = [entry for entry in result.get("orderList") or [] if text(entry.get("orderId"))]
    ids = [text(result.get("orderId"))] if text(result.get("orderId")) else []
    ids += [text(entry.get("orderId")) for entry in split if text(entry.get("orderId")) not in ids]
    if not ids:
        raise Alibaba1688Error(
            text(result.get("message") or body.get("message"))
            or _("1688 created no order and gave no reason."),
            code=text(result.get("code") or body.get("code")),
            body=dict(body),
            api=ORDER_CREATE.name,
        )
    if result.get("totalSuccessAmount") not in (None, ""):
        total = fen(result.get("totalSuccessAmount"))
    else:
        total = sum((fen(entry.get("orderAmmount")) for entry in split), Decimal("0.00"))
    if result.get("postFee") not in (None, ""):
        freight: Decimal | None = fen(result.get("postFee"))
    elif split:
        freight = sum((fen(entry.get("postFee")) for entry in split), Decimal("0.00"))
    else:
        freight = None
    failed = result.get("failedOfferList") or []
    if isinstance(failed, Mapping):
        failed = [failed]
    return PlacedOrder(
        order_id=ids[0],
        total=total,
        freight=freight,
        out_order_id=out_order_id,
        other_order_ids=tuple(ids[1:]),
        failed_offers=tuple(
            FailedOffer(
                offer_id=text(entry.get("offerId")),
                spec_id=text(entry.get("specId")),
                code=text(entry.get("errorCode")),
                message=text(entry.get("errorMessage")),
            )
            for entry in failed
            if isinstance(entry, Mapping)
        ),
    )


def placed_from_trade(trade: Mapping[str, Any], out_order_id: str) -> PlacedOrder:
    """An order found by ``outOrderId`` (list or detail shape)."""
    base = trade.get("baseInfo") or {}
    return PlacedOrder(
        order_id=order_id_of(base),
        total=yuan(base.get("totalAmount"), Decimal(0)),
        freight=yuan(base.get("shippingFee")),
        out_order_id=out_order_id,
        recovered=True,
    )


def traces_from(body: Mapping[str, Any]) -> list[LogisticsTrace]:
    traces = []
    for entry in body.get("logisticsTrace") or []:
        steps = [
            TraceStep(at=parse_time(step.get("acceptTime")), remark=text(step.get("remark")))
            for step in entry.get("logisticsSteps") or []
        ]
        steps.sort(key=lambda step: step.at or datetime.min.replace(tzinfo=UTC))
        traces.append(
            LogisticsTrace(
                logistics_id=text(entry.get("logisticsId")),
                bill_no=text(entry.get("logisticsBillNo")),
                order_id=text(entry.get("orderId")),
                steps=tuple(steps),
            )
        )
    return traces


def envelope_error(body: Any) -> tuple[str, str] | None:
    """``(code, message)`` when a 1688 body reports a failure, else None.

    The shapes: ``success`` false (a bool, or the string "false" on buyerView) with
    ``errorCode``/``errorMessage``, ``errorMsg`` (preview) or ``code``/``message`` (create);
    the gateway's own ``error_code``/``error_message``/``exception``; OAuth's
    ``error``/``error_description``. A body carrying an order id is never a failure.
    """
    if not isinstance(body, Mapping):
        return None
    result = body.get("result")
    for created in (body, result):
        if isinstance(created, Mapping) and (
            text(created.get("orderId")) or created.get("orderList")
        ):
            return None
    success = body.get("success")
    flag = text(success).lower() if success is not None else ""
    code = next((text(body[k]) for k in CODE_KEYS if text(body.get(k))), "")
    message = next((text(body[k]) for k in MESSAGE_KEYS if text(body.get(k))), "")
    if flag == "false" or (flag != "true" and code.lower() not in OK_CODES):
        return code, message
    return None


# ------------------------------------------------------------------------------- client
class Client:
    """One 1688 buyer account: one ``httpx.Client``, closed with the client.

    ``transport`` takes an ``httpx.MockTransport`` in tests; ``sleep`` and ``clock`` (epoch
    seconds) are arguments so tests neither wait nor read the wall clock. Calls are retried on
    429, 5xx and network errors with exponential backoff (``Retry-After`` when sent), except
    that a create is never resent before ``find_order`` has looked for it.
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        access_token: str,
        refresh_token: str = "",
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 4,
        on_token: Callable[[str, datetime | None], None] | None = None,
        token_expires_at: datetime | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
    ):
        if not (app_key or "").strip() or not (app_secret or "").strip():
            raise Alibaba1688AuthError(
                _("The 1688 account needs its app key and app secret."),
                code="missing_credentials",
            )
        self.app_key = app_key.strip()
        self.app_secret = app_secret.strip()
        self.access_token = (access_token or "").strip()
        self.refresh_token = (refresh_token or "").strip()
        if token_expires_at is not None and token_expires_at.tzinfo is None:
            token_expires_at = token_expires_at.replace(tzinfo=UTC)
        self.token_expires_at = token_expires_at
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max(1, max_attempts)
        self.on_token = on_token
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.http = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "User-Agent": "Caravan-ERP/1.0 (Language=Python)",
                "Accept": "application/json",
            },
        )

    @classmethod
    def for_account(cls, account: Any, **kwargs: Any) -> Client:
        """A client for an ``Account1688``-like object: ``app_key``, ``api_base_url``,
        ``token_expires_at`` and ``get_credentials()`` holding ``app_secret``,
        ``access_token`` and ``refresh_token``."""
        credentials = account.get_credentials()
        return cls(
            app_key=account.app_key,
            app_secret=str(credentials.get("app_secret") or ""),
            access_token=str(credentials.get("access_token") or ""),
            refresh_token=str(credentials.get("refresh_token") or ""),
            base_url=getattr(account, "api_base_url", "") or DEFAULT_BASE_URL,
            token_expires_at=getattr(account, "token_expires_at", None),
            **kwargs,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ calls
    def product_info(self, offer_id: str) -> Product:
        """An offer's subject, MOQ, price tiers and specs (``alibaba.cross.productInfo``)."""
        body = self.call(PRODUCT_INFO, {"productId": text(offer_id)})
        info = body.get("productInfo")
        if not isinstance(info, Mapping):
            raise self.bad_answer(PRODUCT_INFO, body)
        return product_from(info)

    def push_products(self, offer_ids: Sequence[str]) -> None:
        """Add offers to the distribution list, which ``product_info`` needs first."""
        ids = [int(text(offer_id)) for offer_id in offer_ids]
        for start in range(0, len(ids), PUSH_BATCH):
            body = self.call(PRODUCT_PUSH, {"productIdList": ids[start : start + PUSH_BATCH]})
            result = body.get("result")
            failure = envelope_error(result) if isinstance(result, Mapping) else None
            if failure:
                code, message = failure
                raise Alibaba1688Error(
                    message or _("1688 refused the request without a reason."),
                    code=code,
                    body=body,
                    api=PRODUCT_PUSH.name,
                )

    def preview_order(
        self,
        *,
        address: DeliveryAddress,
        cargo: Sequence[CargoLine],
        flow: str = "general",
    ) -> list[OrderPreview]:
        """What 1688 would charge (goods, freight, discounts) and which trade modes it takes;
        one entry per order it would create. Stock, MOQ and mixed-batch rules are checked."""
        self.check_cargo(cargo)
        body = self.call(
            ORDER_PREVIEW,
            {
                "flow": flow,
                "addressParam": address.to_param(),
                "cargoParamList": [line.to_param() for line in cargo],
            },
        )
        entries = body.get("orderPreviewResuslt") or body.get("orderPreviewResult")
        if not isinstance(entries, list):
            raise self.bad_answer(ORDER_PREVIEW, body)
        return [preview_from(entry) for entry in entries if isinstance(entry, Mapping)]

    def create_order(
        self,
        *,
        out_order_id: str,
        address: DeliveryAddress,
        cargo: Sequence[CargoLine],
        flow: str = "general",
        message: str = "",
        trade_type: str = "",
    ) -> PlacedOrder:
        """Create one order with one supplier's offers (``fastCreateOrder``), or return the
        one an earlier attempt with the same ``out_order_id`` (our PO number) created.

        Never creates two: a failure that may have reached 1688 and a "duplicate" refusal are
        both resolved by ``find_order`` before anything is resent, and a resend carries the
        same ``outOrderId``.
        """
        out_order_id = text(out_order_id)
        if not out_order_id:
            raise Alibaba1688Error(
                _("A 1688 order needs our PO number: it keeps a retry from buying twice."),
                code="invalid_request",
                api=ORDER_CREATE.name,
            )
        self.check_cargo(cargo)
        params: dict[str, Any] = {
            "flow": flow,
            "addressParam": address.to_param(),
            "cargoParamList": [line.to_param() for line in cargo],
            "outOrderId": out_order_id,
        }
        if message:
            params["message"] = message[:500]
        if trade_type:
            params["tradeType"] = trade_type
        attempt = 0
        while True:
            attempt += 1
            try:
                body = self.call(ORDER_CREATE, params, unsafe=True)
                return placed_from_create(body, out_order_id)
            except Alibaba1688AuthError:
                raise
            except Alibaba1688Error as exc:
                duplicate = bool(DUPLICATE_PATTERN.search(exc.message))
                if not (exc.maybe_processed or duplicate):
                    raise
                if not duplicate:
                    self.sleep(self.backoff(attempt))  # give 1688 a moment to list it
                try:
                    found = self.find_order(out_order_id, cargo)
                except Alibaba1688Error as lookup_error:
                    # The order may exist: the create's own error says so, the lookup's not.
                    raise exc from lookup_error
                if found is not None:
                    logger.info("1688 order %s already exists for %s", found.order_id, out_order_id)
                    return found
                if duplicate or attempt >= self.max_attempts:
                    raise
                logger.warning(
                    "1688 has no order for %s after %s; sending it again", out_order_id, exc.code
                )

    def find_order(self, out_order_id: str, cargo: Sequence[CargoLine] = ()) -> PlacedOrder | None:
        """The order created with ``outOrderId`` = ``out_order_id``, or None.

        Asks the buyer order list filtered by ``outOrderId`` and trusts only an order that
        states the same ``outOrderId`` (in the list, or else in its buyerView detail). When
        1688 states it nowhere, a single listed order whose offers, specs and quantities are
        exactly ``cargo`` counts.
        """
        body = self.call(ORDER_LIST, {"outOrderId": out_order_id, "page": 1, "pageSize": 20})
        unconfirmed = []
        for trade in body.get("result") or []:
            if not isinstance(trade, Mapping):
                continue
            stated = text((trade.get("baseInfo") or {}).get("outOrderId"))
            if not stated:
                order_id = order_id_of(trade.get("baseInfo") or {})
                if not order_id:
                    continue
                detail = self.order_trade(order_id)
                stated = text((detail.get("baseInfo") or {}).get("outOrderId"))
                trade = detail or trade
            if stated == out_order_id:
                return placed_from_trade(trade, out_order_id)
            if not stated:
                unconfirmed.append(trade)
        if len(unconfirmed) == 1 and cargo and same_cargo(unconfirmed[0], cargo):
            return placed_from_trade(unconfirmed[0], out_order_id)
        return None

    def order_trade(self, order_id: str) -> dict:
        """The raw buyerView ``result`` (TradeInfo) of one order."""
        body = self.call(
            ORDER_DETAIL,
            {"webSite": WEBSITE, "orderId": text(order_id), "includeFields": "NativeLogistics"},
        )
        trade = body.get("result")
        if not isinstance(trade, Mapping):
            raise self.bad_answer(ORDER_DETAIL, body)
        return dict(trade)

    def order_detail(self, order_id: str) -> OrderDetail:
        """Status, payment, amounts, lines and shipments of one order (buyer view)."""
        return detail_from(self.order_trade(order_id))

    def logistics_bills(self, order_id: str) -> list[LogisticsBill]:
        """The order's shipments (``getLogisticsInfos.buyerView``)."""
        body = self.call(LOGISTICS_INFOS, {"webSite": WEBSITE, "orderId": text(order_id)})
        return [bill_from(item) for item in body.get("result") or [] if isinstance(item, Mapping)]

    def logistics_trace(self, order_id: str, logistics_id: str = "") -> list[LogisticsTrace]:
        """Carrier scans per shipment, oldest first (``getLogisticsTraceInfo.buyerView``)."""
        params = {"webSite": WEBSITE, "orderId": text(order_id)}
        if logistics_id:
            params["logisticsId"] = logistics_id
        return traces_from(self.call(LOGISTICS_TRACE, params))

    # ------------------------------------------------------------------------ tokens
    def refresh_access_token(self) -> str:
        """Trade the refresh token for a new access token and report it to ``on_token``."""
        if not self.refresh_token:
            raise Alibaba1688TokenExpired(
                _("The 1688 token expired and no refresh token is stored: authorise again."),
                code="token_expired",
                api=GET_TOKEN.name,
            )
        form = {
            "grant_type": "refresh_token",
            "client_id": self.app_key,
            "client_secret": self.app_secret,
            "refresh_token": self.refresh_token,
        }
        try:
            body = self.exchange(GET_TOKEN, lambda: dict(form), unsafe=False)
        except Alibaba1688Error as exc:
            if exc.retryable:
                raise
            raise Alibaba1688AuthError(
                exc.message, code=exc.code, status=exc.status, body=exc.body, api=GET_TOKEN.name
            ) from exc
        token = text(body.get("access_token")) if isinstance(body, Mapping) else ""
        if not token:
            raise Alibaba1688AuthError(
                _("1688 did not issue a new access token."),
                code="no_token",
                body=body,
                api=GET_TOKEN.name,
            )
        self.access_token = token
        lifetime = integer(body.get("expires_in"))
        self.token_expires_at = (
            datetime.fromtimestamp(self.clock(), UTC) + timedelta(seconds=lifetime)
            if lifetime > 0
            else None
        )
        if text(body.get("refresh_token")):
            self.refresh_token = text(body.get("refresh_token"))
        if self.on_token is not None:
            self.on_token(self.access_token, self.token_expires_at)
        return token

    def refresh_if_due(self) -> None:
        now = datetime.fromtimestamp(self.clock(), UTC)
        due = not self.access_token or (
            self.token_expires_at is not None and now >= self.token_expires_at - TOKEN_MARGIN
        )
        if due and (self.refresh_token or not self.access_token):
            self.refresh_access_token()

    # ------------------------------------------------------------------------ transport
    def signed_form(self, api: Api, params: Mapping[str, Any] | None) -> dict[str, str]:
        """The form for one attempt: parameters, token, a fresh timestamp and the signature."""
        form = {
            key: form_value(value) for key, value in (params or {}).items() if value is not None
        }
        form["access_token"] = self.access_token
        form["_aop_timestamp"] = str(int(round(self.clock() * 1000)))
        form["_aop_signature"] = sign(api.path(self.app_key), form, self.app_secret)
        return form

    def call(
        self, api: Api, params: Mapping[str, Any] | None = None, *, unsafe: bool = False
    ) -> dict:
        """One signed API call: the answer body, or 1688's error as ``Alibaba1688Error``.

        ``unsafe`` (a create) means a failure that may have reached 1688 is raised at once
        (``maybe_processed``) instead of being retried. An expired token is refreshed and the
        call sent once more.
        """
        self.refresh_if_due()
        try:
            body = self.exchange(api, lambda: self.signed_form(api, params), unsafe=unsafe)
        except Alibaba1688TokenExpired:
            if not self.refresh_token:
                raise
            self.refresh_access_token()
            body = self.exchange(api, lambda: self.signed_form(api, params), unsafe=unsafe)
        if not isinstance(body, Mapping):
            raise self.bad_answer(api, body, maybe_processed=unsafe)
        return dict(body)

    def exchange(self, api: Api, build_form: Callable[[], dict[str, str]], *, unsafe: bool) -> Any:
        """POST the form (rebuilt per attempt) with retries; the decoded body of a success."""
        url = f"{self.base_url}/{api.path(self.app_key)}"
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            try:
                response = self.http.post(url, data=build_form())
            except httpx.TransportError as exc:
                sent = not isinstance(exc, NOT_SENT)
                if not last and not (unsafe and sent):
                    self.wait(None, attempt, api, repr(exc))
                    continue
                words = {"error": str(exc) or type(exc).__name__}
                if isinstance(exc, httpx.TimeoutException):
                    raise Alibaba1688Timeout(
                        _("1688 did not answer in time (%(error)s).") % words,
                        code="timeout",
                        retryable=True,
                        maybe_processed=sent,
                        api=api.name,
                    ) from exc
                raise Alibaba1688Error(
                    _("1688 could not be reached (%(error)s).") % words,
                    code="network",
                    retryable=True,
                    maybe_processed=sent,
                    api=api.name,
                ) from exc
            try:
                body = loads(response.content)
            except ValueError:
                body = None
            error = self.error_of(api, response, body)
            if error is None:
                return body
            if error.retryable and not last and not (unsafe and error.maybe_processed):
                delay = self.retry_delay(response, attempt)
                if delay <= self.backoff_cap:
                    self.wait(delay, attempt, api, error.code)
                    continue
            raise error

    def error_of(self, api: Api, response: httpx.Response, body: Any) -> Alibaba1688Error | None:
        """None for a good answer, else the error it carries, classified."""
        status = response.status_code
        failure = envelope_error(body)
        if failure is None and response.is_success:
            if body is None:
                return Alibaba1688Error(
                    _("1688 answered something that is not JSON (HTTP %(status)s).")
                    % {"status": status},
                    code="not_json",
                    maybe_processed=True,
                    status=status,
                    body=response.text[:MAX_ERROR_BODY],
                    api=api.name,
                )
            return None
        code, message = failure or (str(status), "")
        if not message:
            message = (
                (
                    response.text.strip()[:300]
                    if body is None
                    else _("1688 refused the request without a reason.")
                )
                or response.reason_phrase
                or f"HTTP {status}"
            )
        words = f"{code} {message}"
        kwargs = {"code": code, "status": status, "body": body, "api": api.name}
        if code in TOKEN_EXPIRED_CODES or TOKEN_EXPIRED_PATTERN.search(words):
            return Alibaba1688TokenExpired(message, **kwargs)
        if status in (401, 403) or (status < 500 and APP_REFUSED_PATTERN.search(code)):
            return Alibaba1688AuthError(message, **kwargs)
        if status == 429 or RATE_LIMIT_PATTERN.search(words):
            return Alibaba1688Error(message, retryable=True, **kwargs)
        if status >= 500:
            return Alibaba1688Error(message, retryable=True, maybe_processed=True, **kwargs)
        return Alibaba1688Error(message, **kwargs)

    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        hinted = response.headers.get("Retry-After") if response is not None else None
        if hinted:
            try:
                return max(0.0, float(hinted))
            except ValueError:
                pass
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))

    def wait(self, delay: float | None, attempt: int, api: Api, reason: str) -> None:
        delay = self.backoff(attempt) if delay is None else delay
        logger.warning("1688 %s failed (%s); retry %d in %.1fs", api.name, reason, attempt, delay)
        self.sleep(delay)

    def bad_answer(self, api: Api, body: Any, *, maybe_processed: bool = False) -> Alibaba1688Error:
        return Alibaba1688Error(
            _("1688 answered without the data the call returns."),
            code="bad_response",
            maybe_processed=maybe_processed,
            body=body,
            api=api.name,
        )

    @staticmethod
    def check_cargo(cargo: Sequence[CargoLine]) -> None:
        bad = [
            line
            for line in cargo
            if not text(line.offer_id).isdigit() or not text(line.spec_id) or not line.quantity > 0
        ]
        if not cargo or bad:
            raise Alibaba1688Error(
                _("Each 1688 order line needs an offer id, a spec id and a quantity."),
                code="invalid_request",
            )


def same_cargo(trade: Mapping[str, Any], cargo: Sequence[CargoLine]) -> bool:
    """Whether an order's items are exactly these offers, specs and quantities."""

    def key(offer: Any, spec: Any, quantity: Any) -> tuple[str, str, Decimal]:
        return text(offer), text(spec), number(quantity) or Decimal(0)

    ordered = sorted(
        key(item.get("productID"), item.get("specId"), item.get("quantity"))
        for item in trade.get("productItems") or []
    )
    wanted = sorted(key(line.offer_id, line.spec_id, line.quantity) for line in cargo)
    return bool(ordered) and ordered == wanted
