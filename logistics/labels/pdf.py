"""Shipping labels as one PDF, drawn straight on a ReportLab canvas.

Why a canvas and not the HTML templates of ``templates/pdf/`` (STYLE.md §13): a warehouse
prints hundreds to thousands of labels at a time; WeasyPrint lays out about 10 labels/s here
where this canvas draws about 500 (``bench/bench_labels.py``). The layout stays declarative
(``layout.py``) so sellers can still adjust it; this module only turns primitives into PDF
operators.

Memory: labels are consumed one at a time from the iterable, each page is handed to ReportLab
as soon as it is full and deflated there; no per-label object outlives its page. What grows is
ReportLab's list of finished pages (it writes the file at ``save``): about 2.5 KB per label.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import BinaryIO

from erp.pdf import fonts
from erp.pdf.canvas import MM, compress_last_page, save
from logistics.types import LabelData, LabelSize

from .content import BARCODE, LINE, RECT, TEXT, label_primitives
from .errors import LabelError
from .layout import A4_MM, _size, compile_layout, label_mm


def render_labels_pdf(
    labels: Iterable[LabelData],
    *,
    size: LabelSize | str,
    layout: dict | None = None,
    out: BinaryIO | None = None,
    base: LabelSize | str = LabelSize.MM100X100,
) -> bytes | None:
    """Render ``labels`` into one PDF and return its bytes, or write it to ``out`` (and return
    ``None``) so a big batch can go straight to a file or a storage stream.

    ``size`` 100x100 and 100x150 give one label per page, the page exactly the label (283.46 ×
    283.46 pt, 283.46 × 425.20 pt). ``a4`` puts labels of size ``base`` (default 100x100) on A4
    portrait sheets in a centred grid with light cut lines: 4 per sheet (2 × 2) for 100x100,
    2 per sheet (2 × 1) for 100x150. ``layout`` is a seller's override of the default layout
    (see ``layout.validate_layout``); a bad one raises ``LayoutError`` before anything is drawn.
    Raises ``LabelError`` when ``labels`` is empty.
    """
    size = _size(size)
    blocks = compile_layout(size, layout, base)
    w_mm, h_mm = label_mm(size, base)
    if size is LabelSize.A4:
        page_mm = A4_MM
        cols, rows = int(A4_MM[0] // w_mm), int(A4_MM[1] // h_mm)
        left = (A4_MM[0] - cols * w_mm) / 2
        top = (A4_MM[1] - rows * h_mm) / 2
        cells = [(left + c * w_mm, top + r * h_mm) for r in range(rows) for c in range(cols)]
    else:
        page_mm = (w_mm, h_mm)
        cells = [(0.0, 0.0)]
    page_h = page_mm[1] * MM

    from reportlab.pdfgen.canvas import Canvas

    fonts.ensure_fonts()
    target = out if out is not None else io.BytesIO()
    canvas = Canvas(
        target,
        pagesize=(page_mm[0] * MM, page_h),
        pageCompression=1,
        initialFontName=fonts.BASE_FONT,
    )
    canvas.setCreator("Caravan")
    canvas.setTitle("Shipping labels")
    count = 0
    for label in labels:
        cell = count % len(cells)
        if count and not cell:
            canvas.showPage()
            compress_last_page(canvas)
        ox, oy = cells[cell]
        if size is LabelSize.A4:
            _cut_lines(canvas, ox, oy, w_mm, h_mm, page_h)
        _draw(canvas, label_primitives(label, blocks), ox, oy, page_h)
        count += 1
    if not count:
        raise LabelError("no labels to render")
    canvas.showPage()
    compress_last_page(canvas)
    save(canvas)
    return target.getvalue() if out is None else None


def _cut_lines(canvas, ox: float, oy: float, w: float, h: float, page_h: float) -> None:
    canvas.saveState()
    canvas.setStrokeGray(0.7)
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 2)
    canvas.rect(ox * MM, page_h - (oy + h) * MM, w * MM, h * MM, stroke=1, fill=0)
    canvas.restoreState()


def _draw(canvas, primitives: list, ox: float, oy: float, page_h: float) -> None:
    """Graphics first, then every line of text in one text object (one BT … ET per label)."""
    line_width = None
    text = canvas.beginText()
    font = None
    for prim in primitives:
        kind = prim[0]
        if kind == TEXT:
            _, x, baseline, w, size, string, bold, align = prim
            shaped = fonts.shape(string, bold)
            xpt = (ox + x) * MM
            if align != "L":
                spare = w * MM - shaped.width * size
                xpt += spare if align == "R" else spare / 2
            ypt = page_h - (oy + baseline) * MM
            for run in shaped.runs:
                if (run.font, size) != font:
                    text.setFont(run.font, size)
                    font = (run.font, size)
                text.setTextOrigin(xpt, ypt)
                text.textLine(run.text)  # unlike textOut, does not measure the run again
                xpt += run.width * size
        elif kind == RECT:
            _, x, y, w, h, lw = prim
            if lw != line_width:
                canvas.setLineWidth(lw)
                line_width = lw
            canvas.rect((ox + x) * MM, page_h - (oy + y + h) * MM, w * MM, h * MM)
        elif kind == LINE:
            _, x1, y1, x2, y2, lw = prim
            if lw != line_width:
                canvas.setLineWidth(lw)
                line_width = lw
            canvas.line(
                (ox + x1) * MM, page_h - (oy + y1) * MM, (ox + x2) * MM, page_h - (oy + y2) * MM
            )
        elif kind == BARCODE:
            _, x, y, module, height, _value, modules, _bx, _bw = prim
            path = canvas.beginPath()
            xpt = (ox + x) * MM
            ypt = page_h - (oy + y + height) * MM
            hpt, mpt = height * MM, module * MM
            for i, m in enumerate(modules):
                if not i % 2:
                    path.rect(xpt, ypt, m * mpt, hpt)
                xpt += m * mpt
            canvas.drawPath(path, stroke=0, fill=1)
    canvas.drawText(text)
