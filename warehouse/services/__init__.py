"""Every write of the warehouse app: ``stock`` (the ledger and its balances) and ``catalog``
(SKUs and bundles). Callers import from here."""

from warehouse.services.batch import ReserveOutcome, ReserveRequest, stock_reserve_many
from warehouse.services.catalog import BundlePart, SkuError, sku_create, sku_update
from warehouse.services.stock import (
    COST_QUANTUM,
    InsufficientStock,
    ReservationResult,
    Shortage,
    StockError,
    StockLine,
    expand_bundles,
    stock_adjust,
    stock_consume,
    stock_move,
    stock_receive,
    stock_release,
    stock_reserve,
)

__all__ = [
    "COST_QUANTUM",
    "BundlePart",
    "InsufficientStock",
    "ReserveOutcome",
    "ReserveRequest",
    "ReservationResult",
    "Shortage",
    "SkuError",
    "StockError",
    "StockLine",
    "expand_bundles",
    "sku_create",
    "sku_update",
    "stock_adjust",
    "stock_consume",
    "stock_move",
    "stock_receive",
    "stock_release",
    "stock_reserve",
    "stock_reserve_many",
]
