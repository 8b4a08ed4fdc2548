"""The orders app's pages, one module per area; ``orders/urls.py`` routes to these names."""

from orders.views.order_list import order_bulk, order_list, order_tab_counts
from orders.views.order_page import order_address, order_detail, order_split
from orders.views.pairing import mapping_delete, mapping_list, pairing, pairing_sku_options
from orders.views.returns import order_return, return_list
from orders.views.rules import (
    blocklist,
    blocklist_remove,
    rule_create,
    rule_edit,
    rule_list,
    rule_toggle,
)
from orders.views.stores import store_create, store_edit, store_list, store_sync

__all__ = [
    "blocklist",
    "blocklist_remove",
    "mapping_delete",
    "mapping_list",
    "order_address",
    "order_bulk",
    "order_detail",
    "order_list",
    "order_return",
    "order_split",
    "order_tab_counts",
    "pairing",
    "pairing_sku_options",
    "return_list",
    "rule_create",
    "rule_edit",
    "rule_list",
    "rule_toggle",
    "store_create",
    "store_edit",
    "store_list",
    "store_sync",
]
