"""What goes where on one label: blocks of a layout filled from a ``LabelData``.

The output is a flat list of drawing primitives in millimetres from the label's top-left
corner, shared by the PDF and the ZPL renderer so both print the same label:

- ``(TEXT, x, baseline, w, size_pt, text, bold, align)``: one line, already fitted into
  ``w`` mm (``align`` is ``"L"``, ``"C"`` or ``"R"`` within ``x .. x + w``);
- ``(RECT, x, y, w, h, line_pt)`` and ``(LINE, x1, y1, x2, y2, line_pt)`` (straight lines);
- ``(BARCODE, x, y, module_mm, height_mm, value, modules, box_x, box_w)``: bars from ``x``;
  the box is the room a renderer with coarser modules (ZPL dots) may use.

Text never leaves its box: a block first shrinks its font (down to the block's minimum),
wraps long address lines when there is height to spare, and finally cuts with "…". Tuples,
not objects, because a batch makes tens of thousands of them and keeps none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import NamedTuple

from erp.pdf import fonts
from erp.pdf.barcode import QUIET_MODULES, code128_modules
from erp.pdf.text import ELLIPSIS, PT, fit, wrap
from logistics.types import Address, LabelData

from .countries import POSTCODE_FIRST, country_line
from .errors import LabelError
from .layout import Block

TEXT, RECT, LINE, BARCODE = 0, 1, 2, 3
LEAD = 1.18  # line height / font size
ASCENT = 0.86  # baseline below the line top, / font size (CJK glyphs reach ~0.86 em)
PAD = 1.2  # mm inside a block's box
BORDER_PT = 0.7
GRID_PT = 0.4
BAR_MODULE_MM = 0.33  # scans at 150–300 dpi (shared/RECIPES.md §3)
BAR_HEIGHT_MM = 15.0
CELL_PAD = 0.6  # mm between a table cell's text and its rules
NARROW_PICK_MM = 50.0  # narrower pick blocks print two rows per SKU
NARROW_CUSTOMS_MM = 70.0  # narrower CN22 blocks use the short column headings
CUSTOMS_CATEGORIES = (
    ("gift", "Gift"),
    ("documents", "Documents"),
    ("sample", "Commercial sample"),
    ("merchandise", "Merchandise"),
    ("other", "Other"),
)
CERTIFY = (
    "I certify that the particulars given in this declaration are correct and that this item "
    "does not contain any dangerous article prohibited by legislation or by postal or customs "
    "regulations."
)
_ALIGN = {"left": "L", "center": "C", "right": "R"}


class Line(NamedTuple):
    text: str
    scale: float = 1.0  # of the block's font size
    bold: bool = False
    wrap: bool = True
    drop: int = 0  # 0: always printed; when the box is full, higher numbers go first


DROP_FIRST = 9  # captions: the first thing to go, without an ellipsis


def _align(block: Block, text: str, bold: bool) -> str:
    align = _ALIGN[block.align]
    if align == "L" and fonts.shape(text, bold).rtl:
        return "R"  # an Arabic address reads from the right edge
    return align


def text_lines(out: list, block: Block, lines: Iterable[Line]) -> None:
    """Lay ``lines`` out top-down in ``block``: shrink, leave out optional lines, wrap, cut;
    never past the box."""
    lines = [ln for ln in lines if ln.text and ln.text.strip()]
    if not lines:
        return
    x, aw = block.x + PAD, block.w - 2 * PAD
    ah = block.h - 2 * PAD
    fs, floor = block.font_size, block.min_font_size

    def sizes(lines: list[Line]) -> list[float]:
        k = min(1.0, ah / (sum(fs * ln.scale for ln in lines) * LEAD * PT))
        return [max(fs * k * ln.scale, min(floor, fs) * min(1.0, ln.scale)) for ln in lines]

    sized = sizes(lines)
    # Full even at the smallest size: leave out optional lines, least important (then lowest)
    # first, so the name, city and country always print. A cut address line ends in "…".
    while sum(sized) * LEAD * PT > ah + 0.01 and any(ln.drop for ln in lines):
        worst = max(range(len(lines)), key=lambda i: (lines[i].drop, i))
        if worst and lines[worst - 1].drop and lines[worst].drop != DROP_FIRST:
            lines[worst - 1] = lines[worst - 1]._replace(text=lines[worst - 1].text + ELLIPSIS)
        del lines[worst]
        sized = sizes(lines)
    sized = list(zip(lines, sized, strict=True))
    used = sum(size for _, size in sized) * LEAD * PT
    placed: list[tuple[str, float, bool]] = []
    for ln, size in sized:
        if ln.wrap and fonts.width(ln.text, ln.bold) * size * PT > aw:
            pieces = wrap(ln.text, ln.bold, size, aw)
            extra = (len(pieces) - 1) * size * LEAD * PT
            if len(pieces) > 1 and used + extra <= ah:
                used += extra
                placed.extend((p, size, ln.bold) for p in pieces)
                continue
        placed.append((ln.text, size, ln.bold))
    top = block.y + PAD
    bottom = block.y + block.h - PAD
    for i, (text, size, bold) in enumerate(placed):
        size = min(size, ah / (LEAD * PT))  # even a single line must fit the height
        height = size * LEAD * PT
        cut = i + 1 < len(placed) and top + height + placed[i + 1][1] * LEAD * PT > bottom + 0.01
        if cut:  # more lines than room: end with "…" so the packer sees something is missing
            text += ELLIPSIS
        text, size = fit(text, bold, size, min(floor, size), aw)
        baseline = top + size * ASCENT * PT
        out.append((TEXT, x, baseline, aw, size, text, bold, _align(block, text, bold)))
        top += height
        if cut:
            break


# --- blocks --------------------------------------------------------------------------------


def _street(addr: Address) -> list[str]:
    lines = [ln for ln in addr.lines if ln and ln.strip()]
    if addr.house_number and lines and addr.house_number not in lines[0]:
        lines[0] = f"{lines[0]} {addr.house_number}"
    return lines


def _city(addr: Address) -> str:
    if addr.country.upper() in POSTCODE_FIRST:
        parts = (addr.postcode, addr.city, addr.state)
    else:
        parts = (addr.city, addr.state, addr.postcode)
    return " ".join(p.strip() for p in parts if p and p.strip())


def _sender(out: list, block: Block, label: LabelData) -> None:
    addr = label.return_address or label.sender
    caption = "RETURN TO" if label.return_address else "FROM"
    place = ", ".join(p for p in (_city(addr), addr.country.upper()) if p)
    lines = [
        Line(f"{caption}: {addr.name}", 1.0, True),
        Line(addr.company, drop=2),
        Line(", ".join(_street(addr)), drop=1),
        Line(place),
        Line(f"Tel {addr.phone}" if addr.phone else "", 0.9, drop=3),
    ]
    text_lines(out, block, lines)


def _recipient(out: list, block: Block, label: LabelData) -> None:
    addr = label.recipient
    street = _street(addr)
    lines = [
        Line("SHIP TO", 0.62, True, False, drop=DROP_FIRST),
        Line(addr.name, 1.25, True),
        Line(addr.company, 1.0, drop=2),
        *(Line(s, drop=1 if i == 0 else 4) for i, s in enumerate(street)),
        Line(_city(addr), 1.0, True),
        Line(country_line(addr.country), 1.1, True),
        Line(f"Tel {addr.phone}" if addr.phone else "", 0.85, drop=3),
    ]
    text_lines(out, block, lines)


def _channel(out: list, block: Block, label: LabelData) -> None:
    lines = [
        Line(label.carrier_name, 1.3, True),
        Line(label.channel_name),
        Line(label.service_code, 0.85, drop=1),
    ]
    text_lines(out, block, lines)


def _barcode(out: list, block: Block, label: LabelData) -> None:
    value = label.tracking_number.strip()
    aw, ah = block.w - 2 * PAD, block.h - 2 * PAD
    text_size = min(block.font_size, ah / 3 / PT)
    text_h = text_size * 1.05 * PT
    if not value:
        text, size = fit("NO TRACKING NUMBER", True, text_size, block.min_font_size, aw)
        baseline = block.y + (block.h + size * PT * 0.7) / 2
        out.append((TEXT, block.x + PAD, baseline, aw, size, text, True, "C"))
        return
    modules = code128_modules(value)
    count = sum(modules)
    module = min(BAR_MODULE_MM, aw / (count + 2 * QUIET_MODULES))
    bar_h = min(BAR_HEIGHT_MM, ah - text_h - 1.0)
    y = block.y + PAD + (ah - bar_h - 1.0 - text_h) / 2
    x = block.x + (block.w - count * module) / 2
    out.append((BARCODE, x, y, module, bar_h, value, modules, block.x + PAD, aw))
    text, size = fit(value, True, text_size, block.min_font_size, aw)
    baseline = y + bar_h + 1.0 + size * PT * 0.78
    out.append((TEXT, block.x + PAD, baseline, aw, size, text, True, "C"))


def _kg(grams: float) -> str:
    return f"{grams / 1000:.3f}"


def _reference(out: list, block: Block, label: LabelData) -> None:
    aw, ah = block.w - 2 * PAD, block.h - 2 * PAD
    size = min(block.font_size, ah / LEAD / PT)
    right_parts = []
    if label.weight_g:
        right_parts.append(f"{_kg(label.weight_g)} kg")
    if label.ship_date:
        right_parts.append(label.ship_date.isoformat())
    right = "   ".join(right_parts)
    baseline = block.y + (block.h + size * PT * 0.72) / 2
    right_w = 0.0
    if right:
        right, rsize = fit(right, False, size, block.min_font_size, aw * 0.5)
        right_w = fonts.width(right) * rsize * PT
        out.append((TEXT, block.x + PAD, baseline, aw, rsize, right, False, "R"))
    left_w = aw - right_w - (2.0 if right else 0.0)
    if label.order_reference and left_w > 2:
        left, lsize = fit(f"Order {label.order_reference}", True, size, block.min_font_size, left_w)
        out.append((TEXT, block.x + PAD, baseline, left_w, lsize, left, True, "L"))


def _cells(
    out: list,
    x: float,
    baseline: float,
    widths: tuple[float, ...],
    values: tuple[str, ...],
    size: float,
    floor: float,
    bold: bool | tuple[bool, ...] = False,
    aligns: str = "",
) -> None:
    """One table row at one font size: shrunk until every cell fits (down to ``floor``),
    then cells that still do not fit are cut with "…"."""
    floor = min(floor, size)
    bolds = bold if isinstance(bold, tuple) else (bold,) * len(values)
    for w, value, b in zip(widths, values, bolds, strict=True):
        if value:
            size = max(floor, min(size, fit(value, b, size, floor, w - 2 * CELL_PAD)[1]))
    for i, (w, value, b) in enumerate(zip(widths, values, bolds, strict=True)):
        if value:
            text, s = fit(value, b, size, size, w - 2 * CELL_PAD)
            align = aligns[i] if aligns else "L"
            out.append((TEXT, x + CELL_PAD, baseline, w - 2 * CELL_PAD, s, text, b, align))
        x += w


def _pick(out: list, block: Block, label: LabelData) -> None:
    """SKU × quantity, bin and Chinese name per line. A narrow block (the 100×100 default)
    gives each SKU two rows, so SKU and bin stay whole instead of being cut."""
    lines = label.pick_lines
    if not lines:
        return
    aw, ah = block.w - 2 * PAD, block.h - 2 * PAD
    fs, floor = block.font_size, min(block.min_font_size, block.font_size)
    per_item = 2 if aw < NARROW_PICK_MM else 1
    needed = 1 + len(lines) * per_item
    size = max(min(fs, ah / (needed * LEAD * PT)), floor)
    row = size * LEAD * PT
    rows = max(2, int((ah + 0.01) // row)) - 1  # rows under the heading
    capacity = max(1, rows // per_item)
    shown = lines if len(lines) <= capacity else lines[: max(0, (rows - 1) // per_item)]
    x, top = block.x + PAD, block.y + PAD
    units = sum(p.quantity for p in lines)
    heading = f"PICK  {len(lines)} SKU / {units} pcs"
    text, s = fit(heading, True, size, floor, aw)
    out.append((TEXT, x, top + s * ASCENT * PT, aw, s, text, True, "L"))
    y = top + row
    for p in shown:
        name = p.name_zh or p.name
        if per_item == 1:
            widths = tuple(aw * f for f in (0.36, 0.12, 0.2, 0.32))
            values = (p.sku_code, f"×{p.quantity}", p.bin, name)
            _cells(
                out,
                x,
                y + size * ASCENT * PT,
                widths,
                values,
                size,
                floor,
                (True, True, False, False),
            )
        else:
            widths = (aw * 0.78, aw * 0.22)
            values = (p.sku_code, f"×{p.quantity}")
            _cells(out, x, y + size * ASCENT * PT, widths, values, size, floor, True, "LR")
            y += row
            widths = (aw * 0.4, aw * 0.6)
            _cells(out, x + 1.0, y + size * ASCENT * PT, widths, (p.bin, name), size * 0.92, floor)
        y += row
    if len(shown) < len(lines):
        more, s = fit(f"+{len(lines) - len(shown)} more", True, size, floor, aw)
        out.append((TEXT, x, y + s * ASCENT * PT, aw, s, more, True, "L"))


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _value(item) -> Decimal:
    """Line value; a float that slipped in is taken at its printed value, not its binary one."""
    unit = (
        item.unit_value if isinstance(item.unit_value, Decimal) else Decimal(str(item.unit_value))
    )
    return unit * item.quantity


def _customs(out: list, block: Block, label: LabelData) -> None:
    items = label.customs_items
    if not items:
        return
    aw, ah = block.w - 2 * PAD, block.h - 2 * PAD
    x0 = block.x + PAD
    fs, floor = block.font_size, min(block.min_font_size, block.font_size)

    def rows_needed(size: float, item_rows: int, certify: bool) -> float:
        cat_rows = _category_rows(size, aw)
        n = 1.2 + cat_rows + 1 + item_rows + 1
        if certify:
            n += 0.85 * (len(wrap(CERTIFY, False, size * 0.8, aw)) + 1)
        return n * size * LEAD * PT

    size, certify, item_rows = fs, True, len(items)
    if rows_needed(fs, item_rows, True) > ah:
        size = max(floor, fs * ah / rows_needed(fs, item_rows, True))
        if rows_needed(size, item_rows, True) > ah:
            certify = False
            size = max(floor, min(fs, fs * ah / rows_needed(fs, item_rows, False)))
            while item_rows > 1 and rows_needed(size, item_rows, False) > ah:
                item_rows -= 1
    row = size * LEAD * PT
    y = block.y + PAD

    title, s = fit("CUSTOMS DECLARATION CN 22", True, size * 1.2, floor, aw * 0.62)
    out.append((TEXT, x0, y + s * ASCENT * PT, aw, s, title, True, "L"))
    note, s2 = fit("May be opened officially", False, size * 0.8, floor, aw * 0.36)
    out.append((TEXT, x0, y + s * ASCENT * PT, aw, s2, note, False, "R"))
    y += 1.2 * row
    out.append((LINE, block.x, y, block.x + block.w, y, GRID_PT))

    y = _categories(out, x0, y, aw, size, floor, label.customs_category)
    out.append((LINE, block.x, y, block.x + block.w, y, GRID_PT))

    widths = tuple(aw * f for f in (0.38, 0.07, 0.12, 0.17, 0.15, 0.11))
    aligns = "LRRRLC"
    if aw < NARROW_CUSTOMS_MM:
        header = ("Description", "Qty", "kg", "Value", "HS code", "Origin")
    else:
        header = ("Description of contents", "Qty", "Weight kg", "Value", "HS tariff no.", "Origin")
    table_top = y
    _cells(out, x0, y + size * ASCENT * PT, widths, header, size * 0.9, floor, True, aligns)
    y += row
    out.append((LINE, block.x, y, block.x + block.w, y, GRID_PT))
    listed = items if item_rows >= len(items) else items[: item_rows - 1]
    for item in listed:
        values = (
            " ".join(p for p in (item.description_en, item.description_zh) if p),
            str(item.quantity),
            _kg(item.quantity * item.unit_weight_g),
            f"{_money(_value(item))} {item.currency}",
            item.hs_code,
            item.origin_country,
        )
        _cells(out, x0, y + size * ASCENT * PT, widths, values, size, floor, False, aligns)
        y += row
    if len(listed) < len(items):
        more = f"+{len(items) - len(listed)} more item(s), included in the totals"
        _cells(out, x0, y + size * ASCENT * PT, (aw,), (more,), size, floor, True)
        y += row
    out.append((LINE, block.x, y, block.x + block.w, y, GRID_PT))
    totals: dict[str, Decimal] = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + _value(item)
    grams = label.weight_g or sum(i.quantity * i.unit_weight_g for i in items)
    values = (
        "Total gross weight / value",
        str(sum(i.quantity for i in items)),
        _kg(grams),
        " + ".join(f"{_money(v)} {c}" for c, v in totals.items()),
        "",
        "",
    )
    _cells(out, x0, y + size * ASCENT * PT, widths, values, size, floor, True, aligns)
    y += row
    out.append((LINE, block.x, y, block.x + block.w, y, GRID_PT))
    x = x0
    for w in widths[:-1]:  # column rules through the table
        x += w
        out.append((LINE, x, table_top, x, y, GRID_PT))
    if certify:
        small = size * 0.8
        for piece in wrap(CERTIFY, False, small, aw):
            text, s = fit(piece, False, small, floor, aw)
            out.append((TEXT, x0, y + s * ASCENT * PT + 0.3, aw, s, text, False, "L"))
            y += s * LEAD * PT
        date = label.ship_date.isoformat() if label.ship_date else ""
        sign = f"Date and sender's signature: {date}  ______________________"
        text, s = fit(sign, False, small, floor, aw)
        out.append((TEXT, x0, y + s * ASCENT * PT + 0.3, aw, s, text, False, "L"))


def _category_width(name: str, size: float) -> float:
    return size * PT * 0.72 + 0.8 + fonts.width(name) * size * PT + 2.0


def _category_rows(size: float, aw: float) -> int:
    total = sum(_category_width(name, size) for _, name in CUSTOMS_CATEGORIES)
    return 1 if total <= aw else 2


def _categories(
    out: list, x0: float, y: float, aw: float, size: float, floor: float, chosen: str
) -> float:
    """Tick boxes for the category, on one row or two; returns the y under them."""
    known = {key for key, _ in CUSTOMS_CATEGORIES}
    chosen = chosen if chosen in known else "other"
    rows = _category_rows(size, aw)
    per_row = math.ceil(len(CUSTOMS_CATEGORIES) / rows)
    row = size * LEAD * PT
    box = size * 0.72 * PT
    for r in range(rows):
        entries = CUSTOMS_CATEGORIES[r * per_row : (r + 1) * per_row]
        natural = [_category_width(name, size) for _, name in entries]
        spare = max(0.0, aw - sum(natural)) / len(entries)
        x = x0
        top = y + r * row
        for (key, name), width in zip(entries, natural, strict=True):
            slot = width + spare if spare else aw / len(entries)
            by = top + (row - box) / 2
            out.append((RECT, x, by, box, box, GRID_PT))
            if key == chosen:  # an X, drawn: a glyph would sit differently in each font
                inset = box * 0.18
                a, b = x + inset, x + box - inset
                out.append((LINE, a, by + inset, b, by + box - inset, GRID_PT * 2))
                out.append((LINE, a, by + box - inset, b, by + inset, GRID_PT * 2))
            label_w = slot - box - 1.2
            text, s = fit(name, False, size, floor, label_w)
            out.append(
                (TEXT, x + box + 0.8, top + size * ASCENT * PT, label_w, s, text, False, "L")
            )
            x += slot
    return y + rows * row


def _text(out: list, block: Block, label: LabelData) -> None:
    text_lines(out, block, (Line(t, 1.0, block.bold) for t in block.text.split("\n")))


_KINDS: dict[str, Callable[[list, Block, LabelData], None]] = {
    "sender": _sender,
    "recipient": _recipient,
    "channel": _channel,
    "barcode": _barcode,
    "reference": _reference,
    "pick": _pick,
    "customs": _customs,
    "text": _text,
}


def label_primitives(label: LabelData, blocks: tuple[Block, ...]) -> list:
    """All primitives of one label, block by block (borders first, then contents)."""
    out: list = []
    for block in blocks:
        if block.kind == "customs" and not label.customs_items:
            continue
        if block.border:
            out.append((RECT, block.x, block.y, block.w, block.h, BORDER_PT))
        try:
            _KINDS[block.kind](out, block, label)
        except Exception as exc:  # name the label and block: a batch has hundreds
            raise LabelError(
                f"label {label.tracking_number or label.order_reference!r}, block "
                f"{block.name!r}: {exc}"
            ) from exc
    return out
