"""Every write of the purchasing app, one module per concern; import from here."""

from purchasing.services.cancelling import po_cancel_on_1688
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
from purchasing.services.platform import (
    account_client,
    delivery_address,
    po_place_on_1688,
    po_sync,
    supplier_product_fill,
    sync_open_orders,
)
from purchasing.services.receiving import ReceiveLine, landed_unit_costs, po_receive
from purchasing.services.restock import (
    RestockDrafts,
    RestockError,
    Suggestion,
    restock_create_drafts,
    restock_suggestions,
)

__all__ = [
    "DraftLine",
    "PurchaseError",
    "ReceiveLine",
    "RestockDrafts",
    "RestockError",
    "SupplierBalance",
    "Suggestion",
    "account_client",
    "delivery_address",
    "landed_unit_costs",
    "payables",
    "po_amount",
    "po_cancel",
    "po_cancel_on_1688",
    "po_close",
    "po_create",
    "po_mark_paid",
    "po_mark_shipped",
    "po_place_offline",
    "po_place_on_1688",
    "po_receive",
    "po_set_lines",
    "po_sync",
    "po_totals",
    "restock_create_drafts",
    "restock_suggestions",
    "supplier_payment_record",
    "supplier_product_fill",
    "sync_open_orders",
]
