"""YunExpress (云途) through its classic OMS API.

Authentication is ``Authorization: Basic base64(CustomerCode & ApiSecret)`` on every call (the
ampersand is literal). Bodies are JSON; creating orders takes a JSON **array** of orders (we
always send one). Answers are ``{ResultCode: "0000", ResultDesc, Item}``; one public SDK reads
``Code`` / ``Message`` instead, so both spellings are accepted. Weights are kilograms with
three decimals, sizes whole centimetres.

Endpoints used: ``POST /api/WayBill/CreateOrder``, ``GET /api/WayBill/GetOrder?OrderNumber=``
(the lookup that makes a retried create safe), ``POST /api/Label/Print`` (a JSON array of
numbers; answers ``Item[0].Url``), ``POST /api/WayBill/Delete`` (cancel) and
``GET /api/Tracking/GetTrackInfo?OrderNumber=``.

Credentials: ``customer_code`` and ``api_secret``. Base URL ``http://oms.api.yunexpress.com``
(YunExpress publishes the classic API over plain HTTP; a newer signed "open API" exists and is
not used here).

Reliability: low to medium (the formats README; one SDK plus memory). Unverified here: the
exact duplicate wording (recognised by "已存在" / "already exists" / "重复"), the
``PackageState`` numbers (``STATUS_BY_PACKAGE_STATE``), the time zone of ``ProcessDate``
(read as China time when it carries none), ``PackageCount`` (one SDK spells it
``PackageNumber``), and the shape of the Delete answer.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
from django.utils.translation import gettext as _

from logistics.carriers.base import (
    DUPLICATE_PATTERN,
    NOT_FOUND_PATTERN,
    CarrierAuthError,
    CarrierConnector,
    CarrierError,
    DuplicateReference,
    already_cancelled,
    body_of,
    canonical_json,
    decimal_number,
    mm_to_cm,
    parse_carrier_time,
    split_name,
    street_of,
)
from logistics.types import Address, ParcelRequest, TrackEvent, TrackingStatus, Waybill

OK_CODE = "0000"
AUTH_PATTERN = re.compile(
    r"unauthori[sz]ed|authorization|denied|验证失败|认证失败|授权|密钥|api\s*secret|customer\s*code",
    re.IGNORECASE,
)

# GetTrackInfo ``Item.PackageState`` → status of the parcel, hence of its latest event. Earlier
# events carry no code of their own in this API and are IN_TRANSIT (or INFO_RECEIVED while the
# parcel is still only submitted).
STATUS_BY_PACKAGE_STATE: dict[int, TrackingStatus] = {
    0: TrackingStatus.INFO_RECEIVED,  # 未知 unknown: nothing scanned yet
    1: TrackingStatus.INFO_RECEIVED,  # 已提交 submitted
    2: TrackingStatus.IN_TRANSIT,  # 运输中 in transit
    3: TrackingStatus.DELIVERED,  # 已签收 delivered
    4: TrackingStatus.IN_TRANSIT,  # 已收货 received by YunExpress
    5: TrackingStatus.EXCEPTION,  # 订单取消 order cancelled
    6: TrackingStatus.EXCEPTION,  # 投递失败 delivery failed
    7: TrackingStatus.RETURNED,  # 已退回 returned
}


def receiver(address: Address) -> dict[str, str]:
    """``Receiver`` / ``Sender``: the name split by ``split_name``, lines joined."""
    first, last = split_name(address.name)
    return {
        "CountryCode": address.country.upper(),
        "FirstName": first,
        "LastName": last,
        "Company": address.company,
        "Street": street_of(address),
        "City": address.city,
        "State": address.state,
        "Zip": address.postcode,
        "Phone": address.phone,
        "HouseNumber": address.house_number,
        "Email": address.email,
    }


def kilograms(grams: int | Decimal) -> float | int:
    return decimal_number(Decimal(grams) / 1000, "0.001")


def succeeded(item: Mapping[str, Any]) -> bool:
    return str(item.get("Success", "")).strip().lower() in ("1", "true")


class YunExpressConnector(CarrierConnector):
    """A YunExpress OMS customer account."""

    kind = "yunexpress"
    label = "YunExpress"
    REQUIRED_CREDENTIALS = ("customer_code", "api_secret")
    DEFAULT_BASE_URL = "http://oms.api.yunexpress.com"
    TRACK_BATCH_SIZE = 1  # GetTrackInfo takes one OrderNumber

    def default_headers(self) -> dict[str, str]:
        pair = f"{self.credentials['customer_code']}&{self.credentials['api_secret']}"
        token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    # ------------------------------------------------------------------------ transport
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: Any = None,
    ) -> dict[str, Any]:
        """One API call: the answer's envelope (checked by the caller, since several
        endpoints report per-order results inside a "0000" answer)."""
        content = None
        headers = {}
        if payload is not None:
            content = canonical_json(payload).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        response = self.request(
            method, f"{self.base_url}{path}", params=params, content=content, headers=headers
        )
        envelope = self.read_json(response)
        if not isinstance(envelope, dict):
            raise CarrierError(
                _("The answer has no result code."),
                code="bad_response",
                body=envelope,
                carrier=self.label,
            )
        return envelope

    @staticmethod
    def result_code(envelope: Mapping[str, Any]) -> str:
        return str(envelope.get("ResultCode", envelope.get("Code", "")) or "").strip()

    @staticmethod
    def result_text(envelope: Mapping[str, Any]) -> str:
        return str(envelope.get("ResultDesc", envelope.get("Message", "")) or "").strip()

    def failure(
        self,
        message: str,
        *,
        code: str = "",
        body: Any = None,
        duplicate_possible: bool = False,
    ) -> CarrierError:
        """The carrier's own ``message`` as the right error class."""
        if not message:
            message = _("The request was refused without a reason.")
        cls: type[CarrierError] = CarrierError
        if AUTH_PATTERN.search(message):
            cls = CarrierAuthError
        elif duplicate_possible and DUPLICATE_PATTERN.search(message):
            cls = DuplicateReference
        return cls(message, code=code, body=body, carrier=self.label)

    def error_from(self, response: httpx.Response) -> CarrierError:
        """A non-2xx answer: ``ResultDesc`` / ``Message`` (ASP.NET's own 401 body is
        ``{"Message": "Authorization has been denied for this request."}``)."""
        body = body_of(response)
        message, code = "", ""
        if isinstance(body, dict):
            message, code = self.result_text(body), self.result_code(body)
        elif isinstance(body, str):
            message = body.strip()[:300]
        return self.error_for_status(response, message, code=code, auth_pattern=AUTH_PATTERN)

    # ------------------------------------------------------------------------ waybills
    def order_payload(self, req: ParcelRequest) -> dict[str, Any]:
        """One CreateOrder entry: weights in kg (3 decimals), sizes in whole cm."""
        total_units = sum(item.quantity for item in req.items) or 1
        parcels = []
        for item in req.items:
            # UnitWeight is required; without a per-item weight the parcel's is shared out.
            unit_weight_g = item.unit_weight_g or Decimal(req.weight_g) / total_units
            parcels.append(
                {
                    "EName": item.description_en,
                    "CName": item.description_zh,
                    "HSCode": item.hs_code,
                    "Quantity": item.quantity,
                    "UnitPrice": decimal_number(item.unit_value),
                    "UnitWeight": kilograms(unit_weight_g),
                    "SKU": item.sku_code,
                    "CurrencyCode": item.currency,
                }
            )
        order: dict[str, Any] = {
            "CustomerOrderNumber": req.reference,
            "ShippingMethodCode": req.service_code,
            "PackageCount": 1,
            "Weight": kilograms(req.weight_g),
        }
        for key, value_mm in (
            ("Length", req.length_mm),
            ("Width", req.width_mm),
            ("Height", req.height_mm),
        ):
            if value_mm > 0:  # YunExpress assumes 1 cm when absent
                order[key] = mm_to_cm(value_mm)
        order |= {
            "Receiver": receiver(req.recipient),
            "Sender": receiver(req.sender),
            "ApplicationType": 4,  # 1 gift, 2 sample, 3 documents, 4 other (goods)
            "ReturnOption": 0,  # 0: do not return undeliverable parcels
            "TariffPrepay": 1 if req.duty_type == "P" else 0,  # DDP where the channel allows
            "Parcels": parcels,
        }
        return order

    def waybill_from(self, reference: str, item: Mapping[str, Any]) -> Waybill:
        """A created (or looked-up) order. ``TrackingNumber`` can be empty until the channel
        assigns one; the YunExpress waybill number (YT…) is trackable meanwhile."""
        waybill_number = str(item.get("WayBillNumber") or item.get("WaybillNumber") or "")
        tracking = str(item.get("TrackingNumber") or "") or waybill_number
        if not tracking:
            raise CarrierError(
                _("Order %(reference)s was accepted without a waybill number.")
                % {"reference": reference},
                code="no_tracking_number",
                body=dict(item),
                carrier=self.label,
            )
        return Waybill(
            reference=str(item.get("CustomerOrderNumber") or reference),
            tracking_number=tracking,
            carrier_reference=waybill_number,
            raw=dict(item),
        )

    def submit_waybill(self, req: ParcelRequest) -> Waybill:
        envelope = self.call("POST", "/api/WayBill/CreateOrder", payload=[self.order_payload(req)])
        items = [i for i in envelope.get("Item") or [] if isinstance(i, dict)]
        item = next(
            (i for i in items if str(i.get("CustomerOrderNumber")) == req.reference),
            items[0] if items else None,
        )
        if item is not None and succeeded(item):
            return self.waybill_from(req.reference, item)
        if item is not None:
            message = str(item.get("Remark") or "").strip() or self.result_text(envelope)
        else:
            message = self.result_text(envelope)
        raise self.failure(
            message,
            code=self.result_code(envelope),
            body=envelope,
            duplicate_possible=True,
        )

    def find_waybill(self, reference: str) -> Waybill | None:
        """GetOrder by our CustomerOrderNumber; only an order carrying exactly our reference
        counts (OrderNumber also matches waybill and tracking numbers)."""
        envelope = self.call("GET", "/api/WayBill/GetOrder", params={"OrderNumber": reference})
        if self.result_code(envelope) != OK_CODE:
            message = self.result_text(envelope)
            if NOT_FOUND_PATTERN.search(message):
                return None
            raise self.failure(message, code=self.result_code(envelope), body=envelope)
        item = envelope.get("Item")
        if isinstance(item, list):
            item = item[0] if item else None
        if not isinstance(item, dict) or str(item.get("CustomerOrderNumber")) != reference:
            return None
        return self.waybill_from(reference, item)

    def order_number(self, waybill: Waybill) -> str:
        return waybill.carrier_reference or waybill.tracking_number or waybill.reference

    def fetch_label(self, waybill: Waybill) -> bytes:
        """Label/Print with ``[number]`` answers ``Item[0].Url`` (a PDF); download it."""
        envelope = self.call("POST", "/api/Label/Print", payload=[self.order_number(waybill)])
        items = [i for i in envelope.get("Item") or [] if isinstance(i, dict)]
        first = items[0] if items else {}
        url = str(first.get("Url") or "")
        if self.result_code(envelope) != OK_CODE or not url:
            # OrderInfos says per number why no label was made (unknown number, deleted...).
            detail = "; ".join(
                str(info.get("Error") or info.get("Remark")).strip()
                for info in first.get("OrderInfos") or []
                if isinstance(info, dict) and (info.get("Error") or info.get("Remark"))
            )
            raise self.failure(
                detail or self.result_text(envelope),
                code=self.result_code(envelope),
                body=envelope,
            )
        return self.download_pdf(url)

    def cancel(self, waybill: Waybill) -> None:
        """``POST /api/WayBill/Delete`` with ``OrderType`` 1 (YunExpress waybill number) or 2
        (our order number). Delete is the documented way to void an order YunExpress has not
        received yet; once the parcel is in their hands only ``/api/WayBill/Intercept``
        (a paid interception, not a cancellation) remains, and it is deliberately not called
        here. The answer's shape beyond ``ResultCode`` is not confirmed (low-to-medium
        reliability), so a per-order ``Success: 0`` is honoured when present."""
        if waybill.carrier_reference:
            payload = {"OrderType": 1, "OrderNumber": waybill.carrier_reference}
        else:
            payload = {"OrderType": 2, "OrderNumber": waybill.reference}
        envelope = self.call("POST", "/api/WayBill/Delete", payload=payload)
        item = envelope.get("Item")
        items = item if isinstance(item, list) else [item] if isinstance(item, dict) else []
        refused = [i for i in items if isinstance(i, dict) and "Success" in i and not succeeded(i)]
        if self.result_code(envelope) != OK_CODE or refused:
            message = "; ".join(str(i.get("Remark") or "").strip() for i in refused)
            error = self.failure(
                message.strip("; ") or self.result_text(envelope),
                code=self.result_code(envelope),
                body=envelope,
            )
            if not already_cancelled(error):
                raise error

    # ------------------------------------------------------------------------ tracking
    def track_batch(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackEvent]]:
        result: dict[str, list[TrackEvent]] = {}
        for number in tracking_numbers:
            envelope = self.call(
                "GET", "/api/Tracking/GetTrackInfo", params={"OrderNumber": number}
            )
            if self.result_code(envelope) != OK_CODE:
                message = self.result_text(envelope)
                if NOT_FOUND_PATTERN.search(message):
                    result[number] = []  # not scanned (yet)
                    continue
                raise self.failure(message, code=self.result_code(envelope), body=envelope)
            item = envelope.get("Item")
            result[number] = self.events_from(number, item if isinstance(item, dict) else {})
        return result

    def events_from(self, number: str, item: Mapping[str, Any]) -> list[TrackEvent]:
        """Events oldest first; the latest takes the parcel's ``PackageState``."""
        try:
            state = int(item.get("PackageState"))
        except (TypeError, ValueError):
            state = -1
        parcel_status = STATUS_BY_PACKAGE_STATE.get(state, TrackingStatus.IN_TRANSIT)
        earlier_status = (
            TrackingStatus.INFO_RECEIVED
            if parcel_status is TrackingStatus.INFO_RECEIVED
            else TrackingStatus.IN_TRANSIT
        )
        dated = []
        for detail in item.get("OrderTrackingDetails") or []:
            at = parse_carrier_time(detail.get("ProcessDate"))
            if at is not None:
                dated.append((at, detail))
        dated.sort(key=lambda pair: pair[0])
        events = []
        for index, (at, detail) in enumerate(dated):
            latest = index == len(dated) - 1
            events.append(
                TrackEvent(
                    tracking_number=number,
                    at=at,
                    status=parcel_status if latest else earlier_status,
                    description=str(detail.get("ProcessContent") or ""),
                    location=str(detail.get("ProcessLocation") or ""),
                    code=str(state) if latest and state >= 0 else "",
                )
            )
        return events
