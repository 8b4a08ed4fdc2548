"""Label layouts: a declarative dict per label size that a seller can adjust.

A layout is ``{"blocks": {name: block}}``. Each block is a box on the label, in millimetres
from the label's top-left corner::

    {"kind": "recipient",     # sender | recipient | barcode | reference | channel | pick
                              # | customs | text
     "x": 2, "y": 22, "w": 96, "h": 40,
     "font_size": 11,         # points; text shrinks from here to min_font_size, then is cut
     "min_font_size": 6,      # optional, default min(5, font_size)
     "border": True,          # optional, default False
     "align": "left",         # optional: left | center | right (RTL lines go right anyway)
     "bold": False,           # optional; text blocks only really use it
     "text": "FRAGILE",       # text blocks only: static text, "\\n" separates lines
     "hidden": False}         # optional

A seller stores only the difference from the base (``validate_layout`` merges it)::

    {"blocks": {
        "pick": {"w": 50},                         # resize (100x150: x 2, y 94, h 20)
        "customs": None,                           # hide (same as {"hidden": True})
        "recipient": {"font_size": 12},
        "fragile": {"kind": "text", "text": "FRAGILE", "x": 52, "y": 94, "w": 46, "h": 20,
                    "font_size": 14, "bold": True, "align": "center", "border": True}}}

Data-driven blocks (all but ``text``) print what the ``LabelData`` holds; a ``customs`` block
prints only when the label has customs items.
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from typing import Any, NamedTuple

from logistics.types import LabelSize

from .errors import LayoutError

KINDS = ("sender", "recipient", "barcode", "reference", "channel", "pick", "customs", "text")
ALIGNS = ("left", "center", "right")
MIN_FONT_PT = 4.0
MAX_FONT_PT = 72.0
MAX_TEXT = 500
# Smallest boxes that still hold their content: a scannable barcode needs room for the bars.
MIN_BOX_MM = {"barcode": (50.0, 12.0)}
_NUMBERS = ("x", "y", "w", "h", "font_size", "min_font_size")
_FIELDS = frozenset((*_NUMBERS, "kind", "border", "align", "bold", "text", "hidden"))

# Label sizes in mm (w, h). A4 sheets hold several labels of a base size.
LABEL_MM = {LabelSize.MM100X100: (100.0, 100.0), LabelSize.MM100X150: (100.0, 150.0)}
A4_MM = (210.0, 297.0)


def _b(kind: str, x: float, y: float, w: float, h: float, font_size: float, **extra: Any) -> dict:
    return {"kind": kind, "x": x, "y": y, "w": w, "h": h, "font_size": font_size, **extra}


# 100×150 (4×6 in thermal stock): everything full width, CN22 at the bottom.
_LAYOUT_100X150 = {
    "blocks": {
        "sender": _b("sender", 2, 2, 62, 20, 7, border=True),
        "channel": _b("channel", 64, 2, 34, 20, 10, border=True, align="center"),
        "recipient": _b("recipient", 2, 22, 96, 40, 12, border=True, min_font_size=6),
        "barcode": _b("barcode", 2, 62, 96, 25, 11, border=True),
        "reference": _b("reference", 2, 87, 96, 7, 8, border=True),
        "pick": _b("pick", 2, 94, 96, 20, 7, border=True),
        "customs": _b("customs", 2, 114, 96, 34, 6, border=True, min_font_size=4.5),
    }
}
# 100×100 (China small-parcel / postal stock): pick list and CN22 side by side at the bottom.
_LAYOUT_100X100 = {
    "blocks": {
        "sender": _b("sender", 2, 2, 62, 15, 6, border=True),
        "channel": _b("channel", 64, 2, 34, 15, 8, border=True, align="center"),
        "recipient": _b("recipient", 2, 17, 96, 27, 10, border=True, min_font_size=5.5),
        "barcode": _b("barcode", 2, 44, 96, 22, 10, border=True),
        "reference": _b("reference", 2, 66, 96, 6, 7, border=True),
        "pick": _b("pick", 2, 72, 34, 26, 5.5, border=True, min_font_size=4.5),
        "customs": _b("customs", 36, 72, 62, 26, 5, border=True, min_font_size=4),
    }
}
DEFAULT_LAYOUTS: dict[LabelSize, dict] = {
    LabelSize.MM100X150: _LAYOUT_100X150,
    LabelSize.MM100X100: _LAYOUT_100X100,
    # A4 sheets carry 100×100 labels unless the caller asks for another base size.
    LabelSize.A4: _LAYOUT_100X100,
}


class Block(NamedTuple):
    """One visible block, ready to draw."""

    name: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    font_size: float
    min_font_size: float
    border: bool
    align: str
    bold: bool
    text: str


def label_mm(size: LabelSize | str, base: LabelSize | str = LabelSize.MM100X100) -> tuple:
    """Width and height in mm of one label: the size itself, or ``base`` on A4 sheets."""
    size = _size(size)
    if size is LabelSize.A4:
        base = _size(base)
        if base is LabelSize.A4:
            raise LayoutError("base: an A4 sheet holds 100x100 or 100x150 labels, not A4")
        return LABEL_MM[base]
    return LABEL_MM[size]


def _size(size: LabelSize | str) -> LabelSize:
    try:
        return LabelSize(size)
    except ValueError:
        choices = ", ".join(s.value for s in LabelSize)
        raise LayoutError(f"size: unknown label size {size!r} (choose {choices})") from None


def validate_layout(
    size: LabelSize | str,
    data: dict | None,
    *,
    base: LabelSize | str = LabelSize.MM100X100,
) -> dict:
    """Merge a seller's partial layout over the base layout of ``size`` and check it.

    Returns the complete layout (a new dict; the defaults are never mutated) with every field
    filled in. Raises ``LayoutError`` naming the block and field for anything that cannot be
    drawn: an unknown block kind or field, a non-number, a box that is negative or sticks out
    of the label, a font size out of range, a text block without text. ``base`` is the label
    size on A4 sheets.
    """
    size = _size(size)
    width, height = label_mm(size, base)
    default_key = _size(base) if size is LabelSize.A4 else size
    merged = copy.deepcopy(DEFAULT_LAYOUTS[default_key])
    if data is not None:
        if not isinstance(data, dict):
            raise LayoutError(f"layout: expected an object, got {type(data).__name__}")
        unknown = set(data) - {"blocks"}
        if unknown:
            raise LayoutError(f"layout: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        blocks = data.get("blocks", {})
        if not isinstance(blocks, dict):
            raise LayoutError(f"layout.blocks: expected an object, got {type(blocks).__name__}")
        for name, override in blocks.items():
            _merge_block(merged["blocks"], name, override)
    for name, block in merged["blocks"].items():
        _check_block(name, block, width, height)
    return merged


def _merge_block(blocks: dict, name: Any, override: Any) -> None:
    if not isinstance(name, str) or not name or len(name) > 50:
        raise LayoutError(f"block {name!r}: a block name is a non-empty string (≤ 50 chars)")
    if override is None:
        if name not in blocks:
            raise LayoutError(f"block {name!r}: cannot hide a block the layout does not have")
        blocks[name]["hidden"] = True
        return
    if not isinstance(override, dict):
        raise LayoutError(f"block {name!r}: expected an object, got {type(override).__name__}")
    unknown = set(override) - _FIELDS
    if unknown:
        raise LayoutError(
            f"block {name!r}: unknown field(s) {', '.join(sorted(map(str, unknown)))}"
        )
    if name in blocks:
        kind = override.get("kind", blocks[name]["kind"])
        if kind != blocks[name]["kind"]:
            raise LayoutError(
                f"block {name!r}: field 'kind' cannot change from {blocks[name]['kind']!r} "
                f"to {kind!r}; add a new block instead"
            )
        blocks[name].update(override)
        return
    if "kind" not in override:
        raise LayoutError(f"block {name!r}: field 'kind' is required for a new block")
    missing = [f for f in ("x", "y", "w", "h") if f not in override]
    if missing:
        raise LayoutError(f"block {name!r}: field(s) {', '.join(missing)} required")
    blocks[name] = {"font_size": 8, **override}


def _check_block(name: str, block: dict, width: float, height: float) -> None:
    kind = block.get("kind")
    if kind not in KINDS:
        raise LayoutError(
            f"block {name!r}: field 'kind': unknown kind {kind!r} ({', '.join(KINDS)})"
        )
    for field in _NUMBERS:
        if field not in block:
            continue
        value = block[field]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise LayoutError(f"block {name!r}: field {field!r}: expected a number, got {value!r}")
    x, y, w, h = block["x"], block["y"], block["w"], block["h"]
    if x < 0 or y < 0:
        raise LayoutError(f"block {name!r}: fields 'x'/'y' must not be negative ({x}, {y})")
    if w <= 0 or h <= 0:
        raise LayoutError(f"block {name!r}: fields 'w'/'h' must be positive ({w}, {h})")
    if x + w > width + 0.01:
        raise LayoutError(
            f"block {name!r}: field 'w': x + w = {x + w:g} mm > label width {width:g}"
        )
    if y + h > height + 0.01:
        raise LayoutError(
            f"block {name!r}: field 'h': y + h = {y + h:g} mm > label height {height:g}"
        )
    min_w, min_h = MIN_BOX_MM.get(kind, (0.0, 0.0))
    if w < min_w or h < min_h:
        raise LayoutError(
            f"block {name!r}: fields 'w'/'h': a {kind} block needs at least {min_w:g}×{min_h:g} mm"
        )
    size = block["font_size"]
    if not MIN_FONT_PT <= size <= MAX_FONT_PT:
        raise LayoutError(
            f"block {name!r}: field 'font_size': {size:g} pt is outside "
            f"{MIN_FONT_PT:g}–{MAX_FONT_PT:g}"
        )
    block.setdefault("min_font_size", min(5.0, size))
    if not MIN_FONT_PT <= block["min_font_size"] <= size:
        raise LayoutError(
            f"block {name!r}: field 'min_font_size': must be between {MIN_FONT_PT:g} and "
            f"font_size ({size:g})"
        )
    for field in ("border", "bold", "hidden"):
        block.setdefault(field, False)
        if not isinstance(block[field], bool):
            raise LayoutError(f"block {name!r}: field {field!r}: expected true or false")
    block.setdefault("align", "left")
    if block["align"] not in ALIGNS:
        raise LayoutError(
            f"block {name!r}: field 'align': {block['align']!r} is not one of {', '.join(ALIGNS)}"
        )
    text = block.setdefault("text", "")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise LayoutError(f"block {name!r}: field 'text': a string of at most {MAX_TEXT} chars")
    if kind == "text" and not text.strip() and not block["hidden"]:
        raise LayoutError(f"block {name!r}: field 'text' is required for a text block")


def compile_layout(
    size: LabelSize | str, data: dict | None, base: LabelSize | str = LabelSize.MM100X100
) -> tuple[Block, ...]:
    """Validated, visible blocks of a layout; cached, since a batch reuses one layout."""
    try:
        key = json.dumps(data, sort_keys=True) if data is not None else ""
    except (TypeError, ValueError):  # not JSON (a Decimal, a set...): validate uncached
        return _blocks(validate_layout(size, data, base=base))
    return _compile(str(size), key, str(base))


@lru_cache(maxsize=64)
def _compile(size: str, key: str, base: str) -> tuple[Block, ...]:
    data = json.loads(key) if key else None
    return _blocks(validate_layout(size, data, base=base))


def _blocks(layout: dict) -> tuple[Block, ...]:
    return tuple(
        Block(
            name=name,
            kind=b["kind"],
            x=float(b["x"]),
            y=float(b["y"]),
            w=float(b["w"]),
            h=float(b["h"]),
            font_size=float(b["font_size"]),
            min_font_size=float(b["min_font_size"]),
            border=b["border"],
            align=b["align"],
            bold=b["bold"],
            text=b["text"],
        )
        for name, b in layout["blocks"].items()
        if not b["hidden"]
    )
