"""Errors of the label engine.

``LabelError`` lives in ``erp.pdf`` (the fonts and barcodes there raise it too).
``LayoutError`` is also a ``ValueError`` so a form or serializer that validates a seller's
layout can catch it the way it catches any bad value.
"""

from __future__ import annotations

from erp.pdf.errors import LabelError


class LayoutError(LabelError, ValueError):
    """A seller's layout override is malformed; the message names the block and the field."""
