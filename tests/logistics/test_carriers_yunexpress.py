"""YunExpress OMS connector against fixtures in the documented shapes, served through
``httpx.MockTransport``: Basic auth, the JSON array body in kg and cm, errors in YunExpress's
own words, retries that keep the order number, a retried purchase that buys once, labels,
cancel and tracking."""

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.utils import translation

from logistics.carriers import (
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
    YunExpressConnector,
    connector_for,
)
from logistics.carriers.yunexpress import STATUS_BY_PACKAGE_STATE
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
BASE = "http://oms.api.yunexpress.com"
CREDENTIALS = {"customer_code": "C0001", "api_secret": "s3cr3t"}
# printf '%s' 'C0001&s3cr3t' | base64
AUTHORIZATION = "Basic QzAwMDEmczNjcjN0"
LABEL_URL = "http://oms.label.example.test/LabelPrint/YT2506900000000101.pdf"
PDF = (FIXTURES / "label_100x100.pdf").read_bytes()
CREATE, GET_ORDER, LABEL, DELETE, TRACK = (
    "/api/WayBill/CreateOrder",
    "/api/WayBill/GetOrder",
    "/api/Label/Print",
    "/api/WayBill/Delete",
    "/api/Tracking/GetTrackInfo",
)


def load(name: str) -> dict:
    return json.loads((FIXTURES / "yunexpress" / name).read_text(encoding="utf-8"))


class YunExpressSandbox:
    """A small YunExpress: keeps the orders it created (a second CreateOrder with the same
    CustomerOrderNumber is refused as existing), records every request, plays scripted
    actions first."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.orders: dict[str, dict] = {}
        self.scripted: dict[str, list] = defaultdict(list)
        self.label = PDF

    def then(self, path: str, *actions) -> "YunExpressSandbox":
        self.scripted[path].extend(actions)
        return self

    def process(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == CREATE:
            (order,) = json.loads(request.content)
            if order["CustomerOrderNumber"] in self.orders:
                return httpx.Response(200, json=load("create_duplicate.json"))
            answer = load("create_ok.json")
            self.orders[order["CustomerOrderNumber"]] = answer["Item"][0]
            return httpx.Response(200, json=answer)
        if path == GET_ORDER:
            found = request.url.params["OrderNumber"] in self.orders
            return httpx.Response(
                200, json=load("get_order.json" if found else "get_order_missing.json")
            )
        if path == LABEL:
            return httpx.Response(200, json=load("label_print.json"))
        if path == DELETE:
            return httpx.Response(200, json=load("delete_ok.json"))
        if path == TRACK:
            return httpx.Response(200, json=load("tracking.json"))
        return httpx.Response(404, json={"Message": "No HTTP resource was found"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "oms.label.example.test":
            return httpx.Response(
                200, content=self.label, headers={"Content-Type": "application/pdf"}
            )
        if self.scripted[request.url.path]:
            action = self.scripted[request.url.path].pop(0)
            return action(request) if callable(action) else action
        return self.process(request)

    def of(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


def timeout(request):
    raise httpx.ReadTimeout("The read operation timed out", request=request)


def processed_then_timeout(sandbox: YunExpressSandbox):
    """YunExpress creates the order, but the answer never reaches us."""

    def act(request):
        sandbox.process(request)
        raise httpx.ReadTimeout("The read operation timed out", request=request)

    return act


def connect(sandbox, sleeps=None, **credentials) -> YunExpressConnector:
    return connector_for(
        "yunexpress",
        credentials={**CREDENTIALS, **credentials},
        transport=httpx.MockTransport(sandbox),
        sleep=(sleeps if sleeps is not None else []).append,
    )


REQUEST = ParcelRequest(
    reference="SHP-2025-0002",
    service_code="THPHR",
    sender=Address(
        name="Li Wei",
        lines=("Xixiang Road 18",),
        city="Shenzhen",
        state="Guangdong",
        postcode="518000",
        country="CN",
        phone="+86 755 0000 0000",
        company="Caravan Test Co.",
    ),
    recipient=Address(
        name="Ann Marie Example",
        lines=("1 Main St", "Suite 200"),
        city="Springfield",
        state="IL",
        postcode="62701",
        country="US",
        phone="555-0100",
        email="ann@example.com",
        house_number="1",
    ),
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
    length_mm=200,
    width_mm=151,
    height_mm=50,
)
WAYBILL = Waybill(
    reference="SHP-2025-0002",
    tracking_number="LX012345675CN",
    carrier_reference="YT2506900000000101",
)
CREATED = Waybill(
    reference="SHP-2025-0002",
    tracking_number="LX012345675CN",
    carrier_reference="YT2506900000000101",
)


# ------------------------------------------------------------------------------ the request
def test_create_posts_an_array_of_one_order_in_kg_and_cm_with_basic_auth():
    sandbox = YunExpressSandbox()

    waybill = connect(sandbox).create_waybill(REQUEST)

    (request,) = sandbox.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE}{CREATE}")
    assert request.headers["Authorization"] == AUTHORIZATION
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "棉T恤".encode() in request.content
    assert json.loads(request.content) == [
        {
            "CustomerOrderNumber": "SHP-2025-0002",
            "ShippingMethodCode": "THPHR",
            "PackageCount": 1,
            "Weight": 0.35,  # kg
            "Length": 20,  # cm
            "Width": 16,  # 151 mm, rounded up
            "Height": 5,
            "Receiver": {
                "CountryCode": "US",
                "FirstName": "Ann Marie",
                "LastName": "Example",
                "Company": "",
                "Street": "1 Main St, Suite 200",
                "City": "Springfield",
                "State": "IL",
                "Zip": "62701",
                "Phone": "555-0100",
                "HouseNumber": "1",
                "Email": "ann@example.com",
            },
            "Sender": {
                "CountryCode": "CN",
                "FirstName": "Li",
                "LastName": "Wei",
                "Company": "Caravan Test Co.",
                "Street": "Xixiang Road 18",
                "City": "Shenzhen",
                "State": "Guangdong",
                "Zip": "518000",
                "Phone": "+86 755 0000 0000",
                "HouseNumber": "",
                "Email": "",
            },
            "ApplicationType": 4,
            "ReturnOption": 0,
            "TariffPrepay": 0,
            "Parcels": [
                {
                    "EName": "Cotton T-shirt",
                    "CName": "棉T恤",
                    "HSCode": "610910",
                    "Quantity": 2,
                    "UnitPrice": 9.99,
                    "UnitWeight": 0.12,  # kg
                    "SKU": "TEE-BLK-S",
                    "CurrencyCode": "USD",
                },
                {
                    "EName": "Enamel mug",
                    "CName": "",
                    "HSCode": "732393",
                    "Quantity": 1,
                    "UnitPrice": 12.5,
                    "UnitWeight": 0.117,  # no item weight: 350 g over 3 units
                    "SKU": "MUG-WHT",
                    "CurrencyCode": "USD",
                },
            ],
        }
    ]
    assert waybill == CREATED
    assert waybill.raw["Success"] == 1


def test_ddp_asks_for_tariff_prepay_and_unknown_sizes_are_left_to_yunexpress():
    sandbox = YunExpressSandbox()
    ddp = ParcelRequest(
        **{**REQUEST.__dict__, "duty_type": "P", "length_mm": 0, "width_mm": 0, "height_mm": 0}
    )

    connect(sandbox).create_waybill(ddp)

    (order,) = json.loads(sandbox.requests[0].content)
    assert order["TariffPrepay"] == 1
    assert {"Length", "Width", "Height"} & set(order) == set()


def test_the_code_and_message_spelling_of_the_envelope_is_accepted():
    answer = load("create_ok.json")
    answer["Code"], answer["Message"] = answer.pop("ResultCode"), answer.pop("ResultDesc")
    sandbox = YunExpressSandbox().then(CREATE, httpx.Response(200, json=answer))

    assert connect(sandbox).create_waybill(REQUEST) == CREATED


def test_without_a_tracking_number_the_waybill_number_is_tracked():
    answer = load("create_ok.json")
    answer["Item"][0]["TrackingNumber"] = ""
    sandbox = YunExpressSandbox().then(CREATE, httpx.Response(200, json=answer))

    waybill = connect(sandbox).create_waybill(REQUEST)

    assert (waybill.tracking_number, waybill.carrier_reference) == (
        "YT2506900000000101",
        "YT2506900000000101",
    )


# ------------------------------------------------------------------------------ errors
def test_a_refused_create_carries_the_remark_and_is_not_retried():
    sandbox = YunExpressSandbox().then(
        CREATE, httpx.Response(200, json=load("create_invalid_postcode.json"))
    )
    sleeps: list[float] = []

    with pytest.raises(CarrierError) as caught:
        connect(sandbox, sleeps).create_waybill(REQUEST)

    error = caught.value
    assert type(error) is CarrierError
    assert (error.message, error.code, error.retryable) == (
        "收件人邮编格式错误[Receiver.Zip: 6270]",
        "1001",
        False,
    )
    assert str(error) == "YunExpress: 收件人邮编格式错误[Receiver.Zip: 6270]"
    assert ([r.url.path for r in sandbox.requests], sleeps) == ([CREATE], [])


def test_refused_credentials_are_an_auth_error_in_yunexpress_words():
    sandbox = YunExpressSandbox().then(CREATE, httpx.Response(401, json=load("auth_error.json")))

    with pytest.raises(CarrierAuthError) as caught:
        connect(sandbox).create_waybill(REQUEST)

    assert (caught.value.message, caught.value.status) == (
        "Authorization has been denied for this request.",
        401,
    )
    assert sandbox.of(GET_ORDER) == []


def test_a_bad_gateway_is_retried_with_backoff():
    bad_gateway = httpx.Response(502, text="Bad Gateway")
    sandbox = YunExpressSandbox().then(CREATE, bad_gateway, bad_gateway)
    sleeps: list[float] = []

    waybill = connect(sandbox, sleeps).create_waybill(REQUEST)

    assert (sleeps, waybill) == ([1.0, 2.0], CREATED)
    assert len({r.content for r in sandbox.of(CREATE)}) == 1


# ------------------------------------------------------------------------------ idempotency
def test_a_timeout_is_retried_with_the_same_order_number():
    sandbox = YunExpressSandbox().then(CREATE, timeout)
    sleeps: list[float] = []

    waybill = connect(sandbox, sleeps).create_waybill(REQUEST)

    first, second = sandbox.of(CREATE)
    assert first.content == second.content
    assert json.loads(second.content)[0]["CustomerOrderNumber"] == "SHP-2025-0002"
    assert (sleeps, waybill, list(sandbox.orders)) == ([1.0], CREATED, ["SHP-2025-0002"])


def test_a_retried_purchase_does_not_buy_twice():
    sandbox = YunExpressSandbox()
    sandbox.then(CREATE, processed_then_timeout(sandbox))

    waybill = connect(sandbox).create_waybill(REQUEST)

    # The first CreateOrder went through; the retry heard "已存在" and GetOrder found it.
    assert [r.url.path for r in sandbox.requests] == [CREATE, CREATE, GET_ORDER]
    assert len(sandbox.orders) == 1  # exactly one successful create
    get = sandbox.of(GET_ORDER)[0]
    assert (get.method, dict(get.url.params)) == ("GET", {"OrderNumber": "SHP-2025-0002"})
    assert get.headers["Authorization"] == AUTHORIZATION
    assert waybill == CREATED
    assert waybill.raw["Status"] == "已提交"


def test_a_duplicate_that_cannot_be_found_is_raised():
    sandbox = YunExpressSandbox().then(
        CREATE, httpx.Response(200, json=load("create_duplicate.json"))
    )

    with pytest.raises(DuplicateReference) as caught:
        connect(sandbox).create_waybill(REQUEST)

    assert caught.value.message == "客户订单号[SHP-2025-0002]已存在"
    assert [r.url.path for r in sandbox.requests] == [CREATE, GET_ORDER]


def test_a_lookup_ignores_an_order_with_another_reference():
    other = load("get_order.json")
    other["Item"]["CustomerOrderNumber"] = "SHP-OTHER"
    sandbox = YunExpressSandbox().then(GET_ORDER, httpx.Response(200, json=other))

    assert connect(sandbox).find_waybill("SHP-2025-0002") is None


# ------------------------------------------------------------------------------ label, cancel
def test_the_label_pdf_comes_back_byte_for_byte():
    sandbox = YunExpressSandbox()

    label = connect(sandbox).fetch_label(WAYBILL)

    print_call, download = sandbox.requests
    assert (print_call.method, print_call.url.path) == ("POST", LABEL)
    assert json.loads(print_call.content) == ["YT2506900000000101"]
    assert (download.method, str(download.url)) == ("GET", LABEL_URL)
    assert "Authorization" not in download.headers  # our secret stays with the API host
    assert label == PDF


def test_a_label_yunexpress_cannot_print_says_why():
    sandbox = YunExpressSandbox().then(
        LABEL, httpx.Response(200, json=load("label_print_refused.json"))
    )

    with pytest.raises(CarrierError) as caught:
        connect(sandbox).fetch_label(WAYBILL)

    assert caught.value.message == "运单已删除，不能打印标签"
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize(
    ("waybill", "body"),
    [
        (WAYBILL, {"OrderType": 1, "OrderNumber": "YT2506900000000101"}),
        (
            Waybill(reference="SHP-2025-0002", tracking_number="LX012345675CN"),
            {"OrderType": 2, "OrderNumber": "SHP-2025-0002"},
        ),
    ],
    ids=["by-waybill-number", "by-our-order-number"],
)
def test_cancel_deletes_the_order(waybill, body):
    sandbox = YunExpressSandbox()

    connect(sandbox).cancel(waybill)

    (request,) = sandbox.requests
    assert (request.method, request.url.path, json.loads(request.content)) == (
        "POST",
        DELETE,
        body,
    )


def test_a_refused_cancel_says_why():
    sandbox = YunExpressSandbox().then(
        DELETE, httpx.Response(200, json=load("delete_refused.json"))
    )

    with pytest.raises(CarrierError) as caught:
        connect(sandbox).cancel(WAYBILL)

    assert (caught.value.message, caught.value.code) == ("运单已收货，不能删除，请申请拦截", "1001")


def test_deleting_an_order_deleted_already_is_not_an_error():
    sandbox = YunExpressSandbox().then(
        DELETE, timeout, httpx.Response(200, json=load("delete_already.json"))
    )

    connect(sandbox).cancel(WAYBILL)

    assert len(sandbox.of(DELETE)) == 2


# ------------------------------------------------------------------------------ tracking
def test_tracking_is_normalised_oldest_first():
    sandbox = YunExpressSandbox()

    events = connect(sandbox).track(["LX012345675CN"])

    (request,) = sandbox.requests
    assert (request.method, request.url.path, dict(request.url.params)) == (
        "GET",
        TRACK,
        {"OrderNumber": "LX012345675CN"},
    )
    assert [(e.description, e.status) for e in events["LX012345675CN"]] == [
        ("Shipment information received", TrackingStatus.IN_TRANSIT),
        ("Departed from facility", TrackingStatus.IN_TRANSIT),
        ("Arrived at destination country", TrackingStatus.IN_TRANSIT),
        ("Delivered", TrackingStatus.DELIVERED),
    ]
    assert events["LX012345675CN"][-1] == TrackEvent(
        tracking_number="LX012345675CN",
        at=datetime(2025, 3, 10, 7, 30, tzinfo=UTC),  # naive ProcessDate read as China time
        status=TrackingStatus.DELIVERED,
        description="Delivered",
        location="SPRINGFIELD, IL 62701",
        code="3",
    )


def test_tracking_one_number_per_call_returned_and_unknown_numbers():
    sandbox = YunExpressSandbox().then(
        TRACK,
        httpx.Response(200, json=load("tracking_returned.json")),
        httpx.Response(200, json=load("tracking_not_found.json")),
    )

    events = connect(sandbox).track(["YT2506900000000202", "YT0000000000000000"])

    assert [r.url.params["OrderNumber"] for r in sandbox.requests] == [
        "YT2506900000000202",
        "YT0000000000000000",
    ]
    assert [e.status for e in events["YT2506900000000202"]] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.RETURNED,
    ]
    assert events["YT0000000000000000"] == []


@pytest.mark.parametrize(
    ("state", "latest", "earlier"),
    [
        (0, TrackingStatus.INFO_RECEIVED, TrackingStatus.INFO_RECEIVED),
        (1, TrackingStatus.INFO_RECEIVED, TrackingStatus.INFO_RECEIVED),
        (2, TrackingStatus.IN_TRANSIT, TrackingStatus.IN_TRANSIT),
        (3, TrackingStatus.DELIVERED, TrackingStatus.IN_TRANSIT),
        (4, TrackingStatus.IN_TRANSIT, TrackingStatus.IN_TRANSIT),
        (5, TrackingStatus.EXCEPTION, TrackingStatus.IN_TRANSIT),
        (6, TrackingStatus.EXCEPTION, TrackingStatus.IN_TRANSIT),
        (7, TrackingStatus.RETURNED, TrackingStatus.IN_TRANSIT),
        (42, TrackingStatus.IN_TRANSIT, TrackingStatus.IN_TRANSIT),
    ],
)
def test_package_state_mapping(state, latest, earlier):
    answer = load("tracking.json")
    answer["Item"]["PackageState"] = state
    sandbox = YunExpressSandbox().then(TRACK, httpx.Response(200, json=answer))

    (events,) = connect(sandbox).track(["LX012345675CN"]).values()

    assert [e.status for e in events] == [earlier, earlier, earlier, latest]
    assert STATUS_BY_PACKAGE_STATE.get(state, TrackingStatus.IN_TRANSIT) is latest


# ------------------------------------------------------------------------------ registry
def test_connector_for_names_every_missing_credential():
    with pytest.raises(CarrierAuthError) as caught:
        connector_for("yunexpress", credentials={"customer_code": ""})

    assert caught.value.message == (
        "The YunExpress account lacks the credentials: customer_code, api_secret."
    )


def test_the_default_base_url_is_the_classic_oms_host():
    assert YunExpressConnector.DEFAULT_BASE_URL == BASE
    assert connect(YunExpressSandbox()).base_url == BASE
