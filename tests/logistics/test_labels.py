"""Shipping labels: PDF pages, scripts, barcodes, layouts, ZPL and merging.

Plain pytest, no database. The PDF checks go through the tools a person would use on the file
(poppler's ``pdftotext``, ``pdffonts``, ``pdftoppm`` and zbar's ``zbarimg``), so "extractable"
and "scans" mean what they say; those tests are skipped where the tools are not installed.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from logistics.labels import (
    DEFAULT_LAYOUTS,
    LabelError,
    LayoutError,
    merge_pdfs,
    render_labels_pdf,
    render_labels_zpl,
    validate_layout,
)
from logistics.labels.content import fit
from logistics.types import Address, CustomsItem, LabelData, LabelSize, PickLine

MM = 72 / 25.4
needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"), reason="needs poppler-utils"
)
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="needs zbar-tools")

SENDER = Address(
    name="Shenzhen Caravan Trading Co., Ltd.",
    lines=("Room 1203, Block B, Huaqiang Plaza", "Futian District"),
    city="Shenzhen",
    state="Guangdong",
    postcode="518000",
    country="CN",
    phone="+86 755 8888 1234",
)
RECIPIENTS = {
    "latin": Address(
        name="Jürgen Müller",
        company="Müller & Söhne GmbH",
        lines=("ul. Piotrkowska 12",),
        city="Łódź",
        postcode="90-001",
        country="PL",
        phone="+48 42 123 45 67",
    ),
    "cyrillic": Address(
        name="Иван Петров", lines=("ул. Тверская, д. 7",), city="Москва", country="RU"
    ),
    "arabic": Address(name="محمد العلي", lines=("شارع الملك فهد 12",), city="الرياض", country="SA"),
    "thai": Address(name="สมชาย ใจดี", lines=("99/1 ถนนสุขุมวิท",), city="กรุงเทพมหานคร", country="TH"),
    "cjk": Address(name="张伟", lines=("浦东新区世纪大道100号",), city="上海市", country="CN"),
}
ITEMS = (
    CustomsItem(
        "Phone case",
        2,
        Decimal("3.50"),
        unit_weight_g=40,
        description_zh="手机壳",
        hs_code="392690",
    ),
    CustomsItem("USB-C cable", 1, Decimal("2.10"), unit_weight_g=30, hs_code="854442"),
)


def make_label(tracking: str = "LX123456785CN", **changes) -> LabelData:
    label = LabelData(
        tracking_number=tracking,
        order_reference="SO-2026-000123",
        channel_name="China Post Registered Air Mail",
        carrier_name="Yanwen",
        sender=SENDER,
        recipient=RECIPIENTS["latin"],
        pick_lines=(
            PickLine("CASE-IP15-BLK", 2, "A-01-03", "手机壳 黑色"),
            PickLine("CABLE-USBC-1M", 1, "B-12-01", "数据线"),
        ),
        customs_items=ITEMS,
        weight_g=350,
        ship_date=date(2026, 5, 4),
    )
    return replace(label, **changes)


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout


def pdf_text(pdf: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "label.pdf"
    path.write_bytes(pdf)
    return run("pdftotext", *args, str(path), "-")


def words(pdf: bytes, tmp_path) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) in points from the top-left, via ``pdftotext -bbox``."""
    html = pdf_text(pdf, tmp_path, "-bbox")
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    return [
        (w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, html)
    ]


def normalised(text: str) -> str:
    """NFKC folds Arabic presentation forms to letters; drop the bidi marks pdftotext adds."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub("[\u200e\u200f\u202a-\u202e]", "", text)


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "width", "height"),
    [("100x100", 283.46, 283.46), ("100x150", 283.46, 425.20), ("a4", 595.28, 841.89)],
)
def test_page_is_exactly_the_label_size(size, width, height):
    pdf = render_labels_pdf([make_label()], size=size)

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (width, height)


def test_a_batch_of_200_labels_is_one_pdf_of_200_pages():
    labels = (make_label(f"YT26{i:011d}") for i in range(200))  # a generator: streamed

    out = io.BytesIO()
    result = render_labels_pdf(labels, size=LabelSize.MM100X150, out=out)

    assert result is None
    assert len(PdfReader(out).pages) == 200


@needs_poppler
def test_a4_sheets_carry_four_100x100_labels_or_two_100x150(tmp_path):
    labels = [make_label(f"YT26{i:011d}") for i in range(9)]

    pdf = render_labels_pdf(labels, size="a4")
    sheets = PdfReader(io.BytesIO(pdf)).pages
    first = pdf_text(pdf, tmp_path, "-l", "1")
    tall = render_labels_pdf(labels[:3], size="a4", base="100x150")

    assert len(sheets) == 3
    assert [f"YT26{i:011d}" in first for i in range(5)] == [True, True, True, True, False]
    assert len(PdfReader(io.BytesIO(tall)).pages) == 2


def test_no_labels_is_an_error():
    with pytest.raises(LabelError, match="no labels"):
        render_labels_pdf([], size="100x150")


# --- scripts and fonts -----------------------------------------------------------------------


@needs_poppler
def test_every_script_is_extractable_and_drawn_with_an_embedded_font(tmp_path):
    labels = [make_label(recipient=r) for r in RECIPIENTS.values()]

    pdf = render_labels_pdf(labels, size="100x150")
    text = normalised(pdf_text(pdf, tmp_path))
    fonts = run("pdffonts", str(tmp_path / "label.pdf"))

    for expected in ("Jürgen Müller", "Łódź", "Иван Петров", "Москва", "محمد العلي", "الرياض"):
        assert expected in text
    for expected in ("สมชาย ใจดี", "กรุงเทพมหานคร", "张伟", "浦东新区世纪大道100号"):
        assert expected in text
    embedded = {
        re.sub(r"^[A-Z]{6}\+", "", line.split()[0]).split("-")[0]
        for line in fonts.splitlines()[2:]
        if line.split()[-5:-2] == ["yes", "yes", "yes"]  # emb sub uni
    }
    assert embedded == {"DejaVuSans", "Loma", "WenQuanYiZenHei"}


@needs_poppler
def test_arabic_lines_are_shaped_and_right_aligned(tmp_path):
    pdf = render_labels_pdf([make_label(recipient=RECIPIENTS["arabic"])], size="100x150")

    raw = pdf_text(pdf, tmp_path)
    # -bbox lists words in visual order, letters right to left: reversed, they read normally
    placed = {normalised(w[0])[::-1]: w for w in words(pdf, tmp_path)}

    assert "\ufe8e" in raw or "\ufee0" in raw  # presentation forms: contextual shapes drawn
    assert placed["محمد"][1] > placed["العلي"][3]  # the first word is the rightmost
    for first_word in ("محمد", "شارع", "الرياض"):  # each line ends at the box's right edge
        assert placed[first_word][3] == pytest.approx((98 - 1.2) * MM, abs=0.5)


# --- barcodes --------------------------------------------------------------------------------


@needs_poppler
@needs_zbar
@pytest.mark.parametrize(
    ("tracking", "size"),
    [
        ("LX123456785CN", "100x150"),
        ("YT2612345678901", "100x150"),
        ("4PX3001234567890CN", "100x100"),
        ("LX123456785CN", "100x100"),
    ],
)
def test_the_barcode_scans_back_to_the_tracking_number(tmp_path, tracking, size):
    (tmp_path / "label.pdf").write_bytes(render_labels_pdf([make_label(tracking)], size=size))

    run("pdftoppm", "-r", "300", "-png", "-singlefile", str(tmp_path / "label.pdf"),
        str(tmp_path / "label"))  # fmt: skip
    scanned = run("zbarimg", "--raw", "-q", "--nodbus", str(tmp_path / "label.png"))

    assert scanned == f"{tracking}\n"


# --- blocks ----------------------------------------------------------------------------------


@needs_poppler
def test_the_cn22_block_prints_only_with_customs_items(tmp_path):
    with_items = pdf_text(render_labels_pdf([make_label()], size="100x150"), tmp_path)
    without = pdf_text(render_labels_pdf([make_label(customs_items=())], size="100x150"), tmp_path)

    assert "CUSTOMS DECLARATION CN 22" in with_items
    assert "392690" in with_items
    assert "9.10 USD" in with_items  # 2 × 3.50 + 2.10
    assert "CUSTOMS DECLARATION" not in without


@needs_poppler
def test_too_many_pick_lines_end_with_n_more(tmp_path):
    picks = tuple(PickLine(f"SKU-{i:03d}", 1, f"A-{i:02d}", "杯子") for i in range(30))

    text = pdf_text(render_labels_pdf([make_label(pick_lines=picks)], size="100x150"), tmp_path)
    shown = len(re.findall(r"SKU-\d{3}", text))

    assert 0 < shown < 30
    assert f"+{30 - shown} more" in text


@needs_poppler
def test_text_too_long_for_its_box_is_cut_with_an_ellipsis_not_overflowing(tmp_path):
    long_name = "Maximilian-Alexander " * 12 + "Schwarzenegger-Wolfeschlegelsteinhausen"
    unbroken = "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung" * 3
    label = make_label(
        recipient=replace(RECIPIENTS["latin"], name=long_name, lines=(unbroken,) * 6)
    )

    pdf = render_labels_pdf([label], size="100x100")
    placed = words(pdf, tmp_path)

    assert any(w.endswith("…") for w, *_ in placed)
    for word, x_min, y_min, x_max, y_max in placed:  # every word inside the 2 mm margin
        assert x_min >= 2 * MM - 0.5 and x_max <= 98 * MM + 0.5, word
        assert y_min >= 2 * MM - 0.5 and y_max <= 98 * MM + 0.5, word
    top, bottom, right = 17 * MM, 44 * MM, (98 - 1.2) * MM  # the recipient box, less padding
    recipient = [w for w in placed if top <= w[2] < bottom]
    assert {"Łódź", "POLAND", "(PL)"} <= {w[0] for w in recipient}  # the essentials stay
    assert all(w[3] <= right + 0.3 and w[4] <= bottom for w in recipient)


def test_fit_shrinks_to_the_minimum_then_cuts():
    assert fit("Short", False, 10, 5, 50) == ("Short", 10)
    text, size = fit("A somewhat longer line", False, 10, 5, 25)
    assert text == "A somewhat longer line" and 5 <= size < 10
    text, size = fit("word " * 40, False, 10, 5, 25)
    assert size == 5 and text.endswith("…") and len(text) < 40


# --- layouts ---------------------------------------------------------------------------------


@needs_poppler
def test_a_layout_override_moves_blocks_and_adds_text(tmp_path):
    layout = {
        "blocks": {
            "reference": {"x": 40, "w": 58},
            "pick": {"w": 50},
            "fragile": {
                "kind": "text",
                "text": "FRAGILE",
                "x": 52,
                "y": 94,
                "w": 46,
                "h": 20,
                "font_size": 14,
                "bold": True,
                "border": True,
            },
        }
    }

    default = words(render_labels_pdf([make_label()], size="100x150"), tmp_path)
    moved = words(render_labels_pdf([make_label()], size="100x150", layout=layout), tmp_path)

    def x_of(placed, word):
        return next(w[1] for w in placed if w[0] == word)

    assert x_of(default, "Order") == pytest.approx((2 + 1.2) * MM, abs=0.5)
    assert x_of(moved, "Order") == pytest.approx((40 + 1.2) * MM, abs=0.5)
    assert x_of(moved, "FRAGILE") == pytest.approx((52 + 1.2) * MM, abs=0.5)


def test_validate_layout_merges_over_the_base_without_touching_it():
    before = repr(DEFAULT_LAYOUTS[LabelSize.MM100X150])

    layout = validate_layout(
        "100x150", {"blocks": {"customs": None, "recipient": {"font_size": 14}}}
    )

    assert layout["blocks"]["customs"]["hidden"] is True
    assert layout["blocks"]["recipient"]["font_size"] == 14
    assert layout["blocks"]["recipient"]["x"] == 2  # the rest comes from the base
    assert repr(DEFAULT_LAYOUTS[LabelSize.MM100X150]) == before


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ({"stamp": {"kind": "logo", "x": 1, "y": 1, "w": 10, "h": 10}}, r"'stamp'.*'kind'"),
        ({"pick": {"w": -5}}, r"'pick'.*'w'/'h' must be positive"),
        ({"pick": {"x": -1}}, r"'pick'.*must not be negative"),
        ({"customs": {"h": 90}}, r"'customs'.*'h'.*> label height 150"),
        ({"recipient": {"font_size": "big"}}, r"'recipient'.*'font_size'.*expected a number"),
        ({"recipient": {"font_size": 200}}, r"'recipient'.*'font_size'"),
        ({"recipient": {"colour": "red"}}, r"'recipient'.*unknown field.*colour"),
        ({"barcode": {"w": 30}}, r"'barcode'.*at least 50"),
        ({"note": {"kind": "text", "x": 1, "y": 1, "w": 10, "h": 10}}, r"'note'.*'text'"),
        ({"sender": {"kind": "recipient"}}, r"'sender'.*'kind' cannot change"),
        ({"sender": {"border": "yes"}}, r"'sender'.*'border'"),
    ],
)
def test_a_bad_layout_names_the_block_and_field(blocks, message):
    with pytest.raises(LayoutError, match=message):
        validate_layout("100x150", {"blocks": blocks})
    with pytest.raises(ValueError, match=message):  # forms catch it as a ValueError
        render_labels_pdf([make_label()], size="100x150", layout={"blocks": blocks})


# --- ZPL -------------------------------------------------------------------------------------


def test_zpl_has_one_format_per_label_with_size_and_barcode():
    labels = [make_label("LX123456785CN"), make_label("YT2612345678901")]

    zpl = render_labels_zpl(labels, size="100x150", dpi=203)

    assert zpl.startswith("^XA^CI28^PW812^LL1218")
    assert zpl.count("^XA") == zpl.count("^XZ") == 2
    assert re.search(r"\^BY\d,3,\d+\^BCN,\d+,N,N,N,A\^FH_\^FDLX123456785CN\^FS", zpl)
    assert "^FDYT2612345678901^FS" in zpl
    assert "^FDJürgen Müller^FS" in zpl
    for x, y, rest in re.findall(r"\^FO(\d+),(\d+)(\S*?)\^FS", zpl):  # all on the label
        width = re.search(r"\^(?:FB|GB)(\d+),", rest)
        assert int(x) + (int(width[1]) if width else 0) <= 812 and int(y) < 1218, rest


@pytest.mark.parametrize(
    ("size", "dpi", "header"),
    [("100x100", 203, "^PW800^LL800"), ("100x150", 300, "^PW1200^LL1800")],
)
def test_zpl_label_size_in_dots(size, dpi, header):
    assert render_labels_zpl([make_label()], size=size, dpi=dpi).startswith(f"^XA^CI28{header}")


def test_zpl_escapes_carets_and_tildes_in_data():
    label = make_label(recipient=replace(RECIPIENTS["latin"], name="A^XZ~JR_B\\"))

    zpl = render_labels_zpl([label], size="100x100")

    assert "^FDA_5EXZ_7EJR_5FB\\\\^FS" in zpl
    assert zpl.count("^XZ") == 1 and "~JR" not in zpl


def test_zpl_has_no_a4():
    with pytest.raises(LabelError, match="a4"):
        render_labels_zpl([make_label()], size="a4")


# --- merging ---------------------------------------------------------------------------------


def _carrier_pdf(text: str) -> bytes:
    """A stand-in for a carrier's label download: another producer's 100×100 PDF."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(100 * MM, 100 * MM))
    canvas.drawString(20, 140, text)
    canvas.save()
    return buf.getvalue()


def test_merge_keeps_order_and_counts_pages():
    ours = render_labels_pdf([make_label(f"YT26{i:011d}") for i in range(3)], size="100x100")

    out = io.BytesIO()
    pages = merge_pdfs([_carrier_pdf("CARRIER-A"), ours, _carrier_pdf("CARRIER-B")], out)
    texts = [page.extract_text() for page in PdfReader(out).pages]

    assert pages == len(texts) == 5
    assert "CARRIER-A" in texts[0] and "CARRIER-B" in texts[4]
    assert ["YT2600000000000" in t for t in texts[1:4]] == [True, False, False]
    assert "YT2600000000002" in texts[3]


@pytest.mark.parametrize("garbage", [b"<html>502 Bad Gateway</html>", b"%PDF-1.4\nbroken", b""])
def test_merge_rejects_a_part_that_is_not_a_pdf_by_index(garbage):
    with pytest.raises(LabelError, match="part 1"):
        merge_pdfs([_carrier_pdf("OK"), garbage], io.BytesIO())
