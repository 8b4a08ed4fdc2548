"""Timeline entries. Built unsaved so callers that handle many orders write them in one
``bulk_create``."""

from django.utils import timezone

from erp.models import User
from orders.models import Order, OrderEvent


def make_event(
    order: Order,
    kind: str,
    *,
    user: User | None = None,
    from_status: str = "",
    to_status: str = "",
    message: str = "",
    data: dict | None = None,
    at=None,
) -> OrderEvent:
    return OrderEvent(
        order=order,
        at=at or timezone.now(),
        user=user if user is not None and user.is_authenticated else None,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        message=str(message),
        data=data or {},
    )


def status_event(
    order: Order, old_status: str, *, user: User | None, message: str = "", at=None
) -> OrderEvent:
    return make_event(
        order,
        OrderEvent.Kind.STATUS,
        user=user,
        from_status=old_status,
        to_status=order.status,
        message=message,
        at=at,
    )
