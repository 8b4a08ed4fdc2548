"""Every write of the orders app, one module per concern; import from here."""

from orders.services.allocation import (
    BulkResult,
    orders_allocate,
    orders_allocated,
    release_order_stock,
    retry_out_of_stock,
)
from orders.services.fulfilment import (
    order_confirm_on_platform,
    order_ship_one,
    orders_mark_labelled,
    orders_ship,
    orders_short_picked,
    orders_unlabel,
)
from orders.services.returns import (
    ReturnError,
    ReturnRequest,
    order_return_create,
    returnable_units,
)
from orders.services.stores import (
    REQUIRED_CREDENTIAL_KEYS,
    StoreError,
    store_create,
    store_update,
)
from orders.services.upsert import UpsertResult, orders_upsert
from orders.services.workflow import (
    OrderError,
    order_edit_address,
    order_split,
    orders_approve,
    orders_cancel,
    orders_cancelled,
    orders_deallocate,
    orders_hold,
    orders_merge,
    orders_release_hold,
    pair_platform_sku,
)

__all__ = [
    "REQUIRED_CREDENTIAL_KEYS",
    "BulkResult",
    "OrderError",
    "ReturnError",
    "ReturnRequest",
    "StoreError",
    "UpsertResult",
    "order_confirm_on_platform",
    "order_edit_address",
    "order_return_create",
    "order_ship_one",
    "order_split",
    "orders_allocate",
    "orders_allocated",
    "orders_approve",
    "orders_cancel",
    "orders_cancelled",
    "orders_deallocate",
    "orders_hold",
    "orders_mark_labelled",
    "orders_merge",
    "orders_release_hold",
    "orders_ship",
    "orders_short_picked",
    "orders_unlabel",
    "orders_upsert",
    "pair_platform_sku",
    "release_order_stock",
    "retry_out_of_stock",
    "returnable_units",
    "store_create",
    "store_update",
]
