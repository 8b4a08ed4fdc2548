"""Signals the warehouse app sends upwards, so higher apps react without warehouse importing
them (DESIGN.md: dependencies point one way)."""

from django.dispatch import Signal

# Sent after the commit that made units of these SKUs available (receipt, positive
# adjustment, bin move, release). ``sku_ids``: a set of Sku pks. Orders retries its
# out-of-stock orders on it.
stock_available = Signal()
