"""Fitting one line of text into a box: shrink the font down to a minimum, then cut with "…";
and greedy word wrap. Sizes in points, widths in millimetres; widths come from ``fonts`` (each
run in the font of its script)."""

from __future__ import annotations

import math
from functools import lru_cache

from . import fonts

PT = 25.4 / 72  # mm per point
ELLIPSIS = "…"


def fit(text: str, bold: bool, size: float, min_size: float, max_w: float) -> tuple[str, float]:
    """``text`` and a font size at which it fits ``max_w`` mm: the size itself, a smaller one
    down to ``min_size``, or ``min_size`` with the text cut short by an ellipsis."""
    w1 = fonts.width(text, bold) * PT
    if w1 * size <= max_w:
        return text, size
    smaller = math.floor(max_w / w1 * 20) / 20  # round down to 0.05 pt: never a hair over
    if smaller >= min_size:
        return text, smaller
    return ellipsize(text, bold, min_size, max_w), min_size


def ellipsize(text: str, bold: bool, size: float, max_w: float) -> str:
    """The longest start of ``text`` that fits ``max_w`` mm at ``size`` with "…" appended."""
    limit = max_w / (size * PT)
    text = text.rstrip(ELLIPSIS)
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on the cut: widths grow with the prefix
        mid = (lo + hi + 1) // 2
        if fonts.width_uncached(text[:mid].rstrip() + ELLIPSIS, bold) <= limit:
            lo = mid
        else:
            hi = mid - 1
    if lo:
        return text[:lo].rstrip() + ELLIPSIS
    return ELLIPSIS if fonts.width(ELLIPSIS, bold) <= limit else ""


@lru_cache(maxsize=1024)
def wrap(text: str, bold: bool, size: float, max_w: float) -> tuple[str, ...]:
    """Greedy word wrap on spaces; a word longer than the line stays whole (``fit`` cuts it).
    Cached: the CN22 certification is wrapped twice per label, the same way every time."""
    limit = max_w / (size * PT)
    out: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and fonts.width_uncached(trial, bold) > limit:
            out.append(current)
            current = word
        else:
            current = trial
    if current:
        out.append(current)
    return tuple(out) or (text,)
