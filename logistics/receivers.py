"""What logistics does when lower apps report something (connected in
``LogisticsConfig.ready``): allocated orders get their shipping channel from the channel
rules."""

import logging

from celery import shared_task
from django.dispatch import receiver

from orders.services import orders_allocated, orders_cancelled

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="logistics.assign_channels")
def assign_channels_task(order_ids: list[int]) -> dict:
    """Choose the channels of these orders by the channel rules (a person's choice stays);
    returns ``AssignResult.as_dict()``. A task, so allocation does not wait for it."""
    from logistics.services import orders_assign_channels

    return orders_assign_channels(order_ids=order_ids).as_dict()


@receiver(orders_allocated, dispatch_uid="logistics.assign_channels")
def on_orders_allocated(sender, order_ids, **kwargs) -> None:
    # Sent after allocation committed: a failure here must not look like a failed allocation
    # (in the embedded mode the task runs inline), so it is logged; the orders stay without a
    # channel until the rules run again or a person picks one.
    try:
        assign_channels_task.delay(sorted(order_ids))
    except Exception:
        logger.exception("Choosing channels for allocated orders %s failed", order_ids[:20])


@receiver(orders_cancelled, dispatch_uid="logistics.void_cancelled")
def on_orders_cancelled(sender, order_ids, **kwargs) -> None:
    """Cancelled orders lose their labels (the carrier waybill is cancelled where there is
    one); a carrier that refuses leaves the shipment live and says why on it."""
    from logistics.services.shipments import void_for_cancelled_orders

    result = void_for_cancelled_orders(order_ids)
    for pk, reason in result.failed.items():
        logger.warning("Label of cancelled order's shipment %s not voided: %s", pk, reason)
