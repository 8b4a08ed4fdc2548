"""Concatenate label PDFs: carrier-provided ones and ours, in one print job."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import BinaryIO

from .errors import LabelError


def merge_pdfs(parts: Iterable[bytes], out: BinaryIO) -> int:
    """Write the pages of ``parts``, in the given order, into ``out``; return the page count.

    A carrier's label download can come back as an HTML error page or a truncated file; that
    part raises ``LabelError`` naming its index (0-based) rather than silently dropping a
    parcel's label from the batch.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    writer = PdfWriter()
    pages = 0
    for index, part in enumerate(parts):
        if not isinstance(part, bytes | bytearray) or not part.lstrip()[:5] == b"%PDF-":
            raise LabelError(f"part {index} is not a PDF")
        try:
            reader = PdfReader(io.BytesIO(part))
            count = len(reader.pages)
            for page in reader.pages:
                writer.add_page(page)
        except (PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise LabelError(f"part {index} is not a valid PDF: {exc}") from exc
        if not count:
            raise LabelError(f"part {index} has no pages")
        pages += count
    writer.write(out)
    return pages
