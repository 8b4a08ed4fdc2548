"""SKU and bin labels: one PDF, one label per page, each page exactly the label (50 × 30 mm or
60 × 40 mm), for the thermal label printers of a warehouse.

A SKU label carries the SKU's name and Chinese name (each shrunk to a minimum size, then cut
with "…", never past the label), a Code 128 of the SKU code (or of its barcode when asked and
there is one; an EAN-13 prints as Code 128 too, which every scanner reads) and the code in
bold. A bin label carries the bin code as large as it fits, its Code 128 and the warehouse.

Drawn on a ReportLab canvas with the fonts, barcodes and text fitting of ``erp.pdf`` (shared
with the shipping labels): every script in the font that has it, CJK in WenQuanYi Zen Hei.

Barcodes: the module (narrowest bar) is 0.33 mm when the code fits, narrower for long codes
down to 0.19 mm, which still scans at 300 dpi; the quiet zone is 10 modules each side, inside
a 1 mm edge. A 50 mm label takes a Code 128 of 17 letters at that minimum (more when digits
run, which Code 128 packs two to a symbol); a code too long for the label is refused with a
message that says so, rather than printed unreadable.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.errors import ServiceError
from erp.pdf import LabelError, fonts
from erp.pdf.barcode import QUIET_MODULES, code128_modules
from erp.pdf.canvas import MM, compress_last_page, draw_bars, draw_text, save
from erp.pdf.text import PT, fit, wrap
from warehouse.models import Location, Sku

SIZE_CHOICES = [("50x30", gettext_lazy("50 × 30 mm")), ("60x40", gettext_lazy("60 × 40 mm"))]
CODE_CHOICES = [
    ("code", gettext_lazy("SKU code")),
    ("barcode", gettext_lazy("Barcode (the SKU code when it has none)")),
]
MAX_LABELS = 2000  # one request; ~4 s of drawing
MAX_COPIES = 1000

MODULE_MM = 0.33  # scans at 150–300 dpi (shared/RECIPES.md §3)
MIN_MODULE_MM = 0.19  # still scans at 300 dpi
EDGE_MM = 1.0  # the quiet zones stay this far inside the label's edges
ASCENT = 0.86  # baseline below the line top, / font size (as the shipping labels)
LEAD = 1.15  # line height / font size


class LabelPrintError(ServiceError):
    """Labels that cannot be printed as asked; the message says why."""

    code = "label_error"


@dataclass(frozen=True)
class _Spec:
    width: float  # mm
    height: float
    margin: float
    name_pt: float
    name_min_pt: float
    name_lines: int
    code_pt: float
    code_min_pt: float
    digits_pt: float
    bar_max: float  # mm
    bin_code_pt: float
    bin_caption_pt: float


SPECS = {
    "50x30": _Spec(50, 30, 1.6, 7.5, 5.5, 1, 10, 6, 5.5, 12, 26, 6.5),
    "60x40": _Spec(60, 40, 2.0, 8.5, 6.0, 2, 12, 7, 6.5, 15, 34, 7.5),
}


# A label as drawing operations, in mm from its top left: computed once per SKU or bin and
# drawn once per copy.
#   ("text", x, baseline, text, size_pt, bold)
#   ("bars", x, top, module, height, modules)
Op = tuple


def _spec(size: str) -> _Spec:
    spec = SPECS.get(size)
    if spec is None:
        raise LabelPrintError(
            _("Unknown label size %(size)s: choose one of %(sizes)s.")
            % {"size": size, "sizes": ", ".join(SPECS)}
        )
    return spec


def _text(x: float, top: float, text: str, size: float, bold: bool) -> tuple[Op, float]:
    """A text op whose line starts at ``top``; and the line's height in mm."""
    return ("text", x, top + size * ASCENT * PT, text, size, bold), size * LEAD * PT


def _centred(spec: _Spec, top: float, text: str, size: float, bold: bool) -> tuple[Op, float]:
    width = fonts.width(text, bold) * size * PT
    return _text((spec.width - width) / 2, top, text, size, bold)


def _name_lines(text: str, spec: _Spec, bold: bool = False) -> list[tuple[str, float]]:
    """``text`` in at most ``spec.name_lines`` lines of the label's width: at the name size
    if it fits, else smaller down to the minimum, else cut with "…" at the minimum."""
    aw = spec.width - 2 * spec.margin
    if spec.name_lines > 1:
        size = spec.name_pt
        while size >= spec.name_min_pt:
            pieces = wrap(text, bold, size, aw)
            if len(pieces) <= spec.name_lines and all(
                fonts.width(p, bold) * size * PT <= aw for p in pieces
            ):
                return [(p, size) for p in pieces]
            size -= 0.5
        pieces = list(wrap(text, bold, spec.name_min_pt, aw))
        head = pieces[: spec.name_lines - 1]
        rest = " ".join(pieces[spec.name_lines - 1 :])
        lines = [fit(p, bold, spec.name_min_pt, spec.name_min_pt, aw) for p in head]
        return [*lines, fit(rest, bold, spec.name_min_pt, spec.name_min_pt, aw)]
    return [fit(text, bold, spec.name_pt, spec.name_min_pt, aw)]


def _modules(value: str) -> tuple[int, ...]:
    try:
        return code128_modules(value)
    except LabelError as exc:
        raise LabelPrintError(
            _(
                "“%(value)s” cannot be a Code 128 barcode: only ASCII letters, digits and "
                "symbols can."
            )
            % {"value": value}
        ) from exc


def _bars(spec: _Spec, value: str, top: float, bottom: float) -> Op:
    """Bars of ``value``, centred across the label, standing on ``bottom`` and at most as
    high as ``top`` (mm)."""
    modules = _modules(value)
    count = sum(modules)
    module = min(MODULE_MM, (spec.width - 2 * EDGE_MM) / (count + 2 * QUIET_MODULES))
    module = int(module * 1000) / 1000
    if module < MIN_MODULE_MM:
        raise LabelPrintError(
            _(
                "“%(value)s” is too long for a barcode that scans on a %(size)s mm label: "
                "choose the larger label or a shorter code."
            )
            % {"value": value, "size": f"{spec.width:g} × {spec.height:g}"}
        )
    height = min(spec.bar_max, bottom - top)
    return ("bars", (spec.width - count * module) / 2, bottom - height, module, height, modules)


def sku_label_ops(sku: Sku, spec: _Spec, code: str = "code") -> list[Op]:
    """The drawing of one SKU's label."""
    value = (sku.barcode or sku.code) if code == "barcode" else sku.code
    value = value.strip()
    ops: list[Op] = []
    aw = spec.width - 2 * spec.margin
    top = spec.margin
    names = _name_lines(sku.name, spec)
    if sku.name_zh and sku.name_zh != sku.name:
        names.append(fit(sku.name_zh, False, spec.name_pt, spec.name_min_pt, aw))
    for text, size in names:
        op, height = _text(spec.margin, top, text, size, False)
        ops.append(op)
        top += height
    # from the bottom up: the SKU code in bold, then the barcode's digits when they differ
    code_text, code_size = fit(sku.code, True, spec.code_pt, spec.code_min_pt, aw)
    code_h = code_size * LEAD * PT
    bottom = spec.height - spec.margin - code_h
    ops.append(_centred(spec, bottom, code_text, code_size, True)[0])
    if value != sku.code:
        digits, digits_size = fit(value, False, spec.digits_pt, spec.digits_pt, aw)
        bottom -= digits_size * LEAD * PT
        ops.append(_centred(spec, bottom, digits, digits_size, False)[0])
    ops.append(_bars(spec, value, top + 0.8, bottom - 0.9))
    return ops


def bin_label_ops(location: Location, spec: _Spec) -> list[Op]:
    """The drawing of one bin's label: warehouse (and kind, unless storage), the bin code as
    large as it fits, its barcode."""
    aw = spec.width - 2 * spec.margin
    caption = f"{location.warehouse.code} · {location.warehouse.name}"
    if location.kind != Location.Kind.STORAGE:
        caption = f"{location.get_kind_display()} · {caption}"
    caption, caption_size = fit(caption, False, spec.bin_caption_pt, 5.0, aw)
    op, top = _text(spec.margin, spec.margin, caption, caption_size, False)
    ops = [op]
    top += spec.margin
    code, size = fit(location.code, True, spec.bin_code_pt, 8.0, aw)
    op, height = _centred(spec, top, code, size, True)
    ops.append(op)
    top += height
    # the bars in the middle of the room left under the code
    room = spec.height - spec.margin - (top + 0.5)
    bottom = spec.height - spec.margin - max(0.0, room - spec.bar_max) / 2
    ops.append(_bars(spec, location.code, top + 0.5, bottom))
    return ops


def _draw(canvas, ops: Sequence[Op], page_h: float) -> None:
    for op in ops:
        if op[0] == "text":
            _, x, baseline, text, size, bold = op
            draw_text(canvas, x * MM, page_h - baseline * MM, text, size, bold)
        else:
            _, x, top, module, height, modules = op
            draw_bars(
                canvas, x * MM, page_h - (top + height) * MM, module * MM, height * MM, modules
            )


def _render(pages: Iterable[tuple[list[Op], int]], spec: _Spec, title: str) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    fonts.ensure_fonts()
    out = io.BytesIO()
    page_h = spec.height * MM
    canvas = Canvas(
        out, pagesize=(spec.width * MM, page_h), pageCompression=1, initialFontName=fonts.BASE_FONT
    )
    canvas.setCreator("Caravan")
    canvas.setTitle(title)
    for ops, copies in pages:
        for _copy in range(copies):
            _draw(canvas, ops, page_h)
            canvas.showPage()
            compress_last_page(canvas)
    save(canvas)
    return out.getvalue()


def _check_count(total: int) -> None:
    if total <= 0:
        raise LabelPrintError(_("Nothing to print: choose at least one label."))
    if total > MAX_LABELS:
        raise LabelPrintError(
            _("%(count)d labels is more than %(max)d at a time: print them in parts.")
            % {"count": total, "max": MAX_LABELS}
        )


def sku_labels_pdf(
    *, items: Sequence[tuple[Sku, int]], size: str = "50x30", code: str = "code"
) -> bytes:
    """Labels of ``items`` (SKU, copies), in their order, as one PDF of one label per page.

    ``code`` ``"code"`` encodes the SKU code; ``"barcode"`` encodes the SKU's barcode, or its
    code when it has none. Raises ``LabelPrintError`` for an unknown size, no labels, too many
    labels, or a code that cannot be a barcode that scans on this label.
    """
    spec = _spec(size)
    if code not in dict(CODE_CHOICES):
        raise LabelPrintError(_("Unknown barcode content %(code)s.") % {"code": code})
    for _sku, copies in items:
        if copies < 1 or copies > MAX_COPIES:
            raise LabelPrintError(_("Copies must be between 1 and %(max)d.") % {"max": MAX_COPIES})
    _check_count(sum(copies for _sku, copies in items))
    pages = [(sku_label_ops(sku, spec, code), copies) for sku, copies in items]
    return _render(pages, spec, "SKU labels")


def bin_labels_pdf(*, locations: Sequence[Location], size: str = "50x30") -> bytes:
    """One label per bin, in the given order (pass them with their warehouse selected)."""
    spec = _spec(size)
    _check_count(len(locations))
    return _render([(bin_label_ops(loc, spec), 1) for loc in locations], spec, "Bin labels")
