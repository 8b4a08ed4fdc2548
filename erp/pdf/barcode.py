"""Code 128 as module widths, so the PDF and ZPL renderers place the same symbol.

ReportLab's ``Code128`` widget draws one rectangle call per bar with its own quiet-zone rules;
here it only encodes (subset B, switching to C for digit runs) and we keep the pattern, which
lets the renderer fit the module width to the box and fill all bars as one path.
"""

from __future__ import annotations

from functools import lru_cache

from .errors import LabelError

QUIET_MODULES = 10  # quiet zone each side, in modules (the minimum scanners expect)


@lru_cache(maxsize=1024)
def code128_modules(value: str) -> tuple[int, ...]:
    """Widths in modules, alternating bar, space, bar... (starts and ends with a bar)."""
    from reportlab.graphics.barcode.code128 import Code128

    if not value or not value.isascii() or not value.isprintable():
        raise LabelError(f"tracking number {value!r} cannot be a Code 128 barcode")
    symbol = Code128(value, quiet=0)
    symbol.validate()
    symbol.encode()
    decomposed = symbol.decompose()
    # Upper case letters are bars, lower case spaces: "A" = 1 module wide, "a" = 1 module.
    return tuple(ord(c) - (64 if c.isupper() else 96) for c in decomposed)
