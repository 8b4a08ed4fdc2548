"""Celery tasks of purchasing: thin wrappers over ``purchasing.services.platform``.

Beat runs ``sync_1688_orders`` every 15 minutes (``CELERY_BEAT_SCHEDULE``): every open
purchase order placed on 1688 is read back (status, payment, courier and tracking number). A
failure is stored on its purchase order (``platform_error``) and the next run is the retry.
"""

from celery import shared_task

from purchasing.models import PurchaseOrder
from purchasing.services.orders import PurchaseError
from purchasing.services.platform import po_sync, sync_open_orders


@shared_task(acks_late=True, name="purchasing.sync_1688_orders")
def sync_1688_orders() -> dict:
    return sync_open_orders()


@shared_task(acks_late=True, name="purchasing.sync_1688_order")
def sync_1688_order(po_id: int) -> str:
    """Sync one purchase order; its status, or the error (also stored on it)."""
    po = PurchaseOrder.objects.filter(pk=po_id).first()
    if po is None:
        return "not found"
    try:
        return po_sync(po=po).status
    except PurchaseError as exc:
        return str(exc)
