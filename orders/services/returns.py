"""Returns: goods of a shipped order that came back, each unit put away on the spot.

Only shipped orders take returns: before that the goods have not left (cancel the order or
void its label instead). An order the platform cancelled after it shipped stays shipped with
an exception (``upsert``), so it takes returns like any shipped order. An order that arrived
already shipped, or shipped outside Caravan, takes them too: the units are physically here,
whichever warehouse sent them.

Each unit goes back through ``warehouse.services.stock_receive`` (kind ``return``), into a
storage bin (``restock``: available again, which tells the out-of-stock orders waiting for it)
or a quarantine bin (``damaged``: on hand, never reserved). Returned units come back at the
SKU's current moving-average cost, so a return leaves the average as it is; the ledger moves
carry the order's reference (``order:<id>``), next to the shipment's.

A bundle comes back as its parts (as it was reserved and shipped). No line ever takes back
more than it shipped: per order line and part, units shipped (``line.units`` × the part's
quantity) minus units returned before, counted under the order's row lock so two returns of
one order cannot both pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from erp.permissions import require_warehouse_scope
from orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderReturn,
    OrderReturnLine,
    OrderStatus,
    ReturnDisposition,
    ReturnReason,
)
from orders.services.events import make_event
from warehouse.models import BundleItem, Location, Sku, StockMove
from warehouse.services import StockError, stock_receive
from warehouse.services.stock import bundle_parts

# The states whose goods have left the warehouse.
RETURNABLE_STATES = (OrderStatus.SHIPPED,)
# Where each disposition may put units: restocked units must be sellable, damaged ones not.
BIN_KINDS = {
    ReturnDisposition.RESTOCK: Location.Kind.STORAGE,
    ReturnDisposition.DAMAGED: Location.Kind.QUARANTINE,
}


class ReturnError(ServiceError):
    code = "return_invalid"


@dataclass(frozen=True)
class ReturnRequest:
    """Units of one order line that came back, in units of the line's SKU (whole bundles for
    a bundle), and where they go."""

    order_line: OrderLine
    quantity: int
    disposition: str
    location: Location


def returned_units(order: Order) -> dict[tuple[int, int], int]:
    """Units already returned per (order line id, SKU id) of ``order``."""
    rows = (
        OrderReturnLine.objects.filter(order_return__order=order)
        .values("order_line_id", "sku_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    return {(row["order_line_id"], row["sku_id"]): row["total"] for row in rows}


def _parts_of(line: OrderLine, parts: dict[int, list[BundleItem]]) -> list[tuple[Sku, int]]:
    """(stocked SKU, units per unit of the line's SKU): the SKU itself, or a bundle's parts."""
    if line.sku.is_bundle:
        return [(item.component, item.quantity) for item in parts.get(line.sku_id, [])]
    return [(line.sku, 1)]


def returnable_units(order: Order, lines: Sequence[OrderLine] | None = None) -> dict[int, int]:
    """How many more units of its SKU each line of ``order`` can take back ({line id: units});
    0 for unpaired lines and orders that have not shipped. For a bundle, whole bundles whose
    every part is still returnable."""
    if lines is None:
        lines = list(order.lines.select_related("sku"))
    if order.status not in RETURNABLE_STATES:
        return {line.pk: 0 for line in lines}
    parts = bundle_parts({line.sku_id for line in lines if line.sku and line.sku.is_bundle})
    returned = returned_units(order)
    out: dict[int, int] = {}
    for line in lines:
        pieces = _parts_of(line, parts) if line.sku else []
        out[line.pk] = min(
            (
                (line.units * per - returned.get((line.pk, part.pk), 0)) // per
                for part, per in pieces
            ),
            default=0,
        )
    return out


def _check_request(request: ReturnRequest, lines: dict[int, OrderLine]) -> str:
    """Why this request cannot be done ("" when it can)."""
    line = lines.get(request.order_line.pk)
    if line is None:
        return _("Line %(line)s is not in this order.") % {"line": request.order_line.platform_sku}
    if line.sku is None:
        return _("Line %(line)s is not paired to one of our SKUs.") % {"line": line.platform_sku}
    quantity = request.quantity
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        return _("Return a whole number of units, more than zero, of %(sku)s.") % {
            "sku": line.sku.code
        }
    if request.disposition not in BIN_KINDS:
        return _("Unknown disposition %(value)s.") % {"value": request.disposition}
    location = request.location
    wanted_kind = BIN_KINDS[ReturnDisposition(request.disposition)]
    if not location.is_active or location.kind != wanted_kind:
        if request.disposition == ReturnDisposition.RESTOCK:
            return _("Bin %(bin)s is not an active storage bin: restocked units go to one.") % {
                "bin": location.code
            }
        return _("Bin %(bin)s is not an active quarantine bin: damaged units go to one.") % {
            "bin": location.code
        }
    return ""


def _where(location: Location) -> str:
    return f"{location.warehouse.code}/{location.code}"


def _describe(request: ReturnRequest, parts: list[tuple[Sku, int]]) -> str:
    what = f"{request.quantity} × {request.order_line.sku.code}"
    if request.order_line.sku.is_bundle:
        inside = ", ".join(f"{request.quantity * per} × {sku.code}" for sku, per in parts)
        what = f"{what} ({inside})"
    if request.disposition == ReturnDisposition.DAMAGED:
        return _("%(what)s damaged → %(bin)s") % {"what": what, "bin": _where(request.location)}
    return _("%(what)s to %(bin)s") % {"what": what, "bin": _where(request.location)}


@transaction.atomic
def order_return_create(
    *,
    order: Order,
    lines: Iterable[ReturnRequest | tuple[OrderLine, int, str, Location]],
    reason: str,
    note: str = "",
    user: User | None = None,
) -> OrderReturn:
    """Record goods of ``order`` that came back and put each unit away.

    ``lines``: (order line, quantity in units of the line's SKU, ``restock`` | ``damaged``,
    bin); a line may appear twice (some units fine, some damaged). Restocked units go to an
    active storage bin, damaged ones to an active quarantine bin. Raises ``ReturnError`` naming
    every line that cannot be done, with nothing written; ``OutOfScope`` when a bin is in a
    warehouse outside ``user``'s scope.
    """
    order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    if order.status not in RETURNABLE_STATES:
        raise ReturnError(
            _("Only shipped orders take returns; this order is %(status)s.")
            % {"status": OrderStatus(order.status).label.lower()}
        )
    if reason not in ReturnReason.values:
        raise ReturnError(_("Unknown return reason %(reason)s.") % {"reason": reason})
    requests = [r if isinstance(r, ReturnRequest) else ReturnRequest(*r) for r in lines]
    if not requests:
        raise ReturnError(_("Say which units came back."))
    order_lines = {line.pk: line for line in order.lines.select_related("sku")}
    problems = [p for p in (_check_request(r, order_lines) for r in requests) if p]
    if problems:
        raise ReturnError(" ".join(problems))
    requests = [
        ReturnRequest(order_lines[r.order_line.pk], r.quantity, r.disposition, r.location)
        for r in requests
    ]
    if user is not None:
        require_warehouse_scope(user, {r.location.warehouse_id for r in requests})

    parts = bundle_parts({r.order_line.sku_id for r in requests if r.order_line.sku.is_bundle})
    # (line id, stocked SKU id, disposition, bin id) -> units; first-seen order
    rows: dict[tuple[int, int, str, int], int] = defaultdict(int)
    wanted: dict[tuple[int, int], int] = defaultdict(int)
    skus: dict[int, Sku] = {}
    bins: dict[int, Location] = {}
    for request in requests:
        line = request.order_line
        pieces = _parts_of(line, parts)
        if not pieces:
            problems.append(_("Bundle %(sku)s has no parts.") % {"sku": line.sku.code})
        for sku, per in pieces:
            units = request.quantity * per
            rows[(line.pk, sku.pk, request.disposition, request.location.pk)] += units
            wanted[(line.pk, sku.pk)] += units
            skus[sku.pk] = sku
        bins[request.location.pk] = request.location
    returned = returned_units(order)
    for (line_id, sku_id), units in wanted.items():
        line = order_lines[line_id]
        per = next(p for s, p in _parts_of(line, parts) if s.pk == sku_id)
        shipped, before = line.units * per, returned.get((line_id, sku_id), 0)
        if before + units > shipped:
            sku = skus[sku_id].code
            if line.sku.is_bundle:
                sku = _("%(part)s (in %(bundle)s)") % {"part": sku, "bundle": line.sku.code}
            problems.append(
                _(
                    "Cannot return %(units)d × %(sku)s of line %(line)s: %(shipped)d shipped, "
                    "%(returned)d already returned."
                )
                % {
                    "units": units,
                    "sku": sku,
                    "line": line.platform_sku,
                    "shipped": shipped,
                    "returned": before,
                }
            )
    if problems:
        raise ReturnError(" ".join(problems))

    sequence = OrderReturn.objects.filter(order=order).count() + 1
    now = timezone.now()
    order_return = OrderReturn.objects.create(
        order=order,
        number=f"{order.external_id}-R{sequence}",
        reason=reason,
        note=note.strip()[:300],
        created_by=user if user is not None and user.is_authenticated else None,
        received_at=now,
    )
    # SKU rows first, in pk order (the lock order of every stock service), then one receipt
    # per row at the SKU's average cost read under that lock.
    locked = {s.pk: s for s in Sku.objects.select_for_update().filter(pk__in=skus).order_by("pk")}
    return_lines = []
    for (line_id, sku_id, disposition, bin_id), units in sorted(
        rows.items(), key=lambda item: (item[0][1], item[0][3], item[0][0])
    ):
        try:
            move = stock_receive(
                sku=locked[sku_id],
                location=bins[bin_id],
                quantity=units,
                unit_cost=locked[sku_id].avg_cost,
                reference=order.reference,
                note=_("Return %(number)s") % {"number": order_return.number},
                user=user if user is not None and user.is_authenticated else None,
                kind=StockMove.Kind.RETURN,
            )
        except StockError as exc:
            raise ReturnError(str(exc)) from exc
        return_lines.append(
            OrderReturnLine(
                order_return=order_return,
                order_line_id=line_id,
                sku_id=sku_id,
                quantity=units,
                disposition=disposition,
                location_id=bin_id,
                stock_move=move,
            )
        )
    OrderReturnLine.objects.bulk_create(return_lines)

    described = "; ".join(_describe(r, _parts_of(r.order_line, parts)) for r in requests)
    message = _("Returned %(lines)s (%(number)s, %(reason)s).") % {
        "lines": described,
        "number": order_return.number,
        "reason": ReturnReason(reason).label.lower(),
    }
    if order_return.note:
        message = f"{message} {order_return.note}"
    units = defaultdict(int)
    for (_line, _sku, disposition, _bin), count in rows.items():
        units[disposition] += count
    make_event(
        order,
        OrderEvent.Kind.RETURN,
        user=user,
        message=message,
        data={"return": order_return.pk, "number": order_return.number, "units": dict(units)},
        at=now,
    ).save()
    return order_return
