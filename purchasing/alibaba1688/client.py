"""The 1688 client: request signing, retries, token refresh, and the calls (see the
package docstring for the protocol)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from django.utils.translation import gettext as _

from erp.http import parse_retry_after
from purchasing.alibaba1688.errors import (
    Alibaba1688AuthError,
    Alibaba1688Error,
    Alibaba1688Timeout,
    Alibaba1688TokenExpired,
)
from purchasing.alibaba1688.readers import (
    bill_from,
    detail_from,
    envelope_error,
    integer,
    loads,
    number,
    order_id_of,
    placed_from_create,
    placed_from_trade,
    preview_from,
    product_from,
    text,
    traces_from,
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
    LogisticsBill,
    LogisticsTrace,
    OrderDetail,
    OrderPreview,
    PlacedOrder,
    Product,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://gw.open.1688.com/openapi"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
WEBSITE = "1688"
MAX_ERROR_BODY = 2000
# Refresh this long before the stored expiry rather than meet the gateway's refusal.
TOKEN_MARGIN = timedelta(minutes=5)
PUSH_BATCH = 20  # syncProductListPushed takes at most 20 ids
# No documented limit for the cancel ``remark``; create's ``message`` takes 500.
MAX_REMARK = 500
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
# Failures that happened before the request left this machine.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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

    def cancel_order(
        self, order_id: str, reason: str = CancelReason.BUYER_CANCEL, remark: str = ""
    ) -> CancelledOrder:
        """Cancel an order on 1688 (``alibaba.trade.cancel``); 1688 cancels only orders still
        waiting for the buyer's payment and answers anything else with its own refusal, raised
        as ``Alibaba1688Error`` in its words.

        ``tradeID`` goes as the exact digits (ids pass 2^53), ``cancelReason`` is one of
        ``CancelReason``, ``remark`` is sent only when given. A cancel that may have reached
        1688 unanswered (a timeout after the request left, a 5xx, an unreadable answer) is
        neither resent nor taken for a success: the order's buyerView says whether it is
        closed. Closed: the cancel is returned as ``recovered``. Still open: an error saying it
        is not cancelled. The lookup failing too: the first error, still ``maybe_processed``.
        """
        order_id = text(order_id)
        if not order_id.isdigit():
            raise Alibaba1688Error(
                _("%(id)s is not a 1688 order id (digits only).") % {"id": order_id or "—"},
                code="invalid_request",
                api=ORDER_CANCEL.name,
            )
        if reason not in set(CancelReason):
            raise Alibaba1688Error(
                _("1688 takes one of these reasons to cancel: %(reasons)s.")
                % {"reasons": ", ".join(CancelReason)},
                code="invalid_request",
                api=ORDER_CANCEL.name,
            )
        params = {"webSite": WEBSITE, "tradeID": order_id, "cancelReason": str(reason)}
        if text(remark):
            params["remark"] = text(remark)[:MAX_REMARK]
        try:
            self.call(ORDER_CANCEL, params, unsafe=True)
        except Alibaba1688AuthError:
            raise
        except Alibaba1688Error as exc:
            if not exc.maybe_processed:
                raise
            self.sleep(self.backoff(1))  # give 1688 a moment to show what it did
            try:
                detail = self.order_detail(order_id)
            except Alibaba1688Error as lookup_error:
                raise exc from lookup_error  # the order may be cancelled: say so, not the lookup
            if detail.status.lower() in CANCELLED_STATUSES:
                logger.info(
                    "1688 order %s is %s after an unanswered cancel", order_id, detail.status
                )
                return CancelledOrder(order_id=order_id, status=detail.status, recovered=True)
            raise type(exc)(
                _(
                    "Order %(id)s is not cancelled: 1688 did not confirm the cancel "
                    "(%(error)s) and still shows the order as %(status)s. Try again."
                )
                % {
                    "id": order_id,
                    "error": exc.message.rstrip("。. "),
                    "status": detail.status or "—",
                },
                code=exc.code,
                retryable=True,
                status=exc.status,
                body=exc.body,
                api=ORDER_CANCEL.name,
            ) from exc
        return CancelledOrder(order_id=order_id, status="cancel")

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
        hinted = (
            parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        )
        return hinted if hinted is not None else self.backoff(attempt)

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
