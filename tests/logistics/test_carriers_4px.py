"""4PX FOP connector against fixtures in the documented shapes, served through
``httpx.MockTransport``: the signed request, the order body, errors in 4PX's own words, retries
that keep the reference, a retried purchase that buys once, labels, cancel and tracking."""

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.utils import translation

from logistics.carriers import (
    CONNECTORS,
    CarrierAuthError,
    CarrierError,
    CarrierTimeout,
    DuplicateReference,
    FourPXConnector,
    connector_for,
    split_name,
)
from logistics.carriers.fourpx import sign, status_for_code
from logistics.types import (
    Address,
    CustomsItem,
    ParcelRequest,
    TrackEvent,
    TrackingStatus,
    Waybill,
)


@pytest.fixture(autouse=True)
def english():
    """Our own messages are asserted in English, whatever an earlier test left active."""
    with translation.override("en"):
        yield


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "carriers"
BASE = "https://open-test.4px.com"
KEY, SECRET = "fpx-test-key", "fpx-test-secret"
NOW_MS = 1740823200000  # 2025-03-01 10:00 UTC
LABEL_URL = "https://fpx-label.example.test/label/OC91260503000001.pdf"
PDF = (FIXTURES / "label_100x100.pdf").read_bytes()
CREATE, GET, LABEL, CANCEL, TRACK = (
    "ds.xms.order.create",
    "ds.xms.order.get",
    "ds.xms.label.get",
    "ds.xms.order.cancel",
    "tr.order.tracking.get",
)


def load(name: str) -> dict:
    return json.loads((FIXTURES / "4px" / name).read_text(encoding="utf-8"))


def recomputed_sign(request: httpx.Request) -> str:
    """The FOP signature, computed here from the request as it went over the wire."""
    params = request.url.params
    text = (
        f"app_key{KEY}format{params['format']}method{params['method']}"
        f"timestamp{params['timestamp']}v{params['v']}" + request.content.decode("utf-8") + SECRET
    )
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class FourPXSandbox:
    """A small 4PX: keeps the orders it created (so a second create with the same ref_no is a
    duplicate, as on the real platform), records every request, plays scripted actions first."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.orders: dict[str, dict] = {}
        self.scripted: dict[str, list] = defaultdict(list)
        self.label = PDF

    def then(self, method: str, *actions) -> "FourPXSandbox":
        self.scripted[method].extend(actions)
        return self

    def process(self, method: str, body: dict) -> httpx.Response:
        if method == CREATE:
            if body["ref_no"] in self.orders:
                return httpx.Response(200, json=load("create_duplicate.json"))
            answer = load("create_ok.json")
            self.orders[body["ref_no"]] = answer["data"]
            return httpx.Response(200, json=answer)
        if method == GET:
            found = body["request_no"] in self.orders
            return httpx.Response(
                200, json=load("order_get.json" if found else "order_get_empty.json")
            )
        if method == LABEL:
            return httpx.Response(200, json=load("label_get.json"))
        if method == CANCEL:
            return httpx.Response(200, json=load("cancel_ok.json"))
        if method == TRACK:
            return httpx.Response(200, json=load("tracking.json"))
        return httpx.Response(404, text="no such method")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "fpx-label.example.test":
            return httpx.Response(
                200, content=self.label, headers={"Content-Type": "application/pdf"}
            )
        method = request.url.params["method"]
        body = json.loads(request.content)
        if self.scripted[method]:
            action = self.scripted[method].pop(0)
            return action(request, body) if callable(action) else action
        return self.process(method, body)

    def of(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.params.get("method") == method]


def timeout(request, body):
    raise httpx.ReadTimeout("The read operation timed out", request=request)


def processed_then_timeout(sandbox: FourPXSandbox):
    """4PX creates the order, but the answer never reaches us."""

    def act(request, body):
        sandbox.process(CREATE, body)
        raise httpx.ReadTimeout("The read operation timed out", request=request)

    return act


def connect(sandbox, sleeps=None, clock=None, **credentials) -> FourPXConnector:
    return connector_for(
        "4px",
        credentials={"app_key": KEY, "app_secret": SECRET, **credentials},
        base_url=BASE,
        transport=httpx.MockTransport(sandbox),
        sleep=(sleeps if sleeps is not None else []).append,
        clock=clock or (lambda: NOW_MS),
    )


SENDER = Address(
    name="李伟",
    lines=("Xixiang Road 18", "Bao'an District"),
    city="Shenzhen",
    state="Guangdong",
    postcode="518000",
    country="CN",
    phone="+86 755 0000 0000",
    company="Caravan Test Co.",
)
RECIPIENT = Address(
    name="Ann Example",
    lines=("1 Main St", "Suite 200"),
    city="Springfield",
    state="IL",
    postcode="62701",
    country="us",
    phone="555-0100",
    email="ann@example.com",
    house_number="1",
)
REQUEST = ParcelRequest(
    reference="SHP-2025-0001",
    service_code="F3",
    sender=SENDER,
    recipient=RECIPIENT,
    weight_g=350,
    items=(
        CustomsItem(
            description_en="Cotton T-shirt",
            description_zh="棉T恤",
            quantity=2,
            unit_value=Decimal("9.99"),
            unit_weight_g=120,
            hs_code="610910",
            sku_code="TEE-BLK-S",
        ),
        CustomsItem(
            description_en="Enamel mug",
            quantity=1,
            unit_value=Decimal("12.50"),
            hs_code="732393",
            sku_code="MUG-WHT",
        ),
    ),
    length_mm=205,
    width_mm=150,
    height_mm=50,
)
WAYBILL = Waybill(
    reference="SHP-2025-0001",
    tracking_number="4PX3001289946250CN",
    carrier_reference="OC91260503000001",
)
SENDER_INFO = {
    "first_name": "李伟",  # a CJK name stays whole
    "last_name": "",
    "company": "Caravan Test Co.",
    "phone": "+86 755 0000 0000",
    "email": "",
    "post_code": "518000",
    "country": "CN",
    "state": "Guangdong",
    "city": "Shenzhen",
    "street": "Xixiang Road 18, Bao'an District",
    "house_number": "",
}


# ------------------------------------------------------------------------------ the request
def test_create_sends_the_signed_documented_order_and_returns_the_waybill():
    sandbox = FourPXSandbox()

    waybill = connect(sandbox).create_waybill(REQUEST)

    (request,) = sandbox.requests
    assert (request.method, f"{request.url.scheme}://{request.url.host}{request.url.path}") == (
        "POST",
        f"{BASE}/router/api/service",
    )
    assert list(request.url.params.items()) == [
        ("app_key", KEY),
        ("format", "json"),
        ("method", CREATE),
        ("timestamp", str(NOW_MS)),
        ("v", "1.1.0"),
        ("sign", recomputed_sign(request)),
    ]
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    # serialised once, compact, UTF-8 as is: the signed text is the sent text
    assert "棉T恤".encode() in request.content
    assert request.content == json.dumps(
        json.loads(request.content), separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert json.loads(request.content) == {
        "ref_no": "SHP-2025-0001",
        "business_type": "BDS",
        "duty_type": "U",
        "cargo_type": "5",
        "logistics_service_info": {"logistics_product_code": "F3"},
        "sender": SENDER_INFO,
        "recipient_info": {
            "first_name": "Ann",
            "last_name": "Example",
            "company": "",
            "phone": "555-0100",
            "email": "ann@example.com",
            "post_code": "62701",
            "country": "US",
            "state": "IL",
            "city": "Springfield",
            "street": "1 Main St, Suite 200",
            "house_number": "1",
        },
        "parcel_list": [
            {
                "weight": 350,  # grams
                "length": 21,  # 205 mm, rounded up to whole cm
                "width": 15,
                "height": 5,
                "parcel_value": 32.48,
                "currency": "USD",
                "include_battery": "N",
                "product_list": [
                    {
                        "sku_code": "TEE-BLK-S",
                        "product_name": "Cotton T-shirt",
                        "qty": 2,
                        "product_unit_price": 9.99,
                        "currency": "USD",
                    },
                    {
                        "sku_code": "MUG-WHT",
                        "product_name": "Enamel mug",
                        "qty": 1,
                        "product_unit_price": 12.5,
                        "currency": "USD",
                    },
                ],
                "declare_product_info": [
                    {
                        "declare_product_code": "TEE-BLK-S",
                        "declare_product_name_en": "Cotton T-shirt",
                        "declare_product_name_cn": "棉T恤",
                        "declare_product_code_qty": 2,
                        "declare_unit_price_export": 9.99,
                        "currency_export": "USD",
                        "declare_unit_price_import": 9.99,
                        "currency_import": "USD",
                        "hscode_export": "610910",
                        "origin_country": "CN",
                        "unit_net_weight": 120,
                        "unit_gross_weight": 120,
                    },
                    {
                        "declare_product_code": "MUG-WHT",
                        "declare_product_name_en": "Enamel mug",
                        "declare_product_name_cn": "Enamel mug",  # no Chinese name given
                        "declare_product_code_qty": 1,
                        "declare_unit_price_export": 12.5,
                        "currency_export": "USD",
                        "declare_unit_price_import": 12.5,
                        "currency_import": "USD",
                        "hscode_export": "732393",
                        "origin_country": "CN",
                        "unit_net_weight": 116,  # 350 g shared over 3 units
                        "unit_gross_weight": 116,
                    },
                ],
            }
        ],
        "is_insure": "N",
        "deliver_type_info": {
            "deliver_type": "1",
            "pick_up_info": {"pick_up_address_info": SENDER_INFO},
        },
    }
    assert waybill == Waybill(
        reference="SHP-2025-0001",
        tracking_number="4PX3001289946250CN",
        carrier_reference="OC91260503000001",
    )
    assert waybill.raw["label_barcode"] == "4PX3001289946250CN"


def test_the_signature_matches_a_vector_computed_outside_python():
    # printf '%s' 'app_keyfpx-test-keyformatjsonmethodds.xms.order.canceltimestamp1740823200000
    # v1.1.0{"request_no":"OC91260503000001","cancel_reason":"Cancelled by the seller"}
    # fpx-test-secret' | md5sum
    sandbox = FourPXSandbox()

    connect(sandbox).cancel(WAYBILL)

    (request,) = sandbox.requests
    assert request.content == (
        b'{"request_no":"OC91260503000001","cancel_reason":"Cancelled by the seller"}'
    )
    assert request.url.params["sign"] == "45f9cf45804349d1b115e21d1484cc77"


def test_the_signature_covers_non_ascii_bodies_as_utf8():
    # printf '%s' 'app_keyfpx-test-keyformatjsonmethodds.xms.order.gettimestamp1740823200000
    # v1.1.0{"request_no":"陈-0001"}fpx-test-secret' | md5sum   (a UTF-8 shell)
    assert (
        sign(
            app_key=KEY,
            app_secret=SECRET,
            method=GET,
            timestamp=str(NOW_MS),
            body='{"request_no":"陈-0001"}',
        )
        == "789cd0fba03fd9b27473167a4b3c672e"
    )


def test_the_deliver_type_and_warehouse_come_from_the_account():
    sandbox = FourPXSandbox()

    connect(sandbox, deliver_type="3", warehouse_code="CNSZXA").create_waybill(REQUEST)

    body = json.loads(sandbox.requests[0].content)
    assert body["deliver_type_info"] == {"deliver_type": "3", "warehouse_code": "CNSZXA"}


def test_without_a_base_url_the_production_host_is_used():
    sandbox = FourPXSandbox()
    connector = FourPXConnector(
        credentials={"app_key": KEY, "app_secret": SECRET},
        transport=httpx.MockTransport(sandbox),
        clock=lambda: NOW_MS,
    )

    connector.cancel(WAYBILL)

    assert sandbox.requests[0].url.host == "open.4px.com"
    assert FourPXConnector.TEST_BASE_URL == BASE


# ------------------------------------------------------------------------------ errors
def test_a_refused_create_carries_every_4px_message_and_is_not_retried():
    sandbox = FourPXSandbox().then(
        CREATE, httpx.Response(200, json=load("create_invalid_postcode.json"))
    )
    sleeps: list[float] = []

    with pytest.raises(CarrierError) as caught:
        connect(sandbox, sleeps).create_waybill(REQUEST)

    error = caught.value
    assert type(error) is CarrierError
    assert error.message == (
        "收件人邮编格式不正确 Recipient post code 6270 is invalid for country US; "
        "Declared HS code 1234 is invalid"
    )
    assert (error.code, error.retryable, str(error).split(":")[0]) == ("DS000042", False, "4PX")
    assert [r.url.params["method"] for r in sandbox.requests] == [CREATE]
    assert sleeps == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json=load("auth_error.json")),
        httpx.Response(401, json=load("auth_error.json")),
    ],
    ids=["result-0", "http-401"],
)
def test_a_bad_signature_is_an_auth_error_in_4px_words(response):
    sandbox = FourPXSandbox().then(CREATE, response)

    with pytest.raises(CarrierAuthError) as caught:
        connect(sandbox).create_waybill(REQUEST)

    assert (caught.value.message, caught.value.code) == ("sign 校验失败 Invalid sign", "GW000003")
    assert sandbox.of(GET) == []  # nothing to look up after a refusal


def test_a_400_fails_at_once_with_the_body_text():
    sandbox = FourPXSandbox().then(CREATE, httpx.Response(400, text="Bad Request: body is empty"))
    sleeps: list[float] = []

    with pytest.raises(CarrierError) as caught:
        connect(sandbox, sleeps).create_waybill(REQUEST)

    assert (caught.value.message, caught.value.status, caught.value.retryable) == (
        "Bad Request: body is empty",
        400,
        False,
    )
    assert (len(sandbox.requests), sleeps) == (1, [])


def test_429_waits_for_retry_after_then_succeeds():
    sandbox = FourPXSandbox().then(
        CREATE, httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "3"})
    )
    sleeps: list[float] = []

    waybill = connect(sandbox, sleeps).create_waybill(REQUEST)

    assert (sleeps, waybill.tracking_number) == ([3.0], "4PX3001289946250CN")
    first, second = sandbox.of(CREATE)
    assert first.content == second.content


def test_an_outage_backs_off_then_looks_up_before_giving_up():
    unavailable = httpx.Response(503, json={"result": "0", "msg": "Service Unavailable"})
    sandbox = FourPXSandbox().then(CREATE, *[unavailable] * 4)
    sleeps: list[float] = []

    with pytest.raises(CarrierError) as caught:
        connect(sandbox, sleeps).create_waybill(REQUEST)

    assert (caught.value.message, caught.value.status, caught.value.retryable) == (
        "Service Unavailable",
        503,
        True,
    )
    assert sleeps == [1.0, 2.0, 4.0]
    assert [r.url.params["method"] for r in sandbox.requests] == [CREATE] * 4 + [GET]


# ------------------------------------------------------------------------------ idempotency
def test_a_timeout_is_retried_with_the_same_reference_and_a_fresh_signature():
    sandbox = FourPXSandbox().then(CREATE, timeout)
    ticks = iter([NOW_MS, NOW_MS + 1000])
    sleeps: list[float] = []

    waybill = connect(sandbox, sleeps, clock=lambda: next(ticks)).create_waybill(REQUEST)

    first, second = sandbox.of(CREATE)
    assert json.loads(first.content)["ref_no"] == json.loads(second.content)["ref_no"]
    assert first.content == second.content
    assert [r.url.params["timestamp"] for r in (first, second)] == [
        str(NOW_MS),
        str(NOW_MS + 1000),
    ]
    assert [r.url.params["sign"] for r in (first, second)] == [
        recomputed_sign(first),
        recomputed_sign(second),
    ]
    assert sleeps == [1.0]
    assert (waybill.tracking_number, list(sandbox.orders)) == (
        "4PX3001289946250CN",
        ["SHP-2025-0001"],
    )


def test_a_retried_purchase_does_not_buy_twice():
    sandbox = FourPXSandbox()
    sandbox.then(CREATE, processed_then_timeout(sandbox))

    waybill = connect(sandbox).create_waybill(REQUEST)

    # 4PX created the order on the first call; the retry got "ref_no already exists" and the
    # existing order was looked up by our reference.
    assert [r.url.params["method"] for r in sandbox.requests] == [CREATE, CREATE, GET]
    assert len(sandbox.orders) == 1  # exactly one successful create
    assert {json.loads(r.content)["ref_no"] for r in sandbox.of(CREATE)} == {"SHP-2025-0001"}
    assert json.loads(sandbox.of(GET)[0].content) == {"request_no": "SHP-2025-0001"}
    assert waybill == Waybill(
        reference="SHP-2025-0001",
        tracking_number="4PX3001289946250CN",
        carrier_reference="OC91260503000001",
    )
    assert waybill.raw["consignment_status"] == "P"


def test_a_create_that_timed_out_every_time_is_found_by_reference():
    sandbox = FourPXSandbox()
    sandbox.then(CREATE, processed_then_timeout(sandbox), timeout, timeout, timeout)
    sleeps: list[float] = []

    waybill = connect(sandbox, sleeps).create_waybill(REQUEST)

    assert sleeps == [1.0, 2.0, 4.0]
    assert [r.url.params["method"] for r in sandbox.requests] == [CREATE] * 4 + [GET]
    assert (len(sandbox.orders), waybill.tracking_number) == (1, "4PX3001289946250CN")


def test_timeouts_with_no_order_behind_them_raise_a_retryable_timeout():
    sandbox = FourPXSandbox().then(CREATE, timeout, timeout, timeout, timeout)

    with pytest.raises(CarrierTimeout) as caught:
        connect(sandbox).create_waybill(REQUEST)

    assert (caught.value.retryable, caught.value.code) == (True, "timeout")
    assert str(caught.value) == "4PX: No answer in time (The read operation timed out)."
    assert sandbox.orders == {}
    assert len(sandbox.of(GET)) == 1


def test_a_duplicate_of_an_earlier_run_returns_that_waybill():
    sandbox = FourPXSandbox()
    sandbox.orders["SHP-2025-0001"] = load("create_ok.json")["data"]

    waybill = connect(sandbox).create_waybill(REQUEST)

    assert [r.url.params["method"] for r in sandbox.requests] == [CREATE, GET]
    assert waybill.carrier_reference == "OC91260503000001"


def test_a_duplicate_that_cannot_be_found_is_raised():
    sandbox = (
        FourPXSandbox()
        .then(CREATE, httpx.Response(200, json=load("create_duplicate.json")))
        .then(GET, httpx.Response(200, json=load("order_get_not_found.json")))
    )

    with pytest.raises(DuplicateReference) as caught:
        connect(sandbox).create_waybill(REQUEST)

    assert caught.value.message == "参考号已存在 The ref_no SHP-2025-0001 already exists"


def test_a_lookup_ignores_an_order_with_another_reference():
    other = load("order_get.json")
    other["data"][0]["consignment_info"]["ref_no"] = "SHP-OTHER"
    sandbox = FourPXSandbox().then(GET, httpx.Response(200, json=other))

    assert connect(sandbox).find_waybill("SHP-2025-0001") is None


def test_an_empty_reference_is_refused_before_any_request():
    sandbox = FourPXSandbox()
    blank = ParcelRequest(**{**REQUEST.__dict__, "reference": " "})

    with pytest.raises(CarrierError, match="needs a reference"):
        connect(sandbox).create_waybill(blank)
    assert sandbox.requests == []


# ------------------------------------------------------------------------------ label, cancel
def test_the_label_pdf_comes_back_byte_for_byte():
    sandbox = FourPXSandbox()

    label = connect(sandbox).fetch_label(WAYBILL)

    label_call, download = sandbox.requests
    assert label_call.url.params["method"] == LABEL
    assert label_call.url.params["sign"] == recomputed_sign(label_call)
    assert json.loads(label_call.content) == {
        "request_no": "OC91260503000001",
        "response_label_format": "PDF",
    }
    assert (download.method, str(download.url)) == ("GET", LABEL_URL)
    assert "sign" not in download.url.params
    assert label == PDF
    assert label.startswith(b"%PDF-1.4")


def test_a_label_link_answering_html_is_not_a_label():
    sandbox = FourPXSandbox()
    sandbox.label = b"<html><body>Link expired</body></html>"

    with pytest.raises(CarrierError) as caught:
        connect(sandbox).fetch_label(WAYBILL)

    assert caught.value.code == "not_pdf"
    assert "is not a PDF" in caught.value.message


def test_a_refused_cancel_says_why():
    sandbox = FourPXSandbox().then(CANCEL, httpx.Response(200, json=load("cancel_refused.json")))

    with pytest.raises(CarrierError) as caught:
        connect(sandbox).cancel(WAYBILL)

    assert caught.value.message == (
        "订单已入库，不能取消 The order has been received by 4PX and cannot be cancelled"
    )
    assert caught.value.code == "DS000090"


def test_a_cancel_retried_after_a_timeout_meets_its_own_success():
    sandbox = FourPXSandbox().then(
        CANCEL, timeout, httpx.Response(200, json=load("cancel_already.json"))
    )
    sleeps: list[float] = []

    connect(sandbox, sleeps).cancel(WAYBILL)

    assert (len(sandbox.of(CANCEL)), sleeps) == (2, [1.0])


# ------------------------------------------------------------------------------ tracking
def test_tracking_is_normalised_oldest_first():
    sandbox = FourPXSandbox()

    events = connect(sandbox).track(["4PX3001289946250CN", " 4PX3001289946250CN", ""])

    assert [json.loads(r.content) for r in sandbox.requests] == [
        {"deliveryOrderNo": "4PX3001289946250CN"}
    ]
    (number,) = events
    assert [(e.code, e.status) for e in events[number]] == [
        ("FPX_L_RPIF", TrackingStatus.INFO_RECEIVED),
        ("FPX_C_SPLS", TrackingStatus.IN_TRANSIT),
        ("FPX_C_AAF", TrackingStatus.IN_TRANSIT),
        ("FPX_D_SD", TrackingStatus.OUT_FOR_DELIVERY),
        ("FPX_S_OK", TrackingStatus.DELIVERED),
    ]
    # a naive 4PX time without timeZone is China time; with one, that zone
    assert events[number][0].at == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert events[number][-1] == TrackEvent(
        tracking_number="4PX3001289946250CN",
        at=datetime(2025, 3, 9, 20, 5, tzinfo=UTC),
        status=TrackingStatus.DELIVERED,
        description="Delivered, in/at mailbox",
        location="SPRINGFIELD, IL",
        code="FPX_S_OK",
    )


def test_tracking_chunks_one_number_per_call_and_keeps_unknown_numbers():
    sandbox = FourPXSandbox().then(
        TRACK,
        httpx.Response(200, json=load("tracking_exception.json")),
        httpx.Response(200, json=load("order_get_not_found.json")),
    )

    events = connect(sandbox).track(["4PX3001289946261CN", "4PX0000000000000CN"])

    assert [json.loads(r.content)["deliveryOrderNo"] for r in sandbox.requests] == [
        "4PX3001289946261CN",
        "4PX0000000000000CN",
    ]
    assert [e.status for e in events["4PX3001289946261CN"]] == [
        TrackingStatus.EXCEPTION,
        TrackingStatus.RETURNED,
    ]
    assert events["4PX0000000000000CN"] == []


def test_tracking_with_refused_credentials_raises():
    sandbox = FourPXSandbox().then(TRACK, httpx.Response(200, json=load("auth_error.json")))

    with pytest.raises(CarrierAuthError):
        connect(sandbox).track(["4PX3001289946250CN"])


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("FPX_L_RPIF", TrackingStatus.INFO_RECEIVED),
        ("FPX_O_CRLB", TrackingStatus.INFO_RECEIVED),
        ("FPX_C_SPLS", TrackingStatus.IN_TRANSIT),
        ("FPX_M_ATA", TrackingStatus.IN_TRANSIT),
        ("FPX_D_SD", TrackingStatus.OUT_FOR_DELIVERY),
        ("FPX_S_OK", TrackingStatus.DELIVERED),
        ("FPX_S_OKPO", TrackingStatus.DELIVERED),
        ("fpx_s_oksc", TrackingStatus.DELIVERED),
        ("FPX_D_FD01", TrackingStatus.EXCEPTION),
        ("FPX_I_HC", TrackingStatus.EXCEPTION),
        ("FPX_O_RTOC", TrackingStatus.RETURNED),
        ("", TrackingStatus.IN_TRANSIT),
    ],
)
def test_4px_code_mapping(code, status):
    assert status_for_code(code) is status


# ------------------------------------------------------------------------------ names, registry
@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Ann Example", ("Ann", "Example")),
        ("  Mary  Ann   Smith ", ("Mary Ann", "Smith")),
        ("Cher", ("Cher", "")),
        ("陈美玲", ("陈美玲", "")),
        ("山田 太郎", ("山田 太郎", "")),
        ("김민준", ("김민준", "")),
        ("", ("", "")),
    ],
)
def test_names_split_on_the_last_token_and_cjk_names_stay_whole(name, parts):
    assert split_name(name) == parts


def test_connector_for_knows_both_carriers():
    assert sorted(CONNECTORS) == ["4px", "yunexpress"]
    assert isinstance(connect(FourPXSandbox()), FourPXConnector)


def test_connector_for_an_unknown_carrier():
    with pytest.raises(CarrierError) as caught:
        connector_for("dhl", credentials={})

    assert caught.value.code == "unknown_carrier"
    assert caught.value.message == "No connector for the carrier 'dhl'; known: 4px, yunexpress."


def test_connector_for_names_the_missing_credentials():
    with pytest.raises(CarrierAuthError) as caught:
        connector_for("4PX", credentials={"app_key": KEY, "app_secret": "  "})

    assert caught.value.code == "missing_credentials"
    assert caught.value.message == "The 4PX account lacks the credentials: app_secret."
