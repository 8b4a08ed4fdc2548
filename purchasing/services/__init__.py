"""Every write of the purchasing app, one module per concern; import from here."""

from purchasing.services.orders import (
    DraftLine,
    PurchaseError,
    po_cancel,
    po_close,
    po_create,
    po_mark_paid,
    po_mark_shipped,
    po_place_offline,
    po_set_lines,
    po_totals,
)
from purchasing.services.payables import (
    SupplierBalance,
    payables,
    po_amount,
    supplier_payment_record,
)
from purchasing.services.receiving import ReceiveLine, landed_unit_costs, po_receive

__all__ = [
    "DraftLine",
    "PurchaseError",
    "ReceiveLine",
    "SupplierBalance",
    "landed_unit_costs",
    "payables",
    "po_amount",
    "po_cancel",
    "po_close",
    "po_create",
    "po_mark_paid",
    "po_mark_shipped",
    "po_place_offline",
    "po_receive",
    "po_set_lines",
    "po_totals",
    "supplier_payment_record",
]
