"""A small stand-in for the 1688 Open Platform gateway, for ``httpx.MockTransport``.

It keeps products and orders in memory, checks the app key, the access token and the
``_aop_signature`` of every call (with its own copy of the documented algorithm), and answers
in the documented shapes: sums in fen from preview and create, amounts in yuan from the order
calls, order ids above 2^53 as bare JSON numbers beside ``idOfStr``. Like 1688 it cancels only
an order still waiting for payment (``alibaba.trade.cancel``) and refuses the rest in its
words. Service and e2e tests can reuse it:

    gateway = FakeGateway.seeded()
    client = Client(app_key=gateway.app_key, app_secret=gateway.app_secret,
                    access_token=gateway.access_token, refresh_token=gateway.refresh_token,
                    base_url="https://gw.test/openapi", transport=gateway.transport(),
                    sleep=lambda s: None)

Like the real platform it may (``honours_out_order_id=True``) or may not refuse a second order
with a known ``outOrderId``; by default it does not, so only the client can prevent a double
purchase. ``then(api, action...)`` scripts faults: an ``httpx.Response`` to answer, or a
callable ``(request, form) -> Response`` that may raise (see ``timeout`` and
``processed_then_timeout``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

from purchasing.alibaba1688 import Client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "1688"
CHINA = timezone(timedelta(hours=8))
FIRST_ORDER_ID = 3_000_000_000_000_000_001  # above 2^53: a float would round it
CANCEL_REASONS = frozenset({"buyerCancel", "sellerGoodsLack", "other"})


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def answer(payload: dict, status: int = 200) -> httpx.Response:
    """JSON as 1688 writes it: UTF-8, integers exactly as Python holds them."""
    return httpx.Response(
        status,
        content=json.dumps(payload, ensure_ascii=False, default=_number).encode("utf-8"),
        headers={"Content-Type": "application/json;charset=UTF-8"},
    )


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def signature(path: str, form: dict[str, str], secret: str) -> str:
    """The gateway's check: HMAC-SHA1 over the path and the sorted ``key+value`` strings."""
    joined = "".join(sorted(k + v for k, v in form.items() if k != "_aop_signature"))
    return hmac.new(secret.encode(), (path + joined).encode(), hashlib.sha1).hexdigest().upper()


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def stamp(moment: datetime) -> str:
    """1688's order time format: yyyyMMddHHmmssSSS+0800."""
    return moment.astimezone(CHINA).strftime("%Y%m%d%H%M%S") + "000+0800"


def timeout(request: httpx.Request, form: dict) -> httpx.Response:
    """The request never reaches 1688's order system: no answer, nothing created."""
    raise httpx.ReadTimeout("The read operation timed out", request=request)


def processed_then_timeout(gateway: FakeGateway):
    """1688 creates the order, but its answer never arrives."""

    def act(request: httpx.Request, form: dict) -> httpx.Response:
        gateway.dispatch(request, form)
        raise httpx.ReadTimeout("The read operation timed out", request=request)

    return act


def processed_then_502(gateway: FakeGateway):
    """1688 creates the order; a proxy in front of it answers 502."""

    def act(request: httpx.Request, form: dict) -> httpx.Response:
        gateway.dispatch(request, form)
        return httpx.Response(502, text="<html>502 Bad Gateway</html>")

    return act


class FakeGateway:
    def __init__(
        self,
        *,
        app_key: str = "7654321",
        app_secret: str = "caravan-test-secret",
        access_token: str = "tok-7a1c0e2f",
        refresh_token: str = "rt-5d0c91",
        freight_fen: int = 1800,
        honours_out_order_id: bool = False,
        list_states_out_order_id: bool = True,
        require_push: bool = False,
        now: datetime | None = None,
    ):
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.valid_tokens = {access_token}
        self.freight_fen = freight_fen
        self.honours_out_order_id = honours_out_order_id
        self.list_states_out_order_id = list_states_out_order_id
        self.require_push = require_push
        self.now = now or datetime(2025, 3, 1, 18, 0, 12, tzinfo=CHINA)
        self.products: dict[str, dict] = {}
        self.pushed: set[str] = set()
        self.orders: dict[str, dict] = {}  # order id -> TradeInfo (buyerView ``result``)
        self.traces: dict[str, list[dict]] = {}
        self.requests: list[httpx.Request] = []
        self.calls: list[tuple[str, dict]] = []  # (api name, form) of every request
        self.scripted: dict[str, list] = defaultdict(list)
        self.tokens_issued = 0
        self._next_id = FIRST_ORDER_ID

    @classmethod
    def seeded(cls, **kwargs) -> FakeGateway:
        """A gateway selling the fixture offer (a 500 ml cup, two colours, tiered prices)."""
        gateway = cls(**kwargs)
        gateway.add_product(fixture("product_info.json")["productInfo"])
        return gateway

    # -------------------------------------------------------------------- set-up
    def add_product(self, info: dict) -> None:
        self.products[str(info["productID"])] = info
        self.pushed.add(str(info["productID"]))

    def expire_token(self) -> None:
        """Every access token issued so far stops working (the 10 hours are up)."""
        self.valid_tokens.clear()

    def then(self, api: str, *actions) -> FakeGateway:
        self.scripted[api].extend(actions)
        return self

    def ship(self, order_id: str, *, company: str, bill_no: str, steps: list[tuple[str, str]]):
        """The seller ships the order: a logistics bill and its carrier scans."""
        trade = self.orders[order_id]
        logistics_id = f"BX{bill_no}"
        items = trade["nativeLogistics"]["logisticsItems"]
        items.append(
            {
                "logisticsCode": logistics_id,
                "logisticsCompanyName": company,
                "logisticsBillNo": bill_no,
                "status": "alreadysend",
                "deliveredTime": stamp(self.now),
                "subItemIds": ",".join(i["subItemIDString"] for i in trade["productItems"]),
            }
        )
        trade["baseInfo"]["status"] = "waitbuyerreceive"
        self.traces.setdefault(order_id, []).append(
            {
                "logisticsId": logistics_id,
                "logisticsBillNo": bill_no,
                "orderId": int(order_id),
                "logisticsSteps": [{"acceptTime": at, "remark": remark} for at, remark in steps],
            }
        )

    # -------------------------------------------------------------------- inspection
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def of(self, api: str) -> list[dict]:
        """The forms of every request made to ``api`` (its name, e.g. alibaba.trade.get)."""
        return [form for name, form in self.calls if name == api]

    def orders_for(self, out_order_id: str) -> list[dict]:
        return [t for t in self.orders.values() if t["baseInfo"]["outOrderId"] == out_order_id]

    # -------------------------------------------------------------------- the gateway
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        form = dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
        api = request.url.path.rstrip("/").split("/")[-2]
        self.calls.append((api, form))
        if self.scripted[api]:
            action = self.scripted[api].pop(0)
            return action(request, form) if callable(action) else action
        return self.dispatch(request, form)

    def dispatch(self, request: httpx.Request, form: dict) -> httpx.Response:
        path = request.url.path
        marker = "/param2/"
        if request.method != "POST" or marker not in path:
            return httpx.Response(404, text="not found")
        signed_path = path[path.index(marker) + 1 :].rstrip("/")
        parts = signed_path.split("/")  # param2, version, namespace, api, app key
        if len(parts) != 5 or parts[4] != self.app_key:
            return answer(
                {"error_code": "gw.AppKeyNotFound", "error_message": "AppKey not found"}, 400
            )
        namespace, api = parts[2], parts[3]
        if (namespace, api) == ("system.oauth2", "getToken"):
            return self.get_token(form)
        if form.get("_aop_signature") != signature(signed_path, form, self.app_secret):
            return answer(
                {"error_code": "gw.SignatureInvalid", "error_message": "Signature is invalid"},
                400,
            )
        if form.get("access_token") not in self.valid_tokens:
            return answer(fixture("error_token_expired.json"), 401)
        handler = {
            "alibaba.cross.productInfo": self.product_info,
            "alibaba.cross.syncProductListPushed": self.push,
            "alibaba.createOrder.preview": self.preview,
            "alibaba.trade.fastCreateOrder": self.create,
            "alibaba.trade.get.buyerView": self.buyer_view,
            "alibaba.trade.getBuyerOrderList": self.order_list,
            "alibaba.trade.getLogisticsInfos.buyerView": self.logistics_infos,
            "alibaba.trade.getLogisticsTraceInfo.buyerView": self.logistics_trace,
            "alibaba.trade.cancel": self.cancel,
        }.get(api)
        if handler is None:
            return answer({"error_code": "gw.ApiNotFound", "error_message": api}, 400)
        return handler(form)

    def get_token(self, form: dict) -> httpx.Response:
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.app_key
            or form.get("client_secret") != self.app_secret
            or form.get("refresh_token") != self.refresh_token
        ):
            return answer(fixture("error_refresh_refused.json"), 400)
        self.tokens_issued += 1
        token = f"tok-refreshed-{self.tokens_issued:04d}"
        self.valid_tokens = {token}
        return answer({**fixture("get_token.json"), "access_token": token})

    def product_info(self, form: dict) -> httpx.Response:
        offer_id = form.get("productId", "")
        if offer_id not in self.products:
            return answer({"success": False, "message": f"商品[{offer_id}]不存在"})
        if self.require_push and offer_id not in self.pushed:
            return answer(fixture("product_no_permission.json"))
        return answer({"success": True, "productInfo": self.products[offer_id]})

    def push(self, form: dict) -> httpx.Response:
        ids = json.loads(form.get("productIdList") or "[]")
        if len(ids) > 20:
            return answer({"result": {"success": False, "errorMsg": "列表长度不能超过20个"}})
        self.pushed.update(str(i) for i in ids)
        return answer({"result": {"success": True}})

    # -------------------------------------------------------------------- orders
    def priced(self, form: dict) -> tuple[list[dict], dict | None]:
        """The cargo lines priced as 1688 would, or a refusal in its words."""
        lines = []
        for cargo in json.loads(form.get("cargoParamList") or "[]"):
            offer_id = str(cargo["offerId"])
            info = self.products.get(offer_id)
            sku = next(
                (s for s in (info or {}).get("skuInfos", []) if s["specId"] == cargo["specId"]),
                None,
            )
            if info is None or sku is None:
                words = f"商品[{offer_id}]不属于同一卖家或者规格[{cargo['specId']}]不属于商品"
                return [], {"errorCode": "500_003", "message": words}
            quantity = int(cargo["quantity"])
            sale = info["saleInfo"]
            if quantity < sale["minOrderQuantity"]:
                return [], {
                    "errorCode": "500_005",
                    "message": f"商品[{offer_id}]的购买数量不满足起批量限制。",
                }
            if quantity > sku["amountOnSale"]:
                return [], {
                    "errorCode": "500_004",
                    "message": f"商品[{offer_id}_{cargo['specId']}]库存不足，请核实库存后订购。",
                }
            price = Decimal(str(sku["price"]))
            for tier in sorted(sale.get("priceRanges") or [], key=lambda t: t["startQuantity"]):
                if sale.get("quoteType") == 0 and quantity >= tier["startQuantity"]:
                    price = Decimal(str(tier["price"]))
            lines.append(
                {
                    "info": info,
                    "sku": sku,
                    "quantity": quantity,
                    "price": price,
                    "amount": price * quantity,
                }
            )
        return lines, None

    def preview(self, form: dict) -> httpx.Response:
        lines, refusal = self.priced(form)
        if refusal:
            return answer(
                {
                    "success": False,
                    "errorCode": refusal["errorCode"],
                    "errorMsg": refusal["message"],
                }
            )
        goods = sum(fen(line["amount"]) for line in lines)
        entry = {
            "status": True,
            "flowFlag": form.get("flow", "general"),
            "sumPayment": goods + self.freight_fen,
            "sumCarriage": self.freight_fen,
            "sumPaymentNoCarriage": goods,
            "discountFee": 0,
            "additionalFee": 0,
            "tradeModeNameList": ["assureTrade"],
            "cargoList": [
                {
                    "offerId": int(line["info"]["productID"]),
                    "specId": line["sku"]["specId"],
                    "skuId": line["sku"]["skuId"],
                    "amount": line["amount"],
                    "finalUnitPrice": line["price"],
                }
                for line in lines
            ],
        }
        return answer({"success": True, "orderPreviewResuslt": [entry]})

    def create(self, form: dict) -> httpx.Response:
        out_order_id = form.get("outOrderId", "")
        existing = self.orders_for(out_order_id) if out_order_id else []
        if existing and self.honours_out_order_id:
            trade = existing[0]
        else:
            lines, refusal = self.priced(form)
            if refusal:
                return answer(
                    {"success": False, "code": refusal["errorCode"], "message": refusal["message"]}
                )
            trade = self.new_order(form, lines)
        base = trade["baseInfo"]
        total = Decimal(str(base["totalAmount"]))
        result = {
            "success": True,
            "orderId": base["idOfStr"],
            "totalSuccessAmount": fen(total),
            "postFee": fen(Decimal(str(base["shippingFee"]))),
        }
        return answer({"success": True, "result": result})

    def new_order(self, form: dict, lines: list[dict]) -> dict:
        order_id = self._next_id
        self._next_id += 10
        goods = sum((line["amount"] for line in lines), Decimal(0))
        freight = Decimal(self.freight_fen) / 100
        address = json.loads(form.get("addressParam") or "{}")
        items = []
        for n, line in enumerate(lines, start=1):
            sub_id = order_id + n
            items.append(
                {
                    "productID": int(line["info"]["productID"]),
                    "skuID": line["sku"]["skuId"],
                    "specId": line["sku"]["specId"],
                    "subItemID": sub_id,
                    "subItemIDString": str(sub_id),
                    "name": line["info"]["subject"],
                    "quantity": line["quantity"],
                    "unit": line["info"]["saleInfo"].get("unit", ""),
                    "price": line["price"],
                    "itemAmount": line["amount"],
                    "skuInfos": [
                        {"name": a["attributeDisplayName"], "value": a["attributeValue"]}
                        for a in line["sku"].get("attributes", [])
                    ],
                    "status": "waitbuyerpay",
                    "logisticsStatus": 1,
                }
            )
        trade = {
            "baseInfo": {
                "id": order_id,
                "idOfStr": str(order_id),
                "outOrderId": form.get("outOrderId", ""),
                "businessType": "cn",
                "status": "waitbuyerpay",
                "tradeType": "50060",
                "tradeTypeCode": form.get("tradeType") or "assureTrade",
                "createTime": stamp(self.now),
                "modifyTime": stamp(self.now),
                "totalAmount": goods + freight,
                "sumProductPayment": goods,
                "shippingFee": freight,
                "discount": 0,
                "refund": 0,
                "buyerFeedback": form.get("message", ""),
                "sellerLoginId": (lines[0]["info"].get("supplierLoginId") if lines else ""),
                "receiverInfo": {
                    "toFullName": address.get("fullName", ""),
                    "toMobile": address.get("mobile", ""),
                    "toPost": address.get("postCode", ""),
                },
            },
            "productItems": items,
            "nativeLogistics": {
                "contactPerson": address.get("fullName", ""),
                "province": address.get("provinceText", ""),
                "city": address.get("cityText", ""),
                "area": address.get("areaText", ""),
                "address": address.get("address", ""),
                "logisticsItems": [],
            },
            "tradeTerms": [],
        }
        self.orders[str(order_id)] = trade
        return trade

    def pay(self, order_id: str) -> None:
        base = self.orders[order_id]["baseInfo"]
        base["status"] = "waitsellersend"
        base["payTime"] = stamp(self.now)

    def buyer_view(self, form: dict) -> httpx.Response:
        trade = self.orders.get(form.get("orderId", ""))
        if trade is None or form.get("webSite") != "1688":
            return answer(
                {
                    "success": "false",
                    "errorCode": "order.nopermission.buyer",
                    "errorMessage": "你没有权限获取该订单详情(买家端)",
                }
            )
        return answer({"success": "true", "result": trade})

    def order_list(self, form: dict) -> httpx.Response:
        wanted = form.get("outOrderId")
        trades = [
            t for t in self.orders.values() if not wanted or t["baseInfo"]["outOrderId"] == wanted
        ]
        page, size = int(form.get("page") or 1), int(form.get("pageSize") or 20)
        listed = []
        for trade in trades[(page - 1) * size : page * size]:
            base = {**trade["baseInfo"], "idOfStr": int(trade["baseInfo"]["idOfStr"])}
            if not self.list_states_out_order_id:
                base.pop("outOrderId", None)
            listed.append({**trade, "baseInfo": base})
        return answer({"result": listed, "totalRecord": len(trades)})

    def cancel(self, form: dict) -> httpx.Response:
        """``alibaba.trade.cancel``: an unpaid order becomes ``cancel``; a paid one is refused
        (the buyer must ask for a refund), as is one already closed."""
        trade = self.orders.get(form.get("tradeID", ""))
        if trade is None or form.get("webSite") != "1688":
            return answer(
                {
                    "success": False,
                    "errorCode": "ORDER_NOT_EXIST",
                    "errorMessage": "订单不存在或您没有权限操作该订单",
                }
            )
        if form.get("cancelReason") not in CANCEL_REASONS:
            return answer(
                {
                    "success": False,
                    "errorCode": "PARAM_ERROR",
                    "errorMessage": "cancelReason参数不合法",
                }
            )
        base = trade["baseInfo"]
        if base["status"] in ("cancel", "terminated"):
            return answer(
                {
                    "success": False,
                    "errorCode": "ORDER_STATUS_NOT_SUPPORT_CANCEL",
                    "errorMessage": "交易已关闭，无需取消",
                }
            )
        if base["status"] != "waitbuyerpay":
            return answer(fixture("cancel_order_refused.json"))
        base["status"] = "cancel"
        base["closeReason"] = form["cancelReason"]
        base["closeRemark"] = form.get("remark", "")
        base["modifyTime"] = stamp(self.now)
        for item in trade["productItems"]:
            item["status"] = "cancel"
        return answer(fixture("cancel_order.json"))

    def logistics_infos(self, form: dict) -> httpx.Response:
        trade = self.orders.get(form.get("orderId", ""))
        if trade is None:
            return answer({"success": False, "errorCode": "404", "errorMessage": "订单不存在"})
        result = [
            {
                "logisticsId": item["logisticsCode"],
                "logisticsBillNo": item["logisticsBillNo"],
                "logisticsCompanyName": item["logisticsCompanyName"],
                "status": "transport",
                "orderEntryIds": item["subItemIds"],
            }
            for item in trade["nativeLogistics"]["logisticsItems"]
        ]
        return answer({"success": True, "result": result})

    def logistics_trace(self, form: dict) -> httpx.Response:
        traces = [
            t
            for t in self.traces.get(form.get("orderId", ""), [])
            if not form.get("logisticsId") or t["logisticsId"] == form["logisticsId"]
        ]
        if not traces:
            return answer(
                {
                    "success": False,
                    "errorCode": "404",
                    "errorMessage": "无法找到相对应的物流单跟踪信息。",
                }
            )
        return answer({"success": True, "logisticsTrace": traces})


def form_of(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.content.decode("utf-8"), keep_blank_values=True)


class Recorder:
    """A MockTransport handler answering each request with the next scripted response."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        action = self.responses.pop(0)
        if callable(action):
            return action(request, dict(form_of(request)))
        return action


# A client on a scripted transport, for the client-level tests.
BASE = "https://gw.test/openapi"
KEY, SECRET, TOKEN = "7654321", "caravan-test-secret", "tok-7a1c0e2f"
NOW = 1740823200.0  # 2025-03-01 10:00:00 UTC


def client_for(handler, sleeps: list[float] | None = None, **kwargs) -> Client:
    options = {
        "app_key": KEY,
        "app_secret": SECRET,
        "access_token": TOKEN,
        "refresh_token": "rt-5d0c91",
        "base_url": BASE,
        "transport": httpx.MockTransport(handler),
        "sleep": (sleeps if sleeps is not None else []).append,
        "clock": lambda: NOW,
    }
    return Client(**{**options, **kwargs})
