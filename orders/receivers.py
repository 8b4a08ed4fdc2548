"""What orders does when lower apps report something (connected in ``OrdersConfig.ready``)."""

from celery import shared_task
from django.dispatch import receiver

from warehouse.signals import stock_available


@shared_task(acks_late=True, name="orders.retry_out_of_stock")
def retry_out_of_stock_task(sku_ids: list[int]) -> int:
    """Allocate out-of-stock orders waiting on these SKUs, oldest first; returns how many were
    allocated. A task, so a receipt does not wait for allocation."""
    from orders.services import retry_out_of_stock

    return len(retry_out_of_stock(sku_ids=sku_ids).done)


@receiver(stock_available, dispatch_uid="orders.retry_out_of_stock")
def on_stock_available(sender, sku_ids, **kwargs) -> None:
    retry_out_of_stock_task.delay(sorted(sku_ids))
