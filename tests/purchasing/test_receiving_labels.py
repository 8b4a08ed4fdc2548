"""SKU labels of a receipt: one per accepted unit (rejected units get none), one PDF, from the
page a checked-in delivery lands on, from the order's page later, and from the API; scoped to
the user's warehouses; a request that cannot be printed is told why, never a 500."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from erp.models import Role
from purchasing.models import Receipt
from purchasing.services import DraftLine, ReceiveLine, po_create, po_place_offline, po_receive
from purchasing.services.receiving import _label_slice, label_parts
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from tests.purchasing.factories import SupplierFactory
from warehouse.labels import MAX_LABELS

pytestmark = pytest.mark.django_db

MM = 72 / 25.4


@pytest.fixture
def world():
    shenzhen = WarehouseFactory(code="SZ", name="Shenzhen")
    return {
        "sz": shenzhen,
        "yiwu": WarehouseFactory(code="YW", name="Yiwu"),
        "bin": LocationFactory(warehouse=shenzhen, code="A-01"),
        "supplier": SupplierFactory(code="YK-CUPS", kind="offline"),
        "cup": SkuFactory(code="CUP-BLK", name="Vacuum cup 500ml black", name_zh="保温杯 黑色"),
        "lid": SkuFactory(code="LID-1", name="Lid", barcode="6901234567892"),
    }


def receipt_of(world, *received, warehouse=None) -> Receipt:
    """A placed order of ``(sku, ordered, accepted, rejected)`` lines, checked in at once."""
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"],
            warehouse=warehouse or world["sz"],
            lines=[DraftLine(sku, ordered, Decimal("2")) for sku, ordered, _a, _r in received],
        )
    )
    bin_ = world["bin"] if warehouse is None else LocationFactory(warehouse=warehouse)
    lines = {line.sku_id: line for line in po.lines.all()}
    return po_receive(
        po=po,
        lines=[
            ReceiveLine(
                lines[sku.pk],
                accepted=accepted,
                rejected=rejected,
                location=bin_ if accepted else None,
                reject_reason="dented" if rejected else "",
            )
            for sku, _ordered, accepted, rejected in received
        ],
    )


def worker(**kwargs):
    return UserFactory(roles=[Role.WAREHOUSE], **kwargs)


def pages_of(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return text.split("\f")[:-1]


def page_size_mm(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width) / MM, 1), round(float(box.height) / MM, 1)


def labels_url(receipt: Receipt) -> str:
    return reverse("purchasing:receipt-labels", args=[receipt.pk])


# ---------------------------------------------------------------------------- the page


def test_receiving_lands_on_the_receipt_whose_print_button_has_the_focus(client, world):
    po = po_place_offline(
        po=po_create(
            supplier=world["supplier"],
            warehouse=world["sz"],
            lines=[DraftLine(world["cup"], 10, Decimal("2")), DraftLine(world["lid"], 5, 1)],
        )
    )
    cup, lid = po.lines.order_by("pk")
    client.force_login(worker(warehouses=[world["sz"]]))

    response = client.post(
        reverse("purchasing:receive"),
        {
            "po": po.number,
            f"accepted-{cup.pk}": "3",
            f"bin-{cup.pk}": "A-01",
            f"rejected-{cup.pk}": "2",
            f"reason-{cup.pk}": "scratched",
            f"accepted-{lid.pk}": "2",
            f"bin-{lid.pk}": "a-01",
        },
        follow=True,
    )

    receipt = po.receipts.get()
    assert response.redirect_chain == [
        (reverse("purchasing:receipt-detail", args=[receipt.pk]), 302)
    ]
    page = response.content.decode()
    assert response.context["label_count"] == 5  # 3 cups + 2 lids; the 2 rejected cups: none
    assert "5 labels, one for each unit accepted; rejected units get none." in page
    assert f'action="{labels_url(receipt)}"' in page
    assert '<button type="submit" class="btn btn-primary btn-big" autofocus>' in page
    assert page.count("autofocus") == 1
    # the rest of the order is one link away
    assert f"{reverse('purchasing:receive')}?po={po.number}" in page


def test_the_pdf_has_one_label_per_accepted_unit_and_none_for_rejects(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 2), (world["lid"], 5, 2, 0))
    client.force_login(worker(warehouses=[world["sz"]]))

    response = client.get(labels_url(receipt))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{receipt.number}-labels.pdf"'
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 5
    codes = [
        "CUP-BLK" if "CUP-BLK" in text else "LID-1" if "LID-1" in text else text
        for text in pages_of(response.content)
    ]
    assert codes == ["CUP-BLK"] * 3 + ["LID-1"] * 2  # in the receipt's line order
    assert page_size_mm(response.content) == (50.0, 30.0)


def test_sizes_and_barcode_content(client, world):
    receipt = receipt_of(world, (world["lid"], 5, 2, 0))
    client.force_login(worker())

    large = client.get(labels_url(receipt), {"size": "60x40", "code": "barcode"})

    assert large.status_code == 200
    assert page_size_mm(large.content) == (60.0, 40.0)
    assert all("6901234567892" in text for text in pages_of(large.content))
    # the last settings are the next print's defaults (a station's printer keeps its label)
    page = client.get(reverse("purchasing:receipt-detail", args=[receipt.pk]))
    assert page.context["label_form"]["size"].value() == "60x40"
    assert page.context["label_form"]["code"].value() == "barcode"


def test_unknown_size_or_content_is_refused_with_a_message(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    client.force_login(worker())

    response = client.get(labels_url(receipt), {"size": "100x150", "code": "qr"})

    assert response.status_code == 400
    assert {name: list(e) for name, e in response.context["form"].errors.items()} == {
        "size": ["Select a valid choice. 100x150 is not one of the available choices."],
        "code": ["Select a valid choice. qr is not one of the available choices."],
    }
    assert "Label: Select a valid choice. 100x150" in response.content.decode()


def test_a_receipt_of_only_rejects_has_nothing_to_label(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 0, 4))
    client.force_login(worker())

    page = client.get(reverse("purchasing:receipt-detail", args=[receipt.pk]))
    assert "Nothing to label: no unit of this receipt was accepted into stock." in (
        page.content.decode()
    )
    assert labels_url(receipt) not in page.content.decode()

    refused = client.get(labels_url(receipt))
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == [
        f"Nothing to label on {receipt.number}: no unit was accepted into stock."
    ]


def test_too_many_labels_print_in_parts(client, world):
    receipt = receipt_of(world, (world["cup"], MAX_LABELS + 1, MAX_LABELS + 1, 0))
    client.force_login(worker())

    page = client.get(reverse("purchasing:receipt-detail", args=[receipt.pk]))
    assert page.context["parts"] == [(1, 1, MAX_LABELS), (2, MAX_LABELS + 1, MAX_LABELS + 1)]
    assert 'name="part" value="2"' in page.content.decode()

    refused = client.get(labels_url(receipt))
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == [
        f"{receipt.number} has {MAX_LABELS + 1} labels, more than {MAX_LABELS} at a time: "
        "print it in 2 parts."
    ]
    last = client.get(labels_url(receipt), {"part": "2"})
    assert last.status_code == 200
    assert len(PdfReader(io.BytesIO(last.content)).pages) == 1
    assert last["Content-Disposition"] == f'inline; filename="{receipt.number}-2-labels.pdf"'
    beyond = client.get(labels_url(receipt), {"part": "3"})
    assert beyond.status_code == 400
    assert beyond.context["form"].non_field_errors() == [
        f"{receipt.number} prints in 2 parts: there is no part 3."
    ]


def test_parts_and_runs_respect_the_renderers_limits():
    a, b = object(), object()
    items = [(a, 1500), (b, 700)]

    assert label_parts(2200) == [(1, 1, 2000), (2, 2001, 2200)]
    assert label_parts(2000) == [(1, 1, 2000)]
    assert _label_slice(items, 0, 2000) == [(a, 1000), (a, 500), (b, 500)]
    assert _label_slice(items, 2000, 2200) == [(b, 200)]


def test_another_warehouses_receipt_is_not_found(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    client.force_login(worker(warehouses=[world["yiwu"]]))

    assert client.get(reverse("purchasing:receipt-detail", args=[receipt.pk])).status_code == 404
    assert client.get(labels_url(receipt)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    for url in (reverse("purchasing:receipt-detail", args=[receipt.pk]), labels_url(receipt)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_roles_without_receipts_are_refused(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    client.force_login(UserFactory(roles=[Role.OPERATIONS]))
    assert client.get(labels_url(receipt)).status_code == 403


def test_the_order_page_links_each_receipt_to_its_labels(client, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    client.force_login(UserFactory(roles=[Role.PURCHASING]))

    page = client.get(reverse("purchasing:po-detail", args=[receipt.purchase_order_id]))

    detail = reverse("purchasing:receipt-detail", args=[receipt.pk])
    assert f'href="{detail}#labels-head">SKU labels…</a>' in page.content.decode()


def test_receipt_page_query_budget(client, world, django_assert_num_queries):
    client.force_login(worker())
    small = receipt_of(world, (world["cup"], 10, 3, 0))
    with django_assert_num_queries(6) as few:
        client.get(reverse("purchasing:receipt-detail", args=[small.pk]))
    many = receipt_of(world, *[(SkuFactory(), 5, 2, 1) for _ in range(12)])
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("purchasing:receipt-detail", args=[many.pk]))


# ---------------------------------------------------------------------------- the API


def api_labels(receipt: Receipt) -> str:
    return f"/api/v1/receipts/{receipt.pk}/labels/"


def test_api_labels(client_as, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 2), (world["lid"], 5, 2, 0))
    api = client_as(worker(warehouses=[world["sz"]]))

    shown = api.get(f"/api/v1/receipts/{receipt.pk}/")
    assert shown.status_code == 200
    assert (shown.data["number"], shown.data["purchase_order"]) == (
        receipt.number,
        receipt.purchase_order_id,
    )
    assert [(li["accepted"], li["rejected"]) for li in shown.data["lines"]] == [(3, 2), (2, 0)]

    response = api.get(api_labels(receipt), {"size": "60x40"}, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 5
    assert page_size_mm(response.content) == (60.0, 40.0)


def test_api_labels_refusals(client_as, world):
    receipt = receipt_of(world, (world["cup"], 10, 3, 0))
    rejects = receipt_of(world, (world["lid"], 5, 0, 5))
    api = client_as(worker(warehouses=[world["sz"]]))

    bad_size = api.get(api_labels(receipt), {"size": "100x150"})
    assert bad_size.status_code == 400
    assert bad_size.data == {"size": ['"100x150" is not a valid choice.']}
    nothing = api.get(api_labels(rejects), HTTP_ACCEPT="application/pdf")
    assert nothing.status_code == 400
    assert nothing.data == {
        "code": "label_error",
        "detail": f"Nothing to label on {rejects.number}: no unit was accepted into stock.",
    }
    assert nothing["Content-Type"] == "application/json"

    outsider = client_as(worker(warehouses=[world["yiwu"]]))
    assert outsider.get(api_labels(receipt)).status_code == 404
    assert outsider.get(f"/api/v1/receipts/{receipt.pk}/").status_code == 404
    operations = client_as(UserFactory(roles=[Role.OPERATIONS]))
    assert operations.get(api_labels(receipt)).status_code == 403


def test_api_too_many_labels(client_as, world):
    receipt = receipt_of(world, (world["cup"], MAX_LABELS + 1, MAX_LABELS + 1, 0))
    api = client_as(worker())

    refused = api.get(api_labels(receipt))
    assert refused.status_code == 400
    assert refused.data["code"] == "label_error"
    assert refused.data["detail"] == (
        f"{receipt.number} has {MAX_LABELS + 1} labels, more than {MAX_LABELS} at a time: "
        "print it in 2 parts."
    )
    last = api.get(api_labels(receipt), {"part": 2})
    assert len(PdfReader(io.BytesIO(last.content)).pages) == 1
