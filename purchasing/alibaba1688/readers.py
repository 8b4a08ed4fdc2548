"""Reading 1688's answers: JSON with exact ids, fen and yuan, its time formats, and each
API's body as the value types of ``purchasing.alibaba1688.types``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from purchasing.alibaba1688.errors import Alibaba1688Error
from purchasing.alibaba1688.types import (
    ORDER_CREATE,
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
)

CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")
IMAGE_BASE = "https://cbu01.alicdn.com/"
CENT = Decimal("0.01")
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
