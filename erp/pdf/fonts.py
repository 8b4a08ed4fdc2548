"""Fonts for labels: one font per text run, chosen by script, registered once per process.

A label shows an address in whatever script the buyer typed it. No single free font covers
Latin, Cyrillic, Arabic, Thai and CJK, so each string is cut into runs that each use the first
font of the chain that has the glyphs:

- DejaVu Sans (Debian ``fonts-dejavu-core``): Latin, Greek, Cyrillic, Arabic, Hebrew;
- Loma (``fonts-tlwg-loma-ttf``): Thai. The ``-otf`` package is CFF, which ReportLab cannot
  embed, hence the TrueType one;
- WenQuanYi Zen Hei (``fonts-wqy-zenhei``): Chinese, Japanese kana, Korean.

Arabic and Hebrew are shaped (``arabic-reshaper``: contextual forms and lam-alef ligatures)
and reordered (``python-bidi``) before drawing, because ReportLab draws code points left to
right as they come. ReportLab's own shaping needs ``uharfbuzz`` plus ``rlbidi``, and the latter
is not on PyPI. Presentation forms keep the text extractable: ``pdftotext`` gives them back,
and NFKC folds them to the plain letters.

Measuring is what the renderer does most, so widths are cached per (text, bold) with a bounded
LRU: the sender block, headings and channel names repeat on every label of a batch.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .errors import LabelError

logger = logging.getLogger(__name__)

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
THAI_DIR = Path("/usr/share/fonts/truetype/tlwg")
CJK_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# (ReportLab name, file, subfont index, Debian package): regular and bold of each family.
_FONT_FILES = {
    "DejaVuSans": (DEJAVU_DIR / "DejaVuSans.ttf", 0, "fonts-dejavu-core"),
    "DejaVuSans-Bold": (DEJAVU_DIR / "DejaVuSans-Bold.ttf", 0, "fonts-dejavu-core"),
    "Loma": (THAI_DIR / "Loma.ttf", 0, "fonts-tlwg-loma-ttf"),
    "Loma-Bold": (THAI_DIR / "Loma-Bold.ttf", 0, "fonts-tlwg-loma-ttf"),
    "WQYZenHei": (CJK_FILE, 0, "fonts-wqy-zenhei"),
}
# The fallback chain, regular and bold. Zen Hei has no bold; the regular face stands in.
CHAIN = {
    False: ("DejaVuSans", "Loma", "WQYZenHei"),
    True: ("DejaVuSans-Bold", "Loma-Bold", "WQYZenHei"),
}
BASE_FONT = CHAIN[False][0]

_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_FORMAT = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_lock = threading.Lock()
_cmaps: dict[str, frozenset[int] | dict] = {}
_ready = False


class Run(NamedTuple):
    font: str
    text: str
    width: float  # points at a font size of 1 pt


class Shaped(NamedTuple):
    """A string as drawn: visual order, cut into font runs."""

    runs: tuple[Run, ...]
    width: float  # points at 1 pt
    rtl: bool  # the paragraph direction is right to left


def ensure_fonts() -> None:
    """Register the label fonts with ReportLab, once per process (cheap after the first call).

    DejaVu Sans is required; a missing Thai or CJK font is logged and left out of the chain,
    so those scripts come out as empty boxes instead of the whole batch failing.
    """
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        for name, (path, index, package) in _FONT_FILES.items():
            if not path.exists():
                if name.startswith("DejaVu"):
                    raise LabelError(f"font {path} is missing: apt-get install {package}")
                logger.warning("label font %s is missing (apt-get install %s)", path, package)
                continue
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
            _cmaps[name] = pdfmetrics.getFont(name).face.charToGlyph
        _ready = True


def _has(font: str, char: str) -> bool:
    cmap = _cmaps.get(font)
    return cmap is not None and ord(char) in cmap


@lru_cache(maxsize=8192)
def _chain_font(char: str, bold: bool) -> str:
    """The first font of the chain that has a glyph for ``char`` (the base font if none)."""
    for font in CHAIN[bold]:
        if _has(font, char):
            return font
    return CHAIN[bold][0]


def _sticky(char: str) -> bool:
    """Spaces, digits, punctuation and combining marks stay in the current run's font: a
    CJK address's postcode should not switch fonts, a Thai vowel mark must not."""
    return unicodedata.category(char)[0] in "ZPNMS"


def display_text(text: str) -> tuple[str, bool]:
    """``text`` in drawing order, shaped if it holds Arabic or Hebrew; and whether it is RTL.

    Control characters (a tab or newline pasted into an address) become spaces and invisible
    format characters (zero-width spaces, bidi marks) are dropped: no font draws them, and a
    missing glyph prints as a box.
    """
    text = _CONTROL.sub(" ", text)
    if not text.isascii():
        text = _FORMAT.sub("", text)
    if not _RTL.search(text):
        return text, False
    import arabic_reshaper
    from bidi import get_display

    return _FORMAT.sub("", get_display(arabic_reshaper.reshape(text))), _is_rtl(text)


def _is_rtl(text: str) -> bool:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def _split(display: str, bold: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    font = ""
    start = 0
    for i, char in enumerate(display):
        if font and _sticky(char) and _has(font, char):
            continue
        wanted = _chain_font(char, bold)
        if wanted != font:
            if font:
                out.append((font, display[start:i]))
            font, start = wanted, i
    if font:
        out.append((font, display[start:]))
    return out


def _shape(text: str, bold: bool) -> Shaped:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    ensure_fonts()
    display, rtl = display_text(text)
    if display.isascii():  # the common case: one run in DejaVu Sans
        font = CHAIN[bold][0]
        width = stringWidth(display, font, 1.0)
        return Shaped((Run(font, display, width),), width, False)
    runs = tuple(Run(f, t, stringWidth(t, f, 1.0)) for f, t in _split(display, bold))
    return Shaped(runs, sum(r.width for r in runs), rtl)


shape = lru_cache(maxsize=4096)(_shape)
shape.__doc__ = "Cached ``_shape``: the runs of ``text`` and its width in points at 1 pt."


def width(text: str, bold: bool = False) -> float:
    """Width of ``text`` in points at a font size of 1 pt (cached)."""
    return shape(text, bold).width


def width_uncached(text: str, bold: bool = False) -> float:
    """For the trial strings of truncation, which would only flush the cache."""
    return _shape(text, bold).width
