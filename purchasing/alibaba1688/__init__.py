"""A client for the 1688 Open Platform (buyer side): products, order preview, creation and
cancellation, buyer-view order detail and logistics. Pure Python + httpx; it holds no database
state.

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

Cancelling
    ``cancel_order`` closes an order that still waits for the buyer's payment; after payment
    1688 refuses (the buyer asks for a refund on 1688 instead) and its refusal is raised in its
    words. A cancel left unanswered is never resent blindly nor taken for done: buyerView
    says whether the order is closed (``cancel``/``terminated``).

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
    - ``com.alibaba.trade:alibaba.trade.cancel`` (medium-high). Confirmed by SDK classes
      generated from the official SDK (PHP ``AlibabaTradeCancelParam``/``Result`` in
      chatugpt/keyi1688 and Is4ngle's alibaba-open; the Python ``aop`` class citing
      ``open.1688.com/api/api.htm?ns=com.alibaba.trade&n=alibaba.trade.cancel&v=1``) and by
      integrations (a Go client, a C# one, a Java sample, the dajisaas proxy docs): params
      ``webSite`` ("1688"), ``tradeID`` (Long, spelt with a capital ID), ``cancelReason`` =
      ``buyerCancel`` | ``sellerGoodsLack`` | ``other``, ``remark``; answer ``{success,
      errorCode, errorMessage}``; "1688 can cancel unpaid orders"; closing an order less than
      10 s after its creation fails with ``CLOSE_ORDER_TOO_FAST``. Not confirmed: whether
      ``remark`` is required (the generated classes mark every field required, result fields
      too; the Go, C# and Java integrations send none when empty, so we do the same), its
      length limit, and the code and words 1688 uses to refuse a paid order (no public
      sample: the fixtures' refusal is made up in the documented shape).
"""

from purchasing.alibaba1688.client import (
    APP_REFUSED_PATTERN,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    DUPLICATE_PATTERN,
    MAX_ERROR_BODY,
    MAX_REMARK,
    NOT_SENT,
    PUSH_BATCH,
    RATE_LIMIT_PATTERN,
    TOKEN_EXPIRED_CODES,
    TOKEN_EXPIRED_PATTERN,
    TOKEN_MARGIN,
    WEBSITE,
    Client,
    form_value,
    json_param,
    same_cargo,
    sign,
)
from purchasing.alibaba1688.errors import (
    Alibaba1688AuthError,
    Alibaba1688Error,
    Alibaba1688Timeout,
    Alibaba1688TokenExpired,
)
from purchasing.alibaba1688.readers import (
    CENT,
    CHINA_TZ,
    CODE_KEYS,
    IMAGE_BASE,
    MESSAGE_KEYS,
    OK_CODES,
    TIME_1688,
    bill_from,
    detail_from,
    envelope_error,
    fen,
    image_url,
    integer,
    loads,
    number,
    order_id_of,
    parse_time,
    placed_from_create,
    placed_from_trade,
    preview_from,
    product_from,
    text,
    tiers_from,
    traces_from,
    yuan,
)
from purchasing.alibaba1688.types import (
    CANCELLED_STATUSES,
    GET_TOKEN,
    LOGISTICS_INFOS,
    LOGISTICS_TRACE,
    ORDER_CANCEL,
    ORDER_CREATE,
    ORDER_DETAIL,
    ORDER_LIST,
    ORDER_PREVIEW,
    PRODUCT_INFO,
    PRODUCT_PUSH,
    Api,
    CancelledOrder,
    CancelReason,
    CargoLine,
    DeliveryAddress,
    FailedOffer,
    LogisticsBill,
    LogisticsTrace,
    OrderDetail,
    OrderLine,
    OrderPreview,
    PlacedOrder,
    PreviewLine,
    PriceTier,
    Product,
    ProductSpec,
    TraceStep,
    tier_price,
)

__all__ = [
    "APP_REFUSED_PATTERN",
    "Alibaba1688AuthError",
    "Alibaba1688Error",
    "Alibaba1688Timeout",
    "Alibaba1688TokenExpired",
    "Api",
    "CANCELLED_STATUSES",
    "CENT",
    "CHINA_TZ",
    "CODE_KEYS",
    "CancelReason",
    "CancelledOrder",
    "CargoLine",
    "Client",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DUPLICATE_PATTERN",
    "DeliveryAddress",
    "FailedOffer",
    "GET_TOKEN",
    "IMAGE_BASE",
    "LOGISTICS_INFOS",
    "LOGISTICS_TRACE",
    "LogisticsBill",
    "LogisticsTrace",
    "MAX_ERROR_BODY",
    "MAX_REMARK",
    "MESSAGE_KEYS",
    "NOT_SENT",
    "OK_CODES",
    "ORDER_CANCEL",
    "ORDER_CREATE",
    "ORDER_DETAIL",
    "ORDER_LIST",
    "ORDER_PREVIEW",
    "OrderDetail",
    "OrderLine",
    "OrderPreview",
    "PRODUCT_INFO",
    "PRODUCT_PUSH",
    "PUSH_BATCH",
    "PlacedOrder",
    "PreviewLine",
    "PriceTier",
    "Product",
    "ProductSpec",
    "RATE_LIMIT_PATTERN",
    "TIME_1688",
    "TOKEN_EXPIRED_CODES",
    "TOKEN_EXPIRED_PATTERN",
    "TOKEN_MARGIN",
    "TraceStep",
    "WEBSITE",
    "bill_from",
    "detail_from",
    "envelope_error",
    "fen",
    "form_value",
    "image_url",
    "integer",
    "json_param",
    "loads",
    "number",
    "order_id_of",
    "parse_time",
    "placed_from_create",
    "placed_from_trade",
    "preview_from",
    "product_from",
    "same_cargo",
    "sign",
    "text",
    "tier_price",
    "tiers_from",
    "traces_from",
    "yuan",
]
