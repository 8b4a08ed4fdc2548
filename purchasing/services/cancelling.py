"""Cancelling a purchase order placed on 1688, on 1688 itself (``alibaba.trade.cancel``).

Split from ``purchasing.services.platform`` (clients, placing, syncing), whose rules it follows:
no transaction around a call to 1688, and 1688's words shown to the person.

Cancelling (``po_cancel_on_1688``; ``orders.po_cancel`` sends every PO with a 1688 order id here)
    - An ordered or paid PO; 1688 itself cancels only ``waitbuyerpay`` orders and is always
      asked (it decides), with a ``CancelReason`` code and the person's remark.
    - Cancelled on 1688 → the PO is cancelled, ``platform_status`` = ``cancel``, and a line in
      its notes says when, who, why and the remark (goods received meanwhile: as the sync).
    - Refused → nothing changes; the ``PurchaseError`` carries 1688's words and, for a paid
      order (1688's status read back, or the last sync), says to ask for a refund on 1688:
      a paid 1688 order is refunded, never cancelled. Refused because 1688 already closed the
      order → cancelled here, as the sync would.
    - No answer → the client reads the order back: closed is cancelled, open is "not
      cancelled", unreadable is "unknown: sync to see". Nothing is written before 1688 says
      the order is closed.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.models import User
from purchasing.alibaba1688 import (
    Alibaba1688AuthError,
    Alibaba1688Error,
    CancelledOrder,
    CancelReason,
    Client,
)
from purchasing.models import PurchaseOrder, PurchaseOrderStatus
from purchasing.services.orders import PurchaseError
from purchasing.services.platform import (
    CANCEL_REASON_CHOICES,
    CANCELLABLE_ON_1688,
    CANCELLED_STATES,
    REFUND_ONLY_STATES,
    _refusal,
    _Using,
    apply_cancelled,
)

logger = logging.getLogger(__name__)


def _read_status(api: Client, order_id: str) -> str:
    """1688's status of the order now, or "" when it cannot be read (best effort)."""
    try:
        return api.order_detail(order_id).status
    except Alibaba1688Error:
        return ""


def _cancel_error(po: PurchaseOrder, exc: Alibaba1688Error, status: str) -> PurchaseError:
    """Why ``po`` was not cancelled, in 1688's words, with what a person can do next."""
    words = {"number": po.number, "id": po.platform_order_id, "reason": _refusal(exc)}
    if exc.maybe_processed:
        message = _(
            "1688 did not say whether it cancelled %(number)s (order %(id)s): %(reason)s "
            "Sync with 1688 to see whether it is cancelled."
        )
    elif exc.retryable:
        message = _("%(number)s was not cancelled on 1688 (order %(id)s): %(reason)s")
    else:
        message = _("1688 refused to cancel %(number)s (order %(id)s): %(reason)s")
    message %= words
    status = status or po.platform_status
    if status.lower() in REFUND_ONLY_STATES:
        message += " " + _(
            "1688 shows the order as %(status)s: a paid 1688 order is not cancelled but "
            "refunded. Ask the supplier for a refund on 1688; the sync follows it."
        ) % {"status": status}
    return PurchaseError(message)


def _cancel_note(
    cancelled: CancelledOrder, reason: str, remark: str, user: User | None, already: bool
) -> str:
    words = {
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "id": cancelled.order_id,
        "user": user if user is not None and user.is_authenticated else "—",
        "reason": f"{dict(CANCEL_REASON_CHOICES).get(reason, reason)} ({reason})",
    }
    if already:
        note = _("%(when)s: 1688 order %(id)s was already closed on 1688 (%(user)s).") % words
    else:
        note = _("%(when)s: cancelled on 1688 (order %(id)s) by %(user)s: %(reason)s.") % words
    return f"{note} {remark}" if remark else note


def po_cancel_on_1688(
    *,
    po: PurchaseOrder,
    reason: str = CancelReason.BUYER_CANCEL,
    remark: str = "",
    user: User | None = None,
    client: Client | None = None,
) -> PurchaseOrder:
    """Cancel the 1688 order of an ordered or paid ``po`` on 1688, then the PO (see the
    module docstring). 1688 cancels only unpaid orders; its refusal leaves the PO as it was
    and is raised in its words, with the refund hint for a paid order."""
    po = PurchaseOrder.objects.select_related("supplier__account").get(pk=po.pk)
    if not po.platform_order_id:
        raise PurchaseError(
            _("%(number)s was not placed on 1688: there is nothing to cancel there.")
            % {"number": po.number}
        )
    if po.status not in CANCELLABLE_ON_1688:
        raise PurchaseError(
            _("%(number)s is %(status)s: it can no longer be cancelled.")
            % {"number": po.number, "status": PurchaseOrderStatus(po.status).label.lower()}
        )
    if reason not in set(CancelReason):
        raise PurchaseError(
            _("Choose why the order is cancelled: %(choices)s.")
            % {"choices": ", ".join(str(label) for _code, label in CANCEL_REASON_CHOICES)}
        )
    remark = (remark or "").strip()
    already = False
    with _Using(client, po.supplier.account) as api:
        try:
            cancelled = api.cancel_order(po.platform_order_id, reason, remark)
        except Alibaba1688Error as exc:
            # A plain refusal: read the order back, to tell "already closed" (done) and "paid"
            # (ask for a refund) from the rest. After a timeout the client has looked already.
            plain = not (exc.retryable or isinstance(exc, Alibaba1688AuthError))
            status = _read_status(api, po.platform_order_id) if plain else ""
            if status.lower() not in CANCELLED_STATES:
                raise _cancel_error(po, exc, status) from exc
            cancelled = CancelledOrder(po.platform_order_id, status, recovered=True)
            already = True
    with transaction.atomic():
        locked = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
        now = timezone.now()
        locked.platform_status = cancelled.status[:40]
        locked.platform_synced_at = now
        locked.platform_error = ""
        fields = ["platform_status", "platform_synced_at", "platform_error", "notes"]
        fields.extend(f for f in apply_cancelled(locked, now) if f not in fields)
        note = _cancel_note(cancelled, reason, remark, user, already)
        locked.notes = f"{locked.notes.rstrip()}\n{note}" if locked.notes.strip() else note
        locked.save(update_fields=fields)
    logger.info("%s cancelled on 1688 (order %s, %s)", locked.number, cancelled.order_id, reason)
    return locked
