"""The command, API and page around ``order_import``: what each prints or answers for good,
partly bad and refused files, permissions and store scope, and the template download."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from erp.models import Role
from orders.models import Order, Platform
from tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orders"
# The routes are mounted here until orders/urls.py and the API router wire them.
API_URL = "/api/v1/orders/import/"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the Chinese template download (the middleware
    activates the language for the thread) must not leak into the tests after it."""
    with translation.override("en"):
        yield


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def amazon(db):
    return StoreFactory(code="amz-us", platform=Platform.AMAZON, currency="USD")


@pytest.fixture
def shopify(db):
    return StoreFactory(code="shop", platform=Platform.SHOPIFY, currency="USD")


@pytest.fixture
def manual(db):
    return StoreFactory(code="manual", platform=Platform.MANUAL, currency="CNY")


# ----------------------------------------------------------------------------- command


def test_command_prints_each_failed_row_and_the_counts_last(manual, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(fixture("template_bad_rows.csv"))
    out = io.StringIO()

    call_command("import_orders", str(path), "--store", "manual", stdout=out)  # exit status 0

    assert out.getvalue().splitlines() == [
        "row 3, column quantity: “1.5” is not a whole number from 1 to 1,000,000.",
        "row 4, column purchased_at: “31/02/2025” is not a date and time we can read; "
        "write it as 2025-03-01 10:00.",
        "row 5, column platform_sku: This cell is required.",
        "row 6, column unit_price: “abc” is not an amount.",
        "created=2 updated=0 unchanged=0 failed=4",
    ]


def test_command_refuses_a_rejected_file_with_exit_status_1(shopify, tmp_path):
    path = tmp_path / "report.txt"
    path.write_bytes(fixture("amazon_all_orders.tsv"))

    with pytest.raises(CommandError, match="store shop is on Shopify"):
        call_command("import_orders", str(path), "--store", "shop")
    with pytest.raises(CommandError, match="The Shopify file has no column"):
        call_command("import_orders", str(path), "--store", "shop", "--format", "shopify")
    with pytest.raises(CommandError, match="No store has the code 'nope'"):
        call_command("import_orders", str(path), "--store", "nope")
    assert Order.objects.count() == 0


# --------------------------------------------------------------------------------- API


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, fixture(name) if data is None else data)


def importer(stores=None):
    """A user who may import orders (the permission alone, no role), into ``stores``."""
    user = UserFactory(stores=stores)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="orders", codename="import_order")
    )
    return user


def test_api_imports_the_good_orders_and_lists_the_bad_rows(client_as, amazon):
    response = client_as(importer(stores=[amazon])).post(
        API_URL,
        {"file": upload("amazon_bad_rows.tsv"), "store": "amz-us"},
        format="multipart",
    )

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("format", "created", "updated", "unchanged", "failed")} == {
        "format": "amazon",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 4,
    }
    assert body["summary"] == "created=2 updated=0 unchanged=0 failed=4"
    assert body["errors"][0] == {
        "row": 4,
        "field": "quantity",
        "reason": "“two” is not a whole number from 1 to 1,000,000.",
    }
    assert len(body["errors"]) == 4
    assert sorted(body["order_ids"]) == sorted(Order.objects.values_list("pk", flat=True))


def test_api_refuses_a_rejected_file_with_400(client_as, shopify):
    response = client_as(importer()).post(
        API_URL,
        {"file": upload("amazon_all_orders.tsv"), "store": "shop", "format": ""},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "order_import_error"
    assert Order.objects.count() == 0


def test_api_refuses_a_store_outside_the_users_scope(client_as, amazon):
    user = importer(stores=[StoreFactory(code="mine")])

    response = client_as(user).post(
        API_URL, {"file": upload("amazon_all_orders.tsv"), "store": "amz-us"}, format="multipart"
    )

    assert response.status_code == 403
    assert response.json() == {
        "code": "out_of_scope",
        "detail": "You may not import orders into store amz-us.",
    }
    assert Order.objects.count() == 0


def test_api_needs_a_user_with_the_import_permission(api_client, client_as, amazon):
    data = {"file": upload("amazon_all_orders.tsv"), "store": "amz-us"}

    assert api_client.post(API_URL, data, format="multipart").status_code == 401
    no_permission = client_as(UserFactory(roles=[Role.FINANCE]))
    data["file"] = upload("amazon_all_orders.tsv")
    assert no_permission.post(API_URL, data, format="multipart").status_code == 403
    assert Order.objects.count() == 0


def test_api_validates_the_store_and_the_format(client_as, amazon):
    client = client_as(importer())

    unknown = client.post(
        API_URL, {"file": upload("amazon_all_orders.tsv"), "store": "nope"}, format="multipart"
    )
    bad_format = client.post(
        API_URL,
        {"file": upload("amazon_all_orders.tsv"), "store": "amz-us", "format": "xml"},
        format="multipart",
    )

    assert (unknown.status_code, list(unknown.json())) == (400, ["store"])
    assert (bad_format.status_code, list(bad_format.json())) == (400, ["format"])


def test_api_refuses_files_over_the_upload_limit(client_as, amazon, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000

    response = client_as(importer()).post(
        API_URL, {"file": upload("amazon_all_orders.tsv"), "store": "amz-us"}, format="multipart"
    )

    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")


# -------------------------------------------------------------------------------- page


def test_page_offers_only_the_users_stores(client, amazon, shopify):
    client.force_login(importer(stores=[amazon]))

    response = client.get(reverse("orders:order-import"))

    assert response.status_code == 200
    choices = [code for code, _label in response.context["form"].fields["store"].choices]
    assert [str(c) for c in choices] == ["", "amz-us"]
    html = response.content.decode()
    assert reverse("orders:order-import-template") + "?format=xlsx" in html


def test_page_imports_a_file_and_shows_the_counts_and_the_bad_rows(client, amazon):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))

    response = client.post(
        reverse("orders:order-import"),
        {"store": "amz-us", "format": "", "file": upload("amazon_bad_rows.tsv")},
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert result.summary() == "created=2 updated=0 unchanged=0 failed=4"
    html = response.content.decode()
    assert "created=2 updated=0 unchanged=0 failed=4" in html
    assert "4 orders were not imported because of the errors listed below" in html
    for error in result.errors:
        assert f'<td class="num">{error.row}</td>' in html
    assert Order.objects.count() == 2


def test_page_shows_a_refused_file_on_the_form(client, shopify):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))

    response = client.post(
        reverse("orders:order-import"),
        {"store": "shop", "format": "", "file": upload("amazon_all_orders.tsv")},
    )

    assert response.context["result"] is None
    assert response.context["form"].errors["file"][0].startswith("The file is from Amazon")
    assert Order.objects.count() == 0


def test_page_refuses_a_store_outside_the_users_scope(client, amazon):
    client.force_login(importer(stores=[StoreFactory(code="mine")]))

    response = client.post(
        reverse("orders:order-import"),
        {"store": "amz-us", "file": upload("amazon_all_orders.tsv")},
    )

    assert "store" in response.context["form"].errors
    assert Order.objects.count() == 0


def test_page_and_template_need_the_import_permission(client, db):
    client.force_login(UserFactory(roles=[Role.FINANCE]))

    assert client.get(reverse("orders:order-import")).status_code == 403
    assert client.get(reverse("orders:order-import-template")).status_code == 403


def test_template_download_in_the_pages_language(client, db):
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))
    url = reverse("orders:order-import-template")

    csv = client.get(url + "?format=csv")
    chinese = client.get(url + "?format=csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    xlsx = client.get(url + "?format=xlsx")

    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"] == 'attachment; filename="order-template.csv"'
    assert csv.content.startswith(b"\xef\xbb\xbforder_id,purchased_at,")
    assert chinese.content.decode("utf-8-sig").startswith("订单号,下单时间,")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:2] == ["order_id", "purchased_at"]
    assert client.get(url + "?format=pdf").status_code == 404
