"""Shipping labels per second: our engine against a bare ReportLab canvas and WeasyPrint.

Goal (from the issue): ``render_labels_pdf`` reaches ≥ 50 % of the rate of a bare ReportLab
canvas drawing the same label with hard-coded coordinates, with memory that does not grow
with per-label objects over 1,000 labels.

Each run is a freshly spawned process (fonts registered and two labels drawn first, so
start-up is not counted) that reports its time and its RSS growth: peak RSS (``ru_maxrss``)
minus the RSS before the batch. Engine and anchor run ``BENCH_REPEATS`` (3) times each,
alternating, and the fastest run of each is reported.

The labels are 100×150 mm, one per page, all different (tracking numbers, names, addresses in
Latin with accents, Cyrillic, Arabic, Thai and Chinese, 1-4 pick lines, a CN22 with 1-3 items
on 70 % of them):

- engine: ``render_labels_pdf(labels, size="100x150")``: layout, fitting, font runs, shaping;
- anchor: the same content drawn with ``canvas.drawString`` at fixed coordinates, one font
  per string, ReportLab's ``Code128`` widget, same canvas options (page compression on,
  ASCII85 off), no fitting at all: the ceiling for ReportLab on this label;
- WeasyPrint: an equivalent HTML label (inline SVG barcode, as in ``templates/pdf/``) for
  ``WEASY_LABELS`` labels; its rate is per label, so it compares as is.

No database: ``python bench/bench_labels.py``, or ``main()`` from ``bench/run.py``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import re
import resource
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = int(os.environ.get("BENCH_LABELS", "1000"))
WEASY_LABELS = int(os.environ.get("BENCH_WEASY_LABELS", "100"))
GOAL = 0.50
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))  # engine and anchor: the best run counts

RECIPIENTS = [  # (weight, name pool, street pool, city, state, postcode, country, phone)
    (
        30,
        ["Jürgen Müller", "Zoë Brünhild", "François Lefèvre", "Łukasz Wójcik", "Søren Ærø"],
        ["Königstraße {n}", "Rue de la Paix {n}", "ul. Piotrkowska {n}"],
        "Łódź",
        "",
        "90-001",
        "PL",
        "+48 42 123 45 67",
    ),
    (
        25,
        ["John Smith", "Mary O'Neil", "Robert Brown", "Linda García"],
        ["{n} Main Street", "{n} Ocean Avenue Apt 4B"],
        "Springfield",
        "IL",
        "62701",
        "US",
        "+1 217 555 0100",
    ),
    (
        10,
        ["Иван Петров", "Ольга Смирнова", "Дмитрий Кузнецов"],
        ["ул. Тверская, д. {n}", "пр. Мира, д. {n}, кв. 5"],
        "Москва",
        "",
        "125009",
        "RU",
        "+7 495 123-45-67",
    ),
    (
        5,
        ["محمد العلي", "فاطمة الزهراء", "عبد الله القحطاني"],
        ["شارع الملك فهد {n}", "طريق العليا {n}"],
        "الرياض",
        "",
        "12211",
        "SA",
        "+966 11 234 5678",
    ),
    (
        5,
        ["สมชาย ใจดี", "สุดา วงศ์ไทย"],
        ["{n}/1 ถนนสุขุมวิท", "{n} ถนนพระราม 4"],
        "กรุงเทพมหานคร",
        "",
        "10110",
        "TH",
        "+66 2 123 4567",
    ),
    (
        10,
        ["张伟", "王芳", "李娜", "刘洋"],
        ["浦东新区世纪大道{n}号", "朝阳区建国路{n}号"],
        "上海市",
        "",
        "200120",
        "CN",
        "+86 21 5555 6666",
    ),
    (
        15,
        ["Emma Wilson", "Oliver Taylor"],
        ["{n} High Street", "Flat {n}, Rose Court"],
        "Manchester",
        "",
        "M1 1AE",
        "GB",
        "+44 161 496 0000",
    ),
]
PRODUCTS = [
    ("CASE-IP15-BLK", "A-01-03", "手机壳 黑色", "Phone case", "392690", "3.50", 40),
    ("CABLE-USBC-1M", "B-12-01", "数据线", "USB-C cable", "854442", "2.10", 30),
    ("GLASS-IP15", "A-02-07", "钢化膜", "Screen protector", "700719", "1.20", 15),
    ("MUG-VAC-500", "C-03-11", "不锈钢保温杯", "Vacuum mug", "732393", "6.80", 320),
    ("EARBUD-BT5", "D-07-02", "蓝牙耳机", "Bluetooth earbuds", "851830", "9.90", 60),
]


def make_labels(count: int, seed: int = 7) -> list:
    """``count`` different labels, the same for every contender."""
    from logistics.types import Address, CustomsItem, LabelData, PickLine

    rnd = random.Random(seed)
    weights = [r[0] for r in RECIPIENTS]
    sender = Address(
        name="Shenzhen Caravan Trading Co., Ltd.",
        lines=("Room 1203, Block B, Huaqiang Plaza", "Futian District"),
        city="Shenzhen",
        state="Guangdong",
        postcode="518000",
        country="CN",
        phone="+86 755 8888 1234",
    )
    labels = []
    for i in range(count):
        _, names, streets, city, state, postcode, country, phone = rnd.choices(RECIPIENTS, weights)[
            0
        ]
        recipient = Address(
            name=rnd.choice(names),
            lines=(rnd.choice(streets).format(n=rnd.randint(1, 300)),),
            city=city,
            state=state,
            postcode=postcode,
            country=country,
            phone=phone,
        )
        products = rnd.sample(PRODUCTS, rnd.randint(1, 4))
        picks = tuple(PickLine(p[0], rnd.randint(1, 3), p[1], p[2]) for p in products)
        customs = ()
        if rnd.random() < 0.7:
            customs = tuple(
                CustomsItem(
                    p[3],
                    pick.quantity,
                    Decimal(p[5]),
                    unit_weight_g=p[6],
                    description_zh=p[2],
                    hs_code=p[4],
                )
                for p, pick in list(zip(products, picks, strict=True))[:3]
            )
        labels.append(
            LabelData(
                tracking_number=f"YT26{i:011d}",
                order_reference=f"SO-2026-{i:06d}",
                channel_name="YunExpress Global Direct",
                carrier_name="YunExpress",
                sender=sender,
                recipient=recipient,
                pick_lines=picks,
                customs_items=customs,
                weight_g=rnd.randint(80, 2000),
                ship_date=date(2026, 5, 4),
                service_code="THPHR",
            )
        )
    return labels


# --- contenders (each runs in a spawned process) -----------------------------------------


def _engine(labels: list, out) -> None:
    from logistics.labels import render_labels_pdf

    render_labels_pdf(labels, size="100x150", out=out)


_CJK = re.compile("[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")
_THAI = re.compile("[\u0e00-\u0e7f]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def _anchor_setup() -> None:
    from erp.pdf.fonts import ensure_fonts

    ensure_fonts()  # registers DejaVuSans(-Bold), Loma(-Bold), WQYZenHei with ReportLab


def _anchor(labels: list, out) -> None:
    """The same label with fixed coordinates: no layout, no fitting, one font per string."""
    import arabic_reshaper
    from bidi import get_display
    from reportlab import rl_config
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    def put(c, x, y, s, size, bold=False, right=None, center=None):
        if _CJK.search(s):
            font = "WQYZenHei"
        elif _THAI.search(s):
            font = "Loma-Bold" if bold else "Loma"
        else:
            font = "DejaVuSans-Bold" if bold else "DejaVuSans"
            if _ARABIC.search(s):
                s = get_display(arabic_reshaper.reshape(s))
        c.setFont(font, size)
        if right is not None:
            c.drawRightString(right * mm, y * mm, s)
        elif center is not None:
            c.drawCentredString(center * mm, y * mm, s)
        else:
            c.drawString(x * mm, y * mm, s)

    c = Canvas(out, pagesize=(100 * mm, 150 * mm), pageCompression=1, initialFontName="DejaVuSans")
    for lab in labels:
        c.setLineWidth(0.7)
        for x, y, w, h in (
            (2, 128, 62, 20),
            (64, 128, 34, 20),
            (2, 88, 96, 40),
            (2, 63, 96, 25),
            (2, 56, 96, 7),
            (2, 34, 96, 22),
            (2, 2, 96, 32),
        ):
            c.rect(x * mm, y * mm, w * mm, h * mm)
        s = lab.sender
        put(c, 3.2, 144.5, f"FROM: {s.name}", 7, True)
        put(c, 3.2, 141.5, ", ".join(s.lines), 7)
        put(c, 3.2, 138.5, f"{s.postcode} {s.city}, {s.country}", 7)
        put(c, 3.2, 135.5, f"Tel {s.phone}", 6.3)
        put(c, 0, 143, lab.carrier_name, 13, True, center=81)
        put(c, 0, 138, lab.channel_name, 7, center=81)
        put(c, 0, 134, lab.service_code, 8.5, center=81)
        r = lab.recipient
        put(c, 3.2, 124.5, "SHIP TO", 7.4, True)
        put(c, 3.2, 119, r.name, 15, True)
        y = 113.5
        for line in r.lines:
            put(c, 3.2, y, line, 12)
            y -= 5
        put(c, 3.2, y, f"{r.postcode} {r.city} {r.state}", 12, True)
        put(c, 3.2, y - 5.5, r.country, 13, True)
        put(c, 3.2, y - 10.5, f"Tel {r.phone}", 10)
        bc = Code128(
            lab.tracking_number,
            barWidth=0.33 * mm,
            barHeight=15 * mm,
            quiet=True,
            lquiet=3.3 * mm,
            rquiet=3.3 * mm,
            humanReadable=False,
        )
        bc.drawOn(c, (50 - bc.width / mm / 2) * mm, 70 * mm)
        put(c, 0, 65.5, lab.tracking_number, 11, True, center=50)
        put(c, 3.2, 58.5, f"Order {lab.order_reference}", 8, True)
        put(c, 0, 58.5, f"{lab.weight_g / 1000:.3f} kg   {lab.ship_date}", 8, right=96.8)
        units = sum(p.quantity for p in lab.pick_lines)
        put(c, 3.2, 52.5, f"PICK  {len(lab.pick_lines)} SKU / {units} pcs", 7, True)
        y = 49.5
        for p in lab.pick_lines:
            put(c, 3.8, y, p.sku_code, 7, True)
            put(c, 37, y, f"×{p.quantity}", 7, True)
            put(c, 48, y, p.bin, 7)
            put(c, 67, y, p.name_zh, 7)
            y -= 3
        if lab.customs_items:
            put(c, 3.2, 30.5, "CUSTOMS DECLARATION CN 22", 7.2, True)
            put(c, 0, 30.5, "May be opened officially", 4.8, right=96.8)
            c.setLineWidth(0.4)
            for x, name in (
                (3.2, "Gift"),
                (16, "Documents"),
                (35, "Commercial sample"),
                (64, "Merchandise"),
                (84, "Other"),
            ):
                c.rect(x * mm, 26.6 * mm, 1.5 * mm, 1.5 * mm)
                put(c, x + 2.3, 26.8, name, 6)
            c.line(72 * mm, 26.8 * mm, 73.2 * mm, 27.9 * mm)
            c.line(72 * mm, 27.9 * mm, 73.2 * mm, 26.8 * mm)
            for x, name in (
                (3.8, "Description of contents"),
                (38, "Qty"),
                (44, "Weight kg"),
                (56, "Value"),
                (72, "HS tariff no."),
                (86, "Origin"),
            ):
                put(c, x, 23.6, name, 5.4, True)
            y = 21
            for it in lab.customs_items:
                put(c, 3.8, y, f"{it.description_en} {it.description_zh}", 6)
                put(c, 0, y, str(it.quantity), 6, right=41)
                put(c, 0, y, f"{it.quantity * it.unit_weight_g / 1000:.3f}", 6, right=54)
                put(c, 0, y, f"{it.unit_value * it.quantity:.2f} {it.currency}", 6, right=70)
                put(c, 72.5, y, it.hs_code, 6)
                put(c, 0, y, it.origin_country, 6, center=91)
                y -= 2.5
            total = sum(it.unit_value * it.quantity for it in lab.customs_items)
            put(c, 3.8, y, "Total gross weight / value", 6, True)
            put(c, 0, y, f"{lab.weight_g / 1000:.3f}", 6, True, right=54)
            put(c, 0, y, f"{total:.2f} USD", 6, True, right=70)
            for yy in (29, 25.5, 22.7, y + 2.3, y - 0.8):
                c.line(2 * mm, yy * mm, 98 * mm, yy * mm)
            for xx in (37.3, 43.4, 54.9, 71.1, 85.5):
                c.line(xx * mm, 25.5 * mm, xx * mm, (y - 0.8) * mm)
            put(
                c,
                3.2,
                y - 3.5,
                "I certify that the particulars given in this declaration are "
                "correct and that this item does not contain any",
                4.8,
            )
            put(
                c,
                3.2,
                y - 5.5,
                "dangerous article prohibited by legislation or by postal or customs regulations.",
                4.8,
            )
            put(c, 3.2, y - 7.5, f"Date and sender's signature: {lab.ship_date}  ________", 4.8)
        c.showPage()
    previous, rl_config.useA85 = rl_config.useA85, 0
    try:
        c.save()
    finally:
        rl_config.useA85 = previous


def _weasy_html(labels: list) -> str:
    import io
    from html import escape

    import barcode
    from barcode.writer import SVGWriter

    pages = []
    for lab in labels:
        buf = io.BytesIO()
        barcode.Code128(lab.tracking_number, writer=SVGWriter()).write(
            buf,
            options={
                "module_width": 0.33,
                "module_height": 15.0,
                "quiet_zone": 3.3,
                "write_text": False,
            },
        )
        svg = re.sub(
            r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", buf.getvalue().decode(), flags=re.S
        )
        r, s = lab.recipient, lab.sender
        picks = "".join(
            f"<tr><td><b>{escape(p.sku_code)}</b></td><td>×{p.quantity}</td>"
            f"<td>{escape(p.bin)}</td><td>{escape(p.name_zh)}</td></tr>"
            for p in lab.pick_lines
        )
        customs = ""
        if lab.customs_items:
            rows = "".join(
                f"<tr><td>{escape(i.description_en)} {escape(i.description_zh)}</td>"
                f"<td>{i.quantity}</td><td>{i.quantity * i.unit_weight_g / 1000:.3f}</td>"
                f"<td>{i.unit_value * i.quantity:.2f} {i.currency}</td><td>{i.hs_code}</td>"
                f"<td>{i.origin_country}</td></tr>"
                for i in lab.customs_items
            )
            customs = (
                "<div class=box><b>CUSTOMS DECLARATION CN 22</b> <small>May be opened "
                "officially</small><div>☐ Gift ☐ Documents ☐ Commercial sample ☒ Merchandise "
                "☐ Other</div><table><tr><th>Description of contents</th><th>Qty</th>"
                f"<th>Weight kg</th><th>Value</th><th>HS tariff no.</th><th>Origin</th></tr>"
                f"{rows}</table><small>I certify that the particulars given in this declaration "
                "are correct and that this item does not contain any dangerous article "
                "prohibited by legislation or by postal or customs regulations. Date and "
                f"sender's signature: {lab.ship_date}</small></div>"
            )
        pages.append(
            f"<section><div class=row><div class='box from'><b>FROM: {escape(s.name)}</b><br>"
            f"{escape(', '.join(s.lines))}<br>{s.postcode} {escape(s.city)}, {s.country}<br>"
            f"Tel {s.phone}</div><div class='box ch'><b>{escape(lab.carrier_name)}</b><br>"
            f"{escape(lab.channel_name)}<br>{lab.service_code}</div></div>"
            f"<div class='box to'><small><b>SHIP TO</b></small><br><b class=name>"
            f"{escape(r.name)}</b><br>{'<br>'.join(escape(x) for x in r.lines)}<br>"
            f"<b>{r.postcode} {escape(r.city)} {escape(r.state)}</b><br><b>{r.country}</b><br>"
            f"Tel {r.phone}</div><div class='box bc'>{svg}<br><b>{lab.tracking_number}</b></div>"
            f"<div class=box><b>Order {lab.order_reference}</b> <span style=float:right>"
            f"{lab.weight_g / 1000:.3f} kg {lab.ship_date}</span></div>"
            f"<div class=box><b>PICK</b><table>{picks}</table></div>{customs}</section>"
        )
    css = (
        "@page{size:100mm 150mm;margin:2mm}body{font-family:'DejaVu Sans','Loma',"
        "'WenQuanYi Zen Hei';font-size:7pt}section{page-break-after:always}"
        ".box{border:0.7pt solid #000;padding:1mm}.row{display:flex}.from{flex:62}.ch{flex:34;"
        "text-align:center}.to{font-size:12pt;height:36mm}.name{font-size:15pt}"
        ".bc{text-align:center;font-size:11pt}table{width:100%;border-collapse:collapse}"
        "td,th{font-size:6pt;padding:0 0.5mm}"
    )
    return f"<html><head><meta charset=utf-8><style>{css}</style></head><body>{''.join(pages)}"


def _weasy(labels: list, out) -> None:
    from weasyprint import HTML

    out.write(HTML(string=_weasy_html(labels)).write_pdf())


CONTENDERS = {"engine": _engine, "anchor": _anchor, "weasyprint": _weasy}


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _child(name: str, count: int, heap: bool, results) -> None:
    """One contender in a fresh process: warm up, then time one batch and its RSS growth
    (or, with ``heap``, its peak of traced Python allocations: slower, but per object)."""
    import io
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    labels = make_labels(count)
    run = CONTENDERS[name]
    _anchor_setup()
    run(labels[:2], io.BytesIO())  # fonts loaded, modules imported, caches primed
    if heap:
        tracemalloc.start()
    before = _rss_kb()
    out = io.BytesIO()
    start = time.perf_counter()
    run(iter(labels), out)
    seconds = time.perf_counter() - start
    if heap:
        grown_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        grown_mb = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    results.put((name, count, seconds, grown_mb, len(out.getvalue())))


def _measure(name: str, count: int, heap: bool = False) -> tuple:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, count, heap, results))
    proc.start()
    result = results.get(timeout=1800)
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{name} exited with {proc.exitcode}")
    return result


def main() -> None:
    sys.path.insert(0, str(ROOT))
    runs: dict[str, list[tuple]] = {"engine": [], "anchor": []}
    for _ in range(REPEATS):  # alternated, so a burst of load hits both sides alike
        for name, results in runs.items():
            results.append(_measure(name, LABELS))
    engine, anchor = (min(r, key=lambda result: result[2]) for r in runs.values())
    weasy = _measure("weasyprint", WEASY_LABELS)
    small_heap = _measure("engine", LABELS // 5, heap=True)
    big_heap = _measure("engine", LABELS, heap=True)
    print(
        f"Shipping labels, 100×150 mm, one PDF per batch; {os.cpu_count()} CPUs "
        f"(load {os.getloadavg()[0]:.1f}); fresh process per run, after a warm-up; engine and "
        f"anchor: best of {REPEATS}"
    )
    print(
        f"  {'renderer':<24} {'labels':>6} {'seconds':>8} {'labels/s':>9} {'RSS +MB':>8} "
        f"{'PDF MB':>7}"
    )
    titles = ("render_labels_pdf", "bare ReportLab canvas", "WeasyPrint HTML")
    for title, (_, count, seconds, rss_mb, size) in zip(
        titles, (engine, anchor, weasy), strict=True
    ):
        print(
            f"  {title:<24} {count:>6,} {seconds:>8.2f} {count / seconds:>9,.0f} "
            f"{rss_mb:>8.1f} {size / 1e6:>7.2f}"
        )
    rate = engine[1] / engine[2]
    ratio = rate / (anchor[1] / anchor[2])
    met = "yes" if ratio >= GOAL else "no"
    print(
        f"  engine / anchor: {ratio:.0%} (goal ≥ {GOAL:.0%}: {met}); "
        f"engine / WeasyPrint: {rate / (weasy[1] / weasy[2]):.0f}×"
    )
    per_label = (big_heap[3] - small_heap[3]) * 1024 / (big_heap[1] - small_heap[1])
    print(
        f"  engine Python heap peak (tracemalloc): {small_heap[3]:.1f} MB for "
        f"{small_heap[1]:,} labels, {big_heap[3]:.1f} MB for {big_heap[1]:,}: "
        f"{per_label:.1f} KB per extra label: the compressed pages ReportLab holds until "
        f"save, then the file it assembles in memory ({engine[4] / engine[1] / 1024:.1f} "
        f"KB/label)"
    )


if __name__ == "__main__":
    main()
