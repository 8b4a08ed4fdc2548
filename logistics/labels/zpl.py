"""Shipping labels as ZPL II for Zebra-compatible thermal printers.

The same layout and the same primitives as the PDF (``content.py``), converted from mm to
printer dots: 8 dots/mm at 203 dpi, 12 at 300, 24 at 600. Each label is one ``^XA … ^XZ``
format, so a batch can be sent to the printer as one job or split anywhere.

Text goes in ``^FB`` fields (width-bounded, justified) through ``^FH_`` so a ``^`` or ``~``
typed in an address cannot end the field or start a command. Widths are fitted with DejaVu
Sans metrics, which run wider than the printer's condensed font 0, so a line that fits the
PDF never runs past its ZPL box either.

Scripts: ``^CI28`` sends UTF-8, but the built-in font 0 has no CJK, Thai or Arabic glyphs.
Pass ``unicode_font`` (a TrueType font stored on the printer, e.g. ``"E:ANMDJ.TTF"``) to print
non-Latin lines with it; ``^PA0,1,1,0`` then asks Link-OS firmware for bidi and shaping.
"""

from __future__ import annotations

from collections.abc import Iterable

from logistics.types import LabelData, LabelSize

from .content import ASCENT, BARCODE, LINE, PT, RECT, TEXT, label_primitives
from .errors import LabelError
from .layout import _size, compile_layout, label_mm

# 100×150 mm labels are sold as 4×6 in thermal stock: 812×1218 dots at 203 dpi.
STOCK_INCHES = {LabelSize.MM100X150: (4.0, 6.0)}


def render_labels_zpl(
    labels: Iterable[LabelData],
    *,
    size: LabelSize | str,
    dpi: int = 203,
    layout: dict | None = None,
    unicode_font: str | None = None,
) -> str:
    """ZPL for ``labels``: one ``^XA^CI28^PW…^LL… … ^XZ`` format per label, joined by
    newlines. ``size`` is 100x100 or 100x150 (A4 is a PDF sheet, not thermal stock);
    ``dpi`` is the printer's resolution (203, 300 or 600). Raises ``LayoutError`` for a bad
    ``layout`` and ``LabelError`` for A4 or an unsupported resolution.
    """
    size = _size(size)
    if size is LabelSize.A4:
        raise LabelError("ZPL prints on label stock: choose 100x100 or 100x150, not a4")
    if dpi not in (203, 300, 600):
        raise LabelError(f"dpi: {dpi} is not a thermal printer resolution (203, 300, 600)")
    blocks = compile_layout(size, layout)
    dpmm = round(dpi / 25.4)
    w_mm, h_mm = label_mm(size)
    inches = STOCK_INCHES.get(size)
    if inches:
        pw, ll = round(inches[0] * dpi), round(inches[1] * dpi)
    else:
        pw, ll = round(w_mm * dpmm), round(h_mm * dpmm)
    ox = max(0, (pw - round(w_mm * dpmm)) // 2)
    oy = max(0, (ll - round(h_mm * dpmm)) // 2)
    header = f"^XA^CI28^PW{pw}^LL{ll}^LH0,0" + ("^PA0,1,1,0" if unicode_font else "")
    formats = []
    for label in labels:
        body = _fields(label_primitives(label, blocks), dpmm, ox, oy, unicode_font)
        formats.append(f"{header}\n{body}\n^XZ")
    if not formats:
        raise LabelError("no labels to render")
    return "\n".join(formats) + "\n"


def escape(data: str, *, field_block: bool = True) -> str:
    """Field data for ``^FH_^FD``: ``_``, ``^`` and ``~`` as hex escapes, control characters as
    spaces; in a ``^FB`` field a backslash is doubled (``\\&`` would be a line break)."""
    data = "".join(" " if ord(c) < 32 or c == "\x7f" else c for c in data)
    data = data.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
    return data.replace("\\", "\\\\") if field_block else data.replace("\\", "_5C")


def _needs_unicode_font(text: str) -> bool:
    return any(ord(c) > 0x24F and not 0x2000 <= ord(c) <= 0x20CF for c in text)


def _fields(primitives: list, dpmm: int, ox: int, oy: int, unicode_font: str | None) -> str:
    def d(mm: float) -> int:
        return round(mm * dpmm)

    out = []
    for prim in primitives:
        kind = prim[0]
        if kind == TEXT:
            _, x, baseline, w, size, text, _bold, align = prim
            height = max(10, d(size * PT))
            top = baseline - size * ASCENT * PT  # ^FO is the field's top-left
            if unicode_font and _needs_unicode_font(text):
                font = f"^A@N,{height},{height},{unicode_font}"
            else:
                font = f"^A0N,{height},{height}"
            out.append(
                f"^FO{ox + d(x)},{oy + d(top)}{font}^FB{d(w)},1,0,{align},0^FH_^FD{escape(text)}^FS"
            )
        elif kind == RECT:
            _, x, y, w, h, line_pt = prim
            t = max(1, d(line_pt * PT))
            out.append(f"^FO{ox + d(x)},{oy + d(y)}^GB{max(d(w), t)},{max(d(h), t)},{t}^FS")
        elif kind == LINE:
            _, x1, y1, x2, y2, line_pt = prim
            t = max(1, d(line_pt * PT))
            left, top = min(x1, x2), min(y1, y2)
            w, h = d(abs(x2 - x1)), d(abs(y2 - y1))
            if w and h:  # a diagonal: "\" runs down to the right (L), "/" up to the right (R)
                lean = "L" if (x2 - x1) * (y2 - y1) > 0 else "R"
                out.append(f"^FO{ox + d(left)},{oy + d(top)}^GD{w},{h},{t},B,{lean}^FS")
            else:
                out.append(f"^FO{ox + d(left)},{oy + d(top)}^GB{max(w, t)},{max(h, t)},{t}^FS")
        elif kind == BARCODE:
            _, x, y, module, height, value, modules, box_x, box_w = prim
            count = sum(modules) + 20  # with the quiet zones
            dots = max(1, round(module * dpmm))
            while dots > 1 and dots * count > d(box_w):
                dots -= 1  # whole dots only: narrow the module rather than leave the box
            left = box_x + (box_w - sum(modules) * dots / dpmm) / 2
            out.append(
                f"^FO{ox + d(left)},{oy + d(y)}^BY{dots},3,{d(height)}"
                f"^BCN,{d(height)},N,N,N,A^FH_^FD{escape(value, field_block=False)}^FS"
            )
    return "\n".join(out)
