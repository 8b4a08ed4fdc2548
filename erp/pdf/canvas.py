"""ReportLab canvas helpers shared by the label renderers: page compression as pages finish,
saving without the ASCII85 layer, and drawing shaped text runs and Code 128 bars."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from . import fonts

MM = 72 / 25.4  # points per mm


def compress_last_page(canvas) -> None:
    """Deflate the page just finished now instead of at ``save``.

    ReportLab keeps every page's content stream as text until it writes the file, about 10 KB
    per label; compressed it is about 2 KB, so a batch of thousands stays small. This reaches
    into ReportLab 5.1's page objects (``requirements.txt`` pins it); if they ever look
    different, the page is left as it was and ReportLab compresses it at ``save`` as usual.
    """
    from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFStream

    pages = getattr(getattr(canvas._doc, "Pages", None), "pages", None)
    page = pages[-1] if pages else None
    stream = getattr(page, "stream", None)
    if not isinstance(stream, str) or getattr(page, "Contents", None) is not None:
        return
    dictionary = PDFDictionary()
    dictionary["Filter"] = PDFName("FlateDecode")
    page.Contents = PDFStream(dictionary, zlib.compress(stream.encode("utf8")))
    page.stream = None


def save(canvas) -> None:
    """Save without the ASCII85 layer ReportLab puts over compressed streams by default: it
    makes the file a quarter bigger and, in pure Python, costs as much as the compression.
    ``useA85`` is read while the document is written, so it is switched off only for that."""
    from reportlab import rl_config

    previous, rl_config.useA85 = rl_config.useA85, 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = previous


def draw_text(canvas, x: float, baseline: float, text: str, size: float, bold: bool) -> None:
    """One line at (``x``, ``baseline``) in points from the page's bottom left, each run in
    the font of its script (``fonts.shape``)."""
    shaped = fonts.shape(text, bold)
    for run in shaped.runs:
        canvas.setFont(run.font, size)
        canvas.drawString(x, baseline, run.text)
        x += run.width * size


def draw_bars(
    canvas, x: float, y: float, module: float, height: float, modules: Sequence[int]
) -> None:
    """Code 128 bars (``barcode.code128_modules``) from (``x``, ``y``), the bottom left of the
    first bar in points, ``module`` points wide each, filled as one path."""
    path = canvas.beginPath()
    for i, m in enumerate(modules):
        if not i % 2:
            path.rect(x, y, m * module, height)
        x += m * module
    canvas.drawPath(path, stroke=0, fill=1)
