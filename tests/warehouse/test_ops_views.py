"""Stocktake, transfer, low-stock and availability pages: flows, blind counts, scopes (another
warehouse's stocktake or transfer is a 404), permissions and query budgets."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from erp.models import Role
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse import selectors
from warehouse.models import StockLevel, StockMove, Stocktake, StocktakeLine, Transfer, Warehouse
from warehouse.selectors import register_incoming_provider
from warehouse.services import (
    StockLine,
    TransferItem,
    TransferReceipt,
    stock_receive,
    stock_release,
    stock_reserve,
    stocktake_count,
    stocktake_create,
    transfer_create,
    transfer_receive,
    transfer_ship,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_incoming_provider(monkeypatch):
    """No "on order" provider unless a test registers one (purchasing may register its own)."""
    monkeypatch.setattr(selectors, "_INCOMING_PROVIDERS", [])


HTMX = {"HTTP_HX_REQUEST": "true"}
SECRET_QTY = 4321  # on hand in a blind count: must never show to the counter


def receive(sku, location, quantity, cost="2"):
    return stock_receive(sku=sku, location=location, quantity=quantity, unit_cost=Decimal(cost))


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def us(db):
    warehouse = WarehouseFactory(code="US", name="Los Angeles", kind=Warehouse.Kind.OVERSEAS)
    LocationFactory(warehouse=warehouse, code="U-01")
    return warehouse


@pytest.fixture
def clerk(warehouse):
    """A warehouse worker who sees only Shenzhen."""
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])


@pytest.fixture
def outsider(us):
    """A warehouse worker who sees only the US warehouse."""
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[us])


@pytest.fixture
def mug(bins):
    sku = SkuFactory(code="MUG", barcode="6901234567890", low_stock_threshold=5)
    receive(sku, bins[0], 10)
    return sku


# --- stocktakes -------------------------------------------------------------------------------


def test_stocktake_list_shows_only_the_users_warehouses(
    client, clerk, warehouse, us, bins, django_assert_max_num_queries
):
    mine = [stocktake_create(warehouse=warehouse, locations=[bins[0]]) for _ in range(3)]
    theirs = stocktake_create(warehouse=us)
    client = login(client, clerk)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("warehouse:stocktake-list"))

    assert response.status_code == 200
    assert [s.pk for s in response.context["page"]] == [s.pk for s in reversed(mine)]
    assert theirs.number not in response.content.decode()


def test_create_a_stocktake_from_the_page(client, clerk, warehouse, bins, mug):
    response = login(client, clerk).post(
        reverse("warehouse:stocktake-create"),
        {"warehouse": warehouse.pk, "bins": "A-01\nA-02", "skus": "", "blind": "on"},
    )

    stocktake = Stocktake.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("warehouse:stocktake-detail", args=[stocktake.pk])
    assert stocktake.blind is True
    assert sorted(stocktake.locations.values_list("code", flat=True)) == ["A-01", "A-02"]
    assert stocktake.lines.count() == 1


def test_create_names_unknown_bins_and_skus(client, clerk, warehouse):
    response = login(client, clerk).post(
        reverse("warehouse:stocktake-create"),
        {"warehouse": warehouse.pk, "bins": "Z-99", "skus": "NOPE"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "SZ has no bins Z-99." in html
    assert "No SKU has the code or barcode NOPE." in html
    assert Stocktake.objects.count() == 0


def test_another_warehouses_stocktake_is_not_found(client, outsider, warehouse, bins):
    stocktake = stocktake_create(warehouse=warehouse)
    client = login(client, outsider)
    for name in ("stocktake-detail", "stocktake-review"):
        assert client.get(reverse(f"warehouse:{name}", args=[stocktake.pk])).status_code == 404
    response = client.post(
        reverse("warehouse:stocktake-scan", args=[stocktake.pk]), {"code": "A-01"}
    )
    assert response.status_code == 404


def test_scanning_a_bin_then_units_counts_them(
    client, clerk, warehouse, bins, mug, django_assert_max_num_queries
):
    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]])
    client = login(client, clerk)
    scan = reverse("warehouse:stocktake-scan", args=[stocktake.pk])

    response = client.post(scan, {"code": "MUG"}, **HTMX)
    assert "MUG: scan the bin label first." in response.content.decode()

    response = client.post(scan, {"code": "A-01"}, **HTMX)
    assert "Bin A-01: 1 line to count." in response.content.decode()
    with django_assert_max_num_queries(22):  # 5 of them: session, user, permissions
        response = client.post(scan, {"code": "6901234567890"}, **HTMX)  # the barcode
    assert "MUG in A-01: 1 counted" in response.content.decode()
    response = client.post(scan, {"code": "5*MUG"}, **HTMX)
    assert "MUG in A-01: 6 counted" in response.content.decode()
    response = client.post(scan, {"code": "WHAT"}, **HTMX)
    assert "WHAT is neither a bin of SZ nor a SKU." in response.content.decode()
    assert 'class="scan-message bad"' in response.content.decode()

    line = StocktakeLine.objects.get(stocktake=stocktake, sku=mug)
    assert (line.counted, line.expected_at_count, line.counted_by) == (6, 10, clerk)


def test_a_blind_count_never_shows_the_expected_quantity(client, clerk, warehouse, bins):
    sku = SkuFactory(code="SECRET")
    receive(sku, bins[0], SECRET_QTY)
    stocktake = stocktake_create(warehouse=warehouse, locations=[bins[0]], blind=True)
    client = login(client, clerk)

    pages = [
        client.get(reverse("warehouse:stocktake-detail", args=[stocktake.pk]) + "?bin=A-01"),
        client.post(
            reverse("warehouse:stocktake-scan", args=[stocktake.pk]), {"code": "SECRET"}, **HTMX
        ),
    ]

    for response in pages:
        html = response.content.decode()
        assert "SECRET" in html
        assert str(SECRET_QTY) not in html and "4,321" not in html
        assert "On hand now" not in html


def test_a_blind_counts_review_needs_the_post_permission(client, warehouse, bins, mug):
    blind = stocktake_create(warehouse=warehouse, blind=True)
    open_count = stocktake_create(warehouse=warehouse)
    viewer = login(client, UserFactory(roles=[Role.FINANCE]))

    assert viewer.get(reverse("warehouse:stocktake-review", args=[blind.pk])).status_code == 403
    assert (
        viewer.get(reverse("warehouse:stocktake-review", args=[open_count.pk])).status_code == 200
    )


def test_set_a_count_without_script(client, clerk, warehouse, bins, mug):
    stocktake = stocktake_create(warehouse=warehouse)
    response = login(client, clerk).post(
        reverse("warehouse:stocktake-count", args=[stocktake.pk]),
        {"location": "A-01", "sku": "MUG", "quantity": "8"},
    )

    assert response.status_code == 302
    assert StocktakeLine.objects.get(stocktake=stocktake, sku=mug).counted == 8


def test_paste_counts(client, clerk, warehouse, bins, mug):
    other = SkuFactory(code="LAMP")
    stocktake = stocktake_create(warehouse=warehouse)
    client = login(client, clerk)
    url = reverse("warehouse:stocktake-upload", args=[stocktake.pk])

    bad = client.post(url, {"text": "bin,sku,qty\nA-01,MUG,x\nZ-9,LAMP,3\nMUG,7"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Row 2: x is not a quantity" in html
    assert "Row 3: SZ has no bin Z-9" in html

    good = client.post(url, {"text": "A-01\tMUG\t7\nA-02 LAMP 3\nMUG 1"})
    assert good.status_code == 302
    counted = dict(
        StocktakeLine.objects.filter(stocktake=stocktake).values_list("sku__code", "counted")
    )
    assert counted == {"MUG": 8, "LAMP": 3}  # the two-column row names MUG's only bin
    assert other.pk


def test_upload_a_csv_file(client, clerk, warehouse, bins, mug):
    stocktake = stocktake_create(warehouse=warehouse)
    upload = SimpleUploadedFile("count.csv", "库位,SKU,数量\nA-01,MUG,9\n".encode("gb18030"))
    response = login(client, clerk).post(
        reverse("warehouse:stocktake-upload", args=[stocktake.pk]), {"file": upload}
    )
    assert response.status_code == 302
    assert StocktakeLine.objects.get(stocktake=stocktake, sku=mug).counted == 9


def test_review_and_post(client, clerk, warehouse, bins, mug, django_assert_max_num_queries):
    for i in range(5):
        receive(SkuFactory(code=f"X{i}"), bins[1], 3)
    stocktake = stocktake_create(warehouse=warehouse)
    for line in stocktake.lines.select_related("sku", "location"):
        stocktake_count(stocktake=stocktake, sku=line.sku, location=line.location, quantity=2)
    client = login(client, clerk)
    review = reverse("warehouse:stocktake-review", args=[stocktake.pk])

    with django_assert_max_num_queries(12):
        response = client.get(review)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.with_variance, summary.units_removed) == (6, 8 + 5)
    assert len(response.context["page"]) == 6

    response = client.post(
        reverse("warehouse:stocktake-post", args=[stocktake.pk]), {"reason": "Q3 count"}
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(sku=mug, location=bins[0]).on_hand == 2
    assert StockMove.objects.filter(kind="stocktake", note="Q3 count").count() == 6
    page = client.get(review).content.decode()
    assert "Q3 count" in page


def test_posting_refused_shows_the_problem_lines(client, clerk, warehouse, bins, mug):
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 6)], reference="order_line:1")
    stocktake = stocktake_create(warehouse=warehouse)
    stocktake_count(stocktake=stocktake, sku=mug, location=bins[0], quantity=1)
    client = login(client, clerk)

    response = client.post(
        reverse("warehouse:stocktake-post", args=[stocktake.pk]), {"reason": "Count"}, follow=True
    )

    html = response.content.decode()
    assert "MUG in A-01: -9 would leave 1 on hand, but 6 are reserved" in html
    assert response.context["view"] == "problems"
    assert [line.sku.code for line in response.context["page"]] == ["MUG"]
    assert StockLevel.objects.get(sku=mug, location=bins[0]).on_hand == 10


def test_counters_without_post_permission_cannot_post(client, warehouse, bins, mug):
    stocktake = stocktake_create(warehouse=warehouse)
    ops = login(client, UserFactory(roles=[Role.OPERATIONS]))
    response = ops.post(
        reverse("warehouse:stocktake-post", args=[stocktake.pk]), {"reason": "Count"}
    )
    assert response.status_code == 403


# --- transfers --------------------------------------------------------------------------------


def test_transfer_flow_from_the_pages(client, clerk, warehouse, us, bins, mug):
    lamp = SkuFactory(code="LAMP", weight_g=0)
    receive(lamp, bins[1], 8)
    client = login(client, clerk)

    response = client.post(
        reverse("warehouse:transfer-create"),
        {
            "source": warehouse.pk,
            "destination": us.pk,
            "lines": "MUG, 4, A-01\nLAMP 2",
            "freight_cost": "12",
            "carrier": "Matson",
        },
    )
    transfer = Transfer.objects.get()
    assert response["Location"] == reverse("warehouse:transfer-detail", args=[transfer.pk])
    assert sorted(transfer.lines.values_list("sku__code", "source_location__code")) == [
        ("LAMP", "A-02"),  # no bin given: the first with enough free units
        ("MUG", "A-01"),
    ]

    response = client.post(
        reverse("warehouse:transfer-ship", args=[transfer.pk]),
        {"freight_cost": "12", "carrier": "Matson", "tracking": "MATU1"},
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.status, transfer.tracking) == ("shipped", "MATU1")

    # the Shenzhen clerk cannot receive in the US
    detail = client.get(reverse("warehouse:transfer-detail", args=[transfer.pk]))
    assert detail.context["can_receive"] is False


def test_receiving_at_the_destination_partially_then_closing(
    client, outsider, warehouse, us, bins, mug, django_assert_max_num_queries
):
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 6, bins[0])]
    )
    transfer_ship(transfer=transfer)
    line = transfer.lines.get()
    bin_us = us.locations.get()
    client = login(client, outsider)
    url = reverse("warehouse:transfer-detail", args=[transfer.pk])

    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.context["can_receive"] is True
    assert response.context["can_ship"] is False

    too_many = client.post(
        reverse("warehouse:transfer-receive", args=[transfer.pk]),
        {f"qty_{line.pk}": "7", f"bin_{line.pk}": bin_us.pk},
    )
    assert too_many.status_code == 400

    response = client.post(
        reverse("warehouse:transfer-receive", args=[transfer.pk]),
        {f"qty_{line.pk}": "4", f"bin_{line.pk}": bin_us.pk, f"note_{line.pk}": "2 short"},
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.PARTIALLY_RECEIVED
    assert StockLevel.objects.get(sku=mug, location=bin_us).on_hand == 4

    client.post(reverse("warehouse:transfer-close", args=[transfer.pk]), {"note": "Lost"})
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    html = client.get(url).content.decode()
    assert "Missing" in html and "2 short" in html


def test_transfer_list_scope_and_budget(
    client, clerk, warehouse, us, bins, mug, django_assert_max_num_queries
):
    other = WarehouseFactory(code="DE")
    de_bin = LocationFactory(warehouse=other, code="D-01")
    receive(mug, de_bin, 5)
    for _ in range(3):
        transfer_create(source=warehouse, destination=us, items=[TransferItem(mug, 1, bins[0])])
    foreign = transfer_create(source=other, destination=us, items=[TransferItem(mug, 1, de_bin)])
    client = login(client, clerk)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("warehouse:transfer-list"))

    assert len(response.context["page"]) == 3
    assert foreign.number not in response.content.decode()
    assert client.get(reverse("warehouse:transfer-detail", args=[foreign.pk])).status_code == 404


def test_shipping_reserved_stock_is_refused_on_the_page(client, clerk, warehouse, us, bins, mug):
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 8)], reference="order_line:1")
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 5, bins[0])]
    )
    response = login(client, clerk).post(
        reverse("warehouse:transfer-ship", args=[transfer.pk]),
        {"freight_cost": "0"},
        follow=True,
    )
    assert "MUG at SZ/A-01: requested 5, available 2" in response.content.decode()
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.DRAFT


# --- stock across warehouses ------------------------------------------------------------------


def test_low_stock_lists_skus_at_or_below_their_threshold(
    client, clerk, warehouse, us, bins, django_assert_max_num_queries
):
    low = SkuFactory(code="LOW", low_stock_threshold=5)
    receive(low, bins[0], 3)
    receive(low, bins[1], 2)  # 5 in SZ: at the threshold
    fine = SkuFactory(code="FINE", low_stock_threshold=5)
    receive(fine, bins[0], 6)
    receive(low, us.locations.get(), 1)  # low in US too, not the clerk's warehouse
    for i in range(5):
        receive(SkuFactory(code=f"L{i}", low_stock_threshold=10), bins[2], 1)
    client = login(client, clerk)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("warehouse:low-stock"))

    rows = [
        (r["sku__code"], r["location__warehouse__code"], r["total_available"])
        for r in response.context["page"]
    ]
    assert rows == [
        ("L0", "SZ", 1),
        ("L1", "SZ", 1),
        ("L2", "SZ", 1),
        ("L3", "SZ", 1),
        ("L4", "SZ", 1),
        ("LOW", "SZ", 5),
    ]
    assert "On order" not in response.content.decode()  # no purchasing provider


def test_low_stock_shows_on_order_when_a_provider_exists(client, clerk, warehouse, bins):
    low = SkuFactory(code="LOW", low_stock_threshold=5)
    receive(low, bins[0], 1)

    def provider(*, sku_ids, warehouse_ids):
        return {(low.pk, warehouse.pk): 40}

    register_incoming_provider(provider)
    response = login(client, clerk).get(reverse("warehouse:low-stock"))

    assert "On order" in response.content.decode()
    assert response.context["page"][0]["incoming"] == 40


def test_sku_page_panel_shows_stock_across_the_users_warehouses(
    client, warehouse, us, bins, mug, django_assert_max_num_queries
):
    transfer = transfer_create(
        source=warehouse, destination=us, items=[TransferItem(mug, 4, bins[0])]
    )
    transfer_ship(transfer=transfer)
    transfer_receive(
        transfer=transfer, receipts=[TransferReceipt(transfer.lines.get(), 1, us.locations.get())]
    )
    secret = WarehouseFactory(code="SECRETWH")
    receive(mug, LocationFactory(warehouse=secret, code="S-1"), 77)
    user = UserFactory(roles=[Role.OPERATIONS], warehouses=[warehouse, us])
    client = login(client, user)

    detail = client.get(reverse("warehouse:sku-detail", args=[mug.pk]))
    assert reverse("warehouse:sku-availability", args=[mug.pk]) in detail.content.decode()

    with django_assert_max_num_queries(9):
        response = client.get(reverse("warehouse:sku-availability", args=[mug.pk]), **HTMX)
    rows = [
        (r.warehouse.code, r.on_hand, r.available, r.in_transit)
        for r in response.context["availability"]
    ]
    assert rows == [("SZ", 6, 6, 0), ("US", 1, 1, 3)]
    assert "SECRETWH" not in response.content.decode()
    full_page = client.get(reverse("warehouse:sku-availability", args=[mug.pk]))
    assert "<html" in full_page.content.decode()


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def api_clerk(client_as, clerk):
    return client_as(clerk)


def test_api_stocktake_create_count_post(api_clerk, warehouse, bins, mug, us):
    response = api_clerk.post(
        "/api/v1/stocktakes/",
        {"warehouse": warehouse.pk, "locations": [bins[0].pk], "note": "zone A"},
    )
    assert response.status_code == 201, response.content
    stocktake_id = response.json()["id"]
    assert (response.json()["line_count"], response.json()["counted_count"]) == (1, 0)

    refused = api_clerk.post("/api/v1/stocktakes/", {"warehouse": us.pk})
    assert (refused.status_code, refused.json()["code"]) == (403, "out_of_scope")

    count = api_clerk.post(
        f"/api/v1/stocktakes/{stocktake_id}/count/",
        {"location": "A-01", "sku": "6901234567890", "quantity": 7},
    )
    assert count.status_code == 200, count.content
    body = count.json()
    assert (body["sku_code"], body["counted"], body["expected_at_count"], body["variance"]) == (
        "MUG",
        7,
        10,
        -3,
    )

    bad = api_clerk.post(
        f"/api/v1/stocktakes/{stocktake_id}/counts/",
        {"counts": [{"location": "Z-9", "sku": "MUG", "quantity": 1}]},
    )
    assert bad.status_code == 400
    assert "SZ has no bins Z-9." in str(bad.json())

    summary = api_clerk.get(f"/api/v1/stocktakes/{stocktake_id}/summary/").json()
    assert (summary["with_variance"], summary["units_removed"]) == (1, 3)

    posted = api_clerk.post(f"/api/v1/stocktakes/{stocktake_id}/post/", {"reason": "API count"})
    assert posted.status_code == 200, posted.content
    assert (posted.json()["moves"], posted.json()["units_removed"]) == (1, 3)
    again = api_clerk.post(f"/api/v1/stocktakes/{stocktake_id}/post/", {"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (400, "stocktake_invalid")
    assert StockLevel.objects.get(sku=mug, location=bins[0]).on_hand == 7


def test_api_post_refused_lists_the_problems(api_clerk, warehouse, bins, mug):
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 6)], reference="order_line:1")
    stocktake = stocktake_create(warehouse=warehouse)
    api_clerk.post(
        f"/api/v1/stocktakes/{stocktake.pk}/counts/",
        {"counts": [{"location": "A-01", "sku": "MUG", "quantity": 2}]},
    )

    response = api_clerk.post(f"/api/v1/stocktakes/{stocktake.pk}/post/", {"reason": "Count"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stocktake_refused"
    assert body["problems"] == [
        {
            "sku": "MUG",
            "location": "A-01",
            "variance": -8,
            "on_hand": 10,
            "reserved": 6,
            "problem": "below_reserved",
        }
    ]


def test_api_blind_lines_hide_the_expected_quantities_from_viewers(client_as, warehouse, bins, mug):
    stocktake = stocktake_create(warehouse=warehouse, blind=True)
    stocktake_count(stocktake=stocktake, sku=mug, location=bins[0], quantity=3)
    viewer = client_as(UserFactory(roles=[Role.OPERATIONS]))

    lines = viewer.get(f"/api/v1/stocktakes/{stocktake.pk}/lines/").json()["results"]
    assert [(ln["counted"], ln["expected_at_count"], ln["variance"]) for ln in lines] == [
        (3, None, None)
    ]
    assert viewer.get(f"/api/v1/stocktakes/{stocktake.pk}/summary/").status_code == 403
    assert viewer.get(f"/api/v1/stocktakes/{stocktake.pk}/lines/?view=variance").status_code == 403
    assert (
        viewer.post(f"/api/v1/stocktakes/{stocktake.pk}/post/", {"reason": "x"}).status_code == 403
    )


def test_api_stocktakes_are_scoped_and_lists_keep_their_query_count(
    client_as, outsider, warehouse, bins, mug, django_assert_num_queries
):
    stocktake = stocktake_create(warehouse=warehouse)
    client = client_as(outsider)
    assert client.get(f"/api/v1/stocktakes/{stocktake.pk}/").status_code == 404
    assert client.get("/api/v1/stocktakes/").json()["count"] == 0

    admin = client_as(UserFactory(roles=[Role.ADMIN]))
    admin.get("/api/v1/stocktakes/")  # loads the user's permissions once
    for _ in range(4):
        stocktake_create(warehouse=warehouse)
    with django_assert_num_queries(2):  # count, page
        assert admin.get("/api/v1/stocktakes/").json()["count"] == 5
    lines = f"/api/v1/stocktakes/{stocktake.pk}/lines/"
    with django_assert_num_queries(3):  # the stocktake, count, page
        admin.get(lines)


def test_api_transfer_lifecycle(api_clerk, client_as, outsider, warehouse, us, bins, mug):
    stock_reserve(warehouse=warehouse, lines=[StockLine(mug, 8)], reference="order_line:1")
    created = api_clerk.post(
        "/api/v1/transfers/",
        {
            "source": warehouse.pk,
            "destination": us.pk,
            "lines": [{"sku": "MUG", "quantity": 4, "source_location": bins[0].pk}],
            "freight_cost": "8.00",
        },
    )
    assert created.status_code == 201, created.content
    transfer = created.json()
    assert (transfer["status"], transfer["lines"][0]["quantity"]) == ("draft", 4)

    short = api_clerk.post(f"/api/v1/transfers/{transfer['id']}/ship/", {})
    assert short.status_code == 409
    assert short.json()["shortages"] == [
        {"sku": "MUG", "where": "SZ/A-01", "requested": 4, "available": 2}
    ]
    stock_release(reference="order_line:1")

    shipped = api_clerk.post(f"/api/v1/transfers/{transfer['id']}/ship/", {"tracking": "T1"})
    assert shipped.status_code == 200, shipped.content
    line = shipped.json()["lines"][0]
    assert (shipped.json()["status"], line["unit_cost"], line["unit_freight"]) == (
        "shipped",
        "2.0000",
        "2.0000",
    )

    # receiving belongs to the destination
    wrong = api_clerk.post(
        f"/api/v1/transfers/{transfer['id']}/receive/",
        {"lines": [{"line": line["id"], "quantity": 1, "location": us.locations.get().pk}]},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "out_of_scope")
    receiver = client_as(outsider)
    received = receiver.post(
        f"/api/v1/transfers/{transfer['id']}/receive/",
        {"lines": [{"line": line["id"], "quantity": 3, "location": us.locations.get().pk}]},
    )
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "partially_received"
    availability = receiver.get(f"/api/v1/sku-availability/{mug.pk}/").json()
    assert availability["warehouses"] == [
        {
            "warehouse": us.pk,
            "warehouse_code": "US",
            "warehouse_kind": "overseas",
            "on_hand": 3,
            "reserved": 0,
            "available": 3,
            "in_transit": 1,
            "incoming": None,
        }
    ]
    closed = receiver.post(f"/api/v1/transfers/{transfer['id']}/close/", {"note": "lost one"})
    assert closed.json()["status"] == "received"
    assert closed.json()["lines"][0]["outstanding"] == 1


def test_api_transfer_list_is_scoped_with_a_flat_query_count(
    client_as, clerk, warehouse, us, bins, mug, django_assert_num_queries
):
    client = client_as(clerk)
    transfer_create(source=warehouse, destination=us, items=[TransferItem(mug, 1, bins[0])])
    client.get("/api/v1/transfers/")  # loads the user's permissions once
    for _ in range(3):
        transfer_create(source=warehouse, destination=us, items=[TransferItem(mug, 1, bins[0])])
    with django_assert_num_queries(3):  # count, page, lines
        assert client.get("/api/v1/transfers/").json()["count"] == 4
    other = WarehouseFactory(code="DE")
    stranger = client_as(UserFactory(roles=[Role.WAREHOUSE], warehouses=[other]))
    assert stranger.get("/api/v1/transfers/").json()["count"] == 0


def test_api_sku_availability_lists_low_stock(client_as, clerk, warehouse, bins, mug, us):
    low = SkuFactory(code="LOW", low_stock_threshold=3)
    receive(low, bins[1], 2)
    receive(low, us.locations.get(), 1)  # outside the clerk's scope
    client = client_as(clerk)

    rows = client.get("/api/v1/sku-availability/?low_stock=true").json()["results"]

    assert [(r["sku_code"], r["warehouse_code"], r["available"], r["incoming"]) for r in rows] == [
        ("LOW", "SZ", 2, None)
    ]
    everything = client.get("/api/v1/sku-availability/").json()["results"]
    assert [(r["sku_code"], r["on_hand"]) for r in everything] == [("LOW", 2), ("MUG", 10)]
    assert client.get(f"/api/v1/sku-availability/?warehouse={us.pk}").status_code == 400
