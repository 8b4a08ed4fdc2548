"""SKU and bin labels: exact page sizes, one page per copy, barcodes that scan back, text that
is extractable and never leaves the label; the print pages and the API endpoints.

The PDF checks go through the tools a person would use on the file (poppler's ``pdftoppm``,
``pdftotext``, ``pdffonts`` and zbar's ``zbarimg``); they are skipped where those tools are
not installed.
"""

import io
import shutil
import subprocess
import time

import pytest
from django.urls import reverse
from pypdf import PdfReader

from erp.models import Role
from erp.pdf import fonts
from erp.pdf.text import PT
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory
from warehouse.labels import (
    MAX_LABELS,
    SPECS,
    LabelPrintError,
    bin_label_ops,
    bin_labels_pdf,
    sku_label_ops,
    sku_labels_pdf,
)
from warehouse.models import Location, Sku, Warehouse

MM = 72 / 25.4
needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"), reason="needs poppler-utils"
)
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="needs zbar-tools")

LONG_NAME = (
    "Stainless Steel Vacuum Insulated Travel Mug with Leakproof Lid and Tea Infuser, "
    "500 ml, Matte Black, Gift Box Edition"
)
LONG_NAME_ZH = "不锈钢真空保温旅行杯带防漏杯盖和茶漏五百毫升哑光黑色礼盒装加厚款"


def sku(**fields) -> Sku:
    """An unsaved SKU: the renderer reads fields only."""
    values = {"code": "MUG-BLK", "name": "Black mug", "name_zh": "黑色马克杯", "barcode": ""}
    return Sku(**{**values, **fields})


def pages(pdf: bytes) -> list:
    return PdfReader(io.BytesIO(pdf)).pages


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def scan(pdf: bytes, tmp_path, page: int = 1) -> str:
    """What a scanner reads on ``page`` (1-based) printed at 300 dpi."""
    (tmp_path / "labels.pdf").write_bytes(pdf)
    run("pdftoppm", "-r", "300", "-png", "-singlefile", "-f", str(page), "-l", str(page),
        str(tmp_path / "labels.pdf"), str(tmp_path / "page"))  # fmt: skip
    return run("zbarimg", "--raw", "-q", "--nodbus", str(tmp_path / "page.png"))


def pdf_text(pdf: bytes, tmp_path) -> str:
    (tmp_path / "labels.pdf").write_bytes(pdf)
    return run("pdftotext", "-layout", str(tmp_path / "labels.pdf"), "-")


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "width_mm", "height_mm"), [("50x30", 50, 30), ("60x40", 60, 40)])
def test_each_page_is_exactly_the_label(size, width_mm, height_mm):
    pdf = sku_labels_pdf(items=[(sku(), 2)], size=size)

    for page in pages(pdf):
        box = page.mediabox
        assert float(box.width) == pytest.approx(width_mm * MM, abs=0.01)
        assert float(box.height) == pytest.approx(height_mm * MM, abs=0.01)


def test_one_page_per_copy_in_the_order_given():
    pdf = sku_labels_pdf(items=[(sku(code="B-2", name="Bee"), 2), (sku(code="A-1"), 3)])

    texts = [page.extract_text() for page in pages(pdf)]
    assert len(texts) == 5
    assert ["B-2" in t for t in texts] == [True, True, False, False, False]


def test_two_hundred_copies_are_two_hundred_pages_in_a_few_seconds():
    started = time.perf_counter()
    pdf = sku_labels_pdf(items=[(sku(name=LONG_NAME, name_zh=LONG_NAME_ZH), 200)])
    elapsed = time.perf_counter() - started

    assert len(pages(pdf)) == 200
    assert elapsed < 5
    assert len(pdf) < 200 * 4000  # each page compressed as it is finished


# --- barcodes ----------------------------------------------------------------------------------


@needs_poppler
@needs_zbar
@pytest.mark.parametrize(
    ("fields", "code", "size", "expected"),
    [
        ({"code": "MUG-BLK"}, "code", "50x30", "MUG-BLK"),
        # 16 characters at 50 mm: a narrower module (0.2 mm), still scans at 300 dpi
        ({"code": "ABCDEFGH-1234567"}, "code", "50x30", "ABCDEFGH-1234567"),
        ({"code": "ABCDEFGH-1234567"}, "code", "60x40", "ABCDEFGH-1234567"),
        ({"barcode": "6901234567892"}, "barcode", "50x30", "6901234567892"),
        ({"barcode": ""}, "barcode", "60x40", "MUG-BLK"),  # no barcode: the code
    ],
)
def test_the_barcode_scans_back(tmp_path, fields, code, size, expected):
    pdf = sku_labels_pdf(items=[(sku(**fields), 1)], size=size, code=code)

    assert scan(pdf, tmp_path) == f"{expected}\n"


@needs_poppler
@needs_zbar
def test_a_later_page_scans_too(tmp_path):
    pdf = sku_labels_pdf(items=[(sku(code="FIRST-1"), 1), (sku(code="SECOND-22"), 1)])

    assert scan(pdf, tmp_path, page=2) == "SECOND-22\n"


def test_a_code_too_long_for_the_label_is_refused_not_printed_unreadable():
    code = "ABCDEFGHIJKLMNOPQRSTUV"  # 22 letters: fits 60 mm, not 50 mm

    with pytest.raises(LabelPrintError, match="ABCDEFGHIJKLMNOPQRSTUV.*too long.*50 × 30"):
        sku_labels_pdf(items=[(sku(code=code), 1)], size="50x30")
    assert len(pages(sku_labels_pdf(items=[(sku(code=code), 1)], size="60x40"))) == 1


def test_a_code_that_cannot_be_code_128_is_refused_by_name():
    with pytest.raises(LabelPrintError, match="杯子-1"):
        sku_labels_pdf(items=[(sku(code="杯子-1"), 1)])


def test_module_width_is_0_33_mm_for_short_codes_and_never_below_0_19():
    short = next(op for op in sku_label_ops(sku(code="MUG"), SPECS["50x30"]) if op[0] == "bars")
    long = next(
        op for op in sku_label_ops(sku(code="ABCDEFGH-1234567"), SPECS["50x30"]) if op[0] == "bars"
    )

    assert short[3] == 0.33
    assert 0.19 <= long[3] < 0.33
    # bars and their quiet zones (10 modules each side) stay 1 mm inside the label
    x, module, modules = long[1], long[3], long[5]
    assert x - 10 * module >= 1.0 - 1e-9
    assert x + (sum(modules) + 10) * module <= 50 - 1.0 + 1e-9


# --- text --------------------------------------------------------------------------------------


@needs_poppler
@pytest.mark.parametrize("size", ["50x30", "60x40"])
def test_names_are_extractable_and_cjk_uses_a_cjk_font(tmp_path, size):
    pdf = sku_labels_pdf(items=[(sku(name="Travel mug", name_zh="不锈钢保温杯"), 1)], size=size)

    text = pdf_text(pdf, tmp_path)
    assert "Travel mug" in text
    assert "不锈钢保温杯" in text
    assert "MUG-BLK" in text
    (tmp_path / "labels.pdf").write_bytes(pdf)
    assert "WenQuanYi" in run("pdffonts", str(tmp_path / "labels.pdf"))


@pytest.mark.parametrize("size", ["50x30", "60x40"])
@pytest.mark.parametrize(
    "fields",
    [
        {"name": LONG_NAME, "name_zh": LONG_NAME_ZH},
        {"name": "W" * 120, "name_zh": "宽" * 80},
        {"name": LONG_NAME, "code": "ABCDEFGH-1234567", "barcode": "6901234567892"},
    ],
)
def test_text_never_leaves_the_label(size, fields):
    spec = SPECS[size]
    ops = sku_label_ops(sku(**fields), spec, "barcode")

    texts = [op for op in ops if op[0] == "text"]
    bars = next(op for op in ops if op[0] == "bars")
    for _, x, baseline, text, font_size, bold in texts:
        width = fonts.width(text, bold) * font_size * PT
        assert x >= spec.margin - 1e-6
        assert x + width <= spec.width - spec.margin + 1e-6, text
        assert baseline <= spec.height - spec.margin
    # the names stay above the bars, the code texts below them
    top, bottom = bars[2], bars[2] + bars[4]
    assert bars[4] >= 8
    above = [t for t in texts if t[2] < top]
    below = [t for t in texts if t[2] > bottom]
    assert len(above) + len(below) == len(texts)
    assert any(t[3].endswith("…") for t in above)  # shrunk to the minimum, then cut


def test_a_long_name_shrinks_before_it_is_cut():
    spec = SPECS["50x30"]
    name = "Stainless steel mug with a lid, 500 ml"  # too wide at 7.5 pt, fits smaller

    first = next(op for op in sku_label_ops(sku(name=name), spec) if op[0] == "text")

    assert first[3] == name
    assert spec.name_min_pt <= first[4] < spec.name_pt


# --- bin labels --------------------------------------------------------------------------------


def bin_at(code: str, kind: str = Location.Kind.STORAGE) -> Location:
    return Location(
        warehouse=Warehouse(code="SZ", name="Shenzhen main warehouse"), code=code, kind=kind
    )


@needs_poppler
@needs_zbar
@pytest.mark.parametrize("size", ["50x30", "60x40"])
def test_bin_labels_scan_back_and_name_warehouse_and_kind(tmp_path, size):
    pdf = bin_labels_pdf(
        locations=[bin_at("A-01-03"), bin_at("Q-01", Location.Kind.QUARANTINE)], size=size
    )

    assert len(pages(pdf)) == 2
    assert float(pages(pdf)[0].mediabox.width) == pytest.approx(SPECS[size].width * MM, abs=0.01)
    assert scan(pdf, tmp_path, page=1) == "A-01-03\n"
    assert scan(pdf, tmp_path, page=2) == "Q-01\n"
    text = pdf_text(pdf, tmp_path)
    assert "SZ · Shenzhen" in text
    assert "Quarantine" in text


def test_the_bin_code_is_printed_large():
    ops = bin_label_ops(bin_at("A-01"), SPECS["50x30"])

    code = next(op for op in ops if op[0] == "text" and op[3] == "A-01")
    assert code[4] >= 20  # points


def test_nothing_or_too_much_or_an_unknown_size_is_refused():
    with pytest.raises(LabelPrintError, match="Nothing to print"):
        bin_labels_pdf(locations=[])
    with pytest.raises(LabelPrintError, match="more than"):
        sku_labels_pdf(items=[(sku(), 1000), (sku(), 1000), (sku(), 1)])
    assert MAX_LABELS == 2000
    with pytest.raises(LabelPrintError, match="Copies"):
        sku_labels_pdf(items=[(sku(), 0)])
    with pytest.raises(LabelPrintError, match="100x150"):
        sku_labels_pdf(items=[(sku(), 1)], size="100x150")


# --- pages of the site -------------------------------------------------------------------------


@pytest.fixture
def clerk(warehouse):
    return UserFactory(roles=[Role.WAREHOUSE], warehouses=[warehouse])


@pytest.fixture
def other_bin(db):
    return LocationFactory(warehouse=WarehouseFactory(code="LAX"), code="LX-99")


@pytest.mark.django_db
def test_the_sku_list_has_a_print_bar_and_a_box_per_sku(client, clerk):
    mug = SkuFactory(code="MUG-BLK")
    client.force_login(clerk)

    html = client.get(reverse("warehouse:sku-list")).content.decode()

    assert f'name="sku" value="{mug.pk}"' in html
    assert 'action="{}"'.format(reverse("warehouse:sku-labels")) in html
    assert 'name="copies"' in html and 'name="size"' in html and 'name="code"' in html


@pytest.mark.django_db
def test_the_sku_page_prints_its_labels(client, clerk):
    mug = SkuFactory(code="MUG-BLK")
    client.force_login(clerk)

    html = client.get(reverse("warehouse:sku-detail", args=[mug.pk])).content.decode()
    assert "Print labels" in html
    response = client.get(
        reverse("warehouse:sku-labels"), {"sku": mug.pk, "copies": 3, "size": "60x40"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="sku-labels-')
    assert len(pages(response.content)) == 3
    assert float(pages(response.content)[0].mediabox.width) == pytest.approx(60 * MM, abs=0.01)


@pytest.mark.django_db
def test_ticked_skus_print_copies_of_each(client, clerk):
    skus = [SkuFactory(code=f"SKU-{i}") for i in range(3)]
    client.force_login(clerk)

    response = client.get(
        reverse("warehouse:sku-labels"), {"sku": [s.pk for s in skus], "copies": 2}
    )

    assert len(pages(response.content)) == 6


@pytest.mark.django_db
def test_nothing_ticked_says_so(client, clerk):
    client.force_login(clerk)

    response = client.get(reverse("warehouse:sku-labels"), {"copies": 2})

    assert response.status_code == 400
    assert "Tick the SKUs whose labels to print." in response.content.decode()


@pytest.mark.django_db
def test_a_code_too_long_is_explained_on_the_page(client, clerk):
    long = SkuFactory(code="ABCDEFGHIJKLMNOPQRSTUV")
    client.force_login(clerk)

    response = client.get(reverse("warehouse:sku-labels"), {"sku": long.pk, "copies": 1})

    assert response.status_code == 400
    assert "too long" in response.content.decode()


@pytest.mark.django_db
def test_labels_need_the_view_permission(client):
    client.force_login(UserFactory())

    assert client.get(reverse("warehouse:sku-labels")).status_code == 403
    assert client.get(reverse("warehouse:bin-labels")).status_code == 403


@pytest.mark.django_db
def test_bin_labels_page_prints_only_the_users_bins(client, clerk, bins, other_bin):
    client.force_login(clerk)

    ok = client.get(reverse("warehouse:bin-labels"), {"location": [b.pk for b in bins]})
    foreign = client.get(reverse("warehouse:bin-labels"), {"location": [other_bin.pk]})

    assert ok["Content-Type"] == "application/pdf"
    assert len(pages(ok.content)) == 3
    assert foreign.status_code == 400
    assert "LX-99" not in foreign.content.decode()


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_sku_labels(client_as, clerk):
    a, b = SkuFactory(code="A-1"), SkuFactory(code="B-2", barcode="6901234567892")
    api = client_as(clerk)

    response = api.get("/api/v1/skus/labels/", {"ids": f"{b.pk},{a.pk}", "copies": 2})
    repeated = api.get(f"/api/v1/skus/labels/?ids={a.pk}&ids={b.pk}&size=60x40&code=barcode")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    texts = [p.extract_text() for p in pages(response.content)]
    assert len(texts) == 4
    assert "B-2" in texts[0] and "A-1" in texts[3]  # in the order of ids
    assert len(pages(repeated.content)) == 2
    assert "6901234567892" in pages(repeated.content)[1].extract_text()


@pytest.mark.django_db
def test_api_sku_labels_errors(client_as, clerk):
    mug = SkuFactory(code="MUG")
    long = SkuFactory(code="ABCDEFGHIJKLMNOPQRSTUV")
    api = client_as(clerk)

    missing = api.get("/api/v1/skus/labels/", {"ids": f"{mug.pk},999999"})
    bad = api.get("/api/v1/skus/labels/", {"ids": "x", "size": "100x150", "copies": 0})
    too_long = api.get("/api/v1/skus/labels/", {"ids": long.pk})

    assert missing.status_code == 404
    assert "999999" in missing.json()["detail"]
    assert bad.status_code == 400
    assert set(bad.json()) == {"ids", "size", "copies"}
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "label_error"


@pytest.mark.django_db
def test_api_bin_labels_are_scoped(client_as, clerk, bins, other_bin):
    api = client_as(clerk)

    ok = api.get("/api/v1/locations/labels/", {"ids": ",".join(str(b.pk) for b in bins)})
    foreign = api.get("/api/v1/locations/labels/", {"ids": other_bin.pk})

    assert ok.status_code == 200
    assert len(pages(ok.content)) == 3
    assert foreign.status_code == 404


@pytest.mark.django_db
def test_api_labels_need_permissions(client_as, bins):
    api = client_as(UserFactory())

    assert api.get("/api/v1/skus/labels/", {"ids": "1"}).status_code == 403
    assert api.get("/api/v1/locations/labels/", {"ids": bins[0].pk}).status_code == 403
