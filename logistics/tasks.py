"""Celery tasks of logistics: thin wrappers over the services.

Beat runs the platform confirmations every minute (each shipment carries its own next try, so
the backoff lives in the data, not in Celery's retry state) and tracking every few hours.
"""

from celery import shared_task

from logistics.services.handover import confirm_due, track_shipments


@shared_task(acks_late=True, name="logistics.confirm_due_shipments")
def confirm_due_shipments() -> dict:
    return confirm_due()


@shared_task(acks_late=True, name="logistics.track_shipments")
def track_shipments_task() -> dict:
    return track_shipments()


@shared_task(acks_late=True, name="logistics.buy_waybill")
def buy_waybill_task(shipment_id: int, user_id: int | None = None) -> str:
    """Buy one waybill (for ``user_id``, who the order's timeline names); a carrier refusal is
    stored on the shipment for the page to show."""
    from erp.models import User
    from logistics.services.shipments import ShipmentError, shipment_buy_waybill

    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    try:
        return shipment_buy_waybill(shipment_id, user=user).status
    except ShipmentError as exc:
        return str(exc)


@shared_task(acks_late=True, name="logistics.render_label_batch")
def render_label_batch_task(batch_id: int) -> str:
    from logistics.services.labels import render_batch

    return render_batch(batch_id).status
