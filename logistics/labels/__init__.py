"""Shipping-label engine: PDF (ReportLab) and ZPL from plain ``LabelData``, no Django models.

``render_labels_pdf`` and ``render_labels_zpl`` draw the same declarative layout
(``DEFAULT_LAYOUTS``, adjusted per seller through ``validate_layout``); ``merge_pdfs`` joins
carrier-provided label PDFs with ours into one print job.
"""

from .errors import LabelError, LayoutError
from .layout import DEFAULT_LAYOUTS, KINDS, validate_layout
from .merge import merge_pdfs
from .pdf import render_labels_pdf
from .zpl import render_labels_zpl

__all__ = [
    "DEFAULT_LAYOUTS",
    "KINDS",
    "LabelError",
    "LayoutError",
    "merge_pdfs",
    "render_labels_pdf",
    "render_labels_zpl",
    "validate_layout",
]
