"""PDF drawing pieces every app's labels share: fonts by script (``fonts``), Code 128 as
module widths (``barcode``), fitting text into a box (``text``) and ReportLab canvas helpers
(``canvas``).

Moved here from the shipping-label engine (``logistics.labels``) so the warehouse's SKU and
bin labels use the same fonts and barcodes without importing logistics (DESIGN.md: erp ←
warehouse ← orders ← logistics).
"""

from .errors import LabelError

__all__ = ["LabelError"]
