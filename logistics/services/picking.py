"""Pick waves: choose allocated (or labelled) orders of one warehouse by filters, print one
picklist for all of them, and record what the picker found.

This lives in logistics, not in warehouse where DESIGN.md first listed waves: a wave is made of
orders and their shipments, and warehouse never imports orders (erp ← warehouse ← orders ←
logistics).

- ``wave_create`` is set-based: the candidate orders are one query (which locks them, skipping
  rows someone else holds), their reservations one more, and the wave's orders and picklist
  lines are two bulk inserts. A partial unique index keeps an order in at most one wave that
  is not closed, so two waves made at once never share an order.
- The picklist (``picklist_pdf``) is one line per SKU and bin, in the order the bins are walked
  (pick sequence, then bin code, then SKU code), fixed when the wave is made so that a reprint
  is the same paper. Orders get slots in the same order as their labels print (their first
  bin's pick sequence), so the label pile and the sorting wall agree.
- ``wave_mark_picked`` takes what was short per (SKU, bin). The orders that give up their
  units are chosen from the **latest slot backwards**: the earliest slots (the most urgent
  orders, since waves are filled by ship-by date) keep what was found. Each short order is
  released as a whole and goes back to out of stock (``orders.services.orders_short_picked``)
  and its label is voided after the commit. What was picked for the short orders is reported
  as "put back": the picker returns it to its bins.
- A short line also corrects the bin. A picker who found fewer units than the list asked for
  took all there were, so afterwards the bin holds only what goes back into it: every other
  unit the ledger still shows there (the missing ones and any unreserved ones) is written off
  with an adjustment move naming the wave. Otherwise the short orders, released, would at once
  be allocated again to the same units that are not there; a count of the bin puts back
  anything the picker overlooked.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

import django_filters
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.errors import ServiceError
from erp.models import User
from erp.permissions import require_warehouse_scope
from erp.scopes import scope_stores, scope_warehouses
from logistics.models import (
    OrderChannel,
    PickWave,
    PickWaveLine,
    PickWaveOrder,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
)
from logistics.services.labels import write_labels_pdf
from logistics.services.manifest_docs import _barcode_svg
from logistics.services.shipments import shipments_void
from orders.models import RESERVED_STATES, Order, OrderStatus, Store
from orders.services import orders_short_picked
from warehouse.models import Reservation, Sku, StockLevel, Warehouse
from warehouse.services import stock_adjust

# Orders a wave takes: reserved (allocated) or with their label already bought.
WAVEABLE = (OrderStatus.ALLOCATED, OrderStatus.LABELLED)
# A wave is a walk through the warehouse: past this many orders it is two walks.
MAX_WAVE_ORDERS = 2000


class WaveError(ServiceError):
    code = "wave_invalid"


class ItemsFilter(models.TextChoices):
    SINGLE = "single", gettext_lazy("Single-item orders (one unit)")
    MULTI = "multi", gettext_lazy("Multi-item orders")


# ---------------------------------------------------------------------------- reads


def order_units() -> Subquery:
    """Units reserved for the outer order (its reservations' sum; bundles count as their
    parts): what will be picked for it. Null for an order with nothing reserved."""
    reference = Concat(Value("order:"), Cast(OuterRef("pk"), output_field=models.CharField()))
    return Subquery(
        Reservation.objects.filter(reference=reference)
        .values("reference")
        .annotate(total=Sum("quantity"))
        .values("total")[:1],
        output_field=models.IntegerField(),
    )


def in_open_wave() -> Exists:
    return Exists(PickWaveOrder.objects.filter(order=OuterRef("pk"), active=True))


def end_of_day(day: date) -> datetime:
    """The first moment after ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def due_by(day: date) -> Q:
    """Orders to ship by the end of ``day``; orders without a ship-by date count as due."""
    return Q(latest_ship_at__lt=end_of_day(day)) | Q(latest_ship_at__isnull=True)


def wave_candidates(
    *,
    user: User | None,
    warehouse: Warehouse,
    items: str = "",
    store: Store | None = None,
    channel: ShippingChannel | None = None,
    ship_by: date | None = None,
    statuses: Sequence[str] = WAVEABLE,
) -> QuerySet[Order]:
    """Orders a new wave of ``warehouse`` would take, most urgent first (ship-by, then
    purchase time), annotated with ``units``. Only the user's stores; never an order that is in
    a wave already."""
    statuses = [s for s in statuses if s in WAVEABLE] or list(WAVEABLE)
    qs = Order.objects.filter(warehouse=warehouse, status__in=statuses).exclude(in_open_wave())
    if user is not None:
        qs = scope_stores(qs, user, "store")
    if store is not None:
        qs = qs.filter(store=store)
    if channel is not None:
        qs = qs.filter(
            Exists(OrderChannel.objects.filter(order=OuterRef("pk"), channel=channel))
            | Exists(
                Shipment.objects.filter(
                    order=OuterRef("pk"),
                    channel=channel,
                    status__in=(ShipmentStatus.PENDING, ShipmentStatus.LABELLED),
                )
            )
        )
    if ship_by is not None:
        qs = qs.filter(due_by(ship_by))
    qs = qs.annotate(units=order_units())
    if items == ItemsFilter.SINGLE:
        qs = qs.filter(units=1)
    elif items == ItemsFilter.MULTI:
        qs = qs.filter(units__gt=1)
    else:
        qs = qs.filter(units__gt=0)
    return qs.order_by(models.F("latest_ship_at").asc(nulls_last=True), "purchased_at", "pk")


def wave_queryset(*, user: User) -> QuerySet[PickWave]:
    """Waves of the user's warehouses, with what a list row shows, in one query."""
    return scope_warehouses(
        PickWave.objects.select_related("warehouse", "created_by").order_by("-created_at", "-id"),
        user,
        "warehouse",
    )


def wave_progress(wave_ids: Iterable[int]) -> dict[int, dict]:
    """Orders per wave, how many of them shipped and how many were short, in one query."""
    rows = (
        PickWaveOrder.objects.filter(wave_id__in=list(wave_ids))
        .values("wave_id")
        .annotate(
            orders=models.Count("pk"),
            shipped=models.Count("pk", filter=Q(order__status=OrderStatus.SHIPPED)),
            short=models.Count("pk", filter=Q(short=True)),
        )
    )
    return {row["wave_id"]: row for row in rows}


def _user_warehouses(request):
    user = getattr(request, "user", None)
    if user is None:
        return Warehouse.objects.none()
    return scope_warehouses(Warehouse.objects.order_by("code"), user)


class PickWaveFilter(django_filters.FilterSet):
    """The wave list's filters, shared by the page and the API."""

    status = django_filters.ChoiceFilter(choices=PickWave.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=PickWave.Kind.choices, label=_("Kind"))
    warehouse = django_filters.ModelChoiceFilter(queryset=_user_warehouses, label=_("Warehouse"))
    number = django_filters.CharFilter(
        field_name="number", lookup_expr="istartswith", label=_("Number")
    )

    class Meta:
        model = PickWave
        fields = ["status", "kind", "warehouse", "number"]


# ---------------------------------------------------------------------------- create


def _wave_number(warehouse: Warehouse) -> str:
    code = warehouse.code if warehouse.code.isascii() else str(warehouse.pk)
    prefix = f"W{timezone.localdate():%Y%m%d}-{code}-"
    count = PickWave.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


@dataclass(frozen=True)
class _Held:
    order_id: int
    level_id: int
    sku_id: int
    location_id: int
    quantity: int
    pick_sequence: int
    bin: str
    sku_code: str


def _held(order_ids: Iterable[int]) -> list[_Held]:
    """The reservations of these orders, with what sorting them needs, in one query."""
    refs = [f"order:{pk}" for pk in order_ids]
    rows = Reservation.objects.filter(reference__in=refs).values_list(
        "reference",
        "stock_level_id",
        "stock_level__sku_id",
        "stock_level__location_id",
        "quantity",
        "stock_level__location__pick_sequence",
        "stock_level__location__code",
        "stock_level__sku__code",
    )
    return [
        _Held(int(ref.split(":", 1)[1]), level, sku, loc, qty, seq, code, sku_code)
        for ref, level, sku, loc, qty, seq, code, sku_code in rows
    ]


@transaction.atomic
def wave_create(
    *,
    warehouse: Warehouse,
    user: User | None,
    items: str = "",
    store: Store | None = None,
    channel: ShippingChannel | None = None,
    ship_by: date | None = None,
    statuses: Sequence[str] = WAVEABLE,
    limit: int | None = None,
) -> PickWave:
    """A wave of the orders the filters choose (at most ``limit``, most urgent first), with
    its picklist lines and slots. ``items`` "single" takes one-unit orders only (they can be
    packed by scanning the item), "multi" the others; empty takes both."""
    if user is not None:
        require_warehouse_scope(user, [warehouse.pk])
    limit = min(limit or MAX_WAVE_ORDERS, MAX_WAVE_ORDERS)
    candidates = wave_candidates(
        user=user,
        warehouse=warehouse,
        items=items,
        store=store,
        channel=channel,
        ship_by=ship_by,
        statuses=statuses,
    )
    # Lock the orders as they are chosen; SKIP LOCKED leaves those another wave (or a
    # packer, or allocation) holds right now to the next wave instead of waiting for them,
    # so waves made at once take different orders.
    ranked = list(
        candidates.select_for_update(of=("self",), skip_locked=True).values_list("pk", flat=True)[
            :limit
        ]
    )
    if not ranked:
        raise WaveError(
            _("No orders of %(warehouse)s match these filters, or they are all in waves already.")
            % {"warehouse": warehouse.code}
        )
    # A wave committed while this one was choosing may hold some of them already (the unique
    # index would refuse them anyway): read its rows again now that they are locked.
    taken = set(
        PickWaveOrder.objects.filter(order_id__in=ranked, active=True).values_list(
            "order_id", flat=True
        )
    )
    chosen = [pk for pk in ranked if pk not in taken]
    held = _held(chosen)
    by_order: dict[int, list[_Held]] = defaultdict(list)
    for row in held:
        by_order[row.order_id].append(row)
    chosen = [pk for pk in chosen if by_order.get(pk)]
    if not chosen:
        raise WaveError(_("These orders were just taken by another wave or changed; try again."))
    units = {pk: sum(r.quantity for r in by_order[pk]) for pk in chosen}
    kind = (
        PickWave.Kind.SINGLE if all(count == 1 for count in units.values()) else PickWave.Kind.MULTI
    )
    # Slots in the order the labels print: the order's first bin in walking order.
    first_bin = {pk: min((r.pick_sequence, r.bin) for r in by_order[pk]) for pk in chosen}
    slots = sorted(chosen, key=lambda pk: (*first_bin[pk], pk))
    lines: dict[tuple[int, int], list] = {}
    for pk in slots:
        for r in by_order[pk]:
            key = (r.sku_id, r.location_id)
            if key in lines:
                lines[key][0] += r.quantity
            else:
                lines[key] = [r.quantity, (r.pick_sequence, r.bin, r.sku_code)]
    walk = sorted(lines.items(), key=lambda item: item[1][1])
    filters = {
        "items": items,
        "store": store.code if store else "",
        "channel": channel.code if channel else "",
        "ship_by": ship_by.isoformat() if ship_by else "",
        "statuses": [str(s) for s in statuses],
        "limit": limit,
    }
    wave = None
    for _attempt in range(5):  # two waves numbered at the same second
        try:
            with transaction.atomic():
                wave = PickWave.objects.create(
                    number=_wave_number(warehouse),
                    warehouse=warehouse,
                    kind=kind,
                    filters=filters,
                    order_count=len(slots),
                    unit_count=sum(units.values()),
                    line_count=len(walk),
                    created_by=user if user is not None and user.is_authenticated else None,
                )
            break
        except IntegrityError:
            continue
    if wave is None:
        raise WaveError(_("Could not number the wave; try again."))
    PickWaveOrder.objects.bulk_create(
        PickWaveOrder(wave=wave, order_id=pk, slot=i) for i, pk in enumerate(slots, start=1)
    )
    PickWaveLine.objects.bulk_create(
        PickWaveLine(
            wave=wave,
            position=i,
            sku_id=sku_id,
            location_id=location_id,
            quantity=quantity,
        )
        for i, ((sku_id, location_id), (quantity, _key)) in enumerate(walk, start=1)
    )
    return wave


# ---------------------------------------------------------------------------- picklist

# The picklist's lines are monospaced text with one bold run each: WeasyPrint lays out a
# table cell in about a millisecond, so a 2,000-line wave as a table takes 20 s; as text
# lines it takes under 3 (bench/bench_warehouse_ops.py). Columns are padded here.
PICKLIST_COLUMNS = 84  # characters of DejaVu Sans Mono at 10 pt across A4 between margins
SORT_COLUMNS = 84


def _width(text: str) -> float:
    """Width in monospace columns: a Chinese character (1 em) is 5/3 of a column (0.6 em)."""
    return sum(5 / 3 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, columns: float) -> str:
    if _width(text) <= columns:
        return text
    out, used = [], 0.0
    for c in text:
        w = 5 / 3 if unicodedata.east_asian_width(c) in "WF" else 1
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _names(name_zh: str, name_en: str, room: float) -> str:
    """Both names in ``room`` columns: when they do not fit, each keeps its share (the
    Chinese one a little more) and is cut with an ellipsis, so neither disappears."""
    both = "  ".join(n for n in (name_zh, name_en) if n)
    if _width(both) <= room or not (name_zh and name_en):
        return _fit(both, room)
    zh_room = min(_width(name_zh), max(room * 0.55, room - _width(name_en) - 2))
    return f"{_fit(name_zh, zh_room)}  {_fit(name_en, room - zh_room - 2)}"


@dataclass(frozen=True)
class PicklistRow:
    head: str  # position, bin, SKU code, quantity
    name: str  # Chinese and English name


@dataclass(frozen=True)
class SortRow:
    head: str  # slot and order number
    rest: str  # store, tracking number, units, what goes in


def picklist_rows(wave: PickWave) -> tuple[str, list[PicklistRow]]:
    """The column heading and one row per picklist line, in walking order."""
    lines = list(
        PickWaveLine.objects.filter(wave=wave)
        .select_related("sku", "location")
        .only(
            "position",
            "quantity",
            "sku__code",
            "sku__name",
            "sku__name_zh",
            "location__code",
        )
        .order_by("position")
    )
    bin_w = min(max((len(line.location.code) for line in lines), default=6), 14)
    sku_w = min(max((len(line.sku.code) for line in lines), default=10), 24)
    bin_w, sku_w = max(bin_w, 6), max(sku_w, 6)
    heading = (
        f"{'#':>4}  {_fit(_('Bin'), bin_w):<{bin_w}}  {_fit(_('SKU'), sku_w):<{sku_w}}"
        f" {_fit(_('Qty'), 4):>4}  {_('Picked')}  {_('Name')}"
    )
    rows = []
    for line in lines:
        head = (
            f"{line.position:>4}  {line.location.code:<{bin_w}}  {line.sku.code:<{sku_w}}"
            f" {line.quantity:>4}"
        )
        room = max(PICKLIST_COLUMNS - len(head) - 8, 16)
        rows.append(PicklistRow(head=head, name=_names(line.sku.name_zh, line.sku.name, room)))
    return heading, rows


def sort_rows(wave: PickWave) -> tuple[str, list[SortRow]]:
    """The column heading and one row per order of the wave by slot: what a sorter needs to
    put each item in its slot, and the packer to find the parcel."""
    wave_orders = list(
        PickWaveOrder.objects.filter(wave=wave)
        .select_related("order__store")
        .only(
            "slot",
            "active",
            "short",
            "order__id",
            "order__external_id",
            "order__status",
            "order__store__code",
        )
        .order_by("slot")
    )
    ids = [wo.order_id for wo in wave_orders]
    tracking = dict(
        Shipment.objects.filter(order_id__in=ids)
        .exclude(status=ShipmentStatus.VOIDED)
        .values_list("order_id", "tracking_number")
    )
    items: dict[int, list[str]] = defaultdict(list)
    units: dict[int, int] = defaultdict(int)
    for row in sorted(_held(ids), key=lambda r: (r.pick_sequence, r.bin, r.sku_code)):
        items[row.order_id].append(f"{row.sku_code}×{row.quantity}")
        units[row.order_id] += row.quantity
    number_w = max(min(max((len(wo.order.external_id) for wo in wave_orders), default=8), 24), 6)
    store_w = max(min(max((len(wo.order.store.code) for wo in wave_orders), default=6), 12), 5)
    track_w = max(min(max((len(t or "") for t in tracking.values()), default=1), 22), 8)
    heading = (
        f"{_fit(_('Slot'), 4):>4}  {_fit(_('Order'), number_w):<{number_w}}"
        f"  {_fit(_('Store'), store_w):<{store_w}}  {_fit(_('Tracking'), track_w):<{track_w}}"
        f"  {_fit(_('Units'), 5):>5}  {_('Items')}"
    )
    rows = []
    for wo in wave_orders:
        order = wo.order
        head = f"{wo.slot:>4}  {order.external_id:<{number_w}}"
        if wo.short:
            what = _("short: back to out of stock")
        elif order.status not in RESERVED_STATES:
            what = OrderStatus(order.status).label.lower()
        else:
            what = f"{units[order.pk]:>5}  " + " ".join(items[order.pk])
        rest = (
            f"  {order.store.code:<{store_w}}  {tracking.get(order.pk) or '—':<{track_w}}  {what}"
        )
        rows.append(SortRow(head=head, rest=_fit(rest, SORT_COLUMNS - len(head))))
    return heading, rows


def wave_barcode_svg(number: str) -> str:
    """The wave number as Code 128 (0.33 mm modules, as the manifest's), with its colours as
    SVG attributes: WeasyPrint warns about every ``style="fill:…"`` of the bars."""
    svg = _barcode_svg(number)
    return svg.replace('style="fill:black;"', 'fill="black"').replace(
        'style="fill:white"', 'fill="white"'
    )


# Lines per text block of the picklist (even: the stripes run on from block to block).
PDF_BLOCK_LINES = 20


def _blocks(rows: list) -> list[list]:
    """The rows in blocks of ``PDF_BLOCK_LINES``: WeasyPrint breaks a text line by line and
    re-encodes the rest of the text at each break, so one block of 2,000 lines cost it
    seconds (quadratic); blocks of 20 cost nothing measurable."""
    return [rows[i : i + PDF_BLOCK_LINES] for i in range(0, len(rows), PDF_BLOCK_LINES)]


def picklist_pdf(wave: PickWave) -> bytes:
    """The wave's picklist as an A4 PDF: the wave number as a Code 128 barcode (the pack
    station takes it), then one line per SKU and bin in walking order with a box to tick;
    for a multi-item wave, the sort sheet (slot → order) follows on its own page."""
    from weasyprint import HTML

    wave = PickWave.objects.select_related("warehouse", "created_by").get(pk=wave.pk)
    heading, rows = picklist_rows(wave)
    sort = sort_rows(wave) if wave.kind == PickWave.Kind.MULTI else None
    context = {
        "wave": wave,
        "heading": heading,
        "rows": _blocks(rows),
        "sort": (sort[0], _blocks(sort[1])) if sort else None,
        "barcode_svg": wave_barcode_svg(wave.number),
        "printed_at": timezone.localtime(),
        "created_at": timezone.localtime(wave.created_at),
    }
    html = render_to_string("pdf/picklist.html", context)
    return HTML(string=html).write_pdf()


def wave_labels_pdf(*, wave: PickWave, out: BinaryIO) -> int:
    """The labels of the wave's labelled orders in one PDF, in slot order (labels print in
    pick order, which is how slots are numbered). Remembers when, so the pack station does not
    print them again. Returns the label count."""
    ids = list(
        Shipment.objects.filter(
            order_id__in=PickWaveOrder.objects.filter(wave=wave, active=True).values("order_id"),
            status=ShipmentStatus.LABELLED,
        ).values_list("pk", flat=True)
    )
    if not ids:
        raise WaveError(_("No order of wave %(number)s has a label yet.") % {"number": wave.number})
    count = write_labels_pdf(ids, out)
    PickWave.objects.filter(pk=wave.pk).update(labels_printed_at=timezone.now())
    return count


# ---------------------------------------------------------------------------- picked


@dataclass(frozen=True)
class ShortLine:
    sku_code: str
    bin: str
    missing: int
    written_off: int


@dataclass(frozen=True)
class PutBack:
    sku_code: str
    bin: str
    quantity: int


@dataclass
class PickResult:
    wave: PickWave
    short_orders: list[int] = field(default_factory=list)
    shorts: list[ShortLine] = field(default_factory=list)
    put_back: list[PutBack] = field(default_factory=list)
    # Labels of short orders the carrier would not cancel: shipment pk → reason.
    void_failed: dict[int, str] = field(default_factory=dict)


def choose_short_orders(
    short_lines: Sequence[tuple[tuple[int, int], int]],
    holders: Mapping[tuple[int, int], Mapping[int, int]],
    slots: Mapping[int, int],
) -> list[int]:
    """Which orders give their units up, for ``short_lines`` [((sku, bin), missing), ...] in
    walking order: for each line, orders holding that SKU in that bin from the latest slot
    backwards until their units cover what is missing. An order already short for an earlier
    line counts towards later lines too (it gives everything up). Pure arithmetic, for tests."""
    short: dict[int, None] = {}
    for key, missing in short_lines:
        held = holders.get(key, {})
        covered = sum(q for pk, q in held.items() if pk in short)
        for pk in sorted(held, key=lambda pk: slots[pk], reverse=True):
            if covered >= missing:
                break
            if pk in short:
                continue
            short[pk] = None
            covered += held[pk]
    return list(short)


def wave_mark_picked(
    *,
    wave: PickWave,
    user: User | None,
    shorts: Mapping[tuple[int, int], int] | None = None,
) -> PickResult:
    """The picker is back: every line was picked in full except ``shorts`` {(sku pk, bin pk):
    units missing}. Short orders are chosen (latest slot first), released to out of stock,
    the missing units written off their bins; then their labels are voided."""
    result = _mark_picked(wave.pk, user, dict(shorts or {}))
    if result.short_orders:
        live = list(
            Shipment.objects.filter(
                order_id__in=result.short_orders,
                status__in=(ShipmentStatus.PENDING, ShipmentStatus.LABELLED),
            ).values_list("pk", flat=True)
        )
        if live:
            voided = shipments_void(
                shipment_ids=live,
                user=user,
                reason=_("Short at picking (wave %(number)s).") % {"number": result.wave.number},
                order_cancelled=True,
            )
            result.void_failed = voided.failed
        if wave_close_if_done(result.wave.pk):  # every order of it was short
            result.wave.refresh_from_db()
    return result


@transaction.atomic
def _mark_picked(wave_id: int, user: User | None, shorts: dict[tuple[int, int], int]):
    wave = PickWave.objects.select_for_update().get(pk=wave_id)
    if wave.status != PickWave.Status.OPEN:
        raise WaveError(
            _("Wave %(number)s is %(status)s already.")
            % {"number": wave.number, "status": PickWave.Status(wave.status).label.lower()}
        )
    lines = {
        (line.sku_id, line.location_id): line
        for line in PickWaveLine.objects.filter(wave=wave).select_related("sku", "location")
    }
    short_lines: list[tuple[tuple[int, int], int]] = []
    for key, missing in shorts.items():
        line = lines.get(key)
        if line is None:
            sku = Sku.objects.filter(pk=key[0]).values_list("code", flat=True).first()
            raise WaveError(
                _("SKU %(sku)s in that bin is not on the picklist of wave %(number)s.")
                % {"sku": sku or key[0], "number": wave.number}
            )
        if not isinstance(missing, int) or missing < 0 or missing > line.quantity:
            raise WaveError(
                _("%(sku)s in %(bin)s: between 0 and %(quantity)d can be missing.")
                % {"sku": line.sku.code, "bin": line.location.code, "quantity": line.quantity}
            )
        if missing:
            short_lines.append((key, missing))
    short_lines.sort(key=lambda item: lines[item[0]].position)
    PickWaveLine.objects.filter(wave=wave).update(picked_quantity=F("quantity"))
    for key, missing in short_lines:
        PickWaveLine.objects.filter(pk=lines[key].pk).update(
            picked_quantity=F("quantity") - missing
        )
    result = PickResult(wave=wave)
    if short_lines:
        _apply_shorts(wave, user, lines, short_lines, result)
    wave.status = PickWave.Status.PICKED
    wave.picked_at = timezone.now()
    wave.picked_by = user if user is not None and user.is_authenticated else None
    wave.save(update_fields=["status", "picked_at", "picked_by"])
    return result


def _apply_shorts(wave, user, lines, short_lines, result: PickResult) -> None:
    # One lock order (STYLE.md §7; packing follows it too): orders by pk, then SKUs, then
    # stock levels by pk. The wave's orders first, so none ships or is cancelled while its
    # units are counted.
    waiting = set(
        Order.objects.select_for_update(of=("self",))
        .filter(
            pk__in=PickWaveOrder.objects.filter(wave=wave, active=True).values("order_id"),
            status__in=RESERVED_STATES,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    wave_orders = {
        wo.order_id: wo
        for wo in PickWaveOrder.objects.filter(wave=wave, active=True, order_id__in=waiting)
    }
    held = _held(wave_orders)
    holders: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for row in held:
        holders[(row.sku_id, row.location_id)][row.order_id] = row.quantity
    chosen = set(
        choose_short_orders(short_lines, holders, {pk: wo.slot for pk, wo in wave_orders.items()})
    )
    list(
        Sku.objects.select_for_update()
        .filter(pk__in={key[0] for key, _missing in short_lines})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    short_keys = Q()
    for (sku_id, location_id), _missing in short_lines:
        short_keys |= Q(sku_id=sku_id, location_id=location_id)
    levels = {
        (level.sku_id, level.location_id): level
        for level in StockLevel.objects.select_for_update(of=("self",))
        .filter(short_keys | Q(pk__in={row.level_id for row in held if row.order_id in chosen}))
        .order_by("pk")
    }
    released: dict[tuple[int, int], int] = defaultdict(int)
    for row in held:
        if row.order_id in chosen:
            released[(row.sku_id, row.location_id)] += row.quantity
    if chosen:
        note = _("Short at picking, wave %(number)s.") % {"number": wave.number}
        moved = orders_short_picked(order_ids=chosen, user=user, note=note)
        result.short_orders = sorted(moved.done)
        PickWaveOrder.objects.filter(wave=wave, order_id__in=moved.done).update(
            active=False, short=True
        )
    missing_at = dict(short_lines)
    for key, missing in short_lines:
        line = lines[key]
        level = levels.get(key)
        put_back = max(released.get(key, 0) - missing, 0)
        # The picker emptied the bin: what it holds now is what they carry (still reserved
        # for the orders that keep their units) plus what goes back. The rest is not there.
        on_hand, reserved = (
            StockLevel.objects.filter(pk=level.pk).values_list("on_hand", "reserved").get()
            if level
            else (0, 0)
        )
        write_off = on_hand - reserved - put_back
        if write_off > 0:
            stock_adjust(
                sku=line.sku,
                location=line.location,
                quantity=-write_off,
                reason=_(
                    "Short at picking, wave %(number)s: %(missing)d of %(quantity)d not found "
                    "in %(bin)s; the bin holds %(left)d."
                )
                % {
                    "number": wave.number,
                    "missing": missing,
                    "quantity": line.quantity,
                    "bin": line.location.code,
                    "left": on_hand - write_off,
                },
                reference=f"wave:{wave.number}",
                user=user,
            )
        result.shorts.append(
            ShortLine(line.sku.code, line.location.code, missing, max(write_off, 0))
        )
    for key in sorted(released, key=lambda k: lines[k].position if k in lines else 0):
        back = released[key] - missing_at.get(key, 0)
        if back > 0 and key in lines:
            result.put_back.append(PutBack(lines[key].sku.code, lines[key].location.code, back))


# ---------------------------------------------------------------------------- close


@transaction.atomic
def wave_close(*, wave: PickWave, user: User | None = None) -> PickWave:
    """Close the wave: the orders still in it are free for another wave."""
    wave = PickWave.objects.select_for_update().get(pk=wave.pk)
    if wave.status == PickWave.Status.CLOSED:
        raise WaveError(_("Wave %(number)s is closed already.") % {"number": wave.number})
    wave.status = PickWave.Status.CLOSED
    wave.closed_at = timezone.now()
    wave.save(update_fields=["status", "closed_at"])
    PickWaveOrder.objects.filter(wave=wave, active=True).update(active=False)
    return wave


def wave_close_if_done(wave_id: int) -> bool:
    """Close the wave when none of its orders waits to be packed any more (one UPDATE, run
    after the commit that shipped its last parcel). Returns whether it closed."""
    waiting = PickWaveOrder.objects.filter(
        wave_id=wave_id, active=True, order__status__in=RESERVED_STATES
    )
    closed = (
        PickWave.objects.filter(pk=wave_id)
        .exclude(status=PickWave.Status.CLOSED)
        .exclude(Exists(waiting))
        .update(status=PickWave.Status.CLOSED, closed_at=timezone.now())
    )
    if closed:
        PickWaveOrder.objects.filter(wave_id=wave_id, active=True).update(active=False)
    return bool(closed)
