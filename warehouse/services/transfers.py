"""Transfers between warehouses: draft → shipped → (partially) received, or closed short.

- Shipping takes every line's units out of its source bin (``TRANSFER_OUT`` moves at the SKU's
  average cost, which the line keeps as its unit cost). Only available units go: reserved
  units belong to orders, and one ``InsufficientStock`` names every short line.
- Until received the units are in transit: Σ (shipped − received) over the lines of shipped
  and partially received transfers, counted at the destination (``warehouse.selectors``).
- Receiving (partial receipts allowed) puts units into bins of the destination through
  ``stock_receive`` (``TRANSFER_IN`` moves), at the landed unit cost = unit cost at shipping +
  the line's freight per unit, so the SKU's moving-average cost takes the freight in.
- Closing ends a transfer that will receive no more; shipped − received of each line stays as
  its discrepancy (the units are gone from the books: they left the source at shipping).

Freight is allocated when the transfer ships, by weight (quantity × the SKU's ``weight_g``)
when every SKU of the transfer has a weight, otherwise by quantity: freight is charged by
weight, but one SKU without a weight would get none of it. Each line keeps its freight per
unit (4 decimals), so receipts are priced the same whenever they arrive; units that never
arrive take their share of the freight with them.

Locks, in the order every stock service takes them: the transfer row, then SKU rows by pk,
then stock levels by pk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from warehouse.models import (
    IN_TRANSIT_STATES,
    Location,
    Sku,
    StockLevel,
    StockMove,
    Transfer,
    TransferLine,
    Warehouse,
)
from warehouse.services.stock import (
    COST_QUANTUM,
    InsufficientStock,
    Shortage,
    _ensure_level,
    _lock_levels,
    _lock_skus,
    _write_move,
    stock_receive,
)

MAX_QUANTITY = 1_000_000


class TransferError(ServiceError):
    """A transfer operation that cannot be done as asked; the message is for the user."""

    code = "transfer_invalid"


@dataclass(frozen=True)
class TransferItem:
    """A line to send: ``quantity`` of ``sku`` from ``source_location`` (a source bin)."""

    sku: Sku
    quantity: int
    source_location: Location


@dataclass(frozen=True)
class TransferReceipt:
    """Units of one line that arrived, the destination bin they go to, and what was wrong."""

    line: TransferLine
    quantity: int
    location: Location
    note: str = ""


def _user(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _transfer_number(source: Warehouse) -> str:
    today = timezone.localdate()
    prefix = f"TR{today:%Y%m%d}-{source.code}-"
    count = Transfer.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def _lock(transfer: Transfer, *allowed: str) -> Transfer:
    locked = (
        Transfer.objects.select_related("source", "destination")
        .select_for_update(of=("self",))
        .get(pk=transfer.pk)
    )
    if locked.status not in allowed:
        raise TransferError(
            _("Transfer %(number)s is %(status)s: this cannot be done now.")
            % {"number": locked.number, "status": locked.get_status_display().lower()}
        )
    return locked


def _check_freight(freight_cost) -> Decimal:
    freight = Decimal(freight_cost)
    if freight < 0:
        raise TransferError(_("Freight cost must not be negative."))
    return freight.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _check_items(source: Warehouse, items: Sequence[TransferItem]) -> dict:
    """Validate lines to send; returns {(sku pk, bin pk): [sku, bin, quantity]} (repeated
    lines merged), or raises one error naming every bad line."""
    if not items:
        raise TransferError(_("A transfer needs at least one line."))
    problems = []
    merged: dict[tuple[int, int], list] = {}
    for item in items:
        qty = item.quantity
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0 or qty > MAX_QUANTITY:
            problems.append(
                _("%(sku)s: the quantity must be a whole number from 1 to %(max)d")
                % {"sku": item.sku.code, "max": MAX_QUANTITY}
            )
            continue
        if item.sku.is_bundle:
            problems.append(_("%(sku)s is a bundle: send its parts") % {"sku": item.sku.code})
            continue
        if item.source_location.warehouse_id != source.pk:
            problems.append(
                _("%(sku)s: bin %(bin)s is not in %(warehouse)s")
                % {
                    "sku": item.sku.code,
                    "bin": item.source_location.code,
                    "warehouse": source.code,
                }
            )
            continue
        key = (item.sku.pk, item.source_location.pk)
        merged.setdefault(key, [item.sku, item.source_location, 0])[2] += item.quantity
    if problems:
        raise TransferError("; ".join(problems) + ".")
    return merged


@transaction.atomic
def transfer_create(
    *,
    source: Warehouse,
    destination: Warehouse,
    items: Sequence[TransferItem],
    freight_cost: Decimal = Decimal("0"),
    carrier: str = "",
    tracking: str = "",
    note: str = "",
    user: User | None = None,
) -> Transfer:
    """A draft transfer of ``items`` from bins of ``source`` to ``destination``. Nothing is
    reserved or moved yet: stock is checked when the transfer ships."""
    if source.pk == destination.pk:
        raise TransferError(_("A transfer goes to another warehouse."))
    merged = _check_items(source, items)
    freight = _check_freight(freight_cost)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(
                    number=_transfer_number(source),
                    source=source,
                    destination=destination,
                    freight_cost=freight,
                    carrier=carrier.strip()[:100],
                    tracking=tracking.strip()[:100],
                    note=note.strip(),
                    created_by=_user(user),
                )
            break
        except IntegrityError:
            continue
    else:
        raise TransferError(_("Could not number the transfer; try again."))
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, sku=sku, source_location=location, quantity=qty)
        for sku, location, qty in merged.values()
    )
    return transfer


@transaction.atomic
def transfer_update(
    *,
    transfer: Transfer,
    items: Sequence[TransferItem] | None = None,
    freight_cost: Decimal | None = None,
    carrier: str | None = None,
    tracking: str | None = None,
    note: str | None = None,
) -> Transfer:
    """Change a transfer. Lines and freight only while it is a draft (freight is shared out
    when it ships); carrier, tracking and note until it is received or cancelled."""
    editable = (Transfer.Status.DRAFT, *IN_TRANSIT_STATES)
    locked = _lock(transfer, *editable)
    fields: dict = {}
    if (items is not None or freight_cost is not None) and locked.status != Transfer.Status.DRAFT:
        raise TransferError(
            _("Transfer %(number)s has shipped: its lines and freight are fixed.")
            % {"number": locked.number}
        )
    if items is not None:
        merged = _check_items(locked.source, items)
        TransferLine.objects.filter(transfer=locked).delete()
        TransferLine.objects.bulk_create(
            TransferLine(transfer=locked, sku=sku, source_location=location, quantity=qty)
            for sku, location, qty in merged.values()
        )
    if freight_cost is not None:
        fields["freight_cost"] = _check_freight(freight_cost)
    if carrier is not None:
        fields["carrier"] = carrier.strip()[:100]
    if tracking is not None:
        fields["tracking"] = tracking.strip()[:100]
    if note is not None:
        fields["note"] = note.strip()
    if fields:
        Transfer.objects.filter(pk=locked.pk).update(**fields)
        for name, value in fields.items():
            setattr(transfer, name, value)
    return transfer


def allocate_freight(freight: Decimal, lines: Sequence[TransferLine]) -> dict[int, Decimal]:
    """Freight per unit of each line (line pk → amount, 4 decimals): by weight when every
    line's SKU has one, otherwise by quantity (see the module docstring)."""
    if not freight or not lines:
        return {line.pk: Decimal("0") for line in lines}
    by_weight = all(line.sku.weight_g > 0 for line in lines)
    basis = {line.pk: line.quantity * (line.sku.weight_g if by_weight else 1) for line in lines}
    total = sum(basis.values())
    return {
        line.pk: (freight * basis[line.pk] / total / line.quantity).quantize(
            COST_QUANTUM, rounding=ROUND_HALF_UP
        )
        for line in lines
    }


@transaction.atomic
def transfer_ship(
    *,
    transfer: Transfer,
    user: User | None = None,
    freight_cost: Decimal | None = None,
    carrier: str | None = None,
    tracking: str | None = None,
) -> Transfer:
    """Send a draft: every line leaves its source bin now, or nothing does.

    Only available units (on_hand − reserved) can go; when any line is short, one
    ``InsufficientStock`` names every short line. ``freight_cost`` (and carrier, tracking),
    when given, replace the draft's before the freight is shared out.
    """
    locked = _lock(transfer, Transfer.Status.DRAFT)
    updates: dict = {}
    if freight_cost is not None:
        updates["freight_cost"] = _check_freight(freight_cost)
    if carrier is not None:
        updates["carrier"] = carrier.strip()[:100]
    if tracking is not None:
        updates["tracking"] = tracking.strip()[:100]
    for name, value in updates.items():
        setattr(locked, name, value)
    lines = list(locked.lines.select_related("sku", "source_location").order_by("pk"))
    if not lines:
        raise TransferError(_("Transfer %(number)s has no lines.") % {"number": locked.number})
    skus = _lock_skus(line.sku_id for line in lines)
    levels = {
        (level.sku_id, level.location_id): level
        for level in _lock_levels(
            StockLevel.objects.filter(
                Exists(
                    TransferLine.objects.filter(
                        transfer=locked,
                        sku_id=OuterRef("sku_id"),
                        source_location_id=OuterRef("location_id"),
                    )
                )
            )
        )
    }
    shortages = []
    for line in lines:
        level = levels.get((line.sku_id, line.source_location_id))
        available = level.available if level else 0
        if available < line.quantity:
            shortages.append(
                Shortage(
                    line.sku.code,
                    line.quantity,
                    max(available, 0),
                    f"{locked.source.code}/{line.source_location.code}",
                )
            )
    if shortages:
        raise InsufficientStock(shortages)

    unit_freight = allocate_freight(locked.freight_cost, lines)
    note = _("To %(warehouse)s") % {"warehouse": locked.destination.code}
    for line in lines:
        avg_cost = skus[line.sku_id].avg_cost
        _write_move(
            level=levels[(line.sku_id, line.source_location_id)],
            quantity=-line.quantity,
            kind=StockMove.Kind.TRANSFER_OUT,
            unit_cost=avg_cost,
            reference=locked.number,
            note=note,
            user=_user(user),
        )
        line.shipped_quantity = line.quantity
        line.unit_cost = avg_cost
        line.unit_freight = unit_freight[line.pk]
    TransferLine.objects.bulk_update(lines, ["shipped_quantity", "unit_cost", "unit_freight"])
    now = timezone.now()
    Transfer.objects.filter(pk=locked.pk).update(
        status=Transfer.Status.SHIPPED, shipped_at=now, **updates
    )
    transfer.status, transfer.shipped_at = Transfer.Status.SHIPPED, now
    for name, value in updates.items():
        setattr(transfer, name, value)
    return transfer


@transaction.atomic
def transfer_receive(
    *, transfer: Transfer, receipts: Sequence[TransferReceipt], user: User | None = None
) -> Transfer:
    """Put arrived units into destination bins at their landed cost (partial receipts are
    fine). A line cannot receive more than it shipped and has not received yet; one error
    names every such line, and nothing is received. A note is kept on its line as the
    discrepancy note. When every line has received all it shipped, the transfer is received;
    otherwise it is partially received."""
    locked = _lock(transfer, *IN_TRANSIT_STATES)
    receipts = [r for r in receipts if r.quantity != 0]
    if not receipts:
        raise TransferError(_("Enter the quantity received of at least one line."))
    lines = {line.pk: line for line in locked.lines.select_related("sku").order_by("pk")}
    wanted: dict[int, int] = defaultdict(int)
    problems = []
    for receipt in receipts:
        line = lines.get(receipt.line.pk)
        if line is None:
            raise TransferError(
                _("That line is not part of transfer %(number)s.") % {"number": locked.number}
            )
        qty = receipt.quantity
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            problems.append(
                _("%(sku)s: the quantity received must be a whole number above 0")
                % {"sku": line.sku.code}
            )
            continue
        if receipt.location.warehouse_id != locked.destination_id:
            problems.append(
                _("%(sku)s: bin %(bin)s is not in %(warehouse)s")
                % {
                    "sku": line.sku.code,
                    "bin": receipt.location.code,
                    "warehouse": locked.destination.code,
                }
            )
            continue
        wanted[line.pk] += qty
    for line_pk, qty in wanted.items():
        line = lines[line_pk]
        if qty > line.outstanding:
            problems.append(
                _("%(sku)s: %(q)d received, but only %(left)d of %(shipped)d are still due")
                % {
                    "sku": line.sku.code,
                    "q": qty,
                    "left": line.outstanding,
                    "shipped": line.shipped_quantity,
                }
            )
    if problems:
        raise TransferError("; ".join(problems) + ".")

    # Lock every SKU (pk order), make the destination levels, lock them (pk order): the
    # receipts below then only take locks this transaction holds already.
    _lock_skus(lines[r.line.pk].sku_id for r in receipts)
    for receipt in receipts:
        _ensure_level(sku=lines[receipt.line.pk].sku, location=receipt.location)
    _lock_levels(
        StockLevel.objects.filter(
            sku_id__in={lines[r.line.pk].sku_id for r in receipts},
            location_id__in={r.location.pk for r in receipts},
        )
    )
    user = _user(user)
    for receipt in sorted(receipts, key=lambda r: (lines[r.line.pk].sku_id, r.location.pk)):
        line = lines[receipt.line.pk]
        stock_receive(
            sku=line.sku,
            location=receipt.location,
            quantity=receipt.quantity,
            unit_cost=line.landed_unit_cost,
            reference=locked.number,
            note=(receipt.note or _("From %(warehouse)s") % {"warehouse": locked.source.code})[
                :255
            ],
            user=user,
            kind=StockMove.Kind.TRANSFER_IN,
        )
        note = receipt.note.strip()
        TransferLine.objects.filter(pk=line.pk).update(
            received_quantity=F("received_quantity") + receipt.quantity,
            **({"discrepancy_note": _join_note(line.discrepancy_note, note)} if note else {}),
        )
        if note:
            line.discrepancy_note = _join_note(line.discrepancy_note, note)
    complete = not TransferLine.objects.filter(
        transfer=locked, received_quantity__lt=F("shipped_quantity")
    ).exists()
    status = Transfer.Status.RECEIVED if complete else Transfer.Status.PARTIALLY_RECEIVED
    now = timezone.now()
    Transfer.objects.filter(pk=locked.pk).update(
        status=status, received_at=now if complete else None
    )
    transfer.status = status
    transfer.received_at = now if complete else None
    return transfer


def _join_note(old: str, new: str) -> str:
    return (f"{old}; {new}" if old else new)[:255]


@transaction.atomic
def transfer_close(*, transfer: Transfer, user: User | None = None, note: str = "") -> Transfer:
    """End a shipped or partially received transfer that will receive no more. Each line's
    shipped − received stays as its discrepancy; ``note`` is added to the transfer's note."""
    locked = _lock(transfer, *IN_TRANSIT_STATES)
    now = timezone.now()
    fields: dict = {"status": Transfer.Status.RECEIVED, "received_at": now}
    note = note.strip()
    if note:
        stamp = _("Closed %(at)s") % {"at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")}
        fields["note"] = f"{locked.note}\n{stamp}: {note}".strip()
    Transfer.objects.filter(pk=locked.pk).update(**fields)
    TransferLine.objects.filter(
        transfer=locked, received_quantity__lt=F("shipped_quantity"), discrepancy_note=""
    ).update(discrepancy_note=_("Not received when the transfer was closed"))
    for name, value in fields.items():
        setattr(transfer, name, value)
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, user: User | None = None) -> Transfer:
    """Drop a draft (nothing has moved yet)."""
    locked = _lock(transfer, Transfer.Status.DRAFT)
    Transfer.objects.filter(pk=locked.pk).update(status=Transfer.Status.CANCELLED)
    transfer.status = Transfer.Status.CANCELLED
    return transfer
